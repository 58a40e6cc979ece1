//! `POST /auth`: `docker login` asks the daemon to check credentials.

use berth_models::auth::AuthConfig;
use http::{Request, StatusCode};
use hyper::body::Incoming;

use crate::error::ApiError;
use crate::request::json_body;
use crate::response::{self, Response};
use crate::router::Ctx;

pub async fn login(ctx: &Ctx, req: Request<Incoming>) -> Result<Response, ApiError> {
    let auth: Option<AuthConfig> = json_body(req.into_body()).await?;
    let auth = auth.unwrap_or_default();
    let engine = ctx.engine.clone();
    let answer = tokio::task::spawn_blocking(move || engine.login(&auth))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .map_err(|e| ApiError::from_engine(&e))?;
    Ok(response::json(StatusCode::OK, &answer))
}
