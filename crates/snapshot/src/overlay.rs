//! The overlay snapshotter: every committed snapshot is one layer directory, unpacked once and
//! shared by every image and container above it; an active snapshot is an overlayfs of its
//! parents' directories (lowers) and its own (upper).
//!
//! Layout (plus the store files: `lock`, `metadata.json`):
//!
//! ```text
//! <data-root>/snapshots/overlay/
//!   snapshots/<id>/fs     the layer (committed) or the upper directory (active)
//!   snapshots/<id>/work   the overlay workdir (active)
//! ```
//!
//! Mounts, as containerd's:
//! - no parent: a bind mount of `fs` (`rw`; `ro` for a view) — overlay needs a lower;
//! - a view of one parent: a read-only bind mount of the parent's `fs`;
//! - otherwise `overlay` with `lowerdir=` the parents' `fs` (closest first), and for an active
//!   snapshot `upperdir=`/`workdir=`; a view of several parents is a lower-only (read-only)
//!   overlay.
//!
//! Options added when the kernel knows them (`/sys/module/overlay/parameters/…`): `index=off`
//! (layers are shared by many overlays; the inode index would tie a lower to one upper),
//! `redirect_dir=off` and `metacopy=off` (so that an upper directory holds every change in full,
//! which [`write_diff`](crate::write_diff) relies on), and `userxattr` inside a user namespace.
//! On the page limit of `mount(2)` with many layers, see [`mount`](crate::mount).

use std::fs;
use std::os::fd::AsFd;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, FileType, Mode};

use crate::lifecycle::{Backend, Lifecycle, forward_snapshotter};
use crate::metadata::{Record, Store};
use crate::remove_tree::remove_all;
use crate::snapshotter::{Kind, SnapshotError};
use crate::{Mount, MountError};

/// Snapshots as overlayfs layers.
#[derive(Debug)]
pub struct OverlaySnapshotter {
    inner: Lifecycle<OverlayBackend>,
}

#[derive(Debug)]
struct OverlayBackend {
    options: Vec<String>,
}

forward_snapshotter!(OverlaySnapshotter);

/// The overlay options this kernel and process want by default (see the module doc).
pub fn default_overlay_options() -> Vec<String> {
    let mut options = Vec::new();
    let params = Path::new("/sys/module/overlay/parameters");
    for (param, opt) in [
        ("index", "index=off"),
        ("redirect_dir", "redirect_dir=off"),
        ("metacopy", "metacopy=off"),
    ] {
        if params.join(param).exists() {
            options.push(opt.to_string());
        }
    }
    if in_user_namespace() {
        options.push("userxattr".to_string());
    }
    options
}

/// Is this process in a user namespace other than the initial one?
fn in_user_namespace() -> bool {
    match fs::read_to_string("/proc/self/uid_map") {
        Ok(map) => map.split_whitespace().collect::<Vec<_>>() != ["0", "0", "4294967295"],
        Err(_) => false,
    }
}

/// Check that `root` can appear in overlay options, and make it absolute.
fn overlay_root(root: &Path) -> Result<PathBuf, SnapshotError> {
    let abs = std::path::absolute(root).map_err(|e| SnapshotError::InvalidRoot {
        root: root.to_path_buf(),
        reason: e.to_string(),
    })?;
    let s = abs.to_str().ok_or_else(|| SnapshotError::InvalidRoot {
        root: root.to_path_buf(),
        reason: "not UTF-8".into(),
    })?;
    if let Some(c) = s.chars().find(|c| matches!(c, ':' | ',' | '\\' | '\0')) {
        return Err(SnapshotError::InvalidRoot {
            root: root.to_path_buf(),
            reason: format!("overlay options cannot hold a path with {c:?}"),
        });
    }
    Ok(abs)
}

impl OverlaySnapshotter {
    /// Open (or create) the store at `root` (conventionally
    /// `<data-root>/snapshots/overlay`), with [`default_overlay_options`].
    pub fn open(root: &Path) -> Result<OverlaySnapshotter, SnapshotError> {
        Self::open_with_options(root, default_overlay_options())
    }

