//! What every command runs with: the global options resolved (daemon
//! address, TLS files, client config directory), the API client created on
//! first use (negotiating the API version, auto-starting berthd when that
//! applies), and standard output.
//!
//! Resolution rules (documented in the crate doc):
//! - address: `-H` (once), else `BERTH_HOST`, else
//!   `unix:///run/berth/berth.sock`. `DOCKER_HOST` is not read: a user who
//!   points the docker CLI at dockerd should not find berth talking to it.
//! - TLS: `--tls`, or `--tlsverify` / `BERTH_TLS_VERIFY` (non-empty) to
//!   also verify the daemon; files from `--tlscacert/--tlscert/--tlskey`,
//!   defaulting to `ca.pem`, `cert.pem`, `key.pem` in `BERTH_CERT_PATH`
//!   or `~/.berth` (certificate and key only when both files exist).
//! - client config directory: `--config`, else `BERTH_CONFIG`, else
//!   `DOCKER_CONFIG`, else `~/.docker` (shared with the docker CLI).

use std::cell::OnceCell;
use std::io::Write;
use std::path::PathBuf;

use crate::cli::GlobalArgs;
use crate::client::transport::TlsOptions;
use crate::client::{Client, ClientError, ClientOptions, Host};
use crate::config::ConfigFile;
use crate::error::CliError;

/// The resolved global options.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The daemon's address.
    pub host: Host,
    /// TLS settings, when TLS is on.
    pub tls: Option<TlsOptions>,
    /// The client config directory.
    pub config_dir: PathBuf,
    /// `-D`.
    pub debug: bool,
}

impl Settings {
    /// Resolve the global flags with the environment.
    pub fn resolve(g: &GlobalArgs) -> Result<Settings, CliError> {
        if g.host.len() > 1 {
            return Err(CliError::Usage("Specify only one -H".into()));
        }
        let verify_env = std::env::var("BERTH_TLS_VERIFY").is_ok_and(|v| !v.is_empty());
        let verify = g.tlsverify || verify_env;
        let tls_on = g.tls || verify;
        let host_text = match g.host.first() {
            Some(h) => h.clone(),
            None => std::env::var("BERTH_HOST").unwrap_or_default(),
        };
        let host = Host::parse(&host_text, tls_on).map_err(|e| CliError::Usage(e.to_string()))?;
        let tls = tls_on.then(|| {
            let cert_dir = std::env::var_os("BERTH_CERT_PATH")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
                .unwrap_or_else(|| crate::config::home_dir().join(".berth"));
            let default_if_exists = |given: &Option<PathBuf>, name: &str| -> Option<PathBuf> {
                match given {
                    Some(p) => Some(p.clone()),
                    None => Some(cert_dir.join(name)).filter(|p| p.exists()),
                }
            };
            TlsOptions {
                ca: g
                    .tlscacert
                    .clone()
                    .or_else(|| Some(cert_dir.join("ca.pem"))),
                cert: default_if_exists(&g.tlscert, "cert.pem"),
                key: default_if_exists(&g.tlskey, "key.pem"),
                verify,
            }
        });
        Ok(Settings {
            host,
            tls,
            config_dir: g.config.clone().unwrap_or_else(crate::config::default_dir),
            debug: g.debug,
        })
    }
}

/// The running command's environment.
pub struct App {
    /// Resolved options.
    pub settings: Settings,
    client: OnceCell<Client>,
}

impl App {
    /// An app for `settings`; nothing is connected yet.
    pub fn new(settings: Settings) -> App {
        App {
            settings,
            client: OnceCell::new(),
        }
    }

    /// The client configuration file (read each time: login rewrites it).
    pub fn config(&self) -> Result<ConfigFile, CliError> {
        Ok(ConfigFile::load(&self.settings.config_dir)?)
    }

    /// The API client, connected once: the API version is negotiated, and
    /// the daemon started if it is not running and that applies.
    pub fn client(&self) -> Result<&Client, CliError> {
        if let Some(c) = self.client.get() {
            return Ok(c);
        }
        let headers = self.config().map(|c| c.http_headers()).unwrap_or_default();
        let client = Client::new(ClientOptions {
            host: self.settings.host.clone(),
            tls: self.settings.tls.clone(),
            api_version: std::env::var("BERTH_API_VERSION")
                .ok()
                .filter(|v| !v.is_empty()),
            headers,
        })?;
        match client.api_version() {
            Ok(_) => {}
            Err(ClientError::ConnectionFailed { .. })
                if crate::autostart::applies(&self.settings.host) =>
            {
                crate::autostart::start(&self.settings.host, &|| client.ping().is_ok())?;
                client.api_version()?;
            }
            Err(e) => return Err(e.into()),
        }
        Ok(self.client.get_or_init(|| client))
    }
}

/// Write to standard output; a closed pipe ends the program quietly (as
/// `berth images | head -1` expects).
pub fn print(text: &str) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(CliError::io("write to standard output", e)),
    }
}

/// Is standard input a terminal?
pub fn stdin_is_terminal() -> bool {
    rustix::termios::isatty(rustix::stdio::stdin())
}

/// Is standard output a terminal?
pub fn stdout_is_terminal() -> bool {
    rustix::termios::isatty(rustix::stdio::stdout())
}
