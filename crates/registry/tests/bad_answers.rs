//! Registries that misbehave, played by a local HTTP server written for the purpose: garbage,
//! HTML, truncated JSON, schema 1, oversized manifests, lying digests, error bodies, 5xx, 401
//! without a usable challenge, tampered / truncated / overlong / cut / stalled blobs (with
//! resume), redirects to another host, silent servers, refused connections, token servers
//! answering garbage, and upload sessions with relative and absolute locations.
//! Every case must give a clear, categorised error (or succeed where it should) and never panic.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use berth_image::{Descriptor, Digest, Reference, media_type};
use berth_registry::{
    BlobError, Client, Credentials, Error, ErrorKind, RegistryConfig, Repository,
};
use support::http::{Request, Server, respond, respond_head};
use support::images::{bytes, desc};

fn config() -> RegistryConfig {
    RegistryConfig {
        max_retries: 2,
        retry_backoff: Duration::from_millis(10),
        connect_timeout: Duration::from_secs(2),
        read_timeout: Duration::from_millis(400),
        ..RegistryConfig::default()
    }
}

fn repo_at(client: &Client, server: &Server, path: &str, creds: Credentials) -> Repository {
    let r = Reference::parse(&format!("{}/{path}", server.host())).expect("reference");
    client.repository(&r, creds)
}

/// Answers `/v2/` with 200 and everything else with `f`.
fn registry(f: impl Fn(&Request, &mut TcpStream) + Send + Sync + 'static) -> Server {
    Server::start(move |req, stream| {
        if req.path() == "/v2/" {
            respond(stream, 200, &[("Content-Type", "application/json")], b"{}");
        } else {
            f(req, stream)
        }
    })
}

const OCI: &str = media_type::OCI_MANIFEST;

fn good_manifest() -> Vec<u8> {
    let cfg = desc(media_type::OCI_CONFIG, b"{}");
    support::images::oci_manifest(&cfg, &[])
}

