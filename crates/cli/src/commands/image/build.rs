//! `berth build`: the classic builder's client, as `DOCKER_BUILDKIT=0
//! docker build` is. The context directory is sent as a tar (owners 0:0,
//! modes and times kept) without what `.dockerignore` excludes (but always
//! with the Dockerfile and `.dockerignore`, which the daemon drops when
//! they are excluded); a Dockerfile outside the context travels inside it
//! under a random `.dockerfile.*` name, listed in `.dockerignore`. `-`
//! reads a tar or a Dockerfile from stdin; a URL is passed to the daemon
//! as `remote`. Output: `Sending build context to Berth daemon` (docker's
//! line with berth's name, as the CLI's other messages), then the
//! daemon's stream; `-q` prints only the image ID (and the held output on
//! failure); a failed step exits with its code.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use berth_build::dockerignore::{self, Pattern};

use crate::app::App;
use crate::cli::{BuildArgs, Usage};
use crate::client::{Body, Method, Request};
use crate::commands::exact_args;
use crate::error::CliError;
use crate::progress::{Display, ProgressError};

fn is_url(s: &str) -> bool {
    s.starts_with("http://")
        || s.starts_with("https://")
        || s.starts_with("git://")
        || s.starts_with("git@")
        || s.starts_with("github.com/")
}

/// A temporary file, removed from its directory at once (only the open
/// file remains).
fn scratch_file() -> Result<File, CliError> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let path = std::env::temp_dir().join(format!("berth-build-{}-{nanos}.tar", std::process::id()));
    let file = File::options()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| CliError::io(format!("create {}", path.display()), e))?;
    let _ = std::fs::remove_file(&path);
    Ok(file)
}

fn header(kind: tar::EntryType, mode: u32, size: u64, mtime: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_uid(0);
    h.set_gid(0);
    h.set_size(size);
    h.set_mtime(mtime);
    h
}

fn mtime_of(meta: &std::fs::Metadata) -> u64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs())
}

/// Writes the context directory `dir` into `out` without what `patterns`
/// exclude.
fn write_context(
    dir: &Path,
    patterns: &[Pattern],
    skip: Option<&str>,
    builder: &mut tar::Builder<&mut File>,
) -> Result<(), CliError> {
    use std::os::unix::fs::PermissionsExt;
    let exceptions: Vec<&Pattern> = patterns.iter().filter(|p| p.exclusion).collect();
    let mut stack: Vec<String> = vec![String::new()];
    while let Some(rel_dir) = stack.pop() {
        let host_dir = dir.join(&rel_dir);
        let entries = std::fs::read_dir(&host_dir)
            .map_err(|e| CliError::io(format!("open {}", host_dir.display()), e))?;
        let mut names: Vec<String> = entries
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let mut subdirs = Vec::new();
        for name in names {
            let rel = if rel_dir.is_empty() {
                name
            } else {
                format!("{rel_dir}/{name}")
            };
            let host = dir.join(&rel);
            let meta = std::fs::symlink_metadata(&host)
                .map_err(|e| CliError::io(format!("lstat {}", host.display()), e))?;
            let excluded = dockerignore::excluded(&rel, patterns);
            if meta.is_dir() {
                if excluded {
                    // Only walked into when an exception may match below.
                    let prefix = format!("{rel}/");
                    if exceptions.iter().any(|p| {
                        format!("{}/", p.text).starts_with(&prefix) || p.text.contains("**")
                    }) {
                        subdirs.push(rel);
                    }
                    continue;
                }
                let mut h = header(
                    tar::EntryType::Directory,
                    meta.permissions().mode() & 0o7777,
                    0,
                    mtime_of(&meta),
                );
                builder
                    .append_data(&mut h, format!("{rel}/"), std::io::empty())
                    .map_err(|e| CliError::io("write the build context", e))?;
                subdirs.push(rel);
                continue;
            }
            if excluded || skip == Some(rel.as_str()) {
                continue;
            }
            let mode = meta.permissions().mode() & 0o7777;
            if meta.file_type().is_symlink() {
                let target = std::fs::read_link(&host)
                    .map_err(|e| CliError::io(format!("readlink {}", host.display()), e))?;
                let mut h = header(tar::EntryType::Symlink, mode, 0, mtime_of(&meta));
                builder
                    .append_link(&mut h, &rel, &target)
                    .map_err(|e| CliError::io("write the build context", e))?;
            } else if meta.is_file() {
                let f = File::open(&host)
                    .map_err(|e| CliError::io(format!("open {}", host.display()), e))?;
                let mut h = header(tar::EntryType::Regular, mode, meta.len(), mtime_of(&meta));
                builder
                    .append_data(&mut h, &rel, f)
                    .map_err(|e| CliError::io("write the build context", e))?;
            }
        }
        // Depth first, in name order (what Go's filepath.Walk does).
        stack.extend(subdirs.into_iter().rev());
    }
    Ok(())
}

