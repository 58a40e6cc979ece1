//! Finding the image a user means, by dockerd's rules (`GetImage`): a full
//! id (`sha256:<hex>` or the bare 64 hex digits), a name (`busybox`, with
//! Docker's implicit `:latest`; `repo:tag`; `repo@digest`), or a unique
//! prefix of an id (`a1b2c3`).

use berth_image::{Digest, Reference};

use super::ImageError;
use super::store::{self, ImageRecord};
use crate::Engine;

impl Engine {
    /// The image `name` designates.
    pub fn find_image(&self, name: &str) -> Result<ImageRecord, ImageError> {
        let conn = self.db.conn();
        let name = name.trim();
        if name.is_empty() {
            return Err(ImageError::InvalidArgument(
                "image name cannot be blank".to_string(),
            ));
        }
        if let Ok(digest) = Digest::parse(name) {
            return store::image(&conn, &digest)?
                .ok_or_else(|| ImageError::NoSuchImage(name.to_string()));
        }
        let is_hex = name
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if is_hex
            && name.len() == 64
            && let Ok(digest) = Digest::parse(&format!("sha256:{name}"))
        {
            return store::image(&conn, &digest)?
                .ok_or_else(|| ImageError::NoSuchImage(name.to_string()));
        }
        let not_found = match Reference::parse(name) {
            Ok(reference) => {
                let reference = reference.docker_ref();
                if let Some(id) = store::resolve_ref(&conn, &reference.to_string())?
                    && let Some(image) = store::image(&conn, &id)?
                {
                    return Ok(image);
                }
                reference.familiar()
            }
            Err(e) if !is_hex => return Err(e.into()),
            Err(_) => name.to_string(),
        };
        if is_hex {
            let mut found = store::images_with_prefix(&conn, name)?;
            match found.len() {
                0 => {}
                1 => return Ok(found.remove(0)),
                _ => return Err(ImageError::AmbiguousId(name.to_string())),
            }
        }
        Err(ImageError::NoSuchImage(not_found))
    }
}
