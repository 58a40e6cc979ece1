//! `berth-bench runtime`: OCI runtimes side by side on the same container
//! (busybox `true` with runc's default spec), the kernel's floor beside them.
//!
//! Method: every runtime that can run a container here is probed once, then
//! the benchmark does `--warmup` unmeasured rounds and `--runs` measured
//! ones. A round is one sample of every scenario for every runtime,
//! interleaved (runtime A, runtime B, … then the next scenario), with the
//! order of the runtimes rotated each round, so that machine noise and any
//! drift hit all runtimes alike. Each sample checks that the runtime removed
//! its container; at the end everything is cleaned up and any leftover is
//! reported loudly (non-zero exit). The scenarios are in [`scenarios`], the
//! table in [`report`].

mod leftovers;
mod profile;
mod report;
mod scenarios;
mod under_test;
mod workdir;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};

use crate::host::{self, Host};
use crate::interrupt;
use report::{Scenario, Series};
use under_test::RuntimeUnderTest;
use workdir::Workdir;

/// Options of `berth-bench runtime`.
#[derive(Debug, clap::Args)]
pub struct RuntimeArgs {
    /// Measured runs per runtime and scenario.
    #[arg(long, default_value_t = 50)]
    pub runs: usize,

    /// Unmeasured rounds before the measured ones (page cache, dentries,
    /// cgroup parents, CPU frequency).
    #[arg(long, default_value_t = 5)]
    pub warmup: usize,

    /// A runtime binary to measure (repeat for several). Default:
    /// target/release/berth-runtime, /usr/sbin/runc, /usr/bin/crun.
    #[arg(long = "runtime", value_name = "PATH")]
    pub runtimes: Vec<PathBuf>,

    /// Instead of timing: run each runtime's `run` under `strace -f -c`
    /// (once by wall-clock time in each call, once by system CPU time) and
    /// print its top system calls.
    #[arg(long)]
    pub profile: bool,

    /// Warn when the 1-minute load average is above this at the start or
    /// the end (the figures are then not from a quiet machine).
    #[arg(long, default_value_t = 0.5)]
    pub max_load: f64,
}

/// Container ids: `berth-bench-<pid>-<n>`.
struct Ids {
    prefix: String,
    next: usize,
}

impl Ids {
    fn next(&mut self) -> String {
        self.next += 1;
        format!("{}-{}", self.prefix, self.next)
    }
}

