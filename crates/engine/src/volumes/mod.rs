//! Volumes with the `local` driver: a directory under
//! `<data-root>/volumes/<name>/_data`, or, with `-o type=…`, a filesystem
//! mounted there while containers use it (Docker's `type=tmpfs`,
//! `type=none,o=bind,device=/path`, or any `mount -t type -o o device`).
//! The records are rows of the `volumes` table; which containers use a
//! volume is read from the container records, so it cannot go stale.

use std::collections::BTreeMap;
use std::path::PathBuf;

use berth_models::volume::Volume;
use rusqlite::{OptionalExtension, params};

use crate::db::DbError;
use crate::error::{ErrorKind, Kind};

#[derive(Debug, thiserror::Error)]
pub enum VolumeError {
    #[error("get {0}: no such volume")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error("remove {name}: volume is in use - [{users}]")]
    InUse { name: String, users: String },
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl ErrorKind for VolumeError {
    fn kind(&self) -> Kind {
        match self {
            VolumeError::NotFound(_) => Kind::NotFound,
            VolumeError::Invalid(_) => Kind::InvalidArgument,
            VolumeError::InUse { .. } | VolumeError::Conflict(_) => Kind::Conflict,
            _ => Kind::Internal,
        }
    }
}

impl From<rusqlite::Error> for VolumeError {
    fn from(e: rusqlite::Error) -> Self {
        VolumeError::Db(DbError::Query(e))
    }
}

/// A volume as berthd stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeRecord {
    pub name: String,
    pub driver: String,
    pub created_at: String,
    pub labels: BTreeMap<String, String>,
    pub options: BTreeMap<String, String>,
    /// Made for one container (image `VOLUME`, `-v /path`).
    pub anonymous: bool,
}

