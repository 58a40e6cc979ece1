//! Layer extraction against a reference: layers with every member kind are built with the `tar`
//! crate, applied with `apply_layer`, and the result is compared entry by entry with what the
//! layer describes (modes incl. setuid/sticky, owners, times, xattrs incl.
//! `security.capability`, link targets, device numbers, hard link grouping). Also: whiteouts
//! in both modes, long names, corrupt and truncated archives, compressed streams.

mod common;

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use berth_snapshot::{ApplyError, ApplyMode, ApplyOptions, Category, apply_layer, decompress};
use common::{Layer, MTIME, require_root, tempdir};

fn overlay() -> ApplyOptions {
    ApplyOptions::default()
}

fn rootfs() -> ApplyOptions {
    ApplyOptions {
        mode: ApplyMode::Rootfs,
        ..ApplyOptions::default()
    }
}

/// A `security.capability` value: v2, cap_net_bind_service (bit 10) permitted + effective.
const CAP_NET_BIND: &[u8] = &[
    0x01, 0x00, 0x00, 0x02, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00,
];

fn every_kind() -> Vec<u8> {
    let mut l = Layer::new();
    l.dir("etc", 0o755)
        .file("etc/passwd", b"root:x:0:0::/root:/bin/sh\n", 0o644)
        .file_full("etc/shadow", b"root:*:1::::::\n", 0o640, 0, 42, &[])
        .dir_full("home/user", 0o700, 1000, 1000, &[("user.note", b"hi")])
        .file_full(
            "home/user/.profile",
            b"export A=1\n",
            0o600,
            1000,
            1000,
            &[],
        )
        .dir("bin", 0o755)
        .file_full(
            "bin/ping",
            b"\x7fELF-not-really",
            0o4755,
            0,
            0,
            &[("security.capability", CAP_NET_BIND)],
        )
        .file("bin/busybox", &vec![0xabu8; 300_000], 0o755)
        .hardlink("bin/sh", "bin/busybox")
        .hardlink("bin/ls", "bin/busybox")
        .symlink("bin/vi", "busybox")
        .symlink("lib", "usr/lib")
        .dir("usr/lib", 0o755)
        .file("usr/lib/libc.so", b"libc", 0o755)
        .dir("tmp", 0o1777)
        .dir("srv", 0o2775)
        .file("srv/setgid-file", b"g", 0o2755)
        .dir("dev", 0o755)
        .device("dev/null", false, 1, 3)
        .device("dev/sda", true, 8, 0)
        .fifo("run-fifo")
        .file_full(
            "data/xattrs",
            b"x",
            0o644,
            0,
            0,
            &[("user.a", b"1"), ("trusted.b", b"\x00\x01binary")],
        );
    let long_dir = "d".repeat(120);
    let long_name = format!("{long_dir}/{}", "f".repeat(200));
    l.file(&long_name, b"long", 0o644);
    l.symlink("long-link", &format!("{long_dir}/{}", "f".repeat(200)));
    l.finish()
}

