//! Timestamps as the Docker API writes them: Go's RFC 3339 with
//! nanoseconds (`2026-11-22T16:21:45.123456789Z`, trailing zeros trimmed),
//! and their parsing (with any UTC offset) for image configs and filters.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A timestamp that is not RFC 3339.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid RFC 3339 timestamp {0:?}")]
pub struct InvalidTime(pub String);

/// Formats `t` in UTC like Go's `time.RFC3339Nano`.
pub fn format_rfc3339_nanos(t: SystemTime) -> String {
    let (secs, nanos) = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (d.as_secs() as i64, d.subsec_nanos()),
        Err(e) => {
            let d = e.duration();
            let nanos = d.subsec_nanos();
            if nanos == 0 {
                (-(d.as_secs() as i64), 0)
            } else {
                (-(d.as_secs() as i64) - 1, 1_000_000_000 - nanos)
            }
        }
    };
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let mut out = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    );
    if nanos != 0 {
        let frac = format!("{nanos:09}");
        out.push('.');
        out.push_str(frac.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

/// Parses an RFC 3339 timestamp (`Z` or `±hh:mm`, optional fraction).
pub fn parse_rfc3339(s: &str) -> Result<SystemTime, InvalidTime> {
    let bad = || InvalidTime(s.to_string());
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return Err(bad());
    }
    if b[13] != b':' || b[16] != b':' {
        return Err(bad());
    }
    let num = |range: std::ops::Range<usize>| -> Result<i64, InvalidTime> {
        let part = s.get(range).ok_or_else(bad)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        part.parse().map_err(|_| bad())
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return Err(bad());
    }
    let mut rest = &s[19..];
    let mut nanos: u32 = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad());
        }
        for (i, c) in frac[..digits].bytes().enumerate().take(9) {
            nanos += u32::from(c - b'0') * 10u32.pow(8 - i as u32);
        }
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6
            && matches!(rest.as_bytes()[0], b'+' | b'-')
            && rest.as_bytes()[3] == b':' =>
        {
            let h: i64 = rest[1..3].parse().map_err(|_| bad())?;
            let m: i64 = rest[4..6].parse().map_err(|_| bad())?;
            let sign = if rest.starts_with('-') { -1 } else { 1 };
            sign * (h * 3600 + m * 60)
        }
        _ => return Err(bad()),
    };
    let secs =
        days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset;
    Ok(from_unix(secs, nanos))
}

/// Seconds since the epoch (negative before it), as the API's integer times.
pub fn unix_seconds(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs_f64().ceil() as i64),
    }
}

/// Nanoseconds since the epoch.
pub fn unix_nanos(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i64,
        Err(e) => -(e.duration().as_nanos() as i64),
    }
}

/// A point in time from epoch seconds and nanoseconds.
pub fn from_unix(secs: i64, nanos: u32) -> SystemTime {
    if secs >= 0 {
        UNIX_EPOCH + Duration::new(secs as u64, nanos)
    } else {
        UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
            + Duration::from_nanos(u64::from(nanos))
    }
}

/// Parses the API's `since`/`until` values: Unix seconds with an optional
/// fraction (`1500000000.123456789`), what the docker CLI sends.
pub fn parse_unix_timestamp(s: &str) -> Option<SystemTime> {
    let (secs, frac) = s.split_once('.').unwrap_or((s, ""));
    let secs: i64 = secs.parse().ok()?;
    let mut nanos = 0u32;
    for (i, c) in frac.bytes().enumerate().take(9) {
        if !c.is_ascii_digit() {
            return None;
        }
        nanos += u32::from(c - b'0') * 10u32.pow(8 - i as u32);
    }
    Some(from_unix(secs, nanos))
}

// Howard Hinnant's days-from-civil algorithms (proleptic Gregorian calendar).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_go() {
        assert_eq!(format_rfc3339_nanos(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let t = from_unix(1_763_828_505, 123_450_000);
        assert_eq!(format_rfc3339_nanos(t), "2025-11-22T16:21:45.12345Z");
        assert_eq!(
            format_rfc3339_nanos(from_unix(951_782_400, 0)),
            "2000-02-29T00:00:00Z"
        );
    }

    #[test]
    fn parses_offsets_and_fractions() {
        let t = parse_rfc3339("2025-11-22T16:21:45.12345Z").unwrap();
        assert_eq!(t, from_unix(1_763_828_505, 123_450_000));
        let t = parse_rfc3339("2025-11-22T18:21:45+02:00").unwrap();
        assert_eq!(unix_seconds(t), 1_763_828_505);
        assert_eq!(
            unix_seconds(parse_rfc3339("1969-12-31T23:59:59Z").unwrap()),
            -1
        );
        for bad in [
            "",
            "2025-11-22",
            "2025-13-01T00:00:00Z",
            "2025-11-22T16:21:45",
            "2025-11-22T16:21:45.Z",
        ] {
            assert!(parse_rfc3339(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn round_trips() {
        for secs in [0i64, 1, 86_399, 1_000_000_000, 4_102_444_800, -86_401] {
            let t = from_unix(secs, 7);
            assert_eq!(parse_rfc3339(&format_rfc3339_nanos(t)).unwrap(), t);
        }
    }

    #[test]
    fn unix_timestamps() {
        assert_eq!(
            parse_unix_timestamp("10.5"),
            Some(from_unix(10, 500_000_000))
        );
        assert_eq!(parse_unix_timestamp("10"), Some(from_unix(10, 0)));
        assert_eq!(parse_unix_timestamp("x"), None);
    }
}
