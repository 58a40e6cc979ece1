//! Containers on networks: which networks a container joins (at create),
//! its namespace and endpoints (at start), their teardown (at exit, stop,
//! removal, and after a crash of berthd), live `network connect` and
//! `disconnect`, and the `NetworkSettings` inspect and `ps` show.
//!
//! Order at start, all under the networks lock: the namespace file
//! `<exec-root>/netns/<id>`; per network (the `--network` one first, as
//! `eth0`): allocate addresses and write the endpoint row in one
//! transaction, connect (veth, addresses, routes), and on the first
//! non-internal network publish the ports. Any failure undoes everything
//! done so far. Teardown runs the same steps backwards and keeps going.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use berth_models::container::{EndpointSettings, NetworkSettings, NetworkingConfig, Port};
use berth_models::container_config::ContainerConfig;
use berth_models::host_config::{HostConfig, PortBinding};
use berth_network::bridge::Endpoint;
use berth_network::firewall::PortRules;
use berth_network::ipam;
use berth_network::netns;

use super::{
    Attachment, BRIDGE, EndpointRecord, NetworkError, NetworkRecord, PublishedPort, new_id, ports,
    store,
};
use crate::containers::{ContainerRecord, Status};

/// What the container's files and spec need from its networking.
#[derive(Debug, Clone)]
pub struct NetSetup {
    /// The namespace the runtime joins.
    pub netns: PathBuf,
    /// `/etc/hosts` lines of its own: address and names.
    pub hosts: Vec<(IpAddr, Vec<String>)>,
    /// It joins a user-defined network: resolv.conf names the embedded
    /// DNS (127.0.0.11).
    pub embedded_dns: bool,
}

/// Is this `--network` value one that joins networks (not host, none or
/// another container's namespace)?
pub fn joins_networks(mode: &str) -> bool {
    !(mode == "host" || mode == "none" || mode.starts_with("container:"))
}

fn parse_ip(s: &str, v4: bool) -> Result<Option<IpAddr>, NetworkError> {
    if s.is_empty() {
        return Ok(None);
    }
    let family = if v4 { "IPv4" } else { "IPv6" };
    match s.parse::<IpAddr>() {
        Ok(ip) if ip.is_ipv4() == v4 => Ok(Some(ip)),
        _ => Err(NetworkError::Invalid(format!(
            "invalid {family} address: {s}"
        ))),
    }
}

/// `--ip`, `--ip6`, `--alias`, `--mac-address` of one network.
fn attachment(
    net: &NetworkRecord,
    settings: Option<&EndpointSettings>,
    fallback_mac: &str,
) -> Result<Attachment, NetworkError> {
    let mut att = Attachment {
        name: net.name.clone(),
        ..Default::default()
    };
    if let Some(s) = settings {
        let ipam_cfg = s.ipam_config.as_ref();
        let field = |k: &str| {
            ipam_cfg
                .and_then(|v| v.get(k))
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_string()
        };
        att.ipv4 = parse_ip(&field("IPv4Address"), true)?;
        att.ipv6 = parse_ip(&field("IPv6Address"), false)?;
        att.aliases = s.aliases.clone().unwrap_or_default();
        att.links = s.links.clone().unwrap_or_default();
        for link in &att.links {
            crate::containers::links::parse(link)
                .map_err(|e| NetworkError::Invalid(e.to_string()))?;
        }
        att.ipam_config = s.ipam_config.clone().filter(|v| !v.is_null());
        att.driver_opts = s.driver_opts.clone();
        if !s.mac_address.is_empty() {
            att.mac = Some(s.mac_address.clone());
        }
    }
    if att.mac.is_none() && !fallback_mac.is_empty() {
        att.mac = Some(fallback_mac.to_string());
    }
    if let Some(m) = &att.mac {
        ipam::parse_mac(m)
            .map_err(|_| NetworkError::Invalid(format!("invalid MAC address: {m}")))?;
    }
    if net.default_bridge {
        if att.ipv4.is_some() || att.ipv6.is_some() {
            return Err(NetworkError::Invalid(
                "user specified IP address is supported on user defined networks only".into(),
            ));
        }
        if !att.aliases.is_empty() {
            return Err(NetworkError::Invalid(
                "network-scoped alias is supported only for containers in user defined networks"
                    .into(),
            ));
        }
    }
    for ip in att.ipv4.iter().chain(att.ipv6.iter()) {
        if !net.pools.iter().any(|p| p.pool.subnet().contains(*ip)) {
            return Err(NetworkError::Invalid(format!(
                "Invalid address {ip}: It does not belong to any of this network's subnets"
            )));
        }
    }
    Ok(att)
}

