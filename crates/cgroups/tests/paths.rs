//! `linux.cgroupsPath` resolution against this host's hierarchies, `from_state` checks, and
//! `validate` errors. Resolution needs no privileges; creating under the own cgroup is root only.

mod common;

use std::path::{Path, PathBuf};

use berth_cgroups::{Category, CgroupMode, CgroupVersion, Error, Manager};
use common::{Guard, root_or_skip, unique_path};
use oci_spec::runtime::{
    LinuxCpuBuilder, LinuxHugepageLimitBuilder, LinuxMemoryBuilder, LinuxNetworkBuilder,
    LinuxResourcesBuilder,
};

/// The own cgroup of this process in the hierarchy with `controllers` (empty: cgroup2),
/// read independently of the crate.
fn own_cgroup(controllers: &[String]) -> PathBuf {
    let text = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    for line in text.lines() {
        let mut p = line.splitn(3, ':');
        let (_, ctrls, path) = (p.next().unwrap(), p.next().unwrap(), p.next().unwrap());
        let mut a: Vec<&str> = ctrls.split(',').filter(|s| !s.is_empty()).collect();
        let mut b: Vec<&str> = controllers.iter().map(String::as_str).collect();
        a.sort();
        b.sort();
        if a == b {
            return PathBuf::from(path);
        }
    }
    panic!("no own cgroup for {controllers:?}")
}

#[test]
fn default_path_is_berth_dash_id_in_every_hierarchy() {
    let m = Manager::new(None, "abc").unwrap();
    let st = m.state();
    assert!(!st.hierarchies.is_empty());
    for h in &st.hierarchies {
        assert_eq!(h.path, h.mountpoint.join("berth-abc"), "{h:?}");
        assert!(h.created.is_empty(), "new() touches nothing");
    }
    if st.mode == CgroupMode::Hybrid {
        assert!(
            st.hierarchies
                .iter()
                .any(|h| h.version == CgroupVersion::V2)
        );
    }
}

#[test]
fn relative_path_is_under_the_own_cgroup() {
    let m = Manager::new(Some(Path::new("berth-test-rel/x")), "id").unwrap();
    for h in m.state().hierarchies {
        let own = own_cgroup(&h.controllers);
        // v1: under the caller's own cgroup; cgroup2: under its parent (the
        // caller's cgroup holds processes, so it cannot have children with
        // controllers), as runc's fs2 driver does.
        let base = match h.version {
            CgroupVersion::V1 => own.clone(),
            CgroupVersion::V2 => own.parent().map(Path::to_path_buf).unwrap_or(own.clone()),
        };
        let want = h
            .mountpoint
            .join(base.strip_prefix("/").unwrap())
            .join("berth-test-rel/x");
        assert_eq!(h.path, want, "{h:?}");
    }
}

#[test]
fn dotdot_above_the_root_and_systemd_paths_are_refused() {
    let e = Manager::new(Some(Path::new("/a/../../etc")), "id").unwrap_err();
    assert!(matches!(e, Error::PathEscapesRoot { .. }), "{e}");
    assert_eq!(e.category(), Category::Invalid);
    // Relative: enough ".." to leave the deepest own cgroup leaves some hierarchy root.
    let depth = std::fs::read_to_string("/proc/self/cgroup")
        .unwrap()
        .lines()
        .map(|l| l.splitn(3, ':').nth(2).unwrap().matches('/').count())
        .max()
        .unwrap();
    let up = "../".repeat(depth + 1) + "x";
    let e = Manager::new(Some(Path::new(&up)), "id").unwrap_err();
    assert!(matches!(e, Error::PathEscapesRoot { .. }), "{e}");
    let e = Manager::new(Some(Path::new("system.slice:docker:abc")), "id").unwrap_err();
    assert!(matches!(e, Error::SystemdUnsupported { .. }), "{e}");
    assert!(e.to_string().contains("slice:prefix:name"), "{e}");
    let e = Manager::new(None, "../x").unwrap_err();
    assert!(matches!(e, Error::InvalidId { .. }), "{e}");
    let e = Manager::new(Some(Path::new("/")), "id").unwrap_err();
    assert!(matches!(e, Error::InvalidCgroupsPath { .. }), "{e}");
}

