//! `POST /build` (the classic builder) and `POST /build/prune`. The query
//! is read as dockerd 20.10's `newImageBuildOptions` reads it (its checks
//! and messages: `squash` without experimental mode, isolation, platform,
//! the JSON parameters); the context (the body, a tar compressed or not)
//! goes to the engine on a blocking thread and the build answers with
//! dockerd's JSON stream. An error before the first line is a status code
//! (a bad Dockerfile: 400); after it, an `errorDetail` line carrying a
//! failed `RUN`'s exit code.

use std::collections::BTreeMap;

use berth_engine::build::BuildOptions;
use berth_image::{Platform, Reference};
use berth_models::progress::{ErrorDetail, JsonMessage};
use berth_registry::Credentials;
use http::{Request, StatusCode};
use hyper::body::Incoming;

use crate::error::ApiError;
use crate::response::{self, Response};
use crate::router::Ctx;

fn json_param<T: serde::de::DeserializeOwned + Default>(
    ctx: &Ctx,
    key: &str,
) -> Result<T, ApiError> {
    let raw = ctx.query.str(key);
    if raw.is_empty() {
        return Ok(T::default());
    }
    serde_json::from_str(raw)
        .map_err(|e| ApiError::bad_request(format!("invalid {key} parameter: {e}")))
}

fn int_param(ctx: &Ctx, key: &str) -> Result<i64, ApiError> {
    let raw = ctx.query.str(key);
    if raw.is_empty() {
        return Ok(0);
    }
    raw.parse().map_err(|_| {
        ApiError::bad_request(format!(
            "strconv.ParseInt: parsing \"{raw}\": invalid syntax"
        ))
    })
}

/// The options of a build request, with dockerd's checks.
fn options(ctx: &Ctx, req: &Request<Incoming>) -> Result<BuildOptions, ApiError> {
    let q = &ctx.query;
    if q.bool("squash") {
        return Err(ApiError::bad_request(
            "squash is only supported with experimental mode",
        ));
    }
    if !q.all("securityopt").is_empty() {
        return Err(ApiError::bad_request(
            "The daemon on this platform does not support setting security options on build",
        ));
    }
    let isolation = q.str("isolation");
    if !isolation.is_empty() && !isolation.eq_ignore_ascii_case("default") {
        return Err(ApiError::bad_request(format!(
            "Unsupported isolation: \"{isolation}\""
        )));
    }
    match q.str("version") {
        "" | "1" => {}
        "2" => {
            return Err(ApiError::bad_request(
                "BuildKit is not supported by Berth: build with the classic builder (DOCKER_BUILDKIT=0)",
            ));
        }
        other => {
            return Err(ApiError::bad_request(format!(
                "invalid version \"{other}\""
            )));
        }
    }
    let remote = q.str("remote");
    if !remote.is_empty() {
        return Err(ApiError::bad_request(format!(
            "cannot build from the remote context {remote}: Berth does not download build contexts (send the context as the request body)"
        )));
    }
    let platform = match q.str("platform") {
        "" => None,
        p => Some(Platform::parse(p).map_err(|_| {
            ApiError::bad_request(format!(
                "\"{p}\": unknown operating system or architecture: invalid argument"
            ))
        })?),
    };
    let mut tags = Vec::new();
    for t in q.all("t") {
        let r = Reference::parse(t)
            .map_err(|e| ApiError::bad_request(format!("invalid reference format: {e}")))?;
        if r.digest.is_some() {
            return Err(ApiError::bad_request(format!(
                "invalid tag {t}: a build cannot be tagged with a digest"
            )));
        }
        tags.push(r.tag_or_latest());
    }
    let mut host = berth_models::host_config::HostConfig {
        network_mode: q.str("networkmode").to_string(),
        extra_hosts: {
            let hosts: Vec<String> = q
                .all("extrahosts")
                .iter()
                .flat_map(|h| h.split(','))
                .filter(|h| !h.is_empty())
                .map(String::from)
                .collect();
            (!hosts.is_empty()).then_some(hosts)
        },
        shm_size: int_param(ctx, "shmsize")?,
        ..Default::default()
    };
    if host.network_mode == "default" {
        host.network_mode = String::new();
    }
    let r = &mut host.resources;
    r.memory = int_param(ctx, "memory")?;
    r.memory_swap = int_param(ctx, "memswap")?;
    r.cpu_shares = int_param(ctx, "cpushares")?;
    r.cpu_period = int_param(ctx, "cpuperiod")?;
    r.cpu_quota = int_param(ctx, "cpuquota")?;
    r.cpuset_cpus = q.str("cpusetcpus").to_string();
    r.cpuset_mems = q.str("cpusetmems").to_string();
    r.cgroup_parent = q.str("cgroupparent").to_string();
    r.ulimits = {
        let u: Vec<berth_models::host_config::Ulimit> = json_param(ctx, "ulimits")?;
        (!u.is_empty()).then_some(u)
    };
    let force_remove = q.bool("forcerm");
    let remove = force_remove || q.get("rm").is_none_or(str::is_empty) || q.bool("rm");
    Ok(BuildOptions {
        dockerfile: q.str("dockerfile").to_string(),
        tags,
        build_args: json_param::<BTreeMap<String, Option<String>>>(ctx, "buildargs")?,
        labels: json_param(ctx, "labels")?,
        no_cache: q.bool("nocache"),
        cache_from: json_param(ctx, "cachefrom")?,
        pull: q.bool("pull"),
        remove,
        force_remove,
        target: q.str("target").to_string(),
        quiet: q.bool("q"),
        host_config: host,
        platform,
        credentials: credentials(req),
    })
}

