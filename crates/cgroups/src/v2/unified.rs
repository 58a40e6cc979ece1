//! `linux.resources.unified`: raw `<controller>.<file>` = value writes into a cgroup2 directory,
//! applied last so they override the converted settings. Multi-line values are written one
//! line per `write`, as the kernel parses one entry per write for files like `io.max`.

use std::collections::HashMap;
use std::path::Path;

use crate::error::Result;
use crate::knob;
use crate::validate;

pub(crate) fn apply(dir: &Path, unified: &HashMap<String, String>) -> Result<()> {
    let mut keys: Vec<&String> = unified.keys().collect();
    keys.sort();
    for key in keys {
        validate::unified_key(key)?;
        let field = format!("linux.resources.unified[{key:?}]");
        let value = &unified[key];
        if value.contains('\n') {
            for line in value.lines().filter(|l| !l.is_empty()) {
                knob::set_required(dir, key, line, &field)?;
            }
        } else {
            knob::set_required(dir, key, value, &field)?;
        }
    }
    Ok(())
}
