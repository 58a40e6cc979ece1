//! berthd's side: [`spawn`] starts a shim and returns once the container is
//! created; [`Client`] talks to a running shim (one connection per call);
//! [`read_exit`] reads what a shim left behind.

use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::protocol::{self, Reply, Request};
use crate::{ExecSpec, ExecState, ExitStatus, ShimError, ShimSpec, ShimState, Status};

/// File names inside the state directory.
pub(crate) const SPEC_FILE: &str = "shim.json";
pub(crate) const SOCK_FILE: &str = "shim.sock";
pub(crate) const PID_FILE: &str = "shim.pid";
pub(crate) const EXIT_FILE: &str = "exit.json";
pub(crate) const LOG_FILE: &str = "shim.log";

/// A handle on a running shim. Cheap: it holds the state directory and the
/// init's pid; every call opens its own connection, so a `Client` can be
/// cloned and used from several threads.
#[derive(Clone, Debug)]
pub struct Client {
    state_dir: PathBuf,
    pid: i32,
}

/// Write `bytes` to `path`: temp file, fsync, rename.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)
}

/// Start `berth-shim` for `spec`, daemonized (own session; not our child
/// once this returns), and wait until the container is created: its init
/// is held, nothing of the user's program has run, so attaching now sees
/// all of its output. A failure to create (e.g. the executable is missing:
/// [`crate::ErrorKind::ExecutableNotFound`]) comes back as
/// [`ShimError::Runtime`]; the shim is then gone and nothing is left.
///
/// Readiness is a line on a pipe that is the shim's stdout: no polling.
pub fn spawn(shim_bin: &Path, spec: &ShimSpec) -> Result<Client, ShimError> {
    let dir = &spec.state_dir;
    std::fs::create_dir_all(dir)
        .map_err(|e| ShimError::io(format!("create {}", dir.display()), e))?;
    for f in [EXIT_FILE, SOCK_FILE, PID_FILE] {
        match std::fs::remove_file(dir.join(f)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(ShimError::io(
                    format!("remove {}", dir.join(f).display()),
                    e,
                ));
            }
        }
    }
    let spec_path = dir.join(SPEC_FILE);
    let json = serde_json::to_vec_pretty(spec)
        .map_err(|e| ShimError::Protocol(format!("serialize the shim spec: {e}")))?;
    write_atomic(&spec_path, &json)
        .map_err(|e| ShimError::io(format!("write {}", spec_path.display()), e))?;
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(LOG_FILE))
        .map_err(|e| ShimError::io(format!("open {}", dir.join(LOG_FILE).display()), e))?;
    let (ready_r, ready_w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
        .map_err(|e| ShimError::io("create the readiness pipe", e))?;
    let mut cmd = Command::new(shim_bin);
    cmd.arg(dir)
        .env_clear()
        .env(
            "PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        )
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::from(ready_w))
        .stderr(Stdio::from(log));
    let spawned = cmd.spawn();
    // The Command holds the pipe's write end: drop it, so that the shim
    // dying shows as end-of-file.
    drop(cmd);
    let mut child =
        spawned.map_err(|e| ShimError::io(format!("start {}", shim_bin.display()), e))?;
    // The first process only forks the daemon and exits.
    let first = child
        .wait()
        .map_err(|e| ShimError::io("wait for the shim to daemonize", e))?;
    let mut line = Vec::new();
    let mut buf = [0u8; 4096];
    let mut r = std::fs::File::from(ready_r);
    while !line.contains(&b'\n') {
        match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => line.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(ShimError::io("read the shim's readiness", e)),
        }
    }
    let Some(end) = line.iter().position(|&b| b == b'\n') else {
        let log = std::fs::read_to_string(dir.join(LOG_FILE)).unwrap_or_default();
        return Err(ShimError::Protocol(format!(
            "the shim exited without reporting ({first}): {}",
            log.lines().last().unwrap_or("no diagnostics")
        )));
    };
    match parse_reply(&line[..end])? {
        Reply::Ok {
            state: Some(state), ..
        } => Ok(Client {
            state_dir: dir.clone(),
            pid: state.pid,
        }),
        Reply::Ok { .. } => Err(ShimError::Protocol("readiness without a state".into())),
        Reply::Error { kind, message } => Err(ShimError::Runtime { kind, message }),
    }
}

