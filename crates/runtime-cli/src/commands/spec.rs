//! spec, features.

use anyhow::{Context, Result, bail};

use crate::args::Spec;

pub fn spec(s: &Spec) -> Result<i32> {
    let path = s.bundle.join("config.json");
    if path.exists() {
        bail!("File {} exists. Remove it first", path.display());
    }
    let spec = berth_runtime::spec_default::default_spec(s.rootless);
    std::fs::write(&path, serde_json::to_string_pretty(&spec)? + "\n")
        .with_context(|| format!("write {}", path.display()))?;
    Ok(0)
}

pub fn features() -> Result<i32> {
    println!(
        "{}",
        serde_json::to_string_pretty(&berth_runtime::features::document())?
    );
    Ok(0)
}
