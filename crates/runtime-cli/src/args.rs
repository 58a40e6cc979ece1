//! The command line, as runc has it: global flags, then a subcommand. Plain
//! clap structs with no behaviour; `commands/` turns them into library calls.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// berth-runtime: an OCI runtime with runc's command line. Global flags go
/// before the subcommand, as with runc (`berth-runtime --root R run ...`).
#[derive(Debug, Parser)]
#[command(name = "berth-runtime", disable_version_flag = true)]
pub struct Cli {
    /// Print the version and exit.
    #[arg(short = 'v', long = "version", global = false)]
    pub version: bool,
    /// Enable debug logging.
    #[arg(long)]
    pub debug: bool,
    /// Write log messages to this file (default: stderr).
    #[arg(long, value_name = "PATH")]
    pub log: Option<PathBuf>,
    /// Log format.
    #[arg(long = "log-format", value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// Directory for the runtime's container state.
    #[arg(long, default_value = berth_runtime::container::DEFAULT_ROOT)]
    pub root: PathBuf,
    /// Path to criu (checkpoint/restore is not supported; accepted for compatibility).
    #[arg(long, hide = true)]
    pub criu: Option<PathBuf>,
    /// Use systemd to manage cgroups (not supported: refused).
    #[arg(long = "systemd-cgroup")]
    pub systemd_cgroup: bool,
    /// Rootless mode: auto, true or false (before the subcommand, as runc).
    #[arg(long, default_value = "auto")]
    pub rootless: String,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Log line format.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum LogFormat {
    /// `time="..." level=error msg="..."`.
    Text,
    /// One JSON object per line.
    Json,
}

/// Subcommands. Their arguments are built only for the one invoked
/// (`defer`): clap's full command tree is ~200 KB of heap, a third of the
/// runtime's page faults at every container start.
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum Command {
    /// Create a container (it waits for `start`).
    Create(Create),
    /// Start a created container.
    Start(Id),
    /// Create and start a container, and wait for it unless detached.
    Run(Run),
    /// Print the state of a container as JSON.
    State(Id),
    /// Send a signal to a container's init (or all its processes).
    Kill(Kill),
    /// Delete a container.
    Delete(Delete),
    /// Run a new process in a running container.
    Exec(Exec),
    /// List the processes of a container.
    Ps(Ps),
    /// Freeze a container.
    Pause(Id),
    /// Thaw a paused container.
    Resume(Id),
    /// Change the resources of a container.
    Update(Update),
    /// Print resource statistics and OOM events.
    Events(Events),
    /// List containers.
    List(List),
    /// Write a default config.json.
    Spec(Spec),
    /// Print the features document as JSON.
    Features,
    /// Not supported.
    #[command(hide = true)]
    Checkpoint(Rest),
    /// Not supported.
    #[command(hide = true)]
    Restore(Rest),
}

/// A container id.
#[derive(Debug, Args)]
pub struct Id {
    /// Container id.
    pub id: String,
}

/// Arguments of an unsupported command.
#[derive(Debug, Args)]
pub struct Rest {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub rest: Vec<String>,
}

/// `create`.
#[derive(Debug, Args)]
pub struct Create {
    /// Container id.
    pub id: String,
    /// The bundle directory.
    #[arg(short = 'b', long, default_value = ".")]
    pub bundle: PathBuf,
    /// Unix socket that receives the pty master.
    #[arg(long = "console-socket")]
    pub console_socket: Option<PathBuf>,
    /// Write the init's pid to this file.
    #[arg(long = "pid-file")]
    pub pid_file: Option<PathBuf>,
    /// Do not use pivot_root (for a root on ramfs).
    #[arg(long = "no-pivot")]
    pub no_pivot: bool,
    /// Keep the caller's session keyring.
    #[arg(long = "no-new-keyring")]
    pub no_new_keyring: bool,
    /// Pass this many extra descriptors (from 3) to the container.
    #[arg(long = "preserve-fds", default_value_t = 0)]
    pub preserve_fds: u32,
}

/// `run`.
#[derive(Debug, Args)]
pub struct Run {
    #[command(flatten)]
    pub create: Create,
    /// Return once the container started.
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Do not delete the container after it exits.
    #[arg(long)]
    pub keep: bool,
    /// Do not become a child subreaper.
    #[arg(long = "no-subreaper")]
    pub no_subreaper: bool,
}

/// `kill`.
#[derive(Debug, Args)]
pub struct Kill {
    /// Container id.
    pub id: String,
    /// Signal (name or number).
    #[arg(default_value = "SIGTERM")]
    pub signal: String,
    /// Signal every process of the container.
    #[arg(short = 'a', long)]
    pub all: bool,
}

/// `delete`.
#[derive(Debug, Args)]
pub struct Delete {
    /// Container id.
    pub id: String,
    /// Kill the container first if it is running.
    #[arg(short = 'f', long)]
    pub force: bool,
}

/// `exec`.
#[derive(Debug, Args)]
pub struct Exec {
    /// Container id.
    pub id: String,
    /// The command and its arguments (unless --process).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
    /// Unix socket that receives the pty master.
    #[arg(long = "console-socket")]
    pub console_socket: Option<PathBuf>,
    /// Working directory.
    #[arg(long)]
    pub cwd: Option<String>,
    /// Set an environment variable (KEY=value).
    #[arg(short = 'e', long = "env")]
    pub env: Vec<String>,
    /// Allocate a terminal.
    #[arg(short = 't', long)]
    pub tty: bool,
    /// uid[:gid].
    #[arg(short = 'u', long)]
    pub user: Option<String>,
    /// Extra group ids.
    #[arg(short = 'g', long = "additional-gids")]
    pub additional_gids: Vec<u32>,
    /// A JSON file with the process (runtime-spec `process` object).
    #[arg(short = 'p', long)]
    pub process: Option<PathBuf>,
    /// Return once the process started.
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Write the process's pid to this file.
    #[arg(long = "pid-file")]
    pub pid_file: Option<PathBuf>,
    /// SELinux label of the process.
    #[arg(long = "process-label")]
    pub process_label: Option<String>,
    /// AppArmor profile of the process.
    #[arg(long)]
    pub apparmor: Option<String>,
    /// Set no_new_privs.
    #[arg(long = "no-new-privs")]
    pub no_new_privs: bool,
    /// Add a capability.
    #[arg(short = 'c', long = "cap")]
    pub cap: Vec<String>,
    /// Pass this many extra descriptors (from 3).
    #[arg(long = "preserve-fds", default_value_t = 0)]
    pub preserve_fds: u32,
    /// Exec even if the container is paused.
    #[arg(long = "ignore-paused")]
    pub ignore_paused: bool,
    /// Run in a sub-cgroup (not supported: refused).
    #[arg(long)]
    pub cgroup: Vec<String>,
}

/// Output format of `ps` and `list`.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Format {
    /// Aligned columns.
    Table,
    /// JSON.
    Json,
}

