//! The error categories every error of this crate maps to, so that an API layer can pick a
//! status code without knowing which module failed (not found → 404, already exists and failed
//! precondition → 409, invalid → 400, other → 500).

/// What kind of failure an error is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Category {
    /// The snapshot, parent, path or link target does not exist.
    NotFound,
    /// A snapshot with that key or name already exists.
    AlreadyExists,
    /// The operation is valid but not in the current state: the snapshot is in use (it has
    /// children), is the wrong kind (commit of a view), or the store is locked by another process.
    FailedPrecondition,
    /// The input is malformed or hostile: a corrupt or truncated tar, a path escape, a bad key.
    Invalid,
    /// Anything else: the kernel refused, I/O failed.
    Other,
}

/// The category of an I/O error that came from reading an archive stream: corrupt or truncated
/// data is the input's fault, anything else (a failed read from the network or the disk) is not.
pub(crate) fn of_read_error(e: &std::io::Error) -> Category {
    match e.kind() {
        std::io::ErrorKind::InvalidData | std::io::ErrorKind::UnexpectedEof => Category::Invalid,
        _ => Category::Other,
    }
}
