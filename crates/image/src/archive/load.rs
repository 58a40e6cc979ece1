//! Reading an image archive into the content store (see the parent module for the formats).

use std::collections::HashMap;
use std::io::{self, Read, Write};

use super::{ArchiveError, MAX_JSON_SIZE, ManifestItem, blob_path_digest, clean_path};
use crate::compression::{self, Compression};
use crate::content::{ContentError, Ingester, Provider, WriterRequest, write_blob};
use crate::digest::{Digest, Digester};
use crate::manifest::{
    Descriptor, ImageConfig, Manifest, Parsed, annotations, parse_config_bytes, parse_index_bytes,
    parse_manifest_bytes,
};
use crate::media_type::{self, Kind};
use crate::platform::Platform;
use crate::reference::Reference;

/// How to load.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// The platform whose manifest is picked from multi-platform indexes (default: the host).
    pub platform: Platform,
}

impl Default for LoadOptions {
    fn default() -> LoadOptions {
        LoadOptions {
            platform: Platform::host(),
        }
    }
}

/// One image found in an archive. All its blobs (for the chosen platform) are in the store.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadedImage {
    /// The names to tag it with, normalised (`docker.io/library/busybox:latest`). Empty for an
    /// untagged image (Docker prints "Loaded image ID: …" then).
    pub names: Vec<Reference>,
    /// What an image record should point at: the manifest, or the index it came in.
    pub target: Descriptor,
    /// The image manifest for the platform (the same as `target` when that is a manifest).
    pub manifest: Descriptor,
    /// The image config; its digest is the image ID.
    pub config: Descriptor,
}

/// A file of the archive, ingested into the store.
#[derive(Clone, Debug)]
struct FileRecord {
    digest: Digest,
    size: u64,
}

/// What a pass over the archive found.
#[derive(Default)]
struct Contents {
    /// Regular files, by clean path, now in the store.
    files: HashMap<String, FileRecord>,
    /// Symlinks and hard links: clean path → clean target path.
    links: HashMap<String, String>,
    /// The metadata files kept in memory: `manifest.json`, `index.json`, `oci-layout`.
    json: HashMap<String, Vec<u8>>,
}

const MANIFEST_JSON: &str = "manifest.json";
const INDEX_JSON: &str = "index.json";
const OCI_LAYOUT: &str = "oci-layout";
const COPY_BUFFER: usize = 256 * 1024;
const MAX_INDEX_DEPTH: usize = 4;

/// Loads every image of the archive `input` (a tar, plain, gzip or zstd) into `store`.
pub fn load<S: Provider + Ingester + ?Sized>(
    store: &S,
    input: impl Read + Send,
    options: &LoadOptions,
) -> Result<Vec<LoadedImage>, ArchiveError> {
    let contents = read_archive(store, input)?;
    if let Some(raw) = contents.json.get(OCI_LAYOUT) {
        check_layout(raw)?;
    }
    let mut from_index = match contents.json.get(INDEX_JSON) {
        Some(raw) => images_of_index(store, raw, &options.platform)?,
        None => Vec::new(),
    };
    let items: Vec<ManifestItem> = match contents.json.get(MANIFEST_JSON) {
        Some(raw) => serde_json::from_slice(raw).map_err(|source| ArchiveError::InvalidJson {
            path: MANIFEST_JSON.to_string(),
            source,
        })?,
        None if contents.json.contains_key(INDEX_JSON) => Vec::new(),
        None => return Err(ArchiveError::NotAnImageArchive),
    };

    let mut out: Vec<LoadedImage> = Vec::new();
    let mut used = vec![false; from_index.len()];
    for item in &items {
        let config_file = resolve(&contents, &item.config, "manifest.json Config")?;
        let names = item
            .repo_tags
            .iter()
            .flatten()
            .map(|t| parse_name(t, MANIFEST_JSON))
            .collect::<Result<Vec<_>, _>>()?;
        // Docker >= 25 also wrote an OCI layout: keep its original manifest.
        if let Some(i) = from_index
            .iter()
            .position(|img| img.config.digest == config_file.digest)
        {
            used[i] = true;
            let mut img = from_index[i].clone();
            add_names(&mut img.names, names);
            push_image(&mut out, img);
            continue;
        }
        let img = synthesise(store, &contents, item, config_file, names)?;
        push_image(&mut out, img);
    }
    for (img, used) in from_index.drain(..).zip(used) {
        if !used {
            push_image(&mut out, img);
        }
    }
    Ok(out)
}

