//! The commands: one module per command group, one file per command (as
//! docker/cli's `cli/command/image/*.go`). Issue 4 adds `container/`
//! (run, ps, exec...), issue 5 `network/`; each plugs into [`run`].
//!
//! Shared here: docker's argument-count errors, `--filter` parsing into
//! the API's filter JSON, and confirmation prompts.

pub mod auth;
pub mod container;
pub mod image;
pub mod network;
pub mod system;
pub mod volume;

use crate::app::App;
use crate::cli as u;
use crate::cli::{
    Command, ContainerCommand, ImageCommand, NetworkCommand, SystemCommand, Usage, VolumeCommand,
};
use crate::cli::{
    EVENTS, HISTORY, IMAGE_HISTORY, IMAGE_IMPORT, IMAGE_INSPECT, IMAGE_LOAD, IMAGE_LS, IMAGE_PRUNE,
    IMAGE_PULL, IMAGE_PUSH, IMAGE_RM, IMAGE_SAVE, IMAGE_TAG, IMAGES, IMPORT, INFO, INSPECT, LOAD,
    LOGIN, LOGOUT, PULL, PUSH, RMI, SAVE, SYSTEM_DF, SYSTEM_EVENTS, SYSTEM_INFO, TAG, VERSION,
};
use crate::error::CliError;
use crate::format::json::Json;

