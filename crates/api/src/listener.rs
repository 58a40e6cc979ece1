//! The sockets berthd serves the API on, from dockerd's `-H` addresses:
//! `unix:///run/berth/berth.sock` (the default; root-owned, mode 0660,
//! group `berth` when that group exists) and `tcp://host:port`, which is
//! refused unless mutual TLS is configured (`--tlsverify`): the API is root
//! on this host, so it is never open on the network without client
//! certificates.

use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use tokio::net::{TcpListener, UnixListener};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

/// Where to listen, as given to `-H`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    Unix(PathBuf),
    Tcp(String),
}

/// The default API socket.
pub const DEFAULT_SOCKET: &str = "/run/berth/berth.sock";

#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    #[error("invalid listen address {0:?}: expected unix:///path or tcp://host:port")]
    InvalidAddress(String),
    #[error(
        "listening on {0} needs mutual TLS: pass --tlsverify with --tlscacert, --tlscert and --tlskey"
    )]
    TcpWithoutTls(String),
    #[error("another daemon is already serving {0}")]
    SocketInUse(PathBuf),
    #[error("binding {address}")]
    Bind {
        address: String,
        #[source]
        source: io::Error,
    },
    #[error("setting the owner and mode of {path}")]
    Permissions {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("loading TLS material from {path}")]
    TlsFile {
        path: PathBuf,
        #[source]
        source: rustls_pki_types::pem::Error,
    },
    #[error("building the TLS configuration")]
    Tls(#[source] rustls::Error),
    #[error("building the client certificate verifier")]
    ClientVerifier(#[source] rustls::server::VerifierBuilderError),
}

impl FromStr for Address {
    type Err = ListenError;

    fn from_str(s: &str) -> Result<Self, ListenError> {
        let invalid = || ListenError::InvalidAddress(s.to_string());
        if let Some(path) = s.strip_prefix("unix://") {
            let path = if path.is_empty() {
                DEFAULT_SOCKET
            } else {
                path
            };
            if !path.starts_with('/') {
                return Err(invalid());
            }
            return Ok(Address::Unix(PathBuf::from(path)));
        }
        if let Some(hostport) = s.strip_prefix("tcp://") {
            let hostport = hostport.trim_end_matches('/');
            if hostport.is_empty() || hostport.contains('/') {
                return Err(invalid());
            }
            // dockerd's default TLS port when none is given.
            let hostport = if hostport
                .rsplit_once(':')
                .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
            {
                hostport.to_string()
            } else {
                format!("{hostport}:2376")
            };
            return Ok(Address::Tcp(hostport));
        }
        if s.starts_with('/') {
            return Ok(Address::Unix(PathBuf::from(s)));
        }
        Err(invalid())
    }
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Address::Unix(p) => write!(f, "unix://{}", p.display()),
            Address::Tcp(h) => write!(f, "tcp://{h}"),
        }
    }
}

/// dockerd's `--tlsverify` material.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// A bound socket, ready to accept.
pub enum Listener {
    Unix {
        listener: UnixListener,
        path: PathBuf,
    },
    Tls {
        listener: TcpListener,
        acceptor: TlsAcceptor,
    },
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Listener::Unix { path, .. } => write!(f, "Listener(unix://{})", path.display()),
            Listener::Tls { listener, .. } => {
                write!(f, "Listener(tcp://{:?})", listener.local_addr().ok())
            }
        }
    }
}

impl Listener {
    /// Binds `address`; a unix socket is given to `group` when that group
    /// exists. Must be called inside a Tokio runtime.
    pub fn bind(
        address: &Address,
        tls: Option<&TlsFiles>,
        group: &str,
    ) -> Result<Listener, ListenError> {
        match address {
            Address::Unix(path) => bind_unix(path, group),
            Address::Tcp(hostport) => {
                let tls = tls.ok_or_else(|| ListenError::TcpWithoutTls(address.to_string()))?;
                let acceptor = TlsAcceptor::from(Arc::new(server_config(tls)?));
                let std = std::net::TcpListener::bind(hostport.as_str()).map_err(|source| {
                    ListenError::Bind {
                        address: address.to_string(),
                        source,
                    }
                })?;
                std.set_nonblocking(true)
                    .map_err(|source| ListenError::Bind {
                        address: address.to_string(),
                        source,
                    })?;
                let listener = TcpListener::from_std(std).map_err(|source| ListenError::Bind {
                    address: address.to_string(),
                    source,
                })?;
                Ok(Listener::Tls { listener, acceptor })
            }
        }
    }

