//! The OCI runtime spec (`config.json`) of a container: the image's config
//! merged with the create request, on Docker's secure defaults (the default
//! capabilities and seccomp profile, masked and read-only `/proc` paths, a
//! device allowlist) unless `--privileged` or `--security-opt` say otherwise.
//!
//! Everything here is a pure function of its [`SpecInput`]: the caller has
//! already resolved the user, the mounts and the namespaces to join.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use berth_models::container_config::ContainerConfig;
use berth_models::host_config::HostConfig;
use serde_json::{Value, json};

use super::ContainerError;
use super::caps;
use super::user::ResolvedUser;

/// Docker's masked paths (moby `oci/defaults.go`).
const MASKED_PATHS: [&str; 10] = [
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
];

/// Docker's read-only paths.
const READONLY_PATHS: [&str; 5] = [
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// The PATH a container gets when its image sets none.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The annotation that asks the runtime for its minimal init as pid 1.
pub const INIT_ANNOTATION: &str = "org.berth.init";

/// How a container gets one of its namespaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Namespace {
    /// A new one of its own.
    Private,
    /// The host's (no entry in the spec).
    Host,
    /// Join this `/proc/<pid>/ns/<kind>` path.
    Join(PathBuf),
}

/// A mount already resolved to a host source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecMount {
    pub destination: String,
    pub kind: String,
    pub source: String,
    pub options: Vec<String>,
}

impl SpecMount {
    pub fn bind(source: &Path, destination: &str, read_only: bool, propagation: &str) -> SpecMount {
        let mut options = vec!["rbind".to_string()];
        options.push(if read_only { "ro" } else { "rw" }.to_string());
        if !propagation.is_empty() {
            options.push(propagation.to_string());
        }
        SpecMount {
            destination: destination.to_string(),
            kind: "bind".into(),
            source: source.display().to_string(),
            options,
        }
    }
}

/// Everything the spec is made from.
#[derive(Debug)]
pub struct SpecInput<'a> {
    pub id: &'a str,
    /// The image's config merged with the request's.
    pub config: &'a ContainerConfig,
    pub host: &'a HostConfig,
    pub rootfs: &'a Path,
    pub user: &'a ResolvedUser,
    /// Volumes, binds and tmpfs mounts, in the order to mount them.
    pub mounts: &'a [SpecMount],
    pub network: Namespace,
    pub pid: Namespace,
    pub ipc: Namespace,
    pub uts: Namespace,
    /// Whether the host runs the unified cgroup hierarchy only.
    pub cgroup_v2: bool,
    /// The cgroup parent when the request names none.
    pub cgroup_parent: &'a str,
}

/// The container's process arguments: entrypoint then command.
pub fn process_args(config: &ContainerConfig) -> Vec<String> {
    let mut args = config.entrypoint.clone().unwrap_or_default();
    args.extend(config.cmd.clone().unwrap_or_default());
    args
}

/// The environment: the merged config's, with PATH and HOSTNAME (and TERM
/// with a tty) when missing, as dockerd's `CreateDaemonEnvironment`.
pub fn environment(config: &ContainerConfig, hostname: &str) -> Vec<String> {
    let mut env = vec![
        format!("PATH={DEFAULT_PATH}"),
        format!("HOSTNAME={hostname}"),
    ];
    if config.tty {
        env.push("TERM=xterm".into());
    }
    for e in config.env.as_deref().unwrap_or_default() {
        let key = e.split('=').next().unwrap_or(e);
        env.retain(|x| x.split('=').next() != Some(key));
        env.push(e.clone());
    }
    env
}

fn ns_entry(kind: &str, ns: &Namespace) -> Option<Value> {
    match ns {
        Namespace::Private => Some(json!({"type": kind})),
        Namespace::Host => None,
        Namespace::Join(path) => Some(json!({"type": kind, "path": path})),
    }
}

/// Parsed `--security-opt` values.
#[derive(Debug, Default)]
struct SecurityOpts {
    seccomp: Option<String>,
    no_new_privileges: bool,
    apparmor: Option<String>,
    label_disable: bool,
}

