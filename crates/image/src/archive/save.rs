//! Writing images from the content store as a Docker ≥ 25 style archive (see the parent module).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, BufWriter, Read, Write};

use super::{ArchiveError, MAX_JSON_SIZE, ManifestItem, blob_path};
use crate::content::{ContentError, Provider};
use crate::digest::{Digest, Digester};
use crate::manifest::{
    Descriptor, Index, Manifest, annotations, parse_index_bytes, parse_manifest_bytes,
};
use crate::media_type::{self, Kind};
use crate::platform::Platform;
use crate::reference::Reference;

/// An image to save: what its record points at, and its names.
#[derive(Clone, Debug, PartialEq)]
pub struct SaveImage {
    /// The image's manifest or index.
    pub target: Descriptor,
    /// Its tags (`docker save busybox:latest other:tag`); empty to save it untagged.
    pub names: Vec<Reference>,
}

const MAX_INDEX_DEPTH: usize = 4;
const OUTPUT_BUFFER: usize = 256 * 1024;

/// One image, resolved against the store.
struct Planned {
    /// What `index.json` points at: the target, or its platform manifest when the target is an
    /// index whose other platforms are not in the store.
    exported: Descriptor,
    /// The platform manifest (for `manifest.json`).
    manifest: Manifest,
    names: Vec<Reference>,
}

/// Writes `images` from `store` as a tar to `out`: an OCI image layout plus Docker's
/// `manifest.json` and `repositories`. Multi-platform indexes are written whole when all their
/// content is in the store, else as the manifest for `platform` (which must be complete).
/// Every blob is re-hashed while it is written; a corrupt or missing blob is an error (the
/// output is then incomplete and must be discarded).
pub fn save<S: Provider + ?Sized>(
    store: &S,
    images: &[SaveImage],
    platform: &Platform,
    out: impl Write,
) -> Result<(), ArchiveError> {
    let mut blobs: BTreeMap<Digest, Descriptor> = BTreeMap::new();
    let mut planned: Vec<Planned> = Vec::new();
    for image in images {
        let plan = plan_image(store, image, platform, &mut blobs)?;
        match planned
            .iter_mut()
            .find(|p| p.exported.digest == plan.exported.digest)
        {
            Some(p) => {
                for n in plan.names {
                    if !p.names.contains(&n) {
                        p.names.push(n);
                    }
                }
            }
            None => planned.push(plan),
        }
    }

    let index_json = index_json(&planned)?;
    let manifest_json = manifest_json(&planned)?;
    let repositories = repositories_json(&planned)?;

    let mut tar = tar::Builder::new(BufWriter::with_capacity(OUTPUT_BUFFER, out));
    let write_err = |source| ArchiveError::Write { source };
    let algorithms: BTreeSet<&str> = blobs.keys().map(|d| d.algorithm().as_str()).collect();
    append_dir(&mut tar, "blobs/").map_err(write_err)?;
    for alg in algorithms {
        append_dir(&mut tar, &format!("blobs/{alg}/")).map_err(write_err)?;
    }
    for desc in blobs.values() {
        append_blob(store, &mut tar, desc)?;
    }
    append_file(&mut tar, "index.json", &index_json, 0o644).map_err(write_err)?;
    append_file(&mut tar, "manifest.json", &manifest_json, 0o644).map_err(write_err)?;
    append_file(
        &mut tar,
        "oci-layout",
        br#"{"imageLayoutVersion":"1.0.0"}"#,
        0o444,
    )
    .map_err(write_err)?;
    append_file(&mut tar, "repositories", &repositories, 0o644).map_err(write_err)?;
    let mut out = tar.into_inner().map_err(write_err)?;
    out.flush().map_err(write_err)?;
    Ok(())
}

fn plan_image<S: Provider + ?Sized>(
    store: &S,
    image: &SaveImage,
    platform: &Platform,
    blobs: &mut BTreeMap<Digest, Descriptor>,
) -> Result<Planned, ArchiveError> {
    let mut target = image.target.clone();
    target.annotations = None;
    let (manifest_desc, manifest) = platform_manifest(store, &target, platform, 0)?;
    let mut whole = BTreeMap::new();
    let exported = if collect(store, &target, &mut whole, 0)? {
        blobs.append(&mut whole);
        target
    } else {
        // Some platform of the index is not here: export the one that is.
        let mut only = BTreeMap::new();
        if !collect(store, &manifest_desc, &mut only, 0)? {
            return Err(missing_content(store, &manifest_desc, &manifest)?);
        }
        blobs.append(&mut only);
        manifest_desc
    };
    Ok(Planned {
        exported,
        manifest,
        names: image.names.clone(),
    })
}

