//! Docker's default seccomp profile, converted to the OCI `linux.seccomp`
//! object the way dockerd does it for a container with the default
//! capabilities (moby `profiles/seccomp/seccomp_linux.go`, `setupSeccomp`).
//!
//! The profile comes from Debian's `golang-github-docker-docker-dev`; it is
//! read at test time and never copied into this repository.

use berth_seccomp::{DEFAULT_CAPABILITIES, LinuxSeccomp};
use serde_json::{Map, Value, json};

/// Where Debian installs Docker's default profile.
pub const PATH: &str =
    "/usr/share/gocode/src/github.com/docker/docker/profiles/seccomp/default.json";

/// The profile: where `scripts/fixtures` unpacks the Debian package (the
/// test command does that, without installing it and its Go toolchain),
/// else where an installed package puts it.
fn path() -> std::path::PathBuf {
    let unpacked = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../.cache/fixtures/docker-dev")
        .join(PATH.trim_start_matches('/'));
    if unpacked.exists() {
        unpacked
    } else {
        PATH.into()
    }
}

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

/// Docker's default profile as it is in the package, or `None` (after a
/// loud SKIP message) when the Debian package is not installed.
pub fn load_json() -> Option<Value> {
    let path = path();
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!(
                "SKIP: Docker's default seccomp profile is not available ({}: {e}); \
                 run scripts/fixtures (the test command does)",
                path.display()
            );
            return None;
        }
    };
    Some(serde_json::from_str(&text).expect("Docker profile is JSON"))
}

/// Docker's default profile converted for a container with `caps` on a
/// kernel of version `kernel`.
pub fn for_caps(docker: &Value, caps: &[&str], kernel: (u64, u64)) -> LinuxSeccomp {
    let oci = convert(docker, caps, kernel);
    serde_json::from_value(oci).expect("converted profile parses as linux.seccomp")
}

/// Docker's default profile for a default-capability container, or `None`
/// (after a loud SKIP message) when the Debian package is not installed.
pub fn load() -> Option<LinuxSeccomp> {
    let docker = load_json()?;
    Some(for_caps(&docker, &DEFAULT_CAPABILITIES, kernel_version()))
}

/// `(major, minor)` of the running kernel.
pub fn kernel_version() -> (u64, u64) {
    let uts = rustix::system::uname();
    let release = uts.release().to_string_lossy().into_owned();
    let mut parts = release.split(|c: char| !c.is_ascii_digit());
    let mut next = || parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    (next(), next())
}

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