fn security_opts(opts: &[String]) -> Result<SecurityOpts, ContainerError> {
    let mut out = SecurityOpts::default();
    for opt in opts {
        if opt == "no-new-privileges" {
            out.no_new_privileges = true;
            continue;
        }
        let Some((key, value)) = opt.split_once(['=', ':']) else {
            return Err(ContainerError::invalid(format!(
                "Invalid --security-opt: {opt:?}"
            )));
        };
        match key {
            "seccomp" => out.seccomp = Some(value.to_string()),
            "apparmor" => out.apparmor = Some(value.to_string()),
            "no-new-privileges" => {
                out.no_new_privileges = value.parse::<bool>().map_err(|_| {
                    ContainerError::invalid(format!("invalid --security-opt 2: {opt:?}"))
                })?
            }
            "label" => {
                if value == "disable" {
                    out.label_disable = true;
                } else if !value.starts_with("user:")
                    && !value.starts_with("role:")
                    && !value.starts_with("type:")
                    && !value.starts_with("level:")
                    && !value.starts_with("filetype:")
                {
                    return Err(ContainerError::invalid(format!(
                        "Invalid --security-opt: {opt:?}"
                    )));
                }
            }
            "systempaths" if value == "unconfined" => {}
            _ => {
                return Err(ContainerError::invalid(format!(
                    "invalid --security-opt 1: {opt:?}"
                )));
            }
        }
    }
    Ok(out)
}

/// The `linux.seccomp` object: Berth's default profile for these
/// capabilities, none (`unconfined`, `--privileged`), or the user's JSON
/// profile (Docker's format).
fn seccomp(
    opt: Option<&str>,
    privileged: bool,
    caps: &[String],
) -> Result<Option<Value>, ContainerError> {
    match opt {
        Some("unconfined") => Ok(None),
        None | Some("") | Some("builtin") if privileged => Ok(None),
        None | Some("") | Some("builtin") => {
            let profile = berth_seccomp::default_profile(caps);
            Ok(Some(serde_json::to_value(profile).map_err(|e| {
                ContainerError::Internal(format!("encoding the default seccomp profile: {e}"))
            })?))
        }
        Some(json_text) => {
            let docker: Value = serde_json::from_str(json_text).map_err(|e| {
                ContainerError::invalid(format!("Decoding seccomp profile failed: {e}"))
            })?;
            berth_seccomp::docker_format::from_docker_profile(&docker, caps)
                .map(Some)
                .map_err(|e| {
                    ContainerError::invalid(format!("Decoding seccomp profile failed: {e}"))
                })
        }
    }
}

