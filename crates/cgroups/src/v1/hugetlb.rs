//! cgroup v1 hugetlb controller (`hugetlb.<size>.limit_in_bytes`, `.rsvd.limit_in_bytes`).

use std::collections::BTreeMap;
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
        let v = l.limit().to_string();
        knob::set_required(
            dir,
            &format!("hugetlb.{}.limit_in_bytes", l.page_size()),
            &v,
            &field,
        )?;
        cgroup_file::write_if_exists(
            dir,
            &format!("hugetlb.{}.rsvd.limit_in_bytes", l.page_size()),
            &v,
        )
        .map_err(knob::apply_err(&field))?;
    }
    Ok(())
}

pub(crate) fn stats(dir: &Path, out: &mut BTreeMap<String, HugetlbStats>) -> Result<()> {
    for size in hugepage_size::host_sizes() {
        let Some(usage) =
            cgroup_file::read_u64_if_exists(dir, &format!("hugetlb.{size}.usage_in_bytes"))?
        else {
            continue;
        };
        out.insert(
            size.clone(),
            HugetlbStats {
                usage,
                max: cgroup_file::read_u64(dir, &format!("hugetlb.{size}.max_usage_in_bytes"))?,
                failcnt: cgroup_file::read_u64(dir, &format!("hugetlb.{size}.failcnt"))?,
            },
        );
    }
    Ok(())
}