/// The context and the Dockerfile's name in it.
struct Context {
    file: File,
    size: u64,
    dockerfile: String,
}

fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n.div_ceil(2)];
    if rustix::rand::getrandom(&mut bytes, rustix::rand::GetRandomFlags::empty()).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        return format!("{nanos:0n$x}")[..n].to_string();
    }
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    hex[..n].to_string()
}

/// The context of a local directory.
fn local_context(path: &str, file: Option<&str>) -> Result<Context, CliError> {
    let dir = PathBuf::from(path);
    let dir = std::fs::canonicalize(&dir).map_err(|_| {
        CliError::Usage(format!(
            "unable to prepare context: path \"{path}\" not found"
        ))
    })?;
    if !dir.is_dir() {
        return Err(CliError::Usage(format!(
            "unable to prepare context: context must be a directory: {}",
            dir.display()
        )));
    }
    // `-f` is relative to the current directory, not the context.
    let dockerfile = match file.filter(|f| !f.is_empty()) {
        Some(f) => std::path::absolute(f).map_err(|e| CliError::io(format!("resolve {f}"), e))?,
        None => {
            let upper = dir.join("Dockerfile");
            if upper.exists() {
                upper
            } else if dir.join("dockerfile").exists() {
                dir.join("dockerfile")
            } else {
                upper
            }
        }
    };
    let resolved = std::fs::canonicalize(&dockerfile).map_err(|e| {
        CliError::Usage(format!(
            "unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat {}: {}",
            dockerfile.display(),
            crate::error::go_error(&e)
        ))
    })?;
    let outside = resolved.strip_prefix(&dir).is_err();
    let rel = if outside {
        String::new()
    } else {
        resolved
            .strip_prefix(&dir)
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let ignore = std::fs::read_to_string(dir.join(".dockerignore")).unwrap_or_default();
    let mut patterns = dockerignore::read(&ignore)
        .map_err(|e| CliError::Usage(format!("error checking context: {e}")))?;
    // The Dockerfile and .dockerignore always go (the daemon drops them).
    for keep in [".dockerignore", rel.as_str()] {
        if !keep.is_empty() && dockerignore::excluded(keep, &patterns) {
            patterns.push(Pattern::new(keep, true).map_err(|e| CliError::Usage(e.to_string()))?);
        }
    }
    let mut out = scratch_file()?;
    let dockerfile_name = {
        let mut builder = tar::Builder::new(&mut out);
        builder.mode(tar::HeaderMode::Complete);
        // With a Dockerfile from outside, .dockerignore is written anew
        // (below) instead of copied.
        write_context(
            &dir,
            &patterns,
            outside.then_some(".dockerignore"),
            &mut builder,
        )?;
        let name = if outside {
            let text = std::fs::read(&resolved)
                .map_err(|e| CliError::io(format!("open {}", resolved.display()), e))?;
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let name = format!(".dockerfile.{}", random_hex(20));
            let mut h = header(tar::EntryType::Regular, 0o600, text.len() as u64, now);
            builder
                .append_data(&mut h, &name, text.as_slice())
                .map_err(|e| CliError::io("write the build context", e))?;
            // Listed in .dockerignore (appended to the context's, or a
            // new one), so that the daemon drops it from the context.
            let mut list = if ignore.is_empty() && !dir.join(".dockerignore").exists() {
                ".dockerignore".to_string()
            } else {
                ignore.clone()
            };
            list.push_str(&format!("\n{name}\n"));
            let mut h = header(tar::EntryType::Regular, 0o600, list.len() as u64, now);
            builder
                .append_data(&mut h, ".dockerignore", list.as_bytes())
                .map_err(|e| CliError::io("write the build context", e))?;
            name
        } else {
            rel
        };
        builder
            .finish()
            .map_err(|e| CliError::io("write the build context", e))?;
        name
    };
    let size = out
        .stream_position()
        .map_err(|e| CliError::io("write the build context", e))?;
    out.rewind()
        .map_err(|e| CliError::io("write the build context", e))?;
    Ok(Context {
        file: out,
        size,
        dockerfile: dockerfile_name,
    })
}

/// The context from stdin: a tar as it is, or a Dockerfile put in one.
fn stdin_context() -> Result<Context, CliError> {
    let mut data = Vec::new();
    std::io::stdin()
        .read_to_end(&mut data)
        .map_err(|e| CliError::io("read the build context from stdin", e))?;
    let mut out = scratch_file()?;
    let is_tar = data.len() >= 512 && &data[257..262] == b"ustar"
        || data.starts_with(&[0x1f, 0x8b])
        || data.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]);
    if is_tar {
        out.write_all(&data)
            .map_err(|e| CliError::io("write the build context", e))?;
    } else {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut builder = tar::Builder::new(&mut out);
        let mut h = header(tar::EntryType::Regular, 0o600, data.len() as u64, now);
        builder
            .append_data(&mut h, "Dockerfile", data.as_slice())
            .map_err(|e| CliError::io("write the build context", e))?;
        builder
            .finish()
            .map_err(|e| CliError::io("write the build context", e))?;
    }
    let size = out
        .stream_position()
        .map_err(|e| CliError::io("write the build context", e))?;
    out.rewind()
        .map_err(|e| CliError::io("write the build context", e))?;
    Ok(Context {
        file: out,
        size,
        dockerfile: String::new(),
    })
}

