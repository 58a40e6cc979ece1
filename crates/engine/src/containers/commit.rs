//! `POST /commit?container=…` (`docker commit`): a new image made of the
//! container's image and one more layer holding the container's changes.
//!
//! The layer is the snapshot crate's diff of the container's snapshot
//! (its overlay upper directory, or its tree against a view of the image
//! for the copying snapshotter), without the mount points dockerd keeps in
//! its init layer, written uncompressed into the content store. The config is the image's with the container's config (or the
//! request's, filled in from the container's as dockerd's `merge` does)
//! and the `--change` lines applied, one more diff id and one more history
//! entry. From there the image takes the path every import and load takes
//! (`unpack_and_record`): the new layer is unpacked into its own snapshot
//! and the image recorded. A running container is paused meanwhile unless
//! asked not to be, as dockerd does.

use std::io::Write;

use berth_image::content::{Ingester, Provider, WriterRequest, write_blob};
use berth_image::manifest::{
    ContainerConfig as ImageContainerConfig, History, parse_manifest_bytes,
};
use berth_image::{Descriptor, Digest, Manifest, Parsed, Reference, media_type};
use berth_models::container_config::ContainerConfig;

use super::{ContainerError, ContainerRecord, Status};
use crate::images::ImageError;
use crate::images::gc::ALL_BLOBS;

/// What `docker commit` asks.
#[derive(Debug, Clone, Default)]
pub struct CommitOptions {
    /// `repo[:tag]` to name the image.
    pub reference: Option<Reference>,
    pub comment: String,
    pub author: String,
    /// Pause a running container while its changes are read.
    pub pause: bool,
    /// `--change` lines (Dockerfile instructions).
    pub changes: Vec<String>,
    /// The request body: a config to use instead of the container's.
    pub config: Option<ContainerConfig>,
}

/// The image crate's shape of an API config (same JSON keys).
fn to_image_config(c: &ContainerConfig) -> Result<ImageContainerConfig, ContainerError> {
    serde_json::to_value(c)
        .and_then(serde_json::from_value)
        .map_err(|e| ContainerError::Internal(format!("converting the container's config: {e}")))
}

