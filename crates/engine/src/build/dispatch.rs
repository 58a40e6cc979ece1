//! Stages and steps, as dockerd 20.10's `dispatchDockerfileWithCancellation`
//! runs them: `Step N/M : …` lines (M counts the `ARG`s before the first
//! `FROM`, every `FROM` and every instruction of the stages up to the
//! target), the base image resolved (an earlier stage, `scratch`, a local
//! image or a pull), the base's `ONBUILD` triggers, each instruction, and
//! ` ---> <id>` after each; `{"aux":{"ID":…}}` at the end of each stage.
//!
//! Build arguments follow dockerd's `BuildArgs`: a `--build-arg` is only
//! seen by the steps after an `ARG` declares it (or if it is one of the
//! predefined proxy variables); `ENV` wins over `ARG`; `ARG`s before the
//! first `FROM` only serve `FROM` lines unless a stage declares them again.

use std::collections::{BTreeMap, BTreeSet};

use berth_build::instructions::{Command, Dockerfile, Healthcheck, Instruction, ShellOrExec};
use berth_build::{Expander, Stage};
use berth_image::{Descriptor, Digest, ImageConfig, Reference};
use berth_models::container_config::{ContainerConfig, Empty, HealthConfig};
use berth_models::duration::format_go_duration;

use super::cache::Cache;
use super::context::Context;
use super::{BuildError, BuildOptions, Output};
use crate::images::store::ImageRecord;

/// The build args every Dockerfile may use without declaring them.
pub(crate) const BUILTIN_ARGS: [&str; 10] = [
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "FTP_PROXY",
    "ftp_proxy",
    "NO_PROXY",
    "no_proxy",
    "ALL_PROXY",
    "all_proxy",
];

const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Where a stage stands.
#[derive(Debug, Clone)]
pub(crate) struct State {
    /// The image so far; `None` while a `FROM scratch` stage has made none.
    pub(crate) image: Option<ImageRecord>,
    /// Its config (a blank one for scratch).
    pub(crate) config: ImageConfig,
    /// Its manifest's layers.
    pub(crate) layers: Vec<Descriptor>,
    /// The config the next steps run with and commit.
    pub(crate) run: ContainerConfig,
    /// The `ARG`s this stage declared, with their defaults.
    pub(crate) args: BTreeMap<String, Option<String>>,
    /// A `CMD` was given in this stage (`ENTRYPOINT` then keeps it).
    cmd_set: bool,
    /// `MAINTAINER`.
    pub(crate) maintainer: Option<String>,
}

impl State {
    pub(crate) fn image_id(&self) -> Option<&Digest> {
        self.image.as_ref().map(|i| &i.id)
    }

    pub(crate) fn top_layer(&self) -> Option<&str> {
        self.image.as_ref().and_then(|i| i.top_layer.as_deref())
    }

    /// The shell of shell-form commands.
    pub(crate) fn shell(&self) -> Vec<String> {
        self.run
            .shell
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| vec!["/bin/sh".into(), "-c".into()])
    }

    /// The run config with its command replaced by a `#(nop)` comment: the
    /// cache key and `ContainerConfig` of a step that only changes the
    /// config (dockerd's `withCmdComment`).
    pub(crate) fn nop(&self, comment: &str) -> ContainerConfig {
        let mut c = self.run.clone();
        let mut cmd = self.shell();
        cmd.push("#(nop) ".into());
        cmd.push(comment.to_string());
        c.cmd = Some(cmd);
        c
    }

    /// dockerd's `withCmdCommentString` (`COPY`, `ADD`, `WORKDIR`).
    pub(crate) fn nop_string(&self, comment: &str) -> ContainerConfig {
        let mut c = self.run.clone();
        let mut cmd = self.shell();
        cmd.push(format!("#(nop) {comment}"));
        c.cmd = Some(cmd);
        c
    }
}

/// What a finished stage left, for `FROM <stage>` and `COPY --from`.
#[derive(Debug, Clone)]
pub(crate) struct StageResult {
    pub(crate) name: Option<String>,
    pub(crate) image: Option<Digest>,
}

