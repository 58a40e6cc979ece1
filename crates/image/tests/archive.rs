//! Image archives and import, on a real content store: `docker save` (legacy and Docker ≥ 25)
//! and OCI layouts loaded, saved and loaded back, import of plain and compressed rootfs
//! tarballs, and every kind of bad archive refused with the error that names the problem.

mod support;

use std::collections::BTreeSet;
use std::io::Read;
use std::ops::ControlFlow;

use berth_image::archive::{ArchiveError, LoadOptions, SaveImage, load, save};
use berth_image::content::{Manager, Provider};
use berth_image::digest::Digest;
use berth_image::import::{ConfigChanges, ImportError, ImportOptions, import};
use berth_image::manifest::{Document, parse_config_bytes, parse_document, parse_manifest_bytes};
use berth_image::{Category, LocalStore, Platform, Reference, media_type};
use serde_json::json;
use support::*;

fn names(img: &berth_image::LoadedImage) -> Vec<String> {
    img.names.iter().map(|n| n.to_string()).collect()
}

fn blobs(store: &LocalStore) -> BTreeSet<Digest> {
    let mut out = BTreeSet::new();
    store
        .walk(&mut |i| {
            out.insert(i.digest);
            ControlFlow::Continue(())
        })
        .unwrap();
    out
}

fn host() -> Platform {
    Platform::host()
}

fn opts() -> LoadOptions {
    LoadOptions::default()
}

