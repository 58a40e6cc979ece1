//! `berth` and the docker CLI 28 side by side against one daemon: the
//! same command through both clients must print the same thing and exit
//! the same way (relative ages masked; rows sorted where docker's own
//! order is not stable). Covers images/image ls, inspect, history, tag,
//! rmi, save, load, import, image prune, version, info, system df, events,
//! the error paths, and a registry with htpasswd auth for login, push,
//! pull (credentials in the config file and through a credential helper)
//! and logout; with dockerd also TLS on TCP (--tlsverify).
//!
//! The daemon is a private dockerd by default; `BERTH_CLI_TEST_DAEMON=berthd`
//! runs the same checks against `target/debug/berthd` (or `BERTH_BERTHD`).
//! Needs root, dockerd (scripts/install-docker), docker CLI 28 at
//! /usr/local/bin/docker, docker-registry, htpasswd, openssl, busybox-static.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use support::{Checks, Client, Engine, Out, mask_times, run_timed, sorted_rows};

const TEST: &str = "berth_matches_the_docker_cli";
const IMG: &str = "berth-test/busybox";

/// docker's wording of what berth words with its own name, and docker's
/// typo ("SRun").
fn as_berth(s: &str) -> String {
    s.replace("docker: 'docker ", "berth: 'berth ")
        .replace(
            "docker: unknown command: docker ",
            "berth: unknown command: berth ",
        )
        .replace("Usage:  docker ", "Usage:  berth ")
        .replace("Run 'docker ", "Run 'berth ")
        .replace("See 'docker ", "See 'berth ")
        .replace("\"docker image ", "\"berth image ")
        .replace("Docker daemon", "Berth daemon")
        .replace("docker daemon", "berth daemon")
        .replace("SRun '", "Run '")
}

struct Side<'a> {
    berth: &'a Client,
    docker: &'a Client,
}

impl Side<'_> {
    /// Run both; compare exit codes, `norm(stdout)` and stderr.
    fn same_with(
        &self,
        c: &mut Checks,
        args: &[&str],
        norm: &dyn Fn(&str) -> String,
    ) -> (Out, Out) {
        let d = self.docker.run(args);
        let b = self.berth.run(args);
        let name = format!("berth {} == docker", args.join(" "));
        let ok = d.code == b.code
            && norm(&d.stdout) == norm(&b.stdout)
            && as_berth(&d.stderr) == b.stderr;
        c.check(
            &name,
            ok,
            format!("docker: {}\nberth:  {}", d.describe(), b.describe()),
        );
        (d, b)
    }

    /// Same, stdout with ages masked.
    fn same(&self, c: &mut Checks, args: &[&str]) -> (Out, Out) {
        self.same_with(c, args, &|s| mask_times(s))
    }

    /// Same, table rows sorted and ages masked.
    fn same_rows(&self, c: &mut Checks, args: &[&str]) -> (Out, Out) {
        self.same_with(c, args, &|s| sorted_rows(&mask_times(s)).join("\n"))
    }
}

