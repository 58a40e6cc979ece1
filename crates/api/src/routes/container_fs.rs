//! A container's files: `HEAD`/`GET`/`PUT /containers/{id}/archive`
//! (`docker cp`), `GET /containers/{id}/export`, `GET
//! /containers/{id}/changes` (`docker diff`) and `POST /commit`. Each
//! handler parses the query as dockerd does and runs the engine on a
//! blocking thread; tars stream in from the request body and out through a
//! channel.

use base64::Engine as _;
use berth_engine::containers::archive::{ExtractOptions, PathStat};
use berth_engine::containers::commit::CommitOptions;
use berth_models::container_config::ContainerConfig;
use berth_models::error::IdResponse;
use http::{HeaderValue, Request, StatusCode};
use hyper::body::Incoming;
use tokio::sync::{mpsc, oneshot};

use super::containers::blocking;
use crate::error::ApiError;
use crate::request::json_body;
use crate::response::{self, ChannelWriter, Response};
use crate::router::Ctx;

const PATH_STAT_HEADER: &str = "X-Docker-Container-Path-Stat";

/// The `path` parameter, required as dockerd requires it.
fn path_param(ctx: &Ctx) -> Result<String, ApiError> {
    match ctx.query.get("path") {
        Some(p) if !p.is_empty() => Ok(p.to_string()),
        _ => Err(ApiError::bad_request("path is required")),
    }
}

/// The stat header: base64 of the JSON.
fn stat_header(stat: &PathStat) -> Result<HeaderValue, ApiError> {
    let json = serde_json::to_vec(stat)
        .map_err(|e| ApiError::internal(format!("encoding the path stat: {e}")))?;
    HeaderValue::from_str(&base64::engine::general_purpose::STANDARD.encode(json))
        .map_err(|e| ApiError::internal(format!("encoding the path stat: {e}")))
}

/// `HEAD /containers/{id}/archive?path=`.
pub async fn archive_head(ctx: &Ctx, id: &str) -> Result<Response, ApiError> {
    let path = path_param(ctx)?;
    let id = id.to_string();
    let stat = blocking(&ctx.engine, move |e| e.stat_container_path(&id, &path)).await?;
    let mut r = response::empty(StatusCode::OK);
    r.headers_mut()
        .insert(PATH_STAT_HEADER, stat_header(&stat)?);
    Ok(r)
}

/// `GET /containers/{id}/archive?path=`: the stat header and a tar. An
/// error before the tar starts is answered with its status.
pub async fn archive_get(ctx: &Ctx, id: &str) -> Result<Response, ApiError> {
    let path = path_param(ctx)?;
    let id = id.to_string();
    let (tx, rx) = mpsc::channel(16);
    let (stat_tx, stat_rx) = oneshot::channel::<PathStat>();
    let engine = ctx.engine.clone();
    let task = tokio::task::spawn_blocking(move || {
        engine
            .archive_container_path(&id, &path, move |stat| {
                let _ = stat_tx.send(stat.clone());
                ChannelWriter::new(tx)
            })
            .map_err(|e| ApiError::from_engine(&e))
    });
    match stat_rx.await {
        Ok(stat) => {
            tokio::spawn(async move {
                match task.await {
                    Ok(Err(e)) => tracing::warn!("archiving a container path: {}", e.message),
                    Err(e) => tracing::warn!("archiving a container path: {e}"),
                    Ok(Ok(())) => {}
                }
            });
            let mut r = response::stream(StatusCode::OK, "application/x-tar", rx);
            r.headers_mut()
                .insert(PATH_STAT_HEADER, stat_header(&stat)?);
            Ok(r)
        }
        Err(_) => match task.await {
            Ok(Err(e)) => Err(e),
            Ok(Ok(())) => Err(ApiError::internal("the archive ended before it began")),
            Err(e) => Err(ApiError::internal(format!(
                "the request's task failed: {e}"
            ))),
        },
    }
}

/// `PUT /containers/{id}/archive?path=&noOverwriteDirNonDir=&copyUIDGID=`:
/// the body is a tar to extract into the directory `path`.
pub async fn archive_put(
    ctx: &Ctx,
    id: &str,
    req: Request<Incoming>,
) -> Result<Response, ApiError> {
    let path = match path_param(ctx) {
        Ok(p) => p,
        Err(e) => {
            crate::request::drain(req.into_body()).await;
            return Err(e);
        }
    };
    let options = ExtractOptions {
        no_overwrite_dir_non_dir: ctx.query.bool("noOverwriteDirNonDir"),
        copy_uid_gid: ctx.query.bool("copyUIDGID"),
    };
    let id = id.to_string();
    let mut body = crate::request::body_reader(req.into_body());
    blocking(&ctx.engine, move |e| {
        let result = e.extract_to_container(&id, &path, &options, &mut body);
        if result.is_err() {
            body.drain();
        }
        result
    })
    .await?;
    Ok(response::empty(StatusCode::OK))
}

/// `GET /containers/{id}/export`: a tar of the container's filesystem.
pub async fn export(ctx: &Ctx, id: &str) -> Result<Response, ApiError> {
    let id = id.to_string();
    // Unknown containers get a 404 rather than an empty tar.
    let check = id.clone();
    blocking(&ctx.engine, move |e| e.container(&check).map(|_| ())).await?;
    let (tx, rx) = mpsc::channel(16);
    let engine = ctx.engine.clone();
    tokio::task::spawn_blocking(move || {
        let out = ChannelWriter::new(tx);
        if let Err(e) = engine.export_container(&id, out) {
            // The status line is gone: a cut tar is how the client sees it.
            tracing::warn!("exporting {id}: {}", crate::error::chain(&e));
        }
    });
    Ok(response::stream(StatusCode::OK, "application/x-tar", rx))
}

/// `GET /containers/{id}/changes`.
pub async fn changes(ctx: &Ctx, id: &str) -> Result<Response, ApiError> {
    let id = id.to_string();
    let changes = blocking(&ctx.engine, move |e| e.container_changes(&id)).await?;
    Ok(response::json(StatusCode::OK, &changes))
}

/// `POST /commit?container=&repo=&tag=&comment=&author=&pause=&changes=`,
/// the body an optional container config: 201 with the new image's id.
pub async fn commit(ctx: &Ctx, req: Request<Incoming>) -> Result<Response, ApiError> {
    let config: Option<ContainerConfig> = json_body(req.into_body()).await?;
    // `{}` is no config, as dockerd decodes it (the docker CLI sends one):
    // the `--change` lines then apply to the container's own config.
    let config = config.filter(|c| *c != ContainerConfig::default());
    let container = ctx.query.str("container").to_string();
    let repo = ctx.query.str("repo");
    let reference = if repo.is_empty() {
        None
    } else {
        Some(
            berth_engine::images::repo_tag_reference(repo, ctx.query.str("tag"))
                .map_err(|e| ApiError::bad_request(e.to_string()))?,
        )
    };
    let options = CommitOptions {
        reference,
        comment: ctx.query.str("comment").to_string(),
        author: ctx.query.str("author").to_string(),
        // dockerd: paused unless `pause` says otherwise.
        pause: ctx.query.get("pause").is_none_or(str::is_empty) || ctx.query.bool("pause"),
        changes: ctx.query.all("changes").to_vec(),
        config,
    };
    let id = blocking(&ctx.engine, move |e| {
        e.commit_container(&container, &options)
    })
    .await?;
    Ok(response::json(
        StatusCode::CREATED,
        &IdResponse { id: id.to_string() },
    ))
}
