//! `docker save` / `docker load` (`GET /images/get`, `POST /images/load`)
//! and `docker import` (`POST /images/create?fromSrc=`): the image crate
//! reads and writes the archives; this module unpacks what arrives into
//! layers and records the images and their names.

use std::io::{Read, Write};

use berth_image::archive::{self, LoadOptions, SaveImage};
use berth_image::content::Provider;
use berth_image::import::{self, ImportOptions};
use berth_image::manifest::{parse_config_bytes, parse_manifest_bytes};
use berth_image::{Descriptor, Digest, Platform, Reference};
use berth_models::progress::JsonMessage;

use super::gc::{ALL_BLOBS, Lease};
use super::store::{self, ImageRecord, RefKind};
use super::unpack::{LayerSpec, ProgressReader};
use super::{ImageError, chain_ids, short_id};
use crate::Engine;
use crate::events::Event;
use crate::progress::Progress;

impl Engine {
    /// Loads every image of an archive (`docker save` output, an OCI
    /// layout tar, plain or compressed). Reports `Loaded image: …` lines,
    /// and per-layer bars unless `quiet`.
    pub fn load_images(
        &self,
        input: impl Read + Send,
        quiet: bool,
        progress: &dyn Progress,
    ) -> Result<(), ImageError> {
        // Nothing the archive brings is referenced until its image is
        // recorded: keep the collector away from blobs meanwhile.
        let mut lease = self.leases.lease([ALL_BLOBS.to_string()]);
        let loaded = archive::load(&self.content, input, &LoadOptions::default())
            .map_err(ImageError::Archive)?;
        for image in loaded {
            let id = self.unpack_and_record(
                &image.manifest,
                std::slice::from_ref(&image.target.digest),
                None,
                quiet,
                progress,
                &mut lease,
            )?;
            if image.names.is_empty() {
                stream_line(progress, &format!("Loaded image ID: {id}"))?;
            }
            for name in &image.names {
                if let Some(old) = store::resolve_ref(&self.db.conn(), &name.to_string())?
                    && old != id
                {
                    stream_line(
                        progress,
                        &format!(
                            "The image {} already exists, renaming the old one with ID {old} to empty string",
                            name.familiar()
                        ),
                    )?;
                }
                self.set_tag(&id, name)?;
                stream_line(progress, &format!("Loaded image: {}", name.familiar()))?;
            }
            self.events.publish(Event {
                kind: "image",
                action: "load",
                actor: id.as_str(),
                attributes: Default::default(),
            });
        }
        Ok(())
    }

    /// What `save` will write for `names`: each name with its image; a
    /// repository without a tag stands for all its tags, an id for the
    /// image without names. Resolved before any byte is written, so a bad
    /// name is an error the client sees as such.
    pub fn plan_save(&self, names: &[String]) -> Result<Vec<SaveImage>, ImageError> {
        let mut out: Vec<SaveImage> = Vec::new();
        let mut add = |image: &ImageRecord, name: Option<Reference>| match out
            .iter_mut()
            .find(|s| s.target.digest == image.manifest.digest)
        {
            Some(existing) => existing.names.extend(name),
            None => out.push(SaveImage {
                target: image.manifest.clone(),
                names: name.into_iter().collect(),
            }),
        };
        for name in names {
            let parsed = Reference::parse(name).ok();
            if let Some(r) = &parsed
                && r.tag.is_none()
                && r.digest.is_none()
            {
                let repository = r.repository();
                let tagged: Vec<_> = store::all_refs(&self.db.conn())?
                    .into_iter()
                    .filter(|x| x.kind == RefKind::Tag)
                    .filter_map(|x| x.reference().map(|reference| (reference, x.image_id)))
                    .filter(|(reference, _)| reference.repository() == repository)
                    .collect();
                if !tagged.is_empty() {
                    for (reference, id) in tagged {
                        if let Some(image) = store::image(&self.db.conn(), &id)? {
                            add(&image, Some(reference));
                        }
                    }
                    continue;
                }
            }
            let image = self.find_image(name)?;
            let by_name = parsed
                .filter(|r| {
                    r.digest.is_none()
                        && !image.id.as_str().starts_with(name.as_str())
                        && !image.id.hex().starts_with(name.as_str())
                })
                .map(|r| r.tag_or_latest());
            add(&image, by_name);
        }
        Ok(out)
    }

