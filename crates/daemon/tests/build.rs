//! The classic builder (`DOCKER_BUILDKIT=0 docker build`, `POST /build`)
//! on berthd and on a private dockerd 20.10, side by side, the same
//! busybox image imported into both: the same Dockerfiles give the same
//! CLI output (ids masked), the same image configs and histories (content
//! hashes masked: the two hash COPY sources differently), the same files
//! with the same owners and modes in the images, the same layer cache
//! hits, the same errors, exit codes and status codes, and the same JSON
//! stream. Then berthd alone: base images pulled from a local registry
//! (progress in the stream, `--pull`, a missing tag), and a client that
//! goes away mid-`RUN` stopping the build. Root only (a loud SKIP
//! otherwise); everything made is removed.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use berth_testutil::berthd::http_request;
use berth_testutil::dockerd::Dockerd;
use support::*;

const TEST: &str = "classic_build_side_by_side";

/// Makes a docker CLI command against one daemon.
type Cli<'a> = Box<dyn Fn(&[&str]) -> Command + 'a>;

/// One daemon as the tests reach it.
struct Side<'a> {
    name: &'static str,
    cli: Cli<'a>,
    socket: PathBuf,
}

impl Side<'_> {
    fn docker(&self, args: &[&str]) -> Output {
        let mut cmd = (self.cli)(args);
        cmd.env("DOCKER_BUILDKIT", "0")
            .env("DOCKER_CLI_HINTS", "false")
            .output()
            .expect("run the docker CLI")
    }

    fn build(&self, ctx: &Path, args: &[&str]) -> Output {
        let mut all = vec!["build"];
        all.extend_from_slice(args);
        let ctx = ctx.to_str().expect("utf-8 path");
        all.push(ctx);
        self.docker(&all)
    }

    /// `POST /v1.41{path}` with `body`: status and body.
    fn api(&self, method: &str, path: &str, body: Option<&[u8]>) -> (u16, Vec<u8>) {
        let mut stream = std::os::unix::net::UnixStream::connect(&self.socket).expect("connect");
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(120)))
            .unwrap();
        let r = http_request(&mut stream, method, &format!("/v1.41{path}"), &[], body)
            .unwrap_or_else(|| panic!("{}: no answer to {method} {path}", self.name));
        (r.status, r.body)
    }

    fn inspect(&self, image: &str) -> serde_json::Value {
        let (status, body) = self.api("GET", &format!("/images/{image}/json"), None);
        assert_eq!(status, 200, "{}: inspect {image}", self.name);
        serde_json::from_slice(&body).unwrap()
    }
}

/// Hex ids (12 or 64 digits) masked, the CLI's deprecation banner and
/// the daemon's name dropped.
fn normalize(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        if line.contains("DEPRECATED: The legacy builder")
            || line.contains("BuildKit is currently disabled")
            || line.trim() == "environment-variable."
        {
            continue;
        }
        out.push_str(&mask_hex(line));
        out.push('\n');
    }
    out
}

fn mask_hex(line: &str) -> String {
    let mut out = String::new();
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() == 12 || run.len() == 64 {
            out.push_str("<id>");
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in line.chars() {
        if c.is_ascii_hexdigit() && !c.is_ascii_uppercase() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

fn describe(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}stderr:\n{}",
        out.status.code(),
        normalize(&String::from_utf8_lossy(&out.stdout)),
        normalize(&String::from_utf8_lossy(&out.stderr))
    )
}

/// The same build on both sides gives the same output; the berthd one.
#[track_caller]
fn same_build(sides: &[Side; 2], ctx: &Path, args: &[&str]) -> String {
    let outs: Vec<String> = sides
        .iter()
        .map(|s| describe(&s.build(ctx, args)))
        .collect();
    assert_eq!(
        outs[0], outs[1],
        "docker build {args:?}: berthd (left) and dockerd (right) differ"
    );
    outs[0].clone()
}

/// What an image is, without what is each daemon's own: ids, times,
/// content hashes, sizes of layers.
fn image_view(v: &serde_json::Value) -> serde_json::Value {
    let mut config = v["Config"].clone();
    config["Image"] = serde_json::Value::Null;
    let mut cc = v["ContainerConfig"].clone();
    for k in ["Image", "Hostname"] {
        cc[k] = serde_json::Value::Null;
    }
    serde_json::json!({
        "Config": config,
        "ContainerConfig": cc,
        "Author": v["Author"],
        "Os": v["Os"],
        "Architecture": v["Architecture"],
        "Layers": v["RootFS"]["Layers"].as_array().map(Vec::len),
    })
}

fn history(side: &Side, image: &str) -> Vec<String> {
    let (status, body) = side.api("GET", &format!("/images/{image}/history"), None);
    assert_eq!(status, 200);
    let items: Vec<serde_json::Value> = serde_json::from_slice(&body).unwrap();
    items
        .iter()
        .map(|h| {
            let by = h["CreatedBy"].as_str().unwrap_or("").to_string();
            // dockerd and Berth hash COPY sources differently.
            let by = mask_hex(&by);
            let empty = h["Size"].as_i64() == Some(0);
            format!("{by} (empty: {empty})")
        })
        .collect()
}

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (name, content) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
}