#[test]
fn berth_matches_the_docker_cli() {
    if !berth_testutil::require_root(TEST) {
        return;
    }
    for tool in ["openssl", "htpasswd"] {
        if support::which(tool).is_none() {
            eprintln!("SKIP: {TEST}: {tool} is not installed");
            return;
        }
    }
    if !berth_testutil::registry::available(TEST) {
        return;
    }
    let certs = tempfile::Builder::new()
        .prefix("berth-cli-tls-")
        .tempdir()
        .expect("tempdir");
    let tls = make_certs(certs.path());
    let tls_port = berth_testutil::registry::free_port();
    let tls_args = vec![
        format!("--host=tcp://127.0.0.1:{tls_port}"),
        "--tlsverify".to_string(),
        format!("--tlscacert={}", tls.ca.display()),
        format!("--tlscert={}", tls.server_cert.display()),
        format!("--tlskey={}", tls.server_key.display()),
    ];
    let Some(engine) = Engine::from_env(TEST, &tls_args) else {
        return;
    };
    eprintln!("{TEST}: daemon {} at {}", engine.name(), engine.host());
    let scratch = engine.scratch();
    let host = engine.host();
    let berth = Client::berth(&host, &scratch.join("berth-config"));
    let docker = Client::docker(&host, &scratch.join("docker-config"));
    let side = Side {
        berth: &berth,
        docker: &docker,
    };
    let mut c = Checks::default();

    if setup_images(&docker, &scratch, &mut c) {
        listing(&side, &mut c);
        inspecting(&side, &mut c);
        tag_and_remove(&side, &mut c);
        archives(&side, &scratch, &mut c);
        system(&side, &mut c);
        errors(&side, &mut c);
        registry(&side, &scratch, &mut c);
        prune(&side, &scratch, &mut c);
        if matches!(engine, Engine::Dockerd(_)) {
            tls_tcp(&berth, &docker, &tls, tls_port, &mut c);
        }
    }

    let log = engine.log();
    for leak in engine.shutdown() {
        c.fail("the daemon leaves nothing behind", leak);
    }
    c.finish(TEST, &format!("daemon log:\n{log}"));
}

/// Two tagged images and a dangling one, imported from a busybox rootfs.
fn setup_images(docker: &Client, scratch: &Path, c: &mut Checks) -> bool {
    let tar = support::busybox_tar(scratch);
    let t = tar.to_str().expect("utf-8");
    let a = docker.run(&["import", t, &format!("{IMG}:latest")]);
    let b = docker.run(&[
        "import",
        "-c",
        "CMD [\"sh\"]",
        "-c",
        "LABEL a=b",
        "-c",
        "ENV X=1",
        "-m",
        "the message",
        t,
        &format!("{IMG}:v1"),
    ]);
    let d = docker.run(&["import", t]);
    let ok = a.code == 0 && b.code == 0 && d.code == 0;
    c.check(
        "docker import the test images",
        ok,
        format!("{}\n{}\n{}", a.describe(), b.describe(), d.describe()),
    );
    ok
}

fn listing(s: &Side, c: &mut Checks) {
    for args in [
        &["images"][..],
        &["images", "-a"],
        &["images", "--no-trunc"],
        &["images", "--digests"],
        &["images", "-q"],
        &["images", "-q", "--no-trunc"],
        &["images", "--format", "json"],
        &["images", "--format", "{{.Repository}}:{{.Tag}}"],
        &[
            "images",
            "--format",
            "table {{.ID}}\t{{.Repository}}\t{{.Size}}",
        ],
        &["images", "--format", "{{json .}}"],
        &[
            "images",
            "--format",
            "{{.Repository | upper}} {{printf \"%.5s\" .ID}} {{.Containers}}",
        ],
        &["images", IMG],
        &["images", &format!("{IMG}:v1")],
        &["images", "-f", "dangling=true"],
        &["images", "-f", "dangling=false"],
        &["images", "-f", "label=a=b"],
        &["images", "-f", &format!("reference={IMG}:*")],
        &["images", "-f", &format!("before={IMG}:v1")],
        &["image", "ls"],
        &["image", "list", "-q"],
        &["images", "nosuchrepo"],
        &["images", "ls"],
    ] {
        s.same_rows(c, args);
    }
}

