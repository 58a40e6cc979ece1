//! Semantic validation of a `linux.seccomp` object: the combinations the JSON
//! schema cannot express, and what the linked libseccomp or the running
//! kernel cannot do. Unknown enum strings (actions, operators, architectures,
//! flags) never get here: `oci_spec` refuses them while parsing.

use std::fmt;

use oci_spec::runtime::{
    Arch, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompFilterFlag, LinuxSeccompOperator,
};

use crate::{arch, filter_flags};

/// The largest errno `SCMP_ACT_ERRNO` can return (the kernel's `MAX_ERRNO`).
pub(crate) const MAX_ERRNO: u32 = 4095;

/// Syscalls the container process needs to hand its listener fd to the
/// runtime after the filter is installed; a notify rule on them would block
/// forever because nobody holds the listener yet.
const HANDOFF_SYSCALLS: [&str; 2] = ["write", "sendmsg"];

/// Longest `listenerPath`, in bytes: the size of `sockaddr_un.sun_path`.
const MAX_SOCKET_PATH: usize = 108;

/// A profile field that cannot be used, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("linux.seccomp.{field}: {problem}")]
pub struct ValidationError {
    /// The JSON path below `linux.seccomp`, e.g. `syscalls[3].args[2].op`.
    pub field: String,
    /// What is wrong with it.
    pub problem: Problem,
}

/// What is wrong with a profile field.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// `defaultErrnoRet`/`errnoRet` set on an action that returns no errno.
    ErrnoWithoutErrnoAction {
        /// The action that was given.
        action: LinuxSeccompAction,
    },
    /// An `SCMP_ACT_ERRNO` value above 4095.
    ErrnoOutOfRange {
        /// The value given.
        value: u32,
    },
    /// An `SCMP_ACT_TRACE` value that does not fit in 16 bits.
    TraceValueOutOfRange {
        /// The value given.
        value: u32,
    },
    /// `SCMP_ACT_NOTIFY` as the default action.
    NotifyAsDefault,
    /// `SCMP_ACT_NOTIFY` on a syscall needed to hand the listener fd out.
    NotifyOnHandoffSyscall {
        /// The syscall.
        name: String,
    },
    /// A rule uses `SCMP_ACT_NOTIFY` but `listenerPath` is not set.
    ListenerPathMissing {
        /// Index of the first notify rule.
        rule: usize,
    },
    /// `listenerPath` is the empty string.
    ListenerPathEmpty,
    /// `listenerPath` does not fit in a unix socket address.
    ListenerPathTooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// The architecture is unknown to the linked libseccomp.
    ArchUnsupported {
        /// The architecture.
        arch: Arch,
        /// libseccomp's version, `major.minor.micro`.
        libseccomp: String,
    },
    /// The running kernel refuses this filter flag.
    FlagUnsupported {
        /// The flag.
        flag: LinuxSeccompFilterFlag,
    },
    /// `SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV` without any notify rule.
    WaitKillableWithoutNotify,
    /// A syscall rule without names.
    NamesEmpty,
    /// An empty syscall name.
    NameEmpty,
    /// An argument index beyond the six a syscall has.
    ArgIndexOutOfRange {
        /// The index given.
        index: usize,
    },
    /// `valueTwo` given to an operator that ignores it.
    ValueTwoUnused {
        /// The operator.
        op: LinuxSeccompOperator,
        /// The ignored value.
        value_two: u64,
    },
    /// `SCMP_CMP_MASKED_EQ` whose datum has bits outside the mask.
    MaskedEqNeverMatches {
        /// The mask (`value`).
        mask: u64,
        /// The datum (`valueTwo`).
        datum: u64,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::ErrnoWithoutErrnoAction { action } => write!(
                f,
                "set, but the action is {action}: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno"
            ),
            Problem::ErrnoOutOfRange { value } => write!(
                f,
                "{value} is not an errno: SCMP_ACT_ERRNO values range from 0 to {MAX_ERRNO}"
            ),
            Problem::TraceValueOutOfRange { value } => write!(
                f,
                "{value} does not fit in the 16 bits SCMP_ACT_TRACE passes to the tracer"
            ),
            Problem::NotifyAsDefault => write!(
                f,
                "SCMP_ACT_NOTIFY cannot be the default action: the container process could not \
                 hand its listener fd to the runtime"
            ),
            Problem::NotifyOnHandoffSyscall { name } => write!(
                f,
                "{name:?} cannot use SCMP_ACT_NOTIFY: the container process needs it to hand its \
                 listener fd to the runtime"
            ),
            Problem::ListenerPathMissing { rule } => {
                write!(f, "required: syscalls[{rule}] uses SCMP_ACT_NOTIFY")
            }
            Problem::ListenerPathEmpty => write!(f, "is empty"),
            Problem::ListenerPathTooLong { len } => write!(
                f,
                "{len} bytes is longer than a unix socket address allows ({MAX_SOCKET_PATH})"
            ),
            Problem::ArchUnsupported { arch, libseccomp } => {
                write!(f, "{arch} is not supported by libseccomp {libseccomp}")
            }
            Problem::FlagUnsupported { flag } => {
                write!(f, "{flag} is not supported by the running kernel")
            }
            Problem::WaitKillableWithoutNotify => write!(
                f,
                "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV only applies to SCMP_ACT_NOTIFY rules, \
                 and the profile has none"
            ),
            Problem::NamesEmpty => write!(f, "must name at least one syscall"),
            Problem::NameEmpty => write!(f, "is empty"),
            Problem::ArgIndexOutOfRange { index } => write!(
                f,
                "argument index {index} is out of range: syscalls have 6 arguments (0 to 5)"
            ),
            Problem::ValueTwoUnused { op, value_two } => write!(
                f,
                "{op} ignores valueTwo ({value_two}); only SCMP_CMP_MASKED_EQ uses it"
            ),
            Problem::MaskedEqNeverMatches { mask, datum } => write!(
                f,
                "SCMP_CMP_MASKED_EQ can never match: valueTwo {datum:#x} has bits outside the mask \
                 (value) {mask:#x}"
            ),
        }
    }
}

