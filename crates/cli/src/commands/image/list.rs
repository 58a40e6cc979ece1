//! `berth images` / `berth image ls`: `GET /images/json`, one row per
//! repository:tag (and per digest with `--digests`), docker's table, `-q`,
//! `--no-trunc`, `--filter`, `--format`.

use serde::Deserialize;

use super::row;
use crate::app::{App, print};
use crate::cli::{ImagesArgs, Usage};
use crate::client::{Method, Request};
use crate::commands::{Filters, max_args};
use crate::error::CliError;
use crate::format::template::Value;
use crate::format::{self, time, units};
use crate::reference::Reference;

const DEFAULT_TABLE: &str = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}";
const DEFAULT_TABLE_DIGEST: &str = "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}";
const RAW: &str = "repository: {{ .Repository }}\ntag: {{.Tag}}\nimage_id: {{.ID}}\ncreated_at: {{.CreatedAt}}\nvirtual_size: {{.Size}}\n";
const RAW_DIGEST: &str = "repository: {{ .Repository }}\ntag: {{.Tag}}\ndigest: {{.Digest}}\nimage_id: {{.ID}}\ncreated_at: {{.CreatedAt}}\nvirtual_size: {{.Size}}\n";

/// Column titles.
pub const HEADER: &[(&str, &str)] = &[
    ("ID", "IMAGE ID"),
    ("Repository", "REPOSITORY"),
    ("Tag", "TAG"),
    ("Digest", "DIGEST"),
    ("CreatedSince", "CREATED"),
    ("CreatedAt", "CREATED AT"),
    ("Size", "SIZE"),
    ("Containers", "CONTAINERS"),
    ("VirtualSize", "SIZE"),
    ("SharedSize", "SHARED SIZE"),
    ("UniqueSize", "UNIQUE SIZE"),
];

/// One entry of `GET /images/json`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ImageSummary {
    /// Image ID.
    pub id: String,
    /// `repo:tag` references.
    pub repo_tags: Option<Vec<String>>,
    /// `repo@digest` references.
    pub repo_digests: Option<Vec<String>>,
    /// Unix time.
    pub created: i64,
    /// Bytes.
    pub size: i64,
    /// Bytes shared with other images, -1 when not computed.
    pub shared_size: i64,
    /// Containers using the image, -1 when not computed.
    pub containers: i64,
}

/// docker's `NewImageFormat`.
fn image_format(source: &str, quiet: bool, digest: bool) -> String {
    match source {
        format::TABLE => {
            if quiet {
                "{{.ID}}".into()
            } else if digest {
                DEFAULT_TABLE_DIGEST.into()
            } else {
                DEFAULT_TABLE.into()
            }
        }
        "raw" => {
            if quiet {
                "image_id: {{.ID}}".into()
            } else if digest {
                RAW_DIGEST.into()
            } else {
                RAW.into()
            }
        }
        other => {
            let mut f = other.to_string();
            if format::is_table(&f) && digest && !f.contains("{{.Digest}}") {
                f.push_str("\t{{.Digest}}");
            }
            f
        }
    }
}

fn is_dangling(img: &ImageSummary) -> bool {
    let tags = img.repo_tags.as_deref().unwrap_or_default();
    let digests = img.repo_digests.as_deref().unwrap_or_default();
    (tags.is_empty() && digests.is_empty())
        || (tags == ["<none>:<none>"] && digests == ["<none>@<none>"])
}

