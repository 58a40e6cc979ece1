//! stop, kill, restart, pause and unpause: signals and freezer through the
//! container's shim. `stop` sends the stop signal, waits the timeout, then
//! SIGKILL, as dockerd does; the exit itself is recorded by the follower.

use std::time::{Duration, Instant};

use super::{ContainerError, Status};

/// A signal by name or number, as `docker kill -s` takes it (runc's
/// rules: `TERM`, `SIGTERM`, `term`, `15`, `RTMIN+3`); empty is SIGKILL.
pub fn parse_signal(s: &str) -> Result<i32, ContainerError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(9);
    }
    berth_runtime::sys::signal_by_name(s)
        .ok_or_else(|| ContainerError::invalid(format!("Invalid signal: {s}")))
}

impl crate::Engine {
    fn shim_of(&self, id: &str) -> Option<std::sync::Arc<berth_shim::Client>> {
        self.shims
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned()
    }

    /// `POST /containers/{id}/kill`.
    pub fn kill_container(&self, name: &str, signal: &str) -> Result<(), ContainerError> {
        let signal = parse_signal(signal)?;
        let record = self.container(name)?;
        if !record.state.status.is_live() {
            return Err(ContainerError::Conflict(format!(
                "Container {} is not running",
                record.id
            )));
        }
        if signal == 9 || signal == 15 || signal == 2 {
            self.update_container(&record.id, |r| {
                r.state.manually_stopped = true;
                Ok(())
            })?;
        }
        let shim = self.shim_of(&record.id).ok_or_else(|| {
            ContainerError::Conflict(format!("Container {} is not running", record.id))
        })?;
        shim.kill(signal, false)?;
        self.container_event(&record, "kill", &[("signal", signal.to_string())]);
        // As dockerd: a SIGKILL returns once the container is down, so
        // that what follows (inspect, rm) sees it stopped.
        if signal == 9 {
            self.exited_since(
                &record.id,
                record.state.exits,
                Some(Instant::now() + Duration::from_secs(10)),
            );
        }
        Ok(())
    }

    /// Waits until `id` has exited since it had `exits` exits (or is no
    /// longer live, or gone), until `until` (forever with `None`); whether
    /// it did.
    fn exited_since(&self, id: &str, exits: u64, until: Option<Instant>) -> bool {
        let mut records = self.containers.lock();
        loop {
            match records.get(id) {
                Some(r) if r.state.exits > exits || !r.state.status.is_live() => return true,
                None => return true,
                _ => {}
            }
            let wait = match until {
                Some(t) => match t.checked_duration_since(Instant::now()) {
                    Some(d) if !d.is_zero() => d,
                    _ => return false,
                },
                None => Duration::from_secs(1),
            };
            records = self.containers.wait_change(records, wait);
        }
    }

    /// `POST /containers/{id}/stop`; `Ok(false)` when it was not running
    /// (dockerd answers 304).
    pub fn stop_container(
        &self,
        name: &str,
        timeout: Option<i64>,
        signal: Option<&str>,
    ) -> Result<bool, ContainerError> {
        let id = super::resolve(&self.containers.lock(), name)?;
        let lock = self.container_lock(&id);
        let _held = lock.lock().unwrap_or_else(|p| p.into_inner());
        self.stop_locked(&id, timeout, signal)
    }

    pub(crate) fn stop_locked(
        &self,
        id: &str,
        timeout: Option<i64>,
        signal: Option<&str>,
    ) -> Result<bool, ContainerError> {
        let record = self.update_container(id, |r| {
            r.state.manually_stopped = true;
            Ok(r.clone())
        })?;
        if record.state.status == Status::Restarting {
            self.update_container(id, |r| {
                r.state.status = Status::Exited;
                Ok(())
            })?;
            return Ok(true);
        }
        if !record.state.status.is_live() {
            return Ok(false);
        }
        let signal = parse_signal(match signal {
            Some(s) if !s.is_empty() => s,
            _ if !record.config.stop_signal.is_empty() => &record.config.stop_signal,
            _ => "SIGTERM",
        })?;
        let timeout = timeout.or(record.config.stop_timeout).unwrap_or(10);
        let Some(shim) = self.shim_of(id) else {
            return Ok(false);
        };
        if record.state.status == Status::Paused {
            let _ = shim.resume();
        }
        let _ = shim.kill(signal, false);
        let deadline = (timeout >= 0).then(|| Instant::now() + Duration::from_secs(timeout as u64));
        if !self.exited_since(id, record.state.exits, deadline) {
            let _ = shim.kill(9, true);
            self.exited_since(
                id,
                record.state.exits,
                Some(Instant::now() + Duration::from_secs(30)),
            );
        }
        self.container_event(&record, "stop", &[]);
        Ok(true)
    }

    /// `POST /containers/{id}/restart`.
    pub fn restart_container(
        &self,
        name: &str,
        timeout: Option<i64>,
        signal: Option<&str>,
    ) -> Result<(), ContainerError> {
        let id = super::resolve(&self.containers.lock(), name)?;
        let lock = self.container_lock(&id);
        let _held = lock.lock().unwrap_or_else(|p| p.into_inner());
        self.stop_locked(&id, timeout, signal)?;
        self.update_container(&id, |r| {
            r.state.manually_stopped = false;
            Ok(())
        })?;
        self.start_locked(&id)?;
        let record = self.container(&id)?;
        self.container_event(&record, "restart", &[]);
        Ok(())
    }

    /// `POST /containers/{id}/pause` and `/unpause`.
    pub fn pause_container(&self, name: &str, pause: bool) -> Result<(), ContainerError> {
        let record = self.container(name)?;
        match (record.state.status, pause) {
            (Status::Running, true) | (Status::Paused, false) => {}
            (Status::Paused, true) => {
                return Err(ContainerError::Conflict(format!(
                    "Container {} is already paused",
                    record.id
                )));
            }
            (Status::Running, false) => {
                return Err(ContainerError::Conflict(format!(
                    "Container {} is not paused",
                    record.id
                )));
            }
            _ => {
                return Err(ContainerError::Conflict(format!(
                    "Container {} is not running",
                    record.id
                )));
            }
        }
        let shim = self.shim_of(&record.id).ok_or_else(|| {
            ContainerError::Conflict(format!("Container {} is not running", record.id))
        })?;
        if pause {
            shim.pause()?;
        } else {
            shim.resume()?;
        }
        let record = self.update_container(&record.id, |r| {
            r.state.status = if pause {
                Status::Paused
            } else {
                Status::Running
            };
            Ok(r.clone())
        })?;
        self.container_event(&record, if pause { "pause" } else { "unpause" }, &[]);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_by_name_and_number() {
        assert_eq!(parse_signal("SIGTERM").unwrap(), 15);
        assert_eq!(parse_signal("term").unwrap(), 15);
        assert_eq!(parse_signal("9").unwrap(), 9);
        assert_eq!(parse_signal("SIGRTMIN+3").unwrap(), 37);
        assert!(parse_signal("bogus").is_err());
        assert!(parse_signal("0").is_err());
    }
}
