//! `--user` and `--group-add` resolved against the container's own
//! `/etc/passwd` and `/etc/group`, read with the lookup confined to the
//! root filesystem (a symlinked `/etc/passwd` cannot point at the host's).

use std::io::Read;
use std::path::Path;

use super::ContainerError;

/// The uid, gid and supplementary groups the process runs with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResolvedUser {
    pub uid: u32,
    pub gid: u32,
    pub additional_gids: Vec<u32>,
    /// The home directory from passwd (for `HOME`).
    pub home: Option<String>,
}

struct PasswdEntry {
    name: String,
    uid: u32,
    gid: u32,
    home: String,
}

struct GroupEntry {
    name: String,
    gid: u32,
    members: Vec<String>,
}

/// Reads `path` inside `rootfs`, resolving symlinks as if `rootfs` were `/`.
fn read_in_root(rootfs: &Path, path: &str) -> Option<String> {
    use rustix::fs::{Mode, OFlags, ResolveFlags};
    let root = rustix::fs::open(
        rootfs,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ok()?;
    let fd = rustix::fs::openat2(
        &root,
        path.trim_start_matches('/'),
        OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOCTTY,
        Mode::empty(),
        ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
    )
    .ok()?;
    let mut text = String::new();
    std::fs::File::from(fd)
        .take(16 << 20)
        .read_to_string(&mut text)
        .ok()?;
    Some(text)
}

fn passwd(rootfs: &Path) -> Vec<PasswdEntry> {
    read_in_root(rootfs, "/etc/passwd")
        .unwrap_or_default()
        .lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split(':').collect();
            if f.len() < 4 || line.starts_with('#') {
                return None;
            }
            Some(PasswdEntry {
                name: f[0].to_string(),
                uid: f[2].parse().ok()?,
                gid: f[3].parse().ok()?,
                home: f.get(5).unwrap_or(&"").to_string(),
            })
        })
        .collect()
}

fn groups(rootfs: &Path) -> Vec<GroupEntry> {
    read_in_root(rootfs, "/etc/group")
        .unwrap_or_default()
        .lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split(':').collect();
            if f.len() < 3 || line.starts_with('#') {
                return None;
            }
            Some(GroupEntry {
                name: f[0].to_string(),
                gid: f[2].parse().ok()?,
                members: f
                    .get(3)
                    .map(|m| {
                        m.split(',')
                            .filter(|s| !s.is_empty())
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default(),
            })
        })
        .collect()
}

/// Resolves `user` (`name`, `uid`, `name:group`, `uid:gid`, empty for
/// root) and `group_add` with libcontainer's rules (moby `user.GetExecUser`).
pub fn resolve(
    rootfs: &Path,
    user: &str,
    group_add: &[String],
) -> Result<ResolvedUser, ContainerError> {
    let users = passwd(rootfs);
    let groups = groups(rootfs);
    let (user_part, group_part) = match user.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (user, None),
    };
    let mut out = ResolvedUser::default();
    let mut name: Option<String> = None;
    if user_part.is_empty() {
        if let Some(e) = users.iter().find(|e| e.uid == 0) {
            out.home = Some(e.home.clone());
            name = Some(e.name.clone());
        }
    } else if let Some(e) = users.iter().find(|e| e.name == user_part) {
        out.uid = e.uid;
        out.gid = e.gid;
        out.home = Some(e.home.clone());
        name = Some(e.name.clone());
    } else if let Ok(uid) = user_part.parse::<u32>() {
        out.uid = uid;
        if let Some(e) = users.iter().find(|e| e.uid == uid) {
            out.gid = e.gid;
            out.home = Some(e.home.clone());
            name = Some(e.name.clone());
        }
    } else {
        return Err(ContainerError::invalid(format!(
            "unable to find user {user_part}: no matching entries in passwd file"
        )));
    }
    if let Some(g) = group_part.filter(|g| !g.is_empty()) {
        out.gid = lookup_group(&groups, g)?;
    } else if let Some(name) = &name {
        out.additional_gids = groups
            .iter()
            .filter(|g| g.members.iter().any(|m| m == name))
            .map(|g| g.gid)
            .collect();
    }
    // The primary group leads the supplementary list, as dockerd has
    // done since the fix for CVE-2022-36109 (`id` shows `groups=<gid>,…`).
    out.additional_gids.retain(|g| *g != out.gid);
    out.additional_gids.insert(0, out.gid);
    for g in group_add {
        let gid = lookup_group(&groups, g)?;
        if !out.additional_gids.contains(&gid) {
            out.additional_gids.push(gid);
        }
    }
    Ok(out)
}

fn lookup_group(groups: &[GroupEntry], g: &str) -> Result<u32, ContainerError> {
    if let Some(e) = groups.iter().find(|e| e.name == g) {
        return Ok(e.gid);
    }
    g.parse::<u32>().map_err(|_| {
        ContainerError::invalid(format!(
            "unable to find group {g}: no matching entries in group file"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rootfs() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("etc")).unwrap();
        std::fs::write(
            dir.path().join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/sh\nwww:x:33:33:www:/var/www:/bin/sh\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("etc/group"),
            "root:x:0:\nwww:x:33:\nstaff:x:50:www\n",
        )
        .unwrap();
        dir
    }

    #[test]
    fn names_numbers_and_groups() {
        let r = rootfs();
        let u = resolve(r.path(), "www", &[]).unwrap();
        assert_eq!(
            (u.uid, u.gid, u.additional_gids.clone()),
            (33, 33, vec![33, 50])
        );
        assert_eq!(u.home.as_deref(), Some("/var/www"));
        let u = resolve(r.path(), "1000:staff", &["7".into()]).unwrap();
        assert_eq!((u.uid, u.gid, u.additional_gids), (1000, 50, vec![50, 7]));
        assert_eq!(resolve(r.path(), "", &[]).unwrap().uid, 0);
        let err = resolve(r.path(), "nobody", &[]).unwrap_err();
        assert!(
            err.to_string().contains("unable to find user nobody"),
            "{err}"
        );
    }

    #[test]
    fn a_symlinked_passwd_stays_inside_the_root() {
        let r = tempfile::tempdir().unwrap();
        std::fs::create_dir(r.path().join("etc")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", r.path().join("etc/passwd")).unwrap();
        // /etc/passwd inside the root does not exist: "root" is unknown.
        assert!(resolve(r.path(), "root", &[]).is_err());
    }
}
