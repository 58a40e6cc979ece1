//! A token server for Docker's token auth spec: `GET /token` with Basic auth (optionally
//! `offline_token=true`, which adds a refresh token), `POST /token` OAuth2 forms
//! (`refresh_token` and `password` grants). Tokens are ES256 JWTs with the signer's certificate
//! in `x5c`; the registry trusts them through its `rootcertbundle`. Anonymous requests are
//! refused, so the registry is private.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use super::certs::TokenSigner;
use super::http::{Request, Server, parse_form, respond};

pub const SERVICE: &str = "berth-test-registry";
pub const ISSUER: &str = "berth-test-issuer";

pub struct TokenServer {
    pub server: Server,
    pub bundle: PathBuf,
}

struct State {
    signer: TokenSigner,
    users: HashMap<String, String>,
    refresh: Mutex<HashMap<String, String>>,
    counter: AtomicU64,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn access(scopes: &[String]) -> serde_json::Value {
    let mut out = Vec::new();
    for s in scopes.iter().flat_map(|s| s.split(' ')) {
        // repository:name:actions (the name may not contain ':' here).
        let mut parts = s.splitn(3, ':');
        let (Some(typ), Some(name), Some(actions)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let actions: Vec<&str> = actions.split(',').filter(|a| !a.is_empty()).collect();
        out.push(json!({"type": typ, "name": name, "actions": actions}));
    }
    json!(out)
}

impl State {
    fn token(&self, subject: &str, scopes: &[String]) -> String {
        let n = self.counter.fetch_add(1, Ordering::SeqCst);
        let t = now();
        self.signer.sign(&json!({
            "iss": ISSUER,
            "sub": subject,
            "aud": SERVICE,
            "exp": t + 300,
            "nbf": t - 10,
            "iat": t,
            "jti": format!("berth-test-{n}"),
            "access": access(scopes),
        }))
    }

    fn check_basic(&self, req: &Request) -> Result<String, &'static str> {
        let Some(h) = req.header("authorization") else {
            return Err("authentication required");
        };
        let Some(b64) = h.strip_prefix("Basic ") else {
            return Err("authentication required");
        };
        let pair = STANDARD
            .decode(b64.trim())
            .ok()
            .and_then(|v| String::from_utf8(v).ok())
            .unwrap_or_default();
        let (u, p) = pair.split_once(':').unwrap_or(("", ""));
        match self.users.get(u) {
            Some(pw) if pw == p => Ok(u.to_string()),
            _ => Err("incorrect username or password"),
        }
    }

    fn handle(&self, req: &Request, stream: &mut std::net::TcpStream) {
        let refuse = |stream: &mut std::net::TcpStream, msg: &str| {
            respond(
                stream,
                401,
                &[("Content-Type", "application/json")],
                json!({"details": msg}).to_string().as_bytes(),
            )
        };
        let ok = |stream: &mut std::net::TcpStream, body: serde_json::Value| {
            respond(
                stream,
                200,
                &[("Content-Type", "application/json")],
                body.to_string().as_bytes(),
            )
        };
        if req.path() != "/token" {
            respond(stream, 404, &[], b"no");
            return;
        }
        match req.method.as_str() {
            "GET" => {
                let user = match self.check_basic(req) {
                    Ok(u) => u,
                    Err(msg) => return refuse(stream, msg),
                };
                let scopes = req.query("scope");
                let token = self.token(&user, &scopes);
                let mut body = json!({"token": token, "access_token": token, "expires_in": 300});
                if req.query("offline_token").first().map(String::as_str) == Some("true") {
                    let rt = format!(
                        "berth-refresh-{}-{}",
                        user,
                        self.counter.load(Ordering::SeqCst)
                    );
                    if let Ok(mut m) = self.refresh.lock() {
                        m.insert(rt.clone(), user.clone());
                    }
                    body["refresh_token"] = json!(rt);
                }
                ok(stream, body)
            }
            "POST" => {
                let form = parse_form(&String::from_utf8_lossy(&req.body));
                let get = |k: &str| {
                    form.iter()
                        .find(|(n, _)| n == k)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default()
                };
                let user = match get("grant_type").as_str() {
                    "refresh_token" => {
                        let rt = get("refresh_token");
                        match self.refresh.lock().ok().and_then(|m| m.get(&rt).cloned()) {
                            Some(u) => u,
                            None => return refuse(stream, "invalid refresh token"),
                        }
                    }
                    "password" => {
                        let (u, p) = (get("username"), get("password"));
                        match self.users.get(&u) {
                            Some(pw) if *pw == p => u,
                            _ => return refuse(stream, "incorrect username or password"),
                        }
                    }
                    _ => return respond(stream, 400, &[], b"unsupported grant"),
                };
                let scopes: Vec<String> = vec![get("scope")];
                let token = self.token(&user, &scopes);
                ok(
                    stream,
                    json!({"access_token": token, "expires_in": 300, "scope": get("scope")}),
                )
            }
            _ => respond(stream, 405, &[], b""),
        }
    }
}

impl TokenServer {
    /// Starts the server; writes the root certificate bundle into `dir`.
    pub fn start(dir: &Path, users: &[(&str, &str)]) -> TokenServer {
        let signer = TokenSigner::new();
        let bundle = dir.join("token-bundle.pem");
        std::fs::write(&bundle, &signer.cert_pem).expect("write bundle");
        let state = Arc::new(State {
            signer,
            users: users
                .iter()
                .map(|(u, p)| (u.to_string(), p.to_string()))
                .collect(),
            refresh: Mutex::new(HashMap::new()),
            counter: AtomicU64::new(1),
        });
        let server = Server::start(move |req, stream| state.handle(req, stream));
        TokenServer { server, bundle }
    }

    pub fn realm(&self) -> String {
        format!("{}/token", self.server.url())
    }

    /// Requests received with this method.
    pub fn count(&self, method: &str) -> usize {
        self.server
            .requests()
            .iter()
            .filter(|r| r.method == method)
            .count()
    }
}
