//! API versions: the `/v1.NN` prefix of a request and the range berthd
//! accepts (moby's `api.DefaultVersion` / `MinSupportedAPIVersion`).

use std::fmt;
use std::str::FromStr;

/// The API version berthd advertises (`API-Version` header, `/version`):
/// Docker Engine 27's.
pub const CURRENT: ApiVersion = ApiVersion {
    major: 1,
    minor: 47,
};

/// The oldest version berthd accepts in a request path (Docker's minimum).
pub const MINIMUM: ApiVersion = ApiVersion {
    major: 1,
    minor: 24,
};

/// A Docker Engine API version, `major.minor` (e.g. `1.44`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ApiVersion {
    pub major: u32,
    pub minor: u32,
}

impl ApiVersion {
    pub const fn new(major: u32, minor: u32) -> Self {
        ApiVersion { major, minor }
    }
}

/// A version string that is not `<major>.<minor>`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid API version {0:?}")]
pub struct InvalidVersion(pub String);

impl FromStr for ApiVersion {
    type Err = InvalidVersion;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || InvalidVersion(s.to_string());
        let (major, minor) = s.split_once('.').ok_or_else(bad)?;
        let number = |part: &str| -> Result<u32, InvalidVersion> {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            part.parse().map_err(|_| bad())
        };
        Ok(ApiVersion {
            major: number(major)?,
            minor: number(minor)?,
        })
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_orders() {
        let v: ApiVersion = "1.44".parse().unwrap();
        assert_eq!(v, ApiVersion::new(1, 44));
        assert!(MINIMUM < v && v < ApiVersion::new(1, 100));
        assert_eq!(v.to_string(), "1.44");
        assert!(CURRENT >= ApiVersion::new(1, 44));
    }

    #[test]
    fn rejects_garbage() {
        for bad in ["", "1", "1.", ".4", "1.4.4", "a.b", "1.-4", "1.+4"] {
            assert!(bad.parse::<ApiVersion>().is_err(), "{bad}");
        }
    }
}
