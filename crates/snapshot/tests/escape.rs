//! Every way a hostile layer could try to write outside the extraction root. Each test builds
//! the layer from raw hand-made headers (the `tar` crate refuses most of these), applies it in
//! both modes, and fails if anything outside the root changed: the arena is
//! `<tmp>/dest` (the root) next to `<tmp>/outside/secret`, and after the apply `<tmp>` must
//! hold exactly those two and `secret` must be untouched (content, no new links).

mod common;

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use berth_snapshot::{ApplyError, ApplyMode, ApplyOptions, Category, apply_layer};
use common::{raw_header, raw_layer, tempdir};

struct Arena {
    base: tempfile::TempDir,
    dest: PathBuf,
    outside: PathBuf,
}

fn arena() -> Arena {
    let base = tempdir();
    let dest = base.path().join("dest");
    let outside = base.path().join("outside");
    fs::create_dir(&dest).unwrap();
    fs::create_dir(&outside).unwrap();
    fs::write(outside.join("secret"), b"secret").unwrap();
    Arena {
        base,
        dest,
        outside,
    }
}

impl Arena {
    fn outside_str(&self) -> String {
        self.outside.display().to_string()
    }

    /// Fail if anything outside `dest` changed.
    fn assert_untouched(&self) {
        let mut top: Vec<String> = fs::read_dir(self.base.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        top.sort();
        assert_eq!(
            top,
            ["dest", "outside"],
            "something was created next to the root"
        );
        let inside: Vec<PathBuf> = common::listing(&self.outside);
        assert_eq!(
            inside,
            [PathBuf::from(""), PathBuf::from("secret")],
            "outside changed"
        );
        assert_eq!(fs::read(self.outside.join("secret")).unwrap(), b"secret");
        assert_eq!(
            fs::metadata(self.outside.join("secret")).unwrap().nlink(),
            1
        );
    }

    /// Apply `layer` in `mode` to a fresh copy of the root.
    fn apply(&self, layer: &[u8], mode: ApplyMode) -> Result<(), ApplyError> {
        let _ = fs::remove_dir_all(&self.dest);
        fs::create_dir(&self.dest).unwrap();
        apply_layer(
            &self.dest,
            layer,
            &ApplyOptions {
                mode,
                ..ApplyOptions::default()
            },
        )
        .map(|_| ())
    }

    /// Apply in both modes; check the outside each time; return the two results.
    fn apply_both(&self, layer: &[u8]) -> [Result<(), ApplyError>; 2] {
        let a = self.apply(layer, ApplyMode::OverlayLayer);
        self.assert_untouched();
        let b = self.apply(layer, ApplyMode::Rootfs);
        self.assert_untouched();
        [a, b]
    }
}

fn file(name: &str, data: &[u8]) -> ([u8; 512], Vec<u8>) {
    (
        raw_header(b'0', name.as_bytes(), b"", data.len() as u64, 0o644),
        data.to_vec(),
    )
}
fn dir(name: &str) -> ([u8; 512], Vec<u8>) {
    (raw_header(b'5', name.as_bytes(), b"", 0, 0o755), vec![])
}
fn symlink(name: &str, target: &str) -> ([u8; 512], Vec<u8>) {
    (
        raw_header(b'2', name.as_bytes(), target.as_bytes(), 0, 0o777),
        vec![],
    )
}
fn hardlink(name: &str, target: &str) -> ([u8; 512], Vec<u8>) {
    (
        raw_header(b'1', name.as_bytes(), target.as_bytes(), 0, 0o644),
        vec![],
    )
}

fn assert_escape_refused(r: &Result<(), ApplyError>) {
    match r {
        Err(e @ ApplyError::PathEscape { .. }) => assert_eq!(e.category(), Category::Invalid),
        other => panic!("expected PathEscape, got {other:?}"),
    }
}

#[test]
fn dotdot_components_are_refused() {
    let a = arena();
    for name in [
        "../outside/pwned",
        "a/../../outside/pwned",
        "./../../x",
        "/../outside/pwned",
    ] {
        let layer = raw_layer(&[file(name, b"pwned")]);
        for r in a.apply_both(&layer) {
            assert_escape_refused(&r);
        }
    }
    // A directory named `..`.
    let layer = raw_layer(&[dir("../")]);
    for r in a.apply_both(&layer) {
        assert_escape_refused(&r);
    }
}

#[test]
fn absolute_names_land_inside() {
    let a = arena();
    let abs = format!("{}/pwned", a.outside_str());
    let layer = raw_layer(&[file(&abs, b"pwned"), file("/etc/abs", b"x")]);
    for (i, r) in a.apply_both(&layer).into_iter().enumerate() {
        r.unwrap();
        let _ = i;
    }
    // The last apply (rootfs mode) left the files inside the root.
    assert_eq!(
        fs::read(a.dest.join(abs.trim_start_matches('/'))).unwrap(),
        b"pwned"
    );
    assert!(a.dest.join("etc/abs").exists());
}

#[test]
fn absolute_symlink_then_traversal() {
    let a = arena();
    let layer = raw_layer(&[
        symlink("link", &a.outside_str()),
        file("link/pwned", b"pwned"),
    ]);
    for r in a.apply_both(&layer) {
        // The link resolves inside the root, where the target does not exist.
        assert!(matches!(r, Err(ApplyError::DanglingParent { .. })), "{r:?}");
    }
}

#[test]
fn absolute_symlink_to_an_existing_inside_path_is_followed_inside() {
    // `link -> /<outside path>` where the root also has that path: the write goes to the
    // root's copy, never to the real one.
    let a = arena();
    let inside_twin = a.outside_str().trim_start_matches('/').to_string();
    let layer = raw_layer(&[
        dir(&format!("{inside_twin}/")),
        symlink("link", &a.outside_str()),
        file("link/pwned", b"pwned"),
    ]);
    for r in a.apply_both(&layer) {
        r.unwrap();
    }
    assert_eq!(
        fs::read(a.dest.join(&inside_twin).join("pwned")).unwrap(),
        b"pwned"
    );
}

#[test]
fn relative_symlink_climbing_out_then_traversal() {
    let a = arena();
    let layer = raw_layer(&[
        symlink("up", "../../../../../../../.."),
        file("up/pwned-root", b"p"),
        symlink("rel", "../outside"),
        file("rel/pwned", b"pwned"),
    ]);
    for r in a.apply_both(&layer) {
        // `up` is clamped to the root: `up/pwned-root` is `<root>/pwned-root`; `rel` points
        // to `<root>/outside`, which does not exist.
        assert!(matches!(r, Err(ApplyError::DanglingParent { .. })), "{r:?}");
        assert!(a.dest.join("pwned-root").exists());
    }
}

#[test]
fn chained_symlinks_stay_inside() {
    let a = arena();
    let layer = raw_layer(&[
        symlink("a", "b"),
        symlink("b", "c/../../.."),
        dir("c/"),
        file("a/pwned", b"pwned"),
        symlink("d", "e"),
        symlink("e", &format!("{}/..", a.outside_str())),
        file("d/x", b"x"),
    ]);
    for r in a.apply_both(&layer) {
        assert!(matches!(r, Err(ApplyError::DanglingParent { .. })), "{r:?}");
        assert_eq!(
            fs::read(a.dest.join("pwned")).unwrap(),
            b"pwned",
            "clamped to the root"
        );
    }
}

#[test]
fn symlink_loops_are_an_error() {
    let a = arena();
    let layer = raw_layer(&[symlink("x", "y"), symlink("y", "x"), file("x/f", b"f")]);
    for r in a.apply_both(&layer) {
        let e = r.unwrap_err();
        assert!(matches!(e, ApplyError::ResolveParent { .. }), "{e}");
    }
}

#[test]
fn a_file_over_a_symlink_replaces_the_link() {
    let a = arena();
    let secret = format!("{}/secret", a.outside_str());
    let layer = raw_layer(&[symlink("s", &secret), file("s", b"overwritten?")]);
    for r in a.apply_both(&layer) {
        r.unwrap();
        let md = fs::symlink_metadata(a.dest.join("s")).unwrap();
        assert!(md.is_file(), "the link was replaced, not written through");
    }
}

#[test]
fn a_symlink_replaced_by_a_directory() {
    let a = arena();
    let layer = raw_layer(&[
        symlink("d", &a.outside_str()),
        dir("d/"),
        file("d/pwned", b"pwned"),
        symlink("r", "../outside"),
        dir("r/"),
        file("r/secret", b"overwritten?"),
    ]);
    for r in a.apply_both(&layer) {
        r.unwrap();
        assert!(fs::symlink_metadata(a.dest.join("d")).unwrap().is_dir());
        assert_eq!(fs::read(a.dest.join("d/pwned")).unwrap(), b"pwned");
        assert_eq!(fs::read(a.dest.join("r/secret")).unwrap(), b"overwritten?");
    }
}

#[test]
fn a_directory_replaced_by_a_symlink_then_traversed() {
    // `d/` is cached as an open directory; then `d` becomes a link out; `d/x` must not use
    // the stale fd nor follow the link out.
    let a = arena();
    let layer = raw_layer(&[
        dir("d/"),
        file("d/first", b"1"),
        symlink("d", &a.outside_str()),
        file("d/x", b"x"),
    ]);
    for r in a.apply_both(&layer) {
        assert!(matches!(r, Err(ApplyError::DanglingParent { .. })), "{r:?}");
        assert!(
            fs::symlink_metadata(a.dest.join("d"))
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }
}

#[test]
fn hardlinks_to_outside_are_refused() {
    let a = arena();
    let secret = format!("{}/secret", a.outside_str());
    // `..` in the target.
    let layer = raw_layer(&[hardlink("h", "../outside/secret")]);
    for r in a.apply_both(&layer) {
        assert_escape_refused(&r);
    }
    // An absolute target resolves inside the root, where it does not exist.
    let layer = raw_layer(&[hardlink("h", &secret)]);
    for r in a.apply_both(&layer) {
        assert!(
            matches!(r, Err(ApplyError::LinkTargetMissing { .. })),
            "{r:?}"
        );
    }
    // Through a symlink to the outside directory.
    let layer = raw_layer(&[symlink("s", &a.outside_str()), hardlink("h", "s/secret")]);
    for r in a.apply_both(&layer) {
        assert!(
            matches!(r, Err(ApplyError::LinkTargetMissing { .. })),
            "{r:?}"
        );
    }
    // To a symlink that points out: the link itself is linked, never its target.
    let layer = raw_layer(&[symlink("s", &secret), hardlink("h", "s")]);
    for r in a.apply_both(&layer) {
        r.unwrap();
        assert!(
            fs::symlink_metadata(a.dest.join("h"))
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }
}

#[test]
fn whiteouts_of_dot_and_dotdot_are_refused() {
    let a = arena();
    for name in [".wh...", "sub/.wh...", ".wh..", ".wh."] {
        let layer = raw_layer(&[dir("sub/"), file(name, b"")]);
        for r in a.apply_both(&layer) {
            let e = r.unwrap_err();
            assert!(
                matches!(e, ApplyError::InvalidWhiteout { .. }),
                "{name}: {e}"
            );
            assert_eq!(e.category(), Category::Invalid);
        }
    }
    // `../.wh.outside`: refused as an escape before it is a whiteout.
    let layer = raw_layer(&[file("../.wh.outside", b"")]);
    for r in a.apply_both(&layer) {
        assert_escape_refused(&r);
    }
}

#[test]
fn whiteouts_through_a_symlink_delete_nothing_outside() {
    let a = arena();
    let layer = raw_layer(&[
        symlink("s", &a.outside_str()),
        file("s/.wh.secret", b""),
        file("s/.wh..wh..opq", b""),
    ]);
    // Overlay mode: creating the whiteout needs the parent, which is a dangling link inside.
    let r = a.apply(&layer, ApplyMode::OverlayLayer);
    assert!(matches!(r, Err(ApplyError::DanglingParent { .. })), "{r:?}");
    a.assert_untouched();
    // Rootfs mode: nothing to delete inside the root.
    a.apply(&layer, ApplyMode::Rootfs).unwrap();
    a.assert_untouched();
    // A relative link that climbs out: clamped to the root; the opaque marker empties the
    // root's own entries only.
    let layer = raw_layer(&[
        file("keep", b"k"),
        symlink("up", "../.."),
        file("up/.wh..wh..opq", b""),
    ]);
    a.apply(&layer, ApplyMode::Rootfs).unwrap();
    a.assert_untouched();
    assert!(
        a.dest.join("keep").exists(),
        "this layer's own entries survive its opaque marker"
    );
}

#[test]
fn device_and_fifo_members_stay_inside() {
    if !common::require_root("device_and_fifo_members_stay_inside") {
        return;
    }
    let a = arena();
    let layer = raw_layer(&[
        symlink("s", &a.outside_str()),
        (raw_header(b'3', b"s/null", b"", 0, 0o666), vec![]),
        (raw_header(b'6', b"fifo", b"", 0, 0o600), vec![]),
    ]);
    for r in a.apply_both(&layer) {
        assert!(matches!(r, Err(ApplyError::DanglingParent { .. })), "{r:?}");
    }
}

#[test]
fn a_long_hostile_layer_touches_nothing_outside() {
    // Many attempts in one archive, applied in rootfs mode over an existing tree: whatever
    // the outcome of each member, nothing outside changes.
    let a = arena();
    let o = a.outside_str();
    let members = vec![
        dir("etc/"),
        symlink("etc/passwd", &format!("{o}/secret")),
        symlink("lnk", "/"),
        file("lnk/etc/shadow", b"x"),
        symlink("lnk2", &o),
        symlink("lnk2", "etc"),
        file("lnk2/hosts", b"h"),
        file("etc/passwd", b"root::0:0"),
        hardlink("etc/group", "etc/passwd"),
    ];
    let layer = raw_layer(&members);
    for r in a.apply_both(&layer) {
        r.unwrap();
        assert_eq!(fs::read(a.dest.join("etc/passwd")).unwrap(), b"root::0:0");
        assert!(a.dest.join("etc/shadow").exists());
        assert!(a.dest.join("etc/hosts").exists());
    }
    let _ = Path::new("");
}
