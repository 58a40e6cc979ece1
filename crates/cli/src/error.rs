//! The errors a command ends with, each printed the way docker prints it
//! (`Error response from daemon: …`, `template parsing error: …`, usage
//! errors with the usage line) and mapped to docker's exit status: 125 for
//! flag errors, the code of a status error, 1 otherwise.

use crate::client::{Category, ClientError};
use crate::config::ConfigError;
use crate::config::credentials::CredentialsError;
use crate::format::FormatError;
use crate::progress::ProgressError;
use crate::reference::ReferenceError;

/// A command's failure.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A flag error (unknown flag, missing value): exit 125.
    #[error("{0}")]
    Flags(String),
    /// Wrong arguments or conflicting options, worded as docker does: exit 1.
    #[error("{0}")]
    Usage(String),
    /// The API call failed.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// `--format` failed.
    #[error(transparent)]
    Format(#[from] FormatError),
    /// The daemon's message stream reported an error or broke.
    #[error(transparent)]
    Progress(#[from] ProgressError),
    /// The client configuration file.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A credential store.
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
    /// An image reference that does not parse.
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    /// docker's `StatusError`: a message (possibly empty) and an exit code.
    #[error("{message}")]
    Status {
        /// Printed on stderr when not empty.
        message: String,
        /// The exit code.
        code: i32,
    },
    /// A local file or stream (worded as Go words system errors:
    /// `open x: no such file or directory`).
    #[error("{what}: {}", go_error(source))]
    Io {
        /// What was being done (`open rootfs.tar`).
        what: String,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// Starting the daemon failed.
    #[error(transparent)]
    Autostart(#[from] crate::autostart::AutostartError),
}

/// An I/O error as Go prints it: the system's message in lower case,
/// without Rust's `(os error N)`.
pub fn go_error(e: &std::io::Error) -> String {
    let text = e.to_string();
    let text = match text.find(" (os error ") {
        Some(i) => text[..i].to_string(),
        None => text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(c) if e.raw_os_error().is_some() => {
            c.to_lowercase().collect::<String>() + chars.as_str()
        }
        _ => text,
    }
}

impl CliError {
    /// docker's exit status for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Flags(_) => 125,
            CliError::Status { code, .. } => *code,
            _ => 1,
        }
    }

    /// The category (not found / invalid / other) of the underlying cause.
    pub fn category(&self) -> Category {
        match self {
            CliError::Client(c) => c.category(),
            CliError::Flags(_) | CliError::Usage(_) | CliError::Reference(_) => Category::Invalid,
            _ => Category::Other,
        }
    }

    /// An I/O error with what was being done.
    pub fn io(what: impl Into<String>, source: std::io::Error) -> CliError {
        CliError::Io {
            what: what.into(),
            source,
        }
    }
}
