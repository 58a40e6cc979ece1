//! The kernel's list format for CPUs and memory nodes (`0-3,5,8-15:2/4`), used to validate
//! `linux.resources.cpu.cpus`/`mems` before anything is written and to report cpuset stats.

/// The largest CPU or node number accepted (cpuset stats report them as `u16`).
const MAX_ID: u32 = u16::MAX as u32;

fn num(s: &str) -> Result<u32, String> {
    let v: u32 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a number"))?;
    if v > MAX_ID {
        return Err(format!("{v} is larger than {MAX_ID}"));
    }
    Ok(v)
}

/// Parse a list into its sorted, de-duplicated members. The empty string is the empty list.
/// On error, returns a reason suitable for a message.
pub(crate) fn parse(list: &str) -> Result<Vec<u16>, String> {
    let list = list.trim();
    let mut out: Vec<u16> = Vec::new();
    if list.is_empty() {
        return Ok(out);
    }
    for item in list.split(',') {
        let (range, stride) = match item.split_once(':') {
            Some((r, s)) => {
                let (used, group) = s
                    .split_once('/')
                    .ok_or_else(|| format!("{item:?}: expected a-b:used/group"))?;
                let (used, group) = (num(used)?, num(group)?);
                if used == 0 || group == 0 || used > group {
                    return Err(format!("{item:?}: bad used/group {used}/{group}"));
                }
                (r, Some((used, group)))
            }
            None => (item, None),
        };
        let (lo, hi) = match range.split_once('-') {
            Some((a, b)) => (num(a)?, num(b)?),
            None if stride.is_none() => {
                let v = num(range)?;
                (v, v)
            }
            None => return Err(format!("{item:?}: a stride needs a range")),
        };
        if lo > hi {
            return Err(format!("{item:?}: range start {lo} is after its end {hi}"));
        }
        for v in lo..=hi {
            let keep = match stride {
                Some((used, group)) => (v - lo) % group < used,
                None => true,
            };
            if keep {
                // v <= MAX_ID == u16::MAX, so the conversion cannot fail.
                out.push(u16::try_from(v).unwrap_or(u16::MAX));
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn valid_lists() {
        assert_eq!(parse("").unwrap(), Vec::<u16>::new());
        assert_eq!(parse("0").unwrap(), vec![0]);
        assert_eq!(parse("0-3,5").unwrap(), vec![0, 1, 2, 3, 5]);
        assert_eq!(parse("3,1,1-2\n").unwrap(), vec![1, 2, 3]);
        assert_eq!(parse("0-7:2/4").unwrap(), vec![0, 1, 4, 5]);
    }

    #[test]
    fn invalid_lists() {
        for bad in [
            "a", "1-", "-1", "3-1", "1,,2", "0-7:3/2", "5:1/2", "70000", "1 2",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }
}