/// A tar of `dir` (what the CLI sends), for the API tests.
fn tar_of(dir: &Path) -> Vec<u8> {
    let out = Command::new("tar")
        .arg("-C")
        .arg(dir)
        // One 512-byte block per record: no padding after the end of the
        // archive, which dockerd leaves unread (and resets the connection).
        .args(["-b1", "-cf", "-", "."])
        .output()
        .unwrap();
    assert!(out.status.success());
    out.stdout
}

/// The messages of a JSON stream, ids masked.
fn stream(body: &[u8]) -> Vec<serde_json::Value> {
    let text = mask_hex(&String::from_utf8_lossy(body));
    serde_json::Deserializer::from_str(&text)
        .into_iter::<serde_json::Value>()
        .map(|v| v.expect("a JSON message"))
        .collect()
}

#[test]
fn classic_build_side_by_side() {
    let Some((berth, dir)) = daemon_with_busybox(TEST, &[]) else {
        return;
    };
    let Some(mut dockerd) = Dockerd::start(TEST, &[]) else {
        return;
    };
    let tar = dir.path().join("busybox.tar");
    let out = dockerd
        .docker(&["import", tar.to_str().unwrap(), "busybox:latest"])
        .output()
        .unwrap();
    ok(out);
    let sides = [
        Side {
            name: "berthd",
            cli: Box::new(|args: &[&str]| berth.docker_cmd(args)),
            socket: berth.socket(),
        },
        Side {
            name: "dockerd",
            cli: Box::new(|args: &[&str]| dockerd.docker(args)),
            socket: dockerd.socket(),
        },
    ];
    let work = dir.path().join("contexts");

    everything_a_dockerfile_says(&sides, &work.join("full"));
    the_cache(&sides, &work.join("cache"));
    stages_targets_and_args(&sides, &work.join("stages"));
    errors(&sides, &work.join("errors"));
    the_json_stream(&sides, &work.join("stream"));

    for side in &sides {
        ok(side.docker(&["container", "prune", "-f"]));
        let left = ok(side.docker(&["ps", "-aq"]));
        assert!(
            left.trim().is_empty(),
            "{}: containers left: {left}",
            side.name
        );
    }
    // Nothing of the builds is left on berthd: only the imported image.
    let images = ok(sides[0].docker(&["images", "-a", "-q"]));
    assert_eq!(
        images.lines().count(),
        1,
        "berthd: images left besides busybox:\n{images}"
    );
    drop(sides);
    let leaks = dockerd.shutdown();
    assert!(leaks.is_empty(), "dockerd left: {leaks:?}");
    let builder_dirs: Vec<_> = std::fs::read_dir(berth.exec_root().join("builder"))
        .map(|d| d.flatten().collect())
        .unwrap_or_default();
    assert!(
        builder_dirs.is_empty(),
        "build mount points left: {builder_dirs:?}"
    );
    assert!(
        berth_testutil::mounts_containing(&berth.exec_root().display().to_string()).is_empty(),
        "mounts of berthd left"
    );
}

