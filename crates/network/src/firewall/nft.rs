//! The nftables backend: everything lives in one table of Berth's own,
//! `table inet berth` by default, and nothing outside it is ever changed
//! (but the documented iptables FORWARD accepts, see [`super::iptables`]).
//!
//! # Layout
//!
//! ```text
//! table inet berth {
//!   set bridges { type ifname }          Berth's bridges, for isolation
//!   chain prerouting  nat/prerouting  -100  fib daddr type local jump ports
//!   chain output      nat/output      -100  fib daddr type local jump ports
//!   chain ports                             DNAT rules, comment "c:<container>"
//!   chain postrouting nat/postrouting  100  masquerade, comment "n:<network>"
//!   chain forward     filter/forward     0  isolation drops, "n:<network>"
//!   chain input       filter/input       0  --internal drops, "n:<network>"
//! }
//! ```
//!
//! Every rule carries a comment naming its owner, so removal lists the
//! table (`nft -j -a`, handles included) and deletes exactly the owner's
//! rules by handle. Changes go to `nft -f -` as one script, which nft applies
//! as one transaction: a failed publish leaves nothing behind. Writes use
//! nft's own syntax (readable in logs, and what an operator types); reads
//! use its JSON, which is stable to parse. No `nftables` crate: building a
//! few lines of text and reading a few JSON fields needs only serde_json.
//!
//! # Published ports and 127.0.0.1
//!
//! Ports are published in the kernel, not by a userland proxy: DNAT in
//! `prerouting` (traffic arriving from elsewhere) and `output` (the host's
//! own connections, `127.0.0.1` included). A connection from `127.0.0.1`
//! DNATed to a container leaves through the bridge with source 127.0.0.1,
//! which the kernel refuses unless `route_localnet` is set on the output
//! device: the bridge driver sets `net.ipv4.conf.<bridge>.route_localnet=1`
//! on Berth's bridges only, and `postrouting` masquerades
//! `ip saddr 127.0.0.0/8 oifname <bridge>` to the gateway so the container
//! can answer. Hairpin (a container reaching a published port of its own
//! network, itself included) is the masquerade of DNATed traffic whose
//! source and destination are both in the subnet, plus hairpin mode on the
//! bridge port. Not covered: `[::1]:port` (IPv6 has no `route_localnet`;
//! Docker needs its proxy there too) — published ports are reachable on the
//! host's IPv6 addresses, not on `::1`.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::Value;

use super::iptables::{Family, ForwardAccept};
use super::{Firewall, FirewallError, NetworkRules, PortRules, check_name};
use crate::error::ErrorList;
use crate::netns;

/// The nftables backend; see the module docs.
#[derive(Debug)]
pub struct Nftables {
    table: String,
    netns: Option<PathBuf>,
    forward: ForwardAccept,
}

/// A rule in the table that has an owner comment.
#[derive(Debug, Clone)]
struct OwnedRule {
    chain: String,
    handle: u64,
    comment: String,
}

/// What the table holds, as far as this backend cares.
#[derive(Debug, Default)]
struct Listing {
    rules: Vec<OwnedRule>,
    bridges: Vec<String>,
}

impl Nftables {
    /// The backend for table `inet <table>` in namespace `netns` (`None`:
    /// the caller's).
    pub fn new(table: &str, netns: Option<PathBuf>) -> Self {
        Nftables {
            table: table.to_owned(),
            forward: ForwardAccept::new(netns.clone()),
            netns,
        }
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.table
    }