/// Run one command.
pub fn run(app: &App, cmd: Command) -> Result<(), CliError> {
    match cmd {
        Command::Images(a) => image::list::run(app, &a, IMAGES, true),
        Command::Pull(a) => image::pull::run(app, &a, PULL),
        Command::Push(a) => image::push::run(app, &a, PUSH),
        Command::Inspect(a) => system::inspect::run(app, &a, INSPECT),
        Command::History(a) => image::history::run(app, &a, HISTORY),
        Command::Tag(a) => image::tag::run(app, &a, TAG),
        Command::Rmi(a) => image::remove::run(app, &a, RMI),
        Command::Save(a) => image::save::run(app, &a, SAVE),
        Command::Build(a) => image::build::run(app, &a, u::BUILD),
        Command::Load(a) => image::load::run(app, &a, LOAD),
        Command::Import(a) => image::import::run(app, &a, IMPORT),
        Command::Login(a) => auth::login::run(app, &a, LOGIN),
        Command::Logout(a) => auth::logout::run(app, &a, LOGOUT),
        Command::Version(a) => system::version::run(app, &a, VERSION),
        Command::Info(a) => system::info::run(app, &a, INFO),
        Command::Events(a) => system::events::run(app, &a, EVENTS),
        Command::Image(c) => match c {
            ImageCommand::Build(a) => image::build::run(app, &a, u::IMAGE_BUILD),
            ImageCommand::History(a) => image::history::run(app, &a, IMAGE_HISTORY),
            ImageCommand::Import(a) => image::import::run(app, &a, IMAGE_IMPORT),
            ImageCommand::Inspect(a) => image::inspect::run(app, &a, IMAGE_INSPECT),
            ImageCommand::Load(a) => image::load::run(app, &a, IMAGE_LOAD),
            ImageCommand::Ls(a) => image::list::run(app, &a, IMAGE_LS, false),
            ImageCommand::Prune(a) => image::prune::run(app, &a, IMAGE_PRUNE),
            ImageCommand::Pull(a) => image::pull::run(app, &a, IMAGE_PULL),
            ImageCommand::Push(a) => image::push::run(app, &a, IMAGE_PUSH),
            ImageCommand::Rm(a) => image::remove::run(app, &a, IMAGE_RM),
            ImageCommand::Save(a) => image::save::run(app, &a, IMAGE_SAVE),
            ImageCommand::Tag(a) => image::tag::run(app, &a, IMAGE_TAG),
        },
        Command::Run(a) => container::run::run(app, &a, u::RUN),
        Command::Create(a) => container::create::run(app, &a, u::CREATE),
        Command::Start(a) => container::start::run(app, &a, u::START),
        Command::Stop(a) => container::stop::run(app, &a, u::STOP),
        Command::Kill(a) => container::kill::run(app, &a, u::KILL),
        Command::Restart(a) => container::restart::run(app, &a, u::RESTART),
        Command::Pause(a) => container::pause::run(app, &a, u::PAUSE, "pause"),
        Command::Unpause(a) => container::pause::run(app, &a, u::UNPAUSE, "unpause"),
        Command::Rm(a) => container::remove::run(app, &a, u::RM),
        Command::Rename(a) => container::rename::run(app, &a, u::RENAME),
        Command::Wait(a) => container::wait::run(app, &a, u::WAIT),
        Command::Ps(a) => container::list::run(app, &a, u::PS),
        Command::Logs(a) => container::logs::run(app, &a, u::LOGS),
        Command::Attach(a) => container::attach::run(app, &a, u::ATTACH),
        Command::Exec(a) => container::exec::run(app, &a, u::EXEC),
        Command::Top(a) => container::top::run(app, &a, u::TOP),
        Command::Stats(a) => container::stats::run(app, &a, u::STATS),
        Command::Cp(a) => container::cp::run(app, &a, u::CP),
        Command::Export(a) => container::export::run(app, &a, u::EXPORT),
        Command::Diff(a) => container::diff::run(app, &a, u::DIFF),
        Command::Commit(a) => container::commit::run(app, &a, u::COMMIT),
        Command::Update(a) => container::update::run(app, &a, u::UPDATE),
        Command::Port(a) => container::port::run(app, &a, u::PORT),
        Command::Container(c) => run_container(app, c),
        Command::Network(c) => match c {
            NetworkCommand::Connect(a) => network::connect::run(app, &a, u::NETWORK_CONNECT),
            NetworkCommand::Create(a) => network::create::run(app, &a, u::NETWORK_CREATE),
            NetworkCommand::Disconnect(a) => {
                network::connect::disconnect(app, &a, u::NETWORK_DISCONNECT)
            }
            NetworkCommand::Inspect(a) => network::inspect::run(app, &a, u::NETWORK_INSPECT),
            NetworkCommand::Ls(a) => network::list::run(app, &a, u::NETWORK_LS),
            NetworkCommand::Prune(a) => network::prune::run(app, &a, u::NETWORK_PRUNE),
            NetworkCommand::Rm(a) => network::remove::run(app, &a, u::NETWORK_RM),
        },
        Command::Volume(c) => match c {
            VolumeCommand::Create(a) => volume::create::run(app, &a, u::VOLUME_CREATE),
            VolumeCommand::Inspect(a) => volume::inspect::run(app, &a, u::VOLUME_INSPECT),
            VolumeCommand::Ls(a) => volume::list::run(app, &a, u::VOLUME_LS),
            VolumeCommand::Prune(a) => volume::prune::run(app, &a, u::VOLUME_PRUNE),
            VolumeCommand::Rm(a) => volume::remove::run(app, &a, u::VOLUME_RM),
        },
        Command::System(c) => match c {
            SystemCommand::Df(a) => system::df::run(app, &a, SYSTEM_DF),
            SystemCommand::Events(a) => system::events::run(app, &a, SYSTEM_EVENTS),
            SystemCommand::Info(a) => system::info::run(app, &a, SYSTEM_INFO),
        },
    }
}

