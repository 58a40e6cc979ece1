//! Where each subcommand meets the runtime library.

mod exec;
mod inspect;
mod lifecycle;
mod resources;
mod spec;

use anyhow::{Result, bail};

use crate::args::{Cli, Command};
use crate::log::Logger;

/// `--version` output, in runc's layout (dockerd parses it).
pub fn version() -> String {
    format!(
        "berth-runtime version {}\ncommit: berth-{}\nspec: {}\n",
        env!("CARGO_PKG_VERSION"),
        env!("CARGO_PKG_VERSION"),
        berth_runtime::config::OCI_VERSION
    )
}

/// Run one subcommand; returns the process exit code.
pub fn dispatch(cli: &Cli, command: &Command, log: &Logger) -> Result<i32> {
    match cli.rootless.as_str() {
        "auto" | "false" => {}
        "true" => bail!("rootless mode is not supported by berth-runtime yet"),
        other => bail!("invalid --rootless value {other:?} (auto, true or false)"),
    }
    let root = &cli.root;
    match command {
        Command::Create(c) => {
            refuse_systemd(cli)?;
            let bundle = lifecycle::load_sealed(cli, &c.bundle, log)?;
            lifecycle::create(root, c, bundle, log)
        }
        Command::Run(r) => {
            refuse_systemd(cli)?;
            let bundle = lifecycle::load_sealed(cli, &r.create.bundle, log)?;
            lifecycle::run(root, r, bundle, log)
        }
        Command::Start(c) => lifecycle::start(root, &c.id, log),
        Command::State(c) => inspect::state(root, &c.id),
        Command::Kill(k) => lifecycle::kill(root, k),
        Command::Delete(d) => lifecycle::delete(root, d, log),
        Command::Exec(e) => {
            seal(cli)?;
            exec::exec(root, e, log)
        }
        Command::Ps(p) => inspect::ps(root, p),
        Command::Pause(c) => resources::pause(root, &c.id),
        Command::Resume(c) => resources::resume(root, &c.id),
        Command::Update(u) => resources::update(root, u),
        Command::Events(e) => inspect::events(root, e),
        Command::List(l) => inspect::list(root, l),
        Command::Spec(s) => spec::spec(s),
        Command::Features => spec::features(),
        Command::Checkpoint(_) | Command::Restore(_) => {
            bail!("checkpoint/restore is not supported by berth-runtime")
        }
    }
}

/// The systemd cgroup driver is not implemented: say so, never pretend.
fn refuse_systemd(cli: &Cli) -> Result<()> {
    if cli.systemd_cgroup {
        bail!(
            "the systemd cgroup driver is not supported by berth-runtime; \
             use the cgroupfs driver (drop --systemd-cgroup, or set dockerd's \
             native.cgroupdriver=cgroupfs)"
        );
    }
    Ok(())
}

/// Make sure we run from an unwritable executable before any code runs in
/// a container (see berth_runtime::exeseal).
pub(crate) fn seal(cli: &Cli) -> Result<()> {
    berth_runtime::exeseal::ensure_sealed(&cli.root.join(".exeseal"))
        .map_err(|e| anyhow::anyhow!("protect the runtime binary (CVE-2019-5736): {e}"))
}
