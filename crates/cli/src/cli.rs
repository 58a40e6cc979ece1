//! The command line as the user types it: global flags and one clap struct
//! per command, plain data with docker's names, short flags and defaults.
//! Nothing here talks to the daemon; `commands/` turns these into calls.
//!
//! Positional arguments are collected as lists and their count is checked
//! by the command (docker's `requires 1 argument` messages need the usage
//! line, which each command declares here as a [`Usage`]).

use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand};

/// A command's path and usage line, for docker-style usage errors.
#[derive(Debug, Clone, Copy)]
pub struct Usage {
    /// `berth images`
    pub path: &'static str,
    /// `berth images [OPTIONS] [REPOSITORY[:TAG]]`
    pub line: &'static str,
}

macro_rules! usage {
    ($name:ident, $path:literal, $args:literal) => {
        /// Usage of the command.
        pub const $name: Usage = Usage {
            path: $path,
            line: concat!($path, " ", $args),
        };
    };
}

usage!(IMAGES, "berth images", "[OPTIONS] [REPOSITORY[:TAG]]");
usage!(IMAGE_LS, "berth image ls", "[OPTIONS] [REPOSITORY[:TAG]]");
usage!(PULL, "berth pull", "[OPTIONS] NAME[:TAG|@DIGEST]");
usage!(
    IMAGE_PULL,
    "berth image pull",
    "[OPTIONS] NAME[:TAG|@DIGEST]"
);
usage!(PUSH, "berth push", "[OPTIONS] NAME[:TAG]");
usage!(IMAGE_PUSH, "berth image push", "[OPTIONS] NAME[:TAG]");
usage!(INSPECT, "berth inspect", "[OPTIONS] NAME|ID [NAME|ID...]");
usage!(
    IMAGE_INSPECT,
    "berth image inspect",
    "[OPTIONS] IMAGE [IMAGE...]"
);
usage!(HISTORY, "berth history", "[OPTIONS] IMAGE");
usage!(IMAGE_HISTORY, "berth image history", "[OPTIONS] IMAGE");
usage!(TAG, "berth tag", "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]");
usage!(
    IMAGE_TAG,
    "berth image tag",
    "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]"
);
usage!(RMI, "berth rmi", "[OPTIONS] IMAGE [IMAGE...]");
usage!(IMAGE_RM, "berth image rm", "[OPTIONS] IMAGE [IMAGE...]");
usage!(IMAGE_PRUNE, "berth image prune", "[OPTIONS]");
usage!(SAVE, "berth save", "[OPTIONS] IMAGE [IMAGE...]");
usage!(IMAGE_SAVE, "berth image save", "[OPTIONS] IMAGE [IMAGE...]");
usage!(BUILD, "berth build", "[OPTIONS] PATH | URL | -");
usage!(IMAGE_BUILD, "berth image build", "[OPTIONS] PATH | URL | -");
usage!(LOAD, "berth load", "[OPTIONS]");
usage!(IMAGE_LOAD, "berth image load", "[OPTIONS]");
usage!(
    IMPORT,
    "berth import",
    "[OPTIONS] file|URL|- [REPOSITORY[:TAG]]"
);
usage!(
    IMAGE_IMPORT,
    "berth image import",
    "[OPTIONS] file|URL|- [REPOSITORY[:TAG]]"
);
usage!(LOGIN, "berth login", "[OPTIONS] [SERVER]");
usage!(LOGOUT, "berth logout", "[SERVER]");
usage!(VERSION, "berth version", "[OPTIONS]");
usage!(INFO, "berth info", "[OPTIONS]");
usage!(SYSTEM_INFO, "berth system info", "[OPTIONS]");
usage!(SYSTEM_DF, "berth system df", "[OPTIONS]");
usage!(EVENTS, "berth events", "[OPTIONS]");
usage!(SYSTEM_EVENTS, "berth system events", "[OPTIONS]");

/// `berth`: Docker's command line for the Berth engine (and any Docker
/// Engine API).
#[derive(Debug, Parser)]
#[command(
    name = "berth",
    about = "A self-sufficient runtime for containers",
    override_usage = "berth [OPTIONS] COMMAND",
    disable_version_flag = true,
    disable_help_subcommand = true,
    after_help = "The daemon address is -H, else BERTH_HOST, else unix:///run/berth/berth.sock.\n\
                  Run 'berth COMMAND --help' for more information on a command."
)]
pub struct Cli {
    /// Global options.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Options before the command name.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Location of client config files (default: BERTH_CONFIG, DOCKER_CONFIG or ~/.docker)
    #[arg(long = "config", value_name = "string")]
    pub config: Option<PathBuf>,
    /// Enable debug mode
    #[arg(short = 'D', long = "debug")]
    pub debug: bool,
    /// Daemon socket to connect to (default: BERTH_HOST, else unix:///run/berth/berth.sock)
    #[arg(short = 'H', long = "host", value_name = "list", action = ArgAction::Append)]
    pub host: Vec<String>,
    /// Set the logging level ("debug", "info", "warn", "error", "fatal")
    #[arg(
        short = 'l',
        long = "log-level",
        value_name = "string",
        default_value = "info"
    )]
    pub log_level: String,
    /// Use TLS; implied by --tlsverify
    #[arg(long = "tls")]
    pub tls: bool,
    /// Trust certs signed only by this CA (default: BERTH_CERT_PATH or ~/.berth, ca.pem)
    #[arg(long = "tlscacert", value_name = "string")]
    pub tlscacert: Option<PathBuf>,
    /// Path to TLS certificate file (default: cert.pem in the cert path)
    #[arg(long = "tlscert", value_name = "string")]
    pub tlscert: Option<PathBuf>,
    /// Path to TLS key file (default: key.pem in the cert path)
    #[arg(long = "tlskey", value_name = "string")]
    pub tlskey: Option<PathBuf>,
    /// Use TLS and verify the remote (default: BERTH_TLS_VERIFY)
    #[arg(long = "tlsverify")]
    pub tlsverify: bool,
    /// Print version information and quit
    #[arg(short = 'v', long = "version")]
    pub version: bool,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Manage images
    #[command(subcommand, override_usage = "berth image COMMAND")]
    Image(ImageCommand),
    /// Manage Berth
    #[command(subcommand, override_usage = "berth system COMMAND")]
    System(SystemCommand),
    /// Manage containers
    #[command(subcommand, override_usage = "berth container COMMAND")]
    Container(ContainerCommand),
    /// Manage volumes
    #[command(subcommand, override_usage = "berth volume COMMAND")]
    Volume(VolumeCommand),
    /// Manage networks
    #[command(subcommand, override_usage = "berth network COMMAND")]
    Network(NetworkCommand),
    /// Create and run a new container from an image
    #[command(override_usage = RUN.line, disable_help_flag = true)]
    Run(RunArgs),
    /// Create a new container
    #[command(override_usage = CREATE.line, disable_help_flag = true)]
    Create(CreateArgs),
    /// Start one or more stopped containers
    #[command(override_usage = START.line)]
    Start(StartArgs),
    /// Stop one or more running containers
    #[command(override_usage = STOP.line)]
    Stop(StopArgs),
    /// Kill one or more running containers
    #[command(override_usage = KILL.line)]
    Kill(KillArgs),
    /// Restart one or more containers
    #[command(override_usage = RESTART.line)]
    Restart(StopArgs),
    /// Pause all processes within one or more containers
    #[command(override_usage = PAUSE.line)]
    Pause(ContainerArgs),
    /// Unpause all processes within one or more containers
    #[command(override_usage = UNPAUSE.line)]
    Unpause(ContainerArgs),
    /// Remove one or more containers
    #[command(override_usage = RM.line)]
    Rm(RmArgs),
    /// Rename a container
    #[command(override_usage = RENAME.line)]
    Rename(ContainerArgs),
    /// Block until one or more containers stop, then print their exit codes
    #[command(override_usage = WAIT.line)]
    Wait(ContainerArgs),
    /// List containers
    #[command(override_usage = PS.line)]
    Ps(PsArgs),
    /// Fetch the logs of a container
    #[command(override_usage = LOGS.line)]
    Logs(LogsArgs),
    /// Attach local standard input, output, and error streams to a running container
    #[command(override_usage = ATTACH.line)]
    Attach(AttachArgs),
    /// Execute a command in a running container
    #[command(override_usage = EXEC.line)]
    Exec(ExecArgs),
    /// Display the running processes of a container
    #[command(override_usage = TOP.line)]
    Top(TopArgs),
    /// Display a live stream of container(s) resource usage statistics
    #[command(override_usage = STATS.line)]
    Stats(StatsArgs),
    /// Copy files/folders between a container and the local filesystem
    #[command(override_usage = CP.line)]
    Cp(CpArgs),
    /// Export a container's filesystem as a tar archive
    #[command(override_usage = EXPORT.line)]
    Export(ExportArgs),
    /// Inspect changes to files or directories on a container's filesystem
    #[command(override_usage = DIFF.line)]
    Diff(ContainerArgs),
    /// Create a new image from a container's changes
    #[command(override_usage = COMMIT.line)]
    Commit(CommitArgs),
    /// Update configuration of one or more containers
    #[command(override_usage = UPDATE.line)]
    Update(UpdateArgs),
    /// List port mappings or a specific mapping for the container
    #[command(override_usage = PORT.line)]
    Port(ContainerArgs),
    /// List images
    #[command(override_usage = IMAGES.line)]
    Images(ImagesArgs),
    /// Download an image from a registry
    #[command(override_usage = PULL.line)]
    Pull(PullArgs),
    /// Upload an image to a registry
    #[command(override_usage = PUSH.line)]
    Push(PushArgs),
    /// Return low-level information on Berth objects
    #[command(override_usage = INSPECT.line)]
    Inspect(InspectArgs),
    /// Show the history of an image
    #[command(override_usage = HISTORY.line)]
    History(HistoryArgs),
    /// Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
    #[command(override_usage = TAG.line)]
    Tag(TagArgs),
    /// Remove one or more images
    #[command(override_usage = RMI.line)]
    Rmi(RmiArgs),
    /// Save one or more images to a tar archive (streamed to STDOUT by default)
    #[command(override_usage = SAVE.line)]
    Save(SaveArgs),
    /// Build an image from a Dockerfile
    #[command(override_usage = BUILD.line)]
    Build(BuildArgs),
    /// Load an image from a tar archive or STDIN
    #[command(override_usage = LOAD.line)]
    Load(LoadArgs),
    /// Import the contents from a tarball to create a filesystem image
    #[command(override_usage = IMPORT.line)]
    Import(ImportArgs),
    /// Authenticate to a registry
    #[command(override_usage = LOGIN.line)]
    Login(LoginArgs),
    /// Log out from a registry
    #[command(override_usage = LOGOUT.line)]
    Logout(LogoutArgs),
    /// Show the Berth version information
    #[command(override_usage = VERSION.line)]
    Version(FormatArgs),
    /// Display system-wide information
    #[command(override_usage = INFO.line)]
    Info(FormatArgs),
    /// Get real time events from the server
    #[command(override_usage = EVENTS.line)]
    Events(EventsArgs),
}

