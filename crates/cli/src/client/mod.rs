//! The Docker Engine API client: one HTTP/1.1 connection per request
//! (hyper 1 on a current-thread tokio runtime) over a unix socket, TCP or
//! TLS; API version negotiation as docker's client does it (`/_ping`, the
//! `API-Version` header, the lower of the daemon's and ours, every path
//! prefixed with `/v<version>`); docker's error texts.
//!
//! The interface is blocking: commands are plain code, and a streamed
//! response ([`Response`]) is read chunk by chunk, each read driving the
//! runtime. Async stays inside this module.

pub mod hijack;
pub mod host;
pub mod stdcopy;
pub mod transport;

use std::cell::RefCell;
use std::io::Read;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;

pub use host::Host;
use transport::{ConnectError, ReqBody, TlsOptions};

/// The newest API version this client speaks (docker CLI 28.2's).
pub const MAX_API_VERSION: &str = "1.50";
/// The version assumed when the daemon does not say (docker's fallback).
pub const FALLBACK_API_VERSION: &str = "1.24";

/// What kind of failure an error is, for exit codes and retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    /// The object does not exist (404).
    NotFound,
    /// The request is invalid (400).
    Invalid,
    /// A conflict (409).
    Conflict,
    /// The daemon cannot be reached.
    Unreachable,
    /// Anything else.
    Other,
}

/// A failed API call, worded as docker's client words it.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Nothing listens at the address.
    #[error("Cannot connect to the Berth daemon at {host}. Is the berth daemon running?")]
    ConnectionFailed {
        /// `unix:///…` or `tcp://…`.
        host: String,
        /// The connect error.
        #[source]
        source: std::io::Error,
    },
    /// The socket exists but we may not use it.
    #[error(
        "permission denied while trying to connect to the Berth daemon socket at {host}: {source}"
    )]
    PermissionDenied {
        /// The host.
        host: String,
        /// The connect error.
        #[source]
        source: std::io::Error,
    },
    /// Connecting failed otherwise (TLS handshake, I/O).
    #[error("error during connect: {source}")]
    Connect {
        /// The host.
        host: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The HTTP exchange failed.
    #[error("error during connect: {what}: {source}")]
    Http {
        /// Which request.
        what: String,
        /// The error.
        #[source]
        source: hyper::Error,
    },
    /// The daemon answered with an error status and a message.
    #[error("Error response from daemon: {message}")]
    Daemon {
        /// HTTP status.
        status: u16,
        /// The daemon's message.
        message: String,
    },
    /// The daemon answered with an error status and no body.
    #[error(
        "request returned {status_text} for API route and version {url}, check if the server supports the requested API version"
    )]
    Status {
        /// HTTP status.
        status: u16,
        /// "Not Found".
        status_text: String,
        /// The request URL.
        url: String,
    },
    /// A JSON error body that does not parse.
    #[error("Error reading JSON: {0}")]
    ErrorBody(#[source] crate::format::json::JsonError),
    /// A response that is not the JSON expected.
    #[error("cannot decode the daemon's answer to {what}: {source}")]
    Decode {
        /// Which request.
        what: String,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// Reading a request body from a file or stdin failed.
    #[error("reading the request body: {0}")]
    Body(#[source] std::io::Error),
    /// The runtime could not be built.
    #[error("cannot start the I/O runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// TLS settings are unusable.
    #[error(transparent)]
    Tls(#[from] transport::TlsError),
    /// A request that cannot be built (bad header value).
    #[error("invalid request {what}: {source}")]
    Request {
        /// Which request.
        what: String,
        /// Why.
        #[source]
        source: http::Error,
    },
}

impl ClientError {
    /// The error's category.
    pub fn category(&self) -> Category {
        match self {
            ClientError::ConnectionFailed { .. } | ClientError::PermissionDenied { .. } => {
                Category::Unreachable
            }
            ClientError::Daemon { status, .. } | ClientError::Status { status, .. } => match status
            {
                404 => Category::NotFound,
                400 => Category::Invalid,
                409 => Category::Conflict,
                _ => Category::Other,
            },
            _ => Category::Other,
        }
    }

    /// The HTTP status the daemon answered with, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Daemon { status, .. } | ClientError::Status { status, .. } => {
                Some(*status)
            }
            _ => None,
        }
    }

    /// The daemon's message, for errors the daemon sent.
    pub fn daemon_message(&self) -> Option<&str> {
        match self {
            ClientError::Daemon { message, .. } => Some(message),
            _ => None,
        }
    }
}

