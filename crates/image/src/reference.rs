//! Image references: Docker's grammar and normalisation (distribution/reference's
//! `ParseNormalizedNamed`), and the short "familiar" form Docker shows to users.
//!
//! ```text
//! reference        := name [ ":" tag ] [ "@" digest ]
//! name             := domain "/" path                    (after normalisation, always)
//! domain           := host [ ":" port ]
//! host             := domain-name | "[" ipv6 "]"
//! domain-name      := component ( "." component )*       component: [a-zA-Z0-9] or
//!                                                          [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
//! path             := path-component ( "/" path-component )*
//! path-component   := [a-z0-9]+ ( separator [a-z0-9]+ )*
//! separator        := "." | "_" | "__" | "-"+
//! tag              := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
//! digest           := see crate::digest (sha256 or sha512)
//! ```
//! The whole name (domain included) is at most 255 characters.
//!
//! Normalisation ([`Reference::parse`]): the first `/`-separated element is the domain when it is
//! `localhost`, contains a `.` or a `:`, or has an uppercase letter; otherwise the domain is
//! `docker.io`. `index.docker.io` becomes `docker.io`, and a one-element path on `docker.io` gets
//! the `library/` prefix. So `busybox` → `docker.io/library/busybox` and, with
//! [`Reference::tag_or_latest`], `docker.io/library/busybox:latest`.
//!
//! One deliberate difference from Go: when the first element looks like a domain but is not a
//! valid one (`foo_bar.com/x`), Go silently falls back to a reference *without* a domain; Berth
//! refuses it as "invalid reference format", since every reference here has a domain.
//!
//! ```
//! use berth_image::reference::Reference;
//!
//! let r = Reference::parse("busybox").unwrap();
//! assert_eq!(r.to_string(), "docker.io/library/busybox");
//! assert_eq!(r.tag_or_latest().to_string(), "docker.io/library/busybox:latest");
//! assert_eq!(r.tag_or_latest().familiar(), "busybox:latest");
//!
//! let r = Reference::parse("localhost:5000/a/b:v1").unwrap();
//! assert_eq!((r.domain.as_str(), r.path.as_str(), r.tag.as_deref()), ("localhost:5000", "a/b", Some("v1")));
//! assert_eq!(r.repository(), "localhost:5000/a/b");
//!
//! let err = Reference::parse("Busybox").unwrap_err();
//! assert_eq!(err.to_string(), "invalid reference format: repository name (library/Busybox) must be lowercase");
//! ```

use std::fmt;
use std::str::FromStr;

use crate::digest::{Digest, DigestError};
use crate::error::Category;

/// The registry of Docker Hub images as references spell it.
pub const DEFAULT_DOMAIN: &str = "docker.io";
/// The legacy name of Docker Hub, normalised to [`DEFAULT_DOMAIN`].
pub const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
/// The namespace of Docker Hub's official images.
pub const OFFICIAL_REPO_PREFIX: &str = "library/";
/// The tag used when a reference has neither tag nor digest.
pub const DEFAULT_TAG: &str = "latest";
/// The longest a name (domain and path) may be.
pub const NAME_TOTAL_LENGTH_MAX: usize = 255;

/// Why a string is not a valid reference. The messages are Docker's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReferenceError {
    /// The string does not follow the reference grammar.
    #[error("invalid reference format")]
    InvalidFormat {
        /// The rejected input.
        input: String,
    },
    /// The repository path has uppercase letters.
    #[error("invalid reference format: repository name ({name}) must be lowercase")]
    Uppercase {
        /// The repository path as normalised (`library/Busybox`).
        name: String,
    },
    /// The name is longer than 255 characters.
    #[error("repository name must not be more than {NAME_TOTAL_LENGTH_MAX} characters")]
    NameTooLong {
        /// The normalised name.
        name: String,
    },
    /// The input is a bare 64-hex identifier, which could be an image ID.
    #[error("invalid repository name ({input}), cannot specify 64-byte hexadecimal strings")]
    HexIdentifier {
        /// The rejected input.
        input: String,
    },
    /// A tag given separately (to [`Reference::with_tag`]) is malformed.
    #[error("invalid tag format")]
    InvalidTag {
        /// The rejected tag.
        tag: String,
    },
    /// The digest part is well formed but not a valid digest.
    #[error(transparent)]
    Digest(#[from] DigestError),
}