/// Memory and CPU knobs in OCI terms.
fn resources(host: &HostConfig) -> Result<Value, ContainerError> {
    let r = &host.resources;
    let mut out = serde_json::Map::new();
    out.insert("devices".into(), json!([{"allow": false, "access": "rwm"}]));
    let mut memory = serde_json::Map::new();
    if r.memory > 0 {
        memory.insert("limit".into(), json!(r.memory));
        let swap = match r.memory_swap {
            0 => r.memory * 2,
            -1 => -1,
            s => s,
        };
        memory.insert("swap".into(), json!(swap));
    }
    if r.memory_reservation > 0 {
        memory.insert("reservation".into(), json!(r.memory_reservation));
    }
    if let Some(s) = r.memory_swappiness.filter(|s| *s >= 0) {
        memory.insert("swappiness".into(), json!(s));
    }
    if let Some(d) = r.oom_kill_disable {
        memory.insert("disableOOMKiller".into(), json!(d));
    }
    if !memory.is_empty() {
        out.insert("memory".into(), Value::Object(memory));
    }
    let mut cpu = serde_json::Map::new();
    if r.cpu_shares > 0 {
        cpu.insert("shares".into(), json!(r.cpu_shares));
    }
    if r.nano_cpus > 0 {
        // Docker's conversion: a 100 ms period, the quota in proportion.
        let period: i64 = 100_000;
        cpu.insert("period".into(), json!(period));
        cpu.insert("quota".into(), json!(r.nano_cpus * period / 1_000_000_000));
    } else {
        if r.cpu_period > 0 {
            cpu.insert("period".into(), json!(r.cpu_period));
        }
        if r.cpu_quota != 0 {
            cpu.insert("quota".into(), json!(r.cpu_quota));
        }
    }
    if r.cpu_realtime_period > 0 {
        cpu.insert("realtimePeriod".into(), json!(r.cpu_realtime_period));
    }
    if r.cpu_realtime_runtime > 0 {
        cpu.insert("realtimeRuntime".into(), json!(r.cpu_realtime_runtime));
    }
    if !r.cpuset_cpus.is_empty() {
        cpu.insert("cpus".into(), json!(r.cpuset_cpus));
    }
    if !r.cpuset_mems.is_empty() {
        cpu.insert("mems".into(), json!(r.cpuset_mems));
    }
    if !cpu.is_empty() {
        out.insert("cpu".into(), Value::Object(cpu));
    }
    if let Some(limit) = r.pids_limit.filter(|l| *l != 0) {
        out.insert(
            "pids".into(),
            json!({"limit": if limit < 0 { -1 } else { limit }}),
        );
    }
    let mut blkio = serde_json::Map::new();
    if r.blkio_weight > 0 {
        blkio.insert("weight".into(), json!(r.blkio_weight));
    }
    let throttle = |list: &Option<Vec<berth_models::host_config::ThrottleDevice>>| -> Result<Vec<Value>, ContainerError> {
        list.as_deref()
            .unwrap_or_default()
            .iter()
            .map(|d| {
                let (major, minor) = device_numbers(&d.path)?;
                Ok(json!({"major": major, "minor": minor, "rate": d.rate}))
            })
            .collect()
    };
    for (key, list) in [
        ("throttleReadBpsDevice", &r.blkio_device_read_bps),
        ("throttleWriteBpsDevice", &r.blkio_device_write_bps),
        ("throttleReadIOPSDevice", &r.blkio_device_read_iops),
        ("throttleWriteIOPSDevice", &r.blkio_device_write_iops),
    ] {
        let v = throttle(list)?;
        if !v.is_empty() {
            blkio.insert(key.into(), Value::Array(v));
        }
    }
    if !blkio.is_empty() {
        out.insert("blockIO".into(), Value::Object(blkio));
    }
    Ok(Value::Object(out))
}

/// The major and minor numbers of a device node on the host.
fn device_numbers(path: &str) -> Result<(u64, u64), ContainerError> {
    let st = rustix::fs::stat(path).map_err(|e| {
        ContainerError::invalid(format!(
            "error gathering device information while adding custom device {path:?}: {e}"
        ))
    })?;
    Ok((
        rustix::fs::major(st.st_rdev) as u64,
        rustix::fs::minor(st.st_rdev) as u64,
    ))
}

/// `--device HOST[:CONTAINER[:PERMS]]` entries: the node in `linux.devices`
/// and its cgroup rule. A directory adds every device under it.
fn devices(host: &HostConfig) -> Result<(Vec<Value>, Vec<Value>), ContainerError> {
    let mut nodes = Vec::new();
    let mut rules = Vec::new();
    for d in host.resources.devices.as_deref().unwrap_or_default() {
        let perms = if d.cgroup_permissions.is_empty() {
            "rwm"
        } else {
            d.cgroup_permissions.as_str()
        };
        if !perms.chars().all(|c| matches!(c, 'r' | 'w' | 'm')) {
            return Err(ContainerError::invalid(format!(
                "invalid device mode: {perms}"
            )));
        }
        let target = if d.path_in_container.is_empty() {
            d.path_on_host.as_str()
        } else {
            d.path_in_container.as_str()
        };
        let st = rustix::fs::stat(d.path_on_host.as_str()).map_err(|e| {
            ContainerError::invalid(format!(
                "error gathering device information while adding custom device {:?}: {e}",
                d.path_on_host
            ))
        })?;
        let kind = match rustix::fs::FileType::from_raw_mode(st.st_mode) {
            rustix::fs::FileType::CharacterDevice => "c",
            rustix::fs::FileType::BlockDevice => "b",
            _ => {
                return Err(ContainerError::invalid(format!(
                    "error gathering device information while adding custom device {:?}: not a device node",
                    d.path_on_host
                )));
            }
        };
        let (major, minor) = (
            rustix::fs::major(st.st_rdev) as u64,
            rustix::fs::minor(st.st_rdev) as u64,
        );
        nodes.push(json!({
            "path": target, "type": kind, "major": major, "minor": minor,
            "fileMode": st.st_mode & 0o7777, "uid": st.st_uid, "gid": st.st_gid,
        }));
        rules.push(
            json!({"allow": true, "type": kind, "major": major, "minor": minor, "access": perms}),
        );
    }
    for rule in host
        .resources
        .device_cgroup_rules
        .as_deref()
        .unwrap_or_default()
    {
        rules.push(parse_cgroup_rule(rule)?);
    }
    Ok((nodes, rules))
}

