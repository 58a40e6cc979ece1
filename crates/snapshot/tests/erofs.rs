//! Layer images (EROFS) read back by the kernel exactly as the same layer unpacked into a
//! directory: a layer built to reach the format's edges — a directory spanning several blocks
//! (lookups binary-search across them), names sorting before `.`, files at and around the
//! inline limit, a large file, a symbolic link too long to sit in its inode's block, a
//! 64-block xattr-laden file, owners above 65535, nanosecond mtimes, hard links, devices,
//! fifos, setuid and sticky modes.
//!
//! Needs root and a kernel that mounts EROFS image files (Linux ≥ 6.12); skips loudly
//! otherwise.

mod common;

use std::fs;

use berth_snapshot::{ApplyOptions, ApplyTarget, apply_layer};
use common::{Compare, Layer, in_private_mount_ns, require_root, tempdir};

fn edge_layer() -> Vec<u8> {
    let mut l = Layer::new();
    l.dir("big", 0o755);
    // ~700 entries of 20-odd bytes: several directory blocks.
    for i in 0..700 {
        l.file(
            &format!("big/entry-number-{i:05}"),
            i.to_string().as_bytes(),
            0o644,
        );
    }
    l.file("big/!first", b"bang", 0o644)
        .file("big/-dash", b"dash", 0o644)
        .file("big/~last", b"tilde", 0o644)
        .dir("sizes", 0o755)
        .file("sizes/empty", b"", 0o644)
        .file("sizes/one", b"1", 0o644)
        .file("sizes/inline-max", &vec![b'a'; 4096 - 64], 0o644)
        .file("sizes/just-over", &vec![b'b'; 4096 - 63], 0o644)
        .file("sizes/block", &vec![b'c'; 4096], 0o644)
        .file("sizes/large", &vec![b'd'; 3 * 1024 * 1024 + 17], 0o755)
        .file_full(
            "sizes/with-xattrs",
            &vec![b'e'; 3000],
            0o640,
            70000,
            80000,
            &[
                ("user.big", &vec![b'x'; 2000][..]),
                (
                    "security.capability",
                    &[1, 0, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0][..],
                ),
                ("trusted.note", b"t"),
            ],
        )
        .file("sizes/setuid", b"suid", 0o4755)
        .dir("sizes/sticky", 0o1777)
        .dir("links", 0o755)
        .symlink("links/short", "../sizes/one")
        .symlink("links/long", &"x/".repeat(2040))
        .hardlink("links/hard", "sizes/large")
        .dir("dev", 0o755)
        .device("dev/null", false, 1, 3)
        .device("dev/sda300", true, 8, 300)
        .fifo("dev/fifo");
    l.clone_finish()
}

#[test]
fn a_layer_image_reads_back_like_the_unpacked_directory() {
    if !require_root("a_layer_image_reads_back_like_the_unpacked_directory") {
        return;
    }
    let t = tempdir();
    if let Err(e) = berth_snapshot::erofs::probe(t.path()) {
        eprintln!(
            "SKIP: a_layer_image_reads_back_like_the_unpacked_directory: this kernel cannot \
             mount EROFS image files (Linux >= 6.12 with EROFS): {e}"
        );
        return;
    }
    let tar = edge_layer();
    let dir = t.path().join("dir");
    fs::create_dir(&dir).unwrap();
    apply_layer(&dir, &tar[..], &ApplyOptions::default()).unwrap();
    let image = t.path().join("layer.erofs");
    let target = ApplyTarget {
        dir: dir.clone(),
        options: ApplyOptions::default(),
    };
    let stats = target.apply_to_image(&tar[..], &image).unwrap();
    assert_eq!(stats.xattrs_skipped, 0);
    let mnt = t.path().join("mnt");
    fs::create_dir(&mnt).unwrap();
    in_private_mount_ns(move || {
        berth_snapshot::erofs::mount(&image, &mnt).unwrap();
        common::assert_same_tree(&dir, &mnt, Compare::default());
        // Lookups by name (not only readdir) across the directory's blocks.
        for name in [
            "!first",
            "-dash",
            "entry-number-00000",
            "entry-number-00350",
            "~last",
        ] {
            assert!(mnt.join("big").join(name).exists(), "{name}");
        }
        assert!(!mnt.join("big/entry-number-00700").exists());
        // No inode is number 0 (readdir(3) hides such entries): `ls -a` shows `.` and `..`,
        // of the root too.
        use std::os::unix::fs::MetadataExt;
        assert_ne!(fs::metadata(&mnt).unwrap().ino(), 0);
        for d in [mnt.clone(), mnt.join("big")] {
            let out = std::process::Command::new("ls")
                .arg("-a")
                .arg(&d)
                .output()
                .unwrap();
            let out = String::from_utf8_lossy(&out.stdout).into_owned();
            let names: Vec<&str> = out.lines().collect();
            assert!(
                names.contains(&".") && names.contains(&".."),
                "ls -a {}: {out}",
                d.display()
            );
        }
        berth_snapshot::erofs::unmount(&mnt).unwrap();
    });
}