/// The first missing blob of a manifest, as an error.
fn missing_content<S: Provider + ?Sized>(
    store: &S,
    desc: &Descriptor,
    manifest: &Manifest,
) -> Result<ArchiveError, ArchiveError> {
    for d in std::iter::once(&manifest.config).chain(&manifest.layers) {
        if !store.exists(&d.digest)? {
            return Ok(ArchiveError::MissingBlob {
                digest: d.digest.clone(),
                referenced_by: format!("manifest {}", desc.digest),
            });
        }
    }
    Ok(ArchiveError::MissingBlob {
        digest: desc.digest.clone(),
        referenced_by: "the image".to_string(),
    })
}

/// The platform manifest of a target (the target itself, or chosen from its index).
fn platform_manifest<S: Provider + ?Sized>(
    store: &S,
    desc: &Descriptor,
    platform: &Platform,
    depth: usize,
) -> Result<(Descriptor, Manifest), ArchiveError> {
    let raw = read_small(store, desc)?;
    let doc_err = |what, source| ArchiveError::Document {
        what,
        digest: desc.digest.clone(),
        source,
    };
    if media_type::classify(&desc.media_type) == Kind::Index {
        let index =
            parse_index_bytes(Some(&desc.media_type), &raw).map_err(|e| doc_err("index", e))?;
        if depth >= MAX_INDEX_DEPTH {
            return Err(ArchiveError::TooDeep {
                index: desc.digest.clone(),
            });
        }
        let chosen = choose(store, &index.value, platform, &desc.digest)?;
        return platform_manifest(store, &chosen, platform, depth + 1);
    }
    let m =
        parse_manifest_bytes(Some(&desc.media_type), &raw).map_err(|e| doc_err("manifest", e))?;
    Ok((desc.clone(), m.value))
}

/// The platform's manifest in `index`, preferring one whose manifest blob is in the store.
fn choose<S: Provider + ?Sized>(
    store: &S,
    index: &Index,
    platform: &Platform,
    index_digest: &Digest,
) -> Result<Descriptor, ArchiveError> {
    let present: Vec<Descriptor> = index
        .manifests
        .iter()
        .filter(|d| store.exists(&d.digest).unwrap_or(false))
        .cloned()
        .collect();
    let available = Index {
        manifests: present,
        ..index.clone()
    };
    platform
        .select(&available)
        .cloned()
        .ok_or_else(|| ArchiveError::NoPlatformManifest {
            index: index_digest.clone(),
            platform: platform.to_string(),
        })
}

/// Adds every blob reachable from `desc` to `out`; false when some blob is not in the store.
/// Foreign layers (with URLs) that are not in the store are left out, as Docker does.
fn collect<S: Provider + ?Sized>(
    store: &S,
    desc: &Descriptor,
    out: &mut BTreeMap<Digest, Descriptor>,
    depth: usize,
) -> Result<bool, ArchiveError> {
    if !store.exists(&desc.digest)? {
        return Ok(false);
    }
    match media_type::classify(&desc.media_type) {
        Kind::Index => {
            if depth >= MAX_INDEX_DEPTH {
                return Err(ArchiveError::TooDeep {
                    index: desc.digest.clone(),
                });
            }
            let raw = read_small(store, desc)?;
            let index = parse_index_bytes(Some(&desc.media_type), &raw).map_err(|source| {
                ArchiveError::Document {
                    what: "index",
                    digest: desc.digest.clone(),
                    source,
                }
            })?;
            for child in &index.value.manifests {
                if !collect(store, child, out, depth + 1)? {
                    return Ok(false);
                }
            }
        }
        Kind::Manifest => {
            let raw = read_small(store, desc)?;
            let m = parse_manifest_bytes(Some(&desc.media_type), &raw).map_err(|source| {
                ArchiveError::Document {
                    what: "manifest",
                    digest: desc.digest.clone(),
                    source,
                }
            })?;
            if !store.exists(&m.value.config.digest)? {
                return Ok(false);
            }
            out.insert(m.value.config.digest.clone(), m.value.config.clone());
            for layer in &m.value.layers {
                if store.exists(&layer.digest)? {
                    out.insert(layer.digest.clone(), layer.clone());
                } else if layer.urls.is_none() {
                    return Ok(false);
                }
            }
        }
        _ => {}
    }
    out.insert(desc.digest.clone(), desc.clone());
    Ok(true)
}

fn read_small<S: Provider + ?Sized>(store: &S, desc: &Descriptor) -> Result<Vec<u8>, ArchiveError> {
    let info = match store.info(&desc.digest) {
        Ok(i) => i,
        Err(ContentError::NotFound { .. }) => {
            return Err(ArchiveError::MissingBlob {
                digest: desc.digest.clone(),
                referenced_by: "the image".to_string(),
            });
        }
        Err(e) => return Err(e.into()),
    };
    if info.size > MAX_JSON_SIZE {
        return Err(ArchiveError::TooLarge {
            path: desc.digest.to_string(),
            size: info.size,
            limit: MAX_JSON_SIZE,
        });
    }
    Ok(store.read_all(&desc.digest)?)
}

