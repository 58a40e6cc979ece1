//! The firewall boundary: what a network and a container's published ports
//! need from the packet filter, as plain data, and the [`Firewall`] trait the
//! backends implement ([`nft`]: Berth's own nftables table; [`none`]: no
//! rules at all, for `--iptables=false`-style setups and unit tests of the
//! logic around it).
//!
//! # Lifecycle
//!
//! ```text
//! network create      setup_network(net)          masquerade, isolation
//! container start     publish(ports)              DNAT per published port
//! container stop      unpublish(container id)     removes exactly its rules
//! network rm          teardown_network(net)       removes its rules; with
//!                                                 the last network, the table
//! ```
//!
//! Every call is idempotent: setting up what is there, or tearing down what
//! is not, succeeds. That is what a restart after `kill -9` relies on: the
//! engine replays setup for what its database says exists and teardown for
//! the rest. Teardowns keep going after a failure and report every step that
//! failed ([`ErrorList`]).
//!
//! # Worked example
//!
//! ```no_run
//! use berth_network::firewall::{self, NetworkRules, PortMapping, PortRules, Protocol};
//!
//! let fw = firewall::nftables("berth", None);
//! let net = NetworkRules {
//!     id: "3f2a9c".into(),
//!     bridge: "berth0".into(),
//!     subnets: vec!["172.17.0.0/16".parse().unwrap()],
//!     gateways: vec!["172.17.0.1".parse().unwrap()],
//!     internal: false,
//! };
//! fw.setup_network(&net).unwrap();
//! fw.publish(&PortRules {
//!     container_id: "c0ffee".into(),
//!     ipv4: Some("172.17.0.2".parse().unwrap()),
//!     ipv6: None,
//!     ports: vec![PortMapping {
//!         protocol: Protocol::Tcp,
//!         host_ip: None,
//!         host_port: 8080,
//!         container_port: 80,
//!     }],
//! })
//! .unwrap();
//! fw.unpublish("c0ffee").unwrap();
//! fw.teardown_network(&net).unwrap();
//! ```

pub mod iptables;
pub mod nft;
pub mod none;

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

use crate::error::{Category, ErrorList};
use crate::ipam::Subnet;
use crate::netns::NetnsError;

/// A firewall step that failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FirewallError {
    /// A tool (`nft`, `iptables`) could not be run.
    #[error("run {tool}")]
    Spawn {
        /// The tool.
        tool: &'static str,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A tool ran and refused.
    #[error("{step}: {tool} failed: {stderr}")]
    Tool {
        /// What was being done.
        step: String,
        /// The tool.
        tool: &'static str,
        /// What it printed.
        stderr: String,
    },
    /// `nft -j` printed something that is not its JSON.
    #[error("parse the output of nft -j list: {0}")]
    Parse(String),
    /// The host namespace could not be entered.
    #[error("firewall")]
    Netns(#[from] NetnsError),
    /// A rule that cannot be expressed: a name with characters nft would
    /// misread, an IPv6 host address for an IPv4-only container.
    #[error("invalid firewall request: {0}")]
    Invalid(String),
}

impl FirewallError {
    /// The API category of the error.
    pub fn category(&self) -> Category {
        match self {
            FirewallError::Invalid(_) => Category::InvalidArgument,
            _ => Category::Internal,
        }
    }
}

/// What the firewall needs to know about a bridge network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkRules {
    /// The network's ID (rules are tagged with it, so removal finds them).
    pub id: String,
    /// The bridge interface.
    pub bridge: String,
    /// Its subnets (IPv4 and/or IPv6).
    pub subnets: Vec<Subnet>,
    /// The bridge's own addresses (one per subnet).
    pub gateways: Vec<IpAddr>,
    /// `--internal`: no traffic leaves the bridge, none comes in but replies
    /// from the host's own bridge address.
    pub internal: bool,
}

/// A transport protocol of a published port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        })
    }
}

/// One published port: `-p [host_ip:]host_port:container_port[/proto]`. A
/// range (`-p 8000-8002:80-82`) is one mapping per port.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PortMapping {
    /// TCP or UDP.
    pub protocol: Protocol,
    /// Only traffic to this host address (`None`, `0.0.0.0`, `::`: any).
    pub host_ip: Option<IpAddr>,
    /// The port on the host.
    pub host_port: u16,
    /// The port in the container.
    pub container_port: u16,
}

/// A container's published ports and the addresses they lead to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortRules {
    /// The container's ID (its rules are tagged with it).
    pub container_id: String,
    /// The container's IPv4 address on the network the ports lead to.
    pub ipv4: Option<Ipv4Addr>,
    /// Its IPv6 address there, if the network has IPv6.
    pub ipv6: Option<Ipv6Addr>,
    /// The ports.
    pub ports: Vec<PortMapping>,
}

/// A packet-filter backend. See the module docs for the call order.
pub trait Firewall: Send + Sync + fmt::Debug {
    /// The backend's name ("nftables", "none").
    fn name(&self) -> &'static str;

    /// Installs a network's rules: masquerade of its outbound traffic
    /// (unless internal), isolation from Berth's other bridges, NAT for
    /// hairpin and `127.0.0.1` traffic to published ports, `--internal`
    /// drops.
    fn setup_network(&self, net: &NetworkRules) -> Result<(), FirewallError>;

    /// Removes a network's rules; with the last network, everything Berth
    /// had in the packet filter.
    fn teardown_network(&self, net: &NetworkRules) -> Result<(), ErrorList>;

    /// Publishes a container's ports (DNAT from the host's addresses,
    /// `127.0.0.1` included). All or nothing: on error no rule is left.
    fn publish(&self, ports: &PortRules) -> Result<(), FirewallError>;

    /// Removes every published-port rule of a container.
    fn unpublish(&self, container_id: &str) -> Result<(), ErrorList>;
}

/// The nftables backend in table `inet <table>` of the namespace `netns`
/// (`None`: the caller's, i.e. the host's), with the iptables FORWARD accept
/// rules for coexistence with Docker.
pub fn nftables(table: &str, netns: Option<PathBuf>) -> Box<dyn Firewall> {
    Box::new(nft::Nftables::new(table, netns))
}

/// The backend that installs nothing.
pub fn none() -> Box<dyn Firewall> {
    Box::new(none::NoFirewall)
}

/// Names that go into rules verbatim: interface names and IDs. Anything else
/// could break out of a quoted nft string.
pub(crate) fn check_name(what: &str, name: &str) -> Result<(), FirewallError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    if ok {
        Ok(())
    } else {
        Err(FirewallError::Invalid(format!("{what} {name:?}")))
    }
}
