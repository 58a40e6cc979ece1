//! Authorization: the token flow of Docker's token auth spec, Basic auth, and the token cache.
//!
//! For a `Bearer` challenge a token is fetched from the realm for the host's `service` and the
//! call's scopes (`repository:<path>:pull` or `…:pull,push`):
//! - with an identity (refresh) token: `POST` an OAuth2 form, `grant_type=refresh_token`;
//! - otherwise `GET realm?service=…&scope=…`, with Basic credentials when there are some
//!   (anonymous otherwise); at login also `offline_token=true` to get a refresh token back.
//!
//! The answer's `token` (or `access_token`) is cached per (host, realm, service, scope set,
//! credentials) until `expires_in` (60 s when missing or shorter, as docker) minus a margin.
//! Concurrent calls for the same key wait for one fetch instead of each fetching a token.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

use crate::challenge::Challenge;
use crate::client::{Body, Call, Client, Host, read_body, status_error};
use crate::credentials::Credentials;
use crate::error::{Error, Result, parse_error_body};
use crate::url::{encode_component, with_query};

/// The `client_id` sent to token servers.
const CLIENT_ID: &str = "berth";
/// Docker's minimum token lifetime.
const MIN_TOKEN_LIFETIME: Duration = Duration::from_secs(60);
/// A cached token is not used when it expires sooner than this.
const EXPIRY_MARGIN: Duration = Duration::from_secs(5);
/// Token answers larger than this are garbage.
const TOKEN_BODY_LIMIT: u64 = 1024 * 1024;

/// `Authorization: Basic …` for a user name and password.
pub(crate) fn basic_header(user: &str, password: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
}

struct CachedToken {
    header: String,
    expires: Instant,
}

type Slot = Arc<Mutex<Option<CachedToken>>>;

/// Tokens by (host, realm, service, scopes, credentials).
#[derive(Default)]
pub(crate) struct TokenCache {
    slots: Mutex<HashMap<String, Slot>>,
}

impl TokenCache {
    /// The `Authorization` value for a call to `host` with `scopes`, or None when the host
    /// asked for nothing (or for Basic and there are no credentials). `stale` is a value that
    /// was just refused with 401: a cached token equal to it is fetched again.
    pub(crate) fn authorization(
        &self,
        client: &Client,
        host: &Host,
        creds: &Credentials,
        scopes: &[String],
        stale: Option<&str>,
    ) -> Result<Option<String>> {
        if let Some(t) = &creds.registry_token {
            return Ok(Some(format!("Bearer {t}")));
        }
        let (realm, service) = match host.challenge() {
            None => return Ok(None),
            Some(Challenge::Basic) => {
                return Ok(creds.basic_pair().map(|(u, p)| basic_header(u, p)));
            }
            Some(Challenge::Bearer { realm, service, .. }) => (realm, service),
        };
        let mut sorted = scopes.to_vec();
        sorted.sort();
        sorted.dedup();
        let key = format!(
            "{}\n{realm}\n{}\n{}\n{}",
            host.authority,
            service.as_deref().unwrap_or(""),
            sorted.join(" "),
            creds.cache_key()
        );
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            slots.entry(key).or_default().clone()
        };
        let mut cached = slot.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(t) = cached.as_ref()
            && t.expires > Instant::now() + EXPIRY_MARGIN
            && stale != Some(t.header.as_str())
        {
            return Ok(Some(t.header.clone()));
        }
        let token = fetch_token(client, &realm, service.as_deref(), &sorted, creds, false)?;
        let header = format!("Bearer {}", token.token);
        *cached = Some(CachedToken {
            header: header.clone(),
            expires: Instant::now() + token.lifetime,
        });
        Ok(Some(header))
    }
}

/// A token server's answer.
pub(crate) struct Token {
    /// The bearer token.
    pub(crate) token: String,
    /// How long it is valid.
    pub(crate) lifetime: Duration,
    /// A refresh token, when the server issued one (offline access, OAuth).
    pub(crate) refresh_token: Option<String>,
}

#[derive(Deserialize)]
struct TokenJson {
    #[serde(default)]
    token: String,
    #[serde(default)]
    access_token: String,
    #[serde(default)]
    expires_in: Option<i64>,
    #[serde(default)]
    refresh_token: String,
}

