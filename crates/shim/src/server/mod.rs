//! The `berth-shim` process: start-up (daemonize, create the container,
//! report readiness) and the single-threaded `poll` loop that serves the
//! container's stdio, its log, its streams and the control socket until the
//! container exited and everything is flushed (see the crate doc for the
//! protocol and the exit rule).
//!
//! Start-up, with `spawn` (berthd) waiting on the readiness pipe, which is
//! our stdout:
//!
//! ```text
//! berthd: spawn ── fork/exec ──▶ berth-shim (A)   seal the binary (CVE-2019-5736)
//!                                  └─ fork ──▶ (B) A exits; B: setsid, subreaper,
//!                                                  block signals, bind shim.sock,
//!                                                  pipes on 0/1/2, create_held,
//!                                  ◀── {"result":"ok","state":{..}} ── (pipe)
//! ```

mod requests;
mod stdio;
mod stream;

use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::time::{Instant, SystemTime};

use berth_runtime::container::{Container, CreateOptions, Held};
use rustix::event::{PollFd, PollFlags};

use crate::client::{EXIT_FILE, PID_FILE, SOCK_FILE, SPEC_FILE};
use crate::jsonlog::{self, JsonLog, Stream as Kind};
use crate::protocol::{self, Reply};
use crate::{ErrorKind, ExitStatus, ShimSpec, ShimState, Status};
use stdio::{ProcIo, Restore};
use stream::{Stream, Target};

/// Finished execs remembered for `exec_state`.
const FINISHED_EXECS_KEPT: usize = 64;

/// An exec'd process.
#[derive(Debug)]
struct Exec {
    serial: u64,
    id: String,
    pid: i32,
    pidfd: Option<OwnedFd>,
    io: ProcIo,
    exit_code: Option<i32>,
}

/// The shim's state.
struct Shim {
    spec: ShimSpec,
    listener: UnixListener,
    sigfd: OwnedFd,
    restore: Restore,
    held: Held,
    status: Status,
    init: ProcIo,
    log: Option<JsonLog>,
    streams: Vec<Stream>,
    waiters: Vec<UnixStream>,
    execs: Vec<Exec>,
    next_serial: u64,
    /// The init was reaped: (code, signal).
    init_exit: Option<(i32, Option<i32>)>,
    oom_killed: bool,
    /// `start` failed: the exit code Docker would report (125/126/127).
    start_error_code: Option<i32>,
    drain_deadline: Option<Instant>,
    exit: Option<ExitStatus>,
    flush_deadline: Option<Instant>,
    /// When to give the heap's free pages back (a moment after the
    /// container starts, off the start request's path).
    pub(super) trim_at: Option<Instant>,
    shutdown: bool,
    buf: Vec<u8>,
}

/// Entry point of `berth-shim <state_dir>`; returns the exit code.
pub fn main(state_dir: &Path) -> i32 {
    // Our stdout is the readiness pipe until we report.
    let spec: ShimSpec = match std::fs::read(state_dir.join(SPEC_FILE))
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
    {
        Ok(s) => s,
        Err(e) => {
            report(
                rustix::stdio::stdout(),
                &Reply::error(
                    ErrorKind::InvalidArgument,
                    format!("read {}: {e}", state_dir.join(SPEC_FILE).display()),
                ),
            );
            return 1;
        }
    };
    if let Err(e) = berth_runtime::exeseal::ensure_sealed(&spec.runtime_root.join(".exeseal")) {
        eprintln!("berth-shim: warning: running unsealed: {e}");
    }
    match berth_runtime::sys::clone3(&berth_runtime::sys::CloneArgs::default()) {
        Ok(berth_runtime::sys::Forked::Parent { .. }) => return 0,
        Ok(berth_runtime::sys::Forked::Child) => {}
        Err(e) => {
            report(
                rustix::stdio::stdout(),
                &Reply::error(ErrorKind::Other, format!("fork the shim: {e}")),
            );
            return 1;
        }
    }
    let ready = match rustix::io::fcntl_dupfd_cloexec(rustix::stdio::stdout(), 3) {
        Ok(fd) => fd,
        Err(_) => return 1,
    };
    match start(spec, state_dir) {
        Ok(mut shim) => {
            report(
                &ready,
                &Reply::Ok {
                    state: Some(shim.state()),
                    exit: None,
                    exec: None,
                },
            );
            drop(ready);
            shim.run();
            shim.cleanup_files();
            0
        }
        Err(reply) => {
            let _ = std::fs::remove_file(state_dir.join(SOCK_FILE));
            let _ = std::fs::remove_file(state_dir.join(PID_FILE));
            report(&ready, &reply);
            1
        }
    }
}

