//! `--profile`: the benchmark container's `run` under `strace -f -c`, twice:
//! once with `-w` (wall-clock time from entry to exit of each call, summed
//! over all processes, so a parent blocked waiting for its child shows up as
//! a long `recvmsg`/`wait4`/`futex`), once without (system CPU time, which
//! is where kernel-side work — clone, mount, cgroup writes — is). Both are
//! sorted by time and cut to the top calls. `-f` follows every process of
//! the runtime, including the container's init up to and through its
//! `execve` of `true` (a handful of calls).

use std::process::Command;

use anyhow::{Context, bail};

use super::leftovers;
use super::under_test::RuntimeUnderTest;
use crate::spawn;

/// How many system calls to show.
pub const TOP: usize = 15;

/// What strace sums.
#[derive(Debug, Clone, Copy)]
pub enum Clock {
    /// `-w`: wall-clock time in each call.
    Wall,
    /// Default: system CPU time in each call.
    System,
}

/// Profile one `run` of container `id` with `rt`; returns the report.
pub fn profile(
    rt: &RuntimeUnderTest,
    id: &str,
    clock: Clock,
    scratch: &std::path::Path,
) -> anyhow::Result<String> {
    rt.prepare(id)?;
    let out = scratch.join(format!("{}.strace", rt.name));
    let mut cmd = Command::new("strace");
    cmd.args(["-f", "-c"]);
    let what = match clock {
        Clock::Wall => {
            cmd.arg("-w");
            "wall-clock time in each call (-w)"
        }
        Clock::System => "system CPU time",
    };
    cmd.args(["-S", "time", "-o"])
        .arg(&out)
        .args(rt.run_argv(id))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let m = spawn::measure(&mut cmd).context("run strace (apt-get install strace)")?;
    leftovers::check_container_removed(rt, id)?;
    if !m.status.success() {
        bail!("strace … {} run {id} failed: {}", rt.name, m.status);
    }
    let text = std::fs::read_to_string(&out).with_context(|| format!("read {}", out.display()))?;
    Ok(format!(
        "### {} ({}): `run` under strace -f -c, by {what}; {:.1} ms with tracing\n\n```\n{}```\n",
        rt.name,
        rt.version,
        m.wall.as_secs_f64() * 1000.0,
        top_rows(&text, TOP)
    ))
}

/// The header, the first `n` rows and the total line of `strace -c` output.
fn top_rows(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let rules: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.starts_with("------"))
        .map(|(i, _)| i)
        .collect();
    let mut out = String::new();
    match rules.as_slice() {
        [first, second, ..] => {
            for l in &lines[..=*first] {
                out.push_str(l);
                out.push('\n');
            }
            for l in lines[first + 1..*second].iter().take(n) {
                out.push_str(l);
                out.push('\n');
            }
            for l in &lines[*second..] {
                out.push_str(l);
                out.push('\n');
            }
        }
        _ => {
            for l in lines {
                out.push_str(l);
                out.push('\n');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_header_top_rows_and_total() {
        let text = "% time     seconds  usecs/call     calls    errors syscall\n\
------ ----------- ----------- --------- --------- ----------------\n\
 50.00    0.000500          50        10           clone3\n\
 30.00    0.000300          30        10           mount\n\
 20.00    0.000200          20        10           openat\n\
------ ----------- ----------- --------- --------- ----------------\n\
100.00    0.001000          33        30           total\n";
        let top = top_rows(text, 2);
        assert!(top.contains("clone3") && top.contains("mount"));
        assert!(!top.contains("openat"));
        assert!(top.trim_end().ends_with("total"));
        assert!(top.starts_with("% time"));
    }
}
