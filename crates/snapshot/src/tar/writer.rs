//! A tar writer: a USTAR header per member, preceded by a PAX extended header when a value does
//! not fit USTAR (a name or link over 100 bytes, ids or sizes beyond the octal fields, negative
//! or sub-second-free times) or the member has extended attributes (`SCHILY.xattr.*`, the
//! records Docker and containerd write and read).

use std::io::{self, Read, Write};

use super::entry::{Entry, EntryKind};
use super::header::{self, BLOCK, field};

/// Writes members to `out`; [`TarWriter::finish`] writes the end-of-archive marker.
#[derive(Debug)]
pub struct TarWriter<W: Write> {
    out: W,
}

impl<W: Write> TarWriter<W> {
    /// A writer over `out`.
    pub fn new(out: W) -> TarWriter<W> {
        TarWriter { out }
    }

    /// Write one member. For a regular file `data` must yield exactly `entry.size` bytes;
    /// for every other kind it is not read.
    pub fn append(&mut self, entry: &Entry, data: impl Read) -> io::Result<()> {
        let mut block = [0u8; BLOCK];
        let mut records = Vec::new();

        put_str(&mut block, field::NAME, &entry.path, b"path", &mut records);
        if matches!(entry.kind, EntryKind::HardLink | EntryKind::Symlink) {
            put_str(
                &mut block,
                field::LINKNAME,
                &entry.link,
                b"linkpath",
                &mut records,
            );
        }
        header::put_octal(&mut block[field::MODE], u64::from(entry.mode & 0o7777));
        put_num(&mut block, field::UID, entry.uid, b"uid", &mut records);
        put_num(&mut block, field::GID, entry.gid, b"gid", &mut records);
        let size = if entry.kind == EntryKind::File {
            entry.size
        } else {
            0
        };
        put_num(&mut block, field::SIZE, size, b"size", &mut records);
        if entry.mtime.secs >= 0 && entry.mtime.nanos == 0 {
            put_num(
                &mut block,
                field::MTIME,
                entry.mtime.secs as u64,
                b"mtime",
                &mut records,
            );
        } else {
            let secs = entry.mtime.secs.max(0) as u64;
            header::put_octal(&mut block[field::MTIME], secs);
            let t = entry.mtime;
            let text = if t.secs >= 0 {
                format!("{}.{:09}", t.secs, t.nanos)
            } else if t.nanos == 0 {
                format!("{}", t.secs)
            } else {
                // -1.25 is stored as secs = -2, nanos = 0.75e9.
                format!("-{}.{:09}", -(t.secs + 1), 1_000_000_000 - t.nanos)
            };
            records.push(record(b"mtime", text.as_bytes()));
        }
        block[field::TYPEFLAG] = entry.kind.type_flag();
        block[field::MAGIC].copy_from_slice(b"ustar\0");
        block[field::VERSION].copy_from_slice(b"00");
        header::put_octal(&mut block[field::DEVMAJOR], u64::from(entry.dev_major));
        header::put_octal(&mut block[field::DEVMINOR], u64::from(entry.dev_minor));
        for (name, value) in &entry.xattrs {
            let mut key = b"SCHILY.xattr.".to_vec();
            key.extend_from_slice(name);
            records.push(record(&key, value));
        }

        if !records.is_empty() {
            let body: Vec<u8> = records.concat();
            let mut pax = [0u8; BLOCK];
            pax[field::NAME][..14].copy_from_slice(b"././@PaxHeader");
            header::put_octal(&mut pax[field::MODE], 0o644);
            header::put_octal(&mut pax[field::UID], 0);
            header::put_octal(&mut pax[field::GID], 0);
            header::put_octal(&mut pax[field::SIZE], body.len() as u64);
            header::put_octal(&mut pax[field::MTIME], 0);
            pax[field::TYPEFLAG] = b'x';
            pax[field::MAGIC].copy_from_slice(b"ustar\0");
            pax[field::VERSION].copy_from_slice(b"00");
            header::set_checksum(&mut pax);
            self.out.write_all(&pax)?;
            self.out.write_all(&body)?;
            self.pad(body.len() as u64)?;
        }
        header::set_checksum(&mut block);
        self.out.write_all(&block)?;
        if size > 0 {
            let copied = io::copy(&mut data.take(size), &mut self.out)?;
            if copied != size {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "{}: file shrank while archiving ({copied} of {size} bytes)",
                        String::from_utf8_lossy(&entry.path)
                    ),
                ));
            }
            self.pad(size)?;
        }
        Ok(())
    }

    fn pad(&mut self, size: u64) -> io::Result<()> {
        let pad = (BLOCK - (size % BLOCK as u64) as usize) % BLOCK;
        self.out.write_all(&[0u8; BLOCK][..pad])
    }

    /// Write the end-of-archive marker (two zero blocks) and return the output.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.write_all(&[0u8; 2 * BLOCK])?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Put a name into its field, or into a PAX record when it is too long (or contains a NUL,