/// Fetches a token from `realm`. `offline` asks for a refresh token (login).
pub(crate) fn fetch_token(
    client: &Client,
    realm: &str,
    service: Option<&str>,
    scopes: &[String],
    creds: &Credentials,
    offline: bool,
) -> Result<Token> {
    if !(realm.starts_with("https://") || realm.starts_with("http://")) {
        return Err(Error::TokenGarbage {
            realm: realm.to_string(),
            reason: "the realm is not an http(s) URL".into(),
        });
    }
    let agent = client.agent_for_url(realm)?;
    let form;
    let mut call = if let Some(refresh) = &creds.identity_token {
        let mut pairs: Vec<(&str, &str)> = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("client_id", CLIENT_ID),
        ];
        if let Some(s) = service {
            pairs.push(("service", s));
        }
        let joined = scopes.join(" ");
        if !joined.is_empty() {
            pairs.push(("scope", &joined));
        }
        if offline {
            pairs.push(("access_type", "offline"));
        }
        form = pairs
            .iter()
            .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
            .collect::<Vec<_>>()
            .join("&");
        Call::new("POST", realm.to_string())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::Bytes(form.as_bytes()))
    } else {
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        if let Some(s) = service {
            pairs.push(("service", s));
        }
        for s in scopes {
            pairs.push(("scope", s));
        }
        if offline {
            pairs.push(("offline_token", "true"));
            pairs.push(("client_id", CLIENT_ID));
        }
        let mut call = Call::new("GET", with_query(realm, &pairs));
        if let Some((u, p)) = creds.basic_pair() {
            call = call.header("authorization", basic_header(u, p));
        }
        call
    };
    let mut resp = client.send_plain(&agent, &mut call)?;
    let status = resp.status().as_u16();
    if status == 401 || status == 403 {
        let body = read_body(&call.url, &mut resp, TOKEN_BODY_LIMIT, |_| {
            Error::TokenGarbage {
                realm: realm.to_string(),
                reason: "error answer too large".into(),
            }
        })
        .unwrap_or_default();
        return Err(Error::TokenRefused {
            realm: realm.to_string(),
            status,
            message: token_error_message(&body, creds),
        });
    }
    if !(200..300).contains(&status) {
        return Err(status_error(call.method, &call.url, resp));
    }
    let body = read_body(&call.url, &mut resp, TOKEN_BODY_LIMIT, |size| {
        Error::TokenGarbage {
            realm: realm.to_string(),
            reason: format!("the answer is too large ({size} bytes)"),
        }
    })?;
    let json: TokenJson = serde_json::from_slice(&body).map_err(|e| Error::TokenGarbage {
        realm: realm.to_string(),
        reason: format!("{e}: {}", crate::client::excerpt(&body)),
    })?;
    let token = if json.token.is_empty() {
        json.access_token
    } else {
        json.token
    };
    if token.is_empty() {
        return Err(Error::TokenGarbage {
            realm: realm.to_string(),
            reason: "the answer has neither token nor access_token".into(),
        });
    }
    if token.bytes().any(|b| b.is_ascii_control() || b == b' ') {
        return Err(Error::TokenGarbage {
            realm: realm.to_string(),
            reason: "the token contains spaces or control characters".into(),
        });
    }
    let lifetime = json
        .expires_in
        .and_then(|s| u64::try_from(s).ok())
        .map(Duration::from_secs)
        .unwrap_or(MIN_TOKEN_LIFETIME)
        .max(MIN_TOKEN_LIFETIME);
    Ok(Token {
        token,
        lifetime,
        refresh_token: (!json.refresh_token.is_empty()).then_some(json.refresh_token),
    })
}

/// The message of a refused token request: the server's (distribution errors, Docker Hub's
/// `details`, OAuth's `error_description`), else docker's wording.
fn token_error_message(body: &[u8], creds: &Credentials) -> String {
    let errors = parse_error_body(body);
    if let Some(e) = errors.first()
        && !e.message.is_empty()
    {
        return e.message.clone();
    }
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
        for field in ["details", "error_description", "message", "error"] {
            if let Some(s) = v.get(field).and_then(|m| m.as_str())
                && !s.is_empty()
            {
                return s.to_string();
            }
        }
    }
    if creds.is_anonymous() {
        "authentication required".into()
    } else {
        "incorrect username or password".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_header_is_rfc7617() {
        assert_eq!(
            basic_header("Aladdin", "open sesame"),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
    }

    #[test]
    fn refused_token_messages() {
        let anon = Credentials::anonymous();
        let user = Credentials::basic("u", "p");
        assert_eq!(
            token_error_message(br#"{"details":"incorrect username or password"}"#, &anon),
            "incorrect username or password"
        );
        assert_eq!(
            token_error_message(
                br#"{"errors":[{"code":"UNAUTHORIZED","message":"bad creds"}]}"#,
                &anon
            ),
            "bad creds"
        );
        assert_eq!(
            token_error_message(b"<html>", &user),
            "incorrect username or password"
        );
        assert_eq!(token_error_message(b"", &anon), "authentication required");
    }
}
