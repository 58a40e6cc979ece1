//! `GET /images/json`: one summary per image, with dockerd's filters
//! (`dangling`, `label`, `label!`, `before`, `since`, `reference`, `until`)
//! and without intermediate images unless `all`.

use std::collections::HashMap;
use std::time::SystemTime;

use berth_models::filters::Filters;
use berth_models::image::ImageSummary;

use super::store::{self, ImageRecord, ImageRef, RefKind};
use super::{ImageError, config_view, glob};
use crate::Engine;
use crate::time::{parse_rfc3339, parse_unix_timestamp, unix_seconds};

const FILTERS: &[&str] = &[
    "dangling",
    "label",
    "label!",
    "before",
    "since",
    "reference",
    "until",
];

#[derive(Debug, Default)]
pub struct ListOptions {
    /// Include intermediate images (`-a`).
    pub all: bool,
    pub filters: Filters,
}

impl Engine {
    pub fn list_images(&self, options: &ListOptions) -> Result<Vec<ImageSummary>, ImageError> {
        let f = &options.filters;
        f.validate(FILTERS)
            .map_err(|e| ImageError::InvalidArgument(e.to_string()))?;
        let dangling = f
            .get_bool("dangling")
            .map_err(|e| ImageError::InvalidArgument(e.to_string()))?;
        let before = self.filter_image_time(f, "before")?;
        let since = self.filter_image_time(f, "since")?;
        let until = match f.get("until").first() {
            Some(v) => Some(parse_until(v)?),
            None => None,
        };

        let (images, refs) = {
            let conn = self.db.conn();
            (store::all_images(&conn)?, store::all_refs(&conn)?)
        };
        let mut refs_by_image: HashMap<String, Vec<ImageRef>> = HashMap::new();
        for r in refs {
            refs_by_image
                .entry(r.image_id.to_string())
                .or_default()
                .push(r);
        }
        let has_children: std::collections::HashSet<String> = images
            .iter()
            .filter_map(|i| i.parent.as_ref().map(ToString::to_string))
            .collect();

        let mut out = Vec::new();
        for image in &images {
            let refs = refs_by_image
                .get(image.id.as_str())
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let (tags, digests) = names(refs);
            let is_dangling = tags.is_empty();
            if dangling.is_some_and(|d| d != is_dangling) {
                continue;
            }
            if !options.all && refs.is_empty() && has_children.contains(image.id.as_str()) {
                continue;
            }
            let config = self.image_config(image)?;
            let created = config
                .created
                .as_deref()
                .and_then(|c| parse_rfc3339(c).ok())
                .unwrap_or(SystemTime::UNIX_EPOCH);
            if before.is_some_and(|b| created >= b) || since.is_some_and(|s| created <= s) {
                continue;
            }
            if until.is_some_and(|u| created > u) {
                continue;
            }
            let labels = config_view::labels(&config).unwrap_or_default();
            if !f.match_labels("label", &labels) {
                continue;
            }
            if f.get("label!").iter().any(|l| match l.split_once('=') {
                Some((k, v)) => labels.get(k).is_some_and(|have| have == v),
                None => labels.contains_key(l.as_str()),
            }) {
                continue;
            }
            let references = f.get("reference");
            let (mut tags, mut digests) = (tags, digests);
            if !references.is_empty() {
                // dockerd keeps only the names that match, digests too
                tags.retain(|t| matches_reference(references, t));
                digests.retain(|d| matches_reference(references, d));
                if tags.is_empty() && digests.is_empty() {
                    continue;
                }
            }
            out.push(summary(image, &config, tags, digests, labels));
        }
        out.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.id.cmp(&b.id)));
        Ok(out)
    }

    /// `before`/`since`: the creation time of the image named.
    fn filter_image_time(&self, f: &Filters, key: &str) -> Result<Option<SystemTime>, ImageError> {
        let Some(name) = f.get(key).first() else {
            return Ok(None);
        };
        let image = self.find_image(name)?;
        let config = self.image_config(&image)?;
        Ok(config
            .created
            .as_deref()
            .and_then(|c| parse_rfc3339(c).ok()))
    }
}

/// The summary of one image.
pub fn summary(
    image: &ImageRecord,
    config: &berth_image::ImageConfig,
    tags: Vec<String>,
    digests: Vec<String>,
    labels: std::collections::BTreeMap<String, String>,
) -> ImageSummary {
    let created = config
        .created
        .as_deref()
        .and_then(|c| parse_rfc3339(c).ok())
        .map_or(0, unix_seconds);
    ImageSummary {
        containers: -1,
        created,
        id: image.id.to_string(),
        labels: if labels.is_empty() {
            None
        } else {
            Some(labels)
        },
        parent_id: image
            .parent
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        repo_digests: Some(digests),
        repo_tags: Some(tags),
        shared_size: -1,
        size: image.size as i64,
        virtual_size: None,
    }
}

/// The familiar tags and digests of an image, as `RepoTags`/`RepoDigests`.
pub fn names(refs: &[ImageRef]) -> (Vec<String>, Vec<String>) {
    let mut tags = Vec::new();
    let mut digests = Vec::new();
    for r in refs {
        match r.kind {
            RefKind::Tag => tags.push(familiar(r)),
            RefKind::Digest => digests.push(familiar(r)),
        }
    }
    (tags, digests)
}

fn familiar(r: &ImageRef) -> String {
    r.reference()
        .map_or_else(|| r.name.clone(), |reference| reference.familiar())
}

/// Docker's `reference` filter: the pattern against the familiar name with
/// and without its tag.
fn matches_reference(patterns: &[String], familiar: &str) -> bool {
    let without_digest = familiar.split_once('@').map_or(familiar, |(n, _)| n);
    let name = without_digest
        .rsplit_once(':')
        .filter(|(_, tag)| !tag.contains('/'))
        .map_or(without_digest, |(n, _)| n);
    patterns
        .iter()
        .any(|p| glob::matches(p, familiar) || glob::matches(p, name))
}

/// `until`: a Unix timestamp, an RFC 3339 time, or a duration before now
/// (`10m`, `24h`).
pub fn parse_until(value: &str) -> Result<SystemTime, ImageError> {
    if let Some(t) = parse_unix_timestamp(value).or_else(|| parse_rfc3339(value).ok()) {
        return Ok(t);
    }
    berth_models::duration::parse_go_duration(value)
        .ok()
        .and_then(|ns| u64::try_from(ns).ok())
        .and_then(|ns| SystemTime::now().checked_sub(std::time::Duration::from_nanos(ns)))
        .ok_or_else(|| ImageError::InvalidArgument(format!("invalid filter 'until={value}'")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_match_with_and_without_tag() {
        let p = |s: &str| vec![s.to_string()];
        assert!(matches_reference(&p("busybox"), "busybox:latest"));
        assert!(matches_reference(&p("busy*"), "busybox:latest"));
        assert!(matches_reference(&p("busybox:lat*"), "busybox:latest"));
        assert!(!matches_reference(&p("alpine"), "busybox:latest"));
        assert!(!matches_reference(
            &p("berth-mine"),
            "127.0.0.1:5000/busybox@sha256:0000"
        ));
        assert!(matches_reference(
            &p("127.0.0.1:5000/busybox"),
            "127.0.0.1:5000/busybox@sha256:0000"
        ));
        assert!(matches_reference(
            &p("localhost:5000/*"),
            "localhost:5000/a:1"
        ));
    }

    #[test]
    fn durations() {
        assert!(parse_until("24h").is_ok());
        assert!(parse_until("nonsense").is_err());
    }
}
