//! The intermediate process, used only when the namespaces cannot all be
//! made by one clone (see `namespaces`): it joins the existing namespaces,
//! makes the new user namespace (the runtime writes its maps), then clones
//! the init with the remaining new namespaces as a sibling
//! (`CLONE_PARENT`), reports its pid and exits.

use oci_spec::runtime::LinuxNamespaceType as Ns;

use super::channel::ToRuntime;
use super::init::{self, InitContext};
use crate::namespaces;
use crate::sys::{CloneArgs, Forked};

/// Entry point; never returns.
pub fn main(cx: &InitContext<'_>, chan: &ToRuntime) -> ! {
    let code = match run(cx, chan) {
        Ok(()) => 0,
        Err(e) => {
            chan.failed(&e);
            1
        }
    };
    // SAFETY: _exit ends this cloned child without running the runtime's
    // exit handlers or flushing stdio buffers copied from it.
    unsafe { libc::_exit(code) }
}

fn run(cx: &InitContext<'_>, chan: &ToRuntime) -> Result<(), String> {
    let _ = rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL));
    cx.cgroup_manager
        .join_v1_self()
        .map_err(|e| format!("join the container's cgroup: {e}"))?;
    namespaces::join_all(&cx.plan.join)?;
    if cx.plan.is_joined(Ns::User) {
        crate::identity::become_root()
            .map_err(|e| format!("become root in the joined user namespace: {e}"))?;
    }
    if let Some(pid) = &cx.plan.join_pid {
        namespaces::enter(pid)?;
    }
    let mut flags = cx.plan.clone_flags();
    if cx.plan.is_new(Ns::User) {
        crate::sys::unshare(rustix::thread::UnshareFlags::NEWUSER)
            .map_err(|e| format!("unshare the user namespace: {e}"))?;
        chan.request_maps()?;
        flags &= !namespaces::flag(Ns::User);
        crate::identity::become_root()
            .map_err(|e| format!("become root in the new user namespace: {e}"))?;
    }
    let forked = crate::sys::clone3(&CloneArgs {
        flags: flags | libc::CLONE_PARENT as u64,
        ..Default::default()
    })
    .map_err(|e| format!("clone the container init: {e}"))?;
    match forked {
        Forked::Child => init::main(cx, chan, false),
        Forked::Parent { pid, .. } => chan.init_pid(pid),
    }
}