/// which the field cannot hold). The field then keeps a truncated copy for old readers.
fn put_str(
    block: &mut [u8; BLOCK],
    f: std::ops::Range<usize>,
    value: &[u8],
    key: &[u8],
    records: &mut Vec<Vec<u8>>,
) {
    let room = f.len();
    let n = value.len().min(room);
    block[f.start..f.start + n].copy_from_slice(&value[..n]);
    if value.len() > room || value.contains(&0) {
        records.push(record(key, value));
    }
}

/// Put a number into its octal field, or into a PAX record when it does not fit.
fn put_num(
    block: &mut [u8; BLOCK],
    f: std::ops::Range<usize>,
    value: u64,
    key: &[u8],
    records: &mut Vec<Vec<u8>>,
) {
    if !header::put_octal(&mut block[f.clone()], value) {
        header::put_octal(&mut block[f], 0);
        records.push(record(key, value.to_string().as_bytes()));
    }
}

/// One PAX record: `"<len> <key>=<value>\n"`, where `<len>` counts the whole record.
fn record(key: &[u8], value: &[u8]) -> Vec<u8> {
    let body = key.len() + value.len() + 3; // ' ', '=', '\n'
    let mut len = body + 1;
    loop {
        let total = len.to_string().len() + body;
        if total == len {
            break;
        }
        len = total;
    }
    let mut r = Vec::with_capacity(len);
    r.extend_from_slice(len.to_string().as_bytes());
    r.push(b' ');
    r.extend_from_slice(key);
    r.push(b'=');
    r.extend_from_slice(value);
    r.push(b'\n');
    r
}

#[cfg(test)]
mod tests {
    use super::super::{TarReader, Timestamp};
    use super::*;

    fn roundtrip(entries: &[(Entry, Vec<u8>)]) {
        let mut w = TarWriter::new(Vec::new());
        for (e, data) in entries {
            w.append(e, &data[..]).unwrap();
        }
        let bytes = w.finish().unwrap();
        let mut r = TarReader::new(&bytes[..]);
        for (e, data) in entries {
            let got = r.next_entry().unwrap().expect("an entry");
            assert_eq!(&got, e);
            let mut read = Vec::new();
            loop {
                let chunk = r.data_chunk().unwrap();
                if chunk.is_empty() {
                    break;
                }
                read.extend_from_slice(chunk);
            }
            assert_eq!(&read, data);
        }
        assert!(r.next_entry().unwrap().is_none());
    }

    #[test]
    fn writer_and_reader_agree() {
        let mut file = Entry::new(EntryKind::File, "dir/file");
        file.mode = 0o4755;
        file.uid = 1000;
        file.gid = 3_000_000; // too big for octal: PAX
        file.size = 1234;
        file.mtime = Timestamp {
            secs: 1_700_000_000,
            nanos: 0,
        };
        let mut long = Entry::new(EntryKind::Symlink, vec![b'n'; 300]);
        long.link = vec![b'l'; 200];
        long.mtime = Timestamp {
            secs: -5,
            nanos: 250_000_000,
        };
        long.xattrs = vec![
            (
                b"security.capability".to_vec(),
                vec![1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0],
            ),
            (b"user.x".to_vec(), b"y".to_vec()),
        ];
        let mut dev = Entry::new(EntryKind::CharDevice, "dev/null");
        dev.dev_major = 1;
        dev.dev_minor = 3;
        dev.mode = 0o666;
        let dir = Entry::new(EntryKind::Directory, "dir/");
        roundtrip(&[
            (dir, vec![]),
            (file, (0..1234u32).map(|i| i as u8).collect()),
            (long, vec![]),
            (dev, vec![]),
        ]);
    }

    #[test]
    fn the_tar_crate_reads_our_output() {
        let mut w = TarWriter::new(Vec::new());
        let mut e = Entry::new(EntryKind::File, format!("{}/f", "d".repeat(150)));
        e.size = 3;
        e.xattrs = vec![(b"user.a".to_vec(), b"b".to_vec())];
        w.append(&e, &b"abc"[..]).unwrap();
        let bytes = w.finish().unwrap();
        let mut ar = tar::Archive::new(&bytes[..]);
        let mut entries = ar.entries().unwrap();
        let mut first = entries.next().unwrap().unwrap();
        assert_eq!(first.path_bytes().len(), 152);
        let pax: Vec<_> = first
            .pax_extensions()
            .unwrap()
            .unwrap()
            .map(|x| x.unwrap().key().unwrap().to_string())
            .collect();
        assert!(pax.contains(&"SCHILY.xattr.user.a".to_string()));
        let mut s = String::new();
        first.read_to_string(&mut s).unwrap();
        assert_eq!(s, "abc");
    }
}
