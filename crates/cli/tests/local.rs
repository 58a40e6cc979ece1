//! The berth binary without a daemon: usage errors and their exit codes
//! (docker 28's: 125 for flag errors, 1 for argument counts and unknown
//! commands), the message for an unreachable daemon, `-v`, and logout
//! through a real credential helper executable (a shell script speaking
//! docker's protocol). Runs as any user.

mod support;

use std::os::unix::fs::PermissionsExt;

use support::{Client, Out};

fn berth(args: &[&str], config: &std::path::Path) -> Out {
    // a socket path that cannot exist
    Client::berth("unix:///nonexistent/berth-test.sock", config).run(args)
}

#[test]
fn usage_errors_exit_like_docker() {
    let cfg = tempfile::tempdir().unwrap();
    let cases: &[(&[&str], i32, &str)] = &[
        (
            &["images", "--bogus"],
            125,
            "unknown flag: --bogus\n\nUsage:  berth images [OPTIONS] [REPOSITORY[:TAG]]\n\nRun 'berth images --help' for more information\n",
        ),
        (
            &["images", "-x"],
            125,
            "unknown shorthand flag: 'x' in -x\n\nUsage:  berth images [OPTIONS] [REPOSITORY[:TAG]]\n\nRun 'berth images --help' for more information\n",
        ),
        (
            &["image", "ls", "--format"],
            125,
            "flag needs an argument: --format\n\nUsage:  berth image ls [OPTIONS] [REPOSITORY[:TAG]]\n\nRun 'berth image ls --help' for more information\n",
        ),
        (
            &["history", "-H=maybe", "x"],
            125,
            "invalid argument \"maybe\" for \"-H, --human\" flag: strconv.ParseBool: parsing \"maybe\": invalid syntax\n\nUsage:  berth history [OPTIONS] IMAGE\n\nRun 'berth history --help' for more information\n",
        ),
        (
            &["images", "-f", "nope"],
            125,
            "invalid argument \"nope\" for \"-f, --filter\" flag: bad format of filter (expected name=value)\n\nUsage:  berth images [OPTIONS] [REPOSITORY[:TAG]]\n\nRun 'berth images --help' for more information\n",
        ),
        (
            &["bogus"],
            1,
            "berth: unknown command: berth bogus\n\nRun 'berth --help' for more information\n",
        ),
        (
            &["image", "bogus"],
            1,
            "berth: unknown command: berth image bogus\n\nUsage:  berth image\n\nRun 'berth image --help' for more information\n",
        ),
        (
            &["history"],
            1,
            "berth: 'berth history' requires 1 argument\n\nUsage:  berth history [OPTIONS] IMAGE\n\nRun 'berth history --help' for more information\n",
        ),
        (
            &["tag", "a"],
            1,
            "berth: 'berth tag' requires 2 arguments\n\nUsage:  berth tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]\n\nRun 'berth tag --help' for more information\n",
        ),
        (
            &["images", "a", "b"],
            1,
            "berth: 'berth images' requires at most 1 argument\n\nUsage:  berth images [OPTIONS] [REPOSITORY[:TAG]]\n\nRun 'berth images --help' for more information\n",
        ),
        (
            &["rmi"],
            1,
            "berth: 'berth rmi' requires at least 1 argument\n\nUsage:  berth rmi [OPTIONS] IMAGE [IMAGE...]\n\nSee 'berth rmi --help' for more information\n",
        ),
        (
            &["load", "extra"],
            1,
            "berth: 'berth load' accepts no arguments\n\nUsage:  berth load [OPTIONS]\n\nRun 'berth load --help' for more information\n",
        ),
        (
            &["pull", "UPPER"],
            1,
            "invalid reference format: repository name (library/UPPER) must be lowercase\n",
        ),
        (
            &["pull", "-a", "busybox:1"],
            1,
            "tag can't be used with --all-tags/-a\n",
        ),
        (
            &["tag", "busybox", "Bad:x:y"],
            1,
            "Error parsing reference: \"Bad:x:y\" is not a valid repository/tag: invalid reference format: repository name (library/Bad) must be lowercase\n",
        ),
        (
            &["login", "--password-stdin"],
            1,
            "the --password-stdin option requires --username to be set\n",
        ),
        (
            &["login", "-u", "a", "-p", "b", "--password-stdin"],
            1,
            "conflicting options: cannot specify both --password and --password-stdin\n",
        ),
        (
            &["inspect", "--type", "bogus", "x"],
            1,
            "unknown type: \"bogus\": must be one of \"config\", \"container\", \"image\", \"network\", \"node\", \"plugin\", \"secret\", \"service\", \"task\", \"volume\"\n",
        ),
        (
            &["-H", "ftp://x", "images"],
            1,
            "invalid bind address format: ftp://x\n",
        ),
    ];
    let mut failures = Vec::new();
    for (args, code, stderr) in cases {
        let out = berth(args, cfg.path());
        if out.code != *code || out.stderr != *stderr || !out.stdout.is_empty() {
            failures.push(format!(
                "berth {args:?}: want exit {code} and {stderr:?}\n{}",
                out.describe()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn unreachable_daemon() {
    let cfg = tempfile::tempdir().unwrap();
    let out = berth(&["images"], cfg.path());
    assert_eq!(out.code, 1, "{}", out.describe());
    assert_eq!(
        out.stderr,
        "Cannot connect to the Berth daemon at unix:///nonexistent/berth-test.sock. Is the berth daemon running?\n"
    );
    // version prints the client part first
    let out = berth(&["version"], cfg.path());
    assert_eq!(out.code, 1, "{}", out.describe());
    assert!(
        out.stdout.starts_with("Client:\n Version:           "),
        "{}",
        out.describe()
    );
    assert!(
        out.stdout.contains(" API version:       1.50\n"),
        "{}",
        out.describe()
    );
    assert!(
        out.stderr.starts_with("Cannot connect to the Berth daemon"),
        "{}",
        out.describe()
    );
    // TCP too
    let port = berth_testutil::registry::free_port();
    let out = Client::berth(&format!("tcp://127.0.0.1:{port}"), cfg.path()).run(&["info"]);
    assert_eq!(out.code, 1, "{}", out.describe());
    assert!(
        out.stdout.starts_with("Client:\n Version:    "),
        "{}",
        out.describe()
    );
    assert_eq!(
        out.stderr,
        format!(
            "Cannot connect to the Berth daemon at tcp://127.0.0.1:{port}. Is the berth daemon running?\n"
        )
    );
}

#[test]
fn version_flag() {
    let cfg = tempfile::tempdir().unwrap();
    for flag in ["-v", "--version"] {
        let out = berth(&[flag], cfg.path());
        assert_eq!(out.code, 0);
        assert_eq!(
            out.stdout,
            format!("Berth version {}\n", env!("CARGO_PKG_VERSION"))
        );
    }
}

/// `berth logout` erases with the configured credential helper and the
/// file entry, and says so; a failing helper is a warning, as in docker.
#[test]
fn logout_uses_the_credential_helper() {
    let bin = tempfile::tempdir().unwrap();
    let log = bin.path().join("calls");
    let script = format!(
        "#!/bin/sh\nread -r url\necho \"$1 $url\" >> {}\ncase \"$url\" in *fail.example*) echo boom; exit 1;; esac\nexit 0\n",
        log.display()
    );
    let helper = bin.path().join("docker-credential-berthtest");
    std::fs::write(&helper, script).unwrap();
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let cfg = tempfile::tempdir().unwrap();
    std::fs::write(
        cfg.path().join("config.json"),
        r#"{"auths":{"reg.example:5000":{}},"credsStore":"berthtest","psFormat":"keep me"}"#,
    )
    .unwrap();
    let mut c = Client::berth("unix:///nonexistent/berth-test.sock", cfg.path());
    c.env.push((
        "PATH".into(),
        format!(
            "{}:{}",
            bin.path().display(),
            std::env::var("PATH").unwrap_or_default()
        ),
    ));
    let out = c.run(&["logout", "reg.example:5000"]);
    assert_eq!(out.code, 0, "{}", out.describe());
    assert_eq!(
        out.stdout,
        "Removing login credentials for reg.example:5000\n"
    );
    let calls = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        calls,
        "erase reg.example:5000\nerase reg.example:5000\nerase http://reg.example:5000\nerase https://reg.example:5000\n"
    );
    let text = std::fs::read_to_string(cfg.path().join("config.json")).unwrap();
    assert!(!text.contains("reg.example"), "{text}");
    assert!(text.contains("\"psFormat\": \"keep me\""), "{text}");

    let out = c.run(&["logout", "fail.example"]);
    assert_eq!(out.code, 0, "{}", out.describe());
    assert!(
        out.stderr
            .starts_with("WARNING: could not erase credentials:\n"),
        "{}",
        out.describe()
    );
    assert!(
        out.stderr
            .contains("fail.example: error erasing credentials"),
        "{}",
        out.describe()
    );
}