/// `X-Registry-Config`: one credential per registry; Berth's pulls take
/// one set, so the first entry's (most builds pull from one registry).
fn credentials(req: &Request<Incoming>) -> Credentials {
    use base64::Engine as _;
    let Some(header) = req
        .headers()
        .get("X-Registry-Config")
        .and_then(|v| v.to_str().ok())
    else {
        return Credentials::anonymous();
    };
    let decoded = base64::engine::general_purpose::URL_SAFE
        .decode(header.trim())
        .or_else(|_| base64::engine::general_purpose::STANDARD.decode(header.trim()));
    let Ok(decoded) = decoded else {
        return Credentials::anonymous();
    };
    let Ok(map) = serde_json::from_slice::<BTreeMap<String, serde_json::Value>>(&decoded) else {
        return Credentials::anonymous();
    };
    match map.values().next() {
        Some(auth) => {
            let encoded = base64::engine::general_purpose::URL_SAFE.encode(auth.to_string());
            Credentials::from_x_registry_auth(&encoded)
        }
        None => Credentials::anonymous(),
    }
}

/// `POST /build`.
pub async fn build(ctx: &Ctx, req: Request<Incoming>) -> Result<Response, ApiError> {
    let options = match options(ctx, &req) {
        Ok(o) => o,
        Err(e) => {
            crate::request::drain(req.into_body()).await;
            return Err(e);
        }
    };
    let mut body = crate::request::body_reader(req.into_body());
    let engine = ctx.engine.clone();
    Ok(response::progress(move |sink| {
        let result = engine.build_image(&options, &mut body, sink);
        let Err(e) = result else {
            return Ok(());
        };
        body.drain();
        let error = ApiError::from_engine(&e);
        if !sink.has_sent() {
            return Err(error);
        }
        // The client may be gone; nothing more to do then.
        let _ = berth_engine::progress::Progress::send(
            sink,
            JsonMessage {
                error_detail: Some(ErrorDetail {
                    code: e.exit_code().unwrap_or(0),
                    message: error.message.clone(),
                }),
                error: error.message,
                ..Default::default()
            },
        );
        Ok(())
    })
    .await)
}

/// `POST /build/prune`: the classic builder's cache is its images, which
/// `image prune` handles; nothing else is kept.
pub async fn prune(ctx: &Ctx) -> Result<Response, ApiError> {
    ctx.query.filters()?;
    let (deleted, reclaimed) = ctx.engine.prune_build_cache();
    Ok(response::json(
        StatusCode::OK,
        &serde_json::json!({
            "CachesDeleted": if deleted.is_empty() { serde_json::Value::Null } else { deleted.into() },
            "SpaceReclaimed": reclaimed,
        }),
    ))
}
