//! `berth-bench network`: berthd against dockerd 20.10 on the network
//! paths, both with their default bridge, their firewall rules and (for
//! dockerd) its userland proxy, as a user gets them:
//!
//! - **run --rm** of `true` on the default bridge (the whole `docker run`
//!   plus a veth, an address and a DNS/hosts setup), interleaved;
//! - **throughput** with iperf3 (Debian's, copied with its libraries into
//!   the benchmark image): container → container over the default bridge,
//!   host → container through a port published on 127.0.0.1 (dockerd:
//!   docker-proxy; berthd: DNAT in its nftables table), and the same tool
//!   over a bare veth pair between two network namespaces as the floor;
//! - **DNS lookups per second** of a container's name, asked from another
//!   container on a user-defined network (127.0.0.11 inside it), one query
//!   in flight at a time.
//!
//! Everything runs inside a private network namespace the benchmark makes
//! for itself (it re-executes itself under `unshare --net --mount`): both
//! daemons, their bridges and iptables/nftables rules, dockerd's FORWARD
//! DROP policy, the published ports and the veth floor live and die there,
//! and nothing reaches or changes the host's network. Both daemons share
//! it, as they would share a host.

use std::net::UdpSocket;
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use berth_testutil::berthd::Berthd;
use berth_testutil::dockerd::Dockerd;

use crate::containers::{print_row, timed_berth_cli};
use crate::daemon::{Daemon, Series};
use crate::host::{Host, load_average};
use crate::stats::Summary;

/// What to run.
#[derive(Debug, clap::Args)]
pub struct NetworkArgs {
    /// Measured `run --rm` samples per daemon.
    #[arg(long, default_value_t = 20)]
    runs: usize,
    /// iperf3 runs per path and daemon.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Seconds each iperf3 run lasts.
    #[arg(long, default_value_t = 5)]
    seconds: u32,
    /// DNS queries per sample (7 samples per daemon).
    #[arg(long, default_value_t = 2000)]
    queries: usize,
    /// The berthd to measure (default: target/release/berthd, with its
    /// berth-shim beside it).
    #[arg(long)]
    berthd: Option<PathBuf>,
}

const NAME: &str = "berth_bench_network";
const IMAGE: &str = "bench/iperf:latest";
/// Set in the re-executed benchmark, inside its private namespaces.
const INSIDE: &str = "BERTH_BENCH_PRIVATE_NETNS";
/// The veth floor: host side and namespace side of one /30.
const VETH_HOST: &str = "10.201.0.1";
const VETH_PEER: &str = "10.201.0.2";
/// DNS samples per daemon, interleaved.
const DNS_SAMPLES: usize = 7;

