//! Docker's default seccomp profile, converted to the OCI `linux.seccomp`
//! object the way dockerd does it for a container with the default
//! capabilities (moby `profiles/seccomp/seccomp_linux.go`, `setupSeccomp`).
//!
//! The profile comes from Debian's `golang-github-docker-docker-dev`; it is
//! read at test time and never copied into this repository.

use berth_seccomp::{DEFAULT_CAPABILITIES, LinuxSeccomp};
use serde_json::Value;

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
    let oci = berth_seccomp::docker_format::convert(docker, caps, kernel);
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
