//! The per-container shim: a small single-threaded process that berthd
//! starts once per running container. It creates the container through the
//! runtime library (in process: the init is a clone of the shim), holds it
//! until told to start, owns its stdio (pipes, or a pty), writes the
//! json-file log, reaps (it is a child subreaper), records the exit status
//! in `exit.json`, and answers berthd on a control socket. It outlives
//! berthd (own session, not berthd's child), and berthd re-adopts it from
//! the state directory alone ([`Client::connect`]).
//!
//! This crate is both the library berthd codes against ([`spawn`],
//! [`Client`], [`read_exit`]) and the `berth-shim` binary ([`server`]).
//!
//! # State directory
//!
//! ```text
//! <state_dir>/shim.json   the ShimSpec (written by spawn)
//!             shim.sock   the control socket (mode 0600)
//!             shim.pid    the shim's pid
//!             shim.log    the shim's own stderr (diagnostics only)
//!             exit.json   the ExitStatus, written atomically once the
//!                         container exited and its output is drained
//! ```
//!
//! # Wire protocol
//!
//! One request per connection to `shim.sock`: the client writes one JSON
//! object and a newline (`{"op":"kill","signal":15,"all":false}`), the shim
//! answers one JSON line: `{"result":"ok",...}` with the fields the request
//! asks for (`state`, `exit`, `exec`), or
//! `{"result":"error","kind":"not_found","message":"..."}`. The request must
//! arrive within a second of connecting. For `attach` and `exec` the
//! connection then becomes the stream:
//!
//! - shim → client: the process's output. Without a terminal in Docker's
//!   multiplexed framing (`[stream, 0, 0, 0, len as u32 BE]` + payload,
//!   stream 1 = stdout, 2 = stderr) so berthd can splice it to its client;
//!   with a terminal, raw bytes.
//! - client → shim: the process's stdin (when the stream asked for stdin
//!   and the process has one). `shutdown(Write)` from the client is EOF to
//!   the process's stdin for an exec with stdin, and for the container when
//!   `stdin_once`; otherwise it only detaches this client's stdin.
//! - The shim closes the stream (EOF) once the process exited and its
//!   output is drained and sent.
//! - A slow reader never blocks the container: each stream buffers at most
//!   [`STREAM_BUFFER_LIMIT`] bytes of pending output, and a stream over the
//!   limit is **disconnected** (not silently thinned: a client must never
//!   see output with holes).
//!
//! `wait` answers when the container exited (at once if it has). Every
//! other request answers at once.
//!
//! # Exit, cleanup, shutdown
//!
//! When the init exits the shim reads the OOM counter of the container's
//! cgroup, kills whatever remains in the container and deletes it from the
//! runtime (`Container::delete(true)`: cgroup, state directory, poststop
//! hooks), so nothing leaks whether or not berthd is alive. It then drains
//! the output (until EOF, at most [`DRAIN_LIMIT`]), flushes the log, writes
//! `exit.json` (temp + fsync + rename), answers every `wait`, and ends every
//! stream once its buffer is sent. The shim exits as soon as that is done
//! and no connection is left, or at once on `shutdown`; streams that do not
//! take their last bytes within [`FLUSH_LIMIT`] are dropped. A shim never
//! lingers after its container: berthd reads the status later with
//! [`read_exit`] ([`Client::wait`] and [`Client::state`] fall back to it).

#![forbid(unsafe_code)]

mod client;
mod error;
pub mod framing;
pub mod jsonlog;
mod protocol;
pub mod server;

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use client::{Client, read_exit, spawn};
pub use error::{ErrorKind, ShimError};

/// Pending output a stream may hold before it is disconnected.
pub const STREAM_BUFFER_LIMIT: usize = 1 << 20;
/// How long the output of an exited container is drained at most.
pub const DRAIN_LIMIT: Duration = Duration::from_secs(2);
/// How long the last output may take to reach a stream after the exit.
pub const FLUSH_LIMIT: Duration = Duration::from_secs(5);

/// What berthd asks a shim to run; written by [`spawn`] to
/// `<state_dir>/shim.json`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ShimSpec {
    /// Container id (the runtime id).
    pub id: String,
    /// OCI bundle (`config.json`; `root.path` inside it or absolute).
    pub bundle: PathBuf,
    /// Runtime state root (berthd passes `<exec_root>/runtime`).
    pub runtime_root: PathBuf,
    /// The shim's directory: `shim.sock`, `shim.pid`, `exit.json`.
    pub state_dir: PathBuf,
    /// The json-file log; `None` is the log driver "none".
    pub log: Option<LogSpec>,
    /// The container has a terminal (`process.terminal` says the same).
    pub tty: bool,
    /// Keep the container's stdin open for attachers (else `/dev/null`).
    pub open_stdin: bool,
    /// Close the container's stdin when the first stdin-attached client
    /// closes its side.
    pub stdin_once: bool,
}

/// Docker's json-file log driver options.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct LogSpec {
    /// The log file.
    pub path: PathBuf,
    /// Rotate when the file would exceed this many bytes.
    pub max_size: Option<u64>,
    /// Files kept, the current one included (at least 1).
    pub max_file: u32,
}

/// How the container's init ended.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ExitStatus {
    /// The exit code; 128+N when killed by signal N.
    pub code: i32,
    /// The signal that killed it.
    pub signal: Option<i32>,
    /// The cgroup saw an OOM kill.
    pub oom_killed: bool,
    /// When the exit was processed, RFC 3339 with nanoseconds, UTC, as
    /// Docker prints it (`2026-11-22T10:00:00.123456789Z`, trailing zeros
    /// of the fraction dropped).
    pub finished_at: String,
}

/// The container's status as the shim sees it.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Created, the init held until `start`.
    Created,
    /// Started.
    Running,
    /// Frozen.
    Paused,
    /// Exited (the exit is recorded).
    Stopped,
}

/// Answer to [`Client::state`].
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ShimState {
    /// The init's host pid (0 once stopped and the shim is gone).
    pub pid: i32,
    /// Its status.
    pub status: Status,
    /// The exit, once stopped.
    pub exit: Option<ExitStatus>,
}

/// A process to start in the running container.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ExecSpec {
    /// berthd's exec id (unique among this container's execs).
    pub exec_id: String,
    /// The process (`terminal` = tty).
    pub process: oci_spec::runtime::Process,
    /// Feed the stream's input to its stdin (else `/dev/null`).
    pub attach_stdin: bool,
    /// Send its stdout on the stream (else discarded).
    pub attach_stdout: bool,
    /// Send its stderr on the stream (else discarded).
    pub attach_stderr: bool,
    /// No stream: the connection closes once the process started.
    pub detach: bool,
}

/// Answer to [`Client::exec_state`].
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ExecState {
    /// Its host pid.
    pub pid: i32,
    /// Still running.
    pub running: bool,
    /// Its exit code once exited (128+N when killed by signal N).
    pub exit_code: Option<i32>,
}
