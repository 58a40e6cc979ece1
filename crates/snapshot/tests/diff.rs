//! `write_diff` as the inverse of `apply_layer`: changes are made to a tree (two-tree mode) or
//! through a real overlay mount (upper-directory mode, as root), the diff is applied to the
//! original, and the result must equal the changed tree.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use berth_snapshot::{
    ApplyMode, ApplyOptions, DiffSource, Mount, apply_layer, mount_all, unmount, write_diff,
};
use common::{Compare, Layer, in_private_mount_ns, require_root, tempdir};

fn rootfs() -> ApplyOptions {
    ApplyOptions {
        mode: ApplyMode::Rootfs,
        ..ApplyOptions::default()
    }
}

fn base() -> Vec<u8> {
    let uid = u64::from(rustix::process::geteuid().as_raw());
    let gid = u64::from(rustix::process::getegid().as_raw());
    Layer::new()
        .dir_full("etc", 0o755, uid, gid, &[])
        .file_full("etc/passwd", b"root:x:0:0\n", 0o644, uid, gid, &[])
        .file_full("etc/same-size", b"aaaa", 0o644, uid, gid, &[])
        .file_full("etc/mode", b"m", 0o644, uid, gid, &[])
        .file_full("etc/attr", b"a", 0o644, uid, gid, &[("user.k", b"1")])
        .dir_full("var/cache", 0o755, uid, gid, &[])
        .file_full("var/cache/a", b"a", 0o644, uid, gid, &[])
        .dir_full("var/cache/sub", 0o755, uid, gid, &[])
        .file_full("var/cache/sub/b", b"b", 0o644, uid, gid, &[])
        .dir_full("tree", 0o755, uid, gid, &[])
        .file_full("tree/x", b"x", 0o644, uid, gid, &[])
        .file_full("becomes-dir", b"f", 0o644, uid, gid, &[])
        .dir_full("becomes-file", 0o755, uid, gid, &[])
        .file_full("becomes-file/y", b"y", 0o644, uid, gid, &[])
        .symlink("link", "etc/passwd")
        .dir_full("untouched", 0o755, uid, gid, &[])
        .file_full("untouched/z", b"z", 0o644, uid, gid, &[])
        .clone_finish()
}

/// The same changes, made through plain file operations under `root`.
fn change(root: &Path) {
    fs::write(root.join("etc/new"), b"new file").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(10));
    fs::write(root.join("etc/same-size"), b"bbbb").unwrap();
    fs::write(root.join("etc/passwd"), b"root:x:0:0\nuser:x:1000:1000\n").unwrap();
    fs::set_permissions(root.join("etc/mode"), fs::Permissions::from_mode(0o600)).unwrap();
    let c = std::ffi::CString::new(root.join("etc/attr").to_str().unwrap()).unwrap();
    rustix::fs::setxattr(
        c.as_c_str(),
        "user.k",
        b"2",
        rustix::fs::XattrFlags::empty(),
    )
    .unwrap();
    fs::remove_dir_all(root.join("var/cache")).unwrap();
    fs::create_dir(root.join("var/cache")).unwrap();
    fs::write(root.join("var/cache/fresh"), b"f").unwrap();
    fs::remove_dir_all(root.join("tree")).unwrap();
    fs::remove_file(root.join("becomes-dir")).unwrap();
    fs::create_dir(root.join("becomes-dir")).unwrap();
    fs::write(root.join("becomes-dir/inner"), b"i").unwrap();
    fs::remove_dir_all(root.join("becomes-file")).unwrap();
    fs::write(root.join("becomes-file"), b"now a file").unwrap();
    fs::remove_file(root.join("link")).unwrap();
    std::os::unix::fs::symlink("etc/new", root.join("link")).unwrap();
    fs::hard_link(root.join("etc/new"), root.join("etc/new-link")).unwrap();
    rustix::fs::mknodat(
        rustix::fs::CWD,
        root.join("fifo"),
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
}

fn cp_a(from: &Path, to: &Path) {
    let st = Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", from.display()))
        .arg(to)
        .status()
        .unwrap();
    assert!(st.success(), "cp -a");
}

fn seconds() -> Compare {
    Compare {
        mtime_nsec: false,
        ..Compare::default()
    }
}

#[test]
fn two_tree_diff_reapplies_to_the_changed_tree() {
    let t = tempdir();
    let (lower, upper, out) = (
        t.path().join("lower"),
        t.path().join("upper"),
        t.path().join("out"),
    );
    for d in [&lower, &upper, &out] {
        fs::create_dir(d).unwrap();
    }
    apply_layer(&lower, &base()[..], &rootfs()).unwrap();
    cp_a(&lower, &upper);
    change(&upper);

    let source = DiffSource::Trees {
        lower: Some(lower.clone()),
        upper: upper.clone(),
    };
    let mut tar = Vec::new();
    let stats = write_diff(&source, &mut tar).unwrap();
    // `tree`, and the two old entries of the re-created `var/cache`.
    assert_eq!(stats.whiteouts, 3, "{stats:?}");
    assert_eq!(stats.hardlinks, 1, "{stats:?}");
    let names = member_names(&tar);
    assert!(
        !names.iter().any(|n| n.starts_with("untouched")),
        "{names:?}"
    );
    for wh in [".wh.tree", "var/cache/.wh.a", "var/cache/.wh.sub"] {
        assert!(names.contains(&wh.to_string()), "{wh} in {names:?}");
    }

    cp_a(&lower, &out);
    apply_layer(&out, &tar[..], &rootfs()).unwrap();
    common::assert_same_tree(&upper, &out, seconds());
}

