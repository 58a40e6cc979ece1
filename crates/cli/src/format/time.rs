//! Go's time formats as the docker CLI prints them, in the local time zone
//! (`TZ`, else `/etc/localtime`, as Go's `time.Local`):
//! `time.Time.String()` (`2026-11-22 16:19:12 +0000 UTC`), RFC 3339
//! (`2026-11-22T16:19:12Z`), docker's fixed-width RFC 3339 with nanoseconds
//! (jsonmessage and event timestamps), and parsing of the API's RFC 3339
//! strings.

use jiff::Timestamp;
use jiff::tz::TimeZone;

fn zoned(secs: i64, nanos: i32) -> Option<jiff::Zoned> {
    let ts = Timestamp::new(secs, nanos).ok()?;
    Some(ts.to_zoned(TimeZone::system()))
}

fn offset_hhmm(z: &jiff::Zoned, colon: bool) -> String {
    let secs = z.offset().seconds();
    let sign = if secs < 0 { '-' } else { '+' };
    let a = secs.abs();
    if colon {
        format!("{sign}{:02}:{:02}", a / 3600, (a % 3600) / 60)
    } else {
        format!("{sign}{:02}{:02}", a / 3600, (a % 3600) / 60)
    }
}

fn abbreviation(z: &jiff::Zoned) -> String {
    let info = z.time_zone().to_offset_info(z.timestamp());
    let abbr = info.abbreviation();
    if abbr.is_empty() {
        offset_hhmm(z, false)
    } else {
        abbr.to_string()
    }
}

/// `time.Unix(secs, nanos).String()`:
/// `2006-01-02 15:04:05.999999999 -0700 MST` (fraction without trailing
/// zeros, omitted when zero).
pub fn go_string(secs: i64, nanos: i32) -> String {
    let Some(z) = zoned(secs, nanos) else {
        return String::new();
    };
    let mut s = z.strftime("%Y-%m-%d %H:%M:%S").to_string();
    if nanos > 0 {
        let frac = format!("{nanos:09}");
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    format!("{s} {} {}", offset_hhmm(&z, false), abbreviation(&z))
}

/// `time.Unix(secs, 0).Format(time.RFC3339)`: `2006-01-02T15:04:05Z07:00`.
pub fn rfc3339(secs: i64) -> String {
    let Some(z) = zoned(secs, 0) else {
        return String::new();
    };
    let base = z.strftime("%Y-%m-%dT%H:%M:%S").to_string();
    if z.offset().seconds() == 0 {
        format!("{base}Z")
    } else {
        format!("{base}{}", offset_hhmm(&z, true))
    }
}

/// docker's `RFC3339NanoFixed`: `2006-01-02T15:04:05.000000000Z07:00`.
pub fn rfc3339_nano_fixed(secs: i64, nanos: i32) -> String {
    let Some(z) = zoned(secs, nanos) else {
        return String::new();
    };
    let base = z.strftime("%Y-%m-%dT%H:%M:%S").to_string();
    let off = if z.offset().seconds() == 0 {
        "Z".to_string()
    } else {
        offset_hhmm(&z, true)
    };
    format!("{base}.{nanos:09}{off}")
}

/// Parse an RFC 3339 timestamp (with or without fraction) into Unix
/// seconds and nanoseconds.
pub fn parse_rfc3339(s: &str) -> Option<(i64, i32)> {
    let ts: Timestamp = s.parse().ok()?;
    Some((ts.as_second(), ts.subsec_nanosecond()))
}

/// Seconds since the Unix epoch, now.
pub fn now() -> (i64, i32) {
    let ts = Timestamp::now();
    (ts.as_second(), ts.subsec_nanosecond())
}

/// Seconds elapsed since `secs` (fractional), as Go's
/// `time.Now().Sub(t).Seconds()`.
pub fn seconds_since(secs: i64, nanos: i32) -> f64 {
    let (n, nn) = now();
    (n - secs) as f64 + f64::from(nn - nanos) / 1e9
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_in_utc() {
        // SAFETY-free: set_var is unsafe in edition 2024 only for threads;
        // jiff reads TZ per call through TimeZone::system(), which caches,
        // so these checks only run when the host zone is UTC.
        let z = TimeZone::system();
        if z.to_offset(Timestamp::UNIX_EPOCH).seconds() != 0 {
            eprintln!("SKIP: formats_in_utc: the local zone is not UTC");
            return;
        }
        assert_eq!(go_string(1_795_364_352, 0), "2026-11-22 16:19:12 +0000 UTC");
        assert_eq!(
            go_string(1_795_364_352, 432_550_262),
            "2026-11-22 16:19:12.432550262 +0000 UTC"
        );
        assert_eq!(rfc3339(1_795_364_352), "2026-11-22T16:19:12Z");
        assert_eq!(
            rfc3339_nano_fixed(1_795_364_352, 5),
            "2026-11-22T16:19:12.000000005Z"
        );
    }

    #[test]
    fn parses_api_timestamps() {
        assert_eq!(
            parse_rfc3339("2026-11-22T16:19:12.431503932Z"),
            Some((1_795_364_352, 431_503_932))
        );
        assert_eq!(
            parse_rfc3339("2026-11-22T17:19:12+01:00"),
            Some((1_795_364_352, 0))
        );
        assert_eq!(parse_rfc3339("yesterday"), None);
    }
}
