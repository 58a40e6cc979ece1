//! Berth's built-in default seccomp profile: what a container gets unless it
//! asks for `--security-opt seccomp=unconfined` or a profile of its own, and
//! Docker's default capability set it is usually paired with.
//!
//! # Where the list comes from
//!
//! The rules below are authored for Berth, grouped by purpose, to have the
//! same effect as Docker's default profile (moby `profiles/seccomp/default.json`
//! as shipped in Docker 20.10.24, Debian bookworm) after dockerd's
//! `setupSeccomp` has filtered it for a container: groups are kept or dropped
//! by the container's bounding capabilities, the host architecture and the
//! running kernel's version. Docker's JSON is not part of this repository;
//! `tests/default_profile.rs` compares the two rule by rule against the
//! Debian package's copy.
//!
//! Deliberate differences from that Docker version (both taken from later
//! moby releases; neither changes anything for Docker's default capability
//! set):
//!
//! - `bpf` is allowed with `CAP_BPF`, and `perf_event_open` with
//!   `CAP_PERFMON` (Docker 20.10 only allows them with `CAP_SYS_ADMIN`, so
//!   adding the narrower capability had no effect).
//!
//! # Policy in short
//!
//! - Default action `SCMP_ACT_ERRNO` without `defaultErrnoRet`, i.e. `EPERM`
//!   (as Docker's), for everything not listed.
//! - Syscalls newer than every syscall named here get `ENOSYS` instead, from
//!   the stub [`Program::compile`](crate::Program::compile) prepends (see
//!   [`enosys`](crate::enosys)); runc does the same for Docker's profile.
//!   `clone3` gets an explicit `ENOSYS` rule without `CAP_SYS_ADMIN`, so that
//!   C libraries fall back to `clone`, whose namespace flags can be checked.
//! - Architectures: the host's and the ones it can also execute (x86_64:
//!   x86_64, x86, x32; aarch64: aarch64, arm; s390x: s390x, s390; the MIPS
//!   families). Other hosts get no list, i.e. the native architecture only.
//! - `flags` is left out, which means `SECCOMP_FILTER_FLAG_SPEC_ALLOW` in
//!   this crate, as in runc.
#![forbid(unsafe_code)]

use oci_spec::runtime::{
    Arch, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompArg, LinuxSeccompArgBuilder,
    LinuxSeccompOperator, LinuxSyscall,
};

use crate::arch::NATIVE;

/// Every capability the kernel defines, in number order (`--privileged`,
/// `--cap-add ALL`).
pub const ALL_CAPABILITIES: [&str; 41] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// Docker's default capability set (moby `oci/caps/defaults.go`): the
/// bounding set of a container started without `--cap-add`/`--cap-drop`.
pub const DEFAULT_CAPABILITIES: [&str; 14] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];

/// A kernel's `major.minor`, the precision Docker's `minKernel` has
/// (`4.8.0-1-amd64` and `4.8.17` are both 4.8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct KernelVersion {
    /// `6` in `6.1.0-18-amd64`.
    pub major: u32,
    /// `1` in `6.1.0-18-amd64`.
    pub minor: u32,
}

impl KernelVersion {
    /// Parses the leading `MAJOR.MINOR` of a release string such as
    /// `6.1.0-18-amd64`, as dockerd does; `None` if it has no such prefix.
    pub fn parse(release: &str) -> Option<KernelVersion> {
        let (major, rest) = release.split_once('.')?;
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        Some(KernelVersion {
            major: major.parse().ok()?,
            minor: rest[..digits].parse().ok()?,
        })
    }

    /// The running kernel's version (`uname -r`), if it can be parsed.
    pub fn running() -> Option<KernelVersion> {
        KernelVersion::parse(&rustix::system::uname().release().to_string_lossy())
    }
}

/// The default profile for a container whose bounding capabilities are
/// `caps` (names such as `"CAP_SYS_ADMIN"`), for the host architecture and
/// the running kernel.
///
/// If the kernel's version cannot be read, groups that need a minimum
/// kernel are left out: the stricter choice (dockerd refuses to create the
/// container instead).
pub fn default_profile(caps: &[String]) -> LinuxSeccomp {
    let kernel = KernelVersion::running().unwrap_or(KernelVersion { major: 0, minor: 0 });
    default_profile_for_kernel(caps, kernel)
}

