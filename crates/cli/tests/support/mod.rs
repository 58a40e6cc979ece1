//! The harness of the berth CLI's integration tests: a daemon of the
//! test's own (a private dockerd by default, berthd with
//! `BERTH_CLI_TEST_DAEMON=berthd`), the `berth` and `docker` clients run
//! side by side against it with separate client config directories,
//! commands with time limits, and a table of checks that all run before the
//! test fails with every failure.

#![allow(dead_code)]

pub use berth_testutil::dockerd;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The docker CLI 28 on the machine (the reference).
pub const DOCKER_CLI: &str = "/usr/local/bin/docker";
/// Longest any command may take.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);

/// The berth binary under test.
pub fn berth_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_berth"))
}

/// The workspace's target directory (where `cargo build` put berthd).
pub fn target_dir() -> PathBuf {
    if let Some(t) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(t);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target")
}

/// A program on PATH.
pub fn which(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| {
                m.is_file()
                    && std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o111 != 0
            })
        })
}

/// The daemon the tests talk to.
pub enum Engine {
    /// A private dockerd (the reference implementation).
    Dockerd(dockerd::Dockerd),
    /// berthd, through the workspace's harness.
    Berthd(berth_testutil::berthd::Berthd),
}

impl Engine {
    /// `BERTH_CLI_TEST_DAEMON` (`dockerd`, the default, or `berthd`);
    /// None after a loud SKIP line when it cannot run here.
    pub fn from_env(test: &str, extra_dockerd_args: &[String]) -> Option<Engine> {
        match std::env::var("BERTH_CLI_TEST_DAEMON").as_deref() {
            Ok("berthd") => start_berthd(test).map(Engine::Berthd),
            _ => dockerd::Dockerd::start(test, extra_dockerd_args).map(Engine::Dockerd),
        }
    }

    /// `unix:///…` of the daemon's socket.
    pub fn host(&self) -> String {
        match self {
            Engine::Dockerd(d) => d.host(),
            Engine::Berthd(b) => b.host(),
        }
    }

    /// Which daemon this is.
    pub fn name(&self) -> &'static str {
        match self {
            Engine::Dockerd(_) => "dockerd",
            Engine::Berthd(_) => "berthd",
        }
    }

    /// A directory for the test's files (client configs, tarballs).
    pub fn scratch(&self) -> PathBuf {
        let d = match self {
            Engine::Dockerd(d) => d.dir().join("scratch"),
            Engine::Berthd(b) => b.dir().join("scratch"),
        };
        std::fs::create_dir_all(&d).expect("create the scratch directory");
        d
    }

    /// The daemon's log, for failure reports.
    pub fn log(&self) -> String {
        match self {
            Engine::Dockerd(d) => d.log(),
            Engine::Berthd(b) => b.log(),
        }
    }

    /// Stop the daemon and report leftovers (dockerd; berthd's harness
    /// checks its own on drop).
    pub fn shutdown(self) -> Vec<String> {
        match self {
            Engine::Dockerd(mut d) => d.shutdown(),
            Engine::Berthd(b) => {
                drop(b);
                Vec::new()
            }
        }
    }
}

/// berthd for these tests: `BERTH_BERTHD` or `target/debug/berthd`, with
/// the workspace's berthd harness (own data root, exec root, socket, pid
/// file; stopped by pid). For the lead to extend (flags, registries).
pub fn start_berthd(test: &str) -> Option<berth_testutil::berthd::Berthd> {
    if !berth_testutil::require_root(test) {
        return None;
    }
    let bin = std::env::var_os("BERTH_BERTHD")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("debug/berthd"));
    if !bin.exists() {
        eprintln!(
            "SKIP: {test}: {} is not built (cargo build -p berth-daemon)",
            bin.display()
        );
        return None;
    }
    Some(berth_testutil::berthd::Berthd::start(&bin, &[]))
}

/// A client (berth or docker) bound to a daemon and a config directory.
#[derive(Debug, Clone)]
pub struct Client {
    /// The executable.
    pub bin: PathBuf,
    /// `berth` or `docker`, for messages.
    pub name: &'static str,
    /// The daemon address.
    pub host: String,
    /// The client config directory.
    pub config: PathBuf,
    /// Extra environment.
    pub env: Vec<(String, String)>,
}

