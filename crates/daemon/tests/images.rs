//! The docker CLI drives berthd's image commands against a registry of the
//! test's own: pull, images, inspect, history, tag, rmi (with dockerd's
//! rules), and what a removal frees.

mod support;

use std::path::{Path, PathBuf};

use support::*;

#[test]
fn pull_inspect_history_tag_and_rmi() {
    let Some((registry, layout)) = setup(
        "pull_inspect_history_tag_and_rmi",
        Fixture::Busybox,
        "busybox",
    ) else {
        return;
    };
    let d = berthd(&[]);
    let image = format!("{}/busybox", registry.host);
    let out = ok(d.docker(&["pull", &image]));
    let (manifest_digest, config_digest) = layout_ids(&layout);
    assert!(out.contains("latest: Pulling from busybox"), "{out}");
    assert!(out.contains("Pull complete"), "{out}");
    assert!(out.contains(&format!("Digest: {manifest_digest}")), "{out}");
    assert!(
        out.contains(&format!(
            "Status: Downloaded newer image for {image}:latest"
        )),
        "{out}"
    );

    let again = ok(d.docker(&["pull", &image]));
    assert!(
        again.contains(&format!("Status: Image is up to date for {image}:latest")),
        "{again}"
    );
    assert!(
        !again.contains("Already exists"),
        "dockerd says nothing about layers of a complete image: {again}"
    );

    let ids = ok(d.docker(&["images", "-q", "--no-trunc"]));
    assert_eq!(ids.trim(), config_digest);
    let table = ok(d.docker(&["images", "--format", "{{.Repository}}:{{.Tag}} {{.Size}}"]));
    assert_eq!(
        table.trim(),
        format!("{image}:latest 1.98MB"),
        "size as dockerd counts it"
    );

    let inspect: serde_json::Value =
        serde_json::from_str(&ok(d.docker(&["image", "inspect", &image]))).unwrap();
    let i = &inspect[0];
    assert_eq!(i["Id"], config_digest);
    assert_eq!(
        i["RepoTags"],
        serde_json::json!([format!("{image}:latest")])
    );
    assert_eq!(
        i["RepoDigests"],
        serde_json::json!([format!("{image}@{manifest_digest}")])
    );
    assert_eq!(i["Config"]["Cmd"], serde_json::json!(["sh"]));
    assert_eq!(i["Os"], "linux");
    assert_eq!(i["RootFS"]["Layers"].as_array().map(Vec::len), Some(1));
    assert_eq!(i["GraphDriver"]["Name"], "overlay2");

    let history = ok(d.docker(&[
        "history",
        "--format",
        "{{.ID}} {{.CreatedBy}} {{.Size}}",
        &image,
    ]));
    let rows: Vec<&str> = history.lines().collect();
    assert_eq!(rows.len(), 2, "{history}");
    assert!(
        rows[0].starts_with(&config_digest[7..19]) && rows[0].ends_with("umoci config 0B"),
        "{history}"
    );
    assert!(
        rows[1].starts_with("<missing> umoci repack 1.98MB"),
        "{history}"
    );

    // Two repositories name the image: removing it by id needs -f.
    ok(d.docker(&["tag", &image, "other/name:v1"]));
    ok(d.docker(&["tag", &config_digest[7..19], "other/name:v2"]));
    let err = fails(d.docker(&["rmi", &config_digest[7..19]]), 1);
    assert!(
        err.contains(&format!(
            "conflict: unable to delete {} (must be forced) - image is referenced in multiple repositories",
            &config_digest[7..19]
        )),
        "{err}"
    );
    // Removing a name only untags while others remain.
    let out = ok(d.docker(&["rmi", "other/name:v1"]));
    assert_eq!(out.trim(), "Untagged: other/name:v1");
    // The last tag of a repository takes its digest names along.
    let out = ok(d.docker(&["rmi", &format!("{image}:latest")]));
    assert_eq!(
        out.trim(),
        format!("Untagged: {image}:latest\nUntagged: {image}@{manifest_digest}")
    );
    assert!(
        !blobs(&d).is_empty(),
        "the image is still named: nothing freed"
    );
    // The last name: the image and its layer go.
    let out = ok(d.docker(&["rmi", "other/name:v2"]));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "Untagged: other/name:v2");
    assert_eq!(lines[1], format!("Deleted: {config_digest}"));
    assert_eq!(lines.len(), 3, "the layer is deleted too: {out}");
    assert!(ok(d.docker(&["images", "-aq"])).trim().is_empty());
    assert!(blobs(&d).is_empty(), "every blob freed: {:?}", blobs(&d));

    let err = fails(d.docker(&["rmi", "nosuch"]), 1);
    assert!(err.contains("No such image: nosuch:latest"), "{err}");
    let err = fails(d.docker(&["image", "inspect", "nosuch"]), 1);
    assert!(err.contains("No such image: nosuch"), "{err}");
}

