//! The bridge driver with the nftables firewall against the real kernel.
//!
//! Most scenarios run in a "host" that is itself a fresh network namespace:
//! bridges, veths, the nftables table and iptables policy all live there, so
//! the real host is never touched and a failing test leaks nothing (dropping
//! the namespace destroys everything in it). `real_host_publish` runs once
//! on the real host, with a bridge and table named `berth-t…` and only
//! loopback and its own namespace's addresses as traffic ends.
//!
//! Needs root, `nft`, `iptables` and busybox-static; skips loudly otherwise.

mod common;

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use berth_network::bridge::{BridgeNetwork, Endpoint, Host, host_veth_name};
use berth_network::firewall::{self, PortMapping, PortRules, Protocol};
use berth_network::netlink::Netlink;
use berth_network::netns;
use common::{Namespaces, ping, run, suffix, tcp_fetch, tcp_server, udp_ask, udp_server};

fn ready(test: &str) -> bool {
    if !berth_testutil::require_root(test) {
        return false;
    }
    for tool in ["nft", "iptables"] {
        if std::process::Command::new(tool)
            .arg("--version")
            .output()
            .is_err()
        {
            eprintln!("SKIP: {test}: {tool} is not installed");
            return false;
        }
    }
    if !Path::new(berth_testutil::BUSYBOX).exists() {
        eprintln!(
            "SKIP: {test}: {} is missing (busybox-static)",
            berth_testutil::BUSYBOX
        );
        return false;
    }
    true
}

fn network(id: &str, bridge: &str, subnet: &str, gw: &str, internal: bool) -> BridgeNetwork {
    BridgeNetwork {
        id: id.into(),
        bridge: bridge.into(),
        subnets: vec![(subnet.parse().unwrap(), gw.parse().unwrap())],
        internal,
        mtu: Some(1400),
    }
}

fn endpoint(id: &str, ns: &Path, ip: &str) -> Endpoint {
    Endpoint {
        container_id: id.into(),
        netns: ns.to_owned(),
        ifname: "eth0".into(),
        addresses: vec![(ip.parse().unwrap(), 24)],
        mac: None,
        default_routes: true,
    }
}

fn ports(id: &str, ip: &str, list: &[(Protocol, Option<&str>, u16, u16)]) -> PortRules {
    PortRules {
        container_id: id.into(),
        ipv4: Some(ip.parse().unwrap()),
        ipv6: None,
        ports: list
            .iter()
            .map(
                |(protocol, host_ip, host_port, container_port)| PortMapping {
                    protocol: *protocol,
                    host_ip: host_ip.map(|h| h.parse().unwrap()),
                    host_port: *host_port,
                    container_port: *container_port,
                },
            )
            .collect(),
    }
}

fn links(ns: Option<&Path>) -> Vec<String> {
    Netlink::open_in(ns)
        .unwrap()
        .links()
        .unwrap()
        .into_iter()
        .map(|l| l.name)
        .collect()
}

fn table_exists(ns: Option<&Path>, table: &str) -> bool {
    run(ns, &["nft", "list", "table", "inet", table]).0
}

fn forward_rules(ns: Option<&Path>) -> String {
    run(ns, &["iptables", "-w", "-S", "FORWARD"]).1
}