/// How to reach the daemon.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// The daemon's address.
    pub host: Host,
    /// TLS, for TCP hosts.
    pub tls: Option<TlsOptions>,
    /// A fixed API version (`BERTH_API_VERSION`), skipping negotiation.
    pub api_version: Option<String>,
    /// Extra headers from the client configuration (`HttpHeaders`).
    pub headers: Vec<(String, String)>,
}

/// What `/_ping` says.
#[derive(Debug, Clone, Default)]
pub struct Ping {
    /// `API-Version`.
    pub api_version: Option<String>,
    /// `OSType`.
    pub os_type: Option<String>,
    /// `Docker-Experimental`.
    pub experimental: bool,
}

/// A connection-less client: each request opens its own connection.
pub struct Client {
    rt: tokio::runtime::Runtime,
    opts: ClientOptions,
    tls: Option<Arc<rustls::ClientConfig>>,
    version: RefCell<Option<String>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("host", &self.opts.host)
            .finish()
    }
}

/// An HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET
    Get,
    /// HEAD
    Head,
    /// POST
    Post,
    /// DELETE
    Delete,
    /// PUT
    Put,
}

impl Method {
    fn as_http(self) -> http::Method {
        match self {
            Method::Get => http::Method::GET,
            Method::Head => http::Method::HEAD,
            Method::Post => http::Method::POST,
            Method::Delete => http::Method::DELETE,
            Method::Put => http::Method::PUT,
        }
    }
}

/// A request body before sending.
pub enum Body {
    /// No body.
    Empty,
    /// JSON text.
    Json(Vec<u8>),
    /// Raw bytes with a content type.
    Bytes(Vec<u8>, String),
    /// A stream (file, stdin) with a content type.
    Reader(Box<dyn Read + Send>, String),
}

/// A request to the API.
pub struct Request {
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: Body,
}

impl Request {
    /// A request for `path` (without the version prefix).
    pub fn new(method: Method, path: impl Into<String>) -> Request {
        Request {
            method,
            path: path.into(),
            query: Vec::new(),
            headers: Vec::new(),
            body: Body::Empty,
        }
    }

    /// Add a query parameter.
    pub fn query(mut self, k: &str, v: impl Into<String>) -> Request {
        self.query.push((k.to_string(), v.into()));
        self
    }

    /// Add a query parameter when `cond`.
    pub fn query_if(self, cond: bool, k: &str, v: impl Into<String>) -> Request {
        if cond { self.query(k, v) } else { self }
    }

    /// Add a header.
    pub fn header(mut self, k: &str, v: impl Into<String>) -> Request {
        self.headers.push((k.to_string(), v.into()));
        self
    }

    /// Set the body.
    pub fn body(mut self, b: Body) -> Request {
        self.body = b;
        self
    }

    /// Set a JSON body from a serializable value.
    pub fn json(self, v: &impl serde::Serialize) -> Request {
        let bytes = serde_json::to_vec(v).unwrap_or_else(|_| b"null".to_vec());
        self.body(Body::Json(bytes))
    }
}

/// A response whose status was a success; its body is read on demand.
pub struct Response<'a> {
    rt: &'a tokio::runtime::Runtime,
    /// HTTP status.
    pub status: u16,
    headers: http::HeaderMap,
    body: Incoming,
    pending: Bytes,
    what: String,
}

impl Response<'_> {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The next chunk of the body; `None` at its end.
    pub fn chunk(&mut self) -> Result<Option<Bytes>, ClientError> {
        if !self.pending.is_empty() {
            return Ok(Some(std::mem::take(&mut self.pending)));
        }
        loop {
            let frame = self.rt.block_on(self.body.frame());
            match frame {
                None => return Ok(None),
                Some(Err(source)) => {
                    return Err(ClientError::Http {
                        what: self.what.clone(),
                        source,
                    });
                }
                Some(Ok(f)) => {
                    if let Ok(data) = f.into_data()
                        && !data.is_empty()
                    {
                        return Ok(Some(data));
                    }
                }
            }
        }
    }

    /// The whole body.
    pub fn bytes(mut self) -> Result<Vec<u8>, ClientError> {
        let mut out = Vec::new();
        while let Some(c) = self.chunk()? {
            out.extend_from_slice(&c);
        }
        Ok(out)
    }

    /// Decode the body as JSON into `T`.
    pub fn json<T: serde::de::DeserializeOwned>(self) -> Result<T, ClientError> {
        let what = self.what.clone();
        let b = self.bytes()?;
        serde_json::from_slice(&b).map_err(|source| ClientError::Decode { what, source })
    }
}

impl Read for Response<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pending.is_empty() {
            match self.chunk() {
                Ok(Some(c)) => self.pending = c,
                Ok(None) => return Ok(0),
                Err(e) => return Err(std::io::Error::other(e)),
            }
        }
        let n = buf.len().min(self.pending.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        let _ = self.pending.split_to(n);
        Ok(n)
    }
}