/// [`default_profile`] as it would be on a kernel of version `kernel`.
pub fn default_profile_for_kernel(caps: &[String], kernel: KernelVersion) -> LinuxSeccomp {
    let host = Host {
        arch: NATIVE,
        caps,
        kernel,
    };
    let mut syscalls = Vec::new();
    for group in GROUPS.iter().filter(|g| g.when.holds(&host)) {
        match group.args {
            Args::None => syscalls.push(group.rule(None)),
            Args::All(args) => syscalls.push(group.rule(Some(args))),
            Args::AnyOf(args) => syscalls.extend(
                args.iter()
                    .map(|a| group.rule(Some(std::slice::from_ref(a)))),
            ),
        }
    }
    let mut profile = LinuxSeccomp::default();
    profile.set_default_action(LinuxSeccompAction::ScmpActErrno);
    profile.set_architectures(architectures(NATIVE));
    profile.set_syscalls(Some(syscalls));
    profile
}

/// The host architecture and the ones its kernel also runs, as Docker's
/// `archMap` has them; `None` (native only) for hosts it does not list.
fn architectures(native: Arch) -> Option<Vec<Arch>> {
    use Arch::*;
    let all = match native {
        ScmpArchX86_64 => vec![ScmpArchX86_64, ScmpArchX86, ScmpArchX32],
        ScmpArchAarch64 => vec![ScmpArchAarch64, ScmpArchArm],
        ScmpArchMips64 => vec![ScmpArchMips64, ScmpArchMips, ScmpArchMips64n32],
        ScmpArchMips64n32 => vec![ScmpArchMips64n32, ScmpArchMips, ScmpArchMips64],
        ScmpArchMipsel64 => vec![ScmpArchMipsel64, ScmpArchMipsel, ScmpArchMipsel64n32],
        ScmpArchMipsel64n32 => vec![ScmpArchMipsel64n32, ScmpArchMipsel, ScmpArchMipsel64],
        ScmpArchS390x => vec![ScmpArchS390x, ScmpArchS390],
        _ => return None,
    };
    Some(all)
}

/// What a group's conditions are checked against.
struct Host<'a> {
    /// The architecture berthd runs on (not the sub-architectures).
    arch: Arch,
    caps: &'a [String],
    kernel: KernelVersion,
}

impl Host<'_> {
    fn has(&self, cap: &str) -> bool {
        self.caps.iter().any(|c| c == cap)
    }
}

/// When a group applies; all fields must hold (Docker's `includes` and
/// `excludes`).
struct When {
    /// Every one of these capabilities is in the bounding set.
    caps: &'static [&'static str],
    /// This capability is not in the bounding set.
    without_cap: Option<&'static str>,
    /// The host is one of these (empty: any).
    arches: &'static [Arch],
    /// The host is none of these.
    not_arches: &'static [Arch],
    /// The running kernel is at least this.
    min_kernel: Option<KernelVersion>,
}

impl When {
    const ALWAYS: When = When {
        caps: &[],
        without_cap: None,
        arches: &[],
        not_arches: &[],
        min_kernel: None,
    };

    const fn cap(cap: &'static [&'static str]) -> When {
        When {
            caps: cap,
            ..When::ALWAYS
        }
    }

    const fn arch(arches: &'static [Arch]) -> When {
        When {
            arches,
            ..When::ALWAYS
        }
    }

    fn holds(&self, host: &Host<'_>) -> bool {
        self.caps.iter().all(|c| host.has(c))
            && self.without_cap.is_none_or(|c| !host.has(c))
            && (self.arches.is_empty() || self.arches.contains(&host.arch))
            && !self.not_arches.contains(&host.arch)
            && self.min_kernel.is_none_or(|min| host.kernel >= min)
    }
}

/// One argument condition (the runtime-spec's `LinuxSeccompArg`, in a form
/// that can be a constant).
struct Arg {
    index: usize,
    value: u64,
    value_two: Option<u64>,
    op: LinuxSeccompOperator,
}

impl Arg {
    const fn eq(index: usize, value: u64) -> Arg {
        Arg {
            index,
            value,
            value_two: None,
            op: LinuxSeccompOperator::ScmpCmpEq,
        }
    }