#[test]
fn two_containers_on_a_bridge_published_ports_internal_network_and_clean_teardown() {
    if !ready("two_containers_on_a_bridge…") {
        return;
    }
    let mut spaces = Namespaces::new();
    let s = suffix();
    let h = spaces.make(&format!("host-{s}"));
    let a = spaces.make(&format!("a-{s}"));
    let b = spaces.make(&format!("b-{s}"));
    let c = spaces.make(&format!("c-{s}"));
    let hp = Some(h.as_path());

    // Docker's FORWARD policy, and forwarding on, as on a Docker host.
    assert!(run(hp, &["iptables", "-w", "-P", "FORWARD", "DROP"]).0);
    netns::run_in(hp, || std::fs::write("/proc/sys/net/ipv4/ip_forward", "1"))
        .unwrap()
        .unwrap();

    let table = format!("berth-t{s}");
    let host = Host::new(Some(h.clone()), firewall::nftables(&table, Some(h.clone())));
    let net = network(
        "n1",
        &format!("berth-t{s}"),
        "10.251.0.0/24",
        "10.251.0.1",
        false,
    );
    let internal = network(
        "n2",
        &format!("berth-i{s}"),
        "10.252.0.0/24",
        "10.252.0.1",
        true,
    );
    host.create_network(&net).unwrap();
    // Idempotent: a second setup (a restart) changes nothing.
    host.create_network(&net).unwrap();
    host.create_network(&internal).unwrap();
    let veth_a = host
        .connect(&net, &endpoint("ca", &a, "10.251.0.2"))
        .unwrap();
    host.connect(&net, &endpoint("cb", &b, "10.251.0.3"))
        .unwrap();
    host.connect(&internal, &endpoint("cc", &c, "10.252.0.2"))
        .unwrap();
    assert_eq!(veth_a, host_veth_name("n1", "ca"));

    // Inside A: eth0 with Docker's MAC, the MTU, the address, a default
    // route via the gateway, lo up.
    let mut nl = Netlink::open_in(Some(&a)).unwrap();
    let eth0 = nl.link("eth0").unwrap().expect("eth0 in the namespace");
    assert_eq!(eth0.mac, [0x02, 0x42, 10, 251, 0, 2]);
    assert_eq!(eth0.mtu, 1400);
    assert!(eth0.up);
    assert!(nl.link("lo").unwrap().unwrap().up);
    let addrs = nl.addresses().unwrap();
    assert!(
        addrs.iter().any(|x| x.index == eth0.index
            && x.addr == "10.251.0.2".parse::<IpAddr>().unwrap()
            && x.prefix == 24),
        "{addrs:?}"
    );
    let routes = nl.routes().unwrap();
    assert!(
        routes.iter().any(|r| r.dst.prefix() == 0
            && r.dst.is_ipv4()
            && r.gateway == Some("10.251.0.1".parse().unwrap())),
        "{routes:?}"
    );
    // The host end is a port of the bridge, in the host namespace only.
    let mut hnl = Netlink::open_in(hp).unwrap();
    let bridge = hnl.link(&net.bridge).unwrap().unwrap();
    assert_eq!(bridge.kind.as_deref(), Some("bridge"));
    assert_eq!(
        hnl.link(&veth_a).unwrap().unwrap().master,
        Some(bridge.index)
    );
    assert!(
        !links(None).contains(&veth_a),
        "the veth leaked into the real host"
    );

    // Container to container: ping and TCP, with FORWARD policy DROP.
    assert!(ping(&a, "10.251.0.3"), "A cannot ping B");
    tcp_server(&b, "10.251.0.3:7000", "hello from b");
    assert_eq!(
        tcp_fetch(Some(&a), "10.251.0.3:7000").unwrap(),
        "hello from b"
    );
    let fwd = forward_rules(hp);
    assert!(
        fwd.contains(&format!(
            "-i {} -m comment --comment berth -j ACCEPT",
            net.bridge
        )),
        "{fwd}"
    );

    // Negative control: without Berth's FORWARD accepts, Docker's DROP
    // policy (br_netfilter sees bridged frames) cuts A off from B.
    let accept = firewall::iptables::ForwardAccept::new(Some(h.clone()));
    let v4 = firewall::iptables::Family::V4;
    accept.revoke(v4, &net.bridge).unwrap();
    let bridged_filtered = run(hp, &["cat", "/proc/sys/net/bridge/bridge-nf-call-iptables"]).1;
    if bridged_filtered.trim() == "1" {
        assert!(
            tcp_fetch(Some(&a), "10.251.0.3:7000").is_err(),
            "DROP policy did not apply"
        );
    }
    accept.allow(v4, &net.bridge).unwrap();
    accept.allow(v4, &net.bridge).unwrap();
    assert_eq!(
        tcp_fetch(Some(&a), "10.251.0.3:7000").unwrap(),
        "hello from b"
    );

    // The host reaches A through the bridge gateway.
    tcp_server(&a, "0.0.0.0:80", "hello from a");
    assert_eq!(tcp_fetch(hp, "10.251.0.2:80").unwrap(), "hello from a");

    // Published ports: 127.0.0.1 and the gateway, TCP and UDP, and the
    // hairpin from B through the host's address back to A.
    udp_server(&a, "0.0.0.0:53", "udp from a");
    host.publish(&ports(
        "ca",
        "10.251.0.2",
        &[
            (Protocol::Tcp, None, 18080, 80),
            (Protocol::Udp, Some("127.0.0.1"), 15353, 53),
        ],
    ))
    .unwrap();
    assert_eq!(tcp_fetch(hp, "127.0.0.1:18080").unwrap(), "hello from a");
    assert_eq!(tcp_fetch(hp, "10.251.0.1:18080").unwrap(), "hello from a");
    assert_eq!(udp_ask(hp, "127.0.0.1:15353").unwrap(), "udp from a");
    assert_eq!(
        tcp_fetch(Some(&b), "10.251.0.1:18080").unwrap(),
        "hello from a"
    );
    // A to itself: needs hairpin mode on its bridge port.
    assert_eq!(
        tcp_fetch(Some(&a), "10.251.0.1:18080").unwrap(),
        "hello from a"
    );
    // Publishing again replaces, never doubles.
    host.publish(&ports(
        "ca",
        "10.251.0.2",
        &[(Protocol::Tcp, None, 18080, 80)],
    ))
    .unwrap();
    let listing = run(hp, &["nft", "list", "chain", "inet", &table, "ports"]).1;
    assert_eq!(listing.matches("dnat").count(), 1, "{listing}");
    host.unpublish("ca").unwrap();
    assert!(
        tcp_fetch(hp, "127.0.0.1:18080").is_err(),
        "port still published"
    );
    host.unpublish("ca").unwrap();

    // The internal network: no default route, nothing beyond its bridge.
    let croutes = Netlink::open_in(Some(&c)).unwrap().routes().unwrap();
    assert!(!croutes.iter().any(|r| r.dst.prefix() == 0), "{croutes:?}");
    assert!(tcp_fetch(Some(&c), "10.251.0.1:80").is_err());
    assert!(
        !ping(&c, "10.251.0.1"),
        "internal container reached another network's gateway"
    );
    tcp_server(&c, "0.0.0.0:81", "hello from c");
    assert!(
        tcp_fetch(Some(&a), "10.252.0.2:81").is_err(),
        "A reached into the internal network"
    );
    assert_eq!(tcp_fetch(hp, "10.252.0.2:81").unwrap(), "hello from c");

    // Teardown leaves nothing: no veth, bridge, table or FORWARD rule.
    host.disconnect(&net, "ca").unwrap();
    host.disconnect(&net, "cb").unwrap();
    host.disconnect(&internal, "cc").unwrap();
    host.disconnect(&net, "ca").unwrap();
    host.remove_network(&net).unwrap();
    assert!(
        table_exists(hp, &table),
        "the table went while a network remains"
    );
    host.remove_network(&internal).unwrap();
    host.remove_network(&internal).unwrap();
    assert_eq!(links(hp), ["lo"]);
    for ns in [&a, &b, &c] {
        assert_eq!(links(Some(ns)), ["lo"]);
    }
    assert!(!table_exists(hp, &table), "the nftables table leaked");
    let fwd = forward_rules(hp);
    assert!(!fwd.contains("berth"), "{fwd}");
}

