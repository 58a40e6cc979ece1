//! Platforms (`linux/amd64`, `linux/arm/v7`, …): normalisation, the host's default, parsing of
//! `--platform` specifiers, and the choice of one manifest from an index, following containerd's
//! `platforms` package.
//!
//! Normalisation: `x86_64`/`x86-64` → `amd64` (variant `v1` dropped), `i386` → `386`,
//! `aarch64` → `arm64` (variant `v8`/`8` dropped), `armhf` → `arm/v7`, `armel` → `arm/v6`, `arm`
//! without variant → `arm/v7`, numeric arm variants get their `v`; `macos` → `darwin`.
//!
//! Matching ([`Platform::matcher`], containerd's `platforms.Only`): the wanted platform first,
//! then what it can also run, in order of preference:
//! - `amd64/vN` also runs `amd64/vN-1` … `amd64` (v1), then `386`;
//! - `arm64/v8.x` runs `arm64/v8.(x-1)` … `arm64`, and `arm64/v9.x` also `arm64/v8.(x+5)` …;
//!   every arm64 also runs `arm/v8`, `arm/v7`, `arm/v6`, `arm/v5`;
//! - `arm/vN` runs `arm/vN-1` … `arm/v5`.
//!
//! [`select`] picks, from an index, the manifest whose platform comes earliest in that order;
//! ties go to the first in the index; entries without a platform come last.
//!
//! ```
//! use berth_image::platform::Platform;
//!
//! let p = Platform::parse("linux/aarch64/v8").unwrap();
//! assert_eq!(p.to_string(), "linux/arm64");
//! let m = p.matcher();
//! assert!(m.matches(&Platform::parse("linux/arm/v7").unwrap()));
//! assert!(!m.matches(&Platform::parse("linux/amd64").unwrap()));
//! ```

use std::fmt;
use std::str::FromStr;

use crate::error::Category;
use crate::manifest::{Descriptor, Index};
use crate::media_type::{self, Kind};

/// The platform an image or manifest is built for (the OCI `platform` object).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Platform {
    /// CPU architecture in Go's `GOARCH` spelling: `amd64`, `arm64`, `arm`, `386`, …
    #[serde(default)]
    pub architecture: String,
    /// Operating system in Go's `GOOS` spelling: `linux`, `windows`.
    #[serde(default)]
    pub os: String,
    /// OS version (Windows images).
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
    /// Required OS features (Windows images).
    #[serde(
        rename = "os.features",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_features: Option<Vec<String>>,
    /// CPU variant: `v7` for arm, `v8` for arm64, `v2`/`v3` for amd64 micro-architecture levels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// Reserved by the OCI spec.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<Vec<String>>,
}

/// Why a platform specifier is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlatformError {
    /// The specifier does not follow `<os>|<arch>|<os>/<arch>[/<variant>]`.
    #[error("invalid platform {specifier:?}: {reason}")]
    Parse {
        /// The rejected specifier.
        specifier: String,
        /// What is wrong.
        reason: String,
    },
}

impl PlatformError {
    /// Every platform error is bad input.
    pub fn category(&self) -> Category {
        Category::Invalid
    }
}

impl Platform {
    /// A platform from its parts (not normalised).
    pub fn new(os: &str, architecture: &str, variant: Option<&str>) -> Platform {
        Platform {
            architecture: architecture.to_string(),
            os: os.to_string(),
            variant: variant.map(str::to_string),
            ..Platform::default()
        }
    }

