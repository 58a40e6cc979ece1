//! Flag values parsed as pflag parses docker's typed flags, at parse
//! time: an error here is docker's `invalid argument "v" for "--flag"
//! flag: <reason>` (exit 125) and the reason is the text returned.
//! Memory sizes are go-units' `RAMInBytes`, `--cpus` a decimal turned
//! into nano CPUs, durations Go's `time.ParseDuration`, integers
//! `strconv.ParseInt`.

use serde_json::{Value, json};

/// `strconv.ParseInt` as pflag's int flags report it.
pub fn int64(s: &str) -> Result<i64, String> {
    s.parse::<i64>().map_err(|e| {
        let why = if matches!(
            e.kind(),
            std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow
        ) {
            "value out of range"
        } else {
            "invalid syntax"
        };
        format!("strconv.ParseInt: parsing {s:?}: {why}")
    })
}

/// An `int` flag (Go's int is 64 bits here).
pub fn int(s: &str) -> Result<i64, String> {
    int64(s)
}

/// A `uint16` flag.
pub fn uint16(s: &str) -> Result<u16, String> {
    s.parse::<u16>().map_err(|e| {
        let why = if matches!(e.kind(), std::num::IntErrorKind::PosOverflow) {
            "value out of range"
        } else {
            "invalid syntax"
        };
        format!("strconv.ParseUint: parsing {s:?}: {why}")
    })
}

/// `strconv.ParseBool`.
pub fn go_bool(s: &str) -> Result<bool, String> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(format!("strconv.ParseBool: parsing {s:?}: invalid syntax")),
    }
}

/// go-units' `RAMInBytes`: `^(\d+(\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$`,
/// binary multiples.
pub fn ram_in_bytes(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
        i += 1;
    }
    let num = &s[..i];
    if num.is_empty() || !num.as_bytes()[0].is_ascii_digit() || num.ends_with('.') {
        return None;
    }
    if num.contains("..") {
        return None;
    }
    let mut rest = &s[i..];
    rest = rest.strip_prefix(' ').unwrap_or(rest);
    let lower = rest.to_ascii_lowercase();
    let mut r = lower.as_str();
    let mut mult: f64 = 1.0;
    if let Some(c) = r.chars().next() {
        let m = match c {
            'k' => Some(1024f64),
            'm' => Some(1024f64.powi(2)),
            'g' => Some(1024f64.powi(3)),
            't' => Some(1024f64.powi(4)),
            'p' => Some(1024f64.powi(5)),
            _ => None,
        };
        if let Some(m) = m {
            mult = m;
            r = &r[1..];
        }
    }
    r = r.strip_prefix('i').unwrap_or(r);
    r = r.strip_prefix('b').unwrap_or(r);
    if !r.is_empty() {
        return None;
    }
    // Go parses "1.2.3" as 1.2 (the first two parts); do the same
    let mut parts = num.split('.');
    let whole = parts.next().unwrap_or("0");
    let value: f64 = match parts.next() {
        Some(frac) => format!("{whole}.{frac}").parse().ok()?,
        None => whole.parse().ok()?,
    };
    Some((value * mult) as i64)
}

/// A `MemBytes` flag.
pub fn mem_bytes(s: &str) -> Result<i64, String> {
    ram_in_bytes(s).ok_or_else(|| format!("invalid size: '{s}'"))
}

/// A `MemSwapBytes` flag: `-1` is unlimited.
pub fn mem_swap_bytes(s: &str) -> Result<i64, String> {
    if s == "-1" {
        return Ok(-1);
    }
    mem_bytes(s)
}

/// `--cpus`: a decimal number of CPUs as nano CPUs.
pub fn nano_cpus(s: &str) -> Result<i64, String> {
    let bad = || format!("failed to parse {s} as a rational number");
    let t = s.trim();
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    if (whole.is_empty() && frac.is_empty())
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let frac_trim = frac.trim_end_matches('0');
    if frac_trim.len() > 9 {
        return Err("value is too precise".into());
    }
    let w: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad())?
    };
    let f: i64 = format!("{frac_trim:0<9}").parse().map_err(|_| bad())?;
    let v = w
        .checked_mul(1_000_000_000)
        .and_then(|x| x.checked_add(f))
        .ok_or_else(bad)?;
    Ok(if neg { -v } else { v })
}

/// Go's `time.ParseDuration`, in nanoseconds, with Go's error messages.
pub fn duration(s: &str) -> Result<i64, String> {
    berth_models::duration::parse_go_duration(s).map_err(|e| e.to_string())
}

fn is_ip(s: &str) -> bool {
    s.parse::<std::net::IpAddr>().is_ok()
}

/// `opts.ValidateIPAddress`.
pub fn ip_address(s: &str) -> Result<String, String> {
    let t = s.trim();
    if is_ip(t) {
        Ok(t.to_string())
    } else {
        Err(format!("IP address is not correctly formatted: {s}"))
    }
}

/// pflag's `IP` flag, IPv4.
pub fn ipv4(s: &str) -> Result<String, String> {
    match s.trim().parse::<std::net::IpAddr>() {
        Ok(ip) => Ok(ip.to_string()),
        Err(_) => Err(format!("invalid string being converted to IP address: {s}")),
    }
}

/// pflag's `IP` flag, IPv6.
pub fn ipv6(s: &str) -> Result<String, String> {
    ipv4(s)
}

