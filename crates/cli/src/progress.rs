//! The JSON message streams of pull, push, load, import and build
//! rendered as docker's `jsonmessage.DisplayJSONMessagesStream` renders
//! them.
//!
//! On a terminal every message with an `id` and progress gets a line of
//! its own that is rewritten in place (the cursor moves up to it, the line
//! is erased, the new text ends with `\r`, the cursor moves back down):
//! `abc123def456: Downloading [====>     ]  12.3MB/45.6MB 3s`. The bar
//! shows when the terminal is wider than 110 columns, the time left when
//! it is wider than 50. A message without progress forgets the lines (so
//! `pull -a` starts fresh per tag). Elsewhere (a pipe, a file) progress
//! updates are dropped and the other messages are printed one per line.
//! A message with an error ends the rendering with that error.

use std::collections::HashMap;
use std::io::{Read, Write};

use crate::format::json::Json;
use crate::format::time::rfc3339_nano_fixed;
use crate::format::units::human_size;

/// Rendering failed.
#[derive(Debug, thiserror::Error)]
pub enum ProgressError {
    /// The daemon reported an error in the stream (exit 1 with it).
    #[error("{message}")]
    Remote {
        /// `errorDetail.code`.
        code: i64,
        /// The message.
        message: String,
    },
    /// The stream is not JSON.
    #[error("invalid JSON message from the daemon: {0}")]
    Json(#[source] crate::format::json::JsonError),
    /// Reading the stream failed.
    #[error("reading the daemon's message stream: {0}")]
    Read(#[source] std::io::Error),
    /// Writing the output failed.
    #[error("writing output: {0}")]
    Write(#[source] std::io::Error),
}

/// `progressDetail`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Progress {
    /// Done so far.
    pub current: i64,
    /// The total.
    pub total: i64,
    /// Unix time the operation started.
    pub start: i64,
    /// Hide the counts.
    pub hide_counts: bool,
    /// Units other than bytes.
    pub units: String,
}

/// One message of the stream.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JsonMessage {
    /// Build output.
    pub stream: String,
    /// Status text.
    pub status: String,
    /// Structured progress.
    pub progress: Option<Progress>,
    /// Pre-rendered progress (deprecated field `progress`).
    pub progress_message: String,
    /// Layer or object id.
    pub id: String,
    /// `from`.
    pub from: String,
    /// Unix time.
    pub time: i64,
    /// Unix time in nanoseconds.
    pub time_nano: i64,
    /// `errorDetail` (code, message) or the legacy `error`.
    pub error: Option<(i64, String)>,
    /// Out-of-band data (`aux`).
    pub aux: Option<Json>,
}

fn s(j: &Json, k: &str) -> String {
    j.get(k).and_then(Json::as_str).unwrap_or("").to_string()
}

fn n(j: &Json, k: &str) -> i64 {
    j.get(k).and_then(Json::as_i64).unwrap_or(0)
}

impl JsonMessage {
    /// Decode one message.
    pub fn from_json(j: &Json) -> JsonMessage {
        let progress = match j.get("progressDetail") {
            Some(p @ Json::Object(_)) => Some(Progress {
                current: n(p, "current"),
                total: n(p, "total"),
                start: n(p, "start"),
                hide_counts: matches!(p.get("hidecounts"), Some(Json::Bool(true))),
                units: s(p, "units"),
            }),
            _ => None,
        };
        let error = match j.get("errorDetail") {
            Some(e @ Json::Object(_)) => Some((n(e, "code"), s(e, "message"))),
            _ => None,
        };
        let error = error.or_else(|| {
            let legacy = s(j, "error");
            (!legacy.is_empty()).then_some((0, legacy))
        });
        JsonMessage {
            stream: s(j, "stream"),
            status: s(j, "status"),
            progress,
            progress_message: s(j, "progress"),
            id: s(j, "id"),
            from: s(j, "from"),
            time: n(j, "time"),
            time_nano: n(j, "timeNano"),
            error,
            aux: j.get("aux").cloned(),
        }
    }
}

/// Right-align to 8 columns (Go's `%8v`).
fn pad8(s: &str) -> String {
    format!("{s:>8}")
}

impl Progress {
    /// docker's `JSONProgress.String()` for a terminal `width` columns wide
    /// at Unix time `now` (seconds, fractional).
    pub fn render(&self, width: usize, now: f64) -> String {
        if self.current <= 0 && self.total <= 0 {
            return String::new();
        }
        if self.total <= 0 {
            return if self.units.is_empty() {
                pad8(&human_size(self.current as f64))
            } else {
                format!("{} {}", self.current, self.units)
            };
        }
        let mut percentage = ((self.current as f64 / self.total as f64 * 100.0) as i64) / 2;
        if percentage > 50 {
            percentage = 50;
        }
        let mut bar = String::new();
        if width > 110 {
            let spaces = (50 - percentage).max(0) as usize;
            bar = format!(
                "[{}>{}] ",
                "=".repeat(percentage.max(0) as usize),
                " ".repeat(spaces)
            );
        }
        let numbers = if self.hide_counts {
            String::new()
        } else if self.units.is_empty() {
            let cur = human_size(self.current as f64);
            if self.current > self.total {
                pad8(&cur)
            } else {
                format!("{}/{}", pad8(&cur), human_size(self.total as f64))
            }
        } else if self.current > self.total {
            format!("{} {}", self.current, self.units)
        } else {
            format!("{}/{} {}", self.current, self.total, self.units)
        };
        let mut left = String::new();
        if width > 50 && self.current > 0 && self.start > 0 && percentage < 50 {
            // Go: per-entry time in integer nanoseconds, then * remaining
            let from_start_ns = ((now - self.start as f64) * 1e9) as i128;
            let per_entry = from_start_ns / i128::from(self.current);
            let left_ns = i128::from(self.total - self.current) * per_entry;
            // Round(time.Second): half away from zero
            let secs = ((left_ns + 500_000_000) / 1_000_000_000) as i64;
            left = format!(
                " {}",
                berth_models::duration::format_go_duration(secs.saturating_mul(1_000_000_000))
            );
        }
        format!("{bar}{numbers}{left}")
    }
}

/// Where and how to render.
#[derive(Debug, Clone, Copy)]
pub struct Display {
    /// Is the output a terminal (cursor movement, progress bars)?
    pub terminal: bool,
    /// Terminal width (200 when unknown, as docker assumes).
    pub width: usize,
}

impl Display {
    /// For standard output.
    pub fn stdout() -> Display {
        let fd = rustix::stdio::stdout();
        let terminal = rustix::termios::isatty(fd);
        let width = if terminal {
            rustix::termios::tcgetwinsize(fd)
                .map(|w| usize::from(w.ws_col))
                .unwrap_or(200)
        } else {
            200
        };
        Display { terminal, width }
    }

