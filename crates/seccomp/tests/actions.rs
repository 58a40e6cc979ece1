//! Every action, argument filters, flags and the ENOSYS stub, checked from
//! inside a forked child after `Program::install` (no root needed: the child
//! sets `no_new_privs` first).

mod common;

use berth_seccomp::{Error, InstallError, Program, enosys};
use common::{Exit, profile, raw, run_in_child, set_no_new_privs};
use rustix::io::Errno;

const EXDEV: i64 = libc::EXDEV as i64;
const EPERM: i64 = libc::EPERM as i64;
const ENOSYS: i64 = libc::ENOSYS as i64;

fn compile(json: &str) -> Program {
    Program::compile(&profile(json)).unwrap_or_else(|e| panic!("compile: {e}\n{json}"))
}

/// Installs `p` in the child, reporting 0 or the negated errno first.
fn install(r: &common::Reporter, p: &Program) {
    set_no_new_privs();
    r.push(match p.install() {
        Ok(_) => 0,
        Err(Error::Install(InstallError::SetModeFilter { source, .. })) => {
            -i64::from(source.raw_os_error())
        }
        Err(_) => -1,
    });
}

fn uname() -> i64 {
    let mut buf = std::mem::MaybeUninit::<libc::utsname>::uninit();
    raw(libc::SYS_uname, [buf.as_mut_ptr() as u64, 0, 0])
}

#[test]
fn errno_rules_return_their_errno_or_eperm() {
    let p = compile(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
            {"names":["uname"],"action":"SCMP_ACT_ERRNO","errnoRet":18},
            {"names":["getppid"],"action":"SCMP_ACT_ERRNO"}]}"#,
    );
    let res = run_in_child(|r| {
        install(r, &p);
        r.push(uname());
        r.push(raw(libc::SYS_getppid, [0; 3]));
        r.push(raw(libc::SYS_getpid, [0; 3]));
    });
    assert_eq!(res.exit, Exit::Code(0));
    assert_eq!(res.values[..3], [0, -EXDEV, -EPERM]);
    assert!(
        res.values[3] > 0,
        "getpid must still work: {:?}",
        res.values
    );
}

#[test]
fn default_errno_ret_applies_to_unlisted_syscalls() {
    // getrandom (318) raises the profile's largest syscall so that getppid
    // (110) and tkill (200) are below it: they get the default action, not
    // the ENOSYS stub.
    let p = compile(
        r#"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":18,"syscalls":[
            {"names":["write","exit","exit_group","getpid","getrandom"],"action":"SCMP_ACT_ALLOW"}]}"#,
    );
    let res = run_in_child(|r| {
        install(r, &p);
        r.push(raw(libc::SYS_getppid, [0; 3]));
        r.push(raw(libc::SYS_tkill, [0, 0, 0]));
        r.push(raw(libc::SYS_getpid, [0; 3]));
    });
    assert_eq!(res.exit, Exit::Code(0));
    assert_eq!(res.values[..3], [0, -EXDEV, -EXDEV]);
    assert!(res.values[3] > 0, "{:?}", res.values);
}

#[test]
fn an_argument_filter_allows_only_the_matching_call() {
    // personality(0xffffffff) only queries the persona.
    let p = compile(
        r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
            {"names":["write","exit","exit_group"],"action":"SCMP_ACT_ALLOW"},
            {"names":["personality"],"action":"SCMP_ACT_ALLOW",
             "args":[{"index":0,"value":4294967295,"op":"SCMP_CMP_EQ"}]}]}"#,
    );
    let res = run_in_child(|r| {
        install(r, &p);
        r.push(raw(libc::SYS_personality, [0xffff_ffff, 0, 0]));
        r.push(raw(libc::SYS_personality, [0, 0, 0]));
        r.push(raw(libc::SYS_personality, [8, 0, 0]));
    });
    assert_eq!(res.exit, Exit::Code(0));
    assert_eq!(res.values[0], 0);
    assert!(
        res.values[1] >= 0,
        "query must be allowed: {:?}",
        res.values
    );
    assert_eq!(res.values[2..], [-EPERM, -EPERM]);
}

