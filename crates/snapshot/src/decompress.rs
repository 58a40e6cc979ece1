//! Layer compression: detect gzip, zstd or an uncompressed tar by the stream's magic bytes and
//! wrap the reader in the matching decoder. The extractor itself only ever sees a plain tar.

use std::io::{self, BufReader, Read};

/// The compression of a layer blob.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// A plain tar.
    None,
    /// gzip (`1f 8b`), as in `application/vnd.oci.image.layer.v1.tar+gzip`.
    Gzip,
    /// zstd (`28 b5 2f fd`), as in `application/vnd.oci.image.layer.v1.tar+zstd`.
    Zstd,
}

impl Compression {
    /// The compression whose magic number `head` starts with; [`Compression::None`] for anything
    /// else (a tar has no magic at offset 0; a corrupt stream is then reported by the tar reader).
    pub fn detect(head: &[u8]) -> Compression {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }
}

/// Wrap `reader` in the decoder its first bytes call for (gzip, zstd, or none).
///
/// Reads the first four bytes to decide (they are not lost). A multi-member gzip stream is
/// decoded whole, as `gzip -d` does. Corrupt compressed data surfaces as an
/// `io::ErrorKind::InvalidData` error from the returned reader, and a truncated gzip stream as
/// `UnexpectedEof`; the gzip CRC and length trailer is checked when the reader reaches its end
/// (the extractor always reads to the end).
pub fn decompress<'a, R: Read + Send + 'a>(reader: R) -> io::Result<Box<dyn Read + Send + 'a>> {
    let (compression, reader) = sniff(reader)?;
    Ok(match compression {
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(
            BufReader::with_capacity(128 * 1024, reader),
        )),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(reader)?),
        Compression::None => Box::new(reader),
    })
}

/// Read the magic bytes of `reader` and return its compression together with a reader that
/// yields the whole stream again, those bytes included.
pub fn sniff<R: Read>(mut reader: R) -> io::Result<(Compression, impl Read)> {
    let mut head = [0u8; 4];
    let mut got = 0;
    while got < head.len() {
        match reader.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let compression = Compression::detect(&head[..got]);
    Ok((
        compression,
        io::Cursor::new(head).take(got as u64).chain(reader),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn roundtrip(data: &[u8], encoded: Vec<u8>, expect: Compression) {
        let (c, _) = sniff(&encoded[..]).unwrap();
        assert_eq!(c, expect);
        let mut out = Vec::new();
        decompress(&encoded[..])
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, data);
    }

    #[test]
    fn detects_and_decodes_each_kind() {
        let data: Vec<u8> = (0..100_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        roundtrip(&data, data.clone(), Compression::None);

        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&data).unwrap();
        roundtrip(&data, gz.finish().unwrap(), Compression::Gzip);

        roundtrip(
            &data,
            zstd::encode_all(&data[..], 1).unwrap(),
            Compression::Zstd,
        );
    }

    #[test]
    fn short_and_empty_streams_are_plain() {
        roundtrip(b"", Vec::new(), Compression::None);
        roundtrip(b"ab", b"ab".to_vec(), Compression::None);
        // A stream that is only the gzip magic is a truncated gzip stream.
        let mut out = Vec::new();
        let err = decompress(&[0x1f, 0x8b][..])
            .unwrap()
            .read_to_end(&mut out)
            .unwrap_err();
        assert!(matches!(
            err.kind(),
            io::ErrorKind::UnexpectedEof | io::ErrorKind::InvalidData
        ));
    }

    #[test]
    fn truncated_gzip_is_an_error() {
        let data = vec![7u8; 200_000];
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&data).unwrap();
        let enc = gz.finish().unwrap();
        let mut out = Vec::new();
        let r = decompress(&enc[..enc.len() - 6])
            .unwrap()
            .read_to_end(&mut out);
        assert!(r.is_err(), "a gzip stream without its trailer must fail");
    }
}
