//! Image records in the state database: which images exist (by id, the
//! digest of their config), which manifest describes each, and the names
//! (`repo:tag`, `repo@digest`) that point at them. Blobs and layers are
//! elsewhere; a record only names them. Every change is one transaction.

use std::time::SystemTime;

use berth_image::{Descriptor, Digest, Reference};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::db::DbError;
use crate::time::{from_unix, unix_nanos};

/// One image.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageRecord {
    /// The digest of the config blob: Docker's image id.
    pub id: Digest,
    /// The platform manifest the image was made from or pulled as.
    pub manifest: Descriptor,
    /// The chain id of the top layer's snapshot; `None` for an image
    /// without layers.
    pub top_layer: Option<String>,
    /// The local parent image (images made by the builder).
    pub parent: Option<Digest>,
    /// Bytes of all layers, unpacked.
    pub size: u64,
    /// When the image arrived here.
    pub added_at: SystemTime,
    /// When it was last tagged (RFC 3339), if ever.
    pub last_tag_time: Option<String>,
}

/// What kind of name a reference is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefKind {
    Tag,
    Digest,
}

impl RefKind {
    fn as_str(self) -> &'static str {
        match self {
            RefKind::Tag => "tag",
            RefKind::Digest => "digest",
        }
    }
}

/// A name pointing at an image.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageRef {
    /// `docker.io/library/busybox:latest` or `…/busybox@sha256:…`.
    pub name: String,
    pub image_id: Digest,
    pub kind: RefKind,
}

impl ImageRef {
    /// The name as a parsed reference.
    pub fn reference(&self) -> Option<Reference> {
        Reference::parse(&self.name).ok()
    }
}

const IMAGE_COLUMNS: &str = "id, manifest_digest, manifest_media_type, manifest_size, top_layer, parent, size, added_at, last_tag_time";

fn image_from_row(row: &Row<'_>) -> rusqlite::Result<ImageRecord> {
    let digest = |i: usize| -> rusqlite::Result<Digest> {
        let s: String = row.get(i)?;
        Digest::parse(&s).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e.into())
        })
    };
    let parent: Option<String> = row.get(5)?;
    let added: i64 = row.get(7)?;
    Ok(ImageRecord {
        id: digest(0)?,
        manifest: Descriptor::new(
            &row.get::<_, String>(2)?,
            digest(1)?,
            row.get::<_, i64>(3)? as u64,
        ),
        top_layer: row.get(4)?,
        parent: parent.and_then(|p| Digest::parse(&p).ok()),
        size: row.get::<_, i64>(6)? as u64,
        added_at: from_unix(
            added.div_euclid(1_000_000_000),
            added.rem_euclid(1_000_000_000) as u32,
        ),
        last_tag_time: row.get(8)?,
    })
}

fn ref_from_row(row: &Row<'_>) -> rusqlite::Result<ImageRef> {
    let id: String = row.get(1)?;
    let kind: String = row.get(2)?;
    Ok(ImageRef {
        name: row.get(0)?,
        image_id: Digest::parse(&id).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, e.into())
        })?,
        kind: if kind == "digest" {
            RefKind::Digest
        } else {
            RefKind::Tag
        },
    })
}