/// `berth image ...`
#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// Build an image from a Dockerfile
    #[command(override_usage = IMAGE_BUILD.line)]
    Build(BuildArgs),
    /// Show the history of an image
    #[command(override_usage = IMAGE_HISTORY.line)]
    History(HistoryArgs),
    /// Import the contents from a tarball to create a filesystem image
    #[command(override_usage = IMAGE_IMPORT.line)]
    Import(ImportArgs),
    /// Display detailed information on one or more images
    #[command(override_usage = IMAGE_INSPECT.line)]
    Inspect(ImageInspectArgs),
    /// Load an image from a tar archive or STDIN
    #[command(override_usage = IMAGE_LOAD.line)]
    Load(LoadArgs),
    /// List images
    #[command(visible_alias = "list", override_usage = IMAGE_LS.line)]
    Ls(ImagesArgs),
    /// Remove unused images
    #[command(override_usage = IMAGE_PRUNE.line)]
    Prune(PruneArgs),
    /// Download an image from a registry
    #[command(override_usage = IMAGE_PULL.line)]
    Pull(PullArgs),
    /// Upload an image to a registry
    #[command(override_usage = IMAGE_PUSH.line)]
    Push(PushArgs),
    /// Remove one or more images
    #[command(visible_alias = "remove", override_usage = IMAGE_RM.line)]
    Rm(RmiArgs),
    /// Save one or more images to a tar archive (streamed to STDOUT by default)
    #[command(override_usage = IMAGE_SAVE.line)]
    Save(SaveArgs),
    /// Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
    #[command(override_usage = IMAGE_TAG.line)]
    Tag(TagArgs),
}

/// `berth system ...`
#[derive(Debug, Subcommand)]
pub enum SystemCommand {
    /// Show Berth disk usage
    #[command(override_usage = SYSTEM_DF.line)]
    Df(DfArgs),
    /// Get real time events from the server
    #[command(override_usage = SYSTEM_EVENTS.line)]
    Events(EventsArgs),
    /// Display system-wide information
    #[command(override_usage = SYSTEM_INFO.line)]
    Info(FormatArgs),
}

/// `images` / `image ls`.
#[derive(Debug, Args)]
pub struct ImagesArgs {
    /// Show all images (default hides intermediate images)
    #[arg(short = 'a', long = "all")]
    pub all: bool,
    /// Show digests
    #[arg(long = "digests")]
    pub digests: bool,
    /// Filter output based on conditions provided
    #[arg(short = 'f', long = "filter", value_name = "filter", action = ArgAction::Append)]
    pub filter: Vec<String>,
    /// Format output using a custom template: 'table', 'table TEMPLATE', 'json', or a Go template
    #[arg(long = "format", value_name = "string")]
    pub format: Option<String>,
    /// Don't truncate output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
    /// Only show image IDs
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
    /// List multi-platform images as a tree (not supported by berth)
    #[arg(long = "tree", hide = true)]
    pub tree: bool,
    /// [REPOSITORY[:TAG]]
    #[arg(value_name = "REPOSITORY[:TAG]")]
    pub args: Vec<String>,
}

/// `pull`.
#[derive(Debug, Args)]
pub struct PullArgs {
    /// Download all tagged images in the repository
    #[arg(short = 'a', long = "all-tags")]
    pub all_tags: bool,
    /// Skip image verification (content trust is not supported; accepted for compatibility)
    #[arg(long = "disable-content-trust", hide = true)]
    pub disable_content_trust: bool,
    /// Set platform if server is multi-platform capable
    #[arg(
        long = "platform",
        value_name = "string",
        env = "DOCKER_DEFAULT_PLATFORM"
    )]
    pub platform: Option<String>,
    /// Suppress verbose output
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
    /// NAME[:TAG|@DIGEST]
    #[arg(value_name = "NAME[:TAG|@DIGEST]")]
    pub args: Vec<String>,
}

/// `push`.
#[derive(Debug, Args)]
pub struct PushArgs {
    /// Push all tags of an image to the repository
    #[arg(short = 'a', long = "all-tags")]
    pub all_tags: bool,
    /// Skip image signing (content trust is not supported; accepted for compatibility)
    #[arg(long = "disable-content-trust", hide = true)]
    pub disable_content_trust: bool,
    /// Push a platform-specific manifest as a single-platform image to the registry
    #[arg(long = "platform", value_name = "string")]
    pub platform: Option<String>,
    /// Suppress verbose output
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
    /// NAME[:TAG]
    #[arg(value_name = "NAME[:TAG]")]
    pub args: Vec<String>,
}

/// `inspect` (any object).
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Format output using a custom template: 'json' or a Go template
    #[arg(short = 'f', long = "format", value_name = "string")]
    pub format: Option<String>,
    /// Display total file sizes if the type is container
    #[arg(short = 's', long = "size")]
    pub size: bool,
    /// Only inspect objects of the given type
    #[arg(long = "type", value_name = "string")]
    pub object_type: Option<String>,
    /// NAME|ID
    #[arg(value_name = "NAME|ID")]
    pub args: Vec<String>,
}

/// `image inspect`.
#[derive(Debug, Args)]
pub struct ImageInspectArgs {
    /// Format output using a custom template: 'json' or a Go template
    #[arg(short = 'f', long = "format", value_name = "string")]
    pub format: Option<String>,
    /// Inspect a specific platform of the multi-platform image
    #[arg(long = "platform", value_name = "string")]
    pub platform: Option<String>,
    /// IMAGE
    #[arg(value_name = "IMAGE")]
    pub args: Vec<String>,
}

/// `history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Format output using a custom template: 'table', 'table TEMPLATE', 'json', or a Go template
    #[arg(long = "format", value_name = "string")]
    pub format: Option<String>,
    /// Print sizes and dates in human readable format
    #[arg(
        short = 'H',
        long = "human",
        num_args = 0..=1,
        require_equals = true,
        default_value = "true",
        default_missing_value = "true",
        action = ArgAction::Set,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub human: bool,
    /// Don't truncate output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
    /// Show history for the given platform
    #[arg(long = "platform", value_name = "string")]
    pub platform: Option<String>,
    /// Only show image IDs
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
    /// IMAGE
    #[arg(value_name = "IMAGE")]
    pub args: Vec<String>,
}

/// `tag`.
#[derive(Debug, Args)]
pub struct TagArgs {
    /// SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]
    #[arg(value_name = "IMAGE", allow_hyphen_values = true)]
    pub args: Vec<String>,
}

/// `rmi` / `image rm`.
#[derive(Debug, Args)]
pub struct RmiArgs {
    /// Force removal of the image
    #[arg(short = 'f', long = "force")]
    pub force: bool,
    /// Do not delete untagged parents
    #[arg(long = "no-prune")]
    pub no_prune: bool,
    /// Remove only the given platform variant
    #[arg(long = "platform", value_name = "strings", action = ArgAction::Append)]
    pub platform: Vec<String>,
    /// IMAGE
    #[arg(value_name = "IMAGE")]
    pub args: Vec<String>,
}

