//! What every berthd test needs: a daemon of its own, a registry of its
//! own with a fixture image in it, and output checks that show the whole
//! command and its output when they fail.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;

pub use berth_testutil::berthd::Berthd;
pub use berth_testutil::images::{Fixture, layout, push};
pub use berth_testutil::registry::{Options, Registry};
pub use berth_testutil::{files_under, require_root};

/// A berthd started with `args` and a `busybox:latest` imported from a
/// busybox rootfs (kept in the returned directory). `None` after a SKIP
/// line when not root.
pub fn daemon_with_busybox(test: &str, args: &[&str]) -> Option<(Berthd, tempfile::TempDir)> {
    if !require_root(test) {
        return None;
    }
    let dir = tempfile::Builder::new()
        .prefix("berth-ct-")
        .tempdir()
        .unwrap();
    let tar = berth_testutil::busybox_tarball(dir.path());
    let d = berthd(args);
    ok(d.docker(&["import", tar.to_str().unwrap(), "busybox:latest"]));
    Some((d, dir))
}

/// A berthd started from this crate's binary.
pub fn berthd(args: &[&str]) -> Berthd {
    Berthd::start(Path::new(env!("CARGO_BIN_EXE_berthd")), args)
}

/// Root, a registry, the fixture layout pushed as `<repo>:latest`: the
/// usual start of an image test. `None` after a SKIP line.
pub fn setup(test: &str, fixture: Fixture, repo: &str) -> Option<(Registry, PathBuf)> {
    if !require_root(test) {
        return None;
    }
    let layout = layout(test, fixture)?;
    if !berth_testutil::images::have_tool(test, "skopeo") {
        return None;
    }
    let registry = Registry::start(test, Options::default())?;
    push(&layout, &registry.host, &format!("{repo}:latest"));
    Some((registry, layout))
}

/// stdout of a command that must succeed.
#[track_caller]
pub fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "command failed ({}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// stderr of a command that must fail with `code`.
#[track_caller]
pub fn fails(out: Output, code: i32) -> String {
    assert_eq!(
        out.status.code(),
        Some(code),
        "expected exit {code}:\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The OCI layout's image: its manifest digest and config digest (the
/// image id), read from the layout's files.
pub fn layout_ids(layout: &Path) -> (String, String) {
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).expect("read index.json"))
            .expect("index");
    let manifest_digest = index["manifests"][0]["digest"]
        .as_str()
        .expect("manifest digest")
        .to_string();
    let blob = |d: &str| {
        layout
            .join("blobs/sha256")
            .join(d.trim_start_matches("sha256:"))
    };
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(blob(&manifest_digest)).expect("read the manifest"))
            .expect("manifest");
    let config = manifest["config"]["digest"]
        .as_str()
        .expect("config digest")
        .to_string();
    (manifest_digest, config)
}

/// The blobs in the daemon's content store.
pub fn blobs(d: &Berthd) -> Vec<PathBuf> {
    files_under(&d.data_root().join("content/blobs"))
}

/// Poll `f` every 50 ms until it holds; panic naming `what` after 20 s. For
/// states a container reaches a moment after the command that starts it
/// returns (a shell's children forked, an exec'd program past `exec`).
#[track_caller]
pub fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !f() {
        assert!(
            std::time::Instant::now() < deadline,
            "waited 20 s for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// `docker top NAME` through `docker` lists `n` processes.
pub fn top_shows(docker: impl Fn(&[&str]) -> Output, name: &str, n: usize) -> bool {
    let out = docker(&["top", name]);
    out.status.success() && String::from_utf8_lossy(&out.stdout).lines().count() == n + 1
}