/// One build in progress.
pub(crate) struct Build<'a> {
    pub(crate) engine: &'a crate::Engine,
    pub(crate) options: &'a BuildOptions,
    pub(crate) out: &'a Output<'a>,
    pub(crate) ctx: &'a Context,
    df: Dockerfile,
    pub(crate) escape: char,
    /// `ARG`s before the first `FROM`.
    meta: BTreeMap<String, Option<String>>,
    /// Every `ARG` name declared (for the unused build-arg warning).
    referenced: BTreeSet<String>,
    pub(crate) stages: Vec<StageResult>,
    /// Intermediate containers not removed yet.
    pub(crate) containers: Vec<String>,
    pub(crate) cache: Cache,
    step: usize,
    total: usize,
    /// Numbers mount points and scratch files.
    pub(crate) seq: usize,
}

/// Go's `strconv.Quote` (what `%q` prints), for the ASCII cases.
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `%q` of a `[]string`: `["a" "b"]`.
pub(crate) fn go_quote_list(list: &[String]) -> String {
    let items: Vec<String> = list.iter().map(|s| go_quote(s)).collect();
    format!("[{}]", items.join(" "))
}

/// `%q` of an int (a rune literal).
fn go_quote_rune(n: i64) -> String {
    match u32::try_from(n).ok().and_then(char::from_u32) {
        Some('\'') => "'\\''".into(),
        Some('\\') => "'\\\\'".into(),
        Some(c) if c.is_ascii_graphic() || c == ' ' => format!("'{c}'"),
        Some(c) if (c as u32) < 0x80 => format!("'\\x{:02x}'", c as u32),
        Some(c) => format!("'\\u{:04x}'", c as u32),
        None => format!("%!q(int={n})"),
    }
}

fn key_of(entry: &str) -> &str {
    entry.split_once('=').map_or(entry, |(k, _)| k)
}

/// `EXPOSE` ports as Docker's `nat.ParsePortSpecs` reads them.
fn parse_ports(spec: &str) -> Result<Vec<String>, BuildError> {
    let (ports, proto) = spec.split_once('/').unwrap_or((spec, "tcp"));
    let proto = proto.to_ascii_lowercase();
    let invalid = || BuildError::Invalid(format!("Invalid containerPort: {spec}"));
    if !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
        return Err(BuildError::Invalid(format!("Invalid proto: {proto}")));
    }
    let (lo, hi) = match ports.split_once('-') {
        Some((a, b)) => (
            a.parse::<u16>().map_err(|_| invalid())?,
            b.parse::<u16>().map_err(|_| invalid())?,
        ),
        None => {
            let p = ports.parse::<u16>().map_err(|_| invalid())?;
            (p, p)
        }
    };
    if hi < lo {
        return Err(invalid());
    }
    Ok((lo..=hi).map(|p| format!("{p}/{proto}")).collect())
}

/// Go's `filepath.Join("/", current, requested)` for `WORKDIR`.
fn workdir(current: &str, requested: &str) -> String {
    let joined = if requested.starts_with('/') {
        requested.to_string()
    } else {
        format!("/{current}/{requested}")
    };
    berth_build::dockerignore::clean(&joined)
}

