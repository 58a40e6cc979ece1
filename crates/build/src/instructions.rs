//! The second pass: each logical line ([`crate::parser::Node`]) becomes a
//! typed [`Command`], grouped into build stages, with dockerd 20.10's
//! checks and messages (`dockerfile parse error line N: …`).
//!
//! Arguments stay as written (unexpanded): `$VAR`s in `ENV`, `COPY`,
//! `WORKDIR`… are expanded by the executor at the step, against the
//! environment and build args of that moment ([`crate::expand`]).

use crate::parser::{self, Node};

/// A Dockerfile that cannot be built, in dockerd's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
pub struct ParseError {
    /// The line it is about; `None` for file-wide errors.
    pub line: Option<usize>,
    pub message: String,
}

impl ParseError {
    pub fn new(line: usize, message: impl Into<String>) -> ParseError {
        ParseError {
            line: Some(line),
            message: message.into(),
        }
    }

    fn plain(message: impl Into<String>) -> ParseError {
        ParseError {
            line: None,
            message: message.into(),
        }
    }

    fn render(&self) -> String {
        match self.line {
            Some(l) => format!("dockerfile parse error line {l}: {}", self.message),
            None => self.message.clone(),
        }
    }
}

/// `RUN`, `CMD`, `ENTRYPOINT`: a JSON array or a string for the shell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShellOrExec {
    Shell(String),
    Exec(Vec<String>),
}

/// `HEALTHCHECK` (durations in nanoseconds; `test` is `["NONE"]` for
/// `HEALTHCHECK NONE`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Healthcheck {
    pub test: Vec<String>,
    pub interval: i64,
    pub timeout: i64,
    pub start_period: i64,
    pub retries: i64,
}

/// One instruction's meaning, arguments unexpanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    From {
        image: String,
        name: Option<String>,
        platform: Option<String>,
    },
    Run(ShellOrExec),
    Cmd(ShellOrExec),
    Entrypoint(ShellOrExec),
    Env(Vec<(String, String)>),
    Label(Vec<(String, String)>),
    Arg(Vec<(String, Option<String>)>),
    Expose(Vec<String>),
    Volume(Vec<String>),
    Workdir(String),
    User(String),
    StopSignal(String),
    Maintainer(String),
    Healthcheck(Healthcheck),
    Shell(Vec<String>),
    /// The trigger, as written after `ONBUILD`.
    OnBuild(String),
    Copy {
        sources: Vec<String>,
        dest: String,
        from: Option<String>,
        chown: Option<String>,
    },
    Add {
        sources: Vec<String>,
        dest: String,
        chown: Option<String>,
    },
}

/// A parsed instruction and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    pub line: usize,
    /// As written (continuations joined): what `Step N/M :` shows.
    pub original: String,
    pub command: Command,
}

/// `FROM … [AS name]` and what follows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    /// The base image as written (may hold `$ARG`s).
    pub base: String,
    /// The stage name, lower case.
    pub name: Option<String>,
    pub platform: Option<String>,
    /// The `FROM` line as written.
    pub original: String,
    pub line: usize,
    pub commands: Vec<Instruction>,
}

/// A whole Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dockerfile {
    pub escape: char,
    /// `ARG`s before the first `FROM`.
    pub meta_args: Vec<Instruction>,
    pub stages: Vec<Stage>,
}

/// Parses a Dockerfile.
pub fn parse(text: &str) -> Result<Dockerfile, ParseError> {
    // What the first pass finds is "failed to parse Dockerfile: …" in
    // dockerd's words; the instructions' own errors are not.
    let first_pass = |e: ParseError| ParseError {
        line: None,
        message: format!("failed to parse Dockerfile: {e}"),
    };
    let parsed = parser::parse(text).map_err(first_pass)?;
    if parsed.nodes.is_empty() {
        return Err(first_pass(ParseError::plain("file with no instructions")));
    }
    let mut meta_args = Vec::new();
    let mut stages: Vec<Stage> = Vec::new();
    for node in &parsed.nodes {
        let command = parse_node(node, parsed.escape)
            .map_err(|message| ParseError::new(node.start_line, message))?;
        let instruction = Instruction {
            line: node.start_line,
            original: node.original.clone(),
            command,
        };
        match instruction.command {
            Command::From {
                image,
                name,
                platform,
            } => stages.push(Stage {
                base: image,
                name,
                platform,
                original: instruction.original,
                line: instruction.line,
                commands: Vec::new(),
            }),
            Command::Arg(_) if stages.is_empty() => meta_args.push(instruction),
            _ => match stages.last_mut() {
                Some(stage) => stage.commands.push(instruction),
                None => return Err(ParseError::plain("no build stage in current context")),
            },
        }
    }
    Ok(Dockerfile {
        escape: parsed.escape,
        meta_args,
        stages,
    })
}

