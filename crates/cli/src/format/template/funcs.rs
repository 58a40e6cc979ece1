//! The template functions: Go's builtins (`len`, `index`, `slice`, `eq`,
//! `ne`, `lt`, `le`, `gt`, `ge`, `not`, `print`, `printf`, `println`,
//! `html`, `js`, `urlquery`; `and`/`or` are lazy and live in the executor)
//! and docker's (`json`, `split`, `join`, `title`, `lower`, `upper`, `pad`,
//! `truncate`), plus docker's header variants that leave a table header's
//! text alone.

use super::printf::{sprint, sprintf, sprintln};
use super::value::{NilKind, Value};

/// A function's result or its error message (wrapped by the executor as
/// `error calling NAME: MSG` or reported as is for argument errors).
pub enum FuncError {
    /// `wrong number of args for NAME: want N got M`.
    Arity(String),
    /// A bad argument: `wrong type for value; expected string; got int`.
    Arg(String),
    /// The function itself failed: `error calling NAME: ...`.
    Call(String),
}

type F = fn(&[Value]) -> Result<Value, FuncError>;

/// Which set of functions a template runs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FuncSet {
    /// docker's `templates.Parse` functions.
    Basic,
    /// docker's `HeaderFunctions` (table headers).
    Header,
}

/// Names known to the parser (`and`/`or` included).
pub fn exists(name: &str) -> bool {
    matches!(name, "and" | "or" | "call") || lookup(name, FuncSet::Basic).is_some()
}

/// The function called `name`.
pub fn lookup(name: &str, set: FuncSet) -> Option<F> {
    if set == FuncSet::Header {
        let h: Option<F> = match name {
            "json" | "title" | "lower" | "upper" => Some(header_one),
            "split" | "join" | "truncate" => Some(header_two),
            _ => None,
        };
        if h.is_some() {
            return h;
        }
    }
    Some(match name {
        "len" => f_len,
        "index" => f_index,
        "slice" => f_slice,
        "eq" => f_eq,
        "ne" => f_ne,
        "lt" => |a| cmp_fn(a, "lt"),
        "le" => |a| cmp_fn(a, "le"),
        "gt" => |a| cmp_fn(a, "gt"),
        "ge" => |a| cmp_fn(a, "ge"),
        "not" => f_not,
        "print" => |a| Ok(Value::Str(sprint(a))),
        "println" => |a| Ok(Value::Str(sprintln(a))),
        "printf" => f_printf,
        "html" => f_html,
        "js" => f_js,
        "urlquery" => f_urlquery,
        "json" => f_json,
        "split" => f_split,
        "join" => f_join,
        "title" => f_title,
        "lower" => |a| {
            arity("lower", a, 1)?;
            Ok(Value::Str(string_arg(&a[0])?.to_lowercase()))
        },
        "upper" => |a| {
            arity("upper", a, 1)?;
            Ok(Value::Str(string_arg(&a[0])?.to_uppercase()))
        },
        "pad" => f_pad,
        "truncate" => f_truncate,
        _ => return None,
    })
}

fn arity(name: &str, a: &[Value], n: usize) -> Result<(), FuncError> {
    if a.len() != n {
        return Err(FuncError::Arity(format!(
            "wrong number of args for {name}: want {n} got {}",
            a.len()
        )));
    }
    Ok(())
}

fn min_arity(name: &str, a: &[Value], n: usize) -> Result<(), FuncError> {
    if a.len() < n {
        return Err(FuncError::Arity(format!(
            "wrong number of args for {name}: want at least {n} got {}",
            a.len()
        )));
    }
    Ok(())
}

fn wrong_type(expected: &str, got: &Value) -> FuncError {
    match got {
        Value::Nil(NilKind::Interface) => {
            FuncError::Arg(format!("invalid value; expected {expected}"))
        }
        _ => FuncError::Arg(format!(
            "wrong type for value; expected {expected}; got {}",
            got.type_name()
        )),
    }
}

