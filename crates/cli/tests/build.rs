//! `berth build` and `DOCKER_BUILDKIT=0 docker build` side by side against
//! one daemon (a private dockerd by default, berthd with
//! `BERTH_CLI_TEST_DAEMON=berthd`): the same output (ids masked), the same
//! exit codes and errors, and the same context sent — `.dockerignore`
//! applied with its exceptions, a Dockerfile from outside the context, a
//! Dockerfile on stdin — as the files the images end up with show. Root
//! only; everything made is removed.

mod support;

use std::path::Path;

use support::{Checks, Client, Engine, Out};

const TEST: &str = "berth_build_matches_docker_build";

/// Ids masked, docker's deprecation banner dropped, docker's name for the
/// daemon as berth says it.
fn norm(s: &str) -> String {
    let mut out = String::new();
    for line in s.lines() {
        if line.contains("DEPRECATED: The legacy builder")
            || line.contains("BuildKit is currently disabled")
            || line.trim() == "environment-variable."
            || line.is_empty()
        {
            continue;
        }
        let mut run = String::new();
        let mut masked = String::new();
        for c in line.replace("Docker daemon", "Berth daemon").chars() {
            if c.is_ascii_hexdigit() && !c.is_ascii_uppercase() {
                run.push(c);
                continue;
            }
            if run.len() == 12 || run.len() == 64 {
                masked.push_str("<id>");
            } else {
                masked.push_str(&run);
            }
            run.clear();
            masked.push(c);
        }
        if run.len() == 12 || run.len() == 64 {
            masked.push_str("<id>");
        } else {
            masked.push_str(&run);
        }
        let line = masked
            .replace("-docker:", "-X:")
            .replace("-berth:", "-X:")
            .replace("docker: 'docker ", "berth: 'berth ")
            .replace("Usage:  docker ", "Usage:  berth ")
            .replace("Run 'docker ", "Run 'berth ");
        out.push_str(&line);
        out.push('\n');
    }
    out
}

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (name, content) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
}

struct Pair<'a> {
    berth: &'a Client,
    docker: &'a Client,
}

