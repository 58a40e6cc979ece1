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

/// Days since 1970-01-01 to (year, month, day) (Howard Hinnant's
/// `civil_from_days`).
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// An RFC 3339 timestamp's UTC offset in seconds (`Z` is 0).
pub fn rfc3339_offset(s: &str) -> i64 {
    if s.ends_with('Z') || s.ends_with('z') {
        return 0;
    }
    let tail = &s[s.len().saturating_sub(6)..];
    let b = tail.as_bytes();
    if b.len() == 6 && (b[0] == b'+' || b[0] == b'-') && b[3] == b':' {
        let h: i64 = tail[1..3].parse().unwrap_or(0);
        let m: i64 = tail[4..6].parse().unwrap_or(0);
        let v = h * 3600 + m * 60;
        return if b[0] == b'-' { -v } else { v };
    }
    0
}

fn fixed_parts(secs: i64, offset: i64) -> (i64, i64, i64, i64, i64) {
    let local = secs + offset;
    let days = local.div_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    (y, m, d, local.rem_euclid(86_400), days)
}

fn offset_text(offset: i64) -> String {
    let sign = if offset < 0 { '-' } else { '+' };
    format!(
        "{sign}{:02}{:02}",
        offset.abs() / 3600,
        (offset.abs() % 3600) / 60
    )
}

/// `time.Time.String()` of a time parsed from text with a fixed offset
/// (Go names a zero offset `UTC` and others by the offset itself).
pub fn go_string_at_offset(secs: i64, nanos: i32, offset: i64) -> String {
    let (y, m, d, tod, _) = fixed_parts(secs, offset);
    let mut s = format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        tod / 3600,
        (tod % 3600) / 60,
        tod % 60
    );
    if nanos > 0 {
        s.push('.');
        s.push_str(format!("{nanos:09}").trim_end_matches('0'));
    }
    let zone = if offset == 0 {
        "UTC".to_string()
    } else {
        offset_text(offset)
    };
    format!("{s} {} {zone}", offset_text(offset))
}

/// Go's `time.ANSIC` (`Mon Jan _2 15:04:05 2006`) of an RFC 3339 text, in
/// the text's own offset; the text itself when it does not parse.
pub fn ansic_from_rfc3339(text: &str) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let Some((secs, _)) = parse_rfc3339(text) else {
        return text.to_string();
    };
    let (y, m, d, tod, days) = fixed_parts(secs, rfc3339_offset(text));
    format!(
        "{} {} {d:>2} {:02}:{:02}:{:02} {y}",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[(m - 1) as usize],
        tod / 3600,
        (tod % 3600) / 60,
        tod % 60
    )
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
    fn fixed_offsets_and_ansic() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_779), (2026, 11, 22));
        assert_eq!(
            go_string_at_offset(1_795_364_352, 432_550_262, 0),
            "2026-11-22 16:19:12.432550262 +0000 UTC"
        );
        assert_eq!(
            go_string_at_offset(1_795_364_352, 0, 3600),
            "2026-11-22 17:19:12 +0100 +0100"
        );
        assert_eq!(
            ansic_from_rfc3339("2026-05-07T21:09:36.000000000+00:00"),
            "Thu May  7 21:09:36 2026"
        );
        assert_eq!(ansic_from_rfc3339("not a date"), "not a date");
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