#[test]
fn netns_files_are_created_joined_and_removed() {
    if !ready("netns_files_are_created_joined_and_removed") {
        return;
    }
    let dir = tempfile::Builder::new()
        .prefix("berth-netns-")
        .tempdir()
        .unwrap();
    let path = dir.path().join("berth-ns");
    netns::create(&path).unwrap();
    assert!(netns::is_netns(&path));
    assert!(netns::create(&path).is_err(), "created twice");
    // A different namespace from ours: only lo, down.
    let inside = Netlink::open_in(Some(&path)).unwrap().links().unwrap();
    assert_eq!(inside.len(), 1);
    assert_eq!(inside[0].name, "lo");
    assert!(!inside[0].up);
    let ours = std::fs::read_link("/proc/thread-self/ns/net").unwrap();
    let theirs = netns::run_in(Some(&path), || {
        std::fs::read_link("/proc/thread-self/ns/net")
    })
    .unwrap()
    .unwrap();
    assert_ne!(ours, theirs);
    // The caller's thread never moved.
    assert_eq!(
        std::fs::read_link("/proc/thread-self/ns/net").unwrap(),
        ours
    );
    netns::remove(&path).unwrap();
    assert!(!path.exists());
    netns::remove(&path).unwrap();
    assert!(matches!(
        netns::run_in(Some(&path), || ()),
        Err(netns::NetnsError::Enter { .. })
    ));
}