fn report(fd: impl AsFd, reply: &Reply) {
    let _ = rustix::io::write(&fd, &protocol::line(reply));
}

fn other(step: &str, e: impl std::fmt::Display) -> Reply {
    Reply::error(ErrorKind::Other, format!("{step}: {e}"))
}

/// Everything between the fork and readiness.
fn start(spec: ShimSpec, state_dir: &Path) -> Result<Shim, Reply> {
    let _ = rustix::process::setsid();
    let _ = rustix::process::set_child_subreaper(Some(rustix::process::getpid()));
    rustix::process::chdir(state_dir).map_err(|e| other("chdir to the state directory", e))?;
    // Every signal is blocked: SIGCHLD is read from a signalfd; SIGINT,
    // SIGHUP, SIGTERM, SIGPIPE... stay pending and do nothing. The
    // container's processes start with an empty mask (the runtime resets
    // it before execve).
    let all = berth_runtime::sys::SignalSet::full();
    berth_runtime::sys::set_signal_mask(&all).map_err(|e| other("block signals", e))?;
    let sigfd = berth_runtime::sys::signalfd(&all).map_err(|e| other("create a signalfd", e))?;
    rustix::io::ioctl_fionbio(&sigfd, true).map_err(|e| other("signalfd", e))?;

    let devnull = rustix::fs::open(
        "/dev/null",
        rustix::fs::OFlags::RDWR | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )
    .map_err(|e| other("open /dev/null", e))?;
    let stderr = rustix::io::fcntl_dupfd_cloexec(rustix::stdio::stderr(), 3)
        .map_err(|e| other("keep stderr", e))?;
    let restore = Restore { devnull, stderr };

    std::fs::write(PID_FILE, std::process::id().to_string())
        .map_err(|e| other("write shim.pid", e))?;
    let _ = std::fs::remove_file(SOCK_FILE);
    let listener = UnixListener::bind(SOCK_FILE).map_err(|e| other("bind shim.sock", e))?;
    let _ = std::fs::set_permissions(
        SOCK_FILE,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    );
    listener
        .set_nonblocking(true)
        .map_err(|e| other("shim.sock", e))?;
    let log = match &spec.log {
        Some(l) => Some(
            JsonLog::open(l)
                .map_err(|e| other(&format!("open the log {}", l.path.display()), e))?,
        ),
        None => None,
    };

    let (plan, mut init) = stdio::Plan::new(spec.tty, spec.open_stdin, true, true)
        .map_err(|e| other("create the stdio pipes", e))?;
    plan.install(&restore.devnull)
        .map_err(|e| other("set up the container's stdio", e))?;
    let held = Container::create_held(&CreateOptions {
        root: spec.runtime_root.clone(),
        id: spec.id.clone(),
        bundle: spec.bundle.clone(),
        ..CreateOptions::default()
    });
    restore.restore();
    drop(plan);
    let mut held = held.map_err(|e| Reply::error(ErrorKind::of_runtime(&e), e.to_string()))?;
    if let Some(master) = held.pty.take() {
        stdio::adopt_master(&mut init, master, spec.open_stdin)
            .map_err(|e| other("the pty master", e))?;
    }
    Ok(Shim {
        spec,
        listener,
        sigfd,
        restore,
        held,
        status: Status::Created,
        init,
        log,
        streams: Vec::new(),
        waiters: Vec::new(),
        execs: Vec::new(),
        next_serial: 1,
        init_exit: None,
        oom_killed: false,
        start_error_code: None,
        drain_deadline: None,
        exit: None,
        flush_deadline: None,
        trim_at: None,
        shutdown: false,
        buf: vec![0u8; 16 * 1024],
    })
}

/// What a poll entry is for.
#[derive(Clone, Copy, Debug)]
enum Tag {
    Listen,
    Signal,
    Out(Target, Kind),
    Stdin(Target),
    Stream(usize),
}

impl Shim {
    fn state(&self) -> ShimState {
        ShimState {
            pid: self.held.pid,
            status: self.status,
            exit: self.exit.clone(),
        }
    }

