//! Coexistence with Docker's iptables rules.
//!
//! nftables evaluates every base chain on a hook, and a packet must be
//! accepted by all of them: an `accept` in Berth's table does not override a
//! drop in another. dockerd sets the policy of iptables' `filter FORWARD`
//! chain (with iptables-nft: `table ip filter`, chain `FORWARD`) to DROP, so
//! without help everything Berth's bridges forward is dropped there — traffic
//! routed out of a bridge, into it to a published port, and (with
//! `br_netfilter` loaded, as dockerd loads it) even frames bridged between
//! two containers of one network.
//!
//! What Berth adds, and only while one of its networks exists, is two rules
//! per bridge at the top of `FORWARD`, tagged with the comment `berth`:
//!
//! ```text
//! -A FORWARD -i <bridge> -m comment --comment berth -j ACCEPT
//! -A FORWARD -o <bridge> -m comment --comment berth -j ACCEPT
//! ```
//!
//! (and the same with `ip6tables` for an IPv6 network). They accept only
//! packets entering or leaving Berth's own bridge, so Docker's traffic and
//! policy are untouched; Berth's own `forward` chain still drops what an
//! `--internal` network must not pass, since a drop anywhere is final. They
//! go in through the `iptables` binary (whichever backend it is), never by
//! editing iptables-nft's tables with nft, and only when that chain filters
//! at all (a DROP/REJECT policy or any rule): a host without iptables rules
//! gets no `ip filter` table from Berth. Removal takes out exactly these rules
//! (repeatedly, until `-C` says there are none).

use std::path::PathBuf;
use std::process::Command;

use super::FirewallError;
use crate::netns;

/// The FORWARD accept rules of one namespace's iptables.
#[derive(Debug, Clone)]
pub struct ForwardAccept {
    netns: Option<PathBuf>,
}

/// The two families' tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// `iptables`.
    V4,
    /// `ip6tables`.
    V6,
}

impl Family {
    fn tool(self) -> &'static str {
        match self {
            Family::V4 => "iptables",
            Family::V6 => "ip6tables",
        }
    }
}

fn rule(dir: &str, bridge: &str) -> Vec<String> {
    [
        dir,
        bridge,
        "-m",
        "comment",
        "--comment",
        "berth",
        "-j",
        "ACCEPT",
    ]
    .map(String::from)
    .to_vec()
}

impl ForwardAccept {
    /// Rules in the namespace `netns` (`None`: the caller's).
    pub fn new(netns: Option<PathBuf>) -> Self {
        ForwardAccept { netns }
    }

    /// Runs the tool; `None` when it is not installed.
    fn run(
        &self,
        family: Family,
        args: &[String],
    ) -> Result<Option<std::process::Output>, FirewallError> {
        let tool = family.tool();
        let out = netns::run_in(self.netns.as_deref(), || {
            Command::new(tool).arg("-w").args(args).output()
        })?;
        match out {
            Ok(o) => Ok(Some(o)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(FirewallError::Spawn { tool, source }),
        }
    }

    /// Does FORWARD filter anything (a policy other than ACCEPT, or rules)?
    pub fn forward_filters(&self, family: Family) -> Result<bool, FirewallError> {
        let Some(out) = self.run(family, &["-S".into(), "FORWARD".into()])? else {
            return Ok(false);
        };
        if !out.status.success() {
            // No filter table at all (legacy iptables without the module):
            // nothing filters.
            return Ok(false);
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        let policy_accepts = lines
            .next()
            .is_some_and(|l| l.trim() == "-P FORWARD ACCEPT");
        Ok(!policy_accepts || lines.next().is_some())
    }

    fn present(&self, family: Family, spec: &[String]) -> Result<bool, FirewallError> {
        let mut args = vec!["-C".to_string(), "FORWARD".into()];
        args.extend_from_slice(spec);
        Ok(self.run(family, &args)?.is_some_and(|o| o.status.success()))
    }

    /// Adds the accept rules for `bridge` when FORWARD filters; idempotent.
    pub fn allow(&self, family: Family, bridge: &str) -> Result<(), FirewallError> {
        if !self.forward_filters(family)? {
            return Ok(());
        }
        for dir in ["-i", "-o"] {
            let spec = rule(dir, bridge);
            if self.present(family, &spec)? {
                continue;
            }
            let mut args = vec!["-I".to_string(), "FORWARD".into(), "1".into()];
            args.extend_from_slice(&spec);
            let out = self.run(family, &args)?;
            if let Some(out) = out.filter(|o| !o.status.success()) {
                return Err(FirewallError::Tool {
                    step: format!("accept forwarding for {bridge}"),
                    tool: family.tool(),
                    stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
                });
            }
        }
        Ok(())
    }

    /// Removes the accept rules for `bridge`, if any.
    pub fn revoke(&self, family: Family, bridge: &str) -> Result<(), FirewallError> {
        for dir in ["-i", "-o"] {
            let spec = rule(dir, bridge);
            // Bounded: a rule added twice by hand is removed twice.
            for _ in 0..16 {
                if !self.present(family, &spec)? {
                    break;
                }
                let mut args = vec!["-D".to_string(), "FORWARD".into()];
                args.extend_from_slice(&spec);
                let out = self.run(family, &args)?;
                if let Some(out) = out.filter(|o| !o.status.success()) {
                    return Err(FirewallError::Tool {
                        step: format!("remove the forwarding accept for {bridge}"),
                        tool: family.tool(),
                        stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
                    });
                }
            }
        }
        Ok(())
    }
}
