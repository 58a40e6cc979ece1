//! Loading a bundle: `config.json` parsed into the runtime-spec types, with
//! parse errors that name the JSON path of the offending field.
//!
//! One kind of bad value is not an error: a capability name this runtime does not know. The
//! runtime-spec (since 1.1) says such a value "MUST be logged as a warning" and that runtimes
//! "SHOULD NOT fail"; the name is dropped from its set and reported back for the caller to log.

use std::path::{Component, Path, PathBuf};

use oci_spec::runtime::{Capability, Process, Spec};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The runtime-spec versions this runtime accepts: 1.0.0 up to 1.3.x.
pub const OCI_VERSION_MIN: &str = "1.0.0";
/// Newest runtime-spec version accepted (any 1.3 patch release).
pub const OCI_VERSION_MAX: &str = "1.3.0";
/// The version this runtime reports and writes in `spec`.
pub const OCI_VERSION: &str = "1.2.0";

/// Why `config.json` could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// Path of config.json.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// JSON syntax or a field of the wrong type or value.
    #[error("{path}: {field}: {message}")]
    Parse {
        /// Path of config.json.
        path: PathBuf,
        /// JSON path of the field, e.g. `linux.namespaces[3].type`.
        field: String,
        /// The parser's message (with line and column).
        message: String,
    },
    /// `ociVersion` outside the supported range.
    #[error(
        "{path}: ociVersion: unsupported version {version:?} (supported: {OCI_VERSION_MIN} to 1.3.x)"
    )]
    Version {
        /// Path of config.json.
        path: PathBuf,
        /// The version found.
        version: String,
    },
}

/// A bundle directory and its parsed configuration.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// The bundle directory, absolute.
    pub dir: PathBuf,
    /// The parsed `config.json`.
    pub spec: Spec,
    /// Its bytes, as read (the runtime keeps a copy in its state).
    pub raw: Vec<u8>,
    /// Warnings to log: the capability names that were dropped.
    pub warnings: Vec<String>,
}

impl Bundle {
    /// Load `<dir>/config.json`.
    pub fn load(dir: &Path) -> Result<Bundle, ConfigError> {
        let dir = absolute(dir);
        let path = dir.join("config.json");
        let bytes = std::fs::read(&path).map_err(|source| ConfigError::Read {
            path: path.clone(),
            source,
        })?;
        let (spec, warnings) = parse_reporting(&bytes, &path)?;
        Ok(Bundle {
            dir,
            spec,
            raw: bytes,
            warnings,
        })
    }

    /// The root filesystem: `root.path`, relative to the bundle unless absolute.
    pub fn rootfs(&self) -> Option<PathBuf> {
        let root = self.spec.root().as_ref()?;
        Some(absolute_in(&self.dir, root.path()))
    }
}

/// Parse config.json bytes (`path` is only used in messages); unknown capability names are
/// dropped silently (see [`parse_reporting`]).
pub fn parse(bytes: &[u8], path: &Path) -> Result<Spec, ConfigError> {
    Ok(parse_reporting(bytes, path)?.0)
}

/// Parse config.json bytes, returning the warnings for the capability names that were dropped.
pub fn parse_reporting(bytes: &[u8], path: &Path) -> Result<(Spec, Vec<String>), ConfigError> {
    let (spec, warnings) = deserialize::<Spec>(bytes, "/process/capabilities", path)?;
    check_version(spec.version()).map_err(|()| ConfigError::Version {
        path: path.to_path_buf(),
        version: spec.version().clone(),
    })?;
    Ok((spec, warnings))
}

/// Parse a process document (`exec --process`), with the same treatment of capabilities.
pub fn parse_process(bytes: &[u8], path: &Path) -> Result<(Process, Vec<String>), ConfigError> {
    deserialize::<Process>(bytes, "/capabilities", path)
}

/// Deserialize `T`. Only when that fails inside the capabilities object at `caps_at` (a JSON
/// pointer) is the document read again as a tree, stripped of unknown capability names and
/// deserialized from that: the common case pays for one parse.
fn deserialize<T: DeserializeOwned>(
    bytes: &[u8],
    caps_at: &str,
    path: &Path,
) -> Result<(T, Vec<String>), ConfigError> {
    let parse_error = |e: serde_path_to_error::Error<serde_json::Error>| {
        let field = e.path().to_string();
        ConfigError::Parse {
            path: path.to_path_buf(),
            field: if field == "." {
                "(top level)".into()
            } else {
                field
            },
            message: e.into_inner().to_string(),
        }
    };
    let first = serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(bytes));
    let err = match first {
        Ok(v) => return Ok((v, Vec::new())),
        Err(e) => e,
    };
    let caps_field = format!("{}.", caps_at[1..].replace('/', "."));
    if !err.path().to_string().starts_with(&caps_field) {
        return Err(parse_error(err));
    }
    let Ok(mut tree) = serde_json::from_slice::<Value>(bytes) else {
        return Err(parse_error(err));
    };
    let dropped = drop_unknown_capabilities(tree.pointer_mut(caps_at));
    if dropped.is_empty() {
        return Err(parse_error(err));
    }
    let value = serde_path_to_error::deserialize(tree).map_err(parse_error)?;
    let warnings = dropped
        .into_iter()
        .map(|(set, name)| {
            format!(
                "{}.{set}: ignoring unknown capability {name:?}",
                &caps_field[..caps_field.len() - 1]
            )
        })
        .collect();
    Ok((value, warnings))
}

