//! A container's files on berthd through the real docker CLI: `docker cp`
//! both ways (files with their mode, directory trees, `dir/.`, to stdout
//! as a tar, from and into a stopped container, a missing path, a
//! read-only root, a symbolic link that points out of the container, the
//! API's errors),
//! `docker export`, `docker diff` and `docker commit` (the image runs,
//! shows in history, takes `--change`). Root only; nothing may be left
//! mounted.

mod support;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

use support::*;

/// Nothing of the containers, and no copy view, stays mounted; no shim runs.
fn no_leaks(d: &Berthd, ids: &[String]) {
    for id in ids {
        assert!(
            berth_testutil::mounts_containing(id).is_empty(),
            "mounts of {id} left"
        );
    }
    assert_eq!(
        views_mounted(d),
        Vec::<String>::new(),
        "copy views left mounted"
    );
    assert_eq!(
        d.shims(),
        Vec::<u32>::new(),
        "shims of this daemon still run"
    );
}

/// The copy views of this daemon (tests run side by side) still mounted.
fn views_mounted(d: &Berthd) -> Vec<String> {
    berth_testutil::mounts_containing(&d.exec_root().display().to_string())
        .into_iter()
        .filter(|m| m.contains("/fsview-"))
        .collect()
}

/// The member names of a tar.
fn tar_list(tar: &[u8]) -> Vec<String> {
    let mut child = Command::new("tar")
        .args(["-tf", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(tar).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "not a tar");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

fn mode_of(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

fn run_detached(d: &Berthd, name: &str, extra: &[&str]) -> String {
    let mut args = vec!["run", "-d", "--name", name];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["busybox", "sleep", "1000"]);
    ok(d.docker(&args)).trim().to_string()
}

#[test]
fn cp_round_trips_running_and_stopped() {
    let Some((d, dir)) = daemon_with_busybox("cp_round_trips_running_and_stopped", &[]) else {
        return;
    };
    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("tree/a")).unwrap();
    std::fs::write(src.join("file.txt"), "hello\n").unwrap();
    std::fs::set_permissions(src.join("file.txt"), PermissionsExt::from_mode(0o640)).unwrap();
    std::fs::write(src.join("tree/a/b.txt"), "deep\n").unwrap();
    std::fs::write(src.join("tree/top.txt"), "top\n").unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_string();

    let id = run_detached(&d, "box", &[]);
    // host → container: a file (new name), a tree.
    ok(d.docker(&["cp", &s(&src.join("file.txt")), "box:/tmp/file.txt"]));
    ok(d.docker(&["cp", &s(&src.join("tree")), "box:/tmp/tree"]));
    assert_eq!(
        ok(d.docker(&["exec", "box", "cat", "/tmp/file.txt", "/tmp/tree/a/b.txt"])),
        "hello\ndeep\n"
    );
    assert_eq!(
        ok(d.docker(&["exec", "box", "stat", "-c", "%a", "/tmp/file.txt"])).trim(),
        "640"
    );
    // Into an existing directory keeps the name.
    ok(d.docker(&["cp", &s(&src.join("file.txt")), "box:/root"]));
    assert_eq!(
        ok(d.docker(&["exec", "box", "cat", "/root/file.txt"])),
        "hello\n"
    );

    // container → host.
    ok(d.docker(&["cp", "box:/tmp/file.txt", &s(&out.join("back.txt"))]));
    assert_eq!(
        std::fs::read_to_string(out.join("back.txt")).unwrap(),
        "hello\n"
    );
    assert_eq!(mode_of(&out.join("back.txt")), 0o640);
    ok(d.docker(&["cp", "box:/tmp/tree", &s(&out.join("tree"))]));
    assert_eq!(
        std::fs::read_to_string(out.join("tree/a/b.txt")).unwrap(),
        "deep\n"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("tree/top.txt")).unwrap(),
        "top\n"
    );
    // `dir/.`: the contents into an existing directory.
    std::fs::create_dir_all(out.join("contents")).unwrap();
    ok(d.docker(&["cp", "box:/tmp/tree/.", &s(&out.join("contents"))]));
    assert!(out.join("contents/a/b.txt").is_file());
    assert!(!out.join("contents/tree").exists());

    // To stdout: a tar.
    let tar = d.docker(&["cp", "box:/tmp/tree", "-"]);
    let names = tar_list(ok_bytes(&tar));
    assert!(names.contains(&"tree/".to_string()), "{names:?}");
    assert!(names.contains(&"tree/a/b.txt".to_string()), "{names:?}");

    // A missing path: Docker's words and exit code.
    let err = fails(d.docker(&["cp", "box:/no/such", &s(&out.join("x"))]), 1);
    assert!(
        err.contains("Could not find the file /no/such in container box"),
        "{err}"
    );

    // A stopped container, both ways.
    ok(d.docker(&["stop", "-t", "0", "box"]));
    ok(d.docker(&["cp", "box:/tmp/file.txt", &s(&out.join("stopped.txt"))]));
    assert_eq!(
        std::fs::read_to_string(out.join("stopped.txt")).unwrap(),
        "hello\n"
    );
    ok(d.docker(&[
        "cp",
        &s(&src.join("tree/top.txt")),
        "box:/tmp/while-stopped",
    ]));
    assert_eq!(views_mounted(&d), Vec::<String>::new());
    ok(d.docker(&["start", "box"]));
    assert_eq!(
        ok(d.docker(&["exec", "box", "cat", "/tmp/while-stopped"])),
        "top\n"
    );
    ok(d.docker(&["rm", "-f", "box"]));

    // A read-only root: refused, but a volume in it takes files.
    let ro = run_detached(&d, "ro", &["--read-only", "-v", "/data"]);
    let err = fails(d.docker(&["cp", &s(&src.join("file.txt")), "ro:/tmp/"]), 1);
    assert!(
        err.contains("container rootfs is marked read-only"),
        "{err}"
    );
    ok(d.docker(&["cp", &s(&src.join("file.txt")), "ro:/data/"]));
    assert_eq!(
        ok(d.docker(&["exec", "ro", "cat", "/data/file.txt"])),
        "hello\n"
    );
    ok(d.docker(&["rm", "-f", "-v", "ro"]));
    no_leaks(&d, &[id, ro]);
}