/// `image prune`.
#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Remove all unused images, not just dangling ones
    #[arg(short = 'a', long = "all")]
    pub all: bool,
    /// Provide filter values (e.g. "until=<timestamp>")
    #[arg(long = "filter", value_name = "filter", action = ArgAction::Append)]
    pub filter: Vec<String>,
    /// Do not prompt for confirmation
    #[arg(short = 'f', long = "force")]
    pub force: bool,
}

/// `save`.
#[derive(Debug, Args)]
pub struct SaveArgs {
    /// Write to a file, instead of STDOUT
    #[arg(short = 'o', long = "output", value_name = "string")]
    pub output: Option<PathBuf>,
    /// Save only the given platform variant
    #[arg(long = "platform", value_name = "string")]
    pub platform: Option<String>,
    /// IMAGE
    #[arg(value_name = "IMAGE")]
    pub args: Vec<String>,
}

/// `build` (the classic builder's flags).
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Add a custom host-to-IP mapping (host:ip)
    #[arg(long = "add-host", value_name = "list", action = ArgAction::Append, value_parser = fv::extra_host)]
    pub add_host: Vec<String>,
    /// Set build-time variables
    #[arg(long = "build-arg", value_name = "list", action = ArgAction::Append)]
    pub build_arg: Vec<String>,
    /// Images to consider as cache sources
    #[arg(long = "cache-from", value_name = "strings", action = ArgAction::Append)]
    pub cache_from: Vec<String>,
    /// Name of the Dockerfile (Default is "PATH/Dockerfile")
    #[arg(short = 'f', long = "file", value_name = "string")]
    pub file: Option<String>,
    /// Always remove intermediate containers
    #[arg(long = "force-rm")]
    pub force_rm: bool,
    /// Set metadata for an image
    #[arg(long = "label", value_name = "list", action = ArgAction::Append)]
    pub label: Vec<String>,
    /// Set the networking mode for the RUN instructions during build
    #[arg(long = "network", value_name = "string", default_value = "default")]
    pub network: String,
    /// Do not use cache when building the image
    #[arg(long = "no-cache")]
    pub no_cache: bool,
    /// Set platform if server is multi-platform capable
    #[arg(
        long = "platform",
        value_name = "string",
        env = "DOCKER_DEFAULT_PLATFORM"
    )]
    pub platform: Option<String>,
    /// Always attempt to pull a newer version of the image
    #[arg(long = "pull")]
    pub pull: bool,
    /// Suppress the build output and print image ID on success
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
    /// Remove intermediate containers after a successful build
    #[arg(long = "rm", value_name = "bool", default_value = "true", num_args = 0..=1, default_missing_value = "true", action = ArgAction::Set)]
    pub rm: bool,
    /// Size of /dev/shm
    #[arg(long = "shm-size", value_name = "bytes")]
    pub shm_size: Option<String>,
    /// Name and optionally a tag in the "name:tag" format
    #[arg(short = 't', long = "tag", value_name = "list", action = ArgAction::Append)]
    pub tag: Vec<String>,
    /// Set the target build stage to build.
    #[arg(long = "target", value_name = "string")]
    pub target: Option<String>,
    /// PATH | URL | -
    #[arg(value_name = "PATH", allow_hyphen_values = true)]
    pub args: Vec<String>,
}

/// `load`.
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Read from tar archive file, instead of STDIN
    #[arg(short = 'i', long = "input", value_name = "string")]
    pub input: Option<PathBuf>,
    /// Load only the given platform variant
    #[arg(long = "platform", value_name = "string")]
    pub platform: Option<String>,
    /// Suppress the load output
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
    /// (no arguments)
    #[arg(hide = true)]
    pub args: Vec<String>,
}

/// `import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Apply Dockerfile instruction to the created image
    #[arg(short = 'c', long = "change", value_name = "list", action = ArgAction::Append)]
    pub change: Vec<String>,
    /// Set commit message for imported image
    #[arg(short = 'm', long = "message", value_name = "string")]
    pub message: Option<String>,
    /// Set platform if server is multi-platform capable
    #[arg(
        long = "platform",
        value_name = "string",
        env = "DOCKER_DEFAULT_PLATFORM"
    )]
    pub platform: Option<String>,
    /// file|URL|- [REPOSITORY[:TAG]]
    #[arg(value_name = "ARG", allow_hyphen_values = true)]
    pub args: Vec<String>,
}

/// `login`.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Password or Personal Access Token (PAT)
    #[arg(short = 'p', long = "password", value_name = "string")]
    pub password: Option<String>,
    /// Take the Password or Personal Access Token (PAT) from stdin
    #[arg(long = "password-stdin")]
    pub password_stdin: bool,
    /// Username
    #[arg(short = 'u', long = "username", value_name = "string")]
    pub username: Option<String>,
    /// SERVER
    #[arg(value_name = "SERVER")]
    pub args: Vec<String>,
}

/// `logout`.
#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// SERVER
    #[arg(value_name = "SERVER")]
    pub args: Vec<String>,
}

/// `version` and `info`.
#[derive(Debug, Args)]
pub struct FormatArgs {
    /// Format output using a custom template: 'json' or a Go template
    #[arg(short = 'f', long = "format", value_name = "string")]
    pub format: Option<String>,
    /// (no arguments)
    #[arg(hide = true)]
    pub args: Vec<String>,
}

/// `system df`.
#[derive(Debug, Args)]
pub struct DfArgs {
    /// Format output using a custom template: 'table', 'table TEMPLATE', 'json', or a Go template
    #[arg(long = "format", value_name = "string")]
    pub format: Option<String>,
    /// Show detailed information on space usage
    #[arg(short = 'v', long = "verbose")]
    pub verbose: bool,
    /// (no arguments)
    #[arg(hide = true)]
    pub args: Vec<String>,
}

/// `events`.
#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Filter output based on conditions provided
    #[arg(short = 'f', long = "filter", value_name = "filter", action = ArgAction::Append)]
    pub filter: Vec<String>,
    /// Format output using a custom template: 'json' or a Go template
    #[arg(long = "format", value_name = "string")]
    pub format: Option<String>,
    /// Show all events created since timestamp
    #[arg(long = "since", value_name = "string")]
    pub since: Option<String>,
    /// Stream events until this timestamp
    #[arg(long = "until", value_name = "string")]
    pub until: Option<String>,
    /// (no arguments)
    #[arg(hide = true)]
    pub args: Vec<String>,
}

// ---- containers and volumes ----