    fn nft(
        &self,
        step: &str,
        args: &[&str],
        script: Option<&str>,
    ) -> Result<String, FirewallError> {
        let out = netns::run_in(self.netns.as_deref(), || -> std::io::Result<_> {
            let mut child = Command::new("nft")
                .args(args)
                .stdin(if script.is_some() {
                    Stdio::piped()
                } else {
                    Stdio::null()
                })
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()?;
            if let (Some(text), Some(mut stdin)) = (script, child.stdin.take()) {
                stdin.write_all(text.as_bytes())?;
            }
            child.wait_with_output()
        })?
        .map_err(|source| FirewallError::Spawn {
            tool: "nft",
            source,
        })?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(FirewallError::Tool {
                step: step.to_owned(),
                tool: "nft",
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            })
        }
    }

    fn apply(&self, step: &str, script: &str) -> Result<(), FirewallError> {
        self.nft(step, &["-f", "-"], Some(script)).map(|_| ())
    }

    /// The table's owned rules and bridges; `None` when there is no table.
    fn list(&self) -> Result<Option<Listing>, FirewallError> {
        let text = match self.nft(
            "list the table",
            &["-j", "-a", "list", "table", "inet", &self.table],
            None,
        ) {
            Ok(t) => t,
            Err(FirewallError::Tool { stderr, .. })
                if stderr.contains("No such file or directory") =>
            {
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        parse_listing(&text).map(Some)
    }

    /// Does the table exist?
    pub fn exists(&self) -> Result<bool, FirewallError> {
        Ok(self.list()?.is_some())
    }

    fn skeleton(&self) -> String {
        let t = &self.table;
        format!(
            "table inet {t} {{\n\
             \tset bridges {{ type ifname; }}\n\
             \tchain prerouting {{ type nat hook prerouting priority -100; policy accept; fib daddr type local jump ports; }}\n\
             \tchain output {{ type nat hook output priority -100; policy accept; fib daddr type local jump ports; }}\n\
             \tchain ports {{ }}\n\
             \tchain postrouting {{ type nat hook postrouting priority 100; policy accept; }}\n\
             \tchain forward {{ type filter hook forward priority 0; policy accept; }}\n\
             \tchain input {{ type filter hook input priority 0; policy accept; }}\n\
             }}\n"
        )
    }

    /// Deletion lines for every rule owned by `owner`.
    fn delete_owned(&self, script: &mut String, listing: &Listing, owner: &str) {
        for r in listing.rules.iter().filter(|r| r.comment == owner) {
            let _ = writeln!(
                script,
                "delete rule inet {} {} handle {}",
                self.table, r.chain, r.handle
            );
        }
    }

    fn network_rules(&self, net: &NetworkRules) -> String {
        let (t, br) = (&self.table, &net.bridge);
        let tag = format!("comment \"n:{}\"", net.id);
        let mut s = String::new();
        let _ = writeln!(s, "add element inet {t} bridges {{ \"{br}\" }}");
        for subnet in &net.subnets {
            let fam = if subnet.is_ipv4() { "ip" } else { "ip6" };
            if !net.internal {
                let _ = writeln!(
                    s,
                    "add rule inet {t} postrouting {fam} saddr {subnet} oifname != \"{br}\" masquerade {tag}"
                );
            }
            // Hairpin: DNATed traffic from the subnet back into it.
            let _ = writeln!(
                s,
                "add rule inet {t} postrouting oifname \"{br}\" {fam} saddr {subnet} {fam} daddr {subnet} ct status dnat masquerade {tag}"
            );
            if net.internal {
                let gateways: Vec<String> = net
                    .gateways
                    .iter()
                    .filter(|g| g.is_ipv4() == subnet.is_ipv4())
                    .map(|g| g.to_string())
                    .chain((!subnet.is_ipv4()).then(|| "fe80::/10".to_owned()))
                    .collect();
                if !gateways.is_empty() {
                    let _ = writeln!(
                        s,
                        "add rule inet {t} input iifname \"{br}\" fib daddr type local {fam} daddr != {{ {} }} drop {tag}",
                        gateways.join(", ")
                    );
                }
            }
        }
        if net.internal {
            let _ = writeln!(
                s,
                "add rule inet {t} forward iifname \"{br}\" oifname != \"{br}\" drop {tag}"
            );
            let _ = writeln!(
                s,
                "add rule inet {t} forward oifname \"{br}\" iifname != \"{br}\" drop {tag}"
            );
        } else {
            // 127.0.0.1 -> published port: see the module docs.
            let _ = writeln!(
                s,
                "add rule inet {t} postrouting oifname \"{br}\" ip saddr 127.0.0.0/8 masquerade {tag}"
            );
            // Isolation from Berth's other networks, as Docker isolates its
            // bridges; published ports stay reachable across networks.
            let _ = writeln!(
                s,
                "add rule inet {t} forward iifname \"{br}\" oifname @bridges oifname != \"{br}\" ct status & dnat == 0 drop {tag}"
            );
        }
        s
    }

    fn port_rules(&self, ports: &PortRules) -> Result<String, FirewallError> {
        let t = &self.table;
        let tag = format!("comment \"c:{}\"", ports.container_id);
        let mut s = String::new();
        for p in &ports.ports {
            let host = p.host_ip.filter(|ip| !ip.is_unspecified());
            let want_v4 = match p.host_ip {
                None => true,
                Some(ip) => ip.is_ipv4(),
            };
            let want_v6 = match p.host_ip {
                None => true,
                Some(ip) => ip.is_ipv6(),
            };
            let mut wrote = false;
            if let (true, Some(c4)) = (want_v4, ports.ipv4) {
                let daddr = host.map(|h| format!("ip daddr {h} ")).unwrap_or_default();
                let _ = writeln!(
                    s,
                    "add rule inet {t} ports meta nfproto ipv4 {daddr}{proto} dport {hp} dnat ip to {c4}:{cp} {tag}",
                    proto = p.protocol,
                    hp = p.host_port,
                    cp = p.container_port
                );
                wrote = true;
            }
            if let (true, Some(c6)) = (want_v6, ports.ipv6) {
                let daddr = host.map(|h| format!("ip6 daddr {h} ")).unwrap_or_default();
                let _ = writeln!(
                    s,
                    "add rule inet {t} ports meta nfproto ipv6 {daddr}{proto} dport {hp} dnat ip6 to [{c6}]:{cp} {tag}",
                    proto = p.protocol,
                    hp = p.host_port,
                    cp = p.container_port
                );
                wrote = true;
            }
            if !wrote && host.is_some() {
                return Err(FirewallError::Invalid(format!(
                    "cannot publish {}:{}/{} : the container has no {} address",
                    host.map(|h| h.to_string()).unwrap_or_default(),
                    p.host_port,
                    p.protocol,
                    if want_v4 { "IPv4" } else { "IPv6" }
                )));
            }
        }
        Ok(s)
    }

    /// Deletes the whole table and the FORWARD accepts of every bridge it
    /// knew: what `docker system prune`-style cleanup and tests use.
    pub fn remove_all(&self) -> Result<(), ErrorList> {
        let mut errors = ErrorList::new();
        if let Some(Some(listing)) = errors.note(self.list()) {
            for br in &listing.bridges {
                errors.note(self.forward.revoke(Family::V4, br));
                errors.note(self.forward.revoke(Family::V6, br));
            }
            errors.note(self.apply(
                "delete the table",
                &format!("delete table inet {}\n", self.table),
            ));
        }
        errors.into_result()
    }
}

impl Firewall for Nftables {
    fn name(&self) -> &'static str {
        "nftables"
    }

    fn setup_network(&self, net: &NetworkRules) -> Result<(), FirewallError> {
        check_name("network id", &net.id)?;
        check_name("bridge", &net.bridge)?;
        check_name("table", &self.table)?;
        let mut script = String::new();
        match self.list()? {
            None => script.push_str(&self.skeleton()),
            // Replace, so a repeated setup (after a restart) never doubles.
            Some(listing) => self.delete_owned(&mut script, &listing, &format!("n:{}", net.id)),
        }
        script.push_str(&self.network_rules(net));
        self.apply(&format!("set up the rules of network {}", net.id), &script)?;
        let families = [
            (Family::V4, net.subnets.iter().any(|s| s.is_ipv4())),
            (Family::V6, net.subnets.iter().any(|s| !s.is_ipv4())),
        ];
        for (family, used) in families {
            if used {
                self.forward.allow(family, &net.bridge)?;
            }
        }
        Ok(())
    }

    fn teardown_network(&self, net: &NetworkRules) -> Result<(), ErrorList> {
        let mut errors = ErrorList::new();
        errors.note(self.forward.revoke(Family::V4, &net.bridge));
        errors.note(self.forward.revoke(Family::V6, &net.bridge));
        if let Some(Some(listing)) = errors.note(self.list()) {
            let owner = format!("n:{}", net.id);
            let others = listing.rules.iter().any(|r| r.comment != owner);
            let mut script = String::new();
            if others || listing.bridges.iter().any(|b| b != &net.bridge) {
                self.delete_owned(&mut script, &listing, &owner);
                if listing.bridges.contains(&net.bridge) {
                    let _ = writeln!(
                        script,
                        "delete element inet {} bridges {{ \"{}\" }}",
                        self.table, net.bridge
                    );
                }
            } else {
                // The last network: nothing of Berth's stays behind.
                let _ = writeln!(script, "delete table inet {}", self.table);
            }
            if !script.is_empty() {
                errors
                    .note(self.apply(&format!("remove the rules of network {}", net.id), &script));
            }
        }
        errors.into_result()
    }

    fn publish(&self, ports: &PortRules) -> Result<(), FirewallError> {
        check_name("container id", &ports.container_id)?;
        check_name("table", &self.table)?;
        let mut script = String::new();
        match self.list()? {
            None => script.push_str(&self.skeleton()),
            Some(listing) => {
                self.delete_owned(&mut script, &listing, &format!("c:{}", ports.container_id))
            }
        }
        script.push_str(&self.port_rules(ports)?);
        self.apply(
            &format!("publish the ports of container {}", ports.container_id),
            &script,
        )
    }

    fn unpublish(&self, container_id: &str) -> Result<(), ErrorList> {
        let mut errors = ErrorList::new();
        if let Some(Some(listing)) = errors.note(self.list()) {
            let mut script = String::new();
            self.delete_owned(&mut script, &listing, &format!("c:{container_id}"));
            if !script.is_empty() {
                errors.note(self.apply(
                    &format!("remove the ports of container {container_id}"),
                    &script,
                ));
            }
        }
        errors.into_result()
    }
}

