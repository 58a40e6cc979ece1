//! The values a template works on, modelled on what Go's `text/template`
//! sees through reflection in the docker CLI: typed structs (the formatter
//! contexts, typed API responses), maps (`map[string]any` from decoded
//! JSON), slices, scalars, and the different kinds of nil Go prints
//! differently (`<no value>`, `[]`, `map[]`, `<nil>`).
//!
//! Printing follows `fmt`'s `%v` and JSON encoding follows `encoding/json`
//! (struct fields in declaration order, map keys sorted, HTML characters
//! escaped only where docker's own `MarshalJSON` escapes them).

use std::fmt::Write as _;
use std::rc::Rc;

/// A function attached to a struct as a method (`{{.Label "com.x"}}`).
pub type Method = Rc<dyn Fn(&[Value]) -> Result<Value, String>>;

/// What kind of nil a null is: Go prints a nil slice as `[]`, a nil map as
/// `map[]`, a nil pointer or interface inside a composite as `<nil>`, and a
/// missing value at the top of an action as `<no value>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NilKind {
    /// A nil interface (JSON null decoded into `any`, a missing map entry).
    Interface,
    /// A nil slice (`[]string(nil)`).
    List,
    /// A nil map (of the given element type).
    Map(MapElem),
    /// A nil pointer to a struct.
    Pointer,
}

/// The element type of a map, for its zero value and its Go type name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapElem {
    /// `map[string]interface {}` (decoded JSON): zero is a nil interface.
    Any,
    /// `map[string]string` (labels, options): zero is `""`.
    Str,
    /// `map[string]struct {}` (exposed ports, volumes): zero is `{}`.
    Empty,
    /// A JSON object from the daemon standing for a Go struct or map in a
    /// typed value: encodes in the daemon's key order (the struct's field
    /// order, or Go's sorted map keys); zero is a nil interface.
    Ordered,
}

impl MapElem {
    /// The zero value of the element type.
    pub fn zero(self) -> Value {
        match self {
            MapElem::Any | MapElem::Ordered => Value::Nil(NilKind::Interface),
            MapElem::Str => Value::Str(String::new()),
            MapElem::Empty => Value::Struct(Rc::new(Struct::new("struct {}"))),
        }
    }

    fn go_name(self) -> &'static str {
        match self {
            MapElem::Any | MapElem::Ordered => "map[string]interface {}",
            MapElem::Str => "map[string]string",
            MapElem::Empty => "map[string]struct {}",
        }
    }
}

/// A typed struct: ordered fields, a Go type name for error messages, and
/// optional methods.
#[derive(Clone)]
pub struct Struct {
    /// Go's name for the type, as it appears in `can't evaluate field X in
    /// type *formatter.imageContext`.
    pub type_name: String,
    /// Fields in declaration order.
    pub fields: Vec<(String, Value)>,
    /// Methods callable with arguments.
    pub methods: Vec<(String, Method)>,
    /// Whether `{{json .}}` escapes `<`, `>` and `&` (true for the docker
    /// formatter contexts, whose `MarshalJSON` goes through `json.Marshal`).
    pub escape_html: bool,
    /// JSON key and `omitempty` per field, when they differ from the field
    /// name (a Go struct's `json:"..."` tags); `None` keeps field names.
    pub json_tags: Option<Vec<(String, bool)>>,
}

