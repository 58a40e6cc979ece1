//! Typed image documents: descriptors, manifests (OCI and Docker schema 2), indexes (OCI index
//! and Docker manifest list) and image configs (Docker's image JSON, a superset of the OCI
//! config), as serde structs.
//!
//! Round-tripping: every struct keeps the fields it does not know in an `extra` map, so
//! re-serialising loses nothing. But a document received from elsewhere is never re-serialised
//! to compute or check a digest: [`Parsed`] keeps the exact bytes next to the typed value, and
//! the digest is always of those bytes.
//!
//! Validation on parse: the JSON must match the types (the error names the field, e.g.
//! `layers[1].digest`), `schemaVersion` must be 2, the media type (embedded, or given by the
//! caller from a descriptor or a `Content-Type`) must be a known manifest or index type and the
//! two must agree; Docker schema 1 is refused with its own message. [`Manifest::check_image`]
//! additionally requires a known config and known layer media types, for manifests that are
//! to be run as images.
//!
//! ```
//! use berth_image::manifest::{parse_document, Document};
//!
//! let raw = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#;
//! match parse_document(None, raw).unwrap() {
//!     Document::Index(index) => assert!(index.value.manifests.is_empty()),
//!     Document::Manifest(_) => unreachable!(),
//! }
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::digest::Digest;
use crate::error::Category;
use crate::media_type::{self, Kind};
use crate::platform::Platform;

/// Annotation keys used by image layouts and archives.
pub mod annotations {
    /// OCI: the name of a manifest in an image layout's `index.json` (a tag, or a full
    /// reference as Docker and containerd write it).
    pub const REF_NAME: &str = "org.opencontainers.image.ref.name";
    /// containerd and Docker: the full image name of an `index.json` entry.
    pub const CONTAINERD_IMAGE_NAME: &str = "io.containerd.image.name";
    /// OCI: when the image was created (RFC 3339).
    pub const CREATED: &str = "org.opencontainers.image.created";
}

/// Why a document could not be parsed or is not acceptable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ManifestError {
    /// The bytes are not JSON of the expected shape.
    #[error("invalid {what}: field `{field}`: {source}")]
    Decode {
        /// What was being parsed: "image manifest", "image index", "image config".
        what: &'static str,
        /// The path of the field that failed (`.` for the document itself).
        field: String,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// `schemaVersion` is not 2.
    #[error("invalid {what}: unsupported schemaVersion {found} (only 2 is supported)")]
    SchemaVersion {
        /// What was being parsed.
        what: &'static str,
        /// The version found.
        found: u64,
    },
    /// A media type that this crate does not know, where a known one is required.
    #[error("unsupported media type {media_type:?} for {field}")]
    UnknownMediaType {
        /// The media type.
        media_type: String,
        /// Where it was found (`mediaType`, `config.mediaType`, `layers[2].mediaType`).
        field: String,
    },
    /// A Docker image manifest v2 schema 1.
    #[error(
        "Docker Image manifest version 2, schema 1 ({media_type}) is not supported: \
         the image must be re-pushed with a newer client or registry"
    )]
    Schema1 {
        /// The schema 1 media type.
        media_type: String,
    },
    /// A manifest was expected and an index was found, or the other way round.
    #[error("expected an {expected}, found media type {found:?}")]
    WrongKind {
        /// "image manifest" or "image index".
        expected: &'static str,
        /// The media type found.
        found: String,
    },
    /// The descriptor (or `Content-Type`) says one media type, the document another.
    #[error("media type mismatch: expected {expected:?}, the document says {found:?}")]
    MediaTypeMismatch {
        /// The media type the caller expected.
        expected: String,
        /// The media type inside the document.
        found: String,
    },
    /// Neither a manifest nor an index: no media type and no `manifests`, `config` or `layers`.
    #[error("not an image manifest or index (no mediaType, manifests, config or layers)")]
    NotADocument,
    /// Serialising a document built by this crate failed (cannot happen for valid values).
    #[error("cannot serialise {what}")]
    Encode {
        /// What was being serialised.
        what: &'static str,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
}

