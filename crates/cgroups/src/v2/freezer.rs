//! cgroup v2 freezer: write `cgroup.freeze`, then wait until `cgroup.events` says `frozen 1`.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::FreezerState;
use crate::cgroup_file;
use crate::error::{Error, Result};

/// How long `freeze` waits for the kernel before giving up and thawing again.
const FREEZE_TIMEOUT: Duration = Duration::from_secs(2);

fn frozen(dir: &Path) -> Result<bool> {
    let path = dir.join("cgroup.events");
    let text = cgroup_file::read_path(&path)?;
    Ok(cgroup_file::flat_keyed_value(&path, &text, "frozen")? == 1)
}

pub(crate) fn freeze(dir: &Path) -> Result<()> {
    cgroup_file::write(dir, "cgroup.freeze", "1")?;
    let start = Instant::now();
    let mut delay = Duration::from_micros(50);
    loop {
        if frozen(dir)? {
            return Ok(());
        }
        if start.elapsed() > FREEZE_TIMEOUT {
            // Never leave a half-frozen container behind.
            let _ = cgroup_file::write(dir, "cgroup.freeze", "0");
            return Err(Error::FreezeTimeout {
                path: dir.to_path_buf(),
                state: "freezing".to_owned(),
                waited: start.elapsed(),
            });
        }
        std::thread::sleep(delay);
        delay = (delay * 2).min(Duration::from_millis(10));
    }
}

pub(crate) fn thaw(dir: &Path) -> Result<()> {
    Ok(cgroup_file::write(dir, "cgroup.freeze", "0")?)
}

pub(crate) fn state(dir: &Path) -> Result<FreezerState> {
    let Some(want) = cgroup_file::read_if_exists(dir, "cgroup.freeze")? else {
        // Kernel without the v2 freezer (< 5.2): nothing can be frozen.
        return Ok(FreezerState::Thawed);
    };
    if want.trim() != "1" {
        return Ok(FreezerState::Thawed);
    }
    Ok(if frozen(dir)? {
        FreezerState::Frozen
    } else {
        FreezerState::Freezing
    })
}