impl ReferenceError {
    /// Every reference error is bad input.
    pub fn category(&self) -> Category {
        Category::Invalid
    }
}

/// A normalised image reference: always a domain and a path, optionally a tag and a digest.
///
/// The fields are public for reading; build values with [`Reference::parse`],
/// [`Reference::with_tag`] and [`Reference::with_digest`] so that they stay valid.
/// `Display` (and serde) give the full form, `docker.io/library/busybox:latest`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    /// The registry: `docker.io`, `localhost:5000`, `[::1]:5000`.
    pub domain: String,
    /// The repository path inside the registry: `library/busybox`, `a/b`.
    pub path: String,
    /// The tag, if one was given.
    pub tag: Option<String>,
    /// The digest, if one was given.
    pub digest: Option<Digest>,
}

impl Reference {
    /// Parses and normalises a reference the way `docker` does (`ParseNormalizedNamed`).
    /// A missing tag stays missing: use [`tag_or_latest`](Reference::tag_or_latest) for
    /// Docker's implicit `:latest`.
    pub fn parse(s: &str) -> Result<Reference, ReferenceError> {
        if s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(ReferenceError::HexIdentifier {
                input: s.to_string(),
            });
        }
        let (domain, remainder) = split_docker_domain(s);
        let remote = remainder.split(':').next().unwrap_or(&remainder);
        if remote.to_lowercase() != remote {
            return Err(ReferenceError::Uppercase {
                name: remote.to_string(),
            });
        }
        let full = format!("{domain}/{remainder}");
        match parse_full(&full) {
            Err(ReferenceError::InvalidFormat { .. })
                if parse_full(&full.to_lowercase()).is_ok() =>
            {
                Err(ReferenceError::Uppercase {
                    name: remote.to_string(),
                })
            }
            Err(ReferenceError::InvalidFormat { .. }) => Err(ReferenceError::InvalidFormat {
                input: s.to_string(),
            }),
            other => other,
        }
    }

    /// `domain/path`, the repository without tag or digest: `docker.io/library/busybox`.
    pub fn repository(&self) -> String {
        format!("{}/{}", self.domain, self.path)
    }

    /// The repository as Docker shows it: `busybox`, `user/app`, `localhost:5000/a/b`.
    pub fn familiar_name(&self) -> String {
        if self.domain == DEFAULT_DOMAIN {
            if let Some(rest) = self.path.strip_prefix(OFFICIAL_REPO_PREFIX)
                && !rest.contains('/')
            {
                return rest.to_string();
            }
            return self.path.clone();
        }
        self.repository()
    }

    /// The whole reference as Docker shows it: `busybox:latest`, `localhost:5000/a/b`,
    /// `busybox:1@sha256:…`.
    pub fn familiar(&self) -> String {
        let mut s = self.familiar_name();
        self.push_suffix(&mut s);
        s
    }

    /// The same repository with `tag` (keeps the digest, as distribution's `WithTag`).
    pub fn with_tag(&self, tag: &str) -> Result<Reference, ReferenceError> {
        if !valid_tag(tag) {
            return Err(ReferenceError::InvalidTag {
                tag: tag.to_string(),
            });
        }
        Ok(Reference {
            tag: Some(tag.to_string()),
            ..self.clone()
        })
    }

    /// The same repository with `digest` (keeps the tag).
    pub fn with_digest(&self, digest: Digest) -> Reference {
        Reference {
            digest: Some(digest),
            ..self.clone()
        }
    }

    /// The repository alone, without tag and digest.
    pub fn without_tag_or_digest(&self) -> Reference {
        Reference {
            tag: None,
            digest: None,
            ..self.clone()
        }
    }

    /// Adds `:latest` when the reference has neither tag nor digest (distribution's
    /// `TagNameOnly`); otherwise returns it unchanged.
    pub fn tag_or_latest(&self) -> Reference {
        if self.tag.is_none() && self.digest.is_none() {
            Reference {
                tag: Some(DEFAULT_TAG.to_string()),
                ..self.clone()
            }
        } else {
            self.clone()
        }
    }

    /// What `docker pull` resolves: the digest alone when there is one (a tag next to a digest
    /// is ignored, as distribution's `ParseDockerRef`), else the tag or `latest`.
    pub fn docker_ref(&self) -> Reference {
        if self.digest.is_some() {
            Reference {
                tag: None,
                ..self.clone()
            }
        } else {
            self.tag_or_latest()
        }
    }

    fn push_suffix(&self, s: &mut String) {
        if let Some(tag) = &self.tag {
            s.push(':');
            s.push_str(tag);
        }
        if let Some(digest) = &self.digest {
            s.push('@');
            s.push_str(digest.as_str());
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = self.repository();
        self.push_suffix(&mut s);
        f.write_str(&s)
    }
}