impl std::fmt::Debug for Struct {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Struct")
            .field("type_name", &self.type_name)
            .field("fields", &self.fields)
            .field(
                "methods",
                &self.methods.iter().map(|m| &m.0).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Struct {
    /// A struct of the given Go type with no fields yet.
    pub fn new(type_name: &str) -> Struct {
        Struct {
            type_name: type_name.to_string(),
            fields: Vec::new(),
            methods: Vec::new(),
            escape_html: false,
            json_tags: None,
        }
    }

    /// Add a field (builder style).
    pub fn field(mut self, name: &str, value: impl Into<Value>) -> Struct {
        self.fields.push((name.to_string(), value.into()));
        self
    }

    /// Add a method (builder style).
    pub fn method(
        mut self,
        name: &str,
        f: impl Fn(&[Value]) -> Result<Value, String> + 'static,
    ) -> Struct {
        self.methods.push((name.to_string(), Rc::new(f)));
        self
    }

    /// The value of a field.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }
}

/// A template value.
#[derive(Debug, Clone)]
pub enum Value {
    /// A nil of some kind.
    Nil(NilKind),
    /// `bool`.
    Bool(bool),
    /// Any signed integer.
    Int(i64),
    /// Any unsigned integer that does not fit an `i64`.
    Uint(u64),
    /// `float64`.
    Float(f64),
    /// A `json.Number` (raw JSON decoded with `UseNumber`): a string type
    /// that prints as its literal text.
    Number(String),
    /// `string`.
    Str(String),
    /// A slice.
    List(Vec<Value>),
    /// A `map[string]T`, in the order the source gave (printing and `range`
    /// sort by key, as Go does), and what `T` is (the zero value `index`
    /// returns for a missing key).
    Map(Vec<(String, Value)>, MapElem),
    /// A struct.
    Struct(Rc<Struct>),
    /// A `time.Time`, kept as the text of its `String()` method and its
    /// RFC 3339 form (what `encoding/json` writes).
    Time {
        /// `2006-01-02 15:04:05.999999999 -0700 MST`.
        display: String,
        /// RFC 3339 with nanoseconds.
        rfc3339: String,
    },
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Str(s.to_string())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Str(s)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Int(i)
    }
}
impl From<Struct> for Value {
    fn from(s: Struct) -> Value {
        Value::Struct(Rc::new(s))
    }
}
impl From<Vec<String>> for Value {
    fn from(v: Vec<String>) -> Value {
        Value::List(v.into_iter().map(Value::Str).collect())
    }
}

impl Value {
    /// Go's truth: false, 0, nil, empty string/slice/map are false; structs
    /// and times are true.
    pub fn truth(&self) -> bool {
        match self {
            Value::Nil(_) => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Uint(u) => *u != 0,
            Value::Float(f) => *f != 0.0,
            Value::Number(s) | Value::Str(s) => !s.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Map(m, _) => !m.is_empty(),
            Value::Struct(_) | Value::Time { .. } => true,
        }
    }

    /// Go's type name, for error messages (`can't evaluate field X in type T`).
    pub fn type_name(&self) -> String {
        match self {
            Value::Nil(NilKind::Interface) => "interface {}".into(),
            Value::Nil(NilKind::List) => "[]interface {}".into(),
            Value::Nil(NilKind::Map(e)) => e.go_name().into(),
            Value::Nil(NilKind::Pointer) => "*struct".into(),
            Value::Bool(_) => "bool".into(),
            Value::Int(_) => "int".into(),
            Value::Uint(_) => "uint64".into(),
            Value::Float(_) => "float64".into(),
            Value::Number(_) => "json.Number".into(),
            Value::Str(_) => "string".into(),
            Value::List(_) => "[]interface {}".into(),
            Value::Map(_, e) => e.go_name().into(),
            Value::Struct(s) => s.type_name.clone(),
            Value::Time { .. } => "time.Time".into(),
        }
    }

    /// Is this "empty" for `encoding/json`'s `omitempty` (false, 0, "",
    /// nil, empty slice or map; structs never are)?
    pub fn is_json_empty(&self) -> bool {
        match self {
            Value::Nil(_) => true,
            Value::Bool(b) => !b,
            Value::Int(i) => *i == 0,
            Value::Uint(u) => *u == 0,
            Value::Float(f) => *f == 0.0,
            Value::Number(s) | Value::Str(s) => s.is_empty(),
            Value::List(l) => l.is_empty(),
            Value::Map(m, _) => m.is_empty(),
            Value::Struct(_) | Value::Time { .. } => false,
        }
    }