usage!(RUN, "berth run", "[OPTIONS] IMAGE [COMMAND] [ARG...]");
usage!(
    CONTAINER_RUN,
    "berth container run",
    "[OPTIONS] IMAGE [COMMAND] [ARG...]"
);
usage!(CREATE, "berth create", "[OPTIONS] IMAGE [COMMAND] [ARG...]");
usage!(
    CONTAINER_CREATE,
    "berth container create",
    "[OPTIONS] IMAGE [COMMAND] [ARG...]"
);
usage!(START, "berth start", "[OPTIONS] CONTAINER [CONTAINER...]");
usage!(
    CONTAINER_START,
    "berth container start",
    "[OPTIONS] CONTAINER [CONTAINER...]"
);
usage!(STOP, "berth stop", "[OPTIONS] CONTAINER [CONTAINER...]");
usage!(
    CONTAINER_STOP,
    "berth container stop",
    "[OPTIONS] CONTAINER [CONTAINER...]"
);
usage!(KILL, "berth kill", "[OPTIONS] CONTAINER [CONTAINER...]");
usage!(
    CONTAINER_KILL,
    "berth container kill",
    "[OPTIONS] CONTAINER [CONTAINER...]"
);
usage!(
    RESTART,
    "berth restart",
    "[OPTIONS] CONTAINER [CONTAINER...]"
);
usage!(
    CONTAINER_RESTART,
    "berth container restart",
    "[OPTIONS] CONTAINER [CONTAINER...]"
);
usage!(PAUSE, "berth pause", "CONTAINER [CONTAINER...]");
usage!(
    CONTAINER_PAUSE,
    "berth container pause",
    "CONTAINER [CONTAINER...]"
);
usage!(UNPAUSE, "berth unpause", "CONTAINER [CONTAINER...]");
usage!(
    CONTAINER_UNPAUSE,
    "berth container unpause",
    "CONTAINER [CONTAINER...]"
);
usage!(RM, "berth rm", "[OPTIONS] CONTAINER [CONTAINER...]");
usage!(
    CONTAINER_RM,
    "berth container rm",
    "[OPTIONS] CONTAINER [CONTAINER...]"
);
usage!(RENAME, "berth rename", "CONTAINER NEW_NAME");
usage!(
    CONTAINER_RENAME,
    "berth container rename",
    "CONTAINER NEW_NAME"
);
usage!(WAIT, "berth wait", "CONTAINER [CONTAINER...]");
usage!(
    CONTAINER_WAIT,
    "berth container wait",
    "CONTAINER [CONTAINER...]"
);
usage!(PS, "berth ps", "[OPTIONS]");
usage!(CONTAINER_LS, "berth container ls", "[OPTIONS]");
usage!(
    CONTAINER_INSPECT,
    "berth container inspect",
    "[OPTIONS] CONTAINER [CONTAINER...]"
);
usage!(LOGS, "berth logs", "[OPTIONS] CONTAINER");
usage!(
    CONTAINER_LOGS,
    "berth container logs",
    "[OPTIONS] CONTAINER"
);
usage!(ATTACH, "berth attach", "[OPTIONS] CONTAINER");
usage!(
    CONTAINER_ATTACH,
    "berth container attach",
    "[OPTIONS] CONTAINER"
);
usage!(EXEC, "berth exec", "[OPTIONS] CONTAINER COMMAND [ARG...]");
usage!(
    CONTAINER_EXEC,
    "berth container exec",
    "[OPTIONS] CONTAINER COMMAND [ARG...]"
);
usage!(TOP, "berth top", "CONTAINER [ps OPTIONS]");
usage!(
    CONTAINER_TOP,
    "berth container top",
    "CONTAINER [ps OPTIONS]"
);
usage!(STATS, "berth stats", "[OPTIONS] [CONTAINER...]");
usage!(
    CONTAINER_STATS,
    "berth container stats",
    "[OPTIONS] [CONTAINER...]"
);
usage!(
    CP,
    "berth cp",
    "[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tberth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH"
);
usage!(
    CONTAINER_CP,
    "berth container cp",
    "[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tberth container cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH"
);
usage!(EXPORT, "berth export", "[OPTIONS] CONTAINER");
usage!(
    CONTAINER_EXPORT,
    "berth container export",
    "[OPTIONS] CONTAINER"
);
usage!(DIFF, "berth diff", "CONTAINER");
usage!(CONTAINER_DIFF, "berth container diff", "CONTAINER");
usage!(
    COMMIT,
    "berth commit",
    "[OPTIONS] CONTAINER [REPOSITORY[:TAG]]"
);
usage!(
    CONTAINER_COMMIT,
    "berth container commit",
    "[OPTIONS] CONTAINER [REPOSITORY[:TAG]]"
);
usage!(UPDATE, "berth update", "[OPTIONS] CONTAINER [CONTAINER...]");
usage!(
    CONTAINER_UPDATE,
    "berth container update",
    "[OPTIONS] CONTAINER [CONTAINER...]"
);
usage!(PORT, "berth port", "CONTAINER [PRIVATE_PORT[/PROTO]]");
usage!(
    CONTAINER_PORT,
    "berth container port",
    "CONTAINER [PRIVATE_PORT[/PROTO]]"
);
usage!(CONTAINER_PRUNE, "berth container prune", "[OPTIONS]");
usage!(VOLUME_CREATE, "berth volume create", "[OPTIONS] [VOLUME]");
usage!(VOLUME_LS, "berth volume ls", "[OPTIONS]");
usage!(
    VOLUME_INSPECT,
    "berth volume inspect",
    "[OPTIONS] VOLUME [VOLUME...]"
);
usage!(VOLUME_RM, "berth volume rm", "[OPTIONS] VOLUME [VOLUME...]");
usage!(VOLUME_PRUNE, "berth volume prune", "[OPTIONS]");
usage!(NETWORK_CREATE, "berth network create", "[OPTIONS] NETWORK");
usage!(NETWORK_LS, "berth network ls", "[OPTIONS]");
usage!(
    NETWORK_INSPECT,
    "berth network inspect",
    "[OPTIONS] NETWORK [NETWORK...]"
);
usage!(NETWORK_RM, "berth network rm", "NETWORK [NETWORK...]");
usage!(NETWORK_PRUNE, "berth network prune", "[OPTIONS]");
usage!(
    NETWORK_CONNECT,
    "berth network connect",
    "[OPTIONS] NETWORK CONTAINER"
);
usage!(
    NETWORK_DISCONNECT,
    "berth network disconnect",
    "[OPTIONS] NETWORK CONTAINER"
);

use crate::commands::container::opts::flags as fv;

/// `berth container ...`
#[derive(Debug, Subcommand)]
pub enum ContainerCommand {
    /// Attach local standard input, output, and error streams to a running container
    #[command(override_usage = CONTAINER_ATTACH.line)]
    Attach(AttachArgs),
    /// Create a new image from a container's changes
    #[command(override_usage = CONTAINER_COMMIT.line)]
    Commit(CommitArgs),
    /// Copy files/folders between a container and the local filesystem
    #[command(override_usage = CONTAINER_CP.line)]
    Cp(CpArgs),
    /// Create a new container
    #[command(override_usage = CONTAINER_CREATE.line, disable_help_flag = true)]
    Create(CreateArgs),
    /// Inspect changes to files or directories on a container's filesystem
    #[command(override_usage = CONTAINER_DIFF.line)]
    Diff(ContainerArgs),
    /// Execute a command in a running container
    #[command(override_usage = CONTAINER_EXEC.line)]
    Exec(ExecArgs),
    /// Export a container's filesystem as a tar archive
    #[command(override_usage = CONTAINER_EXPORT.line)]
    Export(ExportArgs),
    /// Display detailed information on one or more containers
    #[command(override_usage = CONTAINER_INSPECT.line)]
    Inspect(ContainerInspectArgs),
    /// Kill one or more running containers
    #[command(override_usage = CONTAINER_KILL.line)]
    Kill(KillArgs),
    /// Fetch the logs of a container
    #[command(override_usage = CONTAINER_LOGS.line)]
    Logs(LogsArgs),
    /// List containers
    #[command(visible_aliases = ["list", "ps"], override_usage = CONTAINER_LS.line)]
    Ls(PsArgs),
    /// Pause all processes within one or more containers
    #[command(override_usage = CONTAINER_PAUSE.line)]
    Pause(ContainerArgs),
    /// List port mappings or a specific mapping for the container
    #[command(override_usage = CONTAINER_PORT.line)]
    Port(ContainerArgs),
    /// Remove all stopped containers
    #[command(override_usage = CONTAINER_PRUNE.line)]
    Prune(ContainerPruneArgs),
    /// Rename a container
    #[command(override_usage = CONTAINER_RENAME.line)]
    Rename(ContainerArgs),
    /// Restart one or more containers
    #[command(override_usage = CONTAINER_RESTART.line)]
    Restart(StopArgs),
    /// Remove one or more containers
    #[command(visible_alias = "remove", override_usage = CONTAINER_RM.line)]
    Rm(RmArgs),
    /// Create and run a new container from an image
    #[command(override_usage = CONTAINER_RUN.line, disable_help_flag = true)]
    Run(RunArgs),
    /// Start one or more stopped containers
    #[command(override_usage = CONTAINER_START.line)]
    Start(StartArgs),
    /// Display a live stream of container(s) resource usage statistics
    #[command(override_usage = CONTAINER_STATS.line)]
    Stats(StatsArgs),
    /// Stop one or more running containers
    #[command(override_usage = CONTAINER_STOP.line)]
    Stop(StopArgs),
    /// Display the running processes of a container
    #[command(override_usage = CONTAINER_TOP.line)]
    Top(TopArgs),
    /// Unpause all processes within one or more containers
    #[command(override_usage = CONTAINER_UNPAUSE.line)]
    Unpause(ContainerArgs),
    /// Update configuration of one or more containers
    #[command(override_usage = CONTAINER_UPDATE.line)]
    Update(UpdateArgs),
    /// Block until one or more containers stop, then print their exit codes
    #[command(override_usage = CONTAINER_WAIT.line)]
    Wait(ContainerArgs),
}

/// `berth volume ...`
#[derive(Debug, Subcommand)]
pub enum VolumeCommand {
    /// Create a volume
    #[command(override_usage = VOLUME_CREATE.line)]
    Create(VolumeCreateArgs),
    /// Display detailed information on one or more volumes
    #[command(override_usage = VOLUME_INSPECT.line)]
    Inspect(VolumeInspectArgs),
    /// List volumes
    #[command(visible_alias = "list", override_usage = VOLUME_LS.line)]
    Ls(VolumeLsArgs),
    /// Remove unused local volumes
    #[command(override_usage = VOLUME_PRUNE.line)]
    Prune(VolumePruneArgs),
    /// Remove one or more volumes
    #[command(visible_alias = "remove", override_usage = VOLUME_RM.line)]
    Rm(VolumeRmArgs),
}

