//! The registry client's error type, its categories, and the distribution-spec error body.
//!
//! Every failing step has its own variant carrying the URL (or path, digest) involved and the
//! cause as `#[source]`. [`Error::kind`] sorts them into the few [`ErrorKind`]s an API layer maps
//! to a status code. Registry answers with an error status are parsed from the distribution
//! spec's body, `{"errors":[{"code","message","detail"}]}`, into the message docker prints
//! (`manifest unknown: manifest unknown`).

use std::fmt;
use std::path::PathBuf;

use berth_image::{Digest, DigestError};
use serde::Deserialize;

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What kind of failure an [`Error`] is: all an API layer needs to choose a status code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The repository, manifest, tag or blob does not exist (404).
    NotFound,
    /// The registry wants (other) credentials: 401, or a token server that refused ours.
    Unauthorized,
    /// Authenticated, but not allowed (403 / `DENIED`).
    Denied,
    /// The registry's answer is malformed or does not match what was asked for (garbage,
    /// HTML, truncated JSON, a manifest too large, a digest mismatch, schema 1), or the request
    /// was refused as invalid (400, `*_INVALID` codes).
    Invalid,
    /// The registry cannot be reached or is overloaded: DNS, connection refused, timeout,
    /// 5xx, 429.
    Unavailable,
    /// Anything else: TLS failures, local I/O, unexpected statuses.
    Other,
}

/// One entry of a distribution-spec error body.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct ErrorDetail {
    /// The spec's code: `MANIFEST_UNKNOWN`, `UNAUTHORIZED`, `DENIED`, …
    #[serde(default)]
    pub code: String,
    /// The human message.
    #[serde(default)]
    pub message: String,
    /// Unstructured detail, kept as JSON.
    #[serde(default)]
    pub detail: Option<serde_json::Value>,
}

impl fmt::Display for ErrorDetail {
    /// Docker's `errcode.Error` form: the code in lowercase with spaces, then the message.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let code = self.code.to_lowercase().replace('_', " ");
        match (code.is_empty(), self.message.is_empty()) {
            (true, _) => f.write_str(&self.message),
            (false, true) => f.write_str(&code),
            (false, false) => write!(f, "{code}: {}", self.message),
        }
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    errors: Vec<ErrorDetail>,
}

/// Parses a distribution-spec error body. Anything else (HTML, empty, other JSON) gives an
/// empty list: the status then speaks alone.
pub(crate) fn parse_error_body(body: &[u8]) -> Vec<ErrorDetail> {
    serde_json::from_slice::<ErrorBody>(body)
        .map(|b| b.errors)
        .unwrap_or_default()
}

/// The registry's answer with an error status, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusError {
    /// The HTTP method of the request.
    pub method: &'static str,
    /// The URL asked.
    pub url: String,
    /// The HTTP status.
    pub status: u16,
    /// The distribution-spec errors in the body (may be empty).
    pub errors: Vec<ErrorDetail>,
    /// The start of a body that was not a distribution-spec error (HTML, text), for the message.
    pub body_excerpt: String,
}

impl StatusError {
    /// The category of this answer: from the error codes when there are some, else the status.
    pub fn kind(&self) -> ErrorKind {
        if let Some(first) = self.errors.first() {
            match first.code.as_str() {
                "BLOB_UNKNOWN" | "BLOB_UPLOAD_UNKNOWN" | "MANIFEST_UNKNOWN" | "NAME_UNKNOWN" => {
                    return ErrorKind::NotFound;
                }
                "UNAUTHORIZED" => return ErrorKind::Unauthorized,
                "DENIED" => return ErrorKind::Denied,
                "TOOMANYREQUESTS" => return ErrorKind::Unavailable,
                "BLOB_UPLOAD_INVALID"
                | "DIGEST_INVALID"
                | "MANIFEST_BLOB_UNKNOWN"
                | "MANIFEST_INVALID"
                | "MANIFEST_UNVERIFIED"
                | "NAME_INVALID"
                | "SIZE_INVALID"
                | "TAG_INVALID"
                | "UNSUPPORTED"
                | "RANGE_INVALID" => return ErrorKind::Invalid,
                _ => {}
            }
        }
        match self.status {
            404 => ErrorKind::NotFound,
            401 => ErrorKind::Unauthorized,
            403 => ErrorKind::Denied,
            400 | 405 | 411 | 413 | 414 | 415 | 416 | 422 => ErrorKind::Invalid,
            429 | 500..=599 => ErrorKind::Unavailable,
            _ => ErrorKind::Other,
        }
    }
}

impl fmt::Display for StatusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.errors.is_empty() {
            for (i, e) in self.errors.iter().enumerate() {
                if i > 0 {
                    f.write_str("; ")?;
                }
                write!(f, "{e}")?;
            }
            return Ok(());
        }
        let reason = match self.status {
            401 => "unauthorized: authentication required",
            403 => "denied: requested access to the resource is denied",
            404 => "not found",
            429 => "toomanyrequests: too many requests",
            _ => "unexpected status",
        };
        write!(
            f,
            "{reason} ({} {} answered {})",
            self.method, self.url, self.status
        )?;
        if !self.body_excerpt.is_empty() {
            write!(f, ": {}", self.body_excerpt)?;
        }
        Ok(())
    }
}