impl crate::Engine {
    /// At create: the networks `--network` and `NetworkingConfig` name,
    /// resolved to ids, with their endpoint settings.
    pub(crate) fn container_networks(
        &self,
        host: &HostConfig,
        config: &ContainerConfig,
        networking: Option<&NetworkingConfig>,
    ) -> Result<BTreeMap<String, Attachment>, NetworkError> {
        let mode = host.network_mode.as_str();
        let mut out = BTreeMap::new();
        if !joins_networks(mode) {
            return Ok(out);
        }
        let primary = self.resolve_mode(mode)?;
        if !matches!(primary.driver.as_str(), BRIDGE) {
            return Ok(out);
        }
        let endpoints = networking
            .and_then(|n| n.endpoints_config.clone())
            .unwrap_or_default();
        let mut primary_settings = None;
        let mut others = Vec::new();
        for (key, settings) in &endpoints {
            let net = self.resolve_mode(key)?;
            if net.id == primary.id {
                primary_settings = Some(settings);
            } else if net.driver == BRIDGE {
                others.push((net, settings));
            }
        }
        out.insert(
            primary.id.clone(),
            attachment(&primary, primary_settings, &config.mac_address)?,
        );
        for (net, settings) in others {
            out.insert(net.id.clone(), attachment(&net, Some(settings), "")?);
        }
        Ok(out)
    }

    /// `default` and `bridge` are the default bridge; anything else a
    /// network's name or id.
    fn resolve_mode(&self, mode: &str) -> Result<NetworkRecord, NetworkError> {
        if mode.is_empty() || mode == "default" || mode == "bridge" {
            let nets = store::networks(&self.db.conn())?;
            return nets
                .into_iter()
                .find(|n| n.default_bridge)
                .ok_or_else(|| NetworkError::NotFound("bridge".into()));
        }
        self.find_network(mode)
    }

    pub(crate) fn netns_path(&self, id: &str) -> PathBuf {
        self.config.exec_root.join("netns").join(id)
    }

    /// At start: the namespace and every endpoint; `None` for containers
    /// that join no network (host, none, container:).
    pub(crate) fn setup_container_network(
        &self,
        record: &ContainerRecord,
    ) -> Result<Option<NetSetup>, NetworkError> {
        if record.networks.is_empty() || !joins_networks(&record.host_config.network_mode) {
            return Ok(None);
        }
        let _net = self.networks.lock();
        let path = self.netns_path(&record.id);
        let dir = self.config.exec_root.join("netns");
        std::fs::create_dir_all(&dir).map_err(|source| NetworkError::Io {
            context: format!("create {}", dir.display()),
            source,
        })?;
        // A leftover of a crash mid-start.
        self.teardown_locked(&record.id);
        netns::create(&path)?;
        let result = self.attach_all(record, &path);
        match result {
            Ok(hosts) => {
                // After the endpoints: `lo` is up, so 127.0.0.11 binds.
                self.dns_refresh(&record.id);
                Ok(Some(NetSetup {
                    netns: path,
                    hosts,
                    embedded_dns: self.uses_embedded_dns(record),
                }))
            }
            Err(e) => {
                self.teardown_locked(&record.id);
                Err(e)
            }
        }
    }

