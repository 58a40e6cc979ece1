//! `inspect` output as docker's `cli/command/inspect` writes it, for every
//! kind of object:
//!
//! - no `--format`: the daemon's JSON of every element, in a JSON array
//!   indented with four spaces (the daemon's own bytes and key order);
//! - `--format json`: the same array, compact;
//! - a template: executed first on the typed value (what docker's client
//!   decodes the answer into: missing fields are zero values, nil slices
//!   print `[]`), and if that fails, on the raw JSON as maps with
//!   `missingkey=error`. Each element's output ends with a newline.
//!
//! The typed view is described by a [`Shape`]: the fields of docker's Go
//! type, with their JSON names and `omitempty`. Fields the shape does not
//! name are not part of the typed value (as docker drops what its types
//! do not know), so templates using them go to the raw fallback.

use crate::error::CliError;
use crate::format::json::Json;
use crate::format::template::FuncSet;
use crate::format::template::{MapElem, NilKind, Options, Struct, Template, Value};

/// One field of a typed shape.
#[derive(Debug)]
pub struct Field {
    /// The Go field name (what templates use).
    pub name: &'static str,
    /// The JSON key.
    pub json: &'static str,
    /// `omitempty`.
    pub omit_empty: bool,
    /// The field's type.
    pub shape: Shape,
}

