//! Namespaces: the config's list turned into what the process code does with
//! it — flags for the one `clone3`, namespaces to join (opened and checked up
//! front), and the cases that need an intermediate process.
//!
//! Which step makes which namespace:
//! - user, mnt, uts, ipc, net, pid: the `clone3` flags (fast path), so the
//!   new user namespace owns the others;
//! - cgroup: unshared by the init once it sits in its cgroup, so the
//!   namespace is rooted there (a clone flag would root it at the runtime's);
//! - time: unshared by the runtime before the clone so the offsets can be
//!   written while no process is inside yet;
//! - joined pid namespace: the runtime enters it for its children before the
//!   clone (`pid_for_children`); the other joined ones are entered by the
//!   child, user namespace first.
//!
//! Joining any namespace while also making a new user namespace, or joining
//! a user namespace, needs an intermediate process: the joins must happen
//! before the new user namespace exists (or the new namespaces must be owned
//! by the joined one), and a new pid namespace only applies to children.

use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;

use oci_spec::runtime::{Linux, LinuxIdMapping, LinuxNamespaceType};

use crate::{Error, Result};

/// The `CLONE_NEW*` flag of a namespace type.
pub fn flag(t: LinuxNamespaceType) -> u64 {
    (match t {
        LinuxNamespaceType::Mount => libc::CLONE_NEWNS,
        LinuxNamespaceType::Cgroup => libc::CLONE_NEWCGROUP,
        LinuxNamespaceType::Uts => libc::CLONE_NEWUTS,
        LinuxNamespaceType::Ipc => libc::CLONE_NEWIPC,
        LinuxNamespaceType::User => libc::CLONE_NEWUSER,
        LinuxNamespaceType::Pid => libc::CLONE_NEWPID,
        LinuxNamespaceType::Network => libc::CLONE_NEWNET,
        LinuxNamespaceType::Time => libc::CLONE_NEWTIME,
    }) as u64
}

/// The name of the namespace file under /proc/<pid>/ns.
pub fn proc_name(t: LinuxNamespaceType) -> &'static str {
    match t {
        LinuxNamespaceType::Mount => "mnt",
        LinuxNamespaceType::Cgroup => "cgroup",
        LinuxNamespaceType::Uts => "uts",
        LinuxNamespaceType::Ipc => "ipc",
        LinuxNamespaceType::User => "user",
        LinuxNamespaceType::Pid => "pid",
        LinuxNamespaceType::Network => "net",
        LinuxNamespaceType::Time => "time",
    }
}

/// The order in which existing namespaces are joined: user first (to gain
/// privilege over the namespaces it owns), mount last (it changes the root).
pub const JOIN_ORDER: [LinuxNamespaceType; 8] = [
    LinuxNamespaceType::User,
    LinuxNamespaceType::Ipc,
    LinuxNamespaceType::Uts,
    LinuxNamespaceType::Network,
    LinuxNamespaceType::Pid,
    LinuxNamespaceType::Cgroup,
    LinuxNamespaceType::Time,
    LinuxNamespaceType::Mount,
];

/// An existing namespace to enter.
#[derive(Debug)]
pub struct Joined {
    /// Its type.
    pub typ: LinuxNamespaceType,
    /// An open fd of the namespace file.
    pub fd: OwnedFd,
    /// The path from the config, for messages.
    pub path: PathBuf,
}

/// What to do about namespaces, decided before anything is created.
#[derive(Debug, Default)]
pub struct Plan {
    /// Namespaces the config lists (new or joined), as `CLONE_NEW*` bits.
    pub listed: u64,
    /// Namespaces to create.
    pub new: u64,
    /// Namespaces to join, in [`JOIN_ORDER`]; the pid one is kept apart.
    pub join: Vec<Joined>,
    /// A pid namespace to join (entered by the runtime for its children).
    pub join_pid: Option<Joined>,
}

impl Plan {
    /// Does the config list (new or joined) this namespace?
    pub fn has(&self, t: LinuxNamespaceType) -> bool {
        self.listed & flag(t) != 0
    }

