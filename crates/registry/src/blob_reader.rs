//! [`BlobReader`]: a blob download as a streaming [`Read`] that verifies size and digest as it
//! goes and resumes broken connections.
//!
//! Contract for the consumer (typically writing the stream into the content store and into
//! the layer extractor at once): every byte handed out has been hashed; the final `Ok(0)` (EOF)
//! is only returned once the size and digest match the descriptor. A mismatch is an
//! `io::Error` at that point (kind `InvalidData`, wrapping a [`BlobError`]), so the consumer
//! learns of tampering before it commits anything. More bytes than the descriptor's size are
//! refused as soon as they arrive.
//!
//! Resuming: a connection that breaks mid-body (reset, timeout, premature close) is reopened
//! with `Range: bytes=<offset>-`; a `206` continues the stream, a `200` (range ignored) is read
//! past the bytes already seen. At most `max_retries` consecutive attempts without progress.

use std::io::{self, Read};
use std::sync::Arc;

use berth_image::{Descriptor, Digest, Digester};

use crate::client::{Call, Host, header, status_error};
use crate::error::{Error, Result};
use crate::repository::Repository;

/// Why a blob stream failed, inside the `io::Error` returned by [`BlobReader::read`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BlobError {
    /// The bytes do not hash to the descriptor's digest.
    #[error("blob {expected} failed verification: its content hashes to {actual}")]
    DigestMismatch {
        /// The descriptor's digest.
        expected: Digest,
        /// The digest of the bytes received.
        actual: Digest,
    },
    /// The registry sent more bytes than the descriptor's size.
    #[error("blob {digest} is larger than its descriptor says ({expected} bytes)")]
    TooLarge {
        /// The blob.
        digest: Digest,
        /// The descriptor's size.
        expected: u64,
    },
    /// The stream ended (and could not be resumed) before the descriptor's size.
    #[error("blob {digest} is truncated: got {received} of {expected} bytes")]
    Truncated {
        /// The blob.
        digest: Digest,
        /// Bytes received.
        received: u64,
        /// The descriptor's size.
        expected: u64,
    },
    /// Resuming after a broken connection failed.
    #[error("blob {digest}: resuming the download at byte {offset} failed: {source}")]
    Resume {
        /// The blob.
        digest: Digest,
        /// Where the download was to resume.
        offset: u64,
        /// Why.
        #[source]
        source: Error,
    },
    /// The connection broke more times in a row than allowed.
    #[error("blob {digest}: the download broke at byte {offset}: {source}")]
    Broken {
        /// The blob.
        digest: Digest,
        /// Bytes received.
        offset: u64,
        /// The last I/O error.
        #[source]
        source: io::Error,
    },
}

impl BlobError {
    fn into_io(self) -> io::Error {
        let kind = match &self {
            BlobError::DigestMismatch { .. } | BlobError::TooLarge { .. } => {
                io::ErrorKind::InvalidData
            }
            BlobError::Truncated { .. } => io::ErrorKind::UnexpectedEof,
            BlobError::Resume { .. } | BlobError::Broken { .. } => io::ErrorKind::Other,
        };
        io::Error::new(kind, self)
    }
}

/// A callback told the number of bytes received so far.
pub type Progress = Box<dyn FnMut(u64) + Send>;

/// A verified, resuming blob download. See the [module docs](self).
pub struct BlobReader {
    repo: Repository,
    host: Arc<Host>,
    url: String,
    digest: Digest,
    size: u64,
    body: Option<ureq::BodyReader<'static>>,
    digester: Option<Digester>,
    offset: u64,
    resumes: u32,
    /// Broken streams and failed reopenings since the last byte received.
    failures: u32,
    progress: Option<Progress>,
    done: bool,
}

impl std::fmt::Debug for BlobReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobReader")
            .field("url", &self.url)
            .field("digest", &self.digest)
            .field("size", &self.size)
            .field("offset", &self.offset)
            .field("resumes", &self.resumes)
            .finish()
    }
}

