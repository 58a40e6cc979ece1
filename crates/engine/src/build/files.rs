//! `COPY`, `ADD` and `WORKDIR`: steps that write files without running
//! anything. The current image gets an active snapshot, mounted under the
//! build's mount directory; files are written into it through the layer
//! applier (tars made by `write_tree`, extracted with `RESOLVE_IN_ROOT`
//! destinations, so nothing lands outside the image's root, whatever links
//! the image holds); the snapshot's diff is the step's layer.
//!
//! Sources come from the build context or, with `--from`, from a
//! read-only view of an earlier stage's (or any) image, mounted on the
//! side; symbolic links in them resolve inside that root. Without
//! `--chown` everything copied belongs to root (0:0), as in dockerd. The
//! cache key holds a hash of the sources' names, types, modes and
//! contents (`file:…`, `dir:…`, `multi:…`).

use std::io::Read;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use berth_build::dockerignore::{self, Pattern};
use berth_image::digest::{Algorithm, Digester};
use berth_models::container_config::ContainerConfig;
use rustix::fs::{AtFlags, Mode, OFlags};

use super::BuildError;
use super::context::open_in;
use super::dispatch::{Build, State};
use crate::containers::ContainerError;
use crate::containers::fs_view::fd_path;
use crate::images::gc::{ALL_BLOBS, EXTRACT_PREFIX};

/// One source of a `COPY`/`ADD`.
#[derive(Debug)]
struct Source {
    /// Where it is on the host (links resolved inside its root).
    host: PathBuf,
    /// Its last path element as written (the name a file gets in a
    /// destination directory).
    name: String,
    is_dir: bool,
}

/// A read-only image root mounted for `COPY --from`; unmounted on drop.
struct MountedView<'e> {
    engine: &'e crate::Engine,
    key: String,
    path: PathBuf,
    mounted: bool,
}

impl Drop for MountedView<'_> {
    fn drop(&mut self) {
        if self.mounted
            && let Err(e) = berth_snapshot::unmount(&self.path)
        {
            tracing::warn!("build: unmounting {}: {e}", self.path.display());
            return;
        }
        let _ = std::fs::remove_dir(&self.path);
        if let Err(e) = self.engine.snapshotter.remove(&self.key) {
            tracing::warn!("build: removing the view {}: {e}", self.key);
        }
    }
}

/// A snapshot key of the build's own (the prefix startup cleans after a
/// crash).
fn unique_key(what: &str, seq: usize) -> String {
    format!(
        "{EXTRACT_PREFIX}build-{what}-{}-{seq}",
        super::context::unique()
    )
}

fn has_wildcard(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

fn step_err(kind: &str, what: impl std::fmt::Display) -> BuildError {
    BuildError::Step(format!("{kind} failed: {what}"))
}

/// The host path of `rel` under `root`, links resolved inside it.
fn resolve_in(root: &Path, rel: &str) -> Option<PathBuf> {
    let fd = open_in(root, rel, OFlags::PATH).ok()?;
    std::fs::read_link(fd_path(fd.as_fd())).ok()
}

/// Every path under `root` (relative, `/`-separated) that `pattern`
/// matches; a matching directory is not descended into.
fn glob(root: &Path, pattern: &Pattern) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![String::new()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(root.join(&dir)) else {
            continue;
        };
        let mut names: Vec<String> = entries
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for name in names {
            let rel = if dir.is_empty() {
                name
            } else {
                format!("{dir}/{name}")
            };
            if pattern.matches(&rel) {
                out.push(rel);
            } else if std::fs::symlink_metadata(root.join(&rel)).is_ok_and(|m| m.is_dir()) {
                stack.push(rel);
            }
        }
    }
    out.sort();
    out
}