    /// Writes the images planned by [`plan_save`](Engine::plan_save).
    pub fn save_images(&self, images: &[SaveImage], out: impl Write) -> Result<(), ImageError> {
        archive::save(&self.content, images, &Platform::host(), out)
            .map_err(ImageError::Archive)?;
        for image in images {
            self.events.publish(Event {
                kind: "image",
                action: "save",
                actor: image.target.digest.as_str(),
                attributes: Default::default(),
            });
        }
        Ok(())
    }

    /// `docker import`: a rootfs tarball becomes a one-layer image, tagged
    /// `tag` when given. Returns the image id.
    pub fn import_image(
        &self,
        rootfs: impl Read + Send,
        tag: Option<&Reference>,
        options: &ImportOptions,
        progress: &dyn Progress,
    ) -> Result<Digest, ImageError> {
        let mut lease = self.leases.lease([ALL_BLOBS.to_string()]);
        let imported =
            import::import(&self.content, rootfs, options).map_err(ImageError::Import)?;
        let id =
            self.unpack_and_record(&imported.manifest, &[], None, true, progress, &mut lease)?;
        if let Some(tag) = tag {
            self.set_tag(&id, tag)?;
        }
        let mut attributes = std::collections::BTreeMap::new();
        if let Some(tag) = tag {
            attributes.insert("name".to_string(), tag.familiar());
        }
        self.events.publish(Event {
            kind: "image",
            action: "import",
            actor: id.as_str(),
            attributes,
        });
        Ok(id)
    }

    /// Unpacks the layers of the image `manifest` names (all its blobs are
    /// in the store) and records it; returns its id.
    pub(crate) fn unpack_and_record(
        &self,
        manifest_desc: &Descriptor,
        extra_blobs: &[Digest],
        parent: Option<Digest>,
        quiet: bool,
        progress: &dyn Progress,
        lease: &mut Lease<'_>,
    ) -> Result<Digest, ImageError> {
        let raw = self.content.read_all(&manifest_desc.digest)?;
        let manifest = parse_manifest_bytes(Some(&manifest_desc.media_type), &raw)
            .map_err(ImageError::Manifest)?;
        manifest.value.check_image().map_err(ImageError::Manifest)?;
        let config_raw = self.content.read_all(&manifest.value.config.digest)?;
        let config = parse_config_bytes(&config_raw).map_err(ImageError::Manifest)?;
        let diff_ids = &config.value.rootfs.diff_ids;
        if diff_ids.len() != manifest.value.layers.len() {
            return Err(ImageError::LayerCount {
                layers: manifest.value.layers.len(),
                diff_ids: diff_ids.len(),
            });
        }
        let chains = chain_ids(diff_ids);
        for (i, layer) in manifest.value.layers.iter().enumerate() {
            lease.add(chains[i].clone());
            if store::layer(&self.db.conn(), &chains[i])?.is_some() {
                continue;
            }
            let spec = LayerSpec {
                chain_id: chains[i].clone(),
                parent: i.checked_sub(1).map(|p| chains[p].clone()),
                diff_id: diff_ids[i].clone(),
                blob_size: layer.size,
            };
            let blob = self.content.open(&layer.digest)?;
            if quiet {
                self.unpack_layer(&spec, blob, || Ok(()))?;
            } else {
                let id = short_id(&diff_ids[i]).to_string();
                let reader = ProgressReader::new(blob, progress, &id, "Loading layer", layer.size);
                self.unpack_layer(&spec, reader, || Ok(()))?;
            }
        }
        let size = chains.iter().filter_map(|c| self.layer_size(c)).sum();
        let id = manifest.value.config.digest.clone();
        let record = ImageRecord {
            id: id.clone(),
            manifest: manifest.descriptor(),
            top_layer: chains.last().cloned(),
            parent,
            size,
            added_at: std::time::SystemTime::now(),
            last_tag_time: None,
        };
        let mut blobs: Vec<Digest> = vec![manifest.digest.clone(), id.clone()];
        blobs.extend(manifest.value.layers.iter().map(|l| l.digest.clone()));
        blobs.extend(extra_blobs.iter().cloned());
        self.db
            .transaction(|tx| store::put_image(tx, &record, &blobs))?;
        Ok(id)
    }
}

impl Engine {
    /// Removes what a failed operation stored and nothing references.
    pub(crate) fn collect_after_failure(&self) {
        if let Err(e) = self.collect_garbage() {
            tracing::warn!("collecting after a failed operation: {e}");
        }
    }
}

/// A `{"stream": "...\n"}` line, how dockerd reports what load did.
fn stream_line(progress: &dyn Progress, text: &str) -> Result<(), ImageError> {
    progress.send(JsonMessage {
        stream: format!("{text}\n"),
        ..Default::default()
    })?;
    Ok(())
}
