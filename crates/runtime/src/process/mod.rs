//! Process creation: the container's init and the processes `exec` adds.
//!
//! Topology (the fast path: one clone, no re-exec of the runtime):
//!
//! ```text
//!  runtime (create/run)                         init (clone3 child)
//!  ─────────────────────                        ───────────────────
//!  plan namespaces, make cgroup, load seccomp
//!  clone3(CLONE_NEW*, INTO_CGROUP on v2) ─────▶ join existing namespaces
//!  place in cgroup (v1), write id maps
//!  ── Go ─────────────────────────────────────▶ cgroupns, keyring, hostname,
//!                                               mounts and /dev (rootfs)
//!                       ◀── RunHooks ────────── (only with prestart/createRuntime)
//!  prestart + createRuntime hooks
//!  ── HooksDone ──────────────────────────────▶ createContainer hooks, pivot_root,
//!                                               console, masked paths, sysctl,
//!                                               rlimits, LSM, seccomp, caps, user
//!                       ◀── SeccompListener ─── (only with a notify action)
//!                       ◀── Ready ─────────────
//!  write state; `create` exits                  wait: exec.fifo (create) or
//!  `run`: ── Start ──────────────────────────▶ Start (run); startContainer hooks;
//!                       ◀── (EOF at exec) ───── execve the user process
//! ```
//!
//! With an intermediate (a joined user namespace, or a new one plus joined
//! namespaces) the clone makes the intermediate, which joins, unshares the
//! user namespace (`MapsPlease` / `MapsWritten`), clones the init as our
//! sibling and reports `InitPid`; the rest is the same.
//!
//! Joining the cgroup: writing a pid to a v1 `cgroup.procs` takes the
//! kernel's threadgroup rwsem for writing, which waits for an RCU grace
//! period (5 to 12 ms here, most of a container start). A single-threaded
//! process that moves *itself* by writing `0` to `tasks` skips that lock
//! (0.2 ms), and on cgroup2 (also the unified hierarchy of a hybrid host)
//! `clone3(CLONE_INTO_CGROUP)` creates the process in place. So the clone
//! goes into the cgroup2 directory and the first child joins the v1
//! hierarchies itself before anything else, while its credentials are still
//! the runtime's (a new user namespace does not matter yet).
//!
//! With the annotation `org.berth.init=true` (`docker run --init`) the init
//! forks once more at the very end and stays as a minimal pid 1
//! ([`mini_init`]) while its child executes the user process.
//!
//! Every message is in [`message`]; [`channel`] gives each side methods
//! named for what they ask. `exec` follows a shorter path ([`exec`]).

pub mod attributes;
pub mod channel;
pub mod exec;
pub mod finalize;
pub mod init;
pub mod intermediate;
pub mod message;
pub mod mini_init;
pub mod parent;