/// getpriority(which, who) is harmless and fails with EINVAL/ESRCH by itself
/// for odd arguments, so -EXDEV can only come from the filter.
fn getpriority(which: u64, who: u64) -> i64 {
    raw(libc::SYS_getpriority, [which, who, 0])
}

#[test]
fn masked_eq_compares_under_the_mask() {
    // value is the mask, valueTwo the datum (as Docker's clone rule uses it).
    let p = compile(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
            {"names":["getpriority"],"action":"SCMP_ACT_ERRNO","errnoRet":18,
             "args":[{"index":0,"value":240,"valueTwo":16,"op":"SCMP_CMP_MASKED_EQ"}]}]}"#,
    );
    let res = run_in_child(|r| {
        install(r, &p);
        for which in [0x10, 0x13, 0x1f, 0x03, 0x20, 0x110] {
            r.push(getpriority(which, 0));
        }
    });
    assert_eq!(res.exit, Exit::Code(0));
    let filtered: Vec<bool> = res.values[1..].iter().map(|&v| v == -EXDEV).collect();
    assert_eq!(
        filtered,
        [true, true, true, false, false, true],
        "{:?}",
        res.values
    );
}

#[test]
fn conditions_on_distinct_arguments_are_anded() {
    let p = compile(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
            {"names":["getpriority"],"action":"SCMP_ACT_ERRNO","errnoRet":18,
             "args":[{"index":0,"value":0,"op":"SCMP_CMP_EQ"},
                     {"index":1,"value":32767,"op":"SCMP_CMP_EQ"}]}]}"#,
    );
    let res = run_in_child(|r| {
        install(r, &p);
        r.push(getpriority(0, 32767));
        r.push(getpriority(0, 0));
        r.push(getpriority(1, 32767));
    });
    assert_eq!(res.exit, Exit::Code(0));
    assert_eq!(res.values[1], -EXDEV);
    assert!(res.values[2] >= 0, "{:?}", res.values);
    assert_ne!(res.values[3], -EXDEV, "{:?}", res.values);
}

#[test]
fn conditions_on_the_same_argument_are_ored() {
    let p = compile(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
            {"names":["getpriority"],"action":"SCMP_ACT_ERRNO","errnoRet":18,
             "args":[{"index":0,"value":1,"op":"SCMP_CMP_EQ"},
                     {"index":0,"value":2,"op":"SCMP_CMP_EQ"}]}]}"#,
    );
    let res = run_in_child(|r| {
        install(r, &p);
        r.push(getpriority(1, 0));
        r.push(getpriority(2, 0));
        r.push(getpriority(0, 0));
    });
    assert_eq!(res.exit, Exit::Code(0));
    assert_eq!(res.values[1..3], [-EXDEV, -EXDEV]);
    assert!(res.values[3] >= 0, "{:?}", res.values);
}

#[test]
fn every_comparison_operator() {
    // who (argument 1) compared with 100; called with who = 99, 100, 101.
    let cases = [
        ("SCMP_CMP_NE", [true, false, true]),
        ("SCMP_CMP_LT", [true, false, false]),
        ("SCMP_CMP_LE", [true, true, false]),
        ("SCMP_CMP_EQ", [false, true, false]),
        ("SCMP_CMP_GE", [false, true, true]),
        ("SCMP_CMP_GT", [false, false, true]),
    ];
    for (op, want) in cases {
        let p = compile(&format!(
            r#"{{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
                {{"names":["getpriority"],"action":"SCMP_ACT_ERRNO","errnoRet":18,
                 "args":[{{"index":1,"value":100,"op":"{op}"}}]}}]}}"#
        ));
        let res = run_in_child(|r| {
            install(r, &p);
            for who in [99, 100, 101] {
                r.push(getpriority(0, who));
            }
        });
        assert_eq!(res.exit, Exit::Code(0), "{op}");
        let got: Vec<bool> = res.values[1..].iter().map(|&v| v == -EXDEV).collect();
        assert_eq!(got, want, "{op}: {:?}", res.values);
    }
}

