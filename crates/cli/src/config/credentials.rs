//! Where credentials live: the config file's `auths`, or a credential
//! helper (`credHelpers[registry]`, else `credsStore`) — an executable
//! `docker-credential-<name>` on `PATH` spoken to with docker's protocol:
//!
//! - `store`: stdin `{"ServerURL":…,"Username":…,"Secret":…}`;
//! - `get`: stdin the server URL, stdout `{"Username":…,"Secret":…}`, or
//!   exit non-zero with `credentials not found in native keychain`;
//! - `erase`: stdin the server URL.
//!
//! An identity token is stored with the user name `<token>`. With a
//! helper, the file keeps an empty entry for the registry (docker does the
//! same, so `auths` lists where the user is logged in).

use std::io::Write;
use std::process::{Command, Stdio};

use super::{AuthConfig, ConfigError, ConfigFile, convert_to_hostname};
use crate::format::json::Json;

/// docker's key for Docker Hub credentials.
pub const INDEX_SERVER: &str = "https://index.docker.io/v1/";
const TOKEN_USERNAME: &str = "<token>";
const NOT_FOUND: &str = "credentials not found in native keychain";

/// A credential operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    /// The helper could not be started.
    #[error("error {action} credentials - err: exec: \"{program}\": {source}")]
    Exec {
        /// `storing`, `getting`, `erasing`.
        action: &'static str,
        /// The helper executable.
        program: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The helper exited with an error.
    #[error("error {action} credentials - err: {status}, out: `{out}`")]
    Helper {
        /// `storing`, `getting`, `erasing`.
        action: &'static str,
        /// Its exit status.
        status: std::process::ExitStatus,
        /// What it printed.
        out: String,
    },
    /// The helper's answer is not the expected JSON.
    #[error("error getting credentials - invalid answer from {program}: {out:?}")]
    Answer {
        /// The helper executable.
        program: String,
        /// What it printed.
        out: String,
    },
    /// The config file could not be written.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// The store that holds credentials for `registry`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Store {
    /// `auths` in the config file.
    File,
    /// `docker-credential-<name>`.
    Helper(String),
}

/// Which store `registry` uses.
pub fn store_for(cfg: &ConfigFile, registry: &str) -> Store {
    if let Some(h) = cfg.cred_helper(registry) {
        return Store::Helper(h.to_string());
    }
    match cfg.creds_store() {
        Some(s) => Store::Helper(s.to_string()),
        None => Store::File,
    }
}

/// The config key for a registry domain (`docker.io` -> docker's index
/// server URL).
pub fn auth_key(domain: &str) -> String {
    if domain == "docker.io" || domain == "index.docker.io" {
        INDEX_SERVER.to_string()
    } else {
        domain.to_string()
    }
}

fn run_helper(
    name: &str,
    verb: &str,
    action: &'static str,
    input: &[u8],
) -> Result<std::process::Output, CredentialsError> {
    let program = format!("docker-credential-{name}");
    let mut cmd = Command::new(&program);
    #[cfg(test)]
    tests::HELPER_PATH.with(|p| {
        if let Some(p) = p.borrow().as_ref() {
            // the child's PATH is also where Command looks the program up
            cmd.env("PATH", p);
        }
    });
    let mut child = cmd
        .arg(verb)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| CredentialsError::Exec {
            action,
            program: program.clone(),
            source,
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading is reported by its status.
        let _ = stdin.write_all(input);
    }
    child
        .wait_with_output()
        .map_err(|source| CredentialsError::Exec {
            action,
            program,
            source,
        })
}