fn invalid(field: impl Into<String>, problem: Problem) -> ValidationError {
    ValidationError {
        field: field.into(),
        problem,
    }
}

/// Checks a profile before anything is created. The error names the first
/// field at fault, e.g.
/// `linux.seccomp.syscalls[3].errnoRet: set, but the action is SCMP_ACT_ALLOW: ...`.
///
/// Besides the semantic combinations, this refuses architectures the linked
/// libseccomp cannot build and flags the running kernel refuses (probed once
/// per process; nothing is installed).
pub fn validate(s: &LinuxSeccomp) -> crate::Result<()> {
    validate_profile(s).map_err(crate::Error::from)
}

pub(crate) fn validate_profile(s: &LinuxSeccomp) -> Result<(), ValidationError> {
    let default = s.default_action();
    if default == LinuxSeccompAction::ScmpActNotify {
        return Err(invalid("defaultAction", Problem::NotifyAsDefault));
    }
    if let Some(errno) = s.default_errno_ret() {
        check_errno("defaultErrnoRet", default, errno)?;
    }

    for (i, &a) in s.architectures().iter().flatten().enumerate() {
        if !arch::supported(a) {
            return Err(invalid(
                format!("architectures[{i}]"),
                Problem::ArchUnsupported {
                    arch: a,
                    libseccomp: libseccomp_version(),
                },
            ));
        }
    }

    let mut first_notify = None;
    for (i, rule) in s.syscalls().iter().flatten().enumerate() {
        if rule.names().is_empty() {
            return Err(invalid(format!("syscalls[{i}].names"), Problem::NamesEmpty));
        }
        for (j, name) in rule.names().iter().enumerate() {
            if name.is_empty() {
                return Err(invalid(
                    format!("syscalls[{i}].names[{j}]"),
                    Problem::NameEmpty,
                ));
            }
            if rule.action() == LinuxSeccompAction::ScmpActNotify
                && HANDOFF_SYSCALLS.contains(&name.as_str())
            {
                return Err(invalid(
                    format!("syscalls[{i}].names[{j}]"),
                    Problem::NotifyOnHandoffSyscall { name: name.clone() },
                ));
            }
        }
        if rule.action() == LinuxSeccompAction::ScmpActNotify && first_notify.is_none() {
            first_notify = Some(i);
        }
        if let Some(errno) = rule.errno_ret() {
            check_errno(&format!("syscalls[{i}].errnoRet"), rule.action(), errno)?;
        }
        for (k, arg) in rule.args().iter().flatten().enumerate() {
            if arg.index() > 5 {
                return Err(invalid(
                    format!("syscalls[{i}].args[{k}].index"),
                    Problem::ArgIndexOutOfRange { index: arg.index() },
                ));
            }
            let value_two = arg.value_two().unwrap_or(0);
            match arg.op() {
                LinuxSeccompOperator::ScmpCmpMaskedEq if value_two & !arg.value() != 0 => {
                    return Err(invalid(
                        format!("syscalls[{i}].args[{k}].op"),
                        Problem::MaskedEqNeverMatches {
                            mask: arg.value(),
                            datum: value_two,
                        },
                    ));
                }
                LinuxSeccompOperator::ScmpCmpMaskedEq => {}
                op if value_two != 0 => {
                    return Err(invalid(
                        format!("syscalls[{i}].args[{k}].op"),
                        Problem::ValueTwoUnused { op, value_two },
                    ));
                }
                _ => {}
            }
        }
    }

    match (first_notify, s.listener_path()) {
        (Some(rule), None) => {
            return Err(invalid(
                "listenerPath",
                Problem::ListenerPathMissing { rule },
            ));
        }
        (_, Some(p)) if p.as_os_str().is_empty() => {
            return Err(invalid("listenerPath", Problem::ListenerPathEmpty));
        }
        (_, Some(p)) if p.as_os_str().len() > MAX_SOCKET_PATH => {
            return Err(invalid(
                "listenerPath",
                Problem::ListenerPathTooLong {
                    len: p.as_os_str().len(),
                },
            ));
        }
        _ => {}
    }

    for (i, &flag) in s.flags().iter().flatten().enumerate() {
        if flag == LinuxSeccompFilterFlag::SeccompFilterFlagWaitKillableRecv
            && first_notify.is_none()
        {
            return Err(invalid(
                format!("flags[{i}]"),
                Problem::WaitKillableWithoutNotify,
            ));
        }
        if !filter_flags::kernel_supports(flag) {
            return Err(invalid(
                format!("flags[{i}]"),
                Problem::FlagUnsupported { flag },
            ));
        }
    }
    Ok(())
}

fn check_errno(field: &str, action: LinuxSeccompAction, value: u32) -> Result<(), ValidationError> {
    match action {
        LinuxSeccompAction::ScmpActErrno if value > MAX_ERRNO => {
            Err(invalid(field, Problem::ErrnoOutOfRange { value }))
        }
        LinuxSeccompAction::ScmpActTrace if value > u32::from(u16::MAX) => {
            Err(invalid(field, Problem::TraceValueOutOfRange { value }))
        }
        LinuxSeccompAction::ScmpActErrno | LinuxSeccompAction::ScmpActTrace => Ok(()),
        action => Err(invalid(field, Problem::ErrnoWithoutErrnoAction { action })),
    }
}

/// The linked libseccomp's version, `major.minor.micro`.
pub(crate) fn libseccomp_version() -> String {
    match libseccomp::ScmpVersion::current() {
        Ok(v) => format!("{}.{}.{}", v.major, v.minor, v.micro),
        Err(_) => "(unknown version)".to_string(),
    }
}