/// `K=V` list items as a map (`K` alone: the environment's value, else
/// no value).
fn build_args(list: &[String]) -> BTreeMap<String, Option<String>> {
    list.iter()
        .map(|a| match a.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (a.clone(), std::env::var(a).ok()),
        })
        .collect()
}

fn json_of(v: &impl serde::Serialize) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// Run `build`.
pub fn run(app: &App, a: &BuildArgs, u: Usage) -> Result<(), CliError> {
    exact_args(u, &a.args, 1)?;
    let spec = &a.args[0];
    for t in &a.tag {
        crate::reference::Reference::parse_normalized(t).map_err(|e| {
            CliError::Usage(format!(
                "invalid argument \"{t}\" for \"-t, --tag\" flag: {e}"
            ))
        })?;
    }
    let context = if spec == "-" {
        Some(stdin_context()?)
    } else if is_url(spec) {
        None
    } else {
        Some(local_context(spec, a.file.as_deref())?)
    };
    let client = app.client()?;
    let mut req = Request::new(Method::Post, "/build");
    for t in &a.tag {
        req = req.query("t", t.clone());
    }
    match &context {
        Some(c) if !c.dockerfile.is_empty() => req = req.query("dockerfile", c.dockerfile.clone()),
        None => req = req.query("remote", spec.clone()),
        _ => {
            if let Some(f) = a.file.as_deref().filter(|f| !f.is_empty()) {
                req = req.query("dockerfile", f);
            }
        }
    }
    req = req
        .query_if(a.quiet, "q", "1")
        .query_if(a.no_cache, "nocache", "1")
        .query("rm", if a.rm { "1" } else { "0" })
        .query_if(a.force_rm, "forcerm", "1")
        .query_if(a.pull, "pull", "1")
        .query("networkmode", a.network.clone())
        .query("version", "1");
    if let Some(t) = a.target.as_deref().filter(|t| !t.is_empty()) {
        req = req.query("target", t);
    }
    if let Some(p) = a.platform.as_deref().filter(|p| !p.is_empty()) {
        req = req.query("platform", p.to_lowercase());
    }
    if let Some(s) = a.shm_size.as_deref().filter(|s| !s.is_empty()) {
        let bytes = crate::format::units::ram_in_bytes(s).ok_or_else(|| {
            CliError::Flags(format!(
                "invalid argument \"{s}\" for \"--shm-size\" flag: invalid size: '{s}'"
            ))
        })?;
        req = req.query("shmsize", bytes.to_string());
    }
    for h in &a.add_host {
        req = req.query("extrahosts", h.clone());
    }
    req = req.query("buildargs", json_of(&build_args(&a.build_arg)));
    let labels: BTreeMap<String, String> = a
        .label
        .iter()
        .map(|l| match l.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (l.clone(), String::new()),
        })
        .collect();
    req = req.query("labels", json_of(&labels));
    if !a.cache_from.is_empty() {
        let list: Vec<&str> = a
            .cache_from
            .iter()
            .flat_map(|c| c.split(','))
            .filter(|c| !c.is_empty())
            .collect();
        req = req.query("cachefrom", json_of(&list));
    }
    let sending = context.as_ref().map(|c| {
        format!(
            "Sending build context to Berth daemon {:>8}\r\r\n",
            crate::format::units::human_size(c.size as f64)
        )
    });
    if let Some(c) = context {
        req = req.body(Body::Reader(Box::new(c.file), "application/x-tar".into()));
    }
    if !a.quiet
        && let Some(line) = &sending
    {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(line.as_bytes());
        let _ = out.flush();
    }
    let resp = client.send(req)?;
    let now = || {
        let (s, n) = crate::format::time::now();
        s as f64 + f64::from(n) / 1e9
    };
    let failed = |e: ProgressError, held: &[u8]| -> CliError {
        match e {
            ProgressError::Remote { code, message } => {
                if a.quiet {
                    let mut err = std::io::stderr().lock();
                    if let Some(line) = &sending {
                        let _ = err.write_all(line.as_bytes());
                    }
                    let _ = err.write_all(held);
                }
                CliError::Status {
                    message,
                    code: if code == 0 { 1 } else { code as i32 },
                }
            }
            e => e.into(),
        }
    };
    if a.quiet {
        let d = Display {
            terminal: false,
            width: 200,
        };
        let mut held = Vec::new();
        return match d.stream(resp, &mut held, &mut |_| {}, &now) {
            Ok(()) => {
                let mut out = std::io::stdout().lock();
                out.write_all(&held)
                    .map_err(|e| CliError::io("write to standard output", e))?;
                Ok(())
            }
            Err(e) => Err(failed(e, &held)),
        };
    }
    let d = Display::stdout();
    let mut out = std::io::stdout().lock();
    d.stream(resp, &mut out, &mut |_| {}, &now)
        .map_err(|e| failed(e, &[]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_args_take_the_environment() {
        let m = build_args(&["A=1".into(), "B=".into(), "BERTH_SURELY_UNSET_VAR".into()]);
        assert_eq!(m["A"], Some("1".into()));
        assert_eq!(m["B"], Some(String::new()));
        assert_eq!(m["BERTH_SURELY_UNSET_VAR"], None);
    }

    #[test]
    fn contexts_leave_out_what_dockerignore_says() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("ignored/sub")).unwrap();
        std::fs::write(d.join("ignored/sub/keep"), "k").unwrap();
        std::fs::write(d.join("ignored/sub/drop"), "d").unwrap();
        std::fs::write(d.join("a.txt"), "a").unwrap();
        std::fs::write(d.join("Dockerfile"), "FROM x\n").unwrap();
        std::fs::write(
            d.join(".dockerignore"),
            "ignored\n!ignored/sub/keep\nDockerfile\n.dockerignore\n",
        )
        .unwrap();
        let mut c = local_context(d.to_str().unwrap(), None).unwrap();
        assert_eq!(c.dockerfile, "Dockerfile");
        let mut names = Vec::new();
        let mut bytes = Vec::new();
        c.file.read_to_end(&mut bytes).unwrap();
        assert_eq!(bytes.len() as u64, c.size);
        let mut archive = tar::Archive::new(bytes.as_slice());
        for e in archive.entries().unwrap() {
            let e = e.unwrap();
            assert_eq!(e.header().uid().unwrap(), 0);
            names.push(e.path().unwrap().display().to_string());
        }
        assert_eq!(
            names,
            [".dockerignore", "Dockerfile", "a.txt", "ignored/sub/keep"]
        );
    }

    #[test]
    fn an_outside_dockerfile_travels_in_the_context() {
        let ctx = tempfile::tempdir().unwrap();
        let other = tempfile::tempdir().unwrap();
        std::fs::write(ctx.path().join("f"), "x").unwrap();
        std::fs::write(other.path().join("Dockerfile"), "FROM x\n").unwrap();
        let df = other.path().join("Dockerfile");
        let mut c = local_context(ctx.path().to_str().unwrap(), df.to_str()).unwrap();
        assert!(c.dockerfile.starts_with(".dockerfile."), "{}", c.dockerfile);
        let mut bytes = Vec::new();
        c.file.read_to_end(&mut bytes).unwrap();
        let mut archive = tar::Archive::new(bytes.as_slice());
        let mut ignore = String::new();
        for e in archive.entries().unwrap() {
            let mut e = e.unwrap();
            if e.path().unwrap().to_str() == Some(".dockerignore") {
                e.read_to_string(&mut ignore).unwrap();
            }
        }
        assert_eq!(ignore, format!(".dockerignore\n{}\n", c.dockerfile));
    }
}