fn inspecting(s: &Side, c: &mut Checks) {
    let v1 = format!("{IMG}:v1");
    for args in [
        vec!["image", "inspect", IMG],
        vec!["image", "inspect", IMG, &v1],
        vec!["inspect", &v1],
        vec!["image", "inspect", "-f", "json", IMG],
        vec![
            "image",
            "inspect",
            "-f",
            "{{.Id}} {{.Os}}/{{.Architecture}} {{.Size}}",
            &v1,
        ],
        vec![
            "image",
            "inspect",
            "-f",
            "{{.Config.Cmd}} {{.Config.Entrypoint}} {{.Config.Env}} {{.RepoDigests}}",
            &v1,
            IMG,
        ],
        vec![
            "image",
            "inspect",
            "-f",
            "{{.Config.Labels}} {{index .Config.Labels \"a\"}}|{{index .Config.Labels \"zz\"}}|",
            &v1,
            IMG,
        ],
        vec!["image", "inspect", "-f", "{{json .Config}}", &v1],
        vec![
            "image",
            "inspect",
            "-f",
            "{{json .RootFS}} {{.RootFS.Type}} {{len .RootFS.Layers}}",
            &v1,
        ],
        vec![
            "image",
            "inspect",
            "-f",
            "{{range .RepoTags}}[{{.}}]{{end}}",
            &v1,
        ],
        vec!["image", "inspect", "-f", "{{.Metadata.LastTagTime}}", &v1],
        vec!["image", "inspect", "-f", "{{.GraphDriver.Name}}", &v1],
        vec!["image", "inspect", "-f", "{{.Comment}}", &v1],
        vec!["image", "inspect", "-f", "{{.Nope}}", &v1],
        vec!["image", "inspect", "-f", "{{.Os", &v1],
        vec!["image", "inspect", "nosuch:1", &v1],
        vec!["inspect", "nosuch-object"],
        vec!["inspect", "--type", "image", "-f", "{{.Os}}", &v1],
        vec!["history", IMG],
        vec!["history", "--no-trunc", &v1],
        vec!["history", "-q", &v1],
        vec!["history", "-H=false", &v1],
        vec!["history", "--format", "json", &v1],
        vec!["history", "--format", "table {{.ID}}\t{{.Comment}}", &v1],
        vec!["history", "nosuch:1"],
        vec!["image", "history", &v1],
    ] {
        s.same(c, &args);
    }
}

fn tag_and_remove(s: &Side, c: &mut Checks) {
    // tag through berth, check with docker (and the other way round)
    let b = s.berth.run(&["tag", IMG, "berth-test/tagged:b"]);
    let d = s.docker.run(&["tag", IMG, "berth-test/tagged:d"]);
    c.check(
        "tag through both clients",
        b.code == 0 && d.code == 0 && b.stdout.is_empty(),
        format!("{}\n{}", b.describe(), d.describe()),
    );
    s.same_rows(c, &["images", "berth-test/tagged"]);
    s.same(c, &["tag", "nosuch:1", "x:1"]);
    s.same(c, &["tag", IMG, "Bad:x:y"]);
    // rmi of a tag: Untagged lines
    let b = s.berth.run(&["rmi", "berth-test/tagged:b"]);
    let d = s.docker.run(&["rmi", "berth-test/tagged:d"]);
    c.check(
        "rmi of a second tag prints Untagged:",
        b.code == 0
            && b.stdout == "Untagged: berth-test/tagged:b\n"
            && d.stdout == "Untagged: berth-test/tagged:d\n",
        format!("{}\n{}", b.describe(), d.describe()),
    );
    s.docker.run(&["tag", IMG, "berth-test/gone:1"]);
    s.same(c, &["rmi", "nosuch:1"]);
    s.same(c, &["rmi", "-f", "nosuch:1"]);
    s.same(c, &["rmi", "nosuch:1", "nosuch:2"]);
    let b = s.berth.run(&["rmi", "berth-test/gone:1"]);
    c.check(
        "rmi berth-test/gone:1",
        b.code == 0 && b.stdout == "Untagged: berth-test/gone:1\n",
        b.describe(),
    );
}