/// Why the registry client failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading a per-registry certificate directory failed.
    #[error("reading registry certificates in {path}: {source}")]
    ReadCertsDir {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A certificate or key file in a certificate directory is not valid PEM.
    #[error("parsing registry certificate {path}: {reason}")]
    ParseCert {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A `client.cert` has no `client.key` beside it (or the other way round).
    #[error(
        "missing key {key} for client certificate {cert} (CA certificates must use the extension .crt)"
    )]
    ClientCertWithoutKey {
        /// The certificate file.
        cert: PathBuf,
        /// The key file that should be there.
        key: PathBuf,
    },
    /// The registry (or token server) could not be reached: DNS, refused, reset, timeout.
    #[error("connecting to {url}: {source}")]
    Connect {
        /// The URL asked.
        url: String,
        /// The transport error.
        #[source]
        source: ureq::Error,
    },
    /// The registry (or token server) stayed silent longer than the configured timeouts.
    #[error("{url}: the registry did not answer in time ({source})")]
    Timeout {
        /// The URL asked.
        url: String,
        /// The transport error.
        #[source]
        source: ureq::Error,
    },
    /// The request could not be built (a header value with control characters, a bad URL).
    #[error("building the request {url}: {reason}")]
    BuildRequest {
        /// The URL.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// The TLS handshake failed (unknown authority, wrong name, expired, not TLS at all).
    #[error("TLS handshake with {host} failed: {reason}")]
    Tls {
        /// `host[:port]`.
        host: String,
        /// The TLS library's reason, e.g. `invalid peer certificate: UnknownIssuer`.
        reason: String,
        /// The transport error.
        #[source]
        source: ureq::Error,
    },
    /// The answer is not valid HTTP, or the connection broke while reading it.
    #[error("reading the answer of {url}: {source}")]
    ReadAnswer {
        /// The URL asked.
        url: String,
        /// The transport error.
        #[source]
        source: ureq::Error,
    },
    /// The registry answered with an error status.
    #[error("{0}")]
    Status(Box<StatusError>),
    /// The registry asked for authentication with a challenge this client cannot answer, or
    /// without one.
    #[error(
        "unauthorized: {url} asked for authentication with an unsupported challenge {challenge:?}"
    )]
    UnsupportedChallenge {
        /// The URL asked.
        url: String,
        /// The `WWW-Authenticate` header (empty when missing).
        challenge: String,
    },
    /// The registry wants credentials and none were given (Basic challenge, anonymous).
    #[error("unauthorized: authentication required ({url})")]
    CredentialsRequired {
        /// The URL asked.
        url: String,
    },
    /// The token server refused the credentials or the scope.
    #[error("unauthorized: {message} (token server {realm} answered {status})")]
    TokenRefused {
        /// The token endpoint.
        realm: String,
        /// Its HTTP status.
        status: u16,
        /// Its message, or docker's wording when it gave none.
        message: String,
    },
    /// The token server's answer is not the expected JSON.
    #[error("the token server {realm} sent an invalid answer: {reason}")]
    TokenGarbage {
        /// The token endpoint.
        realm: String,
        /// What is wrong.
        reason: String,
    },
    /// A tag, digest or repository name given by the caller is not valid.
    #[error("invalid {what} {value:?}: {reason}")]
    InvalidName {
        /// `tag`, `digest`, `repository name`.
        what: &'static str,
        /// The value.
        value: String,
        /// What is wrong.
        reason: String,
    },
    /// A manifest is larger than [`MAX_MANIFEST_SIZE`](crate::MAX_MANIFEST_SIZE).
    #[error("manifest at {url} is too large: {size} bytes (the limit is {limit})")]
    ManifestTooLarge {
        /// The URL asked.
        url: String,
        /// Its size, or the bytes read so far.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The manifest's bytes do not hash to the digest asked for or announced.
    #[error("manifest at {url} does not match its digest: expected {expected}, got {actual}")]
    ManifestDigestMismatch {
        /// The URL asked.
        url: String,
        /// The digest asked for, or the `Docker-Content-Digest` announced.
        expected: Digest,
        /// The digest of the bytes received.
        actual: Digest,
    },
    /// The registry served a Docker schema 1 manifest.
    #[error(
        "{url}: unsupported manifest format: Docker Image manifest version 2, schema 1 is not supported; push the image with a newer client"
    )]
    Schema1 {
        /// The URL asked.
        url: String,
    },
    /// The manifest's media type is neither OCI nor Docker schema 2 manifest or index.
    #[error("{url}: unknown manifest media type {media_type:?}")]
    UnknownManifestType {
        /// The URL asked.
        url: String,
        /// The media type from `Content-Type` or the body.
        media_type: String,
    },
    /// The answer is not what a registry sends (HTML, truncated or undecodable JSON, a missing
    /// header the spec requires).
    #[error("{url}: invalid answer from the registry: {reason}")]
    Garbage {
        /// The URL asked.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// A digest header or parameter is not a valid digest.
    #[error("{url}: invalid digest {value:?}: {source}")]
    InvalidDigest {
        /// The URL asked.
        url: String,
        /// The value received.
        value: String,
        /// Why it is invalid.
        #[source]
        source: DigestError,
    },
    /// The blob's announced size (`Content-Length`) differs from the descriptor's.
    #[error("blob {digest} at {url}: the registry announces {actual} bytes, expected {expected}")]
    BlobSizeMismatch {
        /// The URL asked.
        url: String,
        /// The blob.
        digest: Digest,
        /// The descriptor's size.
        expected: u64,
        /// The `Content-Length` received.
        actual: u64,
    },
    /// Reading the local content being pushed failed, or it did not match its descriptor.
    #[error("reading blob {digest} to push: {source}")]
    ReadPushSource {
        /// The blob.
        digest: Digest,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// The category of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::ReadCertsDir { .. } | Error::ParseCert { .. } => ErrorKind::Other,
            Error::ClientCertWithoutKey { .. } => ErrorKind::Invalid,
            Error::Connect { .. } | Error::Timeout { .. } => ErrorKind::Unavailable,
            Error::BuildRequest { .. } => ErrorKind::Invalid,
            Error::Tls { .. } => ErrorKind::Other,
            Error::ReadAnswer { source, .. } => match source {
                ureq::Error::Protocol(_) => ErrorKind::Invalid,
                _ => ErrorKind::Unavailable,
            },
            Error::Status(s) => s.kind(),
            Error::UnsupportedChallenge { .. }
            | Error::CredentialsRequired { .. }
            | Error::TokenRefused { .. } => ErrorKind::Unauthorized,
            Error::TokenGarbage { .. }
            | Error::InvalidName { .. }
            | Error::ManifestTooLarge { .. }
            | Error::ManifestDigestMismatch { .. }
            | Error::Schema1 { .. }
            | Error::UnknownManifestType { .. }
            | Error::Garbage { .. }
            | Error::InvalidDigest { .. }
            | Error::BlobSizeMismatch { .. } => ErrorKind::Invalid,
            Error::ReadPushSource { .. } => ErrorKind::Other,
        }
    }

    /// The parsed registry answer, when this error is one.
    pub fn status(&self) -> Option<&StatusError> {
        match self {
            Error::Status(s) => Some(s),
            _ => None,
        }
    }
}

