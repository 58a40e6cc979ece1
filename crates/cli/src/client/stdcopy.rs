//! docker's `stdcopy`: the framing the daemon puts on a container's
//! output when it has no TTY (attach, logs, exec). Each frame is an 8-byte
//! header — the stream (0 stdin, 1 stdout, 2 stderr, 3 the daemon's error
//! message), three zero bytes, the payload length as a big-endian u32 —
//! then the payload. [`Demux`] takes the bytes in whatever chunks the
//! connection delivers and hands each payload to its stream.

/// Which stream a frame belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// 0 and 1: standard output.
    Stdout,
    /// 2: standard error.
    Stderr,
    /// 3: an error the daemon reports in the stream (`systemerr`).
    System,
}

/// A frame whose header names no known stream.
#[derive(Debug, thiserror::Error)]
#[error("Unrecognized input header: {0}")]
pub struct BadHeader(pub u8);

/// An incremental demultiplexer.
#[derive(Debug, Default)]
pub struct Demux {
    buf: Vec<u8>,
}

impl Demux {
    /// A demultiplexer with nothing buffered.
    pub fn new() -> Demux {
        Demux::default()
    }

    /// Feed `data`; every complete frame's payload goes to `sink`.
    pub fn feed(
        &mut self,
        data: &[u8],
        sink: &mut dyn FnMut(Stream, &[u8]) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        self.buf.extend_from_slice(data);
        let mut at = 0;
        while self.buf.len() - at >= 8 {
            let h = &self.buf[at..at + 8];
            let len = u32::from_be_bytes([h[4], h[5], h[6], h[7]]) as usize;
            let stream = match h[0] {
                0 | 1 => Stream::Stdout,
                2 => Stream::Stderr,
                3 => Stream::System,
                other => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        BadHeader(other),
                    ));
                }
            };
            if self.buf.len() - at - 8 < len {
                break;
            }
            sink(stream, &self.buf[at + 8..at + 8 + len])?;
            at += 8 + len;
        }
        self.buf.drain(..at);
        Ok(())
    }
}

/// Write `data` to standard output or error and flush (the stream is
/// interactive).
pub fn write_std(to_stderr: bool, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    if to_stderr {
        let mut e = std::io::stderr().lock();
        e.write_all(data)?;
        e.flush()
    } else {
        let mut o = std::io::stdout().lock();
        o.write_all(data)?;
        o.flush()
    }
}

/// A sink writing stdout frames to standard output and stderr frames to
/// standard error; a system frame becomes an error.
pub fn to_std(stream: Stream, data: &[u8]) -> std::io::Result<()> {
    match stream {
        Stream::Stdout => write_std(false, data),
        Stream::Stderr => write_std(true, data),
        Stream::System => Err(std::io::Error::other(
            String::from_utf8_lossy(data).into_owned(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(s: u8, p: &[u8]) -> Vec<u8> {
        let mut v = vec![s, 0, 0, 0];
        v.extend_from_slice(&(p.len() as u32).to_be_bytes());
        v.extend_from_slice(p);
        v
    }

    #[test]
    fn frames_split_anywhere() {
        let mut all = frame(1, b"hello ");
        all.extend(frame(2, b"oops"));
        all.extend(frame(1, b"world"));
        for cut in 0..all.len() {
            let mut d = Demux::new();
            let mut got: Vec<(Stream, Vec<u8>)> = Vec::new();
            let mut sink = |s: Stream, b: &[u8]| {
                got.push((s, b.to_vec()));
                Ok(())
            };
            d.feed(&all[..cut], &mut sink).unwrap();
            d.feed(&all[cut..], &mut sink).unwrap();
            assert_eq!(
                got,
                vec![
                    (Stream::Stdout, b"hello ".to_vec()),
                    (Stream::Stderr, b"oops".to_vec()),
                    (Stream::Stdout, b"world".to_vec())
                ]
            );
        }
    }

    #[test]
    fn bad_header() {
        let mut d = Demux::new();
        let e = d
            .feed(&frame(7, b"x"), &mut |_, _| Ok(()))
            .unwrap_err()
            .to_string();
        assert_eq!(e, "Unrecognized input header: 7");
    }
}
