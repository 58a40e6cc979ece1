//! `berth-bench`: side-by-side benchmarks of Berth against the reference
//! tools, one subcommand per hot path. Each runs Berth and the reference in
//! the same invocation, interleaved, and prints a markdown table with the
//! ratio against the reference, so that a figure is never quoted without
//! the thing it is compared to and the machine it was measured on.
//!
//! - `runtime`: berth-runtime vs runc (and crun): `run` of `/bin/true`, the
//!   create/start/delete cycle, and the kernel's floor.
//! - `images`: berthd vs dockerd through the docker CLI: pull, push, and
//!   the daemons' resident memory.
//! - `containers`: berthd vs dockerd through the docker CLI: `run --rm`,
//!   memory per idle container, `ps`/`inspect` latency.
//! - `network`: berthd vs dockerd on their default bridges: `run --rm`,
//!   iperf3 throughput (container to container, through a published port,
//!   and a bare veth as the floor), DNS lookups of container names.

mod containers;
mod daemon;
mod host;
mod images;
mod interrupt;
mod network;
mod runtime;
mod spawn;
mod stats;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Side-by-side benchmarks of Berth against the reference tools.
#[derive(Debug, Parser)]
#[command(name = "berth-bench", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// OCI runtimes side by side: `run` of `true`, create/start/delete, and
    /// the floor (`unshare` of the same namespaces, `busybox true`). Needs root.
    Runtime(runtime::RuntimeArgs),
    /// berthd vs dockerd: pull and push through a local registry, and the
    /// daemons' memory. Needs root, dockerd and docker-registry.
    Images(images::ImagesArgs),
    /// berthd vs dockerd: `run --rm`, memory per idle container, ps and
    /// inspect latency. Needs root and dockerd.
    Containers(containers::ContainersArgs),
    /// berthd vs dockerd on their default bridges: `run --rm`, iperf3
    /// throughput, DNS lookups per second. Needs root, dockerd and iperf3;
    /// runs in a private network namespace of its own.
    Network(network::NetworkArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Runtime(args) => runtime::main(args),
        Command::Images(args) => images::main(args),
        Command::Containers(args) => containers::main(args),
        Command::Network(args) => network::main(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("berth-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}