impl fmt::Debug for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Reference({self})")
    }
}

impl FromStr for Reference {
    type Err = ReferenceError;

    fn from_str(s: &str) -> Result<Reference, ReferenceError> {
        Reference::parse(s)
    }
}

impl serde::Serialize for Reference {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Reference {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Reference, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Reference::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// distribution's `splitDockerDomain`: decide whether the first element is a registry.
fn split_docker_domain(name: &str) -> (String, String) {
    let (domain, mut remainder) = match name.split_once('/') {
        None => (DEFAULT_DOMAIN.to_string(), name.to_string()),
        Some((first, rest)) => {
            if first == "localhost" {
                (first.to_string(), rest.to_string())
            } else if first == LEGACY_DEFAULT_DOMAIN {
                (DEFAULT_DOMAIN.to_string(), rest.to_string())
            } else if first.contains(['.', ':']) || first.to_lowercase() != first {
                (first.to_string(), rest.to_string())
            } else {
                (DEFAULT_DOMAIN.to_string(), name.to_string())
            }
        }
    };
    if domain == DEFAULT_DOMAIN && !remainder.contains('/') {
        remainder = format!("{OFFICIAL_REPO_PREFIX}{remainder}");
    }
    (domain, remainder)
}

/// Parses `domain/path[:tag][@digest]` where the first element must be the domain.
fn parse_full(s: &str) -> Result<Reference, ReferenceError> {
    let invalid = || ReferenceError::InvalidFormat {
        input: s.to_string(),
    };
    let (name_tag, digest) = match s.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (s, None),
    };
    let (name, tag) = match name_tag.rfind(':') {
        Some(i) if !name_tag[i..].contains('/') => (&name_tag[..i], Some(&name_tag[i + 1..])),
        _ => (name_tag, None),
    };
    let (domain, path) = name.split_once('/').ok_or_else(invalid)?;
    if !valid_domain(domain) || !path.split('/').all(valid_path_component) {
        return Err(invalid());
    }
    if let Some(tag) = tag
        && !valid_tag(tag)
    {
        return Err(invalid());
    }
    if let Some(d) = digest
        && !valid_digest_grammar(d)
    {
        return Err(invalid());
    }
    if name.len() > NAME_TOTAL_LENGTH_MAX {
        return Err(ReferenceError::NameTooLong {
            name: name.to_string(),
        });
    }
    let digest = digest.map(Digest::parse).transpose()?;
    Ok(Reference {
        domain: domain.to_string(),
        path: path.to_string(),
        tag: tag.map(str::to_string),
        digest,
    })
}

/// `[a-z0-9]+ ( ("." | "_" | "__" | "-"+) [a-z0-9]+ )*`
fn valid_path_component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    let mut i = 0;
    loop {
        let start = i;
        while i < b.len() && alnum(b[i]) {
            i += 1;
        }
        if i == start {
            return false;
        }
        if i == b.len() {
            return true;
        }
        match b[i] {
            b'.' => i += 1,
            b'_' => {
                i += 1;
                if i < b.len() && b[i] == b'_' {
                    i += 1;
                }
            }
            b'-' => {
                while i < b.len() && b[i] == b'-' {
                    i += 1;
                }
            }
            _ => return false,
        }
    }
}

