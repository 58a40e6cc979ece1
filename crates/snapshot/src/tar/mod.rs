//! The tar format as layers use it: a streaming reader ([`TarReader`]) that resolves GNU long
//! names and PAX extended headers (paths, link targets, sizes, ids, sub-second times and
//! `SCHILY.xattr.*` extended attributes) into one [`Entry`] per file, and a writer
//! ([`TarWriter`]) that emits USTAR headers with PAX records where USTAR cannot hold a value.
//!
//! Only what layers need is supported: regular files, directories, symbolic and hard links,
//! character and block devices and fifos. Sparse files (GNU `S` entries and the PAX
//! `GNU.sparse.*` formats) are refused with a clear error; PAX global headers are ignored, as
//! Docker and containerd do.

mod entry;
mod header;
mod reader;
mod writer;

pub use entry::{Entry, EntryKind, Timestamp};
pub use reader::{TarError, TarReader};
pub use writer::TarWriter;
