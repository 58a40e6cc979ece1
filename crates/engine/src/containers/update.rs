//! `POST /containers/{id}/update` (`docker update`): change a container's
//! resources and restart policy. As dockerd: the request is checked alone
//! (create's rules, without "memory-swap needs memory"), merged into the
//! record's host config (only the fields it sets change; NanoCPUs and a
//! CFS period/quota exclude each other across the two), written through,
//! and, when the container runs (or is paused), applied to its cgroups by
//! its shim. If the cgroups refuse, the record is put back and the old
//! values of the fields the request touched are re-applied, so a failed
//! update leaves the container as it was. A restart rebuilds the spec from
//! the record, so the new values survive it.

use berth_models::host_config::{HostConfig, Resources};
use berth_models::stats::{UpdateConfig, UpdateResponse};
use oci_spec::runtime::LinuxResources;
use serde_json::{Map, Value, json};

use super::{ContainerError, Status};

/// Docker's CFS period for `--cpus`, in microseconds.
const NANO_CPUS_PERIOD: i64 = 100_000;

impl crate::Engine {
    /// `docker update`.
    pub fn update_container_resources(
        &self,
        name: &str,
        mut update: UpdateConfig,
    ) -> Result<UpdateResponse, ContainerError> {
        // Both 0 and negative mean "unlimited" (moby's update route).
        if let Some(l) = update.resources.pids_limit.as_mut()
            && *l < 0
        {
            *l = 0;
        }
        validate_request(&update)?;
        let id = super::resolve(&self.containers.lock(), name)?;
        let lock = self.container_lock(&id);
        let _held = lock.lock().unwrap_or_else(|p| p.into_inner());
        let record = self.container(&id)?;
        let cannot = |m: &str| format!("Cannot update container {id}: {m}");
        if matches!(record.state.status, Status::Removing | Status::Dead) {
            return Err(ContainerError::Internal(cannot(
                "container is marked for removal and cannot be \"update\"",
            )));
        }
        let merged = merge(&record.host_config, &update)
            .map_err(|m| ContainerError::Conflict(cannot(&m)))?;
        super::create::validate_host_config(&merged)
            .map_err(|e| ContainerError::invalid(cannot(&e.to_string())))?;
        self.update_container(&id, |r| {
            r.host_config = merged.clone();
            Ok(())
        })?;
        let shim = match record.state.status {
            Status::Running | Status::Paused => self
                .shims
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&id)
                .cloned(),
            _ => None,
        };
        if let Some(shim) = shim {
            let applied = live_resources(&update.resources, &merged.resources)
                .and_then(|r| shim.update(&r).map_err(ContainerError::from));
            if let Err(e) = applied {
                let old = &record.host_config.resources;
                if let Err(undo) = live_resources(&update.resources, old)
                    .and_then(|r| shim.update(&r).map_err(ContainerError::from))
                {
                    tracing::warn!("container {id}: putting the old resources back: {undo}");
                }
                let previous = record.host_config.clone();
                self.update_container(&id, |r| {
                    r.host_config = previous;
                    Ok(())
                })?;
                return Err(ContainerError::Internal(cannot(&e.to_string())));
            }
        }
        self.container_event(&record, "update", &[]);
        Ok(UpdateResponse::default())
    }
}

/// dockerd's `verifyContainerSettings` for an update: the request's own
/// values, with create's rules; memory-swap alone is allowed (the memory
/// limit may already be set).
fn validate_request(update: &UpdateConfig) -> Result<(), ContainerError> {
    let mut host = HostConfig {
        resources: update.resources.clone(),
        restart_policy: update.restart_policy.clone(),
        ..Default::default()
    };
    if host.resources.memory == 0 {
        host.resources.memory_swap = 0;
    }
    super::create::validate_host_config(&host)
}