#[test]
fn manifest_answers_that_are_garbage() {
    let good = good_manifest();
    let good_digest = Digest::sha256_of(&good);
    let flaky = Arc::new(AtomicUsize::new(0));
    let always500 = Arc::new(AtomicUsize::new(0));
    let (g, f5, a5) = (good.clone(), flaky.clone(), always500.clone());
    let server = registry(move |req, s| {
        let tag = req.path().rsplit('/').next().unwrap_or("");
        match tag {
            "html" => respond(s, 200, &[("Content-Type", "text/html")], b"<html><body>Welcome to nginx!</body></html>"),
            "truncated" => respond(s, 200, &[("Content-Type", OCI)], b"{\"schemaVersion\":2,\"config\":"),
            "schema1" => respond(
                s,
                200,
                &[("Content-Type", "application/vnd.docker.distribution.manifest.v1+prettyjws")],
                br#"{"schemaVersion":1,"name":"x","tag":"y","fsLayers":[]}"#,
            ),
            "schema1-json" => respond(s, 200, &[("Content-Type", "application/json")], br#"{"schemaVersion":1,"fsLayers":[]}"#),
            "artifact" => respond(
                s,
                200,
                &[("Content-Type", "application/vnd.example.thing+json")],
                br#"{"schemaVersion":2,"mediaType":"application/vnd.example.thing+json"}"#,
            ),
            "huge" => {
                let body = vec![b' '; 5 * 1024 * 1024];
                respond(s, 200, &[("Content-Type", OCI)], &body);
            }
            "huge-unannounced" => {
                respond_head(s, 200, &[("Content-Type", OCI)]);
                let chunk = vec![b' '; 64 * 1024];
                for _ in 0..80 {
                    if s.write_all(&chunk).is_err() {
                        break;
                    }
                }
            }
            "lying-digest" => {
                let other = Digest::sha256_of(b"something else");
                respond(s, 200, &[("Content-Type", OCI), ("Docker-Content-Digest", other.as_str())], &g);
            }
            "bad-digest-header" => respond(s, 200, &[("Content-Type", OCI), ("Docker-Content-Digest", "sha256:zz")], &g),
            "missing-json" => respond(
                s,
                404,
                &[("Content-Type", "application/json")],
                br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"missing-json"}}]}"#,
            ),
            "missing-html" => respond(s, 404, &[("Content-Type", "text/html")], b"<html>404 Not Found</html>"),
            "denied" => respond(s, 403, &[], br#"{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}"#),
            "no-challenge" => respond(s, 401, &[], b""),
            "odd-challenge" => respond(s, 401, &[("WWW-Authenticate", "Negotiate abc")], b""),
            "flaky" => {
                if f5.fetch_add(1, Ordering::SeqCst) < 2 {
                    respond(s, 503, &[], b"try later");
                } else {
                    respond(s, 200, &[("Content-Type", OCI)], &g);
                }
            }
            "down" => {
                a5.fetch_add(1, Ordering::SeqCst);
                respond(s, 500, &[], b"oops");
            }
            "not-http" => {
                let _ = s.write_all(b"SSH-2.0-OpenSSH_9.2\r\n\r\ngarbage garbage\r\n");
            }
            t if t.starts_with("sha256:") => {
                // Whatever digest is asked, answer the good manifest.
                respond(s, 200, &[("Content-Type", OCI)], &g)
            }
            _ => respond(s, 200, &[("Content-Type", OCI)], &g),
        }
    });
    let client = Client::new(config());
    let repo = repo_at(&client, &server, "berth/bad", Credentials::anonymous());

    let expect = |tag: &str, kind: ErrorKind, contains: &str| {
        let err = repo.resolve(tag).unwrap_err();
        assert_eq!(err.kind(), kind, "{tag}: {err}");
        assert!(err.to_string().contains(contains), "{tag}: {err:?} / {err}");
        err
    };
    let e = expect("html", ErrorKind::Invalid, "not valid JSON");
    assert!(matches!(e, Error::Garbage { .. }));
    expect("truncated", ErrorKind::Invalid, "not valid JSON");
    let e = expect("schema1", ErrorKind::Invalid, "schema 1");
    assert!(matches!(e, Error::Schema1 { .. }));
    expect("schema1-json", ErrorKind::Invalid, "schema 1");
    let e = expect(
        "artifact",
        ErrorKind::Invalid,
        "unknown manifest media type",
    );
    assert!(matches!(e, Error::UnknownManifestType { .. }));
    let e = expect("huge", ErrorKind::Invalid, "too large");
    assert!(matches!(e, Error::ManifestTooLarge { size, .. } if size == 5 * 1024 * 1024));
    let e = expect("huge-unannounced", ErrorKind::Invalid, "too large");
    assert!(matches!(e, Error::ManifestTooLarge { .. }));
    let e = expect(
        "lying-digest",
        ErrorKind::Invalid,
        "does not match its digest",
    );
    assert!(matches!(e, Error::ManifestDigestMismatch { .. }));
    let e = expect("bad-digest-header", ErrorKind::Invalid, "invalid digest");
    assert!(matches!(e, Error::InvalidDigest { .. }));
    let e = expect("missing-json", ErrorKind::NotFound, "manifest unknown");
    assert_eq!(e.to_string(), "manifest unknown: manifest unknown");
    assert_eq!(e.status().map(|s| s.status), Some(404));
    let e = expect("missing-html", ErrorKind::NotFound, "not found");
    assert!(e.to_string().contains("404 Not Found"), "{e}");
    expect(
        "denied",
        ErrorKind::Denied,
        "denied: requested access to the resource is denied",
    );
    expect("no-challenge", ErrorKind::Unauthorized, "unauthorized");
    expect("odd-challenge", ErrorKind::Unauthorized, "unauthorized");
    expect("not-http", ErrorKind::Invalid, "");

    // 5xx: retried, then reported.
    let e = expect("down", ErrorKind::Unavailable, "500");
    assert_eq!(
        always500.load(Ordering::SeqCst),
        3,
        "1 try + max_retries 2: {e}"
    );
    let (d, b) = repo.resolve("flaky").unwrap();
    assert_eq!((d.digest, b), (good_digest.clone(), good.clone()));

    // By digest: the bytes must hash to it.
    let other = Digest::sha256_of(b"another manifest");
    let e = repo.resolve(other.as_str()).unwrap_err();
    assert!(matches!(e, Error::ManifestDigestMismatch { .. }), "{e}");
    assert!(repo.fetch_manifest(&other).is_err());
    assert_eq!(repo.fetch_manifest(&good_digest).unwrap(), good);
}