/// The sources `src` names under `root`.
fn resolve_sources(root: &Path, src: &str, kind: &str) -> Result<Vec<Source>, BuildError> {
    let cleaned = dockerignore::clean(src);
    let cleaned = cleaned.trim_start_matches('/');
    let cleaned = if cleaned.is_empty() { "." } else { cleaned };
    if cleaned == ".." || cleaned.starts_with("../") {
        return Err(step_err(
            kind,
            format!("forbidden path outside the build context: {src} ()"),
        ));
    }
    let rels = if has_wildcard(cleaned) {
        let pattern = Pattern::new(cleaned, false).map_err(|e| step_err(kind, e.to_string()))?;
        glob(root, &pattern)
    } else {
        vec![cleaned.to_string()]
    };
    let mut out = Vec::new();
    for rel in rels {
        let Some(host) = resolve_in(root, &rel) else {
            return Err(step_err(
                kind,
                format!(
                    "file not found in build context or excluded by .dockerignore: stat {src}: file does not exist"
                ),
            ));
        };
        let is_dir = std::fs::metadata(&host).is_ok_and(|m| m.is_dir());
        let name = Path::new(&rel)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        out.push(Source { host, name, is_dir });
    }
    Ok(out)
}

/// Hashes a tree: names, kinds, permission bits, link targets, contents.
fn hash_into(d: &mut Digester, path: &Path, rel: &str) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::symlink_metadata(path)?;
    d.update(rel.as_bytes());
    d.update(&[0]);
    d.update(&meta.permissions().mode().to_be_bytes());
    if meta.file_type().is_symlink() {
        d.update(b"L");
        d.update(std::fs::read_link(path)?.as_os_str().as_encoded_bytes());
    } else if meta.is_dir() {
        d.update(b"D");
        let mut names: Vec<_> = std::fs::read_dir(path)?
            .flatten()
            .map(|e| e.file_name())
            .collect();
        names.sort();
        for n in names {
            let child_rel = format!("{rel}/{}", n.to_string_lossy());
            hash_into(d, &path.join(&n), &child_rel)?;
        }
    } else if meta.is_file() {
        d.update(b"F");
        d.update(&meta.len().to_be_bytes());
        let mut f = std::fs::File::open(path)?;
        let mut buf = vec![0u8; 64 << 10];
        loop {
            let n = f.read(&mut buf)?;
            if n == 0 {
                break;
            }
            d.update(&buf[..n]);
        }
    } else {
        d.update(b"O");
    }
    Ok(())
}

fn content_hash(sources: &[Source]) -> Result<String, BuildError> {
    let one = |s: &Source| -> Result<String, BuildError> {
        let mut d = Digester::new(Algorithm::Sha256);
        hash_into(&mut d, &s.host, "")
            .map_err(|e| BuildError::io(format!("reading {}", s.host.display()), e))?;
        Ok(d.finalize().hex().to_string())
    };
    match sources {
        [s] => Ok(format!(
            "{}:{}",
            if s.is_dir { "dir" } else { "file" },
            one(s)?
        )),
        many => {
            let mut d = Digester::new(Algorithm::Sha256);
            for s in many {
                d.update(one(s)?.as_bytes());
            }
            Ok(format!("multi:{}", d.finalize().hex()))
        }
    }
}

/// `mkdir -p` of `path` inside `root` (links resolved inside it); new
/// directories are 0755 and get `owner`.
fn ensure_dir(root: &Path, path: &str, owner: Option<(u32, u32)>) -> Result<(), BuildError> {
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    let fail = |e: rustix::io::Errno| BuildError::Step(format!("mkdir {path}: {e}"));
    for i in 0..parts.len() {
        let prefix = parts[..=i].join("/");
        match open_in(root, &prefix, OFlags::PATH | OFlags::DIRECTORY) {
            Ok(_) => continue,
            Err(rustix::io::Errno::NOENT) => {}
            Err(e) => return Err(fail(e)),
        }
        let parent = open_in(
            root,
            &parts[..i].join("/"),
            OFlags::PATH | OFlags::DIRECTORY,
        )
        .map_err(fail)?;
        rustix::fs::mkdirat(&parent, parts[i], Mode::from_raw_mode(0o755)).map_err(fail)?;
        if let Some((uid, gid)) = owner {
            rustix::fs::chownat(
                &parent,
                parts[i],
                Some(rustix::fs::Uid::from_raw(uid)),
                Some(rustix::fs::Gid::from_raw(gid)),
                AtFlags::SYMLINK_NOFOLLOW,
            )
            .map_err(fail)?;
        }
    }
    Ok(())
}

