//! A streaming tar reader with its own large buffer: headers are parsed in place and file data
//! is handed out as slices of that buffer ([`TarReader::data_chunk`]), so a small file costs
//! no copy beyond the one the decompressor makes into the buffer.
//!
//! Stricter than most readers where strictness catches damage: every header's checksum is
//! verified, a stream that ends before the end-of-archive marker (a zero block) is
//! [`TarError::Truncated`], and after the marker the stream is read to its end so that a
//! decompressor checks its trailer (gzip CRC) and a hashing reader sees every byte.

use std::io::{self, Read};

use super::entry::{Entry, EntryKind, Timestamp};
use super::header::{self, BLOCK, Format, field};

/// Largest PAX extended header accepted (xattrs can be 64 KiB each; a few of them fit).
const MAX_PAX: u64 = 8 << 20;
/// Largest GNU long name or link accepted.
const MAX_LONG_NAME: u64 = 64 << 10;
/// Read buffer size.
const BUF: usize = 512 << 10;

/// A malformed, truncated or unsupported archive, or a failed read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TarError {
    /// Reading the (decompressed) stream failed.
    #[error("read the layer stream at offset {offset}")]
    Read {
        offset: u64,
        #[source]
        source: io::Error,
    },
    /// The stream ended inside a header or data, or before the end-of-archive marker.
    #[error("truncated archive: the stream ends at offset {offset} inside {inside}")]
    Truncated { offset: u64, inside: &'static str },
    /// A header's checksum does not match: not a tar, or corrupt.
    #[error("corrupt archive: bad header checksum at offset {offset}")]
    Checksum { offset: u64 },
    /// A numeric header field is malformed.
    #[error("corrupt archive: bad {field} field in the header at offset {offset}")]
    Field { offset: u64, field: &'static str },
    /// A PAX extended header is malformed.
    #[error("corrupt archive: bad PAX extended header at offset {offset}: {reason}")]
    Pax { offset: u64, reason: String },
    /// An extension header is larger than this reader accepts.
    #[error("archive header at offset {offset}: {what} of {size} bytes is too large")]
    TooLarge {
        offset: u64,
        what: &'static str,
        size: u64,
    },
    /// A member type layers never use and this reader does not implement.
    #[error("unsupported archive member {path:?} at offset {offset}: {what}")]
    Unsupported {
        offset: u64,
        path: String,
        what: String,
    },
}

impl TarError {
    /// Every archive error is the input's fault, except a read that failed for another reason
    /// than bad data.
    pub fn category(&self) -> crate::Category {
        match self {
            TarError::Read { source, .. } => crate::category::of_read_error(source),
            _ => crate::Category::Invalid,
        }
    }
}

/// Values a PAX extended header sets for the next member.
#[derive(Default)]
struct Pax {
    path: Option<Vec<u8>>,
    linkpath: Option<Vec<u8>>,
    size: Option<u64>,
    uid: Option<u64>,
    gid: Option<u64>,
    mtime: Option<Timestamp>,
    atime: Option<Timestamp>,
    xattrs: Vec<(Vec<u8>, Vec<u8>)>,
    sparse: bool,
}

/// Reads members one after another from an uncompressed tar stream.
pub struct TarReader<R> {
    inner: R,
    buf: Box<[u8]>,
    pos: usize,
    end: usize,
    /// Stream offset of `buf[pos]`.
    offset: u64,
    /// Data bytes of the current member not yet consumed.
    data_left: u64,
    /// Padding after the current member's data.
    pad_left: u64,
    /// The inner reader returned end of stream.
    eof: bool,
    /// The end-of-archive marker was read.
    finished: bool,
}

impl<R> std::fmt::Debug for TarReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TarReader")
            .field("offset", &self.offset)
            .field("finished", &self.finished)
            .finish()
    }
}

