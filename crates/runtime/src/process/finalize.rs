//! The steps every container process takes last, shared by the init and by
//! `exec`: process attributes, LSM labels, seccomp, capabilities and user,
//! working directory, descriptors, signals, then `execve`.
//!
//! Seccomp timing (as runc): without `noNewPrivileges` loading a filter needs
//! `CAP_SYS_ADMIN`, so it is loaded before capabilities are dropped; with
//! it, as late as possible, right before `execve`. A filter with a notify
//! action is always loaded early so its listener can go to the runtime.
//! Whatever runs after an early filter must be allowed by it, so the steps
//! that use newer syscalls (`openat2` for the working directory) come
//! first, and the rest has fallbacks (`close_range`).

use std::ffi::CString;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use oci_spec::runtime::Process;

use super::channel::ToRuntime;
use crate::capabilities::CapSets;

/// Inputs of the final steps.
#[derive(Debug)]
pub struct Launch<'a> {
    /// The process to run.
    pub process: &'a Process,
    /// Its environment (with LISTEN_FDS/LISTEN_PID added where due).
    pub env: &'a [String],
    /// The compiled seccomp filter, if any.
    pub seccomp: Option<&'a berth_seccomp::Program>,
    /// Highest capability the kernel knows.
    pub last_cap: u32,
    /// Descriptors 3..3+n pass to the process.
    pub preserved_fds: u32,
    /// Stay as a minimal pid 1 and run the process as its child
    /// ([`super::mini_init`]; the container's init only).
    pub mini_init: bool,
}

/// What [`Launch::prepare`] resolved, for [`Launch::exec`].
#[derive(Debug)]
pub struct Prepared {
    exe: CString,
    argv: Vec<CString>,
    envp: Vec<CString>,
    seccomp_late: bool,
}

fn cstrings(v: &[String], what: &str) -> Result<Vec<CString>, String> {
    v.iter()
        .map(|s| CString::new(s.as_str()).map_err(|_| format!("{what} contains a NUL byte: {s:?}")))
        .collect()
}

