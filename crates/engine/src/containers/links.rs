//! Legacy links (`--link NAME[:ALIAS]`) on the default bridge, kept as
//! dockerd keeps them:
//!
//! - at create the child must exist; the link is recorded in the parent's
//!   `HostConfig.Links` as `/child:/parent/alias` (what inspect shows);
//! - at start the child must be running; the parent gets the child's
//!   `ALIAS_NAME`, `ALIAS_PORT*` and `ALIAS_ENV_*` variables and an
//!   `/etc/hosts` line `IP alias hostname name`;
//! - `ps` lists `/parent/alias` among the child's names, every container
//!   operation accepts `parent/alias` for the child, and `rm --link
//!   parent/alias` removes the link.
//!
//! On user-defined networks a link is an endpoint setting instead, an
//! alias only the linking container resolves (see `networks::dns`);
//! dockerd records no legacy link there, and neither does Berth.

use std::collections::HashMap;
use std::net::IpAddr;

use super::{ContainerError, ContainerRecord, Status};

/// `NAME[:ALIAS]` or the recorded `/child:/parent/alias` form (moby's
/// `opts.ParseLink`): the child's name and the alias.
pub fn parse(spec: &str) -> Result<(String, String), ContainerError> {
    if spec.is_empty() {
        return Err(ContainerError::invalid("empty string specified for links"));
    }
    let parts: Vec<&str> = spec.split(':').collect();
    match parts.as_slice() {
        [name] => {
            let name = name.strip_prefix('/').unwrap_or(name);
            Ok((name.to_string(), name.to_string()))
        }
        [name, alias] if name.starts_with('/') => {
            let alias = alias.rsplit('/').next().unwrap_or(alias);
            Ok((name[1..].to_string(), alias.to_string()))
        }
        [name, alias] => Ok((name.to_string(), alias.to_string())),
        _ => Err(ContainerError::invalid(format!(
            "bad format for links: {spec}"
        ))),
    }
}

/// Does `mode` put the container on the default bridge (where links are
/// legacy links)?
pub fn legacy_mode(mode: &str) -> bool {
    matches!(mode, "" | "default" | "bridge")
}

/// At create: checks every link of `links` against the existing
/// containers and returns them in the recorded form for `parent`.
pub fn register(
    records: &HashMap<String, ContainerRecord>,
    parent: &str,
    network_mode: &str,
    links: &[String],
) -> Result<Vec<String>, ContainerError> {
    if links.is_empty() {
        return Ok(Vec::new());
    }
    if network_mode == "host" {
        return Err(ContainerError::invalid(
            "conflicting options: host type networking can't be used with links. This would result in undefined behavior",
        ));
    }
    let mut recorded = Vec::new();
    for spec in links {
        let (name, alias) = parse(spec)?;
        let child = super::resolve(records, &name)
            .ok()
            .and_then(|id| records.get(&id))
            .ok_or_else(|| {
                ContainerError::invalid(format!(
                    "could not get container for {name}: No such container: {name}"
                ))
            })?;
        if child.host_config.network_mode == "host" {
            return Err(ContainerError::invalid(
                "conflicting options: host type networking can't be used with links. This would result in undefined behavior",
            ));
        }
        recorded.push(format!("/{}:/{parent}/{alias}", child.name));
    }
    Ok(recorded)
}

/// A running child as the parent sees it at start.
pub struct Linked {
    /// `/parent/alias`.
    pub path: String,
    pub alias: String,
    pub child: ContainerRecord,
    /// The child's address on the default bridge.
    pub ip: Option<IpAddr>,
}

impl Linked {
    /// `ALIAS_NAME`, `ALIAS_PORT*`, `ALIAS_ENV_*` (moby's `links.Link.ToEnv`).
    pub fn env(&self) -> Vec<String> {
        let prefix = self.alias.to_uppercase().replace('-', "_");
        let mut env = vec![format!("{prefix}_NAME={}", self.path)];
        if let Some(ip) = self.ip {
            let mut ports: Vec<(u16, String)> = self
                .child
                .config
                .exposed_ports
                .as_ref()
                .map(|p| {
                    p.keys()
                        .filter_map(|k| {
                            let (port, proto) = k.split_once('/').unwrap_or((k, "tcp"));
                            Some((port.parse().ok()?, proto.to_string()))
                        })
                        .collect()
                })
                .unwrap_or_default();
            ports.sort();
            if let Some((port, proto)) = ports.first() {
                env.push(format!("{prefix}_PORT={proto}://{ip}:{port}"));
            }
            for (port, proto) in &ports {
                let key = format!("{prefix}_PORT_{port}_{}", proto.to_uppercase());
                env.push(format!("{key}={proto}://{ip}:{port}"));
                env.push(format!("{key}_ADDR={ip}"));
                env.push(format!("{key}_PORT={port}"));
                env.push(format!("{key}_PROTO={proto}"));
            }
        }
        for var in self.child.config.env.as_deref().unwrap_or_default() {
            let Some((key, value)) = var.split_once('=') else {
                continue;
            };
            if key != "HOME" && key != "PATH" {
                env.push(format!("{prefix}_ENV_{key}={value}"));
            }
        }
        env
    }

