//! `kill -9` of berthd in the middle of a pull: the next start finds a
//! consistent store (no half-unpacked layer, no partial blob, images
//! already there intact) and the pull works again.

mod support;

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
