//! `/containers/*`: create, list, inspect, start, stop, kill, restart,
//! pause, remove, rename, wait, logs, attach, resize and prune. Each
//! handler parses the query as dockerd does, runs the engine on a blocking
//! thread and shapes the answer.

use std::sync::Arc;

use berth_engine::Engine;
use berth_engine::containers::ContainerError;
use berth_engine::containers::attach::{AttachStreams, Attached};
use berth_engine::containers::list::ListOptions;
use berth_engine::containers::logs::LogsRequest;
use berth_engine::containers::wait::WaitCondition;
use berth_models::container::CreateRequest;
use berth_models::version::ApiVersion;
use bytes::Bytes;
use http::{Request, StatusCode};
use hyper::body::Incoming;
use tokio::sync::mpsc;

use crate::error::ApiError;
use crate::hijack::{self, Hijack, Source};
use crate::request::json_body;
use crate::response::{self, ChannelWriter, Response};
use crate::router::Ctx;

/// Runs `f` with the engine on the blocking pool.
pub(crate) async fn blocking<T, E, F>(engine: &Arc<Engine>, f: F) -> Result<T, ApiError>
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

pub fn no_such_container(id: &str) -> ApiError {
    ApiError::not_found(format!("No such container: {id}"))
}

/// The content type of a container stream (API ≥ 1.42 names the framing).
pub fn stream_type(ctx: &Ctx, tty: bool) -> &'static str {
    if !tty && ctx.version >= ApiVersion::new(1, 42) {
        "application/vnd.docker.multiplexed-stream"
    } else {
        "application/vnd.docker.raw-stream"
    }
}

/// `POST /containers/create`.
pub async fn create(ctx: &Ctx, req: Request<Incoming>) -> Result<Response, ApiError> {
    let request: CreateRequest = json_body(req.into_body()).await?;
    let name = ctx.query.get("name").map(str::to_string);
    let created = blocking(&ctx.engine, move |e| {
        e.create_container(name.as_deref(), request)
    })
    .await?;
    Ok(response::json(StatusCode::CREATED, &created))
}

/// `GET /containers/json`.
pub async fn list(ctx: &Ctx) -> Result<Response, ApiError> {
    let opts = ListOptions {
        all: ctx.query.bool("all"),
        limit: ctx.query.str("limit").parse().ok(),
        size: ctx.query.bool("size"),
        filters: ctx.query.filters()?,
    };
    let list = blocking(&ctx.engine, move |e| e.list_containers(&opts)).await?;
    Ok(response::json(StatusCode::OK, &list))
}

/// `GET /containers/{id}/json`.
pub async fn inspect(ctx: &Ctx, id: &str) -> Result<Response, ApiError> {
    let id = id.to_string();
    let size = ctx.query.bool("size");
    let c = blocking(&ctx.engine, move |e| e.inspect_container(&id, size)).await?;
    Ok(response::json(StatusCode::OK, &c))
}

/// `POST /containers/{id}/start`.
pub async fn start(ctx: &Ctx, id: &str) -> Result<Response, ApiError> {
    let id = id.to_string();
    match blocking(&ctx.engine, move |e| e.start_container(&id)).await {
        Ok(()) => Ok(response::empty(StatusCode::NO_CONTENT)),
        Err(e) if e.status == StatusCode::NOT_MODIFIED => {
            Ok(response::empty(StatusCode::NOT_MODIFIED))
        }
        Err(e) => Err(e),
    }
}

fn timeout(ctx: &Ctx) -> Result<Option<i64>, ApiError> {
    match ctx.query.get("t").or_else(|| ctx.query.get("timeout")) {
        None | Some("") => Ok(None),
        Some(t) => t
            .parse()
            .map(Some)
            .map_err(|_| ApiError::bad_request(format!("invalid value for t: {t}"))),
    }
}

/// `POST /containers/{id}/stop`.
pub async fn stop(ctx: &Ctx, id: &str) -> Result<Response, ApiError> {
    let id = id.to_string();
    let t = timeout(ctx)?;
    let signal = ctx.query.get("signal").map(str::to_string);
    let stopped = blocking(&ctx.engine, move |e| {
        e.stop_container(&id, t, signal.as_deref())
    })
    .await?;
    Ok(response::empty(if stopped {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::NOT_MODIFIED
    }))
}

