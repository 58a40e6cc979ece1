//! `kill -9` of berthd in the middle of a pull: the next start finds a
//! consistent store (no half-unpacked layer, no partial blob, images
//! already there intact) and the pull works again; and a data root that
//! fills up in the middle of a pull.

mod support;

use std::path::Path;
use std::time::Duration;

use support::*;

#[test]
fn kill9_during_a_pull_leaves_a_store_that_opens_cleanly() {
    let Some((registry, _)) = setup(
        "kill9_during_a_pull_leaves_a_store_that_opens_cleanly",
        Fixture::Minbase,
        "debian",
    ) else {
        return;
    };
    let Some(busybox) = layout(
        "kill9_during_a_pull_leaves_a_store_that_opens_cleanly",
        Fixture::Busybox,
    ) else {
        return;
    };
    push(&busybox, &registry.host, "busybox:latest");
    let mut d = berthd(&[]);
    ok(d.docker(&["pull", &format!("{}/busybox", registry.host)]));
    let kept = ok(d.docker(&["images", "-q", "--no-trunc"]));

    // Start the big pull through the API, kill the daemon once the layer is
    // on its way.
    let socket = d.socket();
    let host = registry.host.clone();
    let pull = std::thread::spawn(move || {
        let mut stream = std::os::unix::net::UnixStream::connect(socket).unwrap();
        let _ = berth_testutil::berthd::http_request(
            &mut stream,
            "POST",
            &format!("/v1.47/images/create?fromImage={host}/debian&tag=latest"),
            &[],
            None,
        );
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let ingest = files_under(&d.data_root().join("content/ingest"));
        if !ingest.is_empty() || std::time::Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(150));
    d.kill9();
    let _ = pull.join();

    d.restart();
    assert_eq!(
        ok(d.docker(&["images", "-q", "--no-trunc"])),
        kept,
        "the images already there are intact"
    );
    let ingest = files_under(&d.data_root().join("content/ingest"));
    assert!(ingest.is_empty(), "partial downloads removed: {ingest:?}");
    assert_eq!(
        blobs(&d).len(),
        3,
        "only busybox's manifest, config and layer remain: {:?}",
        blobs(&d)
    );
    let out = ok(d.docker(&["pull", &format!("{}/debian", registry.host)]));
    assert!(out.contains("Pull complete"), "{out}");
}

/// A data root that fills up in the middle of a pull: dockerd's kind of
/// error, nothing of that pull stays, the images already there are intact
/// and the store keeps working.
#[test]
fn a_full_disk_fails_the_pull_and_keeps_the_store() {
    let test = "a_full_disk_fails_the_pull_and_keeps_the_store";
    let Some((registry, _)) = setup(test, Fixture::Minbase, "debian") else {
        return;
    };
    let Some(busybox) = layout(test, Fixture::Busybox) else {
        return;
    };
    push(&busybox, &registry.host, "busybox:latest");
    let mut d = Berthd::start_with(Path::new(env!("CARGO_BIN_EXE_berthd")), &[], |dir| {
        let data = dir.join("data");
        std::fs::create_dir_all(&data).expect("mkdir data");
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=40m", "berth-full-disk"])
            .arg(&data)
            .status()
            .expect("mount");
        assert!(status.success(), "mount a 40 MB tmpfs");
    });
    let data = d.data_root();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let bb = format!("{}/busybox", registry.host);
        ok(d.docker(&["pull", "-q", &bb]));
        let kept = ok(d.docker(&["images", "-q", "--no-trunc"]));

        let err = fails(d.docker(&["pull", &format!("{}/debian", registry.host)]), 1);
        assert!(
            err.to_lowercase().contains("no space left on device"),
            "{err}"
        );
        assert_eq!(ok(d.docker(&["images", "-q", "--no-trunc"])), kept);
        let ingest = files_under(&data.join("content/ingest"));
        assert!(ingest.is_empty(), "partial downloads removed: {ingest:?}");
        assert_eq!(blobs(&d).len(), 3, "only busybox's blobs: {:?}", blobs(&d));

        // Still a working store: remove and pull again.
        ok(d.docker(&["rmi", &bb]));
        ok(d.docker(&["pull", "-q", &bb]));
        assert_eq!(ok(d.docker(&["images", "-q", "--no-trunc"])), kept);
    }));
    assert!(d.stop(), "berthd stops on SIGTERM");
    let status = std::process::Command::new("umount")
        .arg(&data)
        .status()
        .expect("umount");
    assert!(status.success(), "umount {}", data.display());
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}
