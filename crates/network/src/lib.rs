//! Linux networking for Berth containers.
//!
//! This crate owns everything between "a container has a network namespace"
//! and "it talks to its peers and the world the way Docker's do":
//!
//! - [`netns`]: network namespaces bound to files, and running code in one;
//! - [`netlink`]: a small synchronous rtnetlink client (links, addresses,
//!   routes);
//! - [`ipam`]: subnets, gateways, address allocation, overlap checks, the
//!   default pools (pure logic; the engine persists the state);
//! - [`bridge`]: the bridge driver — bridge networks and container
//!   endpoints (veth pairs), set up and torn down;
//! - [`dns`]: the embedded DNS server (127.0.0.11 in containers on
//!   user-defined networks), one thread for every container, with the
//!   names behind the [`Names`](dns::Names) trait the engine implements;
//! - [`firewall`]: the [`Firewall`](firewall::Firewall) trait and its
//!   nftables and no-op backends: masquerade, `--internal` isolation,
//!   published ports, and the FORWARD accept rules that let Berth's traffic
//!   past Docker's iptables policy.
//!
//! It leaves to the engine: which networks and containers exist, storing
//! IPAM state, `/etc/hosts` and `/etc/resolv.conf`, and the order of calls
//! (create the namespace, connect, start the container; on stop, unpublish,
//! disconnect, remove the namespace).

pub mod bridge;
pub mod dns;
pub mod error;
pub mod firewall;
pub mod ipam;
pub mod netlink;
pub mod netns;

pub use error::{Category, ErrorList};