/// `host [":" port]`, host a domain name (or dotted IPv4) or a bracketed IPv6 address.
fn valid_domain(d: &str) -> bool {
    let (host, port) = if let Some(rest) = d.strip_prefix('[') {
        let Some((inside, after)) = rest.split_once(']') else {
            return false;
        };
        if inside.is_empty() || !inside.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
            return false;
        }
        match after {
            "" => return true,
            _ => match after.strip_prefix(':') {
                Some(port) => ("", Some(port)),
                None => return false,
            },
        }
    } else {
        match d.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (d, None),
        }
    };
    if let Some(port) = port
        && (port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()))
    {
        return false;
    }
    if d.starts_with('[') {
        return true;
    }
    !host.is_empty()
        && host.split('.').all(|c| {
            let b = c.as_bytes();
            !b.is_empty()
                && b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
                && b.iter().all(|&x| x.is_ascii_alphanumeric() || x == b'-')
        })
}

/// `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`
fn valid_tag(t: &str) -> bool {
    let b = t.as_bytes();
    let word = |x: u8| x.is_ascii_alphanumeric() || x == b'_';
    !b.is_empty()
        && b.len() <= 128
        && word(b[0])
        && b[1..].iter().all(|&x| word(x) || x == b'.' || x == b'-')
}

