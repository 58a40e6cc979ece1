//! Docker's real default profile (from Debian's golang-github-docker-docker-dev,
//! converted as dockerd does for default capabilities): it compiles, a normal
//! program still runs under it, privileged syscalls get EPERM, and compile
//! time versus cache-load + install time is printed.
//!
//! Skips loudly when the package is not installed.

mod common;

use std::{
    ffi::CString,
    time::{Duration, Instant},
};

use berth_seccomp::{Cache, CacheStatus, Program, enosys, unknown_syscalls, validate};
use common::{Exit, docker_profile, raw, run_in_child, set_no_new_privs};
use oci_spec::runtime::Arch;

const EPERM: i64 = libc::EPERM as i64;
const ENOSYS: i64 = libc::ENOSYS as i64;

#[test]
fn docker_default_profile_compiles_for_three_architectures() {
    let Some(s) = docker_profile::load() else {
        return;
    };
    assert_eq!(
        s.architectures().as_deref(),
        Some(&[Arch::ScmpArchX86_64, Arch::ScmpArchX86, Arch::ScmpArchX32][..])
    );
    let names: usize = s.syscalls().iter().flatten().map(|r| r.names().len()).sum();
    assert!(names > 300, "expected Docker's ~350 syscalls, got {names}");
    validate(&s).expect("Docker's profile is valid");
    let unknown = unknown_syscalls(&s);
    eprintln!("syscalls in Docker's profile unknown to libseccomp 2.5.4 (skipped): {unknown:?}");
    let p = Program::compile(&s).expect("compile");
    let maxima = enosys::max_syscalls(&s);
    eprintln!(
        "Docker's profile: {} BPF instructions, flags {:#x}, ENOSYS above {maxima:?}",
        p.instructions().len(),
        p.flags()
    );
    let max_of = |a| maxima.iter().find(|(x, _)| *x == a).map(|&(_, n)| n);
    // clone3 (435) is named, so it is below the x86_64 maximum: it gets
    // Docker's own ENOSYS rule, not the stub.
    assert!(max_of(Arch::ScmpArchX86_64).is_some_and(|m| m >= libc::SYS_clone3 as u32));
    assert!(max_of(Arch::ScmpArchX86).is_some());
    assert!(max_of(Arch::ScmpArchX32).is_some_and(|m| m & 0x4000_0000 != 0));
    assert!(!p.needs_listener());
}