/// The exit a shim recorded in `<state_dir>/exit.json` (readable after the
/// shim is gone); `None` when there is none (yet).
pub fn read_exit(state_dir: &Path) -> Option<ExitStatus> {
    let bytes = std::fs::read(state_dir.join(EXIT_FILE)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn parse_reply(line: &[u8]) -> Result<Reply, ShimError> {
    serde_json::from_slice(line).map_err(|e| {
        ShimError::Protocol(format!(
            "bad reply {:?}: {e}",
            String::from_utf8_lossy(&line[..line.len().min(200)])
        ))
    })
}

/// Connect to the shim's socket. A path too long for `sockaddr_un` goes
/// through `/proc/self/fd` of the opened directory.
fn connect_socket(state_dir: &Path) -> Result<UnixStream, ShimError> {
    let path = state_dir.join(SOCK_FILE);
    let not_running = || ShimError::NotRunning {
        state_dir: state_dir.to_path_buf(),
    };
    let result = if path.as_os_str().len() < 100 {
        UnixStream::connect(&path)
    } else {
        let dir = rustix::fs::open(
            state_dir,
            rustix::fs::OFlags::PATH | rustix::fs::OFlags::DIRECTORY | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )
        .map_err(|_| not_running())?;
        UnixStream::connect(format!(
            "/proc/self/fd/{}/{SOCK_FILE}",
            std::os::fd::AsRawFd::as_raw_fd(&dir)
        ))
    };
    result.map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused => not_running(),
        _ => ShimError::io(format!("connect to {}", path.display()), e),
    })
}

impl Client {
    /// Re-adopt the shim of `state_dir` (after a berthd restart).
    /// [`ShimError::NotRunning`] when it is gone ([`read_exit`] then has
    /// the exit).
    pub fn connect(state_dir: &Path) -> Result<Client, ShimError> {
        let mut c = Client {
            state_dir: state_dir.to_path_buf(),
            pid: 0,
        };
        let (_, reply) = c.call(&Request::State)?;
        match reply {
            Reply::Ok { state: Some(s), .. } => {
                c.pid = s.pid;
                Ok(c)
            }
            _ => Err(ShimError::Protocol("state reply without a state".into())),
        }
    }