/// `berth network ...`
#[derive(Debug, Subcommand)]
pub enum NetworkCommand {
    /// Connect a container to a network
    #[command(override_usage = NETWORK_CONNECT.line)]
    Connect(NetworkConnectArgs),
    /// Create a network
    #[command(override_usage = NETWORK_CREATE.line)]
    Create(NetworkCreateArgs),
    /// Disconnect a container from a network
    #[command(override_usage = NETWORK_DISCONNECT.line)]
    Disconnect(NetworkDisconnectArgs),
    /// Display detailed information on one or more networks
    #[command(override_usage = NETWORK_INSPECT.line)]
    Inspect(NetworkInspectArgs),
    /// List networks
    #[command(visible_alias = "list", override_usage = NETWORK_LS.line)]
    Ls(NetworkLsArgs),
    /// Remove all unused networks
    #[command(override_usage = NETWORK_PRUNE.line)]
    Prune(NetworkPruneArgs),
    /// Remove one or more networks
    #[command(visible_alias = "remove", override_usage = NETWORK_RM.line)]
    Rm(NetworkRmArgs),
}

/// Commands that take container names and nothing else (`pause`,
/// `unpause`, `wait`, `diff`, `rename`, `port`).
#[derive(Debug, Args)]
pub struct ContainerArgs {
    /// CONTAINER
    #[arg(value_name = "CONTAINER")]
    pub args: Vec<String>,
}

/// The options `run` and `create` share (docker's `containerOptions`).
#[derive(Debug, Args, Default)]
pub struct ContainerOpts {
    /// Add a custom host-to-IP mapping (host:ip)
    #[arg(long = "add-host", value_name = "list", action = ArgAction::Append, value_parser = fv::extra_host)]
    pub add_host: Vec<String>,
    /// Add an annotation to the container (passed through to the OCI runtime)
    #[arg(long = "annotation", value_name = "map", action = ArgAction::Append)]
    pub annotation: Vec<String>,
    /// Attach to STDIN, STDOUT or STDERR
    #[arg(short = 'a', long = "attach", value_name = "list", action = ArgAction::Append, value_parser = fv::attach)]
    pub attach: Vec<String>,
    /// Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)
    #[arg(long = "blkio-weight", value_name = "uint16", value_parser = fv::uint16)]
    pub blkio_weight: Option<u16>,
    /// Add Linux capabilities
    #[arg(long = "cap-add", value_name = "list", action = ArgAction::Append)]
    pub cap_add: Vec<String>,
    /// Drop Linux capabilities
    #[arg(long = "cap-drop", value_name = "list", action = ArgAction::Append)]
    pub cap_drop: Vec<String>,
    /// Optional parent cgroup for the container
    #[arg(long = "cgroup-parent", value_name = "string")]
    pub cgroup_parent: Option<String>,
    /// Cgroup namespace to use (host|private)
    #[arg(long = "cgroupns", value_name = "string")]
    pub cgroupns: Option<String>,
    /// Write the container ID to the file
    #[arg(long = "cidfile", value_name = "string")]
    pub cidfile: Option<String>,
    /// Limit CPU CFS (Completely Fair Scheduler) period
    #[arg(long = "cpu-period", value_name = "int", value_parser = fv::int64)]
    pub cpu_period: Option<i64>,
    /// Limit CPU CFS (Completely Fair Scheduler) quota
    #[arg(long = "cpu-quota", value_name = "int", value_parser = fv::int64)]
    pub cpu_quota: Option<i64>,
    /// Limit CPU real-time period in microseconds
    #[arg(long = "cpu-rt-period", value_name = "int", value_parser = fv::int64)]
    pub cpu_rt_period: Option<i64>,
    /// Limit CPU real-time runtime in microseconds
    #[arg(long = "cpu-rt-runtime", value_name = "int", value_parser = fv::int64)]
    pub cpu_rt_runtime: Option<i64>,
    /// CPU shares (relative weight)
    #[arg(short = 'c', long = "cpu-shares", value_name = "int", value_parser = fv::int64)]
    pub cpu_shares: Option<i64>,
    /// Number of CPUs
    #[arg(long = "cpus", value_name = "decimal", value_parser = fv::nano_cpus)]
    pub cpus: Option<i64>,
    /// CPUs in which to allow execution (0-3, 0,1)
    #[arg(long = "cpuset-cpus", value_name = "string")]
    pub cpuset_cpus: Option<String>,
    /// MEMs in which to allow execution (0-3, 0,1)
    #[arg(long = "cpuset-mems", value_name = "string")]
    pub cpuset_mems: Option<String>,
    /// Add a host device to the container
    #[arg(long = "device", value_name = "list", action = ArgAction::Append)]
    pub device: Vec<String>,
    /// Add a rule to the cgroup allowed devices list
    #[arg(long = "device-cgroup-rule", value_name = "list", action = ArgAction::Append)]
    pub device_cgroup_rule: Vec<String>,
    /// Set custom DNS servers
    #[arg(long = "dns", value_name = "list", action = ArgAction::Append, value_parser = fv::ip_address)]
    pub dns: Vec<String>,
    /// Set DNS options
    #[arg(long = "dns-option", visible_alias = "dns-opt", value_name = "list", action = ArgAction::Append)]
    pub dns_option: Vec<String>,
    /// Set custom DNS search domains
    #[arg(long = "dns-search", value_name = "list", action = ArgAction::Append)]
    pub dns_search: Vec<String>,
    /// Container NIS domain name
    #[arg(long = "domainname", value_name = "string")]
    pub domainname: Option<String>,
    /// Overwrite the default ENTRYPOINT of the image
    #[arg(long = "entrypoint", value_name = "string")]
    pub entrypoint: Option<String>,
    /// Set environment variables
    #[arg(short = 'e', long = "env", value_name = "list", action = ArgAction::Append)]
    pub env: Vec<String>,
    /// Read in a file of environment variables
    #[arg(long = "env-file", value_name = "list", action = ArgAction::Append)]
    pub env_file: Vec<String>,
    /// Expose a port or a range of ports
    #[arg(long = "expose", value_name = "list", action = ArgAction::Append)]
    pub expose: Vec<String>,
    /// Add additional groups to join
    #[arg(long = "group-add", value_name = "list", action = ArgAction::Append)]
    pub group_add: Vec<String>,
    /// Command to run to check health
    #[arg(long = "health-cmd", value_name = "string")]
    pub health_cmd: Option<String>,
    /// Time between running the check (ms|s|m|h) (default 0s)
    #[arg(long = "health-interval", value_name = "duration", value_parser = fv::duration)]
    pub health_interval: Option<i64>,
    /// Consecutive failures needed to report unhealthy
    #[arg(long = "health-retries", value_name = "int", value_parser = fv::int)]
    pub health_retries: Option<i64>,
    /// Time between running the check during the start period (ms|s|m|h) (default 0s)
    #[arg(long = "health-start-interval", value_name = "duration", value_parser = fv::duration)]
    pub health_start_interval: Option<i64>,
    /// Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)
    #[arg(long = "health-start-period", value_name = "duration", value_parser = fv::duration)]
    pub health_start_period: Option<i64>,
    /// Maximum time to allow one check to run (ms|s|m|h) (default 0s)
    #[arg(long = "health-timeout", value_name = "duration", value_parser = fv::duration)]
    pub health_timeout: Option<i64>,
    /// Print usage
    #[arg(long = "help", action = ArgAction::Help)]
    pub help: Option<bool>,
    /// Container host name
    #[arg(short = 'h', long = "hostname", value_name = "string")]
    pub hostname: Option<String>,
    /// Run an init inside the container that forwards signals and reaps processes
    #[arg(long = "init")]
    pub init: bool,
    /// Keep STDIN open even if not attached
    #[arg(short = 'i', long = "interactive")]
    pub interactive: bool,
    /// IPv4 address (e.g., 172.30.100.104)
    #[arg(long = "ip", value_name = "ip", value_parser = fv::ipv4)]
    pub ip: Option<String>,
    /// IPv6 address (e.g., 2001:db8::33)
    #[arg(long = "ip6", value_name = "ip", value_parser = fv::ipv6)]
    pub ip6: Option<String>,
    /// IPC mode to use
    #[arg(long = "ipc", value_name = "string")]
    pub ipc: Option<String>,
    /// Container isolation technology
    #[arg(long = "isolation", value_name = "string")]
    pub isolation: Option<String>,
    /// Set meta data on a container
    #[arg(short = 'l', long = "label", value_name = "list", action = ArgAction::Append)]
    pub label: Vec<String>,
    /// Read in a line delimited file of labels
    #[arg(long = "label-file", value_name = "list", action = ArgAction::Append)]
    pub label_file: Vec<String>,
    /// Add link to another container
    #[arg(long = "link", value_name = "list", action = ArgAction::Append)]
    pub link: Vec<String>,
    /// Container IPv4/IPv6 link-local addresses
    #[arg(long = "link-local-ip", value_name = "list", action = ArgAction::Append)]
    pub link_local_ip: Vec<String>,
    /// Logging driver for the container
    #[arg(long = "log-driver", value_name = "string")]
    pub log_driver: Option<String>,
    /// Log driver options
    #[arg(long = "log-opt", value_name = "list", action = ArgAction::Append)]
    pub log_opt: Vec<String>,
    /// Container MAC address (e.g., 92:d0:c6:0a:29:33)
    #[arg(long = "mac-address", value_name = "string")]
    pub mac_address: Option<String>,
    /// Memory limit
    #[arg(short = 'm', long = "memory", value_name = "bytes", value_parser = fv::mem_bytes)]
    pub memory: Option<i64>,
    /// Memory soft limit
    #[arg(long = "memory-reservation", value_name = "bytes", value_parser = fv::mem_bytes)]
    pub memory_reservation: Option<i64>,
    /// Swap limit equal to memory plus swap: '-1' to enable unlimited swap
    #[arg(long = "memory-swap", value_name = "bytes", value_parser = fv::mem_swap_bytes)]
    pub memory_swap: Option<i64>,
    /// Tune container memory swappiness (0 to 100) (default -1)
    #[arg(long = "memory-swappiness", value_name = "int", value_parser = fv::int64)]
    pub memory_swappiness: Option<i64>,
    /// Attach a filesystem mount to the container
    #[arg(long = "mount", value_name = "mount", action = ArgAction::Append, value_parser = fv::mount)]
    pub mount: Vec<serde_json::Value>,
    /// Assign a name to the container
    #[arg(long = "name", value_name = "string")]
    pub name: Option<String>,
    /// Connect a container to a network
    #[arg(long = "network", visible_alias = "net", value_name = "network", action = ArgAction::Append)]
    pub network: Vec<String>,
    /// Add network-scoped alias for the container
    #[arg(long = "network-alias", visible_alias = "net-alias", value_name = "list", action = ArgAction::Append)]
    pub network_alias: Vec<String>,
    /// Disable any container-specified HEALTHCHECK
    #[arg(long = "no-healthcheck")]
    pub no_healthcheck: bool,
    /// Disable OOM Killer
    #[arg(long = "oom-kill-disable")]
    pub oom_kill_disable: bool,
    /// Tune host's OOM preferences (-1000 to 1000)
    #[arg(long = "oom-score-adj", value_name = "int", value_parser = fv::int)]
    pub oom_score_adj: Option<i64>,
    /// PID namespace to use
    #[arg(long = "pid", value_name = "string")]
    pub pid: Option<String>,
    /// Tune container pids limit (set -1 for unlimited)
    #[arg(long = "pids-limit", value_name = "int", value_parser = fv::int64)]
    pub pids_limit: Option<i64>,
    /// Set platform if server is multi-platform capable
    #[arg(
        long = "platform",
        value_name = "string",
        env = "DOCKER_DEFAULT_PLATFORM"
    )]
    pub platform: Option<String>,
    /// Give extended privileges to this container
    #[arg(long = "privileged")]
    pub privileged: bool,
    /// Publish a container's port(s) to the host
    #[arg(short = 'p', long = "publish", value_name = "list", action = ArgAction::Append)]
    pub publish: Vec<String>,
    /// Publish all exposed ports to random ports
    #[arg(short = 'P', long = "publish-all")]
    pub publish_all: bool,
    /// Pull image before creating ("always", "missing", "never")
    #[arg(long = "pull", value_name = "string", default_value = "missing")]
    pub pull: String,
    /// Suppress the pull output
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
    /// Mount the container's root filesystem as read only
    #[arg(long = "read-only")]
    pub read_only: bool,
    /// Restart policy to apply when a container exits (default "no")
    #[arg(long = "restart", value_name = "string")]
    pub restart: Option<String>,
    /// Automatically remove the container and its associated anonymous volumes when it exits
    #[arg(long = "rm")]
    pub rm: bool,
    /// Runtime to use for this container
    #[arg(long = "runtime", value_name = "string")]
    pub runtime: Option<String>,
    /// Security Options
    #[arg(long = "security-opt", value_name = "list", action = ArgAction::Append)]
    pub security_opt: Vec<String>,
    /// Size of /dev/shm
    #[arg(long = "shm-size", value_name = "bytes", value_parser = fv::mem_bytes)]
    pub shm_size: Option<i64>,
    /// Signal to stop the container
    #[arg(long = "stop-signal", value_name = "string")]
    pub stop_signal: Option<String>,
    /// Timeout (in seconds) to stop a container
    #[arg(long = "stop-timeout", value_name = "int", value_parser = fv::int)]
    pub stop_timeout: Option<i64>,
    /// Storage driver options for the container
    #[arg(long = "storage-opt", value_name = "list", action = ArgAction::Append)]
    pub storage_opt: Vec<String>,
    /// Sysctl options
    #[arg(long = "sysctl", value_name = "map", action = ArgAction::Append, value_parser = fv::sysctl)]
    pub sysctl: Vec<String>,
    /// Mount a tmpfs directory
    #[arg(long = "tmpfs", value_name = "list", action = ArgAction::Append)]
    pub tmpfs: Vec<String>,
    /// Allocate a pseudo-TTY
    #[arg(short = 't', long = "tty")]
    pub tty: bool,
    /// Ulimit options
    #[arg(long = "ulimit", value_name = "ulimit", action = ArgAction::Append, value_parser = fv::ulimit)]
    pub ulimit: Vec<serde_json::Value>,
    /// Username or UID (format: <name|uid>[:<group|gid>])
    #[arg(short = 'u', long = "user", value_name = "string")]
    pub user: Option<String>,
    /// User namespace to use
    #[arg(long = "userns", value_name = "string")]
    pub userns: Option<String>,
    /// UTS namespace to use
    #[arg(long = "uts", value_name = "string")]
    pub uts: Option<String>,
    /// Bind mount a volume
    #[arg(short = 'v', long = "volume", value_name = "list", action = ArgAction::Append)]
    pub volume: Vec<String>,
    /// Optional volume driver for the container
    #[arg(long = "volume-driver", value_name = "string")]
    pub volume_driver: Option<String>,
    /// Mount volumes from the specified container(s)
    #[arg(long = "volumes-from", value_name = "list", action = ArgAction::Append)]
    pub volumes_from: Vec<String>,
    /// Working directory inside the container
    #[arg(short = 'w', long = "workdir", value_name = "string")]
    pub workdir: Option<String>,
    /// IMAGE [COMMAND] [ARG...]
    #[arg(
        value_name = "IMAGE",
        trailing_var_arg = true,
        allow_hyphen_values = false
    )]
    pub args: Vec<String>,
}