#[test]
fn docker_default_profile_denies_privileged_syscalls() {
    let Some(s) = docker_profile::load() else {
        return;
    };
    let p = Program::compile(&s).expect("compile");
    let tmp = CString::new("/tmp").expect("cstr");
    let tmpfs = CString::new("tmpfs").expect("cstr");
    let key_type = CString::new("user").expect("cstr");
    let key_desc = CString::new("berth-test-key").expect("cstr");
    let res = run_in_child(|r| {
        if !common::install_or_report(r, &p) {
            return;
        }
        r.push(raw(libc::SYS_unshare, [libc::CLONE_NEWNS as u64, 0, 0]));
        r.push(raw(libc::SYS_unshare, [libc::CLONE_NEWUSER as u64, 0, 0]));
        // SAFETY: pointers to NUL-terminated strings owned by the test.
        r.push(unsafe {
            let rc = libc::syscall(
                libc::SYS_mount,
                tmpfs.as_ptr(),
                tmp.as_ptr(),
                tmpfs.as_ptr(),
                0,
                0,
            );
            if rc < 0 {
                -i64::from(*libc::__errno_location())
            } else {
                rc
            }
        });
        r.push(raw(libc::SYS_keyctl, [0, 0, 0]));
        // SAFETY: pointers to NUL-terminated strings owned by the test.
        r.push(unsafe {
            let rc = libc::syscall(
                libc::SYS_add_key,
                key_type.as_ptr(),
                key_desc.as_ptr(),
                std::ptr::null::<u8>(),
                0,
                libc::KEY_SPEC_PROCESS_KEYRING,
            );
            if rc < 0 {
                -i64::from(*libc::__errno_location())
            } else {
                rc
            }
        });
        r.push(raw(libc::SYS_reboot, [0, 0, 0]));
        r.push(raw(libc::SYS_personality, [1, 0, 0]));
        // Docker answers clone3 with ENOSYS itself (so glibc uses clone).
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
        "unshare(NS), unshare(USER), mount, keyctl, add_key, reboot, personality(1), clone3, 1000"
    );
    assert!(v[10] >= 0 && v[11] > 0, "{v:?}");
}

#[test]
fn a_normal_program_runs_under_docker_default_profile() {
    let Some(s) = docker_profile::load() else {
        return;
    };
    let p = Program::compile(&s).expect("compile");
    let script = r#"echo hello; ls / >/dev/null && echo ls-ok; /usr/bin/python3 -c "import threading, ctypes; t = threading.Thread(target=print, args=('thread-ok',)); t.start(); t.join(); libc = ctypes.CDLL(None, use_errno=True); print('unshare', libc.unshare(0x20000), ctypes.get_errno())"; grep ^Seccomp: /proc/self/status"#;
    let (res, out) = common::shell_under(&p, script);
    assert_eq!(res.values, [1], "installed, and exec did not fail");
    assert_eq!(res.exit, Exit::Code(0), "output:\n{out}");
    assert!(out.contains("hello\nls-ok\n"), "{out}");
    assert!(
        out.contains("thread-ok\nunshare -1 1\n"),
        "python's threads work (clone3 -> ENOSYS -> clone) and unshare gets EPERM:\n{out}"
    );
    assert!(out.contains("Seccomp:\t2"), "{out}");
}

fn mean(total: Duration, n: u32) -> Duration {
    total / n
}

#[test]
fn compile_versus_cache_load_and_install_time() {
    let Some(s) = docker_profile::load() else {
        return;
    };
    const N: u32 = 20;

    let start = Instant::now();
    for _ in 0..N {
        Program::compile(&s).expect("compile");
    }
    let compile = mean(start.elapsed(), N);

    let tmp = common::TestDir::new();
    let cache = Cache::new(tmp.path().join("seccomp"));
    let start = Instant::now();
    let (_, st) = cache.load_or_compile_with_status(&s).expect("miss");
    let miss = start.elapsed();
    assert_eq!(st, CacheStatus::Miss);

    let start = Instant::now();
    let mut p = None;
    for _ in 0..N {
        let (q, st) = cache.load_or_compile_with_status(&s).expect("hit");
        assert_eq!(st, CacheStatus::Hit);
        p = Some(q);
    }
    let hit = mean(start.elapsed(), N);
    let p = p.expect("program");

    let res = run_in_child(|r| {
        set_no_new_privs();
        let mut t0 = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        let mut t1 = t0;
        // SAFETY: clock_gettime writes into live timespecs.
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut t0) };
        let ok = p.install().is_ok();
        // SAFETY: as above.
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut t1) };
        r.push(i64::from(ok));
        r.push((t1.tv_sec - t0.tv_sec) * 1_000_000_000 + (t1.tv_nsec - t0.tv_nsec));
    });
    assert_eq!(res.values[0], 1, "installed");
    let install = Duration::from_nanos(res.values[1] as u64);
    eprintln!(
        "BENCH seccomp (Docker default profile, {} insns, debug={}): compile {compile:?}/profile; \
         cache miss (compile+store) {miss:?}; cache hit (read+verify+decode) {hit:?}; install {install:?}; \
         hit+install is {:.0}x faster than compile+install",
        p.instructions().len(),
        cfg!(debug_assertions),
        (compile + install).as_secs_f64() / (hit + install).as_secs_f64()
    );
    assert!(
        hit < compile,
        "a cache hit ({hit:?}) must beat compiling ({compile:?})"
    );
}
