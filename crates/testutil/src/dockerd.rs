//! A private dockerd (Debian's docker.io, installed by
//! scripts/install-docker), the reference the CLI tests and the benchmarks
//! compare Berth with, started as crates/runtime-cli/tests/docker.rs starts
//! one: every path under one temporary directory (data root, exec root,
//! pid file, socket, trust key, containerd's state), its own containerd
//! namespace, no bridge and no iptables, inside a private mount namespace
//! whose `/run` is a fresh tmpfs (containerd puts shim sockets in
//! `/run/containerd` whatever it is told). Stopped by pid; whatever it
//! leaves (processes, mounts, host paths) is reported.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::berthd::DOCKER_CLI;

/// Host paths a stray dockerd or containerd would create.
const WATCHED: [&str; 6] = [
    "/run/containerd",
    "/run/docker",
    "/run/docker.sock",
    "/var/lib/docker",
    "/var/lib/containerd",
    "/etc/docker/key.json",
];

/// A dockerd of the test's own.
pub struct Dockerd {
    dir: PathBuf,
    child: Option<Child>,
    containerd_pid: Option<u32>,
    host_before: Vec<(&'static str, bool)>,
    /// The host's network interfaces when it started.
    links_before: Vec<String>,
    done: bool,
}

impl Dockerd {
    /// Start one (extra dockerd flags in `extra`); None after a SKIP line
    /// when not root or dockerd / the docker CLI / unshare are missing.
    pub fn start(test: &str, extra: &[String]) -> Option<Dockerd> {
        if !crate::require_root(test) {
            return None;
        }
        let Some(dockerd) = which("dockerd") else {
            eprintln!("SKIP: {test}: dockerd is not on PATH (scripts/install-docker installs it)");
            return None;
        };
        if !Path::new(DOCKER_CLI).exists() {
            eprintln!("SKIP: {test}: the docker CLI 28 ({DOCKER_CLI}) is missing");
            return None;
        }
        for tool in ["unshare", "containerd", "tar"] {
            if which(tool).is_none() {
                eprintln!("SKIP: {test}: {tool} is not on PATH");
                return None;
            }
        }
        let dir = tempfile::Builder::new()
            .prefix("berth-cli-dockerd-")
            .tempdir()
            .expect("create the daemon's directory")
            .keep();
        let host_before = WATCHED
            .iter()
            .map(|p| (*p, Path::new(p).symlink_metadata().is_ok()))
            .collect();
        let mut d = Dockerd {
            dir,
            child: None,
            containerd_pid: None,
            host_before,
            links_before: crate::net_links(),
            done: false,
        };
        if let Err(e) = d.spawn(&dockerd, extra) {
            let leaks = d.shutdown();
            panic!("dockerd did not start: {e}\nleftovers: {leaks:?}");
        }
        Some(d)
    }

    /// The daemon's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Its unix socket.
    pub fn socket(&self) -> PathBuf {
        self.dir.join("docker.sock")
    }

