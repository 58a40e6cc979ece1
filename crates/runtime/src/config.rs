//! Loading a bundle: `config.json` parsed into the runtime-spec types, with
//! parse errors that name the JSON path of the offending field.

use std::path::{Component, Path, PathBuf};

use oci_spec::runtime::Spec;

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
        let spec = parse(&bytes, &path)?;
        Ok(Bundle {
            dir,
            spec,
            raw: bytes,
        })
    }

    /// The root filesystem: `root.path`, relative to the bundle unless absolute.
    pub fn rootfs(&self) -> Option<PathBuf> {
        let root = self.spec.root().as_ref()?;
        Some(absolute_in(&self.dir, root.path()))
    }
}

/// Parse config.json bytes (`path` is only used in messages).
pub fn parse(bytes: &[u8], path: &Path) -> Result<Spec, ConfigError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let spec: Spec = serde_path_to_error::deserialize(de).map_err(|e| {
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
    })?;
    check_version(spec.version()).map_err(|()| ConfigError::Version {
        path: path.to_path_buf(),
        version: spec.version().clone(),
    })?;
    Ok(spec)
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