/// What opening (or reopening) the blob gave.
enum Opened {
    Body(ureq::BodyReader<'static>),
    /// The server has no byte at the offset (416): the blob is shorter than expected.
    NothingAtOffset,
}

impl Repository {
    /// Starts downloading the blob `desc` names. Errors before the first byte (not found,
    /// unauthorized, a `Content-Length` other than `desc.size`) are returned here; errors in the
    /// stream come from [`BlobReader::read`]. Connection errors and 5xx before the first byte
    /// are retried.
    pub fn fetch_blob(&self, desc: &Descriptor) -> Result<BlobReader> {
        let host = self.host()?;
        let url = self.url(&host, &format!("blobs/{}", desc.digest));
        let mut reader = BlobReader {
            repo: self.clone(),
            host,
            url,
            digest: desc.digest.clone(),
            size: desc.size,
            body: None,
            digester: Some(desc.digest.algorithm().digester()),
            offset: 0,
            resumes: 0,
            failures: 0,
            progress: None,
            done: false,
        };
        match reader.open()? {
            Opened::Body(b) => reader.body = Some(b),
            Opened::NothingAtOffset => {
                // Only possible for an empty blob asked without a range: treat as empty body.
            }
        }
        Ok(reader)
    }
}

impl BlobReader {
    /// Reports the bytes received so far to `f` after every read.
    pub fn on_progress(mut self, f: impl FnMut(u64) + Send + 'static) -> BlobReader {
        self.progress = Some(Box::new(f));
        self
    }

    /// The blob's digest.
    pub fn digest(&self) -> &Digest {
        &self.digest
    }

    /// The blob's size (from the descriptor).
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Bytes received and verified-so-far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// How many times the download was resumed after a broken connection.
    pub fn resumes(&self) -> u32 {
        self.resumes
    }

    /// GET the blob from `self.offset`.
    fn open(&mut self) -> Result<Opened> {
        let mut call = Call::new("GET", self.url.clone());
        if self.offset > 0 {
            call = call.header("range", format!("bytes={}-", self.offset));
        }
        let scopes = self.repo.pull_scope();
        let resp = self
            .repo
            .client
            .send(&self.host, &self.repo.creds, &scopes, &mut call)?;
        let status = resp.status().as_u16();
        let length = header(&resp, "content-length").and_then(|v| v.trim().parse::<u64>().ok());
        match status {
            200 => {
                if let Some(len) = length
                    && len != self.size
                {
                    return Err(Error::BlobSizeMismatch {
                        url: self.url.clone(),
                        digest: self.digest.clone(),
                        expected: self.size,
                        actual: len,
                    });
                }
                let mut body = resp.into_body().into_reader();
                if self.offset > 0 {
                    // The server ignored the range: read past what we already have.
                    let skipped = io::copy(&mut (&mut body).take(self.offset), &mut io::sink())
                        .map_err(|e| Error::Garbage {
                            url: self.url.clone(),
                            reason: format!("skipping to byte {}: {e}", self.offset),
                        })?;
                    if skipped != self.offset {
                        return Ok(Opened::NothingAtOffset);
                    }
                }
                Ok(Opened::Body(body))
            }
            206 => {
                let range = header(&resp, "content-range").unwrap_or("").to_string();
                let (start, total) = parse_content_range(&range).ok_or_else(|| Error::Garbage {
                    url: self.url.clone(),
                    reason: format!("206 with an invalid Content-Range {range:?}"),
                })?;
                if start != self.offset {
                    return Err(Error::Garbage {
                        url: self.url.clone(),
                        reason: format!(
                            "asked for bytes from {}, the registry sent {range:?}",
                            self.offset
                        ),
                    });
                }
                if let Some(total) = total
                    && total != self.size
                {
                    return Err(Error::BlobSizeMismatch {
                        url: self.url.clone(),
                        digest: self.digest.clone(),
                        expected: self.size,
                        actual: total,
                    });
                }
                Ok(Opened::Body(resp.into_body().into_reader()))
            }
            416 if self.offset > 0 => Ok(Opened::NothingAtOffset),
            _ => Err(status_error("GET", &self.url, resp)),
        }
    }