impl Client {
    /// The berth binary against `host`, config in `config`.
    pub fn berth(host: &str, config: &Path) -> Client {
        std::fs::create_dir_all(config).expect("create the config directory");
        Client {
            bin: berth_bin(),
            name: "berth",
            host: host.to_string(),
            config: config.to_path_buf(),
            env: Vec::new(),
        }
    }

    /// The docker CLI against `host`, config in `config`.
    pub fn docker(host: &str, config: &Path) -> Client {
        std::fs::create_dir_all(config).expect("create the config directory");
        Client {
            bin: PathBuf::from(DOCKER_CLI),
            name: "docker",
            host: host.to_string(),
            config: config.to_path_buf(),
            env: Vec::new(),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.args(args)
            .env("DOCKER_HOST", &self.host)
            .env("BERTH_HOST", &self.host)
            .env("DOCKER_CONFIG", &self.config)
            .env("BERTH_CONFIG", &self.config)
            .env("DOCKER_CLI_HINTS", "false")
            .env("BERTH_NO_AUTOSTART", "1")
            .env_remove("DOCKER_CONTEXT")
            .env_remove("DOCKER_TLS_VERIFY")
            .env_remove("DOCKER_CERT_PATH")
            .env_remove("DOCKER_DEFAULT_PLATFORM")
            .env_remove("BERTH_TLS_VERIFY")
            .env_remove("BERTH_API_VERSION");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Run with stdin from /dev/null.
    pub fn run(&self, args: &[&str]) -> Out {
        let mut cmd = self.command(args);
        cmd.stdin(Stdio::null());
        run_timed(&mut cmd, COMMAND_TIMEOUT)
    }

    /// Run with `input` on stdin.
    pub fn run_stdin(&self, args: &[&str], input: &[u8]) -> Out {
        let file = tempfile::tempfile().and_then(|mut f| {
            use std::io::{Seek, Write};
            f.write_all(input)?;
            f.rewind()?;
            Ok(f)
        });
        let Ok(file) = file else {
            return Out::error("write the stdin file");
        };
        let mut cmd = self.command(args);
        cmd.stdin(file);
        run_timed(&mut cmd, COMMAND_TIMEOUT)
    }
}

/// What a command did.
#[derive(Debug, Clone)]
pub struct Out {
    /// Exit code (-1: did not run or timed out).
    pub code: i32,
    /// Standard output (lossy UTF-8).
    pub stdout: String,
    /// Standard output bytes.
    pub raw: Vec<u8>,
    /// Standard error.
    pub stderr: String,
}

impl Out {
    /// A command that could not run.
    pub fn error(msg: &str) -> Out {
        Out {
            code: -1,
            stdout: String::new(),
            raw: Vec::new(),
            stderr: msg.to_string(),
        }
    }

    /// For failure reports.
    pub fn describe(&self) -> String {
        format!(
            "exit {}\n  stdout: {:?}\n  stderr: {:?}",
            self.code,
            truncate(&self.stdout, 2000),
            truncate(&self.stderr, 2000)
        )
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.len() <= n {
        return s.to_string();
    }
    let mut end = n;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// Run with output in files, killing the command by pid after `timeout`.
pub fn run_timed(cmd: &mut Command, timeout: Duration) -> Out {
    let t0 = Instant::now();
    let (Ok(mut out), Ok(mut err)) = (tempfile::tempfile(), tempfile::tempfile()) else {
        return Out::error("cannot create output files");
    };
    let (Ok(o), Ok(e)) = (out.try_clone(), err.try_clone()) else {
        return Out::error("cannot dup output files");
    };
    let mut child = match cmd.stdout(o).stderr(e).spawn() {
        Ok(c) => c,
        Err(e) => return Out::error(&format!("spawn {cmd:?}: {e}")),
    };
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if t0.elapsed() > timeout => {
                // Child::kill signals this child's pid
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(_) => break None,
        }
    };
    let read = |f: &mut std::fs::File| {
        use std::io::{Read, Seek};
        let _ = f.rewind();
        let mut v = Vec::new();
        let _ = f.read_to_end(&mut v);
        v
    };
    let raw = read(&mut out);
    let mut stderr = String::from_utf8_lossy(&read(&mut err)).into_owned();
    let code = match status {
        Some(s) => s.code().unwrap_or(-1),
        None => {
            stderr.push_str(&format!("\n[timed out after {timeout:?}; killed]"));
            -1
        }
    };
    Out {
        code,
        stdout: String::from_utf8_lossy(&raw).into_owned(),
        raw,
        stderr,
    }
}

/// Poll `f` every 50 ms until it holds or `timeout` passes.
pub fn poll(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let t0 = Instant::now();
    loop {
        if f() {
            return true;
        }
        if t0.elapsed() > timeout {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Every check's outcome; the test fails at the end if any failed.
#[derive(Default)]
pub struct Checks {
    results: Vec<(String, bool, String)>,
}

impl Checks {
    /// Record a check.
    pub fn check(&mut self, name: &str, ok: bool, detail: impl Into<String>) {
        self.results.push((name.to_string(), ok, detail.into()));
    }

    /// Record a failure.
    pub fn fail(&mut self, name: &str, detail: impl Into<String>) {
        self.check(name, false, detail);
    }

    /// Have all passed so far?
    pub fn all_ok(&self) -> bool {
        self.results.iter().all(|r| r.1)
    }

    /// The failures with details.
    pub fn failures(&self) -> Vec<String> {
        self.results
            .iter()
            .filter(|r| !r.1)
            .map(|(n, _, d)| format!("FAIL {n}\n{d}"))
            .collect()
    }

    /// A table of every check.
    pub fn table(&self) -> String {
        let mut s = String::new();
        for (n, ok, _) in &self.results {
            s.push_str(&format!("  {} {n}\n", if *ok { "ok  " } else { "FAIL" }));
        }
        s
    }

    /// How many checks ran.
    pub fn len(&self) -> usize {
        self.results.len()
    }

    /// Panic with every failure if any check failed.
    pub fn finish(&self, what: &str, diagnostics: &str) {
        eprintln!("{what}: {} checks\n{}", self.results.len(), self.table());
        if !self.all_ok() {
            panic!(
                "{} of {} checks failed:\n{}\n{diagnostics}",
                self.failures().len(),
                self.results.len(),
                self.failures().join("\n")
            );
        }
    }
}

/// Replace the parts of an output that depend on when it ran (relative
/// ages like `5 seconds ago`, `About a minute ago`), so that two runs a
/// moment apart compare equal.
pub fn mask_times(s: &str) -> String {
    let units = [
        "Less than a second ago",
        "About a minute ago",
        "About an hour ago",
    ];
    let mut out = s.to_string();
    for u in units {
        out = out.replace(u, "<AGO>");
    }
    // "<n> seconds ago", "1 second ago", "<n> minutes ago", ...
    let words: Vec<&str> = out.split(' ').collect();
    let mut res: Vec<String> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        // (the number may follow a quote or a colon: `"CreatedSince":"1 second ago"`)
        let digits = words[i]
            .chars()
            .rev()
            .take_while(char::is_ascii_digit)
            .count();
        if i + 2 < words.len()
            && digits > 0
            && [
                "second", "seconds", "minute", "minutes", "hours", "days", "weeks", "months",
                "years",
            ]
            .contains(&words[i + 1])
            && words[i + 2].starts_with("ago")
        {
            let lead = &words[i][..words[i].len() - digits];
            res.push(format!("{lead}<AGO>{}", &words[i + 2][3..]));
            i += 3;
            continue;
        }
        res.push(words[i].to_string());
        i += 1;
    }
    let masked = res.join(" ");
    if masked == s {
        return masked;
    }
    // an age changes the width of its column: compare tables with their
    // cells separated by one space
    masked
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The lines of an output, sorted (docker's row order follows Go map
/// iteration and the daemon's unstable sort of images created in the same
/// second).
pub fn sorted_rows(s: &str) -> Vec<String> {
    let mut lines: Vec<String> = s.lines().map(str::to_string).collect();
    lines.sort();
    lines
}

/// A busybox root filesystem tarball (Debian's busybox-static), made
/// with `tar` in `dir`.
pub fn busybox_tar(dir: &Path) -> PathBuf {
    let rootfs = dir.join("rootfs");
    berth_testutil::make_rootfs(&rootfs);
    let tar = dir.join("rootfs.tar");
    let out = run_timed(
        Command::new("tar")
            .arg("-C")
            .arg(&rootfs)
            .arg("-cf")
            .arg(&tar)
            .arg(".")
            .stdin(Stdio::null()),
        COMMAND_TIMEOUT,
    );
    assert_eq!(out.code, 0, "tar the busybox rootfs: {}", out.describe());
    tar
}

/// `/proc/self/mountinfo` mount points under `dir`.
pub fn mounts_under(dir: &Path) -> Vec<String> {
    berth_testutil::mounts_containing(&dir.display().to_string())
}
