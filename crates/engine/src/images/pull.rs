//! `POST /images/create?fromImage=…` (`docker pull`): resolve the name at
//! the registry, pick the platform's manifest, fetch the config, then fetch
//! the layers in parallel while unpacking them in order, and record the
//! image with its names.
//!
//! # The layer pipeline
//!
//! Up to `max_concurrent_downloads` threads download layers (lowest first)
//! into the content store. The pulling thread unpacks the layers in order,
//! each on top of the one below; it does not wait for a download to end: it
//! reads the blob's ingest file as it grows ([`TailReader`]), so a layer is
//! decompressed and extracted while it is still arriving. Before a layer's
//! snapshot is committed, its download must have finished and its digest
//! been verified; a tampered or truncated blob therefore leaves neither a
//! blob nor a snapshot behind.
//!
//! Progress lines are dockerd's: `Pulling fs layer`, `Downloading`,
//! `Verifying Checksum`, `Download complete`, `Extracting`, `Pull complete`,
//! `Already exists`, then `Digest:` and `Status:`.

use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Instant;

use berth_image::content::{ContentError, Ingester, Provider, WriterRequest};
use berth_image::manifest::{parse_config_bytes, parse_document, parse_manifest_bytes};
use berth_image::{Descriptor, Digest, Document, Platform, Reference};
use berth_registry::{BlobError, Credentials, Repository};

use super::gc::Lease;
use super::store::{self, ImageRecord, RefKind};
use super::unpack::{LayerSpec, ProgressReader};
use super::{ImageError, chain_ids, short_id};
use crate::Engine;
use crate::error::Kind;
use crate::events::Event;
use crate::progress::{Cancelled, Progress};

/// The most a config blob may weigh.
const MAX_CONFIG_SIZE: u64 = 8 << 20;
/// Bytes per read of a layer download.
const CHUNK: usize = 256 << 10;

impl Engine {
    /// Pulls `reference` (all its tags when it has neither tag nor digest).
    pub fn pull(
        &self,
        reference: &Reference,
        platform: Option<&Platform>,
        credentials: &Credentials,
        progress: &dyn Progress,
    ) -> Result<(), ImageError> {
        if reference.familiar_name() == "scratch" {
            return Err(ImageError::ReservedName("scratch".to_string()));
        }
        let result = self.pull_reference(reference, platform, credentials, progress);
        if result.is_err() {
            // What the failed pull stored and no image references goes now.
            self.collect_after_failure();
        }
        result
    }

    fn pull_reference(
        &self,
        reference: &Reference,
        platform: Option<&Platform>,
        credentials: &Credentials,
        progress: &dyn Progress,
    ) -> Result<(), ImageError> {
        let repo = self.registry.repository(reference, credentials.clone());
        if reference.tag.is_none() && reference.digest.is_none() {
            let tags = repo.tags().map_err(|e| registry_error(e, reference))?;
            let mut any_new = false;
            for tag in tags {
                any_new |= self.pull_one(&repo, &reference.with_tag(&tag)?, platform, progress)?;
            }
            return status_line(progress, any_new, &reference.familiar());
        }
        let reference = reference.docker_ref();
        let new = self.pull_one(&repo, &reference, platform, progress)?;
        status_line(progress, new, &reference.familiar())
    }

