//! `berth cp`: files between a container and the local filesystem through
//! the archive endpoints — `GET /containers/{id}/archive?path=` (a tar of
//! the source, its stat in `X-Docker-Container-Path-Stat`), `HEAD` to stat
//! a destination, `PUT ...?path=DIR` to extract a tar into a directory.
//! docker's path rules: copying to an existing directory puts the source
//! inside it; to a path that does not exist, the source takes that name;
//! `-` is a tar stream on standard input or output.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;

use crate::app::App;
use crate::cli::{CpArgs, Usage};
use crate::client::{Body, Category, Method, Request, path_escape};
use crate::commands::exact_args;
use crate::error::CliError;

/// Go's `os.ModeDir`.
const MODE_DIR: u64 = 1 << 31;

/// One side of a copy.
enum Side {
    Local(String),
    Container(String, String),
}

fn split(arg: &str) -> Side {
    if arg.starts_with('/') || arg.starts_with('.') || arg == "-" {
        return Side::Local(arg.to_string());
    }
    match arg.split_once(':') {
        Some((c, p)) if !c.is_empty() => Side::Container(c.to_string(), p.to_string()),
        _ => Side::Local(arg.to_string()),
    }
}

fn base_name(p: &str) -> String {
    let t = p.trim_end_matches('/');
    let b = t.rsplit('/').next().unwrap_or(t);
    if b.is_empty() {
        "/".into()
    } else {
        b.to_string()
    }
}

fn parent(p: &str) -> String {
    let t = p.trim_end_matches('/');
    match t.rfind('/') {
        Some(0) => "/".into(),
        Some(i) => t[..i].to_string(),
        None => ".".into(),
    }
}

/// The container path's stat from a response header.
fn stat_header(v: Option<&str>) -> Option<serde_json::Value> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(v?).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Run `cp`.
pub fn run(app: &App, a: &CpArgs, u: Usage) -> Result<(), CliError> {
    exact_args(u, &a.args, 2)?;
    match (split(&a.args[0]), split(&a.args[1])) {
        (Side::Container(c, src), Side::Local(dst)) => from_container(app, a, &c, &src, &dst),
        (Side::Local(src), Side::Container(c, dst)) => to_container(app, a, &src, &c, &dst),
        (Side::Container(..), Side::Container(..)) => Err(CliError::Usage(
            "copying between containers is not supported".into(),
        )),
        (Side::Local(_), Side::Local(_)) => Err(CliError::Usage(
            "must specify at least one container source".into(),
        )),
    }
}

fn from_container(
    app: &App,
    a: &CpArgs,
    container: &str,
    src: &str,
    dst: &str,
) -> Result<(), CliError> {
    let client = app.client()?;
    let mut src_path = src.to_string();
    if a.follow_link {
        let resp = client.send(
            Request::new(
                Method::Head,
                format!("/containers/{}/archive", path_escape(container)),
            )
            .query("path", src),
        )?;
        if let Some(st) = stat_header(resp.header("x-docker-container-path-stat"))
            && let Some(t) = st["linkTarget"].as_str().filter(|t| !t.is_empty())
        {
            src_path = t.to_string();
        }
    }
    let mut resp = client.send(
        Request::new(
            Method::Get,
            format!("/containers/{}/archive", path_escape(container)),
        )
        .query("path", src_path.clone()),
    )?;
    if dst == "-" {
        let mut out = std::io::stdout().lock();
        std::io::copy(&mut resp, &mut out)
            .and_then(|_| out.flush())
            .map_err(|e| CliError::io("write to standard output", e))?;
        return Ok(());
    }
    let stat = stat_header(resp.header("x-docker-container-path-stat"));
    let src_is_dir = stat
        .as_ref()
        .and_then(|s| s["mode"].as_u64())
        .is_some_and(|m| m & MODE_DIR != 0);
    let src_name = stat
        .as_ref()
        .and_then(|s| s["name"].as_str().map(str::to_string))
        .unwrap_or_else(|| base_name(&src_path));
    let dst_path = Path::new(dst);
    let (into, rename): (PathBuf, Option<String>) = match std::fs::metadata(dst_path) {
        Ok(m) if m.is_dir() => (dst_path.to_path_buf(), None),
        Ok(_) => {
            if src_is_dir {
                return Err(CliError::Usage(format!(
                    "cannot copy directory to file: {dst}"
                )));
            }
            (PathBuf::from(parent(dst)), Some(base_name(dst)))
        }
        Err(_) => {
            if dst.ends_with('/') && !src_is_dir {
                return Err(CliError::Usage(format!(
                    "destination directory {dst} does not exist"
                )));
            }
            let p = parent(dst);
            if !Path::new(&p).is_dir() {
                return Err(CliError::Usage(format!(
                    "lstat {p}: no such file or directory"
                )));
            }
            (PathBuf::from(p), Some(base_name(dst)))
        }
    };
    let mut ar = tar::Archive::new(&mut resp);
    ar.set_preserve_permissions(true);
    ar.set_preserve_ownerships(a.archive);
    ar.set_overwrite(true);
    let entries = ar
        .entries()
        .map_err(|e| CliError::io("read the archive", e))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| CliError::io("read the archive", e))?;
        let path = entry
            .path()
            .map_err(|e| CliError::io("read the archive", e))?
            .into_owned();
        let rel = match &rename {
            Some(new) => {
                let mut comps = path.components();
                let first = comps.next();
                if first.is_some_and(|f| f.as_os_str() == src_name.as_str()) {
                    let rest = comps.as_path();
                    if rest.as_os_str().is_empty() {
                        PathBuf::from(new)
                    } else {
                        Path::new(new).join(rest)
                    }
                } else {
                    path.clone()
                }
            }
            None => path.clone(),
        };
        let target = into.join(&rel);
        if rel
            .components()
            .any(|c| matches!(c, std::path::Component::ParentDir))
        {
            continue;
        }
        entry
            .unpack(&target)
            .map_err(|e| CliError::io(format!("extract {}", target.display()), e))?;
    }
    Ok(())
}

