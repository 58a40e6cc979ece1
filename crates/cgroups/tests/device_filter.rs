//! The cgroup v2 device filter against the real kernel: the verifier accepts the emitted
//! programs (BPF_PROG_LOAD works on any host), and on a host with a cgroup2 hierarchy (v2, or
//! the unified mount of a hybrid host) the attached program denies what the rules deny, and an
//! update replaces it. Root only.

mod common;

use std::path::PathBuf;

use berth_cgroups::device_filter::{Program, attached_program_ids, install, load};
use common::{Blocked, root_or_skip, unique_path};
use oci_spec::runtime::{LinuxDeviceCgroup, LinuxDeviceCgroupBuilder, LinuxDeviceType};

fn rule(
    allow: bool,
    t: LinuxDeviceType,
    maj: Option<i64>,
    min: Option<i64>,
    acc: &str,
) -> LinuxDeviceCgroup {
    let mut b = LinuxDeviceCgroupBuilder::default()
        .allow(allow)
        .typ(t)
        .access(acc.to_owned());
    if let Some(x) = maj {
        b = b.major(x);
    }
    if let Some(x) = min {
        b = b.minor(x);
    }
    b.build().unwrap()
}

fn docker_like() -> Vec<LinuxDeviceCgroup> {
    use LinuxDeviceType::*;
    vec![
        rule(false, A, None, None, "rwm"),
        rule(true, C, None, None, "m"),
        rule(true, B, None, None, "m"),
        rule(true, C, Some(1), Some(3), "rwm"),
        rule(true, C, Some(1), Some(5), "rwm"),
        rule(true, C, Some(1), Some(7), "rwm"),
        rule(true, C, Some(1), Some(8), "rwm"),
        rule(true, C, Some(1), Some(9), "rwm"),
        rule(true, C, Some(5), Some(0), "rwm"),
        rule(true, C, Some(5), Some(1), "rwm"),
        rule(true, C, Some(136), None, "rwm"),
        rule(true, C, Some(10), Some(200), "rwm"),
        rule(false, C, Some(1), Some(7), "w"),
    ]
}

#[test]
fn verifier_accepts_emitted_programs() {
    if !root_or_skip("verifier_accepts_emitted_programs") {
        return;
    }
    use LinuxDeviceType::*;
    let lists = [
        vec![],
        docker_like(),
        vec![rule(true, A, None, None, "")],
        vec![
            rule(true, U, Some(4), None, "rw"),
            rule(false, B, None, Some(0), "m"),
        ],
    ];
    for rules in lists {
        let p = Program::from_oci(&rules).unwrap();
        let fd = load(&p).unwrap_or_else(|e| panic!("{e}: {:?}", std::error::Error::source(&e)));
        drop(fd);
    }
}

/// A cgroup2 directory of our own, removed on drop (the kernel detaches its programs).
struct Cgroup2Dir(PathBuf);

impl Drop for Cgroup2Dir {
    fn drop(&mut self) {
        let r = std::fs::remove_dir(&self.0);
        if !std::thread::panicking() {
            r.unwrap_or_else(|e| panic!("remove {}: {e}", self.0.display()));
        }
    }
}

fn cgroup2_mount() -> Option<PathBuf> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    text.lines().find_map(|l| {
        let (pre, post) = l.split_once(" - ")?;
        (post.split(' ').next()? == "cgroup2")
            .then(|| PathBuf::from(pre.split(' ').nth(4).unwrap()))
    })
}

fn probe(dir: &std::path::Path) -> String {
    let b = Blocked::spawn(
        "(: >/dev/null) 2>/dev/null && echo null; (: </dev/zero) 2>/dev/null && echo zero-r; \
         (: >/dev/full) 2>/dev/null && echo full-w; (: </dev/full) 2>/dev/null && echo full-r; echo done",
    );
    std::fs::write(dir.join("cgroup.procs"), b.pid().to_string()).unwrap();
    b.run()
}

#[test]
fn attached_filter_denies_and_update_replaces_it() {
    if !root_or_skip("attached_filter_denies_and_update_replaces_it") {
        return;
    }
    let Some(mnt) = cgroup2_mount() else {
        eprintln!(
            "SKIP: attached_filter_denies_and_update_replaces_it: no cgroup2 hierarchy mounted"
        );
        return;
    };
    let dir = mnt.join(unique_path("bpf").strip_prefix("/").unwrap());
    std::fs::create_dir(&dir).unwrap();
    let cg = Cgroup2Dir(dir.clone());

    use LinuxDeviceType::*;
    // Only /dev/null and read access to /dev/zero.
    let first = vec![
        rule(true, C, Some(1), Some(3), "rwm"),
        rule(true, C, Some(1), Some(5), "r"),
    ];
    install(&dir, &Program::from_oci(&first).unwrap()).unwrap();
    let ids = attached_program_ids(&dir).unwrap();
    assert_eq!(ids.len(), 1);
    assert_eq!(
        probe(&dir).split_whitespace().collect::<Vec<_>>(),
        ["null", "zero-r", "done"]
    );

    // Update: the docker-like list (full is readable but not writable) replaces the first.
    install(&dir, &Program::from_oci(&docker_like()).unwrap()).unwrap();
    let ids2 = attached_program_ids(&dir).unwrap();
    assert_eq!(ids2.len(), 1, "replaced, not added");
    assert_ne!(ids2, ids);
    assert_eq!(
        probe(&dir).split_whitespace().collect::<Vec<_>>(),
        ["null", "zero-r", "full-r", "done"]
    );
    drop(cg);
    assert!(!dir.exists());
}
