//! `GET /distribution/{name}/json`: what the registry has under a name
//! (its descriptor and platforms), without pulling.

use berth_image::manifest::{parse_config_bytes, parse_document};
use berth_image::{Document, Reference};
use berth_registry::Credentials;
use std::io::Read;

use super::ImageError;
use super::pull::registry_error;
use crate::Engine;

impl Engine {
    pub fn distribution_info(
        &self,
        reference: &Reference,
        credentials: &Credentials,
    ) -> Result<serde_json::Value, ImageError> {
        let reference = reference.docker_ref();
        let repo = self.registry.repository(&reference, credentials.clone());
        let wanted = match (&reference.digest, &reference.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => "latest".to_string(),
        };
        let (desc, bytes) = repo
            .resolve(&wanted)
            .map_err(|e| registry_error(e, &reference))?;
        let platforms: Vec<serde_json::Value> =
            match parse_document(Some(&desc.media_type), &bytes).map_err(ImageError::Manifest)? {
                Document::Index(index) => index
                    .value
                    .manifests
                    .iter()
                    .filter_map(|m| m.platform.as_ref())
                    .map(|p| serde_json::to_value(p).unwrap_or_default())
                    .collect(),
                Document::Manifest(m) => {
                    let mut raw = Vec::new();
                    repo.fetch_blob(&m.value.config)
                        .map_err(|e| registry_error(e, &reference))?
                        .take(8 << 20)
                        .read_to_end(&mut raw)
                        .map_err(|source| ImageError::Download {
                            digest: m.value.config.digest.to_string(),
                            source,
                        })?;
                    let config = parse_config_bytes(&raw).map_err(ImageError::Manifest)?;
                    vec![serde_json::to_value(config.value.platform()).unwrap_or_default()]
                }
            };
        Ok(serde_json::json!({
            "Descriptor": {"mediaType": desc.media_type, "digest": desc.digest.to_string(), "size": desc.size},
            "Platforms": platforms,
        }))
    }
}
