//! Media types of the OCI image spec and of Docker's image manifest v2 schema 2, and their
//! classification (what kind of blob, which layer compression).
//!
//! Registries and archives name every blob by a media type; code that walks an image asks
//! [`classify`] what a descriptor points at instead of comparing strings.

use crate::compression::Compression;

/// OCI content descriptor (`application/vnd.oci.descriptor.v1+json`).
pub const OCI_DESCRIPTOR: &str = "application/vnd.oci.descriptor.v1+json";
/// OCI image layout header (the `oci-layout` file).
pub const OCI_LAYOUT_HEADER: &str = "application/vnd.oci.layout.header.v1+json";
/// OCI image index.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image config.
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// OCI layer, uncompressed tar.
pub const OCI_LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
/// OCI layer, gzip-compressed tar.
pub const OCI_LAYER_TAR_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
/// OCI layer, zstd-compressed tar.
pub const OCI_LAYER_TAR_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
/// OCI non-distributable layer, uncompressed (deprecated by the spec, still accepted).
pub const OCI_LAYER_NONDISTRIBUTABLE_TAR: &str =
    "application/vnd.oci.image.layer.nondistributable.v1.tar";
/// OCI non-distributable layer, gzip (deprecated by the spec, still accepted).
pub const OCI_LAYER_NONDISTRIBUTABLE_TAR_GZIP: &str =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
/// OCI non-distributable layer, zstd (deprecated by the spec, still accepted).
pub const OCI_LAYER_NONDISTRIBUTABLE_TAR_ZSTD: &str =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";
/// The OCI empty descriptor's media type (`{}`), used as the config of artifacts.
pub const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";

/// Docker image manifest v2, schema 2.
pub const DOCKER_MANIFEST_V2: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker manifest list (the multi-platform index).
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// Docker image config ("container image v1").
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
/// Docker layer, gzip-compressed tar.
pub const DOCKER_LAYER_TAR_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
/// Docker layer, uncompressed tar (what `docker save` layers are).
pub const DOCKER_LAYER_TAR: &str = "application/vnd.docker.image.rootfs.diff.tar";
/// Docker layer, zstd-compressed tar (containerd's name for it).
pub const DOCKER_LAYER_TAR_ZSTD: &str = "application/vnd.docker.image.rootfs.diff.tar.zstd";
/// Docker foreign layer (Windows base layers, fetched from their `urls`).
pub const DOCKER_FOREIGN_LAYER: &str = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
/// Docker image manifest v2 schema 1 (unsigned). Not supported, only recognised.
pub const DOCKER_MANIFEST_V1: &str = "application/vnd.docker.distribution.manifest.v1+json";
/// Docker image manifest v2 schema 1 (signed). Not supported, only recognised.
pub const DOCKER_MANIFEST_V1_SIGNED: &str =
    "application/vnd.docker.distribution.manifest.v1+prettyjws";

/// What a media type names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// An image manifest (OCI or Docker schema 2).
    Manifest,
    /// An index or manifest list.
    Index,
    /// An image config.
    Config,
    /// A layer tar, with its compression.
    Layer(Compression),
    /// A Docker schema 1 manifest: recognised so that it can be refused clearly.
    Schema1,
    /// Any other media type (artifacts, attestations, unknown).
    Other,
}

/// What `media_type` names. Parameters after `;` are ignored, as are surrounding spaces.
pub fn classify(media_type: &str) -> Kind {
    let mt = media_type.split(';').next().unwrap_or("").trim();
    match mt {
        OCI_MANIFEST | DOCKER_MANIFEST_V2 => Kind::Manifest,
        OCI_INDEX | DOCKER_MANIFEST_LIST => Kind::Index,
        OCI_CONFIG | DOCKER_CONFIG => Kind::Config,
        OCI_LAYER_TAR | OCI_LAYER_NONDISTRIBUTABLE_TAR | DOCKER_LAYER_TAR => {
            Kind::Layer(Compression::None)
        }
        OCI_LAYER_TAR_GZIP
        | OCI_LAYER_NONDISTRIBUTABLE_TAR_GZIP
        | DOCKER_LAYER_TAR_GZIP
        | DOCKER_FOREIGN_LAYER => Kind::Layer(Compression::Gzip),
        OCI_LAYER_TAR_ZSTD | OCI_LAYER_NONDISTRIBUTABLE_TAR_ZSTD | DOCKER_LAYER_TAR_ZSTD => {
            Kind::Layer(Compression::Zstd)
        }
        DOCKER_MANIFEST_V1 | DOCKER_MANIFEST_V1_SIGNED => Kind::Schema1,
        _ => Kind::Other,
    }
}

