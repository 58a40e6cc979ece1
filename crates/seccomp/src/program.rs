//! [`Program`]: a compiled filter as plain data, and its byte encoding.
//!
//! Encoding (all integers little-endian), written by [`Program::to_bytes`]:
//!
//! ```text
//! offset  size  field
//!      0     8  magic "BERTHBPF"
//!      8     4  format version (FORMAT_VERSION)
//!     12     4  flags: SECCOMP_FILTER_FLAG_* bits passed to seccomp(2)
//!     16     4  optional flags: subset of flags install may drop on EINVAL
//!     20     4  needs_listener: 0 or 1
//!     24     4  n: instruction count, 1..=4096
//!     28    8n  instructions: code u16, jt u8, jf u8, k u32
//!  28+8n    32  sha256 of bytes [0, 28+8n)
//! ```
//!
//! [`Program::from_bytes`] refuses anything that does not match exactly,
//! including a wrong checksum, so a truncated or corrupted cache file is
//! detected instead of being installed.

use sha2::{Digest, Sha256};

use crate::{bpf::SockFilter, filter_flags};

/// The kernel's limit on a filter's length (`BPF_MAXINSNS`).
pub const MAX_INSTRUCTIONS: usize = 4096;

const MAGIC: &[u8; 8] = b"BERTHBPF";
/// Bump when the encoding or what [`Program::compile`] emits changes: it is
/// part of the [`Cache`](crate::Cache) key, so old entries stop matching.
pub(crate) const FORMAT_VERSION: u32 = 1;
const HEADER_LEN: usize = 28;
const INSN_LEN: usize = 8;
const DIGEST_LEN: usize = 32;
/// The largest valid encoding.
pub(crate) const MAX_ENCODED_LEN: usize = HEADER_LEN + MAX_INSTRUCTIONS * INSN_LEN + DIGEST_LEN;

/// A compiled seccomp filter: the BPF instructions and the
/// `SECCOMP_FILTER_FLAG_*` bits to load it with. Plain data: it can be cloned
/// into a child, encoded with [`to_bytes`](Program::to_bytes) and installed
/// with [`install`](Program::install).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    pub(crate) filter: Vec<SockFilter>,
    pub(crate) flags: u32,
    pub(crate) optional_flags: u32,
    pub(crate) needs_listener: bool,
}

/// Bytes that are not a program encoded by this version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Shorter than the smallest valid encoding.
    #[error("seccomp program: {len} bytes is too short")]
    TooShort {
        /// Length given.
        len: usize,
    },
    /// Does not start with the magic.
    #[error("seccomp program: bad magic (not a berth seccomp program)")]
    BadMagic,
    /// Written by another format version.
    #[error("seccomp program: format version {found}, expected {FORMAT_VERSION}")]
    Version {
        /// Version found.
        found: u32,
    },
    /// Instruction count outside 1..=4096.
    #[error("seccomp program: instruction count {count} is outside 1..={MAX_INSTRUCTIONS}")]
    InstructionCount {
        /// Count found.
        count: u32,
    },
    /// Length does not match the instruction count (truncated or padded).
    #[error("seccomp program: {found} bytes, expected {expected} for its instruction count")]
    Length {
        /// Length implied by the header.
        expected: usize,
        /// Length given.
        found: usize,
    },
    /// The trailing sha256 does not match the content.
    #[error("seccomp program: checksum mismatch (corrupted)")]
    Checksum,
    /// Flag bits this crate does not know, or optional bits outside flags.
    #[error("seccomp program: invalid flags {flags:#x} (optional {optional:#x})")]
    Flags {
        /// Flags found.
        flags: u32,
        /// Optional flags found.
        optional: u32,
    },
    /// `needs_listener` is not 0/1 or disagrees with `NEW_LISTENER`.
    #[error("seccomp program: needs_listener field {value} does not match flags {flags:#x}")]
    Listener {
        /// Field found.
        value: u32,
        /// Flags found.
        flags: u32,
    },
}

impl Program {
    /// The BPF instructions, ENOSYS stub included.
    pub fn instructions(&self) -> &[SockFilter] {
        &self.filter
    }

    /// The `SECCOMP_FILTER_FLAG_*` bits [`install`](Program::install) passes.
    pub fn flags(&self) -> u32 {
        self.flags
    }

    /// Whether the profile uses `SCMP_ACT_NOTIFY`, so that
    /// [`install`](Program::install) returns a listener fd.
    pub fn needs_listener(&self) -> bool {
        self.needs_listener
    }