    /// Is this a nil of any kind?
    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil(_))
    }

    /// A string argument, as Go would accept for a `string` parameter.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) | Value::Number(s) => Some(s),
            _ => None,
        }
    }

    /// An integer argument, as Go would accept for an `int` parameter.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Uint(u) => i64::try_from(*u).ok(),
            _ => None,
        }
    }

    /// `fmt.Sprint(v)` at the top of an action: a missing or nil interface
    /// prints `<no value>`.
    pub fn to_action_text(&self) -> String {
        match self {
            Value::Nil(NilKind::Interface) => "<no value>".into(),
            other => other.to_go_string(),
        }
    }

    /// `fmt.Sprint(v)` (`%v`).
    pub fn to_go_string(&self) -> String {
        let mut s = String::new();
        self.write_go(&mut s, true);
        s
    }

    fn write_go(&self, out: &mut String, top: bool) {
        match self {
            Value::Nil(NilKind::Interface) | Value::Nil(NilKind::Pointer) => out.push_str("<nil>"),
            Value::Nil(NilKind::List) => out.push_str("[]"),
            Value::Nil(NilKind::Map(_)) => out.push_str("map[]"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::Uint(u) => {
                let _ = write!(out, "{u}");
            }
            Value::Float(f) => out.push_str(&super::printf::format_float_g(*f, None)),
            Value::Number(s) | Value::Str(s) => out.push_str(s),
            Value::List(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    v.write_go(out, false);
                }
                out.push(']');
            }
            Value::Map(entries, _) => {
                out.push_str("map[");
                for (i, (k, v)) in sorted_entries(entries).into_iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    out.push_str(k);
                    out.push(':');
                    v.write_go(out, false);
                }
                out.push(']');
            }
            Value::Struct(st) => {
                let _ = top;
                out.push('{');
                for (i, (_, v)) in st.fields.iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    v.write_go(out, false);
                }
                out.push('}');
            }
            Value::Time { display, .. } => out.push_str(display),
        }
    }

    /// `encoding/json` of this value, compact. `escape_html` escapes `<`,
    /// `>` and `&` as `json.Marshal` does.
    pub fn to_json(&self, escape_html: bool) -> String {
        let mut s = String::new();
        self.write_json(&mut s, escape_html);
        s
    }

    fn write_json(&self, out: &mut String, escape_html: bool) {
        match self {
            Value::Nil(_) => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::Uint(u) => {
                let _ = write!(out, "{u}");
            }
            Value::Float(f) => out.push_str(&crate::format::json::go_json_float(*f)),
            Value::Number(s) => out.push_str(s),
            Value::Str(s) => crate::format::json::write_string(out, s, escape_html),
            Value::List(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    v.write_json(out, escape_html);
                }
                out.push(']');
            }
            Value::Map(entries, elem) => {
                out.push('{');
                let ordered: Vec<(&String, &Value)> = if *elem == MapElem::Ordered {
                    entries.iter().map(|(k, v)| (k, v)).collect()
                } else {
                    sorted_entries(entries)
                };
                for (i, (k, v)) in ordered.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    crate::format::json::write_string(out, k, escape_html);
                    out.push(':');
                    v.write_json(out, escape_html);
                }
                out.push('}');
            }
            Value::Struct(st) => {
                let esc = escape_html || st.escape_html;
                if st.escape_html {
                    // docker's MarshalJSON builds a map of every method:
                    // keys come out sorted.
                    let entries: Vec<(String, Value)> = st.fields.clone();
                    Value::Map(entries, MapElem::Any).write_json(out, esc);
                    return;
                }
                out.push('{');
                let mut first = true;
                for (i, (k, v)) in st.fields.iter().enumerate() {
                    let (key, omit_empty) = match st.json_tags.as_ref().and_then(|t| t.get(i)) {
                        Some((key, omit)) => (key.as_str(), *omit),
                        None => (k.as_str(), false),
                    };
                    if omit_empty && v.is_json_empty() {
                        continue;
                    }
                    if !first {
                        out.push(',');
                    }
                    first = false;
                    crate::format::json::write_string(out, key, esc);
                    out.push(':');
                    v.write_json(out, esc);
                }
                out.push('}');
            }
            Value::Time { rfc3339, .. } => {
                crate::format::json::write_string(out, rfc3339, escape_html)
            }
        }
    }

    /// Decoded JSON inside a typed value: objects become maps that encode
    /// in the daemon's order ([`MapElem::Ordered`]), numbers stay as
    /// written.
    pub fn from_json_ordered(v: &crate::format::json::Json) -> Value {
        use crate::format::json::Json;
        match v {
            Json::Array(items) => Value::List(items.iter().map(Value::from_json_ordered).collect()),
            Json::Object(entries) => Value::Map(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::from_json_ordered(v)))
                    .collect(),
                MapElem::Ordered,
            ),
            other => Value::from_json_raw(other),
        }
    }

    /// Convert decoded JSON into a value the way `json.Decoder.UseNumber`
    /// into `any` does: objects become maps, numbers `json.Number`.
    pub fn from_json_raw(v: &crate::format::json::Json) -> Value {
        use crate::format::json::Json;
        match v {
            Json::Null => Value::Nil(NilKind::Interface),
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => Value::Number(n.clone()),
            Json::String(s) => Value::Str(s.clone()),
            Json::Array(items) => Value::List(items.iter().map(Value::from_json_raw).collect()),
            Json::Object(entries) => Value::Map(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::from_json_raw(v)))
                    .collect(),
                MapElem::Any,
            ),
        }
    }
}