/// A Go type, as far as templates can tell.
#[derive(Debug)]
pub enum Shape {
    /// `string`
    Str,
    /// any integer
    Int,
    /// `bool`
    Bool,
    /// `time.Time` (RFC 3339 in JSON)
    Time,
    /// `[]T`
    List(&'static Shape),
    /// `map[string]T`
    Map(MapElem),
    /// A struct (Go type name, fields in declaration order).
    Struct(&'static str, &'static [Field]),
    /// A pointer to a struct.
    Ptr(&'static Shape),
    /// A struct not described field by field: the JSON object's fields in
    /// the daemon's order (the daemon encodes the same Go type, so its
    /// order is the struct's), values raw; null is a nil pointer.
    JsonStruct(&'static str),
    /// `interface{}` or a type not described: the raw JSON.
    Any,
}

/// The typed value of `j` for `shape`.
pub fn typed(j: Option<&Json>, shape: &Shape) -> Value {
    let j = match j {
        Some(Json::Null) | None => None,
        Some(v) => Some(v),
    };
    match shape {
        Shape::Str => match j {
            None => Value::Str(String::new()),
            Some(Json::String(s)) => Value::Str(s.clone()),
            Some(other) => Value::from_json_raw(other),
        },
        Shape::Int => match j {
            None => Value::Int(0),
            Some(Json::Number(n)) => n
                .parse::<i64>()
                .map(Value::Int)
                .unwrap_or_else(|_| Value::Number(n.clone())),
            Some(other) => Value::from_json_raw(other),
        },
        Shape::Bool => match j {
            None => Value::Bool(false),
            Some(Json::Bool(b)) => Value::Bool(*b),
            Some(other) => Value::from_json_raw(other),
        },
        Shape::Time => match j {
            Some(Json::String(s)) => time_value(s),
            _ => time_value("0001-01-01T00:00:00Z"),
        },
        Shape::List(elem) => match j {
            None => Value::Nil(NilKind::List),
            Some(Json::Array(items)) => {
                Value::List(items.iter().map(|i| typed(Some(i), elem)).collect())
            }
            Some(other) => Value::from_json_raw(other),
        },
        Shape::Map(elem) => match j {
            None => Value::Nil(NilKind::Map(*elem)),
            Some(Json::Object(entries)) => Value::Map(
                entries
                    .iter()
                    .map(|(k, v)| {
                        let v = match elem {
                            MapElem::Str => typed(Some(v), &Shape::Str),
                            MapElem::Empty => elem.zero(),
                            MapElem::Any | MapElem::Ordered => Value::from_json_ordered(v),
                        };
                        (k.clone(), v)
                    })
                    .collect(),
                *elem,
            ),
            Some(other) => Value::from_json_raw(other),
        },
        Shape::Struct(name, fields) => {
            let mut s = Struct::new(name);
            let mut tags = Vec::with_capacity(fields.len());
            for f in fields.iter() {
                s.fields.push((
                    f.name.to_string(),
                    typed(j.and_then(|o| o.get(f.json)), &f.shape),
                ));
                tags.push((f.json.to_string(), f.omit_empty));
            }
            s.json_tags = Some(tags);
            Value::from(s)
        }
        Shape::Ptr(inner) => match j {
            None => Value::Nil(NilKind::Pointer),
            Some(_) => typed(j, inner),
        },
        Shape::JsonStruct(name) => match j {
            Some(Json::Object(entries)) => {
                let mut s = Struct::new(name);
                for (k, v) in entries {
                    s.fields.push((k.clone(), Value::from_json_ordered(v)));
                }
                Value::from(s)
            }
            None => Value::Nil(NilKind::Pointer),
            Some(other) => Value::from_json_ordered(other),
        },
        Shape::Any => match j {
            None => Value::Nil(NilKind::Interface),
            Some(v) => Value::from_json_ordered(v),
        },
    }
}

/// A `time.Time` parsed from RFC 3339, printed in the zone it was written
/// in (Go's `time.Parse` keeps the offset; `Z` is UTC).
fn time_value(s: &str) -> Value {
    use crate::format::time::{go_string_at_offset, parse_rfc3339, rfc3339_offset};
    let (secs, nanos) = parse_rfc3339(s).unwrap_or((-62_135_596_800, 0));
    Value::Time {
        display: go_string_at_offset(secs, nanos, rfc3339_offset(s)),
        rfc3339: s.to_string(),
    }
}

/// One object found: the daemon's bytes and their typed shape.
#[derive(Debug)]
pub struct Element {
    /// The raw JSON.
    pub raw: Vec<u8>,
    /// Docker's Go type for it, if described.
    pub shape: Option<&'static Shape>,
}

/// Inspect `refs` with `get` and print the result like docker. Elements
/// found are printed even when others fail; the failures are joined into
/// the error (exit 1), a template that does not parse exits 64.
pub fn run(
    refs: &[String],
    format: Option<&str>,
    get: &mut dyn FnMut(&str) -> Result<Element, CliError>,
) -> Result<(), CliError> {
    let format = format.unwrap_or("");
    let tmpl = match format {
        "" | "json" => None,
        f => Some(Template::parse(f).map_err(|e| CliError::Status {
            message: format!("template parsing error: {e}"),
            code: 64,
        })?),
    };
    let mut errors: Vec<String> = Vec::new();
    let mut raws: Vec<Vec<u8>> = Vec::new();
    let mut out = String::new();
    for r in refs {
        let el = match get(r) {
            Ok(el) => el,
            Err(e) => {
                errors.push(e.to_string());
                continue;
            }
        };
        match &tmpl {
            None => raws.push(el.raw),
            Some(t) => match execute(t, &el) {
                Ok(text) => {
                    out.push_str(&text);
                    out.push('\n');
                }
                Err(e) => errors.push(e),
            },
        }
    }
    let text = match (&tmpl, format) {
        (Some(_), _) => {
            if out.is_empty() {
                "\n".to_string()
            } else {
                out
            }
        }
        (None, f) => {
            if raws.is_empty() {
                "[]\n".to_string()
            } else {
                let mut joined = b"[".to_vec();
                for (i, r) in raws.iter().enumerate() {
                    if i > 0 {
                        joined.push(b',');
                    }
                    joined.extend_from_slice(r);
                }
                joined.push(b']');
                let rendered = if f == "json" {
                    Json::parse(&joined).map(|j| j.to_compact(false))
                } else {
                    crate::format::json::indent(&joined, "", "    ")
                };
                match rendered {
                    Ok(t) => t + "\n",
                    Err(e) => {
                        errors.push(format!("invalid JSON from the daemon: {e}"));
                        String::new()
                    }
                }
            }
        }
    };
    crate::app::print(&text)?;
    if errors.is_empty() {
        Ok(())
    } else {
        Err(CliError::Status {
            message: errors.join("\n"),
            code: 1,
        })
    }
}

/// Typed first, then raw with `missingkey=error` (docker's
/// `TemplateInspector.Inspect`).
fn execute(t: &Template, el: &Element) -> Result<String, String> {
    let json = Json::parse(&el.raw).map_err(|e| format!("unable to read inspect data: {e}"))?;
    if let Some(shape) = el.shape {
        let v = typed(Some(&json), shape);
        if let Ok(s) = t.render(&v) {
            return Ok(s);
        }
    }
    let raw = Value::from_json_raw(&json);
    let (out, r) = t.execute_with(
        &raw,
        Options {
            missing_key_error: true,
            funcs: FuncSet::Basic,
        },
    );
    match r {
        Ok(()) => Ok(out.unwrap_or_default()),
        Err(e) => Err(format!("template parsing error: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static ROOTFS: [Field; 2] = [
        Field {
            name: "Type",
            json: "Type",
            omit_empty: true,
            shape: Shape::Str,
        },
        Field {
            name: "Layers",
            json: "Layers",
            omit_empty: true,
            shape: Shape::List(&Shape::Str),
        },
    ];
    static IMG: [Field; 5] = [
        Field {
            name: "ID",
            json: "Id",
            omit_empty: false,
            shape: Shape::Str,
        },
        Field {
            name: "RepoDigests",
            json: "RepoDigests",
            omit_empty: false,
            shape: Shape::List(&Shape::Str),
        },
        Field {
            name: "Labels",
            json: "Labels",
            omit_empty: true,
            shape: Shape::Map(MapElem::Str),
        },
        Field {
            name: "RootFS",
            json: "RootFS",
            omit_empty: false,
            shape: Shape::Struct("image.RootFS", &ROOTFS),
        },
        Field {
            name: "LastTagTime",
            json: "LastTagTime",
            omit_empty: false,
            shape: Shape::Time,
        },
    ];
    static SHAPE: Shape = Shape::Struct("image.InspectResponse", &IMG);

    fn render(tmpl: &str, raw: &str) -> Result<String, String> {
        let t = Template::parse(tmpl).map_err(|e| e.0)?;
        execute(
            &t,
            &Element {
                raw: raw.as_bytes().to_vec(),
                shape: Some(&SHAPE),
            },
        )
    }

    const RAW: &str = r#"{"Id":"sha256:x","RepoDigests":null,"Extra":"e","RootFS":{"Type":"layers","Layers":["l1"]},"LastTagTime":"2026-11-22T16:19:12.432550262Z"}"#;

    #[test]
    fn typed_then_raw() {
        // typed: a nil slice prints [], a missing map index is ""
        assert_eq!(render("{{.RepoDigests}}", RAW).unwrap(), "[]");
        assert_eq!(render("{{index .Labels \"a\"}}|", RAW).unwrap(), "|");
        assert_eq!(render("{{.RootFS}}", RAW).unwrap(), "{layers [l1]}");
        assert_eq!(
            render("{{.LastTagTime}}", RAW).unwrap(),
            "2026-11-22 16:19:12.432550262 +0000 UTC"
        );
        assert_eq!(
            render("{{json .RootFS}}", RAW).unwrap(),
            r#"{"Type":"layers","Layers":["l1"]}"#
        );
        assert_eq!(
            render("{{json .}}", RAW).unwrap(),
            r#"{"Id":"sha256:x","RepoDigests":null,"RootFS":{"Type":"layers","Layers":["l1"]},"LastTagTime":"2026-11-22T16:19:12.432550262Z"}"#
        );
        // a field the type does not have: the raw fallback finds it
        assert_eq!(render("{{.Extra}}", RAW).unwrap(), "e");
        // and a field nobody has is docker's missingkey error
        assert_eq!(
            render("{{.Nope}}", RAW).unwrap_err(),
            "template parsing error: template: :1:2: executing \"\" at <.Nope>: map has no entry for key \"Nope\""
        );
    }

    #[test]
    fn dates() {
        match time_value("2026-11-22T17:19:12+01:00") {
            Value::Time { display, .. } => assert_eq!(display, "2026-11-22 17:19:12 +0100 +0100"),
            other => panic!("{other:?}"),
        }
    }
}