    /// Render one message (docker's `JSONMessage.Display`).
    fn message(&self, m: &JsonMessage, out: &mut dyn Write, now: f64) -> Result<(), ProgressError> {
        if let Some((code, message)) = &m.error {
            return Err(ProgressError::Remote {
                code: *code,
                message: message.clone(),
            });
        }
        let w = |out: &mut dyn Write, s: &str| {
            out.write_all(s.as_bytes()).map_err(ProgressError::Write)
        };
        let progress_text = m.progress.as_ref().map(|p| p.render(self.width, now));
        let mut endl = "";
        if self.terminal && m.stream.is_empty() && m.progress.is_some() {
            w(out, "\x1b[2K\r")?;
            endl = "\r";
        } else if progress_text.as_deref().is_some_and(|t| !t.is_empty()) {
            // progress bars are not shown off a terminal
            return Ok(());
        }
        if m.time_nano != 0 {
            let secs = m.time_nano.div_euclid(1_000_000_000);
            let nanos = m.time_nano.rem_euclid(1_000_000_000) as i32;
            w(out, &format!("{} ", rfc3339_nano_fixed(secs, nanos)))?;
        } else if m.time != 0 {
            w(out, &format!("{} ", rfc3339_nano_fixed(m.time, 0)))?;
        }
        if !m.id.is_empty() {
            w(out, &format!("{}: ", m.id))?;
        }
        if !m.from.is_empty() {
            w(out, &format!("(from {}) ", m.from))?;
        }
        if let (Some(text), true) = (&progress_text, self.terminal) {
            w(out, &format!("{} {text}{endl}", m.status))
        } else if !m.progress_message.is_empty() {
            w(out, &format!("{} {}{endl}", m.status, m.progress_message))
        } else if !m.stream.is_empty() {
            w(out, &format!("{}{endl}", m.stream))
        } else {
            w(out, &format!("{}{endl}\n", m.status))
        }
    }