fn archives(s: &Side, scratch: &Path, c: &mut Checks) {
    let v1 = format!("{IMG}:v1");
    // save: byte for byte what docker saves
    let bpath = scratch.join("berth-save.tar");
    let dpath = scratch.join("docker-save.tar");
    let b = s
        .berth
        .run(&["save", "-o", bpath.to_str().unwrap_or(""), &v1]);
    let d = s
        .docker
        .run(&["save", "-o", dpath.to_str().unwrap_or(""), &v1]);
    let same = std::fs::read(&bpath).ok() == std::fs::read(&dpath).ok();
    c.check(
        "save -o writes the same archive as docker",
        b.code == 0 && d.code == 0 && same,
        format!("{}\n{}", b.describe(), d.describe()),
    );
    let b = s.berth.run(&["save", &v1]);
    c.check(
        "save to a pipe writes the same archive",
        b.code == 0 && std::fs::read(&dpath).ok().as_deref() == Some(&b.raw[..]),
        format!("exit {} {} bytes", b.code, b.raw.len()),
    );
    let missing = scratch.join("berth-none.tar");
    let b = s
        .berth
        .run(&["save", "-o", missing.to_str().unwrap_or(""), "nosuch:1"]);
    c.check(
        "save of a missing image fails and leaves no file",
        b.code == 1 && !missing.exists() && b.stderr.starts_with("Error response from daemon: "),
        b.describe(),
    );
    // load: from a file and from stdin, after removing the image
    let archive = std::fs::read(&dpath).unwrap_or_default();
    for (how, load) in [("-i", true), ("stdin", false)] {
        s.docker.run(&["rmi", &v1]);
        let b = if load {
            s.berth.run(&["load", "-i", dpath.to_str().unwrap_or("")])
        } else {
            s.berth.run_stdin(&["load"], &archive)
        };
        s.docker.run(&["rmi", &v1]);
        let d = s.docker.run_stdin(&["load"], &archive);
        c.check(
            &format!("load ({how}) prints what docker prints"),
            b.code == 0
                && b.stdout == d.stdout
                && b.stdout.contains(&format!("Loaded image: {v1}")),
            format!("berth: {}\ndocker: {}", b.describe(), d.describe()),
        );
    }
    s.same(c, &["load", "-i", "/nonexistent/berth.tar"]);
    let q = s.berth.run_stdin(&["load", "-q"], &archive);
    c.check("load -q", q.code == 0, q.describe());
    // import: file, stdin, --change, --message
    let tar = scratch.join("rootfs.tar");
    let t = tar.to_str().unwrap_or("");
    let b = s.berth.run(&["import", t, "berth-test/imported:file"]);
    let ok = b.code == 0 && b.stdout.starts_with("sha256:") && b.stdout.len() == 72;
    c.check("import FILE prints the new image id", ok, b.describe());
    let bytes = std::fs::read(&tar).unwrap_or_default();
    let b = s.berth.run_stdin(
        &[
            "import",
            "-c",
            "ENTRYPOINT [\"/bin/sh\"]",
            "-c",
            "LABEL k=v",
            "-m",
            "from stdin",
            "-",
            "berth-test/imported:stdin",
        ],
        &bytes,
    );
    c.check(
        "import - (stdin) with --change and --message",
        b.code == 0 && b.stdout.starts_with("sha256:"),
        b.describe(),
    );
    let inspect = s.docker.run(&[
        "image",
        "inspect",
        "-f",
        "{{.Config.Entrypoint}} {{.Config.Labels}} {{.Comment}}",
        "berth-test/imported:stdin",
    ]);
    c.check(
        "the imported image has the changes and the message",
        inspect.stdout == "[/bin/sh] map[k:v] from stdin\n",
        inspect.describe(),
    );
    s.same(c, &["import", "/nonexistent/rootfs.tar"]);
    s.same(c, &["import", t, "UPPER"]);
}

