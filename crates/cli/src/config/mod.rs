//! The client configuration file, shared with the docker CLI:
//! `<dir>/config.json` where the directory is `--config`, else
//! `BERTH_CONFIG`, else `DOCKER_CONFIG`, else `~/.docker` — so `berth
//! login` and `docker login` see the same credentials.
//!
//! Layout (docker's): `auths` maps a registry key (`https://index.docker.io/v1/`
//! for Docker Hub, `host[:port]` otherwise) to `{"auth": base64(user:pass),
//! "identitytoken": ...}`; `credsStore` names a default credential helper
//! and `credHelpers` one per registry (`docker-credential-<name>`, see
//! [`credentials`]); `HttpHeaders` are sent with every request;
//! `imagesFormat` is the default `images` format. Every other key is kept
//! as it was when berth rewrites the file (atomically: temporary file,
//! then rename, mode 0600, directory 0700).

pub mod credentials;

use std::path::{Path, PathBuf};

use base64::Engine as _;

use crate::format::json::{Json, JsonError};

/// The file name inside the config directory.
pub const FILE_NAME: &str = "config.json";

/// A configuration file that cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Reading failed.
    #[error("loading config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not JSON.
    #[error("loading config file {path}: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: JsonError,
    },
    /// An `auth` value that is not base64 of `user:password`.
    #[error("loading config file {path}: invalid auth configuration for {registry:?}")]
    BadAuth {
        /// The file.
        path: PathBuf,
        /// The registry key.
        registry: String,
    },
    /// Writing failed.
    #[error("saving config file {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Credentials for one registry, as docker's `AuthConfig`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthConfig {
    /// User name.
    pub username: String,
    /// Password.
    pub password: String,
    /// Registry key.
    pub server_address: String,
    /// An identity (refresh) token instead of a password.
    pub identity_token: String,
    /// A registry (bearer) token.
    pub registry_token: String,
    /// E-mail (legacy, kept when present).
    pub email: String,
}

impl AuthConfig {
    /// The `X-Registry-Auth` header: base64url (with padding) of the JSON
    /// docker sends, fields in docker's order, empty ones left out.
    pub fn encode_header(&self) -> String {
        let mut fields: Vec<(String, Json)> = Vec::new();
        let mut add = |k: &str, v: &str| {
            if !v.is_empty() {
                fields.push((k.to_string(), Json::String(v.to_string())));
            }
        };
        add("username", &self.username);
        add("password", &self.password);
        add("email", &self.email);
        add("serveraddress", &self.server_address);
        add("identitytoken", &self.identity_token);
        add("registrytoken", &self.registry_token);
        let json = Json::Object(fields).to_compact(true);
        base64::engine::general_purpose::URL_SAFE.encode(json.as_bytes())
    }
}

/// The loaded configuration file.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    path: PathBuf,
    /// The whole document (order kept), `auths` excluded.
    doc: Vec<(String, Json)>,
    /// `auths`, decoded.
    pub auths: Vec<(String, AuthConfig)>,
}

/// The config directory from the environment (`BERTH_CONFIG`,
/// `DOCKER_CONFIG`, `~/.docker`).
pub fn default_dir() -> PathBuf {
    for var in ["BERTH_CONFIG", "DOCKER_CONFIG"] {
        if let Some(v) = std::env::var_os(var).filter(|v| !v.is_empty()) {
            return PathBuf::from(v);
        }
    }
    home_dir().join(".docker")
}

/// `$HOME`, else `/root` for uid 0, else `/`.
pub fn home_dir() -> PathBuf {
    match std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        Some(h) => PathBuf::from(h),
        None if rustix::process::geteuid().is_root() => PathBuf::from("/root"),
        None => PathBuf::from("/"),
    }
}

fn decode_auth(s: &str) -> Option<(String, String)> {
    if s.is_empty() {
        return Some((String::new(), String::new()));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (user, pass) = text.split_once(':')?;
    if user.is_empty() {
        return None;
    }
    Some((user.to_string(), pass.trim_matches('\0').to_string()))
}

fn str_field<'a>(j: &'a Json, key: &str) -> &'a str {
    j.get(key).and_then(Json::as_str).unwrap_or("")
}

