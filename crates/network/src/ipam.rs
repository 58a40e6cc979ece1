//! IP address management: subnets, the gateway, `--ip-range`, and the
//! allocation of container addresses (never one handed out twice, explicit
//! `--ip` requests, release), overlap checks between networks and with the
//! host's routes, and the choice of a default subnet from Docker's default
//! pools.
//!
//! Pure logic, no kernel. A [`Pool`] is plain serializable state: the engine
//! stores it (JSON in its SQLite database) in the same transaction as the
//! endpoint that took the address, so allocations survive restarts and a
//! crash never leaves an address both free and in use.

use std::collections::BTreeSet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::Category;

/// An IPAM failure, worded as Docker words it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IpamError {
    /// Not a CIDR (`10.1.0.0/16`) or not an address.
    #[error("invalid CIDR address: {0}")]
    InvalidCidr(String),
    /// An address that is not an IP address.
    #[error("invalid address: {0}")]
    InvalidAddress(String),
    /// The gateway is not inside the subnet, or is its network or broadcast
    /// address.
    #[error("no matching subnet for gateway {0}")]
    GatewayOutsideSubnet(IpAddr),
    /// `--ip-range` is not inside the subnet.
    #[error("no matching subnet for range {0}")]
    RangeOutsideSubnet(Subnet),
    /// IPv4 and IPv6 mixed in one pool.
    #[error("{0} and {1} are not of the same address family")]
    FamilyMismatch(String, String),
    /// A requested address is not in the subnet.
    #[error("no available IPv{family} addresses on this network's address pools: {subnet} ({ip} is outside it)", family = if ip.is_ipv4() { 4 } else { 6 })]
    OutsideSubnet {
        /// The request.
        ip: IpAddr,
        /// The subnet.
        subnet: Subnet,
    },
    /// A requested address is taken (or is the gateway, network or
    /// broadcast address).
    #[error("Address already in use")]
    InUse(IpAddr),
    /// Every address of the range is taken.
    #[error("no available IPv{family} addresses on this network's address pools: {0}", family = if .0.is_ipv4() { 4 } else { 6 })]
    Exhausted(Subnet),
    /// The subnet overlaps another network's.
    #[error("Pool overlaps with other one on this address space")]
    Overlaps {
        /// The new subnet.
        subnet: Subnet,
        /// The subnet it collides with.
        existing: Subnet,
    },
    /// Every default pool overlaps a network or a host route.
    #[error("all predefined address pools have been fully subnetted")]
    NoDefaultPool,
    /// Releasing an address that was not allocated.
    #[error("address {0} is not allocated")]
    NotAllocated(IpAddr),
}

impl IpamError {
    /// The API category of the error.
    pub fn category(&self) -> Category {
        match self {
            IpamError::InUse(_) | IpamError::Exhausted(_) | IpamError::Overlaps { .. } => {
                Category::Conflict
            }
            IpamError::NoDefaultPool => Category::Internal,
            IpamError::NotAllocated(_) => Category::NotFound,
            _ => Category::InvalidArgument,
        }
    }
}

type Result<T, E = IpamError> = std::result::Result<T, E>;

/// A network in CIDR form, always stored with its host bits cleared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Subnet {
    addr: IpAddr,
    prefix: u8,
}

fn bits(ip: IpAddr) -> (u128, u8) {
    match ip {
        IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32),
        IpAddr::V6(v6) => (u128::from(v6), 128),
    }
}

fn from_bits(v: u128, width: u8) -> IpAddr {
    if width == 32 {
        IpAddr::V4(Ipv4Addr::from(v as u32))
    } else {
        IpAddr::V6(Ipv6Addr::from(v))
    }
}

impl Subnet {
    /// The network `addr/prefix` (host bits of `addr` are cleared).
    pub fn new(addr: IpAddr, prefix: u8) -> Result<Subnet> {
        let (v, width) = bits(addr);
        if prefix > width {
            return Err(IpamError::InvalidCidr(format!("{addr}/{prefix}")));
        }
        let mask = Self::mask(prefix, width);
        Ok(Subnet {
            addr: from_bits(v & mask, width),
            prefix,
        })
    }

