//! The daemon and its API as clients see them: `/_ping` and its headers,
//! the version prefixes berthd accepts and dockerd's errors for the ones it
//! does not, Docker's JSON error bodies, the socket's owner and mode, the
//! locks that let several berthd run side by side but never two on one
//! data root or pid file, TCP refused without mutual TLS, events, and the
//! docker 20.10 client.

mod support;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::process::Command;

use support::*;

fn root(test: &str) -> bool {
    require_root(test)
}

#[test]
fn ping_versions_and_errors_are_dockerds() {
    if !root("ping_versions_and_errors_are_dockerds") {
        return;
    }
    let d = berthd(&[]);

    for path in ["/_ping", "/v1.24/_ping", "/v1.47/_ping"] {
        let r = d.api("GET", path, None);
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.text(), "OK");
        assert_eq!(r.header("api-version"), Some("1.47"), "{path}: {r:?}");
        assert_eq!(r.header("ostype"), Some("linux"));
        assert_eq!(r.header("docker-experimental"), Some("false"));
        assert!(
            r.header("cache-control")
                .is_some_and(|v| v.contains("no-cache")),
            "{r:?}"
        );
    }
    let head = d.api("HEAD", "/_ping", None);
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(head.header("api-version"), Some("1.47"));

    let version = d.api("GET", "/version", None).json();
    assert_eq!(version["ApiVersion"], "1.47");
    assert_eq!(version["MinAPIVersion"], "1.24");
    assert_eq!(version["Os"], "linux");
    assert_eq!(version["Arch"], "amd64");

    // Every prefix from 1.24 to the advertised version is served.
    for minor in 24..=47 {
        let r = d.api("GET", &format!("/v1.{minor}/version"), None);
        assert_eq!(r.status, 200, "v1.{minor}: {}", r.text());
    }
    let old = d.api("GET", "/v1.23/version", None);
    assert_eq!(old.status, 400);
    assert_eq!(
        old.json()["message"],
        "client version 1.23 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version"
    );
    let new = d.api("GET", "/v1.99/images/json", None);
    assert_eq!(new.status, 400);
    assert_eq!(
        new.json()["message"],
        "client version 1.99 is too new. Maximum supported API version is 1.47"
    );

    // Docker's JSON error bodies and status codes.
    let r = d.api("GET", "/v1.47/no/such/route", None);
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["message"], "page not found");
    let r = d.api("GET", "/v1.47/images/nosuch/json", None);
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["message"], "No such image: nosuch:latest");
    assert_eq!(r.header("content-type"), Some("application/json"));
    let r = d.api("GET", "/v1.47/images/json?filters=%7Bbad", None);
    assert_eq!(r.status, 400, "{}", r.text());
    let r = d.api("POST", "/v1.47/images/create?fromImage=UPPER", None);
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(
        r.json()["message"]
            .as_str()
            .is_some_and(|m| m.contains("must be lowercase")),
        "{}",
        r.text()
    );

    // /info and /system/df answer with Docker's shapes.
    let info = d.api("GET", "/v1.47/info", None).json();
    assert_eq!(info["Driver"], "overlay2");
    assert_eq!(info["Images"], 0);
    assert_eq!(
        info["DockerRootDir"],
        d.data_root().display().to_string().as_str()
    );
    let df = d.api("GET", "/v1.47/system/df", None).json();
    assert!(
        df["Images"].is_array() && df["LayersSize"].is_number(),
        "{df}"
    );
}

