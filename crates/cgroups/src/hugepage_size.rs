//! Huge page sizes: the OCI/cgroup names (`2MB`, `1GB`) and the host's sizes from
//! `/sys/kernel/mm/hugepages/hugepages-<N>kB`.

use std::path::Path;

const HUGEPAGES_DIR: &str = "/sys/kernel/mm/hugepages";

/// Size in kB of a cgroup page size name such as `64KB`, `2MB`, `1GB`.
pub(crate) fn name_to_kb(name: &str) -> Option<u64> {
    let split = name.find(|c: char| !c.is_ascii_digit())?;
    let (num, unit) = name.split_at(split);
    let n: u64 = num.parse().ok()?;
    let mult = match unit {
        "KB" | "kB" => 1,
        "MB" => 1024,
        "GB" => 1024 * 1024,
        "TB" => 1024 * 1024 * 1024,
        _ => return None,
    };
    n.checked_mul(mult).filter(|&kb| kb > 0)
}

/// The cgroup name of a size in kB (the largest unit that divides it exactly), as the kernel
/// names `hugetlb.<size>.*` files.
pub(crate) fn kb_to_name(kb: u64) -> String {
    const UNITS: [(&str, u64); 3] = [("GB", 1024 * 1024), ("MB", 1024), ("KB", 1)];
    for (unit, mult) in UNITS {
        if kb >= mult && kb.is_multiple_of(mult) {
            return format!("{}{unit}", kb / mult);
        }
    }
    format!("{kb}KB")
}

/// Whether the host supports a page size of `kb` kB.
pub(crate) fn host_supports(kb: u64) -> bool {
    Path::new(HUGEPAGES_DIR)
        .join(format!("hugepages-{kb}kB"))
        .exists()
}

/// The host's page sizes as cgroup names, ascending; empty if huge pages are not configured.
pub(crate) fn host_sizes() -> Vec<String> {
    let Ok(rd) = std::fs::read_dir(HUGEPAGES_DIR) else {
        return Vec::new();
    };
    let mut kbs: Vec<u64> = rd
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name();
            let s = name.to_str()?;
            s.strip_prefix("hugepages-")?
                .strip_suffix("kB")?
                .parse()
                .ok()
        })
        .collect();
    kbs.sort_unstable();
    kbs.into_iter().map(kb_to_name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_sizes() {
        assert_eq!(name_to_kb("2MB"), Some(2048));
        assert_eq!(name_to_kb("1GB"), Some(1024 * 1024));
        assert_eq!(name_to_kb("64KB"), Some(64));
        assert_eq!(name_to_kb("2mb"), None);
        assert_eq!(name_to_kb("MB"), None);
        assert_eq!(name_to_kb("0MB"), None);
        assert_eq!(kb_to_name(2048), "2MB");
        assert_eq!(kb_to_name(1048576), "1GB");
        assert_eq!(kb_to_name(64), "64KB");
        assert_eq!(kb_to_name(1536), "1536KB");
    }

    #[test]
    fn host_sizes_are_named_like_the_kernel_files() {
        for s in host_sizes() {
            let kb = name_to_kb(&s).unwrap();
            assert!(host_supports(kb), "{s}");
            assert_eq!(kb_to_name(kb), s);
        }
    }
}
