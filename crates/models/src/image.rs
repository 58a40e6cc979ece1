//! Image answers: `GET /images/json` (moby `image.Summary`),
//! `GET /images/{name}/json` (`image.InspectResponse`), `.../history`
//! (`image.HistoryResponseItem`), `DELETE /images/{name}`
//! (`image.DeleteResponse`) and `POST /images/prune` (`image.PruneReport`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::container_config::ContainerConfig;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ImageSummary {
    #[serde(rename = "Containers", default)]
    pub containers: i64,
    /// Seconds since the epoch.
    #[serde(rename = "Created", default)]
    pub created: i64,
    #[serde(rename = "Id")]
    pub id: String,
    #[serde(rename = "Labels", default)]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(rename = "ParentId", default)]
    pub parent_id: String,
    #[serde(rename = "RepoDigests", default)]
    pub repo_digests: Option<Vec<String>>,
    #[serde(rename = "RepoTags", default)]
    pub repo_tags: Option<Vec<String>>,
    #[serde(rename = "SharedSize", default)]
    pub shared_size: i64,
    #[serde(rename = "Size", default)]
    pub size: i64,
    /// Only for API < 1.44.
    #[serde(
        rename = "VirtualSize",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub virtual_size: Option<i64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct ImageInspect {
    #[serde(rename = "Id")]
    pub id: String,
    #[serde(default)]
    pub repo_tags: Vec<String>,
    #[serde(default)]
    pub repo_digests: Vec<String>,
    #[serde(default)]
    pub parent: String,
    #[serde(default)]
    pub comment: String,
    /// RFC 3339 with nanoseconds, as Go prints a `time.Time`.
    #[serde(default)]
    pub created: String,
    /// Only for API < 1.45.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// Only for API < 1.45.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_config: Option<ContainerConfig>,
    #[serde(default)]
    pub docker_version: String,
    #[serde(default)]
    pub author: String,
    #[serde(default)]
    pub config: Option<ContainerConfig>,
    #[serde(default)]
    pub architecture: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub variant: String,
    #[serde(default)]
    pub os: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub os_version: String,
    #[serde(default)]
    pub size: i64,
    /// Only for API < 1.44.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virtual_size: Option<i64>,
    #[serde(default)]
    pub graph_driver: GraphDriver,
    #[serde(rename = "RootFS", default)]
    pub root_fs: RootFs,
    #[serde(default)]
    pub metadata: Metadata,
}

/// Where the image's files are (moby `storage.DriverData`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct GraphDriver {
    pub name: String,
    #[serde(default)]
    pub data: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct RootFs {
    #[serde(rename = "Type", default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub layers: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct Metadata {
    /// RFC 3339; omitted when the image was never tagged locally.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub last_tag_time: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct HistoryItem {
    /// The image id of this step, or `<missing>` for steps whose image is not
    /// here.
    #[serde(rename = "Id")]
    pub id: String,
    /// Seconds since the epoch.
    pub created: i64,
    pub created_by: String,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    pub size: i64,
    pub comment: String,
}

/// One line of `docker rmi`: exactly one of the two is set.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct DeleteResponseItem {
    #[serde(rename = "Untagged", default, skip_serializing_if = "String::is_empty")]
    pub untagged: String,
    #[serde(rename = "Deleted", default, skip_serializing_if = "String::is_empty")]
    pub deleted: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct PruneReport {
    #[serde(rename = "ImagesDeleted", default)]
    pub images_deleted: Option<Vec<DeleteResponseItem>>,
    #[serde(rename = "SpaceReclaimed", default)]
    pub space_reclaimed: u64,
}
