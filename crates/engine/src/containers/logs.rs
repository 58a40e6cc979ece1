//! Container logs: the json-file options (`max-size`, `max-file`) and
//! reading the files the shim writes (`docker logs` with `--since`,
//! `--until`, `--tail`, `-t`, `-f`), framed the way the API sends them.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::{ContainerError, ContainerRecord};

/// The json-file driver's options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogOptions {
    pub max_size: Option<u64>,
    pub max_file: u32,
}

/// Docker's size units for `max-size` (`10k`, `1m`, `1g`, bytes).
fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim().to_ascii_lowercase();
    let (num, mult) = match s.trim_end_matches('b').chars().last()? {
        'k' => (&s[..s.trim_end_matches('b').len() - 1], 1024),
        'm' => (&s[..s.trim_end_matches('b').len() - 1], 1024 * 1024),
        'g' => (&s[..s.trim_end_matches('b').len() - 1], 1024 * 1024 * 1024),
        _ => (s.trim_end_matches('b'), 1),
    };
    let n: f64 = num.trim().parse().ok()?;
    (n >= 0.0).then_some((n * mult as f64) as u64)
}

impl LogOptions {
    pub fn parse(config: &BTreeMap<String, String>) -> Result<LogOptions, ContainerError> {
        let mut out = LogOptions {
            max_size: None,
            max_file: 1,
        };
        for (k, v) in config {
            match k.as_str() {
                "max-size" => {
                    out.max_size = Some(parse_size(v).filter(|n| *n > 0).ok_or_else(|| {
                        ContainerError::invalid(format!(
                            "failed to create log driver: invalid size: '{v}'"
                        ))
                    })?)
                }
                "max-file" => {
                    out.max_file = v.parse::<u32>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                        ContainerError::invalid(
                            "failed to create log driver: max-file cannot be less than 1",
                        )
                    })?
                }
                "labels" | "env" | "env-regex" | "tag" | "compress" | "mode"
                | "max-buffer-size" => {}
                other => {
                    return Err(ContainerError::invalid(format!(
                        "unknown log opt '{other}' for json-file log driver"
                    )));
                }
            }
        }
        // (json-file ignores max-file without max-size, as dockerd's does.)
        Ok(out)
    }
}

/// What `docker logs` asks for.
#[derive(Debug, Default, Clone)]
pub struct LogsRequest {
    pub stdout: bool,
    pub stderr: bool,
    pub follow: bool,
    pub timestamps: bool,
    pub since: Option<SystemTime>,
    pub until: Option<SystemTime>,
    /// `None` for all.
    pub tail: Option<usize>,
}

#[derive(serde::Deserialize)]
struct Entry {
    log: String,
    stream: String,
    time: String,
}

/// The log files of a container, oldest first.
fn files(path: &Path) -> Vec<PathBuf> {
    let mut rotated: Vec<PathBuf> = (1..100)
        .map(|i| PathBuf::from(format!("{}.{i}", path.display())))
        .take_while(|p| p.exists())
        .collect();
    rotated.reverse();
    rotated.push(path.to_path_buf());
    rotated
}

/// Writes one entry in the API's framing.
fn emit(out: &mut dyn Write, tty: bool, req: &LogsRequest, e: &Entry) -> std::io::Result<()> {
    let mut payload = Vec::new();
    if req.timestamps {
        payload.extend_from_slice(e.time.as_bytes());
        payload.push(b' ');
    }
    payload.extend_from_slice(e.log.as_bytes());
    if tty {
        out.write_all(&payload)
    } else {
        let stream = if e.stream == "stderr" {
            berth_shim::framing::STDERR
        } else {
            berth_shim::framing::STDOUT
        };
        out.write_all(&berth_shim::framing::header(stream, payload.len()))?;
        out.write_all(&payload)
    }
}