fn run_container(app: &App, c: ContainerCommand) -> Result<(), CliError> {
    use container as k;
    match c {
        ContainerCommand::Attach(a) => k::attach::run(app, &a, u::CONTAINER_ATTACH),
        ContainerCommand::Commit(a) => k::commit::run(app, &a, u::CONTAINER_COMMIT),
        ContainerCommand::Cp(a) => k::cp::run(app, &a, u::CONTAINER_CP),
        ContainerCommand::Create(a) => k::create::run(app, &a, u::CONTAINER_CREATE),
        ContainerCommand::Diff(a) => k::diff::run(app, &a, u::CONTAINER_DIFF),
        ContainerCommand::Exec(a) => k::exec::run(app, &a, u::CONTAINER_EXEC),
        ContainerCommand::Export(a) => k::export::run(app, &a, u::CONTAINER_EXPORT),
        ContainerCommand::Inspect(a) => k::inspect::run(app, &a, u::CONTAINER_INSPECT),
        ContainerCommand::Kill(a) => k::kill::run(app, &a, u::CONTAINER_KILL),
        ContainerCommand::Logs(a) => k::logs::run(app, &a, u::CONTAINER_LOGS),
        ContainerCommand::Ls(a) => k::list::run(app, &a, u::CONTAINER_LS),
        ContainerCommand::Pause(a) => k::pause::run(app, &a, u::CONTAINER_PAUSE, "pause"),
        ContainerCommand::Port(a) => k::port::run(app, &a, u::CONTAINER_PORT),
        ContainerCommand::Prune(a) => k::prune::run(app, &a, u::CONTAINER_PRUNE),
        ContainerCommand::Rename(a) => k::rename::run(app, &a, u::CONTAINER_RENAME),
        ContainerCommand::Restart(a) => k::restart::run(app, &a, u::CONTAINER_RESTART),
        ContainerCommand::Rm(a) => k::remove::run(app, &a, u::CONTAINER_RM),
        ContainerCommand::Run(a) => k::run::run(app, &a, u::CONTAINER_RUN),
        ContainerCommand::Start(a) => k::start::run(app, &a, u::CONTAINER_START),
        ContainerCommand::Stats(a) => k::stats::run(app, &a, u::CONTAINER_STATS),
        ContainerCommand::Stop(a) => k::stop::run(app, &a, u::CONTAINER_STOP),
        ContainerCommand::Top(a) => k::top::run(app, &a, u::CONTAINER_TOP),
        ContainerCommand::Unpause(a) => k::pause::run(app, &a, u::CONTAINER_UNPAUSE, "unpause"),
        ContainerCommand::Update(a) => k::update::run(app, &a, u::CONTAINER_UPDATE),
        ContainerCommand::Wait(a) => k::wait::run(app, &a, u::CONTAINER_WAIT),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "argument" } else { "arguments" }
}

fn usage_error(u: Usage, what: String) -> CliError {
    usage_error_with(u, what, "Run")
}

/// docker words the "at least" error with `See` where the others say `Run`.
fn usage_error_with(u: Usage, what: String, verb: &str) -> CliError {
    CliError::Usage(format!(
        "berth: '{}' {what}\n\nUsage:  {}\n\n{verb} '{} --help' for more information",
        u.path, u.line, u.path
    ))
}

/// docker's `cli.ExactArgs`.
pub fn exact_args(u: Usage, args: &[String], n: usize) -> Result<(), CliError> {
    if args.len() == n {
        return Ok(());
    }
    Err(usage_error(u, format!("requires {n} {}", plural(n))))
}

/// docker's `cli.RequiresMinArgs`.
pub fn min_args(u: Usage, args: &[String], n: usize) -> Result<(), CliError> {
    if args.len() >= n {
        return Ok(());
    }
    Err(usage_error_with(
        u,
        format!("requires at least {n} {}", plural(n)),
        "See",
    ))
}

/// docker's `cli.RequiresMaxArgs`.
pub fn max_args(u: Usage, args: &[String], n: usize) -> Result<(), CliError> {
    if args.len() <= n {
        return Ok(());
    }
    Err(usage_error(
        u,
        format!("requires at most {n} {}", plural(n)),
    ))
}

/// docker's `cli.RequiresRangeArgs`.
pub fn range_args(u: Usage, args: &[String], min: usize, max: usize) -> Result<(), CliError> {
    if (min..=max).contains(&args.len()) {
        return Ok(());
    }
    Err(usage_error(
        u,
        format!("requires at least {min} and at most {max} {}", plural(max)),
    ))
}

/// docker's `cli.NoArgs`.
pub fn no_args(u: Usage, args: &[String]) -> Result<(), CliError> {
    if args.is_empty() {
        return Ok(());
    }
    Err(usage_error(u, "accepts no arguments".into()))
}

/// `--filter key=value` flags as the API's filter map (key -> values).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filters(pub Vec<(String, Vec<String>)>);