/// A `string` parameter.
pub fn string_arg(v: &Value) -> Result<&str, FuncError> {
    v.as_str().ok_or_else(|| wrong_type("string", v))
}

fn int_arg(v: &Value) -> Result<i64, FuncError> {
    v.as_int().ok_or_else(|| wrong_type("int", v))
}

fn header_one(a: &[Value]) -> Result<Value, FuncError> {
    arity("header function", a, 1)?;
    Ok(Value::Str(string_arg(&a[0])?.to_string()))
}

fn header_two(a: &[Value]) -> Result<Value, FuncError> {
    arity("header function", a, 2)?;
    Ok(Value::Str(string_arg(&a[0])?.to_string()))
}

fn f_len(a: &[Value]) -> Result<Value, FuncError> {
    arity("len", a, 1)?;
    let n = match &a[0] {
        Value::Str(s) | Value::Number(s) => s.len(),
        Value::List(l) => l.len(),
        Value::Map(m, _) => m.len(),
        Value::Nil(NilKind::List | NilKind::Map(_)) => 0,
        Value::Nil(_) => return Err(FuncError::Call("len of nil pointer".into())),
        other => {
            return Err(FuncError::Call(format!(
                "len of type {}",
                other.type_name()
            )));
        }
    };
    Ok(Value::Int(n as i64))
}

fn f_index(a: &[Value]) -> Result<Value, FuncError> {
    min_arity("index", a, 1)?;
    let mut item = a[0].clone();
    for idx in &a[1..] {
        item = match (&item, idx) {
            (Value::List(l), _) => {
                let i = idx.as_int().ok_or_else(|| {
                    FuncError::Call(format!(
                        "cannot index slice/array with type {}",
                        idx.type_name()
                    ))
                })?;
                if i < 0 || i as usize >= l.len() {
                    return Err(FuncError::Call(format!("index out of range: {i}")));
                }
                l[i as usize].clone()
            }
            (Value::Str(s), _) => {
                let i = idx.as_int().ok_or_else(|| {
                    FuncError::Call(format!(
                        "cannot index slice/array with type {}",
                        idx.type_name()
                    ))
                })?;
                match s.as_bytes().get(usize::try_from(i).unwrap_or(usize::MAX)) {
                    Some(b) => Value::Int(i64::from(*b)),
                    None => return Err(FuncError::Call(format!("index out of range: {i}"))),
                }
            }
            (Value::Map(m, elem), _) => {
                let Some(k) = idx.as_str() else {
                    return Err(FuncError::Call(format!(
                        "value has type {}; should be string",
                        idx.type_name()
                    )));
                };
                match m.iter().find(|(key, _)| key == k) {
                    Some((_, v)) => v.clone(),
                    None => elem.zero(),
                }
            }
            (Value::Nil(NilKind::Map(e)), _) => e.zero(),
            (Value::Nil(NilKind::Interface), _) => {
                return Err(FuncError::Call("index of untyped nil".into()));
            }
            (Value::Nil(NilKind::List), _) => {
                return Err(FuncError::Call(format!(
                    "index out of range: {}",
                    idx.as_int().unwrap_or(0)
                )));
            }
            (other, _) => {
                return Err(FuncError::Call(format!(
                    "can't index item of type {}",
                    other.type_name()
                )));
            }
        };
    }
    Ok(item)
}

