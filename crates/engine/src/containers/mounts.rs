//! A container's mounts: `-v`/`--volume`, `--mount`, `--tmpfs` and the
//! image's `VOLUME`s resolved at create into [`MountRecord`]s (named
//! volumes created on first mention, anonymous ones for `VOLUME` and
//! `-v /path`), and turned into spec mounts at start, where an empty volume
//! is first filled with what the image has at its destination.

use std::collections::BTreeMap;
use std::path::{Component, Path};

use berth_models::container_config::ContainerConfig;
use berth_models::host_config::HostConfig;

use super::spec::SpecMount;
use super::{ContainerError, MountRecord};

const PROPAGATIONS: [&str; 6] = [
    "private", "rprivate", "shared", "rshared", "slave", "rslave",
];

/// A destination must be absolute and may not climb (`/a/../..`).
fn clean_destination(dest: &str, spec: &str) -> Result<String, ContainerError> {
    let path = Path::new(dest);
    if !path.is_absolute() {
        return Err(ContainerError::invalid(format!(
            "invalid volume specification: '{spec}': invalid mount config for type \"volume\": invalid mount path: '{dest}' mount path must be absolute"
        )));
    }
    let mut parts: Vec<&str> = Vec::new();
    for c in path.components() {
        match c {
            Component::Normal(p) => parts.push(p.to_str().unwrap_or_default()),
            Component::ParentDir if parts.pop().is_none() => {
                return Err(ContainerError::invalid(format!(
                    "invalid volume specification: '{spec}': mount path escapes the container's root"
                )));
            }
            _ => {}
        }
    }
    if parts.is_empty() {
        return Err(ContainerError::invalid(format!(
            "invalid volume specification: '{spec}': invalid mount config for type \"bind\": invalid specification: destination can't be '/'"
        )));
    }
    Ok(format!("/{}", parts.join("/")))
}

/// One `-v` entry: `[src:]dst[:mode]`.
fn parse_bind(engine: &crate::Engine, spec: &str) -> Result<MountRecord, ContainerError> {
    let parts: Vec<&str> = spec.split(':').collect();
    let (src, dst, mode) = match parts.as_slice() {
        [dst] => ("", *dst, ""),
        [src, dst] if dst.starts_with('/') => (*src, *dst, ""),
        [dst, mode] => ("", *dst, *mode),
        [src, dst, mode] => (*src, *dst, *mode),
        _ => {
            return Err(ContainerError::invalid(format!(
                "invalid volume specification: '{spec}'"
            )));
        }
    };
    let destination = clean_destination(dst, spec)?;
    let mut rw = true;
    let mut propagation = String::new();
    let mut copy_up = true;
    for opt in mode.split(',').filter(|o| !o.is_empty()) {
        match opt {
            "ro" => rw = false,
            "rw" => rw = true,
            "z" | "Z" => {}
            "nocopy" => copy_up = false,
            p if PROPAGATIONS.contains(&p) => propagation = p.to_string(),
            _ => {
                return Err(ContainerError::invalid(format!("invalid mode: {mode}")));
            }
        }
    }
    if src.starts_with('/') {
        let source = Path::new(src);
        if !source.exists() {
            // `-v` creates a missing host directory, as dockerd does.
            std::fs::create_dir_all(source).map_err(|e| {
                ContainerError::io(format!("create mountpoint for {destination} mount"), e)
            })?;
        }
        return Ok(MountRecord {
            kind: "bind".into(),
            name: String::new(),
            source: src.to_string(),
            destination,
            rw,
            mode: mode.to_string(),
            propagation: if propagation.is_empty() {
                "rprivate".into()
            } else {
                propagation
            },
            options: Vec::new(),
            copy_up: false,
            anonymous: false,
        });
    }
    let (name, anonymous) = if src.is_empty() {
        (None, true)
    } else {
        (Some(src), false)
    };
    let volume = engine
        .create_volume(name, "local", BTreeMap::new(), BTreeMap::new(), anonymous)
        .map_err(|e| ContainerError::invalid(e.to_string()))?;
    Ok(MountRecord {
        kind: "volume".into(),
        name: volume.name.clone(),
        source: volume.mountpoint,
        destination,
        rw,
        mode: mode.to_string(),
        propagation: String::new(),
        options: Vec::new(),
        copy_up,
        anonymous,
    })
}