fn to_container(
    app: &App,
    a: &CpArgs,
    src: &str,
    container: &str,
    dst: &str,
) -> Result<(), CliError> {
    let client = app.client()?;
    let archive = format!("/containers/{}/archive", path_escape(container));
    if src == "-" {
        let req = Request::new(Method::Put, archive.clone())
            .query("path", dst)
            .query("noOverwriteDirNonDir", "true")
            .body(Body::Reader(
                Box::new(std::io::stdin()),
                "application/x-tar".into(),
            ));
        client.send(req)?.bytes()?;
        return Ok(());
    }
    let src_path = Path::new(src);
    let meta = if a.follow_link {
        std::fs::metadata(src_path)
    } else {
        std::fs::symlink_metadata(src_path)
    }
    .map_err(|e| CliError::io(format!("lstat {src}"), e))?;
    // stat the destination
    let head = client.send(Request::new(Method::Head, archive.clone()).query("path", dst));
    let (dir, name) = match head {
        Ok(r) => {
            let st = stat_header(r.header("x-docker-container-path-stat"));
            let is_dir = st
                .as_ref()
                .and_then(|s| s["mode"].as_u64())
                .is_some_and(|m| m & MODE_DIR != 0);
            if is_dir {
                (dst.to_string(), base_name(src))
            } else if meta.is_dir() {
                return Err(CliError::Usage(format!(
                    "cannot copy directory to file: {container}:{dst}"
                )));
            } else {
                (parent(dst), base_name(dst))
            }
        }
        Err(e)
            if e.category() == Category::NotFound
                && !e.to_string().contains("No such container") =>
        {
            if dst.ends_with('/') && !meta.is_dir() {
                return Err(CliError::Usage(format!(
                    "destination directory {dst} does not exist"
                )));
            }
            (parent(dst), base_name(dst))
        }
        Err(e) => return Err(e.into()),
    };
    let mut buf = Vec::new();
    {
        let mut b = tar::Builder::new(&mut buf);
        b.follow_symlinks(a.follow_link);
        let r = if meta.is_dir() {
            b.append_dir_all(&name, src_path)
        } else {
            b.append_path_with_name(src_path, &name)
        };
        r.and_then(|()| b.finish())
            .map_err(|e| CliError::io(format!("archive {src}"), e))?;
    }
    let data = buf;
    let req = Request::new(Method::Put, archive)
        .query("path", dir)
        .query("noOverwriteDirNonDir", "true")
        .query_if(a.archive, "copyUIDGID", "true")
        .body(Body::Bytes(data, "application/x-tar".into()));
    client.send(req)?.bytes()?;
    Ok(())
}
