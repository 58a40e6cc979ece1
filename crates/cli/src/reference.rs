//! Image references as the docker CLI parses them before calling the API
//! (distribution/reference's `ParseNormalizedNamed`): `busybox` is
//! `docker.io/library/busybox`, a tag defaults to `latest`, digests are
//! `algorithm:hex`, names are lowercase path components under an optional
//! registry domain. The CLI needs this for pull/push/tag arguments, the
//! registry a credential belongs to, and the familiar names `images`
//! prints. The daemon keeps its own, authoritative parser.

/// docker's default registry domain.
pub const DEFAULT_DOMAIN: &str = "docker.io";
const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
const OFFICIAL_PREFIX: &str = "library/";
const NAME_MAX: usize = 255;

/// A reference that does not parse (distribution/reference's messages).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    /// Anything malformed.
    #[error("invalid reference format")]
    Format,
    /// Upper-case letters in the repository part.
    #[error("invalid reference format: repository name ({0}) must be lowercase")]
    Uppercase(String),
    /// Empty name.
    #[error("repository name must have at least one component")]
    Empty,
    /// Longer than 255 characters.
    #[error("repository name must not be more than {NAME_MAX} characters")]
    TooLong,
    /// A bad tag.
    #[error("invalid tag format")]
    Tag,
    /// A bad digest.
    #[error("invalid digest format")]
    Digest,
    /// A 64-character hex string where a name is expected.
    #[error("invalid repository name ({0}), cannot specify 64-byte hexadecimal strings")]
    HexName(String),
}

/// A normalized named reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// Registry domain (`docker.io`, `localhost:5000`).
    pub domain: String,
    /// Repository path (`library/busybox`).
    pub path: String,
    /// Tag, if given.
    pub tag: Option<String>,
    /// Digest, if given.
    pub digest: Option<String>,
}

impl Reference {
    /// `ParseNormalizedNamed`.
    pub fn parse_normalized(s: &str) -> Result<Reference, ReferenceError> {
        if s.len() == 64
            && s.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        {
            return Err(ReferenceError::HexName(s.to_string()));
        }
        let (domain, remainder) = split_docker_domain(s);
        let remote_name = remainder.split(':').next().unwrap_or(&remainder);
        if remote_name.to_lowercase() != remote_name {
            return Err(ReferenceError::Uppercase(remote_name.to_string()));
        }
        parse(&format!("{domain}/{remainder}"))
    }

    /// `domain/path`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.domain, self.path)
    }

    /// The name as users write it (`busybox`, `me/app`, `localhost:5000/x`).
    pub fn familiar_name(&self) -> String {
        if self.domain == DEFAULT_DOMAIN {
            self.path
                .strip_prefix(OFFICIAL_PREFIX)
                .filter(|rest| !rest.contains('/'))
                .unwrap_or(&self.path)
                .to_string()
        } else {
            self.name()
        }
    }

    /// The full string (`docker.io/library/busybox:latest`).
    pub fn full(&self) -> String {
        self.with_suffix(self.name())
    }

    /// The familiar string (`busybox:latest`).
    pub fn familiar(&self) -> String {
        self.with_suffix(self.familiar_name())
    }

    fn with_suffix(&self, mut s: String) -> String {
        if let Some(t) = &self.tag {
            s.push(':');
            s.push_str(t);
        }
        if let Some(d) = &self.digest {
            s.push('@');
            s.push_str(d);
        }
        s
    }

    /// Neither tag nor digest.
    pub fn is_name_only(&self) -> bool {
        self.tag.is_none() && self.digest.is_none()
    }

    /// `TagNameOnly`: add `latest` to a bare name.
    pub fn with_default_tag(mut self) -> Reference {
        if self.is_name_only() {
            self.tag = Some("latest".into());
        }
        self
    }
}

/// `splitDockerDomain`.
fn split_docker_domain(name: &str) -> (String, String) {
    let (mut domain, mut remainder) = match name.find('/') {
        Some(i) => {
            let first = &name[..i];
            if !first.contains(['.', ':']) && first != "localhost" && first.to_lowercase() == first
            {
                (DEFAULT_DOMAIN.to_string(), name.to_string())
            } else {
                (first.to_string(), name[i + 1..].to_string())
            }
        }
        None => (DEFAULT_DOMAIN.to_string(), name.to_string()),
    };
    if domain == LEGACY_DEFAULT_DOMAIN {
        domain = DEFAULT_DOMAIN.to_string();
    }
    if domain == DEFAULT_DOMAIN && !remainder.contains('/') {
        remainder = format!("{OFFICIAL_PREFIX}{remainder}");
    }
    (domain, remainder)
}

