//! `GET /containers/json` (`docker ps`): summaries with Docker's status
//! text ("Up 3 seconds", "Exited (0) 2 minutes ago") and its filters.

use std::time::SystemTime;

use berth_models::container::{ContainerSummary, SummaryHostConfig, SummaryNetworkSettings};
use berth_models::filters::Filters;

use super::{ContainerError, ContainerRecord, Status};

/// What `ps` asks for.
#[derive(Debug, Default)]
pub struct ListOptions {
    pub all: bool,
    pub limit: Option<usize>,
    pub size: bool,
    pub filters: Filters,
}

/// Docker's `units.HumanDuration`.
pub fn human_duration(d: std::time::Duration) -> String {
    let secs = d.as_secs();
    let hours = secs / 3600;
    if secs < 1 {
        "Less than a second".into()
    } else if secs == 1 {
        "1 second".into()
    } else if secs < 60 {
        format!("{secs} seconds")
    } else if secs / 60 == 1 {
        "About a minute".into()
    } else if secs < 3600 {
        format!("{} minutes", secs / 60)
    } else if hours == 1 {
        "About an hour".into()
    } else if hours < 48 {
        format!("{hours} hours")
    } else if hours < 24 * 7 * 2 {
        format!("{} days", hours / 24)
    } else if hours < 24 * 30 * 2 {
        format!("{} weeks", hours / 24 / 7)
    } else if hours < 24 * 365 * 2 {
        format!("{} months", hours / 24 / 30)
    } else {
        format!("{} years", hours / 24 / 365)
    }
}

fn since(rfc: Option<&str>) -> std::time::Duration {
    rfc.and_then(|t| crate::time::parse_rfc3339(t).ok())
        .and_then(|t| SystemTime::now().duration_since(t).ok())
        .unwrap_or_default()
}

/// The `Status` column.
pub fn status_text(r: &ContainerRecord) -> String {
    let s = &r.state;
    match s.status {
        Status::Running | Status::Paused => {
            let mut text = format!("Up {}", human_duration(since(s.started_at.as_deref())));
            if s.status == Status::Paused {
                text.push_str(" (Paused)");
            } else if let Some(h) = &s.health {
                match h.status.as_str() {
                    "starting" => text.push_str(" (health: starting)"),
                    other => text.push_str(&format!(" ({other})")),
                }
            }
            text
        }
        Status::Restarting => format!(
            "Restarting ({}) {} ago",
            s.exit_code,
            human_duration(since(s.finished_at.as_deref()))
        ),
        Status::Removing => "Removal In Progress".into(),
        Status::Dead => "Dead".into(),
        Status::Created => "Created".into(),
        Status::Exited if !r.has_been_started => "Created".into(),
        Status::Exited => format!(
            "Exited ({}) {} ago",
            s.exit_code,
            human_duration(since(s.finished_at.as_deref()))
        ),
    }
}

/// `label=k` / `label=k=v` filters.
pub fn matches_labels(r: &ContainerRecord, filters: &Filters) -> bool {
    let labels = super::create::labels(r);
    let positive = filters
        .get("label")
        .iter()
        .all(|v| match v.split_once('=') {
            Some((k, val)) => labels.get(k).is_some_and(|x| x == val),
            None => labels.contains_key(v.as_str()),
        });
    let negative = filters
        .get("label!")
        .iter()
        .all(|v| match v.split_once('=') {
            Some((k, val)) => labels.get(k).is_none_or(|x| x != val),
            None => !labels.contains_key(v.as_str()),
        });
    positive && negative
}

/// The `until` filter of prune.
pub fn created_before(r: &ContainerRecord, filters: &Filters) -> Result<bool, ContainerError> {
    let Some(until) = filters.get("until").first() else {
        return Ok(true);
    };
    let limit = crate::images::list::parse_until(until)
        .map_err(|e| ContainerError::invalid(e.to_string()))?;
    let created = crate::time::parse_rfc3339(&r.created).unwrap_or(SystemTime::UNIX_EPOCH);
    Ok(created < limit)
}

/// The command column: entrypoint and args joined, as dockerd shows it.
pub fn command(r: &ContainerRecord) -> String {
    super::spec::process_args(&r.config).join(" ")
}