fn system(s: &Side, c: &mut Checks) {
    // version: the server part is the daemon's, the client part berth's
    let b = s.berth.run(&["version"]);
    let d = s.docker.run(&["version"]);
    let server = |o: &Out| o.stdout.split_once("\nServer:").map(|(_, s)| s.to_string());
    c.check(
        "version: the Server section is docker's, the Client section has berth's version",
        b.code == 0
            && server(&b).is_some()
            && server(&b) == server(&d)
            && b.stdout.starts_with(&format!(
                "Client:\n Version:           {}\n",
                env!("CARGO_PKG_VERSION")
            )),
        format!("berth: {}\ndocker: {}", b.describe(), d.describe()),
    );
    s.same(c, &["version", "-f", "{{.Server.Version}} {{.Server.APIVersion}} {{.Client.APIVersion}} {{.Client.DefaultAPIVersion}}"]);
    s.same(c, &["version", "-f", "{{json .Server}}"]);
    s.same(c, &["version", "-f", "{{.Server.Nope"]);
    let b = s.berth.run(&["version", "-f", "json"]);
    let fields_ok = [
        "\"Client\":{",
        "\"Server\":{",
        "\"ApiVersion\":",
        "\"Components\":[",
    ]
    .iter()
    .all(|f| b.stdout.contains(f));
    c.check(
        "version -f json has the client and server fields",
        b.code == 0 && fields_ok,
        b.describe(),
    );
    // info: the server section line by line, the client's version aside
    let b = s.berth.run(&["info"]);
    let d = s.docker.run(&["info"]);
    // docker lists runtimes in Go map order: compare them sorted
    let server_info = |o: &Out| {
        o.stdout.split_once("\nServer:\n").map(|(_, s)| {
            s.lines()
                .map(|l| match l.strip_prefix(" Runtimes: ") {
                    Some(r) => {
                        let mut v: Vec<&str> = r.split(' ').collect();
                        v.sort_unstable();
                        format!(" Runtimes: {}", v.join(" "))
                    }
                    None => l.to_string(),
                })
                .collect::<Vec<_>>()
                .join("\n")
        })
    };
    c.check(
        "info: the Server section is docker's",
        b.code == 0 && server_info(&b).is_some() && server_info(&b) == server_info(&d),
        format!("berth: {}\ndocker: {}", b.describe(), d.describe()),
    );
    for field in [
        "Containers:",
        "Images:",
        "Storage Driver:",
        "Kernel Version:",
        "CPUs:",
        "Total Memory:",
        "Docker Root Dir:",
    ] {
        c.check(
            &format!("info shows {field}"),
            b.stdout.contains(field),
            b.describe(),
        );
    }
    s.same(
        c,
        &[
            "info",
            "-f",
            "{{.ServerVersion}} {{.Driver}} {{.NCPU}} {{.OSType}} {{json .Plugins}}",
        ],
    );
    s.same(c, &["info", "--format", "{{.Nope}}"]);
    let b = s.berth.run(&["info", "-f", "json"]);
    c.check(
        "info -f json has the daemon's fields and ClientInfo",
        b.code == 0
            && b.stdout.contains("\"ServerVersion\"")
            && b.stdout.contains("\"ClientInfo\":{"),
        b.describe(),
    );
    // system df
    s.same(c, &["system", "df"]);
    s.same_with(c, &["system", "df", "-v"], &|o| {
        // the images table's rows are in the daemon's (unstable) order
        let mut lines: Vec<String> = mask_times(o).lines().map(str::to_string).collect();
        lines.sort();
        lines.join("\n")
    });
    s.same(c, &["system", "df", "--format", "json"]);
    s.same(c, &["system", "df", "--format", "{{.Type}}: {{.Size}}"]);
    // events in a closed window: everything the test did so far
    let until = format!("{}", support_now());
    s.same(c, &["events", "--since", "10m", "--until", &until]);
    s.same(
        c,
        &[
            "events",
            "--since",
            "10m",
            "--until",
            &until,
            "--format",
            "{{.Type}} {{.Action}} {{.Actor.Attributes.name}}",
        ],
    );
    s.same(
        c,
        &[
            "events", "--since", "10m", "--until", &until, "--format", "json",
        ],
    );
    s.same(
        c,
        &[
            "events",
            "--since",
            "10m",
            "--until",
            &until,
            "-f",
            "event=tag",
        ],
    );
    s.same(c, &["events", "--format", "{{.Bad}}"]);
    s.same(c, &["events", "--since", "yesterday", "--until", &until]);
}

fn support_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn errors(s: &Side, c: &mut Checks) {
    for args in [
        &["images", "--bogus"][..],
        &["images", "-x"],
        &["image", "ls", "--format"],
        &["images", "a", "b"],
        &["history"],
        &["tag", "a"],
        &["rmi"],
        &["load", "extra"],
        &["pull"],
        &["pull", "UPPER"],
        &["images", "-f", "bogus=1"],
        &["images", "-f", "dangling=maybe"],
        &["images", "-f", "nope"],
        &["inspect", "--type", "bogus", "x"],
        &["image", "inspect", "-f", "{{.Config.Nope.Deeper}}", IMG],
    ] {
        s.same(c, args);
    }
}