    fn attach_all(
        &self,
        record: &ContainerRecord,
        netns: &Path,
    ) -> Result<Vec<(IpAddr, Vec<String>)>, NetworkError> {
        let primary = self
            .resolve_mode(&record.host_config.network_mode)
            .map(|n| n.id)
            .ok();
        let mut order: Vec<(&String, &Attachment)> = record.networks.iter().collect();
        order.sort_by_key(|(id, _)| Some(*id) != primary.as_ref());
        let mut hosts = Vec::new();
        let mut routed = false;
        for (i, (net_id, att)) in order.into_iter().enumerate() {
            let net = store::network(&self.db.conn(), net_id)?
                .ok_or_else(|| NetworkError::NotFound(att.name.clone()))?;
            let gets_route = !routed && !net.internal;
            routed |= gets_route;
            let ep = self.attach_locked(
                &net,
                record,
                att,
                netns,
                &format!("eth{i}"),
                gets_route,
                gets_route,
            )?;
            let mut names = vec![record.config.hostname.clone()];
            if !net.default_bridge {
                names.extend(att.aliases.iter().cloned());
            }
            for (ip, _) in ep.ipv4.iter().chain(ep.ipv6.iter()) {
                hosts.push((*ip, names.clone()));
            }
        }
        Ok(hosts)
    }

    /// One endpoint: addresses and the row in one transaction, then the
    /// veth, then the ports. Undone on failure.
    #[allow(clippy::too_many_arguments)]
    fn attach_locked(
        &self,
        net: &NetworkRecord,
        record: &ContainerRecord,
        att: &Attachment,
        netns: &Path,
        ifname: &str,
        default_routes: bool,
        publish: bool,
    ) -> Result<EndpointRecord, NetworkError> {
        let requests = if publish {
            ports::requests(
                record.host_config.port_bindings.as_ref(),
                record.host_config.publish_all_ports,
                record.config.exposed_ports.as_ref(),
            )?
        } else {
            Vec::new()
        };
        let endpoint_id = new_id();
        let ep = self.db.transaction(|tx| -> Result<EndpointRecord, NetworkError> {
            let mut net = store::network(tx, &net.id)?
                .ok_or_else(|| NetworkError::NotFound(net.name.clone()))?;
            let enable_ipv6 = net.enable_ipv6;
            let mut take = |v4: bool, want: Option<IpAddr>| -> Result<Option<(IpAddr, u8, IpAddr)>, NetworkError> {
                let Some(pool) = net.pool_mut(v4) else {
                    return Ok(None);
                };
                let ip = match want {
                    Some(ip) => pool.request(ip)?,
                    None => pool.allocate()?,
                };
                Ok(Some((ip, pool.subnet().prefix(), pool.gateway())))
            };
            let v4 = take(true, att.ipv4)?;
            let v6 = if enable_ipv6 { take(false, att.ipv6)? } else { None };
            let others: Vec<PublishedPort> = store::endpoints(tx)?
                .into_iter()
                .filter(|(_, c, _)| c != &record.id)
                .flat_map(|(_, _, e)| e.ports)
                .collect();
            let chosen = ports::allocate(&requests, &others).map_err(|e| match e {
                NetworkError::PortAllocated(m) => NetworkError::PortAllocated(format!(
                    "driver failed programming external connectivity on endpoint {} ({endpoint_id}): {m}",
                    record.name
                )),
                e => e,
            })?;
            let mac = match &att.mac {
                Some(m) => m.clone(),
                None => ipam::format_mac(&ipam::mac_for(
                    v4.or(v6).map(|(ip, _, _)| ip).unwrap_or(IpAddr::V4([0, 0, 0, 0].into())),
                )),
            };
            let ep = EndpointRecord {
                endpoint_id: endpoint_id.clone(),
                container_name: record.name.clone(),
                ifname: ifname.to_string(),
                ipv4: v4.map(|(ip, p, _)| (ip, p)),
                ipv6: v6.map(|(ip, p, _)| (ip, p)),
                gateway4: if net.internal { None } else { v4.map(|(_, _, g)| g) },
                gateway6: if net.internal { None } else { v6.map(|(_, _, g)| g) },
                mac,
                aliases: att.aliases.clone(),
                ports: chosen,
                netns: netns.to_path_buf(),
            };
            store::put_network(tx, &net)?;
            store::put_endpoint(tx, &net.id, &record.id, &ep)?;
            Ok(ep)
        })?;
        let bridge = net.bridge_network();
        let mac = ipam::parse_mac(&ep.mac).ok();
        let connected = self.networks.host().connect(
            &bridge,
            &Endpoint {
                container_id: record.id.clone(),
                netns: netns.to_path_buf(),
                ifname: ifname.to_string(),
                addresses: ep.ipv4.iter().chain(ep.ipv6.iter()).copied().collect(),
                mac,
                default_routes,
            },
        );
        let published = connected.map_err(NetworkError::from).and_then(|_| {
            if ep.ports.is_empty() {
                return Ok(());
            }
            let v4 = match ep.ipv4 {
                Some((IpAddr::V4(a), _)) => Some(a),
                _ => None,
            };
            let v6 = match ep.ipv6 {
                Some((IpAddr::V6(a), _)) => Some(a),
                _ => None,
            };
            Ok(self.networks.host().publish(&PortRules {
                container_id: record.id.clone(),
                ipv4: v4,
                ipv6: v6,
                ports: ports::mappings(&ep.ports),
            })?)
        });
        if let Err(e) = published {
            self.detach_locked(&net.id, &record.id, false);
            return Err(e);
        }
        Ok(ep)
    }