    /// Pulls one tag or digest; true when the name now points at a newly
    /// arrived image.
    fn pull_one(
        &self,
        repo: &Repository,
        reference: &Reference,
        platform: Option<&Platform>,
        progress: &dyn Progress,
    ) -> Result<bool, ImageError> {
        let wanted = match (&reference.digest, &reference.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => "latest".to_string(),
        };
        let (top, top_bytes) = repo
            .resolve(&wanted)
            .map_err(|e| registry_error(e, reference))?;
        progress.status(&wanted, &format!("Pulling from {}", repo.path()))?;

        let document =
            parse_document(Some(&top.media_type), &top_bytes).map_err(ImageError::Manifest)?;
        let host = Platform::host();
        let platform = platform.unwrap_or(&host);
        let mut small_blobs: Vec<(Descriptor, Vec<u8>)> = Vec::new();
        let manifest = match document {
            Document::Manifest(m) => *m,
            Document::Index(index) => {
                let chosen = platform.select(&index.value).cloned().ok_or_else(|| {
                    ImageError::NoMatchingManifest(format!(
                        "no matching manifest for {platform} in the manifest list entries"
                    ))
                })?;
                small_blobs.push((index.descriptor(), index.raw.clone()));
                let bytes = repo
                    .fetch_manifest(&chosen.digest)
                    .map_err(|e| registry_error(e, reference))?;
                parse_manifest_bytes(Some(&chosen.media_type), &bytes)
                    .map_err(ImageError::Manifest)?
            }
        };
        manifest.value.check_image().map_err(ImageError::Manifest)?;
        small_blobs.push((manifest.descriptor(), manifest.raw.clone()));

        let config_desc = manifest.value.config.clone();
        let config_bytes = self.fetch_small_blob(repo, &config_desc, reference)?;
        let config = parse_config_bytes(&config_bytes).map_err(ImageError::Manifest)?;
        let diff_ids = config.value.rootfs.diff_ids.clone();
        if diff_ids.len() != manifest.value.layers.len() {
            return Err(ImageError::LayerCount {
                layers: manifest.value.layers.len(),
                diff_ids: diff_ids.len(),
            });
        }
        small_blobs.push((config_desc.clone(), config_bytes));
        let chains = chain_ids(&diff_ids);
        let image_id = config_desc.digest.clone();

        let mut lease = self.leases.lease(
            small_blobs
                .iter()
                .map(|(d, _)| d.digest.to_string())
                .chain(manifest.value.layers.iter().map(|l| l.digest.to_string()))
                .chain(chains.iter().cloned()),
        );
        for (desc, bytes) in &small_blobs {
            self.put_small_blob(desc, bytes)?;
        }

        // An image already here with all its layers: nothing to fetch (and,
        // as dockerd, nothing to say about its layers).
        let complete = {
            let conn = self.db.conn();
            store::image(&conn, &image_id)?.is_some()
                && chains.last().map_or(Ok(true), |top| {
                    store::layer(&conn, top).map(|l| l.is_some())
                })?
        };
        let mut jobs = Vec::new();
        for (i, layer) in manifest.value.layers.iter().enumerate() {
            if complete {
                break;
            }
            let id = short_id(&layer.digest).to_string();
            if store::layer(&self.db.conn(), &chains[i])?.is_some() {
                progress.status(&id, "Already exists")?;
                continue;
            }
            progress.send(berth_models::progress::JsonMessage {
                progress_detail: Some(Default::default()),
                ..berth_models::progress::JsonMessage::status(id.as_str(), "Pulling fs layer")
            })?;
            jobs.push(LayerJob {
                id,
                blob: layer.clone(),
                spec: LayerSpec {
                    chain_id: chains[i].clone(),
                    parent: i.checked_sub(1).map(|p| chains[p].clone()),
                    diff_id: diff_ids[i].clone(),
                    blob_size: layer.size,
                },
                state: Mutex::new(Download::Pending),
                changed: Condvar::new(),
            });
        }
        self.fetch_and_unpack(repo, reference, &jobs, progress, &mut lease)?;

        let size: u64 = chains.iter().filter_map(|c| self.layer_size(c)).sum();
        let record = ImageRecord {
            id: image_id.clone(),
            manifest: manifest.descriptor(),
            top_layer: chains.last().cloned(),
            parent: None,
            size,
            added_at: std::time::SystemTime::now(),
            last_tag_time: None,
        };
        let mut blobs: Vec<Digest> = small_blobs.iter().map(|(d, _)| d.digest.clone()).collect();
        blobs.extend(manifest.value.layers.iter().map(|l| l.digest.clone()));
        let digest_ref = reference
            .without_tag_or_digest()
            .with_digest(top.digest.clone());
        let moved = self.db.transaction(|tx| -> Result<bool, ImageError> {
            let existed = store::image(tx, &image_id)?.is_some();
            store::put_image(tx, &record, &blobs)?;
            let mut changed = !existed;
            if reference.digest.is_none() {
                let before = store::resolve_ref(tx, &reference.to_string())?;
                store::set_ref(tx, reference, &image_id, RefKind::Tag)?;
                changed |= before.as_ref() != Some(&image_id);
            }
            store::set_ref(tx, &digest_ref, &image_id, RefKind::Digest)?;
            Ok(changed)
        })?;
        drop(lease);

        progress.status("", &format!("Digest: {}", top.digest))?;
        let mut attributes = std::collections::BTreeMap::new();
        attributes.insert("name".to_string(), reference.familiar());
        self.events.publish(Event {
            kind: "image",
            action: "pull",
            actor: &reference.familiar(),
            attributes,
        });
        Ok(moved)
    }