/// Credentials for `registry` (empty when none are stored).
pub fn get(cfg: &ConfigFile, registry: &str) -> Result<AuthConfig, CredentialsError> {
    match store_for(cfg, registry) {
        Store::File => Ok(file_get(cfg, registry)),
        Store::Helper(h) => {
            let mut auth = file_get(cfg, registry);
            let out = run_helper(&h, "get", "getting", registry.as_bytes())?;
            let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if !out.status.success() {
                if text.contains(NOT_FOUND) {
                    return Ok(auth);
                }
                return Err(CredentialsError::Helper {
                    action: "getting",
                    status: out.status,
                    out: text,
                });
            }
            let j = Json::parse(text.as_bytes()).map_err(|_| CredentialsError::Answer {
                program: format!("docker-credential-{h}"),
                out: text.clone(),
            })?;
            let user = j.get("Username").and_then(Json::as_str).unwrap_or("");
            let secret = j.get("Secret").and_then(Json::as_str).unwrap_or("");
            if user == TOKEN_USERNAME {
                auth.identity_token = secret.to_string();
                auth.username = String::new();
                auth.password = String::new();
            } else {
                auth.username = user.to_string();
                auth.password = secret.to_string();
            }
            auth.server_address = registry.to_string();
            Ok(auth)
        }
    }
}

/// docker's file store lookup: the exact key, else a key whose host name
/// matches (legacy `https://host/v1/` keys).
fn file_get(cfg: &ConfigFile, registry: &str) -> AuthConfig {
    if let Some(a) = cfg.auth(registry) {
        return a.clone();
    }
    for (k, a) in &cfg.auths {
        if convert_to_hostname(k) == registry {
            return a.clone();
        }
    }
    AuthConfig::default()
}

/// Store `auth` for its `server_address`. Returns whether a password went
/// into the file unencrypted (the caller warns, as docker does).
pub fn store(cfg: &mut ConfigFile, auth: &AuthConfig) -> Result<bool, CredentialsError> {
    let registry = auth.server_address.clone();
    match store_for(cfg, &registry) {
        Store::File => {
            if cfg.auth(&registry) == Some(auth) {
                return Ok(false);
            }
            cfg.set_auth(&registry, auth.clone());
            cfg.save()?;
            Ok(!auth.password.is_empty())
        }
        Store::Helper(h) => {
            let (user, secret) = if auth.identity_token.is_empty() {
                (auth.username.as_str(), auth.password.as_str())
            } else {
                (TOKEN_USERNAME, auth.identity_token.as_str())
            };
            let body = Json::Object(vec![
                ("ServerURL".into(), Json::String(registry.clone())),
                ("Username".into(), Json::String(user.into())),
                ("Secret".into(), Json::String(secret.into())),
            ])
            .to_compact(true);
            let out = run_helper(&h, "store", "storing", format!("{body}\n").as_bytes())?;
            if !out.status.success() {
                return Err(CredentialsError::Helper {
                    action: "storing",
                    status: out.status,
                    out: String::from_utf8_lossy(&out.stdout).trim().to_string(),
                });
            }
            let entry = AuthConfig {
                server_address: registry.clone(),
                email: auth.email.clone(),
                ..AuthConfig::default()
            };
            if cfg.auth(&registry) != Some(&entry) {
                cfg.set_auth(&registry, entry);
                cfg.save()?;
            }
            Ok(false)
        }
    }
}

