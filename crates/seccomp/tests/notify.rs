//! SCMP_ACT_NOTIFY end to end: a forked child installs a notify filter, hands
//! the listener fd to a seccomp agent (this test) with `send_to_listener`,
//! and the agent answers the child's intercepted syscall through
//! SECCOMP_IOCTL_NOTIF_RECV/SEND.

mod common;

use std::{
    io::IoSliceMut,
    mem::MaybeUninit,
    os::{
        fd::{AsFd, AsRawFd, OwnedFd},
        unix::net::UnixListener,
    },
    path::Path,
};

use berth_seccomp::{ContainerProcessState, Error, ErrorKind, Program, send_to_listener};
use common::{Exit, profile, raw, set_no_new_privs, spawn_child, wait_readable};
use libseccomp::{ScmpNotifReq, ScmpNotifResp, ScmpNotifRespFlags, ScmpSyscall};
use oci_spec::runtime::{ContainerState, State};
use rustix::net::{RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, recvmsg};

fn process_state(pid: i32) -> ContainerProcessState {
    let mut state = State::default();
    state
        .set_version("1.2.0".into())
        .set_id("berth-notify-test".into())
        .set_status(ContainerState::Creating)
        .set_pid(Some(pid))
        .set_bundle("/nonexistent/bundle".into());
    let mut s = ContainerProcessState::default();
    s.set_version("1.2.0".into())
        .set_pid(pid)
        .set_metadata(Some("berth-agent-metadata".into()))
        .set_state(state);
    s
}

/// Accepts one agent connection and reads it to EOF: the message bytes and
/// the fds that came with them.
fn accept_one(listener: &UnixListener) -> (Vec<u8>, Vec<OwnedFd>) {
    wait_readable(listener, "agent connection");
    let (stream, _) = listener.accept().expect("accept");
    let mut bytes = Vec::new();
    let mut fds = Vec::new();
    loop {
        wait_readable(&stream, "agent message");
        let mut buf = [0u8; 65536];
        let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(4))];
        let mut control = RecvAncillaryBuffer::new(&mut space);
        let msg = recvmsg(
            &stream,
            &mut [IoSliceMut::new(&mut buf)],
            &mut control,
            RecvFlags::CMSG_CLOEXEC,
        )
        .expect("recvmsg");
        for m in control.drain() {
            if let RecvAncillaryMessage::ScmRights(rights) = m {
                fds.extend(rights);
            }
        }
        if msg.bytes == 0 {
            return (bytes, fds);
        }
        bytes.extend_from_slice(&buf[..msg.bytes]);
    }
}

fn notify_profile(sock: &Path, flags: &str) -> Program {
    let json = format!(
        r#"{{"defaultAction":"SCMP_ACT_ALLOW","listenerPath":{sock:?},
            "listenerMetadata":"berth-agent-metadata"{flags},
            "syscalls":[{{"names":["getppid"],"action":"SCMP_ACT_NOTIFY"}}]}}"#
    );
    Program::compile(&profile(&json)).expect("compile notify profile")
}