    /// The container init's host pid.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// The state directory.
    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    /// One request: connect, send, read the answer; the connection is
    /// returned for streams.
    fn call(&self, req: &Request) -> Result<(UnixStream, Reply), ShimError> {
        let sock = connect_socket(&self.state_dir)?;
        protocol::write_all(sock.as_fd(), &protocol::line(req))
            .map_err(|e| ShimError::io("send the request to the shim", e))?;
        let line = match protocol::read_line(sock.as_fd()) {
            Ok(Some(l)) => l,
            // The shim went away while answering (it exits after its
            // container; `wait`/`state` fall back to exit.json).
            Ok(None) => {
                return Err(ShimError::NotRunning {
                    state_dir: self.state_dir.clone(),
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return Err(ShimError::NotRunning {
                    state_dir: self.state_dir.clone(),
                });
            }
            Err(e) => return Err(ShimError::io("read the shim's answer", e)),
        };
        match parse_reply(&line)? {
            Reply::Error { kind, message } => Err(ShimError::Runtime { kind, message }),
            ok => Ok((sock, ok)),
        }
    }

    fn simple(&self, req: &Request) -> Result<(), ShimError> {
        self.call(req).map(|_| ())
    }

    /// Run the held container (poststart hooks etc. through the runtime).
    /// A failure at the very end (a startContainer hook) comes back here;
    /// the container then exits with 125/126/127 as Docker's would.
    pub fn start(&self) -> Result<(), ShimError> {
        self.simple(&Request::Start)
    }

    /// Attach to the container's stdio; see the crate doc for the stream.
    pub fn attach(&self, stdin: bool, stdout: bool, stderr: bool) -> Result<UnixStream, ShimError> {
        let (sock, _) = self.call(&Request::Attach {
            stdin,
            stdout,
            stderr,
        })?;
        Ok(sock)
    }

    /// Set the container terminal's size.
    pub fn resize(&self, height: u16, width: u16) -> Result<(), ShimError> {
        self.simple(&Request::Resize { height, width })
    }

    /// Signal the init (or, with `all`, every process of the container).
    pub fn kill(&self, signal: i32, all: bool) -> Result<(), ShimError> {
        self.simple(&Request::Kill { signal, all })
    }

    /// Freeze the container.
    pub fn pause(&self) -> Result<(), ShimError> {
        self.simple(&Request::Pause)
    }

    /// Thaw the container.
    pub fn resume(&self) -> Result<(), ShimError> {
        self.simple(&Request::Resume)
    }

    /// Change the container's resources.
    pub fn update(&self, resources: &oci_spec::runtime::LinuxResources) -> Result<(), ShimError> {
        self.simple(&Request::Update {
            resources: Box::new(resources.clone()),
        })
    }

    /// The container's state; once the shim is gone, built from exit.json.
    pub fn state(&self) -> Result<ShimState, ShimError> {
        match self.call(&Request::State) {
            Ok((_, Reply::Ok { state: Some(s), .. })) => Ok(s),
            Ok(_) => Err(ShimError::Protocol("state reply without a state".into())),
            Err(e @ ShimError::NotRunning { .. }) => match read_exit(&self.state_dir) {
                Some(exit) => Ok(ShimState {
                    pid: 0,
                    status: Status::Stopped,
                    exit: Some(exit),
                }),
                None => Err(e),
            },
            Err(e) => Err(e),
        }
    }

    /// Block until the init exited (at once if it has); once the shim is
    /// gone, the exit comes from exit.json.
    pub fn wait(&self) -> Result<ExitStatus, ShimError> {
        match self.call(&Request::Wait) {
            Ok((_, Reply::Ok { exit: Some(e), .. })) => Ok(e),
            Ok(_) => Err(ShimError::Protocol("wait reply without an exit".into())),
            Err(e @ ShimError::NotRunning { .. }) => read_exit(&self.state_dir).ok_or(e),
            Err(e) => Err(e),
        }
    }

    /// Start a process in the container; returns once it started (or the
    /// reason it could not, with [`crate::ErrorKind::ExecutableNotFound`] /
    /// [`crate::ErrorKind::PermissionDenied`]). The stream is framed as
    /// [`Client::attach`]'s; with `detach` it is at end-of-file at once.
    pub fn exec(&self, spec: &ExecSpec) -> Result<UnixStream, ShimError> {
        let (sock, _) = self.call(&Request::Exec {
            spec: Box::new(spec.clone()),
        })?;
        Ok(sock)
    }

    /// An exec's pid and exit code.
    pub fn exec_state(&self, exec_id: &str) -> Result<ExecState, ShimError> {
        match self.call(&Request::ExecState {
            exec_id: exec_id.to_string(),
        })? {
            (_, Reply::Ok { exec: Some(e), .. }) => Ok(e),
            _ => Err(ShimError::Protocol(
                "exec_state reply without a state".into(),
            )),
        }
    }

    /// Set an exec's terminal size.
    pub fn exec_resize(&self, exec_id: &str, height: u16, width: u16) -> Result<(), ShimError> {
        self.simple(&Request::ExecResize {
            exec_id: exec_id.to_string(),
            height,
            width,
        })
    }

    /// Signal an exec'd process.
    pub fn exec_kill(&self, exec_id: &str, signal: i32) -> Result<(), ShimError> {
        self.simple(&Request::ExecKill {
            exec_id: exec_id.to_string(),
            signal,
        })
    }

    /// Tell the shim of an exited container to go now (without waiting for
    /// slow streams). Refused while the container runs.
    pub fn shutdown(&self) -> Result<(), ShimError> {
        match self.simple(&Request::Shutdown) {
            Err(ShimError::NotRunning { .. }) => Ok(()),
            other => other,
        }
    }
}
