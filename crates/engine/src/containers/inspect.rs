//! `GET /containers/{id}/json`: the record in Docker's inspect shape.

use std::collections::BTreeMap;

use berth_models::container::{ContainerInspect, ContainerState, GraphDriver, MountPoint};

use super::{ContainerError, ContainerRecord, Status};

/// Go's zero time, which dockerd shows for "never".
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// The `Mounts` list.
pub fn mount_points(r: &ContainerRecord) -> Vec<MountPoint> {
    r.mounts
        .iter()
        .map(|m| MountPoint {
            kind: m.kind.clone(),
            name: m.name.clone(),
            source: m.source.clone(),
            destination: m.destination.clone(),
            driver: if m.kind == "volume" {
                "local".into()
            } else {
                String::new()
            },
            mode: m.mode.clone(),
            rw: m.rw,
            propagation: m.propagation.clone(),
        })
        .collect()
}

impl crate::Engine {
    pub fn inspect_container(
        &self,
        name: &str,
        size: bool,
    ) -> Result<ContainerInspect, ContainerError> {
        let r = self.container(name)?;
        let paths = self.container_paths(&r.id);
        let s = &r.state;
        let (size_rw, size_root_fs) = if size {
            self.container_sizes(&r)
        } else {
            (None, None)
        };
        let args = super::spec::process_args(&r.config);
        let graph = self
            .snapshotter
            .mounts(&r.snapshot)
            .ok()
            .and_then(|mounts| {
                let m = mounts.first()?;
                let mut data = BTreeMap::new();
                for key in ["lowerdir", "upperdir", "workdir"] {
                    if let Some(v) = m.option_value(key) {
                        let name = match key {
                            "lowerdir" => "LowerDir",
                            "upperdir" => "UpperDir",
                            _ => "WorkDir",
                        };
                        data.insert(name.to_string(), v.to_string());
                    }
                }
                data.insert("MergedDir".into(), paths.rootfs().display().to_string());
                Some(data)
            });
        let exec_ids = self.execs.ids_of(&r.id);
        let (mut network, _) = self.network_view_of(&r);
        if network.sandbox_key.is_empty() && s.status.is_live() && s.pid > 0 {
            network.sandbox_key = format!("/proc/{}/ns/net", s.pid);
        }
        Ok(ContainerInspect {
            id: r.id.clone(),
            created: r.created.clone(),
            path: args.first().cloned().unwrap_or_default(),
            args: args.iter().skip(1).cloned().collect(),
            state: ContainerState {
                status: if s.status == Status::Exited && !r.has_been_started {
                    "created".into()
                } else {
                    s.status.as_str().into()
                },
                running: s.status.is_live(),
                paused: s.status == Status::Paused,
                restarting: s.status == Status::Restarting,
                oom_killed: s.oom_killed,
                dead: s.status == Status::Dead,
                pid: s.pid,
                exit_code: s.exit_code,
                error: s.error.clone(),
                started_at: s.started_at.clone().unwrap_or_else(|| ZERO_TIME.into()),
                finished_at: s.finished_at.clone().unwrap_or_else(|| ZERO_TIME.into()),
                health: s.health.clone(),
            },
            image: r.image_id.clone(),
            resolv_conf_path: paths.data.join("resolv.conf").display().to_string(),
            hostname_path: paths.data.join("hostname").display().to_string(),
            hosts_path: paths.data.join("hosts").display().to_string(),
            log_path: if r.host_config.log_config.kind == "none" {
                String::new()
            } else {
                paths.log(&r.id).display().to_string()
            },
            name: format!("/{}", r.name),
            restart_count: r.restart_count,
            driver: self.storage_driver_name().to_string(),
            platform: "linux".into(),
            mount_label: String::new(),
            process_label: String::new(),
            app_armor_profile: String::new(),
            exec_ids: (!exec_ids.is_empty()).then_some(exec_ids),
            host_config: r.host_config.clone(),
            graph_driver: GraphDriver {
                data: graph,
                name: self.storage_driver_name().to_string(),
            },
            size_rw,
            size_root_fs,
            mounts: mount_points(&r),
            config: r.config.clone(),
            network_settings: network,
        })
    }
}
