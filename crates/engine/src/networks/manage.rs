//! Networks themselves: the predefined ones and the daemon's start and
//! stop, `POST /networks/create`, `GET /networks[/{id}]`, `DELETE
//! /networks/{id}` and `POST /networks/prune`.
//!
//! Choosing a default subnet reads the host's routes, and several berthd
//! (tests, or a berthd beside dockerd) may choose at once: a host-wide
//! `flock` on `/run/lock/berth-network.lock` is held from the choice until
//! the bridge (and so its route) exists.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;

use berth_models::filters::Filters;
use berth_models::network::{
    CreateRequest, CreateResponse, EndpointResource, Ipam, IpamConfig, Network, PruneReport,
};
use berth_network::bridge::{BridgeNetwork, IFNAME_MAX};
use berth_network::ipam::{self, Pool, PoolConfig, Subnet};

use super::{
    BRIDGE, EndpointRecord, HOST, NULL, NetworkError, NetworkRecord, PoolEntry, new_id, store,
};

const BRIDGE_NAME_OPTION: &str = "com.docker.network.bridge.name";
const MTU_OPTION: &str = "com.docker.network.driver.mtu";

/// Held while a default subnet is chosen and its bridge made.
struct HostLock(Option<std::fs::File>);

impl HostLock {
    fn take() -> HostLock {
        let dir = if Path::new("/run/lock").is_dir() {
            "/run/lock"
        } else {
            "/tmp"
        };
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(format!("{dir}/berth-network.lock"))
            .ok();
        if let Some(f) = &file
            && let Err(e) = rustix::fs::flock(f, rustix::fs::FlockOperation::LockExclusive)
        {
            tracing::warn!("locking {dir}/berth-network.lock: {e}");
        }
        HostLock(file)
    }
}

impl Drop for HostLock {
    fn drop(&mut self) {
        if let Some(f) = &self.0 {
            let _ = rustix::fs::flock(f, rustix::fs::FlockOperation::Unlock);
        }
    }
}

fn now() -> String {
    crate::time::format_rfc3339_nanos(std::time::SystemTime::now())
}

/// `--bip 172.30.0.1/16`: the gateway and its subnet.
fn parse_bip(bip: &str) -> Result<(Subnet, IpAddr), NetworkError> {
    let bad = || NetworkError::Invalid(format!("invalid --bip {bip:?}: want ADDRESS/PREFIX"));
    let (addr, prefix) = bip.split_once('/').ok_or_else(bad)?;
    let ip: IpAddr = addr.parse().map_err(|_| bad())?;
    let prefix: u8 = prefix.parse().map_err(|_| bad())?;
    Ok((Subnet::new(ip, prefix)?, ip))
}

impl crate::Engine {
    /// At berthd's start: forwarding on, the predefined networks, and every
    /// bridge network set up again (idempotent: after a `kill -9` the
    /// bridges, veths and rules of running containers are still there).
    pub(crate) fn init_networks(&self) -> Result<(), NetworkError> {
        // dockerd does the same: containers on bridges need it to reach
        // anything beyond their bridge (published ports from other hosts,
        // the outside for non-internal networks).
        if let Err(e) = std::fs::write("/proc/sys/net/ipv4/ip_forward", "1") {
            tracing::warn!("enabling net.ipv4.ip_forward: {e}");
        }
        let _net = self.networks.lock();
        let _host = HostLock::take();
        let existing = store::networks(&self.db.conn())?;
        for (name, driver) in [("host", HOST), ("none", NULL)] {
            if !existing.iter().any(|n| n.name == name) {
                let rec = NetworkRecord {
                    id: new_id(),
                    name: name.into(),
                    created: now(),
                    driver: driver.into(),
                    bridge: String::new(),
                    internal: false,
                    enable_ipv6: false,
                    default_bridge: false,
                    pools: Vec::new(),
                    mtu: None,
                    options: BTreeMap::new(),
                    labels: BTreeMap::new(),
                };
                store::put_network(&self.db.conn(), &rec)?;
            }
        }
        if !existing.iter().any(|n| n.default_bridge) {
            let rec = self.new_default_bridge(&existing)?;
            store::put_network(&self.db.conn(), &rec)?;
        }
        // Bound first: a `for` keeps its iterator expression's temporaries
        // (the database guard) alive for the whole loop.
        let nets = store::networks(&self.db.conn())?;
        for net in nets {
            if net.driver == BRIDGE
                && let Err(e) = self.networks.host().create_network(&net.bridge_network())
            {
                tracing::error!("setting up network {} ({}): {e}", net.name, net.bridge);
            }
        }
        Ok(())
    }