/// Adds `img`, merging it into an earlier image with the same target.
fn push_image(out: &mut Vec<LoadedImage>, img: LoadedImage) {
    match out
        .iter_mut()
        .find(|o| o.target.digest == img.target.digest)
    {
        Some(existing) => add_names(&mut existing.names, img.names),
        None => out.push(img),
    }
}

fn add_names(names: &mut Vec<Reference>, more: Vec<Reference>) {
    for n in more {
        if !names.contains(&n) {
            names.push(n);
        }
    }
}

fn parse_name(name: &str, file: &'static str) -> Result<Reference, ArchiveError> {
    Reference::parse(name)
        .map(|r| r.tag_or_latest())
        .map_err(|source| ArchiveError::InvalidName {
            name: name.to_string(),
            file,
            source,
        })
}

/// One pass over the tar: small JSON files into memory, links recorded, everything else
/// streamed into the store.
fn read_archive<S: Provider + Ingester + ?Sized>(
    store: &S,
    input: impl Read + Send,
) -> Result<Contents, ArchiveError> {
    let read_err = |source| ArchiveError::ReadArchive { source };
    let (_, reader) = compression::decompress(input).map_err(read_err)?;
    let mut archive = tar::Archive::new(reader);
    let mut contents = Contents::default();
    let mut buf = vec![0u8; COPY_BUFFER];
    for entry in archive.entries().map_err(read_err)? {
        let mut entry = entry.map_err(read_err)?;
        let raw_path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let path = clean_path(&raw_path);
        let kind = entry.header().entry_type();
        if kind.is_symlink() || kind.is_hard_link() {
            let Some(target) = entry.link_name_bytes() else {
                continue;
            };
            let target = String::from_utf8_lossy(&target).into_owned();
            let resolved = if kind.is_hard_link() || target.starts_with('/') {
                clean_path(&target)
            } else {
                let parent = path.rsplit_once('/').map_or("", |(p, _)| p);
                clean_path(&format!("{parent}/{target}"))
            };
            contents.links.insert(path, resolved);
            continue;
        }
        if !(kind.is_file() || kind.is_contiguous()) {
            continue;
        }
        let size = entry.size();
        match path.as_str() {
            MANIFEST_JSON | INDEX_JSON | OCI_LAYOUT => {
                if size > MAX_JSON_SIZE {
                    return Err(ArchiveError::TooLarge {
                        path,
                        size,
                        limit: MAX_JSON_SIZE,
                    });
                }
                let mut data = Vec::with_capacity(size as usize);
                entry
                    .read_to_end(&mut data)
                    .map_err(|source| ArchiveError::ReadEntry {
                        path: path.clone(),
                        source,
                    })?;
                if data.len() as u64 != size {
                    return Err(truncated(&path));
                }
                contents.json.insert(path, data);
            }
            // Legacy metadata that nothing needs: names come from manifest.json.
            "repositories" => {}
            p if p.ends_with("/VERSION") || p.ends_with("/json") => {}
            _ => {
                let record = ingest(store, &mut entry, &path, size, &mut buf)?;
                contents.files.insert(path, record);
            }
        }
    }
    Ok(contents)
}

