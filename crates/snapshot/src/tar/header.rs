//! The 512-byte header block: field offsets, numeric fields (octal and GNU base-256), the
//! checksum, and the USTAR/GNU/V7 format distinction.

/// The tar block size.
pub const BLOCK: usize = 512;

/// Byte ranges of the header fields.
pub mod field {
    use std::ops::Range;
    pub const NAME: Range<usize> = 0..100;
    pub const MODE: Range<usize> = 100..108;
    pub const UID: Range<usize> = 108..116;
    pub const GID: Range<usize> = 116..124;
    pub const SIZE: Range<usize> = 124..136;
    pub const MTIME: Range<usize> = 136..148;
    pub const CHKSUM: Range<usize> = 148..156;
    pub const TYPEFLAG: usize = 156;
    pub const LINKNAME: Range<usize> = 157..257;
    pub const MAGIC: Range<usize> = 257..263;
    pub const VERSION: Range<usize> = 263..265;
    pub const DEVMAJOR: Range<usize> = 329..337;
    pub const DEVMINOR: Range<usize> = 337..345;
    /// USTAR only: the path prefix.
    pub const PREFIX: Range<usize> = 345..500;
    /// GNU only: access time.
    pub const GNU_ATIME: Range<usize> = 345..357;
}

/// Which dialect a header is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Pre-POSIX: no magic.
    V7,
    /// POSIX USTAR (`ustar\0` `00`), also the base of PAX.
    Ustar,
    /// GNU (`ustar ` ` \0`).
    Gnu,
}

/// The dialect of `block`.
pub fn format(block: &[u8; BLOCK]) -> Format {
    match &block[field::MAGIC] {
        b"ustar\0" => Format::Ustar,
        b"ustar " => Format::Gnu,
        _ => Format::V7,
    }
}

/// Is every byte of the block zero (an end-of-archive marker)?
pub fn is_zero(block: &[u8; BLOCK]) -> bool {
    block.iter().all(|&b| b == 0)
}

/// Does the stored checksum match the block? Both the unsigned sum (POSIX) and the signed sum
/// (some historic writers) are accepted.
pub fn checksum_ok(block: &[u8; BLOCK]) -> bool {
    let Some(stored) = parse_octal(&block[field::CHKSUM]) else {
        return false;
    };
    let (unsigned, signed) = sums(block);
    stored == unsigned as u64 || stored as i64 == signed
}

fn sums(block: &[u8; BLOCK]) -> (u32, i64) {
    let mut unsigned = 0u32;
    let mut signed = 0i64;
    for (i, &b) in block.iter().enumerate() {
        let b = if field::CHKSUM.contains(&i) { b' ' } else { b };
        unsigned += u32::from(b);
        signed += i64::from(b as i8);
    }
    (unsigned, signed)
}

/// Compute and store the checksum of a block being written.
pub fn set_checksum(block: &mut [u8; BLOCK]) {
    let (sum, _) = sums(block);
    // Six octal digits, NUL, space: the form every tar writes.
    let digits = format!("{sum:06o}\0 ");
    block[field::CHKSUM].copy_from_slice(digits.as_bytes());
}

/// The bytes of a NUL-terminated string field, without the terminator and what follows.
pub fn cstr(f: &[u8]) -> &[u8] {
    match f.iter().position(|&b| b == 0) {
        Some(n) => &f[..n],
        None => f,
    }
}

/// A numeric field: octal digits (surrounded by spaces or NULs), or GNU base-256 when the high
/// bit of the first byte is set. `None` when malformed or negative. An all-blank field is 0.
pub fn parse_numeric(f: &[u8]) -> Option<u64> {
    match f.first() {
        Some(&b) if b & 0x80 != 0 => {
            let v = parse_base256(f)?;
            u64::try_from(v).ok()
        }
        _ => parse_octal(f),
    }
}

/// A numeric field that may be negative (times): base-256 values keep their sign.
pub fn parse_signed_numeric(f: &[u8]) -> Option<i64> {
    match f.first() {
        Some(&b) if b & 0x80 != 0 => parse_base256(f),
        _ => parse_octal(f).and_then(|v| i64::try_from(v).ok()),
    }
}

fn parse_octal(f: &[u8]) -> Option<u64> {
    let trimmed = {
        let Some(start) = f.iter().position(|&b| b != b' ' && b != 0) else {
            return Some(0);
        };
        let rest = &f[start..];
        let end = rest
            .iter()
            .position(|&b| b == b' ' || b == 0)
            .unwrap_or(rest.len());
        // Anything but blanks after the digits is malformed.
        if rest[end..].iter().any(|&b| b != b' ' && b != 0) {
            return None;
        }
        &rest[..end]
    };
    let mut v: u64 = 0;
    for &b in trimmed {
        if !(b'0'..=b'7').contains(&b) {
            return None;
        }
        v = v.checked_mul(8)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(v)
}

fn parse_base256(f: &[u8]) -> Option<i64> {
    // The first byte is 0x80 (positive) or 0xff (negative); the value is two's complement over
    // the remaining bits.
    let negative = f[0] & 0x40 != 0;
    let mut v: i128 = if negative { -1 } else { 0 };
    for (i, &b) in f.iter().enumerate() {
        let b = if i == 0 { b & 0x7f } else { b };
        let b = if i == 0 && negative { b | 0x80 } else { b };
        v = (v << 8) | i128::from(b);
        if v > i128::from(i64::MAX) || v < i128::from(i64::MIN) {
            return None;
        }
    }
    i64::try_from(v).ok()
}

/// Write `v` as zero-padded octal with a NUL terminator into `f`; false when it does not fit.
pub fn put_octal(f: &mut [u8], v: u64) -> bool {
    let width = f.len() - 1;
    let s = format!("{v:0width$o}");
    if s.len() > width {
        return false;
    }
    f[..width].copy_from_slice(s.as_bytes());
    f[width] = 0;
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn octal_fields() {
        assert_eq!(parse_numeric(b"0000644\0"), Some(0o644));
        assert_eq!(parse_numeric(b"   644 \0"), Some(0o644));
        assert_eq!(parse_numeric(b"\0\0\0\0\0\0\0\0"), Some(0));
        assert_eq!(parse_numeric(b"00006x4\0"), None);
        assert_eq!(parse_numeric(b"0006 44\0"), None);
        assert_eq!(parse_numeric(b"77777777777\0"), Some(0o77777777777));
    }

    #[test]
    fn base256_fields() {
        let mut f = [0u8; 12];
        f[0] = 0x80;
        f[11] = 0x01;
        f[10] = 0x02;
        assert_eq!(parse_numeric(&f), Some(0x0201));
        // -1 in base-256.
        let neg = [0xffu8; 12];
        assert_eq!(parse_signed_numeric(&neg), Some(-1));
        assert_eq!(parse_numeric(&neg), None);
    }

    #[test]
    fn octal_writing() {
        let mut f = [0u8; 8];
        assert!(put_octal(&mut f, 0o755));
        assert_eq!(&f, b"0000755\0");
        assert!(!put_octal(&mut f, 0o100000000));
    }
}
