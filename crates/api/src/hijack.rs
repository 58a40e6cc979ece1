//! Hijacked streams (attach and exec): the client's HTTP connection is
//! upgraded (`Upgrade: tcp`, answered `101 UPGRADED` as dockerd does) and
//! then spliced with the stream the container's shim hands out. The shim
//! already frames stdout/stderr the way the API wants (or sends raw bytes
//! with a tty), so bytes pass through untouched in both directions. A
//! client closing its side closes the container's stdin; the detach keys
//! (ctrl-p ctrl-q by default) end the attach without touching the container.

use std::os::unix::net::UnixStream as StdUnixStream;

use berth_shim::framing::{self, Deframer};
use http::{HeaderValue, Request, StatusCode, header};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;

use crate::response::Response;

/// Where the container side of the stream comes from.
pub enum Source {
    Ready(StdUnixStream),
    Later(oneshot::Receiver<Result<StdUnixStream, String>>),
    /// Nothing will come (the container has exited): the stream ends at once.
    None,
}

/// Docker's detach keys, as `detachKeys` gives them (`ctrl-p,ctrl-q`).
pub fn parse_detach_keys(s: &str) -> Vec<u8> {
    let s = if s.is_empty() { "ctrl-p,ctrl-q" } else { s };
    s.split(',')
        .filter_map(|k| {
            let k = k.trim();
            if let Some(c) = k.strip_prefix("ctrl-") {
                let c = c.chars().next()?;
                match c {
                    'a'..='z' => Some(c as u8 - b'a' + 1),
                    '@' => Some(0),
                    '[' => Some(27),
                    '\\' => Some(28),
                    ']' => Some(29),
                    '^' => Some(30),
                    '_' => Some(31),
                    _ => None,
                }
            } else if k.len() == 1 {
                Some(k.as_bytes()[0])
            } else {
                None
            }
        })
        .collect()
}

/// A request about to be hijacked: taken from it before its body is read.
pub struct Hijack {
    on_upgrade: hyper::upgrade::OnUpgrade,
    reframe: Reframe,
    /// Sent before the stream (attach's `logs=1`).
    prefix: Vec<u8>,
    /// How long to hold the stream back after the `101`.
    settle: Option<std::time::Duration>,
}

/// docker-py reads the stream from the socket *under* the buffered reader
/// that parsed the `101`: bytes that arrived together with the header are
/// lost to it. dockerd is never that fast (its exec start takes tens of
/// milliseconds); Berth is, so for docker-py the stream starts a moment
/// after the header, long enough for it to have read the header alone.
const DOCKER_PY_SETTLE: std::time::Duration = std::time::Duration::from_millis(20);

impl Hijack {
    pub fn prepare(req: &mut Request<Incoming>) -> Hijack {
        let docker_py = req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ua| ua.starts_with("docker-sdk-python"));
        Hijack {
            on_upgrade: hyper::upgrade::on(req),
            reframe: Reframe::AsIs,
            prefix: Vec::new(),
            settle: docker_py.then_some(DOCKER_PY_SETTLE),
        }
    }

    /// The client asked for the other framing than the process's stream
    /// has (dockerd frames an exec's output by the *start* request's `Tty`,
    /// not by the exec's).
    pub fn reframe(mut self, reframe: Reframe) -> Hijack {
        self.reframe = reframe;
        self
    }

    /// Bytes sent to the client before the stream.
    pub fn prefix(mut self, bytes: Vec<u8>) -> Hijack {
        self.prefix = bytes;
        self
    }

    /// Answers with `101 UPGRADED` and splices the streams once hyper hands
    /// the connection over. (Clients that do not ask for the upgrade get it
    /// too: hyper hands over only upgraded connections, and every Docker
    /// client reads the raw stream after the header either way.)
    pub fn respond(
        self,
        content_type: &'static str,
        source: Source,
        detach_keys: Vec<u8>,
    ) -> Response {
        let on_upgrade = self.on_upgrade;
        let settle = self.settle;
        let reframe = self.reframe;
        let prefix = self.prefix;
        tokio::spawn(async move {
            let upgraded = match on_upgrade.await {
                Ok(u) => u,
                Err(e) => {
                    tracing::debug!("hijack: the upgrade failed: {e}");
                    return;
                }
            };
            if let Some(pause) = settle {
                tokio::time::sleep(pause).await;
            }
            let mut client = TokioIo::new(upgraded);
            if !prefix.is_empty() && client.write_all(&prefix).await.is_err() {
                return;
            }
            if matches!(source, Source::None) {
                let _ = client.shutdown().await;
                return;
            }
            splice(client, source, detach_keys, reframe).await;
        });
        let mut r = http::Response::new(
            http_body_util::Empty::new()
                .map_err(|never: std::convert::Infallible| match never {})
                .boxed(),
        );
        *r.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        let h = r.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
        h.insert(header::UPGRADE, HeaderValue::from_static("tcp"));
        r
    }
}

