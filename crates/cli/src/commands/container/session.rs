//! A stream session with a container (`run`, `start -a`, `attach`) or an
//! exec process: the hijacked attach, the pump between our standard
//! streams and the daemon (raw terminal for a TTY, stdcopy
//! demultiplexing otherwise, detach keys), and a helper thread with its
//! own client that forwards our signals to the container (`--sig-proxy`)
//! and resizes its TTY on start and on SIGWINCH.

use crate::client::hijack::{End, Hijacked, Input, detach_keys, stdin_feeder};
use crate::client::stdcopy::{Demux, to_std, write_std};
use crate::client::{Client, Method, Request, path_escape};
use crate::error::CliError;

/// What a session attaches.
#[derive(Debug, Clone, Default)]
pub struct Streams {
    /// Send our standard input.
    pub stdin: bool,
    /// Receive standard output.
    pub stdout: bool,
    /// Receive standard error.
    pub stderr: bool,
    /// The container (or exec) has a TTY: raw bytes, no framing.
    pub tty: bool,
    /// `--detach-keys`, when given.
    pub detach_keys: Option<String>,
}

/// docker's default detach sequence.
pub const DEFAULT_DETACH_KEYS: &str = "ctrl-p,ctrl-q";

/// `POST /containers/{id}/attach?stream=1&...` upgraded.
pub fn attach<'a>(client: &'a Client, id: &str, s: &Streams) -> Result<Hijacked<'a>, CliError> {
    let b = |v: bool| if v { "1" } else { "0" };
    let req = Request::new(
        Method::Post,
        format!("/containers/{}/attach", path_escape(id)),
    )
    .query("stream", "1")
    .query("stdin", b(s.stdin))
    .query("stdout", b(s.stdout))
    .query("stderr", b(s.stderr))
    .query_if(
        s.detach_keys.is_some(),
        "detachKeys",
        s.detach_keys.clone().unwrap_or_default(),
    );
    Ok(client.hijack(req)?)
}

/// Pump `h` until the stream closes or the user detaches.
pub fn pump(h: Hijacked<'_>, s: &Streams) -> Result<End, CliError> {
    let raw = if s.tty && s.stdin {
        crate::term::RawMode::enable()
    } else {
        None
    };
    let input: Option<tokio::sync::mpsc::Receiver<Input>> = if s.stdin {
        let keys = if s.tty {
            let spec = s.detach_keys.as_deref().unwrap_or(DEFAULT_DETACH_KEYS);
            Some(detach_keys(spec).unwrap_or_else(|_| vec![16, 17]))
        } else {
            None
        };
        Some(stdin_feeder(keys))
    } else {
        None
    };
    let mut demux = Demux::new();
    let tty = s.tty;
    let mut out = |data: &[u8]| -> std::io::Result<()> {
        if tty {
            write_std(false, data)
        } else {
            demux.feed(data, &mut to_std)
        }
    };
    let r = h.pump(input, &mut out);
    drop(raw);
    r.map_err(|e| CliError::io("the container's stream", e))
}

/// What the helper thread acts on.
#[derive(Debug, Clone)]
pub enum Target {
    /// A container (kill, `/containers/{id}/resize`).
    Container(String),
    /// An exec process (`/exec/{id}/resize`; signals are not proxied).
    Exec(String),
}

fn resize(client: &Client, t: &Target) {
    let Some((h, w)) = crate::term::size() else {
        return;
    };
    let path = match t {
        Target::Container(id) => format!("/containers/{}/resize", path_escape(id)),
        Target::Exec(id) => format!("/exec/{}/resize", path_escape(id)),
    };
    let _ = client
        .send(
            Request::new(Method::Post, path)
                .query("h", h.to_string())
                .query("w", w.to_string()),
        )
        .and_then(|r| r.bytes());
}

/// Start the helper thread: resize now and on SIGWINCH when `tty`
/// (and standard output is a terminal); forward SIGINT, SIGTERM, SIGHUP,
/// SIGQUIT, SIGUSR1, SIGUSR2 to the container when `proxy`.
pub fn helper(client: &Client, target: Target, tty: bool, proxy: bool) {
    let tty = tty && crate::app::stdout_is_terminal();
    if !tty && !proxy {
        return;
    }
    let Ok(fork) = client.fork() else {
        return;
    };
    if tty {
        resize(&fork, &target);
    }
    std::thread::spawn(move || {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        let _guard = rt.enter();
        let mut kinds: Vec<(i32, SignalKind)> = Vec::new();
        if tty {
            kinds.push((28, SignalKind::window_change()));
        }
        if proxy && matches!(target, Target::Container(_)) {
            kinds.extend([
                (2, SignalKind::interrupt()),
                (15, SignalKind::terminate()),
                (1, SignalKind::hangup()),
                (3, SignalKind::quit()),
                (10, SignalKind::user_defined1()),
                (12, SignalKind::user_defined2()),
            ]);
        }
        let mut streams = Vec::new();
        for (n, k) in kinds {
            if let Ok(s) = signal(k) {
                streams.push((n, s));
            }
        }
        if streams.is_empty() {
            return;
        }
        loop {
            let n = rt.block_on(async {
                let futs = streams.iter_mut().map(|(n, s)| {
                    let n = *n;
                    Box::pin(async move {
                        s.recv().await;
                        n
                    })
                });
                let (n, _, _) = futures_select_all(futs).await;
                n
            });
            if n == 28 {
                resize(&fork, &target);
            } else if let Target::Container(id) = &target {
                let _ = fork
                    .send(
                        Request::new(
                            Method::Post,
                            format!("/containers/{}/kill", path_escape(id)),
                        )
                        .query("signal", n.to_string()),
                    )
                    .and_then(|r| r.bytes());
            }
        }
    });
}

/// A minimal `select_all` over boxed futures (no futures crate).
async fn futures_select_all<F>(
    futs: impl Iterator<Item = std::pin::Pin<Box<F>>>,
) -> (i32, usize, ())
where
    F: std::future::Future<Output = i32> + ?Sized,
{
    let mut futs: Vec<std::pin::Pin<Box<F>>> = futs.collect();
    std::future::poll_fn(move |cx| {
        for (i, f) in futs.iter_mut().enumerate() {
            if let std::task::Poll::Ready(n) = f.as_mut().poll(cx) {
                return std::task::Poll::Ready((n, i, ()));
            }
        }
        std::task::Poll::Pending
    })
    .await
}

/// The answer of `POST /containers/{id}/wait`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct WaitResponse {
    /// The exit code.
    pub status_code: i64,
    /// An error waiting.
    pub error: Option<WaitError>,
}

/// `Error` of a wait response.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct WaitError {
    /// The message.
    pub message: String,
}

/// Send `POST /containers/{id}/wait?condition=...` (the answer comes
/// when the container exits; read it with [`wait_status`]).
pub fn wait_request<'a>(
    client: &'a Client,
    id: &str,
    condition: &str,
) -> Result<crate::client::Response<'a>, CliError> {
    Ok(client.send(
        Request::new(
            Method::Post,
            format!("/containers/{}/wait", path_escape(id)),
        )
        .query("condition", condition),
    )?)
}

/// The exit code a wait answered with (docker's 125 when waiting failed).
pub fn wait_status(resp: crate::client::Response<'_>) -> i32 {
    match resp.json::<WaitResponse>() {
        Ok(w) => {
            if let Some(e) = w.error.filter(|e| !e.message.is_empty()) {
                eprintln!("Error waiting for container: {}", e.message);
                return 125;
            }
            w.status_code as i32
        }
        Err(e) => {
            eprintln!("Error waiting for container: {e}");
            125
        }
    }
}