    /// Open with these overlay mount options instead of the defaults.
    pub fn open_with_options(
        root: &Path,
        options: Vec<String>,
    ) -> Result<OverlaySnapshotter, SnapshotError> {
        let root = overlay_root(root)?;
        Ok(OverlaySnapshotter {
            inner: Lifecycle::open(&root, OverlayBackend { options })?,
        })
    }

    /// The store's root directory.
    pub fn root(&self) -> PathBuf {
        self.inner.root()
    }
}

fn create_err(path: &Path) -> impl Fn(std::io::Error) -> SnapshotError + '_ {
    move |source| SnapshotError::CreateDir {
        path: path.to_path_buf(),
        source,
    }
}

impl Backend for OverlayBackend {
    fn build(&self, tmp: &Path, kind: Kind, parents: &[&Path]) -> Result<(), SnapshotError> {
        let fs_dir = tmp.join("fs");
        fs::DirBuilder::new()
            .mode(0o755)
            .create(&fs_dir)
            .map_err(create_err(&fs_dir))?;
        if kind == Kind::Active {
            let work = tmp.join("work");
            fs::DirBuilder::new()
                .mode(0o700)
                .create(&work)
                .map_err(create_err(&work))?;
            // The upper directory's root is the merged root: give it the image root's owner
            // and mode (overlay takes a directory's attributes from the uppermost layer).
            if let Some(parent) = parents.first() {
                let md = fs::metadata(parent).map_err(create_err(parent))?;
                std::os::unix::fs::chown(&fs_dir, Some(md.uid()), Some(md.gid()))
                    .map_err(create_err(&fs_dir))?;
                fs::set_permissions(
                    &fs_dir,
                    std::os::unix::fs::PermissionsExt::from_mode(md.mode() & 0o7777),
                )
                .map_err(create_err(&fs_dir))?;
            }
        }
        Ok(())
    }

    fn mounts(&self, store: &Store, rec: &Record, parents: &[u64]) -> Vec<Mount> {
        let fs_dir = store.fs_dir(rec.id).display().to_string();
        let ro = if rec.kind == Kind::View { "ro" } else { "rw" };
        let bind = |source: String, ro: &str| Mount {
            kind: "bind".into(),
            source,
            target: None,
            options: vec![ro.to_string(), "rbind".into()],
        };
        if parents.is_empty() {
            return vec![bind(fs_dir, ro)];
        }
        let lowers: Vec<String> = parents
            .iter()
            .map(|&id| store.fs_dir(id).display().to_string())
            .collect();
        if rec.kind == Kind::View && lowers.len() == 1 {
            return vec![bind(lowers[0].clone(), "ro")];
        }
        let mut options = self.options.clone();
        if rec.kind == Kind::Active {
            options.push(format!(
                "workdir={}",
                store.dir(rec.id).join("work").display()
            ));
            options.push(format!("upperdir={fs_dir}"));
        } else {
            options.push("ro".into());
        }
        options.push(format!("lowerdir={}", lowers.join(":")));
        vec![Mount {
            kind: "overlay".into(),
            source: "overlay".into(),
            target: None,
            options,
        }]
    }
}