/// `opts.ValidateExtraHost`: `host:ip` or `host=ip` (`host-gateway`
/// allowed), normalised to `host:ip`.
pub fn extra_host(s: &str) -> Result<String, String> {
    let (name, ip) = match s.split_once('=') {
        Some(p) => p,
        None => s
            .split_once(':')
            .ok_or_else(|| format!("bad format for add-host: {s:?}"))?,
    };
    if name.is_empty() {
        return Err(format!("bad format for add-host: {s:?}"));
    }
    let ip_t = ip.trim_start_matches('[').trim_end_matches(']');
    if ip != "host-gateway" && !is_ip(ip_t) {
        return Err(format!("invalid IP address in add-host: {ip:?}"));
    }
    Ok(format!("{name}:{ip_t}"))
}

/// `ValidateAttach`: stdin, stdout or stderr (any case), lower-cased.
pub fn attach(s: &str) -> Result<String, String> {
    let l = s.to_lowercase();
    if ["stdin", "stdout", "stderr"].contains(&l.as_str()) {
        Ok(l)
    } else {
        Err("valid streams are STDIN, STDOUT and STDERR".into())
    }
}

/// `opts.ValidateSysctl`: the namespaced sysctls docker lets through.
pub fn sysctl(s: &str) -> Result<String, String> {
    const WHITELIST: [&str; 5] = [
        "kernel.msgmax",
        "kernel.msgmnb",
        "kernel.msgmni",
        "kernel.sem",
        "kernel.shmall",
    ];
    const PREFIXES: [&str; 2] = ["fs.mqueue.", "net."];
    let Some((k, _)) = s.split_once('=') else {
        return Err(format!("sysctl '{s}' is not allowed"));
    };
    let ok = WHITELIST.contains(&k)
        || ["kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"].contains(&k)
        || PREFIXES.iter().any(|p| k.starts_with(p));
    if ok {
        Ok(s.to_string())
    } else {
        Err(format!("sysctl '{s}' is not allowed"))
    }
}

/// go-units' `ParseUlimit`: `name=soft[:hard]` as the API's ulimit.
pub fn ulimit(s: &str) -> Result<Value, String> {
    const NAMES: [&str; 16] = [
        "core",
        "cpu",
        "data",
        "fsize",
        "locks",
        "memlock",
        "msgqueue",
        "nice",
        "nofile",
        "nproc",
        "rss",
        "rtprio",
        "rttime",
        "sigpending",
        "stack",
        "as",
    ];
    let Some((name, limits)) = s.split_once('=') else {
        return Err(format!("invalid ulimit argument: {s}"));
    };
    if !NAMES.contains(&name) {
        return Err(format!("invalid ulimit type: {name}"));
    }
    let parse = |v: &str| -> Result<i64, String> {
        v.parse::<i64>()
            .map_err(|_| format!("invalid ulimit argument: {s}"))
    };
    let (soft, hard) = match limits.split_once(':') {
        Some((a, b)) => {
            if b.contains(':') {
                return Err(format!(
                    "too many limit value arguments - {limits}, can only have up to two, `soft[:hard]`"
                ));
            }
            (parse(a)?, parse(b)?)
        }
        None => {
            let v = parse(limits)?;
            (v, v)
        }
    };
    if soft > hard {
        return Err(format!(
            "ulimit soft limit must be less than or equal to hard limit: {soft} > {hard}"
        ));
    }
    Ok(json!({"Name": name, "Hard": hard, "Soft": soft}))
}

/// `--mount`: docker's `MountOpt` (CSV `key=value` fields) as the API's
/// mount object.
pub fn mount(s: &str) -> Result<Value, String> {
    super::mounts::parse_mount(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(mem_bytes("64m"), Ok(64 << 20));
        assert_eq!(mem_bytes("1.5g"), Ok(1_610_612_736));
        assert_eq!(mem_bytes("512"), Ok(512));
        assert_eq!(mem_bytes("10 KiB"), Ok(10240));
        assert_eq!(mem_bytes("foo").unwrap_err(), "invalid size: 'foo'");
        assert_eq!(mem_swap_bytes("-1"), Ok(-1));
        assert!(mem_bytes("-1").is_err());
    }

    #[test]
    fn cpus_and_durations() {
        assert_eq!(nano_cpus("1.5"), Ok(1_500_000_000));
        assert_eq!(nano_cpus("0.001"), Ok(1_000_000));
        assert_eq!(
            nano_cpus("foo").unwrap_err(),
            "failed to parse foo as a rational number"
        );
        assert_eq!(duration("1m30s"), Ok(90_000_000_000));
        assert_eq!(duration("500ms"), Ok(500_000_000));
        assert_eq!(duration("x").unwrap_err(), "time: invalid duration \"x\"");
        assert_eq!(
            duration("5").unwrap_err(),
            "time: missing unit in duration \"5\""
        );
    }

    #[test]
    fn misc_values() {
        assert_eq!(
            int64("x").unwrap_err(),
            "strconv.ParseInt: parsing \"x\": invalid syntax"
        );
        assert_eq!(extra_host("a=1.2.3.4"), Ok("a:1.2.3.4".into()));
        assert_eq!(extra_host("a:::1"), Ok("a:::1".into()));
        assert!(extra_host("nohost").is_err());
        assert_eq!(
            ulimit("nofile=10:20").unwrap(),
            json!({"Name":"nofile","Hard":20,"Soft":10})
        );
        assert_eq!(ulimit("bogus=1").unwrap_err(), "invalid ulimit type: bogus");
        assert!(sysctl("net.ipv4.ip_forward=1").is_ok());
        assert_eq!(
            sysctl("vm.swappiness=1").unwrap_err(),
            "sysctl 'vm.swappiness=1' is not allowed"
        );
    }
}