    /// The encoding described in the module documentation.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(HEADER_LEN + self.filter.len() * INSN_LEN + DIGEST_LEN);
        b.extend_from_slice(MAGIC);
        b.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        b.extend_from_slice(&self.flags.to_le_bytes());
        b.extend_from_slice(&self.optional_flags.to_le_bytes());
        b.extend_from_slice(&u32::from(self.needs_listener).to_le_bytes());
        // compile() never produces more than MAX_INSTRUCTIONS.
        b.extend_from_slice(&(self.filter.len() as u32).to_le_bytes());
        for i in &self.filter {
            b.extend_from_slice(&i.code.to_le_bytes());
            b.push(i.jt);
            b.push(i.jf);
            b.extend_from_slice(&i.k.to_le_bytes());
        }
        let digest = Sha256::digest(&b);
        b.extend_from_slice(&digest);
        b
    }

    /// Decodes [`to_bytes`](Program::to_bytes) output, verifying length,
    /// version, flags and checksum.
    pub fn from_bytes(b: &[u8]) -> crate::Result<Program> {
        decode(b).map_err(crate::Error::from)
    }
}

fn u32_at(b: &[u8], off: usize) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[off..off + 4]);
    u32::from_le_bytes(w)
}

pub(crate) fn decode(b: &[u8]) -> Result<Program, DecodeError> {
    if b.len() < HEADER_LEN + INSN_LEN + DIGEST_LEN {
        return Err(DecodeError::TooShort { len: b.len() });
    }
    if &b[..8] != MAGIC {
        return Err(DecodeError::BadMagic);
    }
    let version = u32_at(b, 8);
    if version != FORMAT_VERSION {
        return Err(DecodeError::Version { found: version });
    }
    let count = u32_at(b, 24);
    if count == 0 || count as usize > MAX_INSTRUCTIONS {
        return Err(DecodeError::InstructionCount { count });
    }
    let body = HEADER_LEN + count as usize * INSN_LEN;
    if b.len() != body + DIGEST_LEN {
        return Err(DecodeError::Length {
            expected: body + DIGEST_LEN,
            found: b.len(),
        });
    }
    if Sha256::digest(&b[..body]).as_slice() != &b[body..] {
        return Err(DecodeError::Checksum);
    }
    let flags = u32_at(b, 12);
    let optional = u32_at(b, 16);
    if flags & !filter_flags::KNOWN != 0 || optional & !flags != 0 {
        return Err(DecodeError::Flags { flags, optional });
    }
    let listener = u32_at(b, 20);
    let needs_listener = match listener {
        0 => false,
        1 => true,
        _ => {
            return Err(DecodeError::Listener {
                value: listener,
                flags,
            });
        }
    };
    if needs_listener != (flags & filter_flags::NEW_LISTENER != 0) {
        return Err(DecodeError::Listener {
            value: listener,
            flags,
        });
    }
    let filter = b[HEADER_LEN..body]
        .chunks_exact(INSN_LEN)
        .map(|c| SockFilter {
            code: u16::from_le_bytes([c[0], c[1]]),
            jt: c[2],
            jf: c[3],
            k: u32::from_le_bytes([c[4], c[5], c[6], c[7]]),
        })
        .collect();
    Ok(Program {
        filter,
        flags,
        optional_flags: optional,
        needs_listener,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Program {
        Program {
            filter: vec![
                SockFilter {
                    code: 0x20,
                    jt: 0,
                    jf: 0,
                    k: 4,
                },
                SockFilter {
                    code: 0x15,
                    jt: 1,
                    jf: 2,
                    k: 0xc000_003e,
                },
                SockFilter {
                    code: 0x06,
                    jt: 0,
                    jf: 0,
                    k: 0x7fff_0000,
                },
            ],
            flags: filter_flags::SPEC_ALLOW | filter_flags::NEW_LISTENER,
            optional_flags: filter_flags::SPEC_ALLOW,
            needs_listener: true,
        }
    }

    #[test]
    fn round_trips() {
        let p = sample();
        let b = p.to_bytes();
        assert_eq!(b.len(), HEADER_LEN + 3 * INSN_LEN + DIGEST_LEN);
        assert_eq!(decode(&b), Ok(p));
    }

    #[test]
    fn detects_every_single_byte_flip_and_every_truncation() {
        let b = sample().to_bytes();
        for i in 0..b.len() {
            let mut c = b.clone();
            c[i] ^= 0x01;
            assert!(decode(&c).is_err(), "flip at {i} accepted");
        }
        for n in 0..b.len() {
            assert!(decode(&b[..n]).is_err(), "truncation to {n} accepted");
        }
        let mut longer = b.clone();
        longer.push(0);
        assert!(matches!(decode(&longer), Err(DecodeError::Length { .. })));
    }

    #[test]
    fn names_the_problem() {
        let mut b = sample().to_bytes();
        b[8] = 9;
        assert_eq!(decode(&b), Err(DecodeError::Version { found: 9 }));
        assert_eq!(decode(b"nonsense"), Err(DecodeError::TooShort { len: 8 }));
        let e = crate::Error::from(DecodeError::Checksum);
        assert_eq!(e.kind(), crate::ErrorKind::Invalid);
        assert_eq!(
            e.to_string(),
            "seccomp program: checksum mismatch (corrupted)"
        );
    }
}