impl<'a> Build<'a> {
    pub(crate) fn new(
        engine: &'a crate::Engine,
        options: &'a BuildOptions,
        out: &'a Output<'a>,
        ctx: &'a Context,
        df: Dockerfile,
    ) -> Result<Build<'a>, BuildError> {
        Ok(Build {
            engine,
            options,
            out,
            ctx,
            escape: df.escape,
            df,
            meta: BTreeMap::new(),
            referenced: BTreeSet::new(),
            stages: Vec::new(),
            containers: Vec::new(),
            cache: Cache::new(engine, options),
            step: 0,
            total: 0,
            seq: 0,
        })
    }

    /// dockerd's `BuildArgs.getBuildArg`.
    fn build_arg(&self, key: &str, mapping: &BTreeMap<String, Option<String>>) -> Option<String> {
        if let Some(Some(v)) = self.options.build_args.get(key) {
            return Some(v.clone());
        }
        match mapping.get(key) {
            Some(Some(default)) => Some(default.clone()),
            _ => self.meta.get(key).cloned().flatten().and_then(|v| {
                // A meta ARG's value only reaches a stage that declares it.
                mapping.contains_key(key).then_some(v)
            }),
        }
    }

    /// The meta args' values (for `FROM` lines).
    fn meta_env(&self) -> Vec<String> {
        self.meta
            .iter()
            .filter_map(|(k, v)| {
                let v = match self.options.build_args.get(k) {
                    Some(Some(o)) => Some(o.clone()),
                    _ => v.clone(),
                };
                v.map(|v| format!("{k}={v}"))
            })
            .collect()
    }

    /// dockerd's `FilterAllowed(env)`: the declared (and given predefined)
    /// args with a value that `env` does not set, sorted.
    pub(crate) fn allowed_args(&self, state: &State) -> Vec<String> {
        let env = state.run.env.clone().unwrap_or_default();
        let mut keys: BTreeSet<&str> = state.args.keys().map(String::as_str).collect();
        keys.extend(BUILTIN_ARGS);
        keys.into_iter()
            .filter(|k| !env.iter().any(|e| key_of(e) == *k))
            .filter_map(|k| self.build_arg(k, &state.args).map(|v| format!("{k}={v}")))
            .collect()
    }

    /// Whether `key` shows in a `RUN`'s cache key (`IsReferencedOrNotBuiltin`).
    pub(crate) fn referenced_or_not_builtin(&self, state: &State, key: &str) -> bool {
        state.args.contains_key(key) || !BUILTIN_ARGS.contains(&key)
    }

    /// The environment words are expanded against.
    fn env(&self, state: &State) -> Vec<String> {
        let mut env = state.run.env.clone().unwrap_or_default();
        env.extend(self.allowed_args(state));
        env
    }

    pub(crate) fn word(&self, state: &State, word: &str) -> Result<String, BuildError> {
        let env = self.env(state);
        Expander::new(&env, self.escape)
            .word(word)
            .map_err(|source| BuildError::Expand {
                word: word.to_string(),
                source,
            })
    }

    /// `Step N/M : …`, written as dockerd writes it (the text, then the
    /// newline on its own).
    fn print_step(&mut self, original: &str) -> Result<(), BuildError> {
        self.step += 1;
        self.out
            .line(format!("Step {}/{} : {original}", self.step, self.total))?;
        self.out.line("\n")
    }

    fn print_id(&self, state: &State) -> Result<(), BuildError> {
        let short = state
            .image_id()
            .map(|d| crate::images::short_id(d).to_string())
            .unwrap_or_default();
        self.out.line(format!(" ---> {short}\n"))
    }

    /// Runs every stage (up to the target); the last one's image.
    pub(crate) fn run(&mut self) -> Result<Digest, BuildError> {
        let mut stages = std::mem::take(&mut self.df.stages);
        if !self.options.target.is_empty() {
            let target = self.options.target.to_ascii_lowercase();
            let Some(i) = stages
                .iter()
                .position(|s| s.name.as_deref() == Some(target.as_str()))
            else {
                return Err(BuildError::Invalid(format!(
                    "failed to reach build target {} in Dockerfile",
                    self.options.target
                )));
            };
            stages.truncate(i + 1);
        }
        if !self.options.labels.is_empty()
            && let Some(last) = stages.last_mut()
        {
            // dockerd adds the `labels` parameter as a last LABEL line (of the
            // target stage),
            // its values single-quoted so that nothing in them expands.
            let pairs: Vec<(String, String)> = self
                .options
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), format!("'{v}'")))
                .collect();
            let text: Vec<String> = self
                .options
                .labels
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            last.commands.push(Instruction {
                line: 0,
                original: format!("LABEL {}", text.join(" ")),
                command: Command::Label(pairs),
            });
        }
        let meta_args = std::mem::take(&mut self.df.meta_args);
        self.total = meta_args.len() + stages.iter().map(|s| 1 + s.commands.len()).sum::<usize>();
        for meta in &meta_args {
            self.print_step(&meta.original)?;
            if let Command::Arg(args) = &meta.command {
                for (k, v) in args {
                    let v = match v {
                        Some(v) => {
                            let env = self.meta_env();
                            Some(Expander::new(&env, self.escape).word(v).map_err(|source| {
                                BuildError::Expand {
                                    word: v.clone(),
                                    source,
                                }
                            })?)
                        }
                        None => None,
                    };
                    self.referenced.insert(k.clone());
                    self.meta.insert(k.clone(), v);
                }
            }
        }
        let mut last = None;
        for stage in &stages {
            self.cache.reset();
            self.print_step(&stage.original)?;
            let mut state = self.init_stage(stage)?;
            self.print_id(&state)?;
            for instruction in &stage.commands {
                self.print_step(&instruction.original)?;
                self.dispatch(&mut state, instruction)?;
                self.print_id(&state)?;
            }
            if let Some(id) = state.image_id() {
                self.out.aux_id(id)?;
            }
            last = state.image_id().cloned();
            self.stages.push(StageResult {
                name: stage.name.clone(),
                image: last.clone(),
            });
        }
        let unused: Vec<&String> = self
            .options
            .build_args
            .keys()
            .filter(|k| !self.referenced.contains(*k) && !BUILTIN_ARGS.contains(&k.as_str()))
            .collect();
        if !unused.is_empty() {
            let names: Vec<&str> = unused.iter().map(|s| s.as_str()).collect();
            self.out.line(format!(
                "[Warning] One or more build-args [{}] were not consumed\n",
                names.join(" ")
            ))?;
        }
        last.ok_or_else(|| {
            BuildError::Invalid("No image was generated. Is your Dockerfile empty?".into())
        })
    }

    /// Removes what is left of the intermediate containers: all of them
    /// with `forcerm`; none otherwise (a failed step's container stays for
    /// inspection, as dockerd leaves it).
    pub(crate) fn finish(&mut self) {
        if self.options.force_remove {
            for id in std::mem::take(&mut self.containers) {
                self.remove_container(&id);
            }
        }
    }

    pub(crate) fn remove_container(&mut self, id: &str) {
        self.containers.retain(|c| c != id);
        match self.engine.remove_container(id, true, true) {
            Ok(()) => {
                let _ = self.out.line(format!(
                    "Removing intermediate container {}\n",
                    &id[..id.len().min(12)]
                ));
            }
            Err(e) => tracing::warn!("build: removing intermediate container {id}: {e}"),
        }
    }

    /// A state on `image` (`None`: scratch).
    pub(crate) fn state_on(&self, image: Option<ImageRecord>) -> Result<State, BuildError> {
        let (config, layers) = match &image {
            Some(i) => (self.engine.image_config(i)?, self.engine.image_layers(i)?),
            None => (
                ImageConfig {
                    architecture: crate::host_arch().to_string(),
                    os: "linux".to_string(),
                    ..Default::default()
                },
                Vec::new(),
            ),
        };
        let mut run =
            crate::images::config_view::api_config(config.config.as_ref()).unwrap_or_default();
        // dockerd's `updateRunConfig`: the config names the image it ran on.
        run.image = image.as_ref().map(|i| i.id.to_string()).unwrap_or_default();
        Ok(State {
            image,
            config,
            layers,
            run,
            args: BTreeMap::new(),
            cmd_set: false,
            maintainer: None,
        })
    }

    /// Moves the state onto a newly made (or cached) image.
    pub(crate) fn advance(&self, state: &mut State, id: &Digest) -> Result<(), BuildError> {
        let image = self.engine.find_image(id.as_str())?;
        state.config = self.engine.image_config(&image)?;
        state.layers = self.engine.image_layers(&image)?;
        state.run.image = image.id.to_string();
        state.image = Some(image);
        Ok(())
    }

    /// The image a `FROM` or `COPY --from` names that is not a stage:
    /// local, or pulled (always with `pull`).
    pub(crate) fn base_image(&self, name: &str, pull: bool) -> Result<ImageRecord, BuildError> {
        if !pull && let Ok(image) = self.engine.find_image(name) {
            return Ok(image);
        }
        let reference = Reference::parse(name)
            .map_err(|e| BuildError::Invalid(e.to_string()))?
            .tag_or_latest();
        match self.engine.pull(
            &reference,
            self.options.platform.as_ref(),
            &self.options.credentials,
            self.out,
        ) {
            Ok(()) => Ok(self.engine.find_image(&reference.to_string())?),
            // With `pull`, a local image still does when the registry
            // cannot be reached (dockerd fails; this is kinder offline).
            Err(e) => Err(e.into()),
        }
    }

    fn init_stage(&mut self, stage: &Stage) -> Result<State, BuildError> {
        let env = self.meta_env();
        let base = Expander::new(&env, self.escape)
            .word(&stage.base)
            .map_err(|source| BuildError::Expand {
                word: stage.base.clone(),
                source,
            })?;
        let lower = base.to_ascii_lowercase();
        let image = if let Some(prev) = self
            .stages
            .iter()
            .rev()
            .find(|s| s.name.as_deref() == Some(lower.as_str()))
        {
            match &prev.image {
                Some(id) => Some(self.engine.find_image(id.as_str())?),
                None => None,
            }
        } else if lower == "scratch" {
            None
        } else {
            Some(self.base_image(&base, self.options.pull)?)
        };
        let mut state = self.state_on(image)?;
        let env = state.run.env.get_or_insert_with(Vec::new);
        if !env.iter().any(|e| key_of(e) == "PATH") {
            env.push(DEFAULT_PATH.to_string());
        }
        state.run.open_stdin = false;
        state.run.stdin_once = false;
        // The base's triggers run here and are not inherited.
        let triggers = state.run.on_build.take().unwrap_or_default();
        if !triggers.is_empty() {
            let word = if triggers.len() > 1 {
                "triggers"
            } else {
                "trigger"
            };
            self.out
                .line(format!("# Executing {} build {word}\n", triggers.len()))?;
        }
        for trigger in triggers {
            let instruction = berth_build::instructions::parse_trigger(&trigger, self.escape)?;
            self.dispatch(&mut state, &instruction)?;
        }
        Ok(state)
    }

    /// One instruction.
    fn dispatch(&mut self, state: &mut State, i: &Instruction) -> Result<(), BuildError> {
        match &i.command {
            Command::From { .. } => Err(BuildError::Invalid(
                "FROM isn't allowed as an ONBUILD trigger".into(),
            )),
            Command::Run(cmd) => self.dispatch_run(state, cmd),
            Command::Cmd(cmd) => {
                let cmd = self.resolve_cmd(state, cmd);
                state.run.cmd = Some(cmd.clone());
                self.commit_config(state, &format!("CMD {}", go_quote_list(&cmd)))?;
                if !cmd.is_empty() {
                    state.cmd_set = true;
                }
                Ok(())
            }
            Command::Entrypoint(cmd) => {
                let cmd = self.resolve_cmd(state, cmd);
                state.run.entrypoint = Some(cmd.clone());
                if !state.cmd_set {
                    state.run.cmd = None;
                }
                self.commit_config(state, &format!("ENTRYPOINT {}", go_quote_list(&cmd)))
            }
            Command::Env(pairs) => {
                let mut expanded = Vec::new();
                for (k, v) in pairs {
                    expanded.push((self.word(state, k)?, self.word(state, v)?));
                }
                let env = state.run.env.get_or_insert_with(Vec::new);
                let mut comment = String::from("ENV");
                for (k, v) in expanded {
                    let entry = format!("{k}={v}");
                    comment.push(' ');
                    comment.push_str(&entry);
                    match env.iter_mut().find(|e| key_of(e) == k) {
                        Some(e) => *e = entry,
                        None => env.push(entry),
                    }
                }
                self.commit_config(state, &comment)
            }
            Command::Label(pairs) => {
                let mut comment = String::from("LABEL");
                for (k, v) in pairs {
                    let (k, v) = (self.word(state, k)?, self.word(state, v)?);
                    comment.push_str(&format!(" {k}={v}"));
                    state
                        .run
                        .labels
                        .get_or_insert_with(BTreeMap::new)
                        .insert(k, v);
                }
                self.commit_config(state, &comment)
            }
            Command::Arg(args) => {
                let mut comment = String::from("ARG ");
                for (n, (k, v)) in args.iter().enumerate() {
                    let v = match v {
                        Some(v) => Some(self.word(state, v)?),
                        None => None,
                    };
                    if n > 0 {
                        comment.push(' ');
                    }
                    comment.push_str(k);
                    if let Some(v) = &v {
                        comment.push('=');
                        comment.push_str(v);
                    }
                    self.referenced.insert(k.clone());
                    state.args.insert(k.clone(), v);
                }
                self.commit_config(state, &comment)
            }
            Command::Expose(ports) => {
                let mut written = Vec::new();
                for p in ports {
                    let p = self.word(state, p)?;
                    for port in parse_ports(&p)? {
                        state
                            .run
                            .exposed_ports
                            .get_or_insert_with(BTreeMap::new)
                            .insert(port, Empty {});
                    }
                    written.push(p);
                }
                // dockerd sorts them (`parseExpose`).
                written.sort();
                self.commit_config(state, &format!("EXPOSE {}", written.join(" ")))
            }
            Command::Volume(volumes) => {
                let mut list = Vec::new();
                for v in volumes {
                    let v = self.word(state, v)?;
                    if v.is_empty() {
                        return Err(BuildError::Invalid(
                            "VOLUME specified can not be an empty string".into(),
                        ));
                    }
                    state
                        .run
                        .volumes
                        .get_or_insert_with(BTreeMap::new)
                        .insert(v.clone(), Empty {});
                    list.push(v);
                }
                self.commit_config(state, &format!("VOLUME [{}]", list.join(" ")))
            }
            Command::Workdir(dir) => {
                let dir = self.word(state, dir)?;
                let current = if state.run.working_dir.is_empty() {
                    "/".to_string()
                } else {
                    state.run.working_dir.clone()
                };
                state.run.working_dir = workdir(&current, &dir);
                self.dispatch_workdir(state)
            }
            Command::User(user) => {
                let user = self.word(state, user)?;
                state.run.user = user.clone();
                self.commit_config(state, &format!("USER {user}"))
            }
            Command::StopSignal(sig) => {
                let sig = self.word(state, sig)?;
                crate::containers::stop::parse_signal(&sig)
                    .map_err(|_| BuildError::Invalid(format!("Invalid signal: {sig}")))?;
                state.run.stop_signal = sig.clone();
                self.commit_config(state, &format!("STOPSIGNAL {sig}"))
            }
            Command::Maintainer(who) => {
                state.maintainer = Some(who.clone());
                self.commit_config(state, &format!("MAINTAINER {who}"))
            }
            Command::Healthcheck(h) => {
                if let Some(old) = &state.run.healthcheck
                    && old.test.first().is_some_and(|t| t != "NONE")
                {
                    self.out.line(format!(
                        "Note: overriding previous HEALTHCHECK: [{}]\n",
                        old.test.join(" ")
                    ))?;
                }
                let Healthcheck {
                    test,
                    interval,
                    timeout,
                    start_period,
                    retries,
                } = h.clone();
                let comment = format!(
                    "HEALTHCHECK &{{{} {} {} {} {}}}",
                    go_quote_list(&test),
                    go_quote(&format_go_duration(interval)),
                    go_quote(&format_go_duration(timeout)),
                    go_quote(&format_go_duration(start_period)),
                    go_quote_rune(retries)
                );
                state.run.healthcheck = Some(HealthConfig {
                    test,
                    interval,
                    timeout,
                    start_period,
                    retries,
                    ..Default::default()
                });
                self.commit_config(state, &comment)
            }
            Command::Shell(shell) => {
                state.run.shell = Some(shell.clone());
                self.commit_config(state, &format!("SHELL [{}]", shell.join(" ")))
            }
            Command::OnBuild(expression) => {
                state
                    .run
                    .on_build
                    .get_or_insert_with(Vec::new)
                    .push(expression.clone());
                self.commit_config(state, &format!("ONBUILD {expression}"))
            }
            Command::Copy {
                sources,
                dest,
                from,
                chown,
            } => self.dispatch_copy(
                state,
                "COPY",
                sources,
                dest,
                from.as_deref(),
                chown.as_deref(),
            ),
            Command::Add {
                sources,
                dest,
                chown,
            } => self.dispatch_copy(state, "ADD", sources, dest, None, chown.as_deref()),
        }
    }

    /// The command of `CMD`/`ENTRYPOINT`/`RUN`: exec form as is, shell
    /// form through the stage's shell.
    pub(crate) fn resolve_cmd(&self, state: &State, cmd: &ShellOrExec) -> Vec<String> {
        match cmd {
            ShellOrExec::Exec(list) => list.clone(),
            ShellOrExec::Shell(line) => {
                let mut c = state.shell();
                c.push(line.clone());
                c
            }
        }
    }

    /// A step that only changes the config: a cache hit, or a new image
    /// with the same layers, committed from an intermediate container that
    /// never runs (as dockerd does; on scratch there is nothing to make one
    /// from).
    fn commit_config(&mut self, state: &mut State, comment: &str) -> Result<(), BuildError> {
        let probe = state.nop(comment);
        if self.probe_cache(state, &probe)? {
            return Ok(());
        }
        let container = self.intermediate(state, probe.clone())?;
        let id = self.commit_step(state, &probe, None, container.as_deref())?;
        if let Some(c) = &container {
            self.step_done(c);
        }
        self.advance(state, &id)
    }

    /// Makes the intermediate container of a step from the current image
    /// with `config` and the build's host config, and says so; `None` on
    /// scratch.
    pub(crate) fn intermediate(
        &mut self,
        state: &State,
        mut config: ContainerConfig,
    ) -> Result<Option<String>, BuildError> {
        let Some(image) = &state.image else {
            return Ok(None);
        };
        config.image = image.id.to_string();
        config.attach_stdout = true;
        config.attach_stderr = true;
        config.attach_stdin = false;
        config.open_stdin = false;
        config.tty = false;
        let mut host = self.options.host_config.clone();
        host.auto_remove = false;
        let created = self.engine.create_container(
            None,
            berth_models::container::CreateRequest {
                config,
                host_config: Some(host),
                networking_config: None,
            },
        )?;
        let id = created.id;
        self.containers.push(id.clone());
        self.out
            .line(format!(" ---> Running in {}\n", &id[..id.len().min(12)]))?;
        Ok(Some(id))
    }

    /// A step succeeded: its container goes (`rm`, the default).
    pub(crate) fn step_done(&mut self, container: &str) {
        if self.options.remove || self.options.force_remove {
            self.remove_container(container);
        }
    }

    /// Looks for a cached image of this step; on a hit the state moves
    /// onto it.
    pub(crate) fn probe_cache(
        &mut self,
        state: &mut State,
        probe: &ContainerConfig,
    ) -> Result<bool, BuildError> {
        match self.cache.probe(self.engine, state.image_id(), probe)? {
            Some(id) => {
                self.out.line(" ---> Using cache\n")?;
                self.advance(state, &id)?;
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_formats() {
        assert_eq!(
            go_quote_list(&["/bin/sh".into(), "-c".into(), "echo \"hi\"".into()]),
            r#"["/bin/sh" "-c" "echo \"hi\""]"#
        );
        assert_eq!(go_quote_rune(3), "'\\x03'");
        assert_eq!(go_quote_rune(65), "'A'");
    }

    #[test]
    fn ports_and_workdirs() {
        assert_eq!(parse_ports("80").unwrap(), ["80/tcp"]);
        assert_eq!(parse_ports("53/UDP").unwrap(), ["53/udp"]);
        assert_eq!(
            parse_ports("8000-8002").unwrap(),
            ["8000/tcp", "8001/tcp", "8002/tcp"]
        );
        assert!(parse_ports("http").is_err());
        assert_eq!(workdir("/", "app"), "/app");
        assert_eq!(workdir("/app", "src/../lib"), "/app/lib");
        assert_eq!(workdir("/app", "/abs"), "/abs");
    }
}
