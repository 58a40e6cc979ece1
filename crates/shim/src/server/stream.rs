//! One attach or exec stream: a client connection that receives a
//! process's output (framed as Docker's multiplexed stream without a
//! terminal, raw with one) and whose input goes to the process's stdin.
//! Output is queued per stream and written without blocking; a stream that
//! falls [`crate::STREAM_BUFFER_LIMIT`] behind is disconnected.

use std::os::unix::net::UnixStream;

use crate::jsonlog::Stream as Kind;

/// Which process a stream belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// The container's init.
    Init,
    /// An exec, by its serial number.
    Exec(u64),
}

/// A connected stream.
#[derive(Debug)]
pub(crate) struct Stream {
    pub sock: UnixStream,
    pub target: Target,
    /// Docker's 8-byte headers (no terminal).
    pub framed: bool,
    pub stdout: bool,
    pub stderr: bool,
    /// What the client writes goes to the process's stdin.
    pub stdin: bool,
    /// The client has not shut down its side.
    pub read_open: bool,
    buf: Vec<u8>,
    off: usize,
    /// Close once the queue is written.
    pub closing: bool,
    /// To be dropped.
    pub dead: bool,
}

impl Stream {
    pub fn new(sock: UnixStream, target: Target, framed: bool) -> Stream {
        let _ = sock.set_nonblocking(true);
        Stream {
            sock,
            target,
            framed,
            stdout: false,
            stderr: false,
            stdin: false,
            read_open: true,
            buf: Vec::new(),
            off: 0,
            closing: false,
            dead: false,
        }
    }

    /// Bytes queued.
    pub fn pending(&self) -> usize {
        self.buf.len() - self.off
    }

    /// Queue output of `kind` if this stream wants it, and try to send.
    pub fn push(&mut self, kind: Kind, data: &[u8]) {
        if self.dead || self.closing {
            return;
        }
        let wanted = match kind {
            Kind::Stdout => self.stdout,
            Kind::Stderr => self.stderr,
        };
        if !wanted || data.is_empty() {
            return;
        }
        if self.pending() + data.len() > crate::STREAM_BUFFER_LIMIT {
            // A slow reader: disconnect it rather than block the container
            // or hand it output with holes.
            self.dead = true;
            return;
        }
        if self.framed {
            let id = match kind {
                Kind::Stdout => crate::framing::STDOUT,
                Kind::Stderr => crate::framing::STDERR,
            };
            self.buf
                .extend_from_slice(&crate::framing::header(id, data.len()));
        }
        self.buf.extend_from_slice(data);
        self.flush();
    }

    /// Write what the socket takes now; close when done and closing.
    pub fn flush(&mut self) {
        while self.pending() > 0 && !self.dead {
            match rustix::net::send(
                &self.sock,
                &self.buf[self.off..],
                rustix::net::SendFlags::NOSIGNAL | rustix::net::SendFlags::DONTWAIT,
            ) {
                Ok(n) => self.off += n,
                Err(rustix::io::Errno::INTR) => {}
                Err(rustix::io::Errno::AGAIN) => break,
                Err(_) => self.dead = true,
            }
        }
        if self.pending() == 0 {
            self.buf.clear();
            self.off = 0;
            // Give back a buffer that grew for a burst.
            if self.buf.capacity() > 64 * 1024 {
                self.buf = Vec::new();
            }
            if self.closing {
                let _ = self.sock.shutdown(std::net::Shutdown::Both);
                self.dead = true;
            }
        }
    }

    /// End the stream once its queue is sent.
    pub fn close(&mut self) {
        self.closing = true;
        self.flush();
    }
}
