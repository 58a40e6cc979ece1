//! The [`Client`]: per-host HTTP agents (TLS roots, client certificates, connection pools),
//! the scheme and auth challenge each registry host answers with, and the request loop every
//! registry call goes through (authorization, one re-authentication on 401, retries).
//!
//! Lifecycle of a host: the first call for a domain pings `GET /v2/` (HTTPS first, then plain
//! HTTP where the [policy](crate::RegistryConfig) allows), which fixes the scheme and records
//! the `WWW-Authenticate` challenge. Later calls send an `Authorization` header up front (a
//! cached token, or Basic), so an authenticated pull costs no extra 401 round trips. A 401 with
//! a challenge refreshes the challenge and the token and retries once.
//!
//! Redirects (of `GET` and `HEAD`, e.g. a blob to a CDN) are followed here rather than inside
//! the HTTP library, so that the `Authorization` header is only ever sent to the registry's
//! own scheme and `host:port`, never to the host a redirect or upload location points to.

use std::collections::HashMap;
use std::io::Read;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use ureq::Agent;
use ureq::config::RedirectAuthHeaders;
use ureq::http::{self, Response};
use ureq::tls::Certificate;

use crate::auth::TokenCache;
use crate::challenge::{self, Challenge};
use crate::config::{HostPolicy, RegistryConfig, api_host};
use crate::credentials::Credentials;
use crate::error::{Error, Result, StatusError, parse_error_body};
use crate::repository::Repository;
use crate::tls;
use crate::url::{authority, origin, resolve};

/// A registry client. Cheap to clone and to share across threads: clones share connection
/// pools, TLS material, host state and the token cache.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

struct Inner {
    config: RegistryConfig,
    system_roots: OnceLock<Arc<Vec<Certificate<'static>>>>,
    /// Agents by (authority, verify certificates).
    agents: Mutex<HashMap<(String, bool), Agent>>,
    /// Hosts by API host, once pinged.
    hosts: Mutex<HashMap<String, Arc<Host>>>,
    tokens: TokenCache,
}

/// A registry host once its scheme is known.
pub(crate) struct Host {
    /// `host[:port]`, lowercase.
    pub(crate) authority: String,
    /// `scheme://authority`.
    pub(crate) base: String,
    /// The agent for this host (its TLS configuration).
    pub(crate) agent: Agent,
    challenge: Mutex<Option<Challenge>>,
}

impl Host {
    /// The last challenge the host sent, if any.
    pub(crate) fn challenge(&self) -> Option<Challenge> {
        self.challenge.lock().map(|c| c.clone()).unwrap_or(None)
    }

    fn set_challenge(&self, ch: Challenge) {
        if let Ok(mut c) = self.challenge.lock() {
            *c = Some(ch);
        }
    }
}

/// A request body.
pub(crate) enum Body<'a> {
    /// None (`GET`, `HEAD`, `DELETE`; `Content-Length: 0` for the others).
    Empty,
    /// Bytes in memory: the request can be replayed.
    Bytes(&'a [u8]),
    /// A stream of known length: sent once, never replayed.
    Stream(&'a mut dyn Read, u64),
}

/// One request.
pub(crate) struct Call<'a> {
    pub(crate) method: &'static str,
    pub(crate) url: String,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: Body<'a>,
}

