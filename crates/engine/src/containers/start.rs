//! `POST /containers/{id}/start`: mount the root filesystem, write
//! `/etc/hostname`, `/etc/hosts`, `/etc/resolv.conf` and the OCI bundle,
//! start the shim (which creates the container, held), connect the
//! attachers waiting for it, then let it run and follow it.

use std::sync::Arc;

use berth_shim::{LogSpec, ShimSpec};

use super::spec::{self, Namespace, SpecInput, SpecMount};
use super::{ContainerError, ContainerRecord, Status};

impl crate::Engine {
    /// Starts a created or stopped container.
    pub fn start_container(&self, name: &str) -> Result<(), ContainerError> {
        let id = super::resolve(&self.containers.lock(), name)?;
        let lock = self.container_lock(&id);
        let _held = lock.lock().unwrap_or_else(|p| p.into_inner());
        let record = self.container(&id)?;
        match record.state.status {
            Status::Running => {
                return Err(ContainerError::NotModified(
                    "container already started".into(),
                ));
            }
            Status::Paused => {
                return Err(ContainerError::Conflict(
                    "cannot start a paused container, try unpause instead".into(),
                ));
            }
            Status::Removing | Status::Dead => {
                return Err(ContainerError::Conflict(
                    "container is marked for removal and cannot be started".into(),
                ));
            }
            _ => {}
        }
        self.update_container(&id, |r| {
            r.state.manually_stopped = false;
            Ok(())
        })?;
        let result = self.start_locked(&id);
        drop(_held);
        if result.is_err() && record.host_config.auto_remove {
            // dockerd removes an `--rm` container whose start failed.
            if let Err(e) = self.remove_container(&id, true, true) {
                tracing::warn!("container {id}: auto-remove after a failed start: {e}");
            }
        }
        result
    }