#[test]
fn failed_connect_leaves_no_veth() {
    if !ready("failed_connect_leaves_no_veth") {
        return;
    }
    let mut spaces = Namespaces::new();
    let s = suffix();
    let h = spaces.make(&format!("host-{s}"));
    let a = spaces.make(&format!("a-{s}"));
    let host = Host::new(Some(h.clone()), firewall::none());
    let net = network(
        "n1",
        &format!("berth-t{s}"),
        "10.253.0.0/24",
        "10.253.0.1",
        false,
    );
    host.create_network(&net).unwrap();
    // An address the kernel refuses (prefix 40 on IPv4) fails inside the
    // namespace, after the veth was made: it must be gone again.
    let mut ep = endpoint("ca", &a, "10.253.0.2");
    ep.addresses[0].1 = 40;
    assert!(host.connect(&net, &ep).is_err());
    assert_eq!(links(Some(h.as_path())), ["lo", net.bridge.as_str()]);
    assert_eq!(links(Some(&a)), ["lo"]);
    // No namespace: refused before anything is made.
    let missing = PathBuf::from("/nonexistent/berth-ns");
    let err = host
        .connect(&net, &endpoint("cb", &missing, "10.253.0.3"))
        .unwrap_err();
    assert_eq!(err.category(), berth_network::Category::NotFound);
    // An interface of another kind with the bridge's name is refused.
    let clash = network("n2", "lo", "10.254.0.0/24", "10.254.0.1", false);
    assert!(host.create_network(&clash).is_err());
    host.remove_network(&net).unwrap();
    assert_eq!(links(Some(h.as_path())), ["lo"]);
}

/// Removes the real-host bridge and table even when the test fails.
struct RealHostGuard {
    host: Host,
    net: BridgeNetwork,
    table: String,
}

impl Drop for RealHostGuard {
    fn drop(&mut self) {
        let _ = self.host.unpublish("ca");
        let _ = self.host.disconnect(&self.net, "ca");
        let _ = self.host.remove_network(&self.net);
        let _ = firewall::nft::Nftables::new(&self.table, None).remove_all();
    }
}

#[test]
fn real_host_publish() {
    if !ready("real_host_publish") {
        return;
    }
    let mut spaces = Namespaces::new();
    let s = suffix();
    let a = spaces.make(&format!("a-{s}"));
    let table = format!("berth-t{s}");
    let host = Host::new(None, firewall::nftables(&table, None));
    // A /24 no host route overlaps.
    let routes = host.routes().unwrap();
    let subnet = (200..=250u8)
        .map(|i| {
            format!("10.{i}.77.0/24")
                .parse::<berth_network::ipam::Subnet>()
                .unwrap()
        })
        .find(|c| !routes.iter().any(|r| r.prefix() > 0 && r.overlaps(c)))
        .expect("a free test subnet");
    let gw = subnet.nth(1).unwrap().to_string();
    let ip = subnet.nth(2).unwrap().to_string();
    let net = network(
        &format!("t{s}"),
        &format!("berth-t{s}"),
        &subnet.to_string(),
        &gw,
        false,
    );
    let guard = RealHostGuard {
        host,
        net: net.clone(),
        table: table.clone(),
    };
    let fwd_before = forward_rules(None);

    guard.host.create_network(&net).unwrap();
    guard.host.connect(&net, &endpoint("ca", &a, &ip)).unwrap();
    tcp_server(&a, "0.0.0.0:80", "hello from a");
    let port = 20000 + (std::process::id() % 20000) as u16;
    guard
        .host
        .publish(&ports(
            "ca",
            &ip,
            &[(Protocol::Tcp, Some("127.0.0.1"), port, 80)],
        ))
        .unwrap();
    assert_eq!(
        tcp_fetch(None, &format!("127.0.0.1:{port}")).unwrap(),
        "hello from a"
    );
    assert_eq!(
        tcp_fetch(None, &format!("{ip}:80")).unwrap(),
        "hello from a"
    );

    guard.host.unpublish("ca").unwrap();
    guard.host.disconnect(&net, "ca").unwrap();
    guard.host.remove_network(&net).unwrap();
    let names = links(None);
    assert!(!names.contains(&net.bridge), "bridge leaked");
    assert!(
        !names.contains(&host_veth_name(&net.id, "ca")),
        "veth leaked"
    );
    assert!(!table_exists(None, &table), "table leaked");
    assert_eq!(forward_rules(None), fwd_before, "iptables FORWARD changed");
    drop(guard);
}

