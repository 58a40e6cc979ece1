//! The one error type of every handler: a status code and the message
//! Docker clients print ("Error response from daemon: <message>"). Engine
//! errors become one by their [`Kind`]; internal details beyond the message
//! are logged, not sent.

use berth_engine::{ErrorKind, Kind};
use http::StatusCode;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }

    /// 400 with `message`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    /// 404 with `message`.
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }

    /// 500 with `message`.
    pub fn internal(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    /// Any engine error: the status from its kind, the message from its
    /// `Display` and the chain of its sources (what dockerd shows too).
    pub fn from_engine<E>(e: &E) -> Self
    where
        E: ErrorKind + std::error::Error,
    {
        let status = status_of(e.kind());
        let message = chain(e);
        if status.is_server_error() {
            tracing::error!("{message}");
        }
        ApiError::new(status, message)
    }
}

/// Docker's status for each error category (moby `httpstatus.FromError`).
pub fn status_of(kind: Kind) -> StatusCode {
    match kind {
        Kind::NotFound => StatusCode::NOT_FOUND,
        Kind::InvalidArgument => StatusCode::BAD_REQUEST,
        Kind::Conflict => StatusCode::CONFLICT,
        Kind::Unauthorized => StatusCode::UNAUTHORIZED,
        Kind::Forbidden => StatusCode::FORBIDDEN,
        Kind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Kind::NotModified => StatusCode::NOT_MODIFIED,
        Kind::NotImplemented => StatusCode::NOT_IMPLEMENTED,
        Kind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// `e: cause: cause…`, skipping a source whose text the previous message
/// already ends with (transparent wrappers).
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !text.is_empty() && !message.ends_with(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = s.source();
    }
    message
}

impl From<berth_models::filters::FilterError> for ApiError {
    fn from(e: berth_models::filters::FilterError) -> Self {
        ApiError::bad_request(e.to_string())
    }
}
