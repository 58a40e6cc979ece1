//! `berth system df`: `GET /system/df` summarised per type (images,
//! containers, local volumes, build cache) in docker's table, or `-v` for
//! the detail of each, or `--format`.

use crate::app::{App, print};
use crate::cli::{DfArgs, Usage};
use crate::client::{Method, Request};
use crate::commands::image::list::ImageSummary;
use crate::commands::image::row;
use crate::commands::no_args;
use crate::error::CliError;
use crate::format::json::Json;
use crate::format::template::{Struct, Value};
use crate::format::{self, time, units};
use crate::reference::Reference;

const DEFAULT_TABLE: &str =
    "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}";
const RAW: &str = "type: {{.Type}}\ntotal: {{.TotalCount}}\nactive: {{.Active}}\nsize: {{.Size}}\nreclaimable: {{.Reclaimable}}\n";
const HEADER: &[(&str, &str)] = &[
    ("Type", "TYPE"),
    ("TotalCount", "TOTAL"),
    ("Active", "ACTIVE"),
    ("Size", "SIZE"),
    ("Reclaimable", "RECLAIMABLE"),
];

const IMAGE_TABLE: &str = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}";
const CONTAINER_TABLE: &str = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}";
const CONTAINER_HEADER: &[(&str, &str)] = &[
    ("ID", "CONTAINER ID"),
    ("Image", "IMAGE"),
    ("Command", "COMMAND"),
    ("LocalVolumes", "LOCAL VOLUMES"),
    ("Size", "SIZE"),
    ("RunningFor", "CREATED"),
    ("Status", "STATUS"),
    ("Names", "NAMES"),
];
const VOLUME_TABLE: &str = "table {{.Name}}\t{{.Links}}\t{{.Size}}";
const VOLUME_HEADER: &[(&str, &str)] = &[
    ("Name", "VOLUME NAME"),
    ("Links", "LINKS"),
    ("Size", "SIZE"),
];
const CACHE_TABLE: &str = "table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}";
const CACHE_HEADER: &[(&str, &str)] = &[
    ("ID", "CACHE ID"),
    ("CacheType", "CACHE TYPE"),
    ("Size", "SIZE"),
    ("CreatedSince", "CREATED"),
    ("LastUsedSince", "LAST USED"),
    ("UsageCount", "USAGE"),
    ("Shared", "SHARED"),
];

fn list(j: &Json, k: &str) -> Vec<Json> {
    j.get(k)
        .and_then(Json::as_array)
        .map(<[Json]>::to_vec)
        .unwrap_or_default()
}

fn n(j: &Json, k: &str) -> i64 {
    j.get(k).and_then(Json::as_i64).unwrap_or(0)
}

fn s(j: &Json, k: &str) -> String {
    j.get(k).and_then(Json::as_str).unwrap_or("").to_string()
}

fn b(j: &Json, k: &str) -> bool {
    matches!(j.get(k), Some(Json::Bool(true)))
}

fn with_percent(reclaimable: i64, total: i64) -> String {
    if total > 0 {
        format!(
            "{} ({}%)",
            units::human_size(reclaimable as f64),
            reclaimable * 100 / total
        )
    } else {
        units::human_size(reclaimable as f64)
    }
}

fn active_container(c: &Json) -> bool {
    matches!(s(c, "State").as_str(), "running" | "paused" | "restarting")
}

fn summary_row(
    kind: &str,
    total: usize,
    active: usize,
    size: String,
    reclaimable: String,
) -> Value {
    row("*formatter.diskUsageContext")
        .field("Active", active.to_string())
        .field("Reclaimable", reclaimable)
        .field("Size", size)
        .field("TotalCount", total.to_string())
        .field("Type", kind)
        .into()
}