#[test]
fn every_member_kind_is_extracted_exactly() {
    if !require_root("every_member_kind_is_extracted_exactly") {
        return;
    }
    let t = tempdir();
    let stats = apply_layer(t.path(), &every_kind()[..], &overlay()).unwrap();
    let r = t.path();
    assert_eq!(stats.hardlinks, 2);
    assert_eq!(stats.devices, 2);
    assert_eq!(stats.fifos, 1);

    let md = |p: &str| fs::symlink_metadata(r.join(p)).unwrap();
    assert_eq!(
        fs::read(r.join("etc/passwd")).unwrap(),
        b"root:x:0:0::/root:/bin/sh\n"
    );
    assert_eq!(md("etc/passwd").mode() & 0o7777, 0o644);
    assert_eq!(
        (md("etc/shadow").mode() & 0o7777, md("etc/shadow").gid()),
        (0o640, 42)
    );
    let home = md("home/user");
    assert_eq!(
        (home.mode() & 0o7777, home.uid(), home.gid()),
        (0o700, 1000, 1000)
    );
    assert_eq!(md("home/user/.profile").uid(), 1000);
    // setuid survives the chown; the capability survives too (set after chown).
    assert_eq!(md("bin/ping").mode() & 0o7777, 0o4755);
    assert_eq!(
        berth_xattr(&r.join("bin/ping"), "security.capability").as_deref(),
        Some(CAP_NET_BIND)
    );
    assert_eq!(
        berth_xattr(&r.join("home/user"), "user.note").as_deref(),
        Some(&b"hi"[..])
    );
    assert_eq!(
        berth_xattr(&r.join("data/xattrs"), "trusted.b").as_deref(),
        Some(&b"\x00\x01binary"[..])
    );
    // Hard links share the inode.
    assert_eq!(md("bin/sh").ino(), md("bin/busybox").ino());
    assert_eq!(md("bin/ls").ino(), md("bin/busybox").ino());
    assert_eq!(md("bin/busybox").nlink(), 3);
    assert_eq!(
        fs::read_link(r.join("bin/vi")).unwrap(),
        Path::new("busybox")
    );
    assert_eq!(fs::read_link(r.join("lib")).unwrap(), Path::new("usr/lib"));
    assert_eq!(md("tmp").mode() & 0o7777, 0o1777);
    assert_eq!(md("srv").mode() & 0o7777, 0o2775);
    assert_eq!(md("srv/setgid-file").mode() & 0o7777, 0o2755);
    let null = md("dev/null");
    assert!(null.file_type().is_char_device());
    assert_eq!(
        (
            rustix::fs::major(null.rdev()),
            rustix::fs::minor(null.rdev())
        ),
        (1, 3)
    );
    assert_eq!((null.mode() & 0o7777, null.gid()), (0o660, 6));
    let sda = md("dev/sda");
    assert!(sda.file_type().is_block_device());
    assert_eq!(
        (rustix::fs::major(sda.rdev()), rustix::fs::minor(sda.rdev())),
        (8, 0)
    );
    assert!(md("run-fifo").file_type().is_fifo());
    let long = format!("{}/{}", "d".repeat(120), "f".repeat(200));
    assert_eq!(fs::read(r.join(&long)).unwrap(), b"long");
    assert_eq!(
        fs::read_link(r.join("long-link")).unwrap(),
        Path::new(&long)
    );
    // Times: files, links, and directories (set after their children).
    for p in [
        "etc/passwd",
        "bin/vi",
        "dev/null",
        "etc",
        "home/user",
        "usr/lib",
        "bin",
    ] {
        assert_eq!(md(p).mtime(), MTIME as i64, "mtime of {p}");
    }
    // Implicit parents (`home`, `usr`, `data`) exist as plain directories.
    assert_eq!(md("home").mode() & 0o7777, 0o755);
}

fn berth_xattr(p: &Path, name: &str) -> Option<Vec<u8>> {
    common::tree(p.parent().unwrap())
        .remove(Path::new(p.file_name().unwrap()))
        .and_then(|n| n.xattrs.get(name).cloned())
}

#[test]
fn sub_second_times_and_atime_from_pax() {
    let mut w = berth_snapshot::tar::TarWriter::new(Vec::new());
    let mut e = berth_snapshot::tar::Entry::new(berth_snapshot::tar::EntryKind::File, "f");
    e.mode = 0o644;
    e.uid = rustix::process::geteuid().as_raw().into();
    e.gid = rustix::process::getegid().as_raw().into();
    e.size = 1;
    e.mtime = berth_snapshot::tar::Timestamp {
        secs: 1_500_000_000,
        nanos: 123_456_789,
    };
    w.append(&e, &b"x"[..]).unwrap();
    let tar = w.finish().unwrap();
    let t = tempdir();
    apply_layer(t.path(), &tar[..], &overlay()).unwrap();
    let md = fs::metadata(t.path().join("f")).unwrap();
    assert_eq!((md.mtime(), md.mtime_nsec()), (1_500_000_000, 123_456_789));
}

#[test]
fn overlay_mode_whiteouts_become_overlay_markers() {
    if !require_root("overlay_mode_whiteouts_become_overlay_markers") {
        return;
    }
    let mut l = Layer::new();
    l.dir("etc", 0o755)
        .whiteout("etc/motd")
        .dir("var/cache", 0o755)
        .opaque("var/cache");
    l.file("var/cache/new", b"n", 0o644);
    l.whiteout("gone-dir");
    let t = tempdir();
    let stats = apply_layer(t.path(), &l.finish()[..], &overlay()).unwrap();
    assert_eq!((stats.whiteouts, stats.opaque_dirs), (2, 1));
    let motd = fs::symlink_metadata(t.path().join("etc/motd")).unwrap();
    assert!(motd.file_type().is_char_device());
    assert_eq!(motd.rdev(), 0);
    assert!(!t.path().join("etc/.wh.motd").exists());
    let cache = common::tree(t.path());
    let node = &cache[Path::new("var/cache")];
    assert_eq!(
        node.xattrs.get("trusted.overlay.opaque").map(Vec::as_slice),
        Some(&b"y"[..])
    );
    assert!(!t.path().join("var/cache/.wh..wh..opq").exists());
    assert!(t.path().join("var/cache/new").exists());
    assert!(
        fs::symlink_metadata(t.path().join("gone-dir"))
            .unwrap()
            .file_type()
            .is_char_device()
    );
}

