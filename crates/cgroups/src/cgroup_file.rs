//! Reading and writing cgroupfs interface files. Every call is one `open` plus one `write` (or a
//! read loop) with no stat, no `O_CREAT` and no `O_TRUNC` (cgroupfs needs neither), and every
//! error carries the file's path (and the value written).

use std::io;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use rustix::fs::{Mode, OFlags};

/// A failed read or write of one cgroup interface file.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// `open` failed.
    #[error("open {path}")]
    Open {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// `write` failed (the kernel rejected the value).
    #[error("write {value:?} to {path}")]
    Write {
        path: PathBuf,
        value: String,
        #[source]
        source: io::Error,
    },
    /// `read` failed.
    #[error("read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The file's content is not what the kernel documents.
    #[error("parse {path}: unexpected content {content:?}")]
    Parse { path: PathBuf, content: String },
}

impl FileError {
    /// The OS error number behind this error, if any.
    pub fn errno(&self) -> Option<i32> {
        match self {
            FileError::Open { source, .. }
            | FileError::Write { source, .. }
            | FileError::Read { source, .. } => source.raw_os_error(),
            FileError::Parse { .. } => None,
        }
    }

    /// Whether the file (or its cgroup) does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, FileError::Open { source, .. } if source.kind() == io::ErrorKind::NotFound)
    }
}

fn open(path: &Path, flags: OFlags) -> Result<OwnedFd, FileError> {
    rustix::fs::open(path, flags | OFlags::CLOEXEC, Mode::empty()).map_err(|e| FileError::Open {
        path: path.to_path_buf(),
        source: e.into(),
    })
}

/// Write `value` to `dir/file` with a single `write`.
pub(crate) fn write(dir: &Path, file: &str, value: &str) -> Result<(), FileError> {
    write_path(&dir.join(file), value)
}

/// Write `value` to `path` with a single `write`.
pub(crate) fn write_path(path: &Path, value: &str) -> Result<(), FileError> {
    let fd = open(path, OFlags::WRONLY)?;
    let err = |source: io::Error| FileError::Write {
        path: path.to_path_buf(),
        value: value.to_owned(),
        source,
    };
    let n = rustix::io::write(&fd, value.as_bytes()).map_err(|e| err(e.into()))?;
    if n != value.len() {
        // cgroupfs consumes whole writes; a short write means the value was not taken.
        return Err(err(io::Error::new(
            io::ErrorKind::WriteZero,
            format!("short write: {n} of {} bytes", value.len()),
        )));
    }
    Ok(())
}

/// Like [`write`], but a missing file is `Ok(false)` instead of an error.
pub(crate) fn write_if_exists(dir: &Path, file: &str, value: &str) -> Result<bool, FileError> {
    match write(dir, file, value) {
        Ok(()) => Ok(true),
        Err(e) if e.is_not_found() => Ok(false),
        Err(e) => Err(e),
    }
}

