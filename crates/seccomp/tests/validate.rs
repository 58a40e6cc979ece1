//! `validate()`: each semantic problem is refused with a message naming the
//! JSON field, and is an "invalid" error; sound profiles pass.

mod common;

use berth_seccomp::{Error, ErrorKind, Problem, Program, validate};
use common::profile;

#[track_caller]
fn refused(json: &str, message: &str) -> Problem {
    let e = validate(&profile(json)).expect_err("profile should be refused");
    assert_eq!(e.to_string(), message);
    assert_eq!(e.kind(), ErrorKind::Invalid);
    // compile() validates too, with the same error.
    let c = Program::compile(&profile(json)).expect_err("compile should refuse it too");
    assert_eq!(c.to_string(), message);
    match e {
        Error::Invalid(v) => v.problem,
        other => panic!("not a validation error: {other:?}"),
    }
}

#[test]
fn errno_on_an_action_without_one() {
    refused(
        r#"{"defaultAction":"SCMP_ACT_KILL","defaultErrnoRet":1}"#,
        "linux.seccomp.defaultErrnoRet: set, but the action is SCMP_ACT_KILL: only SCMP_ACT_ERRNO and \
         SCMP_ACT_TRACE take an errno",
    );
    refused(
        r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
            {"names":["read"],"action":"SCMP_ACT_ALLOW"},
            {"names":["write"],"action":"SCMP_ACT_ALLOW"},
            {"names":["close"],"action":"SCMP_ACT_ALLOW"},
            {"names":["uname"],"action":"SCMP_ACT_LOG","errnoRet":5}]}"#,
        "linux.seccomp.syscalls[3].errnoRet: set, but the action is SCMP_ACT_LOG: only SCMP_ACT_ERRNO \
         and SCMP_ACT_TRACE take an errno",
    );
}

#[test]
fn errno_values_out_of_range() {
    refused(
        r#"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":4096}"#,
        "linux.seccomp.defaultErrnoRet: 4096 is not an errno: SCMP_ACT_ERRNO values range from 0 to 4095",
    );
    refused(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
            {"names":["uname"],"action":"SCMP_ACT_TRACE","errnoRet":65536}]}"#,
        "linux.seccomp.syscalls[0].errnoRet: 65536 does not fit in the 16 bits SCMP_ACT_TRACE passes to \
         the tracer",
    );
}

#[test]
fn notify_restrictions() {
    refused(
        r#"{"defaultAction":"SCMP_ACT_NOTIFY","listenerPath":"/run/agent.sock"}"#,
        "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action: the container \
         process could not hand its listener fd to the runtime",
    );
    refused(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","listenerPath":"/run/agent.sock","syscalls":[
            {"names":["openat","write"],"action":"SCMP_ACT_NOTIFY"}]}"#,
        "linux.seccomp.syscalls[0].names[1]: \"write\" cannot use SCMP_ACT_NOTIFY: the container process \
         needs it to hand its listener fd to the runtime",
    );
    refused(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
            {"names":["uname"],"action":"SCMP_ACT_ERRNO"},
            {"names":["openat"],"action":"SCMP_ACT_NOTIFY"}]}"#,
        "linux.seccomp.listenerPath: required: syscalls[1] uses SCMP_ACT_NOTIFY",
    );
    refused(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","listenerPath":""}"#,
        "linux.seccomp.listenerPath: is empty",
    );
    let long = format!("/{}", "a".repeat(120));
    refused(
        &format!(r#"{{"defaultAction":"SCMP_ACT_ALLOW","listenerPath":"{long}"}}"#),
        "linux.seccomp.listenerPath: 121 bytes is longer than a unix socket address allows (108)",
    );
    refused(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","flags":["SECCOMP_FILTER_FLAG_LOG",
            "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]}"#,
        "linux.seccomp.flags[1]: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV only applies to SCMP_ACT_NOTIFY \
         rules, and the profile has none",
    );
}

#[test]
fn architectures_libseccomp_cannot_build() {
    // libseccomp 2.5.4 predates LoongArch, M68K and SuperH.
    let p = refused(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_LOONGARCH64"]}"#,
        "linux.seccomp.architectures[1]: SCMP_ARCH_LOONGARCH64 is not supported by libseccomp 2.5.4",
    );
    assert!(matches!(p, Problem::ArchUnsupported { .. }));
}