/// Serves `data` for GETs under `/v2/<mode>/blobs/`, misbehaving per `mode`.
fn blob_server(data: Vec<u8>) -> Server {
    let data = Arc::new(data);
    let first = Arc::new(dashmap_like::Counters::default());
    registry(move |req, s| {
        let mode = req.path().split('/').nth(3).unwrap_or("").to_string();
        let n = first.bump(&mode);
        let range_start = req
            .header("range")
            .and_then(|r| r.strip_prefix("bytes="))
            .and_then(|r| r.strip_suffix('-'))
            .and_then(|r| r.parse::<usize>().ok());
        let size = data.len();
        let full_len = size.to_string();
        let serve_range = |s: &mut TcpStream, start: usize| {
            if start >= size {
                respond(s, 416, &[], b"");
                return;
            }
            let cr = format!("bytes {start}-{}/{size}", size - 1);
            respond(s, 206, &[("Content-Range", cr.as_str())], &data[start..]);
        };
        match mode.as_str() {
            "good" => respond(s, 200, &[], &data),
            "cut-once" | "cut-norange" if n == 0 => {
                respond_head(s, 200, &[("Content-Length", full_len.as_str())]);
                let _ = s.write_all(&data[..size / 2]);
            }
            "cut-once" => match range_start {
                Some(start) => serve_range(s, start),
                None => respond(s, 200, &[], &data),
            },
            "cut-norange" => respond(s, 200, &[], &data),
            "tampered" => {
                let mut t = data.to_vec();
                t[size / 3] ^= 0x55;
                respond(s, 200, &[], &t);
            }
            "short-length" => {
                let len = (size - 10).to_string();
                respond_head(s, 200, &[("Content-Length", len.as_str())]);
                let _ = s.write_all(&data[..size - 10]);
            }
            "truncated-close" => match range_start {
                // Close-delimited (no length): ends early; it has nothing more to give.
                Some(_) => respond(
                    s,
                    416,
                    &[("Content-Range", &format!("bytes */{}", size / 2))],
                    b"",
                ),
                None => {
                    respond_head(s, 200, &[]);
                    let _ = s.write_all(&data[..size / 2]);
                }
            },
            "too-long" => {
                respond_head(s, 200, &[]);
                let _ = s.write_all(&data);
                let _ = s.write_all(&[0u8; 100]);
            }
            "stall" => {
                // 1000 bytes the first time, then nothing: no progress after the first break.
                match range_start {
                    Some(start) => {
                        let cr = format!("bytes {start}-{}/{size}", size - 1);
                        let len = (size - start).to_string();
                        respond_head(
                            s,
                            206,
                            &[
                                ("Content-Range", cr.as_str()),
                                ("Content-Length", len.as_str()),
                            ],
                        );
                    }
                    None => {
                        respond_head(s, 200, &[("Content-Length", full_len.as_str())]);
                        let _ = s.write_all(&data[..1000]);
                    }
                }
                std::thread::sleep(Duration::from_secs(2));
            }
            _ => respond(
                s,
                404,
                &[],
                br#"{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry"}]}"#,
            ),
        }
    })
}

/// Per-key request counters.
mod dashmap_like {
    use std::collections::HashMap;
    use std::sync::Mutex;