/// The four summary rows.
fn summary(du: &Json) -> Vec<Value> {
    let images = list(du, "Images");
    let layers = n(du, "LayersSize");
    let used: i64 = images
        .iter()
        .filter(|i| n(i, "Containers") != 0 && n(i, "Size") != -1 && n(i, "SharedSize") != -1)
        .map(|i| n(i, "Size") - n(i, "SharedSize"))
        .sum();
    let containers = list(du, "Containers");
    let c_total: i64 = containers.iter().map(|c| n(c, "SizeRw")).sum();
    let c_recl: i64 = containers
        .iter()
        .filter(|c| !active_container(c))
        .map(|c| n(c, "SizeRw"))
        .sum();
    let volumes = list(du, "Volumes");
    let usage = |v: &Json, k: &str| v.get("UsageData").map_or(0, |u| n(u, k));
    let v_sizes: Vec<(i64, i64)> = volumes
        .iter()
        .map(|v| (usage(v, "Size"), usage(v, "RefCount")))
        .collect();
    let v_total: i64 = v_sizes
        .iter()
        .filter(|(s, _)| *s != -1)
        .map(|(s, _)| s)
        .sum();
    let v_recl: i64 = v_sizes
        .iter()
        .filter(|(s, r)| *s != -1 && *r == 0)
        .map(|(s, _)| s)
        .sum();
    let cache = list(du, "BuildCache");
    let builder: i64 = cache
        .iter()
        .filter(|c| !b(c, "Shared"))
        .map(|c| n(c, "Size"))
        .sum();
    let in_use: i64 = cache
        .iter()
        .filter(|c| b(c, "InUse") && !b(c, "Shared"))
        .map(|c| n(c, "Size"))
        .sum();
    vec![
        summary_row(
            "Images",
            images.len(),
            images.iter().filter(|i| n(i, "Containers") > 0).count(),
            units::human_size(layers as f64),
            with_percent(layers - used, layers),
        ),
        summary_row(
            "Containers",
            containers.len(),
            containers.iter().filter(|c| active_container(c)).count(),
            units::human_size(c_total as f64),
            with_percent(c_recl, c_total),
        ),
        summary_row(
            "Local Volumes",
            volumes.len(),
            v_sizes.iter().filter(|(_, r)| *r > 0).count(),
            units::human_size(v_total as f64),
            with_percent(v_recl, v_total),
        ),
        summary_row(
            "Build Cache",
            cache.len(),
            cache.iter().filter(|c| b(c, "InUse")).count(),
            units::human_size(builder as f64),
            units::human_size((builder - in_use) as f64),
        ),
    ]
}

fn image_rows(du: &Json, trunc: bool) -> Vec<Value> {
    list(du, "Images")
        .iter()
        .map(|i| {
            let img: ImageSummary = serde_json::from_str(&i.to_compact(false)).unwrap_or_default();
            let (mut repo, mut tag) = ("<none>".to_string(), "<none>".to_string());
            let tags = img.repo_tags.clone().unwrap_or_default();
            if let Some(first) = tags.first()
                && first != "<none>:<none>"
                && let Ok(r) = Reference::parse_normalized(first)
                && let Some(t) = r.tag.clone()
            {
                repo = r.familiar_name();
                tag = t;
            }
            let id = if trunc {
                format::truncate_id(&img.id)
            } else {
                img.id.clone()
            };
            let na = |v: i64, t: String| if v == -1 { "N/A".to_string() } else { t };
            row("*formatter.imageContext")
                .field("Containers", na(img.containers, img.containers.to_string()))
                .field("CreatedAt", time::go_string(img.created, 0))
                .field(
                    "CreatedSince",
                    units::human_duration(time::seconds_since(img.created, 0)) + " ago",
                )
                .field("Digest", "")
                .field("ID", id)
                .field("Repository", repo)
                .field(
                    "SharedSize",
                    na(img.shared_size, units::human_size(img.shared_size as f64)),
                )
                .field("Size", units::human_size_with_precision(img.size as f64, 3))
                .field("Tag", tag)
                .field(
                    "UniqueSize",
                    if img.size == -1 || img.shared_size == -1 {
                        "N/A".into()
                    } else {
                        units::human_size((img.size - img.shared_size) as f64)
                    },
                )
                .field("VirtualSize", units::human_size(img.size as f64))
                .into()
        })
        .collect()
}

