//! `/containers/{id}/top`, `/containers/{id}/stats` and
//! `/containers/{id}/update`: the resource views and the live resource
//! change. Stats stream one reading a second (`stream=true`, the default),
//! or answer one reading: at once with `one-shot`, else after a second
//! reading so that `precpu_stats` is filled (dockerd's `--no-stream`). A
//! stream ends when the client goes away or the container is removed.

use std::time::Duration;

use berth_models::stats::{StatsResponse, UpdateConfig};
use berth_models::version::ApiVersion;
use bytes::Bytes;
use http::{Request, StatusCode};
use hyper::body::Incoming;
use tokio::sync::mpsc;

use crate::error::ApiError;
use crate::request::json_body;
use crate::response::{self, Response};
use crate::router::Ctx;
use crate::routes::containers::blocking;

/// How often a stream sends a reading (dockerd's collector interval).
const INTERVAL: Duration = Duration::from_secs(1);

/// `GET /containers/{id}/top`.
pub async fn top(ctx: &Ctx, id: &str) -> Result<Response, ApiError> {
    let id = id.to_string();
    let ps_args = ctx.query.str("ps_args").to_string();
    let top = blocking(&ctx.engine, move |e| e.top_container(&id, &ps_args)).await?;
    Ok(response::json(StatusCode::OK, &top))
}

/// `GET /containers/{id}/stats`.
pub async fn stats(ctx: &Ctx, id: &str) -> Result<Response, ApiError> {
    let stream = ctx.query.bool_or("stream", true);
    // `one-shot` came with API 1.41.
    let one_shot = ctx.version >= ApiVersion::new(1, 41) && ctx.query.bool("one-shot");
    if one_shot && stream {
        return Err(ApiError::bad_request(
            "cannot have stream=true and one-shot=true",
        ));
    }
    let name = id.to_string();
    let first = blocking(&ctx.engine, move |e| e.container_stats(&name, None)).await?;
    // Follow the container by id from here (a rename must not end it).
    let id = first.id.clone();
    if !stream {
        let running = first.read != berth_models::stats::ZERO_TIME;
        let reading = if one_shot || !running {
            first
        } else {
            tokio::time::sleep(INTERVAL).await;
            let engine_id = id.clone();
            blocking(&ctx.engine, move |e| {
                e.container_stats(&engine_id, Some(&first))
            })
            .await?
        };
        return Ok(response::json(StatusCode::OK, &reading));
    }
    let (tx, rx) = mpsc::channel::<Bytes>(2);
    let engine = ctx.engine.clone();
    tokio::spawn(async move {
        let mut reading = first;
        loop {
            if tx.send(line(&reading)).await.is_err() {
                return;
            }
            tokio::select! {
                _ = tokio::time::sleep(INTERVAL) => {}
                _ = tx.closed() => return,
            }
            let previous = reading;
            let id = id.clone();
            let next = tokio::task::spawn_blocking({
                let engine = engine.clone();
                move || engine.container_stats(&id, Some(&previous))
            })
            .await;
            reading = match next {
                Ok(Ok(r)) => r,
                // Removed (or the task failed): the stream ends.
                _ => return,
            };
        }
    });
    Ok(response::stream(StatusCode::OK, "application/json", rx))
}

fn line(reading: &StatsResponse) -> Bytes {
    let mut bytes = serde_json::to_vec(reading).unwrap_or_default();
    bytes.push(b'\n');
    Bytes::from(bytes)
}

/// `POST /containers/{id}/update`.
pub async fn update(ctx: &Ctx, id: &str, req: Request<Incoming>) -> Result<Response, ApiError> {
    let mut update: UpdateConfig = json_body(req.into_body()).await?;
    // moby ignores PidsLimit from clients older than API 1.40.
    if ctx.version < ApiVersion::new(1, 40) {
        update.resources.pids_limit = None;
    }
    let id = id.to_string();
    let answer = blocking(&ctx.engine, move |e| {
        e.update_container_resources(&id, update)
    })
    .await?;
    Ok(response::json(StatusCode::OK, &answer))
}
