//! `POST /images/{name}/push` (`docker push`): uploads an image's layers
//! (skipping those the registry has, mounting those another repository of
//! the same registry has), its config and its manifest, then records the
//! pushed digest as a name of the image.
//!
//! Layers kept uncompressed (images that came from `load`, `import` or a
//! commit) are gzip-compressed once, before the first push; the image then
//! points at the compressed manifest, so later pushes send the same digests.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use berth_image::content::{Ingester, Provider, WriterRequest};
use berth_image::manifest::{Manifest, Parsed, parse_manifest_bytes};
use berth_image::{Descriptor, Digest, Reference, media_type};
use berth_models::progress::JsonMessage;
use berth_registry::{Credentials, Repository};

use super::store::{self, ImageRecord, RefKind};
use super::unpack::ProgressReader;
use super::{ImageError, short_id};
use crate::Engine;
use crate::error::Kind;
use crate::events::Event;
use crate::progress::Progress;

impl Engine {
    /// Pushes `reference` (every tag of its repository when it has none).
    pub fn push(
        &self,
        reference: &Reference,
        credentials: &Credentials,
        progress: &dyn Progress,
    ) -> Result<(), ImageError> {
        let tags: Vec<Reference> = if reference.tag.is_some() || reference.digest.is_some() {
            vec![reference.clone()]
        } else {
            let repository = reference.repository();
            let mut tags: Vec<Reference> = store::all_refs(&self.db.conn())?
                .into_iter()
                .filter(|r| r.kind == RefKind::Tag)
                .filter_map(|r| r.reference())
                .filter(|r| r.repository() == repository)
                .collect();
            tags.sort();
            tags
        };
        let first = tags
            .first()
            .ok_or_else(|| ImageError::NoTagToPush(reference.familiar_name()))?;
        let repo = self.registry.repository(first, credentials.clone());
        progress.status(
            "",
            &format!(
                "The push refers to repository [{}]",
                reference.familiar_name()
            ),
        )?;
        for tag in &tags {
            self.push_one(&repo, tag, progress)?;
        }
        Ok(())
    }

