//! Byte streams to the daemon: a unix socket, TCP, or TCP with TLS
//! (rustls; `--tls` without verification, `--tlsverify` against a CA, a
//! client certificate when one is configured), and the request body type
//! (empty, in memory, or streamed from a reader on another thread).

use std::io::Read;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpStream, UnixStream};

use super::host::Host;

/// TLS settings from `--tls`, `--tlsverify`, `--tlscacert`, `--tlscert`,
/// `--tlskey`.
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// CA certificate(s) to verify the daemon with.
    pub ca: Option<PathBuf>,
    /// Client certificate.
    pub cert: Option<PathBuf>,
    /// Client key.
    pub key: Option<PathBuf>,
    /// Verify the daemon's certificate (`--tlsverify`).
    pub verify: bool,
}

/// A TLS configuration that cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The CA file cannot be read or holds no certificate.
    #[error("could not read CA certificate {path:?}: {source}")]
    ReadCa {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: rustls_pki_types::pem::Error,
    },
    /// A CA certificate is not acceptable.
    #[error("failed to append certificates from PEM file: {path:?}: {source}")]
    AddCa {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: rustls::Error,
    },
    /// The client certificate cannot be read.
    #[error("could not load X509 key pair: cert {path:?}: {source}")]
    ReadCert {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: rustls_pki_types::pem::Error,
    },
    /// The client key cannot be read.
    #[error("could not load X509 key pair: key {path:?}: {source}")]
    ReadKey {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: rustls_pki_types::pem::Error,
    },
    /// Only one of certificate and key was given.
    #[error("client certificate {cert:?} and key {key:?} must both be given")]
    HalfPair {
        /// The certificate, if any.
        cert: Option<PathBuf>,
        /// The key, if any.
        key: Option<PathBuf>,
    },
    /// rustls refused the configuration.
    #[error("TLS configuration: {0}")]
    Config(#[source] rustls::Error),
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Build the rustls client configuration.
pub fn client_config(o: &TlsOptions) -> Result<ClientConfig, TlsError> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Config)?;
    let builder = if o.verify {
        let mut roots = rustls::RootCertStore::empty();
        if let Some(ca) = &o.ca {
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(ca)
                .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                .map_err(|source| TlsError::ReadCa {
                    path: ca.clone(),
                    source,
                })?;
            for c in certs {
                roots.add(c).map_err(|source| TlsError::AddCa {
                    path: ca.clone(),
                    source,
                })?;
            }
        }
        builder.with_root_certificates(roots)
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerify(provider())))
    };
    let config = match (&o.cert, &o.key) {
        (Some(cert), Some(key)) => {
            let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
                .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                .map_err(|source| TlsError::ReadCert {
                    path: cert.clone(),
                    source,
                })?;
            let key = PrivateKeyDer::from_pem_file(key).map_err(|source| TlsError::ReadKey {
                path: key.clone(),
                source,
            })?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(TlsError::Config)?
        }
        (None, None) => builder.with_no_client_auth(),
        (c, k) => {
            return Err(TlsError::HalfPair {
                cert: c.clone(),
                key: k.clone(),
            });
        }
    };
    Ok(config)
}

/// `--tls` without `--tlsverify`: docker's `InsecureSkipVerify`.
#[derive(Debug)]
struct NoVerify(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// A connected stream to the daemon.
pub enum Stream {
    /// Unix socket.
    Unix(UnixStream),
    /// Plain TCP.
    Tcp(TcpStream),
    /// TCP with TLS.
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

/// Why connecting failed (the caller words it for the user).
#[derive(Debug)]
pub enum ConnectError {
    /// The socket or port refused, or the socket does not exist.
    Refused(std::io::Error),
    /// Permission denied on the socket.
    Permission(std::io::Error),
    /// Any other I/O error.
    Io(std::io::Error),
    /// The TLS handshake failed.
    Tls(std::io::Error),
}

/// Connect to `host`.
pub async fn connect(host: &Host, tls: Option<&Arc<ClientConfig>>) -> Result<Stream, ConnectError> {
    let classify = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::PermissionDenied => ConnectError::Permission(e),
        std::io::ErrorKind::NotFound
        | std::io::ErrorKind::ConnectionRefused
        | std::io::ErrorKind::AddrNotAvailable
        | std::io::ErrorKind::TimedOut => ConnectError::Refused(e),
        _ => ConnectError::Io(e),
    };
    match host {
        Host::Unix(path) => Ok(Stream::Unix(
            UnixStream::connect(path).await.map_err(classify)?,
        )),
        Host::Tcp { host: h, port } => {
            let tcp = TcpStream::connect((h.as_str(), *port))
                .await
                .map_err(classify)?;
            let _ = tcp.set_nodelay(true);
            match tls {
                None => Ok(Stream::Tcp(tcp)),
                Some(cfg) => {
                    let name = ServerName::try_from(h.clone()).map_err(|e| {
                        ConnectError::Tls(std::io::Error::new(std::io::ErrorKind::InvalidInput, e))
                    })?;
                    let connector = tokio_rustls::TlsConnector::from(Arc::clone(cfg));
                    let s = connector
                        .connect(name, tcp)
                        .await
                        .map_err(ConnectError::Tls)?;
                    Ok(Stream::Tls(Box::new(s)))
                }
            }
        }
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Unix(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Stream::Unix(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Unix(s) => Pin::new(s).poll_flush(cx),
            Stream::Tcp(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Unix(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// A request body.
pub enum ReqBody {
    /// No body.
    Empty,
    /// A body in memory.
    Full(Option<Bytes>),
    /// A body streamed from a reader (sent chunked).
    Stream(tokio::sync::mpsc::Receiver<std::io::Result<Bytes>>),
}

impl ReqBody {
    /// Stream `reader` from a thread of its own, 64 KiB at a time.
    pub fn from_reader(mut reader: Box<dyn Read + Send>) -> ReqBody {
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        if tx
                            .blocking_send(Ok(Bytes::copy_from_slice(&buf[..n])))
                            .is_err()
                        {
                            break;
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        let _ = tx.blocking_send(Err(e));
                        break;
                    }
                }
            }
        });
        ReqBody::Stream(rx)
    }
}

impl Body for ReqBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        match self.get_mut() {
            ReqBody::Empty => Poll::Ready(None),
            ReqBody::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            ReqBody::Stream(rx) => match rx.poll_recv(cx) {
                Poll::Ready(Some(Ok(b))) => Poll::Ready(Some(Ok(Frame::data(b)))),
                Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
                Poll::Ready(None) => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            ReqBody::Empty => true,
            ReqBody::Full(b) => b.is_none(),
            ReqBody::Stream(_) => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ReqBody::Empty => SizeHint::with_exact(0),
            ReqBody::Full(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            ReqBody::Stream(_) => SizeHint::default(),
        }
    }
}