#[test]
fn overlay_mode_userxattr_marks_opaque_with_user_namespace() {
    let mut l = Layer::new();
    l.dir("d", 0o755).opaque("d");
    let t = tempdir();
    let opts = ApplyOptions {
        userxattr: true,
        ..overlay()
    };
    apply_layer(t.path(), &l.finish()[..], &opts).unwrap();
    let tree = common::tree(t.path());
    assert_eq!(
        tree[Path::new("d")]
            .xattrs
            .get("user.overlay.opaque")
            .map(Vec::as_slice),
        Some(&b"y"[..])
    );
}

#[test]
fn rootfs_mode_whiteouts_delete() {
    let t = tempdir();
    let mut base = Layer::new();
    base.dir("etc", 0o755)
        .file("etc/motd", b"m", 0o644)
        .file("etc/keep", b"k", 0o644)
        .dir("var/cache/sub", 0o755)
        .file("var/cache/old", b"o", 0o644)
        .file("var/cache/sub/deep", b"d", 0o644)
        .dir("gone", 0o755)
        .file("gone/x", b"x", 0o644)
        .file("data", b"lower data", 0o644);
    apply_layer(t.path(), &base.finish()[..], &rootfs()).unwrap();

    let mut top = Layer::new();
    top.whiteout("etc/motd")
        .dir("var/cache", 0o755)
        .file("var/cache/before-marker", b"b", 0o644)
        .opaque("var/cache")
        .file("var/cache/new", b"n", 0o644)
        .whiteout("gone")
        .whiteout("never-existed/x")
        .hardlink("data-link", "data");
    let stats = apply_layer(t.path(), &top.finish()[..], &rootfs()).unwrap();
    assert_eq!(stats.opaque_dirs, 1);
    let r = t.path();
    assert!(!r.join("etc/motd").exists());
    assert!(r.join("etc/keep").exists());
    assert!(!r.join("var/cache/old").exists());
    assert!(!r.join("var/cache/sub").exists());
    assert!(
        r.join("var/cache/before-marker").exists(),
        "this layer's own entries stay"
    );
    assert!(r.join("var/cache/new").exists());
    assert!(!r.join("gone").exists());
    assert!(
        !r.join("never-existed").exists(),
        "a whiteout creates nothing"
    );
    // A hard link to a file of an earlier layer.
    assert_eq!(
        fs::metadata(r.join("data-link")).unwrap().ino(),
        fs::metadata(r.join("data")).unwrap().ino()
    );
}

#[test]
fn overlay_mode_hardlink_to_a_lower_layer_is_an_error() {
    let mut l = Layer::new();
    l.hardlink("link", "not-in-this-layer");
    let t = tempdir();
    let err = apply_layer(t.path(), &l.finish()[..], &overlay()).unwrap_err();
    assert!(matches!(err, ApplyError::LinkTargetMissing { .. }), "{err}");
    assert_eq!(err.category(), Category::Invalid);
}

#[test]
fn replacing_members() {
    // A later member of the same path replaces the earlier one, whatever the kinds; an
    // existing directory is kept (and takes the new metadata) when the member is a directory.
    let mut l = Layer::new();
    l.file("a", b"file", 0o644)
        .symlink("a", "target")
        .dir("b", 0o755)
        .file("b/inner", b"i", 0o644)
        .file("b", b"now a file", 0o600)
        .dir("c", 0o755)
        .file("c/kept", b"k", 0o644)
        .dir("c", 0o700)
        .file("d", b"1", 0o644)
        .hardlink("e", "d")
        .file("e", b"2", 0o644);
    let t = tempdir();
    apply_layer(t.path(), &l.finish()[..], &overlay()).unwrap();
    let r = t.path();
    assert_eq!(fs::read_link(r.join("a")).unwrap(), Path::new("target"));
    assert_eq!(fs::read(r.join("b")).unwrap(), b"now a file");
    assert!(r.join("c/kept").exists());
    assert_eq!(fs::metadata(r.join("c")).unwrap().mode() & 0o7777, 0o700);
    // Writing `e` did not write through the hard link into `d`.
    assert_eq!(fs::read(r.join("d")).unwrap(), b"1");
    assert_eq!(fs::read(r.join("e")).unwrap(), b"2");
}