    /// Is this namespace created new?
    pub fn is_new(&self, t: LinuxNamespaceType) -> bool {
        self.new & flag(t) != 0
    }

    /// Is this namespace joined by path?
    pub fn is_joined(&self, t: LinuxNamespaceType) -> bool {
        self.has(t) && !self.is_new(t)
    }

    /// The flags for the single `clone3` (see the module doc).
    pub fn clone_flags(&self) -> u64 {
        self.new & !(flag(LinuxNamespaceType::Cgroup) | flag(LinuxNamespaceType::Time))
    }

    /// Does process creation need an intermediate process?
    pub fn needs_intermediate(&self) -> bool {
        let user = LinuxNamespaceType::User;
        self.is_joined(user) || (self.is_new(user) && !self.join.is_empty())
    }
}

/// Build the plan: check for duplicates and open every namespace to join,
/// checking it is a namespace of the declared type.
pub fn plan(linux: Option<&Linux>) -> Result<Plan> {
    let mut plan = Plan::default();
    let Some(namespaces) = linux.and_then(|l| l.namespaces().as_ref()) else {
        return Ok(plan);
    };
    let mut joins = Vec::new();
    for (i, ns) in namespaces.iter().enumerate() {
        let bit = flag(ns.typ());
        if plan.listed & bit != 0 {
            return Err(Error::config(
                format!("linux.namespaces[{i}].type"),
                format!("namespace {} is listed twice", proc_name(ns.typ())),
            ));
        }
        plan.listed |= bit;
        match ns.path() {
            None => plan.new |= bit,
            Some(p) if p.as_os_str().is_empty() => plan.new |= bit,
            Some(path) => {
                let field = format!("linux.namespaces[{i}].path");
                let fd = rustix::fs::open(
                    path,
                    rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::CLOEXEC,
                    rustix::fs::Mode::empty(),
                )
                .map_err(|e| {
                    Error::config(&field, format!("cannot open {}: {e}", path.display()))
                })?;
                let actual = crate::sys::ns_type(fd.as_fd()).map_err(|e| {
                    Error::config(
                        &field,
                        format!("{} is not a namespace: {e}", path.display()),
                    )
                })?;
                if actual as u64 != bit {
                    return Err(Error::config(
                        &field,
                        format!(
                            "{} is not a {} namespace",
                            path.display(),
                            proc_name(ns.typ())
                        ),
                    ));
                }
                joins.push(Joined {
                    typ: ns.typ(),
                    fd,
                    path: path.clone(),
                });
            }
        }
    }
    joins.sort_by_key(|j| JOIN_ORDER.iter().position(|&t| t == j.typ));
    if let Some(pos) = joins.iter().position(|j| j.typ == LinuxNamespaceType::Pid) {
        plan.join_pid = Some(joins.remove(pos));
    }
    plan.join = joins;
    Ok(plan)
}

/// Enter the namespaces in `joins`, in order.
pub fn join_all(joins: &[Joined]) -> std::result::Result<(), String> {
    for j in joins {
        enter(j)?;
    }
    Ok(())
}

/// Enter one namespace.
pub fn enter(j: &Joined) -> std::result::Result<(), String> {
    use rustix::thread::LinkNameSpaceType as T;
    let t = match j.typ {
        LinuxNamespaceType::Mount => T::Mount,
        LinuxNamespaceType::Cgroup => T::ControlGroup,
        LinuxNamespaceType::Uts => T::HostNameAndNISDomainName,
        LinuxNamespaceType::Ipc => T::InterProcessCommunication,
        LinuxNamespaceType::User => T::User,
        LinuxNamespaceType::Pid => T::ProcessID,
        LinuxNamespaceType::Network => T::Network,
        LinuxNamespaceType::Time => T::Time,
    };
    rustix::thread::move_into_link_name_space(j.fd.as_fd(), Some(t)).map_err(|e| {
        format!(
            "join {} namespace {}: {e}",
            proc_name(j.typ),
            j.path.display()
        )
    })
}

