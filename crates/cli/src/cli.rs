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