    fn new_default_bridge(
        &self,
        existing: &[NetworkRecord],
    ) -> Result<NetworkRecord, NetworkError> {
        let (subnet, gateway) = match &self.config.bip {
            Some(bip) => {
                let (s, g) = parse_bip(bip)?;
                (s, Some(g))
            }
            None => {
                let in_use: Vec<Subnet> = subnets_of(existing).collect();
                let routes = self.networks.host().routes()?;
                (ipam::choose_default_subnet(&in_use, &routes)?, None)
            }
        };
        let pool = Pool::new(&PoolConfig {
            subnet,
            gateway,
            ip_range: None,
        })?;
        let bridge = self.config.bridge_name.clone();
        let mut options = BTreeMap::new();
        for (k, v) in [
            ("com.docker.network.bridge.default_bridge", "true"),
            ("com.docker.network.bridge.enable_icc", "true"),
            ("com.docker.network.bridge.enable_ip_masquerade", "true"),
            ("com.docker.network.bridge.host_binding_ipv4", "0.0.0.0"),
            (BRIDGE_NAME_OPTION, bridge.as_str()),
            (MTU_OPTION, "1500"),
        ] {
            options.insert(k.to_string(), v.to_string());
        }
        Ok(NetworkRecord {
            id: new_id(),
            name: "bridge".into(),
            created: now(),
            driver: BRIDGE.into(),
            bridge,
            internal: false,
            enable_ipv6: false,
            default_bridge: true,
            pools: vec![PoolEntry {
                pool,
                ip_range: false,
                aux: BTreeMap::new(),
            }],
            mtu: None,
            options,
            labels: BTreeMap::new(),
        })
    }

