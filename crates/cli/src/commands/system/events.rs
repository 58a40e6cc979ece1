//! `berth events`: `GET /events?since=&until=&filters=`, a JSON stream
//! printed as it arrives, one line per event in docker's layout
//! (`2026-11-22T16:19:12.123456789Z image tag sha256:… (name=busybox:x)`)
//! or through `--format`. `--since`/`--until` take what docker takes:
//! durations (`10m`, `1h30m`, relative to now), RFC 3339 dates and times
//! (local when they carry no zone) and Unix timestamps.

use crate::app::{App, print};
use crate::cli::{EventsArgs, Usage};
use crate::client::{Method, Request};
use crate::commands::{Filters, no_args};
use crate::error::CliError;
use crate::format::json::Json;
use crate::format::template::{MapElem, Template};
use crate::format::time::rfc3339_nano_fixed;
use crate::inspect::{Field, Shape, typed};
use crate::progress::StreamDecoder;

const fn f(name: &'static str, json: &'static str, omit_empty: bool, shape: Shape) -> Field {
    Field {
        name,
        json,
        omit_empty,
        shape,
    }
}

static ACTOR: [Field; 2] = [
    f("ID", "ID", false, Shape::Str),
    f("Attributes", "Attributes", false, Shape::Map(MapElem::Str)),
];
static MESSAGE: [Field; 9] = [
    f("Status", "status", true, Shape::Str),
    f("ID", "id", true, Shape::Str),
    f("From", "from", true, Shape::Str),
    f("Type", "Type", false, Shape::Str),
    f("Action", "Action", false, Shape::Str),
    f(
        "Actor",
        "Actor",
        false,
        Shape::Struct("events.Actor", &ACTOR),
    ),
    f("Scope", "scope", true, Shape::Str),
    f("Time", "time", true, Shape::Int),
    f("TimeNano", "timeNano", true, Shape::Int),
];
/// docker's `events.Message`.
static MESSAGE_SHAPE: Shape = Shape::Struct("*events.Message", &MESSAGE);

/// docker's `timetypes.GetTimestamp`: the API's `since`/`until` value.
pub fn get_timestamp(value: &str) -> Result<String, CliError> {
    let (now_s, now_n) = crate::format::time::now();
    if value != "0"
        && let Some(d) = berth_models::duration::parse_go_duration(value)
            .ok()
            .map(i128::from)
    {
        let now_ns = i128::from(now_s) * 1_000_000_000 + i128::from(now_n);
        let t = now_ns - d;
        return Ok(t.div_euclid(1_000_000_000).to_string());
    }
    let has_zone = value.contains(['z', 'Z', '+']) || value.matches('-').count() == 3;
    let parsed = if has_zone {
        crate::format::time::parse_rfc3339(value)
    } else {
        parse_local(value)
    };
    match parsed {
        Some((s, n)) => Ok(format!("{s}.{n:09}")),
        None if value.contains('-') => Err(CliError::Usage(format!(
            "parsing time {value:?}: cannot parse it as an RFC 3339 date or time"
        ))),
        None => {
            let (sec, frac) = value.split_once('.').unwrap_or((value, "0"));
            if sec.parse::<i64>().is_ok() && frac.parse::<i64>().is_ok() {
                Ok(value.to_string())
            } else {
                Err(CliError::Usage(format!(
                    "failed to parse value as time or duration: {value:?}"
                )))
            }
        }
    }
}

/// A date or date-time without a zone, in the local zone.
fn parse_local(value: &str) -> Option<(i64, i32)> {
    let civil: jiff::civil::DateTime = if value.contains('T') {
        let (date, time) = value.split_once('T')?;
        let time = match time.matches(':').count() {
            0 => format!("{time}:00:00"),
            1 => format!("{time}:00"),
            _ => time.to_string(),
        };
        format!("{date}T{time}").parse().ok()?
    } else {
        let d: jiff::civil::Date = value.parse().ok()?;
        d.to_datetime(jiff::civil::Time::midnight())
    };
    let z = civil.to_zoned(jiff::tz::TimeZone::system()).ok()?;
    Some((z.timestamp().as_second(), z.timestamp().subsec_nanosecond()))
}

