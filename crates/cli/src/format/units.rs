//! Human units as docker's go-units prints them: decimal sizes with a
//! given number of significant digits (`1.98MB`, `4.26kB`, `1e+03MB`),
//! binary sizes (`17.5MiB`), and approximate durations ("About a minute",
//! "2 weeks").

use crate::format::template::printf::format_float_g;

const DECIMAL: [&str; 9] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
const BINARY: [&str; 9] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"];

fn size_and_unit(mut size: f64, base: f64, units: &[&'static str]) -> (f64, &'static str) {
    let mut i = 0;
    while size >= base && i < units.len() - 1 {
        size /= base;
        i += 1;
    }
    (size, units[i])
}

/// `units.HumanSizeWithPrecision`: decimal units, `precision` significant
/// digits (`%.*g`).
pub fn human_size_with_precision(size: f64, precision: usize) -> String {
    let (s, unit) = size_and_unit(size, 1000.0, &DECIMAL);
    format!("{}{unit}", format_float_g(s, Some(precision)))
}

/// `units.HumanSize`: four significant digits.
pub fn human_size(size: f64) -> String {
    human_size_with_precision(size, 4)
}

/// `units.BytesSize`: binary units, four significant digits.
pub fn bytes_size(size: f64) -> String {
    let (s, unit) = size_and_unit(size, 1024.0, &BINARY);
    format!("{}{unit}", format_float_g(s, Some(4)))
}

/// `units.HumanDuration` of a duration in seconds.
pub fn human_duration(seconds_f: f64) -> String {
    let seconds = seconds_f as i64;
    if seconds < 1 {
        return "Less than a second".into();
    }
    if seconds == 1 {
        return "1 second".into();
    }
    if seconds < 60 {
        return format!("{seconds} seconds");
    }
    let minutes = (seconds_f / 60.0) as i64;
    if minutes == 1 {
        return "About a minute".into();
    }
    if minutes < 60 {
        return format!("{minutes} minutes");
    }
    let hours = (seconds_f / 3600.0 + 0.5) as i64;
    if hours == 1 {
        return "About an hour".into();
    }
    if hours < 48 {
        return format!("{hours} hours");
    }
    if hours < 24 * 7 * 2 {
        return format!("{} days", hours / 24);
    }
    if hours < 24 * 30 * 2 {
        return format!("{} weeks", hours / 24 / 7);
    }
    if hours < 24 * 365 * 2 {
        return format!("{} months", hours / 24 / 30);
    }
    format!("{} years", (seconds_f / 3600.0) as i64 / 24 / 365)
}

/// Parse a size like docker's `units.RAMInBytes` (binary units, `b`
/// optional, case-insensitive): `64m`, `1.5GiB`, `512`.
pub fn ram_in_bytes(s: &str) -> Option<i64> {
    let t = s.trim();
    let idx = t
        .rfind(|c: char| c.is_ascii_digit() || c == '.' || c == ' ')
        .map(|i| i + 1)?;
    let (num, suffix) = t.split_at(idx);
    let num: f64 = num.trim().parse().ok()?;
    let suffix = suffix.to_ascii_lowercase();
    let suffix = suffix.trim_end_matches('b').trim_end_matches('i');
    let mult: f64 = match suffix {
        "" => 1.0,
        "k" => 1024.0,
        "m" => 1024.0 * 1024.0,
        "g" => 1024.0 * 1024.0 * 1024.0,
        "t" => 1024f64.powi(4),
        "p" => 1024f64.powi(5),
        _ => return None,
    };
    if num < 0.0 {
        return None;
    }
    Some((num * mult) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_like_go_units() {
        assert_eq!(human_size_with_precision(1982000.0, 3), "1.98MB");
        assert_eq!(human_size_with_precision(4260.0, 3), "4.26kB");
        assert_eq!(human_size_with_precision(999_900.0, 3), "1e+03kB");
        assert_eq!(human_size_with_precision(0.0, 3), "0B");
        assert_eq!(human_size_with_precision(512.0, 3), "512B");
        assert_eq!(human_size(1982000.0), "1.982MB");
        assert_eq!(human_size(45_600_000.0), "45.6MB");
        assert_eq!(bytes_size(17.5 * 1024.0 * 1024.0), "17.5MiB");
        assert_eq!(bytes_size(1024.0), "1KiB");
    }

    #[test]
    fn durations_like_go_units() {
        let cases = [
            (0.5, "Less than a second"),
            (1.0, "1 second"),
            (59.0, "59 seconds"),
            (60.0, "About a minute"),
            (119.0, "About a minute"),
            (120.0, "2 minutes"),
            (3599.0, "59 minutes"),
            (3600.0, "About an hour"),
            (5399.0, "About an hour"),
            (5400.0, "2 hours"),
            (47.0 * 3600.0, "47 hours"),
            (48.0 * 3600.0, "2 days"),
            (14.0 * 86400.0, "2 weeks"),
            (60.0 * 86400.0, "2 months"),
            (800.0 * 86400.0, "2 years"),
        ];
        for (secs, want) in cases {
            assert_eq!(human_duration(secs), want, "{secs}");
        }
    }

    #[test]
    fn ram_sizes() {
        assert_eq!(ram_in_bytes("64m"), Some(64 << 20));
        assert_eq!(ram_in_bytes("1.5GiB"), Some(3 << 29));
        assert_eq!(ram_in_bytes("512"), Some(512));
        assert_eq!(ram_in_bytes("12x"), None);
    }
}
