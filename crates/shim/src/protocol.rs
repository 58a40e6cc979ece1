//! The control socket's messages (see the crate doc for the exchange) and
//! the line framing both sides use. A line is read without consuming
//! anything past its newline (peek, then read exactly the line), because
//! for `attach` and `exec` the stream starts right after it.

use std::os::fd::AsFd;

use serde::{Deserialize, Serialize};

use crate::{ErrorKind, ExecSpec, ExecState, ExitStatus, ShimState};

/// Longest request or reply line.
pub(crate) const MAX_LINE: usize = 256 * 1024;

/// A request: one per connection.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub(crate) enum Request {
    State,
    Start,
    Attach {
        stdin: bool,
        stdout: bool,
        stderr: bool,
    },
    Resize {
        height: u16,
        width: u16,
    },
    Kill {
        signal: i32,
        all: bool,
    },
    Pause,
    Resume,
    Update {
        resources: Box<oci_spec::runtime::LinuxResources>,
    },
    Wait,
    Exec {
        spec: Box<ExecSpec>,
    },
    ExecState {
        exec_id: String,
    },
    ExecResize {
        exec_id: String,
        height: u16,
        width: u16,
    },
    ExecKill {
        exec_id: String,
        signal: i32,
    },
    Shutdown,
}

/// The answer line.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub(crate) enum Reply {
    Ok {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        state: Option<ShimState>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        exit: Option<ExitStatus>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        exec: Option<ExecState>,
    },
    Error {
        kind: ErrorKind,
        message: String,
    },
}

impl Reply {
    pub(crate) fn ok() -> Reply {
        Reply::Ok {
            state: None,
            exit: None,
            exec: None,
        }
    }

    pub(crate) fn error(kind: ErrorKind, message: impl Into<String>) -> Reply {
        Reply::Error {
            kind,
            message: message.into(),
        }
    }
}

/// Encode a message as a line.
pub(crate) fn line<T: Serialize>(msg: &T) -> Vec<u8> {
    let mut v = serde_json::to_vec(msg).unwrap_or_else(|_| b"{}".to_vec());
    v.push(b'\n');
    v
}

/// Write all of `buf` to a blocking socket.
pub(crate) fn write_all(fd: impl AsFd, mut buf: &[u8]) -> std::io::Result<()> {
    while !buf.is_empty() {
        match rustix::net::send(&fd, buf, rustix::net::SendFlags::NOSIGNAL) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => buf = &buf[n..],
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Read one line from a blocking socket, consuming nothing after it.
/// `Ok(None)` on end-of-file before any byte.
pub(crate) fn read_line(fd: impl AsFd) -> std::io::Result<Option<Vec<u8>>> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 4096];
    loop {
        let n = match rustix::net::recv(&fd, &mut buf, rustix::net::RecvFlags::PEEK) {
            Ok((n, _)) => n,
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        };
        if n == 0 {
            if out.is_empty() {
                return Ok(None);
            }
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "connection closed in the middle of a line",
            ));
        }
        let take = match buf[..n].iter().position(|&b| b == b'\n') {
            Some(i) => i + 1,
            None => n,
        };
        let got = loop {
            match rustix::net::recv(&fd, &mut buf[..take], rustix::net::RecvFlags::empty()) {
                Ok((got, _)) => break got,
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => return Err(e.into()),
            }
        };
        out.extend_from_slice(&buf[..got]);
        if out.last() == Some(&b'\n') {
            out.pop();
            return Ok(Some(out));
        }
        if out.len() > MAX_LINE {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "line too long",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_forms() {
        let r: Request = serde_json::from_str(r#"{"op":"kill","signal":15,"all":true}"#).unwrap();
        assert!(matches!(
            r,
            Request::Kill {
                signal: 15,
                all: true
            }
        ));
        assert_eq!(
            String::from_utf8(line(&Request::Start)).unwrap(),
            "{\"op\":\"start\"}\n"
        );
        assert_eq!(
            String::from_utf8(line(&Reply::ok())).unwrap(),
            "{\"result\":\"ok\"}\n"
        );
        let e = Reply::error(ErrorKind::ExecutableNotFound, "exec: \"x\": not found");
        assert_eq!(
            String::from_utf8(line(&e)).unwrap(),
            "{\"result\":\"error\",\"kind\":\"executable_not_found\",\"message\":\"exec: \\\"x\\\": not found\"}\n"
        );
    }

    #[test]
    fn line_then_stream() {
        let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        write_all(&a, b"{\"op\":\"state\"}\nrest").unwrap();
        drop(a);
        assert_eq!(read_line(&b).unwrap().unwrap(), b"{\"op\":\"state\"}");
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut &b, &mut rest).unwrap();
        assert_eq!(rest, "rest");
    }
}
