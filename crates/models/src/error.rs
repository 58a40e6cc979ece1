//! The error body of every failed request (moby `common.ErrorResponse`):
//! `{"message": "..."}`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ErrorResponse {
    pub message: String,
}

/// `{"Id": "..."}` (moby `common.IDResponse`), e.g. the answer of a commit.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct IdResponse {
    #[serde(rename = "Id")]
    pub id: String,
}