#[test]
fn an_agent_receives_the_listener_and_answers_the_notification() {
    let dir = common::TestDir::new();
    let sock = dir.path().join("agent.sock");
    let listener = UnixListener::bind(&sock).expect("bind agent socket");

    for flags in [
        "",
        r#","flags":["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV","SECCOMP_FILTER_FLAG_TSYNC"]"#,
    ] {
        let p = notify_profile(&sock, flags);
        assert!(p.needs_listener());
        assert_ne!(p.flags() & (1 << 3), 0, "NEW_LISTENER requested");
        if flags.contains("TSYNC") {
            // The kernel refuses TSYNC with NEW_LISTENER without TSYNC_ESRCH.
            assert_eq!(
                p.flags(),
                0b11_1001,
                "TSYNC|NEW_LISTENER|TSYNC_ESRCH|WAIT_KILLABLE_RECV"
            );
        }

        let sock_path = sock.clone();
        let child = spawn_child(|r| {
            set_no_new_privs();
            let fd = match p.install() {
                Ok(Some(fd)) => fd,
                Ok(None) => return r.push(-1000),
                Err(_) => return r.push(-1001),
            };
            r.push(0);
            // SAFETY: getpid has no arguments.
            let pid = unsafe { libc::getpid() };
            r.push(
                match send_to_listener(&sock_path, fd.as_fd(), &process_state(pid)) {
                    Ok(()) => 0,
                    Err(_) => -1,
                },
            );
            drop(fd);
            // Intercepted: blocks until the agent answers.
            r.push(raw(libc::SYS_getppid, [0; 3]));
        });

        let (json, mut fds) = accept_one(&listener);
        let got: ContainerProcessState = serde_json::from_slice(&json).expect("state JSON");
        assert_eq!(got.fds(), &vec!["seccompFd".to_string()], "{flags}");
        assert_eq!(*got.pid(), child.pid);
        assert_eq!(got.metadata().as_deref(), Some("berth-agent-metadata"));
        assert_eq!(got.state().id(), "berth-notify-test");
        assert_eq!(fds.len(), 1, "exactly one fd in SCM_RIGHTS");
        let notify_fd = fds.remove(0);

        wait_readable(&notify_fd, "seccomp notification");
        let req = ScmpNotifReq::receive(notify_fd.as_raw_fd()).expect("SECCOMP_IOCTL_NOTIF_RECV");
        assert_eq!(req.pid as i32, child.pid);
        assert_eq!(
            req.data.syscall,
            ScmpSyscall::from_name("getppid").expect("getppid")
        );
        ScmpNotifResp::new_val(req.id, 4242, ScmpNotifRespFlags::empty())
            .respond(notify_fd.as_raw_fd())
            .expect("SECCOMP_IOCTL_NOTIF_SEND");

        let res = child.finish();
        assert_eq!(res.exit, Exit::Code(0), "{flags}");
        assert_eq!(
            res.values,
            [0, 0, 4242],
            "{flags}: the agent's answer is the syscall's result"
        );
    }
}

#[test]
fn send_to_listener_passes_a_working_fd_and_the_state() {
    let dir = common::TestDir::new();
    let sock = dir.path().join("agent.sock");
    let listener = UnixListener::bind(&sock).expect("bind agent socket");
    let (rd, wr) = rustix::pipe::pipe().expect("pipe");
    // A state bigger than one socket buffer goes out in several pieces.
    let mut state = process_state(1);
    state.set_metadata(Some("m".repeat(600 * 1024)));

    let agent = std::thread::spawn(move || accept_one(&listener));
    send_to_listener(&sock, wr.as_fd(), &state).expect("send_to_listener");
    let (json, fds) = agent.join().expect("agent thread");

    let got: ContainerProcessState = serde_json::from_slice(&json).expect("state JSON");
    assert_eq!(got.metadata().as_ref().map(String::len), Some(600 * 1024));
    assert_eq!(got.fds(), &vec!["seccompFd".to_string()]);
    assert_eq!(fds.len(), 1);
    rustix::io::write(&fds[0], b"through the passed fd").expect("write via received fd");
    let mut buf = [0u8; 64];
    let n = rustix::io::read(&rd, &mut buf).expect("read");
    assert_eq!(&buf[..n], b"through the passed fd");
}

#[test]
fn a_missing_agent_is_not_found() {
    let dir = common::TestDir::new();
    let (_rd, wr) = rustix::pipe::pipe().expect("pipe");
    let e = send_to_listener(
        &dir.path().join("nobody.sock"),
        wr.as_fd(),
        &process_state(1),
    )
    .expect_err("no agent");
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert!(matches!(e, Error::Listener(_)));
    assert!(
        e.to_string()
            .starts_with("connect to the seccomp agent at "),
        "{e}"
    );

    let e = send_to_listener(
        &dir.path().join("x".repeat(200)),
        wr.as_fd(),
        &process_state(1),
    )
    .expect_err("path too long");
    assert!(e.to_string().contains("seccomp listener path"), "{e}");
}