    /// Undoes one endpoint: ports, veth, then addresses and row (in one
    /// transaction). Best effort: failures are logged, the rest still runs.
    /// For a `stopped` container the veth is deleted in the background
    /// ([`berth_network::bridge::Host::disconnect_in_background`]).
    fn detach_locked(&self, net_id: &str, container_id: &str, stopped: bool) {
        let row = store::endpoints(&self.db.conn()).map(|all| {
            all.into_iter()
                .find(|(n, c, _)| n == net_id && c == container_id)
        });
        let ep = match row {
            Ok(Some((_, _, ep))) => ep,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!("container {container_id}: reading its endpoint: {e}");
                return;
            }
        };
        if !ep.ports.is_empty()
            && let Err(e) = self.networks.host().unpublish(container_id)
        {
            tracing::warn!("container {container_id}: unpublishing its ports: {e}");
        }
        let net = store::network(&self.db.conn(), net_id).ok().flatten();
        let host = self.networks.host();
        if let Some(net) = &net
            && let Err(e) = if stopped {
                host.disconnect_in_background(&net.bridge_network(), container_id)
            } else {
                host.disconnect(&net.bridge_network(), container_id)
            }
        {
            tracing::warn!(
                "container {container_id}: disconnecting from {}: {e}",
                net.name
            );
        }
        let released = self.db.transaction(|tx| -> Result<(), NetworkError> {
            if let Some(mut net) = store::network(tx, net_id)? {
                for (ip, _) in ep.ipv4.iter().chain(ep.ipv6.iter()) {
                    if let Some(pool) = net.pool_mut(ip.is_ipv4()) {
                        let _ = pool.release(*ip);
                    }
                }
                store::put_network(tx, &net)?;
            }
            store::delete_endpoint(tx, net_id, container_id)
        });
        if let Err(e) = released {
            tracing::warn!("container {container_id}: releasing its addresses: {e}");
        }
    }

    /// Every endpoint of a container and its namespace file; idempotent.
    pub(crate) fn teardown_container_network(&self, id: &str) {
        let _net = self.networks.lock();
        self.teardown_locked(id);
    }

    fn teardown_locked(&self, id: &str) {
        self.dns_forget(id);
        let nets: Vec<String> = match store::endpoints(&self.db.conn()) {
            Ok(all) => all
                .into_iter()
                .filter(|(_, c, _)| c == id)
                .map(|(n, _, _)| n)
                .collect(),
            Err(e) => {
                tracing::warn!("container {id}: reading its endpoints: {e}");
                Vec::new()
            }
        };
        for n in nets {
            self.detach_locked(&n, id, true);
        }
        if let Err(e) = netns::remove(&self.netns_path(id)) {
            tracing::warn!("container {id}: removing its network namespace: {e}");
        }
    }

    /// After re-adoption at start: endpoints and namespace files of
    /// containers that are not running any more go.
    pub(crate) fn reap_endpoints(&self) {
        let keep = |id: &str| {
            self.containers
                .lock()
                .get(id)
                .is_some_and(|r| r.state.status.is_live() || r.state.status == Status::Restarting)
        };
        let mut dead: Vec<String> = match store::endpoints(&self.db.conn()) {
            Ok(all) => all.into_iter().map(|(_, c, _)| c).collect(),
            Err(e) => {
                tracing::warn!("reading endpoints: {e}");
                Vec::new()
            }
        };
        if let Ok(dir) = std::fs::read_dir(self.config.exec_root.join("netns")) {
            dead.extend(
                dir.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned()),
            );
        }
        dead.sort();
        dead.dedup();
        for id in dead.into_iter().filter(|id| !keep(id)) {
            tracing::info!("container {id}: not running; removing its network endpoints");
            self.teardown_container_network(&id);
        }
    }

    /// `POST /networks/{id}/connect`.
    pub fn connect_network(
        &self,
        network: &str,
        container: &str,
        settings: Option<EndpointSettings>,
    ) -> Result<(), NetworkError> {
        let net = self.find_network(network)?;
        let record = self
            .container(container)
            .map_err(|_| NetworkError::NoSuchContainer(container.to_string()))?;
        let lock = self.container_lock(&record.id);
        let _held = lock.lock().unwrap_or_else(|p| p.into_inner());
        let record = self
            .container(&record.id)
            .map_err(|_| NetworkError::NoSuchContainer(container.to_string()))?;
        if net.driver != BRIDGE || !joins_networks(&record.host_config.network_mode) {
            return Err(NetworkError::Forbidden(
                "container sharing network namespace with another container or host cannot be connected to any other network".into(),
            ));
        }
        if record.networks.contains_key(&net.id) {
            return Err(NetworkError::Forbidden(format!(
                "endpoint with name {} already exists in network {}",
                record.name, net.name
            )));
        }
        let att = attachment(&net, settings.as_ref(), "")?;
        if record.state.status.is_live() {
            let _net = self.networks.lock();
            let eps = store::endpoints(&self.db.conn())?;
            let mine: Vec<&EndpointRecord> = eps
                .iter()
                .filter(|(_, c, _)| c == &record.id)
                .map(|(_, _, e)| e)
                .collect();
            let ifname = (0..)
                .map(|i| format!("eth{i}"))
                .find(|n| !mine.iter().any(|e| &e.ifname == n))
                .unwrap_or_default();
            let routed = mine
                .iter()
                .any(|e| e.gateway4.is_some() || e.gateway6.is_some());
            let netns = self.netns_path(&record.id);
            self.attach_locked(
                &net,
                &record,
                &att,
                &netns,
                &ifname,
                !routed && !net.internal,
                false,
            )?;
            self.dns_refresh(&record.id);
        }
        let saved = self.update_container(&record.id, |r| {
            r.networks.insert(net.id.clone(), att.clone());
            Ok(())
        });
        if let Err(e) = saved {
            self.teardown_one(&net.id, &record.id);
            return Err(NetworkError::Io {
                context: "saving the container".into(),
                source: std::io::Error::other(e.to_string()),
            });
        }
        if record.state.status.is_live()
            && let Ok(now) = self.container(&record.id)
        {
            self.refresh_etc_files(&now);
        }
        self.network_event(&net, "connect", &[("container", record.id.clone())]);
        Ok(())
    }

    fn teardown_one(&self, net_id: &str, container_id: &str) {
        let _net = self.networks.lock();
        self.detach_locked(net_id, container_id, false);
    }

    /// `POST /networks/{id}/disconnect`.
    pub fn disconnect_network(&self, network: &str, container: &str) -> Result<(), NetworkError> {
        let net = self.find_network(network)?;
        let record = self
            .container(container)
            .map_err(|_| NetworkError::NoSuchContainer(container.to_string()))?;
        let lock = self.container_lock(&record.id);
        let _held = lock.lock().unwrap_or_else(|p| p.into_inner());
        if !record.networks.contains_key(&net.id) {
            return Err(NetworkError::Forbidden(format!(
                "container {} is not connected to network {}",
                record.id, net.name
            )));
        }
        self.teardown_one(&net.id, &record.id);
        self.dns_refresh(&record.id);
        self.update_container(&record.id, |r| {
            r.networks.remove(&net.id);
            Ok(())
        })
        .map_err(|e| NetworkError::Io {
            context: "saving the container".into(),
            source: std::io::Error::other(e.to_string()),
        })?;
        if record.state.status.is_live()
            && let Ok(now) = self.container(&record.id)
        {
            self.refresh_etc_files(&now);
        }
        self.network_event(&net, "disconnect", &[("container", record.id.clone())]);
        Ok(())
    }

    /// The container's own `/etc/hosts` lines: each address of its
    /// endpoints with its hostname (and aliases on user-defined networks),
    /// as [`Self::setup_container_network`] gives them at start.
    pub(crate) fn own_hosts(&self, record: &ContainerRecord) -> Vec<(IpAddr, Vec<String>)> {
        let tables = self.network_tables();
        let mut hosts = Vec::new();
        for (net_id, _, ep) in tables.eps.iter().filter(|(_, c, _)| c == &record.id) {
            let mut names = vec![record.config.hostname.clone()];
            if tables
                .nets
                .iter()
                .any(|n| &n.id == net_id && !n.default_bridge)
            {
                names.extend(ep.aliases.iter().cloned());
            }
            for (ip, _) in ep.ipv4.iter().chain(ep.ipv6.iter()) {
                hosts.push((*ip, names.clone()));
            }
        }
        hosts
    }

    /// Both tables, read again only when the database has changed since
    /// the last read: every write goes through the engine's one
    /// connection, whose change count (`sqlite3_total_changes`) only grows,
    /// so an unchanged count means unchanged tables. The embedded DNS asks
    /// for them on every query, `ps` once per list.
    pub(crate) fn network_tables(&self) -> Arc<NetworkTables> {
        let conn = self.db.conn();
        let changes = conn.total_changes();
        let mut cached = self
            .networks
            .tables
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some((at, tables)) = cached.as_ref()
            && *at == changes
        {
            return tables.clone();
        }
        match (store::networks(&conn), store::endpoints(&conn)) {
            (Ok(nets), Ok(eps)) => {
                let tables = Arc::new(NetworkTables { nets, eps });
                *cached = Some((changes, tables.clone()));
                tables
            }
            (Err(e), _) | (_, Err(e)) => {
                tracing::warn!("reading the networks and endpoints tables: {e}");
                Arc::new(NetworkTables {
                    nets: Vec::new(),
                    eps: Vec::new(),
                })
            }
        }
    }

    /// inspect's `NetworkSettings` and `ps`'s `Ports`.
    pub(crate) fn network_view_of(&self, r: &ContainerRecord) -> (NetworkSettings, Vec<Port>) {
        network_view(r, &self.network_tables())
    }
}