    fn mask(prefix: u8, width: u8) -> u128 {
        let all = if width == 32 {
            u128::from(u32::MAX)
        } else {
            u128::MAX
        };
        all & !all.checked_shr(u32::from(prefix)).unwrap_or(0)
    }

    /// The network address.
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// True for an IPv4 subnet.
    pub fn is_ipv4(&self) -> bool {
        self.addr.is_ipv4()
    }

    fn width(&self) -> u8 {
        bits(self.addr).1
    }

    fn start(&self) -> u128 {
        bits(self.addr).0
    }

    /// The last address (the broadcast address for IPv4).
    fn end(&self) -> u128 {
        let width = self.width();
        self.start() | (!Self::mask(self.prefix, width) & Self::mask(width, width))
    }

    /// The last address of the subnet.
    pub fn last(&self) -> IpAddr {
        from_bits(self.end(), self.width())
    }

    /// Is `ip` inside?
    pub fn contains(&self, ip: IpAddr) -> bool {
        let (v, width) = bits(ip);
        width == self.width() && v & Self::mask(self.prefix, width) == self.start()
    }

    /// Is `other` entirely inside?
    pub fn contains_subnet(&self, other: &Subnet) -> bool {
        other.prefix >= self.prefix && self.contains(other.addr)
    }

    /// Do the two share any address?
    pub fn overlaps(&self, other: &Subnet) -> bool {
        self.contains(other.addr) || other.contains(self.addr)
    }

    /// The `n`th address from the network address, if inside.
    pub fn nth(&self, n: u128) -> Option<IpAddr> {
        let v = self.start().checked_add(n)?;
        (v <= self.end()).then(|| from_bits(v, self.width()))
    }

    /// The subnets of length `prefix` this one splits into, in order.
    fn split(&self, prefix: u8) -> impl Iterator<Item = Subnet> + '_ {
        let width = self.width();
        let count: u128 = if prefix < self.prefix {
            0
        } else {
            1u128
                .checked_shl(u32::from(prefix - self.prefix))
                .unwrap_or(u128::MAX)
        };
        let step = 1u128.checked_shl(u32::from(width - prefix)).unwrap_or(0);
        (0..count).map(move |i| Subnet {
            addr: from_bits(self.start() + i * step, width),
            prefix,
        })
    }
}

impl fmt::Display for Subnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl FromStr for Subnet {
    type Err = IpamError;

    /// Parses `addr/prefix`. Docker accepts host bits set (`10.1.2.3/16`)
    /// and means the network; so does this.
    fn from_str(s: &str) -> Result<Subnet> {
        let bad = || IpamError::InvalidCidr(s.to_owned());
        let (addr, prefix) = s.split_once('/').ok_or_else(bad)?;
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        let prefix: u8 = prefix.parse().map_err(|_| bad())?;
        Subnet::new(addr, prefix).map_err(|_| bad())
    }
}

impl TryFrom<String> for Subnet {
    type Error = IpamError;
    fn try_from(s: String) -> Result<Subnet> {
        s.parse()
    }
}

impl From<Subnet> for String {
    fn from(s: Subnet) -> String {
        s.to_string()
    }
}

/// What a pool is made from: `--subnet`, `--gateway`, `--ip-range`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolConfig {
    /// The subnet.
    pub subnet: Subnet,
    /// The gateway (the bridge's address); default: the first host address.
    pub gateway: Option<IpAddr>,
    /// Where container addresses come from; default: the whole subnet.
    pub ip_range: Option<Subnet>,
}

/// One subnet's allocations. Serializable: the engine stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pool {
    subnet: Subnet,
    gateway: IpAddr,
    range: Subnet,
    allocated: BTreeSet<IpAddr>,
    /// Offset in `range` where the next search starts: allocation goes
    /// round the range (as Docker's does) so a released address is not
    /// handed out again at once.
    next: u128,
}