/// Streams one archive file into the store. A `blobs/<alg>/<hex>` file must match its name and
/// is not read at all when the store has it already.
fn ingest<S: Provider + Ingester + ?Sized>(
    store: &S,
    entry: &mut impl Read,
    path: &str,
    size: u64,
    buf: &mut [u8],
) -> Result<FileRecord, ArchiveError> {
    let expected = blob_path_digest(path);
    if let Some(d) = &expected
        && store.exists(d)?
    {
        return Ok(FileRecord {
            digest: d.clone(),
            size,
        });
    }
    let request = WriterRequest {
        expected: expected.clone(),
        ..WriterRequest::default()
    };
    let mut writer = match store.writer(request) {
        Ok(w) => w,
        Err(ContentError::AlreadyExists { digest }) => return Ok(FileRecord { digest, size }),
        Err(e) => return Err(e.into()),
    };
    loop {
        let n = match entry.read(buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(source) => {
                return Err(ArchiveError::ReadEntry {
                    path: path.to_string(),
                    source,
                });
            }
        };
        writer
            .write_all(&buf[..n])
            .map_err(|source| ContentError::Write {
                path: writer.ingest_path().to_path_buf(),
                source,
            })?;
    }
    if writer.written() != size {
        return Err(truncated(path));
    }
    match writer.commit(Some(size), None) {
        Ok(c) => Ok(FileRecord {
            digest: c.digest,
            size: c.size,
        }),
        Err(ContentError::DigestMismatch { expected, actual }) => Err(ArchiveError::CorruptBlob {
            path: path.to_string(),
            expected,
            actual,
        }),
        Err(e) => Err(e.into()),
    }
}

fn truncated(path: &str) -> ArchiveError {
    ArchiveError::ReadEntry {
        path: path.to_string(),
        source: io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the archive ends in the middle of this file (truncated)",
        ),
    }
}

/// Follows symlinks and hard links to an ingested file.
fn resolve<'a>(
    contents: &'a Contents,
    path: &str,
    referenced_by: &str,
) -> Result<&'a FileRecord, ArchiveError> {
    let start = clean_path(path);
    let mut p = start.clone();
    for _ in 0..40 {
        if let Some(rec) = contents.files.get(&p) {
            return Ok(rec);
        }
        match contents.links.get(&p) {
            Some(target) => p = target.clone(),
            None => {
                return Err(ArchiveError::MissingFile {
                    path: path.to_string(),
                    referenced_by: referenced_by.to_string(),
                });
            }
        }
    }
    Err(ArchiveError::SymlinkLoop { path: start })
}

fn check_layout(raw: &[u8]) -> Result<(), ArchiveError> {
    #[derive(serde::Deserialize)]
    struct Layout {
        #[serde(rename = "imageLayoutVersion")]
        version: String,
    }
    let layout: Layout =
        serde_json::from_slice(raw).map_err(|source| ArchiveError::InvalidJson {
            path: OCI_LAYOUT.to_string(),
            source,
        })?;
    if !layout.version.starts_with("1.") {
        return Err(ArchiveError::LayoutVersion {
            version: layout.version,
        });
    }
    Ok(())
}

/// The images named by an OCI layout's `index.json`.
fn images_of_index<S: Provider + ?Sized>(
    store: &S,
    raw: &[u8],
    platform: &Platform,
) -> Result<Vec<LoadedImage>, ArchiveError> {
    let index = parse_index_bytes(None, raw).map_err(|source| ArchiveError::Document {
        what: "index.json",
        digest: Digest::sha256_of(raw),
        source,
    })?;
    let mut out: Vec<LoadedImage> = Vec::new();
    for d in &index.value.manifests {
        let mut names = Vec::new();
        if let Some(n) = d.annotation(annotations::CONTAINERD_IMAGE_NAME) {
            names.push(parse_name(n, INDEX_JSON)?);
        } else if let Some(n) = d.annotation(annotations::REF_NAME)
            && n.contains(['/', ':', '@'])
        {
            names.push(parse_name(n, INDEX_JSON)?);
        }
        let mut target = d.clone();
        target.annotations = None;
        let (manifest, config) = resolve_target(store, &target, platform, "index.json", 0)?;
        push_image(
            &mut out,
            LoadedImage {
                names,
                target,
                manifest,
                config,
            },
        );
    }
    Ok(out)
}

