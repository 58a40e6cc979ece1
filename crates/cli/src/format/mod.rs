//! docker's output formatting: the formatter "context" that renders rows
//! through a Go template (`--format` as `table ...`, `json`, or a custom
//! template), the table writer, human units, Go time formats and JSON.
//!
//! How docker renders a list (cli/command/formatter/formatter.go), which
//! [`write_rows`] follows: a `table` prefix is dropped and marks a table,
//! `json` means `{{json .}}`, surrounding spaces are trimmed and the
//! two-character sequences `\t` and `\n` become a tab and a newline. Each
//! row is executed and followed by a newline; for a table, the header is
//! the same template executed on a map of column titles with functions that
//! leave titles alone, and header plus rows go through the tab writer.

pub mod json;
pub mod table;
pub mod template;
pub mod time;
pub mod units;

use template::{FuncSet, MapElem, Options, Template, TemplateError, Value};

/// The output format keywords.
pub const TABLE: &str = "table";
/// `--format json`.
pub const JSON: &str = "json";

/// Why formatting failed.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// The template does not parse, or fails on a row (docker says
    /// "template parsing error" for both).
    #[error("template parsing error: {0}")]
    Template(#[source] TemplateError),
}

/// Is this a table format (`table` prefix)?
pub fn is_table(format: &str) -> bool {
    format.starts_with(TABLE)
}

/// Render `rows` with `format`; `header` maps field names to column titles
/// (used for tables). Returns the full text to print.
pub fn write_rows(
    format: &str,
    header: &[(&str, &str)],
    rows: &[Value],
) -> Result<String, FormatError> {
    let table = is_table(format);
    let mut fin = if table {
        format[TABLE.len()..].to_string()
    } else if format == JSON {
        "{{json .}}".to_string()
    } else {
        format.to_string()
    };
    fin = fin
        .trim_matches(' ')
        .replace("\\t", "\t")
        .replace("\\n", "\n");
    let tmpl = Template::parse(&fin).map_err(FormatError::Template)?;
    let mut body = String::new();
    for row in rows {
        let out = tmpl.render(row).map_err(FormatError::Template)?;
        body.push_str(&out);
        body.push('\n');
    }
    if !table {
        return Ok(body);
    }
    let header_value = Value::Map(
        header
            .iter()
            .map(|(k, v)| (k.to_string(), Value::from(*v)))
            .collect(),
        MapElem::Str,
    );
    // docker ignores errors of the header execution and keeps what was
    // written before the error.
    let (head, _) = tmpl.execute_with(
        &header_value,
        Options {
            missing_key_error: false,
            funcs: FuncSet::Header,
        },
    );
    let mut text = head.unwrap_or_default();
    text.push('\n');
    text.push_str(&body);
    Ok(table::docker_table(&text))
}

/// docker's `stringid.TruncateID`: drop an algorithm prefix, keep 12
/// characters.
pub fn truncate_id(id: &str) -> String {
    let id = id.split_once(':').map_or(id, |(_, rest)| rest);
    id.chars().take(12).collect()
}

/// docker's `formatter.Ellipsis`: shorten to `max` display columns, the
/// last one an ellipsis.
pub fn ellipsis(s: &str, max: usize) -> String {
    use unicode_width::UnicodeWidthChar;
    let width: usize = s.chars().map(|c| c.width().unwrap_or(0)).sum();
    if width <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut w = 0;
    for c in s.chars() {
        let cw = c.width().unwrap_or(0);
        if w + cw > max - 1 {
            break;
        }
        w += cw;
        out.push(c);
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::template::Struct;
    use super::*;

    fn row(repo: &str, tag: &str) -> Value {
        let mut s = Struct::new("*formatter.imageContext")
            .field("Repository", repo)
            .field("Tag", tag);
        s.escape_html = true;
        Value::from(s)
    }

    const HEADER: &[(&str, &str)] = &[("Repository", "REPOSITORY"), ("Tag", "TAG")];

    #[test]
    fn table_with_header() {
        let out = write_rows(
            "table {{.Repository}}\\t{{.Tag}}",
            HEADER,
            &[row("busybox", "latest"), row("a/b", "<none>")],
        )
        .unwrap();
        assert_eq!(
            out,
            "REPOSITORY   TAG\nbusybox      latest\na/b          <none>\n"
        );
    }

    #[test]
    fn table_header_without_rows_and_unknown_fields() {
        let out = write_rows("table {{.Repository}}\t{{.Nope}}", HEADER, &[]).unwrap();
        assert_eq!(out, "REPOSITORY   <no value>\n");
    }

    #[test]
    fn custom_and_json() {
        let out = write_rows(
            "{{.Repository}}:{{.Tag}}",
            HEADER,
            &[row("busybox", "latest")],
        )
        .unwrap();
        assert_eq!(out, "busybox:latest\n");
        let out = write_rows("json", HEADER, &[row("busybox", "<none>")]).unwrap();
        assert_eq!(
            out,
            "{\"Repository\":\"busybox\",\"Tag\":\"\\u003cnone\\u003e\"}\n"
        );
    }

    #[test]
    fn errors_are_template_parsing_errors() {
        let e = write_rows("{{.Foo}}", HEADER, &[row("a", "b")]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "template parsing error: template: :1:2: executing \"\" at <.Foo>: can't evaluate field Foo in type *formatter.imageContext"
        );
        let e = write_rows("{{.Foo", HEADER, &[]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "template parsing error: template: :1: unclosed action"
        );
    }

    #[test]
    fn ids_and_ellipsis() {
        assert_eq!(
            truncate_id("sha256:eb9f4d4b89150af0451f7b540cdb6885"),
            "eb9f4d4b8915"
        );
        assert_eq!(truncate_id("abc"), "abc");
        assert_eq!(
            ellipsis("/bin/sh -c #(nop) ADD file:abc in / ", 10),
            "/bin/sh -…"
        );
        assert_eq!(ellipsis("short", 10), "short");
    }
}