impl ManifestError {
    /// Everything but an encoding failure is bad input.
    pub fn category(&self) -> Category {
        match self {
            ManifestError::Encode { .. } => Category::Other,
            _ => Category::Invalid,
        }
    }
}

/// An OCI content descriptor: what a blob is, its digest and size, and optional hints.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Descriptor {
    /// The media type of the referenced content (REQUIRED).
    #[serde(rename = "mediaType")]
    pub media_type: String,
    /// The digest of the referenced content (REQUIRED).
    pub digest: Digest,
    /// The size in bytes of the referenced content (REQUIRED).
    pub size: u64,
    /// URLs the content may be downloaded from (foreign layers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urls: Option<Vec<String>>,
    /// Arbitrary metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    /// The platform of the referenced manifest (in indexes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    /// The type of an artifact, when the descriptor references one.
    #[serde(
        rename = "artifactType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub artifact_type: Option<String>,
    /// The content itself, base64-encoded, embedded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// Fields this crate does not know, kept for round-tripping.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Descriptor {
    /// A descriptor with only the required fields.
    pub fn new(media_type: &str, digest: Digest, size: u64) -> Descriptor {
        Descriptor {
            media_type: media_type.to_string(),
            digest,
            size,
            urls: None,
            annotations: None,
            platform: None,
            artifact_type: None,
            data: None,
            extra: Map::new(),
        }
    }

    /// The same descriptor with `platform`.
    pub fn with_platform(mut self, platform: Option<Platform>) -> Descriptor {
        self.platform = platform;
        self
    }

    /// The value of annotation `key`.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.as_ref()?.get(key).map(String::as_str)
    }
}

/// An image manifest: one config and an ordered list of layers (OCI image manifest, or Docker
/// image manifest v2 schema 2, which has the same shape).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always 2.
    #[serde(rename = "schemaVersion")]
    pub schema_version: u64,
    /// The manifest's media type (required by Docker, optional but recommended by OCI).
    #[serde(rename = "mediaType", default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The artifact type, for artifact manifests.
    #[serde(
        rename = "artifactType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub artifact_type: Option<String>,
    /// The image config.
    pub config: Descriptor,
    /// The layers, base first.
    #[serde(default)]
    pub layers: Vec<Descriptor>,
    /// The manifest this one refers to (signatures, attestations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    /// Arbitrary metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    /// Fields this crate does not know, kept for round-tripping.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An image index (OCI) or manifest list (Docker): manifests for several platforms.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Index {
    /// Always 2.
    #[serde(rename = "schemaVersion")]
    pub schema_version: u64,
    /// The index's media type.
    #[serde(rename = "mediaType", default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The artifact type, for artifact indexes.
    #[serde(
        rename = "artifactType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub artifact_type: Option<String>,
    /// The manifests (or nested indexes).
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
    /// The manifest this one refers to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    /// Arbitrary metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    /// Fields this crate does not know, kept for round-tripping.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Index {
    /// An OCI index of `manifests`.
    pub fn new(manifests: Vec<Descriptor>) -> Index {
        Index {
            schema_version: 2,
            media_type: Some(media_type::OCI_INDEX.to_string()),
            artifact_type: None,
            manifests,
            subject: None,
            annotations: None,
            extra: Map::new(),
        }
    }
}