/// Compare API versions (`1.41` < `1.50`).
pub fn version_less(a: &str, b: &str) -> bool {
    let parse = |v: &str| -> Vec<u64> { v.split('.').map(|p| p.parse().unwrap_or(0)).collect() };
    parse(a) < parse(b)
}

/// Percent-encode a query component (Go's `url.QueryEscape`).
pub fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Percent-encode a path segment (an image name with `/` and `:` stays
/// readable, as Go's `url.PathEscape` would not; docker sends names raw).
pub fn path_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'_'
            | b'.'
            | b'~'
            | b'/'
            | b':'
            | b'@'
            | b'+' => out.push(b as char),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn status_text(status: u16) -> String {
    http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Unknown")
        .to_string()
}

impl Client {
    /// A client for `opts` (nothing is connected yet).
    pub fn new(opts: ClientOptions) -> Result<Client, ClientError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(ClientError::Runtime)?;
        let tls = match (&opts.tls, &opts.host) {
            (Some(t), Host::Tcp { .. }) => Some(Arc::new(transport::client_config(t)?)),
            _ => None,
        };
        Ok(Client {
            rt,
            version: RefCell::new(opts.api_version.clone()),
            opts,
            tls,
        })
    }

    /// The daemon's address.
    pub fn host(&self) -> &Host {
        &self.opts.host
    }

    /// Is TLS in use?
    pub fn uses_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// `GET /_ping` (unversioned).
    pub fn ping(&self) -> Result<Ping, ClientError> {
        let resp = self.raw(Request::new(Method::Get, "/_ping"), false)?;
        let ping = Ping {
            api_version: resp.header("api-version").map(str::to_string),
            os_type: resp.header("ostype").map(str::to_string),
            experimental: resp.header("docker-experimental") == Some("true"),
        };
        let _ = resp.bytes();
        Ok(ping)
    }

    /// The API version in use, negotiating it on first use.
    pub fn api_version(&self) -> Result<String, ClientError> {
        if let Some(v) = self.version.borrow().as_ref() {
            return Ok(v.clone());
        }
        let ping = self.ping()?;
        let server = ping
            .api_version
            .unwrap_or_else(|| FALLBACK_API_VERSION.to_string());
        let v = if version_less(&server, MAX_API_VERSION) {
            server
        } else {
            MAX_API_VERSION.to_string()
        };
        *self.version.borrow_mut() = Some(v.clone());
        Ok(v)
    }

    /// Send a versioned request; an error status becomes an error.
    pub fn send(&self, req: Request) -> Result<Response<'_>, ClientError> {
        self.raw(req, true)
    }

    /// `GET path` and decode the JSON answer.
    pub fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        self.send(Request::new(Method::Get, path))?.json()
    }

    /// A client with the same options and negotiated version, for another
    /// thread (signal forwarding, TTY resizes while a stream is pumped).
    pub fn fork(&self) -> Result<Client, ClientError> {
        let mut opts = self.opts.clone();
        opts.api_version = self.version.borrow().clone();
        Client::new(opts)
    }

    /// The options this client was made with.
    pub fn options(&self) -> &ClientOptions {
        &self.opts
    }

    /// The HTTP request for `req`, the text naming it in errors, its URL.
    pub(crate) fn build(
        &self,
        req: Request,
        versioned: bool,
    ) -> Result<(http::Request<ReqBody>, String, String), ClientError> {
        let mut path = req.path.clone();
        if versioned {
            path = format!("/v{}{}", self.api_version()?, path);
        }
        if !req.query.is_empty() {
            let q: Vec<String> = req
                .query
                .iter()
                .map(|(k, v)| format!("{}={}", query_escape(k), query_escape(v)))
                .collect();
            path = format!("{path}?{}", q.join("&"));
        }
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        let url = format!("{scheme}://{}{path}", self.opts.host.http_authority());
        let what = format!("{} {url}", req.method.as_http());
        let mut b = http::Request::builder()
            .method(req.method.as_http())
            .uri(&path)
            .header(http::header::HOST, self.opts.host.http_authority())
            .header(
                http::header::USER_AGENT,
                format!("Berth-Client/{} (linux)", env!("CARGO_PKG_VERSION")),
            );
        for (k, v) in &self.opts.headers {
            b = b.header(k.as_str(), v.as_str());
        }
        for (k, v) in &req.headers {
            b = b.header(k.as_str(), v.as_str());
        }
        let body = match req.body {
            Body::Empty => {
                if req.method == Method::Post {
                    b = b.header(http::header::CONTENT_TYPE, "text/plain");
                }
                ReqBody::Empty
            }
            Body::Json(j) => {
                b = b.header(http::header::CONTENT_TYPE, "application/json");
                ReqBody::Full(Some(Bytes::from(j)))
            }
            Body::Bytes(bytes, ct) => {
                b = b.header(http::header::CONTENT_TYPE, ct);
                ReqBody::Full(Some(Bytes::from(bytes)))
            }
            Body::Reader(r, ct) => {
                b = b.header(http::header::CONTENT_TYPE, ct);
                ReqBody::from_reader(r)
            }
        };
        let request = b.body(body).map_err(|source| ClientError::Request {
            what: what.clone(),
            source,
        })?;
        Ok((request, what, url))
    }

    /// Connect to the daemon (inside the runtime).
    pub(crate) async fn connect(&self) -> Result<transport::Stream, ClientError> {
        let host_url = self.opts.host.url();
        transport::connect(&self.opts.host, self.tls.as_ref())
            .await
            .map_err(|e| match e {
                ConnectError::Refused(source) => ClientError::ConnectionFailed {
                    host: host_url.clone(),
                    source,
                },
                ConnectError::Permission(source) => ClientError::PermissionDenied {
                    host: host_url.clone(),
                    source,
                },
                ConnectError::Io(source) | ConnectError::Tls(source) => ClientError::Connect {
                    host: host_url.clone(),
                    source,
                },
            })
    }

    fn raw(&self, req: Request, versioned: bool) -> Result<Response<'_>, ClientError> {
        let (request, what, url) = self.build(req, versioned)?;
        let resp = self.rt.block_on(async {
            let stream = self.connect().await?;
            let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .map_err(|source| ClientError::Http {
                    what: what.clone(),
                    source,
                })?;
            tokio::spawn(async move {
                let _ = conn.await;
            });
            sender
                .send_request(request)
                .await
                .map_err(|source| ClientError::Http {
                    what: what.clone(),
                    source,
                })
        })?;
        let status = resp.status().as_u16();
        let (parts, body) = resp.into_parts();
        let response = Response {
            rt: &self.rt,
            status,
            headers: parts.headers,
            body,
            pending: Bytes::new(),
            what: what.clone(),
        };
        if status < 400 {
            return Ok(response);
        }
        Err(response.into_error(&url))
    }
}

