//! Interoperability with the tools of the container ecosystem, for real: what `save` writes is
//! read by skopeo (`docker-archive:` and `oci-archive:`) and unpacked by umoci; what skopeo
//! writes (`docker-archive:`, `oci-archive:`) and what umoci builds is loaded.
//!
//! Needs `skopeo` and `umoci` (Debian packages of the same names); each test skips with a loud
//! message when one is missing.

mod support;

use std::io::Read;
use std::path::Path;
use std::process::Command;

use berth_image::archive::{LoadOptions, SaveImage, load, save};
use berth_image::content::Provider;
use berth_image::digest::Digest;
use berth_image::import::{ConfigChanges, ImportOptions, import};
use berth_image::manifest::{parse_config_bytes, parse_manifest_bytes};
use berth_image::{LocalStore, Platform, Reference, media_type};
use serde_json::json;
use support::*;

fn have(tool: &str) -> bool {
    let found = Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("SKIP: {tool} is not installed (apt-get install -y skopeo umoci)");
    }
    found
}

fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// `umoci unpack` of `layout:tag` into `bundle`, rootless when not root.
fn umoci_unpack(layout: &Path, tag: &str, bundle: &Path) {
    let image = format!("{}:{tag}", p(layout));
    let mut args = vec!["unpack"];
    if !is_root() {
        args.push("--rootless");
    }
    args.extend(["--image", &image, p(bundle)]);
    run("umoci", &args);
}

/// An image in the store with two layers (busybox, then an app file) and a config.
fn two_layer_image(store: &LocalStore) -> berth_image::LoadedImage {
    let base = busybox_layer();
    let app = app_layer();
    let mut oci = OciImage::default();
    let m = oci.manifest(
        "amd64",
        &[
            (media_type::OCI_LAYER_TAR_GZIP, gzip(&base), &base),
            (media_type::OCI_LAYER_TAR, app.clone(), &app),
        ],
    );
    let tar = oci.layout_tar(json!([entry(&m, &[])]));
    load(store, &tar[..], &LoadOptions::default())
        .unwrap()
        .remove(0)
}

#[test]
fn save_output_is_read_by_skopeo_and_umoci() {
    if !have("skopeo") || !have("umoci") {
        return;
    }
    let (dir, store) = store();
    let img = two_layer_image(&store);
    let archive_path = dir.path().join("saved.tar");
    let file = std::fs::File::create(&archive_path).unwrap();
    save(
        &store,
        &[SaveImage {
            target: img.target.clone(),
            names: vec![Reference::parse("busybox:latest").unwrap()],
        }],
        &Platform::host(),
        file,
    )
    .unwrap();

    // As a docker archive.
    let layout = dir.path().join("from-docker-archive");
    run(
        "skopeo",
        &[
            "copy",
            "--quiet",
            &format!("docker-archive:{}", p(&archive_path)),
            &format!("oci:{}:latest", p(&layout)),
        ],
    );
    let inspect: serde_json::Value = serde_json::from_str(&run(
        "skopeo",
        &["inspect", &format!("docker-archive:{}", p(&archive_path))],
    ))
    .unwrap();
    assert_eq!(inspect["Layers"].as_array().unwrap().len(), 2, "{inspect}");
    assert_eq!(inspect["Architecture"], "amd64");
    let bundle = dir.path().join("bundle");
    umoci_unpack(&layout, "latest", &bundle);
    assert_eq!(
        std::fs::read(bundle.join("rootfs/app/hello.txt")).unwrap(),
        b"hello from the app layer\n"
    );
    assert!(bundle.join("rootfs/bin/busybox").is_file());
    assert_eq!(
        std::fs::read_link(bundle.join("rootfs/bin/sh")).unwrap(),
        Path::new("busybox")
    );

    // As an OCI archive: skopeo finds the image by its ref name and keeps the manifest.
    let layout2 = dir.path().join("from-oci-archive");
    run(
        "skopeo",
        &[
            "copy",
            "--quiet",
            &format!("oci-archive:{}:latest", p(&archive_path)),
            &format!("oci:{}:copy", p(&layout2)),
        ],
    );
    // skopeo compresses the uncompressed second layer on its way into an OCI layout, so the
    // manifest changes; the config (the image ID) and the compressed layer do not.
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout2.join("index.json")).unwrap()).unwrap();
    let copied = index["manifests"][0]["digest"].as_str().unwrap();
    let copied = parse_manifest_bytes(
        None,
        &std::fs::read(layout2.join("blobs/sha256").join(&copied[7..])).unwrap(),
    )
    .unwrap()
    .value;
    let ours = parse_manifest_bytes(None, &store.read_all(&img.manifest.digest).unwrap())
        .unwrap()
        .value;
    assert_eq!(copied.config.digest, img.config.digest);
    assert_eq!(copied.layers[0].digest, ours.layers[0].digest);
    let bundle2 = dir.path().join("bundle2");
    umoci_unpack(&layout2, "copy", &bundle2);
    assert!(bundle2.join("rootfs/app/hello.txt").is_file());
}

