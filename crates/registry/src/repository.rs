//! [`Repository`]: one repository on one registry, and its pull side — resolving a tag or
//! digest to a verified manifest, fetching manifests by digest, listing tags. Blob downloads
//! are in [`blob_reader`](crate::BlobReader), the push side in `push.rs`.
//!
//! Verification rule: a manifest is never returned unverified. Asked by digest, its bytes must
//! hash to that digest; asked by tag, they must hash to the `Docker-Content-Digest` the registry
//! announces (when it does). The digest returned always covers the raw bytes returned.

use std::sync::Arc;

use berth_image::media_type::{self, Kind};
use berth_image::{Descriptor, Digest};
use serde::Deserialize;

use crate::client::{Call, Client, Host, header, read_body, status_error};
use crate::credentials::Credentials;
use crate::error::{Error, Result};

/// The largest manifest accepted: 4 MiB, the limit of docker and distribution.
pub const MAX_MANIFEST_SIZE: u64 = 4 * 1024 * 1024;

/// The manifest media types asked for, most preferred first. Schema 1 is left out on purpose.
pub const ACCEPT_MANIFESTS: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.docker.distribution.manifest.v2+json";

/// One repository (`domain/path`) with the credentials to use on it. Cheap to clone; clones
/// share the client's connections and token cache, so one repository can serve parallel
/// layer downloads from several threads.
#[derive(Clone)]
pub struct Repository {
    pub(crate) client: Client,
    pub(crate) domain: String,
    pub(crate) path: String,
    pub(crate) creds: Arc<Credentials>,
}

impl std::fmt::Debug for Repository {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repository")
            .field("domain", &self.domain)
            .field("path", &self.path)
            .field("credentials", &self.creds)
            .finish()
    }
}

/// Validates a tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
pub(crate) fn check_tag(tag: &str) -> Result<()> {
    let ok = !tag.is_empty()
        && tag.len() <= 128
        && tag
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidName {
            what: "tag",
            value: tag.to_string(),
            reason: "a tag is 1 to 128 of [A-Za-z0-9_.-], not starting with . or -".into(),
        })
    }
}

/// Validates a repository path: lowercase components of `[a-z0-9._-]` separated by `/`.
pub(crate) fn check_repository_path(path: &str) -> Result<()> {
    let ok = !path.is_empty()
        && path.len() <= 255
        && path.split('/').all(|c| {
            !c.is_empty()
                && c.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
                && c.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
                })
        });
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidName {
            what: "repository name",
            value: path.to_string(),
            reason: "components of lowercase letters, digits and . _ - separated by /".into(),
        })
    }
}

/// A tag or a digest, as the last part of a manifest URL.
pub(crate) enum ManifestRef {
    Tag(String),
    Digest(Digest),
}