/// `reference.Parse` of `domain/remainder`.
fn parse(s: &str) -> Result<Reference, ReferenceError> {
    if s.is_empty() {
        return Err(ReferenceError::Empty);
    }
    let (rest, digest) = match s.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (s, None),
    };
    if let Some(d) = digest
        && !valid_digest(d)
    {
        return Err(ReferenceError::Format);
    }
    // a tag is after the last ':' when no '/' follows it
    let (name, tag) = match rest.rfind(':') {
        Some(i) if !rest[i..].contains('/') => (&rest[..i], Some(&rest[i + 1..])),
        _ => (rest, None),
    };
    if let Some(t) = tag
        && !valid_tag(t)
    {
        return Err(ReferenceError::Format);
    }
    let (domain, path) = name.split_once('/').ok_or(ReferenceError::Format)?;
    if !valid_domain(domain) {
        return Err(ReferenceError::Format);
    }
    if path.is_empty() || !path.split('/').all(valid_path_component) {
        if path
            .split('/')
            .all(|c| valid_path_component(&c.to_lowercase()))
            && !path.is_empty()
        {
            return Err(ReferenceError::Uppercase(path.to_string()));
        }
        return Err(ReferenceError::Format);
    }
    if name.len() > NAME_MAX {
        return Err(ReferenceError::TooLong);
    }
    Ok(Reference {
        domain: domain.to_string(),
        path: path.to_string(),
        tag: tag.map(str::to_string),
        digest: digest.map(str::to_string),
    })
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`
fn valid_path_component(c: &str) -> bool {
    let b = c.as_bytes();
    if b.is_empty() || !is_lower_alnum(b[0]) || !is_lower_alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if is_lower_alnum(b[i]) {
            i += 1;
            continue;
        }
        // a separator: ".", "_", "__", or one or more "-"
        let start = i;
        match b[i] {
            b'.' => i += 1,
            b'_' => {
                i += 1;
                if b.get(i) == Some(&b'_') {
                    i += 1;
                }
            }
            b'-' => {
                while b.get(i) == Some(&b'-') {
                    i += 1;
                }
            }
            _ => return false,
        }
        if i == start || !b.get(i).is_some_and(|c| is_lower_alnum(*c)) {
            return false;
        }
    }
    true
}

fn is_lower_alnum(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// `host[:port]` where host is a domain name or a bracketed IPv6 address.
fn valid_domain(d: &str) -> bool {
    let (host, port) = if let Some(rest) = d.strip_prefix('[') {
        let Some((h, after)) = rest.split_once(']') else {
            return false;
        };
        if h.is_empty()
            || !h
                .bytes()
                .all(|c| c.is_ascii_hexdigit() || c == b':' || c == b'.')
        {
            return false;
        }
        match after {
            "" => return true,
            p => match p.strip_prefix(':') {
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
    if let Some(p) = port
        && (p.is_empty() || !p.bytes().all(|c| c.is_ascii_digit()))
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
                && b.iter().all(|x| x.is_ascii_alphanumeric() || *x == b'-')
        })
}

/// `[\w][\w.-]{0,127}`
fn valid_tag(t: &str) -> bool {
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

/// `algorithm:hex` with a hex part of at least 32 characters.
fn valid_digest(d: &str) -> bool {
    let Some((alg, hex)) = d.split_once(':') else {
        return false;
    };
    let ab = alg.as_bytes();
    !ab.is_empty()
        && ab[0].is_ascii_alphabetic()
        && ab
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'.' | b'_' | b'-'))
        && hex.len() >= 32
        && hex.bytes().all(|c| c.is_ascii_hexdigit())
}

/// `ParseAnyReference`: a full or short image ID, or a normalized name.
pub fn is_valid_any(s: &str) -> bool {
    let id = s.strip_prefix("sha256:").unwrap_or(s);
    if id.len() == 64 && id.bytes().all(|c| c.is_ascii_hexdigit()) {
        return true;
    }
    Reference::parse_normalized(s).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_like_docker() {
        let r = Reference::parse_normalized("busybox").unwrap();
        assert_eq!(r.name(), "docker.io/library/busybox");
        assert_eq!(r.familiar_name(), "busybox");
        assert!(r.is_name_only());
        assert_eq!(
            r.with_default_tag().full(),
            "docker.io/library/busybox:latest"
        );

        let r = Reference::parse_normalized("localhost:5000/me/app:v1.2").unwrap();
        assert_eq!(r.domain, "localhost:5000");
        assert_eq!(r.path, "me/app");
        assert_eq!(r.tag.as_deref(), Some("v1.2"));
        assert_eq!(r.familiar(), "localhost:5000/me/app:v1.2");

        let r = Reference::parse_normalized("me/app").unwrap();
        assert_eq!(r.full(), "docker.io/me/app");
        assert_eq!(r.familiar_name(), "me/app");

        let r = Reference::parse_normalized("index.docker.io/library/busybox:1").unwrap();
        assert_eq!(r.familiar(), "busybox:1");

        let d = format!("busybox@sha256:{}", "a".repeat(64));
        let r = Reference::parse_normalized(&d).unwrap();
        assert_eq!(
            r.digest.as_deref(),
            Some(format!("sha256:{}", "a".repeat(64)).as_str())
        );

        let r = Reference::parse_normalized("127.0.0.1:5000/a__b/c-d.e:tag_1").unwrap();
        assert_eq!(r.path, "a__b/c-d.e");
    }

    #[test]
    fn errors_like_docker() {
        assert_eq!(
            Reference::parse_normalized("UPPER")
                .unwrap_err()
                .to_string(),
            "invalid reference format: repository name (library/UPPER) must be lowercase"
        );
        assert_eq!(
            Reference::parse_normalized("Bad:x:y")
                .unwrap_err()
                .to_string(),
            "invalid reference format: repository name (library/Bad) must be lowercase"
        );
        for bad in [
            "a:b:c",
            "-a",
            "a//b",
            "a:",
            "a@sha256:12",
            "a b",
            "a/b-",
            "a..b",
        ] {
            assert_eq!(
                Reference::parse_normalized(bad).unwrap_err(),
                ReferenceError::Format,
                "{bad}"
            );
        }
        let hex = "0123456789abcdef".repeat(4);
        assert!(matches!(
            Reference::parse_normalized(&hex).unwrap_err(),
            ReferenceError::HexName(_)
        ));
        assert!(is_valid_any(&hex));
    }
}