/// `create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The container's options.
    #[command(flatten)]
    pub opts: ContainerOpts,
}

/// `run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Run container in background and print container ID
    #[arg(short = 'd', long = "detach")]
    pub detach: bool,
    /// Override the key sequence for detaching a container
    #[arg(long = "detach-keys", value_name = "string")]
    pub detach_keys: Option<String>,
    /// Proxy received signals to the process (default true)
    #[arg(
        long = "sig-proxy",
        num_args = 0..=1,
        require_equals = true,
        default_value = "true",
        default_missing_value = "true",
        action = ArgAction::Set,
        value_parser = fv::go_bool
    )]
    pub sig_proxy: bool,
    /// The container's options.
    #[command(flatten)]
    pub opts: ContainerOpts,
}

/// `start`.
#[derive(Debug, Args)]
pub struct StartArgs {
    /// Attach STDOUT/STDERR and forward signals
    #[arg(short = 'a', long = "attach")]
    pub attach: bool,
    /// Override the key sequence for detaching a container
    #[arg(long = "detach-keys", value_name = "string")]
    pub detach_keys: Option<String>,
    /// Attach container's STDIN
    #[arg(short = 'i', long = "interactive")]
    pub interactive: bool,
    /// CONTAINER
    #[arg(value_name = "CONTAINER")]
    pub args: Vec<String>,
}

/// `stop` and `restart`.
#[derive(Debug, Args)]
pub struct StopArgs {
    /// Signal to send to the container
    #[arg(short = 's', long = "signal", value_name = "string")]
    pub signal: Option<String>,
    /// Seconds to wait before killing the container
    #[arg(short = 't', long = "timeout", visible_alias = "time", value_name = "int", value_parser = fv::int)]
    pub timeout: Option<i64>,
    /// CONTAINER
    #[arg(value_name = "CONTAINER")]
    pub args: Vec<String>,
}

/// `kill`.
#[derive(Debug, Args)]
pub struct KillArgs {
    /// Signal to send to the container
    #[arg(short = 's', long = "signal", value_name = "string")]
    pub signal: Option<String>,
    /// CONTAINER
    #[arg(value_name = "CONTAINER")]
    pub args: Vec<String>,
}

/// `rm`.
#[derive(Debug, Args)]
pub struct RmArgs {
    /// Force the removal of a running container (uses SIGKILL)
    #[arg(short = 'f', long = "force")]
    pub force: bool,
    /// Remove the specified link
    #[arg(short = 'l', long = "link")]
    pub link: bool,
    /// Remove anonymous volumes associated with the container
    #[arg(short = 'v', long = "volumes")]
    pub volumes: bool,
    /// CONTAINER
    #[arg(value_name = "CONTAINER")]
    pub args: Vec<String>,
}

