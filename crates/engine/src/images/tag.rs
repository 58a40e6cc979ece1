//! `POST /images/{name}/tag`: another name for an image.

use berth_image::Reference;

use super::ImageError;
use super::store::{self, RefKind};
use crate::Engine;
use crate::events::Event;
use crate::time::format_rfc3339_nanos;

/// dockerd's `RepoTagReference`: `repo` (which may carry a tag when `tag`
/// is empty) with `tag`, `latest` by default; never a digest.
pub fn repo_tag_reference(repo: &str, tag: &str) -> Result<Reference, ImageError> {
    let reference = Reference::parse(repo)?;
    if reference.digest.is_some() {
        return Err(ImageError::InvalidArgument(
            "cannot import digest reference".to_string(),
        ));
    }
    let reference = if tag.is_empty() {
        reference.tag_or_latest()
    } else {
        reference.with_tag(tag)?
    };
    Ok(reference)
}

impl Engine {
    /// Points `target` (a tag reference) at the image `name` designates.
    pub fn tag_image(&self, name: &str, target: &Reference) -> Result<(), ImageError> {
        if target.familiar_name() == "sha256" {
            return Err(ImageError::InvalidArgument(
                "refusing to create an ambiguous tag using digest algorithm as name".to_string(),
            ));
        }
        let image = self.find_image(name)?;
        self.set_tag(&image.id, target)?;
        Ok(())
    }

    /// Records `target` → `id` and its tag time, and tells the event bus.
    pub(crate) fn set_tag(
        &self,
        id: &berth_image::Digest,
        target: &Reference,
    ) -> Result<(), ImageError> {
        self.db.transaction(|tx| -> Result<(), ImageError> {
            store::set_ref(tx, target, id, RefKind::Tag)?;
            store::touch_tag_time(tx, id, &format_rfc3339_nanos(std::time::SystemTime::now()))?;
            Ok(())
        })?;
        let mut attributes = std::collections::BTreeMap::new();
        attributes.insert("name".to_string(), target.familiar());
        self.events.publish(Event {
            kind: "image",
            action: "tag",
            actor: id.as_str(),
            attributes,
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_and_tag_like_dockerd() {
        assert_eq!(
            repo_tag_reference("busybox", "").unwrap().to_string(),
            "docker.io/library/busybox:latest"
        );
        assert_eq!(
            repo_tag_reference("localhost:5000/a", "v1")
                .unwrap()
                .to_string(),
            "localhost:5000/a:v1"
        );
        assert_eq!(repo_tag_reference("a:b", "").unwrap().familiar(), "a:b");
        assert!(
            repo_tag_reference(
                "a@sha256:0000000000000000000000000000000000000000000000000000000000000000",
                ""
            )
            .is_err()
        );
        assert!(repo_tag_reference("Upper", "").is_err());
        assert!(repo_tag_reference("a", "bad tag").is_err());
    }
}
