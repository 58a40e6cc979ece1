//! Hijacked connections: `POST /containers/{id}/attach` and
//! `POST /exec/{id}/start` ask the daemon to upgrade the HTTP connection
//! (`Connection: Upgrade`, `Upgrade: tcp`); after its `101` the socket is a
//! raw bidirectional stream: the container's output comes back (framed by
//! [`super::stdcopy`] unless it has a TTY), what we write goes to its
//! stdin.
//!
//! The stream is pumped on the client's runtime from the calling thread:
//! output goes to a callback as it arrives, input comes from a channel fed
//! by a thread that reads standard input (blocking reads stay off the
//! runtime). The end of input half-closes the connection (docker's
//! `CloseWrite`), so the container sees EOF on its stdin while its output
//! keeps flowing until the daemon closes the stream.

use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{Client, ClientError, Request};

/// What the stdin thread sends to the pump.
#[derive(Debug)]
pub enum Input {
    /// Bytes for the container's stdin.
    Data(Vec<u8>),
    /// Standard input ended: half-close the connection.
    Eof,
    /// The detach keys were typed: stop pumping, leave the container be.
    Detach,
}

/// How pumping ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The daemon closed the stream (the process ended or detached).
    Closed,
    /// The user typed the detach keys.
    Detached,
}

/// A connection the daemon has upgraded to a raw stream.
pub struct Hijacked<'a> {
    client: &'a Client,
    io: TokioIo<hyper::upgrade::Upgraded>,
}

impl std::fmt::Debug for Hijacked<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hijacked").finish_non_exhaustive()
    }
}

impl Client {
    /// Send `req` asking for an upgrade; the raw stream once the daemon
    /// answers `101` (an error status is the daemon's error).
    pub fn hijack(&self, req: Request) -> Result<Hijacked<'_>, ClientError> {
        let req = req.header("Connection", "Upgrade").header("Upgrade", "tcp");
        let (request, what, url) = self.build(req, true)?;
        let http_err = |what: &str| {
            let what = what.to_string();
            move |source| ClientError::Http { what, source }
        };
        let resp = self.rt.block_on(async {
            let stream = self.connect().await?;
            let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .map_err(http_err(&what))?;
            tokio::spawn(async move {
                let _ = conn.with_upgrades().await;
            });
            sender.send_request(request).await.map_err(http_err(&what))
        })?;
        let status = resp.status().as_u16();
        if status >= 400 {
            let (parts, body) = resp.into_parts();
            let r = super::Response {
                rt: &self.rt,
                status,
                headers: parts.headers,
                body,
                pending: bytes::Bytes::new(),
                what: what.clone(),
            };
            return Err(r.into_error(&url));
        }
        let upgraded = self
            .rt
            .block_on(hyper::upgrade::on(resp))
            .map_err(http_err(&what))?;
        Ok(Hijacked {
            client: self,
            io: TokioIo::new(upgraded),
        })
    }
}

impl Hijacked<'_> {
    /// Pump the stream until the daemon closes it or the user detaches:
    /// output to `output`, `input` (when attached) to the container.
    pub fn pump(
        self,
        input: Option<tokio::sync::mpsc::Receiver<Input>>,
        output: &mut dyn FnMut(&[u8]) -> std::io::Result<()>,
    ) -> std::io::Result<End> {
        let Hijacked { client, io } = self;
        client.rt.block_on(async move {
            let (mut rd, mut wr) = tokio::io::split(io);
            let mut buf = vec![0u8; 32 * 1024];
            let mut input = input;
            loop {
                let open = input.is_some();
                tokio::select! {
                    r = rd.read(&mut buf) => match r {
                        Ok(0) => return Ok(End::Closed),
                        Ok(n) => output(&buf[..n])?,
                        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                            return Ok(End::Closed)
                        }
                        Err(e) => return Err(e),
                    },
                    m = recv(&mut input), if open => match m {
                        Some(Input::Data(d)) => {
                            // the container may be gone: its output
                            // still decides how this ends
                            if wr.write_all(&d).await.is_err() || wr.flush().await.is_err() {
                                input = None;
                            }
                        }
                        Some(Input::Detach) => return Ok(End::Detached),
                        Some(Input::Eof) | None => {
                            let _ = wr.shutdown().await;
                            input = None;
                        }
                    },
                }
            }
        })
    }
}

async fn recv(rx: &mut Option<tokio::sync::mpsc::Receiver<Input>>) -> Option<Input> {
    match rx {
        Some(r) => r.recv().await,
        None => std::future::pending().await,
    }
}

/// Read standard input on a thread of its own into a channel for
/// [`Hijacked::pump`]; with `detach` (a TTY session), the escape sequence
/// ends the session instead of reaching the container.
pub fn stdin_feeder(detach: Option<Vec<u8>>) -> tokio::sync::mpsc::Receiver<Input> {
    use std::io::Read;
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin();
        let mut buf = vec![0u8; 32 * 1024];
        // bytes of a possible escape sequence held back
        let mut held: Vec<u8> = Vec::new();
        loop {
            let n = match stdin.read(&mut buf) {
                Ok(0) => {
                    if !held.is_empty() {
                        let _ = tx.blocking_send(Input::Data(std::mem::take(&mut held)));
                    }
                    let _ = tx.blocking_send(Input::Eof);
                    return;
                }
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => {
                    let _ = tx.blocking_send(Input::Eof);
                    return;
                }
            };
            let data = match &detach {
                None => buf[..n].to_vec(),
                Some(keys) => {
                    let mut out = Vec::with_capacity(n);
                    for &b in &buf[..n] {
                        held.push(b);
                        if keys.starts_with(&held) {
                            if held.len() == keys.len() {
                                let _ = tx.blocking_send(Input::Detach);
                                return;
                            }
                        } else {
                            out.append(&mut held);
                        }
                    }
                    out
                }
            };
            if !data.is_empty() && tx.blocking_send(Input::Data(data)).is_err() {
                return;
            }
        }
    });
    rx
}

/// docker's `term.ToBytes`: `ctrl-p,ctrl-q` (or single characters) as
/// bytes; the error names what is wrong.
pub fn detach_keys(spec: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    for key in spec.split(',') {
        let k = key.trim();
        if k.len() > 1 {
            let lower = k.to_ascii_lowercase();
            let Some(c) = lower.strip_prefix("ctrl-") else {
                return Err(format!("Unknown character: '{k}'"));
            };
            let b = match c.as_bytes() {
                [b @ b'a'..=b'z'] => b - b'a' + 1,
                [b'@'] => 0,
                [b'['] => 27,
                [b'\\'] => 28,
                [b']'] => 29,
                [b'^'] => 30,
                [b'_'] => 31,
                _ => return Err(format!("Unknown character: '{k}'")),
            };
            out.push(b);
        } else if let Some(&b) = k.as_bytes().first() {
            out.push(b);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detach_key_specs() {
        assert_eq!(detach_keys("ctrl-p,ctrl-q").unwrap(), vec![16, 17]);
        assert_eq!(detach_keys("a,ctrl-@").unwrap(), vec![b'a', 0]);
        assert_eq!(
            detach_keys("ctrl-1").unwrap_err(),
            "Unknown character: 'ctrl-1'"
        );
    }
}
