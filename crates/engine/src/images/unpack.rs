//! Unpacking a layer blob into a committed snapshot, the one path every
//! layer takes (pull, load, import): decompress, apply into a fresh active
//! snapshot on top of the parent layer, check the uncompressed digest
//! against the image config's `diff_id`, commit under the chain id, record.
//! A failure at any step removes the active snapshot: nothing half-made
//! stays.
//!
//! The diff id check is what makes layer sharing safe: snapshots are shared
//! by chain id, so a layer whose content does not match the diff id its
//! config claims would poison every later image naming that chain.

use std::io::{self, Read};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use berth_image::compression::decompress;
use berth_image::{Digest, Digester};
use berth_snapshot::ApplyTarget;

use super::ImageError;
use super::gc::EXTRACT_PREFIX;
use super::store::{self, LayerRecord};
use crate::Engine;
use crate::progress::Progress;

/// One layer to unpack.
#[derive(Debug, Clone)]
pub struct LayerSpec {
    /// The snapshot name: the chain id of this layer and all below.
    pub chain_id: String,
    /// The chain id of the layer below, if any.
    pub parent: Option<String>,
    /// The digest the uncompressed tar must have.
    pub diff_id: Digest,
    /// The size of the blob as stored (compressed), from its descriptor.
    pub blob_size: u64,
}

impl Engine {
    /// Unpacks `blob` (gzip, zstd or plain tar) as `layer`. `before_commit`
    /// runs once the tar is applied and its diff id checked, and can still
    /// refuse (a pull waits there for the download's digest check).
    pub(crate) fn unpack_layer(
        &self,
        layer: &LayerSpec,
        blob: impl Read + Send,
        before_commit: impl FnOnce() -> Result<(), ImageError>,
    ) -> Result<LayerRecord, ImageError> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let key = format!("{EXTRACT_PREFIX}{nanos}-{}", layer.chain_id);
        let mounts = self
            .snapshotter
            .prepare(&key, layer.parent.as_deref())
            .map_err(ImageError::Snapshot)?;
        let result = (|| {
            let target = ApplyTarget::from_mounts(&mounts)
                .ok_or_else(|| ImageError::UnpackTarget(key.clone()))?;
            let (_, tar) = decompress(blob).map_err(|source| ImageError::Decompress {
                layer: layer.diff_id.to_string(),
                source,
            })?;
            let mut hashed = DiffIdReader::new(tar, &layer.diff_id);
            let image = self
                .snapshotter
                .layer_image(&key)
                .map_err(ImageError::Snapshot)?
                .filter(|_| stages_in_memory(layer.blob_size));
            let applied = match &image {
                Some(image) => target.apply_to_image(&mut hashed, image),
                None => target.apply(&mut hashed),
            };
            let stats = applied.map_err(|source| ImageError::Apply {
                layer: layer.diff_id.to_string(),
                source,
            })?;
            if image.is_some() {
                // The image builder's tree (a node per member, the inline data) is freed now;
                // give its pages back rather than keep them in this thread's arena.
                berth_runtime::sys::trim_heap();
            }
            // The digest covers the whole stream, padding after the tar's end
            // included.
            io::copy(&mut hashed, &mut io::sink()).map_err(|source| ImageError::Decompress {
                layer: layer.diff_id.to_string(),
                source,
            })?;
            let actual = hashed.finish();
            if actual != layer.diff_id {
                return Err(ImageError::LayerMismatch {
                    expected: layer.diff_id.to_string(),
                    actual: actual.to_string(),
                });
            }
            before_commit()?;
            match self.snapshotter.commit(&layer.chain_id, &key) {
                Ok(()) => {}
                // Another pull committed the same layer first: use theirs.
                Err(e) if e.category() == berth_snapshot::Category::AlreadyExists => {
                    let _ = self.snapshotter.remove(&key);
                }
                Err(e) => return Err(ImageError::Snapshot(e)),
            }
            let record = LayerRecord {
                chain_id: layer.chain_id.clone(),
                diff_id: layer.diff_id.clone(),
                parent: layer.parent.clone(),
                // What dockerd counts: the st_size of every non-directory
                // (a symlink's is its target's length), hard links once.
                size: stats.bytes + stats.symlink_bytes,
            };
            store::put_layer(&self.db.conn(), &record)?;
            Ok(record)
        })();
        if result.is_err()
            && let Err(e) = self.snapshotter.remove(&key)
            && e.category() != berth_snapshot::Category::NotFound
        {
            tracing::warn!("removing the failed unpack {key}: {e}");
        }
        result
    }
}

/// Is a layer whose blob has this size staged in memory (a tmpfs) to be written as an image?
/// Only when even an eightfold expansion would take no more than half the memory available
/// now: the host's, and what berthd's own memory cgroup still allows (the tmpfs is charged to
/// it). Bigger layers are unpacked on disk.
fn stages_in_memory(blob_size: u64) -> bool {
    let host = crate::system::meminfo_bytes("MemAvailable").unwrap_or(0);
    let available =
        berth_cgroups::memory_headroom(std::process::id()).map_or(host, |c| c.min(host));
    blob_size.saturating_mul(16) <= available
}

/// Hashes what passes through it.
struct DiffIdReader<R> {
    inner: R,
    digester: Digester,
}

impl<R: Read> DiffIdReader<R> {
    fn new(inner: R, expected: &Digest) -> Self {
        DiffIdReader {
            inner,
            digester: expected.algorithm().digester(),
        }
    }

    fn finish(self) -> Digest {
        self.digester.finalize()
    }
}

impl<R: Read> Read for DiffIdReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.digester.update(&buf[..n]);
        Ok(n)
    }
}

/// Reports the bytes read through it as a progress bar, at most every
/// 100 ms, and fails the read once the client has gone.
pub(crate) struct ProgressReader<'a, R> {
    pub inner: R,
    pub progress: &'a dyn Progress,
    pub id: String,
    pub status: &'static str,
    pub total: u64,
    pub done: u64,
    pub last: Option<Instant>,
}

impl<'a, R> ProgressReader<'a, R> {
    pub fn new(
        inner: R,
        progress: &'a dyn Progress,
        id: &str,
        status: &'static str,
        total: u64,
    ) -> Self {
        ProgressReader {
            inner,
            progress,
            id: id.to_string(),
            status,
            total,
            done: 0,
            last: None,
        }
    }
}

impl<R: Read> Read for ProgressReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.done += n as u64;
        let due = self.last.is_none_or(|t| t.elapsed().as_millis() >= 100);
        if due || (n == 0 && self.done > 0) {
            self.last = Some(Instant::now());
            self.progress
                .bar(&self.id, self.status, self.done, self.total)
                .map_err(io::Error::other)?;
        }
        Ok(n)
    }
}