pub fn main(args: &NetworkArgs) -> anyhow::Result<ExitCode> {
    if !berth_testutil::require_root(NAME) {
        bail!("the network benchmark needs root (it starts dockerd and berthd)");
    }
    if std::env::var_os(INSIDE).is_none() {
        return reexec_in_private_netns();
    }
    for tool in ["iperf3", "ip", "unshare", "nsenter"] {
        if !berth_testutil::images::have_tool(NAME, tool) {
            bail!("{tool} is missing (apt-get install iperf3 iproute2 util-linux)");
        }
    }
    sh(&["ip", "link", "set", "lo", "up"])?;

    let berthd_bin = crate::daemon::berthd_binary(args.berthd.as_deref())?;
    let berth_cli = berthd_bin.with_file_name("berth");
    let scratch = tempfile::Builder::new()
        .prefix("berth-bench-net-")
        .tempdir()
        .context("a scratch directory")?;
    let tarball = iperf_tarball(scratch.path())?;

    let berth = Daemon::Berth(Berthd::start(&berthd_bin, &["--bip", "172.30.0.1/16"]));
    let dockerd_flags: Vec<String> = [
        "--iptables=true",
        "--ip-masq=true",
        "--bridge=",
        "--bip=172.31.0.1/16",
        "--userland-proxy=true",
    ]
    .map(String::from)
    .to_vec();
    let docker =
        Daemon::Docker(Dockerd::start(NAME, &dockerd_flags).context("dockerd did not start")?);
    let daemons = [&berth, &docker];
    for d in daemons {
        d.timed(&["import", tarball.to_str().unwrap_or_default(), IMAGE])?;
    }
    let host = Host::describe();
    let load_before = load_average();

    let result = measure(args, &berth, &docker, &berth_cli);
    for d in [&berth, &docker] {
        let containers = ["berth-bench-iperf", "berth-bench-web", "berth-bench-asker"];
        let _ = d
            .docker(&[&["rm", "-f"][..], &containers].concat())
            .output();
        let _ = d.docker(&["network", "rm", "berth-bench-dns"]).output();
    }
    let load_after = load_average();
    drop(berth);
    if let Daemon::Docker(mut d) = docker {
        for leak in d.shutdown() {
            eprintln!("dockerd left: {leak}");
        }
    }
    let m = result?;

    println!("## Network: berthd vs dockerd 20.10 (docker CLI 28 for both)\n");
    println!(
        "- machine: {} CPUs ({}), kernel {}",
        host.cpus, host.cpu_model, host.kernel
    );
    println!("- load average: {load_before} at the start, {load_after} at the end");
    println!(
        "- both daemons in one private network namespace; dockerd with iptables, \
         its FORWARD DROP policy and docker-proxy; berthd with its nftables table\n"
    );
    println!(
        "{} measured runs per daemon (after warm-up), interleaved; milliseconds, wall time.\n",
        args.runs
    );
    println!("| scenario | berthd median | p10–p90 | dockerd median | p10–p90 | ratio |");
    println!("|---|---|---|---|---|---|");
    print_row(m.runs.scenario, &m.runs.berth, &m.runs.docker);
    if !m.berth_cli_runs.is_empty() {
        print_row(
            "berth run --rm busybox true (berth CLI vs docker CLI → dockerd)",
            &m.berth_cli_runs,
            &m.runs.docker,
        );
    }
    println!(
        "\niperf3, {} runs of {} s per path, Gbit/s received (median; min–max). \
         The floor is one veth pair between two namespaces, no bridge, no firewall.\n",
        args.rounds, args.seconds
    );
    println!("| path | berthd | dockerd | berthd / dockerd | berthd / veth floor |");
    println!("|---|---|---|---|---|");
    let floor = Summary::of(&m.veth_floor)
        .map(|s| s.median)
        .unwrap_or(f64::NAN);
    for s in [&m.c2c, &m.h2c] {
        row_gbps(s.scenario, &s.berth, &s.docker, floor);
    }
    if let Some(f) = Summary::of(&m.veth_floor) {
        println!(
            "| bare veth (floor) | {:.2} ({:.2}–{:.2}) | | | |",
            f.median / 1e9,
            min(&m.veth_floor) / 1e9,
            max(&m.veth_floor) / 1e9
        );
    }
    println!(
        "\nDNS: A queries for another container's name on a user-defined network, \
         {} per sample, one in flight; queries per second (median of {DNS_SAMPLES}).\n",
        args.queries
    );
    println!("| scenario | berthd | dockerd | ratio |");
    println!("|---|---|---|---|");
    if let (Some(b), Some(d)) = (Summary::of(&m.dns.berth), Summary::of(&m.dns.docker)) {
        println!(
            "| {} | {:.0} | {:.0} | {:.2}× |",
            m.dns.scenario,
            b.median,
            d.median,
            b.median / d.median
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// What [`measure`] collects.
struct Measured {
    runs: Series,
    berth_cli_runs: Vec<f64>,
    c2c: Series,
    h2c: Series,
    veth_floor: Vec<f64>,
    dns: Series,
}

fn measure(
    args: &NetworkArgs,
    berth: &Daemon,
    docker: &Daemon,
    berth_cli: &std::path::Path,
) -> anyhow::Result<Measured> {
    // run --rm on the default bridge
    let run = ["run", "--rm", IMAGE, "true"];
    let mut runs = Series::new("docker run --rm busybox true (default bridge)");
    let mut berth_cli_runs = Vec::new();
    for round in 0..args.runs + 3 {
        let order = if round % 2 == 0 {
            [berth, docker]
        } else {
            [docker, berth]
        };
        for d in order {
            let took = d.timed(&run)?;
            if round >= 3 {
                runs.push(d, took);
            }
        }
        if let Daemon::Berth(b) = berth
            && berth_cli.exists()
        {
            let took = timed_berth_cli(berth_cli, b, &run)?;
            if round >= 3 {
                berth_cli_runs.push(took);
            }
        }
    }

    // iperf3 servers, one per daemon, published on 127.0.0.1
    let mut servers = Vec::new();
    for (d, port) in [(berth, 15201), (docker, 15202)] {
        let publish = format!("127.0.0.1:{port}:5201");
        d.timed(&[
            "run",
            "-d",
            "--name",
            "berth-bench-iperf",
            "-p",
            &publish,
            IMAGE,
            "iperf3",
            "-s",
        ])?;
        let ip = inspect(d, "berth-bench-iperf", "{{.NetworkSettings.IPAddress}}")?;
        servers.push((d, port, ip));
    }
    std::thread::sleep(Duration::from_millis(500));
    let floor = VethFloor::start()?;
    let seconds = args.seconds.to_string();
    let mut c2c = Series::new("container → container, default bridge");
    let mut h2c = Series::new("host → container, port published on 127.0.0.1");
    let mut veth_floor = Vec::new();
    for round in 0..args.rounds {
        let mut order: Vec<_> = servers.iter().collect();
        if round % 2 == 1 {
            order.reverse();
        }
        for (d, port, ip) in order {
            let out = d
                .docker(&[
                    "run", "--rm", IMAGE, "iperf3", "-J", "-t", &seconds, "-c", ip,
                ])
                .output()
                .context("iperf3 client container")?;
            c2c.push(
                d,
                iperf_bps(&out).with_context(|| format!("{}: c2c", d.name()))?,
            );
            let out = Command::new("iperf3")
                .args([
                    "-J",
                    "-t",
                    &seconds,
                    "-c",
                    "127.0.0.1",
                    "-p",
                    &port.to_string(),
                ])
                .output()
                .context("iperf3 on the host")?;
            h2c.push(
                d,
                iperf_bps(&out).with_context(|| format!("{}: h2c", d.name()))?,
            );
        }
        let out = Command::new("iperf3")
            .args(["-J", "-t", &seconds, "-c", VETH_PEER])
            .output()
            .context("iperf3 over the bare veth")?;
        veth_floor.push(iperf_bps(&out).context("veth floor")?);
    }
    drop(floor);

    // DNS
    let mut dns = Series::new("A lookups of a container name per second");
    let mut askers = Vec::new();
    for d in [berth, docker] {
        d.timed(&["network", "create", "berth-bench-dns"])?;
        for name in ["berth-bench-web", "berth-bench-asker"] {
            d.timed(&[
                "run",
                "-d",
                "--name",
                name,
                "--network",
                "berth-bench-dns",
                IMAGE,
                "sleep",
                "1000000",
            ])?;
        }
        let pid = inspect(d, "berth-bench-asker", "{{.State.Pid}}")?;
        let netns = PathBuf::from(format!("/proc/{pid}/ns/net"));
        let socket = berth_network::netns::run_in(Some(&netns), || {
            let s = UdpSocket::bind("127.0.0.1:0")?;
            s.connect("127.0.0.11:53")?;
            s.set_read_timeout(Some(Duration::from_secs(2)))?;
            Ok::<_, std::io::Error>(s)
        })
        .context("enter the asking container's netns")?
        .context("a UDP socket to 127.0.0.11")?;
        lookups(&socket, "berth-bench-web", 200)
            .with_context(|| format!("{}: DNS warm-up", d.name()))?;
        askers.push((d, socket));
    }
    for round in 0..DNS_SAMPLES {
        let mut order: Vec<_> = askers.iter().collect();
        if round % 2 == 1 {
            order.reverse();
        }
        for (d, socket) in order {
            let took = lookups(socket, "berth-bench-web", args.queries)
                .with_context(|| format!("{}: DNS", d.name()))?;
            dns.push(d, args.queries as f64 / took);
        }
    }
    Ok(Measured {
        runs,
        berth_cli_runs,
        c2c,
        h2c,
        veth_floor,
        dns,
    })
}

/// Re-runs this benchmark inside a new network and mount namespace.
fn reexec_in_private_netns() -> anyhow::Result<ExitCode> {
    let me = std::env::current_exe().context("the benchmark's own path")?;
    let status = Command::new("unshare")
        .args(["--net", "--mount", "--propagation", "slave", "--"])
        .arg(me)
        .args(std::env::args_os().skip(1))
        .env(INSIDE, "1")
        .status()
        .context("unshare --net --mount")?;
    Ok(match status.code() {
        Some(0) => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    })
}

/// The busybox rootfs plus Debian's iperf3 and the libraries it loads.
fn iperf_tarball(dir: &std::path::Path) -> anyhow::Result<PathBuf> {
    berth_testutil::busybox_tarball(dir);
    let rootfs = dir.join("rootfs");
    let iperf = PathBuf::from("/usr/bin/iperf3");
    let ldd = Command::new("ldd")
        .arg(&iperf)
        .output()
        .context("ldd iperf3")?;
    let mut files = vec![iperf];
    for line in String::from_utf8_lossy(&ldd.stdout).lines() {
        // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)" or
        // "/lib64/ld-linux-x86-64.so.2 (0x…)"
        if let Some(path) = line.split_whitespace().find(|w| w.starts_with('/')) {
            files.push(PathBuf::from(path));
        }
    }
    for file in files {
        let real = std::fs::canonicalize(&file).with_context(|| format!("{}", file.display()))?;
        let target = rootfs.join(file.strip_prefix("/").unwrap_or(&file));
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(&real, &target).with_context(|| format!("copy {}", real.display()))?;
    }
    let tar = dir.join("iperf.tar");
    berth_testutil::tar_rootfs(&rootfs, &tar);
    Ok(tar)
}

/// A network namespace joined to this one by a bare veth pair, with an
/// iperf3 server in it; gone when dropped (the namespace dies with its
/// only process, taking the pair with it).
struct VethFloor {
    server: Child,
}

impl VethFloor {
    fn start() -> anyhow::Result<VethFloor> {
        let server = Command::new("unshare")
            .args(["--net", "--", "iperf3", "-s"])
            .stdout(Stdio::null())
            .spawn()
            .context("iperf3 -s in a new netns")?;
        let floor = VethFloor { server };
        let pid = floor.server.id().to_string();
        // Wait until the child is in its own namespace.
        let own = std::fs::read_link("/proc/self/ns/net")?;
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::fs::read_link(format!("/proc/{pid}/ns/net"))
            .ok()
            .as_ref()
            == Some(&own)
        {
            if Instant::now() > deadline {
                bail!("the veth floor's namespace did not appear");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        sh(&[
            "ip", "link", "add", "berthbv0", "type", "veth", "peer", "name", "eth0", "netns", &pid,
        ])?;
        sh(&[
            "ip",
            "addr",
            "add",
            &format!("{VETH_HOST}/30"),
            "dev",
            "berthbv0",
        ])?;
        sh(&["ip", "link", "set", "berthbv0", "up"])?;
        let inside = |args: &[&str]| {
            let mut all = vec!["nsenter", "-t", &pid, "-n"];
            all.extend_from_slice(args);
            sh(&all)
        };
        inside(&[
            "ip",
            "addr",
            "add",
            &format!("{VETH_PEER}/30"),
            "dev",
            "eth0",
        ])?;
        inside(&["ip", "link", "set", "eth0", "up"])?;
        inside(&["ip", "link", "set", "lo", "up"])?;
        std::thread::sleep(Duration::from_millis(300));
        Ok(floor)
    }
}

impl Drop for VethFloor {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
        let _ = Command::new("ip")
            .args(["link", "del", "berthbv0"])
            .status();
    }
}

/// `count` A queries for `name`, one at a time; seconds taken.
fn lookups(socket: &UdpSocket, name: &str, count: usize) -> anyhow::Result<f64> {
    let mut buf = [0u8; 512];
    let t = Instant::now();
    for i in 0..count {
        let id = i as u16;
        socket.send(&dns_query(id, name))?;
        loop {
            let n = socket.recv(&mut buf).context("no DNS answer within 2 s")?;
            if n >= 12 && u16::from_be_bytes([buf[0], buf[1]]) == id {
                let rcode = buf[3] & 0x0f;
                let answers = u16::from_be_bytes([buf[6], buf[7]]);
                if rcode != 0 || answers == 0 {
                    bail!("{name}: rcode {rcode}, {answers} answers");
                }
                break;
            }
        }
    }
    Ok(t.elapsed().as_secs_f64())
}

/// A recursive A query for `name` (RFC 1035 §4.1).
fn dns_query(id: u16, name: &str) -> Vec<u8> {
    let mut q = Vec::with_capacity(12 + name.len() + 6);
    q.extend(id.to_be_bytes());
    q.extend([0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.split('.') {
        q.push(label.len() as u8);
        q.extend(label.as_bytes());
    }
    q.extend([0, 0, 1, 0, 1]);
    q
}

/// Received bits per second from iperf3's JSON report.
fn iperf_bps(out: &std::process::Output) -> anyhow::Result<f64> {
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).with_context(|| {
        format!(
            "iperf3 said: {} {}",
            String::from_utf8_lossy(&out.stdout).trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        )
    })?;
    if let Some(e) = v.get("error").and_then(|e| e.as_str()) {
        bail!("iperf3: {e}");
    }
    v.pointer("/end/sum_received/bits_per_second")
        .and_then(|b| b.as_f64())
        .context("iperf3's report has no end.sum_received")
}

fn inspect(d: &Daemon, container: &str, format: &str) -> anyhow::Result<String> {
    let out = d
        .docker(&["inspect", "-f", format, container])
        .output()
        .context("docker inspect")?;
    let value = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() || value.is_empty() {
        bail!(
            "{}: inspect {container}: {}",
            d.name(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(value)
}

fn sh(args: &[&str]) -> anyhow::Result<()> {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .with_context(|| format!("running {args:?}"))?;
    if !out.status.success() {
        bail!("{args:?}: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

fn min(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

fn max(v: &[f64]) -> f64 {
    v.iter().copied().fold(0.0, f64::max)
}

fn row_gbps(scenario: &str, berth: &[f64], docker: &[f64], floor: f64) {
    let (Some(b), Some(d)) = (Summary::of(berth), Summary::of(docker)) else {
        return;
    };
    let g = 1e9;
    println!(
        "| {scenario} | {:.2} ({:.2}–{:.2}) | {:.2} ({:.2}–{:.2}) | {:.2}× | {:.0} % |",
        b.median / g,
        min(berth) / g,
        max(berth) / g,
        d.median / g,
        min(docker) / g,
        max(docker) / g,
        b.median / d.median,
        100.0 * b.median / floor
    );
}