#[test]
fn kill_actions_end_the_process_with_sigsys() {
    for action in [
        "SCMP_ACT_KILL_PROCESS",
        "SCMP_ACT_KILL_THREAD",
        "SCMP_ACT_KILL",
    ] {
        let p = compile(&format!(
            r#"{{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
                {{"names":["uname"],"action":"{action}"}}]}}"#
        ));
        let res = run_in_child(|r| {
            install(r, &p);
            r.push(1);
            uname();
            r.push(2);
        });
        assert_eq!(res.exit, Exit::Signal(libc::SIGSYS), "{action}");
        assert_eq!(res.values, [0, 1], "{action}: nothing runs after the call");
    }
    // KILL_PROCESS and KILL (= KILL_THREAD) return different values.
    let ret = |action: &str| {
        compile(&format!(
            r#"{{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{{"names":["uname"],"action":"{action}"}}]}}"#
        ))
        .instructions()
        .iter()
        .filter(|i| i.code == 0x06)
        .map(|i| i.k)
        .collect::<Vec<_>>()
    };
    assert!(ret("SCMP_ACT_KILL_PROCESS").contains(&0x8000_0000));
    assert!(ret("SCMP_ACT_KILL").contains(&0));
    assert!(!ret("SCMP_ACT_KILL").contains(&0x8000_0000));
}

static TRAPPED: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);

extern "C" fn on_sigsys(_sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo; for SIGSYS the layout is
    // si_signo, si_errno, si_code, then at offset 24 `int si_syscall`.
    let (code, nr) = unsafe {
        (
            (*info).si_code,
            *(info as *const u8).add(24).cast::<libc::c_int>(),
        )
    };
    TRAPPED.store(
        i64::from(code) << 32 | i64::from(nr),
        std::sync::atomic::Ordering::SeqCst,
    );
}

#[test]
fn trap_delivers_sigsys_with_the_syscall_number() {
    let p = compile(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
            {"names":["uname"],"action":"SCMP_ACT_TRAP"}]}"#,
    );
    let res = run_in_child(|r| {
        // SAFETY: installs a plain handler for SIGSYS with a zeroed sigaction.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_sigsys as *const () as usize;
            sa.sa_flags = libc::SA_SIGINFO;
            libc::sigaction(libc::SIGSYS, &sa, std::ptr::null_mut());
        }
        install(r, &p);
        uname();
        r.push(TRAPPED.load(std::sync::atomic::Ordering::SeqCst));
    });
    assert_eq!(res.exit, Exit::Code(0));
    const SYS_SECCOMP: i64 = 1;
    assert_eq!(res.values, [0, SYS_SECCOMP << 32 | libc::SYS_uname]);
}

#[test]
fn log_and_allow_let_the_call_through() {
    let p = compile(
        r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
            {"names":["write","exit","exit_group","getpid"],"action":"SCMP_ACT_ALLOW"},
            {"names":["uname"],"action":"SCMP_ACT_LOG"}]}"#,
    );
    assert!(
        p.instructions()
            .iter()
            .any(|i| i.code == 0x06 && i.k == 0x7ffc_0000)
    );
    let res = run_in_child(|r| {
        install(r, &p);
        r.push(uname());
        r.push(raw(libc::SYS_getpid, [0; 3]));
        r.push(raw(libc::SYS_getppid, [0; 3]));
    });
    assert_eq!(res.exit, Exit::Code(0));
    assert_eq!(res.values[..2], [0, 0]);
    assert!(res.values[2] > 0);
    assert_eq!(res.values[3], -EPERM);
}

#[test]
fn trace_without_a_tracer_is_enosys() {
    let p = compile(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
            {"names":["uname"],"action":"SCMP_ACT_TRACE","errnoRet":7}]}"#,
    );
    assert!(
        p.instructions()
            .iter()
            .any(|i| i.code == 0x06 && i.k == 0x7ff0_0007)
    );
    let res = run_in_child(|r| {
        install(r, &p);
        r.push(uname());
    });
    assert_eq!(res.exit, Exit::Code(0));
    assert_eq!(res.values, [0, -ENOSYS]);
}