/// dockerd's `Container.UpdateContainer`: the record's host config with
/// the request's non-zero fields; the error is the conflict's message.
fn merge(current: &HostConfig, update: &UpdateConfig) -> Result<HostConfig, String> {
    let r = &update.resources;
    let mut host = current.clone();
    let c = &mut host.resources;
    if r.nano_cpus > 0 && c.cpu_period > 0 {
        return Err(
            "Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set"
                .into(),
        );
    }
    if r.nano_cpus > 0 && c.cpu_quota > 0 {
        return Err(
            "Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set"
                .into(),
        );
    }
    if r.cpu_period > 0 && c.nano_cpus > 0 {
        return Err(
            "Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set"
                .into(),
        );
    }
    if r.cpu_quota > 0 && c.nano_cpus > 0 {
        return Err(
            "Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set"
                .into(),
        );
    }
    if r.blkio_weight != 0 {
        c.blkio_weight = r.blkio_weight;
    }
    if r.cpu_shares != 0 {
        c.cpu_shares = r.cpu_shares;
    }
    if r.nano_cpus != 0 {
        c.nano_cpus = r.nano_cpus;
    }
    if r.cpu_period != 0 {
        c.cpu_period = r.cpu_period;
    }
    if r.cpu_quota != 0 {
        c.cpu_quota = r.cpu_quota;
    }
    if !r.cpuset_cpus.is_empty() {
        c.cpuset_cpus = r.cpuset_cpus.clone();
    }
    if !r.cpuset_mems.is_empty() {
        c.cpuset_mems = r.cpuset_mems.clone();
    }
    if r.memory != 0 {
        // The new limit must not pass the memory+swap limit in place
        // unless that changes too.
        if r.memory > c.memory_swap && r.memory_swap == 0 {
            return Err("Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time".into());
        }
        c.memory = r.memory;
    }
    if r.memory_swap != 0 {
        c.memory_swap = r.memory_swap;
    }
    if r.memory_reservation != 0 {
        c.memory_reservation = r.memory_reservation;
    }
    if r.cpu_realtime_period != 0 {
        c.cpu_realtime_period = r.cpu_realtime_period;
    }
    if r.cpu_realtime_runtime != 0 {
        c.cpu_realtime_runtime = r.cpu_realtime_runtime;
    }
    if r.pids_limit.is_some() {
        c.pids_limit = r.pids_limit;
    }
    let policy = &update.restart_policy;
    if !policy.name.is_empty() {
        if policy.name != "no" && host.auto_remove {
            return Err(
                "Restart policy cannot be updated because AutoRemove is enabled for the container"
                    .into(),
            );
        }
        host.restart_policy = policy.clone();
    }
    Ok(host)
}