#[test]
fn loads_what_skopeo_writes() {
    if !have("skopeo") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let base = busybox_layer();
    let app = app_layer();
    let mut oci = OciImage::default();
    let m = oci.manifest(
        "amd64",
        &[
            (media_type::OCI_LAYER_TAR_GZIP, gzip(&base), &base),
            (media_type::OCI_LAYER_TAR_GZIP, gzip(&app), &app),
        ],
    );
    let original = parse_manifest_bytes(None, &oci.blobs[&m.digest])
        .unwrap()
        .value;
    let layout = dir.path().join("layout");
    oci.write_layout_dir(
        &layout,
        json!([entry(&m, &[("org.opencontainers.image.ref.name", "v1")])]),
    );

    // docker-archive: skopeo decompresses the layers and writes a legacy docker save.
    let docker_tar = dir.path().join("docker.tar");
    run(
        "skopeo",
        &[
            "copy",
            "--quiet",
            &format!("oci:{}:v1", p(&layout)),
            &format!("docker-archive:{}:busybox:latest", p(&docker_tar)),
        ],
    );
    let store_dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(store_dir.path()).unwrap();
    let images = load(
        &store,
        std::fs::File::open(&docker_tar).unwrap(),
        &LoadOptions::default(),
    )
    .unwrap();
    assert_eq!(images.len(), 1);
    let img = &images[0];
    assert_eq!(
        img.names,
        vec![Reference::parse("busybox:latest").unwrap().tag_or_latest()]
    );
    assert_eq!(img.config.digest, original.config.digest);
    let loaded = parse_manifest_bytes(None, &store.read_all(&img.manifest.digest).unwrap())
        .unwrap()
        .value;
    assert_eq!(loaded.layers.len(), 2);
    assert_eq!(loaded.layers[0].digest, Digest::sha256_of(&base));
    assert_eq!(loaded.layers[1].digest, Digest::sha256_of(&app));

    // oci-archive: the original manifest and compressed layers, named by the ref name.
    let oci_tar = dir.path().join("oci.tar");
    run(
        "skopeo",
        &[
            "copy",
            "--quiet",
            &format!("oci:{}:v1", p(&layout)),
            &format!("oci-archive:{}:localhost:5000/me/busybox:v2", p(&oci_tar)),
        ],
    );
    let store2_dir = tempfile::tempdir().unwrap();
    let store2 = LocalStore::open(store2_dir.path()).unwrap();
    let images = load(
        &store2,
        std::fs::File::open(&oci_tar).unwrap(),
        &LoadOptions::default(),
    )
    .unwrap();
    assert_eq!(images.len(), 1);
    assert_eq!(
        images[0].names,
        vec![Reference::parse("localhost:5000/me/busybox:v2").unwrap()]
    );
    assert_eq!(images[0].manifest.digest, m.digest);
    for layer in &original.layers {
        assert!(store2.exists(&layer.digest).unwrap());
    }
}

