//! A real `docker-registry` (Debian's package of distribution 2.8) on 127.0.0.1:<free port>,
//! with its own YAML config and storage in a temporary directory. Started per test, stopped by
//! pid on drop, its directory removed (a failure to clean up fails the test). The system
//! service the package installs (on :5000) is never used or touched.

use std::fmt::Write as _;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BINARY: &str = "/usr/bin/docker-registry";

/// How the registry authenticates.
pub enum Auth {
    None,
    /// An htpasswd file (bcrypt entries).
    Htpasswd(PathBuf),
    /// Token auth: realm URL, service, issuer, root certificate bundle.
    Token {
        realm: String,
        service: String,
        issuer: String,
        bundle: PathBuf,
    },
}

/// TLS for the registry's listener.
pub struct Tls {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// CA bundles client certificates must chain to (mutual TLS), if any.
    pub client_cas: Option<PathBuf>,
}

pub struct Options {
    pub auth: Auth,
    pub tls: Option<Tls>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            auth: Auth::None,
            tls: None,
        }
    }
}

/// A running registry.
pub struct Registry {
    child: Option<Child>,
    dir: Option<tempfile::TempDir>,
    /// `127.0.0.1:<port>`.
    pub host: String,
    pub port: u16,
}

/// True when the registry binary is installed; otherwise prints a loud SKIP for `test`.
pub fn available(test: &str) -> bool {
    if Path::new(BINARY).exists() {
        return true;
    }
    eprintln!(
        "SKIP: {test}: {BINARY} is missing (apt-get install -y docker-registry apache2-utils)"
    );
    false
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

impl Registry {
    /// Starts a registry; None (after a SKIP line) when the binary is missing.
    pub fn start(test: &str, opts: Options) -> Option<Registry> {
        if !available(test) {
            return None;
        }
        let dir = tempfile::Builder::new()
            .prefix("berth-registry-test-")
            .tempdir()
            .expect("temp dir");
        let port = free_port();
        let mut yaml = String::new();
        let data = dir.path().join("data");
        writeln!(
            yaml,
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n  secret: berth-test-secret",
            data.display()
        )
        .expect("format the registry config");
        if let Some(tls) = &opts.tls {
            writeln!(
                yaml,
                "  tls:\n    certificate: {}\n    key: {}",
                tls.cert.display(),
                tls.key.display()
            )
            .expect("format the registry config");
            if let Some(cas) = &tls.client_cas {
                writeln!(yaml, "    clientcas:\n      - {}", cas.display())
                    .expect("format the registry config");
            }
        }
        match &opts.auth {
            Auth::None => {}
            Auth::Htpasswd(path) => {
                writeln!(
                    yaml,
                    "auth:\n  htpasswd:\n    realm: berth-test-realm\n    path: {}",
                    path.display()
                )
                .expect("format the registry config");
            }
            Auth::Token {
                realm,
                service,
                issuer,
                bundle,
            } => {
                writeln!(
                    yaml,
                    "auth:\n  token:\n    realm: {realm}\n    service: {service}\n    issuer: {issuer}\n    rootcertbundle: {}",
                    bundle.display()
                )
                .expect("format the registry config");
            }
        }
        let config = dir.path().join("config.yml");
        std::fs::write(&config, yaml).expect("write config");
        let log = std::fs::File::create(dir.path().join("registry.log")).expect("log file");
        let child = Command::new(BINARY)
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("spawn docker-registry");
        let mut reg = Registry {
            child: Some(child),
            dir: Some(dir),
            host: format!("127.0.0.1:{port}"),
            port,
        };
        reg.wait_ready();
        Some(reg)
    }

    fn log(&self) -> String {
        self.dir
            .as_ref()
            .and_then(|d| std::fs::read_to_string(d.path().join("registry.log")).ok())
            .unwrap_or_default()
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!("docker-registry exited early ({status}):\n{}", self.log());
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "docker-registry did not listen on {} in 20 s:\n{}",
                self.host,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The registry's storage directory (to tamper with blobs).
    pub fn data_dir(&self) -> PathBuf {
        self.dir.as_ref().expect("dir").path().join("data")
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let mut problems = Vec::new();
        if let Some(mut child) = self.child.take() {
            // Child::kill signals this child's pid (SIGKILL), never anything by name.
            if let Err(e) = child.kill()
                && e.kind() != std::io::ErrorKind::InvalidInput
            {
                problems.push(format!("kill docker-registry pid {}: {e}", child.id()));
            }
            if let Err(e) = child.wait() {
                problems.push(format!("wait docker-registry pid {}: {e}", child.id()));
            }
        }
        if let Some(dir) = self.dir.take() {
            let path = dir.path().to_path_buf();
            if let Err(e) = dir.close() {
                problems.push(format!("remove {}: {e}", path.display()));
            }
        }
        if !problems.is_empty() && !std::thread::panicking() {
            panic!("cleaning up the test registry failed: {problems:?}");
        }
    }
}

/// An htpasswd file with bcrypt entries made by `htpasswd -Bbn`.
pub fn htpasswd(path: &Path, users: &[(&str, &str)]) -> bool {
    let mut content = String::new();
    for (u, p) in users {
        let out = match Command::new("htpasswd").args(["-Bbn", u, p]).output() {
            Ok(o) if o.status.success() => o,
            _ => {
                eprintln!("SKIP: htpasswd is missing (apt-get install -y apache2-utils)");
                return false;
            }
        };
        content.push_str(String::from_utf8_lossy(&out.stdout).trim());
        content.push('\n');
    }
    std::fs::write(path, content).expect("write htpasswd");
    true
}