    fn io(&mut self, t: Target) -> Option<&mut ProcIo> {
        match t {
            Target::Init => Some(&mut self.init),
            Target::Exec(n) => self
                .execs
                .iter_mut()
                .find(|e| e.serial == n)
                .map(|e| &mut e.io),
        }
    }

    fn should_exit(&self) -> bool {
        if self.exit.is_none() {
            return false;
        }
        self.shutdown
            || (self.streams.is_empty() && self.waiters.is_empty())
            || self.flush_deadline.is_some_and(|d| Instant::now() >= d)
    }

    fn run(&mut self) {
        while !self.should_exit() {
            let mut tags: Vec<Tag> = Vec::with_capacity(8 + self.streams.len());
            let mut fds: Vec<PollFd<'_>> = Vec::with_capacity(8 + self.streams.len());
            fds.push(PollFd::new(&self.listener, PollFlags::IN));
            tags.push(Tag::Listen);
            fds.push(PollFd::new(&self.sigfd, PollFlags::IN));
            tags.push(Tag::Signal);
            let procs = std::iter::once((Target::Init, &self.init))
                .chain(self.execs.iter().map(|e| (Target::Exec(e.serial), &e.io)));
            for (t, io) in procs {
                if let Some(fd) = &io.out {
                    fds.push(PollFd::new(fd, PollFlags::IN));
                    tags.push(Tag::Out(t, Kind::Stdout));
                }
                if let Some(fd) = &io.err {
                    fds.push(PollFd::new(fd, PollFlags::IN));
                    tags.push(Tag::Out(t, Kind::Stderr));
                }
                if !io.pending_in.is_empty()
                    && let Some(fd) = io.stdin_fd()
                {
                    fds.push(PollFd::new(fd, PollFlags::OUT));
                    tags.push(Tag::Stdin(t));
                }
            }
            let full_stdin = |t: Target| match t {
                Target::Init => self.init.pending_in.len() >= stdio::STDIN_BUFFER,
                Target::Exec(n) => self
                    .execs
                    .iter()
                    .any(|e| e.serial == n && e.io.pending_in.len() >= stdio::STDIN_BUFFER),
            };
            for (i, s) in self.streams.iter().enumerate() {
                let mut ev = PollFlags::empty();
                if s.read_open && !(s.stdin && full_stdin(s.target)) {
                    ev |= PollFlags::IN;
                }
                if s.pending() > 0 {
                    ev |= PollFlags::OUT;
                }
                fds.push(PollFd::new(&s.sock, ev));
                tags.push(Tag::Stream(i));
            }
            let timeout = [self.drain_deadline, self.flush_deadline, self.trim_at]
                .into_iter()
                .flatten()
                .min()
                .map(|d| {
                    // A millisecond over, so that the deadline has passed
                    // when poll returns (tv_nsec must stay below 1 s).
                    let left = d.saturating_duration_since(Instant::now())
                        + std::time::Duration::from_millis(1);
                    rustix::time::Timespec {
                        tv_sec: left.as_secs() as i64,
                        tv_nsec: i64::from(left.subsec_nanos()),
                    }
                });
            match rustix::event::poll(&mut fds, timeout.as_ref()) {
                Ok(_) | Err(rustix::io::Errno::INTR) => {}
                Err(e) => {
                    eprintln!("berth-shim: poll: {e}");
                    return;
                }
            }
            let ready: Vec<(Tag, PollFlags)> = fds
                .iter()
                .zip(tags.iter())
                .filter(|(f, _)| !f.revents().is_empty())
                .map(|(f, t)| (*t, f.revents()))
                .collect();
            drop(fds);
            for (tag, rev) in ready {
                match tag {
                    Tag::Listen => self.accept(),
                    Tag::Signal => self.on_signal(),
                    Tag::Out(t, k) => self.on_output(t, k),
                    Tag::Stdin(t) => {
                        if let Some(io) = self.io(t) {
                            if rev.intersects(PollFlags::ERR | PollFlags::HUP) {
                                io.pending_in.clear();
                                io.stdin = None;
                            }
                            io.flush_in();
                        }
                    }
                    Tag::Stream(i) => self.on_stream(i, rev),
                }
            }
            self.streams.retain(|s| !s.dead);
            self.progress();
            if self.trim_at.is_some_and(|t| Instant::now() >= t) {
                self.trim_at = None;
                berth_runtime::sys::trim_heap();
            }
        }
    }

