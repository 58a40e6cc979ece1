//! Reading a request: the query string as dockerd's `r.Form` sees it,
//! booleans and numbers the way `httputils` parses them, JSON bodies with a
//! size limit, and a request body handed to a blocking reader.

use std::collections::HashMap;
use std::io::{self, Read};

use bytes::{Buf, Bytes};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;

use crate::error::ApiError;

/// The query parameters; a repeated key keeps all its values.
#[derive(Debug, Default)]
pub struct Query {
    values: HashMap<String, Vec<String>>,
}

impl Query {
    pub fn parse(query: Option<&str>) -> Query {
        let mut values: HashMap<String, Vec<String>> = HashMap::new();
        for (k, v) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            values
                .entry(k.into_owned())
                .or_default()
                .push(v.into_owned());
        }
        Query { values }
    }

    /// The first value of `key`, if given.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values
            .get(key)
            .and_then(|v| v.first())
            .map(String::as_str)
    }

    /// The first value of `key` or "".
    pub fn str(&self, key: &str) -> &str {
        self.get(key).unwrap_or("")
    }

    /// Every value of `key`.
    pub fn all(&self, key: &str) -> &[String] {
        self.values.get(key).map(Vec::as_slice).unwrap_or(&[])
    }

    /// dockerd's `BoolValue`: absent, "", "0", "no", "false", "none" are
    /// false, anything else true.
    pub fn bool(&self, key: &str) -> bool {
        !matches!(
            self.str(key).trim().to_ascii_lowercase().as_str(),
            "" | "0" | "no" | "false" | "none"
        )
    }

    /// `bool`, with `default` when the key is absent.
    pub fn bool_or(&self, key: &str, default: bool) -> bool {
        if self.values.contains_key(key) {
            self.bool(key)
        } else {
            default
        }
    }

    /// The `filters` parameter.
    pub fn filters(&self) -> Result<berth_models::filters::Filters, ApiError> {
        Ok(berth_models::filters::Filters::parse(self.str("filters"))?)
    }
}

/// The most a JSON request body may hold.
const JSON_LIMIT: usize = 16 << 20;

/// Reads the whole body (up to a limit) and parses it as JSON; an empty
/// body is `T::default()` when `T` allows it.
pub async fn json_body<T: DeserializeOwned>(body: Incoming) -> Result<T, ApiError> {
    let bytes = collect_limited(body, JSON_LIMIT).await?;
    let bytes = if bytes.iter().all(u8::is_ascii_whitespace) {
        Bytes::from_static(b"null")
    } else {
        bytes
    };
    let invalid = |e: serde_json::Error| ApiError::bad_request(format!("invalid JSON: {e}"));
    let mut value: serde_json::Value = serde_json::from_slice(&bytes).map_err(invalid)?;
    drop_nulls(&mut value);
    serde_json::from_value(value).map_err(invalid)
}

/// Removes the `null` members of every object: Go's decoder leaves a field
/// at its zero value on `null`, and clients (docker-py) send `null` for
/// what they leave unset; absent is how our types say "zero".
fn drop_nulls(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(drop_nulls);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

async fn collect_limited(mut body: Incoming, limit: usize) -> Result<Bytes, ApiError> {
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame =
            frame.map_err(|e| ApiError::bad_request(format!("reading the request body: {e}")))?;
        if let Ok(data) = frame.into_data() {
            if out.len() + data.len() > limit {
                return Err(ApiError::new(
                    http::StatusCode::PAYLOAD_TOO_LARGE,
                    format!("request body larger than {limit} bytes"),
                ));
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(Bytes::from(out))
}

/// How much of an upload is read and thrown away when a request fails
/// before consuming it. A client still writing its body when the connection
/// closes sees a broken pipe instead of the error; past this much, it does.
const DRAIN_LIMIT: u64 = 64 << 20;

/// Reads and discards what is left of a body (up to [`DRAIN_LIMIT`]), so
/// that the client has finished sending when it gets the answer.
pub async fn drain(mut body: Incoming) {
    let mut seen = 0u64;
    while seen < DRAIN_LIMIT {
        match body.frame().await {
            Some(Ok(frame)) => {
                seen += frame.data_ref().map_or(0, |d| d.len() as u64);
            }
            _ => return,
        }
    }
}

/// A request body as a blocking [`Read`], for engine operations that
/// consume an upload (load, import) on a blocking thread. A task copies the
/// body into a small bounded channel, so at most a few frames are buffered.
pub fn body_reader(mut body: Incoming) -> BodyReader {
    let (tx, rx) = mpsc::channel::<io::Result<Bytes>>(8);
    tokio::spawn(async move {
        while let Some(frame) = body.frame().await {
            let item = match frame {
                Ok(frame) => match frame.into_data() {
                    Ok(data) => Ok(data),
                    Err(_) => continue,
                },
                Err(e) => Err(io::Error::other(e)),
            };
            let failed = item.is_err();
            if tx.send(item).await.is_err() || failed {
                return;
            }
        }
    });
    BodyReader {
        rx,
        current: Bytes::new(),
    }
}

/// See [`body_reader`]. Must be read from a blocking thread.
pub struct BodyReader {
    rx: mpsc::Receiver<io::Result<Bytes>>,
    current: Bytes,
}

impl std::fmt::Debug for BodyReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BodyReader")
    }
}

impl BodyReader {
    /// [`drain`] for a body being read on a blocking thread.
    pub fn drain(&mut self) {
        let _ = io::copy(&mut self.take(DRAIN_LIMIT), &mut io::sink());
    }
}

impl Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(bytes)) => self.current = bytes,
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        self.current.advance(n);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_like_dockerd() {
        let q = Query::parse(Some("a=1&b=false&c=True&d=&e=none&f=yes"));
        assert!(q.bool("a") && q.bool("c") && q.bool("f"));
        assert!(!q.bool("b") && !q.bool("d") && !q.bool("e") && !q.bool("zz"));
        assert!(q.bool_or("zz", true));
        assert!(!q.bool_or("b", true));
    }

    #[test]
    fn repeated_keys_and_escapes() {
        let q = Query::parse(Some("names=a%2Fb&names=c&x=a+b"));
        assert_eq!(q.all("names"), ["a/b", "c"]);
        assert_eq!(q.str("x"), "a b");
        assert_eq!(q.get("nope"), None);
    }
}
