//! What `docker cp`, `export` and `diff` use from this crate: extraction that refuses to
//! replace a directory with a non-directory (and the reverse) when asked, extraction with a
//! forced owner, [`write_tree`] names, and Docker's change list of an overlay upper directory.

mod common;

use std::fs;
use std::os::unix::fs::MetadataExt;

use berth_snapshot::diff::{ChangeKind, overlay_changes};
use berth_snapshot::tar::TarReader;
use berth_snapshot::{ApplyError, ApplyMode, ApplyOptions, apply_layer, write_tree};
use common::{Layer, require_root, tempdir};

fn copy_opts() -> ApplyOptions {
    ApplyOptions {
        mode: ApplyMode::Rootfs,
        no_overwrite_dir_non_dir: true,
        ..ApplyOptions::default()
    }
}

#[test]
fn no_overwrite_dir_non_dir_refuses_kind_changes() {
    let t = tempdir();
    fs::create_dir(t.path().join("dir")).unwrap();
    fs::write(t.path().join("file"), b"f").unwrap();
    let mut l = Layer::new();
    l.file("dir", b"x", 0o644);
    let err = apply_layer(t.path(), &l.finish()[..], &copy_opts()).unwrap_err();
    assert!(
        matches!(err, ApplyError::OverwriteDirectory { .. }),
        "{err}"
    );
    let mut l = Layer::new();
    l.dir("file", 0o755);
    let err = apply_layer(t.path(), &l.finish()[..], &copy_opts()).unwrap_err();
    assert!(
        matches!(err, ApplyError::OverwriteNonDirectory { .. }),
        "{err}"
    );
    // Same kinds still replace (a file) or merge (a directory).
    let mut l = Layer::new();
    l.file("file", b"new", 0o600)
        .dir("dir", 0o700)
        .file("dir/in", b"i", 0o644);
    apply_layer(t.path(), &l.finish()[..], &copy_opts()).unwrap();
    assert_eq!(fs::read(t.path().join("file")).unwrap(), b"new");
    assert!(t.path().join("dir/in").is_file());
    assert!(t.path().join("dir").is_dir());
}

#[test]
fn a_forced_owner_replaces_the_archives() {
    if !require_root("a_forced_owner_replaces_the_archives") {
        return;
    }
    let t = tempdir();
    let mut l = Layer::new();
    l.file_full("f", b"f", 0o644, 5, 6, &[])
        .dir_full("d", 0o755, 7, 8, &[]);
    let opts = ApplyOptions {
        owner: Some((1000, 1001)),
        ..copy_opts()
    };
    apply_layer(t.path(), &l.finish()[..], &opts).unwrap();
    for p in ["f", "d"] {
        let md = fs::symlink_metadata(t.path().join(p)).unwrap();
        assert_eq!((md.uid(), md.gid()), (1000, 1001), "{p}");
    }
}

fn names(tar: &[u8]) -> Vec<String> {
    let mut r = TarReader::new(tar);
    let mut out = Vec::new();
    while let Some(e) = r.next_entry().unwrap() {
        out.push(String::from_utf8_lossy(&e.path).into_owned());
    }
    out
}

#[test]
fn write_tree_names_members_after_the_given_name() {
    let t = tempdir();
    let d = t.path().join("src");
    fs::create_dir_all(d.join("sub")).unwrap();
    fs::write(d.join("sub/b"), b"b").unwrap();
    fs::write(d.join("a"), b"a").unwrap();
    let mut out = Vec::new();
    write_tree(&d, b"renamed", &mut out).unwrap();
    assert_eq!(
        names(&out),
        ["renamed/", "renamed/a", "renamed/sub/", "renamed/sub/b"]
    );
    let mut out = Vec::new();
    write_tree(&d, b"", &mut out).unwrap();
    assert_eq!(names(&out), ["a", "sub/", "sub/b"]);
    let mut out = Vec::new();
    write_tree(&d.join("a"), b"a", &mut out).unwrap();
    assert_eq!(names(&out), ["a"]);
    // What it writes extracts back to the same tree.
    let back = t.path().join("back");
    fs::create_dir(&back).unwrap();
    let mut out = Vec::new();
    write_tree(&d, b"src", &mut out).unwrap();
    apply_layer(&back, &out[..], &copy_opts()).unwrap();
    assert_eq!(fs::read(back.join("src/sub/b")).unwrap(), b"b");
}

#[test]
fn overlay_changes_as_docker_lists_them() {
    if !require_root("overlay_changes_as_docker_lists_them") {
        return;
    }
    let t = tempdir();
    let lower = t.path().join("lower");
    let upper = t.path().join("upper");
    fs::create_dir_all(lower.join("etc")).unwrap();
    fs::create_dir_all(lower.join("bin")).unwrap();
    fs::write(lower.join("etc/group"), b"g").unwrap();
    fs::write(lower.join("bin/true"), b"t").unwrap();
    // Directories equal to the lower ones (mode, size, time) are not changes: make the upper
    // ones later than the coarse file clock's tick.
    std::thread::sleep(std::time::Duration::from_millis(50));
    fs::create_dir_all(upper.join("etc")).unwrap();
    fs::create_dir_all(upper.join("bin")).unwrap();
    fs::create_dir_all(upper.join("new/deep")).unwrap();
    fs::write(upper.join("etc/group"), b"changed").unwrap();
    fs::write(upper.join("added"), b"a").unwrap();
    rustix::fs::mknodat(
        rustix::fs::CWD,
        upper.join("bin/true"),
        rustix::fs::FileType::CharacterDevice,
        rustix::fs::Mode::empty(),
        0,
    )
    .unwrap();
    let changes = overlay_changes(&upper, std::slice::from_ref(&lower)).unwrap();
    let got: Vec<(String, ChangeKind)> = changes.into_iter().map(|c| (c.path, c.kind)).collect();
    let want = |p: &str, k| (p.to_string(), k);
    use ChangeKind::*;
    assert_eq!(
        got,
        [
            want("/added", Added),
            want("/bin", Modified),
            want("/bin/true", Deleted),
            want("/etc", Modified),
            want("/etc/group", Modified),
            want("/new", Added),
            want("/new/deep", Added),
        ]
    );
}

#[test]
fn diffs_can_leave_paths_out() {
    let t = tempdir();
    let upper = t.path().join("upper");
    fs::create_dir_all(upper.join("etc")).unwrap();
    fs::create_dir_all(upper.join("proc/sub")).unwrap();
    fs::write(upper.join("etc/hosts"), b"").unwrap();
    fs::write(upper.join("etc/kept"), b"k").unwrap();
    let source = berth_snapshot::DiffSource::OverlayUpper { upper };
    let mut out = Vec::new();
    berth_snapshot::diff::write_diff_excluding(&source, &["/etc/hosts", "/proc"], &mut out)
        .unwrap();
    assert_eq!(names(&out), ["etc/", "etc/kept"]);
    // A directory copied up only for an excluded path is not a change.
    fs::remove_file(t.path().join("upper/etc/kept")).unwrap();
    fs::create_dir_all(t.path().join("upper/tmp")).unwrap();
    fs::write(t.path().join("upper/tmp/x"), b"x").unwrap();
    let mut out = Vec::new();
    berth_snapshot::diff::write_diff_excluding(&source, &["/etc/hosts", "/proc"], &mut out)
        .unwrap();
    assert_eq!(names(&out), ["tmp/", "tmp/x"]);
}