#[test]
fn syscalls_above_the_profiles_largest_get_enosys() {
    // Largest listed: getrandom (318). tkill (200) is unlisted but below it.
    let json = r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
        {"names":["write","exit","exit_group","getpid","getrandom"],"action":"SCMP_ACT_ALLOW"}]}"#;
    let p = compile(json);
    let res = run_in_child(|r| {
        install(r, &p);
        r.push(raw(libc::SYS_tkill, [0, 0, 0]));
        r.push(raw(libc::SYS_clone3, [0, 0, 0]));
        r.push(raw(libc::SYS_pidfd_open, [0, 0, 0]));
        r.push(raw(1000, [0, 0, 0]));
        r.push(raw(libc::SYS_getpid, [0; 3]));
    });
    assert_eq!(res.exit, Exit::Code(0));
    assert_eq!(res.values[..5], [0, -EPERM, -ENOSYS, -ENOSYS, -ENOSYS]);
    assert!(res.values[5] > 0);

    let returns_enosys = |p: &Program| {
        p.instructions()
            .iter()
            .any(|i| i.code == 0x06 && i.k == enosys::RET_ENOSYS)
    };
    assert!(returns_enosys(&p));
    // A permissive default gets no stub.
    let allow = compile(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
            {"names":["uname"],"action":"SCMP_ACT_ERRNO"}]}"#,
    );
    assert!(!returns_enosys(&allow));
}

#[test]
fn flags_are_passed_as_the_profile_says() {
    let spec_allow = 1 << 2;
    let cases: [(&str, u32); 4] = [
        ("", spec_allow), // runc's default: no `flags` field
        (r#","flags":[]"#, 0),
        (
            r#","flags":["SECCOMP_FILTER_FLAG_LOG","SECCOMP_FILTER_FLAG_TSYNC"]"#,
            0b11,
        ),
        (r#","flags":["SECCOMP_FILTER_FLAG_SPEC_ALLOW"]"#, spec_allow),
    ];
    for (flags, want) in cases {
        let p = compile(&format!(
            r#"{{"defaultAction":"SCMP_ACT_ALLOW"{flags},"syscalls":[
                {{"names":["uname"],"action":"SCMP_ACT_ERRNO"}}]}}"#
        ));
        assert_eq!(p.flags(), want, "{flags}");
        assert!(!p.needs_listener());
        let res = run_in_child(|r| {
            install(r, &p);
            r.push(raw(libc::SYS_prctl, [libc::PR_GET_SECCOMP as u64, 0, 0]));
            r.push(uname());
        });
        assert_eq!(res.exit, Exit::Code(0), "{flags}");
        assert_eq!(
            res.values,
            [0, 2, -EPERM],
            "{flags}: installed in filter mode"
        );
    }
}

#[test]
fn installing_needs_no_new_privs_or_cap_sys_admin() {
    let p = compile(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["uname"],"action":"SCMP_ACT_ERRNO"}]}"#,
    );
    let res = run_in_child(|r| {
        use rustix::thread::{CapabilitySet, capabilities, set_capabilities};
        let dropped = capabilities(None).and_then(|mut c| {
            c.effective.remove(CapabilitySet::SYS_ADMIN);
            set_capabilities(None, c)
        });
        r.push(i64::from(dropped.is_ok()));
        r.push(match p.install() {
            Ok(_) => 0,
            Err(Error::Install(InstallError::SetModeFilter { source, .. })) => {
                -i64::from(source.raw_os_error())
            }
            Err(_) => -1,
        });
        r.push(uname());
    });
    assert_eq!(res.exit, Exit::Code(0));
    assert_eq!(res.values, [1, -i64::from(Errno::ACCESS.raw_os_error()), 0]);
}

#[test]
fn a_decoded_program_installs_like_the_original() {
    let p = compile(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["uname"],"action":"SCMP_ACT_ERRNO","errnoRet":18}]}"#,
    );
    let q = Program::from_bytes(&p.to_bytes()).expect("decode");
    assert_eq!(p, q);
    let res = run_in_child(|r| {
        install(r, &q);
        r.push(uname());
    });
    assert_eq!(res.values, [0, -EXDEV]);
}
