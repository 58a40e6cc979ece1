//! `DELETE /images/{name}` (`docker rmi`) and `POST /images/prune`, by
//! dockerd's rules (`ImageDelete`): removing a name only untags while other
//! names remain; the last tag of a repository takes that repository's
//! digest names with it; an id removes the image, and refuses when several
//! repositories name it unless forced. An image a container uses is kept:
//! a running container's image cannot be removed at all, a stopped one's
//! only with force (the container keeps its snapshot, whose layers stay).
//! A removed image frees the layers and blobs no other image uses.

use berth_image::Reference;
use berth_models::filters::Filters;
use berth_models::image::{DeleteResponseItem, PruneReport};

use super::store::{self, ImageRecord, ImageRef, RefKind};
use super::{ImageError, short_id};
use crate::Engine;
use crate::events::Event;

#[derive(Debug, Default, Clone, Copy)]
pub struct RemoveOptions {
    /// `-f`: remove even when several repositories name the image.
    pub force: bool,
    /// `--no-prune` inverted: also remove untagged parents.
    pub prune_parents: bool,
}

const PRUNE_FILTERS: &[&str] = &["dangling", "label", "label!", "until"];

impl Engine {
    pub fn remove_image(
        &self,
        name: &str,
        options: RemoveOptions,
    ) -> Result<Vec<DeleteResponseItem>, ImageError> {
        let image = self.find_image(name)?;
        let mut records = Vec::new();
        let mut refs = store::refs_of(&self.db.conn(), &image.id)?;
        let by_id = is_id_reference(&image, name);
        let mut quiet = false;
        if !by_id {
            // Untagging the last name of an image a container uses would
            // leave it dangling under the container: that takes force.
            if !options.force
                && is_single_reference(&refs)
                && let Some((container, _)) = self.container_using(&image)
            {
                return Err(ImageError::Conflict(format!(
                    "conflict: unable to remove repository reference \"{name}\" (must force) - container {} is using its referenced image {}",
                    container_short(&container),
                    short_id(&image.id)
                )));
            }
            let reference = Reference::parse(name)?.docker_ref();
            let removed = reference.to_string();
            self.untag(&image, &removed, &mut records)?;
            refs.retain(|r| r.name != removed);
            // The last tag of a repository takes its digest names along.
            if reference.digest.is_none() {
                let repository = reference.repository();
                let same_repo =
                    |r: &ImageRef| r.reference().is_some_and(|x| x.repository() == repository);
                if !refs.iter().any(|r| r.kind == RefKind::Tag && same_repo(r)) {
                    for r in refs
                        .iter()
                        .filter(|r| r.kind == RefKind::Digest && same_repo(r))
                    {
                        self.untag(&image, &r.name, &mut records)?;
                    }
                    refs.retain(|r| !(r.kind == RefKind::Digest && same_repo(r)));
                }
            }
            if !refs.is_empty() {
                return Ok(records);
            }
            quiet = true;
        } else if is_single_reference(&refs) {
            self.check_containers(&image, options.force)?;
            for r in &refs {
                self.untag(&image, &r.name, &mut records)?;
            }
            refs.clear();
        }
        self.delete_image(&image, &refs, options, quiet, &mut records)?;
        Ok(records)
    }

    /// Removes the image record once nothing names it, then the layers and
    /// blobs it alone used.
    fn delete_image(
        &self,
        image: &ImageRecord,
        refs: &[ImageRef],
        options: RemoveOptions,
        quiet: bool,
        records: &mut Vec<DeleteResponseItem>,
    ) -> Result<(), ImageError> {
        let children = store::children(&self.db.conn(), &image.id)?;
        if !children.is_empty() {
            if quiet {
                return Ok(());
            }
            return Err(ImageError::Conflict(format!(
                "conflict: unable to delete {} (cannot be forced) - image has dependent child images",
                short_id(&image.id)
            )));
        }
        // dockerd's order: the hard conflicts, then the soft ones.
        let conflict = self
            .check_containers(image, true)
            .and_then(|()| {
                if !refs.is_empty() && !options.force {
                    return Err(ImageError::Conflict(format!(
                        "conflict: unable to delete {} (must be forced) - image is referenced in multiple repositories",
                        short_id(&image.id)
                    )));
                }
                Ok(())
            })
            .and_then(|()| self.check_containers(image, options.force));
        if let Err(conflict) = conflict {
            if quiet {
                return Ok(());
            }
            return Err(conflict);
        }
        for r in refs {
            self.untag(image, &r.name, records)?;
        }
        store::remove_image(&self.db.conn(), &image.id)?;
        self.events.publish(Event {
            kind: "image",
            action: "delete",
            actor: image.id.as_str(),
            attributes: std::collections::BTreeMap::new(),
        });
        records.push(DeleteResponseItem {
            deleted: image.id.to_string(),
            ..Default::default()
        });
        let report = self.collect_garbage()?;
        for chain_id in report.removed_layers {
            records.push(DeleteResponseItem {
                deleted: chain_id,
                ..Default::default()
            });
        }
        // Looked up first: a connection guard in the condition would be held
        // through the block, which takes the connection again.
        let parent_image = match &image.parent {
            Some(parent) if options.prune_parents => store::image(&self.db.conn(), parent)?,
            _ => None,
        };
        if let Some(parent_image) = parent_image {
            let parent = &parent_image.id;
            let parent_refs = store::refs_of(&self.db.conn(), parent)?;
            if parent_refs.is_empty() {
                let parent_options = RemoveOptions {
                    force: false,
                    prune_parents: true,
                };
                self.delete_image(&parent_image, &[], parent_options, true, records)?;
            }
        }
        Ok(())
    }

