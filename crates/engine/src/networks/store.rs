//! The `networks` and `endpoints` tables (schema in [`crate::db`]): whole
//! records as JSON, read and written inside the caller's transaction so an
//! allocation and its endpoint row land together.

use rusqlite::{Connection, OptionalExtension, params};

use super::{EndpointRecord, NetworkError, NetworkRecord};

fn parse<T: serde::de::DeserializeOwned>(id: &str, text: &str) -> Result<T, NetworkError> {
    serde_json::from_str(text).map_err(|source| NetworkError::Corrupt {
        id: id.to_string(),
        source,
    })
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("records serialise")
}

/// Every network, oldest first.
pub fn networks(conn: &Connection) -> Result<Vec<NetworkRecord>, NetworkError> {
    let mut stmt = conn.prepare("SELECT id, record FROM networks ORDER BY rowid")?;
    let rows: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    rows.iter().map(|(id, text)| parse(id, text)).collect()
}

/// One network by id.
pub fn network(conn: &Connection, id: &str) -> Result<Option<NetworkRecord>, NetworkError> {
    let text: Option<String> = conn
        .query_row(
            "SELECT record FROM networks WHERE id = ?1",
            params![id],
            |r| r.get(0),
        )
        .optional()?;
    text.map(|t| parse(id, &t)).transpose()
}

/// Inserts or replaces a network.
pub fn put_network(conn: &Connection, n: &NetworkRecord) -> Result<(), NetworkError> {
    conn.execute(
        "INSERT INTO networks (id, name, record) VALUES (?1, ?2, ?3)
         ON CONFLICT(id) DO UPDATE SET name = excluded.name, record = excluded.record",
        params![n.id, n.name, json(n)],
    )?;
    Ok(())
}

pub fn delete_network(conn: &Connection, id: &str) -> Result<(), NetworkError> {
    conn.execute("DELETE FROM endpoints WHERE network_id = ?1", params![id])?;
    conn.execute("DELETE FROM networks WHERE id = ?1", params![id])?;
    Ok(())
}

/// Every endpoint: (network id, container id, record).
pub fn endpoints(conn: &Connection) -> Result<Vec<(String, String, EndpointRecord)>, NetworkError> {
    let mut stmt =
        conn.prepare("SELECT network_id, container_id, record FROM endpoints ORDER BY rowid")?;
    let rows: Vec<(String, String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    rows.into_iter()
        .map(|(n, c, t)| {
            let rec = parse(&c, &t)?;
            Ok((n, c, rec))
        })
        .collect()
}

pub fn put_endpoint(
    conn: &Connection,
    network_id: &str,
    container_id: &str,
    e: &EndpointRecord,
) -> Result<(), NetworkError> {
    conn.execute(
        "INSERT INTO endpoints (network_id, container_id, record) VALUES (?1, ?2, ?3)
         ON CONFLICT(network_id, container_id) DO UPDATE SET record = excluded.record",
        params![network_id, container_id, json(e)],
    )?;
    Ok(())
}

pub fn delete_endpoint(
    conn: &Connection,
    network_id: &str,
    container_id: &str,
) -> Result<(), NetworkError> {
    conn.execute(
        "DELETE FROM endpoints WHERE network_id = ?1 AND container_id = ?2",
        params![network_id, container_id],
    )?;
    Ok(())
}
