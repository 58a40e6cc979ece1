//! cgroup v2 io controller: weights (`io.bfq.weight` when the BFQ scheduler provides it, else
//! `io.weight` with the v1→v2 conversion), throttling (`io.max`), and `io.stat`.
//!
//! `leafWeight` has no v2 equivalent and is ignored, as runc does.

use std::path::Path;

use oci_spec::runtime::{LinuxBlockIo, LinuxThrottleDevice};

use crate::cgroup_file;
use crate::error::Result;
use crate::knob;
use crate::stats::{BlkioEntry, BlkioStats};

/// cgroup v1 blkio weight (10..=1000) to v2 `io.weight` (1..=10000): `1 + (w - 10) * 9999 / 990`.
pub fn blkio_weight_to_io_weight(w: u16) -> u64 {
    let w = u64::from(w.clamp(10, 1000));
    1 + (w - 10) * 9999 / 990
}

pub(crate) fn apply(dir: &Path, b: &LinuxBlockIo) -> Result<()> {
    let weight = b.weight().filter(|w| *w != 0);
    let devices: Vec<_> = b
        .weight_device()
        .iter()
        .flatten()
        .filter_map(|d| {
            d.weight()
                .filter(|w| *w != 0)
                .map(|w| (d.major(), d.minor(), w))
        })
        .collect();
    if weight.is_some() || !devices.is_empty() {
        // BFQ takes v1-range weights as they are.
        let bfq = dir.join("io.bfq.weight").exists();
        if let Some(w) = weight {
            let field = "linux.resources.blockIO.weight";
            if bfq {
                knob::set(dir, "io.bfq.weight", &w.to_string(), field)?;
            } else {
                knob::set_required(
                    dir,
                    "io.weight",
                    &blkio_weight_to_io_weight(w).to_string(),
                    field,
                )?;
            }
        }
        for (major, minor, w) in devices {
            let field = "linux.resources.blockIO.weightDevice";
            if bfq {
                knob::set(dir, "io.bfq.weight", &format!("{major}:{minor} {w}"), field)?;
            } else {
                let v = format!("{major}:{minor} {}", blkio_weight_to_io_weight(w));
                knob::set_required(dir, "io.weight", &v, field)?;
            }
        }
    }
    let throttles: [(&str, &str, &Option<Vec<LinuxThrottleDevice>>); 4] = [
        (
            "rbps",
            "linux.resources.blockIO.throttleReadBpsDevice",
            b.throttle_read_bps_device(),
        ),
        (
            "wbps",
            "linux.resources.blockIO.throttleWriteBpsDevice",
            b.throttle_write_bps_device(),
        ),
        (
            "riops",
            "linux.resources.blockIO.throttleReadIOPSDevice",
            b.throttle_read_iops_device(),
        ),
        (
            "wiops",
            "linux.resources.blockIO.throttleWriteIOPSDevice",
            b.throttle_write_iops_device(),
        ),
    ];
    for (key, field, list) in throttles {
        for d in list.iter().flatten() {
            // 0 removes the limit, as it does in v1.
            let rate = if d.rate() == 0 {
                "max".to_owned()
            } else {
                d.rate().to_string()
            };
            knob::set_required(
                dir,
                "io.max",
                &format!("{}:{} {key}={rate}", d.major(), d.minor()),
                field,
            )?;
        }
    }
    Ok(())
}

/// `io.stat` in runc's v1-compatible layout.
pub(crate) fn stats(dir: &Path, out: &mut BlkioStats) -> Result<()> {
    let path = dir.join("io.stat");
    let Some(text) = cgroup_file::read_if_exists(dir, "io.stat")? else {
        return Ok(());
    };
    for line in text.lines() {
        let mut it = line.split_whitespace();
        let Some((major, minor)) = it.next().and_then(|d| d.split_once(':')) else {
            continue;
        };
        let (Ok(major), Ok(minor)) = (major.parse::<u64>(), minor.parse::<u64>()) else {
            return Err(cgroup_file::FileError::Parse {
                path,
                content: line.to_owned(),
            }
            .into());
        };
        for kv in it {
            let Some((k, v)) = kv.split_once('=') else {
                continue;
            };
            let (table, op) = match k {
                "rbytes" => (&mut out.io_service_bytes_recursive, "Read"),
                "wbytes" => (&mut out.io_service_bytes_recursive, "Write"),
                "rios" => (&mut out.io_serviced_recursive, "Read"),
                "wios" => (&mut out.io_serviced_recursive, "Write"),
                _ => continue,
            };
            let value = cgroup_file::parse_u64(&path, v)?;
            table.push(BlkioEntry {
                major,
                minor,
                op: op.to_owned(),
                value,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::blkio_weight_to_io_weight;

    #[test]
    fn weight_conversion() {
        assert_eq!(blkio_weight_to_io_weight(10), 1);
        assert_eq!(blkio_weight_to_io_weight(500), 4950);
        assert_eq!(blkio_weight_to_io_weight(1000), 10_000);
    }
}
