//! `run` and `create` options turned into the body of
//! `POST /containers/create`, as docker/cli's `parse` does it
//! (cli/command/container/opts.go): the flags already typed by
//! [`flags`] are validated together, files are read (`--env-file`,
//! `--label-file`), ports ([`ports`]), mounts and volumes ([`mounts`])
//! resolved, and the `Config`, `HostConfig` and `NetworkingConfig` built.
//! Errors carry docker's wording; the caller adds `berth: ` and the
//! `--help` hint and exits 125.

pub mod env;
pub mod flags;
pub mod mounts;
pub mod ports;

use serde_json::{Map, Value, json};

use crate::cli::ContainerOpts;

/// A `run`/`create` option set that docker would refuse.
#[derive(Debug, thiserror::Error)]
pub enum OptsError {
    /// An option's value or a combination of options is invalid
    /// (docker's own sentence).
    #[error("{0}")]
    Invalid(String),
    /// `--env-file` cannot be read.
    #[error("--env-file: {0}")]
    EnvFile(#[source] env::KvError),
    /// `--label-file` cannot be read.
    #[error("--label-file: {0}")]
    LabelFile(#[source] env::KvError),
}

fn invalid(s: impl Into<String>) -> OptsError {
    OptsError::Invalid(s.into())
}

/// What `run` needs to know besides the request body.
#[derive(Debug, Clone)]
pub struct Create {
    /// The JSON body of `POST /containers/create`.
    pub body: Value,
    /// The image as given.
    pub image: String,
    /// `--name`.
    pub name: Option<String>,
    /// `--platform`.
    pub platform: Option<String>,
    /// `-t`.
    pub tty: bool,
    /// `-i`.
    pub open_stdin: bool,
    /// Attached streams.
    pub attach_stdin: bool,
    /// Attached streams.
    pub attach_stdout: bool,
    /// Attached streams.
    pub attach_stderr: bool,
    /// `--rm`.
    pub auto_remove: bool,
    /// `-a` given explicitly.
    pub attach_given: bool,
}

impl Create {
    /// Mark the streams detached (`run -d`).
    pub fn detach(&mut self) {
        self.attach_stdin = false;
        self.attach_stdout = false;
        self.attach_stderr = false;
        if let Some(o) = self.body.as_object_mut() {
            o.insert("AttachStdin".into(), Value::Bool(false));
            o.insert("AttachStdout".into(), Value::Bool(false));
            o.insert("AttachStderr".into(), Value::Bool(false));
            o.insert("StdinOnce".into(), Value::Bool(false));
        }
    }
}

fn valid_mac(s: &str) -> bool {
    let parts: Vec<&str> = s.split([':', '-']).collect();
    matches!(parts.len(), 6 | 8 | 20)
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// `container.PidMode.Valid` and friends: empty, `host`, or
/// `container:NAME` where allowed.
fn ns_mode_valid(mode: &str, container_ok: bool, extra: &[&str]) -> bool {
    match mode.split_once(':') {
        None => mode.is_empty() || mode == "host" || extra.contains(&mode),
        Some(("container", name)) => container_ok && !name.is_empty(),
        Some(_) => false,
    }
}

/// `opts.ParseRestartPolicy` (empty means `no`).
pub fn restart_policy(policy: &str) -> Result<Value, OptsError> {
    if policy.is_empty() {
        return Ok(json!({"Name": "", "MaximumRetryCount": 0}));
    }
    let (k, v) = policy.split_once(':').unwrap_or((policy, ""));
    if policy.contains(':') && k.is_empty() {
        return Err(invalid(
            "invalid restart policy format: no policy provided before colon",
        ));
    }
    let mut count = 0i64;
    if !v.is_empty() {
        count = v.parse().map_err(|_| {
            invalid("invalid restart policy format: maximum retry count must be an integer")
        })?;
    }
    Ok(json!({"Name": k, "MaximumRetryCount": count}))
}

/// `validateLinuxPath` + `parseLinuxDevice` for `--device`.
fn device(d: &str) -> Result<Value, OptsError> {
    if d.matches(':').count() > 2 {
        return Err(invalid(format!("bad format for path: {d}")));
    }
    let valid_mode = |m: &str| {
        !m.is_empty() && {
            let mut seen = String::new();
            m.chars().all(|c| {
                let ok = "rwm".contains(c) && !seen.contains(c);
                seen.push(c);
                ok
            })
        }
    };
    let arr: Vec<&str> = d.splitn(3, ':').collect();
    let src = arr[0];
    let mut dst = "";
    let mut perms = "rwm";
    match arr.len() {
        3 => {
            if !valid_mode(arr[2]) {
                return Err(invalid(format!("bad mode specified: {}", arr[2])));
            }
            perms = arr[2];
            dst = arr[1];
        }
        2 => {
            if valid_mode(arr[1]) {
                perms = arr[1];
            } else {
                dst = arr[1];
            }
        }
        _ => {}
    }
    if !dst.is_empty() && !dst.starts_with('/') {
        return Err(invalid(format!("{dst} is not an absolute path")));
    }
    let dst = if dst.is_empty() { src } else { dst };
    Ok(json!({"PathOnHost": src, "PathInContainer": dst, "CgroupPermissions": perms}))
}

/// Build the create request from the options, the image and the command.
pub fn build(o: &ContainerOpts) -> Result<Create, OptsError> {
    let image = o.args.first().cloned().unwrap_or_default();
    let cmd: Vec<String> = o.args.iter().skip(1).cloned().collect();
    let mut attach_stdin = o.attach.iter().any(|a| a == "stdin");
    let mut attach_stdout = o.attach.iter().any(|a| a == "stdout");
    let mut attach_stderr = o.attach.iter().any(|a| a == "stderr");
    if let Some(mac) = &o.mac_address
        && !valid_mac(mac.trim())
    {
        return Err(invalid(format!("{mac} is not a valid mac address")));
    }
    if o.interactive {
        attach_stdin = true;
    }
    if o.attach.is_empty() {
        attach_stdout = true;
        attach_stderr = true;
    }
    let swappiness = o.memory_swappiness.unwrap_or(-1);
    if swappiness != -1 && !(0..=100).contains(&swappiness) {
        return Err(invalid(format!(
            "invalid value: {swappiness}. Valid memory swappiness range is 0-100"
        )));
    }
    let mut binds = Vec::new();
    let mut volumes = Map::new();
    for v in &o.volume {
        match mounts::parse_volume(v).map_err(invalid)? {
            mounts::VolumeSpec::Anonymous(p) => {
                volumes.insert(p, json!({}));
            }
            mounts::VolumeSpec::Bind(b) => binds.push(b),
        }
    }
    let mut tmpfs = Map::new();
    for t in &o.tmpfs {
        let (k, v) = t.split_once(':').unwrap_or((t.as_str(), ""));
        tmpfs.insert(k.to_string(), Value::String(v.to_string()));
    }
    let entrypoint = match &o.entrypoint {
        Some(e) if !e.is_empty() => json!([e]),
        Some(_) => json!([""]),
        None => Value::Null,
    };
    let (exposed, bindings) = ports::ports(&o.publish, &o.expose).map_err(invalid)?;
    let devices = o
        .device
        .iter()
        .map(|d| device(d))
        .collect::<Result<Vec<_>, _>>()?;
    let env = env::env_strings(&o.env_file, &o.env).map_err(OptsError::EnvFile)?;
    let labels = env::kv_strings(&o.label_file, &o.label).map_err(OptsError::LabelFile)?;
    let pid = o.pid.clone().unwrap_or_default();
    if !ns_mode_valid(&pid, true, &[]) {
        return Err(invalid("--pid: invalid PID mode"));
    }
    let uts = o.uts.clone().unwrap_or_default();
    if !ns_mode_valid(&uts, false, &[]) {
        return Err(invalid("--uts: invalid UTS mode"));
    }
    let userns = o.userns.clone().unwrap_or_default();
    if !ns_mode_valid(&userns, false, &[]) {
        return Err(invalid("--userns: invalid USER mode"));
    }
    let cgroupns = o.cgroupns.clone().unwrap_or_default();
    if !ns_mode_valid(&cgroupns, false, &["private"]) {
        return Err(invalid("--cgroupns: invalid CGROUP mode"));
    }
    let restart = restart_policy(o.restart.as_deref().unwrap_or("no"))?;
    let log_driver = o.log_driver.clone().unwrap_or_default();
    if log_driver == "none" && !o.log_opt.is_empty() {
        return Err(invalid(format!(
            "invalid logging opts for driver {log_driver}"
        )));
    }
    let log_opts = env::to_map(&o.log_opt);
    let mut security = Vec::new();
    let mut masked: Option<Vec<String>> = None;
    for s in &o.security_opt {
        let (k, v) = match s.split_once('=') {
            Some(p) => (p.0, Some(p.1)),
            None if s != "no-new-privileges" => match s.split_once(':') {
                Some(p) => (p.0, Some(p.1)),
                None => (s.as_str(), None),
            },
            None => (s.as_str(), None),
        };
        if v.is_none_or(str::is_empty) && k != "no-new-privileges" {
            return Err(invalid(format!("invalid --security-opt: {s:?}")));
        }
        if s == "systempaths=unconfined" {
            masked = Some(Vec::new());
            continue;
        }
        if k == "seccomp"
            && let Some(path) = v
            && path != "builtin"
            && path != "unconfined"
        {
            let text = std::fs::read(path).map_err(|e| {
                invalid(format!(
                    "opening seccomp profile ({path}) failed: open {path}: {}",
                    crate::error::go_error(&e)
                ))
            })?;
            let j: Value = serde_json::from_slice(&text).map_err(|e| {
                invalid(format!(
                    "compacting json for seccomp profile ({path}) failed: {e}"
                ))
            })?;
            security.push(format!("seccomp={j}"));
            continue;
        }
        security.push(s.clone());
    }
    let mut storage = Map::new();
    for s in &o.storage_opt {
        let Some((k, v)) = s.split_once('=') else {
            return Err(invalid("invalid storage option"));
        };
        storage.insert(k.to_string(), Value::String(v.to_string()));
    }
    // health check
    let have_health = o.health_cmd.as_deref().is_some_and(|c| !c.is_empty())
        || o.health_interval.is_some_and(|v| v != 0)
        || o.health_timeout.is_some_and(|v| v != 0)
        || o.health_start_period.is_some_and(|v| v != 0)
        || o.health_retries.is_some_and(|v| v != 0)
        || o.health_start_interval.is_some_and(|v| v != 0);
    let health = if o.no_healthcheck {
        if have_health {
            return Err(invalid(
                "--no-healthcheck conflicts with --health-* options",
            ));
        }
        json!({"Test": ["NONE"]})
    } else if have_health {
        for (v, name) in [
            (o.health_interval, "--health-interval"),
            (o.health_timeout, "--health-timeout"),
            (o.health_retries, "--health-retries"),
            (o.health_start_period, "--health-start-period"),
            (o.health_start_interval, "--health-start-interval"),
        ] {
            if v.is_some_and(|v| v < 0) {
                return Err(invalid(format!("{name} cannot be negative")));
            }
        }
        let mut h = Map::new();
        if let Some(c) = o.health_cmd.as_deref().filter(|c| !c.is_empty()) {
            h.insert("Test".into(), json!(["CMD-SHELL", c]));
        }
        for (k, v) in [
            ("Interval", o.health_interval),
            ("Timeout", o.health_timeout),
            ("StartPeriod", o.health_start_period),
            ("StartInterval", o.health_start_interval),
            ("Retries", o.health_retries),
        ] {
            if let Some(v) = v.filter(|v| *v != 0) {
                h.insert(k.into(), json!(v));
            }
        }
        Value::Object(h)
    } else {
        Value::Null
    };
    let restart_none = matches!(restart["Name"].as_str(), Some("no") | Some(""));
    if o.rm && !restart_none {
        return Err(invalid(
            "conflicting options: cannot specify both --restart and --rm",
        ));
    }
    let networking = network_config(o)?;
    let network_mode = o
        .network
        .first()
        .map(|n| {
            n.split(',')
                .next()
                .unwrap_or("")
                .trim_start_matches("name=")
                .to_string()
        })
        .unwrap_or_else(|| "default".into());

    let opt_s = |v: &Option<String>| v.clone().unwrap_or_default();
    let mut config = Map::new();
    config.insert("Hostname".into(), json!(opt_s(&o.hostname)));
    config.insert("Domainname".into(), json!(opt_s(&o.domainname)));
    config.insert("User".into(), json!(opt_s(&o.user)));
    config.insert("AttachStdin".into(), json!(attach_stdin));
    config.insert("AttachStdout".into(), json!(attach_stdout));
    config.insert("AttachStderr".into(), json!(attach_stderr));
    if !exposed.as_object().is_none_or(Map::is_empty) {
        config.insert("ExposedPorts".into(), exposed);
    }
    config.insert("Tty".into(), json!(o.tty));
    config.insert("OpenStdin".into(), json!(o.interactive));
    config.insert("StdinOnce".into(), json!(o.interactive && attach_stdin));
    config.insert("Env".into(), json!(env));
    config.insert(
        "Cmd".into(),
        if cmd.is_empty() {
            Value::Null
        } else {
            json!(cmd)
        },
    );
    if !health.is_null() {
        config.insert("Healthcheck".into(), health);
    }
    config.insert("Image".into(), json!(image));
    config.insert(
        "Volumes".into(),
        if volumes.is_empty() {
            Value::Null
        } else {
            Value::Object(volumes)
        },
    );
    config.insert("WorkingDir".into(), json!(opt_s(&o.workdir)));
    config.insert("Entrypoint".into(), entrypoint);
    config.insert("OnBuild".into(), Value::Null);
    config.insert("Labels".into(), Value::Object(env::to_map(&labels)));
    if let Some(s) = &o.stop_signal {
        config.insert("StopSignal".into(), json!(s));
    }
    if let Some(t) = o.stop_timeout {
        config.insert("StopTimeout".into(), json!(t));
    }
    if let Some(m) = &o.mac_address {
        config.insert("MacAddress".into(), json!(m));
    }

    let mut host = Map::new();
    host.insert("Binds".into(), json!(binds));
    if let Some(c) = &o.cidfile {
        host.insert("ContainerIDFile".into(), json!(c));
    }
    host.insert(
        "LogConfig".into(),
        json!({"Type": log_driver, "Config": log_opts}),
    );
    host.insert("NetworkMode".into(), json!(network_mode));
    host.insert("PortBindings".into(), bindings);
    host.insert("RestartPolicy".into(), restart);
    host.insert("AutoRemove".into(), json!(o.rm));
    host.insert("VolumeDriver".into(), json!(opt_s(&o.volume_driver)));
    host.insert("VolumesFrom".into(), json!(o.volumes_from));
    host.insert("CapAdd".into(), json!(o.cap_add));
    host.insert("CapDrop".into(), json!(o.cap_drop));
    host.insert("CgroupnsMode".into(), json!(cgroupns));
    host.insert("Dns".into(), json!(o.dns));
    host.insert("DnsOptions".into(), json!(o.dns_option));
    host.insert("DnsSearch".into(), json!(o.dns_search));
    host.insert("ExtraHosts".into(), json!(o.add_host));
    host.insert("GroupAdd".into(), json!(o.group_add));
    host.insert("IpcMode".into(), json!(opt_s(&o.ipc)));
    host.insert("Cgroup".into(), json!(""));
    host.insert("Links".into(), json!(o.link));
    host.insert("OomScoreAdj".into(), json!(o.oom_score_adj.unwrap_or(0)));
    host.insert("PidMode".into(), json!(pid));
    host.insert("Privileged".into(), json!(o.privileged));
    host.insert("PublishAllPorts".into(), json!(o.publish_all));
    host.insert("ReadonlyRootfs".into(), json!(o.read_only));
    host.insert("SecurityOpt".into(), json!(security));
    if !storage.is_empty() {
        host.insert("StorageOpt".into(), Value::Object(storage));
    }
    if !tmpfs.is_empty() {
        host.insert("Tmpfs".into(), Value::Object(tmpfs));
    }
    host.insert("UTSMode".into(), json!(uts));
    host.insert("UsernsMode".into(), json!(userns));
    host.insert("ShmSize".into(), json!(o.shm_size.unwrap_or(0)));
    if !o.sysctl.is_empty() {
        host.insert("Sysctls".into(), Value::Object(env::to_map(&o.sysctl)));
    }
    host.insert("Runtime".into(), json!(opt_s(&o.runtime)));
    host.insert("Isolation".into(), json!(opt_s(&o.isolation)));
    // resources
    host.insert("CpuShares".into(), json!(o.cpu_shares.unwrap_or(0)));
    host.insert("Memory".into(), json!(o.memory.unwrap_or(0)));
    host.insert("NanoCpus".into(), json!(o.cpus.unwrap_or(0)));
    host.insert("CgroupParent".into(), json!(opt_s(&o.cgroup_parent)));
    host.insert("BlkioWeight".into(), json!(o.blkio_weight.unwrap_or(0)));
    host.insert("CpuPeriod".into(), json!(o.cpu_period.unwrap_or(0)));
    host.insert("CpuQuota".into(), json!(o.cpu_quota.unwrap_or(0)));
    host.insert(
        "CpuRealtimePeriod".into(),
        json!(o.cpu_rt_period.unwrap_or(0)),
    );
    host.insert(
        "CpuRealtimeRuntime".into(),
        json!(o.cpu_rt_runtime.unwrap_or(0)),
    );
    host.insert("CpusetCpus".into(), json!(opt_s(&o.cpuset_cpus)));
    host.insert("CpusetMems".into(), json!(opt_s(&o.cpuset_mems)));
    host.insert("Devices".into(), json!(devices));
    host.insert("DeviceCgroupRules".into(), json!(o.device_cgroup_rule));
    host.insert(
        "MemoryReservation".into(),
        json!(o.memory_reservation.unwrap_or(0)),
    );
    host.insert("MemorySwap".into(), json!(o.memory_swap.unwrap_or(0)));
    host.insert("MemorySwappiness".into(), json!(swappiness));
    host.insert("OomKillDisable".into(), json!(o.oom_kill_disable));
    host.insert("PidsLimit".into(), json!(o.pids_limit.unwrap_or(0)));
    host.insert("Ulimits".into(), json!(o.ulimit));
    if !o.mount.is_empty() {
        host.insert("Mounts".into(), json!(o.mount));
    }
    if let Some(m) = masked {
        host.insert("MaskedPaths".into(), json!(m));
        host.insert("ReadonlyPaths".into(), json!(Vec::<String>::new()));
    }
    if o.init {
        host.insert("Init".into(), json!(true));
    }
    if !o.annotation.is_empty() {
        host.insert(
            "Annotations".into(),
            Value::Object(env::to_map(&o.annotation)),
        );
    }
    config.insert("HostConfig".into(), Value::Object(host));
    config.insert("NetworkingConfig".into(), networking);

    Ok(Create {
        body: Value::Object(config),
        image,
        name: o.name.clone(),
        platform: o.platform.clone().filter(|p| !p.is_empty()),
        tty: o.tty,
        open_stdin: o.interactive,
        attach_stdin,
        attach_stdout,
        attach_stderr,
        auto_remove: o.rm,
        attach_given: !o.attach.is_empty(),
    })
}

fn is_user_defined(n: &str) -> bool {
    !(n.is_empty()
        || ["default", "bridge", "host", "none"].contains(&n)
        || n.starts_with("container:"))
}

/// `parseNetworkOpts`: the endpoint of the first (or default) network,
/// with `--network-alias`, `--ip`, `--ip6`, `--mac-address`, `--link`.
fn network_config(o: &ContainerOpts) -> Result<Value, OptsError> {
    let target = o
        .network
        .first()
        .map(|n| {
            n.split(',')
                .next()
                .unwrap_or("")
                .trim_start_matches("name=")
                .to_string()
        })
        .unwrap_or_else(|| "default".into());
    if target.trim().is_empty() {
        return Err(invalid("no name set for network"));
    }
    let user = is_user_defined(&target);
    if !user && !o.network_alias.is_empty() {
        return Err(invalid(
            "network-scoped aliases are only supported for user-defined networks",
        ));
    }
    let mut ep = Map::new();
    if !o.network_alias.is_empty() {
        ep.insert("Aliases".into(), json!(o.network_alias));
    }
    if user && !o.link.is_empty() {
        ep.insert("Links".into(), json!(o.link));
    }
    if o.ip.is_some() || o.ip6.is_some() || !o.link_local_ip.is_empty() {
        let mut ipam = Map::new();
        if let Some(ip) = &o.ip {
            ipam.insert("IPv4Address".into(), json!(ip));
        }
        if let Some(ip) = &o.ip6 {
            ipam.insert("IPv6Address".into(), json!(ip));
        }
        if !o.link_local_ip.is_empty() {
            ipam.insert("LinkLocalIPs".into(), json!(o.link_local_ip));
        }
        ep.insert("IPAMConfig".into(), Value::Object(ipam));
    }
    if let Some(m) = &o.mac_address {
        ep.insert("MacAddress".into(), json!(m));
    }
    let mut endpoints = Map::new();
    if o.network.is_empty() || !ep.is_empty() {
        endpoints.insert(target, Value::Object(ep));
    }
    Ok(json!({ "EndpointsConfig": endpoints }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    #[command(disable_help_flag = true)]
    struct T {
        #[command(flatten)]
        o: ContainerOpts,
    }

    fn build_args(args: &[&str]) -> Result<Create, OptsError> {
        let mut v = vec!["t"];
        v.extend_from_slice(args);
        let t = T::try_parse_from(v).expect("flags parse");
        build(&t.o)
    }

    #[test]
    fn create_body() {
        let c = build_args(&[
            "-e",
            "A=1",
            "-w",
            "/tmp",
            "-u",
            "1:2",
            "-m",
            "64m",
            "--cpus",
            "1.5",
            "-p",
            "8080:80",
            "-v",
            "/data",
            "-v",
            "/h:/c:ro",
            "--restart",
            "on-failure:3",
            "-l",
            "a=b",
            "--ulimit",
            "nofile=1:2",
            "img",
            "sh",
            "-c",
            "exit 3",
        ])
        .unwrap();
        let b = &c.body;
        assert_eq!(b["Image"], "img");
        assert_eq!(b["Cmd"], json!(["sh", "-c", "exit 3"]));
        assert_eq!(b["Env"], json!(["A=1"]));
        assert_eq!(b["WorkingDir"], "/tmp");
        assert_eq!(b["User"], "1:2");
        assert_eq!(b["Labels"], json!({"a": "b"}));
        assert_eq!(b["Volumes"], json!({"/data": {}}));
        assert_eq!(b["ExposedPorts"], json!({"80/tcp": {}}));
        let h = &b["HostConfig"];
        assert_eq!(h["Memory"], 64 << 20);
        assert_eq!(h["NanoCpus"], 1_500_000_000i64);
        assert_eq!(h["Binds"], json!(["/h:/c:ro"]));
        assert_eq!(
            h["RestartPolicy"],
            json!({"Name": "on-failure", "MaximumRetryCount": 3})
        );
        assert_eq!(h["Ulimits"], json!([{"Name":"nofile","Soft":1,"Hard":2}]));
        assert_eq!(h["PortBindings"]["80/tcp"][0]["HostPort"], "8080");
        assert!(c.attach_stdout && c.attach_stderr && !c.attach_stdin);
    }

    #[test]
    fn docker_refusals() {
        let e = |a: &[&str]| build_args(a).unwrap_err().to_string();
        assert_eq!(e(&["-p", "99999:1", "i"]), "invalid hostPort: 99999");
        assert_eq!(
            e(&["--rm", "--restart", "always", "i"]),
            "conflicting options: cannot specify both --restart and --rm"
        );
        assert_eq!(
            e(&["--restart", "on-failure:x", "i"]),
            "invalid restart policy format: maximum retry count must be an integer"
        );
        assert_eq!(e(&["--pid", "bogus", "i"]), "--pid: invalid PID mode");
        assert_eq!(
            e(&["--no-healthcheck", "--health-cmd", "x", "i"]),
            "--no-healthcheck conflicts with --health-* options"
        );
        assert_eq!(
            e(&["--mac-address", "zz", "i"]),
            "zz is not a valid mac address"
        );
        assert_eq!(
            e(&["--env-file", "/nonexistent", "i"]),
            "--env-file: open /nonexistent: no such file or directory"
        );
    }
}