    /// When berthd stops: with no container running, every bridge and the
    /// nftables table go (the records stay and the next start sets them
    /// up again); with containers running, everything stays for them.
    pub fn shutdown_networks(&self) {
        let live = self
            .containers
            .lock()
            .values()
            .any(|r| r.state.status.is_live());
        if live {
            return;
        }
        let _net = self.networks.lock();
        let nets = match store::networks(&self.db.conn()) {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!("reading networks at shutdown: {e}");
                return;
            }
        };
        for net in nets.iter().filter(|n| n.driver == BRIDGE) {
            if let Err(e) = self.networks.host().remove_network(&net.bridge_network()) {
                tracing::warn!("taking down network {}: {e}", net.name);
            }
        }
    }

    /// A network by full id, name, or unique id prefix (dockerd's order).
    pub fn find_network(&self, name: &str) -> Result<NetworkRecord, NetworkError> {
        let nets = store::networks(&self.db.conn())?;
        if let Some(n) = nets.iter().find(|n| n.id == name) {
            return Ok(n.clone());
        }
        if let Some(n) = nets.iter().find(|n| n.name == name) {
            return Ok(n.clone());
        }
        let matches: Vec<&NetworkRecord> = nets
            .iter()
            .filter(|n| !name.is_empty() && n.id.starts_with(name))
            .collect();
        match matches.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(NetworkError::NotFound(name.to_string())),
            _ => Err(NetworkError::Invalid(format!(
                "network {name} is ambiguous ({} matches found based on ID prefix)",
                matches.len()
            ))),
        }
    }

    /// `POST /networks/create`.
    pub fn create_network(&self, req: CreateRequest) -> Result<CreateResponse, NetworkError> {
        let name = req.name.trim().to_string();
        if name.is_empty() {
            return Err(NetworkError::Invalid("network name cannot be empty".into()));
        }
        // dockerd puts no rule on network names beyond that (spaces are
        // fine: the bridge is named from the id, never from the name).
        let driver = if req.driver.is_empty() {
            BRIDGE.to_string()
        } else {
            req.driver.clone()
        };
        if matches!(name.as_str(), "bridge" | "host" | "none") {
            return Err(NetworkError::Forbidden(format!(
                "{name} is a pre-defined network and cannot be created"
            )));
        }
        if driver != BRIDGE {
            return Err(NetworkError::Invalid(format!(
                "plugin \"{driver}\" not found (Berth has the bridge driver)"
            )));
        }
        let options = req.options.clone().unwrap_or_default();
        let mtu = match options.get(MTU_OPTION) {
            Some(v) => Some(v.parse::<u32>().map_err(|_| {
                NetworkError::Invalid(format!("invalid MTU {v:?} for {MTU_OPTION}"))
            })?),
            None => None,
        };
        // An IPv6 subnet asks for IPv6 (dockerd 20.10 took such a request
        // too, and docker-py relies on it).
        let v6_subnet = req
            .ipam
            .as_ref()
            .and_then(|i| i.config.as_ref())
            .is_some_and(|c| c.iter().any(|c| c.subnet.contains(':')));
        let enable_ipv6 = req.enable_ipv6.unwrap_or(false) || v6_subnet;
        let _net = self.networks.lock();
        let _host = HostLock::take();
        let existing = store::networks(&self.db.conn())?;
        if existing.iter().any(|n| n.name == name) {
            return Err(NetworkError::Conflict(format!(
                "network with name {name} already exists"
            )));
        }
        let id = new_id();
        let bridge = match options.get(BRIDGE_NAME_OPTION) {
            Some(b) => {
                if b.is_empty() || b.len() > IFNAME_MAX {
                    return Err(NetworkError::Invalid(format!(
                        "invalid bridge name {b:?}: 1-{IFNAME_MAX} characters"
                    )));
                }
                if existing.iter().any(|n| &n.bridge == b) {
                    return Err(NetworkError::Conflict(format!(
                        "bridge name {b} is already used by another network"
                    )));
                }
                b.clone()
            }
            None => BridgeNetwork::bridge_name_for(&id),
        };
        let mut in_use: Vec<Subnet> = subnets_of(&existing).collect();
        let mut pools = Vec::new();
        let configs = req
            .ipam
            .as_ref()
            .and_then(|i| i.config.clone())
            .unwrap_or_default();
        for c in &configs {
            if c.subnet.is_empty() {
                return Err(NetworkError::Invalid(
                    "invalid pool request: a subnet is required when a gateway or range is given"
                        .into(),
                ));
            }
            let subnet: Subnet = c.subnet.parse()?;
            // (dockerd takes the network of a subnet given with host bits,
            // `2001:db8::1/64` as `2001:db8::/64`.)
            ipam::check_overlap(&subnet, &in_use)
                .map_err(|e| NetworkError::Forbidden(format!("invalid pool request: {e}")))?;
            let gateway = (!c.gateway.is_empty())
                .then(|| {
                    c.gateway
                        .parse::<IpAddr>()
                        .map_err(|_| ipam::IpamError::InvalidAddress(c.gateway.clone()))
                })
                .transpose()?;
            let ip_range = (!c.ip_range.is_empty())
                .then(|| c.ip_range.parse::<Subnet>())
                .transpose()?;
            let mut pool = Pool::new(&PoolConfig {
                subnet,
                gateway,
                ip_range,
            })?;
            let aux = c.auxiliary_addresses.clone().unwrap_or_default();
            for (name, ip) in &aux {
                let ip = ip.parse::<IpAddr>().map_err(|_| {
                    NetworkError::Invalid(format!("invalid auxiliary address {name}={ip}"))
                })?;
                pool.request(ip)?;
            }
            in_use.push(subnet);
            pools.push(PoolEntry {
                pool,
                ip_range: ip_range.is_some(),
                aux,
            });
        }
        if !pools.iter().any(|p| p.pool.subnet().is_ipv4()) {
            let routes = self.networks.host().routes()?;
            let subnet = ipam::choose_default_subnet(&in_use, &routes)?;
            pools.insert(
                0,
                PoolEntry {
                    pool: Pool::new(&PoolConfig {
                        subnet,
                        gateway: None,
                        ip_range: None,
                    })?,
                    ip_range: false,
                    aux: BTreeMap::new(),
                },
            );
        }
        if enable_ipv6 && !pools.iter().any(|p| !p.pool.subnet().is_ipv4()) {
            return Err(NetworkError::Invalid(
                "--ipv6 needs an IPv6 --subnet (Berth has no default IPv6 pool)".into(),
            ));
        }
        let rec = NetworkRecord {
            id: id.clone(),
            name: name.clone(),
            created: now(),
            driver,
            bridge,
            internal: req.internal,
            enable_ipv6,
            default_bridge: false,
            pools,
            mtu,
            options,
            labels: req.labels.clone().unwrap_or_default(),
        };
        self.networks.host().create_network(&rec.bridge_network())?;
        let saved = store::put_network(&self.db.conn(), &rec);
        if let Err(e) = saved {
            let _ = self.networks.host().remove_network(&rec.bridge_network());
            return Err(e);
        }
        self.network_event(&rec, "create", &[]);
        Ok(CreateResponse {
            id,
            warning: String::new(),
        })
    }

    pub(crate) fn network_event(
        &self,
        net: &NetworkRecord,
        action: &str,
        extra: &[(&str, String)],
    ) {
        let mut attributes = BTreeMap::new();
        attributes.insert("name".to_string(), net.name.clone());
        attributes.insert("type".to_string(), net.driver.clone());
        for (k, v) in extra {
            attributes.insert((*k).to_string(), v.clone());
        }
        self.events.publish(crate::events::Event {
            kind: "network",
            action,
            actor: &net.id,
            attributes,
        });
    }

    /// `DELETE /networks/{id}`.
    pub fn remove_network(&self, name: &str) -> Result<(), NetworkError> {
        let _net = self.networks.lock();
        let net = self.find_network(name)?;
        self.remove_network_locked(&net)
    }

    fn remove_network_locked(&self, net: &NetworkRecord) -> Result<(), NetworkError> {
        if net.predefined() {
            return Err(NetworkError::Forbidden(format!(
                "{} is a pre-defined network and cannot be removed",
                net.name
            )));
        }
        let attached = store::endpoints(&self.db.conn())?
            .iter()
            .any(|(n, _, _)| n == &net.id);
        if attached {
            return Err(NetworkError::Forbidden(format!(
                "error while removing network: network {} id {} has active endpoints",
                net.name, net.id
            )));
        }
        store::delete_network(&self.db.conn(), &net.id)?;
        if let Err(source) = self.networks.host().remove_network(&net.bridge_network()) {
            tracing::warn!(
                "network {}: removing its bridge and rules: {source}",
                net.name
            );
        }
        self.network_event(net, "destroy", &[]);
        Ok(())
    }

    /// `POST /networks/prune`: user-defined networks no container uses.
    pub fn prune_networks(&self, filters: &Filters) -> Result<PruneReport, NetworkError> {
        filters
            .validate(&["until", "label", "label!"])
            .map_err(|e| NetworkError::Invalid(e.to_string()))?;
        let used: Vec<String> = self
            .containers
            .lock()
            .values()
            .flat_map(|r| r.networks.keys().cloned().collect::<Vec<_>>())
            .collect();
        let _net = self.networks.lock();
        let mut deleted = Vec::new();
        // Bound first: removal takes the database lock again.
        let nets = store::networks(&self.db.conn())?;
        for net in nets {
            if net.predefined()
                || used.contains(&net.id)
                || !filters.match_labels("label", &net.labels)
                || filters
                    .get("label!")
                    .iter()
                    .any(|l| match l.split_once('=') {
                        Some((k, v)) => net.labels.get(k).is_some_and(|x| x == v),
                        None => net.labels.contains_key(l.as_str()),
                    })
            {
                continue;
            }
            if let Some(until) = filters.get("until").first() {
                let limit = crate::images::list::parse_until(until)
                    .map_err(|e| NetworkError::Invalid(e.to_string()))?;
                let created = crate::time::parse_rfc3339(&net.created).ok();
                if created.is_none_or(|c| c >= limit) {
                    continue;
                }
            }
            match self.remove_network_locked(&net) {
                Ok(()) => deleted.push(net.name.clone()),
                Err(e) => tracing::warn!("prune: {e}"),
            }
        }
        Ok(PruneReport {
            networks_deleted: Some(deleted),
        })
    }

    /// `GET /networks/{id}`.
    pub fn inspect_network(&self, name: &str) -> Result<Network, NetworkError> {
        let net = self.find_network(name)?;
        let eps = store::endpoints(&self.db.conn())?;
        Ok(network_view(&net, &eps))
    }

    /// `GET /networks` with dockerd's filters.
    pub fn list_networks(&self, filters: &Filters) -> Result<Vec<Network>, NetworkError> {
        filters
            .validate(&["dangling", "driver", "id", "label", "name", "scope", "type"])
            .map_err(|e| NetworkError::Invalid(e.to_string()))?;
        let nets = store::networks(&self.db.conn())?;
        let eps = store::endpoints(&self.db.conn())?;
        let used: Vec<String> = self
            .containers
            .lock()
            .values()
            .flat_map(|r| r.networks.keys().cloned().collect::<Vec<_>>())
            .collect();
        let mut out = Vec::new();
        for net in &nets {
            let any = |key: &str, f: &dyn Fn(&str) -> bool| {
                let v = filters.get(key);
                v.is_empty() || v.iter().any(|x| f(x))
            };
            let keep = any("driver", &|d| d == net.driver)
                && any("id", &|i| net.id.starts_with(i))
                && any("name", &|n| net.name.contains(n))
                && any("scope", &|s| s == "local")
                && any("type", &|t| match t {
                    "builtin" => net.predefined(),
                    "custom" => !net.predefined(),
                    _ => false,
                })
                && any("dangling", &|d| {
                    let dangling = !net.predefined() && !used.contains(&net.id);
                    (d == "true" || d == "1") == dangling
                })
                && filters.match_labels("label", &net.labels);
            if keep {
                out.push(network_view(net, &eps));
            }
        }
        Ok(out)
    }
}

