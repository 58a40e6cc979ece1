//! Error categories shared by every module of the crate, and [`ErrorList`],
//! what a best-effort teardown returns: it keeps cleaning up after a failure
//! and reports every step that failed.

use std::fmt;

/// What kind of failure an error is, so the API layer can pick a status code
/// (404, 409, 400, 500) without knowing which module failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Category {
    /// Something named does not exist (404).
    NotFound,
    /// The request collides with existing state: an address in use, an
    /// overlapping subnet, a bound port (409, or 403 where Docker says so).
    Conflict,
    /// The request itself is malformed or impossible (400).
    InvalidArgument,
    /// The kernel or a tool failed (500).
    Internal,
}

/// The failures of a teardown that carried on past them. Empty means
/// everything was removed.
#[derive(Debug, Default)]
pub struct ErrorList {
    errors: Vec<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl ErrorList {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records the error of a step, if it failed.
    pub fn note<T, E>(&mut self, result: Result<T, E>) -> Option<T>
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.errors.push(Box::new(e));
                None
            }
        }
    }

    /// Takes over every error of another list.
    pub fn extend(&mut self, other: ErrorList) {
        self.errors.extend(other.errors);
    }

    /// True when no step failed.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// The errors, in the order the steps ran.
    pub fn errors(&self) -> &[Box<dyn std::error::Error + Send + Sync + 'static>] {
        &self.errors
    }

    /// `Ok(())` when empty, else the list itself as the error.
    pub fn into_result(self) -> Result<(), ErrorList> {
        if self.is_empty() { Ok(()) } else { Err(self) }
    }
}

impl fmt::Display for ErrorList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} cleanup step(s) failed", self.errors.len())?;
        for (i, e) in self.errors.iter().enumerate() {
            write!(f, "{} {e}", if i == 0 { ":" } else { ";" })?;
            let mut source = e.source();
            while let Some(s) = source {
                write!(f, ": {s}")?;
                source = s.source();
            }
        }
        Ok(())
    }
}

impl std::error::Error for ErrorList {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_list_keeps_every_failure_with_its_causes() {
        let mut list = ErrorList::new();
        assert_eq!(list.note(Ok::<_, std::io::Error>(3)), Some(3));
        list.note(Err::<(), _>(std::io::Error::other("first")));
        list.note(Err::<(), _>(std::io::Error::other("second")));
        assert_eq!(list.errors().len(), 2);
        assert_eq!(list.to_string(), "2 cleanup step(s) failed: first; second");
        assert!(list.into_result().is_err());
        assert!(ErrorList::new().into_result().is_ok());
    }
}
