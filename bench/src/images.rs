//! `berth-bench images`: berthd against dockerd 20.10 on the image paths,
//! both driven by the same docker CLI 28 from the same local registry
//! (Debian's `docker-registry` on 127.0.0.1):
//!
//! - **pull** of the Debian minbase image (one 63 MB gzip layer, 171 MB and
//!   6,680 entries unpacked) and of a ten-layer image, the image removed again between
//!   samples (each pull downloads and unpacks everything);
//! - **push** of the minbase image to a fresh registry per sample (every
//!   blob is uploaded; nothing can be skipped or mounted);
//! - **resident memory** of each daemon (berthd alone; dockerd plus its
//!   containerd) idle after start and again after the pulls and pushes.
//!
//! Samples are interleaved, the order of the daemons alternating every
//! round. Both daemons keep their data roots in `$TMPDIR` (default /tmp):
//! `TMPDIR=/dev/shm` measures them on tmpfs.

use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use anyhow::{Context, bail};
use berth_testutil::berthd::Berthd;
use berth_testutil::dockerd::Dockerd;
use berth_testutil::images::{Fixture, layout, push};
use berth_testutil::registry::{Options, Registry};

use crate::host::{Host, load_average};
use crate::stats::Summary;

/// What to run.
#[derive(Debug, clap::Args)]
pub struct ImagesArgs {
    /// Measured samples per daemon and scenario.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// The berthd to measure (default: target/release/berthd).
    #[arg(long)]
    berthd: Option<PathBuf>,
}

const NAME: &str = "berth_bench_images";

/// A daemon under test, as the docker CLI reaches it.
enum Daemon {
    Berth(Berthd),
    Docker(Dockerd),
}