/// Parses one trigger of `ONBUILD` (a line without the `ONBUILD`).
pub fn parse_trigger(text: &str, escape: char) -> Result<Instruction, ParseError> {
    let parsed = parser::parse(&format!("# escape={escape}\n{text}"))?;
    let node = parsed
        .nodes
        .first()
        .ok_or_else(|| ParseError::plain("empty ONBUILD trigger"))?;
    let command =
        parse_node(node, escape).map_err(|message| ParseError::new(node.start_line, message))?;
    Ok(Instruction {
        line: node.start_line,
        original: node.original.clone(),
        command,
    })
}

/// The flags an instruction takes; `--name=value` (or a bare `--name`).
struct Flags {
    values: Vec<(String, Option<String>)>,
}

impl Flags {
    fn parse(raw: &[String], allowed: &[&str], instruction: &str) -> Result<Flags, String> {
        let mut values = Vec::new();
        for f in raw {
            let body = &f[2..];
            let (name, value) = match body.split_once('=') {
                Some((n, v)) => (n.to_string(), Some(v.to_string())),
                None => (body.to_string(), None),
            };
            if matches!(name.as_str(), "mount" | "network" | "security" | "chmod")
                && !allowed.contains(&name.as_str())
            {
                return Err(format!(
                    "the --{name} option requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled"
                ));
            }
            if !allowed.contains(&name.as_str()) {
                let _ = instruction;
                return Err(format!("Unknown flag: {name}"));
            }
            if value.is_none() {
                return Err(format!("Missing a value on flag: --{name}"));
            }
            values.push((name, value));
        }
        Ok(Flags { values })
    }

    fn get(&self, name: &str) -> Option<String> {
        self.values
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.clone())
    }
}

