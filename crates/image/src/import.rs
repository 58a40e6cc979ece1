//! `docker import`: a root filesystem tarball (plain, gzip or zstd) becomes a one-layer image.
//!
//! The tarball is streamed once: its bytes go as they are into the content store (a
//! compressed upload stays compressed, and is the layer blob), while the decompressed stream is
//! hashed (the layer's diff ID) and walked as a tar (so that garbage is refused). Then an image
//! config (platform, `--change`s, one history entry, the creation time, Docker's
//! `"Imported from -"` comment) and an OCI manifest are written. The config digest is the image
//! ID. The `--change` strings are parsed elsewhere (the Dockerfile parser); this module takes
//! their result as [`ConfigChanges`].

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::compression;
use crate::content::{ContentError, Ingester, Provider, Writer, WriterRequest, write_blob};
use crate::digest::{Algorithm, Digest, Digester};
use crate::error::Category;
use crate::manifest::{
    ContainerConfig, Descriptor, History, ImageConfig, Manifest, ManifestError, Parsed, RootFs,
};
use crate::media_type;
use crate::platform::Platform;

/// The image config changes of `docker import --change` (Dockerfile instructions that only
/// touch the config). `ONBUILD` is ignored, as Docker does for import.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfigChanges {
    /// `CMD`: replaces the command.
    pub cmd: Option<Vec<String>>,
    /// `ENTRYPOINT`: replaces the entrypoint.
    pub entrypoint: Option<Vec<String>>,
    /// `ENV`: `KEY=value` entries; a key already set is replaced.
    pub env: Vec<String>,
    /// `WORKDIR`.
    pub working_dir: Option<String>,
    /// `USER`.
    pub user: Option<String>,
    /// `EXPOSE`: `80`, `80/tcp`, `53/udp` (no protocol means tcp).
    pub expose: Vec<String>,
    /// `VOLUME`: paths.
    pub volumes: Vec<String>,
    /// `LABEL`: merged into the labels.
    pub labels: BTreeMap<String, String>,
    /// `STOPSIGNAL`.
    pub stop_signal: Option<String>,
}

impl ConfigChanges {
    /// Applies the changes to a container config.
    pub fn apply(&self, config: &mut ContainerConfig) {
        if let Some(cmd) = &self.cmd {
            config.cmd = Some(cmd.clone());
        }
        if let Some(ep) = &self.entrypoint {
            config.entrypoint = Some(ep.clone());
        }
        if !self.env.is_empty() {
            let env = config.env.get_or_insert_with(Vec::new);
            for kv in &self.env {
                let key = kv.split_once('=').map_or(kv.as_str(), |(k, _)| k);
                match env
                    .iter_mut()
                    .find(|e| e.split_once('=').map_or(e.as_str(), |(k, _)| k) == key)
                {
                    Some(existing) => existing.clone_from(kv),
                    None => env.push(kv.clone()),
                }
            }
        }
        if let Some(wd) = &self.working_dir {
            config.working_dir = Some(wd.clone());
        }
        if let Some(user) = &self.user {
            config.user = Some(user.clone());
        }
        for port in &self.expose {
            let port = if port.contains('/') {
                port.clone()
            } else {
                format!("{port}/tcp")
            };
            config
                .exposed_ports
                .get_or_insert_with(BTreeMap::new)
                .insert(port, serde_json::Value::Object(Default::default()));
        }
        for v in &self.volumes {
            config
                .volumes
                .get_or_insert_with(BTreeMap::new)
                .insert(v.clone(), serde_json::Value::Object(Default::default()));
        }
        if !self.labels.is_empty() {
            config
                .labels
                .get_or_insert_with(BTreeMap::new)
                .extend(self.labels.clone());
        }
        if let Some(sig) = &self.stop_signal {
            config.stop_signal = Some(sig.clone());
        }
    }
}

/// How to import.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// The config changes (`--change`).
    pub changes: ConfigChanges,
    /// The commit message (`--message`); default `"Imported from <source>"`.
    pub message: Option<String>,
    /// Where the tarball came from, for the default message: `-` for stdin, or the URL/path.
    pub source: String,
    /// The image's platform (`--platform`); default the host's.
    pub platform: Option<Platform>,
    /// The creation time; default now.
    pub created: Option<SystemTime>,
}

impl Default for ImportOptions {
    fn default() -> ImportOptions {
        ImportOptions {
            changes: ConfigChanges::default(),
            message: None,
            source: "-".to_string(),
            platform: None,
            created: None,
        }
    }
}

