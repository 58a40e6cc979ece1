//! Go's `fmt` for template values: `fmt.Sprintf` (the `printf` template
//! function), `fmt.Sprint` and `fmt.Sprintln`, and `strconv.FormatFloat`'s
//! `%g` (which go-units' sizes rely on: `%.3g` gives `1.98`, `1e+03`).
//!
//! Covered: the verbs `v s d q x X o b c t f F e E g G T %`, the flags
//! `- + # 0 space`, width and precision (also `*`), and Go's error
//! notations (`%!d(string=x)`, `%!s(MISSING)`, `%!(EXTRA int=1)`).

use super::value::{NilKind, Value};

/// `strconv.FormatFloat(f, 'g', prec, 64)`; `None` is the shortest
/// representation that round-trips (`-1` in Go).
pub fn format_float_g(f: f64, prec: Option<usize>) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let neg = f.is_sign_negative() && f != 0.0;
    let a = f.abs();
    let (digits, dp) = decimal_digits(a, prec.map(|p| p.max(1)));
    let nd = digits.len();
    let (shortest, mut p) = match prec {
        None => (true, nd),
        Some(p) => (false, p.max(1)),
    };
    let mut eprec = p;
    if eprec > nd && nd as i64 >= dp {
        eprec = nd;
    }
    if shortest {
        eprec = 6;
    }
    let exp = dp - 1;
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if exp < -4 || exp >= eprec as i64 {
        if p > nd {
            p = nd;
        }
        out.push_str(&fmt_e(&digits, dp, p.saturating_sub(1), 'e'));
        return out;
    }
    if p as i64 > dp {
        p = nd;
    }
    let decimals = (p as i64 - dp).max(0) as usize;
    out.push_str(&fmt_f(&digits, dp, decimals));
    out
}

/// The significant decimal digits of `a` (no trailing zeros) and the
/// position of the decimal point, rounded to `prec` digits if given.
fn decimal_digits(a: f64, prec: Option<usize>) -> (Vec<u8>, i64) {
    if a == 0.0 {
        return (vec![], 1);
    }
    let s = match prec {
        Some(p) => format!("{:.*e}", p - 1, a),
        None => format!("{a:e}"),
    };
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    let mut digits: Vec<u8> = mant.bytes().filter(u8::is_ascii_digit).collect();
    while digits.last() == Some(&b'0') {
        digits.pop();
    }
    (digits, exp + 1)
}

fn digit_at(digits: &[u8], i: i64) -> char {
    if i < 0 {
        return '0';
    }
    digits.get(i as usize).map_or('0', |d| *d as char)
}

/// `%e` with `prec` digits after the point.
fn fmt_e(digits: &[u8], dp: i64, prec: usize, e: char) -> String {
    let mut s = String::new();
    s.push(digit_at(digits, 0));
    if prec > 0 {
        s.push('.');
        for i in 1..=prec {
            s.push(digit_at(digits, i as i64));
        }
    }
    s.push(e);
    let exp = if digits.is_empty() { 0 } else { dp - 1 };
    s.push(if exp < 0 { '-' } else { '+' });
    let exp = exp.abs();
    if exp < 10 {
        s.push('0');
    }
    s.push_str(&exp.to_string());
    s
}

/// `%f` with `decimals` digits after the point.
fn fmt_f(digits: &[u8], dp: i64, decimals: usize) -> String {
    let mut s = String::new();
    if dp > 0 {
        for i in 0..dp {
            s.push(digit_at(digits, i));
        }
    } else {
        s.push('0');
    }
    if decimals > 0 {
        s.push('.');
        for i in 0..decimals {
            s.push(digit_at(digits, dp + i as i64));
        }
    }
    s
}

