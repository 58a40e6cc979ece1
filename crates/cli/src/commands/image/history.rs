//! `berth history`: `GET /images/{name}/history`, docker's table (human
//! sizes and ages, or exact ones with `-H=false`), `-q`, `--no-trunc`,
//! `--format`.

use serde::Deserialize;

use super::row;
use crate::app::{App, print};
use crate::cli::{HistoryArgs, Usage};
use crate::client::{Method, Request, path_escape};
use crate::commands::exact_args;
use crate::error::CliError;
use crate::format::template::Value;
use crate::format::{self, time, units};

const DEFAULT_TABLE: &str =
    "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}";
const NON_HUMAN_TABLE: &str =
    "table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}";

const HEADER: &[(&str, &str)] = &[
    ("ID", "IMAGE"),
    ("CreatedSince", "CREATED"),
    ("CreatedAt", "CREATED AT"),
    ("CreatedBy", "CREATED BY"),
    ("Size", "SIZE"),
    ("Comment", "COMMENT"),
];

/// 2000-01-01: older creation dates are shown as N/A.
const EPOCH_2000: i64 = 946_684_800;

/// One entry of `GET /images/{name}/history`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HistoryItem {
    /// Layer image ID or `<missing>`.
    pub id: String,
    /// Unix time.
    pub created: i64,
    /// The instruction.
    pub created_by: String,
    /// Bytes.
    pub size: i64,
    /// Comment.
    pub comment: String,
}

fn row_value(h: &HistoryItem, trunc: bool, human: bool) -> Value {
    let created_at = time::rfc3339(h.created);
    let since = if !human {
        created_at.clone()
    } else if h.created <= EPOCH_2000 {
        "N/A".to_string()
    } else {
        units::human_duration(time::seconds_since(h.created, 0)) + " ago"
    };
    let by = h.created_by.replace('\t', " ");
    let by = if trunc { format::ellipsis(&by, 45) } else { by };
    let size = if human {
        units::human_size_with_precision(h.size as f64, 3)
    } else {
        h.size.to_string()
    };
    let id = if trunc {
        format::truncate_id(&h.id)
    } else {
        h.id.clone()
    };
    row("*image.historyContext")
        .field("Comment", h.comment.clone())
        .field("CreatedAt", created_at)
        .field("CreatedBy", by)
        .field("CreatedSince", since)
        .field("ID", id)
        .field("Size", size)
        .into()
}

/// Render history items as `history` prints them.
pub fn render(
    items: &[HistoryItem],
    format_flag: &str,
    quiet: bool,
    human: bool,
    trunc: bool,
) -> Result<String, CliError> {
    let fmt = if format_flag == format::TABLE {
        if quiet {
            "{{.ID}}"
        } else if !human {
            NON_HUMAN_TABLE
        } else {
            DEFAULT_TABLE
        }
    } else {
        format_flag
    };
    let rows: Vec<Value> = items.iter().map(|h| row_value(h, trunc, human)).collect();
    Ok(format::write_rows(fmt, HEADER, &rows)?)
}

/// Run `history`.
pub fn run(app: &App, a: &HistoryArgs, u: Usage) -> Result<(), CliError> {
    exact_args(u, &a.args, 1)?;
    let client = app.client()?;
    let mut req = Request::new(
        Method::Get,
        format!("/images/{}/history", path_escape(&a.args[0])),
    );
    if let Some(p) = a.platform.as_deref().filter(|p| !p.is_empty()) {
        super::require_api(client, "1.48", "platform")?;
        req = req.query("platform", super::platform_json(p));
    }
    let items: Vec<HistoryItem> = client.send(req)?.json()?;
    let fmt = a
        .format
        .clone()
        .filter(|f| !f.is_empty())
        .unwrap_or_else(|| format::TABLE.into());
    print(&render(&items, &fmt, a.quiet, a.human, !a.no_trunc)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items() -> Vec<HistoryItem> {
        vec![
            HistoryItem {
                id: "sha256:e7bd9ff12dc414e2e59d1cebce2d4fe812f85032189b77024d00161663c7fd09"
                    .into(),
                created: time::now().0 - 7200,
                created_by: "/bin/sh -c #(nop)\tCMD [\"sh\"] and a long tail of words".into(),
                size: 0,
                comment: "".into(),
            },
            HistoryItem {
                id: "<missing>".into(),
                created: 0,
                created_by: "".into(),
                size: 1_982_000,
                comment: "Imported from -".into(),
            },
        ]
    }

    #[test]
    fn table() {
        let out = render(&items(), "table", false, true, true).unwrap();
        assert_eq!(
            out,
            "IMAGE          CREATED       CREATED BY                                      SIZE      COMMENT\n\
             e7bd9ff12dc4   2 hours ago   /bin/sh -c #(nop) CMD [\"sh\"] and a long tail…   0B        \n\
             <missing>      N/A                                                           1.98MB    Imported from -\n"
        );
    }

    #[test]
    fn quiet_and_non_human() {
        let out = render(&items(), "table", true, true, false).unwrap();
        assert_eq!(
            out.lines().next(),
            Some("sha256:e7bd9ff12dc414e2e59d1cebce2d4fe812f85032189b77024d00161663c7fd09")
        );
        let out = render(&items(), "{{.Size}} {{.CreatedSince}}", false, false, true).unwrap();
        let last = out.lines().last().unwrap();
        assert_eq!(last, format!("1982000 {}", time::rfc3339(0)));
    }
}
