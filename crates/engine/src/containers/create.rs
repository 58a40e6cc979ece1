//! `POST /containers/create`: check the request, resolve the image, merge
//! its config with the request's (dockerd's `merge`), resolve the mounts,
//! prepare the writable snapshot and record the container.

use std::collections::BTreeMap;

use berth_models::container::{CreateRequest, CreateResponse};
use berth_models::container_config::ContainerConfig;
use berth_models::host_config::HostConfig;

use super::{ContainerError, ContainerRecord, RunState, names, store};
use crate::images::config_view::api_config;

/// The snapshot key of a container's writable layer.
pub fn snapshot_key(id: &str) -> String {
    format!("container-{id}")
}

/// dockerd's `merge`: the request's config over the image's.
pub fn merge(user: &mut ContainerConfig, image: &ContainerConfig) {
    if user.user.is_empty() {
        user.user = image.user.clone();
    }
    let mut ports = image.exposed_ports.clone().unwrap_or_default();
    ports.extend(user.exposed_ports.clone().unwrap_or_default());
    user.exposed_ports = (!ports.is_empty()).then_some(ports);
    let mut env = image.env.clone().unwrap_or_default();
    for e in user.env.clone().unwrap_or_default() {
        let key = e.split('=').next().unwrap_or(&e).to_string();
        env.retain(|x| x.split('=').next() != Some(key.as_str()));
        env.push(e);
    }
    user.env = (!env.is_empty()).then_some(env);
    let mut labels = image.labels.clone().unwrap_or_default();
    labels.extend(user.labels.clone().unwrap_or_default());
    user.labels = Some(labels);
    let user_set_entrypoint = user.entrypoint.as_ref().is_some_and(|e| !e.is_empty());
    if user
        .entrypoint
        .as_ref()
        .is_none_or(|e| e.is_empty() && user.entrypoint.is_none())
    {
        user.entrypoint = image.entrypoint.clone();
    }
    if user
        .entrypoint
        .as_ref()
        .is_some_and(|e| e.len() == 1 && e[0].is_empty())
    {
        user.entrypoint = None;
    }
    if user.cmd.as_ref().is_none_or(|c| c.is_empty()) && !user_set_entrypoint {
        user.cmd = image.cmd.clone();
    }
    if user.working_dir.is_empty() {
        user.working_dir = image.working_dir.clone();
    }
    let mut volumes = image.volumes.clone().unwrap_or_default();
    volumes.extend(user.volumes.clone().unwrap_or_default());
    user.volumes = (!volumes.is_empty()).then_some(volumes);
    if user.stop_signal.is_empty() {
        user.stop_signal = image.stop_signal.clone();
    }
    match (&mut user.healthcheck, &image.healthcheck) {
        (None, Some(h)) => user.healthcheck = Some(h.clone()),
        (Some(u), Some(i)) => {
            if u.test.is_empty() {
                u.test = i.test.clone();
            }
            if u.interval == 0 {
                u.interval = i.interval;
            }
            if u.timeout == 0 {
                u.timeout = i.timeout;
            }
            if u.start_period == 0 {
                u.start_period = i.start_period;
            }
            if u.retries == 0 {
                u.retries = i.retries;
            }
        }
        _ => {}
    }
    if user.shell.is_none() {
        user.shell = image.shell.clone();
    }
    if user.on_build.is_none() {
        user.on_build = image.on_build.clone();
    }
}