    fn push_one(
        &self,
        repo: &Repository,
        reference: &Reference,
        progress: &dyn Progress,
    ) -> Result<(), ImageError> {
        let image = {
            let conn = self.db.conn();
            store::resolve_ref(&conn, &reference.to_string())?
                .map(|id| store::image(&conn, &id))
                .transpose()?
                .flatten()
        }
        .ok_or_else(|| {
            // dockerd names the repository, not the tag
            ImageError::NoTagToPush(reference.familiar_name())
        })?;
        let _lease = self.leases.lease([image.id.to_string()]);
        let manifest = self.distributable_manifest(&image)?;

        let layers = &manifest.value.layers;
        // Progress lines name layers by their diff ids, as dockerd's do.
        let config = self.image_config(&image)?;
        let ids: Vec<String> = layers
            .iter()
            .enumerate()
            .map(|(i, l)| short_id(config.rootfs.diff_ids.get(i).unwrap_or(&l.digest)).to_string())
            .collect();
        for id in &ids {
            progress.status(id, "Preparing")?;
        }
        let cancel = AtomicBool::new(false);
        let next = AtomicUsize::new(0);
        let failure: std::sync::Mutex<Option<ImageError>> = std::sync::Mutex::new(None);
        let workers = self
            .config
            .max_concurrent_uploads
            .clamp(1, layers.len().max(1));
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(layer) = layers.get(i) else { break };
                        if cancel.load(Ordering::Relaxed) {
                            break;
                        }
                        if let Err(e) = self.push_layer(repo, &ids[i], layer, progress) {
                            cancel.store(true, Ordering::Relaxed);
                            let mut f = failure.lock().unwrap_or_else(|p| p.into_inner());
                            f.get_or_insert(e);
                        }
                    }
                });
            }
        });
        if let Some(e) = failure.into_inner().unwrap_or_else(|p| p.into_inner()) {
            return Err(e);
        }
        let config = &manifest.value.config;
        if repo
            .blob_exists(&config.digest)
            .map_err(|e| push_error(e, reference))?
            .is_none()
        {
            let blob = self.content.open(&config.digest)?;
            repo.push_blob(config, blob, |_| {})
                .map_err(|e| push_error(e, reference))?;
        }
        let tag = reference
            .tag
            .clone()
            .unwrap_or_else(|| manifest.digest.to_string());
        let digest = repo
            .put_manifest(&tag, &manifest.media_type, &manifest.raw)
            .map_err(|e| push_error(e, reference))?;
        progress.status(
            "",
            &format!("{tag}: digest: {digest} size: {}", manifest.raw.len()),
        )?;
        progress.send(JsonMessage {
            progress_detail: Some(Default::default()),
            aux: Some(serde_json::json!({"Tag": tag, "Digest": digest.to_string(), "Size": manifest.raw.len()})),
            ..Default::default()
        })?;
        let digest_ref = reference.without_tag_or_digest().with_digest(digest);
        store::set_ref(&self.db.conn(), &digest_ref, &image.id, RefKind::Digest)?;
        let mut attributes = std::collections::BTreeMap::new();
        attributes.insert("name".to_string(), reference.familiar());
        self.events.publish(Event {
            kind: "image",
            action: "push",
            actor: &reference.familiar(),
            attributes,
        });
        Ok(())
    }

    /// Uploads one layer unless the registry has it or can mount it.
    fn push_layer(
        &self,
        repo: &Repository,
        id: &str,
        layer: &Descriptor,
        progress: &dyn Progress,
    ) -> Result<(), ImageError> {
        let reference = |path: &str| Reference::parse(&format!("{}/{path}", repo.domain())).ok();
        let as_error = |e| {
            push_error(
                e,
                &reference(repo.path())
                    .unwrap_or_else(|| Reference::parse("unknown").expect("valid")),
            )
        };
        if repo.blob_exists(&layer.digest).map_err(as_error)?.is_some() {
            progress.status(id, "Layer already exists")?;
            return Ok(());
        }
        for from in self.mount_sources(repo, &layer.digest)? {
            if repo.mount_blob(&layer.digest, &from).map_err(as_error)? {
                progress.status(id, &format!("Mounted from {from}"))?;
                return Ok(());
            }
        }
        let blob = self.content.open(&layer.digest)?;
        let reader = ProgressReader::new(blob, progress, id, "Pushing", layer.size);
        repo.push_blob(layer, reader, |_| {}).map_err(as_error)?;
        progress.send(JsonMessage {
            progress_detail: Some(Default::default()),
            ..JsonMessage::status(id, "Pushed")
        })?;
        Ok(())
    }

    /// Other repositories of the same registry whose images hold `digest`.
    fn mount_sources(&self, repo: &Repository, digest: &Digest) -> Result<Vec<String>, ImageError> {
        let conn = self.db.conn();
        let mut stmt = conn.prepare(
            "SELECT DISTINCT r.repository FROM image_refs r JOIN image_blobs b ON b.image_id = r.image_id
             WHERE b.digest = ?1",
        )?;
        let repositories = stmt
            .query_map([digest.as_str()], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        let prefix = format!("{}/", repo.domain());
        Ok(repositories
            .iter()
            .filter_map(|r| r.strip_prefix(&prefix))
            .filter(|path| *path != repo.path())
            .map(str::to_string)
            .collect())
    }

    /// The image's manifest with every layer compressed, made (and kept)
    /// once if the image has uncompressed layers.
    fn distributable_manifest(&self, image: &ImageRecord) -> Result<Parsed<Manifest>, ImageError> {
        let raw = self.content.read_all(&image.manifest.digest)?;
        let parsed = parse_manifest_bytes(Some(&image.manifest.media_type), &raw)
            .map_err(ImageError::Manifest)?;
        if !parsed
            .value
            .layers
            .iter()
            .any(|l| is_uncompressed(&l.media_type))
        {
            return Ok(parsed);
        }
        let docker = parsed.media_type == media_type::DOCKER_MANIFEST_V2;
        let mut manifest = parsed.value.clone();
        for layer in &mut manifest.layers {
            if !is_uncompressed(&layer.media_type) {
                continue;
            }
            let compressed = self.gzip_blob(layer)?;
            *layer = Descriptor::new(
                if docker {
                    media_type::DOCKER_LAYER_TAR_GZIP
                } else {
                    media_type::OCI_LAYER_TAR_GZIP
                },
                compressed.0,
                compressed.1,
            );
        }
        let new = Parsed::from_value(manifest, &parsed.media_type, "image manifest")
            .map_err(ImageError::Manifest)?;
        self.put_small_blob(&new.descriptor(), &new.raw)?;
        let mut record = image.clone();
        record.manifest = new.descriptor();
        let mut blobs = vec![new.digest.clone(), new.value.config.digest.clone()];
        blobs.extend(new.value.layers.iter().map(|l| l.digest.clone()));
        self.db.transaction(|tx| -> Result<(), ImageError> {
            store::put_image(tx, &record, &blobs)?;
            tx.execute(
                "DELETE FROM image_blobs WHERE image_id = ?1 AND digest NOT IN (SELECT value FROM json_each(?2))",
                rusqlite::params![image.id.as_str(), serde_json::to_string(&blobs.iter().map(Digest::as_str).collect::<Vec<_>>()).unwrap_or_default()],
            )?;
            Ok(())
        })?;
        Ok(new)
    }

    /// Compresses a stored blob with gzip into the store; its digest and size.
    fn gzip_blob(&self, layer: &Descriptor) -> Result<(Digest, u64), ImageError> {
        let mut input = self.content.open(&layer.digest)?;
        let mut writer = self.content.writer(WriterRequest::new())?;
        {
            let mut gz = flate2::write::GzEncoder::new(&mut writer, flate2::Compression::default());
            std::io::copy(&mut input, &mut gz).map_err(|source| ImageError::Compress {
                digest: layer.digest.to_string(),
                source,
            })?;
            gz.finish().map_err(|source| ImageError::Compress {
                digest: layer.digest.to_string(),
                source,
            })?;
        }
        writer.flush().map_err(|source| ImageError::Compress {
            digest: layer.digest.to_string(),
            source,
        })?;
        let committed = writer.commit(None, None)?;
        Ok((committed.digest, committed.size))
    }
}

fn is_uncompressed(media: &str) -> bool {
    media == media_type::OCI_LAYER_TAR || media == media_type::DOCKER_LAYER_TAR
}

/// A registry failure during a push, in dockerd's words.
fn push_error(e: berth_registry::Error, reference: &Reference) -> ImageError {
    use berth_registry::ErrorKind as R;
    let kind = match e.kind() {
        R::NotFound => Kind::NotFound,
        R::Unauthorized => Kind::Unauthorized,
        R::Denied => Kind::Forbidden,
        R::Invalid => Kind::InvalidArgument,
        R::Unavailable => Kind::Unavailable,
        _ => Kind::Internal,
    };
    let message = match e.kind() {
        R::Unauthorized | R::Denied => format!(
            "denied: requested access to the resource is denied ({}): {e}",
            reference.familiar_name()
        ),
        _ => e.to_string(),
    };
    ImageError::Registry {
        message,
        kind,
        source: Box::new(e),
    }
}