fn wanted(req: &LogsRequest, e: &Entry) -> bool {
    let stream_ok = (e.stream == "stderr" && req.stderr) || (e.stream != "stderr" && req.stdout);
    if !stream_ok {
        return false;
    }
    if req.since.is_some() || req.until.is_some() {
        let t = crate::time::parse_rfc3339(&e.time).unwrap_or(SystemTime::UNIX_EPOCH);
        if req.since.is_some_and(|s| t < s) || req.until.is_some_and(|u| t > u) {
            return false;
        }
    }
    true
}

impl crate::Engine {
    /// Checks that logs can be read and returns what the reader needs.
    pub fn logs_source(&self, name: &str) -> Result<ContainerRecord, ContainerError> {
        let r = self.container(name)?;
        if r.host_config.log_config.kind == "none" {
            return Err(ContainerError::invalid(
                "configured logging driver does not support reading",
            ));
        }
        Ok(r)
    }

    /// Streams the logs to `out` (blocking); with `follow`, until the
    /// container stops or `out` fails.
    pub fn write_logs(
        &self,
        record: &ContainerRecord,
        req: &LogsRequest,
        out: &mut dyn Write,
    ) -> std::io::Result<()> {
        let path = self.container_paths(&record.id).log(&record.id);
        let tty = record.config.tty;
        let mut entries: Vec<Entry> = Vec::new();
        let mut offset = 0u64;
        for file in files(&path) {
            let Ok(f) = std::fs::File::open(&file) else {
                continue;
            };
            let mut reader = BufReader::new(f);
            let mut line = String::new();
            loop {
                line.clear();
                let n = reader.read_line(&mut line)?;
                if n == 0 || !line.ends_with('\n') {
                    break;
                }
                if file == path {
                    offset += n as u64;
                }
                if let Ok(e) = serde_json::from_str::<Entry>(&line)
                    && wanted(req, &e)
                {
                    entries.push(e);
                }
            }
        }
        let skip = req.tail.map_or(0, |t| entries.len().saturating_sub(t));
        for e in entries.iter().skip(skip) {
            emit(out, tty, req, e)?;
        }
        out.flush()?;
        if !req.follow {
            return Ok(());
        }
        // Follow: poll the file for new lines until the container stops.
        let mut pending = String::new();
        loop {
            let running = self
                .container(&record.id)
                .map(|r| r.state.status.is_live() || r.state.status == super::Status::Restarting)
                .unwrap_or(false);
            let len = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            if len < offset {
                offset = 0; // rotated
            }
            if len > offset {
                use std::io::{Read, Seek, SeekFrom};
                let mut f = std::fs::File::open(&path)?;
                f.seek(SeekFrom::Start(offset))?;
                let mut chunk = String::new();
                let n = f.read_to_string(&mut chunk)?;
                offset += n as u64;
                pending.push_str(&chunk);
                while let Some(pos) = pending.find('\n') {
                    let line: String = pending.drain(..=pos).collect();
                    if let Ok(e) = serde_json::from_str::<Entry>(&line)
                        && wanted(req, &e)
                    {
                        emit(out, tty, req, &e)?;
                    }
                }
                out.flush()?;
            }
            if !running {
                return Ok(());
            }
            if req.until.is_some_and(|u| SystemTime::now() > u) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_follow_json_file() {
        let o = LogOptions::parse(
            &[
                ("max-size".into(), "1m".into()),
                ("max-file".into(), "3".into()),
            ]
            .into(),
        )
        .unwrap();
        assert_eq!(
            o,
            LogOptions {
                max_size: Some(1 << 20),
                max_file: 3
            }
        );
        assert!(LogOptions::parse(&[("max-size".into(), "x".into())].into()).is_err());
        // dockerd's json-file takes max-file alone (no rotation without a size)
        assert!(LogOptions::parse(&[("max-file".into(), "3".into())].into()).is_ok());
        assert!(LogOptions::parse(&[("max-file".into(), "0".into())].into()).is_err());
        assert!(LogOptions::parse(&[("bogus".into(), "3".into())].into()).is_err());
        assert_eq!(parse_size("10k"), Some(10240));
        assert_eq!(parse_size("100"), Some(100));
    }
}
