//! hugetlb on a cgroup2 hierarchy (`hugetlb.<size>.max`, `.rsvd.max`, `.current`, `.events`).
//! Used on v2 hosts and, on hybrid hosts where hugetlb is bound to the unified hierarchy, for the
//! unified part of the container's cgroup.

use std::path::Path;

use oci_spec::runtime::LinuxHugepageLimit;

use crate::cgroup_file;
use crate::error::Result;
use crate::hugepage_size;
use crate::knob;
use crate::stats::HugetlbStats;

pub(crate) fn apply(dir: &Path, limits: &[LinuxHugepageLimit]) -> Result<()> {
    for (i, l) in limits.iter().enumerate() {
        let field = format!("linux.resources.hugepageLimits[{i}]");
        let v = if l.limit() < 0 {
            "max".to_owned()
        } else {
            l.limit().to_string()
        };
        knob::set_required(dir, &format!("hugetlb.{}.max", l.page_size()), &v, &field)?;
        // Reservations are limited the same way when the kernel has them (5.7+), as runc does.
        cgroup_file::write_if_exists(dir, &format!("hugetlb.{}.rsvd.max", l.page_size()), &v)
            .map_err(knob::apply_err(&field))?;
    }
    Ok(())
}

pub(crate) fn stats(
    dir: &Path,
    out: &mut std::collections::BTreeMap<String, HugetlbStats>,
) -> Result<()> {
    for size in hugepage_size::host_sizes() {
        let Some(usage) = cgroup_file::read_u64_if_exists(dir, &format!("hugetlb.{size}.current"))?
        else {
            continue;
        };
        let events_path = dir.join(format!("hugetlb.{size}.events"));
        let failcnt = match cgroup_file::read_path(&events_path) {
            Ok(t) => cgroup_file::flat_keyed_value(&events_path, &t, "max")?,
            Err(e) if e.is_not_found() => 0,
            Err(e) => return Err(e.into()),
        };
        out.insert(
            size,
            HugetlbStats {
                usage,
                max: 0,
                failcnt,
            },
        );
    }
    Ok(())
}
