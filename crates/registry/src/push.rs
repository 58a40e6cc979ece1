//! The push side of [`Repository`]: blob existence, cross-repository mounts, blob uploads and
//! manifest puts (distribution spec "Push").
//!
//! A push goes: for each blob, [`blob_exists`](Repository::blob_exists) (skip it), else
//! [`mount_blob`](Repository::mount_blob) from a repository that has it, else
//! [`push_blob`](Repository::push_blob); then [`put_manifest`](Repository::put_manifest) for the
//! image manifests, then the index, under the tag. Every call uses the `pull,push` scope.
//!
//! Uploads are monolithic: `POST /blobs/uploads/` opens a session, one `PUT <location>?digest=`
//! carries the whole blob with its `Content-Length`. The bytes are hashed as they are sent and
//! the upload is cut before its last byte when they do not match the descriptor, so a bad local
//! source never becomes a blob in the registry.

use std::io::{self, Read};

use berth_image::{Descriptor, Digest, Digester};

use crate::client::{Body, Call, Host, header, status_error};
use crate::error::{Error, Result};
use crate::repository::{MAX_MANIFEST_SIZE, ManifestRef, Repository, check_repository_path};
use crate::url::{resolve, with_query};

/// Wraps the local source of an upload: counts, hashes, reports progress, and fails the read
/// that would complete a blob whose size or digest is wrong.
struct VerifyingSource<'a, R: Read> {
    inner: R,
    desc: &'a Descriptor,
    digester: Option<Digester>,
    sent: u64,
    progress: &'a mut dyn FnMut(u64),
    failure: Option<String>,
}

impl<R: Read> VerifyingSource<'_, R> {
    fn fail(&mut self, kind: io::ErrorKind, msg: String) -> io::Error {
        self.failure = Some(msg.clone());
        io::Error::new(kind, msg)
    }
}

impl<R: Read> Read for VerifyingSource<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let remaining = self.desc.size - self.sent;
        if remaining == 0 {
            return Ok(0);
        }
        let want = buf
            .len()
            .min(usize::try_from(remaining).unwrap_or(usize::MAX));
        let n = loop {
            match self.inner.read(&mut buf[..want]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(self.fail(e.kind(), format!("reading the local content: {e}")));
                }
            }
        };
        if n == 0 {
            let msg = format!(
                "the local content ended after {} of {} bytes",
                self.sent, self.desc.size
            );
            return Err(self.fail(io::ErrorKind::UnexpectedEof, msg));
        }
        if let Some(d) = self.digester.as_mut() {
            d.update(&buf[..n]);
        }
        self.sent += n as u64;
        if self.sent == self.desc.size
            && let Some(d) = self.digester.take()
        {
            let actual = d.finalize();
            if actual != self.desc.digest {
                let msg = format!(
                    "the local content hashes to {actual}, not {}",
                    self.desc.digest
                );
                return Err(self.fail(io::ErrorKind::InvalidData, msg));
            }
        }
        (self.progress)(self.sent);
        Ok(n)
    }
}