/// The text of a `uid_map`/`gid_map` file.
pub fn map_text(maps: &[LinuxIdMapping]) -> String {
    maps.iter()
        .map(|m| format!("{} {} {}\n", m.container_id(), m.host_id(), m.size()))
        .collect()
}

/// Write the id maps of the process `pid` (run by the runtime, which holds
/// the privilege over the parent user namespace).
pub fn write_id_maps(
    pid: i32,
    uid: &[LinuxIdMapping],
    gid: &[LinuxIdMapping],
) -> std::result::Result<(), String> {
    let write = |file: &str, maps: &[LinuxIdMapping]| {
        if maps.is_empty() {
            return Ok(());
        }
        let path = format!("/proc/{pid}/{file}");
        std::fs::write(&path, map_text(maps)).map_err(|e| format!("write {path}: {e}"))
    };
    write("uid_map", uid)?;
    write("gid_map", gid)
}

/// Check id maps: non-empty sizes, no overflow.
pub fn check_maps(maps: &[LinuxIdMapping], field: &str) -> Result<()> {
    for (i, m) in maps.iter().enumerate() {
        let f = format!("{field}[{i}]");
        if m.size() == 0 {
            return Err(Error::config(f, "size must be at least 1"));
        }
        if m.container_id().checked_add(m.size()).is_none()
            || m.host_id().checked_add(m.size()).is_none()
        {
            return Err(Error::config(f, "range overflows 32-bit ids"));
        }
    }
    if maps.len() > 340 {
        return Err(Error::config(
            field,
            "the kernel accepts at most 340 ranges",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::{LinuxBuilder, LinuxNamespaceBuilder};

    fn linux(ns: Vec<(LinuxNamespaceType, Option<&str>)>) -> Linux {
        LinuxBuilder::default()
            .namespaces(
                ns.into_iter()
                    .map(|(t, p)| {
                        let b = LinuxNamespaceBuilder::default().typ(t);
                        match p {
                            Some(p) => b.path(p).build().unwrap(),
                            None => b.build().unwrap(),
                        }
                    })
                    .collect::<Vec<_>>(),
            )
            .build()
            .unwrap()
    }

    #[test]
    fn clone_flags_leave_cgroup_and_time_to_later_steps() {
        use LinuxNamespaceType::*;
        let p = plan(Some(&linux(vec![
            (Pid, None),
            (Mount, None),
            (Cgroup, None),
            (Time, None),
        ])))
        .unwrap();
        assert_eq!(p.clone_flags(), flag(Pid) | flag(Mount));
        assert!(p.is_new(Cgroup) && p.is_new(Time));
        assert!(!p.needs_intermediate());
    }

    #[test]
    fn joins_are_type_checked_and_ordered() {
        use LinuxNamespaceType::*;
        let p = plan(Some(&linux(vec![
            (Mount, Some("/proc/self/ns/mnt")),
            (Network, Some("/proc/self/ns/net")),
            (Pid, Some("/proc/self/ns/pid")),
        ])))
        .unwrap();
        let order: Vec<_> = p.join.iter().map(|j| j.typ).collect();
        assert_eq!(order, vec![Network, Mount]);
        assert!(p.join_pid.is_some());
        let err = plan(Some(&linux(vec![(Network, Some("/proc/self/ns/uts"))]))).unwrap_err();
        assert!(
            err.to_string().contains("linux.namespaces[0].path"),
            "{err}"
        );
        assert!(err.to_string().contains("not a net namespace"), "{err}");
        let err = plan(Some(&linux(vec![(Pid, None), (Pid, None)]))).unwrap_err();
        assert!(err.to_string().contains("listed twice"), "{err}");
    }

    #[test]
    fn intermediate_when_user_namespace_meets_joins() {
        use LinuxNamespaceType::*;
        let p = plan(Some(&linux(vec![
            (User, None),
            (Network, Some("/proc/self/ns/net")),
        ])))
        .unwrap();
        assert!(p.needs_intermediate());
    }
}
