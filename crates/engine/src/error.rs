//! The engine's error categories. Every error the engine returns knows its
//! [`Kind`], which the API turns into Docker's status code, and its message
//! is what the client prints after "Error response from daemon: ".

/// What went wrong, in the terms a client can act on (moby `errdefs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// 404: no such image, container…
    NotFound,
    /// 400: the request itself is wrong.
    InvalidArgument,
    /// 409: the object is in a state that forbids this (in use, exists).
    Conflict,
    /// 401: the registry refused the credentials.
    Unauthorized,
    /// 403: the registry denied the operation.
    Forbidden,
    /// 503: a remote (registry) could not be reached.
    Unavailable,
    /// 304: already in the state asked for (start a running container).
    NotModified,
    /// 501: not supported by Berth.
    NotImplemented,
    /// 500: anything else; a bug or a host failure.
    Internal,
}

/// Implemented by every error type the engine exposes.
pub trait ErrorKind {
    fn kind(&self) -> Kind;
}