/// From a manifest or index descriptor to the platform's manifest and config, checking that
/// every blob the image needs is in the store.
fn resolve_target<S: Provider + ?Sized>(
    store: &S,
    desc: &Descriptor,
    platform: &Platform,
    referenced_by: &str,
    depth: usize,
) -> Result<(Descriptor, Descriptor), ArchiveError> {
    let raw = read_json_blob(store, desc, referenced_by)?;
    let doc_err = |what, source| ArchiveError::Document {
        what,
        digest: desc.digest.clone(),
        source,
    };
    match media_type::classify(&desc.media_type) {
        Kind::Index => {
            let index =
                parse_index_bytes(Some(&desc.media_type), &raw).map_err(|e| doc_err("index", e))?;
            if depth >= MAX_INDEX_DEPTH {
                return Err(ArchiveError::TooDeep {
                    index: desc.digest.clone(),
                });
            }
            let chosen =
                platform
                    .select(&index.value)
                    .ok_or_else(|| ArchiveError::NoPlatformManifest {
                        index: desc.digest.clone(),
                        platform: platform.to_string(),
                    })?;
            let by = format!("index {}", desc.digest);
            resolve_target(store, chosen, platform, &by, depth + 1)
        }
        _ => {
            let manifest = parse_manifest_bytes(Some(&desc.media_type), &raw)
                .map_err(|e| doc_err("manifest", e))?;
            manifest
                .value
                .check_image()
                .map_err(|e| doc_err("manifest", e))?;
            let by = format!("manifest {}", desc.digest);
            let config = read_config(store, &manifest.value.config, &by)?;
            if config.value.rootfs.diff_ids.len() != manifest.value.layers.len() {
                return Err(ArchiveError::LayerCount {
                    config: config.digest,
                    layers: manifest.value.layers.len(),
                    diff_ids: config.value.rootfs.diff_ids.len(),
                });
            }
            for layer in &manifest.value.layers {
                // Foreign layers are fetched from their URLs, never shipped in archives.
                if layer.urls.is_some() {
                    continue;
                }
                check_blob(store, layer, &by)?;
            }
            let mut m = desc.clone();
            m.annotations = None;
            Ok((m, manifest.value.config.clone()))
        }
    }
}

/// Checks that a blob is in the store with the size its descriptor says; returns that size.
fn check_blob<S: Provider + ?Sized>(
    store: &S,
    desc: &Descriptor,
    referenced_by: &str,
) -> Result<u64, ArchiveError> {
    let info = match store.info(&desc.digest) {
        Ok(i) => i,
        Err(ContentError::NotFound { .. }) => {
            return Err(ArchiveError::MissingBlob {
                digest: desc.digest.clone(),
                referenced_by: referenced_by.to_string(),
            });
        }
        Err(e) => return Err(e.into()),
    };
    if info.size != desc.size {
        return Err(ArchiveError::SizeMismatch {
            digest: desc.digest.clone(),
            expected: desc.size,
            actual: info.size,
        });
    }
    Ok(info.size)
}

fn read_json_blob<S: Provider + ?Sized>(
    store: &S,
    desc: &Descriptor,
    referenced_by: &str,
) -> Result<Vec<u8>, ArchiveError> {
    let size = check_blob(store, desc, referenced_by)?;
    if size > MAX_JSON_SIZE {
        return Err(ArchiveError::TooLarge {
            path: desc.digest.to_string(),
            size,
            limit: MAX_JSON_SIZE,
        });
    }
    Ok(store.read_all(&desc.digest)?)
}

