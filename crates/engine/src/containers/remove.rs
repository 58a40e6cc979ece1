//! `DELETE /containers/{id}` and `POST /containers/prune`: kill if forced,
//! then unmount, drop the writable snapshot, the files and the record (and
//! with `-v` the container's anonymous volumes).

use super::{ContainerError, Status, store};

impl crate::Engine {
    /// Removes a container.
    pub fn remove_container(
        &self,
        name: &str,
        force: bool,
        volumes: bool,
    ) -> Result<(), ContainerError> {
        let id = super::resolve(&self.containers.lock(), name)?;
        let lock = self.container_lock(&id);
        let _held = lock.lock().unwrap_or_else(|p| p.into_inner());
        let record = self.container(&id)?;
        match record.state.status {
            Status::Running | Status::Restarting if !force => {
                return Err(ContainerError::Conflict(format!(
                    "You cannot remove a running container {id}. Stop the container before attempting removal or force remove"
                )));
            }
            Status::Paused if !force => {
                return Err(ContainerError::Conflict(format!(
                    "You cannot remove a paused container {id}. Unpause and then stop the container before attempting removal or force remove"
                )));
            }
            Status::Removing => {
                return Err(ContainerError::Conflict(format!(
                    "removal of container {id} is already in progress"
                )));
            }
            _ => {}
        }
        if record.state.status.is_live() || record.state.status == Status::Restarting {
            self.stop_locked(&id, Some(0), Some("SIGKILL"))?;
        }
        self.update_container(&id, |r| {
            r.state.status = Status::Removing;
            Ok(())
        })?;
        self.execs.forget_container(&id);
        self.attaches.cancel(&id);
        self.release_rootfs(&id);
        self.teardown_container_network(&id);
        match self.snapshotter.remove(&record.snapshot) {
            Ok(()) => {}
            Err(e) if e.category() == berth_snapshot::Category::NotFound => {}
            Err(e) => {
                let _ = self.update_container(&id, |r| {
                    r.state.status = Status::Dead;
                    Ok(())
                });
                return Err(e.into());
            }
        }
        let paths = self.container_paths(&id);
        for dir in [&paths.run, &paths.data] {
            if let Err(e) = std::fs::remove_dir_all(dir)
                && e.kind() != std::io::ErrorKind::NotFound
            {
                tracing::warn!("container {id}: removing {}: {e}", dir.display());
            }
        }
        store::delete(&self.db.conn(), &id)?;
        self.containers.remove(&mut self.containers.lock(), &id);
        self.containers.notify();
        self.forget_container_lock(&id);
        if volumes {
            self.discard_anonymous_volumes(&record.mounts);
        }
        self.container_event(&record, "destroy", &[]);
        Ok(())
    }

    /// Removes every stopped container matching `filters` (`until`, `label`).
    pub fn prune_containers(
        &self,
        filters: &berth_models::filters::Filters,
    ) -> Result<berth_models::container::PruneReport, ContainerError> {
        filters
            .validate(&["until", "label", "label!"])
            .map_err(|e| ContainerError::invalid(e.to_string()))?;
        let candidates: Vec<super::ContainerRecord> = self
            .containers
            .lock()
            .values()
            .filter(|r| !r.state.status.is_live() && r.state.status != Status::Restarting)
            .cloned()
            .collect();
        let mut deleted = Vec::new();
        let mut reclaimed = 0u64;
        for r in candidates {
            if !super::list::matches_labels(&r, filters)
                || !super::list::created_before(&r, filters)?
            {
                continue;
            }
            reclaimed += self
                .snapshotter
                .usage(&r.snapshot)
                .map(|u| u.size)
                .unwrap_or(0);
            match self.remove_container(&r.id, false, false) {
                Ok(()) => deleted.push(r.id),
                Err(e) => tracing::warn!("prune: {e}"),
            }
        }
        Ok(berth_models::container::PruneReport {
            containers_deleted: Some(deleted),
            space_reclaimed: reclaimed,
        })
    }
}
