//! The shim's error type and the category berthd maps to an exit code or an
//! API status. Runtime failures cross the control socket as (kind,
//! message), so they keep their category.

use serde::{Deserialize, Serialize};

/// Category of a [`ShimError::Runtime`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// The program to run does not exist (Docker exit code 127).
    ExecutableNotFound,
    /// The program exists but cannot be executed: permission denied, a
    /// directory, not executable (Docker exit code 126).
    PermissionDenied,
    /// The request names something that does not exist (an exec id).
    NotFound,
    /// The request or the configuration is invalid.
    InvalidArgument,
    /// The container is not in a state that allows the operation.
    FailedPrecondition,
    /// A name in use (an exec id, a container id under the runtime root).
    AlreadyExists,
    /// Anything else (Docker exit code 125 at start).
    Other,
}

impl ErrorKind {
    /// The exit code `docker run` uses for a container that could not
    /// start for this reason.
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorKind::ExecutableNotFound => 127,
            ErrorKind::PermissionDenied => 126,
            _ => 125,
        }
    }

    /// The kind of a runtime error. A failing `execve` or executable lookup
    /// is recognized by the runtime's message, which follows runc's (as
    /// Docker recognizes runc's).
    pub fn of_runtime(e: &berth_runtime::Error) -> ErrorKind {
        use berth_runtime::ErrorKind as K;
        if let berth_runtime::Error::Init(msg) = e {
            return Self::of_exec_message(msg);
        }
        match e.kind() {
            K::NotFound => ErrorKind::NotFound,
            K::AlreadyExists => ErrorKind::AlreadyExists,
            K::InvalidArgument => ErrorKind::InvalidArgument,
            K::FailedPrecondition => ErrorKind::FailedPrecondition,
            _ => ErrorKind::Other,
        }
    }

    /// Classify a message from the container side (`exec: "x": ...`).
    pub fn of_exec_message(msg: &str) -> ErrorKind {
        if !msg.contains("exec") {
            return ErrorKind::Other;
        }
        if msg.contains("executable file not found")
            || msg.contains("no such file or directory")
            || msg.contains("No such file or directory")
        {
            ErrorKind::ExecutableNotFound
        } else if msg.contains("permission denied")
            || msg.contains("Permission denied")
            || msg.contains("exec format error")
            || msg.contains("Exec format error")
            || msg.contains("is a directory")
        {
            ErrorKind::PermissionDenied
        } else {
            ErrorKind::Other
        }
    }
}

/// Everything a shim call can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ShimError {
    /// No shim answers in that state directory (it exited, or never ran).
    #[error("the shim for {state_dir} is not running")]
    NotRunning {
        /// The state directory.
        state_dir: std::path::PathBuf,
    },
    /// The shim (or the runtime inside it) refused or failed the request.
    #[error("{message}")]
    Runtime {
        /// Its category.
        kind: ErrorKind,
        /// What happened, as the runtime says it.
        message: String,
    },
    /// A local I/O step failed; `step` names it.
    #[error("{step}: {source}")]
    Io {
        /// What was being done.
        step: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The shim answered something that is not the protocol.
    #[error("shim protocol error: {0}")]
    Protocol(String),
}

impl ShimError {
    /// The category, for a [`ShimError::Runtime`]; `Other` for the rest.
    pub fn kind(&self) -> ErrorKind {
        match self {
            ShimError::Runtime { kind, .. } => *kind,
            ShimError::NotRunning { .. } => ErrorKind::FailedPrecondition,
            _ => ErrorKind::Other,
        }
    }

    pub(crate) fn io(step: impl Into<String>, source: impl Into<std::io::Error>) -> ShimError {
        ShimError::Io {
            step: step.into(),
            source: source.into(),
        }
    }
}

impl From<&berth_runtime::Error> for ShimError {
    fn from(e: &berth_runtime::Error) -> ShimError {
        ShimError::Runtime {
            kind: ErrorKind::of_runtime(e),
            message: e.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_messages() {
        let k = ErrorKind::of_exec_message;
        assert_eq!(
            k("exec: \"nope\": executable file not found in $PATH"),
            ErrorKind::ExecutableNotFound
        );
        assert_eq!(
            k("exec: \"/nope\": stat /nope: no such file or directory"),
            ErrorKind::ExecutableNotFound
        );
        assert_eq!(
            k("exec: \"/etc\": permission denied"),
            ErrorKind::PermissionDenied
        );
        assert_eq!(k("mount /proc: EPERM"), ErrorKind::Other);
        assert_eq!(ErrorKind::ExecutableNotFound.exit_code(), 127);
        assert_eq!(ErrorKind::PermissionDenied.exit_code(), 126);
        assert_eq!(ErrorKind::Other.exit_code(), 125);
    }
}
