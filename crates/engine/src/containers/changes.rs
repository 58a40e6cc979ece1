//! `GET /containers/{id}/changes` (`docker diff`): what the container
//! changed over its image, read from its snapshot's overlay upper
//! directory by the snapshot crate ([`berth_snapshot::diff::overlay_changes`]:
//! whiteouts are deletions, paths the image has are modifications, the
//! rest additions), in dockerd's order and shape.
//!
//! dockerd keeps the files it bind-mounts over (`/etc/hostname`,
//! `/etc/hosts`, `/etc/resolv.conf`, …) in an "init" layer under the
//! container's, so they never show; Berth's runtime creates the missing
//! ones in the container's own layer, so they are left out here (with the
//! directory change they alone caused).

use berth_models::container::Change;
use berth_snapshot::diff::{Change as SnapshotChange, ChangeKind};

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
        Ok(without_mountpoints(changes)
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

/// The mount points dockerd's init layer holds (left out of `diff` and
/// `commit`).
pub(crate) const MOUNTPOINTS: [&str; 10] = [
    "/.dockerenv",
    "/dev/console",
    "/dev/pts",
    "/dev/shm",
    "/etc/hostname",
    "/etc/hosts",
    "/etc/mtab",
    "/etc/resolv.conf",
    "/proc",
    "/sys",
];

/// `changes` without added mount points, and without the modification of
/// their directory when nothing else in it changed.
fn without_mountpoints(changes: Vec<SnapshotChange>) -> Vec<SnapshotChange> {
    let is_mountpoint =
        |c: &SnapshotChange| c.kind == ChangeKind::Added && MOUNTPOINTS.contains(&c.path.as_str());
    // Every directory above a mount point (`/dev` for `/dev/pts`: the init
    // layer holds it too when the image has none).
    let mut parents: Vec<String> = Vec::new();
    for c in changes.iter().filter(|c| is_mountpoint(c)) {
        let mut path = c.path.as_str();
        while let Some((parent, _)) = path.rsplit_once('/') {
            if parent.is_empty() {
                break;
            }
            parents.push(parent.to_string());
            path = parent;
        }
    }
    let kept: Vec<SnapshotChange> = changes.into_iter().filter(|c| !is_mountpoint(c)).collect();
    let alone = |dir: &str| {
        let prefix = format!("{dir}/");
        !kept.iter().any(|c| c.path.starts_with(&prefix))
    };
    let drop: Vec<String> = parents.into_iter().filter(|p| alone(p)).collect();
    kept.into_iter()
        .filter(|c| c.kind == ChangeKind::Deleted || !drop.contains(&c.path))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(path: &str, kind: ChangeKind) -> SnapshotChange {
        SnapshotChange {
            path: path.into(),
            kind,
        }
    }

    #[test]
    fn runtime_mount_points_are_not_changes() {
        use ChangeKind::*;
        let got = without_mountpoints(vec![
            change("/etc", Modified),
            change("/etc/hostname", Added),
            change("/etc/hosts", Added),
            change("/tmp", Modified),
            change("/tmp/x", Added),
        ]);
        assert_eq!(got, [change("/tmp", Modified), change("/tmp/x", Added)]);
        let got = without_mountpoints(vec![
            change("/etc", Modified),
            change("/etc/group", Modified),
            change("/etc/hosts", Added),
        ]);
        assert_eq!(
            got,
            [change("/etc", Modified), change("/etc/group", Modified)]
        );
        // an image without /dev: the runtime made it for its mount points
        let got = without_mountpoints(vec![
            change("/dev", Added),
            change("/dev/pts", Added),
            change("/dev/shm", Added),
            change("/test", Added),
        ]);
        assert_eq!(got, [change("/test", Added)]);
    }
}
