//! `GET /images/{name}/json` and `GET /images/{name}/history`.

use berth_models::image::{GraphDriver, HistoryItem, ImageInspect, Metadata, RootFs};

use super::list::names;
use super::store::{self, ImageRecord};
use super::{ImageError, config_view};
use crate::Engine;
use crate::time::{parse_rfc3339, unix_seconds};

impl Engine {
    /// The full description of an image, for the current API version; the
    /// API layer adds the fields older versions expect.
    pub fn inspect_image(&self, name: &str) -> Result<ImageInspect, ImageError> {
        let image = self.find_image(name)?;
        let config = self.image_config(&image)?;
        let refs = store::refs_of(&self.db.conn(), &image.id)?;
        let (tags, digests) = names(&refs);
        Ok(ImageInspect {
            id: image.id.to_string(),
            repo_tags: tags,
            repo_digests: digests,
            parent: image
                .parent
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            comment: config
                .extra
                .get("comment")
                .and_then(|c| c.as_str())
                .unwrap_or_default()
                .to_string(),
            created: config.created.clone().unwrap_or_default(),
            container: Some(config.container.clone().unwrap_or_default()),
            container_config: Some(
                config_view::api_config(config.container_config.as_ref()).unwrap_or_default(),
            ),
            docker_version: config.docker_version.clone().unwrap_or_default(),
            author: config.author.clone().unwrap_or_default(),
            config: Some(config_view::api_config(config.config.as_ref()).unwrap_or_default()),
            architecture: config.architecture.clone(),
            variant: config.variant.clone().unwrap_or_default(),
            os: config.os.clone(),
            os_version: config.os_version.clone().unwrap_or_default(),
            size: image.size as i64,
            virtual_size: None,
            graph_driver: self.graph_driver(&image),
            root_fs: RootFs {
                kind: "layers".to_string(),
                layers: config
                    .rootfs
                    .diff_ids
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
            },
            metadata: Metadata {
                // Go's zero time when never tagged, as dockerd prints it.
                last_tag_time: image
                    .last_tag_time
                    .clone()
                    .unwrap_or_else(|| "0001-01-01T00:00:00Z".to_string()),
            },
        })
    }

    /// The steps that made an image, newest first (`docker history`).
    pub fn image_history(&self, name: &str) -> Result<Vec<HistoryItem>, ImageError> {
        let image = self.find_image(name)?;
        let config = self.image_config(&image)?;
        let refs = store::refs_of(&self.db.conn(), &image.id)?;
        let (tags, _) = names(&refs);
        let layer_sizes = self.layer_sizes(&image, &config)?;
        let mut sizes = layer_sizes.into_iter();
        let mut items: Vec<HistoryItem> = Vec::new();
        let history: Vec<berth_image::manifest::History> = if config.history.is_empty() {
            // An image without history: one step per layer, as dockerd shows.
            config
                .rootfs
                .diff_ids
                .iter()
                .map(|_| berth_image::manifest::History::default())
                .collect()
        } else {
            config.history.clone()
        };
        for h in &history {
            let empty = h.empty_layer.unwrap_or(false);
            let size = if empty { 0 } else { sizes.next().unwrap_or(0) };
            items.push(HistoryItem {
                id: "<missing>".to_string(),
                created: h
                    .created
                    .as_deref()
                    .and_then(|c| parse_rfc3339(c).ok())
                    .map_or(0, unix_seconds),
                created_by: h.created_by.clone().unwrap_or_default(),
                tags: None,
                size: size as i64,
                comment: h.comment.clone().unwrap_or_default(),
            });
        }
        items.reverse();
        if let Some(top) = items.first_mut() {
            top.id = image.id.to_string();
            top.tags = Some(tags);
        }
        Ok(items)
    }

    /// The unpacked size of each layer of `image`, bottom first.
    fn layer_sizes(
        &self,
        image: &ImageRecord,
        config: &berth_image::ImageConfig,
    ) -> Result<Vec<u64>, ImageError> {
        let chain = super::chain_ids(&config.rootfs.diff_ids);
        let mut sizes = Vec::with_capacity(chain.len());
        for id in &chain {
            sizes.push(self.layer_size(id).unwrap_or(0));
        }
        if sizes.iter().all(|s| *s == 0) && chain.len() == 1 {
            sizes[0] = image.size;
        }
        Ok(sizes)
    }

    /// The storage driver. Its directories are the snapshotter's business
    /// and not shown (`Data` is null, as dockerd with a containerd
    /// snapshotter reports it).
    fn graph_driver(&self, _image: &ImageRecord) -> GraphDriver {
        GraphDriver {
            name: self.storage_driver_name().to_string(),
            data: None,
        }
    }
}