impl Pool {
    /// Validates the configuration and makes an empty pool; the gateway is
    /// reserved.
    pub fn new(config: &PoolConfig) -> Result<Pool> {
        let subnet = config.subnet;
        let range = config.ip_range.unwrap_or(subnet);
        if range.is_ipv4() != subnet.is_ipv4() {
            return Err(IpamError::FamilyMismatch(
                subnet.to_string(),
                range.to_string(),
            ));
        }
        if !subnet.contains_subnet(&range) {
            return Err(IpamError::RangeOutsideSubnet(range));
        }
        let gateway = match config.gateway {
            Some(gw) => {
                if !subnet.contains(gw) || Self::reserved(&subnet, gw) {
                    return Err(IpamError::GatewayOutsideSubnet(gw));
                }
                gw
            }
            None => subnet
                .nth(1)
                .filter(|gw| !Self::reserved(&subnet, *gw))
                .ok_or(IpamError::Exhausted(subnet))?,
        };
        Ok(Pool {
            subnet,
            gateway,
            range,
            allocated: BTreeSet::new(),
            next: 0,
        })
    }

    /// The network address, and for IPv4 the broadcast address: never
    /// handed out (except in /31 and /32, which have no such addresses).
    fn reserved(subnet: &Subnet, ip: IpAddr) -> bool {
        let (v, _) = bits(ip);
        if subnet.is_ipv4() {
            subnet.prefix < 31 && (v == subnet.start() || v == subnet.end())
        } else {
            subnet.prefix < 127 && v == subnet.start()
        }
    }

    /// The subnet.
    pub fn subnet(&self) -> Subnet {
        self.subnet
    }

    /// The gateway.
    pub fn gateway(&self) -> IpAddr {
        self.gateway
    }

    /// The range addresses are allocated from.
    pub fn range(&self) -> Subnet {
        self.range
    }

    /// Addresses handed out and not released, in order.
    pub fn allocated(&self) -> impl Iterator<Item = IpAddr> + '_ {
        self.allocated.iter().copied()
    }

    fn free(&self, ip: IpAddr) -> bool {
        ip != self.gateway && !Self::reserved(&self.subnet, ip) && !self.allocated.contains(&ip)
    }

    /// Hands out the next free address of the range.
    pub fn allocate(&mut self) -> Result<IpAddr> {
        let size = (self.range.end() - self.range.start()).saturating_add(1);
        // At most `allocated + 3` candidates are taken (gateway, network,
        // broadcast), so this ends after a handful of probes even in a /64.
        let probes = (self.allocated.len() as u128 + 4).min(size);
        for i in 0..probes {
            let offset = (self.next.wrapping_add(i)) % size;
            let ip = self.range.nth(offset).expect("offset inside the range");
            if self.free(ip) {
                self.allocated.insert(ip);
                self.next = (offset + 1) % size;
                return Ok(ip);
            }
        }
        Err(IpamError::Exhausted(self.range))
    }

    /// Takes the address a user asked for (`--ip`, `--ip6`). It may lie
    /// anywhere in the subnet, also outside `--ip-range`, as with Docker.
    pub fn request(&mut self, ip: IpAddr) -> Result<IpAddr> {
        if !self.subnet.contains(ip) {
            return Err(IpamError::OutsideSubnet {
                ip,
                subnet: self.subnet,
            });
        }
        if !self.free(ip) {
            return Err(IpamError::InUse(ip));
        }
        self.allocated.insert(ip);
        Ok(ip)
    }

    /// Gives an address back.
    pub fn release(&mut self, ip: IpAddr) -> Result<()> {
        if self.allocated.remove(&ip) {
            Ok(())
        } else {
            Err(IpamError::NotAllocated(ip))
        }
    }
}

/// Fails if `subnet` overlaps any of `existing` (other networks' subnets).
pub fn check_overlap<'a>(
    subnet: &Subnet,
    existing: impl IntoIterator<Item = &'a Subnet>,
) -> Result<()> {
    match existing.into_iter().find(|e| e.overlaps(subnet)) {
        Some(e) => Err(IpamError::Overlaps {
            subnet: *subnet,
            existing: *e,
        }),
        None => Ok(()),
    }
}

/// Docker's default address pools: `172.17.0.0/16` … `172.31.0.0/16`, then
/// `192.168.0.0/16` cut into `/20`s.
pub fn default_pools() -> impl Iterator<Item = Subnet> {
    let sixteens = (17..=31u8).map(|b| Subnet {
        addr: IpAddr::V4(Ipv4Addr::new(172, b, 0, 0)),
        prefix: 16,
    });
    let base = Subnet {
        addr: IpAddr::V4(Ipv4Addr::new(192, 168, 0, 0)),
        prefix: 16,
    };
    let twenties: Vec<Subnet> = base.split(20).collect();
    sixteens.chain(twenties)
}