impl Response<'_> {
    /// The error an error status carries (docker's wording).
    pub(crate) fn into_error(self, url: &str) -> ClientError {
        let status = self.status;
        let is_json = self
            .header("content-type")
            .is_some_and(|c| c == "application/json");
        let body = match self.bytes() {
            Ok(b) => b,
            Err(e) => return e,
        };
        if body.is_empty() {
            return ClientError::Status {
                status,
                status_text: status_text(status),
                url: url.to_string(),
            };
        }
        let message = if is_json {
            let j = match crate::format::json::Json::parse(&body) {
                Ok(j) => j,
                Err(e) => return ClientError::ErrorBody(e),
            };
            match j.get("message").and_then(|m| m.as_str()) {
                Some(m) if !m.is_empty() => m.trim().to_string(),
                _ => format!(
                    "API returned a {status} ({}) but provided no error-message",
                    status_text(status)
                ),
            }
        } else {
            String::from_utf8_lossy(&body).trim().to_string()
        };
        ClientError::Daemon { status, message }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_numerically() {
        assert!(version_less("1.41", "1.50"));
        assert!(version_less("1.9", "1.10"));
        assert!(!version_less("1.50", "1.50"));
    }

    #[test]
    fn query_escaping() {
        assert_eq!(
            query_escape(r#"{"dangling":{"true":true}}"#),
            "%7B%22dangling%22%3A%7B%22true%22%3Atrue%7D%7D"
        );
        assert_eq!(query_escape("a b"), "a+b");
        assert_eq!(
            path_escape("docker.io/library/busybox:latest"),
            "docker.io/library/busybox:latest"
        );
        assert_eq!(path_escape("a b#"), "a%20b%23");
    }

    #[test]
    fn unreachable_daemon_message() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("berth-nothing.sock");
        let c = Client::new(ClientOptions {
            host: Host::Unix(sock.clone()),
            tls: None,
            api_version: None,
            headers: vec![],
        })
        .unwrap();
        let e = c.ping().unwrap_err();
        assert_eq!(e.category(), Category::Unreachable);
        assert_eq!(
            e.to_string(),
            format!(
                "Cannot connect to the Berth daemon at unix://{}. Is the berth daemon running?",
                sock.display()
            )
        );
    }
}