impl Filters {
    /// Parse `-f` values as docker's `FilterOpt` does: `name=value`, the
    /// name lower-cased and trimmed, the value trimmed.
    pub fn parse(u: Usage, flag: &str, values: &[String]) -> Result<Filters, CliError> {
        let mut f = Filters::default();
        for v in values {
            if v.is_empty() {
                continue;
            }
            let Some((name, value)) = v.split_once('=') else {
                return Err(CliError::Flags(format!(
                    "invalid argument {v:?} for \"{flag}\" flag: bad format of filter (expected name=value)\n\nUsage:  {}\n\nRun '{} --help' for more information",
                    u.line, u.path
                )));
            };
            f.add(&name.trim().to_lowercase(), value.trim());
        }
        Ok(f)
    }

    /// Add a value.
    pub fn add(&mut self, key: &str, value: &str) {
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some((_, vals)) => {
                if !vals.iter().any(|v| v == value) {
                    vals.push(value.to_string());
                }
            }
            None => self.0.push((key.to_string(), vec![value.to_string()])),
        }
    }

    /// No filters?
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The values of a key.
    pub fn get(&self, key: &str) -> &[String] {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map_or(&[], |(_, v)| v.as_slice())
    }

    /// The `filters` query value: `{"key":{"value":true}}` (keys and
    /// values sorted, as Go's map encoding sorts them).
    pub fn to_query(&self) -> String {
        let mut keys: Vec<&(String, Vec<String>)> = self.0.iter().collect();
        keys.sort_by(|a, b| a.0.cmp(&b.0));
        let obj = keys
            .into_iter()
            .map(|(k, vals)| {
                let mut vals = vals.clone();
                vals.sort();
                (
                    k.clone(),
                    Json::Object(vals.into_iter().map(|v| (v, Json::Bool(true))).collect()),
                )
            })
            .collect();
        Json::Object(obj).to_compact(true)
    }
}

/// docker's `prompt.Confirm`: print the message and ` [y/N] `, read a
/// line from stdin (a terminal or not); only `y`/`Y` is yes.
/// The template of a `ls` command, as docker's CLI picks it: `--format`,
/// else the client config's `config_key` (`volumesFormat`...), else the
/// table; the table is `quiet_template` with `-q`, else `default_table`.
pub fn list_template(
    app: &App,
    format: Option<&str>,
    config_key: &str,
    quiet: bool,
    quiet_template: &str,
    default_table: &str,
) -> String {
    let flag = format
        .filter(|f| !f.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| {
            app.config()
                .ok()
                .and_then(|c| c.string(config_key).map(str::to_string))
                .unwrap_or_else(|| crate::format::TABLE.to_string())
        });
    if flag != crate::format::TABLE {
        flag
    } else if quiet {
        quiet_template.to_string()
    } else {
        default_table.to_string()
    }
}

pub fn confirm(message: &str) -> Result<bool, CliError> {
    crate::app::print(&format!("{message} [y/N] "))?;
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| CliError::io("read the answer", e))?;
    Ok(line.trim().eq_ignore_ascii_case("y"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_encode_like_docker() {
        let f = Filters::parse(
            IMAGES,
            "-f, --filter",
            &[
                "dangling=true".into(),
                "Label = a=b ".into(),
                "label=c".into(),
            ],
        )
        .unwrap();
        assert_eq!(
            f.to_query(),
            r#"{"dangling":{"true":true},"label":{"a=b":true,"c":true}}"#
        );
        let e = Filters::parse(IMAGES, "-f, --filter", &["nope".into()]).unwrap_err();
        assert_eq!(e.exit_code(), 125);
        assert!(e.to_string().starts_with(
            "invalid argument \"nope\" for \"-f, --filter\" flag: bad format of filter (expected name=value)"
        ));
    }

    #[test]
    fn arg_count_errors_read_like_docker() {
        let e = exact_args(HISTORY, &[], 1).unwrap_err();
        assert_eq!(
            e.to_string(),
            "berth: 'berth history' requires 1 argument\n\nUsage:  berth history [OPTIONS] IMAGE\n\nRun 'berth history --help' for more information"
        );
        assert_eq!(e.exit_code(), 1);
        assert!(
            max_args(IMAGES, &["a".into(), "b".into()], 1)
                .unwrap_err()
                .to_string()
                .contains("requires at most 1 argument")
        );
        assert!(
            exact_args(TAG, &["a".into()], 2)
                .unwrap_err()
                .to_string()
                .contains("requires 2 arguments")
        );
    }
}
