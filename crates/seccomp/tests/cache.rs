//! The on-disk program cache: miss, hit, corruption and truncation detected
//! and repaired, permissions, atomic replacement and stale temp files.

mod common;

use std::{fs, os::unix::fs::PermissionsExt, path::Path};

use berth_seccomp::{Cache, CacheStatus, DecodeError, ErrorKind, Program};
use common::profile;

const PROFILE: &str = r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
    {"names":["read","write","exit_group","getrandom"],"action":"SCMP_ACT_ALLOW"},
    {"names":["personality"],"action":"SCMP_ACT_ALLOW",
     "args":[{"index":0,"value":4294967295,"op":"SCMP_CMP_EQ"}]}]}"#;

fn mode(p: &Path) -> u32 {
    fs::metadata(p).expect("stat").permissions().mode() & 0o7777
}

fn status_of(cache: &Cache, json: &str) -> (Program, CacheStatus) {
    cache
        .load_or_compile_with_status(&profile(json))
        .expect("load_or_compile")
}

#[test]
fn miss_then_hit_gives_the_compiled_program() {
    let tmp = common::TestDir::new();
    let dir = tmp.path().join("nested/seccomp");
    let cache = Cache::new(&dir);
    let s = profile(PROFILE);
    let compiled = Program::compile(&s).expect("compile");

    let (p, st) = status_of(&cache, PROFILE);
    assert_eq!(st, CacheStatus::Miss);
    assert_eq!(p, compiled);
    assert_eq!(mode(&dir), 0o700, "cache directory is private");
    let entry = cache.entry_path(&s).expect("entry path");
    assert_eq!(entry.parent(), Some(dir.as_path()));
    assert_eq!(mode(&entry), 0o600);
    assert_eq!(fs::read(&entry).expect("entry"), compiled.to_bytes());

    let (p, st) = status_of(&cache, PROFILE);
    assert_eq!(st, CacheStatus::Hit);
    assert_eq!(p, compiled);
    // Only the entry: no temp file left behind.
    let names: Vec<_> = fs::read_dir(&dir)
        .expect("readdir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
}

#[test]
fn different_profiles_get_different_entries() {
    let tmp = common::TestDir::new();
    let cache = Cache::new(tmp.path());
    let other = PROFILE.replace("getrandom", "getpid");
    let a = cache.entry_path(&profile(PROFILE)).expect("path");
    let b = cache.entry_path(&profile(&other)).expect("path");
    assert_ne!(a, b);
    assert_eq!(status_of(&cache, PROFILE).1, CacheStatus::Miss);
    assert_eq!(status_of(&cache, &other).1, CacheStatus::Miss);
    assert_eq!(status_of(&cache, PROFILE).1, CacheStatus::Hit);
    // The same profile written differently (whitespace, key order) is the
    // same entry: the key is over the canonical serialization.
    let reordered = r#"{"syscalls":[
        {"action":"SCMP_ACT_ALLOW","names":["read","write","exit_group","getrandom"]},
        {"action":"SCMP_ACT_ALLOW","names":["personality"],
         "args":[{"op":"SCMP_CMP_EQ","value":4294967295,"index":0}]}],
        "defaultAction":"SCMP_ACT_ERRNO"}"#;
    assert_eq!(status_of(&cache, reordered).1, CacheStatus::Hit);
}

#[test]
fn a_corrupted_or_truncated_entry_is_recompiled_and_replaced() {
    let tmp = common::TestDir::new();
    let cache = Cache::new(tmp.path());
    let s = profile(PROFILE);
    let good = Program::compile(&s).expect("compile").to_bytes();
    let entry = cache.entry_path(&s).expect("path");
    assert_eq!(status_of(&cache, PROFILE).1, CacheStatus::Miss);

    let mut flipped = good.clone();
    flipped[40] ^= 0x80; // inside the instructions
    type Expect = fn(&DecodeError) -> bool;
    let damages: [(&str, Vec<u8>, Expect); 5] = [
        ("bit flip", flipped, |e| *e == DecodeError::Checksum),
        ("truncated", good[..good.len() - 9].to_vec(), |e| {
            matches!(e, DecodeError::Length { .. })
        }),
        ("empty", Vec::new(), |e| {
            matches!(e, DecodeError::TooShort { len: 0 })
        }),
        (
            "garbage",
            b"#!/bin/sh\necho this is not a program at all\n".repeat(4),
            |e| *e == DecodeError::BadMagic,
        ),
        ("huge", vec![0u8; 1 << 20], |e| {
            matches!(e, DecodeError::BadMagic)
        }),
    ];
    for (what, bytes, expected) in damages {
        fs::write(&entry, &bytes).expect("damage entry");
        let (p, st) = status_of(&cache, PROFILE);
        match &st {
            CacheStatus::Replaced(e) => assert!(expected(e), "{what}: {e}"),
            other => panic!("{what}: expected Replaced, got {other:?}"),
        }
        assert_eq!(p.to_bytes(), good, "{what}: recompiled program");
        assert_eq!(
            fs::read(&entry).expect("entry"),
            good,
            "{what}: entry repaired"
        );
        assert_eq!(status_of(&cache, PROFILE).1, CacheStatus::Hit, "{what}");
    }
}

#[test]
fn an_invalid_profile_is_refused_and_not_cached() {
    let tmp = common::TestDir::new();
    let cache = Cache::new(tmp.path().join("c"));
    let bad = r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
        {"names":["uname"],"action":"SCMP_ACT_ALLOW","errnoRet":1}]}"#;
    let e = cache.load_or_compile(&profile(bad)).expect_err("invalid");
    assert_eq!(e.kind(), ErrorKind::Invalid);
    assert!(
        !tmp.path().join("c").exists(),
        "nothing created for an invalid profile"
    );
}

#[test]
fn stale_temp_files_of_dead_writers_are_removed_on_a_miss() {
    let tmp = common::TestDir::new();
    let cache = Cache::new(tmp.path());
    // pid_max is at most 2^22, so this writer cannot be alive.
    let dead = tmp.path().join(".abc.bpf.99999999.0.tmp");
    let alive = tmp
        .path()
        .join(format!(".abc.bpf.{}.7.tmp", std::process::id()));
    let unrelated = tmp.path().join("notes.txt");
    for p in [&dead, &alive, &unrelated] {
        fs::write(p, b"x").expect("write");
    }
    assert_eq!(status_of(&cache, PROFILE).1, CacheStatus::Miss);
    assert!(!dead.exists(), "dead writer's temp file removed");
    assert!(alive.exists(), "a live writer's temp file is left alone");
    assert!(unrelated.exists());
}

#[test]
fn an_unwritable_cache_is_an_error_naming_the_path() {
    let tmp = common::TestDir::new();
    // A regular file where the directory should be.
    let file = tmp.path().join("not-a-dir");
    fs::write(&file, b"").expect("write");
    let e = Cache::new(&file)
        .load_or_compile(&profile(PROFILE))
        .expect_err("cannot use a file as the cache dir");
    assert_eq!(e.kind(), ErrorKind::Other);
    assert!(e.to_string().contains("not-a-dir"), "{e}");
}