/// Remove the credentials for `registry`.
pub fn erase(cfg: &mut ConfigFile, registry: &str) -> Result<(), CredentialsError> {
    if let Store::Helper(h) = store_for(cfg, registry) {
        let out = run_helper(&h, "erase", "erasing", registry.as_bytes())?;
        if !out.status.success() {
            return Err(CredentialsError::Helper {
                action: "erasing",
                status: out.status,
                out: String::from_utf8_lossy(&out.stdout).trim().to_string(),
            });
        }
    }
    if cfg.remove_auth(registry) {
        cfg.save()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::os::unix::fs::PermissionsExt;

    thread_local! {
        /// PATH for helpers run by this test thread (no process-wide
        /// environment change while other tests run).
        pub static HELPER_PATH: RefCell<Option<String>> = const { RefCell::new(None) };
    }

    /// A real credential helper (a shell script) in a temporary directory:
    /// it keeps credentials in a file next to itself.
    fn fake_helper(dir: &std::path::Path) {
        let script = r#"#!/bin/sh
store="$(dirname "$0")/berthtest-store"
case "$1" in
store) cat > "$store.tmp"; mv "$store.tmp" "$store" ;;
get)
  read -r url
  if [ -f "$store" ] && grep -q "\"ServerURL\":\"$url\"" "$store"; then
    user=$(sed 's/.*"Username":"\([^"]*\)".*/\1/' "$store")
    secret=$(sed 's/.*"Secret":"\([^"]*\)".*/\1/' "$store")
    printf '{"ServerURL":"%s","Username":"%s","Secret":"%s"}\n' "$url" "$user" "$secret"
  else
    echo "credentials not found in native keychain"; exit 1
  fi ;;
erase) rm -f "$store" ;;
*) exit 2 ;;
esac
"#;
        let p = dir.join("docker-credential-berthtest");
        std::fs::write(&p, script).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn credential_helper_protocol_and_file_store() {
        let bin = tempfile::tempdir().unwrap();
        fake_helper(bin.path());
        let path = format!(
            "{}:{}",
            bin.path().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        HELPER_PATH.with(|p| *p.borrow_mut() = Some(path));

        // helper: store, get, erase; the file keeps an empty entry
        let cfgdir = tempfile::tempdir().unwrap();
        std::fs::write(
            cfgdir.path().join("config.json"),
            r#"{"credHelpers":{"localhost:5000":"berthtest"}}"#,
        )
        .unwrap();
        let mut cfg = ConfigFile::load(cfgdir.path()).unwrap();
        assert_eq!(
            store_for(&cfg, "localhost:5000"),
            Store::Helper("berthtest".into())
        );
        assert_eq!(get(&cfg, "localhost:5000").unwrap(), AuthConfig::default());
        let auth = AuthConfig {
            username: "alice".into(),
            password: "s3cret".into(),
            server_address: "localhost:5000".into(),
            ..AuthConfig::default()
        };
        assert!(!store(&mut cfg, &auth).unwrap());
        let got = get(&cfg, "localhost:5000").unwrap();
        assert_eq!(
            (got.username.as_str(), got.password.as_str()),
            ("alice", "s3cret")
        );
        let text = std::fs::read_to_string(cfgdir.path().join("config.json")).unwrap();
        assert!(text.contains("\"localhost:5000\": {}"), "{text}");
        assert!(!text.contains("s3cret"));
        erase(&mut cfg, "localhost:5000").unwrap();
        assert_eq!(get(&cfg, "localhost:5000").unwrap(), AuthConfig::default());
        assert!(cfg.auth("localhost:5000").is_none());

        // identity tokens travel as <token>
        let tok = AuthConfig {
            identity_token: "tok123".into(),
            server_address: "localhost:5000".into(),
            ..AuthConfig::default()
        };
        store(&mut cfg, &tok).unwrap();
        let got = get(&cfg, "localhost:5000").unwrap();
        assert_eq!(got.identity_token, "tok123");
        assert!(got.username.is_empty());

        // a missing helper is an exec error naming it
        let mut cfg2 = ConfigFile::load(cfgdir.path()).unwrap();
        cfg2.doc
            .push(("credsStore".into(), Json::String("berth-missing".into())));
        let e = get(&cfg2, "other:1").unwrap_err().to_string();
        assert!(e.contains("docker-credential-berth-missing"), "{e}");

        // file store with a legacy key
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"auths":{"https://legacy.example:5000/v1/":{"auth":"dTpw"}}}"#,
        )
        .unwrap();
        let cfg = ConfigFile::load(dir.path()).unwrap();
        assert_eq!(get(&cfg, "legacy.example:5000").unwrap().username, "u");
    }

    #[test]
    fn hub_key() {
        assert_eq!(auth_key("docker.io"), INDEX_SERVER);
        assert_eq!(auth_key("localhost:5000"), "localhost:5000");
    }
}
