//! TLS material: the system roots and the per-registry certificate directories.
//!
//! Roots come from the system store through `rustls-native-certs` (on Debian the
//! `ca-certificates` bundle, honouring `SSL_CERT_FILE`/`SSL_CERT_DIR`), loaded once per
//! [`Client`](crate::Client). A registry's certificate directory, `<dir>/<host[:port]>/`, adds
//! its `*.crt` files as extra roots and its `*.cert` + `*.key` pairs as the client identity, the
//! layout of `/etc/docker/certs.d`.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ureq::tls::{Certificate, ClientCert, PemItem, PrivateKey, RootCerts, TlsConfig, TlsProvider};

use crate::error::{Error, Result};

/// The system's trusted roots. Unreadable entries are skipped, as every TLS client does.
pub(crate) fn system_roots() -> Vec<Certificate<'static>> {
    let loaded = rustls_native_certs::load_native_certs();
    loaded
        .certs
        .iter()
        .map(|der| Certificate::from_der(der.as_ref()).to_owned())
        .collect()
}

/// What a registry's certificate directory holds.
#[derive(Default)]
pub(crate) struct HostCerts {
    /// Extra roots (`*.crt`).
    pub cas: Vec<Certificate<'static>>,
    /// The client identity (`*.cert` + `*.key`), the first pair found.
    pub client: Option<ClientCert>,
}

#[cfg(test)]
impl HostCerts {
    pub(crate) fn is_empty(&self) -> bool {
        self.cas.is_empty() && self.client.is_none()
    }
}

fn read(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).map_err(|source| Error::ReadCertsDir {
        path: path.to_path_buf(),
        source,
    })
}

fn parse_certs(path: &Path) -> Result<Vec<Certificate<'static>>> {
    let pem = read(path)?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        match item {
            Ok(PemItem::Certificate(c)) => certs.push(c.to_owned()),
            Ok(_) => {}
            Err(e) => {
                return Err(Error::ParseCert {
                    path: path.to_path_buf(),
                    reason: e.to_string(),
                });
            }
        }
    }
    if certs.is_empty() {
        return Err(Error::ParseCert {
            path: path.to_path_buf(),
            reason: "no PEM certificate in the file".into(),
        });
    }
    Ok(certs)
}

fn parse_key(path: &Path) -> Result<PrivateKey<'static>> {
    let pem = read(path)?;
    for item in ureq::tls::parse_pem(&pem) {
        match item {
            Ok(PemItem::PrivateKey(k)) => return Ok(k.to_owned()),
            Ok(_) => {}
            Err(e) => {
                return Err(Error::ParseCert {
                    path: path.to_path_buf(),
                    reason: e.to_string(),
                });
            }
        }
    }
    Err(Error::ParseCert {
        path: path.to_path_buf(),
        reason: "no PEM private key in the file".into(),
    })
}

/// Loads the certificate directories of `names` (e.g. the domain and the API host) from each
/// of `dirs`. Missing directories are fine; unreadable or malformed files are errors, as a
/// silently ignored CA would only surface later as an unknown-authority failure.
pub(crate) fn load_host_certs(dirs: &[PathBuf], names: &[&str]) -> Result<HostCerts> {
    let mut out = HostCerts::default();
    for dir in dirs {
        for name in names {
            let host_dir = dir.join(name);
            let entries = match fs::read_dir(&host_dir) {
                Ok(e) => e,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(source) => {
                    return Err(Error::ReadCertsDir {
                        path: host_dir,
                        source,
                    });
                }
            };
            let mut files: Vec<PathBuf> = Vec::new();
            for entry in entries {
                let entry = entry.map_err(|source| Error::ReadCertsDir {
                    path: host_dir.clone(),
                    source,
                })?;
                files.push(entry.path());
            }
            files.sort();
            for file in &files {
                let ext = file.extension().and_then(|e| e.to_str()).unwrap_or("");
                match ext {
                    "crt" => out.cas.extend(parse_certs(file)?),
                    "cert" => {
                        let key = file.with_extension("key");
                        if !key.exists() {
                            return Err(Error::ClientCertWithoutKey {
                                cert: file.clone(),
                                key,
                            });
                        }
                        if out.client.is_none() {
                            let chain = parse_certs(file)?;
                            out.client = Some(ClientCert::new_with_certs(&chain, parse_key(&key)?));
                        }
                    }
                    "key" => {
                        let cert = file.with_extension("cert");
                        if !cert.exists() {
                            return Err(Error::ClientCertWithoutKey {
                                cert,
                                key: file.clone(),
                            });
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    Ok(out)
}

/// The TLS configuration of an agent: `roots` (shared, the system's plus a host's CAs), an
/// optional client identity, and whether certificates are verified at all.
pub(crate) fn tls_config(
    roots: Arc<Vec<Certificate<'static>>>,
    client: Option<ClientCert>,
    verify: bool,
) -> TlsConfig {
    TlsConfig::builder()
        .provider(TlsProvider::Rustls)
        .root_certs(RootCerts::Specific(roots))
        .client_cert(client)
        .disable_verification(!verify)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_dirs_are_fine_and_a_lonely_cert_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        let got = load_host_certs(&[tmp.path().join("absent")], &["h:1"]).unwrap();
        assert!(got.is_empty());

        let host = tmp.path().join("h:1");
        fs::create_dir(&host).unwrap();
        fs::write(host.join("client.cert"), b"x").unwrap();
        let err = load_host_certs(&[tmp.path().to_path_buf()], &["h:1"])
            .err()
            .unwrap();
        assert!(matches!(err, Error::ClientCertWithoutKey { .. }), "{err}");
        assert!(err.to_string().contains("client.key"), "{err}");
        fs::remove_file(host.join("client.cert")).unwrap();

        fs::write(host.join("ca.crt"), b"not pem").unwrap();
        let err = load_host_certs(&[tmp.path().to_path_buf()], &["h:1"])
            .err()
            .unwrap();
        assert!(matches!(err, Error::ParseCert { .. }), "{err}");
        assert!(err.to_string().contains("ca.crt"), "{err}");
    }
}
