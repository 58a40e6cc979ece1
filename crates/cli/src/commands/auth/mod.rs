//! `berth login` / `berth logout`, and the registry credentials pull and
//! push send (`X-Registry-Auth`, resolved from the client config as
//! docker resolves them).

pub mod login;
pub mod logout;

use crate::app::App;
use crate::config::credentials::{self, auth_key};
use crate::error::CliError;

/// The `X-Registry-Auth` value for images on `domain` (empty credentials
/// when none are stored or the store fails, as docker does).
pub fn registry_auth_header(app: &App, domain: &str) -> Result<String, CliError> {
    let cfg = app.config()?;
    let auth = credentials::get(&cfg, &auth_key(domain)).unwrap_or_default();
    Ok(auth.encode_header())
}
