//! OCI seccomp profiles: validation, compilation to BPF, caching, installation.
//!
//! This crate owns everything between the runtime-spec `linux.seccomp` object
//! ([`LinuxSeccomp`]) and a filter attached to a process. The runtime owns
//! *when* that happens (which process, in which order relative to capability
//! dropping and `no_new_privs`), and how the listener fd travels from the
//! container process to the runtime.
//!
//! # Lifecycle
//!
//! ```text
//!  runtime (parent)                              container init (cloned child)
//!  ----------------                              -----------------------------
//!  validate(&profile)          refuse bad config before anything exists
//!  Cache::load_or_compile      ~µs on a hit; libseccomp only on a miss
//!        |  Program (plain data, inherited across clone)
//!        +------------------------------------->  ... namespaces, mounts, caps ...
//!                                                  program.install()  (no allocation)
//!                                                  -> Some(listener fd) if NOTIFY
//!        <--- listener fd (write/sendmsg) ------   execve
//!  send_to_listener(listenerPath, fd, &state)
//! ```
//!
//! - [`validate`] checks the semantic combinations the JSON schema cannot
//!   express and names the field at fault
//!   (`linux.seccomp.syscalls[3].errnoRet: ...`).
//! - [`Program::compile`] turns a profile into a classic BPF program with
//!   libseccomp (linked statically, see `.cargo/config.toml`), then prepends
//!   the ENOSYS stub described in [`enosys`]. It touches no kernel state.
//! - [`Program::to_bytes`]/[`Program::from_bytes`] are a position independent,
//!   checksummed encoding; [`Cache`] stores it on disk keyed by the profile.
//! - [`Program::install`] is one raw `seccomp(2)` call in the calling process
//!   with exactly the flags the profile asks for.
//! - [`send_to_listener`] hands a `SCMP_ACT_NOTIFY` listener fd to the seccomp
//!   agent as the runtime-spec describes.
//! - [`default_profile`] is the profile a container gets when it names none
//!   (Docker's default policy, filtered by its capabilities), and
//!   [`DEFAULT_CAPABILITIES`] Docker's default capability set.
//! - [`features`] answers the `seccomp` object of the runtime's `features`
//!   command.
//!
//! # Behaviour shared with runc
//!
//! - `SCMP_ACT_KILL` is `SCMP_ACT_KILL_THREAD`; `SCMP_ACT_ERRNO` and
//!   `SCMP_ACT_TRACE` without an errno use `EPERM`.
//! - Syscall names libseccomp does not know are skipped, not an error
//!   ([`unknown_syscalls`] lists them for logging).
//! - Rules whose action equals the default action are dropped (libseccomp
//!   refuses them). Two unconditional rules for one syscall with different
//!   actions are accepted, and the first one decides (libseccomp's choice).
//! - Several conditions on the *same* argument index in one rule are added as
//!   separate rules (OR); conditions on distinct indexes are ANDed.
//! - An absent `flags` field means `SECCOMP_FILTER_FLAG_SPEC_ALLOW` (dropped at
//!   install time if the kernel predates it); an explicit `flags: []` means none.
//! - `SCMP_ACT_NOTIFY` cannot be the default action, nor the action of `write`
//!   or `sendmsg`: the container process needs those to hand the listener fd
//!   out before anyone can answer a notification.

pub mod docker_format;
pub mod enosys;

mod arch;
mod bpf;
mod cache;
mod compile;
mod default_profile;
mod error;
mod features;
mod filter_flags;
mod install;
mod listener;
mod program;
mod sys;
mod validate;

pub use bpf::SockFilter;
pub use cache::{Cache, CacheError, CacheStatus};
pub use compile::{CompileError, unknown_syscalls};
pub use default_profile::{
    ALL_CAPABILITIES, DEFAULT_CAPABILITIES, KernelVersion, default_profile,
    default_profile_for_kernel,
};
pub use error::{Error, ErrorKind, Result};
pub use features::features;
pub use install::InstallError;
pub use listener::{ListenerError, send_to_listener};
pub use program::{DecodeError, MAX_INSTRUCTIONS, Program};
pub use validate::{Problem, ValidationError, validate};

pub use oci_spec::runtime::{ContainerProcessState, LinuxSeccomp};