impl crate::Engine {
    pub fn list_containers(
        &self,
        opts: &ListOptions,
    ) -> Result<Vec<ContainerSummary>, ContainerError> {
        let f = &opts.filters;
        f.validate(&[
            "id",
            "name",
            "label",
            "label!",
            "status",
            "exited",
            "ancestor",
            "before",
            "since",
            "volume",
            "health",
            "network",
            "is-task",
            "publish",
            "expose",
            "isolation",
        ])
        .map_err(|e| ContainerError::invalid(e.to_string()))?;
        for s in f.get("status") {
            if ![
                "created",
                "restarting",
                "running",
                "removing",
                "paused",
                "exited",
                "dead",
            ]
            .contains(&s.as_str())
            {
                return Err(ContainerError::invalid(format!(
                    "invalid filter 'status={s}'"
                )));
            }
        }
        let records = self.containers.lock();
        let reference_time = |name: &str| -> Result<String, ContainerError> {
            let id = super::resolve(&records, name)?;
            Ok(records[&id].created.clone())
        };
        let before = f
            .get("before")
            .first()
            .map(|n| reference_time(n))
            .transpose()?;
        let since_t = f
            .get("since")
            .first()
            .map(|n| reference_time(n))
            .transpose()?;
        let ancestors: Vec<String> = f
            .get("ancestor")
            .iter()
            .filter_map(|a| self.find_image(a).ok().map(|i| i.id.to_string()))
            .collect();
        let mut list: Vec<&ContainerRecord> = records
            .values()
            .filter(|r| {
                let status = r.state.status.as_str();
                let shown_all =
                    opts.all || !f.get("status").is_empty() || !f.get("exited").is_empty();
                (shown_all || r.state.status.is_live() || r.state.status == Status::Restarting)
                    && f.get("id").iter().all(|v| r.id.starts_with(v.as_str()))
                    && (f.get("name").is_empty()
                        || f.get("name")
                            .iter()
                            .any(|v| r.name.contains(v.trim_start_matches('/'))))
                    && (f.get("status").is_empty() || f.get("status").iter().any(|v| v == status))
                    && (f.get("exited").is_empty()
                        || (r.state.status == Status::Exited
                            && f.get("exited")
                                .iter()
                                .any(|v| v.parse::<i64>().ok() == Some(r.state.exit_code))))
                    && (f.get("ancestor").is_empty()
                        || ancestors.contains(&r.image_id)
                        || f.get("ancestor").contains(&r.image))
                    && before.as_ref().is_none_or(|b| r.created < *b)
                    && since_t.as_ref().is_none_or(|s| r.created > *s)
                    && (f.get("volume").is_empty()
                        || r.mounts.iter().any(|m| {
                            f.get("volume")
                                .iter()
                                .any(|v| *v == m.name || *v == m.destination)
                        }))
                    && (f.get("health").is_empty()
                        || f.get("health").iter().any(|v| {
                            r.state
                                .health
                                .as_ref()
                                .map(|h| h.status.as_str())
                                .unwrap_or("none")
                                == v
                        }))
                    && (f.get("network").is_empty()
                        || f.get("network").contains(&r.host_config.network_mode))
                    && matches_labels(r, f)
            })
            .collect();
        list.sort_by(|a, b| b.created.cmp(&a.created));
        if let Some(n) = opts.limit.filter(|n| *n > 0) {
            list.truncate(n);
        }
        let list: Vec<ContainerRecord> = list.into_iter().cloned().collect();
        let link_names = super::links::link_names(&records);
        drop(records);
        let tables = self.network_tables();
        Ok(list
            .iter()
            .map(|r| {
                let mut s = self.summary(r, opts.size, &tables);
                s.names
                    .extend(link_names.get(&r.name).into_iter().flatten().cloned());
                s
            })
            .collect())
    }

    fn summary(
        &self,
        r: &ContainerRecord,
        size: bool,
        tables: &crate::networks::endpoint::NetworkTables,
    ) -> ContainerSummary {
        let (size_rw, size_root_fs) = if size {
            self.container_sizes(r)
        } else {
            (None, None)
        };
        let (network, ports) = crate::networks::endpoint::network_view(r, tables);
        ContainerSummary {
            id: r.id.clone(),
            names: vec![format!("/{}", r.name)],
            image: r.image.clone(),
            image_id: r.image_id.clone(),
            command: command(r),
            created: crate::time::parse_rfc3339(&r.created)
                .map(crate::time::unix_seconds)
                .unwrap_or(0),
            ports,
            size_rw,
            size_root_fs,
            labels: super::create::labels(r),
            state: r.state.status.as_str().to_string(),
            status: status_text(r),
            host_config: SummaryHostConfig {
                network_mode: r.host_config.network_mode.clone(),
            },
            network_settings: SummaryNetworkSettings {
                networks: network.networks,
            },
            mounts: super::inspect::mount_points(r),
        }
    }

    /// `SizeRw` and `SizeRootFs`.
    pub fn container_sizes(&self, r: &ContainerRecord) -> (Option<i64>, Option<i64>) {
        let rw = self
            .snapshotter
            .usage(&r.snapshot)
            .map(|u| u.size as i64)
            .unwrap_or(0);
        let image = self
            .find_image(&r.image_id)
            .map(|i| i.size as i64)
            .unwrap_or(0);
        (Some(rw), Some(rw + image))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn durations_read_like_dockers() {
        assert_eq!(
            human_duration(Duration::from_millis(300)),
            "Less than a second"
        );
        assert_eq!(human_duration(Duration::from_secs(1)), "1 second");
        assert_eq!(human_duration(Duration::from_secs(59)), "59 seconds");
        assert_eq!(human_duration(Duration::from_secs(100)), "About a minute");
        assert_eq!(human_duration(Duration::from_secs(3 * 60)), "3 minutes");
        assert_eq!(human_duration(Duration::from_secs(3600)), "About an hour");
        assert_eq!(human_duration(Duration::from_secs(5 * 3600)), "5 hours");
        assert_eq!(human_duration(Duration::from_secs(3 * 86400)), "3 days");
    }
}