impl<R: Read> TarReader<R> {
    /// A reader over the uncompressed archive `inner`.
    pub fn new(inner: R) -> TarReader<R> {
        TarReader {
            inner,
            buf: vec![0u8; BUF].into_boxed_slice(),
            pos: 0,
            end: 0,
            offset: 0,
            data_left: 0,
            pad_left: 0,
            eof: false,
            finished: false,
        }
    }

    /// Bytes of the stream consumed so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Read more from the inner reader into the free end of the buffer, moving unconsumed bytes
    /// to the front when needed. Returns the number of bytes added (0 at end of stream).
    fn refill(&mut self) -> Result<usize, TarError> {
        if self.eof {
            return Ok(0);
        }
        debug_assert!(
            self.end - self.pos < self.buf.len(),
            "refill of a full buffer"
        );
        if self.pos > 0 && (self.end == self.pos || self.buf.len() - self.end < BLOCK) {
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
        }
        loop {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(0);
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(source) => {
                    return Err(TarError::Read {
                        offset: self.offset + (self.end - self.pos) as u64,
                        source,
                    });
                }
            }
        }
    }

    fn consume(&mut self, n: usize) {
        self.pos += n;
        self.offset += n as u64;
    }

    /// Make at least `n` (≤ buffer size) bytes available; false at a clean end of stream with
    /// nothing buffered; `Truncated` when the stream ends with fewer than `n` bytes buffered.
    fn ensure(&mut self, n: usize, inside: &'static str) -> Result<bool, TarError> {
        while self.end - self.pos < n {
            if self.refill()? == 0 {
                if self.end == self.pos {
                    return Ok(false);
                }
                return Err(TarError::Truncated {
                    offset: self.offset + (self.end - self.pos) as u64,
                    inside,
                });
            }
        }
        Ok(true)
    }

    /// Skip `n` bytes of the stream.
    fn skip(&mut self, mut n: u64, inside: &'static str) -> Result<(), TarError> {
        while n > 0 {
            if self.pos == self.end && self.refill()? == 0 {
                return Err(TarError::Truncated {
                    offset: self.offset,
                    inside,
                });
            }
            let step = n.min((self.end - self.pos) as u64) as usize;
            self.consume(step);
            n -= step as u64;
        }
        Ok(())
    }

    /// The next chunk of the current member's data (empty once all of it was read). The chunk
    /// is consumed: the next call returns what follows.
    pub fn data_chunk(&mut self) -> Result<&[u8], TarError> {
        if self.data_left == 0 {
            return Ok(&[]);
        }
        if self.pos == self.end && self.refill()? == 0 {
            return Err(TarError::Truncated {
                offset: self.offset,
                inside: "file data",
            });
        }
        let n = self.data_left.min((self.end - self.pos) as u64) as usize;
        let start = self.pos;
        self.consume(n);
        self.data_left -= n as u64;
        Ok(&self.buf[start..start + n])
    }

    /// Skip whatever is left of the current member's data and its padding.
    fn skip_rest(&mut self) -> Result<(), TarError> {
        let (data, pad) = (self.data_left, self.pad_left);
        self.data_left = 0;
        self.pad_left = 0;
        self.skip(data, "file data")?;
        self.skip(pad, "padding")
    }

    /// Read the whole data of a metadata member (PAX header, GNU long name) of `size` bytes.
    fn read_small(&mut self, size: u64) -> Result<Vec<u8>, TarError> {
        let mut out = Vec::with_capacity(size as usize);
        let mut left = size;
        while left > 0 {
            if self.pos == self.end && self.refill()? == 0 {
                return Err(TarError::Truncated {
                    offset: self.offset,
                    inside: "an extended header",
                });
            }
            let n = left.min((self.end - self.pos) as u64) as usize;
            out.extend_from_slice(&self.buf[self.pos..self.pos + n]);
            self.consume(n);
            left -= n as u64;
        }
        self.skip(padding(size), "padding")?;
        Ok(out)
    }

    /// The next member, or `None` after the end-of-archive marker. Data of the previous member
    /// that was not read is skipped.
    pub fn next_entry(&mut self) -> Result<Option<Entry>, TarError> {
        if self.finished {
            return Ok(None);
        }
        self.skip_rest()?;
        let mut pax = Pax::default();
        let mut gnu_name: Option<Vec<u8>> = None;
        let mut gnu_link: Option<Vec<u8>> = None;
        loop {
            let at = self.offset;
            if !self.ensure(BLOCK, "a header")? {
                return Err(TarError::Truncated {
                    offset: at,
                    inside: "the archive (no end-of-archive marker)",
                });
            }
            let mut block = [0u8; BLOCK];
            block.copy_from_slice(&self.buf[self.pos..self.pos + BLOCK]);
            self.consume(BLOCK);
            if header::is_zero(&block) {
                self.finished = true;
                self.drain()?;
                return Ok(None);
            }
            if !header::checksum_ok(&block) {
                return Err(TarError::Checksum { offset: at });
            }
            let num = |f: std::ops::Range<usize>, name: &'static str| {
                header::parse_numeric(&block[f]).ok_or(TarError::Field {
                    offset: at,
                    field: name,
                })
            };
            let size = num(field::SIZE, "size")?;
            let typeflag = block[field::TYPEFLAG];
            match typeflag {
                b'x' => {
                    check_size(at, size, MAX_PAX, "PAX header")?;
                    let data = self.read_small(size)?;
                    parse_pax(&data, &mut pax)
                        .map_err(|reason| TarError::Pax { offset: at, reason })?;
                    continue;
                }
                b'g' => {
                    // Global headers are ignored (Docker, containerd and Go's reader do the same).
                    check_size(at, size, MAX_PAX, "PAX global header")?;
                    self.skip(size + padding(size), "a PAX global header")?;
                    continue;
                }
                b'L' | b'K' => {
                    check_size(at, size, MAX_LONG_NAME, "GNU long name")?;
                    let mut data = self.read_small(size)?;
                    let n = header::cstr(&data).len();
                    data.truncate(n);
                    if typeflag == b'L' {
                        gnu_name = Some(data);
                    } else {
                        gnu_link = Some(data);
                    }
                    continue;
                }
                _ => {}
            }
            let format = header::format(&block);
            let path = match (pax.path.take(), gnu_name.take()) {
                (Some(p), _) | (None, Some(p)) => p,
                (None, None) => {
                    let name = header::cstr(&block[field::NAME]);
                    let prefix = header::cstr(&block[field::PREFIX]);
                    if format == Format::Ustar && !prefix.is_empty() {
                        let mut p = prefix.to_vec();
                        p.push(b'/');
                        p.extend_from_slice(name);
                        p
                    } else {
                        name.to_vec()
                    }
                }
            };
            let link = match (pax.linkpath.take(), gnu_link.take()) {
                (Some(l), _) | (None, Some(l)) => l,
                (None, None) => header::cstr(&block[field::LINKNAME]).to_vec(),
            };
            let path_str = || String::from_utf8_lossy(&path).into_owned();
            if pax.sparse {
                return Err(TarError::Unsupported {
                    offset: at,
                    path: path_str(),
                    what: "PAX sparse file".into(),
                });
            }
            let kind = match typeflag {
                b'0' | b'\0' | b'7' if path.ends_with(b"/") => EntryKind::Directory,
                b'0' | b'\0' | b'7' => EntryKind::File,
                b'1' => EntryKind::HardLink,
                b'2' => EntryKind::Symlink,
                b'3' => EntryKind::CharDevice,
                b'4' => EntryKind::BlockDevice,
                b'5' => EntryKind::Directory,
                b'6' => EntryKind::Fifo,
                b'S' => {
                    return Err(TarError::Unsupported {
                        offset: at,
                        path: path_str(),
                        what: "GNU sparse file".into(),
                    });
                }
                other => {
                    return Err(TarError::Unsupported {
                        offset: at,
                        path: path_str(),
                        what: format!("member type {:?}", other as char),
                    });
                }
            };
            let size = pax.size.unwrap_or(size);
            let data = if kind == EntryKind::File { size } else { 0 };
            let mtime = match pax.mtime {
                Some(t) => t,
                None => Timestamp {
                    secs: header::parse_signed_numeric(&block[field::MTIME]).ok_or(
                        TarError::Field {
                            offset: at,
                            field: "mtime",
                        },
                    )?,
                    nanos: 0,
                },
            };
            let atime = pax.atime.or_else(|| {
                if format != Format::Gnu {
                    return None;
                }
                match header::parse_signed_numeric(&block[field::GNU_ATIME]) {
                    Some(secs) if secs != 0 => Some(Timestamp { secs, nanos: 0 }),
                    _ => None,
                }
            });
            let (dev_major, dev_minor) =
                if matches!(kind, EntryKind::CharDevice | EntryKind::BlockDevice) {
                    let major = num(field::DEVMAJOR, "devmajor")?;
                    let minor = num(field::DEVMINOR, "devminor")?;
                    (
                        u32::try_from(major).map_err(|_| TarError::Field {
                            offset: at,
                            field: "devmajor",
                        })?,
                        u32::try_from(minor).map_err(|_| TarError::Field {
                            offset: at,
                            field: "devminor",
                        })?,
                    )
                } else {
                    (0, 0)
                };
            let entry = Entry {
                kind,
                path,
                link,
                size: data,
                mode: (num(field::MODE, "mode")? & 0o7777) as u32,
                uid: match pax.uid {
                    Some(v) => v,
                    None => num(field::UID, "uid")?,
                },
                gid: match pax.gid {
                    Some(v) => v,
                    None => num(field::GID, "gid")?,
                },
                mtime,
                atime,
                dev_major,
                dev_minor,
                xattrs: std::mem::take(&mut pax.xattrs),
            };
            self.data_left = data;
            self.pad_left = padding(data);
            return Ok(Some(entry));
        }
    }

    /// Read the rest of the stream after the end-of-archive marker and discard it.
    fn drain(&mut self) -> Result<(), TarError> {
        let buffered = self.end - self.pos;
        self.consume(buffered);
        while self.refill()? > 0 {
            let n = self.end - self.pos;
            self.consume(n);
        }
        Ok(())
    }

    /// Give back the inner reader.
    pub fn into_inner(self) -> R {
        self.inner
    }
}

