//! The process's user: supplementary groups, gid, uid and umask, switched
//! with keep-caps so the capability sets survive the change.

use oci_spec::runtime::User;
use rustix::process::{Gid, Uid};

/// Switch to `user`. Capabilities in the permitted set are kept (the caller
/// sets the final sets afterwards).
pub fn switch_to(user: &User) -> std::io::Result<()> {
    rustix::thread::set_keep_capabilities(true)?;
    let groups: Vec<Gid> = user
        .additional_gids()
        .as_deref()
        .unwrap_or_default()
        .iter()
        .map(|&g| Gid::from_raw(g))
        .collect();
    match rustix::thread::set_thread_groups(&groups) {
        Ok(()) => {}
        // setgroups is denied in a user namespace whose gid_map was written
        // unprivileged; with no extra groups asked for, that is fine.
        Err(rustix::io::Errno::PERM) if groups.is_empty() => {}
        Err(e) => return Err(e.into()),
    }
    let gid = Gid::from_raw(user.gid());
    rustix::thread::set_thread_res_gid(gid, gid, gid)?;
    let uid = Uid::from_raw(user.uid());
    rustix::thread::set_thread_res_uid(uid, uid, uid)?;
    rustix::thread::set_keep_capabilities(false)?;
    // runc's default when the config sets none.
    let mask = user.umask().unwrap_or(0o022);
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(mask & 0o777));
    Ok(())
}

/// Become uid and gid 0 of the user namespace we are in (after creating or
/// joining one). `EINVAL` means 0 is not mapped there: then we stay who we
/// are, as runc does.
pub fn become_root() -> std::io::Result<()> {
    let g = Gid::ROOT;
    match rustix::thread::set_thread_res_gid(g, g, g) {
        Ok(()) | Err(rustix::io::Errno::INVAL) => {}
        Err(e) => return Err(e.into()),
    }
    let u = Uid::ROOT;
    match rustix::thread::set_thread_res_uid(u, u, u) {
        Ok(()) | Err(rustix::io::Errno::INVAL) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
