//! Docker's json-file log driver, byte for byte: one JSON object per line,
//! `{"log":"hello\n","stream":"stdout","time":"2026-11-22T10:00:00.123456789Z"}`.
//!
//! - Output is split at `'\n'` (the newline stays in `log`); a partial line
//!   is held until its newline, and flushed as an entry of its own when it
//!   reaches [`MAX_PARTIAL`] bytes or at end of output (Docker's copier).
//! - The string is escaped as Docker's encoder does (Go's JSON with HTML
//!   escaping): `\"`, `\\`, `\n`, `\r`, other control bytes as `\u00XX`
//!   (so a tab is `\u0009`), `<` `>` `&` as `\u003c` `\u003e` `\u0026`,
//!   U+2028/U+2029 escaped, invalid UTF-8 as `\ufffd`.
//! - `time` is Go's RFC3339Nano in UTC: trailing zeros of the fraction are
//!   dropped (and the dot with them).
//! - Rotation: when an entry would take the file past `max_size`, the file
//!   is renamed to `path.1` (`.1` to `.2`, ..., up to `max_file - 1`) and a
//!   new one started; with `max_file` 1 the file is truncated. (Docker
//!   checks after the write instead, so its files can pass the limit by one
//!   entry; ours never do, unless a single entry is larger than the limit.)
//! - Plain `write(2)`, one per chunk of output, no fsync.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::LogSpec;

/// Longest line kept waiting for its newline (Docker's 16 KiB buffer).
pub const MAX_PARTIAL: usize = 16 * 1024;

/// Which output stream an entry came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// Standard output (and a terminal's output).
    Stdout,
    /// Standard error.
    Stderr,
}

impl Stream {
    fn name(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

/// An open json-file log.
#[derive(Debug)]
pub struct JsonLog {
    path: PathBuf,
    max_size: Option<u64>,
    max_file: u32,
    file: std::fs::File,
    size: u64,
    partial: [Vec<u8>; 2],
    out: Vec<u8>,
}

fn open_append(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o640)
        .open(path)
}

impl JsonLog {
    /// Open (append to) the log `spec` describes.
    pub fn open(spec: &LogSpec) -> std::io::Result<JsonLog> {
        if let Some(parent) = spec.path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let file = open_append(&spec.path)?;
        let size = file.metadata()?.len();
        Ok(JsonLog {
            path: spec.path.clone(),
            max_size: spec.max_size.filter(|&s| s > 0),
            max_file: spec.max_file.max(1),
            file,
            size,
            partial: [Vec::new(), Vec::new()],
            out: Vec::new(),
        })
    }

