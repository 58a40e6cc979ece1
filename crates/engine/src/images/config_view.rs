//! An image's config as the API shows it: read from the content store and
//! turned into the API's `ContainerConfig` shape (the same PascalCase keys,
//! so the conversion is a JSON round trip).

use berth_image::content::Provider;
use berth_image::manifest::parse_config_bytes;
use berth_image::{ImageConfig, manifest};
use berth_models::container_config::ContainerConfig;

use super::ImageError;
use super::store::ImageRecord;
use crate::Engine;

impl Engine {
    /// The parsed config blob of `image`.
    pub fn image_config(&self, image: &ImageRecord) -> Result<ImageConfig, ImageError> {
        let raw = self.content.read_all(&image.id)?;
        parse_config_bytes(&raw)
            .map(|parsed| parsed.value)
            .map_err(|source| ImageError::Config {
                id: image.id.to_string(),
                source,
            })
    }
}

/// The API's view of an image's container defaults.
pub fn api_config(config: Option<&manifest::ContainerConfig>) -> Option<ContainerConfig> {
    let config = config?;
    serde_json::to_value(config)
        .and_then(serde_json::from_value)
        .ok()
}

/// The image's labels.
pub fn labels(config: &ImageConfig) -> Option<std::collections::BTreeMap<String, String>> {
    config.config.as_ref().and_then(|c| c.labels.clone())
}
