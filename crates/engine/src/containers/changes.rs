//! `GET /containers/{id}/changes` (`docker diff`): what the container
//! changed over its image, read from its snapshot's overlay upper
//! directory by the snapshot crate ([`berth_snapshot::diff::overlay_changes`]:
//! whiteouts are deletions, paths the image has are modifications, the
//! rest additions), in dockerd's order and shape.

use berth_models::container::Change;
use berth_snapshot::diff::ChangeKind;

use super::ContainerError;

impl crate::Engine {
    /// The changes of container `name`.
    pub fn container_changes(&self, name: &str) -> Result<Vec<Change>, ContainerError> {
        let record = self.container(name)?;
        let mounts = self.snapshotter.mounts(&record.snapshot)?;
        let changes = match mounts.as_slice() {
            [m] if m.kind == "overlay" => {
                let upper = m.option_value("upperdir").ok_or_else(|| {
                    ContainerError::Internal(format!(
                        "the snapshot of container {} has no upper directory",
                        record.id
                    ))
                })?;
                let lowers: Vec<std::path::PathBuf> =
                    m.lowerdirs().into_iter().map(Into::into).collect();
                berth_snapshot::diff::overlay_changes(upper.as_ref(), &lowers)
                    .map_err(ContainerError::Archive)?
            }
            // A snapshot without parent: everything in it is new.
            [m] if m.kind == "bind" || m.kind == "rbind" => {
                berth_snapshot::diff::overlay_changes(m.source.as_ref(), &[])
                    .map_err(ContainerError::Archive)?
            }
            _ => {
                return Err(ContainerError::NotImplemented(
                    "docker diff needs the overlay2 storage driver".into(),
                ));
            }
        };
        Ok(changes
            .into_iter()
            .map(|c| Change {
                path: c.path,
                kind: match c.kind {
                    ChangeKind::Modified => 0,
                    ChangeKind::Added => 1,
                    ChangeKind::Deleted => 2,
                },
            })
            .collect())
    }
}