/// Run the benchmark; the exit code is non-zero when a runtime failed or
/// left something behind.
pub fn main(args: &RuntimeArgs) -> anyhow::Result<ExitCode> {
    if !rustix::process::geteuid().is_root() {
        bail!("berth-bench runtime needs root (namespaces, mounts, cgroups): run it with sudo");
    }
    interrupt::install().context("install the SIGINT/SIGTERM handler")?;
    // Container inits outlive `create`; as a shim would, we adopt and reap
    // them instead of leaving zombies to whatever pid 1 is.
    rustix::process::set_child_subreaper(Some(rustix::process::getpid()))
        .context("become a child subreaper")?;

    let host = Host::describe();
    let load_start = host::load_average();
    let work = Workdir::create()?;
    let mut ids = Ids {
        prefix: format!("berth-bench-{}", std::process::id()),
        next: 0,
    };

    let paths = if args.runtimes.is_empty() {
        under_test::default_paths()
    } else {
        args.runtimes.clone()
    };
    let mut all: Vec<RuntimeUnderTest> = Vec::new();
    let mut usable: Vec<usize> = Vec::new();
    let mut skipped: Vec<String> = Vec::new();
    for path in &paths {
        let taken: Vec<String> = all.iter().map(|r| r.name.clone()).collect();
        let rt = match RuntimeUnderTest::new(path, &work, &taken) {
            Ok(rt) => rt,
            Err(reason) => {
                skipped.push(format!("{}: {reason}", path.display()));
                continue;
            }
        };
        match rt.probe(&ids.next()) {
            Ok(Ok(())) => usable.push(all.len()),
            Ok(Err(reason)) => skipped.push(format!(
                "{} ({}, {}): cannot run a container on this host: {reason}",
                rt.name,
                rt.path.display(),
                rt.version
            )),
            Err(e) => skipped.push(format!(
                "{} ({}): probe failed: {e:#}",
                rt.name,
                rt.path.display()
            )),
        }
        all.push(rt);
    }
    let runtimes: Vec<&RuntimeUnderTest> = usable.iter().map(|&i| &all[i]).collect();

    print_header(&host, &work, &runtimes, &skipped, args, &load_start);

    let outcome = if runtimes.is_empty() {
        Err(anyhow::anyhow!(
            "no runtime can run a container on this host"
        ))
    } else if args.profile {
        profile_all(&runtimes, &mut ids, &work)
    } else {
        measure_all(&runtimes, args, &mut ids).map(|series| {
            let load_end = host::load_average();
            print_results(&series, &load_start, &load_end, args.max_load);
        })
    };

    // Cleanup runs whatever happened above, for every runtime, usable or not.
    let mut problems = Vec::new();
    for rt in &all {
        problems.extend(leftovers::clean_up(rt, &ids.prefix));
    }
    leftovers::reap_children();
    problems.extend(leftovers::kill_live_children());
    let scratch = work.path().to_string_lossy().into_owned();
    for m in berth_testutil::mounts_containing(&scratch) {
        problems.push(format!("mount {m} was left behind"));
        if let Err(e) = rustix::mount::unmount(m.as_str(), rustix::mount::UnmountFlags::DETACH) {
            problems.push(format!("unmount {m}: {e}"));
        }
    }
    if let Err(e) = work.remove() {
        problems.push(format!("{e:#}"));
    }

    if !problems.is_empty() {
        eprintln!("\n!!! LEFTOVERS: the runtimes did not clean up after themselves:");
        for p in &problems {
            eprintln!("!!!   {p}");
        }
    }
    match outcome {
        Err(e) => {
            eprintln!("berth-bench: {e:#}");
            if interrupt::requested() {
                return Ok(ExitCode::from(130));
            }
            Ok(ExitCode::FAILURE)
        }
        Ok(()) if !problems.is_empty() => Ok(ExitCode::from(2)),
        Ok(()) => Ok(ExitCode::SUCCESS),
    }
}

fn print_header(
    host: &Host,
    work: &Workdir,
    runtimes: &[&RuntimeUnderTest],
    skipped: &[String],
    args: &RuntimeArgs,
    load_start: &str,
) {
    println!("## berth-bench runtime\n");
    println!(
        "- machine: {} CPUs ({}), kernel {}",
        host.cpus, host.cpu_model, host.kernel
    );
    println!("- cgroups: {}", host.cgroups);
    println!(
        "- runtime state (--root) in {}: {}; /run is {}",
        work.path().display(),
        host::filesystem_of(work.path()),
        host::filesystem_of(std::path::Path::new("/run"))
    );
    println!("- load average at start: {load_start}");
    if !args.profile {
        println!(
            "- {} measured runs per runtime per scenario after {} warm-up rounds, interleaved",
            args.runs, args.warmup
        );
    }
    for rt in runtimes {
        println!(
            "- runtime {}: {} ({})",
            rt.name,
            rt.path.display(),
            rt.version
        );
    }
    for s in skipped {
        println!("- SKIPPED {s}");
    }
    println!();
}

