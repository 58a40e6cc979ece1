//! Push and pull against a real `docker-registry` on 127.0.0.1 (plain HTTP, no auth): blobs,
//! OCI and Docker schema 2 manifests, OCI index and Docker manifest list, resolve by tag and by
//! digest, cross-repository mounts, existence checks, tags, and the registry's own errors.

mod support;

use std::io::Read;
use std::sync::{Arc, Mutex};

use berth_image::{Digest, Reference, media_type};
use berth_registry::{Client, Credentials, Error, ErrorKind, RegistryConfig, Repository};
use support::images::{self, bytes, desc, fetch_all, push_image};
use support::registry::{Options, Registry};

fn repo(client: &Client, reg: &Registry, path: &str) -> Repository {
    let r = Reference::parse(&format!("{}/{path}", reg.host)).expect("reference");
    client.repository(&r, Credentials::anonymous())
}

#[test]
fn push_then_pull_round_trip_oci() {
    let Some(reg) = Registry::start("push_then_pull_round_trip_oci", Options::default()) else {
        return;
    };
    let client = Client::new(RegistryConfig::default());
    let repo = repo(&client, &reg, "berth/round-trip");

    let layer = bytes(300_000, 1);
    let ld = desc(media_type::OCI_LAYER_TAR_GZIP, &layer);
    assert_eq!(repo.blob_exists(&ld.digest).unwrap(), None);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    repo.push_blob(&ld, &layer[..], move |n| s.lock().unwrap().push(n))
        .unwrap();
    assert_eq!(*seen.lock().unwrap().last().unwrap(), layer.len() as u64);
    assert_eq!(
        repo.blob_exists(&ld.digest).unwrap(),
        Some(layer.len() as u64)
    );

    let pushed = push_image(&repo, "v1", media_type::OCI_MANIFEST, &[1000, 70_000], 2);
    let (mdesc, mbytes) = &pushed.manifest;

    // By tag.
    let (d, b) = repo.resolve("v1").unwrap();
    assert_eq!(&b, mbytes);
    assert_eq!(d.digest, mdesc.digest);
    assert_eq!(d.size, mbytes.len() as u64);
    assert_eq!(d.media_type, media_type::OCI_MANIFEST);
    // By digest.
    let (d2, b2) = repo.resolve(mdesc.digest.as_str()).unwrap();
    assert_eq!((d2.digest, b2), (mdesc.digest.clone(), mbytes.clone()));
    assert_eq!(repo.fetch_manifest(&mdesc.digest).unwrap(), *mbytes);

    // Blobs, with progress.
    for (ld, lb) in pushed.layers.iter().chain([&pushed.config]) {
        let last = Arc::new(Mutex::new(0u64));
        let l = last.clone();
        let mut r = repo
            .fetch_blob(ld)
            .unwrap()
            .on_progress(move |n| *l.lock().unwrap() = n);
        let mut got = Vec::new();
        r.read_to_end(&mut got).unwrap();
        assert_eq!(&got, lb);
        assert_eq!(*last.lock().unwrap(), lb.len() as u64);
        assert_eq!(r.resumes(), 0);
    }

    let mut tags = repo.tags().unwrap();
    tags.sort();
    assert_eq!(tags, vec!["v1".to_string()]);
}

