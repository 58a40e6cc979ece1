//! `POST /auth` (`docker login`): checks credentials against a registry.
//! The client keeps them (in its config file or a credential helper);
//! berthd stores nothing.

use berth_models::auth::{AuthConfig, AuthResponse};
use berth_registry::Credentials;

use crate::Engine;
use crate::error::{ErrorKind, Kind};

/// Why a login failed.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("{0}")]
    Registry(#[source] berth_registry::Error),
    #[error("the auth field is not base64 of user:password")]
    BadAuthField,
}

impl ErrorKind for LoginError {
    fn kind(&self) -> Kind {
        match self {
            LoginError::Registry(e) => match e.kind() {
                berth_registry::ErrorKind::Unauthorized | berth_registry::ErrorKind::Denied => {
                    Kind::Unauthorized
                }
                berth_registry::ErrorKind::NotFound => Kind::NotFound,
                berth_registry::ErrorKind::Invalid => Kind::InvalidArgument,
                berth_registry::ErrorKind::Unavailable => Kind::Unavailable,
                _ => Kind::Internal,
            },
            LoginError::BadAuthField => Kind::InvalidArgument,
        }
    }
}

/// The credentials an `AuthConfig` carries.
pub fn credentials(auth: &AuthConfig) -> Result<Credentials, LoginError> {
    if !auth.identitytoken.is_empty() {
        return Ok(Credentials::identity_token(auth.identitytoken.clone()));
    }
    if !auth.registrytoken.is_empty() {
        return Ok(Credentials::registry_token(auth.registrytoken.clone()));
    }
    if !auth.username.is_empty() || !auth.password.is_empty() {
        return Ok(Credentials::basic(
            auth.username.clone(),
            auth.password.clone(),
        ));
    }
    if !auth.auth.is_empty() {
        use base64::Engine as _;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth.auth.trim())
            .map_err(|_| LoginError::BadAuthField)?;
        let text = String::from_utf8(decoded).map_err(|_| LoginError::BadAuthField)?;
        let (user, password) = text.split_once(':').ok_or(LoginError::BadAuthField)?;
        return Ok(Credentials::basic(user, password));
    }
    Ok(Credentials::anonymous())
}

impl Engine {
    pub fn login(&self, auth: &AuthConfig) -> Result<AuthResponse, LoginError> {
        let creds = credentials(auth)?;
        let result = self
            .registry
            .login(&auth.serveraddress, &creds)
            .map_err(LoginError::Registry)?;
        Ok(AuthResponse {
            status: result.status,
            identity_token: result.identity_token.unwrap_or_default(),
        })
    }
}
