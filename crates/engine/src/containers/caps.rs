//! `--cap-add` / `--cap-drop` and `--privileged`: the capability set a
//! container gets, with Docker's rules (names with or without `CAP_`, any
//! case, `ALL`; additions win over drops of the same name).

use super::ContainerError;

/// Every capability, and Docker's default set (moby `oci/caps/defaults.go`).
pub use berth_seccomp::{ALL_CAPABILITIES as ALL, DEFAULT_CAPABILITIES as DEFAULT};

/// `CAP_X`, upper case, or `ALL`; an unknown name is Docker's error.
fn normalise(name: &str) -> Result<String, ContainerError> {
    let upper = name.trim().to_ascii_uppercase();
    if upper == "ALL" {
        return Ok(upper);
    }
    let full = if upper.starts_with("CAP_") {
        upper
    } else {
        format!("CAP_{upper}")
    };
    if ALL.contains(&full.as_str()) {
        Ok(full)
    } else {
        Err(ContainerError::invalid(format!(
            "invalid CapAdd: unknown capability: \"{full}\""
        )))
    }
}

/// The container's capabilities.
pub fn effective(
    privileged: bool,
    add: &[String],
    drop: &[String],
) -> Result<Vec<String>, ContainerError> {
    if privileged {
        return Ok(ALL.iter().map(|s| s.to_string()).collect());
    }
    let add: Vec<String> = add.iter().map(|c| normalise(c)).collect::<Result<_, _>>()?;
    let drop: Vec<String> = drop
        .iter()
        .map(|c| {
            normalise(c)
                .map_err(|e| ContainerError::invalid(e.to_string().replace("CapAdd", "CapDrop")))
        })
        .collect::<Result<_, _>>()?;
    let mut caps: Vec<String> = if add.iter().any(|c| c == "ALL") {
        ALL.iter().map(|s| s.to_string()).collect()
    } else {
        DEFAULT.iter().map(|s| s.to_string()).collect()
    };
    if drop.iter().any(|c| c == "ALL") {
        caps.clear();
    } else {
        caps.retain(|c| !drop.contains(c) || add.contains(c));
    }
    for c in add.into_iter().filter(|c| c != "ALL") {
        if !caps.contains(&c) {
            caps.push(c);
        }
    }
    Ok(caps)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn add_and_drop_follow_docker() {
        let caps = effective(false, &s(&["net_admin"]), &s(&["chown", "CAP_KILL"])).unwrap();
        assert!(caps.contains(&"CAP_NET_ADMIN".to_string()));
        assert!(!caps.contains(&"CAP_CHOWN".to_string()));
        assert!(!caps.contains(&"CAP_KILL".to_string()));
        let caps = effective(false, &s(&["SYS_TIME"]), &s(&["all"])).unwrap();
        assert_eq!(caps, s(&["CAP_SYS_TIME"]));
        assert_eq!(
            effective(false, &s(&["ALL"]), &[]).unwrap().len(),
            ALL.len()
        );
        let err = effective(false, &s(&["bogus"]), &[]).unwrap_err();
        assert!(
            err.to_string()
                .contains("unknown capability: \"CAP_BOGUS\""),
            "{err}"
        );
    }
}
