//! `GET /containers/{id}/export` (`docker export`): a tar of the
//! container's whole filesystem as it sees it (image layers and its own
//! changes merged), without its volumes and binds, written by the
//! snapshot crate's tree writer from a [`FsView`](super::fs_view::FsView).
//! A running container is frozen while its files are read.

use std::io::Write;

use super::ContainerError;

impl crate::Engine {
    /// Writes the tar of container `name`'s filesystem to `out`.
    pub fn export_container(&self, name: &str, out: impl Write) -> Result<(), ContainerError> {
        let record = self.with_container_view(name, false, |record, view| {
            let _frozen = self.freeze(record);
            let root = super::fs_view::fd_path(view.root()).join(".");
            let mut out = out;
            berth_snapshot::write_tree(&root, b"", &mut out).map_err(ContainerError::Archive)?;
            out.flush()
                .map_err(|e| ContainerError::Archive(berth_snapshot::DiffError::Write(e)))?;
            Ok(record.clone())
        })?;
        self.container_event(&record, "export", &[]);
        Ok(())
    }
}