#[track_caller]
fn ok_bytes(out: &std::process::Output) -> &[u8] {
    assert!(
        out.status.success(),
        "command failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    &out.stdout
}

#[test]
fn cp_through_a_link_out_of_the_container_stays_inside() {
    let Some((d, dir)) =
        daemon_with_busybox("cp_through_a_link_out_of_the_container_stays_inside", &[])
    else {
        return;
    };
    let id = run_detached(&d, "box", &[]);
    ok(d.docker(&["exec", "box", "ln", "-s", "/../../..", "/evil"]));
    ok(d.docker(&["exec", "box", "ln", "-s", "/../../../tmp", "/tmp/evil-tmp"]));
    let marker = format!("berth-cp-escape-{}", std::process::id());
    let src = dir.path().join(&marker);
    std::fs::write(&src, "inside\n").unwrap();

    // Through the CLI (it resolves the link with a stat first).
    ok(d.docker(&["cp", src.to_str().unwrap(), "box:/evil/"]));
    assert!(
        !Path::new("/").join(&marker).exists(),
        "the copy escaped to the host's /"
    );
    assert_eq!(
        ok(d.docker(&["exec", "box", "cat", &format!("/{marker}")])),
        "inside\n"
    );

    // Straight at the API: the daemon resolves the link in the container.
    let tar_path = dir.path().join("one.tar");
    let status = Command::new("tar")
        .arg("-C")
        .arg(dir.path())
        .arg("-cf")
        .arg(&tar_path)
        .arg(&marker)
        .status()
        .unwrap();
    assert!(status.success());
    let tar = std::fs::read(&tar_path).unwrap();
    let r = d.api(
        "PUT",
        "/v1.47/containers/box/archive?path=/evil/tmp/evil-tmp/..&noOverwriteDirNonDir=true",
        Some(&tar),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = d.api(
        "PUT",
        "/v1.47/containers/box/archive?path=/tmp/evil-tmp",
        Some(&tar),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        !Path::new("/tmp").join(&marker).exists(),
        "the copy escaped to the host's /tmp"
    );
    assert_eq!(
        ok(d.docker(&["exec", "box", "cat", &format!("/tmp/{marker}")])),
        "inside\n"
    );
    // Reading through the link reads the container's file, not the host's.
    let tar = d.docker(&["cp", "box:/evil/etc/passwd", "-"]);
    let names = tar_list(ok_bytes(&tar));
    assert_eq!(names, ["passwd"]);
    let text = String::from_utf8_lossy(&tar.stdout);
    assert!(
        text.contains("nobody:x:65534"),
        "not the container's passwd"
    );
    // The stat header shows where the link leads, inside the container.
    let r = d.api("HEAD", "/v1.47/containers/box/archive?path=/evil", None);
    assert_eq!(r.status, 200);
    let stat = r
        .header("X-Docker-Container-Path-Stat")
        .unwrap()
        .to_string();
    let stat = String::from_utf8(
        Command::new("base64")
            .arg("-d")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .and_then(|mut c| {
                c.stdin.take().unwrap().write_all(stat.as_bytes())?;
                c.wait_with_output()
            })
            .unwrap()
            .stdout,
    )
    .unwrap();
    let stat: serde_json::Value = serde_json::from_str(&stat).unwrap();
    assert_eq!(stat["name"], "evil");
    assert_eq!(stat["linkTarget"], "/");
    assert_ne!(stat["mode"].as_u64().unwrap() & (1 << 27), 0, "{stat}");
    ok(d.docker(&["rm", "-f", "box"]));
    no_leaks(&d, &[id]);
}

#[test]
fn export_diff_and_commit() {
    let Some((d, _dir)) = daemon_with_busybox("export_diff_and_commit", &[]) else {
        return;
    };
    let id = ok(d.docker(&[
        "run",
        "-d",
        "--name",
        "box",
        "busybox",
        "sh",
        "-c",
        "echo added > /added.txt; echo staff:x:50: >> /etc/group; rm /bin/true; exec sleep 1000",
    ]))
    .trim()
    .to_string();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while d
        .docker(&["exec", "box", "test", "-e", "/added.txt"])
        .status
        .code()
        != Some(0)
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the container did not write"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }

    let diff = ok(d.docker(&["diff", "box"]));
    let lines: Vec<&str> = diff.lines().collect();
    for want in ["A /added.txt", "C /etc/group", "D /bin/true", "C /bin"] {
        assert!(lines.contains(&want), "{want} missing from:\n{diff}");
    }
    // The files bind-mounted over are not the container's changes (dockerd
    // keeps them in its init layer).
    assert!(!diff.contains("/etc/hostname"), "{diff}");

    let export = d.docker(&["export", "box"]);
    let names = tar_list(ok_bytes(&export));
    for want in ["added.txt", "bin/busybox", "etc/group", "tmp/"] {
        assert!(names.iter().any(|n| n == want), "{want} not exported");
    }
    assert!(
        !names.iter().any(|n| n == "bin/true"),
        "a deleted file exported"
    );

    let image = ok(d.docker(&["commit", "-m", "a message", "box", "committed:v1"]));
    assert!(image.trim().starts_with("sha256:"), "{image}");
    assert_eq!(
        ok(d.docker(&["inspect", "-f", "{{.State.Status}}", "box"])).trim(),
        "running",
        "commit leaves the container running (unpaused)"
    );
    assert_eq!(
        ok(d.docker(&["run", "--rm", "committed:v1", "cat", "/added.txt"])),
        "added\n"
    );
    assert_eq!(
        ok(d.docker(&["run", "--rm", "committed:v1", "grep", "staff", "/etc/group"])),
        "staff:x:50:\n"
    );
    fails(
        d.docker(&["run", "--rm", "committed:v1", "ls", "/bin/true"]),
        1,
    );
    // The layer holds the container's changes, not its mount points.
    let history_sizes = ok(d.docker(&["history", "--format", "{{.Size}}", "committed:v1"]));
    assert_ne!(history_sizes.lines().next(), Some("0B"), "{history_sizes}");
    // A container of the image, never started: the mount point files the
    // runtime made in `box` are not in the image.
    ok(d.docker(&["create", "--name", "fresh", "committed:v1"]));
    let err = fails(d.docker(&["cp", "fresh:/etc/hostname", "-"]), 1);
    assert!(err.contains("Could not find the file"), "{err}");
    let tar = d.docker(&["cp", "fresh:/added.txt", "-"]);
    assert_eq!(tar_list(ok_bytes(&tar)), ["added.txt"]);
    ok(d.docker(&["rm", "fresh"]));
    let history = ok(d.docker(&[
        "history",
        "--no-trunc",
        "--format",
        "{{.Comment}}",
        "committed:v1",
    ]));
    let history: Vec<&str> = history.lines().collect();
    assert_eq!(history.len(), 2, "{history:?}");
    assert_eq!(history[0], "a message");

    ok(d.docker(&[
        "commit",
        "--change",
        r#"CMD ["cat","/added.txt"]"#,
        "--change",
        "ENV FROM_COMMIT=yes",
        "box",
        "committed:v2",
    ]));
    assert_eq!(ok(d.docker(&["run", "--rm", "committed:v2"])), "added\n");
    assert_eq!(
        ok(d.docker(&[
            "run",
            "--rm",
            "committed:v2",
            "sh",
            "-c",
            "echo $FROM_COMMIT"
        ])),
        "yes\n"
    );
    // Missing containers, bad changes.
    let err = fails(d.docker(&["commit", "nosuch", "x:y"]), 1);
    assert!(err.contains("No such container"), "{err}");
    let err = fails(d.docker(&["commit", "--change", "RUN true", "box"]), 1);
    assert!(err.contains("not a valid change command"), "{err}");

    ok(d.docker(&["rm", "-f", "box"]));
    ok(d.docker(&["rmi", "committed:v1", "committed:v2"]));
    // The image committed from keeps its layers.
    assert_eq!(
        ok(d.docker(&["run", "--rm", "busybox", "ls", "/bin/true"])),
        "/bin/true\n"
    );
    no_leaks(&d, &[id]);
}

#[test]
fn archive_errors_are_dockerds() {
    let Some((d, dir)) = daemon_with_busybox("archive_errors_are_dockerds", &[]) else {
        return;
    };
    let id = run_detached(&d, "box", &[]);
    ok(d.docker(&["exec", "box", "sh", "-c", "echo f > /tmp/file.txt"]));
    // A tar whose directory `file.txt/` meets the file /tmp/file.txt.
    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("file.txt")).unwrap();
    std::fs::write(src.join("file.txt/inner"), "i\n").unwrap();
    let tar_path = dir.path().join("dir.tar");
    let status = Command::new("tar")
        .arg("-C")
        .arg(&src)
        .arg("-cf")
        .arg(&tar_path)
        .arg("file.txt")
        .status()
        .unwrap();
    assert!(status.success());
    let tar = std::fs::read(&tar_path).unwrap();
    let r = d.api(
        "PUT",
        "/v1.47/containers/box/archive?path=/tmp&noOverwriteDirNonDir=true",
        Some(&tar),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .contains("cannot overwrite non-directory"),
        "{}",
        r.text()
    );
    assert_eq!(
        ok(d.docker(&["exec", "box", "cat", "/tmp/file.txt"])),
        "f\n",
        "the refused member changed nothing"
    );
    // Extracting onto a file, into a missing directory, without a path.
    let r = d.api(
        "PUT",
        "/v1.47/containers/box/archive?path=/tmp/file.txt",
        Some(&tar),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(r.json()["message"], "extraction point is not a directory");
    let r = d.api(
        "PUT",
        "/v1.47/containers/box/archive?path=/nope",
        Some(&tar),
    );
    assert_eq!(r.status, 404, "{}", r.text());
    assert_eq!(
        r.json()["message"],
        "Could not find the file /nope in container box"
    );
    let r = d.api("GET", "/v1.47/containers/box/archive", None);
    assert_eq!(r.status, 400, "{}", r.text());
    let r = d.api("HEAD", "/v1.47/containers/box/archive?path=/nope", None);
    assert_eq!(r.status, 404);
    let r = d.api("GET", "/v1.47/containers/nosuch/archive?path=/", None);
    assert_eq!(r.status, 404);
    let r = d.api("GET", "/v1.47/containers/nosuch/export", None);
    assert_eq!(r.status, 404);
    let r = d.api("GET", "/v1.47/containers/nosuch/changes", None);
    assert_eq!(r.status, 404);
    ok(d.docker(&["rm", "-f", "box"]));
    no_leaks(&d, &[id]);
}