/// The image made by [`import`].
#[derive(Clone, Debug, PartialEq)]
pub struct ImportedImage {
    /// The OCI manifest (what an image record points at).
    pub manifest: Descriptor,
    /// The config; its digest is the image ID.
    pub config: Descriptor,
    /// The layer blob, as uploaded (compressed or not).
    pub layer: Descriptor,
    /// The digest of the uncompressed layer.
    pub diff_id: Digest,
}

/// Everything that can go wrong importing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// Reading the tarball failed before anything could be detected.
    #[error("failed to read the rootfs tarball")]
    ReadInput {
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The input is empty.
    #[error("the rootfs tarball is empty")]
    Empty,
    /// The input (once decompressed) is not a valid tar, or its compression is corrupt.
    #[error("the rootfs tarball is not a valid tar archive")]
    InvalidTar {
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// Building the config or manifest failed.
    #[error("failed to build the image")]
    Build {
        /// The cause.
        #[source]
        source: ManifestError,
    },
    /// A content store operation failed.
    #[error(transparent)]
    Content(#[from] ContentError),
}

impl ImportError {
    /// The category an API maps to a status code.
    pub fn category(&self) -> Category {
        match self {
            ImportError::Empty | ImportError::InvalidTar { .. } => Category::Invalid,
            ImportError::Content(e) => e.category(),
            ImportError::ReadInput { .. } | ImportError::Build { .. } => Category::Other,
        }
    }
}

/// Imports `rootfs` as a one-layer image into `store`.
pub fn import<S: Provider + Ingester + ?Sized>(
    store: &S,
    rootfs: impl Read + Send,
    options: &ImportOptions,
) -> Result<ImportedImage, ImportError> {
    let (compression, whole) =
        compression::sniff(rootfs).map_err(|source| ImportError::ReadInput { source })?;
    let mut writer = store.writer(WriterRequest::new())?;
    let store_error: Arc<Mutex<Option<io::Error>>> = Arc::new(Mutex::new(None));
    let diff = {
        let tee = Tee {
            inner: whole,
            writer: &mut writer,
            error: store_error.clone(),
        };
        let decoded = compression
            .decoder(tee)
            .map_err(|source| ImportError::InvalidTar { source })?;
        walk_tar(decoded)
    };
    if let Some(source) = store_error.lock().ok().and_then(|mut e| e.take()) {
        return Err(ContentError::Write {
            path: writer.ingest_path().to_path_buf(),
            source,
        }
        .into());
    }
    let (diff_id, _) = diff.map_err(|source| ImportError::InvalidTar { source })?;
    if writer.written() == 0 {
        return Err(ImportError::Empty);
    }
    let layer = writer.commit(None, None)?;
    let layer = Descriptor::new(media_type::oci_layer(compression), layer.digest, layer.size);

    let platform = options
        .platform
        .clone()
        .unwrap_or_else(Platform::host)
        .normalize();
    let created = rfc3339(options.created.unwrap_or_else(SystemTime::now));
    let comment = options
        .message
        .clone()
        .unwrap_or_else(|| format!("Imported from {}", options.source));
    let mut container_config = ContainerConfig::default();
    options.changes.apply(&mut container_config);
    let mut config = ImageConfig {
        created: Some(created.clone()),
        architecture: platform.architecture.clone(),
        os: platform.os.clone(),
        variant: platform.variant.clone(),
        config: Some(container_config),
        rootfs: RootFs {
            diff_ids: vec![diff_id.clone()],
            ..RootFs::default()
        },
        history: vec![History {
            created: Some(created),
            comment: Some(comment.clone()),
            ..History::default()
        }],
        ..ImageConfig::default()
    };
    config
        .extra
        .insert("comment".to_string(), serde_json::Value::String(comment));
    let config = Parsed::from_value(config, media_type::OCI_CONFIG, "image config")
        .map_err(|source| ImportError::Build { source })?;
    write_blob(store, &config.raw)?;
    let manifest = Manifest::new(
        media_type::OCI_MANIFEST,
        config.descriptor(),
        vec![layer.clone()],
    );
    let manifest = Parsed::from_value(manifest, media_type::OCI_MANIFEST, "image manifest")
        .map_err(|source| ImportError::Build { source })?;
    write_blob(store, &manifest.raw)?;
    Ok(ImportedImage {
        manifest: manifest.descriptor(),
        config: config.descriptor(),
        layer,
        diff_id,
    })
}

/// Reads a decompressed layer to its end as a tar; returns its digest and size.
fn walk_tar(decoded: impl Read) -> io::Result<(Digest, u64)> {
    let mut hashing = Hashing {
        inner: decoded,
        digester: Digester::new(Algorithm::Sha256),
        count: 0,
    };
    {
        let mut archive = tar::Archive::new(&mut hashing);
        for entry in archive.entries()? {
            // Moving to the next entry reads (and so hashes) this one's data.
            entry?;
        }
    }
    // The end-of-archive blocks and any padding after them are part of the layer.
    io::copy(&mut hashing, &mut io::sink())?;
    Ok((hashing.digester.finalize(), hashing.count))
}

/// Passes the input through while copying it into the store writer.
struct Tee<'a, R> {
    inner: R,
    writer: &'a mut Writer,
    error: Arc<Mutex<Option<io::Error>>>,
}

impl<R: Read> Read for Tee<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Err(e) = self.writer.write_all(&buf[..n]) {
            let kind = e.kind();
            if let Ok(mut slot) = self.error.lock() {
                *slot = Some(e);
            }
            return Err(io::Error::new(kind, "writing to the content store failed"));
        }
        Ok(n)
    }
}

