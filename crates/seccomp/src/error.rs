//! The crate-level error, gathering each module's error, and the category
//! ([`ErrorKind`]) a caller maps to an exit code or an API status.

use crate::{
    cache::CacheError, compile::CompileError, install::InstallError, listener::ListenerError,
    program::DecodeError, validate::ValidationError,
};

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Broad category of an [`Error`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Something the request names does not exist (e.g. the listener socket).
    NotFound,
    /// The profile, or bytes claiming to be a program, are invalid.
    Invalid,
    /// Anything else: libseccomp, the kernel or the file system failed.
    Other,
}

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The profile is semantically invalid or asks for something unsupported.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// libseccomp could not build the filter.
    #[error(transparent)]
    Compile(#[from] CompileError),
    /// Bytes given to [`Program::from_bytes`](crate::Program::from_bytes) are
    /// not a program this version wrote.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The kernel refused the filter.
    #[error(transparent)]
    Install(#[from] InstallError),
    /// The on-disk cache could not be read or written.
    #[error(transparent)]
    Cache(#[from] CacheError),
    /// The listener fd could not be handed to the seccomp agent.
    #[error(transparent)]
    Listener(#[from] ListenerError),
}

impl Error {
    /// The category of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Invalid(_) | Error::Decode(_) => ErrorKind::Invalid,
            Error::Listener(e) if e.is_not_found() => ErrorKind::NotFound,
            Error::Listener(ListenerError::Serialize { .. }) => ErrorKind::Invalid,
            _ => ErrorKind::Other,
        }
    }
}
