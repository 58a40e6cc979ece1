//! Authentication against real `docker-registry` instances: Basic auth (htpasswd, bcrypt) and
//! the Bearer token flow with a local token server whose JWTs the registry verifies. Anonymous
//! is refused, right credentials work, wrong ones give docker's unauthorized error; login
//! returns an identity (refresh) token that then works on its own; tokens are cached.

mod support;

use berth_image::{Reference, media_type};
use berth_registry::{Client, Credentials, Error, ErrorKind, RegistryConfig, Repository, login};
use support::images::{fetch_all, push_image};
use support::registry::{Auth, Options, Registry, htpasswd};
use support::token::{ISSUER, SERVICE, TokenServer};

fn repo(client: &Client, reg: &Registry, path: &str, creds: Credentials) -> Repository {
    let r = Reference::parse(&format!("{}/{path}", reg.host)).expect("reference");
    client.repository(&r, creds)
}

#[test]
fn basic_auth_htpasswd() {
    if !support::registry::available("basic_auth_htpasswd") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("htpasswd");
    if !htpasswd(&file, &[("alice", "s3cret:with-colon"), ("bob", "pw")]) {
        return;
    }
    let Some(reg) = Registry::start(
        "basic_auth_htpasswd",
        Options {
            auth: Auth::Htpasswd(file),
            tls: None,
        },
    ) else {
        return;
    };
    let client = Client::new(RegistryConfig::default());

    // Anonymous: refused.
    let anon = repo(&client, &reg, "berth/private", Credentials::anonymous());
    let err = anon.resolve("latest").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized, "{err}");
    assert!(err.to_string().contains("unauthorized"), "{err}");

    // Right credentials: push and pull.
    let alice = repo(
        &client,
        &reg,
        "berth/private",
        Credentials::basic("alice", "s3cret:with-colon"),
    );
    let pushed = push_image(&alice, "v1", media_type::OCI_MANIFEST, &[2048], 70);
    let (d, b) = alice.resolve("v1").unwrap();
    assert_eq!(
        (d.digest, b),
        (pushed.manifest.0.digest.clone(), pushed.manifest.1.clone())
    );
    assert_eq!(fetch_all(&alice, &pushed.layers[0].0), pushed.layers[0].1);

    // Wrong password.
    let mallory = repo(
        &client,
        &reg,
        "berth/private",
        Credentials::basic("alice", "nope"),
    );
    let err = mallory.resolve("v1").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized, "{err}");

    // The X-Registry-Auth path the daemon takes.
    let header = Credentials::basic("bob", "pw").to_x_registry_auth();
    let bob = repo(
        &client,
        &reg,
        "berth/private",
        Credentials::from_x_registry_auth(&header),
    );
    assert!(bob.blob_exists(&pushed.config.0.digest).unwrap().is_some());

    // Login.
    let ok = login(
        RegistryConfig::default(),
        &reg.host,
        Credentials::basic("alice", "s3cret:with-colon"),
    )
    .unwrap();
    assert_eq!(ok.status, "Login Succeeded");
    assert_eq!(ok.identity_token, None);
    let err = login(
        RegistryConfig::default(),
        &format!("http://{}/", reg.host),
        Credentials::basic("alice", "wrong"),
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized, "{err}");
    assert_eq!(
        err.to_string(),
        "unauthorized: incorrect username or password"
    );
    let err = login(
        RegistryConfig::default(),
        &reg.host,
        Credentials::anonymous(),
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized, "{err}");
}

struct TokenSetup {
    tokens: TokenServer,
    reg: Registry,
    _dir: tempfile::TempDir,
}

