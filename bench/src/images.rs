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
use std::process::ExitCode;

use anyhow::{Context, bail};
use berth_testutil::berthd::Berthd;
use berth_testutil::dockerd::Dockerd;
use berth_testutil::images::{Fixture, layout, push};
use berth_testutil::registry::{Options, Registry};

use crate::daemon::{Daemon, Series};
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