/// Docker's image JSON (the OCI image config plus Docker's legacy fields). The config digest
/// is the image ID.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ImageConfig {
    /// When the image was created, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// Who created the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// CPU architecture (`amd64`).
    #[serde(default)]
    pub architecture: String,
    /// Operating system (`linux`).
    #[serde(default)]
    pub os: String,
    /// OS version (Windows).
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
    /// OS features (Windows).
    #[serde(
        rename = "os.features",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_features: Option<Vec<String>>,
    /// CPU variant (`v7`, `v8`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// The defaults for containers run from this image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<ContainerConfig>,
    /// Docker legacy: the config of the container the last layer was committed from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_config: Option<ContainerConfig>,
    /// Docker legacy: the ID of that container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// Docker legacy: the version of the daemon that built the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docker_version: Option<String>,
    /// The layers' uncompressed digests.
    pub rootfs: RootFs,
    /// How each layer was made.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<History>,
    /// Fields this crate does not know, kept for round-tripping.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ImageConfig {
    /// The image's platform.
    pub fn platform(&self) -> Platform {
        Platform {
            architecture: self.architecture.clone(),
            os: self.os.clone(),
            os_version: self.os_version.clone(),
            os_features: self.os_features.clone(),
            variant: self.variant.clone(),
            features: None,
        }
    }
}

/// The chain IDs of a stack of layers (OCI image spec, "Layer ChainID"): the first is the first
/// diff ID, each next one is `sha256(<previous chain ID> + " " + <diff ID>)`. A chain ID names
/// a layer *with everything under it*, so it is the natural key of an unpacked snapshot.
pub fn chain_ids(diff_ids: &[Digest]) -> Vec<Digest> {
    let mut out: Vec<Digest> = Vec::with_capacity(diff_ids.len());
    for diff_id in diff_ids {
        let next = match out.last() {
            None => diff_id.clone(),
            Some(parent) => Digest::sha256_of(format!("{parent} {diff_id}").as_bytes()),
        };
        out.push(next);
    }
    out
}

/// `rootfs`: the layers of the image by their uncompressed digests.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RootFs {
    /// Always `layers`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The uncompressed digest of each layer, base first.
    #[serde(default)]
    pub diff_ids: Vec<Digest>,
    /// Fields this crate does not know, kept for round-tripping.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Default for RootFs {
    fn default() -> RootFs {
        RootFs {
            kind: "layers".to_string(),
            diff_ids: Vec::new(),
            extra: Map::new(),
        }
    }
}

/// One `history` entry.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// When the step ran, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// The command of the step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// Who made it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// A comment (`docker import` puts "Imported from -" here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// True when the step made no layer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub empty_layer: Option<bool>,
    /// Fields this crate does not know, kept for round-tripping.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The container defaults of an image (Docker's `config`, capitalised keys). Fields that the
/// engine does not use (Hostname, AttachStdin, Tty, …) stay in `extra`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerConfig {
    /// `user`, `user:group`, `uid:gid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// `80/tcp` → `{}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposed_ports: Option<BTreeMap<String, Value>>,
    /// `KEY=value`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<Vec<String>>,
    /// The entrypoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    /// The default command (arguments to the entrypoint).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cmd: Option<Vec<String>>,
    /// Paths of anonymous volumes → `{}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volumes: Option<BTreeMap<String, Value>>,
    /// The working directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    /// Labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    /// The signal that stops the container (`SIGTERM`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    /// Seconds to wait after the stop signal (Docker).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_timeout: Option<i64>,
    /// Windows: the command line is already escaped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args_escaped: Option<bool>,
    /// Docker's healthcheck.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<HealthConfig>,
    /// Dockerfile ONBUILD triggers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_build: Option<Vec<String>>,
    /// Dockerfile SHELL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shell: Option<Vec<String>>,
    /// Fields this crate does not know, kept for round-tripping.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Docker's `Healthcheck` (durations in nanoseconds).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HealthConfig {
    /// `["NONE"]`, `["CMD", …]`, `["CMD-SHELL", "…"]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<Vec<String>>,
    /// Time between checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<i64>,
    /// Time a check may take.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<i64>,
    /// Start period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_period: Option<i64>,
    /// Interval during the start period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_interval: Option<i64>,
    /// Failures before unhealthy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<i64>,
    /// Fields this crate does not know, kept for round-tripping.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A typed document together with the exact bytes it was parsed from (or serialised to), its