/// A registry with htpasswd auth: login, push, pull, logout through both
/// clients; credentials through a credential helper for berth.
fn registry(s: &Side, scratch: &Path, c: &mut Checks) {
    let htpasswd = scratch.join("htpasswd");
    if !berth_testutil::registry::htpasswd(&htpasswd, &[("alice", "s3cret")]) {
        c.fail("htpasswd", "cannot write the htpasswd file");
        return;
    }
    let Some(reg) = berth_testutil::registry::Registry::start(
        TEST,
        berth_testutil::registry::Options {
            auth: berth_testutil::registry::Auth::Htpasswd(htpasswd),
            tls: None,
        },
    ) else {
        c.fail("start the registry", "docker-registry did not start");
        return;
    };
    let r = reg.host.clone();
    let repo = format!("{r}/berth/bb");

    // logins: wrong password, then the right one through stdin
    s.same(c, &["login", "-u", "alice", "-p", "wrong", &r]);
    let b = s.berth.run_stdin(
        &["login", "-u", "alice", "--password-stdin", &r],
        b"s3cret\n",
    );
    let d = s.docker.run_stdin(
        &["login", "-u", "alice", "--password-stdin", &r],
        b"s3cret\n",
    );
    let cfg =
        |cl: &Client| std::fs::read_to_string(cl.config.join("config.json")).unwrap_or_default();
    c.check(
        "login --password-stdin: same output, same config file as docker",
        b.code == 0
            && b.stdout == d.stdout
            && as_berth(&d.stderr).replace("docker-config", "berth-config") == b.stderr
            && cfg(s.berth) == cfg(s.docker),
        format!(
            "berth: {}\n{}\ndocker: {}\n{}",
            b.describe(),
            cfg(s.berth),
            d.describe(),
            cfg(s.docker)
        ),
    );
    // push: docker first (uploads), then berth (the layer exists), then docker again
    s.docker
        .run(&["tag", &format!("{IMG}:v1"), &format!("{repo}:1")]);
    s.docker.run(&["tag", &format!("{IMG}:v1"), &repo]);
    let d1 = s.docker.run(&["push", &format!("{repo}:1")]);
    let b = s.berth.run(&["push", &format!("{repo}:1")]);
    let d2 = s.docker.run(&["push", &format!("{repo}:1")]);
    c.check(
        "push prints what docker prints",
        d1.code == 0
            && b.code == 0
            && b.stdout == d2.stdout
            && b.stdout.contains("digest: sha256:"),
        format!("berth: {}\ndocker: {}", b.describe(), d2.describe()),
    );
    let b = s.berth.run(&["push", &repo]);
    c.check(
        "push of a bare name uses the latest tag",
        b.code == 0
            && b.stdout
                .starts_with("Using default tag: latest\nThe push refers to repository ["),
        b.describe(),
    );
    let b = s.berth.run(&["push", "-q", &format!("{repo}:1")]);
    c.check(
        "push -q prints the reference",
        b.code == 0 && b.stdout == format!("{repo}:1\n"),
        b.describe(),
    );
    s.same(c, &["push", &format!("{repo}:nosuchtag")]);
    // pull: remove, pull through each client
    for (i, args) in [
        vec!["pull", &format!("{repo}:1")],
        vec!["pull", &repo],
        vec!["pull", "-q", &format!("{repo}:1")],
        vec!["pull", "-a", &repo],
    ]
    .iter()
    .enumerate()
    {
        s.docker.run(&["rmi", &format!("{repo}:1"), &repo]);
        let b = s.berth.run(args);
        s.docker.run(&["rmi", &format!("{repo}:1"), &repo]);
        let d = s.docker.run(args);
        let norm = |o: &str| sorted_rows(o).join("\n");
        c.check(
            &format!("berth {} == docker ({i})", args.join(" ")),
            b.code == 0 && d.code == 0 && norm(&b.stdout) == norm(&d.stdout),
            format!("berth: {}\ndocker: {}", b.describe(), d.describe()),
        );
    }
    s.same(c, &["pull", &format!("{repo}:nosuch")]);
    s.same(c, &["images", "--digests", &repo]);
    // credentials through a credential helper: berth stores and uses them
    helper_login(s, &r, &repo, scratch, c);
    // logout
    s.same(c, &["logout", &r]);
    let text = cfg(s.berth);
    c.check(
        "logout removes the credentials",
        !text.contains("YWxpY2U6czNjcmV0"),
        text.clone(),
    );
    s.same(c, &["pull", &format!("{repo}:1")]);
    drop(reg);
}