/// The subnets of bridge networks.
fn subnets_of(nets: &[NetworkRecord]) -> impl Iterator<Item = Subnet> + '_ {
    nets.iter()
        .flat_map(|n| n.pools.iter().map(|p| p.pool.subnet()))
}

/// A network in Docker's inspect shape.
pub fn network_view(net: &NetworkRecord, eps: &[(String, String, EndpointRecord)]) -> Network {
    let containers = eps
        .iter()
        .filter(|(n, _, _)| n == &net.id)
        .map(|(_, c, e)| {
            (
                c.clone(),
                EndpointResource {
                    name: e.container_name.clone(),
                    endpoint_id: e.endpoint_id.clone(),
                    mac_address: e.mac.clone(),
                    ipv4_address: e
                        .ipv4
                        .map(|(ip, p)| format!("{ip}/{p}"))
                        .unwrap_or_default(),
                    ipv6_address: e
                        .ipv6
                        .map(|(ip, p)| format!("{ip}/{p}"))
                        .unwrap_or_default(),
                },
            )
        })
        .collect();
    let config = net
        .pools
        .iter()
        .map(|p| IpamConfig {
            subnet: p.pool.subnet().to_string(),
            ip_range: if p.ip_range {
                p.pool.range().to_string()
            } else {
                String::new()
            },
            gateway: p.pool.gateway().to_string(),
            auxiliary_addresses: (!p.aux.is_empty()).then(|| p.aux.clone()),
        })
        .collect();
    Network {
        name: net.name.clone(),
        id: net.id.clone(),
        created: net.created.clone(),
        scope: "local".into(),
        driver: net.driver.clone(),
        enable_ipv4: net.driver == BRIDGE,
        enable_ipv6: net.enable_ipv6,
        ipam: Ipam {
            driver: "default".into(),
            // null when none were given, as dockerd 20.10 shows it
            options: None,
            config: Some(config),
        },
        internal: net.internal,
        attachable: false,
        ingress: false,
        config_from: Default::default(),
        config_only: false,
        containers,
        options: net.options.clone(),
        labels: net.labels.clone(),
    }
}