/// digest (of those bytes) and its effective media type.
#[derive(Clone, Debug, PartialEq)]
pub struct Parsed<T> {
    /// The typed value.
    pub value: T,
    /// The exact bytes; digests cover these.
    pub raw: Vec<u8>,
    /// sha256 of `raw`.
    pub digest: Digest,
    /// The media type: the caller's, else the embedded one, else the OCI default.
    pub media_type: String,
}

impl<T> Parsed<T> {
    /// A descriptor of this document.
    pub fn descriptor(&self) -> Descriptor {
        Descriptor::new(&self.media_type, self.digest.clone(), self.raw.len() as u64)
    }
}

impl<T: Serialize> Parsed<T> {
    /// Serialises `value` (compact JSON) for a document this crate builds.
    pub fn from_value(
        value: T,
        media_type: &str,
        what: &'static str,
    ) -> Result<Parsed<T>, ManifestError> {
        let raw =
            serde_json::to_vec(&value).map_err(|source| ManifestError::Encode { what, source })?;
        Ok(Parsed {
            digest: Digest::sha256_of(&raw),
            value,
            raw,
            media_type: media_type.to_string(),
        })
    }
}

/// A manifest or an index.
#[derive(Clone, Debug, PartialEq)]
pub enum Document {
    /// An image manifest.
    Manifest(Box<Parsed<Manifest>>),
    /// An index or manifest list.
    Index(Box<Parsed<Index>>),
}

impl Document {
    /// The media type of the document.
    pub fn media_type(&self) -> &str {
        match self {
            Document::Manifest(m) => &m.media_type,
            Document::Index(i) => &i.media_type,
        }
    }

    /// The digest of the document's bytes.
    pub fn digest(&self) -> &Digest {
        match self {
            Document::Manifest(m) => &m.digest,
            Document::Index(i) => &i.digest,
        }
    }
}

const MANIFEST: &str = "image manifest";
const INDEX: &str = "image index";
const CONFIG: &str = "image config";

fn decode<T: serde::de::DeserializeOwned>(
    what: &'static str,
    raw: &[u8],
) -> Result<T, ManifestError> {
    let de = &mut serde_json::Deserializer::from_slice(raw);
    serde_path_to_error::deserialize(de).map_err(|e| ManifestError::Decode {
        what,
        field: e.path().to_string(),
        source: e.into_inner(),
    })
}

/// Just the fields that say what a document is.
#[derive(Deserialize)]
struct Shape {
    #[serde(rename = "schemaVersion")]
    schema_version: Option<u64>,
    #[serde(rename = "mediaType")]
    media_type: Option<String>,
    manifests: Option<Value>,
    config: Option<Value>,
    layers: Option<Value>,
    #[serde(rename = "fsLayers")]
    fs_layers: Option<Value>,
}

/// Whether a caller-given media type is a hint to ignore (generic JSON, empty).
fn is_generic(media_type: &str) -> bool {
    let mt = media_type.split(';').next().unwrap_or("").trim();
    mt.is_empty()
        || mt == "application/json"
        || mt == "text/plain"
        || mt == "application/octet-stream"
}

/// Parses a manifest or an index. `media_type` is what the caller was told (a descriptor's
/// media type or an HTTP `Content-Type`); generic types (`application/json`) are ignored, an
/// unknown one is an error.
pub fn parse_document(media_type: Option<&str>, raw: &[u8]) -> Result<Document, ManifestError> {
    let shape: Shape = decode("image manifest or index", raw)?;
    let hint = media_type.filter(|m| !is_generic(m));
    let kind_of = |mt: &str, field: &str| -> Result<Kind, ManifestError> {
        match media_type::classify(mt) {
            k @ (Kind::Manifest | Kind::Index) => Ok(k),
            Kind::Schema1 => Err(ManifestError::Schema1 {
                media_type: mt.to_string(),
            }),
            _ => Err(ManifestError::UnknownMediaType {
                media_type: mt.to_string(),
                field: field.to_string(),
            }),
        }
    };
    let kind = if let Some(h) = hint {
        kind_of(h, "the requested media type")?
    } else if let Some(m) = &shape.media_type {
        kind_of(m, "mediaType")?
    } else if shape.schema_version == Some(1) || shape.fs_layers.is_some() {
        return Err(ManifestError::Schema1 {
            media_type: media_type::DOCKER_MANIFEST_V1_SIGNED.to_string(),
        });
    } else if shape.manifests.is_some() {
        Kind::Index
    } else if shape.config.is_some() || shape.layers.is_some() {
        Kind::Manifest
    } else {
        return Err(ManifestError::NotADocument);
    };
    match kind {
        Kind::Index => Ok(Document::Index(Box::new(parse_index_bytes(hint, raw)?))),
        _ => Ok(Document::Manifest(Box::new(parse_manifest_bytes(
            hint, raw,
        )?))),
    }
}