/// The rows docker shows for one image: (repository, tag, digest).
fn rows_of(
    img: &ImageSummary,
    show_digest: bool,
    need_digest: bool,
) -> Vec<(String, String, String)> {
    if is_dangling(img) {
        return vec![("<none>".into(), "<none>".into(), "<none>".into())];
    }
    // repo -> tags / digests, in order of first appearance (docker uses
    // Go maps here, so its order varies from run to run)
    let mut tags: Vec<(String, Vec<String>)> = Vec::new();
    let mut digests: Vec<(String, Vec<String>)> = Vec::new();
    let push = |v: &mut Vec<(String, Vec<String>)>, k: String, x: String| match v
        .iter_mut()
        .find(|(key, _)| *key == k)
    {
        Some((_, xs)) => xs.push(x),
        None => v.push((k, vec![x])),
    };
    for r in img.repo_tags.as_deref().unwrap_or_default() {
        if let Ok(p) = Reference::parse_normalized(r)
            && let Some(t) = &p.tag
        {
            push(&mut tags, p.familiar_name(), t.clone());
        }
    }
    for r in img.repo_digests.as_deref().unwrap_or_default() {
        if let Ok(p) = Reference::parse_normalized(r)
            && let Some(d) = &p.digest
        {
            push(&mut digests, p.familiar_name(), d.clone());
        }
    }
    let mut out = Vec::new();
    for (repo, ts) in &tags {
        let ds = match digests.iter().position(|(k, _)| k == repo) {
            Some(i) => digests.remove(i).1,
            None => Vec::new(),
        };
        let ds = if need_digest { ds } else { Vec::new() };
        for t in ts {
            if ds.is_empty() {
                out.push((repo.clone(), t.clone(), "<none>".into()));
            } else {
                for d in &ds {
                    out.push((repo.clone(), t.clone(), d.clone()));
                }
            }
        }
    }
    for (repo, ds) in digests {
        if show_digest {
            for d in ds {
                out.push((repo.clone(), "<none>".into(), d));
            }
        } else {
            out.push((repo, "<none>".into(), String::new()));
        }
    }
    out
}

/// The formatter context of one row.
fn row_value(img: &ImageSummary, repo: &str, tag: &str, digest: &str, trunc: bool) -> Value {
    let id = if trunc {
        format::truncate_id(&img.id)
    } else {
        img.id.clone()
    };
    let since = units::human_duration(time::seconds_since(img.created, 0)) + " ago";
    let na_or = |v: i64, f: &dyn Fn() -> String| if v == -1 { "N/A".to_string() } else { f() };
    let unique = if img.size == -1 || img.shared_size == -1 {
        "N/A".to_string()
    } else {
        units::human_size((img.size - img.shared_size) as f64)
    };
    // fields in alphabetical order: docker's JSON is a map of its methods
    row("*formatter.imageContext")
        .field(
            "Containers",
            na_or(img.containers, &|| img.containers.to_string()),
        )
        .field("CreatedAt", time::go_string(img.created, 0))
        .field("CreatedSince", since)
        .field("Digest", digest)
        .field("ID", id)
        .field("Repository", repo)
        .field(
            "SharedSize",
            na_or(img.shared_size, &|| {
                units::human_size(img.shared_size as f64)
            }),
        )
        .field("Size", units::human_size_with_precision(img.size as f64, 3))
        .field("Tag", tag)
        .field("UniqueSize", unique)
        .field("VirtualSize", units::human_size(img.size as f64))
        .into()
}

/// Render images as `images` prints them.
pub fn render(
    images: &[ImageSummary],
    format_flag: &str,
    quiet: bool,
    digests: bool,
    trunc: bool,
) -> Result<String, CliError> {
    let fmt = image_format(format_flag, quiet, digests);
    let need_digest = digests || fmt.contains("{{.Digest}}");
    let mut rows = Vec::new();
    for img in images {
        for (repo, tag, digest) in rows_of(img, digests, need_digest) {
            rows.push(row_value(img, &repo, &tag, &digest, trunc));
        }
    }
    Ok(format::write_rows(&fmt, HEADER, &rows)?)
}

