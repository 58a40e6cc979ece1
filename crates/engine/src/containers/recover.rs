//! At berthd's start: load every container record and re-adopt the
//! running ones from their shims (which outlive berthd). A container whose
//! shim is gone exited while berthd was away: its exit record (written by
//! the shim) is applied, and restart policies run as if berthd had seen it.

use std::sync::Arc;
use std::time::Duration;

use super::{ContainerError, Status, store};

impl crate::Engine {
    /// Loads the records; returns the ids that were running.
    pub(crate) fn load_containers(&self) -> Result<Vec<String>, ContainerError> {
        let records = store::all(&self.db.conn())?;
        let mut live = Vec::new();
        let mut table = self.containers.lock();
        for mut r in records {
            if r.state.status.is_live() || r.state.status == Status::Restarting {
                live.push(r.id.clone());
            }
            if r.state.status == Status::Removing {
                r.state.status = Status::Dead;
            }
            table.insert(r.id.clone(), r);
        }
        Ok(live)
    }

    /// Re-adopts the containers that were running (needs the engine shared).
    pub(crate) fn adopt_containers(&self, live: Vec<String>) {
        for id in live {
            let run = self.container_paths(&id).run;
            match berth_shim::Client::connect(&run) {
                Ok(client) => {
                    tracing::info!("container {id}: re-adopted (pid {})", client.pid());
                    let client = Arc::new(client);
                    self.shims
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(id.clone(), client.clone());
                    self.follow(id, client);
                }
                Err(e) => {
                    tracing::info!("container {id}: its shim is gone ({e}); applying its exit");
                    let status = berth_shim::read_exit(&run).unwrap_or_else(|| self.lost_exit(&id));
                    self.on_exit(&id, &status, Duration::ZERO);
                }
            }
        }
    }
}
