//! stop, kill, restart, pause and unpause: signals and freezer through the
//! container's shim. `stop` sends the stop signal, waits the timeout, then
//! SIGKILL, as dockerd does; the exit itself is recorded by the follower.

use std::time::{Duration, Instant};

use super::{ContainerError, Status};

/// Signal names and numbers, as `docker kill -s` takes them.
pub fn parse_signal(s: &str) -> Result<i32, ContainerError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(9);
    }
    if let Ok(n) = s.parse::<i32>() {
        if (1..=64).contains(&n) {
            return Ok(n);
        }
        return Err(ContainerError::invalid(format!("Invalid signal: {s}")));
    }
    let upper = s.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    let n = match name {
        "HUP" => 1,
        "INT" => 2,
        "QUIT" => 3,
        "ILL" => 4,
        "TRAP" => 5,
        "ABRT" | "IOT" => 6,
        "BUS" => 7,
        "FPE" => 8,
        "KILL" => 9,
        "USR1" => 10,
        "SEGV" => 11,
        "USR2" => 12,
        "PIPE" => 13,
        "ALRM" => 14,
        "TERM" => 15,
        "STKFLT" => 16,
        "CHLD" => 17,
        "CONT" => 18,
        "STOP" => 19,
        "TSTP" => 20,
        "TTIN" => 21,
        "TTOU" => 22,
        "URG" => 23,
        "XCPU" => 24,
        "XFSZ" => 25,
        "VTALRM" => 26,
        "PROF" => 27,
        "WINCH" => 28,
        "IO" | "POLL" => 29,
        "PWR" => 30,
        "SYS" => 31,
        other => {
            if let Some(off) = other
                .strip_prefix("RTMIN+")
                .and_then(|n| n.parse::<i32>().ok())
            {
                34 + off
            } else if let Some(off) = other
                .strip_prefix("RTMAX-")
                .and_then(|n| n.parse::<i32>().ok())
            {
                64 - off
            } else if other == "RTMIN" {
                34
            } else if other == "RTMAX" {
                64
            } else {
                return Err(ContainerError::invalid(format!("Invalid signal: {s}")));
            }
        }
    };
    if !(1..=64).contains(&n) {
        return Err(ContainerError::invalid(format!("Invalid signal: {s}")));
    }
    Ok(n)
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
        Ok(())
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
        let exited = |engine: &Self, until: Option<Instant>| -> bool {
            let mut records = engine.containers.lock();
            loop {
                match records.get(id) {
                    Some(r) if r.state.exits > record.state.exits || !r.state.status.is_live() => {
                        return true;
                    }
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
                records = engine.containers.wait_change(records, wait);
            }
        };
        let deadline = (timeout >= 0).then(|| Instant::now() + Duration::from_secs(timeout as u64));
        if !exited(self, deadline) {
            let _ = shim.kill(9, true);
            exited(self, Some(Instant::now() + Duration::from_secs(30)));
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