/// Every instruction: the CLI output, the config, the history and the
/// files (owners, modes, links, an unpacked tar) are dockerd's.
fn everything_a_dockerfile_says(sides: &[Side; 2], ctx: &Path) {
    write(
        ctx,
        &[
            ("file.txt", "hello\n"),
            ("dir/a", "a\n"),
            ("dir/sub/b", "b\n"),
            (
                "Dockerfile",
                concat!(
                    "# syntax=docker/dockerfile:1\n",
                    "FROM busybox\n",
                    "RUN echo 'app:x:1234:1234::/home/app:/bin/sh' >> /etc/passwd \\\n",
                    "    && echo 'app:x:1234:' >> /etc/group && mkdir -p /home/app\n",
                    "COPY --chown=app:app dir /opt/dir\n",
                    "COPY file.txt rel/\n",
                    "WORKDIR /w\n",
                    "COPY file.txt .\n",
                    "ADD arch.tar.gz /x/\n",
                    "ADD file.txt /y\n",
                    "COPY dir/* /multi/\n",
                    "ENV GREETING=\"hello there\" OTHER=${GREETING:-unset}\n",
                    "LABEL version=1 \"with space\"=\"a b\"\n",
                    "USER app\n",
                    "EXPOSE 80 53/udp\n",
                    "VOLUME /data\n",
                    "STOPSIGNAL SIGINT\n",
                    "HEALTHCHECK --interval=5s --retries=3 CMD true\n",
                    "ENTRYPOINT [\"sh\"]\n",
                    "SHELL [\"/bin/sh\", \"-ec\"]\n",
                    "RUN echo shell\n",
                    "ONBUILD RUN echo triggered\n",
                    "MAINTAINER someone\n",
                    "CMD echo $GREETING\n",
                ),
            ),
        ],
    );
    std::fs::set_permissions(
        ctx.join("dir/a"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    std::os::unix::fs::symlink("a", ctx.join("dir/link")).unwrap();
    let inner = ctx.parent().unwrap().join("tar-src");
    write(&inner, &[("t/inner", "t\n")]);
    let status = Command::new("tar")
        .arg("-C")
        .arg(&inner)
        .arg("-czf")
        .arg(ctx.join("arch.tar.gz"))
        .arg("t")
        .status()
        .unwrap();
    assert!(status.success());

    same_build(sides, ctx, &["-t", "full"]);
    let views: Vec<_> = sides
        .iter()
        .map(|s| image_view(&s.inspect("full")))
        .collect();
    assert_eq!(
        views[0], views[1],
        "image config: berthd (left), dockerd (right)"
    );
    let histories: Vec<_> = sides.iter().map(|s| history(s, "full")).collect();
    assert_eq!(
        histories[0], histories[1],
        "history: berthd (left), dockerd (right)"
    );
    let listing = "for p in /opt /opt/dir /opt/dir/a /opt/dir/sub /opt/dir/sub/b /opt/dir/link \
                   /rel /rel/file.txt /w /w/file.txt /x /x/t /x/t/inner /y /multi /multi/a \
                   /multi/b /multi/link /data /home/app; do ls -ldn $p | \
                   awk '{print $1, $3, $4, $9, $10, $11}'; done; ls -a /multi; cat /x/t/inner; id -u; id -g";
    let files: Vec<String> = sides
        .iter()
        .map(|s| ok(s.docker(&["run", "--rm", "--entrypoint", "sh", "full", "-c", listing])))
        .collect();
    assert_eq!(files[0], files[1], "files: berthd (left), dockerd (right)");
    assert!(
        files[0].contains("-rw------- 1234 1234 /opt/dir/a"),
        "{}",
        files[0]
    );
    // CMD in shell form through the image's ENTRYPOINT and SHELL.
    let runs: Vec<String> = sides
        .iter()
        .map(|s| describe(&s.docker(&["run", "--rm", "full"])))
        .collect();
    assert_eq!(runs[0], runs[1]);

    // An image built FROM it runs its ONBUILD trigger.
    let child = ctx.parent().unwrap().join("onbuild");
    write(&child, &[("Dockerfile", "FROM full\nRUN echo child\n")]);
    let out = same_build(sides, &child, &["-t", "full-child"]);
    assert!(out.contains("# Executing 1 build trigger"), "{out}");
    assert!(out.contains("triggered"), "{out}");
    for side in sides {
        ok(side.docker(&["rmi", "full-child", "full"]));
    }
}

/// Steps are cached per parent and instruction (and COPY content); a
/// changed file, `--no-cache` and `--cache-from` behave as dockerd's.
fn the_cache(sides: &[Side; 2], ctx: &Path) {
    write(
        ctx,
        &[
            ("f", "one\n"),
            (
                "Dockerfile",
                "FROM busybox\nENV FOO=bar\nRUN touch /baz\nCOPY f /f\nRUN cat /f\n",
            ),
        ],
    );
    let first = same_build(sides, ctx, &["-t", "cached"]);
    assert!(!first.contains("Using cache"), "{first}");
    let again = same_build(sides, ctx, &["-t", "cached"]);
    assert_eq!(again.matches("Using cache").count(), 4, "{again}");
    std::fs::write(ctx.join("f"), "two\n").unwrap();
    let changed = same_build(sides, ctx, &["-t", "cached"]);
    assert_eq!(changed.matches("Using cache").count(), 2, "{changed}");
    assert!(changed.contains("two"), "{changed}");
    let none = same_build(sides, ctx, &["--no-cache", "-t", "cached2"]);
    assert!(!none.contains("Using cache"), "{none}");
    let from = same_build(
        sides,
        ctx,
        &["--cache-from", "nosuchimage", "-t", "cached3"],
    );
    assert!(!from.contains("Using cache"), "{from}");
    // Steps on scratch are cached too.
    let scratch = ctx.join("scratch");
    write(
        &scratch,
        &[
            ("f", "f\n"),
            ("Dockerfile", "FROM scratch\nCOPY f /f\nLABEL a=b\n"),
        ],
    );
    same_build(sides, &scratch, &["-t", "cached-scratch"]);
    let again = same_build(sides, &scratch, &["-t", "cached-scratch"]);
    assert_eq!(again.matches("Using cache").count(), 2, "{again}");
    for side in sides {
        ok(side.docker(&["rmi", "cached-scratch"]));
    }
    for side in sides {
        ok(side.docker(&["rmi", "cached", "cached2", "cached3"]));
        // The images the first two builds left untagged.
        ok(side.docker(&["image", "prune", "-f"]));
    }
}

/// `ARG` before `FROM`, named stages, `COPY --from`, `--target`,
/// `--build-arg`, `--label`, scratch.
fn stages_targets_and_args(sides: &[Side; 2], ctx: &Path) {
    write(
        ctx,
        &[(
            "Dockerfile",
            concat!(
                "ARG BASE=busybox\n",
                "FROM $BASE AS build\n",
                "ARG WHO=nobody\n",
                "RUN echo \"built by $WHO\" > /out && echo $HTTP_PROXY\n",
                "FROM scratch AS final\n",
                "COPY --from=build /out /out\n",
                "COPY --from=0 /bin/busybox /bin/sh\n",
                "CMD [\"/bin/sh\", \"-c\", \"echo ok\"]\n",
                "FROM build AS unused\n",
                "RUN false\n",
            ),
        )],
    );
    let out = same_build(
        sides,
        ctx,
        &[
            "--target",
            "final",
            "--build-arg",
            "WHO=me",
            "--build-arg",
            "HTTP_PROXY=http://proxy:3128",
            "--build-arg",
            "UNUSED=1",
            "--label",
            "k=v w",
            "-t",
            "staged",
        ],
    );
    assert!(out.contains("Step 1/9 : ARG BASE=busybox"), "{out}");
    assert!(out.contains("http://proxy:3128"), "{out}");
    assert!(out.contains("[Warning] One or more build-args [UNUSED] were not consumed"));
    let views: Vec<_> = sides
        .iter()
        .map(|s| image_view(&s.inspect("staged")))
        .collect();
    assert_eq!(views[0], views[1]);
    assert_eq!(views[0]["Config"]["Labels"]["k"], "v w");
    let histories: Vec<_> = sides.iter().map(|s| history(s, "staged")).collect();
    assert_eq!(histories[0], histories[1]);
    let runs: Vec<String> = sides
        .iter()
        .map(|s| ok(s.docker(&["run", "--rm", "staged", "/bin/sh", "-c", "cat /out"])))
        .collect();
    assert_eq!(runs[0], runs[1]);
    assert_eq!(runs[0], "built by me\n");
    for side in sides {
        ok(side.docker(&["rmi", "staged"]));
        ok(side.docker(&["image", "prune", "-f"]));
    }
}

/// Failures: a `RUN` that exits non-zero, an unknown instruction, a
/// missing or empty Dockerfile, a missing COPY source, an unknown target.
fn errors(sides: &[Side; 2], ctx: &Path) {
    let case = |name: &str, dockerfile: Option<&str>, args: &[&str], code: i32| {
        let dir = ctx.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        if let Some(text) = dockerfile {
            write(&dir, &[("Dockerfile", text)]);
        }
        let out = same_build(sides, &dir, args);
        assert!(
            out.starts_with(&format!("exit Some({code})")),
            "{name}: {out}"
        );
        out
    };
    let out = case("run", Some("FROM busybox\nRUN echo out; exit 3\n"), &[], 3);
    assert!(
        out.contains("The command '/bin/sh -c echo out; exit 3' returned a non-zero code: 3"),
        "{out}"
    );
    let out = case("unknown", Some("FROM busybox\nFOO bar\n"), &[], 1);
    assert!(out.contains("dockerfile parse error line 2: unknown instruction: FOO"));
    let out = case("missing", None, &[], 1);
    // The CLI finds that out itself (the daemon's answer is in the stream
    // test).
    assert!(out.contains("unable to prepare context"), "{out}");
    let out = case("empty", Some(""), &[], 1);
    assert!(
        out.contains("the Dockerfile (Dockerfile) cannot be empty"),
        "{out}"
    );
    let out = case("comments", Some("# nothing\n\n"), &[], 1);
    assert!(out.contains("file with no instructions"), "{out}");
    let out = case("copy", Some("FROM busybox\nCOPY nope /x\n"), &[], 1);
    assert!(
        out.contains("COPY failed: file not found in build context"),
        "{out}"
    );
    let out = case("target", Some("FROM busybox AS a\n"), &["--target", "b"], 1);
    assert!(
        out.contains("failed to reach build target b in Dockerfile"),
        "{out}"
    );
    let out = case("arguments", Some("FROM busybox\nCOPY onlyone\n"), &[], 1);
    assert!(
        out.contains("COPY requires at least two arguments"),
        "{out}"
    );
    // The failed RUN's container stays, as dockerd leaves it (the CLI
    // exits with its code).
    for side in sides {
        let left = ok(side.docker(&["ps", "-aq", "--filter", "status=exited"]));
        assert_eq!(left.lines().count(), 1, "{}: {left}", side.name);
        ok(side.docker(&["container", "prune", "-f"]));
    }
}

/// `POST /build` itself: the stream's messages (a failing RUN's exit code
/// in `errorDetail`, stderr in red), `q`, status codes of refused requests.
fn the_json_stream(sides: &[Side; 2], ctx: &Path) {
    write(
        ctx,
        &[(
            "Dockerfile",
            "FROM busybox\nRUN echo out && echo err >&2 && exit 3\n",
        )],
    );
    let body = tar_of(ctx);
    let answers: Vec<(u16, Vec<serde_json::Value>)> = sides
        .iter()
        .map(|s| {
            let (status, body) = s.api("POST", "/build?rm=1", Some(&body));
            (status, stream(&body))
        })
        .collect();
    // stdout and stderr are two pipes: their order is the kernel's.
    let sorted = |v: &[serde_json::Value]| {
        let mut v: Vec<String> = v.iter().map(|m| m.to_string()).collect();
        v.sort();
        v
    };
    assert_eq!(answers[0].0, 200);
    assert_eq!(sorted(&answers[0].1), sorted(&answers[1].1));
    let last = answers[0].1.last().unwrap();
    assert_eq!(last["errorDetail"]["code"], 3, "{last}");
    assert!(
        answers[0]
            .1
            .iter()
            .any(|m| m["stream"] == "\u{1b}[91merr\n\u{1b}[0m"),
        "{:?}",
        answers[0].1
    );
    for side in sides {
        ok(side.docker(&["container", "prune", "-f"]));
    }

    // A build whose output is deterministic: the same bytes (Go's JSON
    // escaping of `>`, CRLF after each message), ids aside.
    write(
        ctx,
        &[(
            "Dockerfile",
            "FROM busybox\nRUN echo '<a & b>'\nLABEL a=b\nCOPY Dockerfile /\n",
        )],
    );
    let body = tar_of(ctx);
    let raw: Vec<String> = sides
        .iter()
        .map(|s| {
            let (status, body) = s.api("POST", "/build?nocache=1&t=bytes", Some(&body));
            assert_eq!(status, 200, "{}", s.name);
            mask_hex(&String::from_utf8_lossy(&body))
        })
        .collect();
    assert_eq!(
        raw[0], raw[1],
        "the stream's bytes: berthd (left), dockerd (right)"
    );
    assert!(
        raw[0].contains(r#"{"stream":" ---\u003e Running in <id>\n"}"#),
        "{}",
        raw[0]
    );
    assert!(raw[0].ends_with("}\r\n"), "{}", raw[0]);
    for side in sides {
        ok(side.docker(&["rmi", "bytes"]));
    }

    write(ctx, &[("Dockerfile", "FROM busybox\nLABEL a=b\n")]);
    let body = tar_of(ctx);
    for query in [
        "q=1&t=quiet",
        "squash=1",
        "platform=foobar",
        "isolation=hyperv",
        "dockerfile=nope",
    ] {
        let answers: Vec<(u16, Vec<serde_json::Value>)> = sides
            .iter()
            .map(|s| {
                let (status, body) = s.api("POST", &format!("/build?{query}"), Some(&body));
                (status, stream(&body))
            })
            .collect();
        assert_eq!(answers[0], answers[1], "POST /build?{query}");
    }
    for side in sides {
        ok(side.docker(&["rmi", "quiet"]));
        let (status, body) = side.api("POST", "/build/prune", None);
        assert_eq!(status, 200, "{}", side.name);
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert!(v["SpaceReclaimed"].is_number(), "{v}");
    }
}

/// A client that goes away during a silent `RUN` stops the build: its
/// container is killed and removed, the context and mounts go.
#[test]
fn a_client_that_goes_away_cancels_the_build() {
    use std::io::Write;
    let test = "a_client_that_goes_away_cancels_the_build";
    let Some((berth, dir)) = daemon_with_busybox(test, &[]) else {
        return;
    };
    let ctx = dir.path().join("ctx");
    write(&ctx, &[("Dockerfile", "FROM busybox\nRUN sleep 60\n")]);
    let body = tar_of(&ctx);
    let mut stream = std::os::unix::net::UnixStream::connect(berth.socket()).unwrap();
    let head = format!(
        "POST /v1.41/build HTTP/1.1\r\nHost: berth\r\nContent-Type: application/x-tar\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&body).unwrap();
    // Until the RUN's container runs.
    let running = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        !ok(berth.docker(&["ps", "-q"])).trim().is_empty()
    });
    assert!(running, "the RUN never started:\n{}", berth.log());
    drop(stream);
    let gone = (0..50).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        ok(berth.docker(&["ps", "-aq"])).trim().is_empty()
    });
    assert!(gone, "the RUN's container outlived its client");
    let build_files = || -> Vec<PathBuf> {
        [berth.data_root(), berth.exec_root()]
            .iter()
            .filter_map(|root| std::fs::read_dir(root.join("builder")).ok())
            .flat_map(|r| r.flatten().map(|e| e.path()))
            .collect()
    };
    let mut left = build_files();
    for _ in 0..50 {
        if left.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        left = build_files();
    }
    assert!(left.is_empty(), "build files left: {left:?}");
    let images = ok(berth.docker(&["images", "-aq"]));
    assert_eq!(images.lines().count(), 1, "{images}");
}

