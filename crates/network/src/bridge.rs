//! The bridge driver: a bridge network on the host, and container endpoints
//! on it (a veth pair with one end on the bridge and the other, `eth0`, in
//! the container's network namespace).
//!
//! # Lifecycle
//!
//! ```text
//! BridgeNetwork::validate        names, subnets and gateways make sense
//! Host::create_network           bridge + gateway addresses + up,
//!                                route_localnet, firewall rules
//! Host::connect(endpoint)        veth pair, peer created inside the netns
//!                                as eth0 with MAC/MTU, addresses, lo up,
//!                                default routes (none when --internal)
//! Host::publish / unpublish      the container's published ports
//! Host::disconnect               deletes the host end (the peer goes with it)
//! Host::remove_network           firewall rules, then the bridge
//! ```
//!
//! Setup is all or nothing: a step that fails undoes the earlier ones, and
//! if undoing fails too, both are reported. Teardown keeps going and returns
//! every failure. Host-side veth names are derived from the network and
//! container IDs ([`host_veth_name`]), so a teardown after a crash finds the
//! interface without any saved state.
//!
//! The "host" is the namespace the [`Host`] was made for: the daemon's own
//! (`None`), or a namespace file — which is how the integration tests run
//! whole scenarios, firewall included, without touching the real host.

use std::net::IpAddr;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use crate::error::{Category, ErrorList};
use crate::firewall::{Firewall, FirewallError, NetworkRules, PortRules};
use crate::ipam::{self, Subnet};
use crate::netlink::{Netlink, NetlinkError};
use crate::netns::{self, NetnsError};