impl Launch<'_> {
    /// Everything up to (not including) waiting for start: attributes,
    /// executable lookup, LSM labels, early seccomp, capabilities and user.
    pub fn prepare(&self, chan: Option<&ToRuntime>) -> Result<Prepared, String> {
        let p = self.process;
        if let Some(adj) = p.oom_score_adj() {
            std::fs::write("/proc/self/oom_score_adj", adj.to_string()).map_err(|e| {
                format!("set oom_score_adj to {adj}: {e} (lowering it needs CAP_SYS_RESOURCE)")
            })?;
        }
        if let Some(r) = p.rlimits() {
            crate::rlimits::apply(r)?;
        }
        super::attributes::apply(p)?;

        let args = p.args().as_deref().unwrap_or_default();
        let exe = find_executable(
            args.first().map(String::as_str).unwrap_or(""),
            self.env,
            p.cwd(),
        )?;
        let exe = CString::new(exe.into_os_string().into_encoded_bytes())
            .map_err(|_| "executable path contains a NUL byte".to_string())?;
        let argv = cstrings(args, "process.args")?;
        let mut envp = cstrings(self.env, "process.env")?;
        if !self.env.iter().any(|kv| kv.starts_with("HOME=")) {
            // As runc: the user's home from the container's /etc/passwd.
            let home = home_of(p.user().uid());
            envp.push(CString::new(format!("HOME={home}")).unwrap_or_default());
        }
        enter_cwd(p.cwd())?;

        if let Some(profile) = p.apparmor_profile().as_deref().filter(|s| !s.is_empty()) {
            crate::lsm::apparmor_exec(profile).map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => {
                    format!("process.apparmorProfile: AppArmor profile {profile:?} is not loaded")
                }
                _ => format!("process.apparmorProfile: apply AppArmor profile {profile:?}: {e}"),
            })?;
        }
        if let Some(label) = p.selinux_label().as_deref().filter(|s| !s.is_empty()) {
            crate::lsm::selinux_exec(label)
                .map_err(|e| format!("set SELinux label {label:?}: {e}"))?;
        }
        let nnp = p.no_new_privileges() == Some(true);
        if nnp {
            rustix::thread::set_no_new_privs(true).map_err(|e| format!("set no_new_privs: {e}"))?;
        }
        let mut seccomp_late = false;
        if let Some(prog) = self.seccomp {
            if !nnp || prog.needs_listener() {
                install_seccomp(prog, chan)?;
            } else {
                seccomp_late = true;
            }
        }
        let caps = CapSets::from_spec(p.capabilities().as_ref());
        caps.drop_bounding(self.last_cap)
            .map_err(|e| format!("drop capabilities from the bounding set: {e}"))?;
        crate::identity::switch_to(p.user()).map_err(|e| {
            format!(
                "switch to uid {} gid {}: {e}",
                p.user().uid(),
                p.user().gid()
            )
        })?;
        caps.apply().map_err(|e| format!("set capabilities: {e}"))?;
        // The working directory was entered as root; the user must be able
        // to use it too (runc refuses otherwise). Only EACCES counts: a
        // seccomp profile may deny the check itself.
        if let Err(rustix::io::Errno::ACCESS) = rustix::fs::access(".", rustix::fs::Access::EXEC_OK)
        {
            return Err(format!(
                "chdir to cwd ({:?} set in config.json): permission denied",
                p.cwd().display().to_string()
            ));
        }
        Ok(Prepared {
            exe,
            argv,
            envp,
            seccomp_late,
        })
    }

    /// The last steps: late seccomp, working directory, descriptors,
    /// signals, `execve`. Returns only on failure.
    pub fn exec(&self, prep: Prepared) -> String {
        if prep.seccomp_late
            && let Some(prog) = self.seccomp
            && let Err(e) = install_seccomp(prog, None)
        {
            return e;
        }
        let first_closed = 3 + self.preserved_fds;
        for fd in 3..first_closed {
            crate::sys::clear_cloexec(fd as i32);
        }
        if let Err(e) = crate::sys::close_range_cloexec(first_closed) {
            return format!("mark descriptors close-on-exec: {e}");
        }
        // Every lockdown step is done (seccomp included): the minimal init
        // forks here; only its child goes on to execve.
        if self.mini_init
            && let Err(e) = super::mini_init::split()
        {
            return e;
        }
        crate::sys::reset_signal_dispositions();
        let _ = crate::sys::set_signal_mask(&crate::sys::SignalSet::empty());
        let err = crate::sys::execve(&prep.exe, &prep.argv, &prep.envp);
        format!(
            "exec {:?}: {err}",
            prep.argv
                .first()
                .map(|a| a.to_string_lossy())
                .unwrap_or_default()
        )
    }
}

fn install_seccomp(prog: &berth_seccomp::Program, chan: Option<&ToRuntime>) -> Result<(), String> {
    let listener = prog
        .install()
        .map_err(|e| format!("load the seccomp filter: {e}"))?;
    if let Some(fd) = listener {
        match chan {
            Some(chan) => chan.seccomp_listener(fd.as_fd())?,
            None => {
                return Err(
                    "a seccomp notify filter needs the runtime to receive its listener".into(),
                );
            }
        }
    }
    Ok(())
}