#[test]
fn docker_schema2_manifest_list_and_oci_index() {
    let Some(reg) = Registry::start(
        "docker_schema2_manifest_list_and_oci_index",
        Options::default(),
    ) else {
        return;
    };
    let client = Client::new(RegistryConfig::default());
    let repo = repo(&client, &reg, "berth/multi");
    let amd = push_image(&repo, "amd64", media_type::DOCKER_MANIFEST_V2, &[5000], 10);
    let arm = push_image(&repo, "arm64", media_type::DOCKER_MANIFEST_V2, &[6000], 11);

    let (d, _) = repo.resolve("amd64").unwrap();
    assert_eq!(d.media_type, media_type::DOCKER_MANIFEST_V2);

    let list = images::index(
        media_type::DOCKER_MANIFEST_LIST,
        &[
            (amd.manifest.0.clone(), "amd64"),
            (arm.manifest.0.clone(), "arm64"),
        ],
    );
    let list_digest = repo
        .put_manifest("multi", media_type::DOCKER_MANIFEST_LIST, &list)
        .unwrap();
    let (d, b) = repo.resolve("multi").unwrap();
    assert_eq!(d.media_type, media_type::DOCKER_MANIFEST_LIST);
    assert_eq!(d.digest, list_digest);
    assert_eq!(b, list);
    // The children by digest, as a pull walks an index.
    assert_eq!(
        repo.fetch_manifest(&arm.manifest.0.digest).unwrap(),
        arm.manifest.1
    );

    // OCI index of OCI manifests, pushed by digest then tagged.
    let o1 = push_image(&repo, "o1", media_type::OCI_MANIFEST, &[100], 12);
    let idx = images::index(media_type::OCI_INDEX, &[(o1.manifest.0.clone(), "amd64")]);
    let idx_digest = Digest::sha256_of(&idx);
    assert_eq!(
        repo.put_manifest(idx_digest.as_str(), media_type::OCI_INDEX, &idx)
            .unwrap(),
        idx_digest
    );
    repo.put_manifest("oci-index", media_type::OCI_INDEX, &idx)
        .unwrap();
    let (d, b) = repo.resolve("oci-index").unwrap();
    assert_eq!(
        (d.media_type.as_str(), d.digest),
        (media_type::OCI_INDEX, idx_digest)
    );
    assert_eq!(b, idx);
}

#[test]
fn mount_across_repositories_and_exists() {
    let Some(reg) = Registry::start("mount_across_repositories_and_exists", Options::default())
    else {
        return;
    };
    let client = Client::new(RegistryConfig::default());
    let a = repo(&client, &reg, "berth/a");
    let b = repo(&client, &reg, "berth/b");
    let pushed = push_image(&a, "t", media_type::OCI_MANIFEST, &[4096], 20);
    let (ld, lb) = &pushed.layers[0];
    assert_eq!(b.blob_exists(&ld.digest).unwrap(), None);
    assert!(b.mount_blob(&ld.digest, "berth/a").unwrap());
    assert_eq!(b.blob_exists(&ld.digest).unwrap(), Some(lb.len() as u64));
    assert_eq!(&fetch_all(&b, ld), lb);

    // A blob the source does not have: the registry opens an upload session instead.
    let missing = Digest::sha256_of(b"berth: not in any repository");
    assert!(!b.mount_blob(&missing, "berth/a").unwrap());
    assert_eq!(b.blob_exists(&missing).unwrap(), None);
    // A bad source name is refused locally.
    let err = b.mount_blob(&missing, "Bad/Name?x=1").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid, "{err}");
}

#[test]
fn registry_errors_are_categorised_with_docker_messages() {
    let Some(reg) = Registry::start(
        "registry_errors_are_categorised_with_docker_messages",
        Options::default(),
    ) else {
        return;
    };
    let client = Client::new(RegistryConfig::default());
    let repo = repo(&client, &reg, "berth/errors");

    let err = repo.resolve("nope").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    assert!(
        err.to_string().contains("unknown"),
        "message should carry the registry's code: {err}"
    );
    push_image(&repo, "t", media_type::OCI_MANIFEST, &[10], 30);
    let err = repo.resolve("nope").unwrap_err();
    assert_eq!(err.to_string(), "manifest unknown: manifest unknown");

    let ghost = desc(media_type::OCI_LAYER_TAR_GZIP, b"ghost");
    let err = repo.fetch_blob(&ghost).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");

    // A manifest that references a blob the registry does not have.
    let cfg = desc(media_type::OCI_CONFIG, b"{}");
    let m = images::oci_manifest(&cfg, &[ghost]);
    let err = repo
        .put_manifest("broken", media_type::OCI_MANIFEST, &m)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid, "{err}");
    assert!(err.to_string().contains("blob unknown"), "{err}");

    // Bad input is refused before any request.
    assert_eq!(
        repo.resolve("../../etc").unwrap_err().kind(),
        ErrorKind::Invalid
    );
    assert_eq!(
        repo.resolve("sha256:12").unwrap_err().kind(),
        ErrorKind::Invalid
    );
    let wrong = format!("sha256:{}", "0".repeat(64));
    let err = repo
        .put_manifest(&wrong, media_type::OCI_MANIFEST, &m)
        .unwrap_err();
    assert!(matches!(err, Error::ManifestDigestMismatch { .. }), "{err}");
}