fn read_config<S: Provider + ?Sized>(
    store: &S,
    desc: &Descriptor,
    referenced_by: &str,
) -> Result<Parsed<ImageConfig>, ArchiveError> {
    let raw = read_json_blob(store, desc, referenced_by)?;
    parse_config_bytes(&raw).map_err(|source| ArchiveError::Document {
        what: "config",
        digest: desc.digest.clone(),
        source,
    })
}

/// Builds (and stores) an OCI manifest for a `manifest.json` entry, verifying every layer
/// against the config's diff IDs.
fn synthesise<S: Provider + Ingester + ?Sized>(
    store: &S,
    contents: &Contents,
    item: &ManifestItem,
    config_file: &FileRecord,
    names: Vec<Reference>,
) -> Result<LoadedImage, ArchiveError> {
    let config_desc = Descriptor::new(
        media_type::OCI_CONFIG,
        config_file.digest.clone(),
        config_file.size,
    );
    let config = read_config(store, &config_desc, "manifest.json")?;
    let diff_ids = &config.value.rootfs.diff_ids;
    if diff_ids.len() != item.layers.len() {
        return Err(ArchiveError::LayerCount {
            config: config.digest,
            layers: item.layers.len(),
            diff_ids: diff_ids.len(),
        });
    }
    let mut layers = Vec::with_capacity(item.layers.len());
    for (path, diff_id) in item.layers.iter().zip(diff_ids) {
        let file = match resolve(contents, path, "manifest.json Layers") {
            Ok(f) => f,
            // A foreign layer: described in LayerSources, not shipped.
            Err(e @ ArchiveError::MissingFile { .. }) => {
                match item.layer_sources.as_ref().and_then(|s| s.get(diff_id)) {
                    Some(src) => {
                        layers.push(src.clone());
                        continue;
                    }
                    None => return Err(e),
                }
            }
            Err(e) => return Err(e),
        };
        let compression = verify_layer(store, &file.digest, diff_id, path)?;
        layers.push(Descriptor::new(
            media_type::oci_layer(compression),
            file.digest.clone(),
            file.size,
        ));
    }
    let manifest = Manifest::new(media_type::OCI_MANIFEST, config_desc.clone(), layers);
    let parsed = Parsed::from_value(manifest, media_type::OCI_MANIFEST, "image manifest").map_err(
        |source| ArchiveError::Document {
            what: "manifest",
            digest: config.digest.clone(),
            source,
        },
    )?;
    write_blob(store, &parsed.raw)?;
    let platform = config.value.platform();
    let mut target = parsed.descriptor();
    if !platform.os.is_empty() && !platform.architecture.is_empty() {
        target.platform = Some(platform.normalize());
    }
    Ok(LoadedImage {
        names,
        manifest: target.clone(),
        target,
        config: config_desc,
    })
}

/// Checks that a layer blob uncompresses to `diff_id`, returning its compression. An
/// uncompressed layer is its own diff ID, so only compressed ones are read again.
fn verify_layer<S: Provider + ?Sized>(
    store: &S,
    layer: &Digest,
    diff_id: &Digest,
    path: &str,
) -> Result<Compression, ArchiveError> {
    let read_err = |source| ArchiveError::ReadBlob {
        digest: layer.clone(),
        source,
    };
    let (compression, mut reader) =
        compression::decompress(store.open(layer)?).map_err(read_err)?;
    let actual = if compression == Compression::None {
        layer.clone()
    } else {
        let mut digester = Digester::new(diff_id.algorithm());
        io::copy(&mut reader, &mut digester).map_err(|source| ArchiveError::ReadEntry {
            path: path.to_string(),
            source,
        })?;
        digester.finalize()
    };
    if &actual != diff_id {
        return Err(ArchiveError::DiffIdMismatch {
            layer: layer.clone(),
            path: path.to_string(),
            expected: diff_id.clone(),
            actual,
        });
    }
    Ok(compression)
}
