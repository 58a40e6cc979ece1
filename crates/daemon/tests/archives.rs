//! save, load and import through the docker CLI, and interop with skopeo:
//! what berth saves skopeo reads, what skopeo writes berth loads.

mod support;

use std::process::Command;

use support::*;

#[test]
fn save_load_round_trip_and_skopeo_interop() {
    let Some((registry, layout)) = setup(
        "save_load_round_trip_and_skopeo_interop",
        Fixture::Busybox,
        "busybox",
    ) else {
        return;
    };
    let d = berthd(&[]);
    let image = format!("{}/busybox:latest", registry.host);
    ok(d.docker(&["pull", &image]));
    let (_, id) = layout_ids(&layout);
    let tar = d.dir().join("saved.tar");
    ok(d.docker(&["save", "-o", tar.to_str().unwrap(), &image]));

    // skopeo reads berth's archive.
    let out = Command::new("skopeo")
        .args(["inspect", "--config"])
        .arg(format!("docker-archive:{}", tar.display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "skopeo: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(config["config"]["Cmd"], serde_json::json!(["sh"]));

    // Round trip: the same image id, the same name.
    ok(d.docker(&["rmi", &image]));
    let out = ok(d.docker(&["load", "-i", tar.to_str().unwrap()]));
    assert_eq!(out.trim(), format!("Loaded image: {image}"));
    assert_eq!(ok(d.docker(&["images", "-q", "--no-trunc"])).trim(), id);

    // stdin, and a skopeo-made docker-archive with another name.
    let skopeo_tar = d.dir().join("skopeo.tar");
    let status = Command::new("skopeo")
        .args(["copy", "--quiet"])
        .arg(format!("oci:{}:latest", layout.display()))
        .arg(format!(
            "docker-archive:{}:made/by-skopeo:v1",
            skopeo_tar.display()
        ))
        .status()
        .unwrap();
    assert!(status.success());
    let bytes = std::fs::read(&skopeo_tar).unwrap();
    let out = ok(d.docker_with(
        std::path::Path::new(berth_testutil::berthd::DOCKER_CLI),
        &["load"],
        Some(&bytes),
    ));
    assert!(out.contains("Loaded image: made/by-skopeo:v1"), "{out}");
    let ids = ok(d.docker(&["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"]));
    assert!(
        ids.contains(&format!("made/by-skopeo:v1 {}", &id[7..19])),
        "same content, same id: {ids}"
    );

    // An OCI archive from skopeo loads too (untagged: by id).
    let oci_tar = d.dir().join("oci.tar");
    let status = Command::new("skopeo")
        .args(["copy", "--quiet"])
        .arg(format!("oci:{}:latest", layout.display()))
        .arg(format!("oci-archive:{}:latest", oci_tar.display()))
        .status()
        .unwrap();
    assert!(status.success());
    let out = ok(d.docker(&["load", "-i", oci_tar.to_str().unwrap()]));
    assert!(out.contains("Loaded image"), "{out}");

    // Garbage is refused and leaves no blob behind beyond what was there.
    let before = blobs(&d).len();
    let err = fails(d.docker_with(std::path::Path::new(berth_testutil::berthd::DOCKER_CLI), &["load"], Some(b"not a tar at all, not even close............................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................")), 1);
    assert!(!err.is_empty());
    ok(d.docker(&["image", "prune", "-f"]));
    assert!(blobs(&d).len() <= before, "a failed load keeps nothing");
}

#[test]
fn import_with_changes_and_a_hostile_tarball() {
    if !require_root("import_with_changes_and_a_hostile_tarball") {
        return;
    }
    let d = berthd(&[]);
    let rootfs = d.dir().join("rootfs");
    berth_testutil::make_rootfs(&rootfs);
    let tar = Command::new("tar")
        .arg("-C")
        .arg(&rootfs)
        .args(["-c", "."])
        .output()
        .unwrap();
    assert!(tar.status.success());
    let out = ok(d.docker_with(
        std::path::Path::new(berth_testutil::berthd::DOCKER_CLI),
        &[
            "import",
            "-c",
            r#"CMD ["sh"]"#,
            "-c",
            "ENV A=1 B=2",
            "-c",
            "WORKDIR /tmp",
            "-m",
            "made by a test",
            "-",
            "imported:v1",
        ],
        Some(&tar.stdout),
    ));
    let id = out.trim().to_string();
    assert!(id.starts_with("sha256:") && id.len() == 71, "{out}");
    let config = ok(d.docker(&[
        "image",
        "inspect",
        "-f",
        "{{json .Config.Cmd}} {{json .Config.Env}} {{.Config.WorkingDir}} {{.Comment}}",
        "imported:v1",
    ]));
    assert_eq!(config.trim(), r#"["sh"] ["A=1","B=2"] /tmp made by a test"#);
    let history = ok(d.docker(&["history", "--format", "{{.Comment}}", "imported:v1"]));
    assert_eq!(history.trim(), "made by a test");

    let err = fails(
        d.docker_with(
            std::path::Path::new(berth_testutil::berthd::DOCKER_CLI),
            &["import", "-c", "RUN true", "-", "x"],
            Some(&tar.stdout),
        ),
        1,
    );
    assert!(err.contains("run is not a valid change command"), "{err}");

    // A tarball whose entry climbs out of the root: refused, nothing written
    // outside, no image.
    let evil = hostile_tar();
    let marker = std::path::Path::new("/tmp/berth-import-escape-marker");
    let _ = std::fs::remove_file(marker);
    let err = fails(
        d.docker_with(
            std::path::Path::new(berth_testutil::berthd::DOCKER_CLI),
            &["import", "-", "evil:1"],
            Some(&evil),
        ),
        1,
    );
    assert!(err.contains("escapes"), "{err}");
    assert!(!marker.exists(), "the tar wrote outside its root");
    let images = ok(d.docker(&["images", "--format", "{{.Repository}}"]));
    assert!(!images.contains("evil"), "{images}");
}

/// A tar with one entry, `../../../../../../tmp/berth-import-escape-marker`,
/// written by hand (tar tools refuse to make it).
fn hostile_tar() -> Vec<u8> {
    let name = b"../../../../../../tmp/berth-import-escape-marker";
    let data = b"escaped\n";
    let mut header = [0u8; 512];
    header[..name.len()].copy_from_slice(name);
    header[100..108].copy_from_slice(b"0000644\0");
    header[108..116].copy_from_slice(b"0000000\0");
    header[116..124].copy_from_slice(b"0000000\0");
    header[124..136].copy_from_slice(format!("{:011o}\0", data.len()).as_bytes());
    header[136..148].copy_from_slice(b"00000000000\0");
    header[156] = b'0';
    header[257..263].copy_from_slice(b"ustar\0");
    header[263..265].copy_from_slice(b"00");
    header[148..156].copy_from_slice(b"        ");
    let sum: u32 = header.iter().map(|&b| u32::from(b)).sum();
    header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    let mut out = header.to_vec();
    out.extend_from_slice(data);
    out.resize(1024, 0);
    out.extend_from_slice(&[0u8; 1024]);
    out
}