    /// Its log.
    pub fn log(&self) -> String {
        let log = std::fs::read_to_string(self.dir.join("dockerd.log")).unwrap_or_default();
        let lines: Vec<&str> = log
            .lines()
            .filter(|l| !l.contains("level=debug") && !l.contains("level=info"))
            .collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    fn spawn(&mut self, bin: &Path, extra: &[String]) -> Result<(), String> {
        let d = self.dir.display().to_string();
        for sub in ["data", "exec"] {
            std::fs::create_dir_all(self.dir.join(sub)).map_err(|e| format!("mkdir {sub}: {e}"))?;
        }
        let config = self.dir.join("daemon.json");
        std::fs::write(
            &config,
            serde_json::json!({ "deprecated-key-path": self.dir.join("key.json") }).to_string(),
        )
        .map_err(|e| format!("write daemon.json: {e}"))?;
        let log = std::fs::File::create(self.dir.join("dockerd.log")).map_err(|e| e.to_string())?;
        let err = log.try_clone().map_err(|e| e.to_string())?;
        let mut args: Vec<String> = vec![
            format!("--config-file={}", config.display()),
            format!("--data-root={d}/data"),
            format!("--exec-root={d}/exec"),
            format!("--pidfile={d}/docker.pid"),
            format!("--host=unix://{d}/docker.sock"),
            "--iptables=false".into(),
            "--ip6tables=false".into(),
            "--ip-masq=false".into(),
            "--bridge=none".into(),
            "--storage-driver=overlay2".into(),
            "--containerd-namespace=berthcli".into(),
            "--containerd-plugins-namespace=berthcli-plugins".into(),
        ];
        args.extend(extra.iter().cloned());
        let child = Command::new("unshare")
            .args(["--mount", "--propagation", "private", "--", "sh", "-c"])
            .arg("mount -t tmpfs -o mode=0755,size=64m berth-cli-run /run && exec \"$@\"")
            .arg("berth-cli-dockerd")
            .arg(bin)
            .args(&args)
            .current_dir("/")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("spawn unshare/dockerd: {e}"))?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(c) = self.child.as_mut()
                && let Ok(Some(status)) = c.try_wait()
            {
                return Err(format!(
                    "dockerd exited during startup: {status}\n{}",
                    self.log()
                ));
            }
            let answered = self
                .docker(&["version", "--format", "{{.Server.Version}}"])
                .output()
                .is_ok_and(|o| o.status.success());
            if answered {
                break;
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "dockerd did not answer within 60 s\n{}",
                    self.log()
                ));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        self.containerd_pid = read_pid(&self.dir.join("exec/containerd/containerd.pid"));
        Ok(())
    }

    /// `unix:///…` of its socket.
    pub fn host(&self) -> String {
        format!("unix://{}", self.socket().display())
    }

    /// The pids of dockerd and its containerd, for the benchmarks' memory
    /// figures.
    pub fn pids(&self) -> Vec<u32> {
        let mut pids: Vec<u32> = self.child.iter().map(Child::id).collect();
        // `unshare` execs sh, which execs dockerd: the same pid
        pids.extend(self.containerd_pid);
        pids
    }

    /// The docker CLI against this daemon (its own client config), to run.
    pub fn docker(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(DOCKER_CLI);
        cmd.args(args)
            .env("DOCKER_HOST", self.host())
            .env("DOCKER_CONFIG", self.dir.join("admin-config"))
            .env("DOCKER_CLI_HINTS", "false")
            .env_remove("DOCKER_CONTEXT")
            .stdin(Stdio::null());
        cmd
    }