/// The id of `name` in the colon-separated `file` (`etc/passwd` or
/// `etc/group` of the image, links resolved inside it): a number as is,
/// else the third field of the line whose first field is `name`.
fn lookup_id(root: &Path, file: &str, name: &str) -> Option<u32> {
    if let Ok(n) = name.parse::<u32>() {
        return Some(n);
    }
    let fd = open_in(root, file, OFlags::RDONLY).ok()?;
    let mut text = String::new();
    std::fs::File::from(fd).read_to_string(&mut text).ok()?;
    text.lines().find_map(|l| {
        let mut fields = l.split(':');
        (fields.next() == Some(name))
            .then(|| fields.nth(1).and_then(|id| id.trim().parse().ok()))
            .flatten()
    })
}

/// dockerd's `parseChownFlag`: `user[:group]`, names looked up in the
/// image's files; a user alone names the group too.
fn chown_ids(root: &Path, spec: &str) -> Result<(u32, u32), String> {
    let parts: Vec<&str> = spec.split(':').collect();
    let (user, group) = match parts.as_slice() {
        [u] => (*u, *u),
        [u, g] => (*u, *g),
        _ => return Err(format!("invalid chown string format: {spec}")),
    };
    let uid = lookup_id(root, "etc/passwd", user)
        .ok_or_else(|| format!("can't find uid for user {user}: no such user: {user}"))?;
    let gid = lookup_id(root, "etc/group", group)
        .ok_or_else(|| format!("can't find gid for group {group}: no such group: {group}"))?;
    Ok((uid, gid))
}

/// Whether `path` is a tar (compressed or not) that `ADD` unpacks.
fn is_archive(path: &Path) -> bool {
    let Ok(f) = std::fs::File::open(path) else {
        return false;
    };
    let Ok(mut reader) = berth_snapshot::decompress(f) else {
        return false;
    };
    let mut head = Vec::with_capacity(512);
    if (&mut reader).take(512).read_to_end(&mut head).is_err() {
        return false;
    }
    head.len() == 512 && &head[257..262] == b"ustar"
}