impl Daemon {
    fn name(&self) -> &'static str {
        match self {
            Daemon::Berth(_) => "berthd",
            Daemon::Docker(_) => "dockerd",
        }
    }

    fn docker(&self, args: &[&str]) -> Command {
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
    fn timed(&self, args: &[&str]) -> anyhow::Result<f64> {
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
    fn rss_kib(&self) -> u64 {
        let pids = match self {
            Daemon::Berth(b) => b.pid().into_iter().collect(),
            Daemon::Docker(d) => d.pids(),
        };
        pids.iter().map(|p| vm_rss_kib(*p)).sum()
    }
}

/// `VmRSS` of a process, KiB (0 when it is gone).
fn vm_rss_kib(pid: u32) -> u64 {
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
struct Series {
    scenario: &'static str,
    berth: Vec<f64>,
    docker: Vec<f64>,
}

pub fn main(args: &ImagesArgs) -> anyhow::Result<ExitCode> {
    if !berth_testutil::require_root(NAME) {
        bail!("the images benchmark needs root (it starts dockerd and berthd)");
    }
    let berthd_bin = match &args.berthd {
        Some(p) => p.clone(),
        None => berth_testutil::images::repo_root().join("target/release/berthd"),
    };
    if !berthd_bin.exists() {
        bail!(
            "{} is missing: cargo build --release -p berth-daemon",
            berthd_bin.display()
        );
    }
    let registry = Registry::start(NAME, Options::default())
        .context("docker-registry is not installed (scripts/install-deps)")?;
    let minbase = layout(NAME, Fixture::Minbase).context("the minbase fixture")?;
    let ten = layout(NAME, Fixture::TenLayers).context("the ten-layer fixture")?;
    push(&minbase, &registry.host, "bench/minbase:latest");
    push(&ten, &registry.host, "bench/ten:latest");
    let minbase_ref = format!("{}/bench/minbase:latest", registry.host);
    let ten_ref = format!("{}/bench/ten:latest", registry.host);

    let berth = Daemon::Berth(Berthd::start(&berthd_bin, &[]));
    let docker = Daemon::Docker(Dockerd::start(NAME, &[]).context("dockerd did not start")?);
    let daemons = [&berth, &docker];
    std::thread::sleep(std::time::Duration::from_secs(2));
    let idle: Vec<u64> = daemons.iter().map(|d| d.rss_kib()).collect();

    let host = Host::describe();
    let load_before = load_average();
    let mut series = vec![
        Series::new("pull minbase (1 layer: 63 MB gzip, 171 MB, 6,680 entries)"),
        Series::new("pull ten layers (busybox + 9 × a few MB)"),
        Series::new("push minbase to an empty registry"),
    ];
    for round in 0..=args.runs {
        let order = if round % 2 == 0 {
            [&berth, &docker]
        } else {
            [&docker, &berth]
        };
        for (i, image) in [&minbase_ref, &ten_ref].into_iter().enumerate() {
            for d in order {
                let took = d.timed(&["pull", "-q", image])?;
                d.timed(&["rmi", image])?;
                // round 0 warms the registry's and the page cache's side
                if round > 0 {
                    series[i].push(d, took);
                }
            }
        }
        for d in order {
            let target =
                Registry::start(NAME, Options::default()).context("a registry to push to")?;
            let pushed = format!("{}/bench/pushed:latest", target.host);
            d.timed(&["pull", "-q", &minbase_ref])?;
            d.timed(&["tag", &minbase_ref, &pushed])?;
            let took = d.timed(&["push", "-q", &pushed])?;
            d.timed(&["rmi", &pushed, &minbase_ref])?;
            if round > 0 {
                series[2].push(d, took);
            }
        }
    }
    let busy: Vec<u64> = daemons.iter().map(|d| d.rss_kib()).collect();
    let load_after = load_average();

    println!("## Images: berthd vs dockerd 20.10 (docker CLI 28 for both)\n");
    println!(
        "- machine: {} CPUs ({}), kernel {}; data roots in {}",
        host.cpus,
        host.cpu_model,
        host.kernel,
        crate::host::filesystem_of(&std::env::temp_dir())
    );
    println!("- load average: {load_before} at the start, {load_after} at the end\n");
    println!(
        "{} measured runs per daemon and scenario (after one warm-up round), \
         interleaved; seconds, wall time of the docker command.\n",
        args.runs
    );
    println!("| scenario | berthd median | p10–p90 | dockerd median | p10–p90 | ratio |");
    println!("|---|---|---|---|---|---|");
    for s in &series {
        let (Some(b), Some(d)) = (Summary::of(&s.berth), Summary::of(&s.docker)) else {
            continue;
        };
        println!(
            "| {} | {:.2} | {:.2}–{:.2} | {:.2} | {:.2}–{:.2} | {:.2}× |",
            s.scenario,
            b.median,
            b.p10,
            b.p90,
            d.median,
            d.p10,
            d.p90,
            b.median / d.median
        );
    }
    println!("\n| resident memory | berthd | dockerd + containerd | ratio |");
    println!("|---|---|---|---|");
    for (label, v) in [("idle after start", &idle), ("after the runs", &busy)] {
        println!(
            "| {label} | {:.1} MiB | {:.1} MiB | {:.2}× |",
            v[0] as f64 / 1024.0,
            v[1] as f64 / 1024.0,
            v[0] as f64 / v[1] as f64
        );
    }
    drop(berth);
    if let Daemon::Docker(mut d) = docker {
        for leak in d.shutdown() {
            eprintln!("dockerd left: {leak}");
        }
    }
    drop(registry);
    Ok(ExitCode::SUCCESS)
}

impl Series {
    fn new(scenario: &'static str) -> Series {
        Series {
            scenario,
            berth: Vec::new(),
            docker: Vec::new(),
        }
    }

    fn push(&mut self, d: &Daemon, seconds: f64) {
        match d {
            Daemon::Berth(_) => self.berth.push(seconds),
            Daemon::Docker(_) => self.docker.push(seconds),
        }
    }
}
