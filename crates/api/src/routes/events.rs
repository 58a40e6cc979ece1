//! `GET /events`: the recorded events since `since`, then live ones until
//! `until` (or until the client leaves), one JSON object per line.

use std::time::{Duration, SystemTime};

use berth_engine::events::EventFilter;
use berth_engine::time::{parse_rfc3339, parse_unix_timestamp, unix_nanos};
use bytes::Bytes;
use http::StatusCode;
use tokio::sync::{broadcast, mpsc};

use crate::error::ApiError;
use crate::response::{self, Response};
use crate::router::Ctx;

pub async fn events(ctx: &Ctx) -> Result<Response, ApiError> {
    let filter = EventFilter::new(ctx.query.filters()?)?;
    let since = time_param(ctx, "since")?;
    let until = time_param(ctx, "until")?;
    let now = SystemTime::now();
    if let (Some(s), Some(u)) = (since, until)
        && s > u
    {
        return Err(ApiError::bad_request(
            "`since` time cannot be after `until` time",
        ));
    }

    let (history, mut live) = ctx.engine.events().subscribe();
    let in_window = move |nanos: i64| {
        since.is_none_or(|s| nanos >= unix_nanos(s)) && until.is_none_or(|u| nanos <= unix_nanos(u))
    };
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    let encode = |e: &berth_models::events::EventMessage| {
        let mut line = serde_json::to_vec(e).unwrap_or_default();
        line.push(b'\n');
        Bytes::from(line)
    };
    let past: Vec<Bytes> = if since.is_some() {
        history
            .iter()
            .filter(|e| in_window(e.time_nano) && filter.matches(e))
            .map(encode)
            .collect()
    } else {
        Vec::new()
    };
    tokio::spawn(async move {
        for line in past {
            if tx.send(line).await.is_err() {
                return;
            }
        }
        // `until` in the past: only the history was asked for.
        let deadline = match until {
            Some(u) if u <= now => return,
            Some(u) => {
                Some(tokio::time::Instant::now() + u.duration_since(now).unwrap_or(Duration::ZERO))
            }
            None => None,
        };
        loop {
            let next = async {
                match deadline {
                    Some(d) => tokio::time::timeout_at(d, live.recv()).await.ok(),
                    None => Some(live.recv().await),
                }
            };
            tokio::select! {
                item = next => match item {
                    None => return,
                    Some(Ok(e)) => {
                        if filter.matches(&e) && tx.send(encode(&e)).await.is_err() {
                            return;
                        }
                    }
                    Some(Err(broadcast::error::RecvError::Lagged(_))) => continue,
                    Some(Err(broadcast::error::RecvError::Closed)) => return,
                },
                () = tx.closed() => return,
            }
        }
    });
    Ok(response::stream(StatusCode::OK, "application/json", rx))
}

/// `since`/`until`: Unix seconds (what the CLI sends) or RFC 3339.
fn time_param(ctx: &Ctx, key: &str) -> Result<Option<SystemTime>, ApiError> {
    let value = ctx.query.str(key).trim();
    if value.is_empty() {
        return Ok(None);
    }
    parse_unix_timestamp(value)
        .or_else(|| parse_rfc3339(value).ok())
        .map(Some)
        .ok_or_else(|| ApiError::bad_request(format!("invalid value for {key}: {value:?}")))
}
