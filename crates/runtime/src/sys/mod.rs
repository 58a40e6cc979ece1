//! The raw syscalls `rustix` does not wrap, each in a small function with the
//! `unsafe` kept inside and justified. Everything else goes through `rustix`.

mod clone;
mod exec;
mod fds;
mod misc;
mod mount_attr;
mod signal;

pub use clone::{CloneArgs, Forked, WALL, clone3};
pub use exec::{execve, execveat};
pub use fds::{clear_cloexec, close_from, close_range_cloexec, ensure_open};
pub use misc::{
    ambient_raise, capbset_drop, ioprio_set, join_session_keyring, loopback_up, ns_type,
    personality, sched_setattr, set_mempolicy, trim_heap, unshare,
};
pub use mount_attr::{MountAttr, mount_setattr};
pub use signal::{
    SignalSet, reset_signal_dispositions, set_signal_mask, signal_by_name, signal_name, signalfd,
};