impl ConfigFile {
    /// Load `<dir>/config.json`; a missing file is an empty configuration.
    pub fn load(dir: &Path) -> Result<ConfigFile, ConfigError> {
        let path = dir.join(FILE_NAME);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(source) => return Err(ConfigError::Read { path, source }),
        };
        let mut cfg = ConfigFile {
            path: path.clone(),
            doc: Vec::new(),
            auths: Vec::new(),
        };
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(cfg);
        }
        let json = Json::parse(&bytes).map_err(|source| ConfigError::Parse {
            path: path.clone(),
            source,
        })?;
        let Json::Object(entries) = json else {
            return Err(ConfigError::Parse {
                path,
                source: JsonError {
                    offset: 0,
                    what: "the configuration is not a JSON object",
                },
            });
        };
        for (k, v) in entries {
            if k != "auths" {
                cfg.doc.push((k, v));
                continue;
            }
            let Json::Object(auths) = v else { continue };
            for (registry, a) in auths {
                let (username, password) =
                    decode_auth(str_field(&a, "auth")).ok_or_else(|| ConfigError::BadAuth {
                        path: path.clone(),
                        registry: registry.clone(),
                    })?;
                cfg.auths.push((
                    registry.clone(),
                    AuthConfig {
                        username,
                        password,
                        server_address: registry,
                        identity_token: str_field(&a, "identitytoken").to_string(),
                        registry_token: str_field(&a, "registrytoken").to_string(),
                        email: str_field(&a, "email").to_string(),
                    },
                ));
            }
        }
        Ok(cfg)
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn top(&self, key: &str) -> Option<&Json> {
        self.doc.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// `credsStore`.
    pub fn creds_store(&self) -> Option<&str> {
        self.top("credsStore")
            .and_then(Json::as_str)
            .filter(|s| !s.is_empty())
    }

    /// The helper for `registry` from `credHelpers`.
    pub fn cred_helper(&self, registry: &str) -> Option<&str> {
        self.top("credHelpers")?
            .get(registry)
            .and_then(Json::as_str)
    }

    /// `HttpHeaders` (User-Agent excluded, as docker does).
    pub fn http_headers(&self) -> Vec<(String, String)> {
        match self.top("HttpHeaders") {
            Some(Json::Object(h)) => h
                .iter()
                .filter(|(k, _)| !k.eq_ignore_ascii_case("user-agent"))
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// A top-level string setting (`imagesFormat`, `psFormat`...).
    pub fn string(&self, key: &str) -> Option<&str> {
        self.top(key)
            .and_then(Json::as_str)
            .filter(|s| !s.is_empty())
    }

    /// A top-level list of strings (`pruneFilters`).
    pub fn string_list(&self, key: &str) -> Vec<String> {
        match self.top(key) {
            Some(Json::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The stored entry for `registry`.
    pub fn auth(&self, registry: &str) -> Option<&AuthConfig> {
        self.auths
            .iter()
            .find(|(k, _)| k == registry)
            .map(|(_, a)| a)
    }

    /// Set (or replace) an entry.
    pub fn set_auth(&mut self, registry: &str, a: AuthConfig) {
        match self.auths.iter_mut().find(|(k, _)| k == registry) {
            Some(slot) => slot.1 = a,
            None => self.auths.push((registry.to_string(), a)),
        }
    }

    /// Remove an entry; whether there was one.
    pub fn remove_auth(&mut self, registry: &str) -> bool {
        let before = self.auths.len();
        self.auths.retain(|(k, _)| k != registry);
        self.auths.len() != before
    }

    /// The document as docker writes it (`json.MarshalIndent` with a tab).
    pub fn to_text(&self) -> String {
        let mut auths: Vec<(String, Json)> = self
            .auths
            .iter()
            .map(|(k, a)| {
                let mut e = Vec::new();
                if !a.username.is_empty() || !a.password.is_empty() {
                    let raw = format!("{}:{}", a.username, a.password);
                    e.push((
                        "auth".to_string(),
                        Json::String(base64::engine::general_purpose::STANDARD.encode(raw)),
                    ));
                }
                if !a.email.is_empty() {
                    e.push(("email".into(), Json::String(a.email.clone())));
                }
                if !a.identity_token.is_empty() {
                    e.push((
                        "identitytoken".into(),
                        Json::String(a.identity_token.clone()),
                    ));
                }
                if !a.registry_token.is_empty() {
                    e.push((
                        "registrytoken".into(),
                        Json::String(a.registry_token.clone()),
                    ));
                }
                (k.clone(), Json::Object(e))
            })
            .collect();
        auths.sort_by(|a, b| a.0.cmp(&b.0));
        let mut doc = vec![("auths".to_string(), Json::Object(auths))];
        doc.extend(self.doc.iter().cloned());
        let compact = Json::Object(doc).to_compact(true);
        crate::format::json::indent(compact.as_bytes(), "", "\t").unwrap_or(compact)
    }

    /// Write the file atomically (temporary file in the same directory,
    /// then rename; mode 0600; the directory is created 0700).
    pub fn save(&self) -> Result<(), ConfigError> {
        use std::io::Write;
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        let werr = |source| ConfigError::Write {
            path: self.path.clone(),
            source,
        };
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(werr)?;
        // Follow a symlinked config file, as docker does.
        let target = std::fs::canonicalize(&self.path).unwrap_or_else(|_| self.path.clone());
        let tmp = target.with_file_name(format!(
            ".{}.berth-tmp-{}",
            target
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| FILE_NAME.into()),
            std::process::id()
        ));
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)?;
            f.write_all(self.to_text().as_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, &target)
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            werr(e)
        })
    }
}

/// docker's `ConvertToHostname`: `https://host:5000/v2/` -> `host:5000`.
pub fn convert_to_hostname(s: &str) -> String {
    let rest = match s.split_once("://") {
        Some((_, r)) => r,
        None => s,
    };
    rest.split('/').next().unwrap_or(rest).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_other_keys_and_writes_like_docker() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(FILE_NAME),
            r#"{"psFormat":"x","auths":{"localhost:5000":{"auth":"dXNlcjpwYXNz"}},"credHelpers":{"gcr.io":"gcloud"}}"#,
        )
        .unwrap();
        let mut cfg = ConfigFile::load(dir.path()).unwrap();
        let a = cfg.auth("localhost:5000").unwrap();
        assert_eq!((a.username.as_str(), a.password.as_str()), ("user", "pass"));
        assert_eq!(cfg.cred_helper("gcr.io"), Some("gcloud"));
        cfg.set_auth(
            "https://index.docker.io/v1/",
            AuthConfig {
                username: "me".into(),
                password: "pw".into(),
                ..AuthConfig::default()
            },
        );
        cfg.save().unwrap();
        let text = std::fs::read_to_string(dir.path().join(FILE_NAME)).unwrap();
        assert_eq!(
            text,
            "{\n\t\"auths\": {\n\t\t\"https://index.docker.io/v1/\": {\n\t\t\t\"auth\": \"bWU6cHc=\"\n\t\t},\n\t\t\"localhost:5000\": {\n\t\t\t\"auth\": \"dXNlcjpwYXNz\"\n\t\t}\n\t},\n\t\"psFormat\": \"x\",\n\t\"credHelpers\": {\n\t\t\"gcr.io\": \"gcloud\"\n\t}\n}"
        );
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(FILE_NAME))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn missing_and_bad_files() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = ConfigFile::load(dir.path()).unwrap();
        assert!(cfg.auths.is_empty());
        std::fs::write(dir.path().join(FILE_NAME), "{nope").unwrap();
        assert!(matches!(
            ConfigFile::load(dir.path()),
            Err(ConfigError::Parse { .. })
        ));
        std::fs::write(
            dir.path().join(FILE_NAME),
            r#"{"auths":{"r":{"auth":"!!"}}}"#,
        )
        .unwrap();
        assert!(matches!(
            ConfigFile::load(dir.path()),
            Err(ConfigError::BadAuth { .. })
        ));
    }

    #[test]
    fn registry_auth_header() {
        let a = AuthConfig {
            username: "u".into(),
            password: "p".into(),
            server_address: "localhost:5000".into(),
            ..AuthConfig::default()
        };
        let h = a.encode_header();
        let json = base64::engine::general_purpose::URL_SAFE.decode(h).unwrap();
        assert_eq!(
            String::from_utf8(json).unwrap(),
            r#"{"username":"u","password":"p","serveraddress":"localhost:5000"}"#
        );
        assert_eq!(AuthConfig::default().encode_header(), "e30=");
    }

    #[test]
    fn hostnames() {
        assert_eq!(
            convert_to_hostname("https://localhost:5000/v2/"),
            "localhost:5000"
        );
        assert_eq!(
            convert_to_hostname("registry.example.com/x"),
            "registry.example.com"
        );
    }
}