    /// Render a whole stream; `aux` receives messages with an `aux` field
    /// (they are not displayed). `now` gives the current Unix time.
    pub fn stream(
        &self,
        input: impl Read,
        out: &mut dyn Write,
        aux: &mut dyn FnMut(&Json),
        now: &dyn Fn() -> f64,
    ) -> Result<(), ProgressError> {
        let mut ids: HashMap<String, usize> = HashMap::new();
        let mut decoder = StreamDecoder::new(input);
        while let Some(j) = decoder.next_value()? {
            let m = JsonMessage::from_json(&j);
            if let Some(a) = &m.aux {
                aux(a);
                continue;
            }
            let mut diff = 0;
            if !m.id.is_empty() && (m.progress.is_some() || !m.progress_message.is_empty()) {
                let line = match ids.get(&m.id) {
                    Some(l) => *l,
                    None => {
                        let l = ids.len();
                        ids.insert(m.id.clone(), l);
                        if self.terminal {
                            out.write_all(b"\n").map_err(ProgressError::Write)?;
                        }
                        l
                    }
                };
                diff = ids.len() - line;
                if self.terminal && diff > 0 {
                    out.write_all(format!("\x1b[{diff}A").as_bytes())
                        .map_err(ProgressError::Write)?;
                }
            } else {
                ids.clear();
            }
            let r = self.message(&m, out, now());
            if !m.id.is_empty() && self.terminal && diff > 0 {
                out.write_all(format!("\x1b[{diff}B").as_bytes())
                    .map_err(ProgressError::Write)?;
            }
            r?;
            out.flush().map_err(ProgressError::Write)?;
        }
        Ok(())
    }
}

/// Splits a byte stream into concatenated JSON values (Go's
/// `json.Decoder` over a stream).
pub struct StreamDecoder<R> {
    input: R,
    buf: Vec<u8>,
    eof: bool,
}

impl<R: Read> StreamDecoder<R> {
    /// A decoder over `input`.
    pub fn new(input: R) -> StreamDecoder<R> {
        StreamDecoder {
            input,
            buf: Vec::new(),
            eof: false,
        }
    }