/// Read the whole of `path` (cgroup files are small; no stat for a size hint).
pub(crate) fn read_path(path: &Path) -> Result<String, FileError> {
    let fd = open(path, OFlags::RDONLY)?;
    let mut buf: Vec<u8> = Vec::with_capacity(512);
    loop {
        if buf.capacity() - buf.len() < 256 {
            buf.reserve(buf.capacity());
        }
        let spare = buf.spare_capacity_mut();
        let (filled, _) = rustix::io::read(&fd, spare).map_err(|e| FileError::Read {
            path: path.to_path_buf(),
            source: e.into(),
        })?;
        let n = filled.len();
        if n == 0 {
            break;
        }
        // SAFETY: `read` initialised the first `n` bytes of the spare capacity.
        unsafe { buf.set_len(buf.len() + n) };
    }
    String::from_utf8(buf).map_err(|e| FileError::Parse {
        path: path.to_path_buf(),
        content: String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

/// Read `dir/file`.
pub(crate) fn read(dir: &Path, file: &str) -> Result<String, FileError> {
    read_path(&dir.join(file))
}

/// Read `dir/file`, `Ok(None)` if it does not exist.
pub(crate) fn read_if_exists(dir: &Path, file: &str) -> Result<Option<String>, FileError> {
    match read(dir, file) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Parse a single unsigned value; `max` is `u64::MAX`; negative values (kernel accounting
/// glitches in some v1 counters) read as 0.
pub(crate) fn parse_u64(path: &Path, content: &str) -> Result<u64, FileError> {
    let s = content.trim();
    if s == "max" {
        return Ok(u64::MAX);
    }
    if let Ok(v) = s.parse::<u64>() {
        return Ok(v);
    }
    match s.parse::<i64>() {
        Ok(v) if v < 0 => Ok(0),
        _ => Err(FileError::Parse {
            path: path.to_path_buf(),
            content: content.to_owned(),
        }),
    }
}

/// Read `dir/file` as one unsigned value (see [`parse_u64`]).
pub(crate) fn read_u64(dir: &Path, file: &str) -> Result<u64, FileError> {
    let path = dir.join(file);
    let s = read_path(&path)?;
    parse_u64(&path, &s)
}

/// Read `dir/file` as one unsigned value, `Ok(None)` if the file does not exist.
pub(crate) fn read_u64_if_exists(dir: &Path, file: &str) -> Result<Option<u64>, FileError> {
    let path = dir.join(file);
    match read_path(&path) {
        Ok(s) => parse_u64(&path, &s).map(Some),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Iterate over the `key value` lines of a flat-keyed file (`memory.stat`, `cpu.stat`, ...),
/// parsing each value with [`parse_u64`].
pub(crate) fn parse_flat_keyed<'a>(
    path: &'a Path,
    content: &'a str,
) -> impl Iterator<Item = Result<(&'a str, u64), FileError>> + 'a {
    content
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(move |line| {
            let mut it = line.split_whitespace();
            match (it.next(), it.next(), it.next()) {
                (Some(k), Some(v), None) => parse_u64(path, v).map(|v| (k, v)),
                _ => Err(FileError::Parse {
                    path: path.to_path_buf(),
                    content: line.to_owned(),
                }),
            }
        })
}

/// Look up `key` in a flat-keyed file's content; 0 if absent.
pub(crate) fn flat_keyed_value(path: &Path, content: &str, key: &str) -> Result<u64, FileError> {
    for kv in parse_flat_keyed(path, content) {
        let (k, v) = kv?;
        if k == key {
            return Ok(v);
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_u64_handles_max_negative_and_garbage() {
        let p = Path::new("/x");
        assert_eq!(parse_u64(p, "42\n").unwrap(), 42);
        assert_eq!(parse_u64(p, "max\n").unwrap(), u64::MAX);
        assert_eq!(parse_u64(p, "-5").unwrap(), 0);
        assert!(matches!(parse_u64(p, "12a"), Err(FileError::Parse { .. })));
    }

    #[test]
    fn flat_keyed_parses_and_rejects_bad_lines() {
        let p = Path::new("/x");
        let ok = "usage_usec 10\nuser_usec 7\n";
        let v: Vec<_> = parse_flat_keyed(p, ok).collect::<Result<_, _>>().unwrap();
        assert_eq!(v, vec![("usage_usec", 10), ("user_usec", 7)]);
        assert_eq!(flat_keyed_value(p, ok, "user_usec").unwrap(), 7);
        assert_eq!(flat_keyed_value(p, ok, "absent").unwrap(), 0);
        assert!(flat_keyed_value(p, "a b c\n", "a").is_err());
    }

    #[test]
    fn read_write_round_trip_on_a_regular_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f"), "").unwrap();
        write(dir.path(), "f", "123").unwrap();
        assert_eq!(read(dir.path(), "f").unwrap(), "123");
        assert_eq!(read_u64(dir.path(), "f").unwrap(), 123);
        assert!(read_if_exists(dir.path(), "missing").unwrap().is_none());
        assert!(!write_if_exists(dir.path(), "missing", "1").unwrap());
        let e = read(dir.path(), "missing").unwrap_err();
        assert!(e.is_not_found());
        assert!(e.to_string().contains("missing"), "{e}");
    }
}
