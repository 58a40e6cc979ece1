//! Daemon addresses as `-H`/`BERTH_HOST` take them, parsed like docker's
//! `opts.ParseHost`: `unix:///path`, `tcp://host:port` (port 2375, or
//! 2376 with TLS, when omitted), and a bare `host:port` meaning TCP.

use std::path::PathBuf;

/// berthd's default socket.
pub const DEFAULT_SOCKET: &str = "/run/berth/berth.sock";
/// berth's default host.
pub const DEFAULT_HOST: &str = "unix:///run/berth/berth.sock";

/// Where the daemon listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// A unix socket.
    Unix(PathBuf),
    /// TCP `host:port`.
    Tcp {
        /// Host name or address (IPv6 without brackets).
        host: String,
        /// Port.
        port: u16,
    },
}

/// A host string that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// Unknown scheme or malformed address.
    #[error("invalid bind address format: {0}")]
    Format(String),
    /// The port is not a number.
    #[error("invalid bind address format: {addr}: invalid port {port:?}")]
    Port {
        /// The address.
        addr: String,
        /// The port text.
        port: String,
    },
    /// ssh://, fd://, npipe:// are docker features berth does not have.
    #[error(
        "unsupported host protocol {proto:?} in {addr:?}: berth connects over unix:// and tcp://"
    )]
    Unsupported {
        /// The scheme.
        proto: String,
        /// The address.
        addr: String,
    },
}

impl Host {
    /// Parse `-H`'s value. `tls` picks the default TCP port.
    pub fn parse(value: &str, tls: bool) -> Result<Host, HostError> {
        let addr = value.trim();
        if addr.is_empty() {
            return Ok(Host::Unix(PathBuf::from(DEFAULT_SOCKET)));
        }
        let (proto, rest) = match addr.split_once("://") {
            Some((p, r)) => (p, r),
            None => ("tcp", addr),
        };
        match proto {
            "unix" => {
                let path = if rest.is_empty() {
                    DEFAULT_SOCKET
                } else {
                    rest
                };
                Ok(Host::Unix(PathBuf::from(path)))
            }
            "tcp" | "http" | "https" => {
                let rest = rest.trim_end_matches('/');
                let rest = rest.split('/').next().unwrap_or(rest);
                let default_port = if tls { 2376 } else { 2375 };
                let (host, port) =
                    split_host_port(rest).ok_or_else(|| HostError::Format(addr.to_string()))?;
                let host = if host.is_empty() {
                    "127.0.0.1".to_string()
                } else {
                    host
                };
                let port = match port {
                    None | Some("") => default_port,
                    Some(p) => p.parse().map_err(|_| HostError::Port {
                        addr: addr.to_string(),
                        port: p.to_string(),
                    })?,
                };
                Ok(Host::Tcp { host, port })
            }
            "ssh" | "fd" | "npipe" => Err(HostError::Unsupported {
                proto: proto.to_string(),
                addr: addr.to_string(),
            }),
            _ => Err(HostError::Format(addr.to_string())),
        }
    }

    /// The canonical text (`unix:///run/berth/berth.sock`, `tcp://h:p`),
    /// as error messages show it.
    pub fn url(&self) -> String {
        match self {
            Host::Unix(p) => format!("unix://{}", p.display()),
            Host::Tcp { host, port } if host.contains(':') => format!("tcp://[{host}]:{port}"),
            Host::Tcp { host, port } => format!("tcp://{host}:{port}"),
        }
    }

    /// The HTTP `Host` header value.
    pub fn http_authority(&self) -> String {
        match self {
            // docker's client uses this name for unix sockets
            Host::Unix(_) => "api.moby.localhost".into(),
            Host::Tcp { host, port } if host.contains(':') => format!("[{host}]:{port}"),
            Host::Tcp { host, port } => format!("{host}:{port}"),
        }
    }

    /// Is this berth's default socket?
    pub fn is_default(&self) -> bool {
        matches!(self, Host::Unix(p) if p == std::path::Path::new(DEFAULT_SOCKET))
    }
}

/// Split `host:port`, `[v6]:port`, `host`.
fn split_host_port(s: &str) -> Option<(String, Option<&str>)> {
    if let Some(rest) = s.strip_prefix('[') {
        let (h, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return None,
        };
        return Some((h.to_string(), port));
    }
    match s.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => Some((h.to_string(), Some(p))),
        Some(_) => None,
        None => Some((s.to_string(), None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hosts() {
        assert_eq!(
            Host::parse("unix:///tmp/x.sock", false).unwrap(),
            Host::Unix("/tmp/x.sock".into())
        );
        assert_eq!(Host::parse("", false).unwrap().url(), DEFAULT_HOST);
        assert_eq!(
            Host::parse("tcp://10.0.0.1", false).unwrap(),
            Host::Tcp {
                host: "10.0.0.1".into(),
                port: 2375
            }
        );
        assert_eq!(
            Host::parse("tcp://10.0.0.1", true).unwrap().url(),
            "tcp://10.0.0.1:2376"
        );
        assert_eq!(
            Host::parse("localhost:1234", false).unwrap().url(),
            "tcp://localhost:1234"
        );
        assert_eq!(
            Host::parse("tcp://[::1]:99", false).unwrap().url(),
            "tcp://[::1]:99"
        );
        assert_eq!(
            Host::parse("tcp://:99", false).unwrap().url(),
            "tcp://127.0.0.1:99"
        );
        assert!(Host::parse("tcp://h:port", false).is_err());
        assert!(Host::parse("ftp://x", false).is_err());
        assert!(Host::parse("ssh://me@host", false).is_err());
        assert!(Host::parse(DEFAULT_HOST, false).unwrap().is_default());
    }
}
