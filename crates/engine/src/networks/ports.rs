//! Published ports: `-p [ip:]host:container[/proto]` (the CLI sends
//! `HostConfig.PortBindings`, one key per container port, ranges already
//! split), `-P` (`PublishAllPorts`: every `ExposedPorts` entry on a free
//! host port), the choice of host ports, and dockerd's "port is already
//! allocated".
//!
//! Ports are DNAT rules, not sockets (see `berth_network::firewall::nft`),
//! so nothing in the kernel stops two containers from claiming one port:
//! the endpoints table is the allocator. A port some host process listens
//! on is refused too (a bind probe), as dockerd's proxy would fail there.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, TcpListener, UdpSocket};

use berth_models::container_config::Empty;
use berth_models::host_config::PortBinding;
use berth_network::firewall::{PortMapping, Protocol};

use super::{NetworkError, PublishedPort};

/// One port to publish, before a host port is chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortRequest {
    pub proto: String,
    pub container_port: u16,
    pub host_ip: IpAddr,
    /// Inclusive; `None`: any free port of the ephemeral range.
    pub host_range: Option<(u16, u16)>,
}

/// `80/tcp` → (80, "tcp").
pub fn parse_port_key(key: &str) -> Result<(u16, String), NetworkError> {
    let (port, proto) = key.split_once('/').unwrap_or((key, "tcp"));
    let proto = proto.to_ascii_lowercase();
    if proto != "tcp" && proto != "udp" {
        return Err(NetworkError::Invalid(format!(
            "invalid proto '{proto}' in {key}: Berth publishes tcp and udp ports"
        )));
    }
    let port: u16 = port
        .parse()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| NetworkError::Invalid(format!("invalid containerPort: {key}")))?;
    Ok((port, proto))
}

fn parse_host_port(s: &str) -> Result<Option<(u16, u16)>, NetworkError> {
    let s = s.trim();
    if s.is_empty() || s == "0" {
        return Ok(None);
    }
    let bad = || NetworkError::Invalid(format!("invalid hostPort: {s}"));
    let (a, b) = s.split_once('-').unwrap_or((s, s));
    let a: u16 = a.parse().map_err(|_| bad())?;
    let b: u16 = b.parse().map_err(|_| bad())?;
    if a == 0 || b < a {
        return Err(bad());
    }
    Ok(Some((a, b)))
}

/// What a container asks to publish.
pub fn requests(
    bindings: Option<&BTreeMap<String, Option<Vec<PortBinding>>>>,
    publish_all: bool,
    exposed: Option<&BTreeMap<String, Empty>>,
) -> Result<Vec<PortRequest>, NetworkError> {
    let mut out = Vec::new();
    for (key, list) in bindings.into_iter().flatten() {
        let (container_port, proto) = parse_port_key(key)?;
        let list = list.clone().unwrap_or_default();
        let list = if list.is_empty() {
            vec![PortBinding::default()]
        } else {
            list
        };
        for b in list {
            let host_ip = if b.host_ip.is_empty() {
                IpAddr::V4(Ipv4Addr::UNSPECIFIED)
            } else {
                b.host_ip
                    .trim_matches(['[', ']'])
                    .parse()
                    .map_err(|_| NetworkError::Invalid(format!("invalid host IP: {}", b.host_ip)))?
            };
            out.push(PortRequest {
                proto: proto.clone(),
                container_port,
                host_ip,
                host_range: parse_host_port(&b.host_port)?,
            });
        }
    }
    if publish_all {
        for key in exposed.into_iter().flat_map(|m| m.keys()) {
            let (container_port, proto) = parse_port_key(key)?;
            if out
                .iter()
                .any(|r| r.container_port == container_port && r.proto == proto)
            {
                continue;
            }
            out.push(PortRequest {
                proto,
                container_port,
                host_ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                host_range: None,
            });
        }
    }
    Ok(out)
}

fn overlaps(a: IpAddr, b: IpAddr) -> bool {
    a.is_unspecified() || b.is_unspecified() || a == b
}

fn taken_by(taken: &[PublishedPort], proto: &str, ip: IpAddr, port: u16) -> bool {
    taken
        .iter()
        .any(|t| t.proto == proto && t.host_port == port && overlaps(t.host_ip, ip))
}

/// Can a host process's socket be in the way? A bind probe (released at
/// once).
fn probe(proto: &str, ip: IpAddr, port: u16) -> bool {
    match proto {
        "udp" => UdpSocket::bind((ip, port)).is_ok(),
        _ => TcpListener::bind((ip, port)).is_ok(),
    }
}

/// The ephemeral range host ports are chosen from (dockerd's).
fn ephemeral_range() -> (u16, u16) {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| {
            let mut it = s.split_whitespace().map(|x| x.parse::<u16>());
            match (it.next(), it.next()) {
                (Some(Ok(a)), Some(Ok(b))) if a <= b => Some((a, b)),
                _ => None,
            }
        })
        .unwrap_or((32768, 60999))
}

