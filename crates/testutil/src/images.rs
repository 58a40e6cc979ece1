//! Fixture images in OCI layouts, made at test time by umoci (the reference
//! tool, not Berth) and cached under `<repo>/.cache/fixtures/images/`:
//!
//! - [`Fixture::Busybox`]: one layer, Debian's busybox-static with an
//!   applet symlink each, `CMD ["sh"]`;
//! - [`Fixture::Minbase`]: one 63 MB gzip layer, the Debian bookworm
//!   minbase root filesystem `scripts/fixtures` makes with debootstrap;
//! - [`Fixture::TenLayers`]: busybox plus nine layers of a few MB each.
//!
//! Each layout is built once (under a lock, so parallel test processes
//! wait for one build), then shared read-only; tests push it to their own
//! registry with skopeo.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::make_rootfs;

/// The images tests can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fixture {
    Busybox,
    Minbase,
    TenLayers,
}

impl Fixture {
    fn name(self) -> &'static str {
        match self {
            Fixture::Busybox => "busybox",
            Fixture::Minbase => "minbase",
            Fixture::TenLayers => "ten-layers",
        }
    }
}

/// The repository's root (this crate lives in `crates/testutil`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Debian minbase tarball `scripts/fixtures` makes.
pub fn minbase_tarball() -> PathBuf {
    repo_root().join(".cache/fixtures/debian-minbase.tar")
}

/// Whether a tool is on PATH; prints a loud SKIP for `test` if not.
pub fn have_tool(test: &str, tool: &str) -> bool {
    let found = std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|p| p.join(tool).is_file()));
    if !found {
        eprintln!("SKIP: {test}: `{tool}` is not installed (scripts/install-deps installs it)");
    }
    found
}

/// The OCI layout of `fixture` (its image is tagged `latest`), building it
/// on first use. `None` (after a SKIP line naming `test`) when umoci or the
/// minbase tarball is missing.
pub fn layout(test: &str, fixture: Fixture) -> Option<PathBuf> {
    if !have_tool(test, "umoci") {
        return None;
    }
    if fixture == Fixture::Minbase && !minbase_tarball().exists() {
        eprintln!(
            "SKIP: {test}: {} is missing (scripts/fixtures makes it)",
            minbase_tarball().display()
        );
        return None;
    }
    let cache = repo_root().join(".cache/fixtures/images");
    std::fs::create_dir_all(&cache).expect("create the fixture image cache");
    let dest = cache.join(fixture.name());
    let lock = std::fs::File::create(cache.join(".lock")).expect("create the fixture lock");
    rustix::fs::flock(&lock, rustix::fs::FlockOperation::LockExclusive)
        .expect("lock the fixture cache");
    if !dest.join("index.json").exists() {
        let work = tempfile::Builder::new()
            .prefix("berth-fixture-")
            .tempdir()
            .expect("create a fixture work directory");
        let layout = work.path().join("layout");
        build(fixture, &layout, work.path());
        if dest.exists() {
            std::fs::remove_dir_all(&dest).expect("remove a stale fixture");
        }
        std::fs::rename(&layout, &dest).expect("install the fixture layout");
    }
    Some(dest)
}

fn umoci(args: &[&str]) {
    let out = Command::new("umoci")
        .args(args)
        .output()
        .expect("run umoci");
    assert!(
        out.status.success(),
        "umoci {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn build(fixture: Fixture, layout: &Path, work: &Path) {
    let l = layout.to_str().expect("utf-8 path");
    let image = format!("{l}:latest");
    let bundle = work.join("bundle");
    let b = bundle.to_str().expect("utf-8 path");
    umoci(&["init", "--layout", l]);
    umoci(&["new", "--image", &image]);
    umoci(&["unpack", "--image", &image, b]);
    let rootfs = bundle.join("rootfs");
    match fixture {
        Fixture::Busybox => make_rootfs(&rootfs),
        Fixture::Minbase => {
            let status = Command::new("tar")
                .args(["--numeric-owner", "--xattrs", "--xattrs-include=*", "-xpf"])
                .arg(minbase_tarball())
                .arg("-C")
                .arg(&rootfs)
                .status()
                .expect("run tar");
            assert!(status.success(), "unpacking the minbase tarball failed");
        }
        Fixture::TenLayers => make_rootfs(&rootfs),
    }
    umoci(&["repack", "--image", &image, b]);
    if fixture == Fixture::TenLayers {
        for i in 1..10u64 {
            umoci(&["unpack", "--image", &image, &format!("{b}-{i}")]);
            let dir = work.join(format!("bundle-{i}/rootfs/data/layer{i}"));
            std::fs::create_dir_all(&dir).expect("create a layer directory");
            for f in 0..8u64 {
                std::fs::write(
                    dir.join(format!("blob{f}")),
                    pseudo_random(512 << 10, i * 100 + f),
                )
                .expect("write layer data");
            }
            umoci(&["repack", "--image", &image, &format!("{b}-{i}")]);
        }
    }
    let cmd = if fixture == Fixture::Minbase {
        "bash"
    } else {
        "sh"
    };
    umoci(&[
        "config",
        "--image",
        &image,
        &format!("--config.cmd={cmd}"),
        "--config.env=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "--author=berth fixtures",
    ]);
    umoci(&["gc", "--layout", l]);
}

/// Incompressible bytes (so layers have a real download size), the same
/// for the same seed.
pub fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Copies the fixture's `latest` into `docker://<registry>/<target>` (plain
/// HTTP), with skopeo.
pub fn push(layout: &Path, registry: &str, target: &str) {
    push_as(layout, registry, target, None);
}

/// [`push`] with `user:password` credentials.
pub fn push_as(layout: &Path, registry: &str, target: &str, creds: Option<&str>) {
    let mut cmd = Command::new("skopeo");
    cmd.args(["copy", "--quiet", "--dest-tls-verify=false"]);
    if let Some(c) = creds {
        cmd.arg(format!("--dest-creds={c}"));
    }
    let out = cmd
        .arg(format!("oci:{}:latest", layout.display()))
        .arg(format!("docker://{registry}/{target}"))
        .output()
        .expect("run skopeo");
    assert!(
        out.status.success(),
        "skopeo copy to {registry}/{target} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
