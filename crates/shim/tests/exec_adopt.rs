//! Exec in a running container (output, exit code, errors, tty), and a shim
//! that outlives the process that spawned it and is re-adopted from its
//! state directory. Root only.

mod util;

use std::io::Write;

use berth_shim::{Client, ErrorKind, ExecSpec};
use berth_testutil::require_root;
use util::{Fixture, demux, read_all};

fn process(args: &[&str], tty: bool) -> oci_spec::runtime::Process {
    let mut p: oci_spec::runtime::Process = serde_json::from_value(serde_json::json!({
        "terminal": tty,
        "user": {"uid": 0, "gid": 0},
        "args": args,
        "env": ["PATH=/bin"],
        "cwd": "/"
    }))
    .unwrap();
    p.set_terminal(Some(tty));
    p
}

fn exec_spec(id: &str, args: &[&str]) -> ExecSpec {
    ExecSpec {
        exec_id: id.into(),
        process: process(args, false),
        attach_stdin: false,
        attach_stdout: true,
        attach_stderr: true,
        detach: false,
    }
}

#[test]
fn exec_output_exit_code_and_errors() {
    if !require_root("exec_output_exit_code_and_errors") {
        return;
    }
    let f = Fixture::new(&["sleep", "1000"]);
    let c = f.spawn();
    let shim = f.shim_pid().unwrap();
    // Not before start.
    let e = c.exec(&exec_spec("e0", &["true"])).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::FailedPrecondition, "{e}");
    c.start().unwrap();

    let s = c
        .exec(&exec_spec(
            "e1",
            &["sh", "-c", "echo out; echo err >&2; exit 7"],
        ))
        .unwrap();
    let (out, err) = demux(&read_all(&s));
    assert_eq!((out.as_str(), err.as_str()), ("out\n", "err\n"));
    let st = c.exec_state("e1").unwrap();
    assert!(!st.running);
    assert_eq!(st.exit_code, Some(7));
    assert!(st.pid > 0);

    // stdin: EOF from the client closes the exec's stdin.
    let mut spec = exec_spec("e2", &["cat"]);
    spec.attach_stdin = true;
    let s = c.exec(&spec).unwrap();
    (&s).write_all(b"piped\n").unwrap();
    s.shutdown(std::net::Shutdown::Write).unwrap();
    assert_eq!(demux(&read_all(&s)).0, "piped\n");
    assert_eq!(c.exec_state("e2").unwrap().exit_code, Some(0));

    // A tty exec.
    let mut spec = exec_spec("e3", &["sh", "-c", "stty size; tty"]);
    spec.process = process(&["sh", "-c", "sleep 0.2; stty size; tty"], true);
    let s = c.exec(&spec).unwrap();
    c.exec_resize("e3", 12, 34).unwrap();
    let out = String::from_utf8(read_all(&s)).unwrap();
    assert!(out.contains("12 34"), "{out:?}");
    assert!(out.contains("/dev/pts/"), "{out:?}");

    // Not found / not executable: the kinds docker maps to 127 / 126.
    let e = c.exec(&exec_spec("e4", &["no-such-cmd"])).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ExecutableNotFound, "{e}");
    assert_eq!(e.kind().exit_code(), 127);
    let e = c.exec(&exec_spec("e5", &["/etc"])).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PermissionDenied, "{e}");
    assert_eq!(
        c.exec_state("nope").unwrap_err().kind(),
        ErrorKind::NotFound
    );

    // A detached exec, killed.
    let mut spec = exec_spec("e6", &["sleep", "1000"]);
    spec.detach = true;
    let s = c.exec(&spec).unwrap();
    assert!(read_all(&s).is_empty());
    assert!(c.exec_state("e6").unwrap().running);
    c.exec_kill("e6", 9).unwrap();
    for _ in 0..200 {
        if !c.exec_state("e6").unwrap().running {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert_eq!(c.exec_state("e6").unwrap().exit_code, Some(137));

    // (SIGTERM would do nothing: sleep is pid 1 and has no handler.)
    c.kill(9, false).unwrap();
    assert_eq!(c.wait().unwrap().code, 137);
    f.wait_shim_gone(shim);
    f.assert_no_leaks();
}

/// Run as a child process: spawn a shim, print its state dir's client pid,
/// exit. The test then re-adopts the shim whose parent died.
#[test]
fn helper_spawn_and_die() {
    let Ok(spec) = std::env::var("BERTH_SHIM_TEST_SPEC") else {
        return;
    };
    let spec: berth_shim::ShimSpec = serde_json::from_str(&spec).unwrap();
    let c = berth_shim::spawn(&util::shim_bin(), &spec).unwrap();
    c.start().unwrap();
    println!("PID={}", c.pid());
}

#[test]
fn survives_its_parent_and_is_readopted() {
    if !require_root("survives_its_parent_and_is_readopted") {
        return;
    }
    let f = Fixture::new(&["sh", "-c", "read x; echo got $x; exit 5"]);
    let mut spec = f.spec.clone();
    spec.open_stdin = true;
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "helper_spawn_and_die", "--nocapture"])
        .env(
            "BERTH_SHIM_TEST_SPEC",
            serde_json::to_string(&spec).unwrap(),
        )
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    let pid: i32 = text
        .lines()
        .find_map(|l| l.strip_prefix("PID="))
        .expect("helper printed the pid")
        .trim()
        .parse()
        .unwrap();
    let shim = f.shim_pid().unwrap();
    assert!(util::alive(shim));
    // Its own session, not our child.
    let stat = std::fs::read_to_string(format!("/proc/{shim}/stat")).unwrap();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(fields[3], shim.to_string(), "session id = its pid: {stat}");
    assert_ne!(fields[1], std::process::id().to_string());
    // SIGTERM, SIGINT, SIGHUP to the shim do nothing.
    for sig in [
        rustix::process::Signal::TERM,
        rustix::process::Signal::INT,
        rustix::process::Signal::HUP,
    ] {
        rustix::process::kill_process(rustix::process::Pid::from_raw(shim).unwrap(), sig).unwrap();
    }
    std::thread::sleep(std::time::Duration::from_millis(50));
    assert!(util::alive(shim));

    let c = Client::connect(&f.spec.state_dir).unwrap();
    assert_eq!(c.pid(), pid);
    assert_eq!(c.state().unwrap().status, berth_shim::Status::Running);
    let s = c.attach(true, true, false).unwrap();
    (&s).write_all(b"again\n").unwrap();
    assert_eq!(demux(&read_all(&s)).0, "got again\n");
    assert_eq!(c.wait().unwrap().code, 5);
    f.wait_shim_gone(shim);
    assert_eq!(berth_shim::read_exit(&f.spec.state_dir).unwrap().code, 5);
    f.assert_no_leaks();
}
