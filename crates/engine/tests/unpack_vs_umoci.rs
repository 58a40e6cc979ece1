//! What berth unpacks is what umoci (the reference) unpacks: each fixture
//! image is pulled by the engine from a registry of the test's own, its
//! root filesystem is mounted in a private mount namespace from the
//! snapshotter's view, and compared entry by entry with `umoci unpack` of
//! the same OCI layout: type, mode (setuid and sticky bits included),
//! owner, size, mtime, link target, device numbers, xattrs (incl.
//! `security.capability`), hard-link groups and file contents.

use std::path::Path;
use std::process::Command;

use berth_engine::progress::NoProgress;
use berth_engine::{Config, Engine};
use berth_image::Reference;
use berth_registry::Credentials;
use berth_testutil::images::{Fixture, have_tool, layout, push};
use berth_testutil::registry::{Options, Registry};
use berth_testutil::require_root;

/// Lists a tree, one line per entry, in a stable order. Python 3 because it
/// reads xattrs without following links and is on every test machine.
const LISTER: &str = r#"
import hashlib, os, stat, sys
root = sys.argv[1]
seen = {}
out = []
for dirpath, dirs, files in os.walk(root):
    dirs.sort()
    for name in sorted(dirs + files):
        p = os.path.join(dirpath, name)
        rel = os.path.relpath(p, root)
        st = os.lstat(p)
        kind = stat.S_IFMT(st.st_mode)
        line = [rel, oct(st.st_mode), str(st.st_uid), str(st.st_gid)]
        if stat.S_ISLNK(st.st_mode):
            line.append("-> " + os.readlink(p))
        elif stat.S_ISREG(st.st_mode):
            key = (st.st_dev, st.st_ino)
            if st.st_nlink > 1 and key in seen:
                line.append("link to " + seen[key])
            else:
                seen[key] = rel
                h = hashlib.sha256()
                with open(p, "rb") as f:
                    for chunk in iter(lambda: f.read(1 << 20), b""):
                        h.update(chunk)
                line += [str(st.st_size), h.hexdigest()]
        elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
            line.append("dev %d:%d" % (os.major(st.st_rdev), os.minor(st.st_rdev)))
        if not stat.S_ISDIR(st.st_mode):
            line.append("mtime %d" % int(st.st_mtime))
        try:
            names = sorted(os.listxattr(p, follow_symlinks=False))
        except OSError:
            names = []
        for n in names:
            if n.startswith("trusted.overlay.") or n == "security.selinux":
                continue
            line.append("xattr %s=%s" % (n, os.getxattr(p, n, follow_symlinks=False).hex()))
        out.append(" ".join(line))
sys.stdout.write("\n".join(out) + "\n")
"#;

fn list(dir: &Path) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg(LISTER)
        .arg(dir)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "lister: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Mounts `mounts` at a fresh directory in a private mount namespace and
/// lists the tree there; the namespace, and with it the mount, ends with
/// the command.
fn list_mounted(mounts: &[berth_snapshot::Mount], scratch: &Path) -> String {
    let target = scratch.join("mnt");
    std::fs::create_dir_all(&target).expect("create the mount point");
    assert_eq!(mounts.len(), 1, "one mount for a view: {mounts:?}");
    let m = &mounts[0];
    let mount = if m.kind == "bind" {
        format!("mount --rbind -o ro {} {}", m.source, target.display())
    } else {
        format!(
            "mount -t {} -o {} {} {}",
            m.kind,
            m.options.join(","),
            m.source,
            target.display()
        )
    };
    let script = format!("{mount} && exec python3 -c \"$0\" {}", target.display());
    let out = Command::new("unshare")
        .args([
            "--mount",
            "--propagation",
            "private",
            "--",
            "sh",
            "-c",
            &script,
        ])
        .arg(LISTER) // $0 of the script
        .output()
        .expect("run unshare");
    assert!(
        out.status.success(),
        "mount and list: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn compare(test: &str, fixture: Fixture) {
    if !require_root(test) || !have_tool(test, "skopeo") || !have_tool(test, "python3") {
        return;
    }
    let Some(layout) = layout(test, fixture) else {
        return;
    };
    let Some(registry) = Registry::start(test, Options::default()) else {
        return;
    };
    push(&layout, &registry.host, "fixture:latest");

    let dir = tempfile::Builder::new()
        .prefix("berth-engine-test-")
        .tempdir()
        .unwrap();
    let engine = Engine::open(Config::new(
        dir.path().join("data"),
        dir.path().join("exec"),
    ))
    .unwrap();
    let name = format!("{}/fixture:latest", registry.host);
    engine
        .pull(
            &Reference::parse(&name).unwrap(),
            None,
            &Credentials::anonymous(),
            &NoProgress,
        )
        .unwrap();
    // Where this kernel mounts EROFS image files, every layer is one.
    let images: Vec<_> = berth_testutil::files_under(&dir.path().join("data"))
        .into_iter()
        .filter(|p| p.ends_with("layer.erofs"))
        .collect();
    if berth_snapshot::erofs::probe(&dir.path().join("probe")).is_ok() {
        assert!(!images.is_empty(), "{test}: no layer image was written");
    } else {
        eprintln!("{test}: this kernel cannot mount EROFS image files: layers are directories");
        assert!(images.is_empty());
    }
    let mounts = engine.view_image(&name, "berth-test-view").unwrap();
    let ours = list_mounted(&mounts, dir.path());
    engine.remove_view("berth-test-view").unwrap();

    let bundle = dir.path().join("umoci-bundle");
    let status = Command::new("umoci")
        .args(["unpack", "--image"])
        .arg(format!("{}:latest", layout.display()))
        .arg(&bundle)
        .status()
        .unwrap();
    assert!(status.success(), "umoci unpack failed");
    let reference = list(&bundle.join("rootfs"));

    let (a, b): (Vec<&str>, Vec<&str>) = (reference.lines().collect(), ours.lines().collect());
    assert!(
        a.len() > 10,
        "the reference tree is suspiciously small: {a:?}"
    );
    let missing: Vec<_> = a.iter().filter(|l| !b.contains(l)).take(20).collect();
    let extra: Vec<_> = b.iter().filter(|l| !a.contains(l)).take(20).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{test}: unpacked trees differ ({} vs {} entries)\numoci only: {missing:#?}\nberth only: {extra:#?}",
        a.len(),
        b.len()
    );
    drop(engine);
}

#[test]
fn busybox_matches_umoci() {
    compare("busybox_matches_umoci", Fixture::Busybox);
}

#[test]
fn ten_layers_match_umoci() {
    compare("ten_layers_match_umoci", Fixture::TenLayers);
}

#[test]
fn debian_minbase_matches_umoci() {
    compare("debian_minbase_matches_umoci", Fixture::Minbase);
}
