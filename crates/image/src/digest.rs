//! Content digests: the `<algorithm>:<hex>` strings that name every blob, manifest and config.
//!
//! This module owns the [`Digest`] newtype (always valid once constructed), the set of supported
//! [`Algorithm`]s (`sha256`, the default everywhere, and `sha512`, which the OCI image spec
//! registers too), and the streaming [`Digester`] that computes a digest while data flows through
//! it. Validation follows the OCI image spec's digest grammar and go-digest's checks; the error
//! messages start with go-digest's wording ("invalid checksum digest format", "unsupported digest
//! algorithm", "invalid checksum digest length") and then say what exactly is wrong.
//!
//! ```
//! use berth_image::digest::{Algorithm, Digest};
//!
//! let d = Digest::sha256_of(b"hello");
//! assert_eq!(d.algorithm(), Algorithm::Sha256);
//! assert_eq!(d.hex(), "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
//! let parsed: Digest = d.to_string().parse().unwrap();
//! assert_eq!(parsed, d);
//! assert!("sha256:ABC".parse::<Digest>().is_err());
//! ```

use std::fmt;
use std::io;
use std::str::FromStr;

use sha2::Digest as _;

use crate::error::Category;

/// A digest algorithm this crate can compute and verify.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    /// SHA-256, 64 lowercase hex characters. The default for everything Berth writes.
    Sha256,
    /// SHA-512, 128 lowercase hex characters.
    Sha512,
}

impl Algorithm {
    /// The algorithm's name as it appears before the `:` of a digest.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        }
    }

    /// How many hex characters an encoded digest of this algorithm has.
    pub fn hex_len(self) -> usize {
        match self {
            Algorithm::Sha256 => 64,
            Algorithm::Sha512 => 128,
        }
    }

    /// A fresh streaming hasher for this algorithm.
    pub fn digester(self) -> Digester {
        Digester::new(self)
    }

    fn from_name(name: &str) -> Option<Algorithm> {
        match name {
            "sha256" => Some(Algorithm::Sha256),
            "sha512" => Some(Algorithm::Sha512),
            _ => None,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a string is not a valid digest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DigestError {
    /// Not `<algorithm>:<encoded>` at all: no `:`, an empty or malformed algorithm, or an
    /// encoded part with characters other than lowercase hex.
    #[error("invalid checksum digest format: {input:?} ({reason})")]
    Format {
        /// The rejected input.
        input: String,
        /// What exactly is wrong.
        reason: &'static str,
    },
    /// Well formed, but the algorithm is neither sha256 nor sha512.
    #[error("unsupported digest algorithm: {algorithm:?} in {input:?} (supported: sha256, sha512)")]
    Unsupported {
        /// The rejected input.
        input: String,
        /// The algorithm it names.
        algorithm: String,
    },
    /// The encoded part has the wrong length for its algorithm.
    #[error(
        "invalid checksum digest length: {input:?} has {actual} hex characters, {algorithm} needs {expected}"
    )]
    Length {
        /// The rejected input.
        input: String,
        /// The algorithm it names.
        algorithm: Algorithm,
        /// The length the algorithm requires.
        expected: usize,
        /// The length found.
        actual: usize,
    },
}

impl DigestError {
    /// Every digest error is bad input.
    pub fn category(&self) -> Category {
        Category::Invalid
    }
}

/// A validated content digest, `<algorithm>:<lowercase hex>`.
///
/// Ordering and hashing follow the string form. Serialises as that string.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(String);

impl Digest {
    /// The sha256 digest of `data`.
    pub fn sha256_of(data: &[u8]) -> Digest {
        let mut d = Digester::new(Algorithm::Sha256);
        d.update(data);
        d.finalize()
    }

    /// The digest of `data` with `algorithm`.
    pub fn of(algorithm: Algorithm, data: &[u8]) -> Digest {
        let mut d = Digester::new(algorithm);
        d.update(data);
        d.finalize()
    }

    /// Builds a digest from an algorithm and its encoded (hex) part, validating the hex.
    pub fn from_parts(algorithm: Algorithm, hex: &str) -> Result<Digest, DigestError> {
        format!("{algorithm}:{hex}").parse()
    }

    /// Parses a digest; the same as `str::parse`.
    pub fn parse(s: &str) -> Result<Digest, DigestError> {
        s.parse()
    }

    /// The algorithm part.
    pub fn algorithm(&self) -> Algorithm {
        match self.0.as_bytes()[..6] {
            [b's', b'h', b'a', b'2', b'5', b'6'] => Algorithm::Sha256,
            _ => Algorithm::Sha512,
        }
    }

    /// The encoded (hex) part, after the `:`.
    pub fn hex(&self) -> &str {
        // Both supported algorithm names are 6 characters long.
        &self.0[7..]
    }

    /// The whole digest, `<algorithm>:<hex>`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Digest {
    type Err = DigestError;

    fn from_str(s: &str) -> Result<Digest, DigestError> {
        let format = |reason| DigestError::Format {
            input: s.to_string(),
            reason,
        };
        let Some((algorithm, encoded)) = s.split_once(':') else {
            return Err(format("missing ':' between algorithm and encoded part"));
        };
        if !valid_algorithm_grammar(algorithm) {
            return Err(format(
                "the algorithm must be letters and digits, starting with a letter",
            ));
        }
        let Some(alg) = Algorithm::from_name(algorithm) else {
            return Err(DigestError::Unsupported {
                input: s.to_string(),
                algorithm: algorithm.to_string(),
            });
        };
        if encoded.is_empty() {
            return Err(format("the encoded part is empty"));
        }
        if !encoded
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Err(format("the encoded part must be lowercase hex"));
        }
        if encoded.len() != alg.hex_len() {
            return Err(DigestError::Length {
                input: s.to_string(),
                algorithm: alg,
                expected: alg.hex_len(),
                actual: encoded.len(),
            });
        }
        Ok(Digest(s.to_string()))
    }
}