/// Parses an image manifest (see [`parse_document`] for `media_type`).
pub fn parse_manifest_bytes(
    media_type: Option<&str>,
    raw: &[u8],
) -> Result<Parsed<Manifest>, ManifestError> {
    let media_type = precheck(
        MANIFEST,
        Kind::Manifest,
        media_type,
        raw,
        media_type::OCI_MANIFEST,
    )?;
    let value: Manifest = decode(MANIFEST, raw)?;
    check_schema_version(MANIFEST, value.schema_version)?;
    Ok(Parsed {
        digest: Digest::sha256_of(raw),
        value,
        raw: raw.to_vec(),
        media_type,
    })
}

/// Parses an image index or manifest list (see [`parse_document`] for `media_type`).
pub fn parse_index_bytes(
    media_type: Option<&str>,
    raw: &[u8],
) -> Result<Parsed<Index>, ManifestError> {
    let media_type = precheck(INDEX, Kind::Index, media_type, raw, media_type::OCI_INDEX)?;
    let value: Index = decode(INDEX, raw)?;
    check_schema_version(INDEX, value.schema_version)?;
    Ok(Parsed {
        digest: Digest::sha256_of(raw),
        value,
        raw: raw.to_vec(),
        media_type,
    })
}

/// Parses an image config. Requires `rootfs`; checks `rootfs.type` is `layers`.
pub fn parse_config_bytes(raw: &[u8]) -> Result<Parsed<ImageConfig>, ManifestError> {
    let value: ImageConfig = decode(CONFIG, raw)?;
    if value.rootfs.kind != "layers" {
        return Err(ManifestError::UnknownMediaType {
            media_type: value.rootfs.kind.clone(),
            field: "rootfs.type (must be \"layers\")".to_string(),
        });
    }
    Ok(Parsed {
        digest: Digest::sha256_of(raw),
        value,
        raw: raw.to_vec(),
        media_type: media_type::OCI_CONFIG.to_string(),
    })
}

/// Reads only the identifying fields, so that a document of the wrong kind or schema gets
/// that error rather than a missing-field one; returns the effective media type.
fn precheck(
    what: &'static str,
    want: Kind,
    hint: Option<&str>,
    raw: &[u8],
    default: &str,
) -> Result<String, ManifestError> {
    let shape: Shape = decode(what, raw)?;
    if shape.media_type.is_none() && (shape.schema_version == Some(1) || shape.fs_layers.is_some())
    {
        return Err(ManifestError::Schema1 {
            media_type: media_type::DOCKER_MANIFEST_V1_SIGNED.to_string(),
        });
    }
    effective_media_type(what, want, hint, shape.media_type.as_deref(), default)
}

fn check_schema_version(what: &'static str, found: u64) -> Result<(), ManifestError> {
    match found {
        2 => Ok(()),
        found => Err(ManifestError::SchemaVersion { what, found }),
    }
}