#[test]
fn a_diff_of_identical_trees_is_empty_and_diffs_are_deterministic() {
    let t = tempdir();
    let (lower, upper) = (t.path().join("lower"), t.path().join("upper"));
    fs::create_dir(&lower).unwrap();
    fs::create_dir(&upper).unwrap();
    apply_layer(&lower, &base()[..], &rootfs()).unwrap();
    cp_a(&lower, &upper);
    let source = DiffSource::Trees {
        lower: Some(lower.clone()),
        upper: upper.clone(),
    };
    let mut tar = Vec::new();
    let stats = write_diff(&source, &mut tar).unwrap();
    assert_eq!(stats.entries, 0, "{stats:?}");
    assert_eq!(tar, vec![0u8; 1024]);

    change(&upper);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    write_diff(&source, &mut a).unwrap();
    write_diff(&source, &mut b).unwrap();
    assert_eq!(a, b);
    // Without a lower tree everything is new.
    let mut all = Vec::new();
    let s = write_diff(
        &DiffSource::Trees {
            lower: None,
            upper: upper.clone(),
        },
        &mut all,
    )
    .unwrap();
    assert_eq!(s.whiteouts, 0);
    let out = t.path().join("out");
    fs::create_dir(&out).unwrap();
    apply_layer(&out, &all[..], &rootfs()).unwrap();
    common::assert_same_tree(&upper, &out, seconds());
}

#[test]
fn sockets_are_skipped() {
    let t = tempdir();
    let upper = t.path().join("upper");
    fs::create_dir(&upper).unwrap();
    let _l = std::os::unix::net::UnixListener::bind(upper.join("sock")).unwrap();
    let mut tar = Vec::new();
    let s = write_diff(&DiffSource::Trees { lower: None, upper }, &mut tar).unwrap();
    assert_eq!((s.sockets_skipped, s.entries), (1, 0));
}

fn member_names(tar: &[u8]) -> Vec<String> {
    let mut r = berth_snapshot::tar::TarReader::new(tar);
    let mut out = Vec::new();
    while let Some(e) = r.next_entry().unwrap() {
        out.push(String::from_utf8_lossy(&e.path).into_owned());
    }
    out
}

fn overlay(lowers: &[&Path], upper: Option<(&Path, &Path)>) -> Mount {
    let mut options: Vec<String> = berth_snapshot::default_overlay_options();
    if let Some((u, w)) = upper {
        options.push(format!("upperdir={}", u.display()));
        options.push(format!("workdir={}", w.display()));
    } else {
        options.push("ro".into());
    }
    let l: Vec<String> = lowers.iter().map(|p| p.display().to_string()).collect();
    options.push(format!("lowerdir={}", l.join(":")));
    Mount {
        kind: "overlay".into(),
        source: "overlay".into(),
        target: None,
        options,
    }
}

#[test]
fn overlay_upper_diff_reapplies_in_both_modes() {
    if !require_root("overlay_upper_diff_reapplies_in_both_modes") {
        return;
    }
    let t = tempdir();
    let p = t.path().to_path_buf();
    in_private_mount_ns(move || {
        let d = |n: &str| {
            let x = p.join(n);
            fs::create_dir(&x).unwrap();
            x
        };
        let (l, u, w, m, expected) = (d("l"), d("u"), d("w"), d("m"), d("expected"));
        let empty = d("empty");
        apply_layer(&l, &base()[..], &ApplyOptions::default()).unwrap();
        // Two lowers: overlay needs at least one; the empty one makes l a real lower layer.
        mount_all(&[overlay(&[&l, &empty], Some((&u, &w)))], &m).unwrap();
        change(&m);
        cp_a(&m, &expected);
        unmount(&m).unwrap();

        let mut tar = Vec::new();
        let stats = write_diff(&DiffSource::OverlayUpper { upper: u.clone() }, &mut tar).unwrap();
        let names = member_names(&tar);
        assert!(
            names.contains(&"var/cache/.wh..wh..opq".to_string()),
            "{names:?}"
        );
        assert!(names.contains(&".wh.tree".to_string()), "{names:?}");
        assert!(stats.opaque_dirs >= 1 && stats.whiteouts >= 1, "{stats:?}");
        assert!(
            !names.iter().any(|n| n.starts_with("untouched")),
            "{names:?}"
        );

        // Rootfs mode: base then diff, as the copying snapshotter would.
        let r = d("r");
        apply_layer(&r, &base()[..], &rootfs()).unwrap();
        apply_layer(&r, &tar[..], &rootfs()).unwrap();
        common::assert_same_tree(&expected, &r, seconds());

        // Overlay mode: the diff as a new layer on top of the base layer, mounted read-only.
        let l2 = d("l2");
        apply_layer(&l2, &tar[..], &ApplyOptions::default()).unwrap();
        let m2 = d("m2");
        mount_all(&[overlay(&[&l2, &l], None)], &m2).unwrap();
        common::assert_same_tree(&expected, &m2, seconds());
        unmount(&m2).unwrap();
    });
}
