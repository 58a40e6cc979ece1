//! `berth ps` / `berth container ls`: `GET /containers/json` with
//! `all`, `limit`, `size` and filters; docker's container formatter
//! (CONTAINER ID, IMAGE, COMMAND, CREATED, STATUS, PORTS, NAMES, SIZE),
//! `-q`, `--no-trunc`, `--format` (table, json, Go templates).

use serde::Deserialize;

use crate::app::{App, print};
use crate::cli::{PsArgs, Usage};
use crate::client::{Method, Request};
use crate::commands::image::row;
use crate::commands::{Filters, no_args};
use crate::error::CliError;
use crate::format::template::Value;
use crate::format::{self, time, units};

const DEFAULT_TABLE: &str =
    "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}";

/// Column titles.
pub const HEADER: &[(&str, &str)] = &[
    ("ID", "CONTAINER ID"),
    ("Image", "IMAGE"),
    ("Command", "COMMAND"),
    ("CreatedAt", "CREATED AT"),
    ("RunningFor", "CREATED"),
    ("Ports", "PORTS"),
    ("State", "STATE"),
    ("Status", "STATUS"),
    ("Size", "SIZE"),
    ("Names", "NAMES"),
    ("Labels", "LABELS"),
    ("Mounts", "MOUNTS"),
    ("LocalVolumes", "LOCAL VOLUMES"),
    ("Networks", "NETWORKS"),
    ("Platform", "PLATFORM"),
];

/// One port of a summary.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Port {
    /// Host address.
    #[serde(rename = "IP")]
    pub ip: String,
    /// Container port.
    pub private_port: u16,
    /// Host port.
    pub public_port: u16,
    /// tcp/udp/sctp.
    #[serde(rename = "Type")]
    pub kind: String,
}

/// One mount of a summary.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct MountPoint {
    /// Volume name.
    pub name: String,
    /// Host source.
    pub source: String,
    /// Volume driver.
    pub driver: String,
}

/// One entry of `GET /containers/json`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Summary {
    /// ID.
    pub id: String,
    /// Names with a leading slash.
    pub names: Option<Vec<String>>,
    /// Image as given.
    pub image: String,
    /// Image ID.
    #[serde(rename = "ImageID")]
    pub image_id: String,
    /// Command line.
    pub command: String,
    /// Unix time.
    pub created: i64,
    /// Ports.
    pub ports: Option<Vec<Port>>,
    /// Size of the writable layer.
    pub size_rw: i64,
    /// Size of the root filesystem.
    pub size_root_fs: i64,
    /// Labels.
    pub labels: Option<std::collections::BTreeMap<String, String>>,
    /// State (`running`, `exited`...).
    pub state: String,
    /// Status text (`Up 3 seconds`).
    pub status: String,
    /// Mounts.
    pub mounts: Option<Vec<MountPoint>>,
    /// Networks.
    pub network_settings: Option<Networks>,
}

/// `NetworkSettings` of a summary.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Networks {
    /// Network name -> endpoint.
    pub networks: Option<std::collections::BTreeMap<String, serde_json::Value>>,
}

/// docker's `DisplayablePorts`.
pub fn displayable_ports(ports: &[Port]) -> String {
    let mut ports = ports.to_vec();
    ports.sort_by(|i, j| {
        (i.private_port, &i.ip, i.public_port, &i.kind).cmp(&(
            j.private_port,
            &j.ip,
            j.public_port,
            &j.kind,
        ))
    });
    let form = |key: &str, first: u16, last: u16| -> String {
        let (ip, kind) = match key.split_once('/') {
            Some((ip, k)) => (ip, k),
            None => ("", key),
        };
        let mut g = first.to_string();
        if first != last {
            g = format!("{g}-{last}");
        }
        if !ip.is_empty() {
            g = format!("{ip}:{g}->{g}");
        }
        format!("{g}/{kind}")
    };
    let mut groups: Vec<(String, u16, u16)> = Vec::new();
    let mut result = Vec::new();
    let mut host = Vec::new();
    for p in &ports {
        let cur = p.private_port;
        let mut key = p.kind.clone();
        if !p.ip.is_empty() {
            if p.public_port != cur {
                let addr = if p.ip.contains(':') {
                    format!("[{}]:{}", p.ip, p.public_port)
                } else {
                    format!("{}:{}", p.ip, p.public_port)
                };
                host.push(format!("{addr}->{}/{}", p.private_port, p.kind));
                continue;
            }
            key = format!("{}/{}", p.ip, p.kind);
        }
        match groups.iter_mut().find(|g| g.0 == key) {
            None => groups.push((key, cur, cur)),
            Some(g) => {
                if cur == g.2.wrapping_add(1) {
                    g.2 = cur;
                } else {
                    result.push(form(&g.0, g.1, g.2));
                    g.1 = cur;
                    g.2 = cur;
                }
            }
        }
    }
    for g in &groups {
        result.push(form(&g.0, g.1, g.2));
    }
    result.extend(host);
    result.join(", ")
}

/// Go's `strconv.Quote` for the text docker puts in COMMAND.
fn go_quote(s: &str) -> String {
    serde_json::to_string(s)
        .unwrap_or_default()
        .replace("\\u003c", "<")
}