fn index_json(planned: &[Planned]) -> Result<Vec<u8>, ArchiveError> {
    let mut entries = Vec::new();
    for p in planned {
        if p.names.is_empty() {
            entries.push(p.exported.clone());
        }
        for name in &p.names {
            let mut d = p.exported.clone();
            let ref_name = match (&name.tag, &name.digest) {
                (Some(tag), _) => tag.clone(),
                (None, Some(digest)) => digest.to_string(),
                (None, None) => name.to_string(),
            };
            d.annotations = Some(BTreeMap::from([
                (
                    annotations::CONTAINERD_IMAGE_NAME.to_string(),
                    name.to_string(),
                ),
                (annotations::REF_NAME.to_string(), ref_name),
            ]));
            entries.push(d);
        }
    }
    let index = Index::new(entries);
    serde_json::to_vec(&index).map_err(|source| ArchiveError::InvalidJson {
        path: "index.json".to_string(),
        source,
    })
}

fn manifest_json(planned: &[Planned]) -> Result<Vec<u8>, ArchiveError> {
    let items: Vec<ManifestItem> = planned
        .iter()
        .map(|p| ManifestItem {
            config: blob_path(&p.manifest.config.digest),
            repo_tags: Some(
                p.names
                    .iter()
                    .filter(|n| n.tag.is_some())
                    .map(|n| n.familiar())
                    .collect(),
            ),
            layers: p
                .manifest
                .layers
                .iter()
                .map(|l| blob_path(&l.digest))
                .collect(),
            parent: None,
            layer_sources: None,
        })
        .collect();
    serde_json::to_vec(&items).map_err(|source| ArchiveError::InvalidJson {
        path: "manifest.json".to_string(),
        source,
    })
}

/// Docker's legacy `repositories`: familiar name → tag → top layer ID (here the hex of the
/// top layer's digest; nothing reads it but very old `docker load`).
fn repositories_json(planned: &[Planned]) -> Result<Vec<u8>, ArchiveError> {
    let mut repos: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for p in planned {
        let Some(top) = p.manifest.layers.last() else {
            continue;
        };
        for n in &p.names {
            if let Some(tag) = &n.tag {
                repos
                    .entry(n.familiar_name())
                    .or_default()
                    .insert(tag.clone(), top.digest.hex().to_string());
            }
        }
    }
    serde_json::to_vec(&repos).map_err(|source| ArchiveError::InvalidJson {
        path: "repositories".to_string(),
        source,
    })
}

fn header(kind: tar::EntryType, size: u64, mode: u32) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(mode);
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h
}

fn append_dir<W: Write>(tar: &mut tar::Builder<W>, path: &str) -> io::Result<()> {
    let mut h = header(tar::EntryType::Directory, 0, 0o755);
    tar.append_data(&mut h, path, io::empty())
}

fn append_file<W: Write>(
    tar: &mut tar::Builder<W>,
    path: &str,
    data: &[u8],
    mode: u32,
) -> io::Result<()> {
    let mut h = header(tar::EntryType::Regular, data.len() as u64, mode);
    tar.append_data(&mut h, path, data)
}

/// Copies one blob from the store into the tar, checking its size and digest on the way.
fn append_blob<S: Provider + ?Sized, W: Write>(
    store: &S,
    tar: &mut tar::Builder<W>,
    desc: &Descriptor,
) -> Result<(), ArchiveError> {
    let info = store.info(&desc.digest)?;
    if info.size != desc.size {
        return Err(ArchiveError::SizeMismatch {
            digest: desc.digest.clone(),
            expected: desc.size,
            actual: info.size,
        });
    }
    let mut reader = VerifyingReader {
        inner: store.open(&desc.digest)?.take(info.size),
        digester: Digester::new(desc.digest.algorithm()),
        count: 0,
        error: None,
    };
    let mut h = header(tar::EntryType::Regular, info.size, 0o444);
    if let Err(source) = tar.append_data(&mut h, blob_path(&desc.digest), &mut reader) {
        return Err(match reader.error.take() {
            Some(source) => ArchiveError::ReadBlob {
                digest: desc.digest.clone(),
                source,
            },
            None => ArchiveError::Write { source },
        });
    }
    if reader.count != info.size {
        return Err(ArchiveError::SizeMismatch {
            digest: desc.digest.clone(),
            expected: info.size,
            actual: reader.count,
        });
    }
    let actual = reader.digester.finalize();
    if actual != desc.digest {
        return Err(ArchiveError::CorruptBlob {
            path: format!("blob {} in the content store", desc.digest),
            expected: desc.digest.clone(),
            actual,
        });
    }
    Ok(())
}

/// Hashes and counts what passes through, and keeps a read error for the caller (the tar
/// writer only sees a generic one).
struct VerifyingReader<R> {
    inner: R,
    digester: Digester,
    count: u64,
    error: Option<io::Error>,
}

impl<R: Read> Read for VerifyingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                self.digester.update(&buf[..n]);
                self.count += n as u64;
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => {
                let kind = e.kind();
                self.error = Some(e);
                Err(io::Error::new(
                    kind,
                    "reading a blob from the content store failed",
                ))
            }
        }
    }
}
