//! The state database: one SQLite file (`<data-root>/berth.db`) holding
//! every record of the engine (images and their references now; containers,
//! volumes, networks and IPAM as they land). Blobs live in the content store
//! and layer files in the snapshotter; the database only points at them.
//!
//! Crash safety: WAL journal with `synchronous=FULL`, every change in one
//! transaction, so a `kill -9` (or power loss) at any point leaves either
//! the old or the new state. The schema is versioned by `PRAGMA
//! user_version`; [`MIGRATIONS`] brings an older file up to date at open.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, Transaction};

/// A failed database step.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("opening the state database {path}")]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("migrating the state database to schema version {version}")]
    Migrate {
        version: usize,
        #[source]
        source: rusqlite::Error,
    },
    #[error(
        "the state database has schema version {found}, newer than this berthd knows ({known})"
    )]
    TooNew { found: i64, known: usize },
    #[error("state database query")]
    Query(#[from] rusqlite::Error),
}

/// Each entry moves the schema one version up; never edit a released one.
const MIGRATIONS: &[&str] = &[
    // 1: images and the names that point at them.
    "CREATE TABLE images (
        id TEXT PRIMARY KEY,                -- sha256 of the config blob
        manifest_digest TEXT NOT NULL,      -- the platform manifest
        manifest_media_type TEXT NOT NULL,
        manifest_size INTEGER NOT NULL,
        top_layer TEXT,                     -- chain id of the top layer, NULL if none
        parent TEXT,                        -- local parent image (builder), NULL if none
        size INTEGER NOT NULL,              -- bytes of all layers, unpacked
        added_at INTEGER NOT NULL,          -- unix nanoseconds
        last_tag_time TEXT
    );
    CREATE TABLE image_refs (
        name TEXT PRIMARY KEY,              -- normalised: repo:tag or repo@digest
        repository TEXT NOT NULL,
        image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('tag', 'digest'))
    );
    CREATE INDEX image_refs_by_image ON image_refs(image_id);
    CREATE TABLE image_blobs (              -- content an image keeps alive
        image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        digest TEXT NOT NULL,
        PRIMARY KEY (image_id, digest)
    );
    CREATE INDEX image_blobs_by_digest ON image_blobs(digest);
    CREATE TABLE layers (                   -- unpacked layers: committed snapshots
        chain_id TEXT PRIMARY KEY,          -- the snapshot's name
        diff_id TEXT NOT NULL,              -- sha256 of the uncompressed tar
        parent TEXT,                        -- chain id of the layer below
        size INTEGER NOT NULL               -- bytes unpacked
    );",
    // 2: containers (the whole record as JSON) and volumes.
    "CREATE TABLE containers (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        record TEXT NOT NULL                -- containers::ContainerRecord as JSON
    );
    CREATE TABLE volumes (
        name TEXT PRIMARY KEY,
        driver TEXT NOT NULL,
        created_at TEXT NOT NULL,
        labels TEXT NOT NULL,               -- JSON object
        options TEXT NOT NULL,              -- JSON object
        anonymous INTEGER NOT NULL
    );",
    // 3: networks (with their IPAM pools) and the endpoints of containers
    // that are attached right now. An address is allocated or released in
    // the same transaction that writes the endpoint row.
    "CREATE TABLE networks (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        record TEXT NOT NULL                -- networks::NetworkRecord as JSON, pools included
    );
    CREATE TABLE endpoints (
        network_id TEXT NOT NULL REFERENCES networks(id),
        container_id TEXT NOT NULL,
        record TEXT NOT NULL,               -- networks::EndpointRecord as JSON
        PRIMARY KEY (network_id, container_id)
    );
    CREATE INDEX endpoints_by_container ON endpoints(container_id);",
];

/// The open database. One connection behind a mutex: berthd's writes are
/// few and short, and SQLite serialises writers anyway.
pub struct Db {
    conn: Mutex<Connection>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Db")
    }
}

impl Db {
    /// Opens (creating if needed) the database at `path` and migrates it.
    pub fn open(path: &Path) -> Result<Db, DbError> {
        let open_err = |source| DbError::Open {
            path: path.to_path_buf(),
            source,
        };
        let mut conn = Connection::open(path).map_err(open_err)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             PRAGMA foreign_keys = ON;
             PRAGMA busy_timeout = 5000;",
        )
        .map_err(open_err)?;
        migrate(&mut conn)?;
        Ok(Db {
            conn: Mutex::new(conn),
        })
    }

    /// The connection, for reads and single-statement writes.
    pub fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent
        // (a transaction not committed is rolled back), so poisoning is
        // ignored.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` in one transaction: committed if it returns `Ok`, rolled back
    /// otherwise.
    pub fn transaction<T, E>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<DbError>,
    {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(DbError::Query)?;
        let value = f(&tx)?;
        tx.commit().map_err(DbError::Query)?;
        Ok(value)
    }
}

fn migrate(conn: &mut Connection) -> Result<(), DbError> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current as usize > MIGRATIONS.len() {
        return Err(DbError::TooNew {
            found: current,
            known: MIGRATIONS.len(),
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let version = i + 1;
        let step = |conn: &mut Connection| -> rusqlite::Result<()> {
            let tx = conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", version as i64)?;
            tx.commit()
        };
        step(conn).map_err(|source| DbError::Migrate { version, source })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_migrates_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("berth.db");
        {
            let db = Db::open(&path).unwrap();
            db.conn()
                .execute(
                    "INSERT INTO images (id, manifest_digest, manifest_media_type, manifest_size, size, added_at)
                     VALUES ('sha256:a', 'sha256:m', 'x', 1, 2, 3)",
                    [],
                )
                .unwrap();
        }
        let db = Db::open(&path).unwrap();
        let n: i64 = db
            .conn()
            .query_row("SELECT count(*) FROM images", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
        let v: i64 = db
            .conn()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v as usize, MIGRATIONS.len());
    }

    #[test]
    fn a_failed_transaction_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("berth.db")).unwrap();
        let r: Result<(), DbError> = db.transaction(|tx| {
            tx.execute(
                "INSERT INTO images (id, manifest_digest, manifest_media_type, manifest_size, size, added_at)
                 VALUES ('sha256:a', 'sha256:m', 'x', 1, 2, 3)",
                [],
            )?;
            tx.execute("INSERT INTO nonsense VALUES (1)", [])?;
            Ok(())
        });
        assert!(r.is_err());
        let n: i64 = db
            .conn()
            .query_row("SELECT count(*) FROM images", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0);
    }

    #[test]
    fn refuses_a_newer_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("berth.db");
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", 999)
            .unwrap();
        assert!(matches!(
            Db::open(&path),
            Err(DbError::TooNew { found: 999, .. })
        ));
    }
}