fn f_slice(a: &[Value]) -> Result<Value, FuncError> {
    min_arity("slice", a, 1)?;
    if a.len() > 4 {
        return Err(FuncError::Call(format!(
            "too many slice indexes: {}",
            a.len() - 1
        )));
    }
    let idx: Vec<i64> = a[1..].iter().map(int_arg).collect::<Result<_, _>>()?;
    let len = match &a[0] {
        Value::Str(s) => s.len(),
        Value::List(l) => l.len(),
        other => {
            return Err(FuncError::Call(format!(
                "can't slice item of type {}",
                other.type_name()
            )));
        }
    } as i64;
    let from = idx.first().copied().unwrap_or(0);
    let to = idx.get(1).copied().unwrap_or(len);
    if from < 0 || to < from || to > len {
        return Err(FuncError::Call(format!(
            "invalid slice index: {from} > {to}"
        )));
    }
    Ok(match &a[0] {
        Value::Str(s) => Value::Str(
            String::from_utf8_lossy(&s.as_bytes()[from as usize..to as usize]).into_owned(),
        ),
        Value::List(l) => Value::List(l[from as usize..to as usize].to_vec()),
        _ => Value::Nil(NilKind::Interface),
    })
}

#[derive(PartialEq)]
enum Kind {
    Bool,
    Int,
    Float,
    Str,
    Nil,
    Other,
}

fn kind(v: &Value) -> Kind {
    match v {
        Value::Bool(_) => Kind::Bool,
        Value::Int(_) | Value::Uint(_) => Kind::Int,
        Value::Float(_) => Kind::Float,
        Value::Str(_) | Value::Number(_) => Kind::Str,
        Value::Nil(_) => Kind::Nil,
        _ => Kind::Other,
    }
}

fn as_i128(v: &Value) -> i128 {
    match v {
        Value::Int(i) => i128::from(*i),
        Value::Uint(u) => i128::from(*u),
        _ => 0,
    }
}

fn equal(x: &Value, y: &Value) -> Result<bool, FuncError> {
    let (kx, ky) = (kind(x), kind(y));
    // comparing with nil is never an error: equal only when both are nil
    if kx == Kind::Nil || ky == Kind::Nil {
        return Ok(kx == ky);
    }
    if kx == Kind::Other || ky == Kind::Other {
        return Err(FuncError::Call("incompatible types for comparison".into()));
    }
    if kx != ky {
        return Err(FuncError::Call("incompatible types for comparison".into()));
    }
    Ok(match (x, y) {
        (Value::Bool(a), Value::Bool(b)) => a == b,
        (Value::Float(a), Value::Float(b)) => a == b,
        _ if kx == Kind::Int => as_i128(x) == as_i128(y),
        _ => x.as_str() == y.as_str(),
    })
}

fn f_eq(a: &[Value]) -> Result<Value, FuncError> {
    min_arity("eq", a, 1)?;
    if a.len() == 1 {
        return Err(FuncError::Call("missing argument for comparison".into()));
    }
    for y in &a[1..] {
        if equal(&a[0], y)? {
            return Ok(Value::Bool(true));
        }
    }
    Ok(Value::Bool(false))
}

fn f_ne(a: &[Value]) -> Result<Value, FuncError> {
    arity("ne", a, 2)?;
    Ok(Value::Bool(!equal(&a[0], &a[1])?))
}

fn cmp_fn(a: &[Value], op: &str) -> Result<Value, FuncError> {
    arity(op, a, 2)?;
    let (x, y) = (&a[0], &a[1]);
    let (kx, ky) = (kind(x), kind(y));
    if !matches!(kx, Kind::Int | Kind::Float | Kind::Str) {
        return Err(FuncError::Call("invalid type for comparison".into()));
    }
    if kx != ky {
        return Err(FuncError::Call("incompatible types for comparison".into()));
    }
    let ord = match (x, y) {
        (Value::Float(p), Value::Float(q)) => p.partial_cmp(q),
        _ if kx == Kind::Int => Some(as_i128(x).cmp(&as_i128(y))),
        _ => x.as_str().partial_cmp(&y.as_str()),
    };
    let Some(ord) = ord else {
        return Ok(Value::Bool(false));
    };
    use std::cmp::Ordering::*;
    Ok(Value::Bool(match op {
        "lt" => ord == Less,
        "le" => ord != Greater,
        "gt" => ord == Greater,
        _ => ord != Less,
    }))
}