/// `credHelpers` naming a helper script: login stores through it (the file
/// keeps an empty entry), pull reads through it.
fn helper_login(s: &Side, r: &str, repo: &str, scratch: &Path, c: &mut Checks) {
    let bin = scratch.join("helper-bin");
    std::fs::create_dir_all(&bin).ok();
    let store = bin.join("store.json");
    let script = format!(
        "#!/bin/sh\ncase \"$1\" in\nstore) cat > {st} ;;\nget) read -r url; if [ -f {st} ]; then cat {st}; else echo 'credentials not found in native keychain'; exit 1; fi ;;\nerase) rm -f {st} ;;\nesac\n",
        st = store.display()
    );
    let helper = bin.join("docker-credential-berthtest");
    let written = std::fs::write(&helper, script).and_then(|()| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755))
    });
    if let Err(e) = written {
        c.fail("write the credential helper", e.to_string());
        return;
    }
    let cfgdir = scratch.join("berth-helper-config");
    std::fs::create_dir_all(&cfgdir).ok();
    let _ = std::fs::write(
        cfgdir.join("config.json"),
        format!("{{\"credHelpers\":{{\"{r}\":\"berthtest\"}}}}"),
    );
    let mut b = Client::berth(&s.berth.host, &cfgdir);
    b.env.push((
        "PATH".into(),
        format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        ),
    ));
    let out = b.run_stdin(&["login", "-u", "alice", "--password-stdin", r], b"s3cret");
    let stored = std::fs::read_to_string(&store).unwrap_or_default();
    let file = std::fs::read_to_string(cfgdir.join("config.json")).unwrap_or_default();
    c.check(
        "login through a credential helper",
        out.code == 0
            && out.stdout == "Login Succeeded\n"
            && stored.contains("\"Secret\":\"s3cret\"")
            && !file.contains("auth\"")
            && file.contains(&format!("\"{r}\": {{}}")),
        format!("{}\nhelper store: {stored}\nconfig: {file}", out.describe()),
    );
    s.docker.run(&["rmi", &format!("{repo}:1")]);
    let out = b.run(&["pull", "-q", &format!("{repo}:1")]);
    c.check(
        "pull with credentials from the helper",
        out.code == 0 && out.stdout == format!("{repo}:1\n"),
        out.describe(),
    );
}

fn prune(s: &Side, scratch: &Path, c: &mut Checks) {
    // a dangling image, then prune through berth without a terminal: the
    // prompt reads stdin
    s.docker
        .run(&["import", scratch.join("rootfs.tar").to_str().unwrap_or("")]);
    let b = s.berth.run_stdin(&["image", "prune"], b"n\n");
    c.check(
        "image prune asks and stops on no",
        b.code == 0 && b.stdout == "WARNING! This will remove all dangling images.\nAre you sure you want to continue? [y/N] ",
        b.describe(),
    );
    let b = s.berth.run(&["image", "prune", "-f"]);
    c.check(
        "image prune -f deletes the dangling images",
        b.code == 0
            && b.stdout.starts_with("Deleted Images:\ndeleted: sha256:")
            && b.stdout.contains("\nTotal reclaimed space: "),
        b.describe(),
    );
    s.same(c, &["image", "prune", "-f"]);
    s.same(c, &["image", "prune", "-f", "--filter", "label=nosuch"]);
    s.same(c, &["images", "-f", "dangling=true"]);
}