/// One `--mount` entry (already parsed by the client).
fn parse_mount(
    engine: &crate::Engine,
    m: &berth_models::host_config::Mount,
) -> Result<MountRecord, ContainerError> {
    let destination = clean_destination(&m.target, &m.target).map_err(|_| {
        ContainerError::invalid(format!(
            "invalid mount config for type \"{}\": invalid mount path: '{}' mount path must be absolute",
            m.kind, m.target
        ))
    })?;
    match m.kind.as_str() {
        "bind" => {
            if m.source.is_empty() {
                return Err(ContainerError::invalid(
                    "invalid mount config for type \"bind\": field Source must not be empty",
                ));
            }
            let create = m.bind_options.as_ref().is_some_and(|b| b.create_mountpoint);
            if !Path::new(&m.source).exists() {
                if create {
                    std::fs::create_dir_all(&m.source).map_err(|e| {
                        ContainerError::io(format!("create mountpoint {}", m.source), e)
                    })?;
                } else {
                    return Err(ContainerError::invalid(format!(
                        "invalid mount config for type \"bind\": bind source path does not exist: {}",
                        m.source
                    )));
                }
            }
            let propagation = m
                .bind_options
                .as_ref()
                .map(|b| b.propagation.clone())
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| "rprivate".into());
            if !PROPAGATIONS.contains(&propagation.as_str()) {
                return Err(ContainerError::invalid(format!(
                    "invalid mount config for type \"bind\": invalid propagation mode: {propagation}"
                )));
            }
            Ok(MountRecord {
                kind: "bind".into(),
                name: String::new(),
                source: m.source.clone(),
                destination,
                rw: !m.read_only,
                mode: String::new(),
                propagation,
                options: Vec::new(),
                copy_up: false,
                anonymous: false,
            })
        }
        "volume" => {
            let opts = m.volume_options.clone().unwrap_or_default();
            if opts.subpath.split('/').any(|p| p == "..") || opts.subpath.starts_with('/') {
                return Err(ContainerError::invalid(format!(
                    "invalid mount config for type \"volume\": subpath must be a relative path within the volume: {}",
                    opts.subpath
                )));
            }
            let driver_opts = opts
                .driver_config
                .as_ref()
                .and_then(|d| d.options.clone())
                .unwrap_or_default();
            let anonymous = m.source.is_empty();
            let volume = engine
                .create_volume(
                    (!anonymous).then_some(m.source.as_str()),
                    "local",
                    driver_opts,
                    opts.labels.clone().unwrap_or_default(),
                    anonymous,
                )
                .map_err(|e| ContainerError::invalid(e.to_string()))?;
            let mut source = volume.mountpoint.clone();
            if !opts.subpath.is_empty() {
                source = format!("{source}/{}", opts.subpath);
            }
            Ok(MountRecord {
                kind: "volume".into(),
                name: volume.name,
                source,
                destination,
                rw: !m.read_only,
                mode: if m.read_only { "ro".into() } else { "z".into() },
                propagation: String::new(),
                options: Vec::new(),
                copy_up: !opts.no_copy,
                anonymous,
            })
        }
        "tmpfs" => {
            if !m.source.is_empty() {
                return Err(ContainerError::invalid(
                    "invalid mount config for type \"tmpfs\": field Source must be empty",
                ));
            }
            let mut options = vec![
                "nosuid".to_string(),
                "nodev".to_string(),
                "noexec".to_string(),
            ];
            if let Some(t) = &m.tmpfs_options {
                if t.size_bytes > 0 {
                    options.push(format!("size={}", t.size_bytes));
                }
                if t.mode > 0 {
                    options.push(format!("mode={:o}", t.mode));
                }
            }
            if m.read_only {
                options.push("ro".into());
            }
            Ok(tmpfs_record(destination, options))
        }
        other => Err(ContainerError::invalid(format!(
            "invalid mount config: mount type unknown: {other:?}"
        ))),
    }
}