    /// Reads a config blob from the store, or fetches it (verified).
    fn fetch_small_blob(
        &self,
        repo: &Repository,
        desc: &Descriptor,
        reference: &Reference,
    ) -> Result<Vec<u8>, ImageError> {
        if desc.size > MAX_CONFIG_SIZE {
            return Err(ImageError::InvalidArgument(format!(
                "image config {} is {} bytes, more than the {MAX_CONFIG_SIZE} allowed",
                desc.digest, desc.size
            )));
        }
        if let Ok(bytes) = self.content.read_all(&desc.digest) {
            return Ok(bytes);
        }
        let mut bytes = Vec::with_capacity(desc.size as usize);
        repo.fetch_blob(desc)
            .map_err(|e| registry_error(e, reference))?
            .read_to_end(&mut bytes)
            .map_err(|source| ImageError::Download {
                digest: desc.digest.to_string(),
                source,
            })?;
        Ok(bytes)
    }

    /// Stores a small, already verified blob (manifest, index, config).
    pub(crate) fn put_small_blob(&self, desc: &Descriptor, bytes: &[u8]) -> Result<(), ImageError> {
        let mut writer = match self.content.writer(WriterRequest::expecting(
            desc.digest.clone(),
            bytes.len() as u64,
        )) {
            Ok(w) => w,
            Err(ContentError::AlreadyExists { .. }) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        writer
            .write_all(bytes)
            .map_err(|source| ImageError::Download {
                digest: desc.digest.to_string(),
                source,
            })?;
        writer.commit(Some(bytes.len() as u64), Some(&desc.digest))?;
        Ok(())
    }

    /// Runs the download threads and unpacks on this one (see the module
    /// doc).
    fn fetch_and_unpack(
        &self,
        repo: &Repository,
        reference: &Reference,
        jobs: &[LayerJob],
        progress: &dyn Progress,
        lease: &mut Lease<'_>,
    ) -> Result<(), ImageError> {
        if jobs.is_empty() {
            return Ok(());
        }
        let cancel = AtomicBool::new(false);
        let next = AtomicUsize::new(0);
        let workers = self.config.max_concurrent_downloads.clamp(1, jobs.len());
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(job) = jobs.get(i) else { break };
                        if cancel.load(Ordering::Relaxed) {
                            job.finish(Download::Failed(Some(ImageError::Cancelled)));
                            continue;
                        }
                        let outcome = self.download(repo, reference, job, progress, &cancel);
                        job.finish(match outcome {
                            Ok(()) => Download::Done,
                            Err(e) => Download::Failed(Some(e)),
                        });
                    }
                });
            }
            let result = (|| {
                for job in jobs {
                    lease.add(job.spec.chain_id.clone());
                    self.unpack_job(job, progress, &cancel)?;
                    progress.send(berth_models::progress::JsonMessage {
                        progress_detail: Some(Default::default()),
                        ..berth_models::progress::JsonMessage::status(
                            job.id.as_str(),
                            "Pull complete",
                        )
                    })?;
                }
                Ok(())
            })();
            if result.is_err() {
                cancel.store(true, Ordering::Relaxed);
            }
            result
        })
    }

    /// Downloads one layer blob into the content store.
    fn download(
        &self,
        repo: &Repository,
        reference: &Reference,
        job: &LayerJob,
        progress: &dyn Progress,
        cancel: &AtomicBool,
    ) -> Result<(), ImageError> {
        let digest = &job.blob.digest;
        let mut writer = match self
            .content
            .writer(WriterRequest::expecting(digest.clone(), job.blob.size))
        {
            Ok(w) => w,
            Err(ContentError::AlreadyExists { .. }) => {
                progress.status(&job.id, "Download complete")?;
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        };
        let tail = File::open(writer.ingest_path()).map_err(|source| ImageError::Download {
            digest: digest.to_string(),
            source,
        })?;
        let io_err = |source: std::io::Error| {
            let mismatch = source.get_ref().and_then(|e| e.downcast_ref::<BlobError>());
            if matches!(mismatch, Some(BlobError::DigestMismatch { .. })) {
                ImageError::LayerVerification {
                    digest: digest.to_string(),
                    source,
                }
            } else {
                ImageError::Download {
                    digest: digest.to_string(),
                    source,
                }
            }
        };
        let mut blob = repo
            .fetch_blob(&job.blob)
            .map_err(|e| registry_error(e, reference))?;
        job.set(Download::Writing {
            file: tail,
            written: 0,
        });
        let mut buf = vec![0u8; CHUNK];
        let mut done: u64 = 0;
        let mut last = Instant::now();
        loop {
            if cancel.load(Ordering::Relaxed) {
                return Err(ImageError::Cancelled);
            }
            let n = blob.read(&mut buf).map_err(io_err)?;
            if n == 0 {
                break;
            }
            writer.write_all(&buf[..n]).map_err(io_err)?;
            writer.flush().map_err(io_err)?;
            done += n as u64;
            job.advance(done);
            if last.elapsed().as_millis() >= 100 {
                last = Instant::now();
                progress.bar(&job.id, "Downloading", done, job.blob.size)?;
            }
        }
        progress.bar(&job.id, "Downloading", done, job.blob.size)?;
        progress.send(berth_models::progress::JsonMessage {
            progress_detail: Some(Default::default()),
            ..berth_models::progress::JsonMessage::status(job.id.as_str(), "Verifying Checksum")
        })?;
        writer.commit(Some(job.blob.size), Some(digest))?;
        progress.send(berth_models::progress::JsonMessage {
            progress_detail: Some(Default::default()),
            ..berth_models::progress::JsonMessage::status(job.id.as_str(), "Download complete")
        })?;
        Ok(())
    }

    /// Unpacks one layer as its bytes arrive.
    fn unpack_job(
        &self,
        job: &LayerJob,
        progress: &dyn Progress,
        cancel: &AtomicBool,
    ) -> Result<(), ImageError> {
        let source: Box<dyn Read + Send + '_> = {
            let mut state = job.wait(|s| !matches!(s, Download::Pending));
            match &mut *state {
                Download::Writing { file, .. } => {
                    let file = file.try_clone().map_err(|source| ImageError::Download {
                        digest: job.blob.digest.to_string(),
                        source,
                    })?;
                    Box::new(TailReader {
                        job,
                        file,
                        pos: 0,
                        cancel,
                    })
                }
                Download::Done => {
                    drop(state);
                    Box::new(self.content.open(&job.blob.digest)?)
                }
                Download::Failed(e) => return Err(e.take().unwrap_or(ImageError::Cancelled)),
                Download::Pending => unreachable!("waited for a state other than Pending"),
            }
        };
        let reader = ProgressReader::new(source, progress, &job.id, "Extracting", job.blob.size);
        self.unpack_layer(&job.spec, reader, || {
            let mut state = job.wait(|s| matches!(s, Download::Done | Download::Failed(_)));
            match &mut *state {
                Download::Failed(e) => Err(e.take().unwrap_or(ImageError::Cancelled)),
                _ => Ok(()),
            }
        })
        .map_err(|e| {
            // A read the tail reader stopped: the download's own error says
            // why, or the pull was cancelled.
            if let Download::Failed(failed) = &mut *job.lock()
                && let Some(failed) = failed.take()
            {
                return failed;
            }
            if cancel.load(Ordering::Relaxed) {
                return ImageError::Cancelled;
            }
            e
        })?;
        Ok(())
    }
}