/// The OCI grammar of an algorithm: components `[a-z0-9]+` joined by `+._-`.
/// Uppercase is accepted here (go-digest's reference regexp allows it) so that it is reported as
/// unsupported, not as malformed.
fn valid_algorithm_grammar(alg: &str) -> bool {
    !alg.is_empty()
        && alg.split(['+', '.', '_', '-']).all(|c| {
            let mut chars = c.chars();
            matches!(chars.next(), Some(ch) if ch.is_ascii_alphabetic())
                && chars.all(|ch| ch.is_ascii_alphanumeric())
        })
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({})", self.0)
    }
}

impl AsRef<str> for Digest {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Digest, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A streaming hasher: feed bytes with [`update`](Digester::update) (or as an
/// [`io::Write`]), then [`finalize`](Digester::finalize) into a [`Digest`].
#[derive(Clone)]
pub struct Digester {
    state: DigesterState,
}

#[derive(Clone)]
enum DigesterState {
    Sha256(sha2::Sha256),
    Sha512(sha2::Sha512),
}

impl Digester {
    /// A hasher for `algorithm`.
    pub fn new(algorithm: Algorithm) -> Digester {
        let state = match algorithm {
            Algorithm::Sha256 => DigesterState::Sha256(sha2::Sha256::new()),
            Algorithm::Sha512 => DigesterState::Sha512(sha2::Sha512::new()),
        };
        Digester { state }
    }

    /// The algorithm this hasher computes.
    pub fn algorithm(&self) -> Algorithm {
        match self.state {
            DigesterState::Sha256(_) => Algorithm::Sha256,
            DigesterState::Sha512(_) => Algorithm::Sha512,
        }
    }

    /// Feeds `data`.
    pub fn update(&mut self, data: &[u8]) {
        match &mut self.state {
            DigesterState::Sha256(h) => h.update(data),
            DigesterState::Sha512(h) => h.update(data),
        }
    }

    /// The digest of everything fed so far.
    pub fn finalize(self) -> Digest {
        let (alg, bytes) = match self.state {
            DigesterState::Sha256(h) => (Algorithm::Sha256, h.finalize().to_vec()),
            DigesterState::Sha512(h) => (Algorithm::Sha512, h.finalize().to_vec()),
        };
        let mut s = String::with_capacity(7 + bytes.len() * 2);
        s.push_str(alg.as_str());
        s.push(':');
        push_hex(&mut s, &bytes);
        Digest(s)
    }
}

impl fmt::Debug for Digester {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digester({})", self.algorithm())
    }
}

impl io::Write for Digester {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn push_hex(out: &mut String, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 0xf)] as char);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY_SHA256: &str =
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn computes_known_digests() {
        assert_eq!(Digest::sha256_of(b"").as_str(), EMPTY_SHA256);
        let d512 = Digest::of(Algorithm::Sha512, b"");
        assert_eq!(
            d512.as_str(),
            "sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce\
             47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"
        );
        assert_eq!(d512.algorithm(), Algorithm::Sha512);
        assert_eq!(d512.hex().len(), 128);
    }

    #[test]
    fn streaming_equals_one_shot() {
        let mut d = Digester::new(Algorithm::Sha256);
        for chunk in b"hello world".chunks(3) {
            io::Write::write_all(&mut d, chunk).unwrap();
        }
        assert_eq!(d.finalize(), Digest::sha256_of(b"hello world"));
    }

    #[test]
    fn parses_and_displays() {
        let d: Digest = EMPTY_SHA256.parse().unwrap();
        assert_eq!(d.to_string(), EMPTY_SHA256);
        assert_eq!(d.algorithm(), Algorithm::Sha256);
        assert_eq!(d.hex(), &EMPTY_SHA256[7..]);
        assert_eq!(Digest::from_parts(Algorithm::Sha256, d.hex()).unwrap(), d);
    }

    #[test]
    fn rejects_with_a_reason() {
        let hex64 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let cases: &[(&str, &str)] = &[
            ("", "invalid checksum digest format"),
            ("sha256", "invalid checksum digest format"),
            ("sha256:", "invalid checksum digest format"),
            (":abc", "invalid checksum digest format"),
            ("1sha:abc", "invalid checksum digest format"),
            ("sha256:ABC", "invalid checksum digest format"),
            ("sha256:xyz", "invalid checksum digest format"),
            ("sha256:abc", "invalid checksum digest length"),
            (
                "md5:d41d8cd98f00b204e9800998ecf8427e",
                "unsupported digest algorithm",
            ),
            ("sha384:abc", "unsupported digest algorithm"),
        ];
        for (input, want) in cases {
            let err = input.parse::<Digest>().unwrap_err();
            assert!(
                err.to_string().starts_with(want),
                "{input:?}: got {err}, want {want}"
            );
            assert_eq!(err.category(), Category::Invalid);
        }
        let upper = format!("sha256:{}", hex64.to_uppercase());
        assert!(matches!(
            upper.parse::<Digest>(),
            Err(DigestError::Format { .. })
        ));
        let long = format!("sha256:{hex64}00");
        match long.parse::<Digest>() {
            Err(DigestError::Length {
                expected: 64,
                actual: 66,
                ..
            }) => {}
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn serde_as_string() {
        let d = Digest::sha256_of(b"x");
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(json, format!("\"{d}\""));
        let back: Digest = serde_json::from_str(&json).unwrap();
        assert_eq!(back, d);
        let err = serde_json::from_str::<Digest>("\"sha256:nothex\"").unwrap_err();
        assert!(err.to_string().contains("invalid checksum digest format"));
    }
}
