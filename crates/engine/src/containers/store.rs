//! The `containers` table: one row per container holding its whole record
//! as JSON, with the name beside it so SQLite keeps names unique.

use rusqlite::{Connection, params};

use super::ContainerRecord;
use crate::db::DbError;

/// Inserts or replaces `record`.
pub fn put(conn: &Connection, record: &ContainerRecord) -> Result<(), DbError> {
    let json = serde_json::to_string(record).expect("a record always serialises");
    conn.execute(
        "INSERT INTO containers (id, name, record) VALUES (?1, ?2, ?3)
         ON CONFLICT(id) DO UPDATE SET name = excluded.name, record = excluded.record",
        params![record.id, record.name, json],
    )?;
    Ok(())
}

/// Deletes the row of `id`.
pub fn delete(conn: &Connection, id: &str) -> Result<(), DbError> {
    conn.execute("DELETE FROM containers WHERE id = ?1", params![id])?;
    Ok(())
}

/// Every record; a row that no longer parses is reported and skipped.
pub fn all(conn: &Connection) -> Result<Vec<ContainerRecord>, DbError> {
    let mut stmt = conn.prepare("SELECT id, record FROM containers")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (id, json) = row?;
        match serde_json::from_str(&json) {
            Ok(record) => out.push(record),
            Err(e) => tracing::error!("container {id}: unreadable record, skipped: {e}"),
        }
    }
    Ok(out)
}