/// Run `images` (`top_level`: called as `berth images`).
pub fn run(app: &App, a: &ImagesArgs, u: Usage, top_level: bool) -> Result<(), CliError> {
    max_args(u, &a.args, 1)?;
    if a.tree {
        return Err(CliError::Usage("berth: --tree is not supported".into()));
    }
    let mut filters = Filters::parse(u, "-f, --filter", &a.filter)?;
    let match_name = a.args.first().cloned();
    if let Some(m) = &match_name {
        filters.add("reference", m);
    }
    let client = app.client()?;
    let req = Request::new(Method::Get, "/images/json")
        .query_if(!filters.is_empty(), "filters", filters.to_query())
        .query_if(a.all, "all", "1");
    let images: Vec<ImageSummary> = client.send(req)?.json()?;
    let format_flag = match &a.format {
        Some(f) if !f.is_empty() => f.clone(),
        _ => {
            let cfg = app.config().ok();
            match cfg.as_ref().and_then(|c| c.string("imagesFormat")) {
                Some(f) if !a.quiet => f.to_string(),
                _ => format::TABLE.to_string(),
            }
        }
    };
    print(&render(
        &images,
        &format_flag,
        a.quiet,
        a.digests,
        !a.no_trunc,
    )?)?;
    if let Some(m) = &match_name
        && images.is_empty()
        && top_level
        && [
            "build", "history", "import", "inspect", "list", "load", "ls", "prune", "pull", "push",
            "rm", "save", "tag",
        ]
        .contains(&m.as_str())
    {
        eprintln!("\nNo images found matching {m:?}: did you mean \"berth image {m}\"?");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn img(tags: &[&str], digests: &[&str]) -> ImageSummary {
        ImageSummary {
            id: "sha256:eb9f4d4b89150af0451f7b540cdb68859e867c96f70ef13bc11bac2d9d5ad47d".into(),
            repo_tags: Some(tags.iter().map(|s| s.to_string()).collect()),
            repo_digests: Some(digests.iter().map(|s| s.to_string()).collect()),
            created: time::now().0 - 3 * 86400,
            size: 1_982_000,
            shared_size: -1,
            containers: -1,
        }
    }

    const D: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

    #[test]
    fn table_rows_like_docker() {
        let images = vec![
            img(
                &["busybox:latest", "busybox:1", "localhost:5000/bb:x"],
                &[&format!("busybox@{D}")],
            ),
            img(&[], &[]),
        ];
        let out = render(&images, "table", false, false, true).unwrap();
        assert_eq!(
            out,
            "REPOSITORY          TAG       IMAGE ID       CREATED      SIZE\n\
             busybox             latest    eb9f4d4b8915   3 days ago   1.98MB\n\
             busybox             1         eb9f4d4b8915   3 days ago   1.98MB\n\
             localhost:5000/bb   x         eb9f4d4b8915   3 days ago   1.98MB\n\
             <none>              <none>    eb9f4d4b8915   3 days ago   1.98MB\n"
        );
        let out = render(&images, "table", false, true, true).unwrap();
        assert!(
            out.starts_with("REPOSITORY          TAG       DIGEST"),
            "{out}"
        );
        assert!(
            out.contains(&format!("busybox             latest    {D}")),
            "{out}"
        );
        let out = render(&images, "table", true, false, false).unwrap();
        assert_eq!(out.lines().count(), 4);
        assert!(out.lines().all(|l| l.starts_with("sha256:eb9f")));
    }

    #[test]
    fn digest_only_rows() {
        let images = vec![img(&[], &[&format!("busybox@{D}")])];
        // docker: a digest-only row has an empty digest unless --digests
        let out = render(
            &images,
            "{{.Repository}}|{{.Tag}}|{{.Digest}}",
            false,
            false,
            true,
        )
        .unwrap();
        assert_eq!(out, "busybox|<none>|\n");
        let out = render(
            &images,
            "{{.Repository}}|{{.Tag}}|{{.Digest}}",
            false,
            true,
            true,
        )
        .unwrap();
        assert_eq!(out, format!("busybox|<none>|{D}\n"));
        let out = render(&images, "{{.Repository}}|{{.Tag}}", false, false, true).unwrap();
        assert_eq!(out, "busybox|<none>\n");
    }

    #[test]
    fn json_rows() {
        let images = vec![img(&["busybox:latest"], &[])];
        let out = render(&images, "json", false, false, true).unwrap();
        assert!(
            out.starts_with("{\"Containers\":\"N/A\",\"CreatedAt\":\""),
            "{out}"
        );
        assert!(out.contains("\"Digest\":\"\\u003cnone\\u003e\",\"ID\":\"eb9f4d4b8915\",\"Repository\":\"busybox\",\"SharedSize\":\"N/A\",\"Size\":\"1.98MB\",\"Tag\":\"latest\",\"UniqueSize\":\"N/A\",\"VirtualSize\":\"1.982MB\"}"), "{out}");
    }
}