    /// Move the exit along: drain deadline, finalize, finished execs.
    fn progress(&mut self) {
        let now = Instant::now();
        if self.init_exit.is_some() && self.exit.is_none() {
            if self.drain_deadline.is_some_and(|d| now >= d) {
                self.init.out = None;
                self.init.err = None;
            }
            if self.init.output_done() {
                self.finalize();
            }
        }
        for e in &self.execs {
            let done = e.io.output_done() && (e.exit_code.is_some() || self.exit.is_some());
            if done {
                for s in &mut self.streams {
                    if s.target == Target::Exec(e.serial) && !s.closing {
                        s.close();
                    }
                }
            }
        }
        self.streams.retain(|s| !s.dead);
        // Forget the oldest finished execs beyond the bound.
        let finished = self
            .execs
            .iter()
            .filter(|e| e.exit_code.is_some() && e.io.output_done())
            .count();
        if finished > FINISHED_EXECS_KEPT {
            let mut drop_n = finished - FINISHED_EXECS_KEPT;
            self.execs.retain(|e| {
                if drop_n > 0 && e.exit_code.is_some() && e.io.output_done() {
                    drop_n -= 1;
                    false
                } else {
                    true
                }
            });
        }
    }

    fn accept(&mut self) {
        loop {
            match self.listener.accept() {
                Ok((sock, _)) => self.serve(sock),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    eprintln!("berth-shim: accept: {e}");
                    return;
                }
            }
        }
    }

    fn on_signal(&mut self) {
        let mut info = [0u8; 128];
        while let Ok(n) = rustix::io::read(&self.sigfd, &mut info) {
            if n < 128 {
                break;
            }
        }
        self.reap();
    }

    /// Reap every child that exited: the init, execs, orphans.
    fn reap(&mut self) {
        loop {
            match rustix::process::wait(
                rustix::process::WaitOptions::NOHANG | berth_runtime::sys::WALL,
            ) {
                Ok(Some((pid, status))) => {
                    let pid = pid.as_raw_nonzero().get();
                    let code = exit_code(status);
                    if pid == self.held.pid && self.init_exit.is_none() {
                        self.on_init_exit(code, status.terminating_signal());
                    } else if let Some(e) = self
                        .execs
                        .iter_mut()
                        .find(|e| e.pid == pid && e.exit_code.is_none())
                    {
                        e.exit_code = Some(code);
                        e.pidfd = None;
                    }
                }
                Ok(None) => return,
                Err(rustix::io::Errno::INTR) => {}
                Err(_) => return,
            }
        }
    }

    /// The init exited: count OOM kills, kill what remains and delete the
    /// container from the runtime, then drain the output.
    fn on_init_exit(&mut self, code: i32, signal: Option<i32>) {
        self.init_exit = Some((code, signal));
        let c = &self.held.container;
        if let Ok(cg) = c.cgroup() {
            self.oom_killed = cg.paths().iter().any(|p| oom_kills(p) > 0);
        }
        if let Err(e) = c.delete(true) {
            eprintln!("berth-shim: delete container {}: {e}", self.spec.id);
        }
        self.drain_deadline = Some(Instant::now() + crate::DRAIN_LIMIT);
        // Input has nowhere to go any more.
        self.init.stdin = None;
        self.init.pty_input = false;
        self.init.pending_in.clear();
    }

    /// Output drained: flush the log, record the exit, answer waiters,
    /// end the streams.
    fn finalize(&mut self) {
        let now = SystemTime::now();
        if let Some(log) = &mut self.log
            && let Err(e) = log.finish(now)
        {
            eprintln!("berth-shim: write the log: {e}");
        }
        let (code, signal) = self.init_exit.unwrap_or((255, None));
        let exit = ExitStatus {
            code: self.start_error_code.unwrap_or(code),
            signal,
            oom_killed: self.oom_killed,
            finished_at: jsonlog::docker_time(now),
        };
        match serde_json::to_vec(&exit) {
            Ok(bytes) => {
                if let Err(e) = crate::client::write_atomic(Path::new(EXIT_FILE), &bytes) {
                    eprintln!("berth-shim: write exit.json: {e}");
                }
            }
            Err(e) => eprintln!("berth-shim: encode exit.json: {e}"),
        }
        self.exit = Some(exit.clone());
        self.status = Status::Stopped;
        self.init.master = None;
        let reply = protocol::line(&Reply::Ok {
            state: None,
            exit: Some(exit),
            exec: None,
        });
        for w in self.waiters.drain(..) {
            let _ = protocol::write_all(&w, &reply);
        }
        for s in &mut self.streams {
            if s.target == Target::Init {
                s.close();
            }
        }
        self.streams.retain(|s| !s.dead);
        self.flush_deadline = Some(Instant::now() + crate::FLUSH_LIMIT);
    }

    /// Output from a process: log it (the init's), hand it to streams.
    fn on_output(&mut self, t: Target, kind: Kind) {
        let mut buf = std::mem::take(&mut self.buf);
        let Some(io) = self.io(t) else {
            self.buf = buf;
            return;
        };
        let fd = match kind {
            Kind::Stdout => io.out.as_ref(),
            Kind::Stderr => io.err.as_ref(),
        };
        let Some(fd) = fd else {
            self.buf = buf;
            return;
        };
        let n = match rustix::io::read(fd, &mut buf) {
            Ok(n) => n,
            Err(rustix::io::Errno::AGAIN | rustix::io::Errno::INTR) => {
                self.buf = buf;
                return;
            }
            // EIO: the pty's last slave closed.
            Err(_) => 0,
        };
        if n == 0 {
            if let Some(io) = self.io(t) {
                match kind {
                    Kind::Stdout => io.out = None,
                    Kind::Stderr => io.err = None,
                }
            }
        } else {
            let data = &buf[..n];
            if t == Target::Init
                && let Some(log) = &mut self.log
                && let Err(e) = log.write(kind, data, SystemTime::now())
            {
                eprintln!("berth-shim: write the log: {e}");
            }
            for s in &mut self.streams {
                if s.target == t {
                    s.push(kind, data);
                }
            }
        }
        self.buf = buf;
    }

    /// A stream is readable (input, EOF) or writable.
    fn on_stream(&mut self, i: usize, rev: PollFlags) {
        if rev.contains(PollFlags::OUT) {
            self.streams[i].flush();
        }
        if rev.contains(PollFlags::IN) {
            let mut buf = std::mem::take(&mut self.buf);
            let r = rustix::net::recv(
                &self.streams[i].sock,
                &mut buf,
                rustix::net::RecvFlags::DONTWAIT,
            );
            match r {
                Ok((0, _)) => self.stream_input_ended(i),
                Ok((n, _)) => {
                    let (t, stdin) = (self.streams[i].target, self.streams[i].stdin);
                    if stdin && let Some(io) = self.io(t) {
                        io.feed(&buf[..n]);
                    }
                }
                Err(rustix::io::Errno::AGAIN | rustix::io::Errno::INTR) => {}
                Err(_) => self.streams[i].dead = true,
            }
            self.buf = buf;
        } else if rev.intersects(PollFlags::HUP | PollFlags::ERR) {
            self.streams[i].dead = true;
        }
    }

    /// The client shut down its side: EOF to stdin for an exec, and for the
    /// container with `stdin_once`; otherwise only this client's input
    /// ends.
    fn stream_input_ended(&mut self, i: usize) {
        let s = &mut self.streams[i];
        s.read_open = false;
        if !s.stdin {
            return;
        }
        s.stdin = false;
        let t = s.target;
        let close = match t {
            Target::Init => self.spec.stdin_once,
            Target::Exec(_) => true,
        };
        if close && let Some(io) = self.io(t) {
            io.close_stdin();
        }
    }

    fn cleanup_files(&self) {
        let _ = std::fs::remove_file(SOCK_FILE);
        let _ = std::fs::remove_file(PID_FILE);
    }
}

/// runc's exit code for a wait status: the code, or 128+N when killed by
/// signal N.
fn exit_code(status: rustix::process::WaitStatus) -> i32 {
    if let Some(code) = status.exit_status() {
        code
    } else if let Some(sig) = status.terminating_signal() {
        128 + sig
    } else {
        255
    }
}

/// The OOM kill counter of a cgroup directory (v1 `memory.oom_control`, v2
/// `memory.events`); 0 when neither is there.
fn oom_kills(dir: &Path) -> u64 {
    for file in ["memory.oom_control", "memory.events"] {
        if let Ok(text) = std::fs::read_to_string(dir.join(file)) {
            return text
                .lines()
                .find_map(|l| l.strip_prefix("oom_kill "))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
        }
    }
    0
}