/// `POST /containers/{id}/restart`.
pub async fn restart(ctx: &Ctx, id: &str) -> Result<Response, ApiError> {
    let id = id.to_string();
    let t = timeout(ctx)?;
    let signal = ctx.query.get("signal").map(str::to_string);
    blocking(&ctx.engine, move |e| {
        e.restart_container(&id, t, signal.as_deref())
    })
    .await?;
    Ok(response::empty(StatusCode::NO_CONTENT))
}

/// `POST /containers/{id}/kill`.
pub async fn kill(ctx: &Ctx, id: &str) -> Result<Response, ApiError> {
    let id = id.to_string();
    let signal = ctx.query.str("signal").to_string();
    blocking(&ctx.engine, move |e| e.kill_container(&id, &signal)).await?;
    Ok(response::empty(StatusCode::NO_CONTENT))
}

/// `POST /containers/{id}/pause` and `/unpause`.
pub async fn pause(ctx: &Ctx, id: &str, pause: bool) -> Result<Response, ApiError> {
    let id = id.to_string();
    blocking(&ctx.engine, move |e| e.pause_container(&id, pause)).await?;
    Ok(response::empty(StatusCode::NO_CONTENT))
}

/// `DELETE /containers/{id}`.
pub async fn remove(ctx: &Ctx, id: &str) -> Result<Response, ApiError> {
    let id = id.to_string();
    let force = ctx.query.bool("force");
    let volumes = ctx.query.bool("v");
    if ctx.query.bool("link") {
        if let Some((parent, alias)) = id.trim_start_matches('/').rsplit_once('/') {
            return remove_link(ctx, parent, alias).await;
        }
        // A name with no parent is no link (dockerd's answer).
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "Conflict, cannot remove the default link name of the container",
        ));
    }
    blocking(&ctx.engine, move |e| {
        e.remove_container(&id, force, volumes)
    })
    .await?;
    Ok(response::empty(StatusCode::NO_CONTENT))
}

/// `DELETE /containers/{parent}/{alias}?link=1`: removes a legacy link
/// (the containers stay). Without `link` the path names no container.
pub async fn remove_link(ctx: &Ctx, parent: &str, alias: &str) -> Result<Response, ApiError> {
    if !ctx.query.bool("link") {
        return Err(ApiError::not_found(format!(
            "No such container: {parent}/{alias}"
        )));
    }
    let (parent, alias) = (parent.to_string(), alias.to_string());
    blocking(&ctx.engine, move |e| e.remove_link(&parent, &alias)).await?;
    Ok(response::empty(StatusCode::NO_CONTENT))
}

/// `POST /containers/{id}/rename`.
pub async fn rename(ctx: &Ctx, id: &str) -> Result<Response, ApiError> {
    let id = id.to_string();
    let name = ctx.query.str("name").to_string();
    blocking(&ctx.engine, move |e| e.rename_container(&id, &name)).await?;
    Ok(response::empty(StatusCode::NO_CONTENT))
}

/// `POST /containers/{id}/wait`: the status line goes at once (clients
/// start the container after sending this), the body at the exit.
pub async fn wait(ctx: &Ctx, id: &str) -> Result<Response, ApiError> {
    let condition =
        WaitCondition::parse(ctx.query.str("condition")).map_err(|e| ApiError::from_engine(&e))?;
    let id = id.to_string();
    let waiter = blocking(&ctx.engine, move |e| e.wait_container_begin(&id, condition)).await?;
    let (tx, rx) = mpsc::channel::<Bytes>(1);
    let engine = ctx.engine.clone();
    tokio::task::spawn_blocking(move || {
        let result = engine.wait_container(&waiter);
        let mut body = serde_json::to_vec(&result).expect("serialises");
        body.push(b'\n');
        let _ = tx.blocking_send(Bytes::from(body));
    });
    Ok(response::stream(StatusCode::OK, "application/json", rx))
}

fn parse_time(v: &str) -> Result<Option<std::time::SystemTime>, ApiError> {
    if v.is_empty() || v == "0" {
        return Ok(None);
    }
    berth_engine::time::parse_unix_timestamp(v)
        .or_else(|| berth_engine::time::parse_rfc3339(v).ok())
        .map(Some)
        .ok_or_else(|| ApiError::bad_request(format!("invalid time value: {v}")))
}

