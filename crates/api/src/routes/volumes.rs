//! `/volumes/*`: create, list, inspect, remove and prune.

use berth_models::version::ApiVersion;
use berth_models::volume::{CreateOptions, ListResponse};
use http::{Request, StatusCode};
use hyper::body::Incoming;

use super::containers::blocking;
use crate::error::ApiError;
use crate::request::json_body;
use crate::response::{self, Response};
use crate::router::Ctx;

/// `POST /volumes/create`.
pub async fn create(ctx: &Ctx, req: Request<Incoming>) -> Result<Response, ApiError> {
    let opts: Option<CreateOptions> = json_body(req.into_body()).await?;
    let opts = opts.unwrap_or_default();
    let v = blocking(&ctx.engine, move |e| {
        e.create_volume(
            Some(opts.name.as_str()),
            &opts.driver,
            opts.driver_opts.unwrap_or_default(),
            opts.labels.unwrap_or_default(),
            false,
        )
    })
    .await?;
    Ok(response::json(StatusCode::CREATED, &v))
}

/// `GET /volumes`.
pub async fn list(ctx: &Ctx) -> Result<Response, ApiError> {
    let filters = ctx.query.filters()?;
    let volumes = blocking(&ctx.engine, move |e| e.list_volumes(&filters)).await?;
    Ok(response::json(
        StatusCode::OK,
        &ListResponse {
            volumes,
            warnings: None,
        },
    ))
}

/// `GET /volumes/{name}`.
pub async fn inspect(ctx: &Ctx, name: &str) -> Result<Response, ApiError> {
    let name = name.to_string();
    let v = blocking(&ctx.engine, move |e| e.inspect_volume(&name)).await?;
    Ok(response::json(StatusCode::OK, &v))
}

/// `DELETE /volumes/{name}`.
pub async fn remove(ctx: &Ctx, name: &str) -> Result<Response, ApiError> {
    let name = name.to_string();
    let force = ctx.query.bool("force");
    blocking(&ctx.engine, move |e| e.remove_volume(&name, force)).await?;
    Ok(response::empty(StatusCode::NO_CONTENT))
}

/// `POST /volumes/prune`: `all=true` (API ≥ 1.42) also takes named ones.
pub async fn prune(ctx: &Ctx) -> Result<Response, ApiError> {
    let mut filters = ctx.query.filters()?;
    let all = ctx.version < ApiVersion::new(1, 42)
        || filters.get("all").iter().any(|v| v == "true" || v == "1");
    let mut kept = berth_models::filters::Filters::default();
    for (k, values) in filters.iter() {
        if k != "all" {
            for v in values {
                kept.add(k, v);
            }
        }
    }
    filters = kept;
    let report = blocking(&ctx.engine, move |e| e.prune_volumes(&filters, all)).await?;
    Ok(response::json(StatusCode::OK, &report))
}