/// Chooses host ports for `requests`, given the ports other containers
/// hold. Fails with dockerd's words when one is taken.
pub fn allocate(
    requests: &[PortRequest],
    others: &[PublishedPort],
) -> Result<Vec<PublishedPort>, NetworkError> {
    let mut chosen: Vec<PublishedPort> = Vec::new();
    for r in requests {
        let busy = |port: u16, chosen: &[PublishedPort]| {
            taken_by(others, &r.proto, r.host_ip, port)
                || taken_by(chosen, &r.proto, r.host_ip, port)
        };
        let port = match r.host_range {
            Some((a, b)) => {
                let found = (a..=b).find(|p| !busy(*p, &chosen));
                let Some(p) = found else {
                    let range = if a == b {
                        a.to_string()
                    } else {
                        format!("{a}-{b}")
                    };
                    return Err(NetworkError::PortAllocated(format!(
                        "Bind for {}:{range} failed: port is already allocated",
                        fmt_ip(r.host_ip)
                    )));
                };
                if !probe(&r.proto, r.host_ip, p) {
                    return Err(NetworkError::PortAllocated(format!(
                        "failed to bind host port for {}:{p}/{}: address already in use",
                        fmt_ip(r.host_ip),
                        r.proto
                    )));
                }
                p
            }
            None => {
                let (lo, hi) = ephemeral_range();
                (lo..=hi)
                    .find(|p| !busy(*p, &chosen) && probe(&r.proto, r.host_ip, *p))
                    .ok_or_else(|| {
                        NetworkError::PortAllocated(format!(
                            "Bind for {}:{lo}-{hi} failed: no free port in the range",
                            fmt_ip(r.host_ip)
                        ))
                    })?
            }
        };
        chosen.push(PublishedPort {
            proto: r.proto.clone(),
            host_ip: r.host_ip,
            host_port: port,
            container_port: r.container_port,
        });
    }
    Ok(chosen)
}

fn fmt_ip(ip: IpAddr) -> String {
    match ip {
        IpAddr::V6(v6) => format!("[{v6}]"),
        v4 => v4.to_string(),
    }
}

/// What the firewall gets.
pub fn mappings(ports: &[PublishedPort]) -> Vec<PortMapping> {
    ports
        .iter()
        .map(|p| PortMapping {
            protocol: if p.proto == "udp" {
                Protocol::Udp
            } else {
                Protocol::Tcp
            },
            host_ip: (!p.host_ip.is_unspecified()).then_some(p.host_ip),
            host_port: p.host_port,
            container_port: p.container_port,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding(ip: &str, port: &str) -> PortBinding {
        PortBinding {
            host_ip: ip.into(),
            host_port: port.into(),
        }
    }

    #[test]
    fn bindings_and_publish_all_become_requests() {
        let mut b = BTreeMap::new();
        b.insert(
            "80/tcp".to_string(),
            Some(vec![binding("127.0.0.1", "8080")]),
        );
        b.insert("53/udp".to_string(), Some(vec![binding("", "")]));
        let mut exposed = BTreeMap::new();
        exposed.insert("80/tcp".to_string(), Empty::default());
        exposed.insert("443/tcp".to_string(), Empty::default());
        let r = requests(Some(&b), true, Some(&exposed)).unwrap();
        assert_eq!(r.len(), 3);
        assert_eq!(r[1].host_range, Some((8080, 8080)));
        assert_eq!(r[1].host_ip, "127.0.0.1".parse::<IpAddr>().unwrap());
        assert_eq!(r[0].host_range, None);
        assert_eq!(r[2].container_port, 443);
        assert!(parse_port_key("80/sctp").is_err());
        assert!(parse_port_key("x/tcp").is_err());
        assert!(parse_host_port("9-8").is_err());
    }

    #[test]
    fn a_taken_port_is_refused_with_dockers_words() {
        let other = PublishedPort {
            proto: "tcp".into(),
            host_ip: "0.0.0.0".parse().unwrap(),
            host_port: 8080,
            container_port: 80,
        };
        let req = PortRequest {
            proto: "tcp".into(),
            container_port: 80,
            host_ip: "0.0.0.0".parse().unwrap(),
            host_range: Some((8080, 8080)),
        };
        let e = allocate(std::slice::from_ref(&req), std::slice::from_ref(&other)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Bind for 0.0.0.0:8080 failed: port is already allocated"
        );
        // Another protocol does not collide.
        let udp = PortRequest {
            proto: "udp".into(),
            ..req
        };
        assert!(!taken_by(&[other], &udp.proto, udp.host_ip, 8080));
    }
}