    /// Stop dockerd (TERM by pid, then KILL) and report what was left.
    pub fn shutdown(&mut self) -> Vec<String> {
        self.done = true;
        let mut leaks = Vec::new();
        // dockerd keeps containers and the bridges of its user networks
        // across restarts: what a test made goes before dockerd does.
        // The bridges of this dockerd's networks (`br-<id>`), noted before they are pruned:
        // only those, and veths enslaved to them, are its own to clean up after it stops;
        // another dockerd on the host (a parallel test) has interfaces of the same shape.
        let mut own_bridges = Vec::new();
        if self.child.is_some() {
            let nets = self
                .docker(&[
                    "network",
                    "ls",
                    "-q",
                    "--no-trunc",
                    "--filter",
                    "driver=bridge",
                ])
                .output()
                .map(|o| o.stdout)
                .unwrap_or_default();
            own_bridges = String::from_utf8_lossy(&nets)
                .split_whitespace()
                .filter_map(|id| id.get(..12))
                .map(|id| format!("br-{id}"))
                .collect();
            let ids = self.docker(&["ps", "-aq"]).output().map(|o| o.stdout);
            let ids = String::from_utf8_lossy(&ids.unwrap_or_default()).into_owned();
            let ids: Vec<&str> = ids.split_whitespace().collect();
            if !ids.is_empty() {
                let mut rm = vec!["rm", "-f", "-v"];
                rm.extend(ids);
                let _ = self.docker(&rm).output();
            }
            let _ = self.docker(&["network", "prune", "-f"]).output();
        }
        if let Some(mut child) = self.child.take() {
            let pid = child.id();
            signal(pid, "TERM");
            if !poll(Duration::from_secs(30), || {
                matches!(child.try_wait(), Ok(Some(_)))
            }) {
                leaks.push(format!(
                    "dockerd (pid {pid}) ignored SIGTERM for 30 s; killed"
                ));
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        if let Some(pid) = self.containerd_pid
            && !poll(Duration::from_secs(15), || !refers_to(pid, &self.dir))
        {
            leaks.push(format!("containerd (pid {pid}) outlived dockerd; stopped"));
            signal(pid, "KILL");
        }
        let procs = processes_referring_to(&self.dir);
        if !procs.is_empty() {
            leaks.push(format!("processes left behind: {procs:?}"));
            for (pid, _) in &procs {
                signal(*pid, "KILL");
            }
        }
        let mut mounts = crate::mounts_containing(&self.dir.display().to_string());
        if !mounts.is_empty() {
            leaks.push(format!("mounts left on the host: {mounts:?}"));
            mounts.sort_by_key(|m| std::cmp::Reverse(m.len()));
            for m in &mounts {
                let _ = Command::new("umount").arg("-l").arg(m).status();
            }
        }
        if let Err(e) = std::fs::remove_dir_all(&self.dir) {
            leaks.push(format!("cannot remove {}: {e}", self.dir.display()));
        }
        for (p, existed) in &self.host_before {
            if Path::new(p).symlink_metadata().is_ok() != *existed {
                leaks.push(format!("host path {p} changed (existed before: {existed})"));
            }
        }
        // dockerd can leave the bridges of its user networks and veth pairs behind (both ends
        // on the host): those of its own bridges go.
        // (Attributed first, deleted after: a veth loses its master with its bridge.)
        let own: Vec<String> = crate::net_links()
            .into_iter()
            .filter(|link| !self.links_before.contains(link))
            .filter(|link| {
                let master = std::fs::read_link(format!("/sys/class/net/{link}/master"))
                    .ok()
                    .and_then(|m| m.file_name().map(|n| n.to_string_lossy().into_owned()));
                own_bridges.contains(link)
                    || (link.starts_with("veth")
                        && master.is_some_and(|m| own_bridges.contains(&m)))
            })
            .collect();
        for link in own {
            let _ = Command::new("ip").args(["link", "del", &link]).status();
            leaks.push(format!("network interface {link} left by dockerd; removed"));
        }
        leaks
    }
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        if !self.done {
            for l in self.shutdown() {
                eprintln!("dockerd cleanup: {l}");
            }
        }
    }
}

/// The first `name` on PATH that is an executable file.
fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(name))
        .find(|p| {
            p.metadata().is_ok_and(|m| {
                m.is_file()
                    && std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o111 != 0
            })
        })
}

/// Poll `f` every 50 ms until it holds or `timeout` passes.
fn poll(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if f() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn read_pid(path: &Path) -> Option<u32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Send a signal by pid with kill(1).
fn signal(pid: u32, sig: &str) {
    let _ = Command::new("kill")
        .args(["-s", sig, &pid.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

fn cmdline(pid: u32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
        .unwrap_or_default()
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(") ").map(|(_, rest)| !rest.starts_with('Z')))
        .unwrap_or(false)
}

/// A live process whose cwd, exe or command line mentions `dir`.
fn refers_to(pid: u32, dir: &Path) -> bool {
    let needle = dir.display().to_string();
    let link = |l: &str| {
        std::fs::read_link(format!("/proc/{pid}/{l}"))
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    };
    alive(pid) && (cmdline(pid).contains(&needle) || link("cwd").contains(&needle))
}

fn processes_referring_to(dir: &Path) -> Vec<(u32, String)> {
    let me = std::process::id();
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != me && refers_to(pid, dir))
        .map(|pid| (pid, cmdline(pid)))
        .collect()
}