/// The same daemon over TCP with mutual TLS.
fn tls_tcp(berth: &Client, docker: &Client, tls: &Certs, port: u16, c: &mut Checks) {
    let host = format!("tcp://127.0.0.1:{port}");
    let args = |cmd: &[&str]| -> Vec<String> {
        let mut v = vec![
            "--tlsverify".to_string(),
            format!("--tlscacert={}", tls.ca.display()),
            format!("--tlscert={}", tls.client_cert.display()),
            format!("--tlskey={}", tls.client_key.display()),
            "-H".into(),
            host.clone(),
        ];
        v.extend(cmd.iter().map(|s| s.to_string()));
        v
    };
    let run = |cl: &Client, a: &[String]| {
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        cl.run(&a)
    };
    let b = run(
        berth,
        &args(&["images", "--format", "{{.Repository}}:{{.Tag}}"]),
    );
    let d = run(
        docker,
        &args(&["images", "--format", "{{.Repository}}:{{.Tag}}"]),
    );
    let lines = |s: &str| {
        let mut v: Vec<String> = s.lines().map(str::to_string).collect();
        v.sort();
        v
    };
    c.check(
        "images over TCP with --tlsverify",
        b.code == 0 && lines(&b.stdout) == lines(&d.stdout) && !b.stdout.is_empty(),
        format!("berth: {}\ndocker: {}", b.describe(), d.describe()),
    );
    // no client certificate: the daemon refuses
    let b = berth.run(&[
        "--tlsverify",
        &format!("--tlscacert={}", tls.ca.display()),
        "-H",
        &host,
        "images",
    ]);
    c.check(
        "TLS without a client certificate fails",
        b.code == 1 && b.stdout.is_empty(),
        b.describe(),
    );
    // plain HTTP to a TLS port fails
    let b = berth.run(&["-H", &host, "images"]);
    c.check(
        "plain HTTP to a TLS daemon fails",
        b.code == 1,
        b.describe(),
    );
    // --tls (no verification) with the client certificate
    let b = berth.run(&[
        "--tls",
        &format!("--tlscert={}", tls.client_cert.display()),
        &format!("--tlskey={}", tls.client_key.display()),
        "-H",
        &host,
        "version",
        "-f",
        "{{.Server.Version}}",
    ]);
    c.check(
        "--tls without verification",
        b.code == 0 && !b.stdout.trim().is_empty(),
        b.describe(),
    );
}

/// A CA, a server certificate for 127.0.0.1 and a client certificate.
struct Certs {
    ca: PathBuf,
    server_cert: PathBuf,
    server_key: PathBuf,
    client_cert: PathBuf,
    client_key: PathBuf,
}

fn make_certs(dir: &Path) -> Certs {
    let openssl = |args: &[&str]| {
        let out = run_timed(
            Command::new("openssl")
                .args(args)
                .current_dir(dir)
                .stdin(Stdio::null()),
            support::COMMAND_TIMEOUT,
        );
        assert_eq!(out.code, 0, "openssl {args:?}: {}", out.describe());
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "ca-key.pem",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=berth-test-ca",
    ]);
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    )
    .expect("write ext");
    std::fs::write(dir.join("client.ext"), "extendedKeyUsage=clientAuth\n").expect("write ext");
    for who in ["server", "client"] {
        openssl(&[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &format!("{who}-key.pem"),
            "-out",
            &format!("{who}.csr"),
            "-subj",
            &format!("/CN=berth-test-{who}"),
        ]);
        openssl(&[
            "x509",
            "-req",
            "-in",
            &format!("{who}.csr"),
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca-key.pem",
            "-CAcreateserial",
            "-out",
            &format!("{who}-cert.pem"),
            "-days",
            "2",
            "-extfile",
            &format!("{who}.ext"),
        ]);
    }
    Certs {
        ca: dir.join("ca.pem"),
        server_cert: dir.join("server-cert.pem"),
        server_key: dir.join("server-key.pem"),
        client_cert: dir.join("client-cert.pem"),
        client_key: dir.join("client-key.pem"),
    }
}