    #[derive(Default)]
    pub struct Counters(Mutex<HashMap<String, usize>>);

    impl Counters {
        /// Returns the count before this call.
        pub fn bump(&self, key: &str) -> usize {
            let mut m = self.0.lock().unwrap();
            let c = m.entry(key.to_string()).or_insert(0);
            *c += 1;
            *c - 1
        }
    }
}

fn read_blob(
    client: &Client,
    server: &Server,
    mode: &str,
    d: &Descriptor,
) -> (Vec<u8>, std::io::Result<usize>, u32) {
    let repo = repo_at(
        client,
        server,
        &format!("berth/{mode}"),
        Credentials::anonymous(),
    );
    let mut r = repo
        .fetch_blob(d)
        .unwrap_or_else(|e| panic!("{mode}: fetch_blob: {e}"));
    let mut got = Vec::new();
    let res = r.read_to_end(&mut got);
    (got, res, r.resumes())
}

fn blob_error(res: &std::io::Result<usize>) -> &BlobError {
    res.as_ref()
        .err()
        .and_then(|e| e.get_ref())
        .and_then(|e| e.downcast_ref::<BlobError>())
        .unwrap_or_else(|| panic!("expected a BlobError, got {res:?}"))
}

#[test]
fn blob_streams_verify_and_resume() {
    let data = bytes(1 << 20, 7);
    let d = desc(media_type::OCI_LAYER_TAR_GZIP, &data);
    let server = blob_server(data.clone());
    let client = Client::new(config());

    let (got, res, resumes) = read_blob(&client, &server, "good", &d);
    assert_eq!((res.unwrap(), resumes), (data.len(), 0));
    assert_eq!(got, data);

    // Cut mid-stream: resumed with a Range request.
    let (got, res, resumes) = read_blob(&client, &server, "cut-once", &d);
    assert_eq!(res.unwrap(), data.len());
    assert_eq!(got, data);
    assert_eq!(resumes, 1);
    let ranged: Vec<String> = server
        .requests()
        .iter()
        .filter(|r| r.path().starts_with("/v2/berth/cut-once/"))
        .filter_map(|r| r.header("range").map(str::to_string))
        .collect();
    assert_eq!(ranged, vec![format!("bytes={}-", data.len() / 2)]);

    // Cut, and the server ignores ranges: the bytes already seen are skipped.
    let (got, res, resumes) = read_blob(&client, &server, "cut-norange", &d);
    assert_eq!(res.unwrap(), data.len());
    assert_eq!((got == data, resumes), (true, 1));

    // Tampered: every byte delivered, then InvalidData at EOF.
    let (got, res, _) = read_blob(&client, &server, "tampered", &d);
    assert_eq!(got.len(), data.len());
    assert_eq!(
        res.as_ref().unwrap_err().kind(),
        std::io::ErrorKind::InvalidData
    );
    assert!(matches!(blob_error(&res), BlobError::DigestMismatch { .. }));
    assert!(res.unwrap_err().to_string().contains("failed verification"));

    // Announced shorter than the descriptor: refused before the first byte.
    let repo = repo_at(
        &client,
        &server,
        "berth/short-length",
        Credentials::anonymous(),
    );
    let err = repo.fetch_blob(&d).unwrap_err();
    assert!(
        matches!(err, Error::BlobSizeMismatch { actual, .. } if actual == data.len() as u64 - 10),
        "{err}"
    );
    assert_eq!(err.kind(), ErrorKind::Invalid);

    // Ends early, nothing more at the offset: truncated.
    let (got, res, _) = read_blob(&client, &server, "truncated-close", &d);
    assert_eq!(got.len(), data.len() / 2);
    assert_eq!(
        res.as_ref().unwrap_err().kind(),
        std::io::ErrorKind::UnexpectedEof
    );
    assert!(matches!(blob_error(&res), BlobError::Truncated { .. }));

    // More than the descriptor says: refused as it arrives.
    let (_, res, _) = read_blob(&client, &server, "too-long", &d);
    assert!(
        matches!(blob_error(&res), BlobError::TooLarge { .. }),
        "{res:?}"
    );

    // Stalls every time: resumed max_retries times, then a clear error, in bounded time.
    let t = Instant::now();
    let (_, res, resumes) = read_blob(&client, &server, "stall", &d);
    assert!(
        matches!(blob_error(&res), BlobError::Broken { .. }),
        "{res:?}"
    );
    assert_eq!(resumes, 2);
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "took {:?}",
        t.elapsed()
    );

    // Unknown blob.
    let repo = repo_at(&client, &server, "berth/none", Credentials::anonymous());
    let err = repo.fetch_blob(&d).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    assert_eq!(err.to_string(), "blob unknown: blob unknown to registry");
}

