//! The embedded DNS as the engine runs it: which containers get a
//! 127.0.0.11 (those with an endpoint on a user-defined network), where
//! their unknown names go, and the names it answers — the [`Names`] the
//! server in `berth_network::dns` asks.
//!
//! # Names and scope (Docker's)
//!
//! A container's name, its 12-digit short id, its hostname and its
//! network-scoped aliases resolve to its addresses on each user-defined
//! network it shares with the asking container, and nowhere else (the
//! default bridge resolves nothing); `name.network` resolves `name` on
//! that network only. A link (`--link target:alias` on a
//! user-defined network) makes `alias` resolve to the target's addresses
//! there, for the linking container only. Several containers with one alias
//! give several records. Names are read on every query from the container
//! table and the networks and endpoints tables (the engine's copy of them,
//! read again after any write to the database), so a rename, a connect or
//! a disconnect shows at once and nothing has to be kept in step.
//!
//! # Forwarders
//!
//! The container's own `--dns` servers, asked from its namespace (as
//! dockerd does); else berthd's `--dns`; else the host's resolv.conf
//! nameservers, both asked from berthd's namespace — so a resolver on the
//! host's loopback (systemd-resolved's 127.0.0.53) is reachable too.
//!
//! # Lifecycle
//!
//! ```text
//! berthd start        the server thread starts; after re-adoption every
//!                     running container with such an endpoint is served again
//! container start     after its endpoints are up (lo is up): register
//! connect/disconnect  register again, or unregister with no user network left
//! container exit      unregister, before the namespace goes
//! ```

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Weak};

use berth_network::dns::{DnsServer, Names, Upstream};

use super::{BRIDGE, store};
use crate::Engine;
use crate::containers::ContainerRecord;

/// The engine as the DNS server sees it (weak: the engine owns the server).
struct EngineNames {
    engine: Weak<Engine>,
}