fn padding(size: u64) -> u64 {
    (BLOCK as u64 - size % BLOCK as u64) % BLOCK as u64
}

fn check_size(offset: u64, size: u64, max: u64, what: &'static str) -> Result<(), TarError> {
    if size > max {
        return Err(TarError::TooLarge { offset, what, size });
    }
    Ok(())
}

/// Parse the records `"<len> <key>=<value>\n"` of a PAX extended header into `pax`.
fn parse_pax(mut data: &[u8], pax: &mut Pax) -> Result<(), String> {
    while !data.is_empty() {
        // A header may be padded with NULs.
        if data.iter().all(|&b| b == 0) {
            break;
        }
        let sp = data
            .iter()
            .position(|&b| b == b' ')
            .ok_or("record without a length")?;
        let len: usize = std::str::from_utf8(&data[..sp])
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or("record length is not a number")?;
        if len <= sp + 1 || len > data.len() {
            return Err(format!("record length {len} out of range"));
        }
        let record = &data[sp + 1..len];
        data = &data[len..];
        let record = record
            .strip_suffix(b"\n")
            .ok_or("record does not end with a newline")?;
        let eq = record
            .iter()
            .position(|&b| b == b'=')
            .ok_or("record without '='")?;
        let (key, value) = (&record[..eq], &record[eq + 1..]);
        let text = || std::str::from_utf8(value).map_err(|_| "value is not UTF-8".to_string());
        let number = |name: &str| -> Result<u64, String> {
            text()?
                .parse::<u64>()
                .map_err(|_| format!("{name} is not a number"))
        };
        match key {
            b"path" => pax.path = Some(value.to_vec()),
            b"linkpath" => pax.linkpath = Some(value.to_vec()),
            b"size" => pax.size = Some(number("size")?),
            b"uid" => pax.uid = Some(number("uid")?),
            b"gid" => pax.gid = Some(number("gid")?),
            b"mtime" => pax.mtime = Some(parse_time(text()?).ok_or("bad mtime")?),
            b"atime" => pax.atime = Some(parse_time(text()?).ok_or("bad atime")?),
            _ if key.starts_with(b"SCHILY.xattr.") => {
                let name = &key[b"SCHILY.xattr.".len()..];
                if name.is_empty() {
                    return Err("empty xattr name".into());
                }
                pax.xattrs.push((name.to_vec(), value.to_vec()));
            }
            _ if key.starts_with(b"GNU.sparse.") => pax.sparse = true,
            // uname, gname, ctime, comment, charset, hdrcharset, LIBARCHIVE.*: not used.
            _ => {}
        }
    }
    Ok(())
}