/// `user`'s map with the keys of `base` it lacks; `base`'s when it has none.
fn merge_map<V: Clone>(
    user: &mut Option<std::collections::BTreeMap<String, V>>,
    base: &Option<std::collections::BTreeMap<String, V>>,
) {
    match user {
        Some(u) if !u.is_empty() => {
            for (k, v) in base.iter().flatten() {
                u.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        u => u.clone_from(base),
    }
}

/// dockerd's `merge(userConf, imageConf)`: what `user` leaves unset comes
/// from `base` (the container's config).
fn merge(user: &mut ImageContainerConfig, base: &ImageContainerConfig) {
    if user.user.as_deref().unwrap_or("").is_empty() {
        user.user.clone_from(&base.user);
    }
    merge_map(&mut user.exposed_ports, &base.exposed_ports);
    match &mut user.env {
        Some(u) if !u.is_empty() => {
            let key = |e: &str| e.split_once('=').map_or(e, |(k, _)| k).to_string();
            for e in base.env.iter().flatten() {
                if !u.iter().any(|x| key(x) == key(e)) {
                    u.push(e.clone());
                }
            }
        }
        u => u.clone_from(&base.env),
    }
    if user.entrypoint.as_ref().is_none_or(Vec::is_empty) {
        if user.cmd.as_ref().is_none_or(Vec::is_empty) {
            user.cmd.clone_from(&base.cmd);
        }
        if user.entrypoint.is_none() {
            user.entrypoint.clone_from(&base.entrypoint);
        }
    }
    if user.healthcheck.is_none() {
        user.healthcheck.clone_from(&base.healthcheck);
    }
    if user.working_dir.as_deref().unwrap_or("").is_empty() {
        user.working_dir.clone_from(&base.working_dir);
    }
    merge_map(&mut user.volumes, &base.volumes);
    if user.stop_signal.as_deref().unwrap_or("").is_empty() {
        user.stop_signal.clone_from(&base.stop_signal);
    }
}

impl crate::Engine {
    /// Commits container `name` as a new image; returns its id.
    pub fn commit_container(
        &self,
        name: &str,
        options: &CommitOptions,
    ) -> Result<Digest, ContainerError> {
        let changes = crate::images::parse_changes(&options.changes)?;
        let record = self.container(name)?;
        let mut paused = options.pause && record.state.status == Status::Running;
        if paused && let Err(e) = self.pause_container(&record.id, true) {
            // It may have exited since (a short-lived command): then there
            // is nothing to pause, and the commit goes on.
            // (Its record may lag the shim by a moment.)
            let still_running = (0..20).all(|_| {
                let running = self
                    .container(&record.id)
                    .is_ok_and(|r| r.state.status == Status::Running);
                if running {
                    std::thread::sleep(std::time::Duration::from_millis(25));
                }
                running
            });
            if still_running {
                return Err(e);
            }
            paused = false;
        }
        let result = self.commit_record(&record, options, &changes);
        if paused && let Err(e) = self.pause_container(&record.id, false) {
            tracing::warn!("container {}: unpausing after commit: {e}", record.id);
        }
        let id = result?;
        let mut attributes = vec![
            ("imageID", id.to_string()),
            ("comment", options.comment.clone()),
        ];
        if let Some(r) = &options.reference {
            attributes.push(("imageRef", r.familiar()));
        }
        self.container_event(&record, "commit", &attributes);
        Ok(id)
    }

    fn commit_record(
        &self,
        record: &ContainerRecord,
        options: &CommitOptions,
        changes: &berth_image::ConfigChanges,
    ) -> Result<Digest, ContainerError> {
        let image = self.find_image(&record.image_id)?;
        let parent_config = self.image_config(&image)?;
        let raw = self
            .content
            .read_all(&image.manifest.digest)
            .map_err(ImageError::from)?;
        let parent_manifest = parse_manifest_bytes(Some(&image.manifest.media_type), &raw)
            .map_err(ImageError::Manifest)?
            .value;

        // Blobs written from here on are not referenced until the image is
        // recorded.
        let mut lease = self.leases.lease([ALL_BLOBS.to_string()]);
        let (layer, diff_id) = self.write_container_diff(record, image.top_layer.as_deref())?;

        let now = crate::time::format_rfc3339_nanos(std::time::SystemTime::now());
        let container_config = to_image_config(&record.config)?;
        let mut config = match &options.config {
            Some(c) => to_image_config(c)?,
            None => container_config.clone(),
        };
        changes.apply(&mut config);
        merge(&mut config, &container_config);

        let mut image_config = parent_config.clone();
        image_config.created = Some(now.clone());
        image_config.author = (!options.author.is_empty()).then(|| options.author.clone());
        image_config.config = Some(config);
        image_config.container_config = None;
        image_config.container = Some(record.id.clone());
        image_config.rootfs.diff_ids.push(diff_id);
        image_config.history.push(History {
            created: Some(now),
            created_by: record.config.cmd.as_ref().map(|c| c.join(" ")),
            author: image_config.author.clone(),
            comment: (!options.comment.is_empty()).then(|| options.comment.clone()),
            ..History::default()
        });
        image_config.extra.remove("comment");
        if !options.comment.is_empty() {
            image_config.extra.insert(
                "comment".to_string(),
                serde_json::Value::String(options.comment.clone()),
            );
        }
        let config = Parsed::from_value(image_config, media_type::OCI_CONFIG, "image config")
            .map_err(ImageError::Manifest)?;
        write_blob(&self.content, &config.raw).map_err(ImageError::from)?;
        let mut layers = parent_manifest.layers.clone();
        layers.push(layer);
        let manifest = Manifest::new(media_type::OCI_MANIFEST, config.descriptor(), layers);
        let manifest = Parsed::from_value(manifest, media_type::OCI_MANIFEST, "image manifest")
            .map_err(ImageError::Manifest)?;
        write_blob(&self.content, &manifest.raw).map_err(ImageError::from)?;
        let id = self.unpack_and_record(
            &manifest.descriptor(),
            &[],
            Some(image.id.clone()),
            true,
            &crate::progress::NoProgress,
            &mut lease,
        )?;
        if let Some(reference) = &options.reference {
            self.set_tag(&id, reference)?;
        }
        Ok(id)
    }

    /// The container's changes as an uncompressed layer blob in the content
    /// store: its descriptor and diff id.
    fn write_container_diff(
        &self,
        record: &ContainerRecord,
        parent: Option<&str>,
    ) -> Result<(Descriptor, Digest), ContainerError> {
        self.write_snapshot_diff(&record.snapshot, &record.id, parent)
    }

    /// The changes of the active snapshot `snapshot` over `parent` (a
    /// layer's chain id) as an uncompressed layer blob in the content
    /// store, without the runtime's mount points; `label` names the view
    /// it may need. The caller holds a lease on the blobs.
    pub(crate) fn write_snapshot_diff(
        &self,
        snapshot: &str,
        label: &str,
        parent: Option<&str>,
    ) -> Result<(Descriptor, Digest), ContainerError> {
        let upper = self.snapshotter.mounts(snapshot)?;
        // The copying snapshotter's diff compares against the parent's
        // tree: a view of it (a leftover after a crash has the prefix the
        // startup cleanup removes).
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let view_key = format!(
            "{}commit-{nanos}-{label}",
            crate::images::gc::EXTRACT_PREFIX,
        );
        let lower = match parent {
            Some(p) => self.snapshotter.view(&view_key, Some(p))?,
            None => Vec::new(),
        };
        let result = (|| {
            let source =
                berth_snapshot::DiffSource::from_mounts(&lower, &upper).ok_or_else(|| {
                    ContainerError::NotImplemented(format!(
                        "commit of {label}: its snapshot's mounts cannot be diffed"
                    ))
                })?;
            let mut writer = self
                .content
                .writer(WriterRequest::new())
                .map_err(ImageError::from)?;
            // What dockerd's init layer would hold is not the container's.
            berth_snapshot::diff::write_diff_excluding(
                &source,
                &super::changes::MOUNTPOINTS,
                &mut writer,
            )
            .map_err(ContainerError::Archive)?;
            writer
                .flush()
                .map_err(|e| ContainerError::Archive(berth_snapshot::DiffError::Write(e)))?;
            let committed = writer.commit(None, None).map_err(ImageError::from)?;
            Ok((
                Descriptor::new(
                    media_type::OCI_LAYER_TAR,
                    committed.digest.clone(),
                    committed.size,
                ),
                committed.digest,
            ))
        })();
        if parent.is_some()
            && let Err(e) = self.snapshotter.remove(&view_key)
        {
            tracing::warn!("removing the commit view {view_key}: {e}");
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_fills_what_the_request_leaves_unset() {
        let base = ImageContainerConfig {
            user: Some("app".into()),
            env: Some(vec!["A=1".into(), "B=2".into()]),
            cmd: Some(vec!["sh".into()]),
            working_dir: Some("/srv".into()),
            ..Default::default()
        };
        let mut user = ImageContainerConfig {
            env: Some(vec!["B=3".into()]),
            ..Default::default()
        };
        merge(&mut user, &base);
        assert_eq!(user.user.as_deref(), Some("app"));
        assert_eq!(user.env.as_deref().unwrap(), ["B=3", "A=1"]);
        assert_eq!(user.cmd.as_deref().unwrap(), ["sh"]);
        assert_eq!(user.working_dir.as_deref(), Some("/srv"));
        let mut user = ImageContainerConfig {
            entrypoint: Some(vec!["/init".into()]),
            ..Default::default()
        };
        merge(&mut user, &base);
        assert_eq!(user.cmd, None, "an entrypoint of its own keeps no command");
        // What the base lacks does not erase what the request set.
        let mut user = ImageContainerConfig {
            env: Some(vec!["X=1".into()]),
            ..Default::default()
        };
        merge(&mut user, &ImageContainerConfig::default());
        assert_eq!(user.env.as_deref().unwrap(), ["X=1"]);
    }
}
