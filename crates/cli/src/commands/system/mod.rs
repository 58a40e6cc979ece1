//! `berth system ...` and the top-level `version`, `info`, `events`,
//! `inspect`.

pub mod df;
pub mod events;
pub mod info;
pub mod inspect;
pub mod version;

/// Go's `GOARCH` name of this machine.
pub fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    }
}