/// `GET /containers/{id}/logs`.
pub async fn logs(ctx: &Ctx, id: &str) -> Result<Response, ApiError> {
    let q = &ctx.query;
    let req = LogsRequest {
        stdout: q.bool("stdout"),
        stderr: q.bool("stderr"),
        follow: q.bool("follow"),
        timestamps: q.bool("timestamps"),
        since: parse_time(q.str("since"))?,
        until: parse_time(q.str("until"))?,
        tail: match q.str("tail") {
            "" | "all" => None,
            n => Some(
                n.parse()
                    .map_err(|_| ApiError::bad_request(format!("invalid value for tail: {n}")))?,
            ),
        },
    };
    if !req.stdout && !req.stderr {
        return Err(ApiError::bad_request(
            "Bad parameters: you must choose at least one stream",
        ));
    }
    let id = id.to_string();
    let record = blocking(&ctx.engine, move |e| e.logs_source(&id)).await?;
    let content_type = stream_type(ctx, record.config.tty);
    let (tx, rx) = mpsc::channel::<Bytes>(16);
    let engine = ctx.engine.clone();
    tokio::task::spawn_blocking(move || {
        let mut out = ChannelWriter::new(tx);
        let _ = engine.write_logs(&record, &req, &mut out);
        let _ = std::io::Write::flush(&mut out);
    });
    Ok(response::stream(StatusCode::OK, content_type, rx))
}

/// `POST /containers/{id}/attach`.
pub async fn attach(ctx: &Ctx, id: &str, mut req: Request<Incoming>) -> Result<Response, ApiError> {
    let hijack = Hijack::prepare(&mut req);
    let q = &ctx.query;
    let streams = AttachStreams {
        stdin: q.bool("stdin"),
        stdout: q.bool("stdout"),
        stderr: q.bool("stderr"),
    };
    if !q.bool("stream") && !q.bool("logs") {
        return Err(ApiError::bad_request("either logs or stream must be set"));
    }
    let id = id.to_string();
    // `logs=1`: what the container wrote so far comes first.
    let with_logs = q.bool("logs") && (streams.stdout || streams.stderr);
    let (logs, tty) = {
        let id = id.clone();
        let req = LogsRequest {
            stdout: streams.stdout,
            stderr: streams.stderr,
            ..Default::default()
        };
        blocking(&ctx.engine, move |e| {
            let record = e.container(&id)?;
            let mut out = Vec::new();
            if with_logs && record.host_config.log_config.kind != "none" {
                e.write_logs(&record, &req, &mut out)
                    .map_err(|e| ContainerError::io("read the logs", e))?;
            }
            Ok::<_, ContainerError>((out, record.config.tty))
        })
        .await?
    };
    let (attached, tty) = if q.bool("stream") {
        blocking(&ctx.engine, move |e| e.attach_container(&id, streams)).await?
    } else {
        (Attached::Done, tty)
    };
    let source = match attached {
        Attached::Now(s) => Source::Ready(s),
        Attached::Later(rx) => Source::Later(rx),
        Attached::Done => Source::None,
    };
    let keys = if tty && streams.stdin {
        hijack::parse_detach_keys(q.str("detachKeys"))
    } else {
        Vec::new()
    };
    Ok(hijack
        .prefix(logs)
        .respond(stream_type(ctx, tty), source, keys))
}

pub(crate) fn resize_dims(ctx: &Ctx) -> Result<(u16, u16), ApiError> {
    let h = ctx.query.str("h").parse::<u16>();
    let w = ctx.query.str("w").parse::<u16>();
    match (h, w) {
        (Ok(h), Ok(w)) => Ok((h, w)),
        _ => Err(ApiError::bad_request(format!(
            "invalid resize dimensions: h={} w={}",
            ctx.query.str("h"),
            ctx.query.str("w")
        ))),
    }
}

/// `POST /containers/{id}/resize`.
pub async fn resize(ctx: &Ctx, id: &str) -> Result<Response, ApiError> {
    let (h, w) = resize_dims(ctx)?;
    let id = id.to_string();
    blocking(&ctx.engine, move |e| e.resize_container(&id, h, w)).await?;
    Ok(response::empty(StatusCode::OK))
}

/// `POST /containers/prune`.
pub async fn prune(ctx: &Ctx) -> Result<Response, ApiError> {
    let filters = ctx.query.filters()?;
    let report = blocking(&ctx.engine, move |e| e.prune_containers(&filters)).await?;
    Ok(response::json(StatusCode::OK, &report))
}

/// What is not built yet says so, with 501.
pub fn not_implemented(what: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_IMPLEMENTED,
        format!("{what} is not implemented by berthd yet"),
    )
}