#[test]
fn push_of_content_that_does_not_match_its_descriptor_leaves_nothing() {
    let Some(reg) = Registry::start(
        "push_of_content_that_does_not_match_its_descriptor_leaves_nothing",
        Options::default(),
    ) else {
        return;
    };
    let client = Client::new(RegistryConfig::default());
    let repo = repo(&client, &reg, "berth/bad-push");
    let good = bytes(50_000, 40);
    let d = desc(media_type::OCI_LAYER_TAR_GZIP, &good);

    let mut tampered = good.clone();
    tampered[49_999] ^= 1;
    let err = repo.push_blob(&d, &tampered[..], |_| {}).unwrap_err();
    assert!(matches!(err, Error::ReadPushSource { .. }), "{err}");
    assert!(err.to_string().contains("hashes to"), "{err}");
    assert_eq!(repo.blob_exists(&d.digest).unwrap(), None);

    let err = repo.push_blob(&d, &good[..1000], |_| {}).unwrap_err();
    assert!(matches!(err, Error::ReadPushSource { .. }), "{err}");
    assert!(err.to_string().contains("ended after 1000"), "{err}");
    assert_eq!(repo.blob_exists(&d.digest).unwrap(), None);

    repo.push_blob(&d, &good[..], |_| {}).unwrap();
    assert_eq!(repo.blob_exists(&d.digest).unwrap(), Some(50_000));
}

#[test]
fn parallel_downloads_share_one_repository() {
    let Some(reg) = Registry::start(
        "parallel_downloads_share_one_repository",
        Options::default(),
    ) else {
        return;
    };
    let client = Client::new(RegistryConfig::default());
    let repo = repo(&client, &reg, "berth/parallel");
    let pushed = push_image(
        &repo,
        "p",
        media_type::OCI_MANIFEST,
        &[200_000, 300_000, 400_000, 500_000],
        50,
    );
    let handles: Vec<_> = pushed
        .layers
        .iter()
        .cloned()
        .map(|(d, b)| {
            let repo = repo.clone();
            std::thread::spawn(move || assert_eq!(fetch_all(&repo, &d), b))
        })
        .collect();
    for h in handles {
        h.join().expect("download thread");
    }
}

#[test]
fn a_tampered_blob_in_the_registry_fails_at_eof() {
    let Some(reg) = Registry::start(
        "a_tampered_blob_in_the_registry_fails_at_eof",
        Options::default(),
    ) else {
        return;
    };
    let client = Client::new(RegistryConfig::default());
    let repo = repo(&client, &reg, "berth/tamper");
    let pushed = push_image(&repo, "t", media_type::OCI_MANIFEST, &[10_000], 60);
    let (d, original) = &pushed.layers[0];
    // Flip one byte in the registry's storage, keeping the size.
    let data = reg.data_dir().join(format!(
        "docker/registry/v2/blobs/sha256/{}/{}/data",
        &d.digest.hex()[..2],
        d.digest.hex()
    ));
    let mut stored = std::fs::read(&data).expect("stored blob");
    assert_eq!(&stored, original);
    stored[5000] ^= 0xff;
    std::fs::write(&data, &stored).expect("tamper");

    let mut r = repo.fetch_blob(d).unwrap();
    let mut got = Vec::new();
    let err = r.read_to_end(&mut got).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    assert_eq!(
        got.len(),
        original.len(),
        "every byte is delivered before the verdict"
    );
    let inner = err
        .get_ref()
        .and_then(|e| e.downcast_ref::<berth_registry::BlobError>())
        .expect("a BlobError inside");
    assert!(
        matches!(inner, berth_registry::BlobError::DigestMismatch { .. }),
        "{inner}"
    );
}