    /// The platform of this host, normalised: `linux/amd64` on x86-64, `linux/arm64` on
    /// aarch64, `linux/arm/v7` (or the CPU's variant) on 32-bit arm.
    pub fn host() -> Platform {
        let arch = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "x86" => "386",
            "aarch64" => "arm64",
            "arm" => "arm",
            "powerpc64" if cfg!(target_endian = "little") => "ppc64le",
            "powerpc64" => "ppc64",
            "s390x" => "s390x",
            "riscv64" => "riscv64",
            "loongarch64" => "loong64",
            "mips" if cfg!(target_endian = "little") => "mipsle",
            "mips64" if cfg!(target_endian = "little") => "mips64le",
            other => other,
        };
        let variant = if arch == "arm" {
            arm_cpu_variant()
        } else {
            None
        };
        Platform::new(std::env::consts::OS, arch, variant.as_deref()).normalize()
    }

    /// The canonical spelling (see the module doc).
    pub fn normalize(&self) -> Platform {
        let os = match self.os.to_lowercase().as_str() {
            "macos" => "darwin".to_string(),
            other => other.to_string(),
        };
        let (architecture, variant) =
            normalize_arch(&self.architecture, self.variant.as_deref().unwrap_or(""));
        let os_features = self.os_features.as_ref().map(|f| {
            let mut f = f.clone();
            f.sort();
            f.dedup();
            f
        });
        Platform {
            architecture,
            os,
            os_version: self.os_version.clone(),
            os_features,
            variant: (!variant.is_empty()).then_some(variant),
            features: self.features.clone(),
        }
    }

    /// Parses a specifier, `<os>`, `<arch>`, `<os>/<arch>` or `<os>/<arch>/<variant>`, as
    /// `docker --platform` takes it. A lone OS gets the host's architecture, a lone architecture
    /// the host's OS. The result is normalised.
    pub fn parse(specifier: &str) -> Result<Platform, PlatformError> {
        let err = |reason: &str| PlatformError::Parse {
            specifier: specifier.to_string(),
            reason: reason.to_string(),
        };
        if specifier.contains('*') {
            return Err(err("wildcards are not supported"));
        }
        let parts: Vec<&str> = specifier.split('/').collect();
        if parts.len() > 3 {
            return Err(err("expected <os>/<arch>[/<variant>]"));
        }
        let valid = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
        };
        if let Some(bad) = parts.iter().find(|p| !valid(p)) {
            return Err(err(&format!(
                "component {bad:?} must be letters, digits, '_', '.' or '-'"
            )));
        }
        let host = Platform::host();
        let p = match parts.as_slice() {
            [one] => {
                let os = one.to_lowercase();
                if KNOWN_OS.contains(&os.as_str()) || os == "macos" {
                    Platform { os, ..host }
                } else {
                    let (arch, _) = normalize_arch(one, "");
                    if !KNOWN_ARCH.contains(&arch.as_str()) {
                        return Err(err("unknown operating system or architecture"));
                    }
                    Platform::new(&host.os, one, None)
                }
            }
            [os, arch] => Platform::new(os, arch, None),
            [os, arch, variant] => Platform::new(os, arch, Some(variant)),
            _ => return Err(err("expected <os>/<arch>[/<variant>]")),
        };
        Ok(p.normalize())
    }

    /// containerd's `platforms.Only`: this platform and everything it can run, best first.
    pub fn matcher(&self) -> Matcher {
        Matcher {
            ordered: platform_vector(&self.normalize()),
        }
    }

    /// The manifest of `index` this platform should use (see [`Matcher::select`]).
    pub fn select<'a>(&self, index: &'a Index) -> Option<&'a Descriptor> {
        self.matcher().select(index)
    }
}

impl fmt::Display for Platform {
    /// `os/arch[/variant]`, containerd's `platforms.Format`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.os.is_empty() {
            return f.write_str("unknown");
        }
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = self.variant.as_deref().filter(|v| !v.is_empty()) {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

impl FromStr for Platform {
    type Err = PlatformError;

    fn from_str(s: &str) -> Result<Platform, PlatformError> {
        Platform::parse(s)
    }
}

/// The manifest of `index` the host platform should use.
pub fn select(index: &Index) -> Option<&Descriptor> {
    Platform::host().select(index)
}

/// An ordered set of acceptable platforms (built by [`Platform::matcher`]).
#[derive(Clone, Debug)]
pub struct Matcher {
    ordered: Vec<Platform>,
}

impl Matcher {
    /// Where `p` ranks among the acceptable platforms (0 is best), or `None` if not acceptable.
    pub fn rank(&self, p: &Platform) -> Option<usize> {
        let p = p.normalize();
        self.ordered.iter().position(|want| same_platform(want, &p))
    }

    /// Whether `p` is acceptable.
    pub fn matches(&self, p: &Platform) -> bool {
        self.rank(p).is_some()
    }

    /// Picks from `index` the manifest (or nested index) to use: among entries whose platform
    /// is acceptable, the best ranked, the first in the index on ties; failing that, the first
    /// entry without a platform. Entries of other media types (attestations, artifacts) are
    /// never picked.
    pub fn select<'a>(&self, index: &'a Index) -> Option<&'a Descriptor> {
        let mut best: Option<(usize, &Descriptor)> = None;
        for d in &index.manifests {
            if !matches!(
                media_type::classify(&d.media_type),
                Kind::Manifest | Kind::Index
            ) {
                continue;
            }
            let rank = match &d.platform {
                Some(p) => match self.rank(p) {
                    Some(r) => r,
                    None => continue,
                },
                None => usize::MAX,
            };
            if best.is_none_or(|(b, _)| rank < b) {
                best = Some((rank, d));
            }
        }
        best.map(|(_, d)| d)
    }
}

