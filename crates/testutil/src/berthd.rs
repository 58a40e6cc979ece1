//! A berthd of a test's own: every path (data root, exec root, socket, pid
//! file, docker client config) under one `/tmp/berth-berthd-*` directory,
//! stopped by pid and checked for leaks when dropped. Also the clients that
//! drive it: the real docker CLI and a minimal HTTP client for API tests.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::mounts_containing;

/// Docker's CLI 28 (the machine's) and Debian's 20.10 client.
pub const DOCKER_CLI: &str = "/usr/local/bin/docker";
pub const DOCKER_CLI_20: &str = "/usr/bin/docker";

#[derive(Debug)]
pub struct Berthd {
    bin: PathBuf,
    dir: PathBuf,
    args: Vec<String>,
    child: Option<Child>,
}

impl Berthd {
    /// Starts `bin` with its own directories and `args`; waits until it
    /// answers `/_ping`.
    pub fn start(bin: &Path, args: &[&str]) -> Berthd {
        Berthd::start_with(bin, args, |_| {})
    }

    /// [`Berthd::start`], calling `prepare` with the daemon's directory
    /// before berthd starts (to mount something at `data`, say; the test
    /// unmounts it after [`Berthd::stop`]).
    pub fn start_with(bin: &Path, args: &[&str], prepare: impl FnOnce(&Path)) -> Berthd {
        let dir = tempfile::Builder::new()
            .prefix("berth-berthd-")
            .tempdir()
            .expect("create the daemon's directory")
            .keep();
        std::fs::create_dir_all(dir.join("docker-config")).expect("create the client config dir");
        let mut d = Berthd {
            bin: bin.to_path_buf(),
            dir,
            args: args.iter().map(|s| s.to_string()).collect(),
            child: None,
        };
        prepare(&d.dir);
        d.spawn();
        d
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("berthd.log"))
            .expect("open the daemon log");
        let child = Command::new(&self.bin)
            .arg(format!("--data-root={}", self.data_root().display()))
            .arg(format!("--exec-root={}", self.exec_root().display()))
            .arg(format!(
                "--pidfile={}",
                self.dir.join("berthd.pid").display()
            ))
            .arg(format!("--host=unix://{}", self.socket().display()))
            .arg(format!("--cgroup-parent={}", self.cgroup_parent()))
            .arg(format!("--bridge={}", self.bridge()))
            .arg(format!("--nft-table={}", self.nft_table()))
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup the log"))
            .stderr(log)
            .spawn()
            .expect("spawn berthd");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!(
                    "berthd exited during startup ({status}); log:\n{}",
                    self.log()
                );
            }
            if self
                .try_api("GET", "/_ping", None)
                .is_some_and(|r| r.status == 200)
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "berthd did not answer within 20 s; log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn data_root(&self) -> PathBuf {
        self.dir.join("data")
    }

    pub fn exec_root(&self) -> PathBuf {
        self.dir.join("exec")
    }

    /// The pids of this daemon's shims still running: `berth-shim` processes
    /// whose container directory is under this daemon's exec root.
    pub fn shims(&self) -> Vec<u32> {
        crate::processes_with(&format!("berth-shim {}/", self.exec_root().display()))
    }

    /// The parent cgroup of this daemon's containers: its own, so that a
    /// cgroup left behind is this daemon's.
    pub fn cgroup_parent(&self) -> String {
        let name = self.dir.file_name().unwrap_or_default().to_string_lossy();
        format!("/{name}")
    }

    /// The default bridge of this daemon: `berth-` and the directory's
    /// random suffix (12 characters, within IFNAMSIZ), so that daemons
    /// running side by side never share one.
    pub fn bridge(&self) -> String {
        format!("berth-{}", self.suffix())
    }

    /// This daemon's nftables table (`inet <name>`), named like its bridge.
    pub fn nft_table(&self) -> String {
        format!("berth-{}", self.suffix())
    }

    fn suffix(&self) -> String {
        let name = self.dir.file_name().unwrap_or_default().to_string_lossy();
        let tail = name.strip_prefix("berth-berthd-").unwrap_or(&name);
        tail.chars()
            .rev()
            .take(6)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect()
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.join("berth.sock")
    }

    /// `unix:///…/berth.sock`, for DOCKER_HOST.
    pub fn host(&self) -> String {
        format!("unix://{}", self.socket().display())
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("berthd.log")).unwrap_or_default()
    }

    /// Runs the docker CLI 28 against this daemon.
    pub fn docker(&self, args: &[&str]) -> Output {
        self.docker_with(Path::new(DOCKER_CLI), args, None)
    }

    /// The docker CLI 28 against this daemon, to run (stdin null).
    pub fn docker_cmd(&self, args: &[&str]) -> Command {
        let mut cmd = self.docker_cmd_with(Path::new(DOCKER_CLI), args);
        cmd.stdin(Stdio::null());
        cmd
    }

    fn docker_cmd_with(&self, cli: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(cli);
        cmd.args(args)
            .env("DOCKER_HOST", self.host())
            .env("DOCKER_CONFIG", self.dir.join("docker-config"))
            .env_remove("DOCKER_CONTEXT");
        cmd
    }

    /// Runs a docker CLI against this daemon, with `stdin` if given. The
    /// client config (credentials) is the daemon directory's own.
    pub fn docker_with(&self, cli: &Path, args: &[&str], stdin: Option<&[u8]>) -> Output {
        let mut cmd = self.docker_cmd_with(cli, args);
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("run the docker CLI");
        if let Some(input) = stdin {
            let mut pipe = child.stdin.take().expect("stdin pipe");
            let input = input.to_vec();
            std::thread::spawn(move || {
                let _ = pipe.write_all(&input);
            });
        }
        child.wait_with_output().expect("wait for the docker CLI")
    }

    /// One API request (HTTP/1.1 over the socket, `Connection: close`).
    pub fn api(&self, method: &str, path: &str, body: Option<&[u8]>) -> HttpResponse {
        self.try_api(method, path, body).unwrap_or_else(|| {
            panic!(
                "{method} {path}: no answer from berthd; log:\n{}",
                self.log()
            )
        })
    }

    fn try_api(&self, method: &str, path: &str, body: Option<&[u8]>) -> Option<HttpResponse> {
        let mut stream = UnixStream::connect(self.socket()).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .ok()?;
        http_request(&mut stream, method, path, &[], body)
    }

    /// SIGKILL, as a crash would.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = rustix::process::kill_process(
                rustix::process::Pid::from_raw(child.id() as i32).expect("pid"),
                rustix::process::Signal::KILL,
            );
            let _ = child.wait();
        }
    }

    /// SIGTERM and wait (≤ 20 s, then SIGKILL); true if it exited by itself.
    pub fn stop(&mut self) -> bool {
        let Some(mut child) = self.child.take() else {
            return true;
        };
        if let Some(pid) = rustix::process::Pid::from_raw(child.id() as i32) {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if child.try_wait().ok().flatten().is_some() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        false
    }

    /// Starts the same daemon again on the same directories.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }
}

