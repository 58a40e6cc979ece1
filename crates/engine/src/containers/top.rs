//! `GET /containers/{id}/top`: the container's processes as the host's
//! `ps` shows them. As dockerd does: run `ps` with the caller's arguments
//! (`-ef` by default) plus `-q <pids>`, retry without `-q` when `ps` refuses
//! the combination, and keep the rows whose PID is in the container's
//! cgroup (continuation rows, PID `-`, follow the row before them). The
//! pids come from the runtime's record of the container's cgroup.

use std::process::Command;

use berth_models::stats::TopResponse;

use super::{ContainerError, Status};

/// The `ps` options that drop the header line, which the parsing needs.
const NO_HEADER: &[&str] = &[
    "--no-header",
    "--no-headers",
    "--no-heading",
    "--no-headings",
    "--noheader",
    "--noheaders",
    "--noheading",
    "--noheadings",
];

impl crate::Engine {
    /// `docker top`: the rows of `ps <ps_args>` that are the container's.
    pub fn top_container(&self, name: &str, ps_args: &str) -> Result<TopResponse, ContainerError> {
        let ps_args = if ps_args.is_empty() { "-ef" } else { ps_args };
        validate_ps_args(ps_args)?;
        let record = self.container(name)?;
        match record.state.status {
            Status::Running | Status::Paused => {}
            Status::Restarting => {
                return Err(ContainerError::Conflict(format!(
                    "Container {} is restarting, wait until the container is running",
                    record.id
                )));
            }
            _ => {
                return Err(ContainerError::Conflict(format!(
                    "Container {} is not running",
                    record.id
                )));
            }
        }
        let pids = self.container_pids(&record.id)?;
        let args: Vec<&str> = ps_args.split(' ').collect();
        if let Some(bad) = args.iter().find(|a| NO_HEADER.contains(a)) {
            return Err(ContainerError::Internal(format!(
                "option {bad} is not allowed"
            )));
        }
        let output = run_ps(&args, &pids)?;
        let top = parse_ps_output(&output, &pids)?;
        self.container_event(&record, "top", &[]);
        Ok(top)
    }

    /// The host pids of every process in the running container `id`.
    pub(crate) fn container_pids(&self, id: &str) -> Result<Vec<i32>, ContainerError> {
        let root = self.config.exec_root.join("runtime");
        let not_running = || ContainerError::Conflict(format!("Container {id} is not running"));
        let container =
            berth_runtime::container::Container::load(&root, id).map_err(|_| not_running())?;
        container
            .pids()
            .map_err(|e| ContainerError::Internal(format!("list the processes of {id}: {e}")))
    }
}