/// Why overlayfs is not usable under a root.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OverlayProbeError {
    /// Creating the probe's directories failed.
    #[error("overlay probe: set up {}", path.display())]
    Setup {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The kernel refused the overlay mount.
    #[error("overlay probe: mount")]
    Mount(#[source] MountError),
    /// Deleting a lower file through the overlay did not leave a whiteout device in the upper.
    #[error("overlay probe: deleting a lower file did not create a whiteout in the upper")]
    Whiteout(#[source] std::io::Error),
    /// Re-creating a lower directory did not make it opaque.
    #[error("overlay probe: a re-created directory is not marked opaque")]
    Opaque(#[source] std::io::Error),
    /// Removing the probe's directories failed.
    #[error("overlay probe: clean up {}", path.display())]
    Cleanup {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Can overlayfs be used for snapshots under `root` (created if missing)? See
/// [`probe_overlay`] for the reason when not.
pub fn overlay_supported(root: &Path) -> bool {
    probe_overlay(root).is_ok()
}

/// Mount a tiny overlay in a temporary directory under `root` with the default options, as a
/// *detached* mount (never attached anywhere, invisible to every process, gone when closed),
/// delete a lower file and re-create a lower directory through it, and check that the upper
/// directory got a whiteout device and an opaque directory: the filesystem under `root` can be
/// an overlay upper, and the kernel accepts the options. Needs `CAP_SYS_ADMIN`.
pub fn probe_overlay(root: &Path) -> Result<(), OverlayProbeError> {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    fs::create_dir_all(root).map_err(setup(root))?;
    let dir = root.join(format!(
        ".berth-overlay-probe-{}-{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    fs::create_dir(&dir).map_err(setup(&dir))?;
    let result = probe_in(&dir);
    let cleanup = remove_all(&dir).map_err(|source| OverlayProbeError::Cleanup {
        path: dir.clone(),
        source,
    });
    result.and(cleanup.map(|_| ()))
}

fn setup(path: &Path) -> impl FnOnce(std::io::Error) -> OverlayProbeError + use<> {
    let path = path.to_path_buf();
    move |source| OverlayProbeError::Setup { path, source }
}

fn probe_in(dir: &Path) -> Result<(), OverlayProbeError> {
    let (l1, l2, upper, work) = (dir.join("l1"), dir.join("l2"), dir.join("u"), dir.join("w"));
    for d in [&l1, &l2, &upper, &work, &l1.join("d")] {
        fs::create_dir(d).map_err(setup(d))?;
    }
    fs::write(l1.join("f"), b"f").map_err(setup(&l1))?;
    fs::write(l1.join("d/x"), b"x").map_err(setup(&l1))?;
    let mut options = default_overlay_options();
    options.push(format!("upperdir={}", upper.display()));
    options.push(format!("workdir={}", work.display()));
    options.push(format!("lowerdir={}:{}", l1.display(), l2.display()));
    let m = Mount {
        kind: "overlay".into(),
        source: "overlay".into(),
        target: None,
        options,
    };
    let mnt = m
        .overlay_detached()
        .map_err(OverlayProbeError::Mount)?
        .ok_or_else(|| {
            OverlayProbeError::Mount(MountError::Invalid {
                reason: "the kernel needs mount(2) for this overlay".into(),
            })
        })?;
    let fd = mnt.as_fd();
    rustix::fs::unlinkat(fd, "f", AtFlags::empty())
        .map_err(|e| OverlayProbeError::Whiteout(e.into()))?;
    rustix::fs::unlinkat(fd, "d/x", AtFlags::empty())
        .map_err(|e| OverlayProbeError::Opaque(e.into()))?;
    rustix::fs::unlinkat(fd, "d", AtFlags::REMOVEDIR)
        .map_err(|e| OverlayProbeError::Opaque(e.into()))?;
    rustix::fs::mkdirat(fd, "d", Mode::from_raw_mode(0o755))
        .map_err(|e| OverlayProbeError::Opaque(e.into()))?;
    drop(mnt);
    let st = rustix::fs::statat(rustix::fs::CWD, upper.join("f"), AtFlags::SYMLINK_NOFOLLOW)
        .map_err(|e| OverlayProbeError::Whiteout(e.into()))?;
    if FileType::from_raw_mode(st.st_mode) != FileType::CharacterDevice || st.st_rdev != 0 {
        return Err(OverlayProbeError::Whiteout(std::io::Error::other(
            "not a 0:0 character device",
        )));
    }
    let opaque_attr: &[u8] = if in_user_namespace() {
        b"user.overlay.opaque"
    } else {
        b"trusted.overlay.opaque"
    };
    match crate::xattr::get_path(&upper.join("d"), opaque_attr) {
        Ok(Some(v)) if v == b"y" => Ok(()),
        Ok(_) => Err(OverlayProbeError::Opaque(std::io::Error::other(
            "no opaque attribute",
        ))),
        Err(e) => Err(OverlayProbeError::Opaque(e)),
    }
}