    /// Starts `id`; the caller holds its operation lock.
    pub(crate) fn start_locked(&self, id: &str) -> Result<(), ContainerError> {
        let record = self.container(id)?;
        let paths = self.container_paths(id);
        let result = self
            .setup_container_network(&record)
            .map_err(ContainerError::from)
            .and_then(|net| self.prepare_bundle(&record, &paths, net.as_ref()))
            .and_then(|()| self.spawn_shim(&record, &paths));
        let client = match result {
            Ok(c) => c,
            Err(e) => {
                self.teardown_container_network(id);
                self.release_rootfs(id);
                let code = exit_code_for(&e);
                let message = e.to_string();
                let _ = self.update_container(id, |r| {
                    r.state.status = if r.has_been_started {
                        Status::Exited
                    } else {
                        Status::Created
                    };
                    r.state.error = message.clone();
                    r.state.exit_code = code;
                    Ok(())
                });
                return Err(e);
            }
        };
        let client = Arc::new(client);
        self.attaches.connect(id, &client);
        if let Err(e) = client.start() {
            let _ = client.kill(9, true);
            let _ = client.wait();
            let _ = client.shutdown();
            self.teardown_container_network(id);
            self.release_rootfs(id);
            return Err(ContainerError::Start(e.to_string()));
        }
        let pid = client.pid();
        let now = crate::time::format_rfc3339_nanos(std::time::SystemTime::now());
        let record = self.update_container(id, |r| {
            r.state.status = Status::Running;
            r.state.pid = pid as i64;
            r.state.exit_code = 0;
            r.state.error.clear();
            r.state.oom_killed = false;
            r.state.started_at = Some(now.clone());
            r.state.health = r
                .config
                .healthcheck
                .as_ref()
                .filter(|h| super::health::enabled(h))
                .map(|_| berth_models::container::Health {
                    status: "starting".into(),
                    failing_streak: 0,
                    log: Vec::new(),
                });
            r.has_been_started = true;
            Ok(r.clone())
        })?;
        self.shims
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id.to_string(), client.clone());
        self.container_event(&record, "start", &[]);
        self.follow(id.to_string(), client);
        Ok(())
    }

    /// Mounts the root filesystem and writes `config.json` into the bundle.
    fn prepare_bundle(
        &self,
        record: &ContainerRecord,
        paths: &super::Paths,
        net: Option<&crate::networks::endpoint::NetSetup>,
    ) -> Result<(), ContainerError> {
        let rootfs = paths.rootfs();
        std::fs::create_dir_all(&rootfs)
            .map_err(|e| ContainerError::io(format!("create {}", rootfs.display()), e))?;
        if !super::mounts::is_mountpoint(&rootfs) {
            let mounts = self.snapshotter.mounts(&record.snapshot)?;
            berth_snapshot::mount_all(&mounts, &rootfs)?;
        }
        let host = &record.host_config;
        let mut mounts = super::mounts::spec_mounts(self, &rootfs, &record.mounts)?;
        let taken = |dest: &str| record.mounts.iter().any(|m| m.destination == dest);
        let own = net.map(|n| n.hosts.as_slice()).unwrap_or_default();
        let linked = self.linked(record)?;
        let link_hosts: Vec<(std::net::IpAddr, Vec<String>)> = linked
            .iter()
            .filter_map(|l| Some((l.ip?, l.host_names())))
            .collect();
        let resolver = match net {
            Some(n) if n.embedded_dns => Resolver::Embedded,
            _ => Resolver::Servers(&self.config.dns),
        };
        for (file, dest, content) in etc_files(record, own, &link_hosts, resolver) {
            if taken(dest) {
                continue;
            }
            let path = paths.data.join(file);
            std::fs::write(&path, content)
                .map_err(|e| ContainerError::io(format!("write {}", path.display()), e))?;
            mounts.push(SpecMount::bind(&path, dest, false, "rprivate"));
        }
        let user = super::user::resolve(
            &rootfs,
            &record.config.user,
            host.group_add.as_deref().unwrap_or_default(),
        )?;
        let mut config = record.config.clone();
        let env = config.env.get_or_insert_with(Vec::new);
        // Links' variables first; the container's own override them.
        let own_keys: Vec<String> = env
            .iter()
            .map(|e| e.split('=').next().unwrap_or(e).to_string())
            .collect();
        let link_env: Vec<String> = linked
            .iter()
            .flat_map(|l| l.env())
            .filter(|e| !own_keys.iter().any(|k| e.split('=').next() == Some(k)))
            .collect();
        env.splice(0..0, link_env);
        // `-e NAME` with NAME unset on the client arrives bare: it unsets
        // NAME (moby's ReplaceOrAppendEnvValues), it is no variable.
        env.retain(|e| e.contains('='));
        if !env.iter().any(|e| e.starts_with("HOME=")) {
            env.push(format!(
                "HOME={}",
                user.home
                    .clone()
                    .filter(|h| !h.is_empty())
                    .unwrap_or_else(|| "/".into())
            ));
        }
        let input = SpecInput {
            id: &record.id,
            config: &config,
            host,
            rootfs: &rootfs,
            user: &user,
            mounts: &mounts,
            network: match net {
                Some(n) => Namespace::Join(n.netns.clone()),
                None => self.namespace_of(&host.network_mode, "net")?,
            },
            pid: self.namespace_of(&host.pid_mode, "pid")?,
            ipc: self.namespace_of(&host.ipc_mode, "ipc")?,
            uts: self.namespace_of(&host.uts_mode, "uts")?,
            cgroup_v2: matches!(
                berth_cgroups::mode(),
                Ok(berth_cgroups::CgroupMode::Unified)
            ),
            cgroup_parent: &self.config.cgroup_parent,
        };
        let spec = spec::build(&input)?;
        let text = serde_json::to_vec_pretty(&spec).expect("a spec serialises");
        let path = paths.run.join("config.json");
        std::fs::write(&path, text)
            .map_err(|e| ContainerError::io(format!("write {}", path.display()), e))
    }

    /// The namespace a `--network`/`--pid`/`--ipc`/`--uts` mode asks for.
    fn namespace_of(&self, mode: &str, kind: &str) -> Result<Namespace, ContainerError> {
        if mode == "host" {
            return Ok(Namespace::Host);
        }
        if let Some(other) = mode.strip_prefix("container:") {
            let target = self
                .container(other)
                .map_err(|_| ContainerError::NotFound(format!("No such container: {other}")))?;
            if !target.state.status.is_live() {
                return Err(ContainerError::Conflict(format!(
                    "cannot join network namespace of a non running container: container {} is {}",
                    target.id,
                    target.state.status.as_str()
                )));
            }
            return Ok(Namespace::Join(
                format!("/proc/{}/ns/{kind}", target.state.pid).into(),
            ));
        }
        Ok(Namespace::Private)
    }

    fn spawn_shim(
        &self,
        record: &ContainerRecord,
        paths: &super::Paths,
    ) -> Result<berth_shim::Client, ContainerError> {
        let log = match record.host_config.log_config.kind.as_str() {
            "none" => None,
            _ => {
                let opts = super::logs::LogOptions::parse(&record.host_config.log_config.config)?;
                Some(LogSpec {
                    path: paths.log(&record.id),
                    max_size: opts.max_size,
                    max_file: opts.max_file,
                })
            }
        };
        let _ = std::fs::remove_file(paths.run.join("exit.json"));
        let spec = ShimSpec {
            id: record.id.clone(),
            bundle: paths.run.clone(),
            runtime_root: self.config.exec_root.join("runtime"),
            state_dir: paths.run.clone(),
            log,
            tty: record.config.tty,
            open_stdin: record.config.open_stdin,
            stdin_once: record.config.stdin_once,
        };
        berth_shim::spawn(&self.config.shim_binary, &spec)
            .map_err(|e| ContainerError::Start(e.to_string()))
    }

    /// Unmounts the root filesystem of a container that is not running.
    pub(crate) fn release_rootfs(&self, id: &str) {
        let rootfs = self.container_paths(id).rootfs();
        if super::mounts::is_mountpoint(&rootfs)
            && let Err(e) = berth_snapshot::unmount(&rootfs)
        {
            tracing::warn!("container {id}: unmounting its root: {e}");
        }
    }
}

