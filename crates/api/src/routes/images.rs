//! `/images/*` and `/distribution/*`: list, pull and import, inspect,
//! history, tag, push, remove, prune, save and load. Each handler parses
//! the query as dockerd does for the request's API version, runs the engine
//! on a blocking thread, and shapes the answer for that version.

use std::sync::Arc;

use berth_engine::Engine;
use berth_engine::images::{ListOptions, RemoveOptions};
use berth_engine::progress::Progress;
use berth_image::{Platform, Reference};
use berth_models::progress::JsonMessage;
use berth_models::version::ApiVersion;
use berth_registry::Credentials;
use http::{Request, StatusCode};
use hyper::body::Incoming;

use crate::error::ApiError;
use crate::response::{self, Response};
use crate::router::Ctx;

/// Runs `f` with the engine on the blocking pool.
async fn blocking<T, E, F>(engine: &Arc<Engine>, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&Engine) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: berth_engine::ErrorKind + std::error::Error + Send + 'static,
{
    let engine = engine.clone();
    tokio::task::spawn_blocking(move || f(&engine).map_err(|e| ApiError::from_engine(&e)))
        .await
        .map_err(|e| ApiError::internal(format!("the request's task failed: {e}")))?
}

/// `GET /images/json`.
pub async fn list(ctx: &Ctx) -> Result<Response, ApiError> {
    let mut filters = ctx.query.filters()?;
    if ctx.version < ApiVersion::new(1, 25)
        && !filters.contains("reference")
        && !ctx.query.str("filter").is_empty()
    {
        filters.add("reference", ctx.query.str("filter"));
    }
    let options = ListOptions {
        all: ctx.query.bool("all"),
        filters,
    };
    let mut images = blocking(&ctx.engine, move |e| e.list_images(&options)).await?;
    for image in &mut images {
        let tags = image.repo_tags.get_or_insert_with(Vec::new);
        let digests = image.repo_digests.get_or_insert_with(Vec::new);
        if ctx.version < ApiVersion::new(1, 43) && tags.is_empty() && digests.is_empty() {
            tags.push("<none>:<none>".to_string());
            digests.push("<none>@<none>".to_string());
        }
        if ctx.version < ApiVersion::new(1, 44) {
            image.virtual_size = Some(image.size);
        }
    }
    Ok(response::json(StatusCode::OK, &images))
}

/// `GET /images/{name}/json`.
pub async fn inspect(ctx: &Ctx, name: &str) -> Result<Response, ApiError> {
    let name = name.to_string();
    let mut image = blocking(&ctx.engine, move |e| e.inspect_image(&name)).await?;
    if ctx.version < ApiVersion::new(1, 44) {
        image.virtual_size = Some(image.size);
        if image.created.is_empty() {
            image.created = "0001-01-01T00:00:00Z".to_string();
        }
    }
    if ctx.version >= ApiVersion::new(1, 45) {
        image.container = None;
        image.container_config = None;
    }
    Ok(response::json(StatusCode::OK, &image))
}

/// `GET /images/{name}/history`.
pub async fn history(ctx: &Ctx, name: &str) -> Result<Response, ApiError> {
    let name = name.to_string();
    let history = blocking(&ctx.engine, move |e| e.image_history(&name)).await?;
    Ok(response::json(StatusCode::OK, &history))
}

/// `POST /images/{name}/tag?repo=&tag=`: 201 Created.
pub async fn tag(ctx: &Ctx, name: &str) -> Result<Response, ApiError> {
    let target =
        berth_engine::images::repo_tag_reference(ctx.query.str("repo"), ctx.query.str("tag"))
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let name = name.to_string();
    blocking(&ctx.engine, move |e| e.tag_image(&name, &target)).await?;
    Ok(response::empty(StatusCode::CREATED))
}

/// `DELETE /images/{name}?force=&noprune=`.
pub async fn remove(ctx: &Ctx, name: &str) -> Result<Response, ApiError> {
    if name.trim().is_empty() {
        return Err(ApiError::bad_request("image name cannot be blank"));
    }
    let options = RemoveOptions {
        force: ctx.query.bool("force"),
        prune_parents: !ctx.query.bool("noprune"),
    };
    let name = name.to_string();
    let records = blocking(&ctx.engine, move |e| e.remove_image(&name, options)).await?;
    Ok(response::json(StatusCode::OK, &records))
}

/// `POST /images/prune`.
pub async fn prune(ctx: &Ctx) -> Result<Response, ApiError> {
    let filters = ctx.query.filters()?;
    let report = blocking(&ctx.engine, move |e| e.prune_images(&filters)).await?;
    Ok(response::json(StatusCode::OK, &report))
}

/// `POST /images/create`: a pull (`fromImage`) or an import (`fromSrc`).
pub async fn create(ctx: &Ctx, req: Request<Incoming>) -> Result<Response, ApiError> {
    let platform = match ctx.query.get("platform").filter(|p| !p.is_empty()) {
        Some(p) if ctx.version >= ApiVersion::new(1, 32) => {
            Some(Platform::parse(p).map_err(|e| ApiError::bad_request(e.to_string()))?)
        }
        _ => None,
    };
    let from_image = ctx.query.str("fromImage");
    if from_image.is_empty() {
        return import(ctx, req, platform).await;
    }
    let mut reference = Reference::parse(from_image.trim_end_matches(':'))
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let tag = ctx.query.str("tag");
    if !tag.is_empty() {
        reference = match berth_image::Digest::parse(tag) {
            Ok(digest) => reference.without_tag_or_digest().with_digest(digest),
            Err(_) => reference
                .with_tag(tag)
                .map_err(|e| ApiError::bad_request(e.to_string()))?,
        };
    }
    let credentials = credentials(&req);
    let engine = ctx.engine.clone();
    Ok(response::progress(move |progress| {
        engine
            .pull(&reference, platform.as_ref(), &credentials, progress)
            .map_err(|e| ApiError::from_engine(&e))
    })
    .await)
}

