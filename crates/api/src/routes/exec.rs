//! `/containers/{id}/exec` and `/exec/*`: create, start (hijacked), inspect
//! and resize exec instances.

use berth_models::container::{ExecConfig, ExecStartConfig};
use http::{Request, StatusCode};
use hyper::body::Incoming;

use super::containers::{blocking, resize_dims, stream_type};
use crate::error::ApiError;
use crate::hijack::{self, Hijack, Reframe, Source};
use crate::request::json_body;
use crate::response::{self, Response};
use crate::router::Ctx;

/// `POST /containers/{id}/exec`.
pub async fn create(ctx: &Ctx, id: &str, req: Request<Incoming>) -> Result<Response, ApiError> {
    let config: ExecConfig = json_body(req.into_body()).await?;
    let id = id.to_string();
    let exec_id = blocking(&ctx.engine, move |e| e.create_exec(&id, config)).await?;
    Ok(response::json(
        StatusCode::CREATED,
        &serde_json::json!({ "Id": exec_id }),
    ))
}

/// `POST /exec/{id}/start`.
pub async fn start(ctx: &Ctx, id: &str, mut req: Request<Incoming>) -> Result<Response, ApiError> {
    let hijack = Hijack::prepare(&mut req);
    let config: Option<ExecStartConfig> = json_body(req.into_body()).await?;
    let config = config.unwrap_or_default();
    let id = id.to_string();
    let detach = config.detach;
    let started = blocking(&ctx.engine, move |e| e.start_exec(&id, detach)).await?;
    let tty = started.tty;
    if detach {
        drop(started.stream);
        return Ok(response::empty(StatusCode::OK));
    }
    // dockerd frames by the start request's Tty, whatever the exec's was.
    let reframe = match (tty, config.tty) {
        (true, false) => Reframe::FrameAsStdout,
        (false, true) => Reframe::Unframe,
        _ => Reframe::AsIs,
    };
    Ok(hijack.reframe(reframe).respond(
        stream_type(ctx, config.tty),
        Source::Ready(started.stream),
        hijack::parse_detach_keys(&started.detach_keys),
    ))
}

/// `GET /exec/{id}/json`.
pub async fn inspect(ctx: &Ctx, id: &str) -> Result<Response, ApiError> {
    let id = id.to_string();
    let e = blocking(&ctx.engine, move |e| e.inspect_exec(&id)).await?;
    Ok(response::json(StatusCode::OK, &e))
}

/// `POST /exec/{id}/resize`.
pub async fn resize(ctx: &Ctx, id: &str) -> Result<Response, ApiError> {
    let (h, w) = resize_dims(ctx)?;
    let id = id.to_string();
    blocking(&ctx.engine, move |e| e.resize_exec(&id, h, w)).await?;
    Ok(response::empty(StatusCode::OK))
}