/// The exit code `docker run` reports for a start failure.
fn exit_code_for(e: &ContainerError) -> i64 {
    let text = e.to_string();
    if text.contains("executable file not found") || text.contains("no such file or directory") {
        127
    } else if text.contains("permission denied") {
        126
    } else {
        128
    }
}

impl crate::Engine {
    /// After a live connect or disconnect: `/etc/hosts` and
    /// `/etc/resolv.conf` written again in place (the container sees them
    /// through bind mounts of these very inodes), as dockerd updates them —
    /// the container's addresses on every network it is on, and the
    /// embedded DNS once it is on a user-defined network. Files the user
    /// mounted over are left alone.
    pub(crate) fn refresh_etc_files(&self, record: &ContainerRecord) {
        let own = self.own_hosts(record);
        let linked = self.linked(record).unwrap_or_default();
        let link_hosts: Vec<(std::net::IpAddr, Vec<String>)> = linked
            .iter()
            .filter_map(|l| Some((l.ip?, l.host_names())))
            .collect();
        let resolver = if self.uses_embedded_dns(record) {
            Resolver::Embedded
        } else {
            Resolver::Servers(&self.config.dns)
        };
        let paths = self.container_paths(&record.id);
        for (file, dest, content) in etc_files(record, &own, &link_hosts, resolver) {
            if file == "hostname" || record.mounts.iter().any(|m| m.destination == dest) {
                continue;
            }
            let path = paths.data.join(file);
            let written = std::fs::OpenOptions::new()
                .write(true)
                .truncate(true)
                .open(&path)
                .and_then(|mut f| std::io::Write::write_all(&mut f, content.as_bytes()));
            if let Err(e) = written {
                tracing::warn!("container {}: rewriting {}: {e}", record.id, path.display());
            }
        }
    }
}

/// Which resolver a container's resolv.conf names.
#[derive(Debug, Clone, Copy)]
enum Resolver<'a> {
    /// 127.0.0.11 (user-defined networks).
    Embedded,
    /// Its `--dns`, else these (berthd's `--dns`), else the host's.
    Servers(&'a [std::net::IpAddr]),
}

