//! Registry credentials, and docker's `X-Registry-Auth` header that carries them.
//!
//! The docker CLI sends credentials to the daemon as base64url-encoded JSON,
//! `{"username","password","serveraddress","identitytoken","registrytoken"}` (moby
//! `registry.AuthConfig`). [`Credentials`] holds exactly those fields; which of them are set
//! decides how the client authenticates:
//!
//! - `registry_token`: sent as `Authorization: Bearer <token>` as is, no challenge flow;
//! - `identity_token` (a refresh token from an earlier login): exchanged at the token server with
//!   an OAuth2 `refresh_token` grant;
//! - `username` + `password`: Basic auth, or a token fetched with Basic auth;
//! - none: anonymous.
//!
//! Decoding is tolerant like dockerd: an empty or undecodable header means anonymous.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};

/// Credentials for one registry. `Default` is anonymous. `Debug` never shows secrets.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Credentials {
    /// The user name (docker sets `<token>` when an identity token stands in for it).
    pub username: Option<String>,
    /// The password (or a personal access token used as one).
    pub password: Option<String>,
    /// The registry these were given for, as the user typed it (`serveraddress`).
    pub server_address: Option<String>,
    /// A refresh token from an earlier login (`identitytoken`).
    pub identity_token: Option<String>,
    /// A bearer token to send to the registry as is (`registrytoken`).
    pub registry_token: Option<String>,
}

/// The JSON of `X-Registry-Auth`, as docker writes it (empty fields omitted).
#[derive(Default, Serialize, Deserialize)]
struct AuthConfigJson {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    username: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    password: String,
    /// Old clients send `base64(user:pass)` here instead of the two fields.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    auth: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    serveraddress: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    identitytoken: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    registrytoken: String,
}

fn non_empty(s: String) -> Option<String> {
    if s.is_empty() { None } else { Some(s) }
}

impl Credentials {
    /// No credentials.
    pub fn anonymous() -> Credentials {
        Credentials::default()
    }

    /// A user name and password.
    pub fn basic(username: impl Into<String>, password: impl Into<String>) -> Credentials {
        Credentials {
            username: Some(username.into()),
            password: Some(password.into()),
            ..Credentials::default()
        }
    }

    /// A refresh token from an earlier [`login`](crate::login).
    pub fn identity_token(token: impl Into<String>) -> Credentials {
        Credentials {
            identity_token: Some(token.into()),
            ..Credentials::default()
        }
    }

    /// A bearer token sent to the registry as is.
    pub fn registry_token(token: impl Into<String>) -> Credentials {
        Credentials {
            registry_token: Some(token.into()),
            ..Credentials::default()
        }
    }

    /// True when nothing usable is set.
    pub fn is_anonymous(&self) -> bool {
        self.basic_pair().is_none()
            && self.identity_token.is_none()
            && self.registry_token.is_none()
    }

    /// The user name and password when both are usable for Basic auth.
    pub(crate) fn basic_pair(&self) -> Option<(&str, &str)> {
        match (&self.username, &self.password) {
            (Some(u), Some(p)) if !u.is_empty() => Some((u, p)),
            _ => None,
        }
    }

    /// Decodes docker's `X-Registry-Auth` header: base64url (or standard base64, padded or
    /// not) JSON. An empty, undecodable or non-JSON header gives anonymous credentials, as
    /// dockerd treats it. Surrounding whitespace is ignored; a legacy `auth` field
    /// (`base64(user:password)`) fills a missing user name and password.
    pub fn from_x_registry_auth(header: &str) -> Credentials {
        let header = header.trim();
        if header.is_empty() {
            return Credentials::default();
        }
        let Some(json) = [URL_SAFE, URL_SAFE_NO_PAD, STANDARD, STANDARD_NO_PAD]
            .iter()
            .find_map(|engine| engine.decode(header).ok())
        else {
            return Credentials::default();
        };
        let Ok(raw) = serde_json::from_slice::<AuthConfigJson>(&json) else {
            return Credentials::default();
        };
        let mut creds = Credentials {
            username: non_empty(raw.username),
            password: non_empty(raw.password),
            server_address: non_empty(raw.serveraddress),
            identity_token: non_empty(raw.identitytoken),
            registry_token: non_empty(raw.registrytoken),
        };
        if creds.username.is_none() && !raw.auth.is_empty() {
            let decoded = STANDARD
                .decode(raw.auth.trim())
                .or_else(|_| STANDARD_NO_PAD.decode(raw.auth.trim()));
            if let Ok(pair) = decoded.map(String::from_utf8)
                && let Ok(pair) = pair
                && let Some((user, pass)) = pair.split_once(':')
            {
                creds.username = non_empty(user.to_string());
                creds.password = Some(pass.to_string());
            }
        }
        creds
    }

