//! `berth logs`: `GET /containers/{id}/logs` with docker's query
//! (`since`/`until` as relative durations or timestamps, `tail`,
//! `timestamps`, `details`, `follow`); demultiplexed unless the container
//! has a TTY.

use crate::app::App;
use crate::cli::{LogsArgs, Usage};
use crate::client::stdcopy::{Demux, to_std, write_std};
use crate::client::{Method, Request, path_escape};
use crate::commands::exact_args;
use crate::error::CliError;

/// docker's `timetypes.GetTimestamp`: a Go duration before now, an RFC
/// 3339 time, or a Unix timestamp, as `seconds.nanoseconds`.
pub fn timestamp(value: &str) -> String {
    if let Ok(d) = super::opts::flags::duration(value) {
        let (s, n) = crate::format::time::now();
        let total = i128::from(s) * 1_000_000_000 + i128::from(n) - i128::from(d);
        return format!(
            "{}.{:09}",
            total.div_euclid(1_000_000_000),
            total.rem_euclid(1_000_000_000)
        );
    }
    if let Some((s, n)) = crate::format::time::parse_rfc3339(value) {
        return format!("{s}.{n:09}");
    }
    value.to_string()
}

/// Run `logs`.
pub fn run(app: &App, a: &LogsArgs, u: Usage) -> Result<(), CliError> {
    exact_args(u, &a.args, 1)?;
    let info = super::inspect_json(app, &a.args[0])?;
    let tty = info["Config"]["Tty"].as_bool().unwrap_or(false);
    let client = app.client()?;
    let req = Request::new(
        Method::Get,
        format!("/containers/{}/logs", path_escape(&a.args[0])),
    )
    .query("stdout", "1")
    .query("stderr", "1")
    .query_if(
        a.since.is_some(),
        "since",
        timestamp(a.since.as_deref().unwrap_or("")),
    )
    .query_if(
        a.until.is_some(),
        "until",
        timestamp(a.until.as_deref().unwrap_or("")),
    )
    .query_if(a.timestamps, "timestamps", "1")
    .query_if(a.follow, "follow", "1")
    .query("tail", a.tail.clone().unwrap_or_else(|| "all".into()))
    .query_if(a.details, "details", "1");
    let mut resp = client.send(req)?;
    let mut demux = Demux::new();
    while let Some(chunk) = resp.chunk()? {
        let r = if tty {
            write_std(false, &chunk)
        } else {
            demux.feed(&chunk, &mut to_std)
        };
        if let Err(e) = r {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return Ok(());
            }
            return Err(CliError::io("write the logs", e));
        }
    }
    Ok(())
}