/// containerd's matcher: same OS, architecture and variant (both normalised), and the
/// candidate's OS features a subset of the wanted ones.
fn same_platform(want: &Platform, have: &Platform) -> bool {
    if want.os != have.os || want.architecture != have.architecture || want.variant != have.variant
    {
        return false;
    }
    match (&have.os_features, &want.os_features) {
        (None, _) => true,
        (Some(h), _) if h.is_empty() => true,
        (Some(h), Some(w)) => h.iter().all(|f| w.contains(f)),
        (Some(_), None) => false,
    }
}

fn platform_vector(p: &Platform) -> Vec<Platform> {
    let with = |arch: &str, variant: Option<String>| Platform {
        architecture: arch.to_string(),
        variant,
        ..p.clone()
    };
    let variant_number = |v: &Option<String>| -> Option<u32> {
        v.as_deref()
            .and_then(|v| v.strip_prefix('v').unwrap_or(v).parse().ok())
    };
    let mut out = vec![p.clone()];
    match p.architecture.as_str() {
        "amd64" => {
            if let Some(n) = variant_number(&p.variant).filter(|n| *n > 1) {
                for level in (1..n).rev() {
                    // v1 is spelled without a variant once normalised.
                    out.push(with("amd64", (level > 1).then(|| format!("v{level}"))));
                }
            }
            out.push(Platform {
                variant: None,
                ..with("386", None)
            });
        }
        "arm" => {
            if let Some(n) = variant_number(&p.variant).filter(|n| *n > 5) {
                for v in (5..n).rev() {
                    out.push(with("arm", Some(format!("v{v}"))));
                }
            }
        }
        "arm64" => {
            let variant = p.variant.clone().unwrap_or_else(|| "v8".to_string());
            let (major_s, minor_s) = match variant.split_once('.') {
                Some((a, b)) => (a, Some(b)),
                None => (variant.as_str(), None),
            };
            if let Ok(mut major) = major_s.strip_prefix('v').unwrap_or(major_s).parse::<u32>()
                && major >= 8
            {
                let mut minor: u32 = minor_s.and_then(|m| m.parse().ok()).unwrap_or(0);
                let arm64_variant = |major: u32, minor: u32| {
                    // arm64 v8 is spelled without a variant once normalised.
                    match (major, minor) {
                        (8, 0) => None,
                        (m, 0) => Some(format!("v{m}")),
                        (m, n) => Some(format!("v{m}.{n}")),
                    }
                };
                if major == 9 {
                    for m in (0..minor).rev() {
                        out.push(with("arm64", arm64_variant(9, m)));
                    }
                    // v9.0 diverged from v8.5: v9.x runs v8.(x+5).
                    minor += 5;
                    major = 8;
                    out.push(with("arm64", arm64_variant(8, minor)));
                }
                for m in (0..minor).rev() {
                    out.push(with("arm64", arm64_variant(major, m)));
                }
            }
            let arm_variant = if variant.starts_with("v8.") || variant.starts_with("v9.") {
                "v8".to_string()
            } else {
                variant
            };
            out.extend(platform_vector(&with("arm", Some(arm_variant)).normalize()));
        }
        _ => {}
    }
    out
}

