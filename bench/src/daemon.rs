//! The two daemons the daemon benchmarks compare, as the same docker CLI
//! reaches them: a berthd and a dockerd 20.10 of the benchmark's own, and
//! the series of samples taken from each.

use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, bail};
use berth_testutil::berthd::Berthd;
use berth_testutil::dockerd::Dockerd;

/// A daemon under test, as the docker CLI reaches it.
pub enum Daemon {
    Berth(Berthd),
    Docker(Dockerd),
}

impl Daemon {
    pub fn name(&self) -> &'static str {
        match self {
            Daemon::Berth(_) => "berthd",
            Daemon::Docker(_) => "dockerd",
        }
    }

    pub fn docker(&self, args: &[&str]) -> Command {
        match self {
            Daemon::Berth(b) => {
                let mut cmd = Command::new(berth_testutil::berthd::DOCKER_CLI);
                cmd.args(args)
                    .env("DOCKER_HOST", b.host())
                    .env("DOCKER_CONFIG", b.dir().join("client-config"))
                    .env("DOCKER_CLI_HINTS", "false")
                    .env_remove("DOCKER_CONTEXT")
                    .stdin(Stdio::null());
                cmd
            }
            Daemon::Docker(d) => d.docker(args),
        }
    }

    /// Runs the CLI, failing with its stderr; returns the wall time in s.
    pub fn timed(&self, args: &[&str]) -> anyhow::Result<f64> {
        let t = Instant::now();
        let out = self
            .docker(args)
            .output()
            .with_context(|| format!("running docker {args:?}"))?;
        let took = t.elapsed().as_secs_f64();
        if !out.status.success() {
            bail!(
                "{}: docker {args:?} failed: {}",
                self.name(),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(took)
    }

    /// Resident memory of the daemon's processes, KiB.
    pub fn rss_kib(&self) -> u64 {
        let pids = match self {
            Daemon::Berth(b) => b.pid().into_iter().collect(),
            Daemon::Docker(d) => d.pids(),
        };
        pids.iter().map(|p| vm_rss_kib(*p)).sum()
    }
}

/// The berthd to measure: `given`, or target/release/berthd; its
/// berth-shim must be beside it.
pub fn berthd_binary(given: Option<&std::path::Path>) -> anyhow::Result<std::path::PathBuf> {
    let release = berth_testutil::images::repo_root().join("target/release");
    let berthd = given.map_or(release.join("berthd"), std::path::Path::to_path_buf);
    for bin in [&berthd, &berthd.with_file_name("berth-shim")] {
        if !bin.exists() {
            bail!(
                "{} is missing: cargo build --release -p berth-daemon -p berth-shim",
                bin.display()
            );
        }
    }
    Ok(berthd)
}

/// `VmRSS` of a process, KiB (0 when it is gone).
pub fn vm_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}

/// One scenario's samples per daemon.
pub struct Series {
    pub scenario: &'static str,
    pub berth: Vec<f64>,
    pub docker: Vec<f64>,
}

impl Series {
    pub fn new(scenario: &'static str) -> Series {
        Series {
            scenario,
            berth: Vec::new(),
            docker: Vec::new(),
        }
    }

    pub fn push(&mut self, d: &Daemon, seconds: f64) {
        match d {
            Daemon::Berth(_) => self.berth.push(seconds),
            Daemon::Docker(_) => self.docker.push(seconds),
        }
    }
}
