//! Each step's image, as dockerd's `CommitBuildStep` makes it: the
//! parent's config with the step's run config as `config`, the cache key
//! (`/bin/sh -c #(nop) …` or the `RUN` command) as `container_config`, one
//! more history entry (`empty_layer` when the step changed no file) and,
//! when files changed, one more layer. The image is recorded through the
//! same unpack-and-record path as import, load and commit, with the
//! previous step's image as its parent (what the cache walks).

use berth_image::content::{Provider, write_blob};
use berth_image::manifest::{
    ContainerConfig as ImageContainerConfig, History, parse_manifest_bytes,
};
use berth_image::{Descriptor, Digest, Manifest, Parsed, media_type};
use berth_models::container_config::ContainerConfig;

use super::BuildError;
use super::dispatch::{Build, State};
use crate::images::ImageError;
use crate::images::gc::{ALL_BLOBS, Lease};
use crate::images::store::ImageRecord;

/// The diff id of an empty layer (a tar of no members).
pub(crate) const EMPTY_LAYER: &str =
    "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef";

fn to_image_config(c: &ContainerConfig) -> Result<ImageContainerConfig, BuildError> {
    serde_json::to_value(c)
        .and_then(serde_json::from_value)
        .map_err(|e| BuildError::Step(format!("converting the build's config: {e}")))
}

impl crate::Engine {
    /// The layers of `image`'s manifest.
    pub(crate) fn image_layers(&self, image: &ImageRecord) -> Result<Vec<Descriptor>, ImageError> {
        let raw = self.content.read_all(&image.manifest.digest)?;
        Ok(parse_manifest_bytes(Some(&image.manifest.media_type), &raw)
            .map_err(ImageError::Manifest)?
            .value
            .layers)
    }
}

impl Build<'_> {
    /// Commits a step that wrote no blob of its own.
    pub(crate) fn commit_step(
        &self,
        state: &State,
        probe: &ContainerConfig,
        layer: Option<(Descriptor, Digest)>,
        container: Option<&str>,
    ) -> Result<Digest, BuildError> {
        let mut lease = self.engine.leases.lease([ALL_BLOBS.to_string()]);
        self.commit_step_leased(state, probe, layer, container, &mut lease)
    }

    /// Records the image of a step: `layer` (already in the store, under
    /// `lease`) on top of the state's image, `probe` as its cache key.
    pub(crate) fn commit_step_leased(
        &self,
        state: &State,
        probe: &ContainerConfig,
        layer: Option<(Descriptor, Digest)>,
        container: Option<&str>,
        lease: &mut Lease<'_>,
    ) -> Result<Digest, BuildError> {
        let now = crate::time::format_rfc3339_nanos(std::time::SystemTime::now());
        let mut config = state.config.clone();
        config.created = Some(now.clone());
        if let Some(m) = &state.maintainer {
            config.author = Some(m.clone());
        }
        config.config = Some(to_image_config(&state.run)?);
        config.container_config = Some(to_image_config(probe)?);
        config.container = container.map(str::to_string);
        let mut layers = state.layers.clone();
        if let Some((desc, diff_id)) = &layer {
            config.rootfs.diff_ids.push(diff_id.clone());
            layers.push(desc.clone());
        }
        config.history.push(History {
            created: Some(now),
            created_by: probe.cmd.as_ref().map(|c| c.join(" ")),
            author: state.maintainer.clone(),
            empty_layer: layer.is_none().then_some(true),
            ..History::default()
        });
        let config = Parsed::from_value(config, media_type::OCI_CONFIG, "image config")
            .map_err(ImageError::Manifest)?;
        write_blob(&self.engine.content, &config.raw).map_err(ImageError::from)?;
        let manifest = Manifest::new(media_type::OCI_MANIFEST, config.descriptor(), layers);
        let manifest = Parsed::from_value(manifest, media_type::OCI_MANIFEST, "image manifest")
            .map_err(ImageError::Manifest)?;
        write_blob(&self.engine.content, &manifest.raw).map_err(ImageError::from)?;
        Ok(self.engine.unpack_and_record(
            &manifest.descriptor(),
            &[],
            state.image_id().cloned(),
            true,
            &crate::progress::NoProgress,
            lease,
        )?)
    }
}
