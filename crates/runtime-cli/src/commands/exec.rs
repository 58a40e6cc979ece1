//! exec: a process from `--process` or from the command line on top of the
//! container's own process settings, as runc builds it.

use std::path::Path;

use anyhow::{Context, Result, bail};
use berth_runtime::container::{Container, ExecOptions};
use berth_runtime::oci_spec::runtime::{Capabilities, Capability, Process, User};

use crate::args::Exec;
use crate::log::Logger;

pub fn exec(root: &Path, e: &Exec, log: &Logger) -> Result<i32> {
    if !e.cgroup.is_empty() {
        bail!("--cgroup (exec into a sub-cgroup) is not supported by berth-runtime");
    }
    let container = Container::load(root, &e.id)?;
    let process = match &e.process {
        Some(path) => {
            let bytes = std::fs::read(path).with_context(|| format!("read {}", path.display()))?;
            let (process, warnings) = berth_runtime::config::parse_process(&bytes, path)?;
            for w in &warnings {
                log.warn(w);
            }
            process
        }
        None => from_flags(&container, e)?,
    };
    log.debug(&format!("exec in {}: {:?}", e.id, process.args()));
    let code = container.exec(&ExecOptions {
        process: Some(process),
        console_socket: e.console_socket.clone(),
        pid_file: e.pid_file.clone(),
        detach: e.detach,
        preserve_fds: e.preserve_fds,
        ignore_paused: e.ignore_paused,
    })?;
    Ok(code)
}

fn from_flags(container: &Container, e: &Exec) -> Result<Process> {
    if e.command.is_empty() {
        bail!("exec needs a command (or --process)");
    }
    let spec = container.spec()?;
    let mut p = spec.process().clone().unwrap_or_default();
    p.set_args(Some(e.command.clone()));
    p.set_terminal(Some(e.tty));
    p.set_console_size(None);
    if let Some(cwd) = &e.cwd {
        p.set_cwd(cwd.into());
    }
    if !e.env.is_empty() {
        let mut env = p.env().clone().unwrap_or_default();
        for kv in &e.env {
            let key = kv.split('=').next().unwrap_or(kv);
            env.retain(|old| old.split('=').next() != Some(key));
            env.push(kv.clone());
        }
        p.set_env(Some(env));
    }
    if let Some(user) = &e.user {
        let (uid, gid) = match user.split_once(':') {
            Some((u, g)) => (u, Some(g)),
            None => (user.as_str(), None),
        };
        let mut u: User = p.user().clone();
        u.set_uid(
            uid.parse()
                .with_context(|| format!("--user: {uid:?} is not a numeric uid"))?,
        );
        if let Some(g) = gid {
            u.set_gid(
                g.parse()
                    .with_context(|| format!("--user: {g:?} is not a numeric gid"))?,
            );
        }
        p.set_user(u);
    }
    if !e.additional_gids.is_empty() {
        let mut u = p.user().clone();
        u.set_additional_gids(Some(e.additional_gids.clone()));
        p.set_user(u);
    }
    if let Some(a) = &e.apparmor {
        p.set_apparmor_profile(Some(a.clone()));
    }
    if let Some(l) = &e.process_label {
        p.set_selinux_label(Some(l.clone()));
    }
    if e.no_new_privs {
        p.set_no_new_privileges(Some(true));
    }
    if !e.cap.is_empty() {
        let extra: Capabilities = e
            .cap
            .iter()
            .map(|c| {
                serde_json::from_value::<Capability>(serde_json::Value::String(c.clone()))
                    .with_context(|| format!("--cap: unknown capability {c:?}"))
            })
            .collect::<Result<_>>()?;
        let mut caps = p.capabilities().clone().unwrap_or_else(|| {
            let mut empty = berth_runtime::oci_spec::runtime::LinuxCapabilities::default();
            empty.set_bounding(None);
            empty.set_effective(None);
            empty.set_permitted(None);
            empty.set_inheritable(None);
            empty.set_ambient(None);
            empty
        });
        let add = |set: Option<Capabilities>| -> Option<Capabilities> {
            let mut s = set.unwrap_or_default();
            s.extend(extra.iter().copied());
            Some(s)
        };
        caps.set_bounding(add(caps.bounding().clone()));
        caps.set_effective(add(caps.effective().clone()));
        caps.set_permitted(add(caps.permitted().clone()));
        caps.set_inheritable(add(caps.inheritable().clone()));
        caps.set_ambient(add(caps.ambient().clone()));
        p.set_capabilities(Some(caps));
    }
    Ok(p)
}