/// docker's `prettyPrintEvent`.
fn pretty(e: &Json) -> String {
    let s = |j: &Json, k: &str| j.get(k).and_then(Json::as_str).unwrap_or("").to_string();
    let n = |k: &str| e.get(k).and_then(Json::as_i64).unwrap_or(0);
    let mut out = String::new();
    if n("timeNano") != 0 {
        let t = n("timeNano");
        out.push_str(&rfc3339_nano_fixed(
            t.div_euclid(1_000_000_000),
            t.rem_euclid(1_000_000_000) as i32,
        ));
        out.push(' ');
    } else if n("time") != 0 {
        out.push_str(&rfc3339_nano_fixed(n("time"), 0));
        out.push(' ');
    }
    let actor = e.get("Actor").cloned().unwrap_or(Json::Null);
    out.push_str(&format!(
        "{} {} {}",
        s(e, "Type"),
        s(e, "Action"),
        s(&actor, "ID")
    ));
    if let Some(Json::Object(attrs)) = actor.get("Attributes")
        && !attrs.is_empty()
    {
        let mut kv: Vec<String> = attrs
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
            .collect();
        kv.sort();
        out.push_str(&format!(" ({})", kv.join(", ")));
    }
    out.push('\n');
    out
}

/// Run `events`.
pub fn run(app: &App, a: &EventsArgs, u: Usage) -> Result<(), CliError> {
    no_args(u, &a.args)?;
    let filters = Filters::parse(u, "-f, --filter", &a.filter)?;
    let tmpl = match a.format.as_deref() {
        None | Some("") => None,
        Some(f) => {
            let f = if f == "json" { "{{json .}}" } else { f };
            let t = Template::parse(f).map_err(|e| CliError::Status {
                message: format!("Error parsing format: {e}"),
                code: 64,
            })?;
            // validate on an empty message, as docker does
            if let Err(e) = t.render(&typed(None, &MESSAGE_SHAPE)) {
                return Err(CliError::Status {
                    message: format!("Error parsing format: {e}"),
                    code: 64,
                });
            }
            Some(t)
        }
    };
    let mut req = Request::new(Method::Get, "/events");
    if let Some(s) = a.since.as_deref().filter(|s| !s.is_empty()) {
        req = req.query("since", get_timestamp(s)?);
    }
    if let Some(s) = a.until.as_deref().filter(|s| !s.is_empty()) {
        req = req.query("until", get_timestamp(s)?);
    }
    if !filters.is_empty() {
        req = req.query("filters", filters.to_query());
    }
    let client = app.client()?;
    let resp = client.send(req)?;
    let mut decoder = StreamDecoder::new(resp);
    while let Some(ev) = decoder.next_value()? {
        let line = match &tmpl {
            None => pretty(&ev),
            Some(t) => {
                let out = t
                    .render(&typed(Some(&ev), &MESSAGE_SHAPE))
                    .map_err(|e| CliError::Usage(e.0))?;
                out + "\n"
            }
        };
        print(&line)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_like_docker() {
        assert_eq!(
            get_timestamp("2026-11-22T16:19:12Z").unwrap(),
            "1795364352.000000000"
        );
        assert_eq!(get_timestamp("1795364352").unwrap(), "1795364352");
        assert_eq!(get_timestamp("1795364352.5").unwrap(), "1795364352.5");
        let now = crate::format::time::now().0;
        let ago: i64 = get_timestamp("1h").unwrap().parse().unwrap();
        assert!((now - 3600 - ago).abs() <= 1);
        assert!(get_timestamp("yesterday").is_err());
        assert!(get_timestamp("2026-13-45").is_err());
    }

    #[test]
    fn pretty_events() {
        let e = Json::parse(br#"{"status":"tag","id":"sha256:x","Type":"image","Action":"tag","Actor":{"ID":"sha256:x","Attributes":{"name":"busybox:x"}},"scope":"local","time":1795364352,"timeNano":1795364352000000005}"#).unwrap();
        let p = pretty(&e);
        assert!(p.ends_with(" image tag sha256:x (name=busybox:x)\n"), "{p}");
        let t = Template::parse("{{.Type}} {{.Actor.Attributes.name}} {{.Status}}").unwrap();
        assert_eq!(
            t.render(&typed(Some(&e), &MESSAGE_SHAPE)).unwrap(),
            "image busybox:x tag"
        );
        let t = Template::parse("{{json .Actor}}").unwrap();
        assert_eq!(
            t.render(&typed(Some(&e), &MESSAGE_SHAPE)).unwrap(),
            r#"{"ID":"sha256:x","Attributes":{"name":"busybox:x"}}"#
        );
    }
}
