//! `POST /containers/{id}/wait`: block until the container is not running
//! (`not-running`, the default), has exited once more (`next-exit`), or is
//! gone (`removed`).

use std::time::Duration;

use berth_models::container::WaitResponse;

use super::{ContainerError, Status};

/// A `condition` query value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitCondition {
    NotRunning,
    NextExit,
    Removed,
}

impl WaitCondition {
    pub fn parse(s: &str) -> Result<WaitCondition, ContainerError> {
        match s {
            "" | "not-running" => Ok(WaitCondition::NotRunning),
            "next-exit" => Ok(WaitCondition::NextExit),
            "removed" => Ok(WaitCondition::Removed),
            other => Err(ContainerError::invalid(format!(
                "invalid condition: \"{other}\""
            ))),
        }
    }
}

/// A registered wait: made when the request arrives (so `docker run`'s
/// wait, sent before start, sees the exit), finished by [`Waiter::wait`].
#[derive(Debug)]
pub struct Waiter {
    id: String,
    condition: WaitCondition,
    exits: u64,
}

impl crate::Engine {
    /// Checks the container and notes where it stands now.
    pub fn wait_container_begin(
        &self,
        name: &str,
        condition: WaitCondition,
    ) -> Result<Waiter, ContainerError> {
        let record = self.container(name)?;
        Ok(Waiter {
            id: record.id,
            condition,
            exits: record.state.exits,
        })
    }

    /// Blocks until the condition holds.
    pub fn wait_container(&self, w: &Waiter) -> WaitResponse {
        let mut records = self.containers.lock();
        loop {
            let Some(r) = records.get(&w.id) else {
                // Removed, perhaps right after it exited and before this waiter woke up.
                let code = self.containers.removed_exit_code(&w.id).unwrap_or(0);
                return WaitResponse {
                    status_code: code,
                    error: None,
                };
            };
            let live = r.state.status.is_live() || r.state.status == Status::Restarting;
            let done = match w.condition {
                WaitCondition::NotRunning => !live,
                WaitCondition::NextExit => r.state.exits > w.exits,
                WaitCondition::Removed => false,
            };
            if done {
                return WaitResponse {
                    status_code: r.state.exit_code,
                    error: None,
                };
            }
            records = self.containers.wait_change(records, Duration::from_secs(5));
        }
    }
}
