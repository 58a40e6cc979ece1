//! The crate-level error, and the category ([`ErrorKind`]) a caller can map to
//! an exit code or an API status without knowing which step failed.

/// Result alias for the runtime library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Broad category of an [`Error`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The container (or a file the request names) does not exist.
    NotFound,
    /// A container with that id exists already.
    AlreadyExists,
    /// The request or the configuration is invalid.
    InvalidArgument,
    /// The container is not in a state that allows the operation.
    FailedPrecondition,
    /// Anything else: a syscall or a hook failed.
    Other,
}

/// Everything that can go wrong in the runtime library.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A container id with characters runc would refuse.
    #[error(
        "invalid container id {0:?}: an id is 1 to 1024 characters from [a-zA-Z0-9_+.-] and is not . or .."
    )]
    InvalidId(String),
    /// `create` with an id that is taken.
    #[error("container with id exists: {0}")]
    Exists(String),
    /// No state for that id under the runtime root.
    #[error("container does not exist: {0}")]
    NotFound(String),
    /// `config.json` could not be read or parsed.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The configuration parsed but asks for something invalid or unsupported.
    #[error("invalid configuration: {field}: {reason}")]
    InvalidConfig {
        /// The JSON path of the field, e.g. `linux.namespaces[2].path`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A command-line value that cannot be used.
    #[error("{0}")]
    InvalidArgument(String),
    /// The operation does not apply to a container in this state.
    #[error("cannot {op} container {id}: container is {status}")]
    BadState {
        /// The attempted operation.
        op: &'static str,
        /// The container.
        id: String,
        /// Its status at the time.
        status: String,
    },
    /// The runtime state on disk could not be read or written.
    #[error(transparent)]
    State(#[from] crate::state::StateError),
    /// A cgroup operation failed.
    #[error(transparent)]
    Cgroups(#[from] berth_cgroups::Error),
    /// A seccomp profile could not be compiled or loaded.
    #[error(transparent)]
    Seccomp(#[from] berth_seccomp::Error),
    /// A hook failed or timed out.
    #[error(transparent)]
    Hook(#[from] crate::hooks::HookError),
    /// The container's init (or an exec'd process) reported a failure while
    /// setting itself up; the message comes from inside the container.
    #[error("{0}")]
    Init(String),
    /// A syscall or file operation failed; `step` names what was attempted.
    #[error("{step}: {source}")]
    Os {
        /// What was being done, with the path or value involved.
        step: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Creation failed, and tearing down what was made failed too.
    #[error("{error} (cleanup also failed: {cleanup})")]
    CleanupFailed {
        /// The original failure.
        error: Box<Error>,
        /// What could not be cleaned up.
        cleanup: String,
    },
}

impl Error {
    /// The category of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::NotFound(_) => ErrorKind::NotFound,
            Error::Exists(_) => ErrorKind::AlreadyExists,
            Error::InvalidId(_)
            | Error::Config(_)
            | Error::InvalidConfig { .. }
            | Error::InvalidArgument(_) => ErrorKind::InvalidArgument,
            Error::BadState { .. } => ErrorKind::FailedPrecondition,
            Error::CleanupFailed { error, .. } => error.kind(),
            Error::Cgroups(e) if e.category() == berth_cgroups::Category::Invalid => {
                ErrorKind::InvalidArgument
            }
            Error::Seccomp(e) if e.kind() == berth_seccomp::ErrorKind::Invalid => {
                ErrorKind::InvalidArgument
            }
            _ => ErrorKind::Other,
        }
    }

    /// Shorthand for an [`Error::InvalidConfig`].
    pub fn config(field: impl Into<String>, reason: impl Into<String>) -> Error {
        Error::InvalidConfig {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// Shorthand for an [`Error::Os`] from a rustix or std error.
    pub fn os(step: impl Into<String>, source: impl Into<std::io::Error>) -> Error {
        Error::Os {
            step: step.into(),
            source: source.into(),
        }
    }
}

/// Adds a step description to OS errors: `.step(|| format!("open {path}"))`.
pub trait OsContext<T> {
    /// Wrap the error in [`Error::Os`] with the step `f` describes.
    fn step<S: Into<String>>(self, f: impl FnOnce() -> S) -> Result<T>;
}

impl<T, E: Into<std::io::Error>> OsContext<T> for std::result::Result<T, E> {
    fn step<S: Into<String>>(self, f: impl FnOnce() -> S) -> Result<T> {
        self.map_err(|e| Error::os(f(), e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_field_and_the_id() {
        let e = Error::config("linux.namespaces[2].type", "unknown namespace \"foo\"");
        assert_eq!(
            e.to_string(),
            "invalid configuration: linux.namespaces[2].type: unknown namespace \"foo\""
        );
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert_eq!(
            Error::Exists("abc".into()).to_string(),
            "container with id exists: abc"
        );
        assert_eq!(Error::NotFound("x".into()).kind(), ErrorKind::NotFound);
    }
}
