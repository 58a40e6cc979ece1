//! berthd: opens the engine on its data root, binds the API sockets given by
//! `-H`, and serves the Docker Engine API until SIGTERM or SIGINT.
#![forbid(unsafe_code)]

mod args;
mod pidfile;

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use berth_api::{Address, DEFAULT_SOCKET, Listener, TlsFiles};
use berth_engine::{Config, Engine, StorageDriver};
use clap::Parser;
use tokio::signal::unix::{SignalKind, signal};

use args::Args;
use pidfile::PidFile;

fn main() -> ExitCode {
    let args = Args::parse();
    init_logging(&args);
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("berthd: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(args: &Args) {
    let level = if args.debug {
        tracing::Level::DEBUG
    } else {
        match args.log_level.as_str() {
            "debug" | "trace" => tracing::Level::DEBUG,
            "warn" | "warning" => tracing::Level::WARN,
            "error" | "fatal" | "panic" => tracing::Level::ERROR,
            _ => tracing::Level::INFO,
        }
    };
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

fn run(args: Args) -> anyhow::Result<()> {
    let config = engine_config(&args)?;
    let addresses = addresses(&args)?;
    let tls = tls_files(&args)?;
    let pidfile_path = args
        .pidfile
        .clone()
        .unwrap_or_else(|| args.exec_root.join("berthd.pid"));
    let _pidfile = PidFile::create(&pidfile_path)?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("berthd")
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let result = runtime.block_on(async {
        let engine = tokio::task::spawn_blocking(move || Engine::open(config))
            .await
            .context("opening the engine")?
            .context("opening the engine")?;
        let engine = Arc::new(engine);
        let mut sockets = Vec::new();
        let served = async {
            {
                let engine = engine.clone();
                tokio::task::spawn_blocking(move || engine.run_containers())
                    .await
                    .context("re-adopting containers")?
                    .context("re-adopting containers")?;
            }
            let mut listeners = Vec::new();
            for address in &addresses {
                let listener = Listener::bind(address, tls.as_ref(), &args.group)
                    .with_context(|| format!("listening on {address}"))?;
                if let Address::Unix(path) = address {
                    sockets.push(path.clone());
                }
                tracing::info!("API listening on {address}");
                listeners.push(listener);
            }
            tracing::info!(
                "berthd {} started (data root {}, exec root {})",
                berth_engine::BERTH_VERSION,
                args.data_root.display(),
                args.exec_root.display()
            );
            let shutdown = shutdown_signal()?;
            berth_api::serve(listeners, engine.clone(), shutdown).await;
            anyhow::Ok(())
        }
        .await;
        // Also when starting failed half-way: what the engine set up on
        // the host (bridges, firewall table, parent cgroup) goes if unused.
        engine.shutdown();
        for path in sockets {
            let _ = std::fs::remove_file(path);
        }
        served?;
        tracing::info!("berthd stopped");
        anyhow::Ok(())
    });
    // Blocking requests (a `wait`, a followed log) may never end on their
    // own; the containers keep running without berthd, so do not wait.
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    result
}

/// One `--storage-opt KEY=VALUE`; dockerd's words for an unknown or malformed one.
fn apply_storage_opt(config: &mut Config, opt: &str) -> anyhow::Result<()> {
    let (key, value) = opt
        .split_once('=')
        .with_context(|| format!("unable to parse storage-opt: {opt}"))?;
    match key.trim().to_ascii_lowercase().as_str() {
        "overlay2.layer_images" | "overlay.layer_images" => {
            config.layer_images = value.trim().parse::<bool>().with_context(|| {
                format!("overlay2: {key}: {value:?} is not a boolean (true or false)")
            })?;
            Ok(())
        }
        _ => anyhow::bail!("overlay2: unknown option {key}"),
    }
}

fn engine_config(args: &Args) -> anyhow::Result<Config> {
    let mut config = Config::new(args.data_root.clone(), args.exec_root.clone());
    config.insecure_registries = args.insecure_registries.clone();
    config.max_concurrent_downloads = args.max_concurrent_downloads.max(1);
    config.max_concurrent_uploads = args.max_concurrent_uploads.max(1);
    config.storage_driver = StorageDriver::parse(&args.storage_driver).with_context(|| {
        format!(
            "unknown storage driver {:?}: use overlay (overlay2), native (vfs) or auto",
            args.storage_driver
        )
    })?;
    for opt in &args.storage_opts {
        apply_storage_opt(&mut config, opt)?;
    }
    config.debug = args.debug;
    if args.cgroup_parent.is_empty() {
        anyhow::bail!("--cgroup-parent must not be empty");
    }
    config.cgroup_parent = args.cgroup_parent.clone();
    config.labels = args.labels.clone();
    if args.bridge.is_empty() || args.bridge.len() > 15 {
        anyhow::bail!("--bridge must be 1-15 characters (an interface name)");
    }
    config.bridge_name = args.bridge.clone();
    config.bip = args.bip.clone();
    config.nft_table = args.nft_table.clone();
    config.dns = args.dns.clone();
    Ok(config)
}

fn addresses(args: &Args) -> anyhow::Result<Vec<Address>> {
    if args.hosts.is_empty() {
        return Ok(vec![Address::Unix(DEFAULT_SOCKET.into())]);
    }
    args.hosts
        .iter()
        .map(|h| h.parse::<Address>().map_err(anyhow::Error::from))
        .collect()
}

fn tls_files(args: &Args) -> anyhow::Result<Option<TlsFiles>> {
    if !args.tlsverify {
        if args.tls {
            bail!(
                "--tls without --tlsverify is not supported: the API needs client certificates on TCP"
            );
        }
        return Ok(None);
    }
    let need = |flag: &str, v: &Option<std::path::PathBuf>| {
        v.clone()
            .with_context(|| format!("--tlsverify needs {flag}"))
    };
    Ok(Some(TlsFiles {
        ca: need("--tlscacert", &args.tlscacert)?,
        cert: need("--tlscert", &args.tlscert)?,
        key: need("--tlskey", &args.tlskey)?,
    }))
}

/// Resolves at the first SIGTERM or SIGINT.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM: shutting down"),
            _ = int.recv() => tracing::info!("SIGINT: shutting down"),
        }
    })
}