impl<'a> Build<'a> {
    /// Mounts the root of what `COPY --from=name` names: an earlier stage
    /// (by name or index) or an image.
    fn mount_from(&mut self, name: &str) -> Result<MountedView<'a>, BuildError> {
        let lower = name.to_ascii_lowercase();
        let image = if let Ok(i) = name.parse::<usize>() {
            match self.stages.get(i) {
                Some(s) => s.image.clone(),
                None => {
                    return Err(BuildError::Invalid(format!(
                        "invalid from flag value {name}: refers to current build stage"
                    )));
                }
            }
        } else if let Some(s) = self
            .stages
            .iter()
            .rev()
            .find(|s| s.name.as_deref() == Some(lower.as_str()))
        {
            s.image.clone()
        } else {
            Some(self.base_image(name, false)?.id)
        };
        let top = match &image {
            Some(id) => self.engine.find_image(id.as_str())?.top_layer,
            None => None,
        };
        self.seq += 1;
        let key = unique_key("from", self.seq);
        let mounts = self
            .engine
            .snapshotter
            .view(&key, top.as_deref())
            .map_err(ContainerError::from)?;
        let path = self.ctx.mounts.join(format!("from-{}", self.seq));
        let mut view = MountedView {
            engine: self.engine,
            key,
            path,
            mounted: false,
        };
        std::fs::create_dir_all(&view.path)
            .map_err(|e| BuildError::io(format!("create {}", view.path.display()), e))?;
        berth_snapshot::mount_all(&mounts, &view.path).map_err(ContainerError::from)?;
        view.mounted = true;
        Ok(view)
    }

    pub(crate) fn dispatch_copy(
        &mut self,
        state: &mut State,
        kind: &str,
        sources: &[String],
        dest: &str,
        from: Option<&str>,
        chown: Option<&str>,
    ) -> Result<(), BuildError> {
        let chown = chown.map(|c| self.word(state, c)).transpose()?;
        let view = match from {
            Some(f) => {
                let f = self.word(state, f)?;
                Some(self.mount_from(&f)?)
            }
            None => None,
        };
        let root = view
            .as_ref()
            .map_or_else(|| self.ctx.dir.clone(), |v| v.path.clone());
        let mut srcs = Vec::new();
        for s in sources {
            let s = self.word(state, s)?;
            if kind == "ADD" && (s.starts_with("http://") || s.starts_with("https://")) {
                return Err(step_err(
                    kind,
                    format!(
                        "cannot download {s}: Berth's builder does not fetch remote sources; download it into the build context and ADD it from there"
                    ),
                ));
            }
            srcs.extend(resolve_sources(&root, &s, kind)?);
        }
        if srcs.is_empty() {
            return Err(step_err(kind, "no source files were specified"));
        }
        let dest = self.word(state, dest)?;
        let mut abs = if dest.starts_with('/') {
            dest.clone()
        } else {
            let wd = if state.run.working_dir.is_empty() {
                "/"
            } else {
                state.run.working_dir.as_str()
            };
            let mut joined = dockerignore::clean(&format!("/{wd}/{dest}"));
            if dest.ends_with('/') || dest == "." || dest.ends_with("/.") {
                joined.push('/');
            }
            joined
        };
        if !abs.ends_with('/') && (abs.ends_with("/.") || abs == "/") {
            abs.push('/');
        }
        let dest_is_dir = abs.ends_with('/');
        if (sources.len() > 1 || srcs.len() > 1) && !dest_is_dir {
            return Err(BuildError::Step(format!(
                "When using {kind} with more than one source file, the destination must be a directory and end with a /"
            )));
        }
        let hash = content_hash(&srcs)?;
        // dockerd's comment: the destination as written, and the flag glued
        // to the hash.
        let chown_comment = chown
            .as_ref()
            .map(|c| format!("--chown={c}"))
            .unwrap_or_default();
        let probe = state.nop_string(&format!("{kind} {chown_comment}{hash} in {dest} "));
        if self.probe_cache(state, &probe)? {
            return Ok(());
        }
        let scratch = self.ctx.scratch(&format!("copy-{}.tar", self.seq));
        let add = kind == "ADD";
        let result = self.commit_files(state, &probe, None, |root| {
            let owner = match &chown {
                Some(spec) => Some(chown_ids(root, spec).map_err(|e| {
                    BuildError::Step(format!(
                        "unable to convert uid/gid chown string to host mapping: {e}"
                    ))
                })?),
                None => None,
            };
            for src in &srcs {
                copy_one(root, src, &abs, dest_is_dir, owner, add, &scratch)?;
            }
            Ok(())
        });
        let _ = std::fs::remove_file(&scratch);
        drop(view);
        result
    }

    pub(crate) fn dispatch_workdir(&mut self, state: &mut State) -> Result<(), BuildError> {
        let dir = state.run.working_dir.clone();
        let probe = state.nop_string(&format!("WORKDIR {dir}"));
        if self.probe_cache(state, &probe)? {
            return Ok(());
        }
        // As dockerd: an intermediate container (never started) in whose
        // layer the directory is made.
        let Some(id) = self.intermediate(state, probe.clone())? else {
            return self.commit_files(state, &probe, None, |root| ensure_dir(root, &dir, None));
        };
        let snapshot = self.engine.container(&id)?.snapshot;
        self.commit_files(state, &probe, Some((&id, &snapshot)), |root| {
            ensure_dir(root, &dir, None)
        })?;
        self.step_done(&id);
        Ok(())
    }

    /// Runs `write` on the current image's root mounted read-write (a
    /// snapshot of its own, or the writable layer of `container`: its id
    /// and snapshot), and commits what it changed as the step's layer.
    fn commit_files(
        &mut self,
        state: &mut State,
        probe: &ContainerConfig,
        container: Option<(&str, &str)>,
        write: impl FnOnce(&Path) -> Result<(), BuildError>,
    ) -> Result<(), BuildError> {
        let engine = self.engine;
        let mut lease = engine.leases.lease([ALL_BLOBS.to_string()]);
        self.seq += 1;
        let own = container.is_none();
        let key = match container {
            Some((_, snapshot)) => snapshot.to_string(),
            None => unique_key("layer", self.seq),
        };
        let parent = state.top_layer().map(str::to_string);
        let mounts = if own {
            engine.snapshotter.prepare(&key, parent.as_deref())
        } else {
            engine.snapshotter.mounts(&key)
        }
        .map_err(ContainerError::from)?;
        let point = self.ctx.mounts.join(format!("layer-{}", self.seq));
        let written = (|| {
            std::fs::create_dir_all(&point)
                .map_err(|e| BuildError::io(format!("create {}", point.display()), e))?;
            berth_snapshot::mount_all(&mounts, &point).map_err(ContainerError::from)?;
            let r = write(&point);
            if let Err(e) = berth_snapshot::unmount(&point) {
                tracing::warn!("build: unmounting {}: {e}", point.display());
                // Detach it: the snapshot must not be removed under a mount.
                let _ = rustix::mount::unmount(&point, rustix::mount::UnmountFlags::DETACH);
            }
            r
        })();
        let _ = std::fs::remove_dir(&point);
        let diff = written.and_then(|()| {
            engine
                .write_snapshot_diff(&key, &key, parent.as_deref())
                .map_err(BuildError::from)
        });
        if own && let Err(e) = engine.snapshotter.remove(&key) {
            tracing::warn!("build: removing the snapshot {key}: {e}");
        }
        let (desc, diff_id) = diff?;
        let layer = (diff_id.as_str() != super::commit::EMPTY_LAYER).then_some((desc, diff_id));
        let id =
            self.commit_step_leased(state, probe, layer, container.map(|(id, _)| id), &mut lease)?;
        drop(lease);
        self.advance(state, &id)
    }
}