    /// The next value, or `None` at the end of the stream.
    pub fn next_value(&mut self) -> Result<Option<Json>, ProgressError> {
        loop {
            // skip leading whitespace
            let start = self
                .buf
                .iter()
                .position(|b| !b.is_ascii_whitespace())
                .unwrap_or(self.buf.len());
            self.buf.drain(..start);
            if let Some(end) = complete_value_end(&self.buf) {
                let v = Json::parse(&self.buf[..end]).map_err(ProgressError::Json)?;
                self.buf.drain(..end);
                return Ok(Some(v));
            }
            if self.eof {
                if self.buf.is_empty() {
                    return Ok(None);
                }
                let v = Json::parse(&self.buf).map_err(ProgressError::Json)?;
                self.buf.clear();
                return Ok(Some(v));
            }
            let mut chunk = [0u8; 16 * 1024];
            match self.input.read(&mut chunk) {
                Ok(0) => self.eof = true,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(ProgressError::Read(e)),
            }
        }
    }
}

/// The end of the first complete object or array in `b` (which starts
/// with a non-space byte), if it is all there.
fn complete_value_end(b: &[u8]) -> Option<usize> {
    let first = *b.first()?;
    if first != b'{' && first != b'[' {
        // a scalar: complete once a delimiter follows
        let end = b
            .iter()
            .position(|c| c.is_ascii_whitespace() || *c == b'{' || *c == b'[')?;
        return Some(end);
    }
    let mut depth = 0usize;
    let mut in_str = false;
    let mut esc = false;
    for (i, &c) in b.iter().enumerate() {
        if in_str {
            if esc {
                esc = false;
            } else if c == b'\\' {
                esc = true;
            } else if c == b'"' {
                in_str = false;
            }
            continue;
        }
        match c {
            b'"' => in_str = true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const PULL: &str = r#"{"status":"Pulling from library/busybox","id":"latest"}
{"status":"Pulling fs layer","progressDetail":{},"id":"aaaaaaaaaaaa"}
{"status":"Pulling fs layer","progressDetail":{},"id":"bbbbbbbbbbbb"}
{"status":"Downloading","progressDetail":{"current":12300000,"total":45600000},"progress":"[=====>    ]  12.3MB/45.6MB","id":"aaaaaaaaaaaa"}
{"status":"Download complete","progressDetail":{},"id":"bbbbbbbbbbbb"}
{"status":"Pull complete","progressDetail":{},"id":"aaaaaaaaaaaa"}
{"status":"Digest: sha256:1234"}
{"status":"Status: Downloaded newer image for busybox:latest"}
"#;

    fn render(input: &str, d: Display) -> Result<String, ProgressError> {
        let mut out = Vec::new();
        d.stream(input.as_bytes(), &mut out, &mut |_| {}, &|| 1000.0)?;
        Ok(String::from_utf8(out).unwrap())
    }

    #[test]
    fn plain_output_drops_progress_updates() {
        let out = render(
            PULL,
            Display {
                terminal: false,
                width: 200,
            },
        )
        .unwrap();
        assert_eq!(
            out,
            "latest: Pulling from library/busybox\n\
             aaaaaaaaaaaa: Pulling fs layer\n\
             bbbbbbbbbbbb: Pulling fs layer\n\
             bbbbbbbbbbbb: Download complete\n\
             aaaaaaaaaaaa: Pull complete\n\
             Digest: sha256:1234\n\
             Status: Downloaded newer image for busybox:latest\n"
        );
    }

    #[test]
    fn terminal_output_moves_the_cursor() {
        let out = render(
            PULL,
            Display {
                terminal: true,
                width: 120,
            },
        )
        .unwrap();
        let want = concat!(
            "latest: Pulling from library/busybox\n",
            // new line for layer a, up 1, erase, text, down 1
            "\n\x1b[1A\x1b[2K\raaaaaaaaaaaa: Pulling fs layer \r\x1b[1B",
            "\n\x1b[1A\x1b[2K\rbbbbbbbbbbbb: Pulling fs layer \r\x1b[1B",
            // layer a is two lines up
            "\x1b[2A\x1b[2K\raaaaaaaaaaaa: Downloading [=============>                                     ]   12.3MB/45.6MB\r\x1b[2B",
            "\x1b[1A\x1b[2K\rbbbbbbbbbbbb: Download complete \r\x1b[1B",
            "\x1b[2A\x1b[2K\raaaaaaaaaaaa: Pull complete \r\x1b[2B",
            "Digest: sha256:1234\n",
            "Status: Downloaded newer image for busybox:latest\n",
        );
        assert_eq!(out, want);
    }

    #[test]
    fn progress_strings() {
        let p = Progress {
            current: 12_300_000,
            total: 45_600_000,
            ..Progress::default()
        };
        assert_eq!(
            p.render(200, 0.0),
            "[=============>                                     ]   12.3MB/45.6MB"
        );
        assert_eq!(p.render(80, 0.0), "  12.3MB/45.6MB");
        let p = Progress {
            current: 50,
            total: 100,
            start: 990,
            ..Progress::default()
        };
        // 10 s for 50 bytes: 10 s left
        assert_eq!(p.render(80, 1000.0), "     50B/100B 10s");
        let p = Progress {
            current: 3,
            total: 0,
            units: "layers".into(),
            ..Progress::default()
        };
        assert_eq!(p.render(80, 0.0), "3 layers");
    }

    #[test]
    fn errors_end_the_stream() {
        let input = r#"{"status":"Pulling from x","id":"latest"}
{"errorDetail":{"message":"manifest unknown"},"error":"manifest unknown"}
{"status":"never shown"}"#;
        let mut out = Vec::new();
        let d = Display {
            terminal: false,
            width: 200,
        };
        let e = d
            .stream(input.as_bytes(), &mut out, &mut |_| {}, &|| 0.0)
            .unwrap_err();
        assert_eq!(e.to_string(), "manifest unknown");
        assert_eq!(String::from_utf8(out).unwrap(), "latest: Pulling from x\n");
    }

    #[test]
    fn aux_and_concatenated_values() {
        let input = r#"{"stream":"Loaded image: busybox:latest\n"}{"aux":{"ID":"sha256:x"}}  {"status":"done"}"#;
        let mut seen = Vec::new();
        let mut out = Vec::new();
        Display {
            terminal: false,
            width: 200,
        }
        .stream(
            input.as_bytes(),
            &mut out,
            &mut |a| seen.push(a.clone()),
            &|| 0.0,
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "Loaded image: busybox:latest\ndone\n"
        );
        assert_eq!(seen.len(), 1);
    }

    #[test]
    fn garbage_is_an_error() {
        let d = Display {
            terminal: false,
            width: 200,
        };
        let mut out = Vec::new();
        assert!(matches!(
            d.stream(&b"{\"status\": nope}"[..], &mut out, &mut |_| {}, &|| 0.0),
            Err(ProgressError::Json(_))
        ));
    }
}
