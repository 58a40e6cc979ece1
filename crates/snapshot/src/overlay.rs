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
//!
//! # Layers as EROFS images
//!
//! Opened with [`OverlaySnapshotter::open_with_layer_images`] on a kernel that mounts EROFS
//! image files, the snapshotter also takes a layer as one image file: the engine writes it to
//! [`Snapshotter::layer_image`](crate::Snapshotter::layer_image) (`snapshots/<id>/layer.erofs`)
//! instead of unpacking into `fs`, and once committed the image is mounted read-only on `fs`
//! whenever the snapshot is a parent or a lower ([`crate::erofs`]). Those mounts stay while
//! the store is open and are detached by [`Snapshotter::close`](crate::Snapshotter::close), on
//! drop and when the snapshot is removed; after a crash the next open adopts them. A store
//! can hold both kinds of layers.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::os::fd::AsFd;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rustix::fs::{AtFlags, FileType, Mode};

use crate::lifecycle::{Backend, Lifecycle, forward_snapshotter, image_file};
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
    /// `<root>/snapshots`.
    snapshots: PathBuf,
    /// Layers may be taken as EROFS images.
    images: bool,
    /// Committed snapshots already made ready (see [`Backend::ready`]), and their form, so
    /// that a container's create and start look at each layer once per daemon, not per call.
    layers: Mutex<HashMap<u64, Form>>,
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
        Self::open_backend(root, options, false)
    }

    /// Open with the default options, taking layers as EROFS images (see the module doc) when
    /// `images` is true: the caller has checked with [`crate::erofs::probe`] that this kernel
    /// mounts them.
    pub fn open_with_layer_images(
        root: &Path,
        images: bool,
    ) -> Result<OverlaySnapshotter, SnapshotError> {
        Self::open_backend(root, default_overlay_options(), images)
    }

    fn open_backend(
        root: &Path,
        options: Vec<String>,
        images: bool,
    ) -> Result<OverlaySnapshotter, SnapshotError> {
        let root = overlay_root(root)?;
        let snapshots = root.join("snapshots");
        let layers = Mutex::new(
            mounted_images(&snapshots)
                .into_iter()
                .map(|id| (id, Form::Image))
                .collect(),
        );
        Ok(OverlaySnapshotter {
            inner: Lifecycle::open(
                &root,
                OverlayBackend {
                    options,
                    snapshots,
                    images,
                    layers,
                },
            )?,
        })
    }

    /// Does this snapshotter take layers as EROFS images?
    pub fn takes_layer_images(&self) -> bool {
        self.inner.backend().images
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

/// The snapshot ids whose image is mounted on their `fs` already (left by a daemon that was
/// killed): `fs` is on another device than its snapshot's directory.
fn mounted_images(snapshots: &Path) -> HashSet<u64> {
    let Ok(entries) = fs::read_dir(snapshots) else {
        return HashSet::new();
    };
    entries
        .flatten()
        .filter_map(|e| {
            let id = e.file_name().to_str()?.parse().ok()?;
            let dir = e.path();
            let fs_dev = fs::symlink_metadata(dir.join("fs")).ok()?.dev();
            let mounted = fs_dev != e.metadata().ok()?.dev() && image_file(&dir).exists();
            mounted.then_some(id)
        })
        .collect()
}

/// How a committed snapshot holds its layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Form {
    /// Files in its `fs` directory.
    Directory,
    /// `layer.erofs`, mounted on its `fs` directory.
    Image,
}

impl OverlayBackend {
    fn layers(&self) -> MutexGuard<'_, HashMap<u64, Form>> {
        self.layers.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn fs_dir(&self, id: u64) -> PathBuf {
        self.snapshots.join(id.to_string()).join("fs")
    }

    fn detach_all(&self) {
        let mut layers = self.layers();
        for (id, form) in layers.drain() {
            if form == Form::Image {
                // Best effort: a mount left here is adopted by the next open.
                let _ = crate::erofs::unmount(&self.fs_dir(id));
            }
        }
    }
}

impl Drop for OverlayBackend {
    fn drop(&mut self) {
        self.detach_all();
    }
}

impl Backend for OverlayBackend {
    fn ready(&self, store: &Store, ids: &[u64]) -> Result<(), SnapshotError> {
        let mut layers = self.layers();
        for &id in ids {
            if layers.contains_key(&id) {
                continue;
            }
            let image = image_file(&store.dir(id));
            if !image.exists() {
                layers.insert(id, Form::Directory);
                continue;
            }
            crate::erofs::mount(&image, &store.fs_dir(id)).map_err(|source| {
                SnapshotError::MountImage {
                    path: image,
                    source,
                }
            })?;
            layers.insert(id, Form::Image);
        }
        Ok(())
    }

    fn release(&self, store: &Store, id: u64) -> Result<(), SnapshotError> {
        if self.layers().remove(&id) == Some(Form::Image) {
            let fs_dir = store.fs_dir(id);
            crate::erofs::unmount(&fs_dir).map_err(|source| SnapshotError::MountImage {
                path: fs_dir,
                source,
            })?;
        }
        Ok(())
    }

    fn usage_path(&self, store: &Store, id: u64) -> PathBuf {
        let image = image_file(&store.dir(id));
        if image.exists() {
            image
        } else {
            store.fs_dir(id)
        }
    }

    fn close(&self, _store: &Store) {
        self.detach_all();
    }

    fn takes_images(&self) -> bool {
        self.images
    }

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