/// A legacy `docker save` archive (Docker < 25): `<id>/layer.tar`, `<id>/json`, `<id>/VERSION`,
/// the config as `<hex>.json`, then `manifest.json` and `repositories` last.
fn legacy_docker_save(layers: &[Vec<u8>], repo_tags: &[&str]) -> (Vec<u8>, Digest) {
    let uncompressed: Vec<&[u8]> = layers.iter().map(Vec::as_slice).collect();
    let config = config_json("amd64", &uncompressed);
    let config_digest = Digest::sha256_of(&config);
    let config_name = format!("{}.json", config_digest.hex());
    let ids: Vec<String> = (0..layers.len())
        .map(|i| {
            Digest::sha256_of(format!("layer{i}").as_bytes())
                .hex()
                .to_string()
        })
        .collect();
    let layer_paths: Vec<String> = ids.iter().map(|id| format!("{id}/layer.tar")).collect();
    let manifest = serde_json::to_vec(&json!([{
        "Config": config_name,
        "RepoTags": repo_tags,
        "Layers": layer_paths,
    }]))
    .unwrap();
    let mut entries: Vec<(String, Option<Vec<u8>>)> = Vec::new();
    for (id, layer) in ids.iter().zip(layers) {
        entries.push((format!("{id}/"), None));
        entries.push((format!("{id}/VERSION"), Some(b"1.0".to_vec())));
        entries.push((
            format!("{id}/json"),
            Some(format!(r#"{{"id":"{id}"}}"#).into_bytes()),
        ));
        entries.push((format!("{id}/layer.tar"), Some(layer.clone())));
    }
    entries.push((config_name, Some(config)));
    entries.push(("manifest.json".into(), Some(manifest)));
    entries.push(("repositories".into(), Some(b"{}".to_vec())));
    let refs: Vec<Entry> = entries
        .iter()
        .map(|(p, d)| (p.as_str(), d.as_deref(), None))
        .collect();
    (archive(&refs), config_digest)
}

#[test]
fn loads_legacy_docker_save_and_synthesises_a_manifest() {
    let (_dir, store) = store();
    let layers = vec![busybox_layer(), app_layer()];
    let (tar, config_digest) =
        legacy_docker_save(&layers, &["busybox:latest", "localhost:5000/me/app:v1"]);
    let images = load(&store, &tar[..], &opts()).unwrap();
    assert_eq!(images.len(), 1);
    let img = &images[0];
    assert_eq!(
        names(img),
        [
            "docker.io/library/busybox:latest",
            "localhost:5000/me/app:v1"
        ]
    );
    assert_eq!(img.config.digest, config_digest);
    assert_eq!(img.target, img.manifest);
    assert_eq!(
        img.target.platform.as_ref().unwrap().to_string(),
        "linux/amd64"
    );

    // The synthesised manifest is in the store, parses, and its layers are the uncompressed
    // tars (their digests are the diff IDs).
    let raw = store.read_all(&img.manifest.digest).unwrap();
    assert_eq!(Digest::sha256_of(&raw), img.manifest.digest);
    let m = parse_manifest_bytes(Some(&img.manifest.media_type), &raw)
        .unwrap()
        .value;
    m.check_image().unwrap();
    assert_eq!(m.config.digest, config_digest);
    for (desc, layer) in m.layers.iter().zip(&layers) {
        assert_eq!(desc.media_type, media_type::OCI_LAYER_TAR);
        assert_eq!(desc.digest, Digest::sha256_of(layer));
        assert_eq!(store.read_all(&desc.digest).unwrap(), *layer);
    }
    // Legacy metadata (`<id>/json`, VERSION, repositories) is not stored.
    assert_eq!(blobs(&store).len(), 4, "config, two layers, manifest");
}

#[test]
fn loads_skopeo_style_symlinked_layers_compressed_layers_and_a_gzipped_archive() {
    let (_dir, store) = store();
    let base = busybox_layer();
    let app = app_layer();
    let gz_app = gzip(&app);
    let config = config_json("amd64", &[&base, &app]);
    let config_name = format!("{}.json", Digest::sha256_of(&config).hex());
    let base_name = format!("{}.tar", Digest::sha256_of(&base).hex());
    let manifest = serde_json::to_vec(&json!([{
        "Config": config_name,
        "RepoTags": ["docker.io/library/busybox:latest"],
        "Layers": ["aaaa/layer.tar", "bbbb/layer.tar"],
    }]))
    .unwrap();
    let tar = archive(&[
        (&base_name, Some(&base), None),
        ("aaaa/", None, None),
        ("aaaa/layer.tar", None, Some(&format!("../{base_name}"))),
        ("bbbb/", None, None),
        // A compressed layer file behind a symlink (umoci-made images have them).
        ("bbbb/layer.tar", None, Some("../app.tar.gz")),
        ("app.tar.gz", Some(&gz_app), None),
        (&config_name, Some(&config), None),
        ("manifest.json", Some(&manifest), None),
    ]);
    // docker load also takes a gzip-compressed archive.
    let images = load(&store, &gzip(&tar)[..], &opts()).unwrap();
    let img = &images[0];
    assert_eq!(names(img), ["docker.io/library/busybox:latest"]);
    let m = parse_manifest_bytes(None, &store.read_all(&img.manifest.digest).unwrap())
        .unwrap()
        .value;
    assert_eq!(m.layers[0].media_type, media_type::OCI_LAYER_TAR);
    assert_eq!(m.layers[1].media_type, media_type::OCI_LAYER_TAR_GZIP);
    assert_eq!(m.layers[1].digest, Digest::sha256_of(&gz_app));
}

#[test]
fn loads_an_oci_layout_with_names_from_annotations() {
    let (_dir, store) = store();
    let base = busybox_layer();
    let mut oci = OciImage::default();
    let m = oci.manifest(
        "amd64",
        &[(media_type::OCI_LAYER_TAR_ZSTD, zstd(&base), &base)],
    );
    let tar = oci.layout_tar(json!([
        entry(&m, &[("org.opencontainers.image.ref.name", "latest")]),
        entry(
            &m,
            &[("org.opencontainers.image.ref.name", "example.com/x/y:v2")]
        ),
        entry(
            &m,
            &[
                ("io.containerd.image.name", "docker.io/library/busybox:1.36"),
                ("org.opencontainers.image.ref.name", "1.36"),
            ]
        ),
    ]));
    let images = load(&store, &tar[..], &opts()).unwrap();
    // One image (one target), with the names that are full references; "latest" alone names
    // no repository.
    assert_eq!(images.len(), 1);
    assert_eq!(
        names(&images[0]),
        ["example.com/x/y:v2", "docker.io/library/busybox:1.36"]
    );
    assert_eq!(images[0].target.digest, m.digest);
    assert_eq!(images[0].target.annotations, None);
    for d in oci.blobs.keys() {
        assert!(store.exists(d).unwrap(), "{d} not loaded");
    }

    // Loading again is a no-op for the store (blobs named by digest are skipped).
    let before = blobs(&store);
    let again = load(&store, &tar[..], &opts()).unwrap();
    assert_eq!(again, images);
    assert_eq!(blobs(&store), before);
}

#[test]
fn multi_platform_index_picks_the_platform() {
    let (_dir, store) = store();
    let base = busybox_layer();
    let arm_layer = app_layer();
    let mut oci = OciImage::default();
    let amd = oci.manifest(
        "amd64",
        &[(media_type::OCI_LAYER_TAR_GZIP, gzip(&base), &base)],
    );
    let arm = oci.manifest(
        "arm64",
        &[(media_type::OCI_LAYER_TAR_GZIP, gzip(&arm_layer), &arm_layer)],
    );
    let index = json!({
        "schemaVersion": 2,
        "mediaType": media_type::OCI_INDEX,
        "manifests": [
            entry(&arm.clone().with_platform(Some(Platform::new("linux", "arm64", None))), &[]),
            entry(&amd.clone().with_platform(Some(Platform::new("linux", "amd64", None))), &[]),
        ],
    });
    let index_desc = oci.blob(media_type::OCI_INDEX, serde_json::to_vec(&index).unwrap());
    let tar = oci.layout_tar(json!([entry(
        &index_desc,
        &[("io.containerd.image.name", "docker.io/library/multi:latest")]
    )]));

    let amd64 = LoadOptions {
        platform: Platform::new("linux", "amd64", None),
    };
    let imgs = load(&store, &tar[..], &amd64).unwrap();
    assert_eq!(imgs[0].target.digest, index_desc.digest);
    assert_eq!(imgs[0].manifest.digest, amd.digest);
    let arm64 = LoadOptions {
        platform: Platform::new("linux", "arm64", Some("v8")),
    };
    let imgs = load(&store, &tar[..], &arm64).unwrap();
    assert_eq!(imgs[0].manifest.digest, arm.digest);
    let s390 = LoadOptions {
        platform: Platform::new("linux", "s390x", None),
    };
    let e = load(&store, &tar[..], &s390).unwrap_err();
    assert!(matches!(e, ArchiveError::NoPlatformManifest { .. }), "{e}");
}

#[test]
fn save_then_load_round_trip() {
    let (_dir, store) = store();
    let layers = vec![busybox_layer(), app_layer()];
    let (tar, _) = legacy_docker_save(&layers, &["busybox:latest"]);
    let loaded = load(&store, &tar[..], &opts()).unwrap();
    let imported = import(
        &store,
        &gzip(&busybox_layer())[..],
        &ImportOptions::default(),
    )
    .unwrap();

    let images = vec![
        SaveImage {
            target: loaded[0].target.clone(),
            names: vec![
                Reference::parse("busybox:latest").unwrap(),
                Reference::parse("localhost:5000/a/b:v1").unwrap(),
            ],
        },
        SaveImage {
            target: imported.manifest.clone(),
            names: vec![],
        },
    ];
    let mut out = Vec::new();
    save(&store, &images, &host(), &mut out).unwrap();

    // What is inside: Docker >= 25's layout.
    let files = archive_files(&out);
    assert!(files.contains_key("oci-layout"));
    assert!(files.contains_key("repositories"));
    let manifest_json: serde_json::Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    assert_eq!(
        manifest_json[0]["RepoTags"],
        json!(["busybox:latest", "localhost:5000/a/b:v1"])
    );
    assert_eq!(
        manifest_json[0]["Config"],
        json!(format!("blobs/sha256/{}", loaded[0].config.digest.hex()))
    );
    assert_eq!(manifest_json[1]["RepoTags"], json!([]));
    let Document::Index(index) = parse_document(None, &files["index.json"]).unwrap() else {
        panic!("index.json is not an index")
    };
    let entries = &index.value.manifests;
    assert_eq!(
        entries.len(),
        3,
        "one entry per name, one for the untagged image"
    );
    assert_eq!(
        entries[0].annotation("io.containerd.image.name"),
        Some("docker.io/library/busybox:latest")
    );
    assert_eq!(
        entries[0].annotation("org.opencontainers.image.ref.name"),
        Some("latest")
    );
    assert_eq!(entries[2].annotations, None);
    let repositories: serde_json::Value = serde_json::from_slice(&files["repositories"]).unwrap();
    assert!(repositories["busybox"]["latest"].is_string());
    for (path, data) in &files {
        if let Some(hex) = path.strip_prefix("blobs/sha256/").filter(|h| !h.is_empty()) {
            assert_eq!(Digest::sha256_of(data).hex(), hex, "{path}");
        }
    }

    // Load it into a fresh store: same images, same manifest digests (the original manifests
    // are kept), names merged from index.json and manifest.json.
    let (_dir2, store2) = support::store();
    let back = load(&store2, &out[..], &opts()).unwrap();
    assert_eq!(back.len(), 2);
    assert_eq!(back[0].manifest.digest, loaded[0].manifest.digest);
    assert_eq!(back[0].config.digest, loaded[0].config.digest);
    assert_eq!(
        names(&back[0]),
        ["docker.io/library/busybox:latest", "localhost:5000/a/b:v1"]
    );
    assert_eq!(back[1].manifest.digest, imported.manifest.digest);
    assert!(back[1].names.is_empty());
    assert_eq!(blobs(&store2), blobs(&store));
}

#[test]
fn save_of_a_partial_index_exports_the_available_platform() {
    let (_dir, store) = store();
    let base = busybox_layer();
    let mut oci = OciImage::default();
    let amd = oci.manifest("amd64", &[(media_type::OCI_LAYER_TAR, base.clone(), &base)]);
    let index = json!({
        "schemaVersion": 2,
        "manifests": [
            entry(&amd.clone().with_platform(Some(host())), &[]),
            {"mediaType": media_type::OCI_MANIFEST, "size": 7, "digest": Digest::sha256_of(b"absent").to_string(),
             "platform": {"os": "linux", "architecture": "riscv64"}},
        ],
    });
    let index_desc = oci.blob(media_type::OCI_INDEX, serde_json::to_vec(&index).unwrap());
    for data in oci.blobs.values() {
        berth_image::content::write_blob(&store, data).unwrap();
    }
    let mut out = Vec::new();
    save(
        &store,
        &[SaveImage {
            target: index_desc.clone(),
            names: vec![Reference::parse("partial:1").unwrap()],
        }],
        &host(),
        &mut out,
    )
    .unwrap();
    let files = archive_files(&out);
    assert!(!files.contains_key(&format!("blobs/sha256/{}", index_desc.digest.hex())));
    let (_d2, store2) = support::store();
    let back = load(&store2, &out[..], &opts()).unwrap();
    assert_eq!(back[0].target.digest, amd.digest);
    assert_eq!(names(&back[0]), ["docker.io/library/partial:1"]);
}

#[test]
fn save_refuses_a_corrupt_or_missing_blob() {
    let (_dir, store) = store();
    let imported = import(&store, &busybox_layer()[..], &ImportOptions::default()).unwrap();
    let image = SaveImage {
        target: imported.manifest.clone(),
        names: vec![],
    };
    // Tamper with the layer in the store.
    let path = store.blob_path(&imported.layer.digest);
    let mut data = std::fs::read(&path).unwrap();
    let n = data.len();
    data[n / 2] ^= 0xff;
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    std::fs::write(&path, &data).unwrap();
    let e = save(
        &store,
        std::slice::from_ref(&image),
        &host(),
        &mut Vec::new(),
    )
    .unwrap_err();
    assert!(matches!(e, ArchiveError::CorruptBlob { .. }), "{e}");
    // And with the layer gone.
    store.delete(&imported.layer.digest).unwrap();
    let e = save(&store, &[image], &host(), &mut Vec::new()).unwrap_err();
    assert!(matches!(e, ArchiveError::MissingBlob { .. }), "{e}");
}

#[test]
fn bad_archives_are_refused_with_a_clear_error() {
    let base = busybox_layer();
    let app = app_layer();
    let (good, _) = legacy_docker_save(&[base.clone(), app.clone()], &["busybox:latest"]);

    // A failed load records no image, and writes no manifest of its own: the only manifests
    // in the store are blobs that the archive itself contained (left for garbage collection).
    let check_with = |tar: &[u8],
                      what: &str,
                      archive_blobs: &BTreeSet<Digest>,
                      matches: &dyn Fn(&ArchiveError) -> bool| {
        let (_dir, store) = store();
        let e = load(&store, tar, &opts()).unwrap_err();
        assert!(matches(&e), "{what}: unexpected error {e:?}");
        assert_eq!(e.category(), Category::Invalid, "{what}: {e}");
        // No manifest of a failed load is in the store.
        let mut manifests = 0;
        store
            .walk(&mut |i| {
                let raw = store.read_all(&i.digest).unwrap();
                if parse_manifest_bytes(None, &raw).is_ok() && !archive_blobs.contains(&i.digest) {
                    manifests += 1;
                }
                ControlFlow::Continue(())
            })
            .unwrap();
        assert_eq!(manifests, 0, "{what}: a manifest was written");
    };
    let none = BTreeSet::new();
    let check = |tar: &[u8], what: &str, matches: &dyn Fn(&ArchiveError) -> bool| {
        check_with(tar, what, &none, matches)
    };
    let oci_blobs = |oci: &OciImage| oci.blobs.keys().cloned().collect::<BTreeSet<Digest>>();

    check(b"", "empty", &|e| {
        matches!(e, ArchiveError::NotAnImageArchive)
    });
    check(
        b"this is not a tar archive at all, just some text that goes on for a while",
        "garbage",
        &|e| {
            matches!(
                e,
                ArchiveError::ReadArchive { .. } | ArchiveError::NotAnImageArchive
            )
        },
    );
    check(&good[..good.len() / 2], "truncated", &|e| {
        matches!(
            e,
            ArchiveError::ReadArchive { .. } | ArchiveError::ReadEntry { .. }
        )
    });
    let mut gz = gzip(&good);
    let n = gz.len();
    gz.truncate(n - 100);
    check(&gz, "truncated gzip", &|e| {
        matches!(
            e,
            ArchiveError::ReadArchive { .. } | ArchiveError::ReadEntry { .. }
        )
    });
    check(
        &archive(&[("etc/passwd", Some(b"root:x:0:0::/:/bin/sh\n"), None)]),
        "a plain tar",
        &|e| matches!(e, ArchiveError::NotAnImageArchive),
    );

    // manifest.json pointing at a layer that is not there.
    let config = config_json("amd64", &[&base]);
    let cname = format!("{}.json", Digest::sha256_of(&config).hex());
    let mj = serde_json::to_vec(
        &json!([{"Config": cname, "RepoTags": ["x:1"], "Layers": ["nope/layer.tar"]}]),
    )
    .unwrap();
    check(
        &archive(&[
            (&cname, Some(&config), None),
            ("manifest.json", Some(&mj), None),
        ]),
        "missing layer",
        &|e| matches!(e, ArchiveError::MissingFile { path, .. } if path == "nope/layer.tar"),
    );
    // A layer whose content is not what the config says.
    let mj =
        serde_json::to_vec(&json!([{"Config": cname, "RepoTags": ["x:1"], "Layers": ["l.tar"]}]))
            .unwrap();
    check(
        &archive(&[
            (&cname, Some(&config), None),
            ("l.tar", Some(&app), None),
            ("manifest.json", Some(&mj), None),
        ]),
        "diff id mismatch",
        &|e| matches!(e, ArchiveError::DiffIdMismatch { .. }),
    );
    // The same for a compressed layer (checked by decompressing).
    let gz_app = gzip(&app);
    check(
        &archive(&[
            (&cname, Some(&config), None),
            ("l.tar", Some(&gz_app), None),
            ("manifest.json", Some(&mj), None),
        ]),
        "compressed diff id mismatch",
        &|e| matches!(e, ArchiveError::DiffIdMismatch { .. }),
    );
    // More layers than diff IDs.
    let mj2 =
        serde_json::to_vec(&json!([{"Config": cname, "Layers": ["l.tar", "l.tar"]}])).unwrap();
    check(
        &archive(&[
            (&cname, Some(&config), None),
            ("l.tar", Some(&base), None),
            ("manifest.json", Some(&mj2), None),
        ]),
        "layer count",
        &|e| {
            matches!(
                e,
                ArchiveError::LayerCount {
                    layers: 2,
                    diff_ids: 1,
                    ..
                }
            )
        },
    );
    // An invalid repo tag.
    let mj3 = serde_json::to_vec(
        &json!([{"Config": cname, "RepoTags": ["UPPER:case"], "Layers": ["l.tar"]}]),
    )
    .unwrap();
    check(
        &archive(&[
            (&cname, Some(&config), None),
            ("l.tar", Some(&base), None),
            ("manifest.json", Some(&mj3), None),
        ]),
        "bad repo tag",
        &|e| matches!(e, ArchiveError::InvalidName { .. }),
    );
    // A symlink loop.
    let mj4 = serde_json::to_vec(&json!([{"Config": cname, "Layers": ["a/layer.tar"]}])).unwrap();
    check(
        &archive(&[
            (&cname, Some(&config), None),
            ("a/layer.tar", None, Some("../b/layer.tar")),
            ("b/layer.tar", None, Some("../a/layer.tar")),
            ("manifest.json", Some(&mj4), None),
        ]),
        "symlink loop",
        &|e| matches!(e, ArchiveError::SymlinkLoop { .. }),
    );
    // Garbage manifest.json.
    check(
        &archive(&[("manifest.json", Some(b"{not json"), None)]),
        "bad manifest.json",
        &|e| matches!(e, ArchiveError::InvalidJson { path, .. } if path == "manifest.json"),
    );

    // OCI layouts: a blob that is not what its name says (a tampered archive).
    let mut oci = OciImage::default();
    let m = oci.manifest("amd64", &[(media_type::OCI_LAYER_TAR, base.clone(), &base)]);
    let layer_digest = Digest::sha256_of(&base);
    oci.blobs.insert(layer_digest.clone(), app.clone());
    check_with(
        &oci.layout_tar(json!([entry(&m, &[])])),
        "tampered blob",
        &oci_blobs(&oci),
        &|e| matches!(e, ArchiveError::CorruptBlob { expected, .. } if *expected == layer_digest),
    );
    // A blob missing from the layout.
    let mut oci = OciImage::default();
    let m = oci.manifest("amd64", &[(media_type::OCI_LAYER_TAR, base.clone(), &base)]);
    oci.blobs.remove(&layer_digest);
    check_with(
        &oci.layout_tar(json!([entry(&m, &[])])),
        "missing blob",
        &oci_blobs(&oci),
        &|e| matches!(e, ArchiveError::MissingBlob { digest, .. } if *digest == layer_digest),
    );
    // A manifest of an unknown media type, and a garbage manifest.
    let mut oci = OciImage::default();
    let mut m = oci.manifest("amd64", &[(media_type::OCI_LAYER_TAR, base.clone(), &base)]);
    m.media_type = "application/vnd.example.thing+json".into();
    check_with(
        &oci.layout_tar(json!([entry(&m, &[])])),
        "unknown media type",
        &oci_blobs(&oci),
        &|e| {
            matches!(e, ArchiveError::Document { .. }) && e.to_string().contains("invalid manifest")
        },
    );
    let mut oci = OciImage::default();
    let junk = oci.blob(
        media_type::OCI_MANIFEST,
        b"{\"schemaVersion\": 2, \"layers\": 5}".to_vec(),
    );
    check_with(
        &oci.layout_tar(json!([entry(&junk, &[])])),
        "garbage manifest",
        &oci_blobs(&oci),
        &|e| {
            let chain = format!(
                "{e}: {}",
                std::error::Error::source(e)
                    .map(|s| s.to_string())
                    .unwrap_or_default()
            );
            matches!(e, ArchiveError::Document { .. }) && chain.contains("layers")
        },
    );
    // An unsupported layout version.
    let mut bad_layout = OciImage::default();
    let m = bad_layout.manifest("amd64", &[(media_type::OCI_LAYER_TAR, base.clone(), &base)]);
    let tar = bad_layout.layout_tar(json!([entry(&m, &[])]));
    let files = archive_files(&tar);
    let mut entries: Vec<(String, Vec<u8>)> = files.into_iter().collect();
    for (p, d) in entries.iter_mut() {
        if p == "oci-layout" {
            *d = br#"{"imageLayoutVersion":"2.0.0"}"#.to_vec();
        }
    }
    let refs: Vec<Entry> = entries
        .iter()
        .map(|(p, d)| (p.as_str(), Some(d.as_slice()), None))
        .collect();
    check_with(
        &archive(&refs),
        "layout version",
        &oci_blobs(&bad_layout),
        &|e| matches!(e, ArchiveError::LayoutVersion { .. }),
    );
}

#[test]
fn import_keeps_compression_and_computes_the_diff_id() {
    let (_dir, store) = store();
    let rootfs = busybox_layer();
    for (input, mt) in [
        (rootfs.clone(), media_type::OCI_LAYER_TAR),
        (gzip(&rootfs), media_type::OCI_LAYER_TAR_GZIP),
        (zstd(&rootfs), media_type::OCI_LAYER_TAR_ZSTD),
    ] {
        let changes = ConfigChanges {
            cmd: Some(vec!["/bin/sh".into()]),
            env: vec!["FOO=bar".into()],
            expose: vec!["8080".into()],
            ..ConfigChanges::default()
        };
        let options = ImportOptions {
            changes,
            platform: Some(Platform::new("linux", "arm64", None)),
            ..ImportOptions::default()
        };
        let img = import(&store, &input[..], &options).unwrap();
        assert_eq!(img.layer.media_type, mt);
        assert_eq!(img.layer.digest, Digest::sha256_of(&input));
        assert_eq!(img.diff_id, Digest::sha256_of(&rootfs));
        assert_eq!(store.read_all(&img.layer.digest).unwrap(), input);

        let config = parse_config_bytes(&store.read_all(&img.config.digest).unwrap()).unwrap();
        let c = &config.value;
        assert_eq!((c.os.as_str(), c.architecture.as_str()), ("linux", "arm64"));
        assert_eq!(c.rootfs.diff_ids, vec![img.diff_id.clone()]);
        assert_eq!(c.history.len(), 1);
        assert_eq!(c.history[0].comment.as_deref(), Some("Imported from -"));
        assert_eq!(c.extra["comment"], "Imported from -");
        assert!(c.created.as_deref().unwrap().ends_with('Z'));
        let cc = c.config.as_ref().unwrap();
        assert_eq!(cc.cmd.as_deref().unwrap(), ["/bin/sh"]);
        assert_eq!(cc.env.as_deref().unwrap(), ["FOO=bar"]);
        assert!(cc.exposed_ports.as_ref().unwrap().contains_key("8080/tcp"));

        let m = parse_manifest_bytes(None, &store.read_all(&img.manifest.digest).unwrap())
            .unwrap()
            .value;
        m.check_image().unwrap();
        assert_eq!(m.layers, vec![img.layer.clone()]);
        assert_eq!(m.config, img.config);
        // The decompressed blob really is the rootfs.
        let (_, mut r) =
            berth_image::compression::decompress(store.open(&img.layer.digest).unwrap()).unwrap();
        let mut back = Vec::new();
        r.read_to_end(&mut back).unwrap();
        assert_eq!(back, rootfs);
    }
    let with_message = ImportOptions {
        message: Some("my message".into()),
        source: "http://example.com/rootfs.tar".into(),
        ..ImportOptions::default()
    };
    let img = import(&store, &rootfs[..], &with_message).unwrap();
    let config = parse_config_bytes(&store.read_all(&img.config.digest).unwrap()).unwrap();
    assert_eq!(
        config.value.history[0].comment.as_deref(),
        Some("my message")
    );
}

#[test]
fn import_refuses_garbage_and_leaves_no_layer() {
    let (_dir, store) = store();
    let e = import(&store, &b""[..], &ImportOptions::default()).unwrap_err();
    assert!(matches!(e, ImportError::Empty), "{e}");
    let mut garbage = vec![0x55u8; 4096];
    garbage[0] = b'x';
    let e = import(&store, &garbage[..], &ImportOptions::default()).unwrap_err();
    assert!(matches!(e, ImportError::InvalidTar { .. }), "{e}");
    assert_eq!(e.category(), Category::Invalid);
    let mut gz = gzip(&busybox_layer());
    let n = gz.len();
    gz.truncate(n / 2);
    let e = import(&store, &gz[..], &ImportOptions::default()).unwrap_err();
    assert!(matches!(e, ImportError::InvalidTar { .. }), "{e}");
    assert!(blobs(&store).is_empty(), "a failed import left blobs");
    assert_eq!(std::fs::read_dir(store.ingest_dir()).unwrap().count(), 0);
}
