//! cgroup v1 freezer (`freezer.state`). Freezing is asynchronous and a v1 cgroup whose tasks
//! keep forking can stay in FREEZING: write FROZEN again until it sticks, with an occasional
//! thaw-and-retry (as runc found necessary), and thaw again if it never does.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::FreezerState;
use crate::cgroup_file;
use crate::error::{Error, Result};

const ATTEMPTS: u32 = 1000;

fn read_state(dir: &Path) -> Result<String> {
    Ok(cgroup_file::read(dir, "freezer.state")?.trim().to_owned())
}

pub(crate) fn freeze(dir: &Path) -> Result<()> {
    let start = Instant::now();
    let mut state = String::new();
    for i in 0..ATTEMPTS {
        if i % 50 == 49 {
            cgroup_file::write(dir, "freezer.state", "THAWED")?;
            std::thread::sleep(Duration::from_millis(10));
        }
        cgroup_file::write(dir, "freezer.state", "FROZEN")?;
        if i % 25 == 24 {
            std::thread::sleep(Duration::from_micros(10));
        }
        state = read_state(dir)?;
        match state.as_str() {
            "FROZEN" => return Ok(()),
            "FREEZING" => continue,
            _ => break,
        }
    }
    // Never leave the container half-frozen.
    let _ = cgroup_file::write(dir, "freezer.state", "THAWED");
    Err(Error::FreezeTimeout {
        path: dir.to_path_buf(),
        state,
        waited: start.elapsed(),
    })
}

pub(crate) fn thaw(dir: &Path) -> Result<()> {
    Ok(cgroup_file::write(dir, "freezer.state", "THAWED")?)
}

pub(crate) fn state(dir: &Path) -> Result<FreezerState> {
    let s = read_state(dir)?;
    match s.as_str() {
        "THAWED" => Ok(FreezerState::Thawed),
        "FROZEN" => Ok(FreezerState::Frozen),
        "FREEZING" => Ok(FreezerState::Freezing),
        _ => Err(cgroup_file::FileError::Parse {
            path: dir.join("freezer.state"),
            content: s,
        }
        .into()),
    }
}
