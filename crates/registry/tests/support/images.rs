//! Small images built at test time: pseudo-random layer bytes, a config, OCI and Docker
//! schema 2 manifests, indexes, and a helper that pushes one through the client under test.

use berth_image::{Descriptor, Digest, media_type};
use berth_registry::Repository;
use serde_json::json;

/// Deterministic pseudo-random bytes (xorshift), so blobs differ between tests.
pub fn bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

pub fn desc(media_type: &str, data: &[u8]) -> Descriptor {
    Descriptor::new(media_type, Digest::sha256_of(data), data.len() as u64)
}

fn desc_json(d: &Descriptor) -> serde_json::Value {
    json!({"mediaType": d.media_type, "digest": d.digest.to_string(), "size": d.size})
}

/// An image config with these layer diff ids (their digests, as if uncompressed).
pub fn config(layers: &[Descriptor]) -> Vec<u8> {
    let diff_ids: Vec<String> = layers.iter().map(|l| l.digest.to_string()).collect();
    json!({
        "architecture": "amd64",
        "os": "linux",
        "config": {"Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    })
    .to_string()
    .into_bytes()
}

pub fn oci_manifest(config: &Descriptor, layers: &[Descriptor]) -> Vec<u8> {
    json!({
        "schemaVersion": 2,
        "mediaType": media_type::OCI_MANIFEST,
        "config": desc_json(config),
        "layers": layers.iter().map(desc_json).collect::<Vec<_>>(),
    })
    .to_string()
    .into_bytes()
}

pub fn docker_manifest(config: &Descriptor, layers: &[Descriptor]) -> Vec<u8> {
    json!({
        "schemaVersion": 2,
        "mediaType": media_type::DOCKER_MANIFEST_V2,
        "config": desc_json(config),
        "layers": layers.iter().map(desc_json).collect::<Vec<_>>(),
    })
    .to_string()
    .into_bytes()
}

/// An index (`media_type` OCI index or Docker manifest list) of (manifest, arch).
pub fn index(index_type: &str, manifests: &[(Descriptor, &str)]) -> Vec<u8> {
    let list: Vec<serde_json::Value> = manifests
        .iter()
        .map(|(d, arch)| {
            let mut v = desc_json(d);
            v["platform"] = json!({"os": "linux", "architecture": arch});
            v
        })
        .collect();
    json!({"schemaVersion": 2, "mediaType": index_type, "manifests": list})
        .to_string()
        .into_bytes()
}

/// What [`push_image`] pushed.
pub struct Pushed {
    pub config: (Descriptor, Vec<u8>),
    pub layers: Vec<(Descriptor, Vec<u8>)>,
    pub manifest: (Descriptor, Vec<u8>),
}

/// Pushes an image of `layer_sizes` random layers (seeded by `seed`) with a manifest of
/// `manifest_type` (OCI or Docker) under `tag`.
pub fn push_image(
    repo: &Repository,
    tag: &str,
    manifest_type: &str,
    layer_sizes: &[usize],
    seed: u64,
) -> Pushed {
    let docker = manifest_type == media_type::DOCKER_MANIFEST_V2;
    let layer_type = if docker {
        media_type::DOCKER_LAYER_TAR_GZIP
    } else {
        media_type::OCI_LAYER_TAR_GZIP
    };
    let layers: Vec<(Descriptor, Vec<u8>)> = layer_sizes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let b = bytes(*n, seed * 100 + i as u64);
            (desc(layer_type, &b), b)
        })
        .collect();
    let layer_descs: Vec<Descriptor> = layers.iter().map(|(d, _)| d.clone()).collect();
    let config_bytes = config(&layer_descs);
    let config_type = if docker {
        media_type::DOCKER_CONFIG
    } else {
        media_type::OCI_CONFIG
    };
    let config_desc = desc(config_type, &config_bytes);
    for (d, b) in layers.iter().chain(std::iter::once(&(
        config_desc.clone(),
        config_bytes.clone(),
    ))) {
        if repo.blob_exists(&d.digest).expect("blob_exists").is_none() {
            repo.push_blob(d, &b[..], |_| {}).expect("push_blob");
        }
    }
    let manifest = if docker {
        docker_manifest(&config_desc, &layer_descs)
    } else {
        oci_manifest(&config_desc, &layer_descs)
    };
    let digest = repo
        .put_manifest(tag, manifest_type, &manifest)
        .expect("put_manifest");
    assert_eq!(digest, Digest::sha256_of(&manifest));
    Pushed {
        config: (config_desc, config_bytes),
        layers,
        manifest: (desc(manifest_type, &manifest), manifest),
    }
}

/// Reads a whole blob through the client under test.
pub fn fetch_all(repo: &Repository, d: &Descriptor) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    repo.fetch_blob(d)
        .expect("fetch_blob")
        .read_to_end(&mut out)
        .expect("read blob");
    out
}