    /// Encodes these credentials as docker's CLI does for `X-Registry-Auth`: base64url
    /// (padded) JSON with empty fields left out.
    pub fn to_x_registry_auth(&self) -> String {
        let raw = AuthConfigJson {
            username: self.username.clone().unwrap_or_default(),
            password: self.password.clone().unwrap_or_default(),
            auth: String::new(),
            serveraddress: self.server_address.clone().unwrap_or_default(),
            identitytoken: self.identity_token.clone().unwrap_or_default(),
            registrytoken: self.registry_token.clone().unwrap_or_default(),
        };
        // Serialising a struct of strings cannot fail.
        let json = serde_json::to_vec(&raw).unwrap_or_default();
        URL_SAFE.encode(json)
    }

    /// A key that tells these credentials apart without keeping the secrets in plain text:
    /// the token cache is keyed by it.
    pub(crate) fn cache_key(&self) -> String {
        let joined = [
            self.username.as_deref().unwrap_or(""),
            self.password.as_deref().unwrap_or(""),
            self.identity_token.as_deref().unwrap_or(""),
            self.registry_token.as_deref().unwrap_or(""),
        ]
        .join("\0");
        berth_image::Digest::sha256_of(joined.as_bytes())
            .hex()
            .to_string()
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secret = |s: &Option<String>| if s.is_some() { "<set>" } else { "<none>" };
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &secret(&self.password))
            .field("server_address", &self.server_address)
            .field("identity_token", &secret(&self.identity_token))
            .field("registry_token", &secret(&self.registry_token))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let c = Credentials {
            username: Some("bob".into()),
            password: Some("p?ss/+=".into()),
            server_address: Some("localhost:5000".into()),
            ..Credentials::default()
        };
        let h = c.to_x_registry_auth();
        assert!(!h.contains('+') && !h.contains('/'), "{h} is not base64url");
        assert_eq!(Credentials::from_x_registry_auth(&h), c);
        let t = Credentials::identity_token("refresh");
        assert_eq!(
            Credentials::from_x_registry_auth(&t.to_x_registry_auth()),
            t
        );
    }

    #[test]
    fn decodes_what_docker_clients_send() {
        let json =
            r#"{"username":"u","password":"p","serveraddress":"https://index.docker.io/v1/"}"#;
        for engine in [URL_SAFE, URL_SAFE_NO_PAD, STANDARD, STANDARD_NO_PAD] {
            let c = Credentials::from_x_registry_auth(&engine.encode(json));
            assert_eq!(c.basic_pair(), Some(("u", "p")));
            assert_eq!(
                c.server_address.as_deref(),
                Some("https://index.docker.io/v1/")
            );
        }
        // docker-py's legacy "auth" field.
        let legacy = URL_SAFE.encode(format!(r#"{{"auth":"{}"}}"#, STANDARD.encode("al:ice:pw")));
        let c = Credentials::from_x_registry_auth(&legacy);
        assert_eq!(c.basic_pair(), Some(("al", "ice:pw")));
        // An identity token alone (docker sends username "<token>" with it sometimes).
        let c = Credentials::from_x_registry_auth(
            &URL_SAFE.encode(r#"{"username":"<token>","identitytoken":"abc"}"#),
        );
        assert_eq!(c.identity_token.as_deref(), Some("abc"));
        assert!(!c.is_anonymous());
    }

    #[test]
    fn tolerant_like_dockerd() {
        for h in [
            "",
            "   ",
            "!!!notbase64",
            &URL_SAFE.encode("not json"),
            &URL_SAFE.encode("[1,2]"),
            &URL_SAFE.encode("{}"),
            &URL_SAFE.encode(r#"{"username":"","password":""}"#),
        ] {
            let c = Credentials::from_x_registry_auth(h);
            assert!(c.is_anonymous(), "{h:?} gave {c:?}");
        }
    }

    #[test]
    fn debug_hides_secrets_and_keys_differ() {
        let c = Credentials::basic("u", "hunter2");
        assert!(!format!("{c:?}").contains("hunter2"));
        assert_ne!(
            c.cache_key(),
            Credentials::basic("u", "hunter3").cache_key()
        );
        assert_eq!(
            c.cache_key(),
            Credentials::basic("u", "hunter2").cache_key()
        );
        assert!(!c.cache_key().contains("hunter2"));
    }
}
