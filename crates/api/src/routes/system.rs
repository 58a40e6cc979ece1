//! `/_ping`, `/version`, `/info`, `/system/df`.

use http::{HeaderValue, Method, StatusCode};

use crate::error::ApiError;
use crate::response::{self, Response};
use crate::router::Ctx;

/// `GET|HEAD /_ping`: "OK", with the headers clients negotiate from.
pub fn ping(method: &Method) -> Response {
    let mut r = if method == Method::HEAD {
        response::empty(StatusCode::OK)
    } else {
        response::text(StatusCode::OK, "OK")
    };
    let h = r.headers_mut();
    h.insert("Builder-Version", HeaderValue::from_static("1"));
    h.insert(
        http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-store, must-revalidate"),
    );
    h.insert(http::header::PRAGMA, HeaderValue::from_static("no-cache"));
    if method == Method::HEAD {
        h.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        h.insert(http::header::CONTENT_LENGTH, HeaderValue::from_static("0"));
    }
    r
}

pub fn version(ctx: &Ctx) -> Response {
    response::json(StatusCode::OK, &ctx.engine.version())
}

pub async fn info(ctx: &Ctx) -> Response {
    let engine = ctx.engine.clone();
    match tokio::task::spawn_blocking(move || engine.info()).await {
        Ok(info) => response::json(StatusCode::OK, &info),
        Err(e) => response::error(&ApiError::internal(e.to_string())),
    }
}

/// `GET /system/df`.
pub async fn disk_usage(ctx: &Ctx) -> Result<Response, ApiError> {
    let engine = ctx.engine.clone();
    let usage = tokio::task::spawn_blocking(move || engine.disk_usage())
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .map_err(|e| ApiError::from_engine(&e))?;
    Ok(response::json(StatusCode::OK, &usage))
}