fn parse_node(node: &Node, escape: char) -> Result<Command, String> {
    let name = node.cmd.to_ascii_uppercase();
    let rest = node.rest.trim();
    let no_flags = |node: &Node| Flags::parse(&node.flags, &[], &name).map(|_| ());
    let at_least_one = || format!("{name} requires at least one argument");
    let exactly_one = || format!("{name} requires exactly one argument");
    Ok(match node.cmd.as_str() {
        "from" => {
            let flags = Flags::parse(&node.flags, &["platform"], &name)?;
            let args: Vec<&str> = rest.split_whitespace().collect();
            let (image, stage) = match args.as_slice() {
                [image] => (*image, None),
                [image, kw, stage] if kw.eq_ignore_ascii_case("as") => {
                    let stage = stage.to_ascii_lowercase();
                    if !valid_stage_name(&stage) {
                        return Err(format!(
                            "invalid name for build stage: \"{stage}\", name can't start with a number or contain symbols"
                        ));
                    }
                    (*image, Some(stage))
                }
                [_, _, _] => {
                    return Err("FROM requires either one or three arguments".into());
                }
                _ => return Err("FROM requires either one or three arguments".into()),
            };
            Command::From {
                image: image.to_string(),
                name: stage,
                platform: flags.get("platform"),
            }
        }
        "run" => {
            no_flags(node)?;
            Command::Run(shell_or_exec(rest))
        }
        "cmd" => {
            no_flags(node)?;
            Command::Cmd(shell_or_exec(rest))
        }
        "entrypoint" => {
            no_flags(node)?;
            Command::Entrypoint(shell_or_exec(rest))
        }
        "env" => {
            no_flags(node)?;
            if rest.is_empty() {
                return Err(at_least_one());
            }
            Command::Env(name_values(rest, &name, escape)?)
        }
        "label" => {
            no_flags(node)?;
            if rest.is_empty() {
                return Err(at_least_one());
            }
            Command::Label(name_values(rest, &name, escape)?)
        }
        "maintainer" => {
            no_flags(node)?;
            if rest.is_empty() {
                return Err(exactly_one());
            }
            Command::Maintainer(rest.to_string())
        }
        "arg" => {
            no_flags(node)?;
            let words = parse_words(rest, escape);
            if words.is_empty() {
                return Err(at_least_one());
            }
            Command::Arg(
                words
                    .into_iter()
                    .map(|w| match w.split_once('=') {
                        Some((k, v)) => (k.to_string(), Some(v.to_string())),
                        None => (w, None),
                    })
                    .collect(),
            )
        }
        "expose" => {
            no_flags(node)?;
            let ports: Vec<String> = rest.split_whitespace().map(String::from).collect();
            if ports.is_empty() {
                return Err(at_least_one());
            }
            Command::Expose(ports)
        }
        "volume" => {
            no_flags(node)?;
            let list = json_or_words(rest);
            if list.is_empty() {
                return Err(at_least_one());
            }
            if list.iter().any(|v| v.trim().is_empty()) {
                return Err("VOLUME specified can not be an empty string".into());
            }
            Command::Volume(list)
        }
        "workdir" => {
            no_flags(node)?;
            if rest.is_empty() {
                return Err(exactly_one());
            }
            Command::Workdir(rest.to_string())
        }
        "user" => {
            no_flags(node)?;
            if rest.is_empty() {
                return Err(exactly_one());
            }
            Command::User(rest.to_string())
        }
        "stopsignal" => {
            no_flags(node)?;
            if rest.is_empty() {
                return Err(exactly_one());
            }
            Command::StopSignal(rest.to_string())
        }
        "shell" => {
            no_flags(node)?;
            match json_array(rest) {
                Some(list) if !list.is_empty() => Command::Shell(list),
                Some(_) => return Err(at_least_one()),
                None => return Err("SHELL requires the arguments to be in JSON form".into()),
            }
        }
        "healthcheck" => {
            let flags = Flags::parse(
                &node.flags,
                &["interval", "timeout", "start-period", "retries"],
                &name,
            )?;
            Command::Healthcheck(healthcheck(rest, &flags)?)
        }
        "onbuild" => {
            no_flags(node)?;
            if rest.is_empty() {
                return Err(at_least_one());
            }
            let trigger = rest
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_ascii_uppercase();
            match trigger.as_str() {
                "ONBUILD" => {
                    return Err("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed".into());
                }
                "FROM" | "MAINTAINER" => {
                    return Err(format!("{trigger} isn't allowed as an ONBUILD trigger"));
                }
                _ => {}
            }
            Command::OnBuild(rest.to_string())
        }
        "copy" | "add" => {
            let allowed: &[&str] = if node.cmd == "copy" {
                &["from", "chown"]
            } else {
                &["chown"]
            };
            let flags = Flags::parse(&node.flags, allowed, &name)?;
            let mut list = json_or_words(rest);
            if list.len() < 2 {
                return Err(format!(
                    "{name} requires at least two arguments, but only one was provided. Destination could not be determined"
                ));
            }
            let dest = list.pop().unwrap_or_default();
            if node.cmd == "copy" {
                Command::Copy {
                    sources: list,
                    dest,
                    from: flags.get("from"),
                    chown: flags.get("chown"),
                }
            } else {
                Command::Add {
                    sources: list,
                    dest,
                    chown: flags.get("chown"),
                }
            }
        }
        other => {
            return Err(format!(
                "unknown instruction: {}",
                other.to_ascii_uppercase()
            ));
        }
    })
}

fn valid_stage_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c))
}

fn json_array(rest: &str) -> Option<Vec<String>> {
    if !rest.starts_with('[') {
        return None;
    }
    serde_json::from_str(rest).ok()
}

fn shell_or_exec(rest: &str) -> ShellOrExec {
    match json_array(rest) {
        Some(list) => ShellOrExec::Exec(list),
        None => ShellOrExec::Shell(rest.to_string()),
    }
}

fn json_or_words(rest: &str) -> Vec<String> {
    json_array(rest).unwrap_or_else(|| rest.split_whitespace().map(String::from).collect())
}

/// `ENV`/`LABEL` pairs: `k=v k2="v 2"` (quotes kept for the expansion to
/// remove) or the legacy `KEY value with spaces`.
fn name_values(rest: &str, name: &str, escape: char) -> Result<Vec<(String, String)>, String> {
    let words = parse_words(rest, escape);
    let Some(first) = words.first() else {
        return Err(format!("{name} requires at least one argument"));
    };
    if !first.contains('=') {
        let Some((k, v)) = rest.split_once(char::is_whitespace) else {
            return Err(format!("{name} must have two arguments"));
        };
        return Ok(vec![(k.to_string(), v.trim_start().to_string())]);
    }
    words
        .into_iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) => Ok((k.to_string(), v.to_string())),
            None => Err(format!(
                "Syntax error - can't find = in \"{w}\". Must be of the form: name=value"
            )),
        })
        .collect()
}