/// Every image, oldest first.
pub fn all_images(conn: &Connection) -> Result<Vec<ImageRecord>, DbError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {IMAGE_COLUMNS} FROM images ORDER BY added_at"
    ))?;
    let rows = stmt.query_map([], image_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The image with this exact id.
pub fn image(conn: &Connection, id: &Digest) -> Result<Option<ImageRecord>, DbError> {
    Ok(conn
        .query_row(
            &format!("SELECT {IMAGE_COLUMNS} FROM images WHERE id = ?1"),
            [id.as_str()],
            image_from_row,
        )
        .optional()?)
}

/// Images whose id's hex starts with `prefix` (a short id).
pub fn images_with_prefix(conn: &Connection, prefix: &str) -> Result<Vec<ImageRecord>, DbError> {
    let pattern = format!("sha256:{}%", prefix.replace(['%', '_'], ""));
    let mut stmt = conn.prepare(&format!(
        "SELECT {IMAGE_COLUMNS} FROM images WHERE id LIKE ?1"
    ))?;
    let rows = stmt.query_map([pattern], image_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The image a name points at.
pub fn resolve_ref(conn: &Connection, name: &str) -> Result<Option<Digest>, DbError> {
    let id: Option<String> = conn
        .query_row(
            "SELECT image_id FROM image_refs WHERE name = ?1",
            [name],
            |r| r.get(0),
        )
        .optional()?;
    Ok(id.and_then(|id| Digest::parse(&id).ok()))
}

/// Every name of one image, tags first, each kind sorted.
pub fn refs_of(conn: &Connection, id: &Digest) -> Result<Vec<ImageRef>, DbError> {
    let mut stmt = conn.prepare(
        "SELECT name, image_id, kind FROM image_refs WHERE image_id = ?1 ORDER BY kind DESC, name",
    )?;
    let rows = stmt.query_map([id.as_str()], ref_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Every name of every image.
pub fn all_refs(conn: &Connection) -> Result<Vec<ImageRef>, DbError> {
    let mut stmt =
        conn.prepare("SELECT name, image_id, kind FROM image_refs ORDER BY kind DESC, name")?;
    let rows = stmt.query_map([], ref_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Records an image (or updates the record of one already here) and the
/// blobs it keeps alive.
pub fn put_image(conn: &Connection, image: &ImageRecord, blobs: &[Digest]) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO images (id, manifest_digest, manifest_media_type, manifest_size, top_layer, parent, size, added_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT(id) DO UPDATE SET manifest_digest = ?2, manifest_media_type = ?3, manifest_size = ?4,
             top_layer = ?5, size = ?7",
        params![
            image.id.as_str(),
            image.manifest.digest.as_str(),
            image.manifest.media_type,
            image.manifest.size as i64,
            image.top_layer,
            image.parent.as_ref().map(Digest::as_str),
            image.size as i64,
            unix_nanos(image.added_at),
        ],
    )?;
    for blob in blobs {
        conn.execute(
            "INSERT OR IGNORE INTO image_blobs (image_id, digest) VALUES (?1, ?2)",
            params![image.id.as_str(), blob.as_str()],
        )?;
    }
    Ok(())
}

/// Points `name` at `image_id`; returns the image it pointed at before, if
/// another.
pub fn set_ref(
    conn: &Connection,
    reference: &Reference,
    image_id: &Digest,
    kind: RefKind,
) -> Result<Option<Digest>, DbError> {
    let name = reference.to_string();
    let previous = resolve_ref(conn, &name)?;
    conn.execute(
        "INSERT INTO image_refs (name, repository, image_id, kind) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(name) DO UPDATE SET image_id = ?3, kind = ?4",
        params![
            name,
            reference.repository(),
            image_id.as_str(),
            kind.as_str()
        ],
    )?;
    Ok(previous.filter(|p| p != image_id))
}

/// Sets the image's last tag time (RFC 3339).
pub fn touch_tag_time(conn: &Connection, image_id: &Digest, when: &str) -> Result<(), DbError> {
    conn.execute(
        "UPDATE images SET last_tag_time = ?2 WHERE id = ?1",
        params![image_id.as_str(), when],
    )?;
    Ok(())
}

/// Removes one name.
pub fn remove_ref(conn: &Connection, name: &str) -> Result<(), DbError> {
    conn.execute("DELETE FROM image_refs WHERE name = ?1", [name])?;
    Ok(())
}

/// Removes an image record, its names and its blob list.
pub fn remove_image(conn: &Connection, id: &Digest) -> Result<(), DbError> {
    conn.execute("DELETE FROM images WHERE id = ?1", [id.as_str()])?;
    Ok(())
}

/// Every blob some image keeps alive.
pub fn referenced_blobs(conn: &Connection) -> Result<std::collections::HashSet<String>, DbError> {
    let mut stmt = conn.prepare("SELECT DISTINCT digest FROM image_blobs")?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The top layers of every image.
pub fn top_layers(conn: &Connection) -> Result<Vec<String>, DbError> {
    let mut stmt =
        conn.prepare("SELECT DISTINCT top_layer FROM images WHERE top_layer IS NOT NULL")?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Images whose parent is `id` (builder images).
pub fn children(conn: &Connection, id: &Digest) -> Result<Vec<Digest>, DbError> {
    let mut stmt = conn.prepare("SELECT id FROM images WHERE parent = ?1")?;
    let rows = stmt.query_map([id.as_str()], |r| r.get::<_, String>(0))?;
    Ok(rows
        .collect::<Result<Vec<_>, _>>()?
        .iter()
        .filter_map(|s| Digest::parse(s).ok())
        .collect())
}

/// An unpacked layer: a committed snapshot named by its chain id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerRecord {
    pub chain_id: String,
    pub diff_id: Digest,
    pub parent: Option<String>,
    pub size: u64,
}

/// Records an unpacked layer (idempotent).
pub fn put_layer(conn: &Connection, layer: &LayerRecord) -> Result<(), DbError> {
    conn.execute(
        "INSERT OR REPLACE INTO layers (chain_id, diff_id, parent, size) VALUES (?1, ?2, ?3, ?4)",
        params![
            layer.chain_id,
            layer.diff_id.as_str(),
            layer.parent,
            layer.size as i64
        ],
    )?;
    Ok(())
}

/// The layer with this chain id, if unpacked.
pub fn layer(conn: &Connection, chain_id: &str) -> Result<Option<LayerRecord>, DbError> {
    Ok(conn
        .query_row(
            "SELECT chain_id, diff_id, parent, size FROM layers WHERE chain_id = ?1",
            [chain_id],
            |row| {
                let diff: String = row.get(1)?;
                Ok(LayerRecord {
                    chain_id: row.get(0)?,
                    diff_id: Digest::parse(&diff).map_err(|e| {
                        rusqlite::Error::FromSqlConversionFailure(
                            1,
                            rusqlite::types::Type::Text,
                            e.into(),
                        )
                    })?,
                    parent: row.get(2)?,
                    size: row.get::<_, i64>(3)? as u64,
                })
            },
        )
        .optional()?)
}

/// Every unpacked layer's chain id and parent.
pub fn all_layers(conn: &Connection) -> Result<Vec<(String, Option<String>)>, DbError> {
    let mut stmt = conn.prepare("SELECT chain_id, parent FROM layers")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Forgets a layer (after its snapshot is removed).
pub fn remove_layer(conn: &Connection, chain_id: &str) -> Result<(), DbError> {
    conn.execute("DELETE FROM layers WHERE chain_id = ?1", [chain_id])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Db;

    fn record(n: u8) -> ImageRecord {
        ImageRecord {
            id: Digest::sha256_of(&[n]),
            manifest: Descriptor::new(
                "application/vnd.oci.image.manifest.v1+json",
                Digest::sha256_of(&[n, n]),
                100,
            ),
            top_layer: Some(format!("sha256:{:064}", n)),
            parent: None,
            size: 1234,
            added_at: from_unix(1_700_000_000 + i64::from(n), 5),
            last_tag_time: None,
        }
    }

    #[test]
    fn images_and_refs_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("berth.db")).unwrap();
        let conn = db.conn();
        let (a, b) = (record(1), record(2));
        put_image(&conn, &a, &[a.id.clone(), a.manifest.digest.clone()]).unwrap();
        put_image(&conn, &b, std::slice::from_ref(&b.id)).unwrap();
        assert_eq!(image(&conn, &a.id).unwrap().unwrap(), a);
        assert_eq!(all_images(&conn).unwrap().len(), 2);

        let tag = Reference::parse("busybox:1").unwrap();
        assert_eq!(set_ref(&conn, &tag, &a.id, RefKind::Tag).unwrap(), None);
        // Moving the tag reports the image it left.
        assert_eq!(
            set_ref(&conn, &tag, &b.id, RefKind::Tag).unwrap(),
            Some(a.id.clone())
        );
        assert_eq!(
            resolve_ref(&conn, "docker.io/library/busybox:1").unwrap(),
            Some(b.id.clone())
        );
        assert_eq!(refs_of(&conn, &b.id).unwrap().len(), 1);
        assert!(refs_of(&conn, &a.id).unwrap().is_empty());

        let prefix = &a.id.hex()[..6];
        assert_eq!(images_with_prefix(&conn, prefix).unwrap(), vec![a.clone()]);
        assert_eq!(referenced_blobs(&conn).unwrap().len(), 3);

        remove_image(&conn, &b.id).unwrap();
        assert!(
            all_refs(&conn).unwrap().is_empty(),
            "refs go with their image"
        );
        assert_eq!(referenced_blobs(&conn).unwrap().len(), 2);
    }
}