/// Copies one source into the mounted root.
fn copy_one(
    root: &Path,
    src: &Source,
    dest: &str,
    dest_is_dir: bool,
    owner: Option<(u32, u32)>,
    add: bool,
    scratch: &Path,
) -> Result<(), BuildError> {
    let owner_or_root = Some(owner.unwrap_or((0, 0)));
    let kind = if add { "ADD" } else { "COPY" };
    if add && !src.is_dir && is_archive(&src.host) {
        ensure_dir(root, dest, owner)?;
        let target = open_in(root, dest, OFlags::PATH | OFlags::DIRECTORY)
            .map_err(|e| step_err(kind, format!("{dest}: {e}")))?;
        let f = std::fs::File::open(&src.host)
            .map_err(|e| BuildError::io(format!("open {}", src.host.display()), e))?;
        let tar = berth_snapshot::decompress(f)
            .map_err(|e| step_err(kind, format!("reading {}: {e}", src.name)))?;
        let options = berth_snapshot::ApplyOptions {
            mode: berth_snapshot::ApplyMode::Rootfs,
            owner,
            ..Default::default()
        };
        berth_snapshot::apply_layer(&fd_path(target.as_fd()), tar, &options)
            .map_err(|e| step_err(kind, e))?;
        return Ok(());
    }
    if src.is_dir {
        // As dockerd's `CopyWithTar`: missing directories are made for
        // root, then the destination itself takes the owner.
        let dir = dest.trim_end_matches('/');
        ensure_dir(root, dir, None)?;
        let target = open_in(root, dir, OFlags::PATH | OFlags::DIRECTORY)
            .map_err(|e| step_err(kind, format!("{dir}: {e}")))?;
        if let Some((uid, gid)) = owner {
            rustix::fs::chownat(
                &target,
                "",
                Some(rustix::fs::Uid::from_raw(uid)),
                Some(rustix::fs::Gid::from_raw(gid)),
                AtFlags::EMPTY_PATH,
            )
            .map_err(|e| step_err(kind, format!("chown {dir}: {e}")))?;
        }
        return write_and_apply(kind, &src.host, "", &target, owner_or_root, scratch);
    }
    let (dir, name) = {
        let existing_dir = open_in(root, dest, OFlags::PATH | OFlags::DIRECTORY).is_ok();
        if dest_is_dir || existing_dir {
            (dest.trim_end_matches('/').to_string(), src.name.clone())
        } else {
            let trimmed = dest.trim_end_matches('/');
            match trimmed.rsplit_once('/') {
                Some((d, n)) => (d.to_string(), n.to_string()),
                None => (String::new(), trimmed.to_string()),
            }
        }
    };
    ensure_dir(root, &dir, owner)?;
    let target = open_in(root, &dir, OFlags::PATH | OFlags::DIRECTORY)
        .map_err(|e| step_err(kind, format!("{dir}: {e}")))?;
    write_and_apply(kind, &src.host, &name, &target, owner_or_root, scratch)
}