fn f_not(a: &[Value]) -> Result<Value, FuncError> {
    arity("not", a, 1)?;
    Ok(Value::Bool(!a[0].truth()))
}

fn f_printf(a: &[Value]) -> Result<Value, FuncError> {
    min_arity("printf", a, 1)?;
    let f = string_arg(&a[0])?;
    Ok(Value::Str(sprintf(f, &a[1..])))
}

/// Go's `evalArgs`: one string argument as is, otherwise `fmt.Sprint`.
fn eval_args(a: &[Value]) -> String {
    if let [Value::Str(s)] = a {
        return s.clone();
    }
    sprint(a)
}

fn f_html(a: &[Value]) -> Result<Value, FuncError> {
    let s = eval_args(a);
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '\0' => out.push('\u{FFFD}'),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    Ok(Value::Str(out))
}

fn f_js(a: &[Value]) -> Result<Value, FuncError> {
    let s = eval_args(a);
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    Ok(Value::Str(out))
}

fn f_urlquery(a: &[Value]) -> Result<Value, FuncError> {
    let s = eval_args(a);
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    Ok(Value::Str(out))
}

fn f_json(a: &[Value]) -> Result<Value, FuncError> {
    arity("json", a, 1)?;
    Ok(Value::Str(a[0].to_json(false)))
}

fn f_split(a: &[Value]) -> Result<Value, FuncError> {
    arity("split", a, 2)?;
    let s = string_arg(&a[0])?;
    let sep = string_arg(&a[1])?;
    let parts: Vec<Value> = if sep.is_empty() {
        s.chars().map(|c| Value::Str(c.to_string())).collect()
    } else {
        s.split(sep).map(|p| Value::Str(p.to_string())).collect()
    };
    Ok(Value::List(parts))
}

fn f_join(a: &[Value]) -> Result<Value, FuncError> {
    arity("join", a, 2)?;
    let sep = string_arg(&a[1])?;
    let items: Vec<&str> = match &a[0] {
        Value::List(l) => l
            .iter()
            .map(|v| match v {
                Value::Str(s) => Ok(s.as_str()),
                _ => Err(wrong_type("[]string", &a[0])),
            })
            .collect::<Result<_, _>>()?,
        Value::Nil(NilKind::List) => Vec::new(),
        other => return Err(wrong_type("[]string", other)),
    };
    Ok(Value::Str(items.join(sep)))
}

/// Go's deprecated `strings.Title`: upper-case the first letter of each
/// word (a word starts after a separator: not a letter, digit or `_`).
fn f_title(a: &[Value]) -> Result<Value, FuncError> {
    arity("title", a, 1)?;
    let s = string_arg(&a[0])?;
    let mut out = String::new();
    let mut prev_sep = true;
    for c in s.chars() {
        if prev_sep {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        prev_sep = !(c.is_alphanumeric() || c == '_');
    }
    Ok(Value::Str(out))
}

fn f_pad(a: &[Value]) -> Result<Value, FuncError> {
    arity("pad", a, 3)?;
    let s = string_arg(&a[0])?;
    let pre = int_arg(&a[1])?;
    let post = int_arg(&a[2])?;
    if s.is_empty() {
        return Ok(Value::Str(String::new()));
    }
    let rep = |n: i64| " ".repeat(usize::try_from(n).unwrap_or(0));
    Ok(Value::Str(format!("{}{s}{}", rep(pre), rep(post))))
}

fn f_truncate(a: &[Value]) -> Result<Value, FuncError> {
    arity("truncate", a, 2)?;
    let s = string_arg(&a[0])?;
    let n = int_arg(&a[1])?;
    let n = usize::try_from(n).map_err(|_| FuncError::Call("negative length".into()))?;
    if s.len() < n {
        return Ok(Value::Str(s.to_string()));
    }
    let mut end = n;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    Ok(Value::Str(s[..end].to_string()))
}