impl Drop for Berthd {
    fn drop(&mut self) {
        // Containers outlive berthd: a failed test must not leave them.
        // (Through `docker_cmd`, which cannot panic: a drop during a panic must not.)
        let stdout = |args: &[&str]| -> String {
            let out = self.docker_cmd(args).stderr(Stdio::null()).output();
            out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                .unwrap_or_default()
        };
        if self.child.is_some() {
            let ids = stdout(&["ps", "-aq"]);
            let ids: Vec<&str> = ids.split_whitespace().collect();
            if !ids.is_empty() {
                let mut args = vec!["rm", "-f", "-v"];
                args.extend(ids);
                stdout(&args);
            }
            // Networks persist like Docker's; a test's own go with it.
            let nets = stdout(&["network", "ls", "-q", "--filter", "type=custom"]);
            for n in nets.split_whitespace() {
                stdout(&["network", "rm", n]);
            }
        }
        let clean_exit = self.stop();
        let bridge_left = crate::net_links().contains(&self.bridge());
        let table_left = nft_table_exists(&self.nft_table());
        // Clean up whatever leaked before asserting, so a failure here does
        // not leave the host changed.
        if bridge_left {
            let _ = Command::new("ip")
                .args(["link", "del", &self.bridge()])
                .status();
        }
        if table_left {
            let _ = Command::new("nft")
                .args(["delete", "table", "inet", &self.nft_table()])
                .status();
        }
        let leaked = mounts_containing(&self.dir.display().to_string());
        let cgroups = crate::cgroup_dirs_named(&self.cgroup_parent());
        for c in &cgroups {
            let _ = std::fs::remove_dir(c);
        }
        let dir = self.dir.clone();
        let removed = std::fs::remove_dir_all(&dir);
        if std::thread::panicking() {
            return;
        }
        assert!(clean_exit, "berthd did not stop on SIGTERM within 20 s");
        assert!(leaked.is_empty(), "berthd left mounts behind: {leaked:?}");
        assert!(
            cgroups.is_empty(),
            "berthd left its parent cgroup behind: {cgroups:?}"
        );
        assert!(
            !bridge_left,
            "berthd left its bridge {} behind",
            self.bridge()
        );
        assert!(
            !table_left,
            "berthd left its nftables table inet {} behind",
            self.nft_table()
        );
        if let Err(e) = removed {
            panic!("removing {}: {e}", dir.display());
        }
    }
}

/// Does `table inet <name>` exist (in the caller's namespace)?
pub fn nft_table_exists(name: &str) -> bool {
    Command::new("nft")
        .args(["list", "table", "inet", name])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A parsed HTTP answer.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    /// Lower-case names.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == &name.to_ascii_lowercase())
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends one request on `stream` and reads the whole answer (chunked or
/// sized, or until close).
pub fn http_request(
    stream: &mut (impl Read + Write),
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Option<HttpResponse> {
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: berth\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(b) = body {
        req.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            b.len()
        ));
    }
    req.push_str("\r\n");
    stream.write_all(req.as_bytes()).ok()?;
    if let Some(b) = body {
        stream.write_all(b).ok()?;
    }
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).ok()?;
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let rest = &raw[split + 4..];
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked {
        dechunk(rest)?
    } else {
        rest.to_vec()
    };
    Some(HttpResponse {
        status,
        headers,
        body,
    })
}

fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n")?;
        let size =
            usize::from_str_radix(std::str::from_utf8(&data[..line_end]).ok()?.trim(), 16).ok()?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(data.get(..size)?);
        data = data.get(size + 2..)?;
    }
}
