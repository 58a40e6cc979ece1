//! Bad configurations are refused before anything is created, with an error
//! naming the field; failures half way through tear down everything made.

mod util;

use serde_json::{Value, json};
use util::*;

/// Create with a broken config: must fail mentioning every `needles`, and
/// leave no state, cgroup, mount or process behind.
fn refused(name: &str, needles: &[&str], edit: impl FnOnce(&mut Value)) {
    let rt = Runtime::new();
    let mut b = Bundle::busybox(&["true"]);
    b.edit(edit);
    let err = rt.fails(&["create", "--bundle", path(b.path()), name]);
    for n in needles {
        assert!(
            err.contains(n),
            "{name}: error does not mention {n:?}:\n{err}"
        );
    }
    assert!(
        rt.output(&["state", name])
            .stderr
            .ends_with(b"does not exist: ".as_slice())
            || !rt.output(&["state", name]).status.success(),
        "{name}: a container was left"
    );
    assert_clean(&b);
}

#[test]
fn malformed_configs_name_the_field() {
    if !require_root("malformed_configs_name_the_field") {
        return;
    }
    refused("ns-type", &["linux.namespaces[5].type", "bogus"], |c| {
        c["linux"]["namespaces"]
            .as_array_mut()
            .unwrap()
            .push(json!({"type": "bogus"}))
    });
    refused("ns-dup", &["linux.namespaces[5]", "listed twice"], |c| {
        c["linux"]["namespaces"]
            .as_array_mut()
            .unwrap()
            .push(json!({"type": "pid"}))
    });
    refused(
        "ns-path",
        &["linux.namespaces[1].path", "not a net namespace"],
        |c| c["linux"]["namespaces"][1] = json!({"type": "network", "path": "/proc/self/ns/uts"}),
    );
    refused("map-size", &["linux.uidMappings[0]", "size"], |c| {
        c["linux"]["namespaces"]
            .as_array_mut()
            .unwrap()
            .push(json!({"type": "user"}));
        c["linux"]["uidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 0}]);
        c["linux"]["gidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    });
    refused(
        "map-nouserns",
        &["linux.uidMappings", "user namespace"],
        |c| {
            c["linux"]["uidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 1}]);
        },
    );
    refused("root-escape", &["root.path", "outside the bundle"], |c| {
        c["root"]["path"] = "../../../../etc".into()
    });
    refused("root-missing", &["root.path"], |c| {
        c["root"]["path"] = "nosuchdir".into()
    });
    refused("mount-escape", &["mounts[7].destination", "outside"], |c| {
        c["mounts"].as_array_mut().unwrap().push(
            json!({"destination": "/../../etc/berth-evil", "type": "tmpfs", "source": "tmpfs"}),
        )
    });
    refused(
        "seccomp-action",
        &["linux.seccomp.defaultAction", "SCMP_ACT_BOGUS"],
        |c| c["linux"]["seccomp"] = json!({"defaultAction": "SCMP_ACT_BOGUS"}),
    );
    refused("seccomp-notify", &["linux.seccomp"], |c| {
        c["linux"]["seccomp"] = json!({"defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]})
    });
    refused("oci-version", &["ociVersion", "2.0.0"], |c| {
        c["ociVersion"] = "2.0.0".into()
    });
    // Above the kernel's maximum: nobody may have it.
    refused(
        "rlimit-max",
        &["process.rlimits[0]", "RLIMIT_NOFILE", "fs.nr_open"],
        |c| {
            c["process"]["rlimits"] =
                json!([{"type": "RLIMIT_NOFILE", "hard": 1u64 << 40, "soft": 1024}])
        },
    );
    // Above the runtime's own hard limit, which only CAP_SYS_RESOURCE may
    // raise (this development machine does not give it; the VM lane does).
    let hard = rustix::process::getrlimit(rustix::process::Resource::Nofile).maximum;
    let cap_eff = std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| {
            l.strip_prefix("CapEff:")
                .map(|h| u64::from_str_radix(h.trim(), 16).unwrap())
        })
        .unwrap();
    let cap_sys_resource = cap_eff & (1 << 24) != 0;
    match (cap_sys_resource, hard) {
        (false, Some(hard)) => refused(
            "rlimit",
            &["process.rlimits[0]", "RLIMIT_NOFILE", "CAP_SYS_RESOURCE"],
            |c| {
                c["process"]["rlimits"] =
                    json!([{"type": "RLIMIT_NOFILE", "hard": hard + 1, "soft": 1024}])
            },
        ),
        _ => eprintln!(
            "SKIP: rlimit above the runtime's hard limit: the runtime has CAP_SYS_RESOURCE here"
        ),
    }
    refused("rlimit-order", &["process.rlimits[0]", "soft"], |c| {
        c["process"]["rlimits"] = json!([{"type": "RLIMIT_NOFILE", "hard": 100, "soft": 200}])
    });
    // Without AppArmor (this machine) or with it but no such profile loaded
    // (the VM lane's Debian kernel): a clear error either way.
    let apparmor = berth_runtime::lsm::apparmor_enabled();
    refused(
        "apparmor",
        &[
            "process.apparmorProfile",
            if apparmor {
                "is not loaded"
            } else {
                "AppArmor is not enabled"
            },
        ],
        |c| c["process"]["apparmorProfile"] = "berth-test".into(),
    );
    refused("systemd", &["systemd"], |c| {
        c["linux"]["cgroupsPath"] = "system.slice:berth:x".into()
    });
    refused("memory-swap", &["linux.resources.memory"], |c| {
        c["linux"]["resources"]["memory"] = json!({"limit": 67108864, "swap": 1048576})
    });
    refused("sysctl", &["linux.sysctl.vm.swappiness"], |c| {
        c["linux"]["sysctl"] = json!({"vm.swappiness": "10"})
    });
    refused("hostname-no-uts", &["hostname", "UTS"], |c| {
        c["linux"]["namespaces"]
            .as_array_mut()
            .unwrap()
            .retain(|n| n["type"] != "uts")
    });
    refused("args", &["process.args"], |c| {
        c["process"]["args"] = json!([])
    });
    refused("cwd", &["process.cwd"], |c| {
        c["process"]["cwd"] = "relative/dir".into()
    });
    refused("hook-path", &["hooks.createRuntime[0].path"], |c| {
        c["hooks"] = json!({"createRuntime": [{"path": "relative/hook"}]})
    });
    refused("device-path", &["linux.devices[0].path"], |c| {
        c["linux"]["devices"] =
            json!([{"path": "dev/fuse", "type": "c", "major": 10, "minor": 229}])
    });
    refused("time-offsets", &["linux.timeOffsets"], |c| {
        c["linux"]["timeOffsets"] = json!({"monotonic": {"secs": 10}})
    });
}

#[test]
fn syntax_errors_give_the_position() {
    if !require_root("syntax_errors_give_the_position") {
        return;
    }
    let rt = Runtime::new();
    let b = Bundle::busybox(&["true"]);
    std::fs::write(
        b.path().join("config.json"),
        "{\"ociVersion\": \"1.2.0\",\n \"process\": [",
    )
    .unwrap();
    let err = rt.fails(&["create", "--bundle", path(b.path()), "syntax"]);
    assert!(
        err.contains("config.json") && err.contains("line 2"),
        "{err}"
    );
    assert_clean(&b);
}

/// A failure after the clone: everything made so far is torn down.
fn fails_half_way(name: &str, needles: &[&str], edit: impl FnOnce(&mut Value)) {
    let rt = Runtime::new();
    let mut b = Bundle::busybox(&["true"]);
    b.edit(edit);
    let err = rt.fails(&["create", "--bundle", path(b.path()), name]);
    for n in needles {
        assert!(
            err.contains(n),
            "{name}: error does not mention {n:?}:\n{err}"
        );
    }
    assert!(
        !rt.root.path().join(name).exists(),
        "{name}: state directory left"
    );
    assert_clean(&b);
    // No process of the failed container survives: none has the bundle's
    // rootfs as its root.
    let rootfs = b.rootfs();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(root) = std::fs::read_link(entry.path().join("root")) {
            assert_ne!(
                root,
                rootfs,
                "{name}: process {:?} still runs in the rootfs",
                entry.file_name()
            );
        }
    }
}

#[test]
fn failures_half_way_leave_nothing_behind() {
    if !require_root("failures_half_way_leave_nothing_behind") {
        return;
    }
    fails_half_way(
        "missing-exe",
        &["exec: \"no-such-program\": executable file not found in $PATH"],
        |c| c["process"]["args"] = json!(["no-such-program"]),
    );
    fails_half_way("bad-bind", &["mounts[7]", "/berth-no-such-source"], |c| {
        c["mounts"]
            .as_array_mut()
            .unwrap()
            .push(json!({"destination": "/data", "type": "bind",
            "source": "/berth-no-such-source", "options": ["rbind"]}))
    });
    fails_half_way("bad-mount-type", &["mounts[7]"], |c| {
        c["mounts"]
            .as_array_mut()
            .unwrap()
            .push(json!({"destination": "/x", "type": "berthfs", "source": "x"}))
    });
    fails_half_way(
        "hook",
        &["createRuntime hook #0", "exit status: 3", "boom"],
        |c| c["hooks"] = json!({"createRuntime": [{"path": "/bin/sh", "args": ["sh", "-c", "echo boom; exit 3"]}]}),
    );
    // A value only the kernel rejects (a CPU this machine does not have).
    fails_half_way("cpuset", &["cpus"], |c| {
        c["linux"]["resources"]["cpu"] = json!({"cpus": "63"})
    });
}