#[test]
fn blob_redirect_to_another_host_drops_authorization() {
    let data = bytes(100_000, 8);
    let d = desc(media_type::OCI_LAYER_TAR_GZIP, &data);
    let cdn_data = data.clone();
    let cdn = Server::start(move |req, s| {
        if req.header("authorization").is_some() {
            respond(s, 400, &[], b"credentials leaked to the CDN");
        } else {
            respond(s, 200, &[], &cdn_data);
        }
    });
    let cdn_url = format!("{}/blob-bytes", cdn.url());
    let origin = registry(move |req, s| {
        if req.header("authorization") != Some("Bearer registry-tok") {
            respond(s, 401, &[], b"");
        } else {
            respond(s, 307, &[("Location", cdn_url.as_str())], b"");
        }
    });
    let client = Client::new(config());
    let repo = repo_at(
        &client,
        &origin,
        "berth/redir",
        Credentials::registry_token("registry-tok"),
    );
    let mut got = Vec::new();
    repo.fetch_blob(&d).unwrap().read_to_end(&mut got).unwrap();
    assert_eq!(got, data);
    assert_eq!(cdn.requests().len(), 1);
}

#[test]
fn silent_and_absent_servers() {
    let server = registry(|_req, s| {
        std::thread::sleep(Duration::from_secs(3));
        respond(s, 200, &[], b"{}");
    });
    let client = Client::new(RegistryConfig {
        max_retries: 1,
        ..config()
    });
    let repo = repo_at(&client, &server, "berth/slow", Credentials::anonymous());
    let t = Instant::now();
    let err = repo.resolve("latest").unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    assert!(
        t.elapsed() < Duration::from_secs(3),
        "took {:?}",
        t.elapsed()
    );

    // Nothing listening.
    let port = support::registry::free_port();
    let r = Reference::parse(&format!("127.0.0.1:{port}/berth/x")).unwrap();
    let err = client
        .repository(&r, Credentials::anonymous())
        .resolve("latest")
        .unwrap_err();
    assert!(matches!(err, Error::Connect { .. }), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Unavailable);

    // A name that does not resolve.
    let r = Reference::parse("berth-no-such-host.invalid/x/y").unwrap();
    let err = client
        .repository(&r, Credentials::anonymous())
        .resolve("latest")
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err:?}");
}

