//! Log lines in runc's formats, to `--log` (or stderr): containerd's shim
//! reads the last error from the JSON log to report why a command failed.

use std::io::Write;
use std::path::Path;

use crate::args::LogFormat;

/// Where log lines go.
#[derive(Debug)]
pub struct Logger {
    file: Option<std::fs::File>,
    format: LogFormat,
    debug: bool,
}

impl Logger {
    /// Open the log (appending); fall back to stderr if it cannot be opened.
    pub fn new(path: Option<&Path>, format: LogFormat, debug: bool) -> Logger {
        let file = path.and_then(|p| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .ok()
        });
        Logger {
            file,
            format,
            debug,
        }
    }

    fn line(&self, level: &str, msg: &str) -> String {
        let time = berth_runtime::time::now();
        match self.format {
            LogFormat::Json => {
                let mut s =
                    serde_json::json!({"level": level, "msg": msg, "time": time}).to_string();
                s.push('\n');
                s
            }
            LogFormat::Text => format!("time={time:?} level={level} msg={msg:?}\n"),
        }
    }

    fn write(&self, level: &str, msg: &str) {
        let line = self.line(level, msg);
        match &self.file {
            Some(f) => {
                let _ = (&*f).write_all(line.as_bytes());
            }
            None => {
                let _ = std::io::stderr().write_all(line.as_bytes());
            }
        }
    }

    /// An error: to the log, and to stderr as a plain message.
    pub fn error(&self, msg: &str) {
        if self.file.is_some() {
            self.write("error", msg);
        }
        let _ = writeln!(std::io::stderr(), "berth-runtime: {msg}");
    }

    /// A warning (poststart/poststop hook failures, ...).
    pub fn warn(&self, msg: &str) {
        self.write("warning", msg);
    }

    /// A debug message (with --debug).
    pub fn debug(&self, msg: &str) {
        if self.debug {
            self.write("debug", msg);
        }
    }
}