/// `strconv.FormatFloat(f, 'f'|'e', prec, 64)` with rounding of the exact
/// binary value.
fn format_float_fixed(f: f64, verb: char, prec: usize) -> String {
    match verb {
        'e' | 'E' => {
            let neg = f.is_sign_negative() && f != 0.0;
            let (digits, dp) = decimal_digits(f.abs(), Some(prec + 1));
            let mut s = String::new();
            if neg {
                s.push('-');
            }
            s.push_str(&fmt_e(&digits, dp, prec, verb));
            s
        }
        _ => format!("{f:.prec$}"),
    }
}

#[derive(Default, Clone, Copy)]
struct Spec {
    minus: bool,
    plus: bool,
    sharp: bool,
    zero: bool,
    space: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

/// `fmt.Sprintf(format, args...)`.
pub fn sprintf(format: &str, args: &[Value]) -> String {
    let mut out = String::new();
    let mut argi = 0usize;
    let chars: Vec<char> = format.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c != '%' {
            out.push(c);
            i += 1;
            continue;
        }
        i += 1;
        let mut spec = Spec::default();
        while i < chars.len() {
            match chars[i] {
                '-' => spec.minus = true,
                '+' => spec.plus = true,
                '#' => spec.sharp = true,
                '0' => spec.zero = true,
                ' ' => spec.space = true,
                _ => break,
            }
            i += 1;
        }
        // width
        if i < chars.len() && chars[i] == '*' {
            i += 1;
            match args.get(argi).and_then(Value::as_int) {
                Some(w) => {
                    if w < 0 {
                        spec.minus = true;
                    }
                    spec.width = Some(w.unsigned_abs() as usize);
                }
                None => out.push_str("%!(BADWIDTH)"),
            }
            argi += 1;
        } else {
            let mut w = String::new();
            while i < chars.len() && chars[i].is_ascii_digit() {
                w.push(chars[i]);
                i += 1;
            }
            if !w.is_empty() {
                spec.width = w.parse().ok();
            }
        }
        // precision
        if i < chars.len() && chars[i] == '.' {
            i += 1;
            if i < chars.len() && chars[i] == '*' {
                i += 1;
                match args.get(argi).and_then(Value::as_int) {
                    Some(p) if p >= 0 => spec.prec = Some(p as usize),
                    _ => out.push_str("%!(BADPREC)"),
                }
                argi += 1;
            } else {
                let mut p = String::new();
                while i < chars.len() && chars[i].is_ascii_digit() {
                    p.push(chars[i]);
                    i += 1;
                }
                spec.prec = Some(p.parse().unwrap_or(0));
            }
        }
        if !spec.minus && spec.zero {
            // Go: '0' pads with zeros after the sign
        } else {
            spec.zero = spec.zero && !spec.minus;
        }
        let Some(&verb) = chars.get(i) else {
            out.push_str("%!(NOVERB)");
            break;
        };
        i += 1;
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = args.get(argi) else {
            out.push_str(&format!("%!{verb}(MISSING)"));
            continue;
        };
        argi += 1;
        out.push_str(&format_one(verb, spec, arg));
    }
    if argi < args.len() {
        out.push_str("%!(EXTRA ");
        for (n, a) in args[argi..].iter().enumerate() {
            if n > 0 {
                out.push_str(", ");
            }
            out.push_str(&bad_arg_text(a));
        }
        out.push(')');
    }
    out
}

fn bad_arg_text(a: &Value) -> String {
    match a {
        Value::Nil(NilKind::Interface) => "<nil>".into(),
        _ => format!("{}={}", a.type_name(), a.to_go_string()),
    }
}

fn bad_verb(verb: char, a: &Value) -> String {
    match a {
        Value::Nil(NilKind::Interface) => format!("%!{verb}(<nil>)"),
        _ => format!("%!{verb}({}={})", a.type_name(), a.to_go_string()),
    }
}