impl Names for EngineNames {
    fn addresses(&self, asker: &str, name: &str) -> Option<Vec<IpAddr>> {
        let engine = self.engine.upgrade()?;
        // `a.b.c` is `a.b.c` on any shared network, or `a.b` on network
        // `c`, or `a` on network `b.c` (dockerd's reading).
        let mut candidates: Vec<(&str, Option<&str>)> = vec![(name, None)];
        candidates.extend(
            name.match_indices('.')
                .map(|(i, _)| (&name[..i], Some(&name[i + 1..]))),
        );
        // The asker's links: (network id, target, alias).
        let links: Vec<(String, String, String)> = engine
            .container(asker)
            .map(|r| {
                r.networks
                    .iter()
                    .flat_map(|(net, att)| {
                        att.links.iter().filter_map(move |l| {
                            let (target, alias) = crate::containers::links::parse(l).ok()?;
                            Some((net.clone(), target, alias))
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut out = Vec::new();
        let mut found = false;
        engine.shared_endpoints(asker, |net, record, ep| {
            let hit = candidates.iter().any(|(q, scope)| {
                if scope.is_some_and(|s| !net.name.eq_ignore_ascii_case(s)) {
                    return false;
                }
                (q.len() == 12 && record.id.starts_with(q))
                    || record.name.eq_ignore_ascii_case(q)
                    || record.config.hostname.eq_ignore_ascii_case(q)
                    || ep.aliases.iter().any(|a| a.eq_ignore_ascii_case(q))
                    || links.iter().any(|(n, target, alias)| {
                        n == &net.id
                            && alias.eq_ignore_ascii_case(q)
                            && record.name.eq_ignore_ascii_case(target)
                    })
            });
            if hit {
                found = true;
                for (ip, _) in ep.ipv4.iter().chain(ep.ipv6.iter()) {
                    if !out.contains(ip) {
                        out.push(*ip);
                    }
                }
            }
        });
        found.then_some(out)
    }

    fn name_of(&self, asker: &str, ip: IpAddr) -> Option<String> {
        let engine = self.engine.upgrade()?;
        let mut name = None;
        engine.shared_endpoints(asker, |_, record, ep| {
            if name.is_none() && ep.ipv4.iter().chain(ep.ipv6.iter()).any(|(a, _)| *a == ip) {
                name = Some(record.name.clone());
            }
        });
        name
    }
}

impl Engine {
    /// Starts the server; once, from [`Engine::run_containers`].
    pub(crate) fn start_dns(self: &Arc<Self>) {
        let names = Arc::new(EngineNames {
            engine: Arc::downgrade(self),
        });
        match DnsServer::start(names) {
            Ok(server) => {
                let _ = self.networks.dns.set(server);
            }
            Err(e) => tracing::error!("embedded DNS not available: {e}"),
        }
    }

    /// Calls `f` with every endpoint (and its network) on a
    /// user-defined network that `asker` also has an endpoint on (its own
    /// included).
    fn shared_endpoints(
        &self,
        asker: &str,
        mut f: impl FnMut(&super::NetworkRecord, &ContainerRecord, &super::EndpointRecord),
    ) {
        let tables = self.network_tables();
        let (nets, eps) = (&tables.nets, &tables.eps);
        let user: HashSet<&str> = nets
            .iter()
            .filter(|n| n.driver == BRIDGE && !n.default_bridge)
            .map(|n| n.id.as_str())
            .collect();
        let shared: HashSet<&str> = eps
            .iter()
            .filter(|(n, c, _)| c == asker && user.contains(n.as_str()))
            .map(|(n, _, _)| n.as_str())
            .collect();
        if shared.is_empty() {
            return;
        }
        let records = self.containers.lock();
        for (n, c, ep) in eps {
            if shared.contains(n.as_str())
                && let Some(record) = records.get(c)
                && let Some(net) = nets.iter().find(|net| &net.id == n)
            {
                f(net, record, ep);
            }
        }
    }

    /// Does the container join a user-defined network (and so get
    /// 127.0.0.11 in its resolv.conf)?
    pub(crate) fn uses_embedded_dns(&self, record: &ContainerRecord) -> bool {
        if record.networks.is_empty() {
            return false;
        }
        self.network_tables()
            .nets
            .iter()
            .any(|n| record.networks.contains_key(&n.id) && n.driver == BRIDGE && !n.default_bridge)
    }

    /// Serves container `id` if it has an endpoint on a user-defined
    /// network now, and stops serving it otherwise. Failures are logged:
    /// a container without its DNS still runs (as with dockerd).
    pub(crate) fn dns_refresh(&self, id: &str) {
        let Some(server) = self.networks.dns.get() else {
            return;
        };
        let record = match self.container(id) {
            Ok(r) => r,
            Err(_) => {
                server.unregister(id);
                return;
            }
        };
        let netns = self.netns_path(id);
        // One guard for both reads: a second `conn()` while the first is
        // held would wait for itself.
        let read = {
            let conn = self.db.conn();
            store::networks(&conn).and_then(|n| Ok((n, store::endpoints(&conn)?)))
        };
        let on_user_network = match read {
            Ok((nets, eps)) => eps.iter().any(|(n, c, _)| {
                c == id
                    && nets
                        .iter()
                        .any(|net| &net.id == n && net.driver == BRIDGE && !net.default_bridge)
            }),
            Err(e) => {
                tracing::warn!("container {id}: embedded DNS: reading endpoints: {e}");
                false
            }
        };
        if !on_user_network || !netns.exists() {
            server.unregister(id);
            return;
        }
        if let Err(e) = server.register(id, &netns, self.dns_upstreams(&record)) {
            tracing::warn!("container {id}: embedded DNS: {e}");
        }
    }

    /// After re-adoption at berthd's start: the sockets died with the last
    /// berthd, so every container still attached is served again.
    pub(crate) fn readopt_dns(&self) {
        let mut ids: Vec<String> = match store::endpoints(&self.db.conn()) {
            Ok(eps) => eps.into_iter().map(|(_, c, _)| c).collect(),
            Err(e) => {
                tracing::warn!("embedded DNS: reading endpoints: {e}");
                return;
            }
        };
        ids.sort();
        ids.dedup();
        for id in ids {
            self.dns_refresh(&id);
        }
    }

    /// Stops serving container `id` (before its namespace goes).
    pub(crate) fn dns_forget(&self, id: &str) {
        if let Some(server) = self.networks.dns.get() {
            server.unregister(id);
        }
    }

    /// Where names the engine does not know go for this container.
    fn dns_upstreams(&self, record: &ContainerRecord) -> Vec<Upstream> {
        let upstream = |ip: IpAddr, in_container| Upstream {
            addr: SocketAddr::new(ip, 53),
            in_container,
        };
        let own: Vec<Upstream> = record
            .host_config
            .dns
            .iter()
            .flatten()
            .filter_map(|s| s.parse::<IpAddr>().ok())
            .map(|ip| upstream(ip, true))
            .collect();
        if !own.is_empty() {
            return own;
        }
        if !self.config.dns.is_empty() {
            return self
                .config
                .dns
                .iter()
                .map(|ip| upstream(*ip, false))
                .collect();
        }
        host_nameservers()
            .into_iter()
            .map(|ip| upstream(ip, false))
            .collect()
    }
}

/// The `nameserver`s of the host's /etc/resolv.conf.
fn host_nameservers() -> Vec<IpAddr> {
    std::fs::read_to_string("/etc/resolv.conf")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().strip_prefix("nameserver"))
        .filter_map(|s| s.trim().parse::<IpAddr>().ok())
        .collect()
}