fn print_results(series: &[Series], load_start: &str, load_end: &str, max_load: f64) {
    println!("{}", report::results_table(series));
    println!("Cycle steps:\n");
    println!("{}", report::steps_table(series));
    println!("{}", report::goal(series));
    println!(
        "Peak RSS is wait4()'s ru_maxrss of the runtime command: the largest resident set of \
         the command or any descendant it waited for (its container init included), not a sum. \
         The busybox floor is the smallest value this harness can report."
    );
    if leftovers::late_removals() > 0 {
        println!(
            "\nNote: {} containers' state or cgroups disappeared only after their runtime had returned.",
            leftovers::late_removals()
        );
    }
    println!("\nLoad average: {load_start} at start, {load_end} at end.");
    let busy = [load_start, load_end].iter().any(|l| {
        l.split_whitespace()
            .next()
            .and_then(|x| x.parse::<f64>().ok())
            .is_some_and(|x| x > max_load)
    });
    if busy {
        println!(
            "WARNING: the 1-minute load average was above {max_load}: the machine was not quiet; \
             measure again later for figures to publish."
        );
    }
}

fn measure_all(
    runtimes: &[&RuntimeUnderTest],
    args: &RuntimeArgs,
    ids: &mut Ids,
) -> anyhow::Result<Vec<Series>> {
    let n = runtimes.len();
    let mut run: Vec<Series> = runtimes
        .iter()
        .map(|r| Series::new(Scenario::Run, &r.name))
        .collect();
    let mut cycle: Vec<Series> = runtimes
        .iter()
        .map(|r| Series::new(Scenario::Cycle, &r.name))
        .collect();
    let mut unshare = Series::new(
        Scenario::Floor,
        "unshare --pid --fork --mount --uts --ipc --net true",
    );
    let mut busybox = Series::new(Scenario::Floor, "busybox true");

    let rounds = args.warmup + args.runs;
    for round in 0..rounds {
        if interrupt::requested() {
            bail!("interrupted after {round} of {rounds} rounds");
        }
        let keep = round >= args.warmup;
        for j in 0..n {
            let i = (j + round) % n;
            let s = runtimes[i].run_once(&ids.next())?;
            if keep {
                run[i].wall_ms.push(ms(s.wall));
                run[i].rss_kib.push(s.max_rss_kib as f64);
            }
        }
        for j in 0..n {
            let i = (j + round) % n;
            let c = runtimes[i].cycle_once(&ids.next())?;
            if keep {
                let s = &mut cycle[i];
                s.wall_ms.push(ms(c.total));
                s.rss_kib.push(c.max_rss_kib as f64);
                s.create_rss_kib.push(c.create_rss_kib as f64);
                s.push_step("create", ms(c.create));
                s.push_step("start", ms(c.start));
                s.push_step("wait", ms(c.wait));
                s.push_step("delete", ms(c.delete));
            }
        }
        let (u, b) = if round % 2 == 0 {
            let u = scenarios::unshare_floor()?;
            (u, scenarios::busybox_floor()?)
        } else {
            let b = scenarios::busybox_floor()?;
            (scenarios::unshare_floor()?, b)
        };
        if keep {
            unshare.wall_ms.push(ms(u.wall));
            unshare.rss_kib.push(u.max_rss_kib as f64);
            busybox.wall_ms.push(ms(b.wall));
            busybox.rss_kib.push(b.max_rss_kib as f64);
        }
        leftovers::reap_children();
        if (round + 1) % 10 == 0 || round + 1 == rounds {
            eprintln!(
                "berth-bench: round {}/{rounds} ({} warm-up)",
                round + 1,
                args.warmup
            );
        }
    }
    let mut all = run;
    all.extend(cycle);
    all.push(unshare);
    all.push(busybox);
    Ok(all)
}

fn profile_all(
    runtimes: &[&RuntimeUnderTest],
    ids: &mut Ids,
    work: &Workdir,
) -> anyhow::Result<()> {
    for rt in runtimes {
        if interrupt::requested() {
            bail!("interrupted");
        }
        // One unprofiled run first, so both see a warm page cache.
        rt.run_once(&ids.next())?;
        for clock in [profile::Clock::Wall, profile::Clock::System] {
            println!("{}", profile::profile(rt, &ids.next(), clock, work.path())?);
        }
        leftovers::reap_children();
    }
    Ok(())
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
