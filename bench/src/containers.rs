//! `berth-bench containers`: berthd against dockerd 20.10 on the container
//! paths, both driven by the same docker CLI 28 and running the same
//! busybox image (one rootfs tarball imported into both):
//!
//! - **run --rm** of `true` with `--network none` (create, attach, start,
//!   wait, remove: the whole `docker run`), interleaved, the daemon order
//!   alternating every round; also through the `berth` CLI when it is built;
//! - **per-container memory** with N idle containers (`sleep`): the
//!   daemon's growth plus every shim, as RSS and as PSS (shared pages
//!   divided among their users), divided by N;
//! - **ps and inspect latency** with those N containers: the docker
//!   command's wall time, and the API call alone on the unix socket.

use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use anyhow::{Context, bail};
use berth_testutil::berthd::{Berthd, http_request};
use berth_testutil::dockerd::Dockerd;

use crate::daemon::{Daemon, Series, vm_rss_kib};
use crate::host::{Host, load_average};
use crate::stats::Summary;

/// What to run.
#[derive(Debug, clap::Args)]
pub struct ContainersArgs {
    /// Measured samples per daemon and timed scenario.
    #[arg(long, default_value_t = 20)]
    runs: usize,
    /// Idle containers for the memory and ps/inspect figures.
    #[arg(long, default_value_t = 100)]
    containers: usize,
    /// The berthd to measure (default: target/release/berthd, with its
    /// berth-shim beside it).
    #[arg(long)]
    berthd: Option<PathBuf>,
}

const NAME: &str = "berth_bench_containers";
const IMAGE: &str = "bench/busybox:latest";