/// The rows [`network_view`] reads.
#[derive(Debug)]
pub(crate) struct NetworkTables {
    pub(super) nets: Vec<NetworkRecord>,
    /// (network id, container id, endpoint).
    pub(super) eps: Vec<(String, String, EndpointRecord)>,
}

/// inspect's `NetworkSettings` and `ps`'s `Ports` of `r`, from `tables`.
pub(crate) fn network_view(
    r: &ContainerRecord,
    tables: &NetworkTables,
) -> (NetworkSettings, Vec<Port>) {
    let (nets, eps) = (&tables.nets, &tables.eps);
    let mut settings = NetworkSettings::default();
    let mut ps_ports = Vec::new();
    let mode = r.host_config.network_mode.as_str();
    if mode == "host" || mode == "none" {
        settings
            .networks
            .insert(mode.to_string(), Default::default());
    }
    let live = r.state.status.is_live();
    let mut published: Vec<PublishedPort> = Vec::new();
    for (net_id, att) in &r.networks {
        let net = nets.iter().find(|n| &n.id == net_id);
        let name = net.map_or(att.name.clone(), |n| n.name.clone());
        let ep = eps
            .iter()
            .find(|(n, c, _)| n == net_id && c == &r.id)
            .map(|(_, _, e)| e);
        let mut s = EndpointSettings {
            network_id: net_id.clone(),
            aliases: (!att.aliases.is_empty()).then(|| att.aliases.clone()),
            links: (!att.links.is_empty()).then(|| att.links.clone()),
            mac_address: att.mac.clone().unwrap_or_default(),
            ..Default::default()
        };
        s.ipam_config = att.ipam_config.clone();
        s.driver_opts = att.driver_opts.clone();
        if let Some(ep) = ep.filter(|_| live) {
            s.endpoint_id = ep.endpoint_id.clone();
            s.mac_address = ep.mac.clone();
            if let Some((ip, p)) = ep.ipv4 {
                s.ip_address = ip.to_string();
                s.ip_prefix_len = p.into();
            }
            if let Some((ip, p)) = ep.ipv6 {
                s.global_ipv6_address = ip.to_string();
                s.global_ipv6_prefix_len = p.into();
            }
            s.gateway = ep.gateway4.map(|g| g.to_string()).unwrap_or_default();
            s.ipv6_gateway = ep.gateway6.map(|g| g.to_string()).unwrap_or_default();
            published.extend(ep.ports.iter().cloned());
            if net.is_some_and(|n| n.default_bridge) {
                settings.endpoint_id = s.endpoint_id.clone();
                settings.ip_address = s.ip_address.clone();
                settings.ip_prefix_len = s.ip_prefix_len;
                settings.gateway = s.gateway.clone();
                settings.mac_address = s.mac_address.clone();
                settings.global_ipv6_address = s.global_ipv6_address.clone();
                settings.global_ipv6_prefix_len = s.global_ipv6_prefix_len;
                settings.ipv6_gateway = s.ipv6_gateway.clone();
            }
            settings.sandbox_key = ep.netns.display().to_string();
        }
        settings.networks.insert(name, s);
    }
    if live {
        for key in r.config.exposed_ports.iter().flat_map(|m| m.keys()) {
            settings.ports.entry(key.clone()).or_insert(None);
        }
        for p in &published {
            let key = format!("{}/{}", p.container_port, p.proto);
            settings
                .ports
                .entry(key)
                .or_insert(None)
                .get_or_insert_with(Vec::new)
                .push(PortBinding {
                    host_ip: p.host_ip.to_string(),
                    host_port: p.host_port.to_string(),
                });
            ps_ports.push(Port {
                ip: p.host_ip.to_string(),
                private_port: p.container_port,
                public_port: Some(p.host_port),
                kind: p.proto.clone(),
            });
        }
        for key in r.config.exposed_ports.iter().flat_map(|m| m.keys()) {
            if let Ok((port, proto)) = ports::parse_port_key(key)
                && !published
                    .iter()
                    .any(|p| p.container_port == port && p.proto == proto)
            {
                ps_ports.push(Port {
                    ip: String::new(),
                    private_port: port,
                    public_port: None,
                    kind: proto,
                });
            }
        }
    }
    (settings, ps_ports)
}