impl From<StatusError> for Error {
    fn from(e: StatusError) -> Error {
        Error::Status(Box::new(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16, body: &[u8]) -> StatusError {
        StatusError {
            method: "GET",
            url: "http://r/v2/a/manifests/x".into(),
            status: code,
            errors: parse_error_body(body),
            body_excerpt: String::new(),
        }
    }

    #[test]
    fn distribution_error_body_gives_docker_message_and_kind() {
        let e = status(
            404,
            br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"x"}}]}"#,
        );
        assert_eq!(e.to_string(), "manifest unknown: manifest unknown");
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert_eq!(e.errors[0].detail, Some(serde_json::json!({"Tag": "x"})));

        let e = status(
            401,
            br#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":[{"Type":"repository"}]}]}"#,
        );
        assert_eq!(e.to_string(), "unauthorized: authentication required");
        assert_eq!(e.kind(), ErrorKind::Unauthorized);

        let e = status(
            403,
            br#"{"errors":[{"code":"DENIED","message":"no"},{"code":"NAME_UNKNOWN","message":"x"}]}"#,
        );
        assert_eq!(e.to_string(), "denied: no; name unknown: x");
        assert_eq!(e.kind(), ErrorKind::Denied);
    }

    #[test]
    fn garbage_bodies_fall_back_to_the_status() {
        for body in [
            &b"<html><body>Not Found</body></html>"[..],
            b"",
            b"{\"errors\":[",
            b"{\"foo\":1}",
            b"\xff\xfe",
        ] {
            let e = status(404, body);
            assert!(e.errors.is_empty());
            assert_eq!(e.kind(), ErrorKind::NotFound);
            assert!(e.to_string().starts_with("not found"), "{e}");
        }
        assert_eq!(status(503, b"").kind(), ErrorKind::Unavailable);
        assert_eq!(status(429, b"").kind(), ErrorKind::Unavailable);
        assert_eq!(status(400, b"").kind(), ErrorKind::Invalid);
        assert_eq!(status(418, b"").kind(), ErrorKind::Other);
    }

    #[test]
    fn codes_override_status() {
        let e = status(
            400,
            br#"{"errors":[{"code":"MANIFEST_BLOB_UNKNOWN","message":"blob unknown to registry"}]}"#,
        );
        assert_eq!(e.kind(), ErrorKind::Invalid);
        assert_eq!(
            e.to_string(),
            "manifest blob unknown: blob unknown to registry"
        );
    }
}
