//! Container routes. Containers arrive with the containers issue; until
//! then the list is empty and every container lookup answers Docker's
//! "No such container" (which the docker CLI's generic `inspect` relies on
//! to fall through to images).

use http::StatusCode;

use crate::error::ApiError;
use crate::response::{self, Response};
use crate::router::Ctx;

/// `GET /containers/json`: no containers exist yet.
pub fn list(_ctx: &Ctx) -> Response {
    response::json(StatusCode::OK, &Vec::<serde_json::Value>::new())
}

pub fn no_such_container(id: &str) -> ApiError {
    ApiError::not_found(format!("No such container: {id}"))
}