/// A bridge-driver step that failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BridgeError {
    /// The configuration is impossible.
    #[error("invalid network configuration: {0}")]
    Invalid(String),
    /// A link, address or route change failed.
    #[error(transparent)]
    Netlink(#[from] NetlinkError),
    /// A namespace could not be opened or entered.
    #[error(transparent)]
    Netns(#[from] NetnsError),
    /// The firewall refused.
    #[error(transparent)]
    Firewall(#[from] FirewallError),
    /// A sysctl could not be written.
    #[error("write {path}")]
    Sysctl {
        /// The file under /proc/sys.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The bridge name is taken by an interface that is not a bridge.
    #[error("cannot use {0} as a bridge: an interface of another kind has that name")]
    NotABridge(String),
    /// The container's namespace is not there.
    #[error("network namespace {0} does not exist")]
    NoNetns(PathBuf),
    /// A setup failed and so did undoing it.
    #[error("{error} (and cleaning up failed: {cleanup})")]
    Rollback {
        /// The failure.
        #[source]
        error: Box<BridgeError>,
        /// What undoing it could not undo.
        cleanup: ErrorList,
    },
}

impl BridgeError {
    /// The API category of the error.
    pub fn category(&self) -> Category {
        match self {
            BridgeError::Invalid(_) => Category::InvalidArgument,
            BridgeError::NotABridge(_) => Category::Conflict,
            BridgeError::NoNetns(_) => Category::NotFound,
            BridgeError::Firewall(e) => e.category(),
            BridgeError::Rollback { error, .. } => error.category(),
            _ => Category::Internal,
        }
    }
}

type Result<T, E = BridgeError> = std::result::Result<T, E>;

/// A bridge network as the driver needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeNetwork {
    /// The network's ID (tags its firewall rules).
    pub id: String,
    /// The bridge interface (`berth0`, `berth-<short id>`, or
    /// `com.docker.network.bridge.name`).
    pub bridge: String,
    /// Subnets with the bridge's address in each (the gateway).
    pub subnets: Vec<(Subnet, IpAddr)>,
    /// `--internal`.
    pub internal: bool,
    /// MTU of the bridge and its veths (`None`: the kernel's 1500).
    pub mtu: Option<u32>,
}

/// The longest interface name Linux takes (IFNAMSIZ - 1).
pub const IFNAME_MAX: usize = 15;

fn check_ifname(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= IFNAME_MAX
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    if ok {
        Ok(())
    } else {
        Err(BridgeError::Invalid(format!(
            "invalid interface name {name:?} (1-{IFNAME_MAX} characters of [A-Za-z0-9._-])"
        )))
    }
}

impl BridgeNetwork {
    /// The name Docker's scheme gives a user-defined network's bridge:
    /// `berth-` and the first 9 characters of the ID.
    pub fn bridge_name_for(id: &str) -> String {
        format!("berth-{}", &id[..id.len().min(9)])
    }

    /// Checks names, that every gateway is inside its subnet, and that the
    /// subnets do not overlap each other.
    pub fn validate(&self) -> Result<()> {
        check_ifname(&self.bridge)?;
        crate::firewall::check_name("network id", &self.id)?;
        for (i, (subnet, gw)) in self.subnets.iter().enumerate() {
            if !subnet.contains(*gw) {
                return Err(BridgeError::Invalid(format!(
                    "gateway {gw} is not in subnet {subnet}"
                )));
            }
            if let Some((other, _)) = self.subnets[..i].iter().find(|(o, _)| o.overlaps(subnet)) {
                return Err(BridgeError::Invalid(format!(
                    "subnets {other} and {subnet} overlap"
                )));
            }
        }
        if let Some(mtu) = self.mtu.filter(|m| !(68..=65535).contains(m)) {
            return Err(BridgeError::Invalid(format!("invalid MTU {mtu}")));
        }
        Ok(())
    }

    /// The plain data the firewall gets.
    pub fn rules(&self) -> NetworkRules {
        NetworkRules {
            id: self.id.clone(),
            bridge: self.bridge.clone(),
            subnets: self.subnets.iter().map(|(s, _)| *s).collect(),
            gateways: self.subnets.iter().map(|(_, g)| *g).collect(),
            internal: self.internal,
        }
    }
}

/// A container's attachment to a network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The container's ID.
    pub container_id: String,
    /// Its network namespace: a bound file or `/proc/<pid>/ns/net`.
    pub netns: PathBuf,
    /// The interface name inside (`eth0`, then `eth1`, …).
    pub ifname: String,
    /// Its addresses (from IPAM), each with its subnet's prefix length.
    pub addresses: Vec<(IpAddr, u8)>,
    /// `--mac-address`; default: Docker's `02:42:` + the IPv4 address.
    pub mac: Option<[u8; 6]>,
    /// Add default routes via the network's gateways (Docker does for the
    /// first non-internal network a container joins; never for internal
    /// ones).
    pub default_routes: bool,
}

impl Endpoint {
    /// The MAC the endpoint gets.
    pub fn mac(&self) -> [u8; 6] {
        self.mac.unwrap_or_else(|| {
            let ip = self
                .addresses
                .iter()
                .map(|(ip, _)| *ip)
                .find(IpAddr::is_ipv4)
                .or_else(|| self.addresses.first().map(|(ip, _)| *ip))
                .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
            ipam::mac_for(ip)
        })
    }
}

/// The host end of a container's veth on a network: `vb` and ten hex digits
/// of a hash of both IDs (stable, so teardown needs no saved state).
pub fn host_veth_name(network_id: &str, container_id: &str) -> String {
    // FNV-1a, 64 bits: tiny, stable across versions and platforms.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in network_id.bytes().chain([0]).chain(container_id.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("vb{:010x}", h & 0xff_ffff_ffff)
}

/// The host side of Berth's networking: a namespace (the daemon's own, or a
/// test's) and the firewall backend for it.
#[derive(Debug)]
pub struct Host {
    netns: Option<PathBuf>,
    firewall: Box<dyn Firewall>,
}

impl Host {
    /// The host is the namespace `netns` (`None`: the caller's).
    pub fn new(netns: Option<PathBuf>, firewall: Box<dyn Firewall>) -> Self {
        Host { netns, firewall }
    }

    /// The firewall backend.
    pub fn firewall(&self) -> &dyn Firewall {
        &*self.firewall
    }

    fn netlink(&self) -> Result<Netlink> {
        Ok(Netlink::open_in(self.netns.as_deref())?)
    }

    /// Writes a sysctl in the host namespace; `key` is slash-separated
    /// (`net/ipv4/conf/<if>/…`), as interface names may hold dots.
    fn sysctl(&self, key: &str, value: &str) -> Result<()> {
        let path = format!("/proc/sys/{key}");
        netns::run_in(self.netns.as_deref(), || std::fs::write(&path, value))?
            .map_err(|source| BridgeError::Sysctl { path, source })
    }

    /// The routes of the host's main table (for choosing a default subnet
    /// that collides with none of them).
    pub fn routes(&self) -> Result<Vec<Subnet>> {
        Ok(self
            .netlink()?
            .routes()?
            .into_iter()
            .map(|r| r.dst)
            .collect())
    }

    /// Creates the bridge network; idempotent (an existing bridge of that
    /// name is reused and completed). On failure nothing created here stays.
    pub fn create_network(&self, net: &BridgeNetwork) -> Result<()> {
        net.validate()?;
        let mut nl = self.netlink()?;
        let existed = match nl.link(&net.bridge)? {
            Some(l) if l.kind.as_deref() == Some("bridge") => true,
            Some(_) => return Err(BridgeError::NotABridge(net.bridge.clone())),
            None => false,
        };
        let result = (|| -> Result<()> {
            if !existed {
                nl.add_bridge(&net.bridge, net.mtu)?;
            }
            let have = nl.addresses()?;
            let index = nl.link(&net.bridge)?.map(|l| l.index);
            for (subnet, gw) in &net.subnets {
                if !have.iter().any(|a| Some(a.index) == index && a.addr == *gw) {
                    nl.add_address(&net.bridge, *gw, subnet.prefix())?;
                }
            }
            nl.set_up(&net.bridge)?;
            if net.subnets.iter().any(|(s, _)| s.is_ipv4()) {
                // 127.0.0.1 -> published port (see firewall::nft).
                let path = format!("net/ipv4/conf/{}/route_localnet", net.bridge);
                self.sysctl(&path, "1")?;
            }
            self.firewall.setup_network(&net.rules())?;
            Ok(())
        })();
        match result {
            Ok(()) => Ok(()),
            Err(error) if existed => Err(error),
            Err(error) => match self.remove_network(net) {
                Ok(()) => Err(error),
                Err(cleanup) => Err(BridgeError::Rollback {
                    error: Box::new(error),
                    cleanup,
                }),
            },
        }
    }

    /// Removes the network's firewall rules and its bridge (only if it is a
    /// bridge). Keeps going after failures.
    pub fn remove_network(&self, net: &BridgeNetwork) -> Result<(), ErrorList> {
        let mut errors = ErrorList::new();
        if let Err(list) = self.firewall.teardown_network(&net.rules()) {
            errors.extend(list);
        }
        match self.netlink() {
            Ok(mut nl) => match nl.link(&net.bridge) {
                Ok(Some(l)) if l.kind.as_deref() == Some("bridge") => {
                    errors.note(nl.del_link(&net.bridge));
                }
                Ok(_) => {}
                Err(e) => {
                    errors.note(Err::<(), _>(e));
                }
            },
            Err(e) => {
                errors.note(Err::<(), _>(e));
            }
        }
        errors.into_result()
    }

    /// Attaches a container to the network; returns the host-side veth
    /// name. On failure, the veth is gone again.
    pub fn connect(&self, net: &BridgeNetwork, ep: &Endpoint) -> Result<String> {
        check_ifname(&ep.ifname)?;
        if !netns::is_netns(&ep.netns) {
            return Err(BridgeError::NoNetns(ep.netns.clone()));
        }
        let host_end = host_veth_name(&net.id, &ep.container_id);
        let ns_file = std::fs::File::open(&ep.netns).map_err(|source| NetnsError::Enter {
            path: ep.netns.clone(),
            source,
        })?;
        let mut nl = self.netlink()?;
        // A leftover from a crash would make the create fail: clear it.
        nl.del_link(&host_end)?;
        nl.add_veth(
            &host_end,
            &ep.ifname,
            ns_file.as_fd(),
            Some(ep.mac()),
            net.mtu,
        )?;
        let result = (|| -> Result<()> {
            nl.enslave(&host_end, &net.bridge)?;
            nl.set_up(&host_end)?;
            configure_inside(net, ep)
        })();
        match result {
            Ok(()) => Ok(host_end),
            Err(error) => match nl.del_link(&host_end) {
                Ok(()) => Err(error),
                Err(e) => {
                    let mut cleanup = ErrorList::new();
                    cleanup.note(Err::<(), _>(e));
                    Err(BridgeError::Rollback {
                        error: Box::new(error),
                        cleanup,
                    })
                }
            },
        }
    }

    /// Detaches a container: deletes the host end of its veth (the end in
    /// the container goes with it). Nothing to delete is not an error.
    pub fn disconnect(&self, net: &BridgeNetwork, container_id: &str) -> Result<(), ErrorList> {
        let mut errors = ErrorList::new();
        if let Some(mut nl) = errors.note(self.netlink()) {
            errors.note(nl.del_link(&host_veth_name(&net.id, container_id)));
        }
        errors.into_result()
    }

    /// [`Host::disconnect`] for a container that has stopped: the veth is
    /// found now and deleted on a thread of its own. Deleting a network
    /// device waits in the kernel for its last references to drop (RCU
    /// grace periods: 15–30 ms here, most of a `run --rm` on a bridge);
    /// nobody needs to wait for that once the container is gone. The link
    /// is deleted by index, so a veth made meanwhile under the same name
    /// (the container started again) is never the one deleted.
    pub fn disconnect_in_background(
        &self,
        net: &BridgeNetwork,
        container_id: &str,
    ) -> Result<(), ErrorList> {
        let name = host_veth_name(&net.id, container_id);
        let mut errors = ErrorList::new();
        let Some(mut nl) = errors.note(self.netlink()) else {
            return errors.into_result();
        };
        let Some(link) = errors.note(nl.link(&name)).flatten() else {
            return errors.into_result();
        };
        let index = link.index;
        let spawned = std::thread::Builder::new()
            .name("berth-veth-del".into())
            .spawn(move || {
                if let Err(e) = nl.del_link_index(index, &name) {
                    tracing::warn!("deleting veth {name}: {e}");
                }
            });
        if let Err(e) = spawned {
            // No thread to spare: delete it here.
            tracing::debug!("no thread for deleting {}: {e}", link.name);
            if let Some(mut nl) = errors.note(self.netlink()) {
                errors.note(nl.del_link_index(index, &link.name));
            }
        }
        errors.into_result()
    }

    /// Publishes a container's ports.
    pub fn publish(&self, ports: &PortRules) -> Result<()> {
        Ok(self.firewall.publish(ports)?)
    }

    /// Removes a container's published ports.
    pub fn unpublish(&self, container_id: &str) -> Result<(), ErrorList> {
        self.firewall.unpublish(container_id)
    }
}

/// Inside the container's namespace: lo up, addresses, eth up, routes.
fn configure_inside(net: &BridgeNetwork, ep: &Endpoint) -> Result<()> {
    let mut nl = Netlink::open_in(Some(Path::new(&ep.netns)))?;
    nl.set_up("lo")?;
    for (ip, prefix) in &ep.addresses {
        nl.add_address(&ep.ifname, *ip, *prefix)?;
    }
    nl.set_up(&ep.ifname)?;
    if ep.default_routes && !net.internal {
        let have = nl.routes()?;
        for (subnet, gw) in &net.subnets {
            let family_has_default = have
                .iter()
                .any(|r| r.dst.prefix() == 0 && r.dst.is_ipv4() == subnet.is_ipv4());
            let has_address = ep.addresses.iter().any(|(ip, _)| subnet.contains(*ip));
            if has_address && !family_has_default {
                nl.add_default_route(&ep.ifname, *gw)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net() -> BridgeNetwork {
        BridgeNetwork {
            id: "abc123".into(),
            bridge: "berth-abc123".into(),
            subnets: vec![("10.3.0.0/24".parse().unwrap(), "10.3.0.1".parse().unwrap())],
            internal: false,
            mtu: None,
        }
    }

    #[test]
    fn validation() {
        assert!(net().validate().is_ok());
        let mut n = net();
        n.bridge = "berth-much-too-long".into();
        assert!(matches!(n.validate(), Err(BridgeError::Invalid(_))));
        let mut n = net();
        n.subnets[0].1 = "10.4.0.1".parse().unwrap();
        assert!(n.validate().is_err());
        let mut n = net();
        n.subnets.push((
            "10.3.0.128/25".parse().unwrap(),
            "10.3.0.129".parse().unwrap(),
        ));
        assert!(n.validate().is_err());
        let mut n = net();
        n.mtu = Some(10);
        assert!(n.validate().is_err());
    }

    #[test]
    fn names() {
        assert_eq!(
            BridgeNetwork::bridge_name_for("0123456789abcdef"),
            "berth-012345678"
        );
        let a = host_veth_name("net", "ctr");
        assert_eq!(a.len(), 12);
        assert!(a.len() <= IFNAME_MAX);
        assert_eq!(a, host_veth_name("net", "ctr"));
        assert_ne!(a, host_veth_name("net", "ctr2"));
        assert_ne!(host_veth_name("ab", "c"), host_veth_name("a", "bc"));
    }

    #[test]
    fn endpoint_mac_follows_docker() {
        let ep = Endpoint {
            container_id: "c".into(),
            netns: "/x".into(),
            ifname: "eth0".into(),
            addresses: vec![
                ("fd00::5".parse().unwrap(), 64),
                ("10.3.0.2".parse().unwrap(), 24),
            ],
            mac: None,
            default_routes: true,
        };
        assert_eq!(ep.mac(), [0x02, 0x42, 10, 3, 0, 2]);
    }
}