fn effective_media_type(
    what: &'static str,
    want: Kind,
    hint: Option<&str>,
    embedded: Option<&str>,
    default: &str,
) -> Result<String, ManifestError> {
    let hint = hint.filter(|m| !is_generic(m));
    for (mt, field) in [(hint, "the requested media type"), (embedded, "mediaType")] {
        let Some(mt) = mt else { continue };
        match media_type::classify(mt) {
            k if k == want => {}
            Kind::Manifest | Kind::Index => {
                return Err(ManifestError::WrongKind {
                    expected: what,
                    found: mt.to_string(),
                });
            }
            Kind::Schema1 => {
                return Err(ManifestError::Schema1 {
                    media_type: mt.to_string(),
                });
            }
            _ => {
                return Err(ManifestError::UnknownMediaType {
                    media_type: mt.to_string(),
                    field: field.to_string(),
                });
            }
        }
    }
    if let (Some(h), Some(e)) = (hint, embedded) {
        let h = h.split(';').next().unwrap_or("").trim();
        if h != e {
            return Err(ManifestError::MediaTypeMismatch {
                expected: h.to_string(),
                found: e.to_string(),
            });
        }
    }
    Ok(hint
        .map(|h| h.split(';').next().unwrap_or("").trim())
        .or(embedded)
        .unwrap_or(default)
        .to_string())
}

impl Manifest {
    /// A manifest of `media_type` (OCI or Docker schema 2) with `config` and `layers`.
    pub fn new(media_type: &str, config: Descriptor, layers: Vec<Descriptor>) -> Manifest {
        Manifest {
            schema_version: 2,
            media_type: Some(media_type.to_string()),
            artifact_type: None,
            config,
            layers,
            subject: None,
            annotations: None,
            extra: Map::new(),
        }
    }