/// dockerd's checks of a host config (`verifyPlatformContainerSettings`
/// and `validateRestartPolicy`), with its messages.
pub fn validate_host_config(host: &HostConfig) -> Result<(), ContainerError> {
    let r = &host.resources;
    let p = &host.restart_policy;
    match p.name.as_str() {
        "" | "no" | "always" | "unless-stopped" => {
            if p.maximum_retry_count != 0 {
                return Err(ContainerError::invalid(
                    "invalid restart policy: maximum retry count can only be used with 'on-failure'",
                ));
            }
        }
        "on-failure" => {
            if p.maximum_retry_count < 0 {
                return Err(ContainerError::invalid(
                    "invalid restart policy: maximum retry count cannot be negative",
                ));
            }
        }
        other => {
            return Err(ContainerError::invalid(format!(
                "invalid restart policy: unknown policy '{other}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'"
            )));
        }
    }
    if host.auto_remove && !matches!(p.name.as_str(), "" | "no") {
        return Err(ContainerError::invalid(
            "can't create 'AutoRemove' container with restart policy",
        ));
    }
    if r.memory != 0 && r.memory < 6 * 1024 * 1024 {
        return Err(ContainerError::invalid(
            "Minimum memory limit allowed is 6MB",
        ));
    }
    if r.memory > 0 && r.memory_swap > 0 && r.memory_swap < r.memory {
        return Err(ContainerError::invalid(
            "Minimum memoryswap limit should be larger than memory limit, see usage",
        ));
    }
    if r.memory == 0 && r.memory_swap > 0 {
        return Err(ContainerError::invalid(
            "You should always set the Memory limit when using Memoryswap limit, see usage",
        ));
    }
    if r.memory_reservation != 0 && r.memory_reservation < 6 * 1024 * 1024 {
        return Err(ContainerError::invalid(
            "Minimum memory reservation allowed is 6MB",
        ));
    }
    if r.memory > 0 && r.memory_reservation > 0 && r.memory < r.memory_reservation {
        return Err(ContainerError::invalid(
            "Minimum memory limit can not be less than memory reservation limit, see usage",
        ));
    }
    if let Some(s) = r.memory_swappiness
        && !(-1..=100).contains(&s)
    {
        return Err(ContainerError::invalid(format!(
            "Invalid value: {s}, valid memory swappiness range is 0-100"
        )));
    }
    if r.nano_cpus > 0 && (r.cpu_period > 0 || r.cpu_quota > 0) {
        return Err(ContainerError::invalid(
            "Conflicting options: Nano CPUs and CPU Period cannot both be set",
        ));
    }
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()) as i64;
    if r.nano_cpus < 0 || r.nano_cpus > cpus * 1_000_000_000 {
        return Err(ContainerError::invalid(format!(
            "Range of CPUs is from 0.01 to {cpus}.00, as there are only {cpus} CPUs available"
        )));
    }
    if r.cpu_period != 0 && !(1000..=1_000_000).contains(&r.cpu_period) {
        return Err(ContainerError::invalid(
            "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)",
        ));
    }
    if r.cpu_quota > 0 && r.cpu_quota < 1000 {
        return Err(ContainerError::invalid(
            "CPU cfs quota can not be less than 1ms (i.e. 1000)",
        ));
    }
    if r.cpu_shares < 0 {
        return Err(ContainerError::invalid(
            "invalid CPU shares: must be a positive integer",
        ));
    }
    if host.oom_score_adj < -1000 || host.oom_score_adj > 1000 {
        return Err(ContainerError::invalid(
            "Invalid value for OomScoreAdj, should be between -1000 and 1000",
        ));
    }
    if host.shm_size < 0 {
        return Err(ContainerError::invalid("SHM size can not be less than 0"));
    }
    for mode in [&host.pid_mode, &host.ipc_mode, &host.uts_mode] {
        if !(mode.is_empty()
            || mode == "host"
            || mode == "private"
            || mode == "shareable"
            || mode == "none"
            || mode.starts_with("container:"))
        {
            return Err(ContainerError::invalid(format!("invalid mode: {mode}")));
        }
    }
    Ok(())
}