/// `ps ARGS -qPIDS`, or `ps ARGS` when that fails (options such as `f`
/// cannot be combined with `q`); the error is `ps: <first stderr line>`.
fn run_ps(args: &[&str], pids: &[i32]) -> Result<Vec<u8>, ContainerError> {
    let q = format!(
        "-q{}",
        pids.iter()
            .map(i32::to_string)
            .collect::<Vec<_>>()
            .join(",")
    );
    let run = |with_q: bool| {
        let mut cmd = Command::new("ps");
        cmd.args(args.iter().filter(|a| !a.is_empty()));
        if with_q {
            cmd.arg(&q);
        }
        cmd.output()
    };
    if let Ok(out) = run(true)
        && out.status.success()
    {
        return Ok(out.stdout);
    }
    let out = run(false).map_err(|e| ContainerError::io("ps", e))?;
    if out.status.success() {
        return Ok(out.stdout);
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let first = stderr.lines().next().unwrap_or_default();
    let reason = if first.is_empty() {
        out.status.to_string()
    } else {
        first.to_string()
    };
    Err(ContainerError::Internal(format!("ps: {reason}")))
}

/// dockerd's `validatePSArgs`: a column may not be renamed to something
/// starting with `PID` unless it is the pid column (`-o uid=PID` would fool
/// the parsing).
fn validate_ps_args(ps_args: &str) -> Result<(), ContainerError> {
    // The regexp `\s+([^\s]*)=\s*(PID[^\s]*)` (Go's `\s`: ASCII only), by
    // hand: for each word after whitespace, the last `=` that is followed
    // (after optional spaces) by `PID` ends the key.
    let b = ps_args.as_bytes();
    let space = |c: u8| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c');
    let end_of = |from: usize| {
        b[from..]
            .iter()
            .position(|c| space(*c))
            .map_or(b.len(), |p| from + p)
    };
    let mut i = 1;
    while i < b.len() {
        if space(b[i]) || !space(b[i - 1]) {
            i += 1;
            continue;
        }
        let word_end = end_of(i);
        let mut next = word_end;
        for eq in (i..word_end).rev().filter(|&q| b[q] == b'=') {
            let mut v = eq + 1;
            while v < b.len() && space(b[v]) {
                v += 1;
            }
            if !b[v..].starts_with(b"PID") {
                continue;
            }
            let value_end = end_of(v);
            let key = &ps_args[i..eq];
            if key != "pid" {
                return Err(ContainerError::Internal(format!(
                    "specifying \"{key}={}\" is not allowed",
                    &ps_args[v..value_end]
                )));
            }
            next = value_end;
            break;
        }
        i = next.max(i + 1);
    }
    Ok(())
}

/// Splits on ASCII whitespace only (Go's `fieldsASCII`).
fn fields(line: &str) -> Vec<&str> {
    line.split(['\t', '\n', '\x0c', '\r', ' '])
        .filter(|f| !f.is_empty())
        .collect()
}

/// dockerd's `parsePSOutput`: the header gives the titles; rows past the
/// last title have their extra fields joined into the last column.
fn parse_ps_output(output: &[u8], pids: &[i32]) -> Result<TopResponse, ContainerError> {
    let text = String::from_utf8_lossy(output);
    let mut lines = text.split('\n');
    let titles: Vec<String> = fields(lines.next().unwrap_or_default())
        .into_iter()
        .map(str::to_string)
        .collect();
    let pid_index = titles
        .iter()
        .position(|t| t == "PID")
        .ok_or_else(|| ContainerError::Internal("Couldn't find PID field in ps output".into()))?;
    let mut top = TopResponse {
        titles,
        processes: Vec::new(),
    };
    let columns = top.titles.len();
    let mut in_container = false;
    for line in lines {
        if line.is_empty() {
            continue;
        }
        let f = fields(line);
        let Some(pid) = f.get(pid_index) else {
            continue;
        };
        if *pid == "-" {
            if in_container {
                top.processes.push(row(&f, columns));
            }
            continue;
        }
        let pid: i32 = pid
            .parse()
            .map_err(|e| ContainerError::Internal(format!("Unexpected pid '{pid}': {e}")))?;
        in_container = pids.contains(&pid);
        if in_container {
            top.processes.push(row(&f, columns));
        }
    }
    Ok(top)
}

fn row(f: &[&str], columns: usize) -> Vec<String> {
    let split = (columns.saturating_sub(1)).min(f.len());
    let mut out: Vec<String> = f[..split].iter().map(|s| s.to_string()).collect();
    out.push(f[split..].join(" "));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ps_args_that_rename_a_column_to_pid_are_refused() {
        // moby's TestContainerTopValidatePSArgs.
        for (args, refused) in [
            ("ae -o uid=PID", true),
            ("ae -o \"uid= PID\"", true),
            ("ae -o \"uid=\u{2003}PID\"", false),
            ("ae o uid=PID", true),
            ("aeo uid=PID", true),
            ("ae -O uid=PID", true),
            ("ae -o pid=PID2 -o uid=PID", true),
            ("ae -o pid=PID", false),
            ("ae -o pid=PID -o uid=PIDX", true),
            ("aeo pid=PID", false),
            ("ae", false),
            ("", false),
            ("-ef", false),
        ] {
            assert_eq!(validate_ps_args(args).is_err(), refused, "{args:?}");
        }
        let e = validate_ps_args("ae -o uid=PID").unwrap_err();
        assert_eq!(e.to_string(), "specifying \"uid=PID\" is not allowed");
    }

    #[test]
    fn ps_output_keeps_the_containers_rows_and_their_threads() {
        // moby's TestContainerTopParsePSOutput.
        let out = b"  PID COMMAND\n   42 foo\n   43 bar\n\t\t- -\n  100 baz\n";
        let top = parse_ps_output(out, &[42, 43]).unwrap();
        assert_eq!(top.titles, ["PID", "COMMAND"]);
        assert_eq!(top.processes, [["42", "foo"], ["43", "bar"], ["-", "-"]]);
        assert!(parse_ps_output(b"  UID COMMAND\n   42 foo\n", &[42]).is_err());
        assert!(parse_ps_output(b" PID\xe2\x80\x83COMMAND\n 42 foo\n", &[42]).is_err());
        let out = b"UID PID PPID C STIME TTY TIME CMD\nroot 7 1 0 10:00 ? 00:00:00 sleep 1000\nroot 8 1 0 10:00 ? 00:00:00 other\n";
        let top = parse_ps_output(out, &[7]).unwrap();
        assert_eq!(top.processes.len(), 1);
        assert_eq!(top.processes[0][7], "sleep 1000");
        assert!(parse_ps_output(b"PID CMD\nabc x\n", &[1]).is_err());
    }
}