/// `--device-cgroup-rule 'c 1:3 rwm'`.
fn parse_cgroup_rule(rule: &str) -> Result<Value, ContainerError> {
    let bad = || ContainerError::invalid(format!("invalid device cgroup rule format: '{rule}'"));
    let mut parts = rule.split_whitespace();
    let (Some(kind), Some(nums), Some(access), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    if !matches!(kind, "a" | "b" | "c") || !access.chars().all(|c| matches!(c, 'r' | 'w' | 'm')) {
        return Err(bad());
    }
    let (major, minor) = nums.split_once(':').ok_or_else(bad)?;
    let num = |s: &str| -> Result<Value, ContainerError> {
        if s == "*" {
            Ok(Value::Null)
        } else {
            s.parse::<i64>().map(|n| json!(n)).map_err(|_| bad())
        }
    };
    let mut v = json!({"allow": true, "type": kind, "access": access});
    for (key, val) in [("major", num(major)?), ("minor", num(minor)?)] {
        if !val.is_null() {
            v[key] = val;
        }
    }
    Ok(v)
}

/// `--ulimit`s as OCI rlimits.
fn rlimits(host: &HostConfig) -> Result<Vec<Value>, ContainerError> {
    host.resources
        .ulimits
        .as_deref()
        .unwrap_or_default()
        .iter()
        .map(|u| {
            if u.soft > u.hard && u.hard >= 0 {
                return Err(ContainerError::invalid(format!(
                    "ulimit soft limit must be less than or equal to hard limit: {} > {}",
                    u.soft, u.hard
                )));
            }
            Ok(json!({"type": format!("RLIMIT_{}", u.name.to_ascii_uppercase()), "soft": u.soft as u64, "hard": u.hard as u64}))
        })
        .collect()
}

/// The spec, ready to be written as `config.json`.
pub fn build(input: &SpecInput<'_>) -> Result<Value, ContainerError> {
    let config = input.config;
    let host = input.host;
    let security = security_opts(host.security_opt.as_deref().unwrap_or_default())?;
    let caps = caps::effective(
        host.privileged,
        host.cap_add.as_deref().unwrap_or_default(),
        host.cap_drop.as_deref().unwrap_or_default(),
    )?;
    let args = process_args(config);
    if args.is_empty() {
        return Err(ContainerError::invalid("no command specified"));
    }
    let hostname = config.hostname.clone();
    let cwd = if config.working_dir.is_empty() {
        "/".to_string()
    } else {
        config.working_dir.clone()
    };
    let mut process = json!({
        "terminal": config.tty,
        "user": {
            "uid": input.user.uid,
            "gid": input.user.gid,
            "additionalGids": input.user.additional_gids,
        },
        "args": args,
        "env": environment(config, &hostname),
        "cwd": cwd,
        "capabilities": {
            "bounding": caps,
            "effective": caps,
            "permitted": caps,
        },
        "noNewPrivileges": security.no_new_privileges,
    });
    if host.console_size != [0, 0] && config.tty {
        process["consoleSize"] =
            json!({"height": host.console_size[0], "width": host.console_size[1]});
    }
    if host.oom_score_adj != 0 {
        process["oomScoreAdj"] = json!(host.oom_score_adj);
    }
    let limits = rlimits(host)?;
    if !limits.is_empty() {
        process["rlimits"] = Value::Array(limits);
    }
    if let Some(profile) = security.apparmor.as_deref().filter(|p| *p != "unconfined") {
        process["apparmorProfile"] = json!(profile);
    }

    let shm_size = if host.shm_size > 0 {
        host.shm_size
    } else {
        64 << 20
    };
    let sys_ro = !host.privileged;
    let mut mounts = vec![
        json!({"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]}),
        json!({"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]}),
        json!({"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]}),
        json!({"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", if sys_ro { "ro" } else { "rw" }]}),
        json!({"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", if sys_ro { "ro" } else { "rw" }]}),
        json!({"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]}),
    ];
    let user_targets: Vec<&str> = input
        .mounts
        .iter()
        .map(|m| m.destination.as_str())
        .collect();
    if !user_targets.contains(&"/dev/shm") && input.ipc != Namespace::Host {
        mounts.push(
            json!({"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
            "options": ["nosuid", "noexec", "nodev", "mode=1777", format!("size={shm_size}")]}),
        );
    }
    for m in input.mounts {
        mounts.push(json!({"destination": m.destination, "type": m.kind, "source": m.source, "options": m.options}));
    }

    let mut namespaces: Vec<Value> = [
        ("pid", &input.pid),
        ("network", &input.network),
        ("ipc", &input.ipc),
        ("uts", &input.uts),
    ]
    .iter()
    .filter_map(|(kind, ns)| ns_entry(kind, ns))
    .collect();
    namespaces.push(json!({"type": "mount"}));
    let cgroupns_private = match host.cgroupns_mode.as_str() {
        "private" => true,
        "host" => false,
        "" => input.cgroup_v2,
        other => {
            return Err(ContainerError::invalid(format!(
                "invalid cgroup namespace mode: {other}"
            )));
        }
    };
    if cgroupns_private {
        namespaces.push(json!({"type": "cgroup"}));
    }

    let (device_nodes, mut device_rules) = devices(host)?;
    let mut resources = resources(host)?;
    if host.privileged {
        device_rules = vec![json!({"allow": true, "access": "rwm"})];
        resources["devices"] = json!([]);
    }
    if let Some(list) = resources["devices"].as_array_mut() {
        list.extend(device_rules);
    }
    let parent = if host.resources.cgroup_parent.is_empty() {
        input.cgroup_parent
    } else {
        host.resources.cgroup_parent.as_str()
    };
    let mut linux = json!({
        "namespaces": namespaces,
        "resources": resources,
        "cgroupsPath": format!("{}/{}", parent.trim_end_matches('/'), input.id),
        "devices": device_nodes,
    });
    if !host.privileged {
        linux["maskedPaths"] = json!(
            host.masked_paths
                .clone()
                .unwrap_or_else(|| MASKED_PATHS.iter().map(|s| s.to_string()).collect())
        );
        linux["readonlyPaths"] = json!(
            host.readonly_paths
                .clone()
                .unwrap_or_else(|| READONLY_PATHS.iter().map(|s| s.to_string()).collect())
        );
    }
    if let Some(sysctls) = host.sysctls.as_ref().filter(|s| !s.is_empty()) {
        validate_sysctls(sysctls, input)?;
        linux["sysctl"] = json!(sysctls);
    }
    let seccomp_opt = if host.privileged && security.seccomp.is_none() {
        Some("unconfined")
    } else {
        security.seccomp.as_deref()
    };
    if let Some(profile) = seccomp(seccomp_opt, host.privileged, &caps)? {
        linux["seccomp"] = profile;
    }

    let mut annotations = host.annotations.clone().unwrap_or_default();
    if host.init == Some(true) {
        annotations.insert(INIT_ANNOTATION.into(), "true".into());
    }
    let mut spec = json!({
        "ociVersion": "1.2.0",
        "process": process,
        "root": {"path": input.rootfs, "readonly": host.readonly_rootfs},
        "mounts": mounts,
        "linux": linux,
    });
    if input.uts != Namespace::Host {
        spec["hostname"] = json!(hostname);
        if !config.domainname.is_empty() {
            spec["domainname"] = json!(config.domainname);
        }
    }
    if !annotations.is_empty() {
        spec["annotations"] = json!(annotations);
    }
    Ok(spec)
}

/// Docker's sysctl rules: namespaced keys only, and network keys only with
/// a private network namespace.
fn validate_sysctls(
    sysctls: &BTreeMap<String, String>,
    input: &SpecInput<'_>,
) -> Result<(), ContainerError> {
    for key in sysctls.keys() {
        let ipc = key.starts_with("kernel.msg")
            || key.starts_with("kernel.sem")
            || key.starts_with("kernel.shm")
            || key.starts_with("fs.mqueue.");
        let net = key.starts_with("net.");
        let uts = key == "kernel.domainname" || key == "kernel.hostname";
        if ipc && input.ipc == Namespace::Host {
            return Err(ContainerError::invalid(format!(
                "sysctl {key:?} is not allowed when joining the host's IPC namespace"
            )));
        }
        if net && input.network == Namespace::Host {
            return Err(ContainerError::invalid(format!(
                "sysctl {key:?} is not allowed in host network mode"
            )));
        }
        if !(ipc || net || uts) {
            return Err(ContainerError::invalid(format!(
                "sysctl {key:?} is not whitelisted"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input<'a>(
        config: &'a ContainerConfig,
        host: &'a HostConfig,
        user: &'a ResolvedUser,
    ) -> SpecInput<'a> {
        SpecInput {
            id: "abc",
            config,
            host,
            rootfs: Path::new("/r"),
            user,
            mounts: &[],
            network: Namespace::Private,
            pid: Namespace::Private,
            ipc: Namespace::Private,
            uts: Namespace::Private,
            cgroup_v2: false,
            cgroup_parent: "/berth",
        }
    }

    #[test]
    fn defaults_are_dockers() {
        let config = ContainerConfig {
            cmd: Some(vec!["sh".into()]),
            hostname: "abc".into(),
            env: Some(vec!["PATH=/bin".into(), "A=1".into()]),
            ..Default::default()
        };
        let host = HostConfig::default();
        let user = ResolvedUser::default();
        let spec = build(&input(&config, &host, &user)).unwrap();
        assert_eq!(spec["process"]["args"], json!(["sh"]));
        assert_eq!(
            spec["process"]["env"],
            json!(["HOSTNAME=abc", "PATH=/bin", "A=1"])
        );
        assert_eq!(
            spec["process"]["capabilities"]["bounding"]
                .as_array()
                .unwrap()
                .len(),
            14
        );
        assert_eq!(spec["linux"]["cgroupsPath"], "/berth/abc");
        assert_eq!(spec["linux"]["maskedPaths"].as_array().unwrap().len(), 10);
        assert!(spec["linux"]["seccomp"].is_object());
        assert_eq!(spec["hostname"], "abc");
        let typed: oci_spec::runtime::Spec = serde_json::from_value(spec).unwrap();
        assert_eq!(
            typed
                .process()
                .as_ref()
                .unwrap()
                .cwd()
                .display()
                .to_string(),
            "/"
        );
    }

    #[test]
    fn privileged_drops_the_confinement() {
        let config = ContainerConfig {
            cmd: Some(vec!["sh".into()]),
            ..Default::default()
        };
        let host = HostConfig {
            privileged: true,
            ..Default::default()
        };
        let user = ResolvedUser::default();
        let spec = build(&input(&config, &host, &user)).unwrap();
        assert!(spec["linux"].get("seccomp").is_none());
        assert!(spec["linux"].get("maskedPaths").is_none());
        assert_eq!(
            spec["process"]["capabilities"]["bounding"]
                .as_array()
                .unwrap()
                .len(),
            caps::ALL.len()
        );
    }

    #[test]
    fn resources_convert_like_docker() {
        let mut host = HostConfig::default();
        host.resources.memory = 64 << 20;
        host.resources.nano_cpus = 1_500_000_000;
        host.resources.pids_limit = Some(20);
        let r = resources(&host).unwrap();
        assert_eq!(r["memory"]["limit"], 64 << 20);
        assert_eq!(r["memory"]["swap"], 128 << 20);
        assert_eq!(r["cpu"]["quota"], 150_000);
        assert_eq!(r["pids"]["limit"], 20);
    }

    #[test]
    fn bad_security_opts_and_sysctls_are_refused() {
        assert!(security_opts(&["bogus".into()]).is_err());
        assert!(security_opts(&["seccomp=unconfined".into(), "no-new-privileges".into()]).is_ok());
        let config = ContainerConfig {
            cmd: Some(vec!["sh".into()]),
            ..Default::default()
        };
        let host = HostConfig {
            sysctls: Some([("kernel.panic".to_string(), "1".to_string())].into()),
            ..Default::default()
        };
        let user = ResolvedUser::default();
        let err = build(&input(&config, &host, &user)).unwrap_err();
        assert!(err.to_string().contains("not whitelisted"), "{err}");
    }
}