impl<'a> Call<'a> {
    pub(crate) fn new(method: &'static str, url: String) -> Call<'a> {
        Call {
            method,
            url,
            headers: Vec::new(),
            body: Body::Empty,
        }
    }

    pub(crate) fn header(mut self, name: &'static str, value: impl Into<String>) -> Call<'a> {
        self.headers.push((name, value.into()));
        self
    }

    pub(crate) fn body(mut self, body: Body<'a>) -> Call<'a> {
        self.body = body;
        self
    }

    fn replayable(&self) -> bool {
        !matches!(self.body, Body::Stream(..))
    }
}

/// Redirects followed for one call.
const MAX_REDIRECTS: u32 = 10;

/// How much of an error body is read to build the message.
const ERROR_BODY_LIMIT: u64 = 64 * 1024;

impl Client {
    /// A client with this configuration. Nothing is read or contacted until the first call.
    pub fn new(config: RegistryConfig) -> Client {
        Client {
            inner: Arc::new(Inner {
                config,
                system_roots: OnceLock::new(),
                agents: Mutex::new(HashMap::new()),
                hosts: Mutex::new(HashMap::new()),
                tokens: TokenCache::default(),
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &RegistryConfig {
        &self.inner.config
    }

    /// A handle on the repository `reference.domain`/`reference.path` (the tag and digest of
    /// the reference are ignored), authenticating with `credentials`. No network access.
    pub fn repository(
        &self,
        reference: &berth_image::Reference,
        credentials: Credentials,
    ) -> Repository {
        Repository::new(
            self.clone(),
            &reference.domain,
            &reference.path,
            credentials,
        )
    }

    fn system_roots(&self) -> Arc<Vec<Certificate<'static>>> {
        self.inner
            .system_roots
            .get_or_init(|| Arc::new(tls::system_roots()))
            .clone()
    }

    /// The agent for `authority`: TLS with the system roots plus the certificates found under
    /// `names` in the certificate directories; `verify` false skips certificate checks.
    fn agent(&self, authority: &str, names: &[&str], verify: bool) -> Result<Agent> {
        let key = (authority.to_string(), verify);
        if let Some(a) = self
            .inner
            .agents
            .lock()
            .ok()
            .and_then(|m| m.get(&key).cloned())
        {
            return Ok(a);
        }
        let certs = tls::load_host_certs(&self.inner.config.certs_dirs, names)?;
        let system = self.system_roots();
        let roots = if certs.cas.is_empty() {
            system
        } else {
            let mut all = (*system).clone();
            all.extend(certs.cas);
            Arc::new(all)
        };
        let c = &self.inner.config;
        let agent: Agent = Agent::config_builder()
            .http_status_as_error(false)
            .user_agent(c.user_agent.as_str())
            .timeout_connect(Some(c.connect_timeout))
            .timeout_recv_response(Some(c.read_timeout))
            .timeout_per_read(Some(c.read_timeout))
            // Redirects are followed by `send`, which decides where credentials go.
            .max_redirects(0)
            .redirect_auth_headers(RedirectAuthHeaders::Never)
            .max_idle_connections(64)
            .max_idle_connections_per_host(16)
            .tls_config(tls::tls_config(roots, certs.client, verify))
            .build()
            .into();
        if let Ok(mut m) = self.inner.agents.lock() {
            m.entry(key).or_insert_with(|| agent.clone());
        }
        Ok(agent)
    }

    /// The agent for an absolute URL on any host (token realms, uploads elsewhere).
    pub(crate) fn agent_for_url(&self, url: &str) -> Result<Agent> {
        let auth = authority(url).unwrap_or_default();
        let verify = self.inner.config.host_policy(&auth) != HostPolicy::Insecure;
        self.agent(&auth, &[auth.as_str()], verify)
    }

    /// The host serving `domain`'s API, pinged once to learn its scheme and challenge.
    pub(crate) fn host(&self, domain: &str) -> Result<Arc<Host>> {
        let api = api_host(domain).to_ascii_lowercase();
        if let Some(h) = self
            .inner
            .hosts
            .lock()
            .ok()
            .and_then(|m| m.get(&api).cloned())
        {
            return Ok(h);
        }
        let policy = self.inner.config.host_policy(&api);
        let attempts: &[(&str, bool)] = match policy {
            HostPolicy::Tls => &[("https", true)],
            HostPolicy::TlsThenPlain => &[("https", true), ("http", true)],
            HostPolicy::Insecure => &[("https", false), ("http", false)],
        };
        let domain_lc = domain.to_ascii_lowercase();
        let names: Vec<&str> = if domain_lc == api {
            vec![api.as_str()]
        } else {
            vec![domain_lc.as_str(), api.as_str()]
        };
        let mut last_err = None;
        for (i, (scheme, verify)) in attempts.iter().enumerate() {
            let agent = self.agent(&api, &names, *verify)?;
            let base = format!("{scheme}://{api}");
            let mut call = Call::new("GET", format!("{base}/v2/"));
            match self.send_plain(&agent, &mut call) {
                Ok(resp) => {
                    let challenge = if resp.status() == 401 {
                        challenge::select(header_values(&resp, "www-authenticate"))
                    } else {
                        None
                    };
                    let host = Arc::new(Host {
                        authority: api.clone(),
                        base,
                        agent,
                        challenge: Mutex::new(challenge),
                    });
                    let mut map = self.inner.hosts.lock().map_err(|_| Error::BuildRequest {
                        url: call.url.clone(),
                        reason: "host table poisoned".into(),
                    })?;
                    return Ok(map.entry(api).or_insert(host).clone());
                }
                Err(e) => {
                    let is_last = i + 1 == attempts.len();
                    let fall_back = match policy {
                        HostPolicy::Insecure => true,
                        HostPolicy::TlsThenPlain => !is_certificate_error(&e),
                        HostPolicy::Tls => false,
                    };
                    if is_last || !fall_back {
                        return Err(e);
                    }
                    last_err = Some(e);
                }
            }
        }
        Err(last_err.unwrap_or_else(|| Error::BuildRequest {
            url: api,
            reason: "no scheme to try".into(),
        }))
    }

    fn backoff(&self, attempt: u32) {
        let base = self.inner.config.retry_backoff;
        let d = base
            .checked_mul(1u32 << attempt.min(6))
            .unwrap_or(Duration::from_secs(8))
            .min(Duration::from_secs(8));
        std::thread::sleep(d);
    }

    pub(crate) fn max_retries(&self) -> u32 {
        self.inner.config.max_retries
    }

    /// One attempt, no auth logic, no retries.
    fn execute(
        &self,
        agent: &Agent,
        call: &mut Call<'_>,
        authorization: Option<&str>,
    ) -> Result<Response<ureq::Body>> {
        let url = call.url.clone();
        let build_err = |e: http::Error| Error::BuildRequest {
            url: url.clone(),
            reason: e.to_string(),
        };
        let mut b = http::Request::builder()
            .method(call.method)
            .uri(call.url.as_str());
        for (name, value) in &call.headers {
            b = b.header(*name, value.as_str());
        }
        if let Some(a) = authorization {
            b = b.header("authorization", a);
        }
        let needs_length = !matches!(call.method, "GET" | "HEAD" | "DELETE");
        let result = match &mut call.body {
            Body::Empty if needs_length => agent.run(b.body(&[][..]).map_err(build_err)?),
            Body::Empty => agent.run(b.body(()).map_err(build_err)?),
            Body::Bytes(bytes) => agent.run(b.body(*bytes).map_err(build_err)?),
            Body::Stream(reader, len) => {
                let b = b.header("content-length", len.to_string());
                agent.run(
                    b.body(ureq::SendBody::from_reader(&mut **reader))
                        .map_err(build_err)?,
                )
            }
        };
        result.map_err(|e| transport_error(&call.url, e))
    }

    /// A call without authorization, retried on connection errors, 5xx and 429 while the body
    /// is replayable. Any HTTP answer is returned as is.
    pub(crate) fn send_plain(
        &self,
        agent: &Agent,
        call: &mut Call<'_>,
    ) -> Result<Response<ureq::Body>> {
        let mut attempt = 0;
        loop {
            let result = self.execute(agent, call, None);
            if attempt < self.max_retries() && call.replayable() && should_retry(&result) {
                attempt += 1;
                self.backoff(attempt - 1);
                continue;
            }
            return result;
        }
    }

    /// A call to `host` authorised for `scopes` with `creds`: sends the authorization the
    /// host's challenge calls for, answers one 401 by refreshing challenge and token, retries
    /// connection errors, 5xx and 429 while the body is replayable. Any HTTP answer (also an
    /// error status) is returned for the caller to interpret.
    pub(crate) fn send(
        &self,
        host: &Host,
        creds: &Credentials,
        scopes: &[String],
        call: &mut Call<'_>,
    ) -> Result<Response<ureq::Body>> {
        let mut scopes: Vec<String> = scopes.to_vec();
        let mut attempt = 0;
        let mut reauthenticated = false;
        let mut stale: Option<String> = None;
        let mut redirects = 0;
        loop {
            // Credentials go only to the registry host itself (same scheme and host:port):
            // never to a CDN or storage backend a redirect or upload location points to.
            let same_host = authority(&call.url).as_deref() == Some(host.authority.as_str())
                && origin(&call.url) == Some(host.base.as_str());
            let agent = if same_host {
                host.agent.clone()
            } else {
                self.agent_for_url(&call.url)?
            };
            let authorization = if same_host {
                self.inner
                    .tokens
                    .authorization(self, host, creds, &scopes, stale.as_deref())?
            } else {
                None
            };
            stale = None;
            let result = self.execute(&agent, call, authorization.as_deref());
            if attempt < self.max_retries() && call.replayable() && should_retry(&result) {
                attempt += 1;
                self.backoff(attempt - 1);
                continue;
            }
            let resp = result?;
            let status = resp.status().as_u16();
            if matches!(status, 301 | 302 | 303 | 307 | 308)
                && matches!(call.method, "GET" | "HEAD")
                && let Some(location) = header(&resp, "location")
            {
                redirects += 1;
                if redirects > MAX_REDIRECTS {
                    return Err(Error::Garbage {
                        url: call.url.clone(),
                        reason: format!("more than {MAX_REDIRECTS} redirects"),
                    });
                }
                call.url = resolve(&call.url, location);
                continue;
            }
            if status != 401 || reauthenticated || !call.replayable() || !same_host {
                return Ok(resp);
            }
            let Some(ch) = challenge::select(header_values(&resp, "www-authenticate")) else {
                return Ok(resp);
            };
            let retry = match &ch {
                // Basic: worth a retry only when we have credentials and did not send them.
                Challenge::Basic => {
                    creds.registry_token.is_none()
                        && creds.basic_pair().is_some()
                        && !authorization
                            .as_deref()
                            .is_some_and(|a| a.starts_with("Basic "))
                }
                Challenge::Bearer { scope, .. } => {
                    for s in scope.iter().flat_map(|s| s.split(' ')) {
                        if !s.is_empty() && !scopes.iter().any(|have| have == s) {
                            scopes.push(s.to_string());
                        }
                    }
                    creds.registry_token.is_none()
                }
            };
            host.set_challenge(ch);
            if !retry {
                return Ok(resp);
            }
            stale = authorization;
            reauthenticated = true;
        }
    }
}

fn should_retry(result: &Result<Response<ureq::Body>>) -> bool {
    match result {
        Ok(resp) => {
            let s = resp.status().as_u16();
            s == 429 || (500..=599).contains(&s) && s != 501 && s != 505
        }
        Err(Error::Connect { .. } | Error::Timeout { .. }) => true,
        Err(_) => false,
    }
}

/// All values of a header, as strings (non-UTF-8 values skipped).
pub(crate) fn header_values<'r>(
    resp: &'r Response<ureq::Body>,
    name: &str,
) -> impl Iterator<Item = &'r str> {
    resp.headers()
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
}

/// The first value of a header.
pub(crate) fn header<'r>(resp: &'r Response<ureq::Body>, name: &str) -> Option<&'r str> {
    resp.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The TLS library's complaint inside a transport error, if the error is one.
fn tls_reason(e: &ureq::Error) -> Option<String> {
    match e {
        ureq::Error::Rustls(r) => Some(r.to_string()),
        ureq::Error::Tls(s) => Some((*s).to_string()),
        ureq::Error::Io(io) => io
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            .map(|r| r.to_string()),
        _ => None,
    }
}

/// True when the server speaks TLS but its certificate (or ours) was refused: falling back to
/// plain HTTP would only hide the real problem.
fn is_certificate_error(e: &Error) -> bool {
    let Error::Tls { source, .. } = e else {
        return false;
    };
    let r = match source {
        ureq::Error::Rustls(r) => Some(r),
        ureq::Error::Io(io) => io
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>()),
        _ => None,
    };
    match r {
        Some(rustls::Error::InvalidMessage(_)) => false,
        Some(_) => true,
        None => false,
    }
}

/// Sorts a transport error into the step that failed.
pub(crate) fn transport_error(url: &str, e: ureq::Error) -> Error {
    if let Some(reason) = tls_reason(&e) {
        return Error::Tls {
            host: authority(url).unwrap_or_else(|| url.to_string()),
            reason,
            source: e,
        };
    }
    let url = url.to_string();
    match &e {
        ureq::Error::Timeout(_) => Error::Timeout { url, source: e },
        ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => {
            Error::Connect { url, source: e }
        }
        ureq::Error::Io(io) => match io.kind() {
            std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => {
                Error::Timeout { url, source: e }
            }
            std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionReset
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::NotConnected
            | std::io::ErrorKind::BrokenPipe
            | std::io::ErrorKind::AddrNotAvailable
            | std::io::ErrorKind::HostUnreachable
            | std::io::ErrorKind::NetworkUnreachable
            | std::io::ErrorKind::NetworkDown
            | std::io::ErrorKind::UnexpectedEof => Error::Connect { url, source: e },
            _ => Error::ReadAnswer { url, source: e },
        },
        _ => Error::ReadAnswer { url, source: e },
    }
}

/// Reads a whole body of at most `limit` bytes. `too_large` builds the error for a larger one.
pub(crate) fn read_body(
    url: &str,
    resp: &mut Response<ureq::Body>,
    limit: u64,
    too_large: impl Fn(u64) -> Error,
) -> Result<Vec<u8>> {
    if let Some(len) = header(resp, "content-length").and_then(|v| v.trim().parse::<u64>().ok())
        && len > limit
    {
        return Err(too_large(len));
    }
    match resp.body_mut().with_config().limit(limit).read_to_vec() {
        Ok(v) => Ok(v),
        Err(ureq::Error::BodyExceedsLimit(_)) => Err(too_large(limit + 1)),
        Err(e) => Err(match transport_error(url, e) {
            Error::Connect { url, source } => Error::ReadAnswer { url, source },
            other => other,
        }),
    }
}

/// Turns an answer with an error status into an [`Error::Status`], reading (a bounded part of)
/// its body for the distribution-spec errors.
pub(crate) fn status_error(
    method: &'static str,
    url: &str,
    mut resp: Response<ureq::Body>,
) -> Error {
    let status = resp.status().as_u16();
    let body = if method == "HEAD" {
        Vec::new()
    } else {
        resp.body_mut()
            .with_config()
            .limit(ERROR_BODY_LIMIT)
            .read_to_vec()
            .unwrap_or_default()
    };
    let errors = parse_error_body(&body);
    let body_excerpt = if errors.is_empty() {
        excerpt(&body)
    } else {
        String::new()
    };
    StatusError {
        method,
        url: url.to_string(),
        status,
        errors,
        body_excerpt,
    }
    .into()
}

/// The start of a body as one line of text, for messages.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(200)]);
    let one_line: Vec<&str> = text.split_whitespace().collect();
    one_line.join(" ")
}
