//! The firewall that installs nothing: containers still get addresses and
//! routes, but no masquerade, no published ports, no isolation. For hosts
//! where another tool owns the packet filter, and for tests of the code
//! around the [`Firewall`](super::Firewall) boundary.

use super::{Firewall, FirewallError, NetworkRules, PortRules};
use crate::error::ErrorList;

/// The no-op backend.
#[derive(Debug, Default)]
pub struct NoFirewall;

impl Firewall for NoFirewall {
    fn name(&self) -> &'static str {
        "none"
    }

    fn setup_network(&self, net: &NetworkRules) -> Result<(), FirewallError> {
        super::check_name("bridge", &net.bridge)
    }

    fn teardown_network(&self, _net: &NetworkRules) -> Result<(), ErrorList> {
        Ok(())
    }

    fn publish(&self, ports: &PortRules) -> Result<(), FirewallError> {
        super::check_name("container id", &ports.container_id)
    }

    fn unpublish(&self, _container_id: &str) -> Result<(), ErrorList> {
        Ok(())
    }
}