/// `/etc/hostname`, `/etc/hosts` and `/etc/resolv.conf` as dockerd writes
/// them.
fn etc_files(
    record: &ContainerRecord,
    own: &[(std::net::IpAddr, Vec<String>)],
    linked: &[(std::net::IpAddr, Vec<String>)],
    resolver: Resolver<'_>,
) -> Vec<(&'static str, &'static str, String)> {
    let host = &record.host_config;
    let hostname = &record.config.hostname;
    // The host's own file with host networking, else Docker's defaults;
    // `--add-host` entries after either.
    let mut hosts = if host.network_mode == "host" {
        std::fs::read_to_string("/etc/hosts").unwrap_or_default()
    } else {
        String::from(
            "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n",
        )
    };
    // The container's own addresses with its hostname (and aliases on
    // user-defined networks), as dockerd writes them.
    for (ip, names) in own {
        hosts.push_str(&format!("{ip}\t{}\n", names.join(" ")));
    }
    // Legacy links: `IP alias hostname name`.
    for (ip, names) in linked {
        hosts.push_str(&format!("{ip}\t{}\n", names.join(" ")));
    }
    for extra in host.extra_hosts.as_deref().unwrap_or_default() {
        if let Some((name, ip)) = extra.split_once(':').or_else(|| extra.split_once('=')) {
            hosts.push_str(&format!("{ip}\t{name}\n"));
        }
    }
    vec![
        ("hostname", "/etc/hostname", format!("{hostname}\n")),
        ("hosts", "/etc/hosts", hosts),
        (
            "resolv.conf",
            "/etc/resolv.conf",
            resolv_conf(record, resolver),
        ),
    ]
}

/// The host's resolv.conf, or `--dns`/`--dns-search`/`--dns-option`; on
/// user-defined networks `nameserver 127.0.0.11` and `options ndots:0`
/// (unless `--dns-option` sets ndots), as dockerd writes it, with the
/// servers the embedded DNS forwards to left out.
fn resolv_conf(record: &ContainerRecord, resolver: Resolver<'_>) -> String {
    let host = &record.host_config;
    let base = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    let local = |ns: &str| ns.starts_with("127.") || ns == "::1";
    let mut nameservers: Vec<String> = base
        .lines()
        .filter_map(|l| l.strip_prefix("nameserver"))
        .map(|s| s.trim().to_string())
        .filter(|ns| host.network_mode == "host" || !local(ns))
        .collect();
    let mut search: Vec<String> = base
        .lines()
        .filter_map(|l| l.strip_prefix("search"))
        .flat_map(|s| s.split_whitespace().map(str::to_string).collect::<Vec<_>>())
        .collect();
    let mut options: Vec<String> = base
        .lines()
        .filter_map(|l| l.strip_prefix("options"))
        .flat_map(|s| s.split_whitespace().map(str::to_string).collect::<Vec<_>>())
        .collect();
    match resolver {
        Resolver::Embedded => nameservers = vec!["127.0.0.11".to_string()],
        Resolver::Servers(daemon) => {
            if let Some(d) = host.dns.as_ref().filter(|d| !d.is_empty()) {
                nameservers = d.clone();
            } else if !daemon.is_empty() {
                nameservers = daemon.iter().map(|ip| ip.to_string()).collect();
            }
        }
    }
    if let Some(s) = host.dns_search.as_ref().filter(|s| !s.is_empty()) {
        search = s.iter().filter(|s| *s != ".").cloned().collect();
    }
    if let Some(o) = host.dns_options.as_ref().filter(|o| !o.is_empty()) {
        options = o.clone();
    }
    if matches!(resolver, Resolver::Embedded) && !options.iter().any(|o| o.starts_with("ndots:")) {
        options.insert(0, "ndots:0".to_string());
    }
    let mut out = String::new();
    if !search.is_empty() {
        out.push_str(&format!("search {}\n", search.join(" ")));
    }
    for ns in nameservers {
        out.push_str(&format!("nameserver {ns}\n"));
    }
    if !options.is_empty() {
        out.push_str(&format!("options {}\n", options.join(" ")));
    }
    out
}