#[test]
fn pull_errors_are_dockerds() {
    let Some((registry, _)) = setup("pull_errors_are_dockerds", Fixture::Busybox, "busybox") else {
        return;
    };
    let d = berthd(&[]);
    let err = fails(
        d.docker(&["pull", &format!("{}/busybox:nosuch", registry.host)]),
        1,
    );
    assert!(
        err.contains(&format!(
            "manifest for {}/busybox:nosuch not found: manifest unknown",
            registry.host
        )),
        "{err}"
    );
    let err = fails(d.docker(&["pull", "scratch"]), 1);
    assert!(err.contains("'scratch' is a reserved name"), "{err}");
    let closed = berth_testutil::registry::free_port();
    let err = fails(d.docker(&["pull", &format!("127.0.0.1:{closed}/x")]), 1);
    assert!(err.contains("onnection refused"), "{err}");
    let err = fails(d.docker(&["pull", "Upper/Case"]), 1);
    assert!(err.contains("must be lowercase"), "{err}");
    assert!(
        blobs(&d).is_empty(),
        "failed pulls keep nothing: {:?}",
        blobs(&d)
    );
}

/// berthd stages a layer in memory (a tmpfs, charged to its own memory cgroup) to write it as
/// an EROFS image only when that cgroup has room. Under a limit a few MiB above its usage, the
/// same layer is unpacked as a directory instead, and the image is whole.
#[test]
fn a_tight_memory_cgroup_unpacks_layers_on_disk() {
    const TEST: &str = "a_tight_memory_cgroup_unpacks_layers_on_disk";
    let Some((registry, _layout)) = setup(TEST, Fixture::Busybox, "busybox") else {
        return;
    };
    let d = berthd(&[]);
    let image = format!("{}/busybox", registry.host);
    let erofs = || -> Vec<PathBuf> {
        files_under(&d.data_root())
            .into_iter()
            .filter(|p| p.ends_with("layer.erofs"))
            .collect()
    };
    ok(d.docker(&["pull", "-q", &image]));
    if erofs().is_empty() {
        eprintln!("SKIP {TEST}: this kernel does not mount EROFS image files (no layer images)");
        return;
    }
    ok(d.docker(&["rmi", &image]));
    assert_eq!(
        erofs(),
        Vec::<PathBuf>::new(),
        "rmi removed the layer image"
    );

    let Some(_tight) = TightMemoryCgroup::around(d.pid().unwrap(), 4 << 20) else {
        eprintln!("SKIP {TEST}: no memory cgroup controller to limit berthd with");
        return;
    };
    ok(d.docker(&["pull", "-q", &image]));
    assert_eq!(
        erofs(),
        Vec::<PathBuf>::new(),
        "a layer image was staged anyway"
    );
    let unpacked = files_under(&d.data_root())
        .into_iter()
        .any(|p| p.ends_with("bin/busybox"));
    assert!(unpacked, "the layer is unpacked as a directory");
    ok(d.docker(&["rmi", &image]));
}