fn row_value(c: &Summary, trunc: bool) -> Value {
    let id = if trunc {
        format::truncate_id(&c.id)
    } else {
        c.id.clone()
    };
    let mut names: Vec<String> = c
        .names
        .clone()
        .unwrap_or_default()
        .iter()
        .map(|n| n.trim_start_matches('/').to_string())
        .collect();
    if trunc && let Some(n) = names.iter().find(|n| !n.contains('/')).cloned() {
        names = vec![n];
    }
    let mut image = c.image.clone();
    if trunc {
        if format::truncate_id(&c.image_id) == format::truncate_id(&image) {
            image = format::truncate_id(&image);
        } else if let Some((name, _)) = image.split_once('@') {
            image = name.to_string();
        }
    }
    let command = if trunc {
        format::ellipsis(&c.command, 20)
    } else {
        c.command.clone()
    };
    let srw = units::human_size_with_precision(c.size_rw as f64, 3);
    let size = if c.size_root_fs > 0 {
        format!(
            "{srw} (virtual {})",
            units::human_size_with_precision(c.size_root_fs as f64, 3)
        )
    } else {
        srw
    };
    let labels: Vec<String> = c
        .labels
        .clone()
        .unwrap_or_default()
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let mounts = c.mounts.clone().unwrap_or_default();
    let mount_names: Vec<String> = mounts
        .iter()
        .map(|m| {
            let n = if m.name.is_empty() {
                m.source.clone()
            } else {
                m.name.clone()
            };
            if trunc { format::ellipsis(&n, 15) } else { n }
        })
        .collect();
    let local = mounts.iter().filter(|m| m.driver == "local").count();
    let networks: Vec<String> = c
        .network_settings
        .as_ref()
        .and_then(|n| n.networks.as_ref())
        .map(|n| n.keys().cloned().collect())
        .unwrap_or_default();
    row("*container.ContainerContext")
        .field("Command", go_quote(&command))
        .field("CreatedAt", time::go_string(c.created, 0))
        .field("ID", id)
        .field("Image", image)
        .field("Labels", labels.join(","))
        .field("LocalVolumes", local.to_string())
        .field("Mounts", mount_names.join(","))
        .field("Names", names.join(","))
        .field("Networks", networks.join(","))
        .field(
            "Platform",
            Value::Nil(crate::format::template::NilKind::Pointer),
        )
        .field(
            "Ports",
            displayable_ports(&c.ports.clone().unwrap_or_default()),
        )
        .field(
            "RunningFor",
            units::human_duration(time::seconds_since(c.created, 0)) + " ago",
        )
        .field("Size", size)
        .field("State", c.state.clone())
        .field("Status", c.status.clone())
        .into()
}

/// Run `ps`.
pub fn run(app: &App, a: &PsArgs, u: Usage) -> Result<(), CliError> {
    no_args(u, &a.args)?;
    let filters = Filters::parse(u, "-f, --filter", &a.filter)?;
    let format_flag = match &a.format {
        Some(f) if !f.is_empty() => f.clone(),
        _ => {
            let cfg = app.config().ok();
            match cfg.as_ref().and_then(|c| c.string("psFormat")) {
                Some(f) if !a.quiet => f.to_string(),
                _ => format::TABLE.to_string(),
            }
        }
    };
    let fmt = if a.quiet && (format_flag == format::TABLE || a.format.is_none()) {
        "{{.ID}}".to_string()
    } else if format_flag == format::TABLE {
        if a.size {
            format!("{DEFAULT_TABLE}\t{{{{.Size}}}}")
        } else {
            DEFAULT_TABLE.to_string()
        }
    } else {
        format_flag.clone()
    };
    let size = a.size || (!a.quiet && fmt.contains(".Size"));
    let mut limit = a.last.unwrap_or(-1);
    if a.latest {
        limit = 1;
    }
    let all = a.all || limit > 0;
    let client = app.client()?;
    let req = Request::new(Method::Get, "/containers/json")
        .query_if(all, "all", "1")
        .query_if(limit > 0, "limit", limit.to_string())
        .query_if(size, "size", "1")
        .query_if(!filters.is_empty(), "filters", filters.to_query());
    let list: Vec<Summary> = client.send(req)?.json()?;
    let rows: Vec<Value> = list.iter().map(|c| row_value(c, !a.no_trunc)).collect();
    print(&format::write_rows(&fmt, HEADER, &rows)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(ip: &str, private: u16, public: u16) -> Port {
        Port {
            ip: ip.into(),
            private_port: private,
            public_port: public,
            kind: "tcp".into(),
        }
    }

    #[test]
    fn ports_like_docker() {
        assert_eq!(displayable_ports(&[p("", 80, 0)]), "80/tcp");
        assert_eq!(
            displayable_ports(&[p("", 80, 0), p("", 81, 0), p("", 83, 0)]),
            "80-81/tcp, 83/tcp"
        );
        assert_eq!(
            displayable_ports(&[p("0.0.0.0", 80, 8080)]),
            "0.0.0.0:8080->80/tcp"
        );
        assert_eq!(
            displayable_ports(&[p("0.0.0.0", 80, 80)]),
            "0.0.0.0:80->80/tcp"
        );
    }

    #[test]
    fn table_rows() {
        let c = Summary {
            id: "0123456789abcdef0123".into(),
            names: Some(vec!["/web".into()]),
            image: "busybox".into(),
            command: "sh -c 'sleep 1000; echo done'".into(),
            created: time::now().0 - 7200,
            state: "running".into(),
            status: "Up 2 hours".into(),
            ..Summary::default()
        };
        let out = format::write_rows(DEFAULT_TABLE, HEADER, &[row_value(&c, true)]).unwrap();
        assert_eq!(
            out,
            "CONTAINER ID   IMAGE     COMMAND                  CREATED       STATUS       PORTS     NAMES\n\
             0123456789ab   busybox   \"sh -c 'sleep 1000; …\"   2 hours ago   Up 2 hours             web\n"
        );
    }
}
