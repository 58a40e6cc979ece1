//! Push and login through the docker CLI, and what berthd does with
//! registries that misbehave: a tampered blob, a missing one.

mod support;

use std::path::Path;

use berth_testutil::berthd::DOCKER_CLI;
use berth_testutil::registry::{Auth, htpasswd};
use support::*;

#[test]
fn push_skips_and_mounts_and_pulls_back() {
    let Some((registry, layout)) = setup(
        "push_skips_and_mounts_and_pulls_back",
        Fixture::Busybox,
        "src/busybox",
    ) else {
        return;
    };
    let d = berthd(&[]);
    let src = format!("{}/src/busybox:latest", registry.host);
    let dst = format!("{}/dst/copy:v1", registry.host);
    ok(d.docker(&["pull", &src]));
    ok(d.docker(&["tag", &src, &dst]));
    let out = ok(d.docker(&["push", &dst]));
    assert!(
        out.contains(&format!(
            "The push refers to repository [{}/dst/copy]",
            registry.host
        )),
        "{out}"
    );
    assert!(
        out.contains(": Mounted from src/busybox"),
        "cross-repository mount: {out}"
    );
    let (manifest_digest, id) = layout_ids(&layout);
    assert!(
        out.contains(&format!("v1: digest: {manifest_digest} size: ")),
        "the manifest pushed as pulled: {out}"
    );
    let out = ok(d.docker(&["push", &dst]));
    assert!(out.contains(": Layer already exists"), "{out}");

    // A fresh daemon pulls what was pushed: same image.
    let fresh = berthd(&[]);
    ok(fresh.docker(&["pull", &dst]));
    assert_eq!(ok(fresh.docker(&["images", "-q", "--no-trunc"])).trim(), id);

    // An imported image (uncompressed layer) is compressed for the push.
    let rootfs = d.dir().join("rootfs");
    berth_testutil::make_rootfs(&rootfs);
    let tar = std::process::Command::new("tar")
        .arg("-C")
        .arg(&rootfs)
        .args(["-c", "."])
        .output()
        .unwrap();
    let imported = format!("{}/dst/imported:1", registry.host);
    ok(d.docker_with(
        Path::new(DOCKER_CLI),
        &["import", "-", &imported],
        Some(&tar.stdout),
    ));
    let out = ok(d.docker(&["push", &imported]));
    assert!(out.contains(": Pushed"), "{out}");
    ok(fresh.docker(&["pull", &imported]));
    let cmd = ok(fresh.docker(&["image", "inspect", "-f", "{{.Id}}", &imported]));
    let ours = ok(d.docker(&["image", "inspect", "-f", "{{.Id}}", &imported]));
    assert_eq!(cmd, ours, "the same config, so the same image id");

    let err = fails(
        d.docker(&["push", &format!("{}/dst/nosuch:1", registry.host)]),
        1,
    );
    assert!(
        err.contains("An image does not exist locally with the tag"),
        "{err}"
    );
}

#[test]
fn login_with_basic_auth() {
    let test = "login_with_basic_auth";
    if !require_root(test) {
        return;
    }
    let Some(layout) = layout(test, Fixture::Busybox) else {
        return;
    };
    let dir = tempfile::Builder::new()
        .prefix("berth-htpasswd-")
        .tempdir()
        .unwrap();
    let file = dir.path().join("htpasswd");
    if !htpasswd(&file, &[("berthuser", "s3cret")]) {
        return;
    }
    let Some(registry) = Registry::start(
        test,
        Options {
            auth: Auth::Htpasswd(file),
            tls: None,
        },
    ) else {
        return;
    };
    berth_testutil::images::push_as(
        &layout,
        &registry.host,
        "private/busybox:latest",
        Some("berthuser:s3cret"),
    );
    let d = berthd(&[]);
    let image = format!("{}/private/busybox", registry.host);
    let err = fails(d.docker(&["pull", &image]), 1);
    assert!(
        err.contains("docker login") || err.contains("unauthorized"),
        "{err}"
    );

    let err = fails(
        d.docker_with(
            Path::new(DOCKER_CLI),
            &[
                "login",
                "-u",
                "berthuser",
                "--password-stdin",
                &registry.host,
            ],
            Some(b"wrong\n"),
        ),
        1,
    );
    assert!(err.to_lowercase().contains("unauthorized"), "{err}");

    let out = ok(d.docker_with(
        Path::new(DOCKER_CLI),
        &[
            "login",
            "-u",
            "berthuser",
            "--password-stdin",
            &registry.host,
        ],
        Some(b"s3cret\n"),
    ));
    assert!(out.contains("Login Succeeded"), "{out}");
    let config = std::fs::read_to_string(d.dir().join("docker-config/config.json")).unwrap();
    assert!(
        config.contains(&registry.host),
        "the client stored the credentials: {config}"
    );
    ok(d.docker(&["pull", &image]));
    ok(d.docker(&["tag", &image, &format!("{}/private/again:1", registry.host)]));
    ok(d.docker(&["push", &format!("{}/private/again:1", registry.host)]));

    ok(d.docker(&["logout", &registry.host]));
    ok(d.docker(&["rmi", &image]));
    fails(d.docker(&["pull", &image]), 1);
}

#[test]
fn a_tampered_blob_is_refused_and_nothing_stays() {
    let Some((registry, layout)) = setup(
        "a_tampered_blob_is_refused_and_nothing_stays",
        Fixture::Busybox,
        "busybox",
    ) else {
        return;
    };
    let d = berthd(&[]);
    // Flip bytes in the layer blob in the registry's storage (same size).
    let (manifest_digest, _) = layout_ids(&layout);
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(layout.join("blobs/sha256").join(&manifest_digest[7..])).unwrap(),
    )
    .unwrap();
    let layer = manifest["layers"][0]["digest"].as_str().unwrap();
    let hex = &layer[7..];
    let data = registry.data_dir().join(format!(
        "docker/registry/v2/blobs/sha256/{}/{hex}/data",
        &hex[..2]
    ));
    let mut bytes = std::fs::read(&data).unwrap();
    let n = bytes.len();
    for b in &mut bytes[n / 2..n / 2 + 64] {
        *b ^= 0xff;
    }
    std::fs::write(&data, &bytes).unwrap();

    let out = d.docker(&["pull", &format!("{}/busybox", registry.host)]);
    let err = fails(out, 1);
    assert!(
        err.contains("filesystem layer verification failed for digest"),
        "{err}"
    );
    assert!(ok(d.docker(&["images", "-aq"])).trim().is_empty());
    assert!(
        blobs(&d).is_empty(),
        "nothing of the failed pull stays: {:?}",
        blobs(&d)
    );
    let ingest = files_under(&d.data_root().join("content/ingest"));
    assert!(ingest.is_empty(), "no partial download stays: {ingest:?}");

    // A missing blob: the registry answers 404 for it.
    std::fs::remove_file(&data).unwrap();
    let err = fails(
        d.docker(&["pull", &format!("{}/busybox", registry.host)]),
        1,
    );
    assert!(!err.is_empty());
    assert!(blobs(&d).is_empty());
}