fn pad(s: String, spec: Spec, numeric: bool) -> String {
    let Some(width) = spec.width else {
        return s;
    };
    let n = s.chars().count();
    if n >= width {
        return s;
    }
    let fill = width - n;
    if spec.minus {
        return s + &" ".repeat(fill);
    }
    if spec.zero && numeric {
        let (sign, rest) = match s.strip_prefix(['-', '+', ' ']) {
            Some(r) => (&s[..1], r),
            None => ("", s.as_str()),
        };
        return format!("{sign}{}{rest}", "0".repeat(fill));
    }
    if spec.zero {
        return "0".repeat(fill) + &s;
    }
    " ".repeat(fill) + &s
}

fn sign(s: String, spec: Spec, negative: bool) -> String {
    if negative {
        return s;
    }
    if spec.plus {
        format!("+{s}")
    } else if spec.space {
        format!(" {s}")
    } else {
        s
    }
}

fn truncate_prec(s: &str, spec: Spec) -> String {
    match spec.prec {
        Some(p) => s.chars().take(p).collect(),
        None => s.to_string(),
    }
}

fn format_one(verb: char, spec: Spec, a: &Value) -> String {
    if verb == 'T' {
        let t = match a {
            Value::Nil(NilKind::Interface) => "<nil>".to_string(),
            _ => a.type_name(),
        };
        return pad(t, spec, false);
    }
    match a {
        Value::Str(s) | Value::Number(s) => match verb {
            'v' | 's' => pad(truncate_prec(s, spec), spec, false),
            'q' => pad(go_quote(&truncate_prec(s, spec)), spec, false),
            'x' | 'X' => {
                let mut h = String::new();
                for b in truncate_prec(s, spec).bytes() {
                    if verb == 'x' {
                        h.push_str(&format!("{b:02x}"));
                    } else {
                        h.push_str(&format!("{b:02X}"));
                    }
                }
                pad(h, spec, false)
            }
            _ => bad_verb(verb, a),
        },
        Value::Bool(b) => match verb {
            'v' | 't' => pad(b.to_string(), spec, false),
            _ => bad_verb(verb, a),
        },
        Value::Int(_) | Value::Uint(_) => {
            let (neg, mag) = match a {
                Value::Int(i) => (*i < 0, i.unsigned_abs()),
                Value::Uint(u) => (false, *u),
                _ => (false, 0),
            };
            let body = match verb {
                'v' | 'd' => mag.to_string(),
                'x' => {
                    let h = format!("{mag:x}");
                    if spec.sharp { format!("0x{h}") } else { h }
                }
                'X' => {
                    let h = format!("{mag:X}");
                    if spec.sharp { format!("0X{h}") } else { h }
                }
                'o' => {
                    let o = format!("{mag:o}");
                    if spec.sharp { format!("0{o}") } else { o }
                }
                'b' => format!("{mag:b}"),
                'c' => {
                    let ch = u32::try_from(mag)
                        .ok()
                        .and_then(char::from_u32)
                        .unwrap_or('\u{FFFD}');
                    return pad(ch.to_string(), spec, false);
                }
                'q' => {
                    let ch = u32::try_from(mag)
                        .ok()
                        .and_then(char::from_u32)
                        .unwrap_or('\u{FFFD}');
                    return pad(format!("'{ch}'"), spec, false);
                }
                'U' => return pad(format!("U+{mag:04X}"), spec, false),
                'f' | 'F' | 'e' | 'E' | 'g' | 'G' | 's' => return bad_verb(verb, a),
                _ => return bad_verb(verb, a),
            };
            let body = match spec.prec {
                Some(p) if body.len() < p => format!("{}{body}", "0".repeat(p - body.len())),
                _ => body,
            };
            let s = if neg { format!("-{body}") } else { body };
            pad(sign(s, spec, neg), spec, true)
        }
        Value::Float(f) => {
            let s = match verb {
                'v' | 'g' | 'G' => format_float_g(*f, spec.prec),
                'f' | 'F' => format_float_fixed(*f, 'f', spec.prec.unwrap_or(6)),
                'e' | 'E' => format_float_fixed(*f, verb, spec.prec.unwrap_or(6)),
                _ => return bad_verb(verb, a),
            };
            let neg = s.starts_with('-');
            pad(sign(s, spec, neg), spec, true)
        }
        Value::Time { display, .. } => match verb {
            'v' | 's' => pad(truncate_prec(display, spec), spec, false),
            'q' => pad(go_quote(display), spec, false),
            _ => bad_verb(verb, a),
        },
        Value::Nil(NilKind::Interface) => match verb {
            'v' => pad("<nil>".to_string(), spec, false),
            _ => bad_verb(verb, a),
        },
        Value::Nil(_) | Value::List(_) | Value::Map(..) | Value::Struct(_) => match verb {
            'v' | 's' => pad(a.to_go_string(), spec, false),
            _ => bad_verb(verb, a),
        },
    }
}