#[test]
fn loads_an_image_built_by_umoci_and_round_trips_it() {
    if !have("umoci") || !have("skopeo") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout");
    let bundle = dir.path().join("bundle");
    run("umoci", &["init", "--layout", p(&layout)]);
    let image = format!("{}:latest", p(&layout));
    run("umoci", &["new", "--image", &image]);
    umoci_unpack(&layout, "latest", &bundle);
    let rootfs = bundle.join("rootfs");
    std::fs::create_dir_all(rootfs.join("bin")).unwrap();
    std::fs::copy("/bin/busybox", rootfs.join("bin/busybox")).unwrap();
    std::os::unix::fs::symlink("busybox", rootfs.join("bin/sh")).unwrap();
    std::fs::write(rootfs.join("hello"), b"made by umoci\n").unwrap();
    run("umoci", &["repack", "--image", &image, p(&bundle)]);
    run(
        "umoci",
        &["config", "--image", &image, "--config.cmd", "/bin/sh"],
    );
    // The layout as a tar, as `tar -C layout -cf - .` makes it ("./" prefixes included).
    let layout_tar = dir.path().join("layout.tar");
    run("tar", &["-C", p(&layout), "-cf", p(&layout_tar), "."]);

    let store_dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(store_dir.path()).unwrap();
    let images = load(
        &store,
        std::fs::File::open(&layout_tar).unwrap(),
        &LoadOptions::default(),
    )
    .unwrap();
    assert_eq!(images.len(), 1);
    // umoci names the image "latest" only: no repository, so it loads untagged.
    assert!(images[0].names.is_empty());
    let config = parse_config_bytes(&store.read_all(&images[0].config.digest).unwrap()).unwrap();
    assert_eq!(
        config.value.config.unwrap().cmd.unwrap(),
        vec!["/bin/sh".to_string()]
    );
    let manifest = parse_manifest_bytes(None, &store.read_all(&images[0].manifest.digest).unwrap())
        .unwrap()
        .value;
    // The last layer (umoci's repack) holds our files.
    let top = manifest.layers.last().unwrap();
    let (_, mut r) =
        berth_image::compression::decompress(store.open(&top.digest).unwrap()).unwrap();
    let mut tar = Vec::new();
    r.read_to_end(&mut tar).unwrap();
    let files = archive_files(&tar);
    assert!(
        files.keys().any(|k| k.ends_with("hello")),
        "{:?}",
        files.keys()
    );

    // Save it and let skopeo read it back.
    let saved = dir.path().join("saved.tar");
    save(
        &store,
        &[SaveImage {
            target: images[0].target.clone(),
            names: vec![Reference::parse("umoci-made:1").unwrap()],
        }],
        &Platform::host(),
        std::fs::File::create(&saved).unwrap(),
    )
    .unwrap();
    let inspect: serde_json::Value = serde_json::from_str(&run(
        "skopeo",
        &["inspect", &format!("docker-archive:{}", p(&saved))],
    ))
    .unwrap();
    assert_eq!(
        inspect["Layers"].as_array().unwrap().len(),
        manifest.layers.len()
    );
}

#[test]
fn imported_rootfs_is_runnable_by_umoci() {
    if !have("skopeo") || !have("umoci") {
        return;
    }
    let (dir, store) = store();
    let img = import(
        &store,
        &gzip(&busybox_layer())[..],
        &ImportOptions {
            changes: ConfigChanges {
                cmd: Some(vec!["/bin/sh".into()]),
                ..ConfigChanges::default()
            },
            ..ImportOptions::default()
        },
    )
    .unwrap();
    let saved = dir.path().join("imported.tar");
    save(
        &store,
        &[SaveImage {
            target: img.manifest.clone(),
            names: vec![Reference::parse("imported:latest").unwrap()],
        }],
        &Platform::host(),
        std::fs::File::create(&saved).unwrap(),
    )
    .unwrap();
    let layout = dir.path().join("layout");
    run(
        "skopeo",
        &[
            "copy",
            "--quiet",
            &format!("docker-archive:{}", p(&saved)),
            &format!("oci:{}:latest", p(&layout)),
        ],
    );
    let bundle = dir.path().join("bundle");
    umoci_unpack(&layout, "latest", &bundle);
    assert!(bundle.join("rootfs/etc/passwd").is_file());
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bundle.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["process"]["args"], json!(["/bin/sh"]));
}
