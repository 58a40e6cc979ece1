//! Helpers shared by the archive and interop tests: layer tars, hand-made archives in each
//! format, and a store in a temporary directory.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use berth_image::LocalStore;
use berth_image::digest::Digest;
use berth_image::manifest::Descriptor;
use berth_image::media_type;
use serde_json::json;

/// One entry of a layer built by [`layer_tar`].
pub enum Item<'a> {
    File(&'a str, &'a [u8], u32),
    Dir(&'a str),
    Symlink(&'a str, &'a str),
}

/// An uncompressed layer tar of `items`.
pub fn layer_tar(items: &[Item]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for item in items {
        let mut h = tar::Header::new_gnu();
        h.set_mtime(1_700_000_000);
        h.set_uid(0);
        h.set_gid(0);
        match item {
            Item::File(path, data, mode) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_size(data.len() as u64);
                h.set_mode(*mode);
                b.append_data(&mut h, path, *data).unwrap();
            }
            Item::Dir(path) => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_size(0);
                h.set_mode(0o755);
                b.append_data(&mut h, path, std::io::empty()).unwrap();
            }
            Item::Symlink(path, target) => {
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_size(0);
                h.set_mode(0o777);
                b.append_link(&mut h, path, target).unwrap();
            }
        }
    }
    b.into_inner().unwrap()
}

/// A small busybox root filesystem layer (the host's static busybox, or a stand-in script).
pub fn busybox_layer() -> Vec<u8> {
    let busybox = std::fs::read("/bin/busybox").unwrap_or_else(|_| b"#!/bin/sh\n".to_vec());
    layer_tar(&[
        Item::Dir("bin"),
        Item::File("bin/busybox", &busybox, 0o755),
        Item::Symlink("bin/sh", "busybox"),
        Item::Symlink("bin/ls", "busybox"),
        Item::Dir("etc"),
        Item::File("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n", 0o644),
        Item::Dir("tmp"),
    ])
}

/// A second, small layer (on top of [`busybox_layer`]).
pub fn app_layer() -> Vec<u8> {
    layer_tar(&[
        Item::Dir("app"),
        Item::File("app/hello.txt", b"hello from the app layer\n", 0o644),
    ])
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

pub fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::encode_all(data, 3).unwrap()
}

/// An image config JSON for layers with these uncompressed contents.
pub fn config_json(arch: &str, uncompressed_layers: &[&[u8]]) -> Vec<u8> {
    let diff_ids: Vec<String> = uncompressed_layers
        .iter()
        .map(|l| Digest::sha256_of(l).to_string())
        .collect();
    serde_json::to_vec(&json!({
        "architecture": arch,
        "os": "linux",
        "created": "2024-01-02T03:04:05Z",
        "config": {"Env": ["PATH=/bin"], "Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created": "2024-01-02T03:04:05Z", "created_by": "test"}],
    }))
    .unwrap()
}

/// One file of [`archive`]: path, contents (None for a directory or symlink), symlink target.
pub type Entry<'a> = (&'a str, Option<&'a [u8]>, Option<&'a str>);

/// A tar of `entries`, in order.
pub fn archive(entries: &[Entry]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, data, link) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_mtime(0);
        match (data, link) {
            (Some(data), _) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_size(data.len() as u64);
                h.set_mode(0o644);
                b.append_data(&mut h, path, *data).unwrap();
            }
            (None, Some(target)) => {
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_size(0);
                h.set_mode(0o777);
                b.append_link(&mut h, path, target).unwrap();
            }
            (None, None) => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_size(0);
                h.set_mode(0o755);
                b.append_data(&mut h, path, std::io::empty()).unwrap();
            }
        }
    }
    b.into_inner().unwrap()
}

/// An OCI image being put together by hand: blobs and manifests.
#[derive(Default)]
pub struct OciImage {
    pub blobs: BTreeMap<Digest, Vec<u8>>,
}

impl OciImage {
    pub fn blob(&mut self, media_type: &str, data: Vec<u8>) -> Descriptor {
        let d = Digest::sha256_of(&data);
        let desc = Descriptor::new(media_type, d.clone(), data.len() as u64);
        self.blobs.insert(d, data);
        desc
    }

    /// Adds config + layers (given compressed as stored, with their uncompressed contents) and
    /// an OCI manifest; returns the manifest descriptor.
    pub fn manifest(&mut self, arch: &str, layers: &[(&str, Vec<u8>, &[u8])]) -> Descriptor {
        let uncompressed: Vec<&[u8]> = layers.iter().map(|(_, _, u)| *u).collect();
        let config = self.blob(media_type::OCI_CONFIG, config_json(arch, &uncompressed));
        let layer_descs: Vec<Descriptor> = layers
            .iter()
            .map(|(mt, blob, _)| self.blob(mt, blob.clone()))
            .collect();
        let m = json!({
            "schemaVersion": 2,
            "mediaType": media_type::OCI_MANIFEST,
            "config": config,
            "layers": layer_descs,
        });
        self.blob(media_type::OCI_MANIFEST, serde_json::to_vec(&m).unwrap())
    }

    /// The layout as a tar: `oci-layout`, `index.json` with `index_entries`, the blobs.
    pub fn layout_tar(&self, index_entries: serde_json::Value) -> Vec<u8> {
        let index = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": media_type::OCI_INDEX,
            "manifests": index_entries,
        }))
        .unwrap();
        let mut entries: Vec<(String, Option<Vec<u8>>)> = vec![
            (
                "oci-layout".into(),
                Some(br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec()),
            ),
            ("index.json".into(), Some(index)),
            ("blobs/".into(), None),
            ("blobs/sha256/".into(), None),
        ];
        for (d, data) in &self.blobs {
            entries.push((format!("blobs/sha256/{}", d.hex()), Some(data.clone())));
        }
        let refs: Vec<Entry> = entries
            .iter()
            .map(|(p, d)| (p.as_str(), d.as_deref(), None))
            .collect();
        archive(&refs)
    }

    /// Writes the layout as a directory (for skopeo and umoci).
    pub fn write_layout_dir(&self, dir: &Path, index_entries: serde_json::Value) {
        std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
        std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
        let index = json!({"schemaVersion": 2, "mediaType": media_type::OCI_INDEX, "manifests": index_entries});
        std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
        for (d, data) in &self.blobs {
            std::fs::write(dir.join("blobs/sha256").join(d.hex()), data).unwrap();
        }
    }
}

/// An index.json entry for `desc` with annotations.
pub fn entry(desc: &Descriptor, annotations: &[(&str, &str)]) -> serde_json::Value {
    let mut v = serde_json::to_value(desc).unwrap();
    if !annotations.is_empty() {
        let map: BTreeMap<&str, &str> = annotations.iter().copied().collect();
        v["annotations"] = json!(map);
    }
    v
}

pub fn store() -> (tempfile::TempDir, LocalStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path().join("content")).unwrap();
    (dir, store)
}

/// The files of an archive: path → bytes (symlinks as `-> target`).
pub fn archive_files(data: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut a = tar::Archive::new(data);
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        let path = e.path().unwrap().to_string_lossy().into_owned();
        if e.header().entry_type().is_symlink() {
            let t = e
                .link_name()
                .unwrap()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            out.insert(path, format!("-> {t}").into_bytes());
        } else {
            let mut buf = Vec::new();
            std::io::Read::read_to_end(&mut e, &mut buf).unwrap();
            out.insert(path, buf);
        }
    }
    out
}
