//! state, list, ps, events.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use berth_runtime::container::Container;

use crate::args::{Events, Format, List, Ps};

pub fn state(root: &Path, id: &str) -> Result<i32> {
    let c = Container::load(root, id)?;
    println!("{}", serde_json::to_string_pretty(&c.oci_state())?);
    Ok(0)
}

pub fn list(root: &Path, l: &List) -> Result<i32> {
    let all = Container::list(root)?;
    let mut out = std::io::stdout().lock();
    if l.quiet {
        for (id, _) in &all {
            writeln!(out, "{id}")?;
        }
        return Ok(0);
    }
    let states: Vec<serde_json::Value> = all
        .iter()
        .map(|(id, c)| match c {
            Some(c) => c.oci_state(),
            None => serde_json::json!({"id": id, "pid": 0, "status": "creating", "bundle": "", "created": "", "owner": ""}),
        })
        .collect();
    match l.format {
        Format::Json => writeln!(out, "{}", serde_json::to_string(&states)?)?,
        Format::Table => {
            let rows: Vec<[String; 6]> = states
                .iter()
                .map(|s| {
                    let f = |k: &str| match &s[k] {
                        serde_json::Value::String(v) => v.clone(),
                        v => v.to_string(),
                    };
                    [
                        f("id"),
                        f("pid"),
                        f("status"),
                        f("bundle"),
                        f("created"),
                        f("owner"),
                    ]
                })
                .collect();
            let header = ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"].map(String::from);
            let mut widths = [12usize; 6];
            for r in std::iter::once(&header).chain(&rows) {
                for (w, c) in widths.iter_mut().zip(r) {
                    *w = (*w).max(c.len() + 1);
                }
            }
            for r in std::iter::once(&header).chain(&rows) {
                let line: Vec<String> = r
                    .iter()
                    .zip(widths)
                    .enumerate()
                    .map(|(i, (c, w))| {
                        if i == 5 {
                            c.clone()
                        } else {
                            format!("{c:<w$}")
                        }
                    })
                    .collect();
                writeln!(out, "{}", line.join(""))?;
            }
        }
    }
    Ok(0)
}

pub fn ps(root: &Path, p: &Ps) -> Result<i32> {
    let c = Container::load(root, &p.id)?;
    let pids = c.pids()?;
    if p.format == Format::Json {
        println!("{}", serde_json::to_string(&pids)?);
        return Ok(0);
    }
    let args: Vec<String> = if p.ps_args.is_empty() {
        vec!["-ef".into()]
    } else {
        p.ps_args.clone()
    };
    let output = std::process::Command::new("ps")
        .args(&args)
        .output()
        .context("run ps")?;
    if !output.status.success() {
        bail!(
            "ps {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default();
    let pid_col = header
        .split_whitespace()
        .position(|h| h == "PID")
        .context("ps output has no PID column")?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{header}")?;
    for line in lines {
        let pid: Option<i32> = line
            .split_whitespace()
            .nth(pid_col)
            .and_then(|f| f.parse().ok());
        if pid.is_some_and(|pid| pids.contains(&pid)) {
            writeln!(out, "{line}")?;
        }
    }
    Ok(0)
}

/// `5s`, `500ms`, `1m`, or plain seconds.
fn duration(s: &str) -> Result<Duration> {
    let (num, unit) = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .map(|i| s.split_at(i))
        .unwrap_or((s, "s"));
    let n: f64 = num
        .parse()
        .with_context(|| format!("invalid duration {s:?}"))?;
    let secs = match unit {
        "ns" => n / 1e9,
        "us" | "µs" => n / 1e6,
        "ms" => n / 1e3,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => bail!("invalid duration {s:?}"),
    };
    if secs <= 0.0 {
        bail!("duration must be positive: {s:?}");
    }
    Ok(Duration::from_secs_f64(secs))
}

pub fn events(root: &Path, e: &Events) -> Result<i32> {
    let c = Container::load(root, &e.id)?;
    if e.stats {
        println!("{}", serde_json::to_string(&c.stats()?)?);
        return Ok(0);
    }
    let interval = duration(&e.interval)?;
    c.watch(interval, |ev| {
        let mut out = std::io::stdout().lock();
        serde_json::to_string(&ev)
            .ok()
            .is_some_and(|s| writeln!(out, "{s}").is_ok() && out.flush().is_ok())
    })?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration("5s").unwrap(), Duration::from_secs(5));
        assert_eq!(duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(duration("2").unwrap(), Duration::from_secs(2));
        assert!(duration("x").is_err());
        assert!(duration("0s").is_err());
    }
}