impl Repository {
    /// `Some(size)` when the registry has the blob in this repository (HEAD), `None` when it
    /// does not. The size is the registry's `Content-Length` (0 when it sends none).
    pub fn blob_exists(&self, digest: &Digest) -> Result<Option<u64>> {
        let host = self.host()?;
        let url = self.url(&host, &format!("blobs/{digest}"));
        let mut call = Call::new("HEAD", url.clone());
        let resp = self
            .client
            .send(&host, &self.creds, &self.push_scope(), &mut call)?;
        match resp.status().as_u16() {
            200..=299 => Ok(Some(
                header(&resp, "content-length")
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0),
            )),
            404 => Ok(None),
            _ => Err(status_error("HEAD", &url, resp)),
        }
    }

    /// Asks the registry to mount the blob from `from_repo` (a path on the same registry,
    /// `library/busybox`). `true` when mounted; `false` when the registry opened an upload
    /// session instead (it does not have the blob there, or mounting is not allowed), which is
    /// cancelled.
    pub fn mount_blob(&self, digest: &Digest, from_repo: &str) -> Result<bool> {
        check_repository_path(from_repo)?;
        let host = self.host()?;
        let base = self.url(&host, "blobs/uploads/");
        let url = with_query(&base, &[("mount", digest.as_str()), ("from", from_repo)]);
        let mut scopes = self.push_scope();
        if from_repo != self.path {
            scopes.push(format!("repository:{from_repo}:pull"));
        }
        let mut call = Call::new("POST", url.clone());
        let resp = self.client.send(&host, &self.creds, &scopes, &mut call)?;
        match resp.status().as_u16() {
            201 => Ok(true),
            202 => {
                if let Some(loc) = header(&resp, "location") {
                    let loc = resolve(&url, loc);
                    self.cancel_upload(&host, &loc);
                }
                Ok(false)
            }
            _ => Err(status_error("POST", &url, resp)),
        }
    }

    /// Best effort: a session left open expires on the registry anyway.
    fn cancel_upload(&self, host: &Host, location: &str) {
        let mut call = Call::new("DELETE", location.to_string());
        let _ = self
            .client
            .send(host, &self.creds, &self.push_scope(), &mut call);
    }

    /// Opens an upload session; its absolute URL.
    fn start_upload(&self, host: &Host) -> Result<String> {
        let url = self.url(host, "blobs/uploads/");
        let mut call = Call::new("POST", url.clone());
        let resp = self
            .client
            .send(host, &self.creds, &self.push_scope(), &mut call)?;
        if resp.status().as_u16() != 202 {
            return Err(status_error("POST", &url, resp));
        }
        let loc = header(&resp, "location").ok_or_else(|| Error::Garbage {
            url: url.clone(),
            reason: "202 without a Location header".into(),
        })?;
        Ok(resolve(&url, loc))
    }

    /// Uploads the blob `desc` describes, read from `reader` (exactly `desc.size` bytes that
    /// must hash to `desc.digest`; otherwise the upload is aborted and
    /// [`Error::ReadPushSource`] returned). `progress` is told the bytes sent so far.
    pub fn push_blob(
        &self,
        desc: &Descriptor,
        reader: impl Read,
        mut progress: impl FnMut(u64),
    ) -> Result<()> {
        let host = self.host()?;
        let location = self.start_upload(&host)?;
        let url = with_query(&location, &[("digest", desc.digest.as_str())]);
        let mut source = VerifyingSource {
            inner: reader,
            desc,
            digester: Some(desc.digest.algorithm().digester()),
            sent: 0,
            progress: &mut progress,
            failure: None,
        };
        let size = desc.size;
        let result = {
            let mut call = Call::new("PUT", url.clone())
                .header("content-type", "application/octet-stream")
                .body(Body::Stream(&mut source, size));
            self.client
                .send(&host, &self.creds, &self.push_scope(), &mut call)
        };
        if let Some(reason) = source.failure.take() {
            self.cancel_upload(&host, &location);
            return Err(Error::ReadPushSource {
                digest: desc.digest.clone(),
                source: io::Error::other(reason),
            });
        }
        let resp = match result {
            Ok(r) => r,
            Err(e) => {
                self.cancel_upload(&host, &location);
                return Err(e);
            }
        };
        if resp.status().as_u16() != 201 {
            let err = status_error("PUT", &url, resp);
            self.cancel_upload(&host, &location);
            return Err(err);
        }
        if let Some(v) = header(&resp, "docker-content-digest").map(str::trim)
            && !v.is_empty()
            && v != desc.digest.as_str()
        {
            return Err(Error::Garbage {
                url,
                reason: format!("the registry stored the blob as {v}, not {}", desc.digest),
            });
        }
        Ok(())
    }

    /// Puts a manifest (or index) under `reference`, a tag or its digest, with `media_type`
    /// as `Content-Type`. Returns its digest (sha256 of `bytes`, or the digest given), checked
    /// against the registry's `Docker-Content-Digest`.
    pub fn put_manifest(&self, reference: &str, media_type: &str, bytes: &[u8]) -> Result<Digest> {
        let r = ManifestRef::parse(reference)?;
        let digest = match &r {
            ManifestRef::Digest(d) => d.clone(),
            ManifestRef::Tag(_) => Digest::sha256_of(bytes),
        };
        let host = self.host()?;
        let url = self.url(&host, &format!("manifests/{}", r.as_str()));
        if bytes.len() as u64 > MAX_MANIFEST_SIZE {
            return Err(Error::ManifestTooLarge {
                url,
                size: bytes.len() as u64,
                limit: MAX_MANIFEST_SIZE,
            });
        }
        let actual = Digest::of(digest.algorithm(), bytes);
        if actual != digest {
            return Err(Error::ManifestDigestMismatch {
                url,
                expected: digest,
                actual,
            });
        }
        let mut call = Call::new("PUT", url.clone())
            .header("content-type", media_type)
            .body(Body::Bytes(bytes));
        let resp = self
            .client
            .send(&host, &self.creds, &self.push_scope(), &mut call)?;
        if !resp.status().is_success() {
            return Err(status_error("PUT", &url, resp));
        }
        if let Some(v) = header(&resp, "docker-content-digest").map(str::trim)
            && !v.is_empty()
            && let Ok(announced) = Digest::parse(v)
            && announced.algorithm() == digest.algorithm()
            && announced != digest
        {
            return Err(Error::ManifestDigestMismatch {
                url,
                expected: digest,
                actual: announced,
            });
        }
        Ok(digest)
    }
}
