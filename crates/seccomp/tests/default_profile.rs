//! Berth's built-in default profile: the same effective policy as Docker's
//! default profile (Debian's golang-github-docker-docker-dev, converted as
//! dockerd does) for many capability sets and two kernels, and it compiles,
//! installs and denies what it should in a real process.
//!
//! The comparison skips loudly when Docker's profile is not installed
//! (`scripts/fixtures` provides it); the kernel tests always run.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use berth_seccomp::{
    ALL_CAPABILITIES, DEFAULT_CAPABILITIES, KernelVersion, LinuxSeccomp, Program, default_profile,
    default_profile_for_kernel, enosys, unknown_syscalls, validate,
};
use common::{Exit, docker_profile, raw, run_in_child};
use oci_spec::runtime::{LinuxSeccompAction, LinuxSeccompArg};

const EPERM: i64 = libc::EPERM as i64;
const ENOSYS: i64 = libc::ENOSYS as i64;

/// Deliberate differences from Docker 20.10's profile: syscalls Berth
/// allows (unconditionally, any arguments) when the container has a
/// capability that Docker 20.10 ignores. Later moby releases allow the
/// same; without the capability, or with CAP_SYS_ADMIN (which allows both
/// anyway), the two profiles are identical.
const DELIBERATE: &[(&str, &str)] = &[
    // CAP_BPF (Linux 5.8) exists to grant bpf(2) without CAP_SYS_ADMIN.
    ("CAP_BPF", "bpf"),
    // CAP_PERFMON (Linux 5.8) likewise for perf_event_open(2).
    ("CAP_PERFMON", "perf_event_open"),
];

/// One rule's effect on one syscall: action, errno (`EPERM` when an ERRNO
/// rule has none, as this crate and runc use) and argument conditions.
type Effect = (String, Option<u32>, Vec<String>);

/// syscall name -> every effect a rule gives it (rules are deduplicated:
/// two identical rules are one).
type Effective = BTreeMap<String, BTreeSet<Effect>>;

fn action_name(a: LinuxSeccompAction) -> String {
    serde_json::to_value(a)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("{a:?}"))
}

fn errno_of(a: LinuxSeccompAction, errno: Option<u32>) -> Option<u32> {
    match a {
        LinuxSeccompAction::ScmpActErrno | LinuxSeccompAction::ScmpActTrace => {
            Some(errno.unwrap_or(libc::EPERM as u32))
        }
        _ => None,
    }
}

/// One condition; an absent `valueTwo` is 0 (the runtime-spec's default,
/// and what the compiler uses), so Docker's `clone` mask without one and
/// Berth's with an explicit 0 are the same condition.
fn arg(a: &LinuxSeccompArg) -> String {
    format!(
        "arg{} {:?} {:#x} {:#x}",
        a.index(),
        a.op(),
        a.value(),
        a.value_two().unwrap_or(0)
    )
}

/// The default action and errno, the architectures, the flags, and the
/// per-syscall effects.
fn effective(p: &LinuxSeccomp) -> (String, Effective) {
    let archs = p.architectures().clone().unwrap_or_default();
    let header = format!(
        "default {} errno {:?}; architectures {archs:?}; flags {:?}; listener {:?}",
        action_name(p.default_action()),
        errno_of(p.default_action(), p.default_errno_ret()),
        p.flags(),
        p.listener_path()
    );
    let mut map = Effective::new();
    for rule in p.syscalls().iter().flatten() {
        let mut args: Vec<String> = rule.args().iter().flatten().map(arg).collect();
        args.sort();
        let effect = (
            action_name(rule.action()),
            errno_of(rule.action(), rule.errno_ret()),
            args,
        );
        for name in rule.names() {
            map.entry(name.clone()).or_default().insert(effect.clone());
        }
    }
    (header, map)
}

/// Docker's effective policy plus the deliberate differences for `caps`.
fn docker_expected(
    docker: &serde_json::Value,
    caps: &[&str],
    kernel: (u64, u64),
) -> (String, Effective) {
    let (header, mut map) = effective(&docker_profile::for_caps(docker, caps, kernel));
    for &(cap, name) in DELIBERATE {
        if caps.contains(&cap) {
            map.entry(name.to_owned()).or_default().insert((
                "SCMP_ACT_ALLOW".to_owned(),
                None,
                Vec::new(),
            ));
        }
    }
    (header, map)
}