/// containerd's `normalizeArch`.
fn normalize_arch(arch: &str, variant: &str) -> (String, String) {
    let arch = arch.to_lowercase();
    let variant = variant.to_lowercase();
    match arch.as_str() {
        "i386" => ("386".into(), String::new()),
        "x86_64" | "x86-64" | "amd64" => {
            let v = if variant == "v1" {
                String::new()
            } else {
                variant
            };
            ("amd64".into(), v)
        }
        "aarch64" | "arm64" => {
            let v = match variant.as_str() {
                "8" | "v8" | "v8.0" => String::new(),
                "9" | "9.0" | "v9.0" => "v9".into(),
                _ => variant,
            };
            ("arm64".into(), v)
        }
        "armhf" => ("arm".into(), "v7".into()),
        "armel" => ("arm".into(), "v6".into()),
        "arm" => {
            let v = match variant.as_str() {
                "" | "7" => "v7".into(),
                "5" | "6" | "8" => format!("v{variant}"),
                _ => variant,
            };
            ("arm".into(), v)
        }
        _ => (arch, variant),
    }
}

/// The arm variant of this CPU from `/proc/cpuinfo` ("CPU architecture: 7" → `v7`).
fn arm_cpu_variant() -> Option<String> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    let line = cpuinfo
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("cpu architecture"))?;
    let value = line.split_once(':')?.1.trim();
    let digits: String = value.chars().take_while(char::is_ascii_digit).collect();
    match digits.as_str() {
        "" => None,
        "8" => Some("v8".into()),
        d if d.parse::<u32>().is_ok_and(|n| n <= 7) => Some(format!("v{d}")),
        _ => None,
    }
}

const KNOWN_OS: &[&str] = &[
    "aix",
    "android",
    "darwin",
    "dragonfly",
    "freebsd",
    "hurd",
    "illumos",
    "ios",
    "js",
    "linux",
    "nacl",
    "netbsd",
    "openbsd",
    "plan9",
    "solaris",
    "windows",
    "zos",
];

