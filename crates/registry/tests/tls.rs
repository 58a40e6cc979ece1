//! TLS against a real `docker-registry` serving HTTPS with a certificate for 127.0.0.1 made by
//! a test CA: trusted through a per-registry certificate directory
//! (`<certs.d>/127.0.0.1:<port>/ca.crt`), refused with a clear TLS error without it (and no
//! silent fall back to plain HTTP), accepted unverified when the host is marked insecure, and
//! mutual TLS with `client.cert` + `client.key`.

mod support;

use std::path::{Path, PathBuf};

use berth_image::{Reference, media_type};
use berth_registry::{Client, Credentials, Error, ErrorKind, RegistryConfig, Repository};
use support::certs::{Ca, write};
use support::images::{fetch_all, push_image};
use support::registry::{Options, Registry, Tls};

fn repo(config: RegistryConfig, reg: &Registry, path: &str) -> Repository {
    let r = Reference::parse(&format!("{}/{path}", reg.host)).expect("reference");
    Client::new(config).repository(&r, Credentials::anonymous())
}

fn config_with(certs_dir: &Path) -> RegistryConfig {
    RegistryConfig {
        certs_dirs: vec![certs_dir.to_path_buf()],
        ..RegistryConfig::default()
    }
}

struct Setup {
    dir: tempfile::TempDir,
    ca: Ca,
    reg: Registry,
}

impl Setup {
    fn certs_d(&self) -> PathBuf {
        self.dir.path().join("certs.d")
    }

    fn host_dir(&self) -> PathBuf {
        self.certs_d().join(&self.reg.host)
    }
}

fn start(test: &str, mutual: bool) -> Option<Setup> {
    if !support::registry::available(test) {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("berth test CA");
    let server = ca.server(&["127.0.0.1", "localhost"]);
    let (cert, key, cas) = (
        dir.path().join("server.crt"),
        dir.path().join("server.key"),
        dir.path().join("client-cas.pem"),
    );
    write(&cert, &server.cert_pem);
    write(&key, &server.key_pem);
    write(&cas, &ca.pem());
    let reg = Registry::start(
        test,
        Options {
            tls: Some(Tls {
                cert,
                key,
                client_cas: mutual.then_some(cas),
            }),
            ..Options::default()
        },
    )?;
    Some(Setup { dir, ca, reg })
}

#[test]
fn tls_with_a_per_registry_ca() {
    let Some(s) = start("tls_with_a_per_registry_ca", false) else {
        return;
    };
    write(&s.host_dir().join("ca.crt"), &s.ca.pem());
    let r = repo(config_with(&s.certs_d()), &s.reg, "berth/tls");
    let pushed = push_image(&r, "v1", media_type::OCI_MANIFEST, &[10_000], 100);
    let (d, _) = r.resolve("v1").unwrap();
    assert_eq!(d.digest, pushed.manifest.0.digest);
    assert_eq!(fetch_all(&r, &pushed.layers[0].0), pushed.layers[0].1);
}

#[test]
fn tls_without_the_ca_is_a_clear_error() {
    let Some(s) = start("tls_without_the_ca_is_a_clear_error", false) else {
        return;
    };
    // Empty certs dir: only the system roots.
    std::fs::create_dir_all(s.certs_d()).unwrap();
    let r = repo(config_with(&s.certs_d()), &s.reg, "berth/tls");
    let err = r.resolve("v1").unwrap_err();
    eprintln!("without the CA: {err}");
    let Error::Tls { host, reason, .. } = &err else {
        panic!("expected a TLS error, got {err:?}");
    };
    assert_eq!(host, &s.reg.host);
    assert!(
        reason.contains("UnknownIssuer") || reason.contains("certificate"),
        "{reason}"
    );
    assert!(
        err.to_string().starts_with("TLS handshake with 127.0.0.1:"),
        "{err}"
    );
    assert_eq!(err.kind(), ErrorKind::Other);

    // Marked insecure: docker's meaning, certificates are not verified.
    let insecure = RegistryConfig {
        insecure: vec![s.reg.host.clone()],
        ..config_with(&s.certs_d())
    };
    let r = repo(insecure, &s.reg, "berth/tls");
    push_image(&r, "v1", media_type::OCI_MANIFEST, &[100], 101);
    assert!(r.resolve("v1").is_ok());

    // A CIDR entry works the same way.
    let by_cidr = RegistryConfig {
        insecure: vec!["127.0.0.0/8".into()],
        ..config_with(&s.certs_d())
    };
    assert!(repo(by_cidr, &s.reg, "berth/tls").resolve("v1").is_ok());
}

#[test]
fn mutual_tls_with_a_client_certificate() {
    let Some(s) = start("mutual_tls_with_a_client_certificate", true) else {
        return;
    };
    write(&s.host_dir().join("ca.crt"), &s.ca.pem());

    // Without a client certificate the server refuses the handshake.
    let err = repo(config_with(&s.certs_d()), &s.reg, "berth/mtls")
        .resolve("v1")
        .unwrap_err();
    eprintln!("without a client certificate: {err}");
    assert!(
        matches!(
            err,
            Error::Tls { .. } | Error::ReadAnswer { .. } | Error::Connect { .. }
        ),
        "{err:?}"
    );

    let client = s.ca.client();
    write(&s.host_dir().join("client.cert"), &client.cert_pem);
    write(&s.host_dir().join("client.key"), &client.key_pem);
    let r = repo(config_with(&s.certs_d()), &s.reg, "berth/mtls");
    let pushed = push_image(&r, "v1", media_type::OCI_MANIFEST, &[1000], 102);
    assert_eq!(r.resolve("v1").unwrap().0.digest, pushed.manifest.0.digest);
}