/// A tar of `host` (named `name`; its contents if empty) extracted into
/// the directory `target`, every member owned by `owner`.
fn write_and_apply(
    kind: &str,
    host: &Path,
    name: &str,
    target: &std::os::fd::OwnedFd,
    owner: Option<(u32, u32)>,
    scratch: &Path,
) -> Result<(), BuildError> {
    {
        let file = std::fs::File::create(scratch)
            .map_err(|e| BuildError::io(format!("create {}", scratch.display()), e))?;
        let mut out = std::io::BufWriter::new(file);
        berth_snapshot::write_tree(host, name.as_bytes(), &mut out)
            .map_err(|e| step_err(kind, e))?;
        std::io::Write::flush(&mut out)
            .map_err(|e| BuildError::io(format!("write {}", scratch.display()), e))?;
    }
    let tar = std::fs::File::open(scratch)
        .map_err(|e| BuildError::io(format!("open {}", scratch.display()), e))?;
    let options = berth_snapshot::ApplyOptions {
        mode: berth_snapshot::ApplyMode::Rootfs,
        owner,
        ..Default::default()
    };
    berth_snapshot::apply_layer(
        &fd_path(target.as_fd()),
        std::io::BufReader::new(tar),
        &options,
    )
    .map_err(|e| step_err(kind, e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_resolve_inside_the_context() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
        std::fs::write(dir.path().join("a/b/f.txt"), "x").unwrap();
        std::fs::write(dir.path().join("top.txt"), "y").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", dir.path().join("escape")).unwrap();
        let s = resolve_sources(dir.path(), "a/b/f.txt", "COPY").unwrap();
        assert_eq!(s[0].name, "f.txt");
        assert!(!s[0].is_dir);
        let s = resolve_sources(dir.path(), "*.txt", "COPY").unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].name, "top.txt");
        let s = resolve_sources(dir.path(), ".", "COPY").unwrap();
        assert!(s[0].is_dir);
        // A link out of the context resolves inside it (and is not there).
        assert!(resolve_sources(dir.path(), "escape", "COPY").is_err());
        let e = resolve_sources(dir.path(), "../x", "COPY").unwrap_err();
        assert_eq!(
            e.to_string(),
            "COPY failed: forbidden path outside the build context: ../x ()"
        );
        let e = resolve_sources(dir.path(), "nope", "COPY").unwrap_err();
        assert!(e.to_string().contains("file not found in build context"));
    }

    #[test]
    fn chown_as_dockerd_reads_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("etc")).unwrap();
        std::fs::write(
            dir.path().join("etc/passwd"),
            "root:x:0:0::/root:/bin/sh\napp:x:1234:1234::/home/app:/bin/sh\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("etc/group"),
            "root:x:0:\nstaff:x:50:\napp:x:1234:\n",
        )
        .unwrap();
        assert_eq!(chown_ids(dir.path(), "app").unwrap(), (1234, 1234));
        assert_eq!(chown_ids(dir.path(), "app:staff").unwrap(), (1234, 50));
        assert_eq!(chown_ids(dir.path(), "7:8").unwrap(), (7, 8));
        assert_eq!(chown_ids(dir.path(), "7").unwrap(), (7, 7));
        assert_eq!(
            chown_ids(dir.path(), "nosuch").unwrap_err(),
            "can't find uid for user nosuch: no such user: nosuch"
        );
        assert_eq!(
            chown_ids(dir.path(), "app:nosuch").unwrap_err(),
            "can't find gid for group nosuch: no such group: nosuch"
        );
        assert!(chown_ids(dir.path(), "a:b:c").is_err());
    }

    #[test]
    fn hashes_change_with_content() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f"), "one").unwrap();
        let s = resolve_sources(dir.path(), "f", "COPY").unwrap();
        let h1 = content_hash(&s).unwrap();
        assert!(h1.starts_with("file:"));
        std::fs::write(dir.path().join("f"), "two").unwrap();
        assert_ne!(h1, content_hash(&s).unwrap());
        let s = resolve_sources(dir.path(), ".", "COPY").unwrap();
        assert!(content_hash(&s).unwrap().starts_with("dir:"));
    }
}
