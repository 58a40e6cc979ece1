//! Networks: the predefined `bridge` (the default bridge, Linux bridge
//! `berth0` unless `--bridge`), `host` and `none`, user-defined bridge
//! networks, and containers' endpoints on them. The kernel side (bridges,
//! veths, namespaces, nftables) is `berth_network`'s; this module decides
//! what exists and keeps it in the state database.
//!
//! # Where state lives
//!
//! ```text
//! networks   (id, name, record)            NetworkRecord as JSON, IPAM pools
//!                                          included (Pool is serialisable)
//! endpoints  (network_id, container_id,    EndpointRecord as JSON: addresses,
//!             record)                      MAC, veth inside, published ports
//! containers.record.networks               which networks a container joins
//!                                          (and --ip/--alias/--mac-address),
//!                                          kept while it is stopped
//! <exec-root>/netns/<container id>         the container's network namespace,
//!                                          while it runs
//! ```
//!
//! An address is allocated (or released) in the same transaction that
//! writes (or deletes) the endpoint row, so the pools and the endpoints
//! never disagree, whatever point a `kill -9` hits.
//!
//! # Lifecycle
//!
//! ```text
//! berthd start    ip_forward=1; predefined networks; replay create_network
//!                 for every bridge network (idempotent); re-adopt containers;
//!                 tear down endpoints of containers that died meanwhile
//! container start netns file, per network: allocate + connect (eth0, eth1…);
//!                 publish ports on the first non-internal network; on a
//!                 user-defined network, the embedded DNS serves it
//! container exit  embedded DNS off, unpublish, disconnect, release, remove
//!                 the netns file
//! berthd stop     with no container running: bridges and the nft table go
//!                 (the records stay; the next start sets them up again)
//! ```
//!
//! Files: [`store`] (the tables), [`manage`] (create, remove, list,
//! inspect, prune, start and stop of the daemon), [`endpoint`] (containers
//! joining and leaving networks, connect/disconnect, inspect's
//! `NetworkSettings`), [`ports`] (published ports), [`dns`] (the embedded
//! DNS at 127.0.0.11 on user-defined networks).

pub mod dns;
pub mod endpoint;
pub mod manage;
pub mod ports;
pub mod store;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use berth_network::Category;
use berth_network::bridge::{BridgeError, BridgeNetwork, Host};
use berth_network::ipam::{IpamError, Pool};
use berth_network::netns::NetnsError;
use serde::{Deserialize, Serialize};

use crate::db::DbError;
use crate::error::{ErrorKind, Kind};