/// One layer to fetch and unpack.
struct LayerJob {
    /// The short id progress lines use.
    id: String,
    blob: Descriptor,
    spec: LayerSpec,
    state: Mutex<Download>,
    changed: Condvar,
}

/// Where a layer's download stands.
enum Download {
    Pending,
    /// Arriving in the ingest file; `file` reads it, `written` bytes are in.
    Writing {
        file: File,
        written: u64,
    },
    /// Verified and in the content store.
    Done,
    Failed(Option<ImageError>),
}

impl LayerJob {
    fn lock(&self) -> std::sync::MutexGuard<'_, Download> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn set(&self, state: Download) {
        *self.lock() = state;
        self.changed.notify_all();
    }

    /// The end of the download, unless a failure was recorded already.
    fn finish(&self, state: Download) {
        let mut current = self.lock();
        if !matches!(*current, Download::Failed(_)) {
            *current = state;
        }
        drop(current);
        self.changed.notify_all();
    }

    fn advance(&self, written: u64) {
        if let Download::Writing { written: w, .. } = &mut *self.lock() {
            *w = written;
        }
        self.changed.notify_all();
    }

    fn wait(&self, until: impl Fn(&Download) -> bool) -> std::sync::MutexGuard<'_, Download> {
        let mut state = self.lock();
        while !until(&state) {
            state = self.changed.wait(state).unwrap_or_else(|p| p.into_inner());
        }
        state
    }
}