/// `POST /images/create?fromSrc=-`: the body is a rootfs tarball.
async fn import(
    ctx: &Ctx,
    req: Request<Incoming>,
    platform: Option<Platform>,
) -> Result<Response, ApiError> {
    let (tag, options) = match import_options(ctx, platform) {
        Ok(parsed) => parsed,
        Err(e) => {
            crate::request::drain(req.into_body()).await;
            return Err(e);
        }
    };
    let mut body = crate::request::body_reader(req.into_body());
    let engine = ctx.engine.clone();
    Ok(response::progress(move |progress| {
        let id = engine
            .import_image(&mut body, tag.as_ref(), &options, progress)
            .map_err(|e| {
                body.drain();
                ApiError::from_engine(&e)
            })?;
        berth_engine::progress::Progress::status(progress, "", id.as_str())
            .map_err(|_| ApiError::internal("cancelled"))
    })
    .await)
}

/// The query of an import, checked before any of the upload is read.
fn import_options(
    ctx: &Ctx,
    platform: Option<Platform>,
) -> Result<(Option<Reference>, berth_image::import::ImportOptions), ApiError> {
    let source = ctx.query.str("fromSrc").to_string();
    if source != "-" {
        return Err(ApiError::bad_request(format!(
            "importing from {source:?} is not supported: Berth imports only uploaded tarballs (fromSrc=-), it does not download"
        )));
    }
    let repo = ctx.query.str("repo");
    let tag = if repo.is_empty() {
        None
    } else {
        Some(
            berth_engine::images::repo_tag_reference(repo, ctx.query.str("tag"))
                .map_err(|e| ApiError::bad_request(e.to_string()))?,
        )
    };
    let changes = berth_engine::images::parse_changes(ctx.query.all("changes"))
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let message = ctx.query.str("message");
    let options = berth_image::import::ImportOptions {
        changes,
        message: if message.is_empty() {
            None
        } else {
            Some(message.to_string())
        },
        source,
        platform,
        created: None,
    };
    Ok((tag, options))
}

/// `POST /images/load?quiet=`: the body is an image archive.
pub async fn load(ctx: &Ctx, req: Request<Incoming>) -> Result<Response, ApiError> {
    let quiet = ctx.query.bool_or("quiet", true);
    let mut body = crate::request::body_reader(req.into_body());
    let engine = ctx.engine.clone();
    // dockerd answers a load 200 whatever happens and puts the error in
    // the stream (docker-py raises ImageLoadError from it).
    Ok(response::progress(move |progress| {
        if let Err(e) = engine.load_images(&mut body, quiet, progress) {
            body.drain();
            let _ = progress.send(JsonMessage::error(ApiError::from_engine(&e).message));
        }
        Ok(())
    })
    .await)
}

/// `GET /images/get?names=…` and `GET /images/{name}/get`: a tar stream.
pub async fn save(ctx: &Ctx, names: Vec<String>) -> Result<Response, ApiError> {
    let plan = blocking(&ctx.engine, move |e| e.plan_save(&names)).await?;
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    let engine = ctx.engine.clone();
    tokio::task::spawn_blocking(move || {
        let mut out = response::ChannelWriter::new(tx);
        let result = engine.save_images(&plan, &mut out).and_then(|()| {
            std::io::Write::flush(&mut out).map_err(|source| {
                berth_engine::images::ImageError::Download {
                    digest: String::new(),
                    source,
                }
            })
        });
        if let Err(e) = result {
            // The status line is gone; an incomplete tar is how a failure
            // shows (the client's tar reader fails), and the log says why.
            tracing::warn!("saving images: {}", crate::error::chain(&e));
        }
    });
    Ok(response::stream(StatusCode::OK, "application/x-tar", rx))
}

/// `POST /images/{name}/push?tag=`.
pub async fn push(ctx: &Ctx, name: &str, req: &Request<Incoming>) -> Result<Response, ApiError> {
    let tag = ctx.query.str("tag");
    let reference = if tag.is_empty() {
        Reference::parse(name).map_err(|e| ApiError::bad_request(e.to_string()))?
    } else {
        berth_engine::images::repo_tag_reference(name, tag)
            .map_err(|e| ApiError::bad_request(e.to_string()))?
    };
    let credentials = credentials(req);
    let engine = ctx.engine.clone();
    Ok(response::progress(move |progress| {
        engine
            .push(&reference, &credentials, progress)
            .map_err(|e| ApiError::from_engine(&e))
    })
    .await)
}

/// The credentials of `X-Registry-Auth`, anonymous when absent or invalid
/// (as dockerd).
fn credentials<B>(req: &Request<B>) -> Credentials {
    req.headers()
        .get("X-Registry-Auth")
        .and_then(|v| v.to_str().ok())
        .map_or_else(Credentials::anonymous, Credentials::from_x_registry_auth)
}

/// `GET /images/search`: searching needs Docker Hub's index, which Berth
/// does not speak.
pub fn search_unavailable() -> ApiError {
    ApiError::new(
        StatusCode::NOT_IMPLEMENTED,
        "image search is not supported by Berth: it needs Docker Hub's search index",
    )
}

/// `GET /distribution/{name}/json`.
pub async fn distribution(
    ctx: &Ctx,
    name: &str,
    req: &Request<Incoming>,
) -> Result<Response, ApiError> {
    let reference = Reference::parse(name).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let credentials = credentials(req);
    let info = blocking(&ctx.engine, move |e| {
        e.distribution_info(&reference, &credentials)
    })
    .await?;
    Ok(response::json(StatusCode::OK, &info))
}