/// The first default pool that overlaps neither a network in use nor a
/// route of the host (default routes aside: they overlap everything).
pub fn choose_default_subnet(in_use: &[Subnet], host_routes: &[Subnet]) -> Result<Subnet> {
    default_pools()
        .find(|p| {
            !in_use.iter().any(|s| s.overlaps(p))
                && !host_routes
                    .iter()
                    .filter(|r| r.prefix > 0)
                    .any(|r| r.overlaps(p))
        })
        .ok_or(IpamError::NoDefaultPool)
}

/// Docker's MAC address for a container address: `02:42` followed by the
/// four bytes of the IPv4 address; for IPv6 only, the last four bytes.
pub fn mac_for(ip: IpAddr) -> [u8; 6] {
    let tail = match ip {
        IpAddr::V4(v4) => v4.octets(),
        IpAddr::V6(v6) => {
            let o = v6.octets();
            [o[12], o[13], o[14], o[15]]
        }
    };
    [0x02, 0x42, tail[0], tail[1], tail[2], tail[3]]
}

/// `aa:bb:cc:dd:ee:ff`.
pub fn format_mac(mac: &[u8]) -> String {
    mac.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Parses `aa:bb:cc:dd:ee:ff` (`--mac-address`).
pub fn parse_mac(s: &str) -> Result<[u8; 6]> {
    let bad = || IpamError::InvalidAddress(s.to_owned());
    let mut out = [0u8; 6];
    let mut parts = s.split(':');
    for b in &mut out {
        let p = parts.next().ok_or_else(bad)?;
        if p.len() != 2 {
            return Err(bad());
        }
        *b = u8::from_str_radix(p, 16).map_err(|_| bad())?;
    }
    if parts.next().is_some() {
        return Err(bad());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sn(s: &str) -> Subnet {
        s.parse().unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn pool(subnet: &str, gw: Option<&str>, range: Option<&str>) -> Result<Pool> {
        Pool::new(&PoolConfig {
            subnet: sn(subnet),
            gateway: gw.map(ip),
            ip_range: range.map(sn),
        })
    }

    #[test]
    fn subnet_parses_normalises_and_prints() {
        assert_eq!(sn("10.1.2.3/16").to_string(), "10.1.0.0/16");
        assert_eq!(sn("fd00:1::5/64").to_string(), "fd00:1::/64");
        assert_eq!(sn("0.0.0.0/0").to_string(), "0.0.0.0/0");
        for bad in ["10.0.0.0", "10.0.0.0/33", "x/8", "fd00::/129", "10.0.0/8"] {
            assert!(
                matches!(bad.parse::<Subnet>(), Err(IpamError::InvalidCidr(_))),
                "{bad}"
            );
        }
        assert_eq!(sn("10.0.0.0/30").last(), ip("10.0.0.3"));
        assert_eq!(sn("fd00::/126").last(), ip("fd00::3"));
    }

    #[test]
    fn subnet_contains_and_overlaps() {
        assert!(sn("10.0.0.0/8").contains(ip("10.255.0.1")));
        assert!(!sn("10.0.0.0/8").contains(ip("11.0.0.1")));
        assert!(!sn("10.0.0.0/8").contains(ip("::a00:1")));
        assert!(sn("10.0.0.0/8").overlaps(&sn("10.5.0.0/16")));
        assert!(sn("10.5.0.0/16").overlaps(&sn("10.0.0.0/8")));
        assert!(!sn("10.5.0.0/16").overlaps(&sn("10.6.0.0/16")));
        assert!(!sn("10.0.0.0/8").overlaps(&sn("fd00::/8")));
        assert!(sn("0.0.0.0/0").contains(ip("1.2.3.4")));
    }

    #[test]
    fn subnet_round_trips_through_json() {
        let s = sn("172.18.0.0/16");
        let j = serde_json::to_string(&s).unwrap();
        assert_eq!(j, "\"172.18.0.0/16\"");
        assert_eq!(serde_json::from_str::<Subnet>(&j).unwrap(), s);
        assert!(serde_json::from_str::<Subnet>("\"nope\"").is_err());
    }

    #[test]
    fn default_gateway_is_first_host_and_is_reserved() {
        let mut p = pool("10.9.0.0/24", None, None).unwrap();
        assert_eq!(p.gateway(), ip("10.9.0.1"));
        assert_eq!(p.allocate().unwrap(), ip("10.9.0.2"));
        assert_eq!(
            p.request(ip("10.9.0.1")),
            Err(IpamError::InUse(ip("10.9.0.1")))
        );
        assert_eq!(
            p.request(ip("10.9.0.0")),
            Err(IpamError::InUse(ip("10.9.0.0")))
        );
        assert_eq!(
            p.request(ip("10.9.0.255")),
            Err(IpamError::InUse(ip("10.9.0.255")))
        );
    }

    #[test]
    fn gateway_and_range_are_validated() {
        assert_eq!(
            pool("10.9.0.0/24", Some("10.8.0.1"), None),
            Err(IpamError::GatewayOutsideSubnet(ip("10.8.0.1")))
        );
        assert_eq!(
            pool("10.9.0.0/24", Some("10.9.0.255"), None),
            Err(IpamError::GatewayOutsideSubnet(ip("10.9.0.255")))
        );
        assert_eq!(
            pool("10.9.0.0/24", None, Some("10.9.1.0/28")),
            Err(IpamError::RangeOutsideSubnet(sn("10.9.1.0/28")))
        );
        assert!(matches!(
            pool("10.9.0.0/24", None, Some("fd00::/64")),
            Err(IpamError::FamilyMismatch(..))
        ));
        let p = pool("10.9.0.0/24", Some("10.9.0.254"), None).unwrap();
        assert_eq!(p.gateway(), ip("10.9.0.254"));
    }

    #[test]
    fn never_hands_out_an_address_twice_until_exhausted() {
        let mut p = pool("10.9.0.0/29", None, None).unwrap();
        // .0 network, .1 gateway, .7 broadcast: .2-.6 are five addresses.
        let got: Vec<IpAddr> = (0..5).map(|_| p.allocate().unwrap()).collect();
        let set: BTreeSet<_> = got.iter().collect();
        assert_eq!(set.len(), 5);
        assert_eq!(got[0], ip("10.9.0.2"));
        assert_eq!(got[4], ip("10.9.0.6"));
        assert_eq!(p.allocate(), Err(IpamError::Exhausted(sn("10.9.0.0/29"))));
        p.release(ip("10.9.0.4")).unwrap();
        assert_eq!(p.allocate().unwrap(), ip("10.9.0.4"));
        assert_eq!(
            p.release(ip("10.9.0.1")),
            Err(IpamError::NotAllocated(ip("10.9.0.1")))
        );
    }

    #[test]
    fn released_addresses_are_not_reused_at_once() {
        let mut p = pool("10.9.0.0/24", None, None).unwrap();
        let a = p.allocate().unwrap();
        p.release(a).unwrap();
        let b = p.allocate().unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn ip_range_limits_allocation_but_not_requests() {
        let mut p = pool("10.9.0.0/16", None, Some("10.9.5.0/30")).unwrap();
        let got: Vec<_> = (0..4).map(|_| p.allocate().unwrap()).collect();
        assert_eq!(
            got,
            ["10.9.5.0", "10.9.5.1", "10.9.5.2", "10.9.5.3"].map(ip)
        );
        assert!(matches!(p.allocate(), Err(IpamError::Exhausted(_))));
        assert_eq!(p.request(ip("10.9.7.7")).unwrap(), ip("10.9.7.7"));
    }

    #[test]
    fn explicit_requests() {
        let mut p = pool("10.9.0.0/24", None, None).unwrap();
        assert_eq!(p.request(ip("10.9.0.50")).unwrap(), ip("10.9.0.50"));
        assert_eq!(
            p.request(ip("10.9.0.50")),
            Err(IpamError::InUse(ip("10.9.0.50")))
        );
        let e = p.request(ip("10.10.0.5")).unwrap_err();
        assert_eq!(e.category(), Category::InvalidArgument);
        assert!(e.to_string().contains("10.9.0.0/24"), "{e}");
        // Allocation skips what was requested.
        for _ in 0..100 {
            assert_ne!(p.allocate().unwrap(), ip("10.9.0.50"));
        }
    }

    #[test]
    fn ipv6_pool() {
        let mut p = pool("fd00:db8::/64", None, None).unwrap();
        assert_eq!(p.gateway(), ip("fd00:db8::1"));
        assert_eq!(p.allocate().unwrap(), ip("fd00:db8::2"));
        assert_eq!(
            p.request(ip("fd00:db8::")),
            Err(IpamError::InUse(ip("fd00:db8::")))
        );
        assert_eq!(
            p.request(ip("fd00:db8::ffff")).unwrap(),
            ip("fd00:db8::ffff")
        );
        let mut small = pool("fd00::/126", None, None).unwrap();
        assert_eq!(small.allocate().unwrap(), ip("fd00::2"));
        assert_eq!(small.allocate().unwrap(), ip("fd00::3"));
        assert!(small.allocate().is_err());
    }

    #[test]
    fn pool_state_round_trips_through_json() {
        let mut p = pool("10.9.0.0/24", None, Some("10.9.0.128/25")).unwrap();
        p.allocate().unwrap();
        p.request(ip("10.9.0.7")).unwrap();
        let json = serde_json::to_string(&p).unwrap();
        let mut back: Pool = serde_json::from_str(&json).unwrap();
        assert_eq!(back, p);
        assert_eq!(
            back.request(ip("10.9.0.7")),
            Err(IpamError::InUse(ip("10.9.0.7")))
        );
        assert_eq!(back.allocate().unwrap(), ip("10.9.0.129"));
    }

    #[test]
    fn overlap_between_networks() {
        let existing = [sn("172.17.0.0/16"), sn("10.0.0.0/8")];
        assert!(check_overlap(&sn("172.18.0.0/16"), &existing).is_ok());
        let e = check_overlap(&sn("10.20.0.0/16"), &existing).unwrap_err();
        assert_eq!(
            e,
            IpamError::Overlaps {
                subnet: sn("10.20.0.0/16"),
                existing: sn("10.0.0.0/8")
            }
        );
        assert_eq!(
            e.to_string(),
            "Pool overlaps with other one on this address space"
        );
        assert_eq!(e.category(), Category::Conflict);
    }

    #[test]
    fn default_subnet_skips_networks_and_host_routes() {
        assert_eq!(
            choose_default_subnet(&[], &[]).unwrap(),
            sn("172.17.0.0/16")
        );
        // The default route overlaps everything and is ignored.
        let routes = [sn("0.0.0.0/0"), sn("172.17.5.0/24"), sn("172.16.0.0/15")];
        // 172.16.0.0/15 covers 172.17.0.0/16.
        assert_eq!(
            choose_default_subnet(&[], &routes).unwrap(),
            sn("172.18.0.0/16")
        );
        let in_use = [sn("172.18.0.0/16")];
        assert_eq!(
            choose_default_subnet(&in_use, &routes).unwrap(),
            sn("172.19.0.0/16")
        );
        let all: Vec<Subnet> = vec![sn("172.16.0.0/12")];
        assert_eq!(
            choose_default_subnet(&all, &[]).unwrap(),
            sn("192.168.0.0/20")
        );
        let everything = [sn("172.16.0.0/12"), sn("192.168.0.0/16")];
        assert_eq!(
            choose_default_subnet(&everything, &[]),
            Err(IpamError::NoDefaultPool)
        );
        assert_eq!(default_pools().count(), 15 + 16);
    }

    #[test]
    fn docker_mac_addresses() {
        assert_eq!(format_mac(&mac_for(ip("172.17.0.2"))), "02:42:ac:11:00:02");
        assert_eq!(
            parse_mac("02:42:AC:11:00:02").unwrap(),
            mac_for(ip("172.17.0.2"))
        );
        for bad in [
            "02:42:ac:11:00",
            "02:42:ac:11:00:02:03",
            "2:42:ac:11:00:02",
            "zz:42:ac:11:00:02",
        ] {
            assert!(parse_mac(bad).is_err(), "{bad}");
        }
    }
}