fn token_registry(test: &str) -> Option<TokenSetup> {
    if !support::registry::available(test) {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let tokens = TokenServer::start(dir.path(), &[("carol", "token-pw")]);
    let reg = Registry::start(
        test,
        Options {
            auth: Auth::Token {
                realm: tokens.realm(),
                service: SERVICE.into(),
                issuer: ISSUER.into(),
                bundle: tokens.bundle.clone(),
            },
            tls: None,
        },
    )?;
    Some(TokenSetup {
        tokens,
        reg,
        _dir: dir,
    })
}

#[test]
fn token_auth_flow() {
    let Some(s) = token_registry("token_auth_flow") else {
        return;
    };
    let client = Client::new(RegistryConfig::default());

    // Anonymous: the token server refuses.
    let anon = repo(&client, &s.reg, "berth/tok", Credentials::anonymous());
    let err = anon.resolve("latest").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized, "{err}");
    assert!(
        matches!(err, Error::TokenRefused { status: 401, .. }),
        "{err}"
    );

    // Wrong password.
    let wrong = repo(
        &client,
        &s.reg,
        "berth/tok",
        Credentials::basic("carol", "x"),
    );
    let err = wrong.resolve("latest").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized, "{err}");
    assert!(
        err.to_string().contains("incorrect username or password"),
        "{err}"
    );

    // Right credentials: a push and a pull; tokens are fetched once per scope set.
    let carol = repo(
        &client,
        &s.reg,
        "berth/tok",
        Credentials::basic("carol", "token-pw"),
    );
    let before = s.tokens.count("GET");
    let pushed = push_image(
        &carol,
        "v1",
        media_type::OCI_MANIFEST,
        &[1000, 2000, 3000],
        80,
    );
    let (d, _) = carol.resolve("v1").unwrap();
    assert_eq!(d.digest, pushed.manifest.0.digest);
    for (ld, lb) in &pushed.layers {
        assert_eq!(&fetch_all(&carol, ld), lb);
    }
    let fetched = s.tokens.count("GET") - before;
    assert!(
        (1..=2).contains(&fetched),
        "one token for pull,push and one for pull expected, the server saw {fetched}"
    );

    // A second repository with the same credentials needs its own scope.
    let other = repo(
        &client,
        &s.reg,
        "berth/tok2",
        Credentials::basic("carol", "token-pw"),
    );
    assert!(
        other
            .mount_blob(&pushed.layers[0].0.digest, "berth/tok")
            .unwrap()
    );

    // A registry token (bearer sent as is): get one from the token server by hand.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut resp = agent
        .get(format!(
            "{}?service={SERVICE}&scope=repository:berth/tok:pull",
            s.tokens.realm()
        ))
        .header(
            "authorization",
            berth_registry_test_basic("carol", "token-pw"),
        )
        .call()
        .unwrap();
    let v: serde_json::Value =
        serde_json::from_slice(&resp.body_mut().read_to_vec().unwrap()).unwrap();
    let raw = v["token"].as_str().unwrap().to_string();
    let with_token = repo(
        &client,
        &s.reg,
        "berth/tok",
        Credentials::registry_token(raw),
    );
    assert_eq!(
        with_token.resolve("v1").unwrap().0.digest,
        pushed.manifest.0.digest
    );
}

fn berth_registry_test_basic(u: &str, p: &str) -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
    )
}

#[test]
fn token_login_and_identity_token() {
    let Some(s) = token_registry("token_login_and_identity_token") else {
        return;
    };
    let result = login(
        RegistryConfig::default(),
        &s.reg.host,
        Credentials::basic("carol", "token-pw"),
    )
    .unwrap();
    assert_eq!(result.status, "Login Succeeded");
    let identity = result
        .identity_token
        .expect("the token server issued a refresh token");

    let err = login(
        RegistryConfig::default(),
        &s.reg.host,
        Credentials::basic("carol", "bad"),
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized, "{err}");
    assert!(
        err.to_string().contains("incorrect username or password"),
        "{err}"
    );

    // The identity token alone: exchanged with a refresh_token grant (POST).
    let client = Client::new(RegistryConfig::default());
    let posts_before = s.tokens.count("POST");
    let r = repo(
        &client,
        &s.reg,
        "berth/idt",
        Credentials::identity_token(identity),
    );
    let pushed = push_image(&r, "v1", media_type::OCI_MANIFEST, &[500], 90);
    assert_eq!(r.resolve("v1").unwrap().0.digest, pushed.manifest.0.digest);
    assert!(
        s.tokens.count("POST") > posts_before,
        "the refresh grant was used"
    );

    let bogus = repo(
        &client,
        &s.reg,
        "berth/idt",
        Credentials::identity_token("bogus"),
    );
    let err = bogus.resolve("v1").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized, "{err}");
}