    /// `(arg & mask) == value`.
    const fn masked_eq(index: usize, mask: u64, value: u64) -> Arg {
        Arg {
            index,
            value: mask,
            value_two: Some(value),
            op: LinuxSeccompOperator::ScmpCmpMaskedEq,
        }
    }

    fn to_oci(&self) -> LinuxSeccompArg {
        let mut b = LinuxSeccompArgBuilder::default()
            .index(self.index)
            .value(self.value)
            .op(self.op);
        if let Some(two) = self.value_two {
            b = b.value_two(two);
        }
        // LinuxSeccompArg has no setters, only this builder, whose build()
        // cannot fail: the builder gives every field a default
        // (`#[builder(default)]`), and all four are set above anyway.
        b.build()
            .expect("every LinuxSeccompArg field has a default")
    }
}

/// A group's argument conditions.
enum Args {
    /// The syscalls are allowed whatever their arguments.
    None,
    /// Every condition must hold (one rule).
    All(&'static [Arg]),
    /// Any one condition suffices (one rule per condition).
    AnyOf(&'static [Arg]),
}

/// What a group's syscalls get.
#[derive(Clone, Copy)]
enum Action {
    Allow,
    Errno(u32),
}

/// Syscalls that get the same action under the same conditions.
struct Group {
    names: &'static [&'static str],
    action: Action,
    args: Args,
    when: When,
}

impl Group {
    const fn allow(names: &'static [&'static str]) -> Group {
        Group {
            names,
            action: Action::Allow,
            args: Args::None,
            when: When::ALWAYS,
        }
    }

    const fn when(self, when: When) -> Group {
        Group { when, ..self }
    }

    const fn args(self, args: Args) -> Group {
        Group { args, ..self }
    }

    fn rule(&self, args: Option<&[Arg]>) -> LinuxSyscall {
        let mut r = LinuxSyscall::default();
        r.set_names(self.names.iter().map(|n| (*n).to_owned()).collect());
        match self.action {
            Action::Allow => {
                r.set_action(LinuxSeccompAction::ScmpActAllow);
            }
            Action::Errno(e) => {
                r.set_action(LinuxSeccompAction::ScmpActErrno);
                r.set_errno_ret(Some(e));
            }
        }
        r.set_args(args.map(|a| a.iter().map(Arg::to_oci).collect()));
        r
    }
}

/// `CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC |
/// CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET`: the flags that create
/// namespaces, which need `CAP_SYS_ADMIN`.
const CLONE_NAMESPACE_FLAGS: u64 = 0x7E02_0000;

/// `ENOSYS` for the target (38, or 89 on MIPS).
const ENOSYS: u32 = libc::ENOSYS as u32;

/// Linux personalities a container may switch to: `PER_LINUX`,
/// `PER_LINUX32`, `UNAME26`, `PER_LINUX32 | UNAME26`, and `0xffffffff`,
/// which only queries the current one.
const PERSONALITIES: &[Arg] = &[
    Arg::eq(0, 0x0),
    Arg::eq(0, 0x8),
    Arg::eq(0, 0x2_0000),
    Arg::eq(0, 0x2_0008),
    Arg::eq(0, 0xffff_ffff),
];