/// What differs, syscall by syscall, for a readable failure.
fn differences(berth: &Effective, docker: &Effective) -> Vec<String> {
    let names: BTreeSet<&String> = berth.keys().chain(docker.keys()).collect();
    let empty = BTreeSet::new();
    names
        .into_iter()
        .filter_map(|n| {
            let (b, d) = (
                berth.get(n).unwrap_or(&empty),
                docker.get(n).unwrap_or(&empty),
            );
            (b != d).then(|| {
                format!(
                    "{n}: berth {:?} docker {:?}",
                    b.difference(d).collect::<Vec<_>>(),
                    d.difference(b).collect::<Vec<_>>()
                )
            })
        })
        .collect()
}

fn owned(caps: &[&str]) -> Vec<String> {
    caps.iter().map(|c| (*c).to_owned()).collect()
}

#[test]
fn same_effective_policy_as_docker_for_every_capability_set() {
    let Some(docker) = docker_profile::load_json() else {
        return;
    };
    let with = |extra: &[&'static str]| {
        let mut c = DEFAULT_CAPABILITIES.to_vec();
        c.extend_from_slice(extra);
        c
    };
    let mut sets: Vec<(String, Vec<&str>)> = vec![
        ("Docker's default".into(), with(&[])),
        ("default + CAP_SYS_ADMIN".into(), with(&["CAP_SYS_ADMIN"])),
        (
            "default + CAP_SYS_PTRACE + CAP_SYS_TIME".into(),
            with(&["CAP_SYS_PTRACE", "CAP_SYS_TIME"]),
        ),
        (
            "default + CAP_BPF + CAP_PERFMON".into(),
            with(&["CAP_BPF", "CAP_PERFMON"]),
        ),
        ("all".into(), ALL_CAPABILITIES.to_vec()),
        ("none".into(), Vec::new()),
    ];
    sets.extend(
        ALL_CAPABILITIES
            .iter()
            .map(|&c| (format!("only {c}"), vec![c])),
    );

    let running = docker_profile::kernel_version();
    let mut failures = Vec::new();
    let mut compared = 0;
    for kernel in [running, (4, 4)] {
        let kv = KernelVersion {
            major: u32::try_from(kernel.0).expect("kernel major"),
            minor: u32::try_from(kernel.1).expect("kernel minor"),
        };
        for (what, caps) in &sets {
            let (bh, berth) = effective(&default_profile_for_kernel(&owned(caps), kv));
            let (dh, docker) = docker_expected(&docker, caps, kernel);
            if bh != dh {
                failures.push(format!(
                    "{what}, kernel {kernel:?}: berth {bh}\n  docker {dh}"
                ));
            }
            assert!(
                berth.len() > 300,
                "{what}: only {} syscalls in Berth's profile",
                berth.len()
            );
            let diff = differences(&berth, &docker);
            if !diff.is_empty() {
                failures.push(format!(
                    "{what}, kernel {kernel:?}:\n  {}",
                    diff.join("\n  ")
                ));
            }
            compared += 1;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    eprintln!("berth's default profile matches Docker's for {compared} capability sets/kernels");
}

#[test]
fn the_deliberate_differences_are_real() {
    // Guards the list above: if Docker's profile (or ours) changes so that a
    // listed difference no longer is one, the list must shrink.
    let Some(docker) = docker_profile::load_json() else {
        return;
    };
    let kernel = docker_profile::kernel_version();
    for &(cap, name) in DELIBERATE {
        let caps = [cap];
        let (_, theirs) = effective(&docker_profile::for_caps(&docker, &caps, kernel));
        assert!(
            !theirs.contains_key(name),
            "Docker allows {name} with {cap} now"
        );
        let (_, ours) = effective(&default_profile(&owned(&caps)));
        assert!(
            ours.contains_key(name),
            "Berth no longer allows {name} with {cap}"
        );
    }
}

#[test]
fn compiles_for_the_host_architectures_and_validates() {
    let p = default_profile(&owned(&DEFAULT_CAPABILITIES));
    validate(&p).expect("valid");
    eprintln!(
        "syscalls in Berth's default profile unknown to libseccomp (skipped): {:?}",
        unknown_syscalls(&p)
    );
    let prog = Program::compile(&p).expect("compile");
    assert!(!prog.needs_listener());
    let maxima = enosys::max_syscalls(&p);
    eprintln!(
        "Berth's default profile: {} BPF instructions, ENOSYS above {maxima:?}",
        prog.instructions().len()
    );
    if cfg!(target_arch = "x86_64") {
        assert_eq!(maxima.len(), 3, "x86_64, x86 and x32 get ENOSYS sections");
    }
}

#[test]
fn denies_privileged_syscalls_and_allows_ordinary_ones() {
    let p = Program::compile(&default_profile(&owned(&DEFAULT_CAPABILITIES))).expect("compile");
    let clone_user = (libc::CLONE_NEWUSER | libc::CLONE_FS) as u64 | libc::SIGCHLD as u64;
    let res = run_in_child(|r| {
        if !common::install_or_report(r, &p) {
            return;
        }
        r.push(raw(libc::SYS_unshare, [libc::CLONE_NEWUSER as u64, 0, 0]));
        r.push(raw(libc::SYS_unshare, [0, 0, 0]));
        // The filter answers before the kernel looks at the pointers.
        r.push(raw(libc::SYS_mount, [0, 0, 0]));
        r.push(raw(libc::SYS_keyctl, [0, 0, 0]));
        r.push(raw(libc::SYS_reboot, [0, 0, 0]));
        r.push(raw(libc::SYS_personality, [1, 0, 0]));
        // CLONE_NEWUSER|CLONE_FS: EINVAL from the kernel if it ever got
        // there, so no process can be created by this test.
        r.push(raw(libc::SYS_clone, [clone_user, 0, 0]));
        r.push(raw(libc::SYS_clone3, [0, 0, 0]));
        // Above every syscall the profile names: the ENOSYS stub.
        r.push(raw(1000, [0, 0, 0]));
        r.push(raw(libc::SYS_personality, [0xffff_ffff, 0, 0]));
        r.push(raw(libc::SYS_getpid, [0; 3]));
    });
    assert_eq!(res.exit, Exit::Code(0));
    let v = &res.values;
    assert_eq!(v[0], 1, "installed");
    assert_eq!(
        v[1..10],
        [
            -EPERM, -EPERM, -EPERM, -EPERM, -EPERM, -EPERM, -EPERM, -ENOSYS, -ENOSYS
        ],
        "unshare(USER), unshare(0), mount, keyctl, reboot, personality(1), \
         clone(NEWUSER), clone3, syscall 1000"
    );
    assert!(v[10] >= 0 && v[11] > 0, "personality query, getpid: {v:?}");
}

#[test]
fn cap_sys_admin_opens_namespaces_and_mounts() {
    let mut caps = owned(&DEFAULT_CAPABILITIES);
    caps.push("CAP_SYS_ADMIN".into());
    let p = Program::compile(&default_profile(&caps)).expect("compile");
    let res = run_in_child(|r| {
        if !common::install_or_report(r, &p) {
            return;
        }
        // unshare(0) does nothing and succeeds once the filter allows it.
        r.push(raw(libc::SYS_unshare, [0, 0, 0]));
        // mount(NULL, NULL, NULL): EFAULT from the kernel, not EPERM.
        r.push(raw(libc::SYS_mount, [0, 0, 0]));
        r.push(raw(libc::SYS_keyctl, [0, 0, 0]));
    });
    assert_eq!(res.exit, Exit::Code(0));
    assert_eq!(res.values[0], 1, "installed");
    assert_eq!(res.values[1], 0, "unshare(0): {:?}", res.values);
    assert_eq!(res.values[2], -(libc::EFAULT as i64), "{:?}", res.values);
    assert_eq!(
        res.values[3], -EPERM,
        "keyctl needs more than CAP_SYS_ADMIN"
    );
}

#[test]
fn a_shell_runs_under_the_default_profile() {
    let p = Program::compile(&default_profile(&owned(&DEFAULT_CAPABILITIES))).expect("compile");
    let script = "echo hello; (echo from-a-subshell); ls / >/dev/null && echo ls-ok; \
                  unshare -U true 2>/dev/null || echo unshare-denied; \
                  grep ^Seccomp: /proc/self/status";
    let (res, out) = common::shell_under(&p, script);
    assert_eq!(res.values, [1], "installed, and exec did not fail");
    assert_eq!(res.exit, Exit::Code(0), "output:\n{out}");
    assert_eq!(
        out, "hello\nfrom-a-subshell\nls-ok\nunshare-denied\nSeccomp:\t2\n",
        "{out}"
    );
}
