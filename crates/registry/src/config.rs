//! The client's configuration and the per-host transport policy derived from it.
//!
//! Policy (dockerd's, with one deliberate difference):
//! - `docker.io` (and `index.docker.io`) is served by the API host `registry-1.docker.io`;
//! - TLS everywhere, verified against the system roots plus the CA files of the host's
//!   certificate directory (`<certs_dir>/<host[:port]>/*.crt`, client pairs `*.cert`+`*.key`,
//!   the layout of `/etc/docker/certs.d`);
//! - plain HTTP is allowed only for loopback hosts (`localhost`, `127.0.0.0/8`, `::1`) and hosts
//!   the user marks insecure (`host[:port]` or a CIDR, as `dockerd --insecure-registry`): those
//!   try HTTPS first and fall back to HTTP;
//! - for hosts marked insecure, certificates are not verified (dockerd's meaning of insecure);
//!   for loopback hosts that are not marked, they ARE verified and a certificate error is
//!   reported rather than falling back to HTTP: dockerd skips verification for 127.0.0.0/8,
//!   Berth only falls back to HTTP when the server does not speak TLS at all.

use std::net::{IpAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

/// How the client reaches registries. `Default` gives dockerd's defaults.
#[derive(Clone, Debug)]
pub struct RegistryConfig {
    /// Registries where plain HTTP and unverified TLS are allowed: `host[:port]` entries or
    /// CIDRs (`10.0.0.0/8`), like `dockerd --insecure-registry`.
    pub insecure: Vec<String>,
    /// Directories of per-registry certificates, searched in order:
    /// `<dir>/<host[:port]>/ca.crt` (any `*.crt` is a CA), `client.cert` + `client.key`.
    /// Default: `/etc/berth/certs.d`, then docker's `/etc/docker/certs.d`.
    pub certs_dirs: Vec<PathBuf>,
    /// The `User-Agent` header.
    pub user_agent: String,
    /// How many times a request that failed before any byte of the answer (connection error,
    /// 5xx, 429) is retried, and how many times a blob download resumes after a broken
    /// connection without progress in between.
    pub max_retries: u32,
    /// The first pause between retries; doubled after each attempt (capped at 8 s).
    pub retry_backoff: Duration,
    /// Time limit to resolve, connect and finish the TLS handshake.
    pub connect_timeout: Duration,
    /// Time limit for the answer's headers once the request is sent, and for each read of a
    /// body: a server that stays silent longer is a timeout, a slow but steady one is not.
    pub read_timeout: Duration,
}

impl Default for RegistryConfig {
    fn default() -> Self {
        RegistryConfig {
            insecure: Vec::new(),
            certs_dirs: vec![
                PathBuf::from("/etc/berth/certs.d"),
                PathBuf::from("/etc/docker/certs.d"),
            ],
            user_agent: concat!("berth/", env!("CARGO_PKG_VERSION")).to_string(),
            max_retries: 3,
            retry_backoff: Duration::from_millis(200),
            connect_timeout: Duration::from_secs(30),
            read_timeout: Duration::from_secs(60),
        }
    }
}

/// The host that serves the registry API for a reference's domain.
pub(crate) fn api_host(domain: &str) -> &str {
    match domain {
        "docker.io" | "index.docker.io" => "registry-1.docker.io",
        other => other,
    }
}

/// Splits `host[:port]` (with `[v6]:port`) into the host and the optional port.
pub(crate) fn split_host_port(hostport: &str) -> (&str, Option<&str>) {
    if let Some(rest) = hostport.strip_prefix('[')
        && let Some((host, after)) = rest.split_once(']')
    {
        return (host, after.strip_prefix(':'));
    }
    match hostport.rsplit_once(':') {
        Some((host, port))
            if !host.contains(':')
                && !port.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit()) =>
        {
            (host, Some(port))
        }
        _ => (hostport, None),
    }
}

/// True for `localhost`, `127.0.0.0/8` and `::1` (literal addresses; names are not resolved).
pub(crate) fn is_loopback(hostport: &str) -> bool {
    let (host, _) = split_host_port(hostport);
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// A parsed CIDR.
struct Cidr {
    net: IpAddr,
    bits: u8,
}

impl Cidr {
    fn parse(s: &str) -> Option<Cidr> {
        let (addr, bits) = s.split_once('/')?;
        let net: IpAddr = addr.parse().ok()?;
        let bits: u8 = bits.parse().ok()?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        (bits <= max).then_some(Cidr { net, bits })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        match (self.net, ip) {
            (IpAddr::V4(n), IpAddr::V4(i)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.bits)).unwrap_or(0);
                u32::from(n) & mask == u32::from(i) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(i)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.bits))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(i) & mask
            }
            _ => false,
        }
    }
}