fn container_rows(du: &Json, trunc: bool) -> Vec<Value> {
    list(du, "Containers")
        .iter()
        .map(|c| {
            let id = s(c, "Id");
            let command = format!("{:?}", s(c, "Command"));
            let names: Vec<String> = c
                .get("Names")
                .and_then(Json::as_array)
                .unwrap_or_default()
                .iter()
                .filter_map(|x| x.as_str().map(|n| n.trim_start_matches('/').to_string()))
                .filter(|n| !trunc || !n.contains('/'))
                .collect();
            let volumes = c
                .get("Mounts")
                .and_then(Json::as_array)
                .unwrap_or_default()
                .iter()
                .filter(|m| s(m, "Type") == "volume")
                .count();
            row("*formatter.ContainerContext")
                .field(
                    "Command",
                    if trunc {
                        format::ellipsis(&command, 20)
                    } else {
                        command
                    },
                )
                .field("ID", if trunc { format::truncate_id(&id) } else { id })
                .field("Image", s(c, "Image"))
                .field("LocalVolumes", volumes.to_string())
                .field("Names", names.join(","))
                .field(
                    "RunningFor",
                    units::human_duration(time::seconds_since(n(c, "Created"), 0)) + " ago",
                )
                .field(
                    "Size",
                    units::human_size_with_precision(n(c, "SizeRw") as f64, 3),
                )
                .field("Status", s(c, "Status"))
                .into()
        })
        .collect()
}

fn volume_rows(du: &Json) -> Vec<Value> {
    list(du, "Volumes")
        .iter()
        .map(|v| {
            let (links, size) = match v.get("UsageData") {
                Some(u @ Json::Object(_)) => (
                    n(u, "RefCount").to_string(),
                    units::human_size(n(u, "Size") as f64),
                ),
                _ => ("N/A".into(), "N/A".into()),
            };
            row("*formatter.volumeContext")
                .field("Driver", s(v, "Driver"))
                .field("Links", links)
                .field("Mountpoint", s(v, "Mountpoint"))
                .field("Name", s(v, "Name"))
                .field("Scope", s(v, "Scope"))
                .field("Size", size)
                .into()
        })
        .collect()
}

fn cache_rows(du: &Json, trunc: bool) -> Vec<Value> {
    list(du, "BuildCache")
        .iter()
        .map(|c| {
            let id = s(c, "ID");
            let id = if trunc {
                id.chars().take(12).collect()
            } else {
                id
            };
            let ago = |k: &str| {
                time::parse_rfc3339(&s(c, k))
                    .map(|(sec, ns)| units::human_duration(time::seconds_since(sec, ns)) + " ago")
                    .unwrap_or_default()
            };
            row("*formatter.buildCacheContext")
                .field("CacheType", s(c, "Type"))
                .field("CreatedSince", ago("CreatedAt"))
                .field("ID", if b(c, "InUse") { format!("{id}*") } else { id })
                .field("LastUsedSince", ago("LastUsedAt"))
                .field("Shared", b(c, "Shared").to_string())
                .field(
                    "Size",
                    units::human_size_with_precision(n(c, "Size") as f64, 3),
                )
                .field("UsageCount", n(c, "UsageCount").to_string())
                .into()
        })
        .collect()
}

