//! One control-socket request: read its line (the client has a second to
//! send it), act, answer, and keep the connection when it becomes a stream
//! (`attach`, `exec`) or waits for the exit (`wait`).

use std::os::unix::net::UnixStream;
use std::time::Duration;

use berth_runtime::container::ExecOptions;

use super::stdio::{self, Plan};
use super::stream::{Stream, Target};
use super::{Exec, Shim};
use crate::protocol::{self, Reply, Request};
use crate::{ErrorKind, ExecSpec, ExecState, Status};

fn runtime_error(e: &berth_runtime::Error) -> Reply {
    Reply::error(ErrorKind::of_runtime(e), e.to_string())
}

fn not_running(what: &str) -> Reply {
    Reply::error(
        ErrorKind::FailedPrecondition,
        format!("cannot {what}: the container is not running"),
    )
}

impl Shim {
    /// Serve a new connection.
    pub(super) fn serve(&mut self, sock: UnixStream) {
        let _ = sock.set_nonblocking(false);
        let _ = sock.set_read_timeout(Some(Duration::from_secs(1)));
        let _ = sock.set_write_timeout(Some(Duration::from_secs(1)));
        let line = match protocol::read_line(&sock) {
            Ok(Some(l)) => l,
            _ => return,
        };
        let req: Request = match serde_json::from_slice(&line) {
            Ok(r) => r,
            Err(e) => {
                let _ = protocol::write_all(
                    &sock,
                    &protocol::line(&Reply::error(
                        ErrorKind::InvalidArgument,
                        format!("bad request: {e}"),
                    )),
                );
                return;
            }
        };
        let _ = sock.set_read_timeout(None);
        let reply = match req {
            Request::Attach {
                stdin,
                stdout,
                stderr,
            } => return self.attach(sock, stdin, stdout, stderr),
            Request::Exec { spec } => return self.exec(sock, &spec),
            Request::Wait if self.exit.is_none() => {
                self.waiters.push(sock);
                return;
            }
            Request::Wait => Reply::Ok {
                state: None,
                exit: self.exit.clone(),
                exec: None,
            },
            other => self.simple(other),
        };
        let _ = protocol::write_all(&sock, &protocol::line(&reply));
    }

    fn running(&self) -> bool {
        self.init_exit.is_none()
    }

    fn simple(&mut self, req: Request) -> Reply {
        let c = &self.held.container;
        match req {
            Request::State => Reply::Ok {
                state: Some(self.state()),
                exit: None,
                exec: None,
            },
            Request::Start => {
                if self.status != Status::Created || !self.running() {
                    return Reply::error(
                        ErrorKind::FailedPrecondition,
                        format!("cannot start container {}: it is not created", self.spec.id),
                    );
                }
                match self.held.start() {
                    Ok(warnings) => {
                        for w in warnings {
                            eprintln!("berth-shim: poststart hook: {w}");
                        }
                        self.status = Status::Running;
                        self.trim_at =
                            Some(std::time::Instant::now() + std::time::Duration::from_millis(200));
                        Reply::ok()
                    }
                    Err(e) => {
                        // The init exits by itself; its exit is processed as
                        // any other, with Docker's code for the reason.
                        let kind = ErrorKind::of_runtime(&e);
                        self.start_error_code = Some(kind.exit_code());
                        Reply::error(kind, e.to_string())
                    }
                }
            }
            Request::Resize { height, width } => match &self.init.master {
                Some(m) => match berth_runtime::console::set_size(
                    std::os::fd::AsFd::as_fd(m),
                    height,
                    width,
                ) {
                    Ok(()) => Reply::ok(),
                    Err(e) => Reply::error(ErrorKind::Other, format!("resize: {e}")),
                },
                None if self.spec.tty => not_running("resize"),
                None => Reply::error(
                    ErrorKind::InvalidArgument,
                    "the container has no terminal to resize",
                ),
            },
            Request::Kill { signal, all } => {
                if !self.running() {
                    return not_running("kill");
                }
                match c.kill(signal, all) {
                    Ok(()) => Reply::ok(),
                    Err(e) => runtime_error(&e),
                }
            }
            Request::Pause | Request::Resume => {
                if !self.running() {
                    return not_running("pause or resume");
                }
                let pause = matches!(req, Request::Pause);
                let r = if pause { c.pause() } else { c.resume() };
                match r {
                    Ok(()) => {
                        if self.status != Status::Created {
                            self.status = if pause {
                                Status::Paused
                            } else {
                                Status::Running
                            };
                        }
                        Reply::ok()
                    }
                    Err(e) => runtime_error(&e),
                }
            }
            Request::Update { resources } => {
                if !self.running() {
                    return not_running("update");
                }
                match c.update(&resources) {
                    Ok(()) => Reply::ok(),
                    Err(e) => runtime_error(&e),
                }
            }
            Request::ExecState { exec_id } => match self.find_exec(&exec_id) {
                Some(e) => Reply::Ok {
                    state: None,
                    exit: None,
                    exec: Some(ExecState {
                        pid: e.pid,
                        running: e.exit_code.is_none(),
                        exit_code: e.exit_code,
                    }),
                },
                None => no_exec(&exec_id),
            },
            Request::ExecResize {
                exec_id,
                height,
                width,
            } => match self.find_exec(&exec_id) {
                Some(Exec {
                    io:
                        stdio::ProcIo {
                            master: Some(m), ..
                        },
                    ..
                }) => match berth_runtime::console::set_size(
                    std::os::fd::AsFd::as_fd(m),
                    height,
                    width,
                ) {
                    Ok(()) => Reply::ok(),
                    Err(e) => Reply::error(ErrorKind::Other, format!("resize: {e}")),
                },
                Some(_) => Reply::error(
                    ErrorKind::InvalidArgument,
                    format!("exec {exec_id} has no terminal to resize"),
                ),
                None => no_exec(&exec_id),
            },
            Request::ExecKill { exec_id, signal } => match self.find_exec(&exec_id) {
                Some(e) if e.exit_code.is_none() => {
                    let Some(sig) = rustix::process::Signal::from_named_raw(signal) else {
                        return Reply::error(
                            ErrorKind::InvalidArgument,
                            format!("invalid signal {signal}"),
                        );
                    };
                    let r = match &e.pidfd {
                        Some(fd) => rustix::process::pidfd_send_signal(fd, sig),
                        None => match rustix::process::Pid::from_raw(e.pid) {
                            Some(p) => rustix::process::kill_process(p, sig),
                            None => Ok(()),
                        },
                    };
                    match r {
                        Ok(()) => Reply::ok(),
                        Err(err) => {
                            Reply::error(ErrorKind::Other, format!("signal exec {exec_id}: {err}"))
                        }
                    }
                }
                Some(_) => Reply::error(
                    ErrorKind::FailedPrecondition,
                    format!("exec {exec_id} is not running"),
                ),
                None => no_exec(&exec_id),
            },
            Request::Shutdown => {
                if self.exit.is_none() {
                    return Reply::error(
                        ErrorKind::FailedPrecondition,
                        format!(
                            "the container {} has not exited: kill it first",
                            self.spec.id
                        ),
                    );
                }
                self.shutdown = true;
                Reply::ok()
            }
            Request::Wait | Request::Attach { .. } | Request::Exec { .. } => {
                Reply::error(ErrorKind::Other, "internal: not a simple request")
            }
        }
    }