impl crate::Engine {
    /// Creates a container; `name` is the `?name=` query parameter.
    pub fn create_container(
        &self,
        name: Option<&str>,
        request: CreateRequest,
    ) -> Result<CreateResponse, ContainerError> {
        let CreateRequest {
            mut config,
            host_config,
            networking_config,
        } = request;
        let mut host = host_config.unwrap_or_default();
        let warnings = Vec::new();
        if let Some(n) = name.filter(|n| !n.is_empty())
            && !names::valid_name(n.strip_prefix('/').unwrap_or(n))
        {
            return Err(ContainerError::invalid(format!(
                "Invalid container name ({n}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
            )));
        }
        if config.image.is_empty() {
            return Err(ContainerError::invalid("No command specified"));
        }
        validate_host_config(&host)?;
        let image = self.find_image(&config.image)?;
        let image_config = self.image_config(&image)?;
        let image_view = api_config(image_config.config.as_ref()).unwrap_or_default();
        merge(&mut config, &image_view);
        if config.entrypoint.as_ref().is_none_or(|e| e.is_empty())
            && config.cmd.as_ref().is_none_or(|c| c.is_empty())
        {
            return Err(ContainerError::invalid("No command specified"));
        }
        if host.network_mode.is_empty() {
            host.network_mode = "default".into();
        }
        // One runtime, built in; `runc` names it too, for the clients and
        // compose files that ask for Docker's default by name.
        match host.runtime.as_str() {
            "" => host.runtime = "berth".into(),
            "berth" | "runc" => {}
            other => {
                return Err(ContainerError::invalid(format!(
                    "Unknown runtime specified {other}"
                )));
            }
        }
        if host.log_config.kind.is_empty() {
            host.log_config.kind = "json-file".into();
        }
        match host.log_config.kind.as_str() {
            "json-file" | "none" | "local" => {}
            other => {
                return Err(ContainerError::invalid(format!(
                    "logger: no log driver named '{other}' is registered"
                )));
            }
        }
        super::logs::LogOptions::parse(&host.log_config.config)?;
        if host.resources.memory > 0 && host.resources.memory_swap == 0 {
            // dockerd reports the effective swap limit it chose.
            host.resources.memory_swap = host.resources.memory * 2;
        }
        if host.restart_policy.name.is_empty() {
            host.restart_policy.name = "no".into();
        }
        let id = names::new_id();
        if config.hostname.is_empty() {
            config.hostname = if host.network_mode == "host" {
                rustix::system::uname()
                    .nodename()
                    .to_string_lossy()
                    .into_owned()
            } else {
                id[..12].to_string()
            };
        }
        // dockerd answers 400 here, not 404: a 404 to create makes the
        // docker CLI pull the image and try again.
        let networks = self
            .container_networks(&host, &config, networking_config.as_ref())
            .map_err(|e| match e {
                crate::networks::NetworkError::NotFound(_) => {
                    ContainerError::invalid(e.to_string())
                }
                e => e.into(),
            })?;
        let mounts = super::mounts::resolve(self, &config, &host)?;
        let snapshot = snapshot_key(&id);

        let mut records = self.containers.lock();
        let name = match name.filter(|n| !n.is_empty()) {
            Some(n) => {
                let n = n.strip_prefix('/').unwrap_or(n).to_string();
                if let Some(other) = records.values().find(|r| r.name == n).map(|r| r.id.clone()) {
                    drop(records);
                    self.discard_anonymous_volumes(&mounts);
                    return Err(ContainerError::Conflict(format!(
                        "Conflict. The container name \"/{n}\" is already in use by container \"{other}\". You have to remove (or rename) that container to be able to reuse that name."
                    )));
                }
                n
            }
            None => {
                let mut attempt = 0;
                loop {
                    let n = names::random_name(attempt);
                    if !records.values().any(|r| r.name == n) {
                        break n;
                    }
                    attempt += 1;
                }
            }
        };
        if super::links::legacy_mode(&host.network_mode) || host.network_mode == "host" {
            let given = host.links.take().unwrap_or_default();
            match super::links::register(&records, &name, &host.network_mode, &given) {
                Ok(links) => host.links = Some(links).filter(|l| !l.is_empty()),
                Err(e) => {
                    drop(records);
                    self.discard_anonymous_volumes(&mounts);
                    return Err(e);
                }
            }
        }
        if let Err(e) = self
            .snapshotter
            .prepare(&snapshot, image.top_layer.as_deref())
        {
            drop(records);
            self.discard_anonymous_volumes(&mounts);
            return Err(e.into());
        }
        let record = ContainerRecord {
            id: id.clone(),
            name,
            created: crate::time::format_rfc3339_nanos(std::time::SystemTime::now()),
            image: config.image.clone(),
            image_id: image.id.to_string(),
            config,
            host_config: host,
            state: RunState::default(),
            restart_count: 0,
            mounts,
            snapshot,
            has_been_started: false,
            networks,
        };
        let paths = self.container_paths(&id);
        let saved = std::fs::create_dir_all(&paths.data)
            .map_err(|e| ContainerError::io(format!("create {}", paths.data.display()), e))
            .and_then(|()| Ok(store::put(&self.db.conn(), &record)?));
        if let Err(e) = saved {
            let _ = self.snapshotter.remove(&record.snapshot);
            let _ = std::fs::remove_dir_all(&paths.data);
            drop(records);
            self.discard_anonymous_volumes(&record.mounts);
            return Err(e);
        }
        self.container_event(&record, "create", &[]);
        records.insert(id.clone(), record);
        drop(records);
        self.containers.notify();
        Ok(CreateResponse { id, warnings })
    }

    /// Removes the anonymous volumes a failed create made.
    pub(crate) fn discard_anonymous_volumes(&self, mounts: &[super::MountRecord]) {
        for m in mounts.iter().filter(|m| m.anonymous && m.kind == "volume") {
            if let Err(e) = self.remove_volume(&m.name, true) {
                tracing::warn!("removing anonymous volume {}: {e}", m.name);
            }
        }
    }
}

/// Labels as a map (for filters).
pub fn labels(record: &ContainerRecord) -> BTreeMap<String, String> {
    record.config.labels.clone().unwrap_or_default()
}
