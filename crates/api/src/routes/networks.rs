//! `/networks/*`: list, inspect, create, remove, prune, connect and
//! disconnect (moby `api/server/router/network`).

use berth_models::network::{ConnectRequest, CreateRequest, DisconnectRequest};
use http::{Request, StatusCode};
use hyper::body::Incoming;

use super::containers::blocking;
use crate::error::ApiError;
use crate::request::json_body;
use crate::response::{self, Response};
use crate::router::Ctx;

/// `GET /networks`.
pub async fn list(ctx: &Ctx) -> Result<Response, ApiError> {
    let filters = ctx.query.filters()?;
    let nets = blocking(&ctx.engine, move |e| e.list_networks(&filters)).await?;
    Ok(response::json(StatusCode::OK, &nets))
}

/// `GET /networks/{id}`.
pub async fn inspect(ctx: &Ctx, id: &str) -> Result<Response, ApiError> {
    let id = id.to_string();
    let net = blocking(&ctx.engine, move |e| e.inspect_network(&id)).await?;
    Ok(response::json(StatusCode::OK, &net))
}

/// `POST /networks/create`.
pub async fn create(ctx: &Ctx, req: Request<Incoming>) -> Result<Response, ApiError> {
    let request: Option<CreateRequest> = json_body(req.into_body()).await?;
    let request = request.unwrap_or_default();
    let created = blocking(&ctx.engine, move |e| e.create_network(request)).await?;
    Ok(response::json(StatusCode::CREATED, &created))
}

/// `DELETE /networks/{id}`.
pub async fn remove(ctx: &Ctx, id: &str) -> Result<Response, ApiError> {
    let id = id.to_string();
    blocking(&ctx.engine, move |e| e.remove_network(&id)).await?;
    Ok(response::empty(StatusCode::NO_CONTENT))
}

/// `POST /networks/prune`.
pub async fn prune(ctx: &Ctx) -> Result<Response, ApiError> {
    let filters = ctx.query.filters()?;
    let report = blocking(&ctx.engine, move |e| e.prune_networks(&filters)).await?;
    Ok(response::json(StatusCode::OK, &report))
}

/// `POST /networks/{id}/connect`.
pub async fn connect(ctx: &Ctx, id: &str, req: Request<Incoming>) -> Result<Response, ApiError> {
    let request: Option<ConnectRequest> = json_body(req.into_body()).await?;
    let request = request.unwrap_or_default();
    let id = id.to_string();
    blocking(&ctx.engine, move |e| {
        e.connect_network(&id, &request.container, request.endpoint_config)
    })
    .await?;
    Ok(response::empty(StatusCode::OK))
}

/// `POST /networks/{id}/disconnect`.
pub async fn disconnect(ctx: &Ctx, id: &str, req: Request<Incoming>) -> Result<Response, ApiError> {
    let request: Option<DisconnectRequest> = json_body(req.into_body()).await?;
    let request = request.unwrap_or_default();
    let id = id.to_string();
    blocking(&ctx.engine, move |e| {
        e.disconnect_network(&id, &request.container)
    })
    .await?;
    Ok(response::empty(StatusCode::OK))
}