/// `strconv.Quote`.
pub fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `fmt.Sprint(args...)`: a space between operands when neither is a string.
pub fn sprint(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        let is_str = |v: &Value| matches!(v, Value::Str(_) | Value::Number(_));
        if i > 0 && !is_str(a) && !is_str(&args[i - 1]) {
            out.push(' ');
        }
        out.push_str(&a.to_go_string());
    }
    out
}

/// `fmt.Sprintln(args...)`: spaces between all operands, then a newline.
pub fn sprintln(args: &[Value]) -> String {
    let parts: Vec<String> = args.iter().map(Value::to_go_string).collect();
    parts.join(" ") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g_format_like_go() {
        let cases: &[(f64, Option<usize>, &str)] = &[
            (1.982, Some(3), "1.98"),
            (999.9, Some(3), "1e+03"),
            (100.0, Some(3), "100"),
            (4.26, Some(3), "4.26"),
            (12.0, Some(3), "12"),
            (0.0, Some(3), "0"),
            (1.5, Some(4), "1.5"),
            (1982.0, Some(4), "1982"),
            (19820.0, Some(4), "1.982e+04"),
            (1000000.0, None, "1e+06"),
            (123456.0, None, "123456"),
            (0.5, None, "0.5"),
            (0.00001, None, "1e-05"),
            (3.0, None, "3"),
        ];
        for (f, p, want) in cases {
            assert_eq!(format_float_g(*f, *p), *want, "{f} {p:?}");
        }
    }

    #[test]
    fn sprintf_verbs() {
        let s = |f: &str, a: &[Value]| sprintf(f, a);
        assert_eq!(s("%s-%d", &["a".into(), Value::Int(5)]), "a-5");
        assert_eq!(s("%5s|%-5s|", &["ab".into(), "cd".into()]), "   ab|cd   |");
        assert_eq!(s("%.3s", &["abcdef".into()]), "abc");
        assert_eq!(s("%05d", &[Value::Int(-42)]), "-0042");
        assert_eq!(
            s("%x %X %q", &[Value::Int(255), "hi".into(), "a\"b".into()]),
            "ff 6869 \"a\\\"b\""
        );
        assert_eq!(s("%d", &["x".into()]), "%!d(string=x)");
        assert_eq!(s("%s %s", &["x".into()]), "x %!s(MISSING)");
        assert_eq!(s("%s", &["x".into(), Value::Int(1)]), "x%!(EXTRA int=1)");
        assert_eq!(
            s(
                "%v %t %%",
                &[Value::List(vec!["a".into()]), Value::Bool(true)]
            ),
            "[a] true %"
        );
        assert_eq!(
            s("%.2f %e", &[Value::Float(1.23456), Value::Float(1234.5)]),
            "1.23 1.234500e+03"
        );
        assert_eq!(s("%T", &["x".into()]), "string");
    }

    #[test]
    fn sprint_spacing() {
        assert_eq!(sprint(&["a".into(), "b".into()]), "ab");
        assert_eq!(sprint(&[Value::Int(1), Value::Int(2)]), "1 2");
        assert_eq!(sprint(&["a".into(), Value::Int(2)]), "a2");
        assert_eq!(sprintln(&["a".into(), "b".into()]), "a b\n");
    }
}