    /// Checks that this manifest is a runnable image: a known config media type and known
    /// layer media types (the error names the first offending field).
    pub fn check_image(&self) -> Result<(), ManifestError> {
        if media_type::classify(&self.config.media_type) != Kind::Config {
            return Err(ManifestError::UnknownMediaType {
                media_type: self.config.media_type.clone(),
                field: "config.mediaType".to_string(),
            });
        }
        for (i, layer) in self.layers.iter().enumerate() {
            if !matches!(media_type::classify(&layer.media_type), Kind::Layer(_)) {
                return Err(ManifestError::UnknownMediaType {
                    media_type: layer.media_type.clone(),
                    field: format!("layers[{i}].mediaType"),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOCKER_MANIFEST: &str = r#"{
   "schemaVersion": 2,
   "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
   "config": {
      "mediaType": "application/vnd.docker.container.image.v1+json",
      "size": 1457,
      "digest": "sha256:a416a98b71e224a31ee99cff8e16063554498227d2b696152a9c3e0aa65e5824"
   },
   "layers": [
      {
         "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
         "size": 2152262,
         "digest": "sha256:ec562eabd705d25bfea8c8d79e4610775e375524af00552fe871d3338261563c",
         "x-unknown-layer-field": [1, 2]
      }
   ],
   "x-unknown-top": {"keep": "me"}
}"#;

    const OCI_INDEX_DOC: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
      {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:1111111111111111111111111111111111111111111111111111111111111111","size":10,
       "platform":{"architecture":"amd64","os":"linux"}},
      {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:2222222222222222222222222222222222222222222222222222222222222222","size":11,
       "platform":{"architecture":"arm","os":"linux","variant":"v7"},"annotations":{"a":"b"}}
    ],"annotations":{"org.opencontainers.image.ref.name":"latest"}}"#;

    const DOCKER_CONFIG_DOC: &str = r##"{"architecture":"amd64","config":{"Hostname":"","Domainname":"","User":"","AttachStdin":false,"Tty":false,"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"],"Image":"sha256:abc","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":null,"Healthcheck":{"Test":["CMD","true"],"Interval":30000000000}},"container":"ba0ff6a4","container_config":{"Cmd":["/bin/sh","-c","#(nop) ","CMD [\"sh\"]"]},"created":"2023-05-19T20:19:24.210016451Z","docker_version":"20.10.23","history":[{"created":"2023-05-19T20:19:24.08Z","created_by":"/bin/sh -c #(nop) ADD file:abc in / "},{"created":"2023-05-19T20:19:24.21Z","created_by":"/bin/sh -c #(nop)  CMD [\"sh\"]","empty_layer":true}],"os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:9547b4c33213e630a0ca602a989ecc094e042146ae8afa502e1e65af6473db03"]},"x-custom":42}"##;

    #[test]
    fn docker_manifest_round_trips_unknown_fields() {
        let raw = DOCKER_MANIFEST.as_bytes();
        let Document::Manifest(m) = parse_document(None, raw).unwrap() else {
            panic!("not a manifest")
        };
        assert_eq!(m.media_type, media_type::DOCKER_MANIFEST_V2);
        assert_eq!(m.raw, raw);
        assert_eq!(m.digest, Digest::sha256_of(raw));
        assert_eq!(m.value.layers[0].size, 2152262);
        assert_eq!(m.value.extra["x-unknown-top"]["keep"], "me");
        assert_eq!(m.value.layers[0].extra["x-unknown-layer-field"][1], 2);
        m.value.check_image().unwrap();
        let again = serde_json::to_vec(&m.value).unwrap();
        let back = parse_manifest_bytes(None, &again).unwrap();
        assert_eq!(back.value, m.value);
        // The descriptor of a parsed document covers the original bytes.
        let d = m.descriptor();
        assert_eq!(
            (d.size, &d.digest),
            (raw.len() as u64, &Digest::sha256_of(raw))
        );
    }

    #[test]
    fn index_parses_with_platforms() {
        let Document::Index(i) =
            parse_document(Some(media_type::OCI_INDEX), OCI_INDEX_DOC.as_bytes()).unwrap()
        else {
            panic!("not an index")
        };
        assert_eq!(i.value.manifests.len(), 2);
        assert_eq!(
            i.value.manifests[1]
                .platform
                .as_ref()
                .unwrap()
                .variant
                .as_deref(),
            Some("v7")
        );
        assert_eq!(i.value.manifests[1].annotation("a"), Some("b"));
        let back: Index = serde_json::from_slice(&serde_json::to_vec(&i.value).unwrap()).unwrap();
        assert_eq!(back, i.value);
    }

    #[test]
    fn config_round_trips() {
        let c = parse_config_bytes(DOCKER_CONFIG_DOC.as_bytes()).unwrap();
        let v = &c.value;
        assert_eq!(v.architecture, "amd64");
        assert_eq!(v.rootfs.diff_ids.len(), 1);
        assert_eq!(v.history[1].empty_layer, Some(true));
        let cfg = v.config.as_ref().unwrap();
        assert_eq!(cfg.cmd.as_deref(), Some(&["sh".to_string()][..]));
        assert_eq!(cfg.entrypoint, None);
        assert_eq!(cfg.extra["Hostname"], "");
        assert_eq!(
            cfg.healthcheck.as_ref().unwrap().interval,
            Some(30_000_000_000)
        );
        assert_eq!(v.extra["x-custom"], 42);
        assert_eq!(v.platform().to_string(), "linux/amd64");
        let again = serde_json::to_vec(v).unwrap();
        assert_eq!(&parse_config_bytes(&again).unwrap().value, v);
    }

    #[test]
    fn errors_name_the_field() {
        let bad_digest = DOCKER_MANIFEST.replace("sha256:ec562e", "sha256:XX562e");
        let e = parse_document(None, bad_digest.as_bytes()).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("layers[0].digest"), "{msg}");
        assert!(msg.contains("invalid checksum digest format"), "{msg}");
        assert_eq!(e.category(), Category::Invalid);

        let e = parse_manifest_bytes(None, br#"{"schemaVersion":2,"config":{"mediaType":"x","digest":"sha256:1111111111111111111111111111111111111111111111111111111111111111","size":-1}}"#)
            .unwrap_err();
        assert!(e.to_string().contains("config.size"), "{e}");

        let e = parse_config_bytes(br#"{"architecture":"amd64","os":"linux"}"#).unwrap_err();
        assert!(e.to_string().contains("rootfs"), "{e}");
        let e =
            parse_config_bytes(br#"{"rootfs":{"type":"layers","diff_ids":"nope"}}"#).unwrap_err();
        assert!(e.to_string().contains("rootfs.diff_ids"), "{e}");
    }

    #[test]
    fn rejects_garbage_and_wrong_types() {
        let cases: &[(Option<&str>, &[u8], &str)] = &[
            (None, b"", "invalid image manifest or index"),
            (None, b"not json", "invalid image manifest or index"),
            (None, b"[1,2]", "invalid image manifest or index"),
            (None, b"{}", "not an image manifest or index"),
            (None, br#"{"schemaVersion":1,"fsLayers":[]}"#, "schema 1"),
            (None, br#"{"schemaVersion":3,"manifests":[]}"#, "unsupported schemaVersion 3"),
            (
                None,
                br#"{"schemaVersion":2,"mediaType":"application/vnd.example+json","layers":[]}"#,
                "unsupported media type \"application/vnd.example+json\"",
            ),
            (
                Some("application/vnd.cncf.helm.config.v1+json"),
                br#"{"schemaVersion":2,"manifests":[]}"#,
                "unsupported media type",
            ),
            (
                Some(media_type::OCI_MANIFEST),
                br#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"a","digest":"sha256:1111111111111111111111111111111111111111111111111111111111111111","size":1}}"#,
                "media type mismatch",
            ),
            (
                Some(media_type::OCI_MANIFEST),
                br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#,
                "expected an image manifest",
            ),
        ];
        for (hint, raw, want) in cases {
            let e = parse_document(*hint, raw).unwrap_err();
            assert!(
                e.to_string().contains(want),
                "{:?}: {e}",
                String::from_utf8_lossy(raw)
            );
            assert_eq!(e.category(), Category::Invalid);
        }
        // A generic Content-Type is no hint.
        let ok = parse_document(Some("application/json"), OCI_INDEX_DOC.as_bytes()).unwrap();
        assert_eq!(ok.media_type(), media_type::OCI_INDEX);
    }

    #[test]
    fn image_check_names_unknown_layer_types() {
        let mut m = parse_manifest_bytes(None, DOCKER_MANIFEST.as_bytes())
            .unwrap()
            .value;
        m.layers[0].media_type = "application/vnd.example.layer".into();
        let e = m.check_image().unwrap_err();
        assert!(e.to_string().contains("layers[0].mediaType"), "{e}");
        m.config.media_type = "application/vnd.cncf.helm.config.v1+json".into();
        assert!(
            m.check_image()
                .unwrap_err()
                .to_string()
                .contains("config.mediaType")
        );
    }

    #[test]
    fn chain_ids_follow_the_spec() {
        let a: Digest = "sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4"
            .parse()
            .unwrap();
        let b = Digest::sha256_of(b"b");
        let ids = chain_ids(&[a.clone(), b.clone(), a.clone()]);
        assert_eq!(ids[0], a);
        assert_eq!(ids[1], Digest::sha256_of(format!("{a} {b}").as_bytes()));
        assert_eq!(
            ids[2],
            Digest::sha256_of(format!("{} {a}", ids[1]).as_bytes())
        );
        assert!(chain_ids(&[]).is_empty());
    }

    #[test]
    fn built_documents_hash_their_bytes() {
        let config = Descriptor::new(media_type::OCI_CONFIG, Digest::sha256_of(b"{}"), 2);
        let m = Manifest::new(media_type::OCI_MANIFEST, config, vec![]);
        let p = Parsed::from_value(m, media_type::OCI_MANIFEST, MANIFEST).unwrap();
        assert_eq!(p.digest, Digest::sha256_of(&p.raw));
        let back = parse_manifest_bytes(Some(media_type::OCI_MANIFEST), &p.raw).unwrap();
        assert_eq!(back.value, p.value);
    }
}