/// Render `du` as `system df` prints it.
pub fn render(du: &Json, format_flag: &str, verbose: bool) -> Result<String, CliError> {
    if !verbose {
        let fmt = match format_flag {
            format::TABLE => DEFAULT_TABLE,
            "raw" => RAW,
            f => f,
        };
        return Ok(format::write_rows(fmt, HEADER, &summary(du))?);
    }
    if format_flag == format::TABLE {
        let mut out = String::from("Images space usage:\n\n");
        out.push_str(&format::write_rows(
            IMAGE_TABLE,
            crate::commands::image::list::HEADER,
            &image_rows(du, true),
        )?);
        out.push_str("\nContainers space usage:\n\n");
        out.push_str(&format::write_rows(
            CONTAINER_TABLE,
            CONTAINER_HEADER,
            &container_rows(du, true),
        )?);
        out.push_str("\nLocal Volumes space usage:\n\n");
        out.push_str(&format::write_rows(
            VOLUME_TABLE,
            VOLUME_HEADER,
            &volume_rows(du),
        )?);
        let builder: i64 = list(du, "BuildCache")
            .iter()
            .filter(|c| !b(c, "Shared"))
            .map(|c| n(c, "Size"))
            .sum();
        out.push_str(&format!(
            "\nBuild cache usage: {}\n\n",
            units::human_size(builder as f64)
        ));
        out.push_str(&format::write_rows(
            CACHE_TABLE,
            CACHE_HEADER,
            &cache_rows(du, true),
        )?);
        return Ok(out);
    }
    // a custom template over the four lists
    let trunc = format::is_table(format_flag);
    let data = Value::from(
        Struct::new("*formatter.diskUsageContext")
            .field("Images", Value::List(image_rows(du, trunc)))
            .field("Containers", Value::List(container_rows(du, trunc)))
            .field("Volumes", Value::List(volume_rows(du)))
            .field("BuildCache", Value::List(cache_rows(du, trunc))),
    );
    let fmt = if format_flag == "json" {
        "{{json .}}"
    } else {
        format_flag
    };
    let fmt = fmt
        .trim_matches(' ')
        .replace("\\t", "\t")
        .replace("\\n", "\n");
    let t = crate::format::template::Template::parse(&fmt)
        .map_err(|e| CliError::Format(format::FormatError::Template(e)))?;
    t.render(&data)
        .map_err(|e| CliError::Format(format::FormatError::Template(e)))
}

/// Run `system df`.
pub fn run(app: &App, a: &DfArgs, u: Usage) -> Result<(), CliError> {
    no_args(u, &a.args)?;
    let client = app.client()?;
    let raw = client
        .send(Request::new(Method::Get, "/system/df"))?
        .bytes()?;
    let du = Json::parse(&raw)
        .map_err(|e| CliError::Usage(format!("invalid /system/df answer: {e}")))?;
    let fmt = a
        .format
        .clone()
        .filter(|f| !f.is_empty())
        .unwrap_or_else(|| format::TABLE.into());
    print(&render(&du, &fmt, a.verbose)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DU: &[u8] = br#"{"LayersSize":1982000,"Images":[{"Id":"sha256:eb9f4d4b89150af0451f7b540cdb68859e867c96f70ef13bc11bac2d9d5ad47d","RepoTags":["busybox:latest"],"Created":1,"Size":1982000,"SharedSize":-1,"Containers":0}],"Containers":[],"Volumes":[],"BuildCache":[]}"#;

    #[test]
    fn summary_table() {
        let du = Json::parse(DU).unwrap();
        assert_eq!(
            render(&du, "table", false).unwrap(),
            "TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE\n\
             Images          1         0         1.982MB   1.982MB (100%)\n\
             Containers      0         0         0B        0B\n\
             Local Volumes   0         0         0B        0B\n\
             Build Cache     0         0         0B        0B\n"
        );
        let j = render(&du, "json", false).unwrap();
        assert_eq!(
            j.lines().next(),
            Some(
                r#"{"Active":"0","Reclaimable":"1.982MB (100%)","Size":"1.982MB","TotalCount":"1","Type":"Images"}"#
            )
        );
    }

    #[test]
    fn verbose_table() {
        let du = Json::parse(DU).unwrap();
        let out = render(&du, "table", true).unwrap();
        assert!(
            out.starts_with("Images space usage:\n\nREPOSITORY   TAG       IMAGE ID       CREATED"),
            "{out}"
        );
        assert!(out.contains("\nContainers space usage:\n\nCONTAINER ID   IMAGE     COMMAND   LOCAL VOLUMES   SIZE      CREATED   STATUS    NAMES\n"), "{out}");
        assert!(out.contains("\nBuild cache usage: 0B\n\nCACHE ID   CACHE TYPE   SIZE      CREATED   LAST USED   USAGE     SHARED\n"), "{out}");
    }
}