fn tmpfs_record(destination: String, options: Vec<String>) -> MountRecord {
    MountRecord {
        kind: "tmpfs".into(),
        name: String::new(),
        source: String::new(),
        destination,
        rw: !options.iter().any(|o| o == "ro"),
        mode: String::new(),
        propagation: String::new(),
        options,
        copy_up: false,
        anonymous: false,
    }
}

/// Every mount of a new container, checked for duplicate destinations.
pub fn resolve(
    engine: &crate::Engine,
    config: &ContainerConfig,
    host: &HostConfig,
) -> Result<Vec<MountRecord>, ContainerError> {
    let mut out: Vec<MountRecord> = Vec::new();
    let push = |m: MountRecord, out: &mut Vec<MountRecord>| -> Result<(), ContainerError> {
        if out.iter().any(|x| x.destination == m.destination) {
            return Err(ContainerError::invalid(format!(
                "Duplicate mount point: {}",
                m.destination
            )));
        }
        out.push(m);
        Ok(())
    };
    for bind in host.binds.as_deref().unwrap_or_default() {
        push(parse_bind(engine, bind)?, &mut out)?;
    }
    for m in host.mounts.as_deref().unwrap_or_default() {
        push(parse_mount(engine, m)?, &mut out)?;
    }
    for (dest, opts) in host.tmpfs.clone().unwrap_or_default() {
        let destination = clean_destination(&dest, &dest)?;
        let mut options = vec![
            "nosuid".to_string(),
            "nodev".to_string(),
            "noexec".to_string(),
        ];
        options.extend(
            opts.split(',')
                .filter(|o| !o.is_empty())
                .map(str::to_string),
        );
        push(tmpfs_record(destination, options), &mut out)?;
    }
    // `--volumes-from`: the other containers' mounts, under the explicit ones.
    for spec in host.volumes_from.as_deref().unwrap_or_default() {
        for m in volumes_from(engine, spec)? {
            if !out.iter().any(|x| x.destination == m.destination) {
                out.push(m);
            }
        }
    }
    // The image's VOLUMEs not covered by an explicit mount.
    for dest in config.volumes.clone().unwrap_or_default().keys() {
        let destination = clean_destination(dest, dest)?;
        if out.iter().any(|m| m.destination == destination) {
            continue;
        }
        out.push(parse_bind(engine, &destination)?);
    }
    // Parents before children.
    out.sort_by_key(|m| m.destination.matches('/').count());
    Ok(out)
}

/// The mounts `--volumes-from CONTAINER[:ro|rw]` copies: every mount of
/// that container, read-only when `ro` is asked (dockerd's
/// `ParseVolumesFrom`), never filled from this container's image.
fn volumes_from(engine: &crate::Engine, spec: &str) -> Result<Vec<MountRecord>, ContainerError> {
    let (name, mode) = match spec.split_once(':') {
        Some((name, mode)) => (name, mode),
        None => (spec, ""),
    };
    let read_only = match mode {
        "" | "rw" | "z" | "Z" => false,
        "ro" => true,
        _ if mode
            .split(',')
            .all(|m| matches!(m, "ro" | "rw" | "z" | "Z")) =>
        {
            mode.split(',').any(|m| m == "ro")
        }
        _ => return Err(ContainerError::invalid(format!("invalid mode: {mode}"))),
    };
    let records = engine.containers.lock();
    let id = super::resolve(&records, name)?;
    let source = &records[&id];
    Ok(source
        .mounts
        .iter()
        .map(|m| MountRecord {
            rw: m.rw && !read_only,
            copy_up: false,
            ..m.clone()
        })
        .collect())
}

