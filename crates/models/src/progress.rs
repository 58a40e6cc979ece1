//! One object of a progress stream: the bodies of pull, push, load and
//! import (moby `jsonstream.Message`, `jsonmessage.JSONMessage`).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct JsonMessage {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub stream: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub status: String,
    #[serde(
        rename = "progressDetail",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub progress_detail: Option<ProgressDetail>,
    /// The bar as text, for clients that print it as is (docker-py users).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub progress: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    #[serde(
        rename = "errorDetail",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub error_detail: Option<ErrorDetail>,
    /// The error message again, for old clients.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub error: String,
    /// Out-of-band data: the pushed tag/digest/size, a loaded image id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aux: Option<serde_json::Value>,
}

/// `{}` (an empty detail starts a layer's line) or `{"current", "total"}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ProgressDetail {
    #[serde(default, skip_serializing_if = "is_zero")]
    pub current: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub total: i64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ErrorDetail {
    #[serde(default, skip_serializing_if = "is_zero")]
    pub code: i64,
    #[serde(default)]
    pub message: String,
}

fn is_zero(v: &i64) -> bool {
    *v == 0
}

impl JsonMessage {
    /// A status line, optionally about one layer or object (`id`).
    pub fn status(id: impl Into<String>, status: impl Into<String>) -> Self {
        JsonMessage {
            id: id.into(),
            status: status.into(),
            ..Default::default()
        }
    }

    /// An error that ends the stream.
    pub fn error(message: impl Into<String>) -> Self {
        let message = message.into();
        JsonMessage {
            error_detail: Some(ErrorDetail {
                code: 0,
                message: message.clone(),
            }),
            error: message,
            ..Default::default()
        }
    }
}