/// `ps`.
#[derive(Debug, Args)]
pub struct Ps {
    /// Container id.
    pub id: String,
    /// Output format.
    #[arg(short = 'f', long, value_enum, default_value = "table")]
    pub format: Format,
    /// Options for ps(1) (table format).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub ps_args: Vec<String>,
}

/// `update`.
#[derive(Debug, Args)]
pub struct Update {
    /// Container id.
    pub id: String,
    /// A JSON file (or - for stdin) with the runtime-spec `resources` object.
    #[arg(short = 'r', long)]
    pub resources: Option<PathBuf>,
    /// Block I/O weight (10-1000).
    #[arg(long = "blkio-weight")]
    pub blkio_weight: Option<u16>,
    /// CPU CFS period (µs).
    #[arg(long = "cpu-period")]
    pub cpu_period: Option<u64>,
    /// CPU CFS quota (µs).
    #[arg(long = "cpu-quota")]
    pub cpu_quota: Option<i64>,
    /// CPU shares.
    #[arg(long = "cpu-share")]
    pub cpu_share: Option<u64>,
    /// Realtime period (µs).
    #[arg(long = "cpu-rt-period")]
    pub cpu_rt_period: Option<u64>,
    /// Realtime runtime (µs).
    #[arg(long = "cpu-rt-runtime")]
    pub cpu_rt_runtime: Option<i64>,
    /// CPUs to run on (0-3,5).
    #[arg(long = "cpuset-cpus")]
    pub cpuset_cpus: Option<String>,
    /// Memory nodes (0-1).
    #[arg(long = "cpuset-mems")]
    pub cpuset_mems: Option<String>,
    /// Kernel memory limit (ignored by kernels without it).
    #[arg(long = "kernel-memory")]
    pub kernel_memory: Option<String>,
    /// Kernel TCP memory limit.
    #[arg(long = "kernel-memory-tcp")]
    pub kernel_memory_tcp: Option<String>,
    /// Memory limit (bytes, or with k/m/g).
    #[arg(long)]
    pub memory: Option<String>,
    /// Memory soft limit.
    #[arg(long = "memory-reservation")]
    pub memory_reservation: Option<String>,
    /// Memory plus swap limit (-1: unlimited).
    #[arg(long = "memory-swap")]
    pub memory_swap: Option<String>,
    /// Maximum number of processes (-1 or 0: unlimited).
    #[arg(long = "pids-limit")]
    pub pids_limit: Option<i64>,
    /// Intel RDT L3 cache schema.
    #[arg(long = "l3-cache-schema")]
    pub l3_cache_schema: Option<String>,
    /// Intel RDT memory bandwidth schema.
    #[arg(long = "mem-bw-schema")]
    pub mem_bw_schema: Option<String>,
}

/// `events`.
#[derive(Debug, Args)]
pub struct Events {
    /// Container id.
    pub id: String,
    /// Interval between stats events (e.g. 5s, 500ms).
    #[arg(long, default_value = "5s")]
    pub interval: String,
    /// Print one stats event and exit.
    #[arg(long)]
    pub stats: bool,
}

/// `list`.
#[derive(Debug, Args)]
pub struct List {
    /// Output format.
    #[arg(short = 'f', long, value_enum, default_value = "table")]
    pub format: Format,
    /// Print only ids.
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

/// `spec`.
#[derive(Debug, Args)]
pub struct Spec {
    /// Where to write config.json.
    #[arg(short = 'b', long, default_value = ".")]
    pub bundle: PathBuf,
    /// Write a config for rootless containers.
    #[arg(long)]
    pub rootless: bool,
}