/// The profile, in Docker's order (which matters only where two rules name
/// the same syscall with different actions, and none do).
#[rustfmt::skip]
const GROUPS: &[Group] = &[
    // File I/O on open descriptors: reading, writing, seeking, copying
    // between descriptors, syncing, locking.
    Group::allow(&[
        "read", "readv", "pread64", "preadv", "preadv2",
        "write", "writev", "pwrite64", "pwritev", "pwritev2",
        "lseek", "_llseek", "close", "close_range", "dup", "dup2", "dup3",
        "fcntl", "fcntl64", "ioctl", "flock",
        "sendfile", "sendfile64", "splice", "tee", "vmsplice", "copy_file_range",
        "readahead", "fadvise64", "fadvise64_64", "fallocate",
        "ftruncate", "ftruncate64", "truncate", "truncate64",
        "fsync", "fdatasync", "sync", "syncfs", "sync_file_range",
        "pipe", "pipe2",
    ]),
    // Paths: opening, creating, removing, renaming, linking; directories;
    // metadata, ownership, modes and timestamps.
    Group::allow(&[
        "open", "openat", "openat2", "creat",
        "access", "faccessat", "faccessat2",
        "stat", "stat64", "lstat", "lstat64", "fstat", "fstat64", "fstatat64",
        "newfstatat", "statx", "statfs", "statfs64", "fstatfs", "fstatfs64",
        "chdir", "fchdir", "getcwd", "getdents", "getdents64",
        "mkdir", "mkdirat", "mknod", "mknodat", "rmdir",
        "link", "linkat", "symlink", "symlinkat", "unlink", "unlinkat",
        "rename", "renameat", "renameat2", "readlink", "readlinkat",
        "chmod", "fchmod", "fchmodat", "umask",
        "chown", "chown32", "fchown", "fchown32", "fchownat", "lchown", "lchown32",
        "utime", "utimes", "utimensat", "utimensat_time64", "futimesat",
    ]),
    // Extended attributes.
    Group::allow(&[
        "getxattr", "lgetxattr", "fgetxattr", "setxattr", "lsetxattr", "fsetxattr",
        "listxattr", "llistxattr", "flistxattr",
        "removexattr", "lremovexattr", "fremovexattr",
    ]),
    // Waiting for descriptors and events: select/poll/epoll, eventfd,
    // signalfd, timerfd, inotify (fanotify_init itself needs CAP_SYS_ADMIN).
    Group::allow(&[
        "select", "_newselect", "pselect6", "pselect6_time64",
        "poll", "ppoll", "ppoll_time64",
        "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old",
        "epoll_wait", "epoll_wait_old", "epoll_pwait", "epoll_pwait2",
        "eventfd", "eventfd2", "signalfd", "signalfd4",
        "timerfd_create", "timerfd_gettime", "timerfd_gettime64",
        "timerfd_settime", "timerfd_settime64",
        "inotify_init", "inotify_init1", "inotify_add_watch", "inotify_rm_watch",
        "fanotify_mark",
    ]),
    // Asynchronous I/O: Linux AIO and io_uring.
    Group::allow(&[
        "io_setup", "io_destroy", "io_submit", "io_cancel",
        "io_getevents", "io_pgetevents", "io_pgetevents_time64",
        "io_uring_setup", "io_uring_enter", "io_uring_register",
    ]),
    // Memory: mappings, protection, locking (bounded by RLIMIT_MEMLOCK),
    // anonymous files.
    Group::allow(&[
        "brk", "mmap", "mmap2", "munmap", "mremap", "mprotect", "madvise",
        "mincore", "msync", "remap_file_pages",
        "mlock", "mlock2", "mlockall", "munlock", "munlockall",
        "membarrier", "memfd_create", "memfd_secret",
    ]),
    // Processes and threads: creation without new namespaces (clone is
    // further down), exec, exit, wait, ids and sessions, futexes, thread
    // state, pidfds, limits, self-sandboxing (seccomp, landlock).
    Group::allow(&[
        "fork", "vfork", "execve", "execveat", "exit", "exit_group",
        "wait4", "waitid", "waitpid",
        "getpid", "getppid", "gettid", "getpgid", "setpgid", "getpgrp",
        "getsid", "setsid",
        "set_tid_address", "set_robust_list", "get_robust_list",
        "futex", "futex_time64", "futex_waitv", "rseq", "restart_syscall",
        "get_thread_area", "set_thread_area", "prctl",
        "capget", "capset",
        "pidfd_open", "pidfd_send_signal", "process_mrelease",
        "getrlimit", "setrlimit", "ugetrlimit", "prlimit64", "getrusage", "times",
        "getcpu", "sysinfo", "uname", "getrandom",
        "seccomp", "landlock_create_ruleset", "landlock_add_rule",
        "landlock_restrict_self",
    ]),
    // User and group ids (changing them needs CAP_SETUID/CAP_SETGID, which
    // the kernel checks).
    Group::allow(&[
        "getuid", "getuid32", "geteuid", "geteuid32", "getgid", "getgid32",
        "getegid", "getegid32", "getresuid", "getresuid32", "getresgid", "getresgid32",
        "getgroups", "getgroups32",
        "setuid", "setuid32", "setgid", "setgid32", "setreuid", "setreuid32",
        "setregid", "setregid32", "setresuid", "setresuid32", "setresgid", "setresgid32",
        "setfsuid", "setfsuid32", "setfsgid", "setfsgid32", "setgroups", "setgroups32",
    ]),
    // Scheduling, priorities and I/O priorities (raising them needs
    // CAP_SYS_NICE, which the kernel checks).
    Group::allow(&[
        "sched_yield", "sched_getaffinity", "sched_setaffinity",
        "sched_getattr", "sched_setattr", "sched_getparam", "sched_setparam",
        "sched_getscheduler", "sched_setscheduler",
        "sched_get_priority_max", "sched_get_priority_min",
        "sched_rr_get_interval", "sched_rr_get_interval_time64",
        "getpriority", "setpriority", "ioprio_get", "ioprio_set",
    ]),
    // Signals.
    Group::allow(&[
        "kill", "tkill", "tgkill", "pause",
        "rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo",
        "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64",
        "rt_tgsigqueueinfo", "sigaltstack", "sigprocmask", "sigreturn",
    ]),
    // Time: clocks, sleeping, interval timers and POSIX timers. adjtimex and
    // clock_adjtime only read the clock without CAP_SYS_TIME.
    Group::allow(&[
        "time", "gettimeofday", "clock_gettime", "clock_gettime64",
        "clock_getres", "clock_getres_time64",
        "clock_nanosleep", "clock_nanosleep_time64", "nanosleep",
        "alarm", "getitimer", "setitimer",
        "timer_create", "timer_delete", "timer_getoverrun",
        "timer_gettime", "timer_gettime64", "timer_settime", "timer_settime64",
        "adjtimex", "clock_adjtime", "clock_adjtime64",
    ]),
    // Networking: sockets of any family (raw sockets need CAP_NET_RAW,
    // which the kernel checks).
    Group::allow(&[
        "socket", "socketpair", "socketcall", "bind", "listen",
        "accept", "accept4", "connect", "shutdown",
        "getsockname", "getpeername", "getsockopt", "setsockopt",
        "send", "sendto", "sendmsg", "sendmmsg",
        "recv", "recvfrom", "recvmsg", "recvmmsg", "recvmmsg_time64",
    ]),
    // System V and POSIX IPC (confined by the IPC namespace).
    Group::allow(&[
        "ipc", "msgget", "msgsnd", "msgrcv", "msgctl",
        "semget", "semop", "semtimedop", "semtimedop_time64", "semctl",
        "shmget", "shmat", "shmdt", "shmctl",
        "mq_open", "mq_unlink", "mq_timedsend", "mq_timedsend_time64",
        "mq_timedreceive", "mq_timedreceive_time64", "mq_notify", "mq_getsetattr",
    ]),
    // ptrace: from Linux 4.8 on, seccomp is re-checked after a tracer
    // changes a syscall, so tracing cannot be used to bypass the filter.
    Group::allow(&["ptrace"]).when(When {
        min_kernel: Some(KernelVersion { major: 4, minor: 8 }),
        ..When::ALWAYS
    }),
    // personality: only the Linux personas, never e.g. ADDR_NO_RANDOMIZE or
    // READ_IMPLIES_EXEC.
    Group::allow(&["personality"]).args(Args::AnyOf(PERSONALITIES)),
    // Architecture-specific calls a normal program needs.
    Group::allow(&["sync_file_range2"]).when(When::arch(&[Arch::ScmpArchPpc64le])),
    Group::allow(&[
        "arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2",
        "breakpoint", "cacheflush", "set_tls",
    ])
    .when(When::arch(&[Arch::ScmpArchArm, Arch::ScmpArchAarch64])),
    Group::allow(&["arch_prctl"]).when(When::arch(&[Arch::ScmpArchX86_64, Arch::ScmpArchX32])),
    Group::allow(&["modify_ldt"]).when(When::arch(&[
        Arch::ScmpArchX86_64,
        Arch::ScmpArchX32,
        Arch::ScmpArchX86,
    ])),
    Group::allow(&["s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"])
        .when(When::arch(&[Arch::ScmpArchS390, Arch::ScmpArchS390x])),
    // What each capability makes possible. CAP_DAC_READ_SEARCH: opening
    // files by handle (the "shocker" escape without it).
    Group::allow(&["open_by_handle_at"]).when(When::cap(&["CAP_DAC_READ_SEARCH"])),
    // CAP_SYS_ADMIN: namespaces, mounts, host names, quotas, BPF, perf, the
    // kernel log.
    Group::allow(&[
        "bpf", "clone", "clone3", "fanotify_init",
        "fsconfig", "fsmount", "fsopen", "fspick", "mount", "mount_setattr",
        "move_mount", "open_tree", "umount", "umount2",
        "lookup_dcookie", "name_to_handle_at", "perf_event_open",
        "quotactl", "quotactl_fd", "setdomainname", "sethostname",
        "setns", "syslog", "unshare",
    ])
    .when(When::cap(&["CAP_SYS_ADMIN"])),
    // Without CAP_SYS_ADMIN, clone only without namespace flags (its first
    // argument, the second on s390) ...
    Group::allow(&["clone"])
        .args(Args::All(&[Arg::masked_eq(0, CLONE_NAMESPACE_FLAGS, 0)]))
        .when(When {
            without_cap: Some("CAP_SYS_ADMIN"),
            not_arches: &[Arch::ScmpArchS390, Arch::ScmpArchS390x],
            ..When::ALWAYS
        }),
    Group::allow(&["clone"])
        .args(Args::All(&[Arg::masked_eq(1, CLONE_NAMESPACE_FLAGS, 0)]))
        .when(When {
            without_cap: Some("CAP_SYS_ADMIN"),
            arches: &[Arch::ScmpArchS390, Arch::ScmpArchS390x],
            ..When::ALWAYS
        }),
    // ... and clone3, whose flags are behind a pointer seccomp cannot read,
    // answers ENOSYS so that C libraries fall back to clone.
    Group {
        names: &["clone3"],
        action: Action::Errno(ENOSYS),
        args: Args::None,
        when: When {
            without_cap: Some("CAP_SYS_ADMIN"),
            ..When::ALWAYS
        },
    },
    Group::allow(&["reboot"]).when(When::cap(&["CAP_SYS_BOOT"])),
    Group::allow(&["chroot"]).when(When::cap(&["CAP_SYS_CHROOT"])),
    Group::allow(&["delete_module", "init_module", "finit_module"])
        .when(When::cap(&["CAP_SYS_MODULE"])),
    Group::allow(&["acct"]).when(When::cap(&["CAP_SYS_PACCT"])),
    // CAP_SYS_PTRACE: other processes' memory and descriptors, and ptrace
    // itself on kernels before 4.8.
    Group::allow(&[
        "kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv",
        "process_vm_writev", "ptrace",
    ])
    .when(When::cap(&["CAP_SYS_PTRACE"])),
    Group::allow(&["iopl", "ioperm"]).when(When::cap(&["CAP_SYS_RAWIO"])),
    Group::allow(&["settimeofday", "stime", "clock_settime"])
        .when(When::cap(&["CAP_SYS_TIME"])),
    Group::allow(&["vhangup"]).when(When::cap(&["CAP_SYS_TTY_CONFIG"])),
    // CAP_SYS_NICE: NUMA memory policies.
    Group::allow(&["get_mempolicy", "mbind", "set_mempolicy"])
        .when(When::cap(&["CAP_SYS_NICE"])),
    Group::allow(&["syslog"]).when(When::cap(&["CAP_SYSLOG"])),
    // Not in Docker 20.10 (see the module documentation): the capabilities
    // that split BPF and perf events out of CAP_SYS_ADMIN (Linux 5.8).
    Group::allow(&["bpf"]).when(When::cap(&["CAP_BPF"])),
    Group::allow(&["perf_event_open"]).when(When::cap(&["CAP_PERFMON"])),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(c: &[&str]) -> Vec<String> {
        c.iter().map(|s| (*s).to_owned()).collect()
    }

    /// The rules naming `name`: (action, errno, number of arg conditions).
    fn rules_for(p: &LinuxSeccomp, name: &str) -> Vec<(LinuxSeccompAction, Option<u32>, usize)> {
        p.syscalls()
            .iter()
            .flatten()
            .filter(|r| r.names().iter().any(|n| n == name))
            .map(|r| {
                (
                    r.action(),
                    r.errno_ret(),
                    r.args().as_ref().map_or(0, Vec::len),
                )
            })
            .collect()
    }

    const NEW: KernelVersion = KernelVersion { major: 6, minor: 1 };
    const OLD: KernelVersion = KernelVersion { major: 4, minor: 4 };

    #[test]
    fn kernel_versions_parse_like_dockerd() {
        let v = |major, minor| Some(KernelVersion { major, minor });
        assert_eq!(KernelVersion::parse("6.1.0-18-amd64"), v(6, 1));
        assert_eq!(KernelVersion::parse("4.8"), v(4, 8));
        assert_eq!(KernelVersion::parse("3.12-1-amd64"), v(3, 12));
        assert_eq!(KernelVersion::parse("6.18.44-fc-v657"), v(6, 18));
        assert_eq!(KernelVersion::parse("6"), None);
        assert_eq!(KernelVersion::parse("x.1"), None);
        assert_eq!(KernelVersion::parse("6.x"), None);
        assert!(KernelVersion { major: 5, minor: 0 } > KernelVersion { major: 4, minor: 8 });
        assert!(KernelVersion::running().is_some());
    }

    #[test]
    fn ptrace_needs_cap_sys_ptrace_before_4_8() {
        let allow = (LinuxSeccompAction::ScmpActAllow, None, 0);
        let default = caps(&DEFAULT_CAPABILITIES);
        assert_eq!(
            rules_for(&default_profile_for_kernel(&default, NEW), "ptrace"),
            [allow]
        );
        assert_eq!(
            rules_for(&default_profile_for_kernel(&default, OLD), "ptrace"),
            []
        );
        let traced = caps(&["CAP_SYS_PTRACE"]);
        assert_eq!(
            rules_for(&default_profile_for_kernel(&traced, OLD), "ptrace"),
            [allow]
        );
    }

    #[test]
    fn clone_is_filtered_unless_cap_sys_admin() {
        let none = default_profile_for_kernel(&[], NEW);
        assert_eq!(
            rules_for(&none, "clone"),
            [(LinuxSeccompAction::ScmpActAllow, None, 1)]
        );
        assert_eq!(
            rules_for(&none, "clone3"),
            [(LinuxSeccompAction::ScmpActErrno, Some(ENOSYS), 0)]
        );
        assert_eq!(rules_for(&none, "unshare"), []);
        let admin = default_profile_for_kernel(&caps(&["CAP_SYS_ADMIN"]), NEW);
        for name in ["clone", "clone3", "unshare", "mount", "setns"] {
            assert_eq!(
                rules_for(&admin, name),
                [(LinuxSeccompAction::ScmpActAllow, None, 0)],
                "{name}"
            );
        }
    }

    #[test]
    fn personality_is_allowed_once_per_persona() {
        let p = default_profile_for_kernel(&[], NEW);
        assert_eq!(
            rules_for(&p, "personality"),
            vec![(LinuxSeccompAction::ScmpActAllow, None, 1); PERSONALITIES.len()]
        );
    }

    #[test]
    fn every_name_is_listed_once_per_group() {
        for g in GROUPS {
            let mut names = g.names.to_vec();
            names.sort_unstable();
            let before = names.len();
            names.dedup();
            assert_eq!(before, names.len(), "duplicate in {:?}", g.names);
        }
    }

    #[test]
    fn default_action_is_eperm_and_architectures_are_the_hosts() {
        let p = default_profile(&caps(&DEFAULT_CAPABILITIES));
        assert_eq!(p.default_action(), LinuxSeccompAction::ScmpActErrno);
        assert_eq!(p.default_errno_ret(), None, "EPERM, as Docker leaves it");
        if cfg!(target_arch = "x86_64") {
            assert_eq!(
                p.architectures().as_deref(),
                Some(&[Arch::ScmpArchX86_64, Arch::ScmpArchX86, Arch::ScmpArchX32][..])
            );
        }
        assert!(p.flags().is_none());
        crate::validate(&p).expect("the default profile is valid");
    }
}