/// Docker's rule for local volume names.
pub fn valid_name(name: &str) -> bool {
    crate::containers::names::valid_name(name) && name.len() >= 2
        || (name.len() == 1 && name.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// The `-o` keys the local driver knows.
const OPTION_KEYS: [&str; 4] = ["type", "device", "o", "size"];

impl crate::Engine {
    pub fn volume_dir(&self, name: &str) -> PathBuf {
        self.config.data_root.join("volumes").join(name)
    }

    /// Where containers see the volume's data.
    pub fn volume_data(&self, name: &str) -> PathBuf {
        self.volume_dir(name).join("_data")
    }

    fn volume_record(&self, name: &str) -> Result<Option<VolumeRecord>, VolumeError> {
        let conn = self.db.conn();
        let row = conn
            .query_row(
                "SELECT name, driver, created_at, labels, options, anonymous FROM volumes WHERE name = ?1",
                params![name],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, bool>(5)?,
                    ))
                },
            )
            .optional()?;
        Ok(row.map(
            |(name, driver, created_at, labels, options, anonymous)| VolumeRecord {
                name,
                driver,
                created_at,
                labels: serde_json::from_str(&labels).unwrap_or_default(),
                options: serde_json::from_str(&options).unwrap_or_default(),
                anonymous,
            },
        ))
    }

    fn all_volume_records(&self) -> Result<Vec<VolumeRecord>, VolumeError> {
        let names: Vec<String> = {
            let conn = self.db.conn();
            let mut stmt = conn.prepare("SELECT name FROM volumes ORDER BY name")?;
            stmt.query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?
        };
        let mut out = Vec::new();
        for n in names {
            if let Some(r) = self.volume_record(&n)? {
                out.push(r);
            }
        }
        Ok(out)
    }

    /// `POST /volumes/create`: creating an existing volume returns it
    /// (Docker's behaviour) unless the options differ.
    pub fn create_volume(
        &self,
        name: Option<&str>,
        driver: &str,
        options: BTreeMap<String, String>,
        labels: BTreeMap<String, String>,
        anonymous: bool,
    ) -> Result<Volume, VolumeError> {
        let driver = if driver.is_empty() { "local" } else { driver };
        if driver != "local" {
            return Err(VolumeError::NotFound(format!(
                "error looking up volume plugin {driver}: plugin \"{driver}\" not found"
            )));
        }
        let name = match name.filter(|n| !n.is_empty()) {
            Some(n) => n.to_string(),
            None => crate::containers::names::new_id(),
        };
        if !valid_name(&name) {
            return Err(VolumeError::Invalid(format!(
                "create {name}: \"{name}\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path"
            )));
        }
        for key in options.keys() {
            if !OPTION_KEYS.contains(&key.as_str()) {
                return Err(VolumeError::Invalid(format!(
                    "create {name}: invalid option key: {key:?}"
                )));
            }
        }
        if options.contains_key("device") != options.contains_key("type") && !options.is_empty() {
            return Err(VolumeError::Invalid(format!(
                "create {name}: missing required option: \"{}\"",
                if options.contains_key("type") {
                    "device"
                } else {
                    "type"
                }
            )));
        }
        if let Some(existing) = self.volume_record(&name)? {
            if !options.is_empty() && existing.options != options {
                return Err(VolumeError::Conflict(format!(
                    "create {name}: a volume with the same name already exists with different options"
                )));
            }
            return self.volume_view(&existing, None);
        }
        let data = self.volume_data(&name);
        std::fs::create_dir_all(&data).map_err(|source| VolumeError::Io {
            context: format!("create {}", data.display()),
            source,
        })?;
        let record = VolumeRecord {
            name: name.clone(),
            driver: driver.to_string(),
            created_at: crate::time::format_rfc3339_nanos(crate::time::from_unix(
                crate::time::unix_seconds(std::time::SystemTime::now()),
                0,
            )),
            labels,
            options,
            anonymous,
        };
        self.db.conn().execute(
            "INSERT INTO volumes (name, driver, created_at, labels, options, anonymous) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                record.name,
                record.driver,
                record.created_at,
                serde_json::to_string(&record.labels).expect("maps serialise"),
                serde_json::to_string(&record.options).expect("maps serialise"),
                record.anonymous,
            ],
        )?;
        self.events.publish(crate::events::Event {
            kind: "volume",
            action: "create",
            actor: &name,
            attributes: [("driver".to_string(), driver.to_string())].into(),
        });
        self.volume_view(&record, None)
    }

    fn volume_view(
        &self,
        r: &VolumeRecord,
        usage: Option<(i64, i64)>,
    ) -> Result<Volume, VolumeError> {
        Ok(Volume {
            created_at: r.created_at.clone(),
            driver: r.driver.clone(),
            labels: Some(r.labels.clone()),
            mountpoint: self.volume_data(&r.name).display().to_string(),
            name: r.name.clone(),
            options: if r.options.is_empty() {
                None
            } else {
                Some(r.options.clone())
            },
            scope: "local".into(),
            usage_data: usage
                .map(|(size, ref_count)| berth_models::volume::UsageData { size, ref_count }),
        })
    }

    /// Containers (names) using the volume.
    pub fn volume_users(&self, name: &str) -> Vec<String> {
        self.containers
            .lock()
            .values()
            .filter(|c| {
                c.mounts
                    .iter()
                    .any(|m| m.kind == "volume" && m.name == name)
            })
            .map(|c| c.id.clone())
            .collect()
    }

    pub fn inspect_volume(&self, name: &str) -> Result<Volume, VolumeError> {
        let r = self
            .volume_record(name)?
            .ok_or_else(|| VolumeError::NotFound(name.to_string()))?;
        self.volume_view(&r, None)
    }

    /// `GET /volumes` with Docker's filters: `name`, `label`, `driver`,
    /// `dangling`.
    pub fn list_volumes(
        &self,
        filters: &berth_models::filters::Filters,
    ) -> Result<Vec<Volume>, VolumeError> {
        let mut out = Vec::new();
        for r in self.all_volume_records()? {
            if !self.volume_matches(&r, filters)? {
                continue;
            }
            out.push(self.volume_view(&r, None)?);
        }
        Ok(out)
    }

    fn volume_matches(
        &self,
        r: &VolumeRecord,
        filters: &berth_models::filters::Filters,
    ) -> Result<bool, VolumeError> {
        for (key, values) in filters.iter() {
            let ok = match key.as_str() {
                "name" => values.iter().any(|v| r.name.contains(v.as_str())),
                "driver" => values.contains(&r.driver),
                "label" => values.iter().all(|v| match v.split_once('=') {
                    Some((k, val)) => r.labels.get(k).is_some_and(|x| x == val),
                    None => r.labels.contains_key(v.as_str()),
                }),
                "dangling" => {
                    let in_use = !self.volume_users(&r.name).is_empty();
                    values.iter().any(|v| match v.as_str() {
                        "true" | "1" => !in_use,
                        "false" | "0" => in_use,
                        _ => false,
                    })
                }
                "anonymous" => true,
                other => {
                    return Err(VolumeError::Invalid(format!("invalid filter '{other}'")));
                }
            };
            if !ok {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// `DELETE /volumes/{name}`.
    pub fn remove_volume(&self, name: &str, force: bool) -> Result<(), VolumeError> {
        let Some(record) = self.volume_record(name)? else {
            if force {
                return Ok(());
            }
            return Err(VolumeError::NotFound(name.to_string()));
        };
        let users = self.volume_users(name);
        if !users.is_empty() {
            return Err(VolumeError::InUse {
                name: name.to_string(),
                users: users.join(", "),
            });
        }
        let _ = crate::containers::mounts::unmount_volume(self, &record.name);
        let dir = self.volume_dir(name);
        if let Err(e) = std::fs::remove_dir_all(&dir)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            return Err(VolumeError::Io {
                context: format!("remove {}", dir.display()),
                source: e,
            });
        }
        self.db
            .conn()
            .execute("DELETE FROM volumes WHERE name = ?1", params![name])?;
        self.events.publish(crate::events::Event {
            kind: "volume",
            action: "destroy",
            actor: name,
            attributes: [("driver".to_string(), record.driver.clone())].into(),
        });
        Ok(())
    }

    /// `POST /volumes/prune`: unused volumes; anonymous ones only unless
    /// `all=true` (API ≥ 1.42).
    pub fn prune_volumes(
        &self,
        filters: &berth_models::filters::Filters,
        all: bool,
    ) -> Result<berth_models::volume::PruneReport, VolumeError> {
        let mut deleted = Vec::new();
        let mut reclaimed = 0u64;
        for r in self.all_volume_records()? {
            if !all && !r.anonymous {
                continue;
            }
            if !self.volume_users(&r.name).is_empty() || !self.volume_matches(&r, filters)? {
                continue;
            }
            reclaimed += dir_size(&self.volume_data(&r.name));
            self.remove_volume(&r.name, false)?;
            deleted.push(r.name);
        }
        Ok(berth_models::volume::PruneReport {
            volumes_deleted: Some(deleted),
            space_reclaimed: reclaimed,
        })
    }

    /// Whether a volume exists.
    pub fn volume_exists(&self, name: &str) -> Result<bool, VolumeError> {
        Ok(self.volume_record(name)?.is_some())
    }

    pub(crate) fn volume_options(
        &self,
        name: &str,
    ) -> Result<BTreeMap<String, String>, VolumeError> {
        Ok(self
            .volume_record(name)?
            .map(|r| r.options)
            .unwrap_or_default())
    }
}

/// Bytes under `dir` (not following symlinks).
pub fn dir_size(dir: &std::path::Path) -> u64 {
    let mut total = 0;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    for e in entries.flatten() {
        let Ok(meta) = e.metadata() else { continue };
        if meta.is_dir() {
            total += dir_size(&e.path());
        } else {
            total += meta.len();
        }
    }
    total
}