#[test]
fn dual_stack_and_isolation_between_networks() {
    if !ready("dual_stack_and_isolation_between_networks") {
        return;
    }
    let mut spaces = Namespaces::new();
    let s = suffix();
    let h = spaces.make(&format!("host-{s}"));
    let a = spaces.make(&format!("a-{s}"));
    let b = spaces.make(&format!("b-{s}"));
    let d = spaces.make(&format!("d-{s}"));
    let hp = Some(h.as_path());
    netns::run_in(hp, || std::fs::write("/proc/sys/net/ipv4/ip_forward", "1"))
        .unwrap()
        .unwrap();
    let table = format!("berth-t{s}");
    let host = Host::new(Some(h.clone()), firewall::nftables(&table, Some(h.clone())));
    let mut net = network(
        "n1",
        &format!("berth-t{s}"),
        "10.241.0.0/24",
        "10.241.0.1",
        false,
    );
    net.subnets
        .push(("fd00:b::/64".parse().unwrap(), "fd00:b::1".parse().unwrap()));
    let other = network(
        "n3",
        &format!("berth-o{s}"),
        "10.243.0.0/24",
        "10.243.0.1",
        false,
    );
    host.create_network(&net).unwrap();
    host.create_network(&other).unwrap();
    let dual = |id: &str, ns: &Path, v4: &str, v6: &str| Endpoint {
        addresses: vec![(v4.parse().unwrap(), 24), (v6.parse().unwrap(), 64)],
        ..endpoint(id, ns, v4)
    };
    host.connect(&net, &dual("ca", &a, "10.241.0.2", "fd00:b::2"))
        .unwrap();
    host.connect(&net, &dual("cb", &b, "10.241.0.3", "fd00:b::3"))
        .unwrap();
    host.connect(&other, &endpoint("cd", &d, "10.243.0.2"))
        .unwrap();

    // IPv6 between containers and a v6 default route.
    tcp_server(&b, "[fd00:b::3]:7000", "v6 from b");
    assert_eq!(
        tcp_fetch(Some(&a), "[fd00:b::3]:7000").unwrap(),
        "v6 from b"
    );
    let routes = Netlink::open_in(Some(&a)).unwrap().routes().unwrap();
    assert!(
        routes.iter().any(|r| r.dst.prefix() == 0
            && !r.dst.is_ipv4()
            && r.gateway == Some("fd00:b::1".parse().unwrap())),
        "{routes:?}"
    );

    // Networks are isolated from each other, as Docker's bridges are...
    tcp_server(&d, "0.0.0.0:80", "hello from d");
    assert_eq!(tcp_fetch(hp, "10.243.0.2:80").unwrap(), "hello from d");
    assert!(
        tcp_fetch(Some(&a), "10.243.0.2:80").is_err(),
        "network isolation failed"
    );
    // ...but a published port is reachable from the other network.
    host.publish(&ports(
        "cd",
        "10.243.0.2",
        &[(Protocol::Tcp, None, 18081, 80)],
    ))
    .unwrap();
    assert_eq!(
        tcp_fetch(Some(&a), "10.241.0.1:18081").unwrap(),
        "hello from d"
    );
    // And over IPv6 to a dual-stack container.
    tcp_server(&a, "[::]:81", "v6 published");
    host.publish(&PortRules {
        ipv6: Some("fd00:b::2".parse().unwrap()),
        ..ports("ca", "10.241.0.2", &[(Protocol::Tcp, None, 18082, 81)])
    })
    .unwrap();
    assert_eq!(tcp_fetch(hp, "[fd00:b::1]:18082").unwrap(), "v6 published");
    assert_eq!(tcp_fetch(hp, "127.0.0.1:18082").unwrap(), "v6 published");

    host.unpublish("cd").unwrap();
    host.unpublish("ca").unwrap();
    for (n, c) in [(&net, "ca"), (&net, "cb"), (&other, "cd")] {
        host.disconnect(n, c).unwrap();
    }
    host.remove_network(&net).unwrap();
    host.remove_network(&other).unwrap();
    assert_eq!(links(hp), ["lo"]);
    assert!(!table_exists(hp, &table), "the nftables table leaked");
}