const KNOWN_ARCH: &[&str] = &[
    "386",
    "amd64",
    "amd64p32",
    "arm",
    "armbe",
    "arm64",
    "arm64be",
    "ppc64",
    "ppc64le",
    "loong64",
    "mips",
    "mipsle",
    "mips64",
    "mips64le",
    "mips64p32",
    "mips64p32le",
    "ppc",
    "riscv",
    "riscv64",
    "s390",
    "s390x",
    "sparc",
    "sparc64",
    "wasm",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::Digest;

    fn p(s: &str) -> Platform {
        Platform::parse(s).unwrap()
    }

    #[test]
    fn normalises_like_containerd() {
        let cases = [
            ("linux/x86_64", "linux/amd64"),
            ("linux/x86-64/v1", "linux/amd64"),
            ("linux/amd64/v3", "linux/amd64/v3"),
            ("linux/i386", "linux/386"),
            ("linux/aarch64", "linux/arm64"),
            ("linux/arm64/v8", "linux/arm64"),
            ("linux/arm64/8", "linux/arm64"),
            ("linux/arm64/v9.0", "linux/arm64/v9"),
            ("linux/armhf", "linux/arm/v7"),
            ("linux/armel", "linux/arm/v6"),
            ("linux/arm", "linux/arm/v7"),
            ("linux/arm/6", "linux/arm/v6"),
            ("macos/arm64", "darwin/arm64"),
            ("Linux/AMD64", "linux/amd64"),
        ];
        for (input, want) in cases {
            assert_eq!(p(input).to_string(), want, "{input}");
        }
        // A lone OS or architecture fills in the host's other half.
        let host = Platform::host();
        assert_eq!(p("linux").architecture, host.architecture);
        assert_eq!(p("arm64").os, host.os);
        assert_eq!(p("arm64").architecture, "arm64");
    }

    #[test]
    fn parse_errors() {
        for bad in [
            "",
            "linux/",
            "linux/amd64/v1/x",
            "linux/*",
            "nosuchthing",
            "linux/am d64",
        ] {
            let e = Platform::parse(bad).unwrap_err();
            assert_eq!(e.category(), Category::Invalid);
            assert!(e.to_string().starts_with("invalid platform"), "{e}");
        }
    }

    #[test]
    fn host_default() {
        let host = Platform::host();
        assert_eq!(host.os, "linux");
        if cfg!(target_arch = "x86_64") {
            assert_eq!(host.to_string(), "linux/amd64");
        }
        if cfg!(target_arch = "aarch64") {
            assert_eq!(host.to_string(), "linux/arm64");
        }
    }

    #[test]
    fn fallback_order() {
        let names =
            |m: &Matcher| -> Vec<String> { m.ordered.iter().map(|p| p.to_string()).collect() };
        assert_eq!(
            names(&p("linux/amd64").matcher()),
            ["linux/amd64", "linux/386"]
        );
        assert_eq!(
            names(&p("linux/amd64/v3").matcher()),
            [
                "linux/amd64/v3",
                "linux/amd64/v2",
                "linux/amd64",
                "linux/386"
            ]
        );
        assert_eq!(
            names(&p("linux/arm/v7").matcher()),
            ["linux/arm/v7", "linux/arm/v6", "linux/arm/v5"]
        );
        assert_eq!(
            names(&p("linux/arm64").matcher()),
            [
                "linux/arm64",
                "linux/arm/v8",
                "linux/arm/v7",
                "linux/arm/v6",
                "linux/arm/v5"
            ]
        );
        assert_eq!(
            names(&p("linux/arm64/v8.2").matcher()),
            [
                "linux/arm64/v8.2",
                "linux/arm64/v8.1",
                "linux/arm64",
                "linux/arm/v8",
                "linux/arm/v7",
                "linux/arm/v6",
                "linux/arm/v5"
            ]
        );
        assert_eq!(
            names(&p("linux/arm64/v9.1").matcher())[..5],
            [
                "linux/arm64/v9.1",
                "linux/arm64/v9",
                "linux/arm64/v8.6",
                "linux/arm64/v8.5",
                "linux/arm64/v8.4"
            ]
        );
        let m = p("linux/amd64").matcher();
        assert!(m.matches(&Platform::new("linux", "x86_64", None)));
        assert!(!m.matches(&p("linux/amd64/v2")));
        assert!(!m.matches(&p("windows/amd64")));
        assert!(!m.matches(&Platform::new("unknown", "unknown", None)));
    }

    fn entry(media_type: &str, platform: Option<&str>, n: u8) -> Descriptor {
        Descriptor::new(media_type, Digest::sha256_of(&[n]), u64::from(n)).with_platform(
            platform.map(|s| {
                let parts: Vec<&str> = s.split('/').collect();
                Platform::new(parts[0], parts[1], parts.get(2).copied())
            }),
        )
    }

    #[test]
    fn selects_from_an_index() {
        use crate::media_type::{OCI_INDEX, OCI_MANIFEST};
        let index = Index::new(vec![
            entry(OCI_MANIFEST, Some("linux/arm/v6"), 1),
            entry(OCI_MANIFEST, Some("linux/arm/v7"), 2),
            entry(OCI_MANIFEST, Some("linux/386"), 3),
            entry(OCI_MANIFEST, Some("linux/amd64"), 4),
            entry(OCI_MANIFEST, Some("linux/amd64"), 5),
            entry(OCI_MANIFEST, Some("unknown/unknown"), 6),
            entry("application/vnd.in-toto+json", Some("linux/arm64"), 7),
        ]);
        assert_eq!(p("linux/amd64").select(&index).unwrap().size, 4);
        assert_eq!(p("linux/amd64/v3").select(&index).unwrap().size, 4);
        assert_eq!(p("linux/arm/v7").select(&index).unwrap().size, 2);
        assert_eq!(p("linux/arm/v6").select(&index).unwrap().size, 1);
        assert_eq!(p("linux/arm64").select(&index).unwrap().size, 2);
        assert_eq!(p("linux/arm/v5").select(&index), None);
        assert_eq!(p("linux/s390x").select(&index), None);

        let only_386 = Index::new(vec![entry(OCI_MANIFEST, Some("linux/386"), 9)]);
        assert_eq!(p("linux/amd64").select(&only_386).unwrap().size, 9);

        // Entries without a platform are a last resort (docker-save'd index.json).
        let no_platform = Index::new(vec![
            entry(OCI_INDEX, None, 1),
            entry(OCI_MANIFEST, Some("linux/amd64"), 2),
        ]);
        assert_eq!(p("linux/amd64").select(&no_platform).unwrap().size, 2);
        assert_eq!(p("linux/arm64").select(&no_platform).unwrap().size, 1);
    }
}