pub fn main(args: &ContainersArgs) -> anyhow::Result<ExitCode> {
    if !berth_testutil::require_root(NAME) {
        bail!("the containers benchmark needs root (it starts dockerd and berthd)");
    }
    let berthd_bin = crate::daemon::berthd_binary(args.berthd.as_deref())?;
    let berth_cli = berthd_bin.with_file_name("berth");

    let scratch = tempfile::Builder::new()
        .prefix("berth-bench-ct-")
        .tempdir()
        .context("a scratch directory")?;
    let tarball = berth_testutil::busybox_tarball(scratch.path());

    let berth = Daemon::Berth(Berthd::start(&berthd_bin, &[]));
    let docker = Daemon::Docker(Dockerd::start(NAME, &[]).context("dockerd did not start")?);
    let daemons = [&berth, &docker];
    for d in daemons {
        d.timed(&["import", tarball.to_str().unwrap_or_default(), IMAGE])?;
    }
    let host = Host::describe();
    let load_before = load_average();

    // run --rm
    let run = ["run", "--rm", "--network", "none", IMAGE, "true"];
    let mut runs = Series::new("docker run --rm --network none busybox true");
    let mut berth_cli_runs = Vec::new();
    for round in 0..args.runs + 3 {
        let order = if round % 2 == 0 {
            [&berth, &docker]
        } else {
            [&docker, &berth]
        };
        for d in order {
            let took = d.timed(&run)?;
            if round >= 3 {
                runs.push(d, took);
            }
        }
        if let Daemon::Berth(b) = &berth
            && berth_cli.exists()
        {
            let took = timed_berth_cli(&berth_cli, b, &run)?;
            if round >= 3 {
                berth_cli_runs.push(took);
            }
        }
    }

    // N idle containers
    let before: Vec<u64> = daemons.iter().map(|d| d.rss_kib()).collect();
    let mut ids: Vec<Vec<String>> = vec![Vec::new(), Vec::new()];
    for (i, d) in daemons.iter().enumerate() {
        for _ in 0..args.containers {
            let out = d
                .docker(&["run", "-d", "--network", "none", IMAGE, "sleep", "100000"])
                .output()
                .context("docker run -d")?;
            if !out.status.success() {
                bail!(
                    "{}: run -d failed: {}",
                    d.name(),
                    String::from_utf8_lossy(&out.stderr).trim()
                );
            }
            ids[i].push(String::from_utf8_lossy(&out.stdout).trim().to_string());
        }
    }
    std::thread::sleep(std::time::Duration::from_secs(2));
    let mut memory = Vec::new();
    for (i, d) in daemons.iter().enumerate() {
        let shims = shim_pids(d);
        let daemon_now = d.rss_kib();
        let shim_rss: u64 = shims.iter().map(|p| vm_rss_kib(*p)).sum();
        let shim_pss: u64 = shims.iter().map(|p| pss_kib(*p)).sum();
        memory.push(Memory {
            shims: shims.len(),
            daemon_growth: daemon_now.saturating_sub(before[i]),
            shim_rss,
            shim_pss,
        });
    }

    // ps / inspect with N containers
    let mut ps = Series::new("docker ps -a");
    let mut inspect = Series::new("docker inspect <id>");
    let mut api_ps = Series::new("GET /containers/json?all=1 (API only)");
    let mut api_inspect = Series::new("GET /containers/<id>/json (API only)");
    for round in 0..args.runs + 2 {
        for (i, d) in daemons.iter().enumerate() {
            let id = &ids[i][round % ids[i].len().max(1)];
            let t_ps = d.timed(&["ps", "-a"])?;
            let t_inspect = d.timed(&["inspect", id])?;
            let socket = socket_of(d);
            let t_api_ps = timed_get(&socket, "/v1.41/containers/json?all=1")?;
            let t_api_inspect = timed_get(&socket, &format!("/v1.41/containers/{id}/json"))?;
            if round >= 2 {
                ps.push(d, t_ps);
                inspect.push(d, t_inspect);
                api_ps.push(d, t_api_ps);
                api_inspect.push(d, t_api_inspect);
            }
        }
    }
    for (i, d) in daemons.iter().enumerate() {
        for chunk in ids[i].chunks(50) {
            let mut rm = vec!["rm", "-f"];
            rm.extend(chunk.iter().map(String::as_str));
            d.timed(&rm)?;
        }
    }
    let load_after = load_average();

    println!("## Containers: berthd vs dockerd 20.10 (docker CLI 28 for both)\n");
    println!(
        "- machine: {} CPUs ({}), kernel {}",
        host.cpus, host.cpu_model, host.kernel
    );
    println!("- load average: {load_before} at the start, {load_after} at the end\n");
    println!(
        "{} measured runs per daemon (after warm-up), interleaved; milliseconds, wall time.\n",
        args.runs
    );
    println!("| scenario | berthd median | p10–p90 | dockerd median | p10–p90 | ratio |");
    println!("|---|---|---|---|---|---|");
    for s in [&runs, &ps, &inspect, &api_ps, &api_inspect] {
        print_row(s.scenario, &s.berth, &s.docker);
    }
    if !berth_cli_runs.is_empty() {
        print_row(
            "berth run --rm --network none busybox true (berth CLI vs docker CLI → dockerd)",
            &berth_cli_runs,
            &runs.docker,
        );
    }
    println!(
        "\n{} idle containers (`sleep`, `--network none`); KiB per container: \
         (daemon growth + all shims) / N.\n",
        args.containers
    );
    println!(
        "| daemon | shims | daemon growth | shims RSS | shims PSS | per container (RSS) | per container (PSS) |"
    );
    println!("|---|---|---|---|---|---|---|");
    let n = args.containers.max(1) as f64;
    for (d, m) in daemons.iter().zip(&memory) {
        println!(
            "| {} | {} | {:.1} MiB | {:.1} MiB | {:.1} MiB | {:.0} KiB | {:.0} KiB |",
            d.name(),
            m.shims,
            m.daemon_growth as f64 / 1024.0,
            m.shim_rss as f64 / 1024.0,
            m.shim_pss as f64 / 1024.0,
            (m.daemon_growth + m.shim_rss) as f64 / n,
            (m.daemon_growth + m.shim_pss) as f64 / n,
        );
    }
    drop(berth);
    if let Daemon::Docker(mut d) = docker {
        for leak in d.shutdown() {
            eprintln!("dockerd left: {leak}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

struct Memory {
    shims: usize,
    daemon_growth: u64,
    shim_rss: u64,
    shim_pss: u64,
}

pub fn print_row(scenario: &str, berth: &[f64], docker: &[f64]) {
    let (Some(b), Some(d)) = (Summary::of(berth), Summary::of(docker)) else {
        return;
    };
    let ms = 1000.0;
    println!(
        "| {scenario} | {:.1} | {:.1}–{:.1} | {:.1} | {:.1}–{:.1} | {:.2}× |",
        b.median * ms,
        b.p10 * ms,
        b.p90 * ms,
        d.median * ms,
        d.p10 * ms,
        d.p90 * ms,
        b.median / d.median
    );
}

pub fn timed_berth_cli(cli: &Path, b: &Berthd, args: &[&str]) -> anyhow::Result<f64> {
    let t = Instant::now();
    let out = Command::new(cli)
        .args(args)
        .env("BERTH_HOST", b.host())
        .env("BERTH_NO_AUTOSTART", "1")
        .stdin(Stdio::null())
        .output()
        .context("running berth")?;
    let took = t.elapsed().as_secs_f64();
    if !out.status.success() {
        bail!(
            "berth {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(took)
}

fn socket_of(d: &Daemon) -> PathBuf {
    match d {
        Daemon::Berth(b) => b.socket(),
        Daemon::Docker(d) => d.socket(),
    }
}

/// One GET on a fresh connection; seconds until the whole answer is read.
fn timed_get(socket: &Path, path: &str) -> anyhow::Result<f64> {
    let t = Instant::now();
    let mut stream =
        UnixStream::connect(socket).with_context(|| format!("connect {}", socket.display()))?;
    let r = http_request(&mut stream, "GET", path, &[], None)
        .with_context(|| format!("GET {path}: no answer"))?;
    let took = t.elapsed().as_secs_f64();
    if r.status != 200 {
        bail!("GET {path}: {} {}", r.status, r.text());
    }
    Ok(took)
}

/// The shims of a daemon's containers: berth-shim processes under its exec
/// root, or containerd-shim processes talking to its containerd.
fn shim_pids(d: &Daemon) -> Vec<u32> {
    let (program, needle) = match d {
        Daemon::Berth(b) => ("berth-shim", b.exec_root().display().to_string()),
        Daemon::Docker(d) => ("containerd-shim", d.dir().display().to_string()),
    };
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline);
            let argv0 = cmdline.split('\0').next().unwrap_or_default();
            argv0.contains(program) && cmdline.contains(&needle)
        })
        .collect()
}

/// `Pss` of a process (smaps_rollup), KiB.
fn pss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Pss:"))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}