/// A base image that is not here is pulled as `docker pull` would, its
/// progress in the build's stream; `--pull` pulls again; a name no
/// registry has fails the build with the registry's answer.
#[test]
fn base_images_are_pulled() {
    let test = "base_images_are_pulled";
    let Some((registry, _layout)) = setup(test, Fixture::Busybox, "busybox") else {
        return;
    };
    let berth = berthd(&[]);
    let dir = tempfile::Builder::new()
        .prefix("berth-build-pull-")
        .tempdir()
        .unwrap();
    let image = format!("{}/busybox", registry.host);
    write(
        dir.path(),
        &[("Dockerfile", &format!("FROM {image}\nRUN echo pulled\n"))],
    );
    let mut cmd = berth.docker_cmd(&["build", "-t", "pulled", dir.path().to_str().unwrap()]);
    let out = ok(cmd.env("DOCKER_BUILDKIT", "0").output().unwrap());
    assert!(out.contains("latest: Pulling from busybox"), "{out}");
    assert!(
        out.contains(&format!(
            "Status: Downloaded newer image for {image}:latest"
        )),
        "{out}"
    );
    assert!(out.contains("pulled\n"), "{out}");
    let mut cmd = berth.docker_cmd(&["build", "--pull", "-q", dir.path().to_str().unwrap()]);
    let out = ok(cmd.env("DOCKER_BUILDKIT", "0").output().unwrap());
    assert!(out.starts_with("sha256:"), "{out}");

    write(
        dir.path(),
        &[("Dockerfile", &format!("FROM {image}:nosuch\n"))],
    );
    let mut cmd = berth.docker_cmd(&["build", dir.path().to_str().unwrap()]);
    let out = cmd.env("DOCKER_BUILDKIT", "0").output().unwrap();
    let err = fails(out, 1);
    assert!(
        err.contains(&format!(
            "manifest for {image}:nosuch not found: manifest unknown"
        )),
        "{err}"
    );
    ok(berth.docker(&["rmi", "pulled", &image]));
    ok(berth.docker(&["image", "prune", "-f"]));
    let images = ok(berth.docker(&["images", "-aq"]));
    assert!(images.trim().is_empty(), "{images}");
}