    /// The bound TCP port (tests bind port 0).
    pub fn local_port(&self) -> Option<u16> {
        match self {
            Listener::Tls { listener, .. } => listener.local_addr().ok().map(|a| a.port()),
            Listener::Unix { .. } => None,
        }
    }
}

fn bind_unix(path: &Path, group: &str) -> Result<Listener, ListenError> {
    let bind_err = |source| ListenError::Bind {
        address: format!("unix://{}", path.display()),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(bind_err)?;
    }
    if path.exists() {
        // A socket file left by a daemon that died: remove it, unless
        // someone still answers on it.
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(ListenError::SocketInUse(path.to_path_buf()));
        }
        std::fs::remove_file(path).map_err(bind_err)?;
    }
    let listener = UnixListener::bind(path).map_err(bind_err)?;
    let perm_err = |source| ListenError::Permissions {
        path: path.to_path_buf(),
        source,
    };
    if rustix::process::geteuid().is_root() {
        let gid = group_id(group);
        rustix::fs::chown(
            path,
            Some(rustix::fs::Uid::ROOT),
            gid.map(rustix::fs::Gid::from_raw),
        )
        .map_err(|e| perm_err(e.into()))?;
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660)).map_err(perm_err)?;
    Ok(Listener::Unix {
        listener,
        path: path.to_path_buf(),
    })
}

/// The gid of `name` in /etc/group, if that group exists.
fn group_id(name: &str) -> Option<u32> {
    let groups = std::fs::read_to_string("/etc/group").ok()?;
    groups.lines().find_map(|line| {
        let mut fields = line.split(':');
        (fields.next()? == name).then_some(())?;
        fields.nth(1)?.parse().ok()
    })
}

/// A rustls server that requires a client certificate signed by `tls.ca`.
fn server_config(tls: &TlsFiles) -> Result<rustls::ServerConfig, ListenError> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let file_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ListenError::TlsFile { path, source }
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&tls.cert)
        .map_err(file_err(&tls.cert))?
        .collect::<Result<_, _>>()
        .map_err(file_err(&tls.cert))?;
    let key = PrivateKeyDer::from_pem_file(&tls.key).map_err(file_err(&tls.key))?;
    let mut roots = rustls::RootCertStore::empty();
    for ca in CertificateDer::pem_file_iter(&tls.ca).map_err(file_err(&tls.ca))? {
        roots
            .add(ca.map_err(file_err(&tls.ca))?)
            .map_err(ListenError::Tls)?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .map_err(ListenError::ClientVerifier)?;
    rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(ListenError::Tls)?
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs, key)
        .map_err(ListenError::Tls)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dockerd_addresses() {
        assert_eq!(
            "unix:///tmp/x.sock".parse::<Address>().unwrap(),
            Address::Unix("/tmp/x.sock".into())
        );
        assert_eq!(
            "unix://".parse::<Address>().unwrap(),
            Address::Unix(DEFAULT_SOCKET.into())
        );
        assert_eq!(
            "tcp://127.0.0.1:2376".parse::<Address>().unwrap(),
            Address::Tcp("127.0.0.1:2376".into())
        );
        assert_eq!(
            "tcp://0.0.0.0".parse::<Address>().unwrap(),
            Address::Tcp("0.0.0.0:2376".into())
        );
        for bad in ["http://x", "unix://relative", "tcp://", "fd://", "x"] {
            assert!(bad.parse::<Address>().is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn tcp_without_tls_is_refused() {
        let e = Listener::bind(&Address::Tcp("127.0.0.1:0".into()), None, "berth").unwrap_err();
        assert!(matches!(e, ListenError::TcpWithoutTls(_)));
    }

    #[tokio::test]
    async fn a_live_socket_is_not_stolen_and_a_stale_one_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("berth.sock");
        let first = Listener::bind(&Address::Unix(path.clone()), None, "berth").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o660);
        assert!(matches!(
            Listener::bind(&Address::Unix(path.clone()), None, "berth"),
            Err(ListenError::SocketInUse(_))
        ));
        drop(first);
        // The file is still there, but nobody answers: it is replaced.
        assert!(path.exists());
        Listener::bind(&Address::Unix(path), None, "berth").unwrap();
    }
}