    /// The names of the child's `/etc/hosts` line in the parent.
    pub fn host_names(&self) -> Vec<String> {
        let mut names = vec![self.alias.clone(), self.child.config.hostname.clone()];
        if self.alias != self.child.name {
            names.push(self.child.name.clone());
        }
        names
    }
}

impl crate::Engine {
    /// At start: the parent's legacy links, every child running.
    pub(crate) fn linked(&self, parent: &ContainerRecord) -> Result<Vec<Linked>, ContainerError> {
        let links = parent.host_config.links.as_deref().unwrap_or_default();
        if links.is_empty() || !legacy_mode(&parent.host_config.network_mode) {
            return Ok(Vec::new());
        }
        let records = self.containers.lock().clone();
        let tables = self.network_tables();
        let mut out = Vec::new();
        for spec in links {
            let (name, alias) = parse(spec)?;
            let path = format!("/{}/{alias}", parent.name);
            let child = super::resolve(&records, &name)
                .ok()
                .and_then(|id| records.get(&id).cloned())
                .filter(|c| c.state.status == Status::Running || c.state.status == Status::Paused)
                .ok_or_else(|| {
                    ContainerError::Start(format!(
                        "Cannot link to a non running container: /{name} AS {path}"
                    ))
                })?;
            let (settings, _) = crate::networks::endpoint::network_view(&child, &tables);
            let ip = settings.ip_address.parse().ok();
            out.push(Linked {
                path,
                alias,
                child,
                ip,
            });
        }
        Ok(out)
    }

    /// `DELETE /containers/{parent}/{alias}?link=1`: removes the link.
    pub fn remove_link(&self, parent: &str, alias: &str) -> Result<(), ContainerError> {
        let full = format!("/{parent}/{alias}");
        let id = super::resolve(&self.containers.lock(), parent)
            .map_err(|_| ContainerError::NotFound(full.clone()))?;
        let mut found = false;
        self.update_container(&id, |r| {
            if let Some(links) = r.host_config.links.as_mut() {
                let before = links.len();
                links.retain(|l| parse(l).map(|(_, a)| a != alias).unwrap_or(true));
                found = links.len() != before;
            }
            Ok(())
        })?;
        if found {
            Ok(())
        } else {
            Err(ContainerError::NotFound(full))
        }
    }
}

/// For `ps`: each child's `/parent/alias` names, by child name.
pub fn link_names(records: &HashMap<String, ContainerRecord>) -> HashMap<String, Vec<String>> {
    let mut names: HashMap<String, Vec<String>> = HashMap::new();
    for parent in records.values() {
        if !legacy_mode(&parent.host_config.network_mode) {
            continue;
        }
        for spec in parent.host_config.links.as_deref().unwrap_or_default() {
            if let Ok((child, alias)) = parse(spec) {
                names
                    .entry(child)
                    .or_default()
                    .push(format!("/{}/{alias}", parent.name));
            }
        }
    }
    for v in names.values_mut() {
        v.sort();
    }
    names
}

/// `parent/alias` (a link name) to the child's id, if it is one.
pub fn resolve_link(records: &HashMap<String, ContainerRecord>, name: &str) -> Option<String> {
    let bare = name.strip_prefix('/').unwrap_or(name);
    let (parent, alias) = bare.rsplit_once('/')?;
    let parent = records.values().find(|r| r.name == parent)?;
    let child = parent
        .host_config
        .links
        .as_deref()
        .unwrap_or_default()
        .iter()
        .filter_map(|l| parse(l).ok())
        .find(|(_, a)| a == alias)?
        .0;
    records
        .values()
        .find(|r| r.name == child)
        .map(|r| r.id.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_docker_link_forms() {
        assert_eq!(parse("db").unwrap(), ("db".into(), "db".into()));
        assert_eq!(parse("db:sql").unwrap(), ("db".into(), "sql".into()));
        assert_eq!(parse("/db:/web/sql").unwrap(), ("db".into(), "sql".into()));
        assert!(parse("").is_err());
        assert!(parse("a:b:c").is_err());
    }
}