/// A PAX time: `[-]seconds[.fraction]`.
fn parse_time(s: &str) -> Option<Timestamp> {
    let (neg, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let secs: i64 = int.parse().ok()?;
    let mut nanos: u32 = 0;
    for (i, b) in frac.bytes().take(9).enumerate() {
        nanos += u32::from(b - b'0') * 10u32.pow(8 - i as u32);
    }
    Some(if !neg {
        Timestamp { secs, nanos }
    } else if nanos == 0 {
        Timestamp {
            secs: -secs,
            nanos: 0,
        }
    } else {
        Timestamp {
            secs: -secs - 1,
            nanos: 1_000_000_000 - nanos,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pax_times() {
        assert_eq!(
            parse_time("1700000000.5"),
            Some(Timestamp {
                secs: 1700000000,
                nanos: 500_000_000
            })
        );
        assert_eq!(parse_time("12"), Some(Timestamp { secs: 12, nanos: 0 }));
        assert_eq!(
            parse_time("-1.25"),
            Some(Timestamp {
                secs: -2,
                nanos: 750_000_000
            })
        );
        assert_eq!(
            parse_time("1.1234567891"),
            Some(Timestamp {
                secs: 1,
                nanos: 123_456_789
            })
        );
        assert_eq!(parse_time("x"), None);
        assert_eq!(parse_time("1.x"), None);
    }

    #[test]
    fn pax_records() {
        let mut pax = Pax::default();
        let rec = |k: &str, v: &str| {
            let body = format!(" {k}={v}\n");
            let mut n = body.len() + 1;
            loop {
                let total = n.to_string().len() + body.len();
                if total == n {
                    break;
                }
                n = total;
            }
            format!("{n}{body}")
        };
        let data = format!(
            "{}{}{}",
            rec("path", "a/very/long/name"),
            rec("SCHILY.xattr.user.k", "v=1"),
            rec("mtime", "5.5")
        );
        parse_pax(data.as_bytes(), &mut pax).unwrap();
        assert_eq!(pax.path.as_deref(), Some(&b"a/very/long/name"[..]));
        assert_eq!(pax.xattrs, vec![(b"user.k".to_vec(), b"v=1".to_vec())]);
        assert_eq!(
            pax.mtime,
            Some(Timestamp {
                secs: 5,
                nanos: 500_000_000
            })
        );
        assert!(parse_pax(b"99 path=x\n", &mut Pax::default()).is_err());
        assert!(parse_pax(b"9 pathx\n", &mut Pax::default()).is_err());
    }
}