fn parse_listing(text: &str) -> Result<Listing, FirewallError> {
    let v: Value = serde_json::from_str(text).map_err(|e| FirewallError::Parse(e.to_string()))?;
    let items = v
        .get("nftables")
        .and_then(Value::as_array)
        .ok_or_else(|| FirewallError::Parse("no \"nftables\" array".into()))?;
    let mut listing = Listing::default();
    for item in items {
        if let Some(rule) = item.get("rule") {
            let (Some(chain), Some(handle), Some(comment)) = (
                rule.get("chain").and_then(Value::as_str),
                rule.get("handle").and_then(Value::as_u64),
                rule.get("comment").and_then(Value::as_str),
            ) else {
                continue;
            };
            listing.rules.push(OwnedRule {
                chain: chain.to_owned(),
                handle,
                comment: comment.to_owned(),
            });
        } else if let Some(set) = item.get("set") {
            if set.get("name").and_then(Value::as_str) != Some("bridges") {
                continue;
            }
            let elems = match set.get("elem") {
                Some(Value::Array(a)) => a.clone(),
                Some(other) => vec![other.clone()],
                None => Vec::new(),
            };
            listing
                .bridges
                .extend(elems.iter().filter_map(|e| e.as_str().map(str::to_owned)));
        }
    }
    Ok(listing)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::firewall::{PortMapping, Protocol};

    fn net(internal: bool) -> NetworkRules {
        NetworkRules {
            id: "n1".into(),
            bridge: "berth-x".into(),
            subnets: vec!["10.7.0.0/24".parse().unwrap(), "fd07::/64".parse().unwrap()],
            gateways: vec!["10.7.0.1".parse().unwrap(), "fd07::1".parse().unwrap()],
            internal,
        }
    }

    #[test]
    fn network_rules_masquerade_unless_internal() {
        let fw = Nftables::new("berth", None);
        let open = fw.network_rules(&net(false));
        assert!(
            open.contains(
                "ip saddr 10.7.0.0/24 oifname != \"berth-x\" masquerade comment \"n:n1\""
            ),
            "{open}"
        );
        assert!(
            open.contains("ip6 saddr fd07::/64 oifname != \"berth-x\" masquerade"),
            "{open}"
        );
        assert!(open.contains("ip saddr 127.0.0.0/8 masquerade"), "{open}");
        let internal = fw.network_rules(&net(true));
        assert!(
            !internal.contains("oifname != \"berth-x\" masquerade"),
            "{internal}"
        );
        assert!(
            internal.contains("forward iifname \"berth-x\" oifname != \"berth-x\" drop"),
            "{internal}"
        );
        assert!(
            internal.contains("ip daddr != { 10.7.0.1 } drop"),
            "{internal}"
        );
        assert!(
            internal.contains("ip6 daddr != { fd07::1, fe80::/10 } drop"),
            "{internal}"
        );
    }

    #[test]
    fn port_rules_per_family_and_host_ip() {
        let fw = Nftables::new("berth", None);
        let mut rules = PortRules {
            container_id: "c1".into(),
            ipv4: Some("10.7.0.2".parse().unwrap()),
            ipv6: None,
            ports: vec![
                PortMapping {
                    protocol: Protocol::Tcp,
                    host_ip: None,
                    host_port: 8080,
                    container_port: 80,
                },
                PortMapping {
                    protocol: Protocol::Udp,
                    host_ip: Some("127.0.0.1".parse().unwrap()),
                    host_port: 5353,
                    container_port: 53,
                },
            ],
        };
        let s = fw.port_rules(&rules).unwrap();
        assert_eq!(
            s,
            "add rule inet berth ports meta nfproto ipv4 tcp dport 8080 dnat ip to 10.7.0.2:80 comment \"c:c1\"\n\
             add rule inet berth ports meta nfproto ipv4 ip daddr 127.0.0.1 udp dport 5353 dnat ip to 10.7.0.2:53 comment \"c:c1\"\n"
        );
        rules.ports[1].host_ip = Some("::1".parse().unwrap());
        assert!(matches!(
            fw.port_rules(&rules),
            Err(FirewallError::Invalid(_))
        ));
        rules.ipv6 = Some("fd07::2".parse().unwrap());
        let s = fw.port_rules(&rules).unwrap();
        assert!(
            s.contains("meta nfproto ipv6 ip6 daddr ::1 udp dport 5353 dnat ip6 to [fd07::2]:53"),
            "{s}"
        );
        assert!(
            s.contains("meta nfproto ipv6 tcp dport 8080 dnat ip6 to [fd07::2]:80"),
            "{s}"
        );
    }

    #[test]
    fn names_that_could_escape_a_rule_are_refused() {
        assert!(check_name("bridge", "berth0").is_ok());
        for bad in ["", "a\"b", "a b", "x;flush ruleset", &"a".repeat(65)] {
            assert!(check_name("bridge", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn listing_parses_owned_rules_and_bridges() {
        let text = r#"{"nftables": [{"metainfo": {}}, {"table": {"family": "inet", "name": "t", "handle": 2}},
            {"set": {"family": "inet", "name": "bridges", "table": "t", "type": "ifname", "handle": 2, "elem": ["berth0"]}},
            {"rule": {"family": "inet", "table": "t", "chain": "ports", "handle": 3, "comment": "c:x", "expr": []}},
            {"rule": {"family": "inet", "table": "t", "chain": "output", "handle": 4, "expr": []}}]}"#;
        let l = parse_listing(text).unwrap();
        assert_eq!(l.bridges, ["berth0"]);
        assert_eq!(l.rules.len(), 1);
        assert_eq!(
            (
                l.rules[0].chain.as_str(),
                l.rules[0].handle,
                l.rules[0].comment.as_str()
            ),
            ("ports", 3, "c:x")
        );
        assert!(parse_listing("nope").is_err());
    }
}