/// The OCI resources for the fields `request` sets, with their values
/// taken from `values` (the merged config to apply an update, the old one
/// to undo it). Zero in `values` means "no limit" and is written as such.
fn live_resources(
    request: &Resources,
    values: &Resources,
) -> Result<LinuxResources, ContainerError> {
    let unlimited = |v: i64| if v > 0 { v } else { -1 };
    let mut out = Map::new();
    let mut memory = Map::new();
    if request.memory != 0 {
        memory.insert("limit".into(), json!(unlimited(values.memory)));
    }
    if request.memory_swap != 0 {
        memory.insert("swap".into(), json!(unlimited(values.memory_swap)));
    }
    if request.memory_reservation != 0 {
        memory.insert(
            "reservation".into(),
            json!(unlimited(values.memory_reservation)),
        );
    }
    if !memory.is_empty() {
        out.insert("memory".into(), Value::Object(memory));
    }
    let mut cpu = Map::new();
    if request.cpu_shares != 0 && values.cpu_shares > 0 {
        cpu.insert("shares".into(), json!(values.cpu_shares));
    }
    if request.nano_cpus != 0 || request.cpu_period != 0 || request.cpu_quota != 0 {
        let (period, quota) = if values.nano_cpus > 0 {
            (
                NANO_CPUS_PERIOD,
                values.nano_cpus * NANO_CPUS_PERIOD / 1_000_000_000,
            )
        } else {
            (
                if values.cpu_period > 0 {
                    values.cpu_period
                } else {
                    NANO_CPUS_PERIOD
                },
                unlimited(values.cpu_quota),
            )
        };
        cpu.insert("period".into(), json!(period));
        cpu.insert("quota".into(), json!(quota));
    }
    if request.cpu_realtime_period != 0 && values.cpu_realtime_period > 0 {
        cpu.insert("realtimePeriod".into(), json!(values.cpu_realtime_period));
    }
    if request.cpu_realtime_runtime != 0 && values.cpu_realtime_runtime > 0 {
        cpu.insert("realtimeRuntime".into(), json!(values.cpu_realtime_runtime));
    }
    if !request.cpuset_cpus.is_empty() && !values.cpuset_cpus.is_empty() {
        cpu.insert("cpus".into(), json!(values.cpuset_cpus));
    }
    if !request.cpuset_mems.is_empty() && !values.cpuset_mems.is_empty() {
        cpu.insert("mems".into(), json!(values.cpuset_mems));
    }
    if !cpu.is_empty() {
        out.insert("cpu".into(), Value::Object(cpu));
    }
    if request.pids_limit.is_some() {
        let limit = unlimited(values.pids_limit.unwrap_or(0));
        out.insert("pids".into(), json!({ "limit": limit }));
    }
    if request.blkio_weight != 0 && values.blkio_weight > 0 {
        out.insert("blockIO".into(), json!({ "weight": values.blkio_weight }));
    }
    serde_json::from_value(Value::Object(out))
        .map_err(|e| ContainerError::Internal(format!("build the resources to update: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(f: impl FnOnce(&mut Resources)) -> UpdateConfig {
        let mut u = UpdateConfig::default();
        f(&mut u.resources);
        u
    }

    fn limited(memory: i64, swap: i64) -> HostConfig {
        let mut h = HostConfig::default();
        h.resources.memory = memory;
        h.resources.memory_swap = swap;
        h
    }

    #[test]
    fn merge_changes_only_what_the_request_sets() {
        let current = limited(64 << 20, 128 << 20);
        let u = request(|r| {
            r.memory = 128 << 20;
            r.nano_cpus = 500_000_000;
        });
        let m = merge(&current, &u).unwrap();
        assert_eq!(m.resources.memory, 128 << 20);
        assert_eq!(m.resources.memory_swap, 128 << 20);
        assert_eq!(m.resources.nano_cpus, 500_000_000);
        assert_eq!(m.restart_policy, current.restart_policy);
    }

    #[test]
    fn merge_refuses_what_dockerd_refuses() {
        // No swap limit recorded: raising memory alone is refused (dockerd).
        let e = merge(&limited(0, 0), &request(|r| r.memory = 128 << 20)).unwrap_err();
        assert!(e.starts_with("Memory limit should be smaller"), "{e}");
        let mut cur = HostConfig::default();
        cur.resources.cpu_quota = 50_000;
        let e = merge(&cur, &request(|r| r.nano_cpus = 1_000_000_000)).unwrap_err();
        assert_eq!(
            e,
            "Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set"
        );
        let cur = HostConfig {
            auto_remove: true,
            ..Default::default()
        };
        let mut u = UpdateConfig::default();
        u.restart_policy.name = "always".into();
        let e = merge(&cur, &u).unwrap_err();
        assert!(e.contains("AutoRemove is enabled"), "{e}");
    }

    #[test]
    fn request_checks_use_creates_messages() {
        let e = validate_request(&request(|r| r.memory = 1 << 20)).unwrap_err();
        assert_eq!(e.to_string(), "Minimum memory limit allowed is 6MB");
        // memory-swap alone is fine on update.
        assert!(validate_request(&request(|r| r.memory_swap = 256 << 20)).is_ok());
        let e = validate_request(&request(|r| {
            r.memory = 64 << 20;
            r.memory_swap = 32 << 20;
        }))
        .unwrap_err();
        assert!(e.to_string().contains("memoryswap limit should be larger"));
    }

    #[test]
    fn live_resources_convert_like_docker_and_undo_to_unlimited() {
        let req = request(|r| {
            r.memory = 128 << 20;
            r.nano_cpus = 500_000_000;
            r.pids_limit = Some(0);
        })
        .resources;
        let mut merged = req.clone();
        merged.memory_swap = 256 << 20;
        let v = serde_json::to_value(live_resources(&req, &merged).unwrap()).unwrap();
        assert_eq!(v["memory"]["limit"], 128 << 20);
        assert!(v["memory"].get("swap").is_none());
        assert_eq!(v["cpu"]["quota"], 50_000);
        assert_eq!(v["cpu"]["period"], 100_000);
        assert_eq!(v["pids"]["limit"], -1);
        let undo =
            serde_json::to_value(live_resources(&req, &Resources::default()).unwrap()).unwrap();
        assert_eq!(undo["memory"]["limit"], -1);
        assert_eq!(undo["cpu"]["quota"], -1);
    }
}
