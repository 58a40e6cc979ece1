//! `login`: what dockerd's `POST /auth` does — check credentials against a registry.
//!
//! `GET /v2/` at the server; with no challenge the registry needs no login and any credentials
//! "succeed" (as with docker); with a Basic challenge the credentials are sent and `/v2/` must
//! answer 200; with a Bearer challenge a token is fetched with them (asking for offline access,
//! so the token server may return a refresh token: the identity token docker stores instead of
//! the password) and `/v2/` must accept it.

use crate::auth::{basic_header, fetch_token};
use crate::challenge::Challenge;
use crate::client::{Call, Client, status_error};
use crate::config::RegistryConfig;
use crate::credentials::Credentials;
use crate::error::{Error, Result, StatusError};

/// The status docker prints.
pub const LOGIN_SUCCEEDED: &str = "Login Succeeded";

/// The outcome of a successful [`login`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoginResult {
    /// `Login Succeeded`.
    pub status: String,
    /// A refresh token the client may store instead of the password.
    pub identity_token: Option<String>,
}

/// The registry domain of what a user passes to `docker login`: `localhost:5000`,
/// `https://index.docker.io/v1/`, `http://host:5000/`, `docker.io`. Empty means Docker Hub.
pub fn server_domain(server: &str) -> String {
    let s = server.trim();
    let s = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .unwrap_or(s);
    let host = s.split('/').next().unwrap_or("").to_ascii_lowercase();
    match host.as_str() {
        "" | "index.docker.io" | "registry-1.docker.io" => "docker.io".to_string(),
        _ => host,
    }
}

/// Checks `credentials` against the registry `server` with a fresh [`Client`].
pub fn login(
    config: RegistryConfig,
    server: &str,
    credentials: Credentials,
) -> Result<LoginResult> {
    Client::new(config).login(server, &credentials)
}

impl Client {
    /// Checks `credentials` against the registry `server` (see the [module docs](self)).
    /// Wrong credentials give an [`ErrorKind::Unauthorized`](crate::ErrorKind) error,
    /// `unauthorized: incorrect username or password` when the registry says nothing better.
    pub fn login(&self, server: &str, credentials: &Credentials) -> Result<LoginResult> {
        let domain = server_domain(server);
        let host = self.host(&domain)?;
        let url = format!("{}/v2/", host.base);
        let (authorization, identity_token) = match host.challenge() {
            None => (None, None),
            Some(Challenge::Basic) => match credentials.basic_pair() {
                Some((u, p)) => (Some(basic_header(u, p)), None),
                None => return Err(Error::CredentialsRequired { url }),
            },
            Some(Challenge::Bearer { realm, service, .. }) => {
                let token = fetch_token(self, &realm, service.as_deref(), &[], credentials, true)?;
                (Some(format!("Bearer {}", token.token)), token.refresh_token)
            }
        };
        let mut call = Call::new("GET", url.clone());
        if let Some(a) = authorization {
            call = call.header("authorization", a);
        }
        let resp = self.send_plain(&host.agent, &mut call)?;
        if resp.status().is_success() {
            return Ok(LoginResult {
                status: LOGIN_SUCCEEDED.to_string(),
                identity_token,
            });
        }
        match status_error("GET", &url, resp) {
            Error::Status(s) if s.status == 401 => Err(Error::Status(Box::new(StatusError {
                errors: vec![crate::error::ErrorDetail {
                    code: "UNAUTHORIZED".into(),
                    message: "incorrect username or password".into(),
                    detail: None,
                }],
                ..*s
            }))),
            other => Err(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_names() {
        assert_eq!(server_domain("https://index.docker.io/v1/"), "docker.io");
        assert_eq!(server_domain(""), "docker.io");
        assert_eq!(server_domain("localhost:5000"), "localhost:5000");
        assert_eq!(server_domain("http://127.0.0.1:5000/"), "127.0.0.1:5000");
        assert_eq!(
            server_domain("Registry.Example.com"),
            "registry.example.com"
        );
    }
}
