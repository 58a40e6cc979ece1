//! One contract, every firewall backend: calls are idempotent, teardown of
//! what is not there succeeds, names that could escape a rule are refused.
//! The nftables backend runs in a fresh namespace (needs root; skips loudly
//! otherwise); the none backend runs anywhere.

mod common;

use berth_network::firewall::{
    self, Firewall, FirewallError, NetworkRules, PortMapping, PortRules, Protocol,
};
use common::{Namespaces, run, suffix};

fn net(bridge: &str) -> NetworkRules {
    NetworkRules {
        id: "suite".into(),
        bridge: bridge.into(),
        subnets: vec!["10.231.0.0/24".parse().unwrap()],
        gateways: vec!["10.231.0.1".parse().unwrap()],
        internal: false,
    }
}

fn ports(id: &str) -> PortRules {
    PortRules {
        container_id: id.into(),
        ipv4: Some("10.231.0.2".parse().unwrap()),
        ipv6: None,
        ports: vec![PortMapping {
            protocol: Protocol::Tcp,
            host_ip: None,
            host_port: 18090,
            container_port: 80,
        }],
    }
}

fn contract(fw: &dyn Firewall, bridge: &str) {
    let n = net(bridge);
    fw.teardown_network(&n)
        .expect("teardown of a network never set up");
    fw.unpublish("nothing")
        .expect("unpublish of unknown container");
    fw.setup_network(&n).unwrap();
    fw.setup_network(&n).expect("setup twice");
    fw.publish(&ports("c1")).unwrap();
    fw.publish(&ports("c1")).expect("publish twice");
    fw.unpublish("c1").unwrap();
    fw.unpublish("c1").expect("unpublish twice");
    let bad = NetworkRules {
        bridge: "x\" ; flush ruleset".into(),
        ..n.clone()
    };
    assert!(matches!(
        fw.setup_network(&bad),
        Err(FirewallError::Invalid(_))
    ));
    assert!(matches!(
        fw.publish(&ports("a b")),
        Err(FirewallError::Invalid(_))
    ));
    fw.teardown_network(&n).unwrap();
    fw.teardown_network(&n).expect("teardown twice");
}

#[test]
fn none_backend_keeps_the_contract() {
    let fw = firewall::none();
    assert_eq!(fw.name(), "none");
    contract(&*fw, "berth-suite");
}

#[test]
fn nftables_backend_keeps_the_contract() {
    if !berth_testutil::require_root("nftables_backend_keeps_the_contract") {
        return;
    }
    let mut spaces = Namespaces::new();
    let s = suffix();
    let h = spaces.make(&format!("host-{s}"));
    let table = format!("berth-t{s}");
    let fw = firewall::nftables(&table, Some(h.clone()));
    assert_eq!(fw.name(), "nftables");
    contract(&*fw, &format!("berth-t{s}"));
    let (exists, _) = run(Some(&h), &["nft", "list", "table", "inet", &table]);
    assert!(!exists, "the table outlived its last network");
    // Only Berth's table was ever there.
    let (_, tables) = run(Some(&h), &["nft", "list", "tables"]);
    assert!(tables.trim().is_empty(), "{tables}");
}