impl Pair<'_> {
    /// `build ARGS…` through both (tags `NAME-docker`/`NAME-berth`).
    fn build(&self, c: &mut Checks, what: &str, args: &[&str], stdin: Option<&[u8]>) -> (Out, Out) {
        self.build_sized(c, what, args, stdin, true)
    }

    /// [`Pair::build`], the context's size compared or not.
    fn build_sized(
        &self,
        c: &mut Checks,
        what: &str,
        args: &[&str],
        stdin: Option<&[u8]>,
        sizes: bool,
    ) -> (Out, Out) {
        let norm = |s: &str| {
            let text = norm(s);
            if sizes {
                return text;
            }
            text.lines()
                .map(|l| match l.split_once("daemon ") {
                    Some((head, _)) if l.starts_with("Sending build context") => {
                        format!("{head}daemon <size>")
                    }
                    _ => l.to_string(),
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        let run = |client: &Client, side: &str| {
            let args: Vec<String> = args.iter().map(|a| a.replace("{side}", side)).collect();
            let mut all = vec!["build"];
            all.extend(args.iter().map(String::as_str));
            match stdin {
                Some(input) => client.run_stdin(&all, input),
                None => client.run(&all),
            }
        };
        let d = run(self.docker, "docker");
        let b = run(self.berth, "berth");
        let same = d.code == b.code
            && norm(&d.stdout) == norm(&b.stdout)
            && norm(&d.stderr) == norm(&b.stderr);
        c.check(
            &format!("build: {what}"),
            same,
            format!("docker:\n{}\nberth:\n{}", d.describe(), b.describe()),
        );
        (d, b)
    }

    /// The same command's stdout from both sides' images.
    fn same_run(&self, c: &mut Checks, what: &str, image: &str, cmd: &[&str]) {
        let run = |side: &str| {
            let image = image.replace("{side}", side);
            let mut all = vec!["run", "--rm", image.as_str()];
            all.extend_from_slice(cmd);
            self.docker.run(&all)
        };
        let (d, b) = (run("docker"), run("berth"));
        c.check(
            &format!("files: {what}"),
            d.code == 0 && d.stdout == b.stdout,
            format!(
                "docker's image:\n{}\nberth's image:\n{}",
                d.describe(),
                b.describe()
            ),
        );
    }
}

#[test]
fn berth_build_matches_docker_build() {
    let Some(engine) = Engine::from_env(TEST, &[]) else {
        return;
    };
    let dir = engine.scratch();
    let host = engine.host();
    let berth = Client::berth(&host, &dir.join("berth-config"));
    let mut docker = Client::docker(&host, &dir.join("docker-config"));
    docker.env.push(("DOCKER_BUILDKIT".into(), "0".into()));
    let tar = berth_testutil::busybox_tarball(&dir);
    let imported = docker.run(&["import", tar.to_str().unwrap(), "busybox:latest"]);
    assert_eq!(imported.code, 0, "{}", imported.describe());
    let pair = Pair {
        berth: &berth,
        docker: &docker,
    };
    let mut c = Checks::default();

    // A context with .dockerignore (exceptions, the Dockerfile listed).
    let ctx = dir.join("ctx");
    write(
        &ctx,
        &[
            (
                "Dockerfile",
                "FROM busybox\nARG WHO\nCOPY . /ctx\nRUN echo \"by $WHO\"\nLABEL x=y\n",
            ),
            (
                ".dockerignore",
                "# comment\nignored\n!ignored/sub/kept\nDockerfile\n*.log\n",
            ),
            ("a.txt", "a\n"),
            ("b.log", "b\n"),
            ("ignored/x", "x\n"),
            ("ignored/sub/kept", "k\n"),
            ("sub/deep/c", "c\n"),
        ],
    );
    let ctx_s = ctx.to_str().unwrap();
    pair.build(
        &mut c,
        "a directory with .dockerignore",
        &[
            "--no-cache",
            "--build-arg",
            "WHO=me",
            "--label",
            "k=v",
            "-t",
            "ctx-{side}",
            ctx_s,
        ],
        None,
    );
    pair.same_run(&mut c, "the context sent", "ctx-{side}", &["find", "/ctx"]);
    pair.build(
        &mut c,
        "quiet",
        &["-q", "--no-cache", "-t", "ctx-{side}", ctx_s],
        None,
    );

    // A Dockerfile outside the context (`-f`).
    let outside = dir.join("outside.Dockerfile");
    std::fs::write(&outside, "FROM busybox\nCOPY . /ctx\n").unwrap();
    // (docker's tar of it stops short of its last padding: the sizes
    // differ.)
    pair.build_sized(
        &mut c,
        "-f outside the context",
        &[
            "--no-cache",
            "-f",
            outside.to_str().unwrap(),
            "-t",
            "out-{side}",
            ctx_s,
        ],
        None,
        false,
    );
    pair.same_run(
        &mut c,
        "-f outside the context",
        "out-{side}",
        &["find", "/ctx"],
    );

    // A Dockerfile on stdin.
    pair.build(
        &mut c,
        "a Dockerfile on stdin",
        &["--no-cache", "-t", "stdin-{side}", "-"],
        Some(b"FROM busybox\nRUN echo from stdin\n"),
    );

    // Failures: a RUN's exit code, a bad Dockerfile, a missing context.
    let bad = dir.join("bad");
    write(
        &bad,
        &[("Dockerfile", "FROM busybox\nRUN echo out; exit 7\n")],
    );
    let (d, _) = pair.build(
        &mut c,
        "a failing RUN",
        &["--no-cache", bad.to_str().unwrap()],
        None,
    );
    c.check(
        "a failing RUN exits with its code",
        d.code == 7,
        d.describe(),
    );
    write(&bad, &[("Dockerfile", "FROM busybox\nNOPE x\n")]);
    pair.build(
        &mut c,
        "an unknown instruction",
        &[bad.to_str().unwrap()],
        None,
    );
    pair.build(
        &mut c,
        "a missing context",
        &["/nonexistent-berth-context"],
        None,
    );
    pair.build(&mut c, "no context", &[], None);

    for side in ["docker", "berth"] {
        for image in ["ctx", "out", "stdin"] {
            docker.run(&["rmi", &format!("{image}-{side}")]);
        }
    }
    docker.run(&["container", "prune", "-f"]);
    docker.run(&["image", "prune", "-f"]);
    docker.run(&["rmi", "busybox:latest"]);
    let log = engine.log();
    let leaks = engine.shutdown();
    c.check(
        "nothing left behind",
        leaks.is_empty(),
        format!("{leaks:?}"),
    );
    c.finish(TEST, &log);
}