/// What can go wrong with a network operation; messages are dockerd's.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    #[error("network {0} not found")]
    NotFound(String),
    #[error("No such container: {0}")]
    NoSuchContainer(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    /// dockerd answers 403 for these (pre-defined networks, active
    /// endpoints, overlapping pools).
    #[error("{0}")]
    Forbidden(String),
    /// A published host port is taken (dockerd answers 500).
    #[error("{0}")]
    PortAllocated(String),
    #[error(transparent)]
    Ipam(#[from] IpamError),
    #[error(transparent)]
    Bridge(#[from] BridgeError),
    #[error(transparent)]
    Netns(#[from] NetnsError),
    #[error("{context}: {source}")]
    Teardown {
        context: String,
        #[source]
        source: berth_network::ErrorList,
    },
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("the stored record of network {id} is unreadable")]
    Corrupt {
        id: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl From<rusqlite::Error> for NetworkError {
    fn from(e: rusqlite::Error) -> Self {
        NetworkError::Db(DbError::Query(e))
    }
}

fn kind_of(c: Category) -> Kind {
    match c {
        Category::NotFound => Kind::NotFound,
        Category::Conflict => Kind::Conflict,
        Category::InvalidArgument => Kind::InvalidArgument,
        _ => Kind::Internal,
    }
}

impl ErrorKind for NetworkError {
    fn kind(&self) -> Kind {
        match self {
            NetworkError::NotFound(_) | NetworkError::NoSuchContainer(_) => Kind::NotFound,
            NetworkError::Invalid(_) => Kind::InvalidArgument,
            NetworkError::Conflict(_) => Kind::Conflict,
            NetworkError::Forbidden(_) => Kind::Forbidden,
            NetworkError::Ipam(IpamError::Overlaps { .. }) => Kind::Forbidden,
            NetworkError::Ipam(e) => kind_of(e.category()),
            NetworkError::Bridge(e) => kind_of(e.category()),
            _ => Kind::Internal,
        }
    }
}

/// The drivers Berth has.
pub const BRIDGE: &str = "bridge";
pub const HOST: &str = "host";
pub const NULL: &str = "null";

/// One subnet of a network and its allocations.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PoolEntry {
    pub pool: Pool,
    /// `--ip-range` was given (inspect shows it only then).
    pub ip_range: bool,
    /// `--aux-address`: names for addresses kept out of allocation.
    #[serde(default)]
    pub aux: BTreeMap<String, String>,
}

/// A network as the database keeps it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct NetworkRecord {
    pub id: String,
    pub name: String,
    pub created: String,
    /// `bridge`, `host` or `null`.
    pub driver: String,
    /// The Linux bridge (bridge driver only).
    pub bridge: String,
    pub internal: bool,
    pub enable_ipv6: bool,
    /// The predefined `bridge` network.
    pub default_bridge: bool,
    pub pools: Vec<PoolEntry>,
    pub mtu: Option<u32>,
    pub options: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
}

impl NetworkRecord {
    /// bridge, host and none.
    pub fn predefined(&self) -> bool {
        self.default_bridge || self.driver == HOST || self.driver == NULL
    }

    /// What the bridge driver needs.
    pub fn bridge_network(&self) -> BridgeNetwork {
        BridgeNetwork {
            id: self.id.clone(),
            bridge: self.bridge.clone(),
            subnets: self
                .pools
                .iter()
                .map(|p| (p.pool.subnet(), p.pool.gateway()))
                .collect(),
            internal: self.internal,
            mtu: self.mtu,
        }
    }

    /// The pool of one address family.
    pub fn pool_mut(&mut self, v4: bool) -> Option<&mut Pool> {
        self.pools
            .iter_mut()
            .map(|p| &mut p.pool)
            .find(|p| p.subnet().is_ipv4() == v4)
    }

    pub fn pool(&self, v4: bool) -> Option<&Pool> {
        self.pools
            .iter()
            .map(|p| &p.pool)
            .find(|p| p.subnet().is_ipv4() == v4)
    }
}

/// Which networks a container joins, and how: what `--network`,
/// `--ip`, `--ip6`, `--alias`, `--mac-address` and `network connect`
/// asked for. Kept in the container's record, keyed by network id.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Attachment {
    /// The network's name when the container joined (for messages).
    pub name: String,
    pub aliases: Vec<String>,
    /// Links on a user-defined network, `target:alias` as given: aliases
    /// only this container resolves (by the embedded DNS).
    #[serde(default)]
    pub links: Vec<String>,
    pub ipv4: Option<IpAddr>,
    pub ipv6: Option<IpAddr>,
    pub mac: Option<String>,
    /// The endpoint's `IPAMConfig` and `DriverOpts` as the client gave
    /// them, shown back by inspect as dockerd does.
    #[serde(default)]
    pub ipam_config: Option<serde_json::Value>,
    #[serde(default)]
    pub driver_opts: Option<std::collections::BTreeMap<String, String>>,
}

/// A published port, as chosen at start.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PublishedPort {
    /// `tcp` or `udp`.
    pub proto: String,
    /// The host address (`0.0.0.0` for all).
    pub host_ip: IpAddr,
    pub host_port: u16,
    pub container_port: u16,
}

/// A container's endpoint on a network, while it is attached.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct EndpointRecord {
    pub endpoint_id: String,
    pub container_name: String,
    /// `eth0`, `eth1`… inside.
    pub ifname: String,
    pub ipv4: Option<(IpAddr, u8)>,
    pub ipv6: Option<(IpAddr, u8)>,
    pub gateway4: Option<IpAddr>,
    pub gateway6: Option<IpAddr>,
    pub mac: String,
    pub aliases: Vec<String>,
    /// The ports published through this endpoint.
    pub ports: Vec<PublishedPort>,
    /// The namespace it lives in.
    pub netns: PathBuf,
}

/// The host side of networking: the bridge driver for the daemon's
/// namespace, with the nftables backend in the daemon's own table, and the
/// lock every change of networks and endpoints takes.
#[derive(Debug)]
pub struct Networking {
    host: Host,
    lock: Mutex<()>,
    /// The embedded DNS server, once [`crate::Engine::run_containers`]
    /// started it.
    dns: std::sync::OnceLock<berth_network::dns::DnsServer>,
    /// The `networks` and `endpoints` tables as last read, with the
    /// database's change count then (see [`crate::Engine::network_tables`]).
    tables: Mutex<Option<(u64, std::sync::Arc<endpoint::NetworkTables>)>>,
}

impl Networking {
    pub fn new(nft_table: &str) -> Networking {
        Networking {
            host: Host::new(None, berth_network::firewall::nftables(nft_table, None)),
            lock: Mutex::new(()),
            dns: std::sync::OnceLock::new(),
            tables: Mutex::new(None),
        }
    }

    pub fn host(&self) -> &Host {
        &self.host
    }

    /// Serialises network changes (a panic cannot leave the database half
    /// written: every change is one transaction).
    pub fn lock(&self) -> MutexGuard<'_, ()> {
        self.lock.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// 64 random hex digits (network and endpoint ids).
pub fn new_id() -> String {
    crate::containers::names::new_id()
}
