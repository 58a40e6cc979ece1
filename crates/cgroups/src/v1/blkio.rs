//! cgroup v1 blkio controller: weights (CFQ `blkio.weight*` or BFQ `blkio.bfq.weight*`,
//! whichever the kernel has), throttling (`blkio.throttle.*_device`), and stats (CFQ, else BFQ,
//! else throttling counters, as runc reads them).

use std::path::Path;

use oci_spec::runtime::{LinuxBlockIo, LinuxThrottleDevice};

use crate::cgroup_file::{self, FileError};
use crate::error::{Error, Result};
use crate::knob;
use crate::stats::{BlkioEntry, BlkioStats};

/// Write to the first of `files` that exists; none existing is [`Error::KnobUnavailable`].
fn set_first(dir: &Path, files: &[&str], value: &str, field: &str) -> Result<()> {
    for f in files {
        match cgroup_file::write(dir, f, value) {
            Ok(()) => return Ok(()),
            Err(e) if e.is_not_found() => continue,
            Err(e) => return Err(knob::apply_err(field)(e)),
        }
    }
    Err(Error::KnobUnavailable {
        field: field.to_owned(),
        file: dir.join(files[0]),
    })
}

pub(crate) fn apply(dir: &Path, b: &LinuxBlockIo) -> Result<()> {
    if let Some(w) = b.weight().filter(|w| *w != 0) {
        set_first(
            dir,
            &["blkio.weight", "blkio.bfq.weight"],
            &w.to_string(),
            "linux.resources.blockIO.weight",
        )?;
    }
    if let Some(w) = b.leaf_weight().filter(|w| *w != 0) {
        knob::set_required(
            dir,
            "blkio.leaf_weight",
            &w.to_string(),
            "linux.resources.blockIO.leafWeight",
        )?;
    }
    for (i, d) in b.weight_device().iter().flatten().enumerate() {
        let field = format!("linux.resources.blockIO.weightDevice[{i}]");
        if let Some(w) = d.weight().filter(|w| *w != 0) {
            let v = format!("{}:{} {w}", d.major(), d.minor());
            set_first(
                dir,
                &["blkio.weight_device", "blkio.bfq.weight_device"],
                &v,
                &field,
            )?;
        }
        if let Some(w) = d.leaf_weight().filter(|w| *w != 0) {
            let v = format!("{}:{} {w}", d.major(), d.minor());
            knob::set_required(dir, "blkio.leaf_weight_device", &v, &field)?;
        }
    }
    let throttles: [(&str, &str, &Option<Vec<LinuxThrottleDevice>>); 4] = [
        (
            "blkio.throttle.read_bps_device",
            "throttleReadBpsDevice",
            b.throttle_read_bps_device(),
        ),
        (
            "blkio.throttle.write_bps_device",
            "throttleWriteBpsDevice",
            b.throttle_write_bps_device(),
        ),
        (
            "blkio.throttle.read_iops_device",
            "throttleReadIOPSDevice",
            b.throttle_read_iops_device(),
        ),
        (
            "blkio.throttle.write_iops_device",
            "throttleWriteIOPSDevice",
            b.throttle_write_iops_device(),
        ),
    ];
    for (file, name, list) in throttles {
        for (i, d) in list.iter().flatten().enumerate() {
            let v = format!("{}:{} {}", d.major(), d.minor(), d.rate());
            knob::set_required(
                dir,
                file,
                &v,
                &format!("linux.resources.blockIO.{name}[{i}]"),
            )?;
        }
    }
    Ok(())
}

/// Parse a v1 blkio stat file: `maj:min Op value` or `maj:min value` lines, plus a
/// `Total value` line that is skipped.
fn parse_entries(path: &Path, text: &str) -> Result<Vec<BlkioEntry>, FileError> {
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let bad = || FileError::Parse {
            path: path.to_path_buf(),
            content: line.to_owned(),
        };
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.first() == Some(&"Total") {
            continue;
        }
        let (dev, op, value) = match f[..] {
            [dev, op, value] => (dev, op, value),
            [dev, value] => (dev, "", value),
            _ => return Err(bad()),
        };
        let (major, minor) = dev.split_once(':').ok_or_else(bad)?;
        out.push(BlkioEntry {
            major: major.parse().map_err(|_| bad())?,
            minor: minor.parse().map_err(|_| bad())?,
            op: op.to_owned(),
            value: cgroup_file::parse_u64(path, value)?,
        });
    }
    Ok(out)
}

fn read_entries(dir: &Path, file: &str) -> Result<Vec<BlkioEntry>> {
    let path = dir.join(file);
    match cgroup_file::read_path(&path) {
        Ok(t) => Ok(parse_entries(&path, &t)?),
        Err(e) if e.is_not_found() => Ok(Vec::new()),
        Err(e) => Err(e.into()),
    }
}

pub(crate) fn stats(dir: &Path, out: &mut BlkioStats) -> Result<()> {
    if dir.join("blkio.io_serviced_recursive").exists() {
        // CFQ (kernels before 5.0).
        out.sectors_recursive = read_entries(dir, "blkio.sectors_recursive")?;
        out.io_service_bytes_recursive = read_entries(dir, "blkio.io_service_bytes_recursive")?;
        out.io_serviced_recursive = read_entries(dir, "blkio.io_serviced_recursive")?;
        out.io_queued_recursive = read_entries(dir, "blkio.io_queued_recursive")?;
        out.io_service_time_recursive = read_entries(dir, "blkio.io_service_time_recursive")?;
        out.io_wait_time_recursive = read_entries(dir, "blkio.io_wait_time_recursive")?;
        out.io_merged_recursive = read_entries(dir, "blkio.io_merged_recursive")?;
        out.io_time_recursive = read_entries(dir, "blkio.time_recursive")?;
    } else if dir.join("blkio.bfq.io_serviced_recursive").exists() {
        out.io_service_bytes_recursive = read_entries(dir, "blkio.bfq.io_service_bytes_recursive")?;
        out.io_serviced_recursive = read_entries(dir, "blkio.bfq.io_serviced_recursive")?;
    } else {
        out.io_service_bytes_recursive =
            read_entries(dir, "blkio.throttle.io_service_bytes_recursive")?;
        out.io_serviced_recursive = read_entries(dir, "blkio.throttle.io_serviced_recursive")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_v1_blkio_stat_files() {
        let p = Path::new("/x");
        let e = parse_entries(p, "254:0 Read 4096\n254:0 Write 0\nTotal 4096\n").unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(
            (e[0].major, e[0].minor, e[0].op.as_str(), e[0].value),
            (254, 0, "Read", 4096)
        );
        let e = parse_entries(p, "8:16 77\n").unwrap();
        assert_eq!((e[0].op.as_str(), e[0].value), ("", 77));
        assert!(parse_entries(p, "garbage line here too\n").is_err());
    }
}