    fn find_exec(&self, id: &str) -> Option<&Exec> {
        self.execs.iter().rev().find(|e| e.id == id)
    }

    fn attach(&mut self, sock: UnixStream, stdin: bool, stdout: bool, stderr: bool) {
        if protocol::write_all(&sock, &protocol::line(&Reply::ok())).is_err() {
            return;
        }
        if self.exit.is_some() {
            // Nothing more will come: end-of-file at once.
            return;
        }
        let mut s = Stream::new(sock, Target::Init, !self.spec.tty);
        s.stdout = stdout;
        s.stderr = stderr;
        s.stdin = stdin && self.spec.open_stdin;
        self.streams.push(s);
    }

    fn exec(&mut self, sock: UnixStream, spec: &ExecSpec) {
        let reply = |r: &Reply| {
            let _ = protocol::write_all(&sock, &protocol::line(r));
        };
        if !self.running() || self.status == Status::Created {
            return reply(&not_running("exec in"));
        }
        if self
            .execs
            .iter()
            .any(|e| e.id == spec.exec_id && e.exit_code.is_none())
        {
            return reply(&Reply::error(
                ErrorKind::AlreadyExists,
                format!("exec {} is running already", spec.exec_id),
            ));
        }
        let tty = spec.process.terminal() == Some(true);
        let attached = !spec.detach;
        let (plan, mut io) = match Plan::new(
            tty,
            attached && spec.attach_stdin,
            attached && spec.attach_stdout,
            attached && spec.attach_stderr,
        ) {
            Ok(p) => p,
            Err(e) => {
                return reply(&Reply::error(
                    ErrorKind::Other,
                    format!("create the exec's pipes: {e}"),
                ));
            }
        };
        if let Err(e) = plan.install(&self.restore.devnull) {
            self.restore.restore();
            return reply(&Reply::error(
                ErrorKind::Other,
                format!("set up the exec's stdio: {e}"),
            ));
        }
        let started = self.held.container.exec_process(&ExecOptions {
            process: Some(spec.process.clone()),
            ..ExecOptions::default()
        });
        self.restore.restore();
        drop(plan);
        let started = match started {
            Ok(s) => s,
            Err(e) => {
                // Reap the failed child now (it is ours).
                self.reap();
                return reply(&runtime_error(&e));
            }
        };
        if let Some(master) = started.pty
            && let Err(e) = stdio::adopt_master(&mut io, master, attached && spec.attach_stdin)
        {
            eprintln!("berth-shim: exec pty: {e}");
        }
        let serial = self.next_serial;
        self.next_serial += 1;
        // Entering the container allocated (its spec, the filter): give
        // the pages back once things are quiet again.
        self.trim_at = Some(std::time::Instant::now() + std::time::Duration::from_millis(200));
        self.execs.push(Exec {
            serial,
            id: spec.exec_id.clone(),
            pid: started.pid,
            pidfd: started.pidfd,
            io,
            exit_code: None,
        });
        reply(&Reply::Ok {
            state: None,
            exit: None,
            exec: Some(ExecState {
                pid: started.pid,
                running: true,
                exit_code: None,
            }),
        });
        if spec.detach {
            return;
        }
        let mut s = Stream::new(sock, Target::Exec(serial), !tty);
        s.stdout = spec.attach_stdout;
        s.stderr = spec.attach_stderr;
        s.stdin = spec.attach_stdin;
        self.streams.push(s);
    }
}

fn no_exec(id: &str) -> Reply {
    Reply::error(ErrorKind::NotFound, format!("no such exec: {id}"))
}