/// Whether `media_type` is an image manifest.
pub fn is_manifest(media_type: &str) -> bool {
    classify(media_type) == Kind::Manifest
}

/// Whether `media_type` is an index or manifest list.
pub fn is_index(media_type: &str) -> bool {
    classify(media_type) == Kind::Index
}

/// Whether `media_type` is an image config.
pub fn is_config(media_type: &str) -> bool {
    classify(media_type) == Kind::Config
}

/// The compression of a layer media type, or `None` when it is not a layer.
pub fn layer_compression(media_type: &str) -> Option<Compression> {
    match classify(media_type) {
        Kind::Layer(c) => Some(c),
        _ => None,
    }
}

/// The OCI layer media type for a compression.
pub fn oci_layer(compression: Compression) -> &'static str {
    match compression {
        Compression::None => OCI_LAYER_TAR,
        Compression::Gzip => OCI_LAYER_TAR_GZIP,
        Compression::Zstd => OCI_LAYER_TAR_ZSTD,
    }
}

/// The Docker schema 2 layer media type for a compression.
pub fn docker_layer(compression: Compression) -> &'static str {
    match compression {
        Compression::None => DOCKER_LAYER_TAR,
        Compression::Gzip => DOCKER_LAYER_TAR_GZIP,
        Compression::Zstd => DOCKER_LAYER_TAR_ZSTD,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies() {
        assert_eq!(classify(OCI_MANIFEST), Kind::Manifest);
        assert_eq!(classify(DOCKER_MANIFEST_V2), Kind::Manifest);
        assert_eq!(classify(OCI_INDEX), Kind::Index);
        assert_eq!(classify(DOCKER_MANIFEST_LIST), Kind::Index);
        assert_eq!(classify(DOCKER_CONFIG), Kind::Config);
        assert_eq!(classify(OCI_CONFIG), Kind::Config);
        assert_eq!(
            classify(DOCKER_LAYER_TAR_GZIP),
            Kind::Layer(Compression::Gzip)
        );
        assert_eq!(classify(OCI_LAYER_TAR), Kind::Layer(Compression::None));
        assert_eq!(classify(OCI_LAYER_TAR_ZSTD), Kind::Layer(Compression::Zstd));
        assert_eq!(
            classify(OCI_LAYER_NONDISTRIBUTABLE_TAR_GZIP),
            Kind::Layer(Compression::Gzip)
        );
        assert_eq!(
            classify(DOCKER_FOREIGN_LAYER),
            Kind::Layer(Compression::Gzip)
        );
        assert_eq!(classify(DOCKER_MANIFEST_V1_SIGNED), Kind::Schema1);
        assert_eq!(classify("application/vnd.in-toto+json"), Kind::Other);
        assert_eq!(
            classify(" application/vnd.oci.image.manifest.v1+json; charset=utf-8"),
            Kind::Manifest
        );
        assert!(is_manifest(OCI_MANIFEST) && !is_manifest(OCI_INDEX));
        assert!(is_index(DOCKER_MANIFEST_LIST) && is_config(OCI_CONFIG));
        assert_eq!(layer_compression(OCI_CONFIG), None);
        for c in [Compression::None, Compression::Gzip, Compression::Zstd] {
            assert_eq!(layer_compression(oci_layer(c)), Some(c));
            assert_eq!(layer_compression(docker_layer(c)), Some(c));
        }
    }
}
