//! create, start, run, kill, delete.

use std::path::Path;

use anyhow::{Context, Result};
use berth_runtime::config::Bundle;
use berth_runtime::container::{Container, CreateOptions, RunOptions};

use crate::args::{Cli, Create, Delete, Kill, Run};
use crate::log::Logger;

fn create_options(root: &Path, c: &Create, bundle: Bundle) -> CreateOptions {
    CreateOptions {
        root: root.to_path_buf(),
        id: c.id.clone(),
        bundle: c.bundle.clone(),
        pid_file: c.pid_file.clone(),
        console_socket: c.console_socket.clone(),
        no_pivot: c.no_pivot,
        no_new_keyring: c.no_new_keyring,
        preserve_fds: c.preserve_fds,
        loaded: Some(bundle),
    }
}

/// Load the bundle, and run from the sealed binary when this container
/// needs it (see berth_runtime::exeseal::required_for).
pub fn load_sealed(cli: &Cli, dir: &Path, log: &Logger) -> Result<Bundle> {
    let bundle = Bundle::load(dir)?;
    for w in &bundle.warnings {
        log.warn(w);
    }
    if berth_runtime::exeseal::required_for(&bundle.spec) {
        super::seal(cli)?;
    }
    Ok(bundle)
}

pub fn create(root: &Path, c: &Create, bundle: Bundle, log: &Logger) -> Result<i32> {
    Container::create(&create_options(root, c, bundle))?;
    log.debug(&format!("created container {}", c.id));
    Ok(0)
}

pub fn start(root: &Path, id: &str, log: &Logger) -> Result<i32> {
    let c = Container::load(root, id)?;
    for w in c.start()? {
        log.warn(&w.to_string());
    }
    Ok(0)
}

pub fn run(root: &Path, r: &Run, bundle: Bundle, log: &Logger) -> Result<i32> {
    let outcome = Container::run(&RunOptions {
        create: create_options(root, &r.create, bundle),
        detach: r.detach,
        keep: r.keep,
        no_subreaper: r.no_subreaper,
    })?;
    for w in outcome.warnings {
        log.warn(&w.to_string());
    }
    Ok(outcome.code)
}

pub fn kill(root: &Path, k: &Kill) -> Result<i32> {
    let signal = berth_runtime::sys::signal_by_name(&k.signal)
        .with_context(|| format!("invalid signal {:?}", k.signal))?;
    Container::load(root, &k.id)?.kill(signal, k.all)?;
    Ok(0)
}

pub fn delete(root: &Path, d: &Delete, log: &Logger) -> Result<i32> {
    let c = match Container::load(root, &d.id) {
        Ok(c) => c,
        // runc: deleting a missing container with --force is not an error.
        Err(berth_runtime::Error::NotFound(_)) if d.force => return Ok(0),
        Err(e) => return Err(e.into()),
    };
    for w in c.delete(d.force)? {
        log.warn(&w.to_string());
    }
    Ok(0)
}