/// `ps` / `container ls`.
#[derive(Debug, Args)]
pub struct PsArgs {
    /// Show all containers (default shows just running)
    #[arg(short = 'a', long = "all")]
    pub all: bool,
    /// Filter output based on conditions provided
    #[arg(short = 'f', long = "filter", value_name = "filter", action = ArgAction::Append)]
    pub filter: Vec<String>,
    /// Format output using a custom template: 'table', 'table TEMPLATE', 'json', or a Go template
    #[arg(long = "format", value_name = "string")]
    pub format: Option<String>,
    /// Show n last created containers (includes all states) (default -1)
    #[arg(short = 'n', long = "last", value_name = "int", value_parser = fv::int)]
    pub last: Option<i64>,
    /// Show the latest created container (includes all states)
    #[arg(short = 'l', long = "latest")]
    pub latest: bool,
    /// Don't truncate output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
    /// Only display container IDs
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
    /// Display total file sizes
    #[arg(short = 's', long = "size")]
    pub size: bool,
    /// (no arguments)
    #[arg(hide = true)]
    pub args: Vec<String>,
}

/// `container inspect`.
#[derive(Debug, Args)]
pub struct ContainerInspectArgs {
    /// Format output using a custom template: 'json' or a Go template
    #[arg(short = 'f', long = "format", value_name = "string")]
    pub format: Option<String>,
    /// Display total file sizes
    #[arg(short = 's', long = "size")]
    pub size: bool,
    /// CONTAINER
    #[arg(value_name = "CONTAINER")]
    pub args: Vec<String>,
}

/// `logs`.
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Show extra details provided to logs
    #[arg(long = "details")]
    pub details: bool,
    /// Follow log output
    #[arg(short = 'f', long = "follow")]
    pub follow: bool,
    /// Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)
    #[arg(long = "since", value_name = "string")]
    pub since: Option<String>,
    /// Number of lines to show from the end of the logs (default "all")
    #[arg(short = 'n', long = "tail", value_name = "string")]
    pub tail: Option<String>,
    /// Show timestamps
    #[arg(short = 't', long = "timestamps")]
    pub timestamps: bool,
    /// Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)
    #[arg(long = "until", value_name = "string")]
    pub until: Option<String>,
    /// CONTAINER
    #[arg(value_name = "CONTAINER")]
    pub args: Vec<String>,
}

/// `attach`.
#[derive(Debug, Args)]
pub struct AttachArgs {
    /// Override the key sequence for detaching a container
    #[arg(long = "detach-keys", value_name = "string")]
    pub detach_keys: Option<String>,
    /// Do not attach STDIN
    #[arg(long = "no-stdin")]
    pub no_stdin: bool,
    /// Proxy all received signals to the process (default true)
    #[arg(
        long = "sig-proxy",
        num_args = 0..=1,
        require_equals = true,
        default_value = "true",
        default_missing_value = "true",
        action = ArgAction::Set,
        value_parser = fv::go_bool
    )]
    pub sig_proxy: bool,
    /// CONTAINER
    #[arg(value_name = "CONTAINER")]
    pub args: Vec<String>,
}

/// `exec`.
#[derive(Debug, Args)]
pub struct ExecArgs {
    /// Detached mode: run command in the background
    #[arg(short = 'd', long = "detach")]
    pub detach: bool,
    /// Override the key sequence for detaching a container
    #[arg(long = "detach-keys", value_name = "string")]
    pub detach_keys: Option<String>,
    /// Set environment variables
    #[arg(short = 'e', long = "env", value_name = "list", action = ArgAction::Append)]
    pub env: Vec<String>,
    /// Read in a file of environment variables
    #[arg(long = "env-file", value_name = "list", action = ArgAction::Append)]
    pub env_file: Vec<String>,
    /// Keep STDIN open even if not attached
    #[arg(short = 'i', long = "interactive")]
    pub interactive: bool,
    /// Give extended privileges to the command
    #[arg(long = "privileged")]
    pub privileged: bool,
    /// Allocate a pseudo-TTY
    #[arg(short = 't', long = "tty")]
    pub tty: bool,
    /// Username or UID (format: "<name|uid>[:<group|gid>]")
    #[arg(short = 'u', long = "user", value_name = "string")]
    pub user: Option<String>,
    /// Working directory inside the container
    #[arg(short = 'w', long = "workdir", value_name = "string")]
    pub workdir: Option<String>,
    /// CONTAINER COMMAND [ARG...]
    #[arg(value_name = "CONTAINER", trailing_var_arg = true)]
    pub args: Vec<String>,
}

/// `top`.
#[derive(Debug, Args)]
pub struct TopArgs {
    /// CONTAINER [ps OPTIONS]
    #[arg(
        value_name = "CONTAINER",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub args: Vec<String>,
}

/// `stats`.
#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Show all containers (default shows just running)
    #[arg(short = 'a', long = "all")]
    pub all: bool,
    /// Format output using a custom template: 'table', 'table TEMPLATE', 'json', or a Go template
    #[arg(long = "format", value_name = "string")]
    pub format: Option<String>,
    /// Disable streaming stats and only pull the first result
    #[arg(long = "no-stream")]
    pub no_stream: bool,
    /// Do not truncate output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
    /// CONTAINER
    #[arg(value_name = "CONTAINER")]
    pub args: Vec<String>,
}

/// `cp`.
#[derive(Debug, Args)]
pub struct CpArgs {
    /// Archive mode (copy all uid/gid information)
    #[arg(short = 'a', long = "archive")]
    pub archive: bool,
    /// Always follow symbol link in SRC_PATH
    #[arg(short = 'L', long = "follow-link")]
    pub follow_link: bool,
    /// Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
    /// SRC DEST
    #[arg(value_name = "PATH", allow_hyphen_values = true)]
    pub args: Vec<String>,
}

/// `export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Write to a file, instead of STDOUT
    #[arg(short = 'o', long = "output", value_name = "string")]
    pub output: Option<PathBuf>,
    /// CONTAINER
    #[arg(value_name = "CONTAINER")]
    pub args: Vec<String>,
}

/// `commit`.
#[derive(Debug, Args)]
pub struct CommitArgs {
    /// Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")
    #[arg(short = 'a', long = "author", value_name = "string")]
    pub author: Option<String>,
    /// Apply Dockerfile instruction to the created image
    #[arg(short = 'c', long = "change", value_name = "list", action = ArgAction::Append)]
    pub change: Vec<String>,
    /// Commit message
    #[arg(short = 'm', long = "message", value_name = "string")]
    pub message: Option<String>,
    /// Pause container during commit (default true)
    #[arg(
        short = 'p',
        long = "pause",
        num_args = 0..=1,
        require_equals = true,
        default_value = "true",
        default_missing_value = "true",
        action = ArgAction::Set,
        value_parser = fv::go_bool
    )]
    pub pause: bool,
    /// CONTAINER [REPOSITORY[:TAG]]
    #[arg(value_name = "CONTAINER")]
    pub args: Vec<String>,
}

/// `update`.
#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)
    #[arg(long = "blkio-weight", value_name = "uint16", value_parser = fv::uint16)]
    pub blkio_weight: Option<u16>,
    /// Limit CPU CFS (Completely Fair Scheduler) period
    #[arg(long = "cpu-period", value_name = "int", value_parser = fv::int64)]
    pub cpu_period: Option<i64>,
    /// Limit CPU CFS (Completely Fair Scheduler) quota
    #[arg(long = "cpu-quota", value_name = "int", value_parser = fv::int64)]
    pub cpu_quota: Option<i64>,
    /// Limit the CPU real-time period in microseconds
    #[arg(long = "cpu-rt-period", value_name = "int", value_parser = fv::int64)]
    pub cpu_rt_period: Option<i64>,
    /// Limit the CPU real-time runtime in microseconds
    #[arg(long = "cpu-rt-runtime", value_name = "int", value_parser = fv::int64)]
    pub cpu_rt_runtime: Option<i64>,
    /// CPU shares (relative weight)
    #[arg(short = 'c', long = "cpu-shares", value_name = "int", value_parser = fv::int64)]
    pub cpu_shares: Option<i64>,
    /// Number of CPUs
    #[arg(long = "cpus", value_name = "decimal", value_parser = fv::nano_cpus)]
    pub cpus: Option<i64>,
    /// CPUs in which to allow execution (0-3, 0,1)
    #[arg(long = "cpuset-cpus", value_name = "string")]
    pub cpuset_cpus: Option<String>,
    /// MEMs in which to allow execution (0-3, 0,1)
    #[arg(long = "cpuset-mems", value_name = "string")]
    pub cpuset_mems: Option<String>,
    /// Memory limit
    #[arg(short = 'm', long = "memory", value_name = "bytes", value_parser = fv::mem_bytes)]
    pub memory: Option<i64>,
    /// Memory soft limit
    #[arg(long = "memory-reservation", value_name = "bytes", value_parser = fv::mem_bytes)]
    pub memory_reservation: Option<i64>,
    /// Swap limit equal to memory plus swap: -1 to enable unlimited swap
    #[arg(long = "memory-swap", value_name = "bytes", value_parser = fv::mem_swap_bytes)]
    pub memory_swap: Option<i64>,
    /// Tune container pids limit (set -1 for unlimited)
    #[arg(long = "pids-limit", value_name = "int", value_parser = fv::int64)]
    pub pids_limit: Option<i64>,
    /// Restart policy to apply when a container exits
    #[arg(long = "restart", value_name = "string")]
    pub restart: Option<String>,
    /// CONTAINER
    #[arg(value_name = "CONTAINER")]
    pub args: Vec<String>,
}