/// Remove the string entries of the five capability sets that name no capability this runtime
/// knows; returns `(set, name)` for each. Entries of the wrong type stay, so they still fail.
fn drop_unknown_capabilities(caps: Option<&mut Value>) -> Vec<(&'static str, String)> {
    let mut dropped = Vec::new();
    let Some(Value::Object(caps)) = caps else {
        return dropped;
    };
    for set in [
        "bounding",
        "effective",
        "inheritable",
        "permitted",
        "ambient",
    ] {
        let Some(Value::Array(names)) = caps.get_mut(set) else {
            continue;
        };
        names.retain(|n| {
            let Value::String(name) = n else {
                return true;
            };
            let known = serde_json::from_value::<Capability>(n.clone()).is_ok();
            if !known {
                dropped.push((set, name.clone()));
            }
            known
        });
    }
    dropped
}

/// Accept 1.0.0 through 1.3.x, with or without a `-dev`/`-rc` suffix.
fn check_version(v: &str) -> Result<(), ()> {
    let core = v.split(['-', '+']).next().unwrap_or("");
    let mut parts = core.split('.').map(|p| p.parse::<u32>());
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(Ok(1)), Some(Ok(minor)), Some(Ok(_)), None) if minor <= 3 => Ok(()),
        _ => Err(()),
    }
}

/// `path` made absolute against the current directory, lexically cleaned.
pub fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        clean(path)
    } else {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
        clean(&cwd.join(path))
    }
}

/// `path` interpreted relative to `base` unless it is absolute.
pub fn absolute_in(base: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        clean(path)
    } else {
        clean(&base.join(path))
    }
}

/// Lexical clean-up: drops `.` and resolves `..` against the prefix (never
/// above `/`).
pub fn clean(path: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for c in path.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
        }
    }
    out
}

/// True when the relative `path` climbs above its starting point.
pub fn escapes(path: &Path) -> bool {
    let mut depth: i64 = 0;
    for c in path.components() {
        match c {
            Component::Normal(_) => depth += 1,
            Component::ParentDir => {
                depth -= 1;
                if depth < 0 {
                    return true;
                }
            }
            Component::RootDir => depth = 0,
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"{"ociVersion":"1.0.2","root":{"path":"rootfs"},
        "process":{"user":{"uid":0,"gid":0},"args":["sh"],"cwd":"/"}}"#;

    #[test]
    fn parses_a_minimal_config() {
        let spec = parse(MINIMAL.as_bytes(), Path::new("config.json")).unwrap();
        assert_eq!(spec.version(), "1.0.2");
    }

    #[test]
    fn names_the_bad_field() {
        let bad =
            r#"{"ociVersion":"1.0.2","linux":{"namespaces":[{"type":"pid"},{"type":"bogus"}]}}"#;
        let err = parse(bad.as_bytes(), Path::new("config.json")).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("linux.namespaces[1].type"), "{msg}");
        assert!(msg.contains("bogus"), "{msg}");
    }

    #[test]
    fn unknown_capabilities_are_dropped_with_a_warning() {
        let cfg = r#"{"ociVersion":"1.0.2","process":{"user":{"uid":0,"gid":0},"args":["sh"],
            "cwd":"/","capabilities":{"bounding":["CAP_CHOWN","CAP_TEST"],
            "effective":["CAP_TEST","CAP_KILL"]}}}"#;
        let (spec, warnings) = parse_reporting(cfg.as_bytes(), Path::new("c.json")).unwrap();
        let caps = spec
            .process()
            .as_ref()
            .unwrap()
            .capabilities()
            .clone()
            .unwrap();
        assert_eq!(caps.bounding().as_ref().unwrap().len(), 1);
        assert_eq!(caps.effective().as_ref().unwrap().len(), 1);
        assert_eq!(
            warnings,
            [
                "process.capabilities.bounding: ignoring unknown capability \"CAP_TEST\"",
                "process.capabilities.effective: ignoring unknown capability \"CAP_TEST\""
            ]
        );
        let (p, warnings) = parse_process(
            br#"{"user":{"uid":0,"gid":0},"args":["sh"],"cwd":"/","capabilities":{"ambient":["CAP_NOPE"]}}"#,
            Path::new("p.json"),
        )
        .unwrap();
        assert!(
            p.capabilities()
                .as_ref()
                .unwrap()
                .ambient()
                .as_ref()
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            warnings,
            ["capabilities.ambient: ignoring unknown capability \"CAP_NOPE\""]
        );
        // A capability of the wrong type is still an error that names it.
        let bad = r#"{"ociVersion":"1.0.2","process":{"user":{"uid":0,"gid":0},"args":["sh"],
            "cwd":"/","capabilities":{"bounding":[7, "CAP_TEST"]}}}"#;
        let err = parse(bad.as_bytes(), Path::new("c.json")).unwrap_err();
        assert!(
            err.to_string().contains("process.capabilities.bounding[0]"),
            "{err}"
        );
    }

    #[test]
    fn reports_syntax_errors_with_position() {
        let err = parse(b"{\"ociVersion\": ", Path::new("c.json")).unwrap_err();
        assert!(err.to_string().contains("line 1"), "{err}");
    }

    #[test]
    fn version_range() {
        for ok in ["1.0.0", "1.0.2-dev", "1.1.0", "1.2.0", "1.3.0", "1.3.7"] {
            assert!(check_version(ok).is_ok(), "{ok}");
        }
        for bad in ["0.9.0", "2.0.0", "1.4.0", "", "1.0", "x"] {
            assert!(check_version(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn path_helpers() {
        assert_eq!(clean(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
        assert_eq!(clean(Path::new("/../../x")), PathBuf::from("/x"));
        assert!(escapes(Path::new("../x")));
        assert!(escapes(Path::new("a/../../x")));
        assert!(!escapes(Path::new("a/../b")));
        assert_eq!(
            absolute_in(Path::new("/b"), Path::new("rootfs")),
            PathBuf::from("/b/rootfs")
        );
    }
}
