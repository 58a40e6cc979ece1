//! berthd's command line: dockerd's flag names for the same settings, so
//! that scripts and docs written for dockerd carry over.

use std::path::PathBuf;

use clap::Parser;

#[derive(Debug, Parser)]
#[command(
    name = "berthd",
    version,
    about = "The Berth daemon: serves the Docker Engine API"
)]
pub struct Args {
    /// Daemon socket(s) to listen on: unix:///path or tcp://host:port (TCP
    /// needs --tlsverify). Repeatable.
    #[arg(short = 'H', long = "host", value_name = "ADDRESS")]
    pub hosts: Vec<String>,

    /// Root of persistent state (database, content store, snapshots).
    #[arg(long, default_value = "/var/lib/berth", value_name = "DIR")]
    pub data_root: PathBuf,

    /// Root of runtime state (sockets, containers' runtime state).
    #[arg(long, default_value = "/run/berth", value_name = "DIR")]
    pub exec_root: PathBuf,

    /// Path of the pid file [default: <exec-root>/berthd.pid].
    #[arg(short = 'p', long, value_name = "FILE")]
    pub pidfile: Option<PathBuf>,

    /// Group owning the unix socket (when it exists).
    #[arg(short = 'G', long, default_value = "berth")]
    pub group: String,

    /// Use TLS; implied by --tlsverify.
    #[arg(long)]
    pub tls: bool,

    /// Use TLS and require client certificates signed by --tlscacert.
    #[arg(long)]
    pub tlsverify: bool,

    /// Trust client certificates signed by this CA.
    #[arg(long, value_name = "FILE")]
    pub tlscacert: Option<PathBuf>,

    /// The server's TLS certificate.
    #[arg(long, value_name = "FILE")]
    pub tlscert: Option<PathBuf>,

    /// The server's TLS key.
    #[arg(long, value_name = "FILE")]
    pub tlskey: Option<PathBuf>,

    /// Registries reached over plain HTTP or unverified TLS: host[:port] or
    /// a CIDR. Repeatable. (localhost and 127.0.0.0/8 always are.)
    #[arg(long = "insecure-registry", value_name = "REGISTRY")]
    pub insecure_registries: Vec<String>,

    /// Layers downloaded at once per pull.
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub max_concurrent_downloads: usize,

    /// Layers uploaded at once per push.
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub max_concurrent_uploads: usize,

    /// Storage driver: overlay (overlay2), native (vfs) or auto.
    #[arg(short = 's', long, default_value = "auto", value_name = "DRIVER")]
    pub storage_driver: String,

    /// Storage driver options, as dockerd's: `overlay2.layer_images=false` keeps
    /// every layer as a directory instead of an EROFS image file. Repeatable.
    #[arg(long = "storage-opt", value_name = "KEY=VALUE")]
    pub storage_opts: Vec<String>,

    /// Parent cgroup of every container (absolute, or relative to
    /// berthd's own cgroup); a container's `--cgroup-parent` overrides it.
    #[arg(long, default_value = "/berth", value_name = "CGROUP")]
    pub cgroup_parent: String,

    /// The Linux bridge of the default `bridge` network.
    #[arg(
        short = 'b',
        long = "bridge",
        default_value = "berth0",
        value_name = "NAME"
    )]
    pub bridge: String,

    /// The default bridge's address and prefix (e.g. 172.30.0.1/16)
    /// [default: the first of Docker's default pools that no network or
    /// host route uses].
    #[arg(long, value_name = "CIDR")]
    pub bip: Option<String>,

    /// Berth's nftables table (`table inet <NAME>`): give each berthd on a
    /// host its own, so that their rules never mix.
    #[arg(long, default_value = "berth", value_name = "NAME")]
    pub nft_table: String,

    /// DNS server of containers that name none (`--dns` of run): written
    /// to resolv.conf on the default bridge, and asked by the embedded DNS
    /// (127.0.0.11) on user-defined networks, from berthd's own network
    /// namespace. Repeatable. [default: the host's resolv.conf]
    #[arg(long = "dns", value_name = "IP")]
    pub dns: Vec<std::net::IpAddr>,

    /// Labels of this daemon, shown by `info`. Repeatable.
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,

    /// Debug output (log level debug).
    #[arg(short = 'D', long)]
    pub debug: bool,

    /// Log level: debug, info, warn, error, fatal.
    #[arg(short = 'l', long, default_value = "info")]
    pub log_level: String,
}