/// Map entries sorted by key (Go prints and ranges over maps in key order).
pub fn sorted_entries(entries: &[(String, Value)]) -> Vec<(&String, &Value)> {
    let mut v: Vec<(&String, &Value)> = entries.iter().map(|(k, v)| (k, v)).collect();
    v.sort_by(|a, b| a.0.cmp(b.0));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_printing_of_composites() {
        let v = Value::List(vec![
            Value::from("a"),
            Value::Int(2),
            Value::Nil(NilKind::Interface),
        ]);
        assert_eq!(v.to_go_string(), "[a 2 <nil>]");
        let m = Value::Map(
            vec![
                ("b".into(), Value::from("2")),
                ("a".into(), Value::List(vec![])),
            ],
            MapElem::Any,
        );
        assert_eq!(m.to_go_string(), "map[a:[] b:2]");
        assert_eq!(Value::Nil(NilKind::List).to_action_text(), "[]");
        assert_eq!(
            Value::Nil(NilKind::Map(MapElem::Str)).to_action_text(),
            "map[]"
        );
        assert_eq!(
            Value::Nil(NilKind::Interface).to_action_text(),
            "<no value>"
        );
        let s = Struct::new("T")
            .field("Type", "layers")
            .field("Layers", vec!["x".to_string()]);
        assert_eq!(Value::from(s).to_go_string(), "{layers [x]}");
    }

    #[test]
    fn json_of_structs_keeps_order_and_maps_sort() {
        let s = Struct::new("T").field("B", "<b>").field("A", 1i64);
        assert_eq!(Value::from(s).to_json(false), r#"{"B":"<b>","A":1}"#);
        let mut s = Struct::new("*formatter.imageContext")
            .field("B", "<b>")
            .field("A", 1i64);
        s.escape_html = true;
        assert_eq!(
            Value::from(s).to_json(false),
            r#"{"A":1,"B":"\u003cb\u003e"}"#
        );
        assert_eq!(Value::Nil(NilKind::List).to_json(false), "null");
    }

    #[test]
    fn truth() {
        assert!(!Value::from("").truth());
        assert!(Value::from("x").truth());
        assert!(!Value::Int(0).truth());
        assert!(!Value::Nil(NilKind::Map(MapElem::Any)).truth());
        assert!(Value::from(Struct::new("T")).truth());
    }
}