    /// A container using `image`, running ones first: `(id, running)`.
    fn container_using(&self, image: &ImageRecord) -> Option<(String, bool)> {
        let records = self.containers.lock();
        let mut users = records
            .values()
            .filter(|r| r.image_id == image.id.as_str())
            .map(|r| (r.id.clone(), r.state.status.is_live()))
            .collect::<Vec<_>>();
        users.sort_by_key(|(id, running)| (!running, id.clone()));
        users.into_iter().next()
    }

    /// dockerd's container conflicts: a running container's image cannot
    /// be deleted, a stopped container's only with force.
    fn check_containers(&self, image: &ImageRecord, force: bool) -> Result<(), ImageError> {
        match self.container_using(image) {
            Some((container, true)) => Err(ImageError::Conflict(format!(
                "conflict: unable to delete {} (cannot be forced) - image is being used by running container {}",
                short_id(&image.id),
                container_short(&container)
            ))),
            Some((container, false)) if !force => Err(ImageError::Conflict(format!(
                "conflict: unable to delete {} (must be forced) - image is being used by stopped container {}",
                short_id(&image.id),
                container_short(&container)
            ))),
            _ => Ok(()),
        }
    }

    /// Removes one name of `image` and records the "Untagged" line.
    fn untag(
        &self,
        image: &ImageRecord,
        name: &str,
        records: &mut Vec<DeleteResponseItem>,
    ) -> Result<(), ImageError> {
        store::remove_ref(&self.db.conn(), name)?;
        let familiar = Reference::parse(name).map_or_else(|_| name.to_string(), |r| r.familiar());
        let mut attributes = std::collections::BTreeMap::new();
        attributes.insert("name".to_string(), familiar.clone());
        self.events.publish(Event {
            kind: "image",
            action: "untag",
            actor: image.id.as_str(),
            attributes,
        });
        records.push(DeleteResponseItem {
            untagged: familiar,
            ..Default::default()
        });
        Ok(())
    }

    /// `docker image prune`: dangling images (untagged), or with
    /// `dangling=false` every image no container uses.
    pub fn prune_images(&self, filters: &Filters) -> Result<PruneReport, ImageError> {
        filters
            .validate(PRUNE_FILTERS)
            .map_err(|e| ImageError::InvalidArgument(e.to_string()))?;
        let dangling_only = filters
            .get_bool("dangling")
            .map_err(|e| ImageError::InvalidArgument(e.to_string()))?
            .unwrap_or(true);
        let until = match filters.get("until").first() {
            Some(v) => Some(super::list::parse_until(v)?),
            None => None,
        };
        let before = self.disk_bytes();
        let mut deleted = Vec::new();
        let images = store::all_images(&self.db.conn())?;
        for image in images {
            let refs = store::refs_of(&self.db.conn(), &image.id)?;
            let tagged = refs.iter().any(|r| r.kind == RefKind::Tag);
            if dangling_only && tagged {
                continue;
            }
            if until.is_some_and(|u| image.added_at > u) {
                continue;
            }
            let config = self.image_config(&image)?;
            let labels = super::config_view::labels(&config).unwrap_or_default();
            if !filters.match_labels("label", &labels) {
                continue;
            }
            if filters
                .get("label!")
                .iter()
                .any(|l| match l.split_once('=') {
                    Some((k, v)) => labels.get(k).is_some_and(|have| have == v),
                    None => labels.contains_key(l.as_str()),
                })
            {
                continue;
            }
            if !store::children(&self.db.conn(), &image.id)?.is_empty()
                || self.container_using(&image).is_some()
            {
                continue;
            }
            let mut records = Vec::new();
            for r in &refs {
                self.untag(&image, &r.name, &mut records)?;
            }
            let options = RemoveOptions {
                force: true,
                prune_parents: true,
            };
            self.delete_image(&image, &[], options, true, &mut records)?;
            deleted.extend(records);
        }
        let after = self.disk_bytes();
        self.events.publish(Event {
            kind: "image",
            action: "prune",
            actor: "",
            attributes: [(
                "reclaimed".to_string(),
                before.saturating_sub(after).to_string(),
            )]
            .into(),
        });
        Ok(PruneReport {
            images_deleted: if deleted.is_empty() {
                None
            } else {
                Some(deleted)
            },
            space_reclaimed: before.saturating_sub(after),
        })
    }
}

fn container_short(id: &str) -> &str {
    &id[..id.len().min(12)]
}

/// Whether `name` designated the image by (a prefix of) its id
/// (dockerd's `isImageIDPrefix`).
fn is_id_reference(image: &ImageRecord, name: &str) -> bool {
    let name = name.trim();
    image.id.as_str().starts_with(name) || image.id.hex().starts_with(name)
}

/// At most one tag, and every name in one repository.
fn is_single_reference(refs: &[ImageRef]) -> bool {
    let tags = refs.iter().filter(|r| r.kind == RefKind::Tag).count();
    if tags > 1 {
        return false;
    }
    let mut repositories = refs
        .iter()
        .filter_map(ImageRef::reference)
        .map(|r| r.repository());
    match repositories.next() {
        None => true,
        Some(first) => repositories.all(|r| r == first),
    }
}
