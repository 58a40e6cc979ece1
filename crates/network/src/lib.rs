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
pub mod error;
pub mod firewall;
pub mod ipam;
pub mod netlink;
pub mod netns;

pub use error::{Category, ErrorList};