/// How to reach one host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HostPolicy {
    /// HTTPS with verified certificates, nothing else.
    Tls,
    /// Loopback: verified HTTPS, plain HTTP when the server does not speak TLS.
    TlsThenPlain,
    /// Marked insecure: HTTPS without verification, plain HTTP on any HTTPS failure.
    Insecure,
}

impl RegistryConfig {
    /// The policy for `hostport` (the API host, `host[:port]`).
    pub(crate) fn host_policy(&self, hostport: &str) -> HostPolicy {
        if self.is_marked_insecure(hostport) {
            HostPolicy::Insecure
        } else if is_loopback(hostport) {
            HostPolicy::TlsThenPlain
        } else {
            HostPolicy::Tls
        }
    }

    fn is_marked_insecure(&self, hostport: &str) -> bool {
        let (host, _) = split_host_port(hostport);
        let mut cidrs = Vec::new();
        for entry in &self.insecure {
            let entry = entry.trim();
            let entry = entry
                .strip_prefix("https://")
                .or_else(|| entry.strip_prefix("http://"))
                .unwrap_or(entry)
                .trim_end_matches('/');
            if let Some(cidr) = Cidr::parse(entry) {
                cidrs.push(cidr);
            } else if entry.eq_ignore_ascii_case(hostport) {
                return true;
            }
        }
        if cidrs.is_empty() {
            return false;
        }
        let ips: Vec<IpAddr> = match host.parse::<IpAddr>() {
            Ok(ip) => vec![ip],
            // dockerd resolves names to match them against insecure CIDRs.
            Err(_) => (host, 0)
                .to_socket_addrs()
                .map(|it| it.map(|a| a.ip()).collect())
                .unwrap_or_default(),
        };
        ips.iter().any(|ip| cidrs.iter().any(|c| c.contains(*ip)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_hub_api_host() {
        assert_eq!(api_host("docker.io"), "registry-1.docker.io");
        assert_eq!(api_host("index.docker.io"), "registry-1.docker.io");
        assert_eq!(api_host("ghcr.io"), "ghcr.io");
        assert_eq!(api_host("localhost:5000"), "localhost:5000");
    }

    #[test]
    fn host_port_split() {
        assert_eq!(split_host_port("a.b:5000"), ("a.b", Some("5000")));
        assert_eq!(split_host_port("a.b"), ("a.b", None));
        assert_eq!(split_host_port("[::1]:5000"), ("::1", Some("5000")));
        assert_eq!(split_host_port("[::1]"), ("::1", None));
        assert_eq!(split_host_port("::1"), ("::1", None));
    }

    #[test]
    fn loopback_and_insecure_policy() {
        let c = RegistryConfig {
            insecure: vec![
                "myreg:5000".into(),
                "10.1.0.0/16".into(),
                "http://other.example/".into(),
                "fd00::/8".into(),
            ],
            ..RegistryConfig::default()
        };
        assert_eq!(c.host_policy("localhost:5000"), HostPolicy::TlsThenPlain);
        assert_eq!(c.host_policy("127.9.9.9:1"), HostPolicy::TlsThenPlain);
        assert_eq!(c.host_policy("[::1]:5000"), HostPolicy::TlsThenPlain);
        assert_eq!(c.host_policy("myreg:5000"), HostPolicy::Insecure);
        assert_eq!(c.host_policy("MYREG:5000"), HostPolicy::Insecure);
        assert_eq!(c.host_policy("myreg:5001"), HostPolicy::Tls);
        assert_eq!(c.host_policy("other.example"), HostPolicy::Insecure);
        assert_eq!(c.host_policy("10.1.200.3:443"), HostPolicy::Insecure);
        assert_eq!(c.host_policy("10.2.0.1"), HostPolicy::Tls);
        assert_eq!(c.host_policy("[fd12::1]:5000"), HostPolicy::Insecure);
        assert_eq!(c.host_policy("registry-1.docker.io"), HostPolicy::Tls);
        assert_eq!(c.host_policy("128.0.0.1"), HostPolicy::Tls);
    }

    #[test]
    fn cidr_edges() {
        let all = Cidr::parse("0.0.0.0/0").unwrap();
        assert!(all.contains("8.8.8.8".parse().unwrap()));
        let one = Cidr::parse("10.0.0.1/32").unwrap();
        assert!(one.contains("10.0.0.1".parse().unwrap()));
        assert!(!one.contains("10.0.0.2".parse().unwrap()));
        assert!(Cidr::parse("10.0.0.0/33").is_none());
        assert!(Cidr::parse("nonsense/8").is_none());
        assert!(!one.contains("::1".parse().unwrap()));
    }
}