#[test]
fn from_state_round_trips_and_refuses_tampering() {
    let m = Manager::new(Some(Path::new("/berth-test-state")), "id").unwrap();
    let st = m.state();
    let back =
        Manager::from_state(&serde_json::from_str(&serde_json::to_string(&st).unwrap()).unwrap())
            .unwrap();
    assert_eq!(back.state(), st);
    let mut bad = st.clone();
    bad.hierarchies[0].created = vec![PathBuf::from("/etc")];
    assert!(matches!(
        Manager::from_state(&bad),
        Err(Error::InvalidState { .. })
    ));
    let mut bad = st;
    bad.hierarchies[0].path = bad.hierarchies[0].mountpoint.join("a/../../../etc");
    assert!(matches!(
        Manager::from_state(&bad),
        Err(Error::InvalidState { .. })
    ));
}

#[test]
fn validate_names_the_oci_field() {
    let m = Manager::new(None, "validate").unwrap();
    let field_err = |r| {
        let e = m.validate(&r).unwrap_err();
        assert_eq!(e.category(), Category::Invalid, "{e}");
        e.to_string()
    };
    let e = field_err(
        LinuxResourcesBuilder::default()
            .memory(
                LinuxMemoryBuilder::default()
                    .limit(100 << 20)
                    .swap(50 << 20)
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap(),
    );
    assert!(e.starts_with("linux.resources.memory.swap: "), "{e}");
    let e = field_err(
        LinuxResourcesBuilder::default()
            .cpu(LinuxCpuBuilder::default().cpus("0-x").build().unwrap())
            .build()
            .unwrap(),
    );
    assert!(e.starts_with("linux.resources.cpu.cpus: "), "{e}");
    let e = field_err(
        LinuxResourcesBuilder::default()
            .hugepage_limits(vec![
                LinuxHugepageLimitBuilder::default()
                    .page_size("3MB")
                    .limit(1)
                    .build()
                    .unwrap(),
            ])
            .build()
            .unwrap(),
    );
    assert!(
        e.starts_with("linux.resources.hugepageLimits[0].pageSize: "),
        "{e}"
    );
    let has_net_cls = berth_cgroups::features()
        .controllers
        .iter()
        .any(|c| c == "net_cls");
    if !has_net_cls || m.mode() == CgroupMode::Unified {
        let e = field_err(
            LinuxResourcesBuilder::default()
                .network(
                    LinuxNetworkBuilder::default()
                        .class_id(1u32)
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        );
        assert!(e.starts_with("linux.resources.network.classID: "), "{e}");
    }
    if m.mode() == CgroupMode::Legacy {
        let u: std::collections::HashMap<String, String> =
            [("memory.max".to_owned(), "1".to_owned())].into();
        let e = field_err(LinuxResourcesBuilder::default().unified(u).build().unwrap());
        assert!(e.starts_with("linux.resources.unified: "), "{e}");
    }
}

#[test]
fn features_report_this_host() {
    let f = berth_cgroups::features();
    assert!(f.v1 && f.v2 && !f.systemd);
    assert_eq!(f.mode, Some(berth_cgroups::mode().unwrap()));
    assert!(
        f.controllers.iter().any(|c| c == "memory" || c == "pids"),
        "{f:?}"
    );
    let oci = f.to_oci();
    assert_eq!(oci.systemd(), &Some(false));
}

#[test]
fn relative_path_can_be_created_and_destroyed_under_the_own_cgroup() {
    if !root_or_skip("relative_path_can_be_created_and_destroyed_under_the_own_cgroup") {
        return;
    }
    let name = unique_path("rel");
    let rel = name.strip_prefix("/").unwrap();
    let mut m = Manager::new(Some(rel), "rel").unwrap();
    m.create().unwrap();
    let g = Guard::new(m.clone());
    for p in m.paths() {
        assert!(p.is_dir());
    }
    drop(g); // destroys, asserts nothing left
    for p in m.paths() {
        assert!(!p.exists());
        assert!(p.parent().unwrap().is_dir(), "own cgroup kept");
    }
    // Nothing of this test anywhere at the top of a hierarchy either.
    for mp in common::cgroup_mountpoints() {
        assert!(!mp.join(rel).exists());
    }
}