    /// Log a chunk of output that arrived at `now`.
    pub fn write(&mut self, stream: Stream, data: &[u8], now: SystemTime) -> std::io::Result<()> {
        let time = docker_time(now);
        let idx = stream as usize;
        let mut rest = data;
        while !rest.is_empty() {
            match rest.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    let mut line = std::mem::take(&mut self.partial[idx]);
                    line.extend_from_slice(&rest[..=i]);
                    rest = &rest[i + 1..];
                    self.split_long(stream, line, &time)?;
                }
                None => {
                    self.partial[idx].extend_from_slice(rest);
                    rest = &[];
                    while self.partial[idx].len() >= MAX_PARTIAL {
                        let tail = self.partial[idx].split_off(MAX_PARTIAL);
                        let head = std::mem::replace(&mut self.partial[idx], tail);
                        self.entry(stream, &head, &time)?;
                    }
                }
            }
        }
        self.flush()
    }

    /// A complete line (with its newline): entries of at most
    /// [`MAX_PARTIAL`] bytes.
    fn split_long(&mut self, stream: Stream, line: Vec<u8>, time: &str) -> std::io::Result<()> {
        for chunk in line.chunks(MAX_PARTIAL) {
            self.entry(stream, chunk, time)?;
        }
        Ok(())
    }

    /// Write out partial lines (end of output).
    pub fn finish(&mut self, now: SystemTime) -> std::io::Result<()> {
        let time = docker_time(now);
        for stream in [Stream::Stdout, Stream::Stderr] {
            let p = std::mem::take(&mut self.partial[stream as usize]);
            if !p.is_empty() {
                self.entry(stream, &p, &time)?;
            }
        }
        self.flush()
    }

    fn entry(&mut self, stream: Stream, log: &[u8], time: &str) -> std::io::Result<()> {
        let start = self.out.len();
        encode_entry(&mut self.out, log, stream.name(), time);
        if let Some(max) = self.max_size
            && self.size + start as u64 > 0
            && self.size + self.out.len() as u64 > max
        {
            // Write what precedes this entry, rotate, then go on.
            let this = self.out.split_off(start);
            self.flush()?;
            self.rotate()?;
            self.out = this;
        }
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.out.is_empty() {
            return Ok(());
        }
        let r = self.file.write_all(&self.out);
        self.size += self.out.len() as u64;
        self.out.clear();
        r
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        if self.max_file <= 1 {
            self.file.set_len(0)?;
            self.size = 0;
            return Ok(());
        }
        let numbered = |n: u32| {
            let mut p = self.path.clone().into_os_string();
            p.push(format!(".{n}"));
            PathBuf::from(p)
        };
        let last = self.max_file - 1;
        let _ = std::fs::remove_file(numbered(last));
        for n in (1..last).rev() {
            match std::fs::rename(numbered(n), numbered(n + 1)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        std::fs::rename(&self.path, numbered(1))?;
        self.file = open_append(&self.path)?;
        self.size = 0;
        Ok(())
    }
}

/// Append one log line (with its newline) to `out`.
pub fn encode_entry(out: &mut Vec<u8>, log: &[u8], stream: &str, time: &str) {
    out.extend_from_slice(b"{\"log\":");
    encode_string(out, log);
    out.extend_from_slice(b",\"stream\":\"");
    out.extend_from_slice(stream.as_bytes());
    out.extend_from_slice(b"\",\"time\":\"");
    out.extend_from_slice(time.as_bytes());
    out.extend_from_slice(b"\"}\n");
}

/// A JSON string as Docker's json-file encoder writes it.
pub fn encode_string(out: &mut Vec<u8>, s: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let mut rest = s;
    while !rest.is_empty() {
        let valid = match std::str::from_utf8(rest) {
            Ok(v) => v,
            // The prefix up to `valid_up_to` is UTF-8.
            Err(e) => std::str::from_utf8(&rest[..e.valid_up_to()]).unwrap_or_default(),
        };
        for c in valid.chars() {
            match c {
                '"' => out.extend_from_slice(b"\\\""),
                '\\' => out.extend_from_slice(b"\\\\"),
                '\n' => out.extend_from_slice(b"\\n"),
                '\r' => out.extend_from_slice(b"\\r"),
                '<' | '>' | '&' | '\u{0}'..='\u{1f}' => {
                    let b = c as u8;
                    out.extend_from_slice(b"\\u00");
                    out.push(HEX[(b >> 4) as usize]);
                    out.push(HEX[(b & 0xf) as usize]);
                }
                '\u{2028}' => out.extend_from_slice(b"\\u2028"),
                '\u{2029}' => out.extend_from_slice(b"\\u2029"),
                c => {
                    let mut b = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
                }
            }
        }
        rest = &rest[valid.len()..];
        if !rest.is_empty() {
            // One invalid byte (Go's DecodeRune: size 1).
            out.extend_from_slice(b"\\ufffd");
            rest = &rest[1..];
        }
    }
    out.push(b'"');
}

/// Go's `time.RFC3339Nano` of `t` in UTC: `2026-11-22T10:00:00.1234Z`.
pub fn docker_time(t: SystemTime) -> String {
    let full = berth_runtime::time::rfc3339(t);
    // "....SS.nnnnnnnnnZ": trim zeros of the fraction, then a bare dot.
    let body = full.strip_suffix('Z').unwrap_or(&full);
    let trimmed = body.trim_end_matches('0');
    let trimmed = trimmed.strip_suffix('.').unwrap_or(trimmed);
    format!("{trimmed}Z")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn enc(s: &[u8]) -> String {
        let mut v = Vec::new();
        encode_string(&mut v, s);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn escapes_like_docker() {
        assert_eq!(enc(b"hello\n"), r#""hello\n""#);
        assert_eq!(enc(b"a\tb\r\"\\"), r#""a\u0009b\r\"\\""#);
        assert_eq!(enc(b"<a&b>"), r#""\u003ca\u0026b\u003e""#);
        assert_eq!(enc("é\u{2028}".as_bytes()), "\"é\\u2028\"");
        assert_eq!(enc(b"a\xffb\x1b"), r#""a\ufffdb\u001b""#);
    }

    #[test]
    fn times_trim_zeros() {
        let t = UNIX_EPOCH + Duration::new(1_795_341_600, 123_456_789);
        assert_eq!(docker_time(t), "2026-11-22T10:00:00.123456789Z");
        let t = UNIX_EPOCH + Duration::new(1_795_341_600, 120_000_000);
        assert_eq!(docker_time(t), "2026-11-22T10:00:00.12Z");
        let t = UNIX_EPOCH + Duration::new(1_795_341_600, 0);
        assert_eq!(docker_time(t), "2026-11-22T10:00:00Z");
    }

    #[test]
    fn lines_partials_and_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.log");
        let spec = LogSpec {
            path: path.clone(),
            max_size: Some(200),
            max_file: 3,
        };
        let mut log = JsonLog::open(&spec).unwrap();
        let t = UNIX_EPOCH + Duration::new(1_795_341_600, 5);
        log.write(Stream::Stdout, b"hel", t).unwrap();
        log.write(Stream::Stderr, b"oops\n", t).unwrap();
        log.write(Stream::Stdout, b"lo\nworld", t).unwrap();
        log.finish(t).unwrap();
        // The partial "world" went to a new file: the old one would pass 200.
        let text = std::fs::read_to_string(dir.path().join("c.log.1")).unwrap();
        assert_eq!(
            text,
            "{\"log\":\"oops\\n\",\"stream\":\"stderr\",\"time\":\"2026-11-22T10:00:00.000000005Z\"}\n\
             {\"log\":\"hello\\n\",\"stream\":\"stdout\",\"time\":\"2026-11-22T10:00:00.000000005Z\"}\n"
        );
        assert!(
            std::fs::read_to_string(&path)
                .unwrap()
                .contains("\"world\"")
        );
        for _ in 0..10 {
            log.write(
                Stream::Stdout,
                b"0123456789012345678901234567890123456789\n",
                t,
            )
            .unwrap();
        }
        assert!(std::fs::metadata(&path).unwrap().len() <= 200);
        assert!(dir.path().join("c.log.2").exists());
        assert!(!dir.path().join("c.log.3").exists());
    }

    #[test]
    fn long_partial_is_its_own_entry() {
        let dir = tempfile::tempdir().unwrap();
        let spec = LogSpec {
            path: dir.path().join("c.log"),
            max_size: None,
            max_file: 1,
        };
        let mut log = JsonLog::open(&spec).unwrap();
        log.write(Stream::Stdout, &vec![b'x'; MAX_PARTIAL + 10], UNIX_EPOCH)
            .unwrap();
        log.write(Stream::Stdout, b"\n", UNIX_EPOCH).unwrap();
        let text = std::fs::read_to_string(&spec.path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].contains(&format!("\"{}\"", "x".repeat(MAX_PARTIAL))));
        assert!(lines[1].starts_with("{\"log\":\"xxxxxxxxxx\\n\""));
    }
}