struct Hashing<R> {
    inner: R,
    digester: Digester,
    count: u64,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.digester.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}

/// RFC 3339 in UTC with nanoseconds, trailing zeros trimmed (Go's `time.RFC3339Nano`, which
/// Docker uses for `created`).
pub(crate) fn rfc3339(t: SystemTime) -> String {
    let (secs, nanos) = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (d.as_secs() as i64, d.subsec_nanos()),
        Err(e) => {
            let d = e.duration();
            let mut secs = -(d.as_secs() as i64);
            let mut nanos = d.subsec_nanos();
            if nanos > 0 {
                secs -= 1;
                nanos = 1_000_000_000 - nanos;
            }
            (secs, nanos)
        }
    };
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let mut s = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    );
    if nanos > 0 {
        let frac = format!("{nanos:09}");
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    s.push('Z');
    s
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_times_like_go() {
        let at = |s: u64, n: u32| rfc3339(UNIX_EPOCH + Duration::new(s, n));
        assert_eq!(at(0, 0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400, 0), "2000-02-29T00:00:00Z");
        assert_eq!(
            at(1_684_527_564, 210_016_451),
            "2023-05-19T20:19:24.210016451Z"
        );
        assert_eq!(at(1_684_527_564, 500_000_000), "2023-05-19T20:19:24.5Z");
        assert_eq!(at(4_102_444_799, 0), "2099-12-31T23:59:59Z");
        assert_eq!(
            rfc3339(UNIX_EPOCH - Duration::from_secs(1)),
            "1969-12-31T23:59:59Z"
        );
    }

    #[test]
    fn applies_changes() {
        let mut c = ContainerConfig {
            env: Some(vec!["PATH=/bin".into(), "A=1".into()]),
            labels: Some(BTreeMap::from([("x".to_string(), "1".to_string())])),
            ..ContainerConfig::default()
        };
        let changes = ConfigChanges {
            cmd: Some(vec!["sh".into()]),
            entrypoint: Some(vec!["/init".into()]),
            env: vec!["A=2".into(), "B=3".into()],
            working_dir: Some("/srv".into()),
            user: Some("1000:1000".into()),
            expose: vec!["80".into(), "53/udp".into()],
            volumes: vec!["/data".into()],
            labels: BTreeMap::from([("y".to_string(), "2".to_string())]),
            stop_signal: Some("SIGINT".into()),
        };
        changes.apply(&mut c);
        assert_eq!(c.env.as_deref().unwrap(), ["PATH=/bin", "A=2", "B=3"]);
        assert_eq!(c.cmd.as_deref().unwrap(), ["sh"]);
        assert_eq!(c.entrypoint.as_deref().unwrap(), ["/init"]);
        assert_eq!(c.working_dir.as_deref(), Some("/srv"));
        assert_eq!(c.user.as_deref(), Some("1000:1000"));
        let ports: Vec<_> = c.exposed_ports.as_ref().unwrap().keys().cloned().collect();
        assert_eq!(ports, ["53/udp", "80/tcp"]);
        assert!(c.volumes.as_ref().unwrap().contains_key("/data"));
        assert_eq!(c.labels.as_ref().unwrap().len(), 2);
        assert_eq!(c.stop_signal.as_deref(), Some("SIGINT"));
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["ExposedPorts"]["80/tcp"], serde_json::json!({}));
    }
}