/// `container prune`.
#[derive(Debug, Args)]
pub struct ContainerPruneArgs {
    /// Provide filter values (e.g. "until=<timestamp>")
    #[arg(long = "filter", value_name = "filter", action = ArgAction::Append)]
    pub filter: Vec<String>,
    /// Do not prompt for confirmation
    #[arg(short = 'f', long = "force")]
    pub force: bool,
    /// (no arguments)
    #[arg(hide = true)]
    pub args: Vec<String>,
}

/// `volume create`.
#[derive(Debug, Args)]
pub struct VolumeCreateArgs {
    /// Specify volume driver name
    #[arg(
        short = 'd',
        long = "driver",
        value_name = "string",
        default_value = "local"
    )]
    pub driver: String,
    /// Set metadata for a volume
    #[arg(long = "label", value_name = "list", action = ArgAction::Append)]
    pub label: Vec<String>,
    /// Specify volume name
    #[arg(long = "name", value_name = "string", hide = true)]
    pub name: Option<String>,
    /// Set driver specific options
    #[arg(short = 'o', long = "opt", value_name = "map", action = ArgAction::Append)]
    pub opt: Vec<String>,
    /// [VOLUME]
    #[arg(value_name = "VOLUME")]
    pub args: Vec<String>,
}

/// `volume ls`.
#[derive(Debug, Args)]
pub struct VolumeLsArgs {
    /// Display only cluster volumes, and use cluster volume list formatting
    #[arg(long = "cluster", hide = true)]
    pub cluster: bool,
    /// Provide filter values (e.g. "dangling=true")
    #[arg(short = 'f', long = "filter", value_name = "filter", action = ArgAction::Append)]
    pub filter: Vec<String>,
    /// Format output using a custom template: 'table', 'table TEMPLATE', 'json', or a Go template
    #[arg(long = "format", value_name = "string")]
    pub format: Option<String>,
    /// Only display volume names
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
    /// (no arguments)
    #[arg(hide = true)]
    pub args: Vec<String>,
}

/// `volume inspect`.
#[derive(Debug, Args)]
pub struct VolumeInspectArgs {
    /// Format output using a custom template: 'json' or a Go template
    #[arg(short = 'f', long = "format", value_name = "string")]
    pub format: Option<String>,
    /// VOLUME
    #[arg(value_name = "VOLUME")]
    pub args: Vec<String>,
}

/// `volume rm`.
#[derive(Debug, Args)]
pub struct VolumeRmArgs {
    /// Force the removal of one or more volumes
    #[arg(short = 'f', long = "force")]
    pub force: bool,
    /// VOLUME
    #[arg(value_name = "VOLUME")]
    pub args: Vec<String>,
}

/// `network create`.
#[derive(Debug, Args)]
pub struct NetworkCreateArgs {
    /// Enable manual container attachment
    #[arg(long = "attachable")]
    pub attachable: bool,
    /// Auxiliary IPv4 or IPv6 addresses used by Network driver
    #[arg(long = "aux-address", value_name = "map", action = ArgAction::Append)]
    pub aux_address: Vec<String>,
    /// Driver to manage the Network
    #[arg(
        short = 'd',
        long = "driver",
        value_name = "string",
        default_value = "bridge"
    )]
    pub driver: String,
    /// IPv4 or IPv6 Gateway for the master subnet
    #[arg(long = "gateway", value_name = "strings", action = ArgAction::Append)]
    pub gateway: Vec<String>,
    /// Restrict external access to the network
    #[arg(long = "internal")]
    pub internal: bool,
    /// Allocate container ip from a sub-range
    #[arg(long = "ip-range", value_name = "strings", action = ArgAction::Append)]
    pub ip_range: Vec<String>,
    /// IP Address Management Driver
    #[arg(long = "ipam-driver", value_name = "string", default_value = "default")]
    pub ipam_driver: String,
    /// Set IPAM driver specific options
    #[arg(long = "ipam-opt", value_name = "map", action = ArgAction::Append)]
    pub ipam_opt: Vec<String>,
    /// Enable or disable IPv6 networking
    #[arg(long = "ipv6")]
    pub ipv6: bool,
    /// Set metadata on a network
    #[arg(long = "label", value_name = "list", action = ArgAction::Append)]
    pub label: Vec<String>,
    /// Set driver specific options
    #[arg(short = 'o', long = "opt", value_name = "map", action = ArgAction::Append)]
    pub opt: Vec<String>,
    /// Subnet in CIDR format that represents a network segment
    #[arg(long = "subnet", value_name = "strings", action = ArgAction::Append)]
    pub subnet: Vec<String>,
    /// NETWORK
    #[arg(value_name = "NETWORK")]
    pub args: Vec<String>,
}

/// `network ls`.
#[derive(Debug, Args)]
pub struct NetworkLsArgs {
    /// Provide filter values (e.g. "driver=bridge")
    #[arg(short = 'f', long = "filter", value_name = "filter", action = ArgAction::Append)]
    pub filter: Vec<String>,
    /// Format output using a custom template: 'table', 'table TEMPLATE', 'json', or a Go template
    #[arg(long = "format", value_name = "string")]
    pub format: Option<String>,
    /// Do not truncate the output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
    /// Only display network IDs
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
    /// (no arguments)
    #[arg(hide = true)]
    pub args: Vec<String>,
}

/// `network inspect`.
#[derive(Debug, Args)]
pub struct NetworkInspectArgs {
    /// Format output using a custom template: 'json' or a Go template
    #[arg(short = 'f', long = "format", value_name = "string")]
    pub format: Option<String>,
    /// Verbose output for diagnostics
    #[arg(short = 'v', long = "verbose")]
    pub verbose: bool,
    /// NETWORK
    #[arg(value_name = "NETWORK")]
    pub args: Vec<String>,
}

/// `network rm`.
#[derive(Debug, Args)]
pub struct NetworkRmArgs {
    /// Do not error if the network does not exist
    #[arg(short = 'f', long = "force")]
    pub force: bool,
    /// NETWORK
    #[arg(value_name = "NETWORK")]
    pub args: Vec<String>,
}

/// `network prune`.
#[derive(Debug, Args)]
pub struct NetworkPruneArgs {
    /// Provide filter values (e.g. "until=<timestamp>")
    #[arg(long = "filter", value_name = "filter", action = ArgAction::Append)]
    pub filter: Vec<String>,
    /// Do not prompt for confirmation
    #[arg(short = 'f', long = "force")]
    pub force: bool,
    /// (no arguments)
    #[arg(hide = true)]
    pub args: Vec<String>,
}

/// `network connect`.
#[derive(Debug, Args)]
pub struct NetworkConnectArgs {
    /// Add network-scoped alias for the container
    #[arg(long = "alias", value_name = "strings", action = ArgAction::Append)]
    pub alias: Vec<String>,
    /// driver options for the network
    #[arg(long = "driver-opt", value_name = "strings", action = ArgAction::Append)]
    pub driver_opt: Vec<String>,
    /// IPv4 address (e.g., "172.30.100.104")
    #[arg(long = "ip", value_name = "string")]
    pub ip: Option<String>,
    /// IPv6 address (e.g., "2001:db8::33")
    #[arg(long = "ip6", value_name = "string")]
    pub ip6: Option<String>,
    /// Add link to another container
    #[arg(long = "link", value_name = "list", action = ArgAction::Append)]
    pub link: Vec<String>,
    /// Add a link-local address for the container
    #[arg(long = "link-local-ip", value_name = "strings", action = ArgAction::Append)]
    pub link_local_ip: Vec<String>,
    /// NETWORK CONTAINER
    #[arg(value_name = "ARGS")]
    pub args: Vec<String>,
}

/// `network disconnect`.
#[derive(Debug, Args)]
pub struct NetworkDisconnectArgs {
    /// Force the container to disconnect from a network
    #[arg(short = 'f', long = "force")]
    pub force: bool,
    /// NETWORK CONTAINER
    #[arg(value_name = "ARGS")]
    pub args: Vec<String>,
}

/// `volume prune`.
#[derive(Debug, Args)]
pub struct VolumePruneArgs {
    /// Remove all unused volumes, not just anonymous ones
    #[arg(short = 'a', long = "all")]
    pub all: bool,
    /// Provide filter values (e.g. "label=<label>")
    #[arg(long = "filter", value_name = "filter", action = ArgAction::Append)]
    pub filter: Vec<String>,
    /// Do not prompt for confirmation
    #[arg(short = 'f', long = "force")]
    pub force: bool,
    /// (no arguments)
    #[arg(hide = true)]
    pub args: Vec<String>,
}
