//! Hijacked streams (attach and exec): the client's HTTP connection is
//! upgraded (`Upgrade: tcp`, answered `101 UPGRADED` as dockerd does) and
//! then spliced with the stream the container's shim hands out. The shim
//! already frames stdout/stderr the way the API wants (or sends raw bytes
//! with a tty), so bytes pass through untouched in both directions. A
//! client closing its side closes the container's stdin; the detach keys
//! (ctrl-p ctrl-q by default) end the attach without touching the container.

use std::os::unix::net::UnixStream as StdUnixStream;

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
}

impl Hijack {
    pub fn prepare(req: &mut Request<Incoming>) -> Hijack {
        Hijack {
            on_upgrade: hyper::upgrade::on(req),
        }
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
        tokio::spawn(async move {
            let upgraded = match on_upgrade.await {
                Ok(u) => u,
                Err(e) => {
                    tracing::debug!("hijack: the upgrade failed: {e}");
                    return;
                }
            };
            splice(TokioIo::new(upgraded), source, detach_keys).await;
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

async fn splice<C>(client: C, source: Source, detach_keys: Vec<u8>)
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
        loop {
            match s_read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if c_write.write_all(&buf[..n]).await.is_err() {
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