#[test]
fn the_root_member_sets_the_roots_metadata() {
    if !require_root("the_root_member_sets_the_roots_metadata") {
        return;
    }
    let mut l = Layer::new();
    l.dir("./", 0o750).file("./f", b"f", 0o644);
    let t = tempdir();
    apply_layer(t.path(), &l.finish()[..], &overlay()).unwrap();
    let md = fs::metadata(t.path()).unwrap();
    assert_eq!((md.mode() & 0o7777, md.mtime()), (0o750, MTIME as i64));
}

#[test]
fn compressed_layers() {
    let raw = {
        let mut l = Layer::new();
        l.dir("a", 0o755).file("a/b", &vec![1u8; 100_000], 0o644);
        l.finish()
    };
    for enc in [
        common::gzip(&raw),
        zstd::encode_all(&raw[..], 3).unwrap(),
        raw.clone(),
    ] {
        let t = tempdir();
        let stats = apply_layer(t.path(), decompress(&enc[..]).unwrap(), &overlay()).unwrap();
        assert_eq!(stats.bytes, 100_000);
        assert_eq!(stats.archive_bytes, raw.len() as u64);
        assert_eq!(fs::read(t.path().join("a/b")).unwrap().len(), 100_000);
    }
}

#[test]
fn truncated_and_corrupt_archives_are_errors() {
    let raw = {
        let mut l = Layer::new();
        l.file("a", &vec![1u8; 10_000], 0o644)
            .file("b", b"b", 0o644);
        l.finish()
    };
    // Cut inside the data, inside a header, at a member boundary (no end marker), and empty.
    for cut in [3000, 10_752 + 100, 10_752 + 1024, 0] {
        let t = tempdir();
        let err = apply_layer(t.path(), &raw[..cut], &overlay()).unwrap_err();
        assert!(
            matches!(
                err,
                ApplyError::Archive(berth_snapshot::tar::TarError::Truncated { .. })
            ),
            "cut at {cut}: {err}"
        );
        assert_eq!(err.category(), Category::Invalid);
    }
    // A flipped byte in a header breaks its checksum.
    let mut bad = raw.clone();
    bad[10] ^= 0x55;
    let t = tempdir();
    let err = apply_layer(t.path(), &bad[..], &overlay()).unwrap_err();
    assert!(matches!(
        err,
        ApplyError::Archive(berth_snapshot::tar::TarError::Checksum { .. })
    ));
    // Not a tar at all.
    let err = apply_layer(t.path(), &[b'x'; 2048][..], &overlay()).unwrap_err();
    assert_eq!(err.category(), Category::Invalid);
    // A truncated gzip stream.
    let gz = common::gzip(&raw);
    let t = tempdir();
    let err = apply_layer(
        t.path(),
        decompress(&gz[..gz.len() - 10]).unwrap(),
        &overlay(),
    )
    .unwrap_err();
    assert_eq!(err.category(), Category::Invalid, "{err}");
    // A sparse file is refused clearly.
    let sparse = common::raw_layer(&[(common::raw_header(b'S', b"sparse", b"", 0, 0o644), vec![])]);
    let err = apply_layer(t.path(), &sparse[..], &overlay()).unwrap_err();
    assert!(err.to_string().contains("sparse"), "{err}");
}

#[test]
fn uid_gid_shift() {
    if !require_root("uid_gid_shift") {
        return;
    }
    let mut l = Layer::new();
    l.file_full("f", b"f", 0o644, 5, 6, &[])
        .symlink("l", "f")
        .dir_full("d", 0o755, 1, 1, &[]);
    let t = tempdir();
    let opts = ApplyOptions {
        uid_shift: 100_000,
        gid_shift: 200_000,
        ..overlay()
    };
    apply_layer(t.path(), &l.finish()[..], &opts).unwrap();
    let md = |p: &str| fs::symlink_metadata(t.path().join(p)).unwrap();
    assert_eq!((md("f").uid(), md("f").gid()), (100_005, 200_006));
    assert_eq!((md("l").uid(), md("l").gid()), (100_000, 200_000));
    assert_eq!((md("d").uid(), md("d").gid()), (100_001, 200_001));
    // A shift that overflows is refused.
    let mut l = Layer::new();
    l.file_full("big", b"", 0o644, u64::from(u32::MAX - 5), 0, &[]);
    let t = tempdir();
    let err = apply_layer(t.path(), &l.finish()[..], &opts).unwrap_err();
    assert!(matches!(err, ApplyError::IdOutOfRange { .. }), "{err}");
}