#[test]
fn socket_locks_and_tcp_policy() {
    if !root("socket_locks_and_tcp_policy") {
        return;
    }
    let a = berthd(&[]);
    let b = berthd(&[]);
    // Two daemons side by side, each on its own paths.
    assert_eq!(a.api("GET", "/_ping", None).status, 200);
    assert_eq!(b.api("GET", "/_ping", None).status, 200);

    let meta = std::fs::metadata(a.socket()).expect("the socket");
    assert_eq!(meta.uid(), 0, "owned by root");
    assert_eq!(meta.permissions().mode() & 0o777, 0o660);
    let pidfile = std::fs::read_to_string(a.dir().join("berthd.pid")).expect("the pid file");
    assert_eq!(pidfile.trim().parse::<u32>().ok(), a.pid());

    let bin = env!("CARGO_BIN_EXE_berthd");
    let scratch = tempfile::Builder::new()
        .prefix("berth-api-test-")
        .tempdir()
        .expect("scratch");
    let s = scratch.path().display().to_string();
    // A second daemon on a's data root is refused, and a keeps running.
    let out = Command::new(bin)
        .arg(format!("--data-root={}", a.data_root().display()))
        .arg(format!("--exec-root={s}/exec"))
        .arg(format!("--pidfile={s}/p.pid"))
        .arg(format!("--host=unix://{s}/s.sock"))
        .output()
        .expect("run berthd");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("another berthd is using the data root"),
        "{err}"
    );
    // The same for its pid file.
    let out = Command::new(bin)
        .arg(format!("--data-root={s}/data"))
        .arg(format!("--exec-root={s}/exec"))
        .arg(format!(
            "--pidfile={}",
            a.dir().join("berthd.pid").display()
        ))
        .arg(format!("--host=unix://{s}/s.sock"))
        .output()
        .expect("run berthd");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("pid"), "{err}");
    assert_eq!(a.api("GET", "/_ping", None).status, 200);

    // TCP without --tlsverify is refused before anything listens.
    let port = berth_testutil::registry::free_port();
    let out = Command::new(bin)
        .arg(format!("--data-root={s}/data"))
        .arg(format!("--exec-root={s}/exec"))
        .arg(format!("--pidfile={s}/p.pid"))
        .arg(format!("--host=tcp://127.0.0.1:{port}"))
        .output()
        .expect("run berthd");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("TLS") || err.contains("tls"), "{err}");
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}

#[test]
fn events_of_image_operations_and_the_20_10_client() {
    let Some((registry, _)) = setup(
        "events_of_image_operations_and_the_20_10_client",
        Fixture::Busybox,
        "busybox",
    ) else {
        return;
    };
    let d = berthd(&[]);
    let since = ok(Command::new("date").arg("+%s").output().expect("date"));
    let image = format!("{}/busybox", registry.host);
    ok(d.docker(&["pull", "-q", &image]));
    ok(d.docker(&["tag", &image, "berth-events:v1"]));
    ok(d.docker(&["rmi", "berth-events:v1"]));
    // The CLI sends `--until 0s` as whole seconds (so does dockerd read
    // it): let this second pass.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let events = ok(d.docker(&[
        "events",
        "--since",
        since.trim(),
        "--until",
        "0s",
        "--format",
        "{{.Type}} {{.Action}} {{.Actor.ID}}",
    ]));
    let lines: Vec<&str> = events.lines().collect();
    assert!(
        lines
            .iter()
            .any(|l| *l == format!("image pull {image}:latest")),
        "{events}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("image tag sha256:")),
        "{events}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("image untag sha256:")),
        "{events}"
    );
    let filtered = ok(d.docker(&[
        "events",
        "--since",
        since.trim(),
        "--until",
        "0s",
        "--filter",
        "event=tag",
        "--format",
        "{{.Action}}",
    ]));
    assert_eq!(filtered.trim(), "tag");

    // Debian's docker 20.10 client (API 1.41) lists and inspects the same.
    let old = std::path::Path::new(berth_testutil::berthd::DOCKER_CLI_20);
    if old.exists() {
        let out = ok(d.docker_with(
            old,
            &["images", "--format", "{{.Repository}}:{{.Tag}}"],
            None,
        ));
        assert_eq!(out.trim(), format!("{image}:latest"));
        let out = ok(d.docker_with(
            old,
            &["version", "--format", "{{.Server.APIVersion}}"],
            None,
        ));
        assert_eq!(out.trim(), "1.47");
    } else {
        eprintln!(
            "SKIP (part): the docker 20.10 client is missing: {}",
            old.display()
        );
    }
}