/// `--storage-opt overlay2.layer_images=false` keeps layers as directories; a malformed or
/// unknown storage option stops berthd at start with dockerd's words.
#[test]
fn layer_images_can_be_turned_off() {
    const TEST: &str = "layer_images_can_be_turned_off";
    let Some((registry, _layout)) = setup(TEST, Fixture::Busybox, "busybox") else {
        return;
    };
    for (opt, says) in [
        ("overlay2.layer_images=maybe", "is not a boolean"),
        (
            "overlay2.size=10G",
            "overlay2: unknown option overlay2.size",
        ),
        ("layer_images", "unable to parse storage-opt: layer_images"),
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_berthd"))
            .args([
                "--storage-opt",
                opt,
                "--data-root",
                "/nonexistent/berth-test",
            ])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(says), "{opt}: {err}");
    }

    let d = berthd(&["--storage-opt", "overlay2.layer_images=false"]);
    // The option, not the kernel, decided (a kernel without EROFS image mounts would make the
    // checks below pass on its own).
    let log = d.log();
    if log.contains("no EROFS image mounts") {
        eprintln!("SKIP {TEST}: this kernel does not mount EROFS image files");
        return;
    }
    assert!(
        log.contains("layers are unpacked as directories: overlay2.layer_images=false"),
        "{log}"
    );
    ok(d.docker(&["pull", "-q", &format!("{}/busybox", registry.host)]));
    let files = files_under(&d.data_root());
    assert!(
        !files.iter().any(|p| p.ends_with("layer.erofs")),
        "{files:?}"
    );
    assert!(files.iter().any(|p| p.ends_with("bin/busybox")));
}

/// A memory cgroup of the test's own holding one process, limited to its usage plus `room`;
/// the process goes back to where it was and the cgroup is removed on drop.
struct TightMemoryCgroup {
    dir: PathBuf,
    pid: u32,
    home: PathBuf,
}

impl TightMemoryCgroup {
    fn around(pid: u32, room: u64) -> Option<TightMemoryCgroup> {
        let v1 = Path::new("/sys/fs/cgroup/memory");
        let (root, member_prefix, files) = if v1.join("memory.limit_in_bytes").exists() {
            (
                v1,
                ":memory:",
                ("memory.usage_in_bytes", "memory.limit_in_bytes"),
            )
        } else {
            let root = Path::new("/sys/fs/cgroup");
            let enabled = std::fs::read_to_string(root.join("cgroup.subtree_control")).ok()?;
            if !enabled.split_whitespace().any(|c| c == "memory") {
                return None;
            }
            (root, "0::", ("memory.current", "memory.max"))
        };
        let membership = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
        let home = membership
            .lines()
            .find_map(|l| Some(l.split_once(member_prefix)?.1))?;
        let home = root.join(home.trim_start_matches('/'));
        let dir = root.join(format!("berth-test-tight-{pid}"));
        std::fs::create_dir(&dir).unwrap();
        let cg = TightMemoryCgroup { dir, pid, home };
        std::fs::write(cg.dir.join("cgroup.procs"), pid.to_string()).unwrap();
        let usage: u64 = std::fs::read_to_string(cg.dir.join(files.0))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        std::fs::write(cg.dir.join(files.1), (usage + room).to_string()).unwrap();
        Some(cg)
    }
}

impl Drop for TightMemoryCgroup {
    fn drop(&mut self) {
        let _ = std::fs::write(self.home.join("cgroup.procs"), self.pid.to_string());
        // Pages charged to it move to the parent when it goes; retry while it empties.
        for _ in 0..100 {
            if std::fs::remove_dir(&self.dir).is_ok() || !self.dir.exists() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("cgroup {} left behind", self.dir.display());
    }
}