#[test]
fn names_and_arguments() {
    refused(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":[],"action":"SCMP_ACT_ERRNO"}]}"#,
        "linux.seccomp.syscalls[0].names: must name at least one syscall",
    );
    refused(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["uname",""],"action":"SCMP_ACT_ERRNO"}]}"#,
        "linux.seccomp.syscalls[0].names[1]: is empty",
    );
    let arg = |a: &str| {
        format!(
            r#"{{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
                {{"names":["uname"],"action":"SCMP_ACT_ERRNO"}},
                {{"names":["personality"],"action":"SCMP_ACT_ERRNO","args":[
                    {{"index":0,"value":1,"op":"SCMP_CMP_EQ"}},
                    {{"index":1,"value":1,"op":"SCMP_CMP_EQ"}},
                    {a}]}}]}}"#
        )
    };
    refused(
        &arg(r#"{"index":6,"value":1,"op":"SCMP_CMP_EQ"}"#),
        "linux.seccomp.syscalls[1].args[2].index: argument index 6 is out of range: syscalls have 6 \
         arguments (0 to 5)",
    );
    refused(
        &arg(r#"{"index":2,"value":1,"valueTwo":5,"op":"SCMP_CMP_GT"}"#),
        "linux.seccomp.syscalls[1].args[2].op: SCMP_CMP_GT ignores valueTwo (5); only SCMP_CMP_MASKED_EQ \
         uses it",
    );
    refused(
        &arg(r#"{"index":2,"value":240,"valueTwo":257,"op":"SCMP_CMP_MASKED_EQ"}"#),
        "linux.seccomp.syscalls[1].args[2].op: SCMP_CMP_MASKED_EQ can never match: valueTwo 0x101 has bits \
         outside the mask (value) 0xf0",
    );
}

#[test]
fn sound_profiles_pass() {
    for json in [
        r#"{"defaultAction":"SCMP_ACT_ALLOW"}"#,
        // Docker writes valueTwo 0 on plain comparisons.
        r#"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":1,
            "architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X32","SCMP_ARCH_NATIVE"],
            "flags":["SECCOMP_FILTER_FLAG_SPEC_ALLOW","SECCOMP_FILTER_FLAG_LOG","SECCOMP_FILTER_FLAG_TSYNC"],
            "syscalls":[
              {"names":["personality"],"action":"SCMP_ACT_ALLOW",
               "args":[{"index":0,"value":0,"valueTwo":0,"op":"SCMP_CMP_EQ"}]},
              {"names":["clone"],"action":"SCMP_ACT_ALLOW",
               "args":[{"index":0,"value":2114060288,"valueTwo":0,"op":"SCMP_CMP_MASKED_EQ"}]},
              {"names":["clone3"],"action":"SCMP_ACT_ERRNO","errnoRet":38},
              {"names":["ptrace"],"action":"SCMP_ACT_TRACE","errnoRet":65535},
              {"names":["no_such_syscall_in_any_table"],"action":"SCMP_ACT_ALLOW"}]}"#,
        r#"{"defaultAction":"SCMP_ACT_ALLOW","listenerPath":"/run/agent.sock",
            "flags":["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"],
            "syscalls":[{"names":["openat","read"],"action":"SCMP_ACT_NOTIFY"}]}"#,
    ] {
        validate(&profile(json)).unwrap_or_else(|e| panic!("{e}\n{json}"));
        Program::compile(&profile(json)).unwrap_or_else(|e| panic!("{e}\n{json}"));
    }
}

#[test]
fn unknown_syscall_names_are_skipped_and_listed() {
    let s = profile(
        r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
            {"names":["read","berth_future_syscall","write"],"action":"SCMP_ACT_ALLOW"},
            {"names":["berth_future_syscall","socketcall"],"action":"SCMP_ACT_ALLOW"}]}"#,
    );
    // socketcall does not exist on x86_64 but libseccomp knows it (i386).
    assert_eq!(
        berth_seccomp::unknown_syscalls(&s),
        ["berth_future_syscall"]
    );
    Program::compile(&s).expect("unknown names are not an error");
}

#[test]
fn unknown_enum_strings_never_parse() {
    // The spec's enums are closed: oci_spec refuses these before validate().
    for json in [
        r#"{"defaultAction":"SCMP_ACT_FOO"}"#,
        r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_VAX"]}"#,
        r#"{"defaultAction":"SCMP_ACT_ALLOW","flags":["SECCOMP_FILTER_FLAG_FOO"]}"#,
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["uname"],"action":"SCMP_ACT_ERRNO",
            "args":[{"index":0,"value":0,"op":"SCMP_CMP_FOO"}]}]}"#,
    ] {
        assert!(
            serde_json::from_str::<berth_seccomp::LinuxSeccomp>(json).is_err(),
            "{json}"
        );
    }
}