    /// After a broken or short stream: reopen at the offset, up to `max_retries` times in a row.
    fn resume(&mut self, cause: io::Error) -> io::Result<()> {
        self.body = None;
        let max = self.repo.client.max_retries();
        let mut cause = cause;
        loop {
            self.failures += 1;
            if self.failures > max {
                return Err(if cause.kind() == io::ErrorKind::UnexpectedEof {
                    BlobError::Truncated {
                        digest: self.digest.clone(),
                        received: self.offset,
                        expected: self.size,
                    }
                } else {
                    BlobError::Broken {
                        digest: self.digest.clone(),
                        offset: self.offset,
                        source: cause,
                    }
                }
                .into_io());
            }
            let pause = self.repo.client.config().retry_backoff * self.failures;
            std::thread::sleep(pause);
            match self.open() {
                Ok(Opened::Body(b)) => {
                    self.body = Some(b);
                    self.resumes += 1;
                    return Ok(());
                }
                Ok(Opened::NothingAtOffset) => {
                    return Err(BlobError::Truncated {
                        digest: self.digest.clone(),
                        received: self.offset,
                        expected: self.size,
                    }
                    .into_io());
                }
                Err(
                    e @ (Error::Connect { .. } | Error::Timeout { .. } | Error::ReadAnswer { .. }),
                ) => {
                    cause = io::Error::other(e);
                }
                Err(e) => {
                    return Err(BlobError::Resume {
                        digest: self.digest.clone(),
                        offset: self.offset,
                        source: e,
                    }
                    .into_io());
                }
            }
        }
    }

    /// At the end of the stream: check size and digest.
    fn finish(&mut self) -> io::Result<usize> {
        self.done = true;
        self.body = None;
        if self.offset != self.size {
            return Err(BlobError::Truncated {
                digest: self.digest.clone(),
                received: self.offset,
                expected: self.size,
            }
            .into_io());
        }
        let Some(digester) = self.digester.take() else {
            return Ok(0);
        };
        let actual = digester.finalize();
        if actual != self.digest {
            return Err(BlobError::DigestMismatch {
                expected: self.digest.clone(),
                actual,
            }
            .into_io());
        }
        Ok(0)
    }
}

impl Read for BlobReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done {
            return Ok(0);
        }
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let Some(body) = self.body.as_mut() else {
                if self.offset == self.size {
                    return self.finish();
                }
                self.resume(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the stream ended early",
                ))?;
                continue;
            };
            match body.read(buf) {
                Ok(0) => {
                    if self.offset == self.size {
                        return self.finish();
                    }
                    self.resume(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the stream ended early",
                    ))?;
                }
                Ok(n) => {
                    let n_u64 = n as u64;
                    if self.offset + n_u64 > self.size {
                        self.done = true;
                        self.body = None;
                        return Err(BlobError::TooLarge {
                            digest: self.digest.clone(),
                            expected: self.size,
                        }
                        .into_io());
                    }
                    if let Some(d) = self.digester.as_mut() {
                        d.update(&buf[..n]);
                    }
                    self.offset += n_u64;
                    self.failures = 0;
                    if let Some(p) = self.progress.as_mut() {
                        p(self.offset);
                    }
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => self.resume(e)?,
            }
        }
    }
}

/// `bytes <start>-<end>/<total|*>` → (start, total).
fn parse_content_range(v: &str) -> Option<(u64, Option<u64>)> {
    let rest = v.trim().strip_prefix("bytes")?.trim_start();
    let (range, total) = rest.split_once('/')?;
    let (start, _end) = range.split_once('-')?;
    let start = start.trim().parse().ok()?;
    let total = match total.trim() {
        "*" => None,
        t => Some(t.parse().ok()?),
    };
    Some((start, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ranges() {
        assert_eq!(
            parse_content_range("bytes 10-99/100"),
            Some((10, Some(100)))
        );
        assert_eq!(parse_content_range("bytes 10-99/*"), Some((10, None)));
        assert_eq!(parse_content_range("bytes=10-99/100"), None);
        assert_eq!(parse_content_range("items 1-2/3"), None);
        assert_eq!(parse_content_range(""), None);
    }
}