impl ManifestRef {
    pub(crate) fn parse(s: &str) -> Result<ManifestRef> {
        if s.contains(':') {
            Digest::parse(s)
                .map(ManifestRef::Digest)
                .map_err(|e| Error::InvalidName {
                    what: "digest",
                    value: s.to_string(),
                    reason: e.to_string(),
                })
        } else {
            check_tag(s).map(|()| ManifestRef::Tag(s.to_string()))
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        match self {
            ManifestRef::Tag(t) => t,
            ManifestRef::Digest(d) => d.as_str(),
        }
    }
}

/// The media type of a manifest answer: `Content-Type` when it names a manifest or index,
/// else the body's `mediaType`, else the body's shape (OCI allows omitting `mediaType`).
/// Refuses schema 1, unknown types and bodies that are not a JSON object.
pub(crate) fn manifest_media_type(
    url: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<String> {
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| Error::Garbage {
        url: url.to_string(),
        reason: format!(
            "the manifest is not valid JSON ({e}); it starts with {:?}",
            crate::client::excerpt(body)
        ),
    })?;
    let Some(obj) = value.as_object() else {
        return Err(Error::Garbage {
            url: url.to_string(),
            reason: "the manifest is not a JSON object".into(),
        });
    };
    if obj.get("schemaVersion").and_then(|v| v.as_u64()) == Some(1) {
        return Err(Error::Schema1 {
            url: url.to_string(),
        });
    }
    let ct = content_type
        .map(|c| {
            c.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    match media_type::classify(&ct) {
        Kind::Manifest | Kind::Index => return Ok(ct),
        Kind::Schema1 => {
            return Err(Error::Schema1 {
                url: url.to_string(),
            });
        }
        _ => {}
    }
    if let Some(mt) = obj.get("mediaType").and_then(|v| v.as_str()) {
        return match media_type::classify(mt) {
            Kind::Manifest | Kind::Index => Ok(mt.to_string()),
            Kind::Schema1 => Err(Error::Schema1 {
                url: url.to_string(),
            }),
            _ => Err(Error::UnknownManifestType {
                url: url.to_string(),
                media_type: mt.to_string(),
            }),
        };
    }
    if obj.get("schemaVersion").and_then(|v| v.as_u64()) == Some(2) {
        if obj.get("manifests").is_some_and(|m| m.is_array()) {
            return Ok(media_type::OCI_INDEX.to_string());
        }
        if obj.get("config").is_some_and(|c| c.is_object())
            && obj.get("layers").is_some_and(|l| l.is_array())
        {
            return Ok(media_type::OCI_MANIFEST.to_string());
        }
    }
    Err(Error::UnknownManifestType {
        url: url.to_string(),
        media_type: ct,
    })
}

#[derive(Deserialize)]
struct TagList {
    #[serde(default)]
    tags: Option<Vec<String>>,
}

impl Repository {
    pub(crate) fn new(client: Client, domain: &str, path: &str, creds: Credentials) -> Repository {
        Repository {
            client,
            domain: domain.to_string(),
            path: path.to_string(),
            creds: Arc::new(creds),
        }
    }

    /// The registry domain, as in the reference (`docker.io`, `localhost:5000`).
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The repository path inside the registry (`library/busybox`).
    pub fn path(&self) -> &str {
        &self.path
    }

    pub(crate) fn host(&self) -> Result<Arc<Host>> {
        check_repository_path(&self.path)?;
        self.client.host(&self.domain)
    }

    pub(crate) fn pull_scope(&self) -> Vec<String> {
        vec![format!("repository:{}:pull", self.path)]
    }

    pub(crate) fn push_scope(&self) -> Vec<String> {
        vec![format!("repository:{}:pull,push", self.path)]
    }

    pub(crate) fn url(&self, host: &Host, rest: &str) -> String {
        format!("{}/v2/{}/{rest}", host.base, self.path)
    }

    /// Resolves a tag (`latest`) or a digest (`sha256:…`) to the manifest it names: returns
    /// its descriptor (media type from `Content-Type`, else the body; size; verified digest)
    /// and its raw bytes (at most [`MAX_MANIFEST_SIZE`]).
    pub fn resolve(&self, tag_or_digest: &str) -> Result<(Descriptor, Vec<u8>)> {
        let r = ManifestRef::parse(tag_or_digest)?;
        self.get_manifest(&r)
    }

    /// Fetches the manifest (or index) with this digest; its bytes are verified.
    pub fn fetch_manifest(&self, digest: &Digest) -> Result<Vec<u8>> {
        self.get_manifest(&ManifestRef::Digest(digest.clone()))
            .map(|(_, bytes)| bytes)
    }

    fn get_manifest(&self, r: &ManifestRef) -> Result<(Descriptor, Vec<u8>)> {
        let host = self.host()?;
        let url = self.url(&host, &format!("manifests/{}", r.as_str()));
        let mut call = Call::new("GET", url.clone()).header("accept", ACCEPT_MANIFESTS);
        let mut resp = self
            .client
            .send(&host, &self.creds, &self.pull_scope(), &mut call)?;
        if !resp.status().is_success() {
            return Err(status_error("GET", &url, resp));
        }
        let content_type = header(&resp, "content-type").map(str::to_string);
        let announced = match header(&resp, "docker-content-digest").map(str::trim) {
            Some(v) if !v.is_empty() => {
                Some(Digest::parse(v).map_err(|source| Error::InvalidDigest {
                    url: url.clone(),
                    value: v.to_string(),
                    source,
                })?)
            }
            _ => None,
        };
        let body = read_body(&url, &mut resp, MAX_MANIFEST_SIZE, |size| {
            Error::ManifestTooLarge {
                url: url.clone(),
                size,
                limit: MAX_MANIFEST_SIZE,
            }
        })?;
        let expected = match r {
            ManifestRef::Digest(d) => Some(d.clone()),
            ManifestRef::Tag(_) => announced,
        };
        let digest = match expected {
            Some(expected) => {
                let actual = Digest::of(expected.algorithm(), &body);
                if actual != expected {
                    return Err(Error::ManifestDigestMismatch {
                        url,
                        expected,
                        actual,
                    });
                }
                expected
            }
            None => Digest::sha256_of(&body),
        };
        let media_type = manifest_media_type(&url, content_type.as_deref(), &body)?;
        let size = body.len() as u64;
        Ok((Descriptor::new(&media_type, digest, size), body))
    }

    /// The repository's tags, following `Link` pagination.
    pub fn tags(&self) -> Result<Vec<String>> {
        let host = self.host()?;
        let mut url = self.url(&host, "tags/list");
        let mut all = Vec::new();
        // A registry that keeps sending `next` links is garbage after this many pages.
        for _ in 0..1000 {
            let mut call = Call::new("GET", url.clone()).header("accept", "application/json");
            let mut resp = self
                .client
                .send(&host, &self.creds, &self.pull_scope(), &mut call)?;
            if !resp.status().is_success() {
                return Err(status_error("GET", &url, resp));
            }
            let next = header(&resp, "link").and_then(next_link);
            let body = read_body(&url, &mut resp, 16 * MAX_MANIFEST_SIZE, |size| {
                Error::Garbage {
                    url: url.clone(),
                    reason: format!("tag list of {size} bytes"),
                }
            })?;
            let list: TagList = serde_json::from_slice(&body).map_err(|e| Error::Garbage {
                url: url.clone(),
                reason: format!("the tag list is not valid JSON: {e}"),
            })?;
            all.extend(list.tags.unwrap_or_default());
            match next {
                Some(n) => url = crate::url::resolve(&url, &n),
                None => return Ok(all),
            }
        }
        Err(Error::Garbage {
            url,
            reason: "more than 1000 pages of tags".into(),
        })
    }
}

/// The target of a `Link: <…>; rel="next"` header.
fn next_link(link: &str) -> Option<String> {
    for part in link.split(',') {
        let (target, params) = part.split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        if params
            .split(';')
            .any(|p| matches!(p.trim(), "rel=\"next\"" | "rel=next"))
        {
            return Some(target.to_string());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_digests() {
        assert!(check_tag("latest").is_ok());
        assert!(check_tag("_x.y-Z9").is_ok());
        for bad in [
            "",
            ".x",
            "-x",
            "a/b",
            "a?b",
            "a b",
            &"x".repeat(129),
            "../x",
        ] {
            assert!(check_tag(bad).is_err(), "{bad}");
        }
        assert!(ManifestRef::parse("sha256:abc").is_err());
        let d = format!("sha256:{}", "a".repeat(64));
        assert!(matches!(ManifestRef::parse(&d), Ok(ManifestRef::Digest(_))));
    }

    #[test]
    fn repository_paths() {
        assert!(check_repository_path("library/busybox").is_ok());
        assert!(check_repository_path("a/b-c/d_e.f").is_ok());
        for bad in ["", "A/b", "a//b", "a/b?x", "a/../b", "/a", "a b", ".a"] {
            assert!(check_repository_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn media_type_rules() {
        let oci = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{},"layers":[]}"#;
        assert_eq!(
            manifest_media_type(
                "u",
                Some("application/vnd.oci.image.manifest.v1+json; charset=utf-8"),
                oci
            )
            .unwrap(),
            media_type::OCI_MANIFEST
        );
        // Generic content type: the body decides.
        assert_eq!(
            manifest_media_type("u", Some("application/json"), oci).unwrap(),
            media_type::OCI_MANIFEST
        );
        // No mediaType anywhere: the shape decides.
        let idx = br#"{"schemaVersion":2,"manifests":[]}"#;
        assert_eq!(
            manifest_media_type("u", None, idx).unwrap(),
            media_type::OCI_INDEX
        );
        let bare = br#"{"schemaVersion":2,"config":{},"layers":[]}"#;
        assert_eq!(
            manifest_media_type("u", None, bare).unwrap(),
            media_type::OCI_MANIFEST
        );

        let s1 = br#"{"schemaVersion":1,"name":"x","fsLayers":[]}"#;
        assert!(matches!(
            manifest_media_type(
                "u",
                Some("application/vnd.docker.distribution.manifest.v1+prettyjws"),
                s1
            ),
            Err(Error::Schema1 { .. })
        ));
        assert!(matches!(
            manifest_media_type("u", None, s1),
            Err(Error::Schema1 { .. })
        ));
        assert!(matches!(
            manifest_media_type("u", Some("text/html"), b"<html>nope</html>"),
            Err(Error::Garbage { .. })
        ));
        assert!(matches!(
            manifest_media_type(
                "u",
                Some(media_type::OCI_MANIFEST),
                b"{\"schemaVersion\":2,"
            ),
            Err(Error::Garbage { .. })
        ));
        assert!(matches!(
            manifest_media_type("u", None, b"[1]"),
            Err(Error::Garbage { .. })
        ));
        let art =
            br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.artifact.manifest.v1+json"}"#;
        assert!(matches!(
            manifest_media_type(
                "u",
                Some("application/vnd.oci.artifact.manifest.v1+json"),
                art
            ),
            Err(Error::UnknownManifestType { .. })
        ));
    }

    #[test]
    fn link_headers() {
        assert_eq!(
            next_link(r#"</v2/a/tags/list?last=b&n=2>; rel="next""#).as_deref(),
            Some("/v2/a/tags/list?last=b&n=2")
        );
        assert_eq!(next_link(r#"</x>; rel="prev""#), None);
        assert_eq!(next_link("garbage"), None);
    }
}