#[test]
fn overlay_private_xattrs_from_the_archive_are_dropped() {
    if !require_root("overlay_private_xattrs_from_the_archive_are_dropped") {
        return;
    }
    let mut l = Layer::new();
    l.dir_full(
        "d",
        0o755,
        0,
        0,
        &[("trusted.overlay.redirect", b"/etc"), ("trusted.x", b"1")],
    );
    let t = tempdir();
    apply_layer(t.path(), &l.finish()[..], &overlay()).unwrap();
    let tree = common::tree(t.path());
    let x = &tree[Path::new("d")].xattrs;
    assert!(!x.contains_key("trusted.overlay.redirect"));
    assert!(x.contains_key("trusted.x"));
}

/// Overlay layer with lowers: a parent the layer lacks is created with the lower directory's
/// attributes, and a path through a lower symbolic link is rewritten through it.
#[test]
fn overlay_layer_parents_come_from_the_lowers() {
    let t = tempdir();
    let (lower, top) = (t.path().join("lower"), t.path().join("top"));
    fs::create_dir(&lower).unwrap();
    fs::create_dir(&top).unwrap();
    let mut base = Layer::new();
    base.dir_full("tmp", 0o1777, 0, 0, &[("user.k", b"v")])
        .dir("usr/lib", 0o755)
        .symlink("lib", "usr/lib")
        .dir("gone", 0o700)
        .dir("hidden", 0o700);
    let uid = u64::from(rustix::process::geteuid().as_raw());
    let gid = u64::from(rustix::process::getegid().as_raw());
    let mut l = Layer::new();
    l.file_full("tmp/a", b"a", 0o644, uid, gid, &[]).file_full(
        "lib/libz.so",
        b"z",
        0o755,
        uid,
        gid,
        &[],
    );
    let base = {
        // Owned by the caller so that the test also runs unprivileged.
        let mut b = Layer::new();
        b.dir_full("tmp", 0o1777, uid, gid, &[("user.k", b"v")])
            .dir_full("usr", 0o755, uid, gid, &[])
            .dir_full("usr/lib", 0o755, uid, gid, &[])
            .symlink("lib", "usr/lib");
        let _ = base;
        b.finish()
    };
    apply_layer(&lower, &base[..], &overlay()).unwrap();
    let opts = ApplyOptions {
        lowers: vec![lower.clone()],
        ..overlay()
    };
    apply_layer(&top, &l.finish()[..], &opts).unwrap();
    let tmp = fs::metadata(top.join("tmp")).unwrap();
    assert_eq!(
        tmp.mode() & 0o7777,
        0o1777,
        "the lower /tmp's mode, not 0755"
    );
    assert_eq!(tmp.mtime(), MTIME as i64, "and its times");
    assert_eq!(
        berth_xattr(&top.join("tmp"), "user.k").as_deref(),
        Some(&b"v"[..])
    );
    assert!(
        !top.join("lib").exists(),
        "the lower link is not shadowed by a directory"
    );
    assert_eq!(fs::read(top.join("usr/lib/libz.so")).unwrap(), b"z");
    // Without lowers: Docker's behaviour, a plain directory.
    let plain = t.path().join("plain");
    fs::create_dir(&plain).unwrap();
    let mut l = Layer::new();
    l.file_full("tmp/a", b"a", 0o644, uid, gid, &[]);
    apply_layer(&plain, &l.finish()[..], &overlay()).unwrap();
    assert_eq!(
        fs::metadata(plain.join("tmp")).unwrap().mode() & 0o7777,
        0o755
    );
}

/// Rootfs mode: adding entries to a directory of an earlier layer keeps its times.
#[test]
fn rootfs_mode_keeps_the_times_of_lower_directories() {
    let t = tempdir();
    let mut base = Layer::new();
    base.dir("etc", 0o755).file("etc/a", b"a", 0o644);
    apply_layer(t.path(), &base.finish()[..], &rootfs()).unwrap();
    let mut top = Layer::new();
    top.file("etc/b", b"b", 0o644).whiteout("etc/a");
    apply_layer(t.path(), &top.finish()[..], &rootfs()).unwrap();
    assert_eq!(
        fs::metadata(t.path().join("etc")).unwrap().mtime(),
        MTIME as i64
    );
}
