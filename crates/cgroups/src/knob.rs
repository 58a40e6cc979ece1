//! Writing one resource knob while applying `linux.resources`: failures name the OCI field.

use std::path::Path;

use crate::cgroup_file::{self, FileError};
use crate::error::{Error, Result};

/// Wrap a write failure of `field`.
pub(crate) fn apply_err(field: &str) -> impl FnOnce(FileError) -> Error + '_ {
    move |source| Error::Apply {
        field: field.to_owned(),
        source,
    }
}

/// Write `value` to `dir/file` for OCI `field`.
pub(crate) fn set(dir: &Path, file: &str, value: &str, field: &str) -> Result<()> {
    cgroup_file::write(dir, file, value).map_err(apply_err(field))
}

/// Write `value` to `dir/file` for OCI `field`; a missing file is [`Error::KnobUnavailable`].
pub(crate) fn set_required(dir: &Path, file: &str, value: &str, field: &str) -> Result<()> {
    match cgroup_file::write(dir, file, value) {
        Ok(()) => Ok(()),
        Err(e) if e.is_not_found() => Err(Error::KnobUnavailable {
            field: field.to_owned(),
            file: dir.join(file),
        }),
        Err(e) => Err(apply_err(field)(e)),
    }
}

/// Whether a write failed with `errno`.
pub(crate) fn is_errno(e: &Error, errno: i32) -> bool {
    matches!(e, Error::Apply { source, .. } if source.errno() == Some(errno))
}