/// `chdir` to the process's cwd, resolved inside the root (`/` by now) and
/// refusing magic links such as `/proc/self/fd/N` (CVE-2024-21626).
fn enter_cwd(cwd: &Path) -> Result<(), String> {
    let root = rustix::fs::open(
        "/",
        rustix::fs::OFlags::PATH | rustix::fs::OFlags::DIRECTORY | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )
    .map_err(|e| format!("open /: {e}"))?;
    // A missing working directory is created (as runc does; images rely on
    // it), inside the root like every path we touch.
    let dir = match crate::rootfs::resolve::open_dir_in_root(root.as_fd(), cwd) {
        Err(rustix::io::Errno::NOENT) => crate::rootfs::resolve::open_in_root(
            root.as_fd(),
            cwd,
            crate::rootfs::resolve::Create::Dir,
        )
        .and_then(|_| crate::rootfs::resolve::open_dir_in_root(root.as_fd(), cwd)),
        other => other,
    }
    .map_err(|e| {
        format!(
            "chdir to cwd ({:?} set in config.json): {e}",
            cwd.display().to_string()
        )
    })?;
    rustix::process::fchdir(&dir).map_err(|e| format!("chdir to cwd {}: {e}", cwd.display()))
}

/// The home directory of `uid` in the container's `/etc/passwd`, or `/`.
fn home_of(uid: u32) -> String {
    std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|text| {
            text.lines().find_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                (f.len() >= 6 && f[2].parse() == Ok(uid) && !f[5].is_empty())
                    .then(|| f[5].to_string())
            })
        })
        .unwrap_or_else(|| "/".to_string())
}

/// The executable for `arg0`: a path (relative to `cwd` if relative), or a
/// name looked up in the process's `PATH`. Messages follow runc's, which
/// Docker maps to exit codes 126/127.
pub fn find_executable(arg0: &str, env: &[String], cwd: &Path) -> Result<PathBuf, String> {
    use rustix::fs::Access;
    if arg0.is_empty() {
        return Err("process.args must not be empty".into());
    }
    let usable = |p: &Path| -> Result<(), rustix::io::Errno> {
        let st = rustix::fs::stat(p)?;
        if rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::Directory {
            return Err(rustix::io::Errno::ACCESS);
        }
        rustix::fs::access(p, Access::EXEC_OK)
    };
    if arg0.contains('/') {
        let p = if arg0.starts_with('/') {
            PathBuf::from(arg0)
        } else {
            cwd.join(arg0)
        };
        return match usable(&p) {
            Ok(()) => Ok(p),
            Err(rustix::io::Errno::ACCESS) => Err(format!("exec: {arg0:?}: permission denied")),
            Err(e) => Err(format!(
                "exec: {arg0:?}: stat {}: {}",
                p.display(),
                errno_text(e)
            )),
        };
    }
    let path = env
        .iter()
        .find_map(|kv| kv.strip_prefix("PATH="))
        .unwrap_or("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    let mut denied = false;
    for dir in path.split(':') {
        let dir = if dir.is_empty() { "." } else { dir };
        let p = Path::new(dir).join(arg0);
        match usable(&p) {
            Ok(()) => return Ok(p),
            Err(rustix::io::Errno::ACCESS) => denied = true,
            Err(_) => {}
        }
    }
    if denied {
        Err(format!("exec: {arg0:?}: permission denied"))
    } else {
        Err(format!(
            "exec: {arg0:?}: executable file not found in $PATH"
        ))
    }
}

fn errno_text(e: rustix::io::Errno) -> String {
    let s = std::io::Error::from(e).to_string();
    // "No such file or directory (os error 2)" -> "no such file or directory"
    let s = s.split(" (os error").next().unwrap_or(&s);
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn executable_lookup_messages() {
        let env = vec!["PATH=/nonexistent:/bin".to_string()];
        assert_eq!(
            find_executable("sh", &env, Path::new("/")).unwrap(),
            PathBuf::from("/bin/sh")
        );
        let e = find_executable("no-such-cmd", &env, Path::new("/")).unwrap_err();
        assert_eq!(
            e,
            "exec: \"no-such-cmd\": executable file not found in $PATH"
        );
        let e = find_executable("/no/such", &env, Path::new("/")).unwrap_err();
        assert!(e.contains("no such file or directory"), "{e}");
        let e = find_executable("/etc", &env, Path::new("/")).unwrap_err();
        assert!(e.contains("permission denied"), "{e}");
    }
}