/// BuildKit's `parseWords`: whitespace-separated words, quotes and escapes
/// kept, a quoted empty word kept.
pub fn parse_words(rest: &str, escape: char) -> Vec<String> {
    let chars: Vec<char> = rest.chars().collect();
    let mut words = Vec::new();
    let mut word = String::new();
    let mut blank_ok = false;
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if let Some(q) = quote {
            if c == q {
                quote = None;
            } else if c == escape && q != '\'' {
                if i + 1 == chars.len() {
                    i += 1;
                    continue;
                }
                word.push(c);
                i += 1;
            }
            word.push(chars[i]);
            i += 1;
            continue;
        }
        if !in_word {
            if c.is_whitespace() {
                i += 1;
                continue;
            }
            in_word = true;
        }
        if c.is_whitespace() {
            if blank_ok || !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            blank_ok = false;
            in_word = false;
            i += 1;
            continue;
        }
        if c == '\'' || c == '"' {
            quote = Some(c);
            blank_ok = true;
        }
        if c == escape {
            if i + 1 == chars.len() {
                i += 1;
                continue;
            }
            word.push(c);
            i += 1;
        }
        word.push(chars[i]);
        i += 1;
    }
    if in_word && (blank_ok || !word.is_empty()) {
        words.push(word);
    }
    words
}

