//! Stream compression of layers and archives: detection by magic number (gzip, zstd, or none)
//! and streaming decompression.
//!
//! gzip goes through flate2 with the zlib-rs backend (concatenated gzip members, as `pigz`
//! writes, are read as one stream); zstd through the `zstd` crate.

use std::fmt;
use std::io::{self, Read};

/// How a byte stream is compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Compression {
    /// Not compressed.
    None,
    /// gzip (RFC 1952).
    Gzip,
    /// Zstandard (RFC 8878).
    Zstd,
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

impl Compression {
    /// The compression whose magic number starts `prefix` (give it at least 4 bytes).
    pub fn detect(prefix: &[u8]) -> Compression {
        if prefix.starts_with(&GZIP_MAGIC) {
            Compression::Gzip
        } else if prefix.starts_with(&ZSTD_MAGIC) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    /// A short name: `none`, `gzip`, `zstd`.
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }

    /// A reader of `r`'s decompressed bytes, for a stream known to use this compression.
    pub fn decoder<'a, R: Read + Send + 'a>(self, r: R) -> io::Result<Box<dyn Read + Send + 'a>> {
        Ok(match self {
            Compression::None => Box::new(r),
            Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(io::BufReader::new(r))),
            Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(r)?),
        })
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Reads the first bytes of `r` (up to 4, fewer only at end of stream) to detect its
/// compression, and returns that compression with a reader that yields the whole stream again.
pub fn sniff<'a, R: Read + Send + 'a>(
    mut r: R,
) -> io::Result<(Compression, impl Read + Send + 'a)> {
    let mut prefix = [0u8; 4];
    let mut n = 0;
    while n < prefix.len() {
        match r.read(&mut prefix[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let compression = Compression::detect(&prefix[..n]);
    Ok((compression, io::Cursor::new(prefix).take(n as u64).chain(r)))
}

/// Detects the compression of `r` by its magic number and returns a reader of the decompressed
/// bytes (the bytes themselves when the stream is not compressed), with the compression found.
pub fn decompress<'a, R: Read + Send + 'a>(
    r: R,
) -> io::Result<(Compression, Box<dyn Read + Send + 'a>)> {
    let (compression, whole) = sniff(r)?;
    Ok((compression, compression.decoder(whole)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A reader that hands out one byte per read, like a slow pipe.
    struct Trickle<'a>(&'a [u8]);
    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match (self.0.split_first(), buf.is_empty()) {
                (Some((b, rest)), false) => {
                    buf[0] = *b;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn round_trips_each_compression() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let cases = [
            (Compression::None, data.clone()),
            (Compression::Gzip, gzip(&data)),
            (Compression::Zstd, zstd::encode_all(&data[..], 3).unwrap()),
        ];
        for (want, bytes) in cases {
            let (found, mut r) = decompress(Trickle(&bytes)).unwrap();
            assert_eq!(found, want);
            let mut out = Vec::new();
            r.read_to_end(&mut out).unwrap();
            assert_eq!(out, data, "{want}");
        }
    }

    #[test]
    fn concatenated_gzip_members_read_as_one() {
        let mut bytes = gzip(b"hello ");
        bytes.extend(gzip(b"world"));
        let (_, mut r) = decompress(&bytes[..]).unwrap();
        let mut out = String::new();
        r.read_to_string(&mut out).unwrap();
        assert_eq!(out, "hello world");
    }

    #[test]
    fn short_and_empty_streams_are_plain() {
        for bytes in [&b""[..], b"a", b"\x1f"] {
            let (c, mut r) = decompress(bytes).unwrap();
            assert_eq!(c, Compression::None);
            let mut out = Vec::new();
            r.read_to_end(&mut out).unwrap();
            assert_eq!(out, bytes);
        }
    }

    #[test]
    fn corrupt_gzip_is_an_error() {
        let mut bytes = gzip(b"some data that is long enough to matter");
        let n = bytes.len();
        bytes.truncate(n - 10);
        let (_, mut r) = decompress(&bytes[..]).unwrap();
        let mut out = Vec::new();
        assert!(r.read_to_end(&mut out).is_err());
    }
}