/// The spec mounts of `records`, filling empty volumes from the image
/// (`rootfs` is the container's mounted root) on the way.
pub fn spec_mounts(
    engine: &crate::Engine,
    rootfs: &Path,
    records: &[MountRecord],
) -> Result<Vec<SpecMount>, ContainerError> {
    let mut out = Vec::new();
    for m in records {
        match m.kind.as_str() {
            "tmpfs" => out.push(SpecMount {
                destination: m.destination.clone(),
                kind: "tmpfs".into(),
                source: "tmpfs".into(),
                options: m.options.clone(),
            }),
            "volume" => {
                mount_volume(engine, &m.name)?;
                if m.copy_up {
                    copy_up(rootfs, &m.destination, Path::new(&m.source))?;
                }
                out.push(SpecMount::bind(
                    Path::new(&m.source),
                    &m.destination,
                    !m.rw,
                    "",
                ));
            }
            _ => out.push(SpecMount::bind(
                Path::new(&m.source),
                &m.destination,
                !m.rw,
                &m.propagation,
            )),
        }
    }
    Ok(out)
}

/// Mounts a volume made with `-o type=…` on its data directory (once).
fn mount_volume(engine: &crate::Engine, name: &str) -> Result<(), ContainerError> {
    let options = engine
        .volume_options(name)
        .map_err(|e| ContainerError::Internal(e.to_string()))?;
    let Some(kind) = options.get("type") else {
        return Ok(());
    };
    let data = engine.volume_data(name);
    if is_mountpoint(&data) {
        return Ok(());
    }
    let device = options.get("device").cloned().unwrap_or_default();
    let o = options.get("o").cloned().unwrap_or_default();
    let bind = kind == "none" || o.split(',').any(|x| x == "bind" || x == "rbind");
    let mount = if bind {
        berth_snapshot::Mount {
            kind: "bind".into(),
            source: device.clone(),
            target: None,
            options: o
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        }
    } else {
        berth_snapshot::Mount {
            kind: kind.clone(),
            source: device.clone(),
            target: None,
            options: o
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        }
    };
    mount.mount(&data).map_err(|e| {
        ContainerError::Internal(format!(
            "error while mounting volume '{}': failed to mount local volume: mount {device}:{} ({o}): {e}",
            data.display(),
            data.display()
        ))
    })
}

/// Unmounts a volume's filesystem if it has one mounted.
pub fn unmount_volume(engine: &crate::Engine, name: &str) -> Result<(), ContainerError> {
    let data = engine.volume_data(name);
    if is_mountpoint(&data) {
        berth_snapshot::unmount(&data)?;
    }
    Ok(())
}

/// Whether `path` is a mount point (its device differs from its parent's,
/// or mountinfo lists it).
pub fn is_mountpoint(path: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return false;
    };
    let target = path.display().to_string();
    text.lines()
        .filter_map(|l| l.split(' ').nth(4))
        .any(|p| p == target)
}

/// Copies what the image has at `dest` into the volume at `volume` when
/// the volume is empty (Docker's "populated from the image on first use").
fn copy_up(rootfs: &Path, dest: &str, volume: &Path) -> Result<(), ContainerError> {
    let is_empty = std::fs::read_dir(volume)
        .map(|mut d| d.next().is_none())
        .unwrap_or(false);
    if !is_empty {
        return Ok(());
    }
    let source = rootfs.join(dest.trim_start_matches('/'));
    // Only a real directory inside the root: a symlink there could point
    // anywhere on the host.
    let Ok(meta) = std::fs::symlink_metadata(&source) else {
        return Ok(());
    };
    if !meta.is_dir() || !source.starts_with(rootfs) {
        return Ok(());
    }
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg("--no-dereference")
        .arg(format!("{}/.", source.display()))
        .arg(volume)
        .status()
        .map_err(|e| ContainerError::io("copy the image's content into the volume", e))?;
    if !status.success() {
        return Err(ContainerError::Internal(format!(
            "copying {} into the volume failed ({status})",
            source.display()
        )));
    }
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let _ = std::fs::set_permissions(
        volume,
        std::fs::Permissions::from_mode(meta.mode() & 0o7777),
    );
    let _ = std::os::unix::fs::chown(volume, Some(meta.uid()), Some(meta.gid()));
    Ok(())
}
