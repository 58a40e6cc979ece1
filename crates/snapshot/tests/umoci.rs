//! Comparison with `umoci unpack`, the OCI reference unpacker: an OCI image layout with two
//! gzip layers of our own (every member kind, owners, setuid, xattrs incl.
//! `security.capability`, hard links, long names, devices, whiteouts and an opaque directory)
//! is unpacked by umoci and by each snapshotter (layers applied into snapshots, then a view
//! mounted), and the trees must match: kinds, modes, owners, mtimes, contents, link targets,
//! device numbers, extended attributes, hard link grouping. The second layer also puts files
//! under parents it does not contain (a lower directory, and `lib`, a lower link to `usr/lib`).
//!
//! Needs root and `umoci` (`apt-get install umoci`); skips loudly otherwise.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use berth_snapshot::{
    ApplyTarget, NativeSnapshotter, OverlaySnapshotter, Snapshotter, mount_all, unmount,
};
use common::{Compare, Layer, in_private_mount_ns, require_root, tempdir};
use sha2::{Digest, Sha256};

const CAP: &[u8] = &[
    0x01, 0x00, 0x00, 0x02, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00,
];

fn layer1() -> Vec<u8> {
    let long = format!("{}/{}", "l".repeat(110), "n".repeat(150));
    Layer::new()
        .dir(&"l".repeat(110), 0o755)
        .dir("home", 0o755)
        .dir("usr", 0o755)
        .dir("var", 0o755)
        .dir("var/cache", 0o755)
        .dir("bin", 0o755)
        .file("bin/busybox", &vec![0x5a; 200_000], 0o755)
        .hardlink("bin/sh", "bin/busybox")
        .hardlink("bin/ls", "bin/busybox")
        .symlink("bin/vi", "busybox")
        .file_full(
            "bin/ping",
            b"ping",
            0o4755,
            0,
            0,
            &[("security.capability", CAP)],
        )
        .dir("etc", 0o755)
        .file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n", 0o644)
        .file_full("etc/shadow", b"root:*::0:::::\n", 0o640, 0, 42, &[])
        .file("etc/motd", b"welcome\n", 0o644)
        .dir_full("home/u", 0o750, 1000, 1000, &[("user.comment", b"home")])
        .file_full("home/u/.profile", b"PS1='$ '\n", 0o644, 1000, 1000, &[])
        .dir("tmp", 0o1777)
        .dir("dev", 0o755)
        .device("dev/null", false, 1, 3)
        .device("dev/loop0", true, 7, 0)
        .fifo("dev/initctl")
        .dir("var/cache/apt", 0o755)
        .file("var/cache/apt/pkgcache.bin", &vec![1u8; 5000], 0o644)
        .dir("var/lib", 0o755)
        .file(&long, b"long", 0o644)
        .symlink("lib", "usr/lib")
        .dir("usr/lib", 0o755)
        .file("usr/lib/libc.so.6", b"libc", 0o755)
        .clone_finish()
}

fn layer2() -> Vec<u8> {
    Layer::new()
        .dir("etc", 0o755)
        .whiteout("etc/motd")
        .file(
            "etc/passwd",
            b"root:x:0:0:root:/root:/bin/sh\nu:x:1000:1000::/home/u:/bin/sh\n",
            0o644,
        )
        .dir("var/cache/apt", 0o755)
        .opaque("var/cache/apt")
        .file("var/cache/apt/new.bin", b"new", 0o644)
        .whiteout("var/lib")
        .file_full(
            "usr/lib/libnew.so",
            b"new",
            0o755,
            0,
            0,
            &[("user.x", b"y")],
        )
        // Parents this layer lacks: `usr/lib` (above) and `home/u` take the lower
        // attributes, and `lib` is a lower symbolic link to `usr/lib`: followed, not shadowed.
        .file_full("home/u/.bashrc", b"set -o vi\n", 0o644, 1000, 1000, &[])
        .file("lib/libz.so.1", b"zlib", 0o755)
        .clone_finish()
}