#[test]
fn token_servers_that_answer_garbage() {
    let tokens = Server::start(|req, s| match req.path() {
        "/html" => respond(
            s,
            200,
            &[("Content-Type", "text/html")],
            b"<html>login</html>",
        ),
        "/empty" => respond(s, 200, &[], br#"{"token":""}"#),
        "/refuse" => respond(
            s,
            401,
            &[],
            br#"{"details":"incorrect username or password"}"#,
        ),
        "/down" => respond(s, 502, &[], b"bad gateway"),
        _ => respond(s, 404, &[], b""),
    });
    let client = Client::new(config());
    let creds = Credentials::basic("u", "p");
    // One registry per case: a challenge is remembered per registry host.
    let err = |name: &str| {
        let realm = if name == "ftp" {
            "ftp://example/token".to_string()
        } else {
            format!("{}/{name}", tokens.url())
        };
        let server = Server::start(move |_req, s| {
            let ch = format!("Bearer realm=\"{realm}\",service=\"svc\"");
            respond(s, 401, &[("WWW-Authenticate", ch.as_str())], b"");
        });
        repo_at(&client, &server, "berth/x", creds.clone())
            .resolve("latest")
            .unwrap_err()
    };
    let e = err("html");
    assert!(matches!(e, Error::TokenGarbage { .. }), "{e}");
    assert_eq!(e.kind(), ErrorKind::Invalid);
    assert!(matches!(err("empty"), Error::TokenGarbage { .. }));
    let e = err("refuse");
    assert!(matches!(e, Error::TokenRefused { .. }), "{e}");
    assert!(
        e.to_string().contains("incorrect username or password"),
        "{e}"
    );
    assert_eq!(err("down").kind(), ErrorKind::Unavailable);
    assert!(matches!(err("ftp"), Error::TokenGarbage { .. }));
}

#[test]
fn uploads_follow_relative_and_absolute_locations() {
    let stored = Arc::new(std::sync::Mutex::new(Vec::<(String, Vec<u8>)>::new()));
    let st = stored.clone();
    let server = registry(move |req, s| {
        let path = req.path().to_string();
        match (req.method.as_str(), path.as_str()) {
            ("POST", p) if p.ends_with("/blobs/uploads/") => {
                let loc = if p.contains("/relative/") {
                    "/v2/berth/relative/blobs/uploads/u1?_state=abc".to_string()
                } else {
                    format!(
                        "http://{}/v2/berth/absolute/blobs/uploads/u2?_state=xyz",
                        req.header("host").unwrap_or("")
                    )
                };
                respond(s, 202, &[("Location", loc.as_str())], b"");
            }
            ("PUT", p) if p.contains("/blobs/uploads/") => {
                let digest = req.query("digest").pop().unwrap_or_default();
                let state = req.query("_state").pop().unwrap_or_default();
                if Digest::sha256_of(&req.body).as_str() != digest || state.is_empty() {
                    respond(s, 400, &[], br#"{"errors":[{"code":"DIGEST_INVALID","message":"provided digest did not match uploaded content"}]}"#);
                    return;
                }
                st.lock().unwrap().push((path.clone(), req.body.clone()));
                respond(s, 201, &[("Docker-Content-Digest", digest.as_str())], b"");
            }
            ("PUT", p) if p.contains("/manifests/") => {
                // Announce a digest other than the bytes'.
                let wrong = Digest::sha256_of(b"not the manifest");
                respond(s, 201, &[("Docker-Content-Digest", wrong.as_str())], b"");
            }
            _ => respond(s, 404, &[], b""),
        }
    });
    let client = Client::new(config());
    let data = bytes(70_000, 9);
    let d = desc(media_type::OCI_LAYER_TAR_GZIP, &data);
    for which in ["relative", "absolute"] {
        let repo = repo_at(
            &client,
            &server,
            &format!("berth/{which}"),
            Credentials::anonymous(),
        );
        repo.push_blob(&d, &data[..], |_| {}).unwrap();
    }
    let got = stored.lock().unwrap().clone();
    assert_eq!(got.len(), 2);
    assert!(
        got[0].0.ends_with("/relative/blobs/uploads/u1"),
        "{:?}",
        got[0].0
    );
    assert!(
        got[1].0.ends_with("/absolute/blobs/uploads/u2"),
        "{:?}",
        got[1].0
    );
    assert!(got.iter().all(|(_, b)| *b == data));

    let repo = repo_at(&client, &server, "berth/relative", Credentials::anonymous());
    let err = repo.put_manifest("v1", OCI, &good_manifest()).unwrap_err();
    assert!(matches!(err, Error::ManifestDigestMismatch { .. }), "{err}");
}