/// distribution's loose digest pattern: `[A-Za-z][A-Za-z0-9]*([-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}`.
/// What passes is then checked strictly by [`Digest::parse`].
fn valid_digest_grammar(d: &str) -> bool {
    let Some((alg, hex)) = d.split_once(':') else {
        return false;
    };
    let alg_ok = alg.split(['-', '_', '+', '.']).all(|c| {
        let b = c.as_bytes();
        !b.is_empty() && b[0].is_ascii_alphabetic() && b.iter().all(u8::is_ascii_alphanumeric)
    });
    alg_ok && hex.len() >= 32 && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";

    fn parsed(s: &str) -> Reference {
        Reference::parse(s).unwrap_or_else(|e| panic!("{s:?} should parse: {e}"))
    }

    /// distribution/reference normalize_test.go: TestValidateReferenceName and
    /// TestValidateRemoteName.
    #[test]
    fn valid_and_invalid_names() {
        let valid = [
            "docker/docker",
            "library/debian",
            "debian",
            "docker.io/docker/docker",
            "docker.io/library/debian",
            "docker.io/debian",
            "index.docker.io/docker/docker",
            "index.docker.io/library/debian",
            "index.docker.io/debian",
            "127.0.0.1:5000/docker/docker",
            "127.0.0.1:5000/library/debian",
            "127.0.0.1:5000/debian",
            "192.168.0.1",
            "192.168.0.1:80",
            "192.168.0.1:8/debian",
            "192.168.0.2:25000/debian",
            "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
            "[fc00::1]:5000/docker",
            "[fc00::1]:5000/docker/docker",
            "[fc00:1:2:3:4:5:6:7]:5000/library/debian",
            "docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
            "Docker/docker",
            "DOCKER/docker",
            "docker-rules/docker",
            "docker---rules/docker",
            "doc/docker",
            "d/docker",
            "jess/t",
            "dock__er/docker",
        ];
        for name in valid {
            parsed(name);
        }
        let invalid = [
            "",
            "https://github.com/docker/docker",
            "docker/Docker",
            "-docker",
            "-docker/docker",
            "-docker.io/docker/docker",
            "docker///docker",
            "docker.io/docker/Docker",
            "docker.io/docker///docker",
            "[fc00::1]",
            "[fc00::1]:5000",
            "fc00::1:5000/debian",
            "[fe80::1%eth0]:5000/debian",
            "[2001:db8:3:4::192.0.2.33]:5000/debian",
            "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
            "docker-/docker",
            "-docker-/docker",
            "____/____",
            "_docker/_docker",
            "dock..er/docker",
            "dock_.er/docker",
            "dock-.er/docker",
            "dock___er/docker",
            "docker/",
            ":justtag",
            "@sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
            "aa/asdf$$^/aa",
            "busybox:",
            "busybox@",
            "busybox:-tag",
            "busybox:tag:tag",
            "busy box",
            "foo_bar.com/x",
        ];
        for name in invalid {
            assert!(
                Reference::parse(name).is_err(),
                "{name:?} should be invalid, got {:?}",
                Reference::parse(name)
            );
        }
        let long_namespace = format!("{}/docker", "a_b".repeat(90));
        assert!(matches!(
            Reference::parse(&long_namespace),
            Err(ReferenceError::NameTooLong { .. })
        ));
    }

    /// normalize_test.go TestParseRepositoryInfo: familiar, full, and ambiguous spellings.
    #[test]
    fn repository_info() {
        // (path, familiar, full, ambiguous, domain)
        let cases = [
            (
                "fooo/bar",
                "fooo/bar",
                "docker.io/fooo/bar",
                "index.docker.io/fooo/bar",
                "docker.io",
            ),
            (
                "library/ubuntu",
                "ubuntu",
                "docker.io/library/ubuntu",
                "library/ubuntu",
                "docker.io",
            ),
            (
                "nonlibrary/ubuntu",
                "nonlibrary/ubuntu",
                "docker.io/nonlibrary/ubuntu",
                "",
                "docker.io",
            ),
            (
                "other/library",
                "other/library",
                "docker.io/other/library",
                "",
                "docker.io",
            ),
            (
                "private/moonbase",
                "127.0.0.1:8000/private/moonbase",
                "127.0.0.1:8000/private/moonbase",
                "",
                "127.0.0.1:8000",
            ),
            (
                "privatebase",
                "example.com:8000/privatebase",
                "example.com:8000/privatebase",
                "",
                "example.com:8000",
            ),
            (
                "library/ubuntu-12.04-base",
                "ubuntu-12.04-base",
                "docker.io/library/ubuntu-12.04-base",
                "index.docker.io/library/ubuntu-12.04-base",
                "docker.io",
            ),
            (
                "library/foo",
                "foo",
                "docker.io/library/foo",
                "docker.io/foo",
                "docker.io",
            ),
            (
                "library/foo/bar",
                "library/foo/bar",
                "docker.io/library/foo/bar",
                "",
                "docker.io",
            ),
            (
                "store/foo/bar",
                "store/foo/bar",
                "docker.io/store/foo/bar",
                "",
                "docker.io",
            ),
            ("bar", "Foo/bar", "Foo/bar", "", "Foo"),
            ("bar", "FOO/bar", "FOO/bar", "", "FOO"),
        ];
        for (path, familiar, full, ambiguous, domain) in cases {
            let mut spellings = vec![familiar, full];
            if !ambiguous.is_empty() {
                spellings.push(ambiguous);
            }
            for s in spellings {
                let r = parsed(s);
                assert_eq!(r.path, path, "{s}");
                assert_eq!(r.domain, domain, "{s}");
                assert_eq!(r.familiar_name(), familiar, "{s}");
                assert_eq!(r.to_string(), full, "{s}");
            }
        }
    }

    /// normalize_test.go TestNormalizedSplitHostname.
    #[test]
    fn domain_split() {
        let cases = [
            ("test.com/foo", "test.com", "foo"),
            ("test_com/foo", "docker.io", "test_com/foo"),
            ("docker/migrator", "docker.io", "docker/migrator"),
            ("test.com:8080/foo", "test.com:8080", "foo"),
            ("test-com:8080/foo", "test-com:8080", "foo"),
            ("foo", "docker.io", "library/foo"),
            ("xn--n3h.com/foo", "xn--n3h.com", "foo"),
            ("xn--n3h.com:18080/foo", "xn--n3h.com:18080", "foo"),
            ("docker.io/foo", "docker.io", "library/foo"),
            ("docker.io/library/foo", "docker.io", "library/foo"),
            ("docker.io/library/foo/bar", "docker.io", "library/foo/bar"),
            ("localhost/foo", "localhost", "foo"),
            ("localhost:5000/a/b", "localhost:5000", "a/b"),
            ("[::1]:5000/repo", "[::1]:5000", "repo"),
            ("[2001:db8::1]/repo", "[2001:db8::1]", "repo"),
        ];
        for (input, domain, path) in cases {
            let r = parsed(input);
            assert_eq!(
                (r.domain.as_str(), r.path.as_str()),
                (domain, path),
                "{input}"
            );
        }
    }

    /// reference_test.go TestReferenceParse, the cases that stay meaningful after
    /// normalisation (inputs with an explicit domain), plus tags and digests.
    #[test]
    fn tags_and_digests() {
        // (input, full, tag, digest)
        let cases = [
            ("test.com/repo:tag", "test.com/repo", Some("tag"), None),
            ("test:5000/repo", "test:5000/repo", None, None),
            ("test:5000/repo:tag", "test:5000/repo", Some("tag"), None),
            (
                "test:5000/repo@sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
                "test:5000/repo",
                None,
                Some(SHA),
            ),
            (
                "test:5000/repo:tag@sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
                "test:5000/repo",
                Some("tag"),
                Some(SHA),
            ),
            (
                "lowercase:Uppercase",
                "docker.io/library/lowercase",
                Some("Uppercase"),
                None,
            ),
            (
                "test.com:5000",
                "docker.io/library/test.com",
                Some("5000"),
                None,
            ),
            (
                "192.168.1.1:5000",
                "docker.io/library/192.168.1.1",
                Some("5000"),
                None,
            ),
            (
                "192.168.1.1:5000/repo:5050",
                "192.168.1.1:5000/repo",
                Some("5050"),
                None,
            ),
            (
                "foo/foo_bar.com:8080",
                "docker.io/foo/foo_bar.com",
                Some("8080"),
                None,
            ),
            (
                "sub-dom1.foo.com/bar/baz/quux:some-long-tag",
                "sub-dom1.foo.com/bar/baz/quux",
                Some("some-long-tag"),
                None,
            ),
            (
                "b.gcr.io/test.example.com/my-app:test.example.com",
                "b.gcr.io/test.example.com/my-app",
                Some("test.example.com"),
                None,
            ),
            (
                "[2001:db8::1]:5000/repo:tag@sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
                "[2001:db8::1]:5000/repo",
                Some("tag"),
                Some(SHA),
            ),
            (
                "busybox:_tag",
                "docker.io/library/busybox",
                Some("_tag"),
                None,
            ),
        ];
        for (input, full, tag, digest) in cases {
            let r = parsed(input);
            assert_eq!(r.repository(), full, "{input}");
            assert_eq!(r.tag.as_deref(), tag, "{input}");
            assert_eq!(r.digest.as_ref().map(Digest::as_str), digest, "{input}");
        }
        let sha512 = format!("sha512:{}", "f".repeat(128));
        let r = parsed(&format!("xn--7o8h.com/myimage:xn--7o8h.com@{sha512}"));
        assert_eq!(r.digest.unwrap().as_str(), sha512);

        let max_tag = "t".repeat(128);
        assert_eq!(parsed(&format!("busybox:{max_tag}")).tag.unwrap(), max_tag);
        assert!(Reference::parse(&format!("busybox:{max_tag}t")).is_err());
    }

    #[test]
    fn name_length_limit() {
        // 255 characters of name are fine, 256 are not (the domain counts).
        let path = format!("{}a", "a/".repeat(122)); // 245 characters
        let too_long = format!("test.com:1/{path}");
        assert_eq!(too_long.len(), 256);
        assert!(matches!(
            Reference::parse(&too_long),
            Err(ReferenceError::NameTooLong { .. })
        ));
        let ok = format!("test.com/{path}");
        assert_eq!(ok.len(), 254);
        parsed(&ok);
        // reference_test.go: a tag does not count towards the limit.
        let r = parsed(&format!("a.b/{}a:tag-puts-this-over-max", "a/".repeat(124)));
        assert_eq!(r.tag.as_deref(), Some("tag-puts-this-over-max"));
    }

    #[test]
    fn docker_error_messages() {
        let cases = [
            ("", "invalid reference format"),
            (
                "Busybox",
                "invalid reference format: repository name (library/Busybox) must be lowercase",
            ),
            (
                "test:5000/Uppercase/lowercase:tag",
                "invalid reference format: repository name (Uppercase/lowercase) must be lowercase",
            ),
            ("aa/asdf$$^/aa", "invalid reference format"),
            (
                "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
                "invalid repository name (1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a), cannot specify 64-byte hexadecimal strings",
            ),
        ];
        for (input, want) in cases {
            let err = Reference::parse(input).unwrap_err();
            assert_eq!(err.to_string(), want, "{input:?}");
            assert_eq!(err.category(), Category::Invalid);
        }
        // Digest problems come from the digest module (go-digest's wording first).
        let err = Reference::parse("repo@sha256:ffffffffffffffffffffffffffffffffff").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("invalid checksum digest length"),
            "{err}"
        );
        let err = Reference::parse(
            "validname@invaliddigest:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        )
        .unwrap_err();
        assert!(
            err.to_string().starts_with("unsupported digest algorithm"),
            "{err}"
        );
        let err = Reference::parse(&format!("repo@sha256:{}", "F".repeat(64))).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("invalid checksum digest format"),
            "{err}"
        );
    }

    #[test]
    fn familiar_forms() {
        let cases = [
            ("busybox", "busybox"),
            ("busybox:latest", "busybox:latest"),
            ("docker.io/library/busybox:1.36", "busybox:1.36"),
            ("index.docker.io/user/app:v1", "user/app:v1"),
            ("localhost:5000/a/b", "localhost:5000/a/b"),
            ("ghcr.io/o/r:t", "ghcr.io/o/r:t"),
            (
                "busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa",
                "busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa",
            ),
        ];
        for (input, familiar) in cases {
            assert_eq!(parsed(input).familiar(), familiar, "{input}");
        }
    }

    #[test]
    fn builders() {
        let r = parsed("busybox");
        assert_eq!(
            r.tag_or_latest().to_string(),
            "docker.io/library/busybox:latest"
        );
        let tagged = r.with_tag("1.36").unwrap();
        assert_eq!(tagged.to_string(), "docker.io/library/busybox:1.36");
        assert_eq!(tagged.tag_or_latest(), tagged);
        assert!(matches!(
            r.with_tag("-foo"),
            Err(ReferenceError::InvalidTag { .. })
        ));
        assert_eq!(
            r.with_tag("-foo").unwrap_err().to_string(),
            "invalid tag format"
        );
        let d: Digest = SHA.parse().unwrap();
        let both = tagged.with_digest(d.clone());
        assert_eq!(
            both.to_string(),
            format!("docker.io/library/busybox:1.36@{SHA}")
        );
        // A digest alone gets no implicit tag; docker_ref drops a tag next to a digest.
        assert_eq!(r.with_digest(d.clone()).tag_or_latest().tag, None);
        assert_eq!(
            both.docker_ref().to_string(),
            format!("docker.io/library/busybox@{SHA}")
        );
        assert_eq!(r.docker_ref().tag.as_deref(), Some("latest"));
        assert_eq!(both.without_tag_or_digest(), r);
    }

    #[test]
    fn display_parse_round_trip_and_serde() {
        for s in [
            "docker.io/library/busybox:latest",
            "localhost:5000/a/b",
            "[::1]:5000/repo:tag",
            "Foo/bar",
        ] {
            let r = parsed(s);
            assert_eq!(r.to_string(), s);
            assert_eq!(parsed(&r.to_string()), r);
            let json = serde_json::to_string(&r).unwrap();
            assert_eq!(json, format!("\"{s}\""));
            assert_eq!(serde_json::from_str::<Reference>(&json).unwrap(), r);
        }
        assert!(serde_json::from_str::<Reference>("\"UPPER\"").is_err());
    }

    #[test]
    fn path_component_grammar() {
        for ok in [
            "a", "a.b", "a_b", "a__b", "a-b", "a---b", "a.b_c-d", "0", "a1",
        ] {
            assert!(valid_path_component(ok), "{ok}");
        }
        for bad in [
            "", "A", "a.", ".a", "a..b", "a___b", "a_.b", "a.-b", "a-", "_a", "a b",
        ] {
            assert!(!valid_path_component(bad), "{bad}");
        }
    }
}