fn sha(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Write `data` as a blob; return `sha256:<hex>`.
fn blob(layout: &Path, data: &[u8]) -> String {
    let hex = sha(data);
    fs::write(layout.join("blobs/sha256").join(&hex), data).unwrap();
    format!("sha256:{hex}")
}

/// An OCI image layout at `layout` with the layers, tagged `test`.
fn oci_layout(layout: &Path, layers: &[Vec<u8>]) {
    fs::create_dir_all(layout.join("blobs/sha256")).unwrap();
    fs::write(
        layout.join("oci-layout"),
        br#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .unwrap();
    let mut descs = Vec::new();
    let mut diff_ids = Vec::new();
    for l in layers {
        diff_ids.push(format!("sha256:{}", sha(l)));
        let gz = common::gzip(l);
        let digest = blob(layout, &gz);
        descs.push(serde_json::json!({
            "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
            "digest": digest, "size": gz.len()
        }));
    }
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))
    .unwrap();
    let config_digest = blob(layout, &config);
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config_digest, "size": config.len()},
        "layers": descs,
    }))
    .unwrap();
    let manifest_digest = blob(layout, &manifest);
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifest_digest, "size": manifest.len(),
            "annotations": {"org.opencontainers.image.ref.name": "test"}
        }]
    });
    fs::write(
        layout.join("index.json"),
        serde_json::to_vec(&index).unwrap(),
    )
    .unwrap();
}

fn umoci_available() -> bool {
    Command::new("umoci")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Unpack with umoci; return the rootfs.
fn umoci_unpack(layout: &Path, bundle: &Path) -> PathBuf {
    let out = Command::new("umoci")
        .arg("unpack")
        .arg("--image")
        .arg(format!("{}:test", layout.display()))
        .arg(bundle)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "umoci unpack: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    bundle.join("rootfs")
}

fn compare_with_umoci(kind: &'static str, open: fn(&Path) -> Box<dyn Snapshotter>) {
    if !require_root(&format!("compare_with_umoci ({kind})")) {
        return;
    }
    if !umoci_available() {
        eprintln!(
            "SKIP: compare_with_umoci ({kind}): umoci is not installed (apt-get install umoci)"
        );
        return;
    }
    let t = tempdir();
    let layers = vec![layer1(), layer2()];
    let layout = t.path().join("layout");
    oci_layout(&layout, &layers);
    let reference = umoci_unpack(&layout, &t.path().join("bundle"));
    // The reference is what the layers say (the comparison is not vacuous).
    let n = common::tree(&reference).len();
    assert!(n > 25, "{n} entries");
    assert_eq!(
        fs::read(reference.join("usr/lib/libz.so.1")).unwrap(),
        b"zlib"
    );
    assert!(!reference.join("etc/motd").exists());

    let root = t.path().join("snapshots");
    let mnt = t.path().join("mnt");
    fs::create_dir(&mnt).unwrap();
    in_private_mount_ns(move || {
        let sn = open(&root);
        let mut parent: Option<String> = None;
        for (i, l) in layers.iter().enumerate() {
            let key = format!("extract-{i}");
            let mounts = sn.prepare(&key, parent.as_deref()).unwrap();
            // The layer as it comes from the registry: gzip, detected and decoded.
            let gz = common::gzip(l);
            let target = ApplyTarget::from_mounts(&mounts).unwrap();
            let tar = berth_snapshot::decompress(&gz[..]).unwrap();
            match sn.layer_image(&key).unwrap() {
                Some(image) => {
                    target.apply_to_image(tar, &image).unwrap();
                    assert!(image.is_file());
                }
                None => {
                    target.apply(tar).unwrap();
                }
            }
            sn.commit(&format!("layer-{i}"), &key).unwrap();
            parent = Some(format!("layer-{i}"));
        }
        let view = sn.view("view", parent.as_deref()).unwrap();
        mount_all(&view, &mnt).unwrap();
        common::assert_same_tree(&reference, &mnt, Compare::default());
        unmount(&mnt).unwrap();
    });
}

#[test]
fn overlay_snapshotter_matches_umoci() {
    compare_with_umoci("overlay", |r| {
        Box::new(OverlaySnapshotter::open(r).unwrap())
    });
}

#[test]
fn overlay_snapshotter_with_layer_images_matches_umoci() {
    let t = tempdir();
    if let Err(e) = berth_snapshot::erofs::probe(t.path()) {
        eprintln!(
            "SKIP: overlay_snapshotter_with_layer_images_matches_umoci: this kernel cannot \
             mount EROFS image files (Linux >= 6.12 with EROFS): {e}"
        );
        return;
    }
    compare_with_umoci("overlay, layer images", |r| {
        let sn = OverlaySnapshotter::open_with_layer_images(r, true).unwrap();
        assert!(sn.takes_layer_images());
        Box::new(sn)
    });
}

#[test]
fn native_snapshotter_matches_umoci() {
    compare_with_umoci("native", |r| Box::new(NativeSnapshotter::open(r).unwrap()));
}
