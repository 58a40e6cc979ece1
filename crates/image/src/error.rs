//! Error categories shared by every module of this crate.
//!
//! Each module has its own `thiserror` enum, named after the steps that fail
//! ([`DigestError`](crate::digest::DigestError), [`ReferenceError`](crate::reference::ReferenceError),
//! …). Every one of them has a `category()` that maps it to a [`Category`], which is all an API
//! layer needs to pick a status code (not found → 404, already exists → 409, invalid → 400,
//! other → 500) without knowing which module failed.

/// What kind of failure an error is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Category {
    /// The blob, image or file asked for does not exist.
    NotFound,
    /// The thing being created exists already (a blob being committed, a name being taken).
    AlreadyExists,
    /// The input is malformed: a bad reference, digest, manifest, archive, or a blob whose
    /// content does not match its digest.
    Invalid,
    /// Anything else: I/O failed, the disk is full, the kernel refused.
    Other,
}