fn healthcheck(rest: &str, flags: &Flags) -> Result<Healthcheck, String> {
    let (kind, args) = match rest.split_once(char::is_whitespace) {
        Some((k, a)) => (k, a.trim()),
        None => (rest, ""),
    };
    let kind = kind.to_ascii_uppercase();
    if kind == "NONE" {
        if !args.is_empty() {
            return Err("HEALTHCHECK NONE takes no arguments".into());
        }
        return Ok(Healthcheck {
            test: vec!["NONE".into()],
            ..Default::default()
        });
    }
    if kind != "CMD" {
        return Err(format!("Unknown type \"{kind}\" in HEALTHCHECK (try CMD)"));
    }
    let test = match shell_or_exec(args) {
        ShellOrExec::Exec(list) => std::iter::once("CMD".to_string()).chain(list).collect(),
        ShellOrExec::Shell(s) => vec!["CMD-SHELL".to_string(), s],
    };
    let duration = |name: &str| -> Result<i64, String> {
        match flags.get(name) {
            None => Ok(0),
            Some(v) => {
                let d = berth_models::duration::parse_go_duration(&v)
                    .map_err(|_| format!("time: invalid duration \"{v}\""))?;
                if d != 0 && d < 1_000_000 {
                    return Err(format!("Interval \"{name}\" cannot be less than 1ms"));
                }
                Ok(d)
            }
        }
    };
    let retries = match flags.get("retries") {
        None => 0,
        Some(v) => {
            let n: i64 = v
                .parse()
                .map_err(|_| format!("strconv.ParseInt: parsing \"{v}\": invalid syntax"))?;
            if n < 1 {
                return Err(format!("--retries must be at least 1 (not {n})"));
            }
            n
        }
    };
    Ok(Healthcheck {
        test,
        interval: duration("interval")?,
        timeout: duration("timeout")?,
        start_period: duration("start-period")?,
        retries,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_and_meta_args() {
        let df = parse(
            "ARG TAG=latest\nFROM --platform=linux/amd64 busybox:$TAG AS Build\nRUN make\nFROM scratch\nCOPY --from=build /out /\n",
        )
        .unwrap();
        assert_eq!(df.meta_args.len(), 1);
        assert_eq!(df.stages.len(), 2);
        assert_eq!(df.stages[0].name.as_deref(), Some("build"));
        assert_eq!(df.stages[0].platform.as_deref(), Some("linux/amd64"));
        assert_eq!(df.stages[0].base, "busybox:$TAG");
        assert_eq!(
            df.stages[1].commands[0].command,
            Command::Copy {
                sources: vec!["/out".into()],
                dest: "/".into(),
                from: Some("build".into()),
                chown: None
            }
        );
    }

    #[test]
    fn forms_of_arguments() {
        let df = parse(concat!(
            "FROM x\n",
            "RUN [\"echo\", \"a b\"]\n",
            "RUN echo $HOME\n",
            "CMD [\"broken\"\n",
            "ENV A=1 B=\"two words\" C=three\\ words\n",
            "ENV LEGACY some value\n",
            "LABEL \"k v\"=x\n",
            "EXPOSE 80 53/udp\n",
            "VOLUME [\"/a\", \"/b\"]\n",
            "VOLUME /c /d\n",
            "HEALTHCHECK --interval=5s --retries=3 CMD curl -f x\n",
            "HEALTHCHECK NONE\n",
            "SHELL [\"/bin/bash\", \"-c\"]\n",
            "ONBUILD RUN echo hi\n",
            "ARG a b=2\n",
        ))
        .unwrap();
        let c: Vec<&Command> = df.stages[0].commands.iter().map(|i| &i.command).collect();
        assert_eq!(
            c[0],
            &Command::Run(ShellOrExec::Exec(vec!["echo".into(), "a b".into()]))
        );
        assert_eq!(c[1], &Command::Run(ShellOrExec::Shell("echo $HOME".into())));
        assert_eq!(
            c[2],
            &Command::Cmd(ShellOrExec::Shell("[\"broken\"".into()))
        );
        assert_eq!(
            c[3],
            &Command::Env(vec![
                ("A".into(), "1".into()),
                ("B".into(), "\"two words\"".into()),
                ("C".into(), "three\\ words".into()),
            ])
        );
        assert_eq!(
            c[4],
            &Command::Env(vec![("LEGACY".into(), "some value".into())])
        );
        assert_eq!(c[5], &Command::Label(vec![("\"k v\"".into(), "x".into())]));
        assert_eq!(c[6], &Command::Expose(vec!["80".into(), "53/udp".into()]));
        assert_eq!(c[7], &Command::Volume(vec!["/a".into(), "/b".into()]));
        assert_eq!(c[8], &Command::Volume(vec!["/c".into(), "/d".into()]));
        assert_eq!(
            c[9],
            &Command::Healthcheck(Healthcheck {
                test: vec!["CMD-SHELL".into(), "curl -f x".into()],
                interval: 5_000_000_000,
                retries: 3,
                ..Default::default()
            })
        );
        assert_eq!(
            c[10],
            &Command::Healthcheck(Healthcheck {
                test: vec!["NONE".into()],
                ..Default::default()
            })
        );
        assert_eq!(
            c[11],
            &Command::Shell(vec!["/bin/bash".into(), "-c".into()])
        );
        assert_eq!(c[12], &Command::OnBuild("RUN echo hi".into()));
        assert_eq!(
            c[13],
            &Command::Arg(vec![("a".into(), None), ("b".into(), Some("2".into()))])
        );
    }

    #[test]
    fn errors_in_dockerds_words() {
        let e = |s: &str| parse(s).unwrap_err().to_string();
        assert_eq!(
            e("FROM busybox\nFOO bar\n"),
            "dockerfile parse error line 2: unknown instruction: FOO"
        );
        assert_eq!(
            e(""),
            "failed to parse Dockerfile: file with no instructions"
        );
        assert_eq!(
            e("# only a comment\n\n"),
            "failed to parse Dockerfile: file with no instructions"
        );
        assert_eq!(e("RUN true\n"), "no build stage in current context");
        assert_eq!(
            e("FROM a b\n"),
            "dockerfile parse error line 1: FROM requires either one or three arguments"
        );
        assert_eq!(
            e("FROM x\nCOPY a\n"),
            "dockerfile parse error line 2: COPY requires at least two arguments, but only one was provided. Destination could not be determined"
        );
        assert_eq!(
            e("FROM x\nLABEL novalue\n"),
            "dockerfile parse error line 2: LABEL must have two arguments"
        );
        assert_eq!(
            e("FROM x\nENV A=1 B\n"),
            "dockerfile parse error line 2: Syntax error - can't find = in \"B\". Must be of the form: name=value"
        );
        assert_eq!(
            e("FROM x\nCOPY --bogus=1 a b\n"),
            "dockerfile parse error line 2: Unknown flag: bogus"
        );
        assert!(e("FROM x\nRUN --mount=type=cache true\n").contains("requires BuildKit"));
        assert_eq!(
            e("FROM x\nONBUILD ONBUILD RUN x\n"),
            "dockerfile parse error line 2: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"
        );
        assert_eq!(
            e("FROM x\nSHELL /bin/sh\n"),
            "dockerfile parse error line 2: SHELL requires the arguments to be in JSON form"
        );
        assert_eq!(
            e("FROM x AS 1st\n"),
            "dockerfile parse error line 1: invalid name for build stage: \"1st\", name can't start with a number or contain symbols"
        );
    }

    #[test]
    fn words_keep_quotes() {
        assert_eq!(
            parse_words(r#"a="b c" d='' e\ f"#, '\\'),
            ["a=\"b c\"", "d=''", "e\\ f"]
        );
    }

    #[test]
    fn onbuild_triggers() {
        let i = parse_trigger("COPY --from=a x /y", '\\').unwrap();
        assert!(matches!(i.command, Command::Copy { .. }));
    }
}