/// How the process's stream is passed to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reframe {
    AsIs,
    /// A tty's raw bytes, sent as stdout frames.
    FrameAsStdout,
    /// A framed stream, sent raw.
    Unframe,
}

async fn splice<C>(client: C, source: Source, detach_keys: Vec<u8>, reframe: Reframe)
where
    C: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let std_stream = match source {
        Source::Ready(s) => s,
        Source::Later(rx) => match rx.await {
            Ok(Ok(s)) => s,
            _ => return,
        },
        Source::None => return,
    };
    if std_stream.set_nonblocking(true).is_err() {
        return;
    }
    let Ok(container) = tokio::net::UnixStream::from_std(std_stream) else {
        return;
    };
    let (mut c_read, mut c_write) = tokio::io::split(client);
    let (mut s_read, mut s_write) = container.into_split();
    let to_container = async {
        let mut buf = vec![0u8; 32 * 1024];
        let mut matched = 0usize;
        loop {
            let n = match c_read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let mut data = &buf[..n];
            if !detach_keys.is_empty() {
                let mut pass = Vec::with_capacity(n);
                for &b in data {
                    if b == detach_keys[matched] {
                        matched += 1;
                        if matched == detach_keys.len() {
                            return true;
                        }
                        continue;
                    }
                    pass.extend_from_slice(&detach_keys[..matched]);
                    matched = 0;
                    pass.push(b);
                }
                if s_write.write_all(&pass).await.is_err() {
                    break;
                }
                data = &[];
            }
            if !data.is_empty() && s_write.write_all(data).await.is_err() {
                break;
            }
        }
        let _ = s_write.shutdown().await;
        false
    };
    let from_container = async {
        let mut buf = vec![0u8; 32 * 1024];
        let mut deframer = Deframer::default();
        let mut out = Vec::new();
        loop {
            match s_read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    out.clear();
                    match reframe {
                        Reframe::AsIs => out.extend_from_slice(&buf[..n]),
                        Reframe::FrameAsStdout => {
                            out.extend_from_slice(&framing::header(framing::STDOUT, n));
                            out.extend_from_slice(&buf[..n]);
                        }
                        Reframe::Unframe => deframer.push(&buf[..n], &mut out),
                    }
                    if out.is_empty() {
                        continue;
                    }
                    if c_write.write_all(&out).await.is_err() {
                        break;
                    }
                    let _ = c_write.flush().await;
                }
            }
        }
        let _ = c_write.shutdown().await;
    };
    tokio::pin!(to_container);
    tokio::pin!(from_container);
    // The output decides when the stream ends; a detach ends it early.
    let mut input_done = false;
    loop {
        tokio::select! {
            detached = &mut to_container, if !input_done => {
                if detached {
                    return;
                }
                input_done = true;
            }
            _ = &mut from_container => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detach_keys_parse_like_dockers() {
        assert_eq!(parse_detach_keys(""), vec![16, 17]);
        assert_eq!(parse_detach_keys("ctrl-a,x"), vec![1, b'x']);
    }
}
