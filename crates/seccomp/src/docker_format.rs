//! Seccomp profiles in Docker's format (what `docker run --security-opt
//! seccomp=profile.json` sends): `archMap` and `includes`/`excludes` groups
//! resolved for one container, as dockerd's `setupSeccomp` does, into the
//! OCI `linux.seccomp` object.
#![forbid(unsafe_code)]

use serde_json::{Map, Value, json};

use crate::LinuxSeccomp;

/// Go's name for the native architecture, as the profile's `arches` use it.
const NATIVE_GO: &str = if cfg!(target_arch = "x86_64") {
    "amd64"
} else if cfg!(target_arch = "aarch64") {
    "arm64"
} else {
    "unsupported"
};

/// The profile's name for the native architecture.
const NATIVE_SCMP: &str = if cfg!(target_arch = "x86_64") {
    "SCMP_ARCH_X86_64"
} else if cfg!(target_arch = "aarch64") {
    "SCMP_ARCH_AARCH64"
} else {
    "unsupported"
};

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn parse_kernel(v: &Value) -> Option<(u64, u64)> {
    let s = v.as_str()?;
    let (a, b) = s.split_once('.')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// Docker's `setupSeccomp`: pick the native entry of `archMap`, and keep the
/// syscall groups whose `includes`/`excludes` match this architecture, these
/// capabilities and this kernel.
pub fn convert(docker: &Value, caps: &[&str], kernel: (u64, u64)) -> Value {
    let mut out = Map::new();
    out.insert("defaultAction".into(), docker["defaultAction"].clone());
    if let Some(e) = docker.get("defaultErrnoRet") {
        out.insert("defaultErrnoRet".into(), e.clone());
    }
    let mut archs: Vec<Value> = docker
        .get("architectures")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for entry in docker["archMap"].as_array().into_iter().flatten() {
        if entry["architecture"] == NATIVE_SCMP {
            archs.push(entry["architecture"].clone());
            archs.extend(
                entry["subArchitectures"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .cloned(),
            );
        }
    }
    out.insert("architectures".into(), Value::Array(archs));

    let has_cap = |c: &str| caps.contains(&c);
    let mut syscalls = Vec::new();
    for call in docker["syscalls"].as_array().into_iter().flatten() {
        let (inc, exc) = (&call["includes"], &call["excludes"]);
        if strings(&exc["arches"]).contains(&NATIVE_GO)
            || strings(&exc["caps"]).into_iter().any(has_cap)
            || parse_kernel(&exc["minKernel"]).is_some_and(|min| kernel >= min)
        {
            continue;
        }
        let inc_arches = strings(&inc["arches"]);
        if (!inc_arches.is_empty() && !inc_arches.contains(&NATIVE_GO))
            || !strings(&inc["caps"]).into_iter().all(has_cap)
            || parse_kernel(&inc["minKernel"]).is_some_and(|min| kernel < min)
        {
            continue;
        }
        let names = match call.get("name").and_then(Value::as_str) {
            Some(n) if !n.is_empty() => json!([n]),
            _ => call["names"].clone(),
        };
        let mut rule = Map::new();
        rule.insert("names".into(), names);
        rule.insert("action".into(), call["action"].clone());
        if let Some(e) = call.get("errnoRet").filter(|e| !e.is_null()) {
            rule.insert("errnoRet".into(), e.clone());
        }
        if let Some(args) = call
            .get("args")
            .filter(|a| a.as_array().is_some_and(|a| !a.is_empty()))
        {
            rule.insert("args".into(), args.clone());
        }
        syscalls.push(Value::Object(rule));
    }
    out.insert("syscalls".into(), Value::Array(syscalls));
    Value::Object(out)
}

/// A user's Docker-format profile for a container with `caps` on the
/// running kernel, checked to be a valid `linux.seccomp` object. A profile
/// already in OCI form (no `archMap`, no `includes`) passes through.
pub fn from_docker_profile(docker: &Value, caps: &[String]) -> Result<Value, String> {
    if !docker.is_object() {
        return Err("the profile is not a JSON object".into());
    }
    if docker
        .get("defaultAction")
        .and_then(Value::as_str)
        .is_none()
    {
        return Err("the profile has no defaultAction".into());
    }
    let kernel = crate::KernelVersion::running()
        .map(|k| (k.major as u64, k.minor as u64))
        .unwrap_or((0, 0));
    let caps: Vec<&str> = caps.iter().map(String::as_str).collect();
    let oci = convert(docker, &caps, kernel);
    serde_json::from_value::<LinuxSeccomp>(oci.clone()).map_err(|e| e.to_string())?;
    Ok(oci)
}