/// Reads a blob's ingest file while its download is writing it: waits for
/// more bytes, ends when the download has finished.
struct TailReader<'a> {
    job: &'a LayerJob,
    file: File,
    pos: u64,
    cancel: &'a AtomicBool,
}

impl Read for TailReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let available = {
            let state = self.job.wait(|s| match s {
                Download::Writing { written, .. } => {
                    *written > self.pos || self.cancel.load(Ordering::Relaxed)
                }
                _ => true,
            });
            match &*state {
                Download::Writing { written, .. } => written.saturating_sub(self.pos),
                Download::Done => self.job.blob.size.saturating_sub(self.pos),
                // Not `Interrupted`: readers retry that kind.
                Download::Failed(_) | Download::Pending => {
                    return Err(std::io::Error::other("the layer download failed"));
                }
            }
        };
        if self.cancel.load(Ordering::Relaxed) {
            return Err(std::io::Error::other("pull cancelled"));
        }
        if available == 0 {
            return Ok(0);
        }
        let want = buf.len().min(available as usize);
        let n = self.file.read_at(&mut buf[..want], self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

/// The final line: whether the name now points at something new.
fn status_line(progress: &dyn Progress, new: bool, familiar: &str) -> Result<(), ImageError> {
    let line = if new {
        format!("Status: Downloaded newer image for {familiar}")
    } else {
        format!("Status: Image is up to date for {familiar}")
    };
    progress.status("", &line)?;
    Ok(())
}

/// A registry failure in dockerd's words.
pub(crate) fn registry_error(e: berth_registry::Error, reference: &Reference) -> ImageError {
    use berth_registry::ErrorKind as R;
    let (kind, message) = match e.kind() {
        R::NotFound if reference.tag.is_some() || reference.digest.is_some() => (
            Kind::NotFound,
            format!("manifest for {} not found: {e}", reference.familiar()),
        ),
        R::NotFound | R::Unauthorized | R::Denied => (
            Kind::NotFound,
            format!(
                "pull access denied for {}, repository does not exist or may require 'docker login': {e}",
                reference.familiar_name()
            ),
        ),
        R::Invalid => (Kind::InvalidArgument, e.to_string()),
        R::Unavailable => (Kind::Unavailable, e.to_string()),
        _ => (Kind::Internal, e.to_string()),
    };
    ImageError::Registry {
        message,
        kind,
        source: Box::new(e),
    }
}

impl From<Cancelled> for ImageError {
    fn from(_: Cancelled) -> Self {
        ImageError::Cancelled
    }
}
