//! Where a request goes: the `/v1.NN` prefix is checked against the
//! versions berthd speaks (moby's version middleware), then the method and
//! path segments pick the handler in `routes/`. Image names contain slashes,
//! so routes match on segment slices rather than on a pattern table.

use std::sync::Arc;

use berth_engine::Engine;
use berth_models::version::{self, ApiVersion};
use http::{HeaderValue, Method, Request};
use hyper::body::Incoming;

use crate::error::ApiError;
use crate::request::Query;
use crate::response::{self, Response};
use crate::routes::{
    auth, build, container_fs, container_stats, containers, events, exec, images, networks, swarm,
    system, volumes,
};

/// What every handler gets besides the request itself.
#[derive(Debug)]
pub struct Ctx {
    pub engine: Arc<Engine>,
    /// The API version the client asked for (the current one if none).
    pub version: ApiVersion,
    pub query: Query,
}

/// A legacy link's name (`parent/alias`) is a container name with a
/// slash: `/containers/app/db/json` is `/containers/{app/db}/json`, as
/// dockerd's router reads it.
fn join_link_name(mut segments: Vec<String>) -> Vec<String> {
    if segments.len() > 3 && segments[0] == "containers" {
        let action = segments.pop().unwrap_or_default();
        let name = segments[1..].join("/");
        segments = vec!["containers".into(), name, action];
    }
    segments
}

/// Answers one request.
pub async fn handle(engine: Arc<Engine>, req: Request<Incoming>) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    tracing::debug!("{method} {path}");
    let mut response = match split_version(&path) {
        Ok((version, rest)) => {
            let segments: Vec<String> = rest
                .split('/')
                .filter(|s| !s.is_empty())
                .map(percent_decode)
                .collect();
            let ctx = Ctx {
                engine,
                version,
                query: Query::parse(req.uri().query()),
            };
            let segments = join_link_name(segments);
            let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
            match route(&ctx, &method, &segments, req).await {
                Ok(r) => r,
                Err(e) => response::error(&e),
            }
        }
        Err(e) => response::error(&e),
    };
    let headers = response.headers_mut();
    headers.insert("Api-Version", HeaderValue::from_static(CURRENT_VERSION));
    headers.insert("Docker-Experimental", HeaderValue::from_static("false"));
    headers.insert("Ostype", HeaderValue::from_static("linux"));
    headers.insert(
        http::header::SERVER,
        HeaderValue::from_static(concat!("Berth/", env!("CARGO_PKG_VERSION"), " (linux)")),
    );
    response
}

const CURRENT_VERSION: &str = "1.47";

async fn route(
    ctx: &Ctx,
    method: &Method,
    path: &[&str],
    req: Request<Incoming>,
) -> Result<Response, ApiError> {
    use Method as M;
    match (method, path) {
        (&M::GET | &M::HEAD, ["_ping"]) => Ok(system::ping(method)),
        (&M::GET, ["version"]) => Ok(system::version(ctx)),
        (&M::GET, ["info"]) => Ok(system::info(ctx).await),
        (&M::GET, ["events"]) => events::events(ctx).await,
        (&M::GET, ["system", "df"]) => system::disk_usage(ctx).await,
        (&M::POST, ["auth"]) => auth::login(ctx, req).await,
        (&M::POST, ["build"]) => build::build(ctx, req).await,
        (&M::POST, ["build", "prune"]) => build::prune(ctx).await,

        (&M::GET, ["images", "json"]) => images::list(ctx).await,
        (&M::POST, ["images", "create"]) => images::create(ctx, req).await,
        (&M::POST, ["images", "prune"]) => images::prune(ctx).await,
        (&M::POST, ["images", "load"]) => images::load(ctx, req).await,
        (&M::GET, ["images", "get"]) => images::save(ctx, ctx.query.all("names").to_vec()).await,
        (&M::GET, ["images", "search"]) => Err(images::search_unavailable()),
        (&M::GET, ["images", name @ .., "json"]) if !name.is_empty() => {
            images::inspect(ctx, &name.join("/")).await
        }
        (&M::GET, ["images", name @ .., "history"]) if !name.is_empty() => {
            images::history(ctx, &name.join("/")).await
        }
        (&M::POST, ["images", name @ .., "tag"]) if !name.is_empty() => {
            images::tag(ctx, &name.join("/")).await
        }
        (&M::GET, ["images", name @ .., "get"]) if !name.is_empty() => {
            images::save(ctx, vec![name.join("/")]).await
        }
        (&M::POST, ["images", name @ .., "push"]) if !name.is_empty() => {
            images::push(ctx, &name.join("/"), &req).await
        }
        (&M::DELETE, ["images", name @ ..]) if !name.is_empty() => {
            images::remove(ctx, &name.join("/")).await
        }

        (&M::GET, ["distribution", name @ .., "json"]) if !name.is_empty() => {
            images::distribution(ctx, &name.join("/"), &req).await
        }

        (&M::POST, ["containers", "create"]) => containers::create(ctx, req).await,
        (&M::GET, ["containers", "json"]) => containers::list(ctx).await,
        (&M::POST, ["containers", "prune"]) => containers::prune(ctx).await,
        (&M::GET, ["containers", id, "json"]) => containers::inspect(ctx, id).await,
        (&M::POST, ["containers", id, "start"]) => containers::start(ctx, id).await,
        (&M::POST, ["containers", id, "stop"]) => containers::stop(ctx, id).await,
        (&M::POST, ["containers", id, "restart"]) => containers::restart(ctx, id).await,
        (&M::POST, ["containers", id, "kill"]) => containers::kill(ctx, id).await,
        (&M::POST, ["containers", id, "pause"]) => containers::pause(ctx, id, true).await,
        (&M::POST, ["containers", id, "unpause"]) => containers::pause(ctx, id, false).await,
        (&M::POST, ["containers", id, "rename"]) => containers::rename(ctx, id).await,
        (&M::POST, ["containers", id, "wait"]) => containers::wait(ctx, id).await,
        (&M::GET, ["containers", id, "logs"]) => containers::logs(ctx, id).await,
        (&M::POST, ["containers", id, "attach"]) => containers::attach(ctx, id, req).await,
        (&M::POST, ["containers", id, "resize"]) => containers::resize(ctx, id).await,
        (&M::POST, ["containers", id, "exec"]) => exec::create(ctx, id, req).await,
        (&M::GET, ["containers", id, "top"]) => container_stats::top(ctx, id).await,
        (&M::GET, ["containers", id, "stats"]) => container_stats::stats(ctx, id).await,
        (&M::POST, ["containers", id, "update"]) => container_stats::update(ctx, id, req).await,
        (&M::DELETE, ["containers", id]) => containers::remove(ctx, id).await,
        (&M::DELETE, ["containers", parent, alias]) => {
            containers::remove_link(ctx, parent, alias).await
        }
        (&M::HEAD, ["containers", id, "archive"]) => container_fs::archive_head(ctx, id).await,
        (&M::GET, ["containers", id, "archive"]) => container_fs::archive_get(ctx, id).await,
        (&M::PUT, ["containers", id, "archive"]) => container_fs::archive_put(ctx, id, req).await,
        (&M::GET, ["containers", id, "export"]) => container_fs::export(ctx, id).await,
        (&M::GET, ["containers", id, "changes"]) => container_fs::changes(ctx, id).await,
        (&M::POST, ["commit"]) => container_fs::commit(ctx, req).await,
        (_, ["containers", _, what]) => Err(containers::not_implemented(&format!(
            "/containers/{{id}}/{what}"
        ))),
        (_, ["containers", id, ..]) => Err(containers::no_such_container(id)),

        (&M::POST, ["exec", id, "start"]) => exec::start(ctx, id, req).await,
        (&M::GET, ["exec", id, "json"]) => exec::inspect(ctx, id).await,
        (&M::POST, ["exec", id, "resize"]) => exec::resize(ctx, id).await,

        (&M::GET, ["volumes"]) => volumes::list(ctx).await,
        (&M::POST, ["volumes", "create"]) => volumes::create(ctx, req).await,
        (&M::POST, ["volumes", "prune"]) => volumes::prune(ctx).await,
        (&M::GET, ["volumes", name]) => volumes::inspect(ctx, name).await,
        (&M::DELETE, ["volumes", name]) => volumes::remove(ctx, name).await,

        (&M::GET, ["networks"]) => networks::list(ctx).await,
        (&M::POST, ["networks", "create"]) => networks::create(ctx, req).await,
        (&M::POST, ["networks", "prune"]) => networks::prune(ctx).await,
        (&M::GET, ["networks", id]) => networks::inspect(ctx, id).await,
        (&M::DELETE, ["networks", id]) => networks::remove(ctx, id).await,
        (&M::POST, ["networks", id, "connect"]) => networks::connect(ctx, id, req).await,
        (&M::POST, ["networks", id, "disconnect"]) => networks::disconnect(ctx, id, req).await,

        (&M::POST, ["swarm", "leave"]) => Err(swarm::leave()),
        (&M::POST, ["swarm", "init" | "join"]) => Err(swarm::unsupported()),
        (
            _,
            [
                "swarm" | "services" | "tasks" | "nodes" | "secrets" | "configs",
                ..,
            ],
        ) => Err(swarm::not_a_manager()),

        _ => Err(ApiError::not_found("page not found")),
    }
}

/// Splits `/v1.44/images/json` into the version and `/images/json`.
fn split_version(path: &str) -> Result<(ApiVersion, &str), ApiError> {
    let Some(rest) = path.strip_prefix("/v") else {
        return Ok((version::CURRENT, path));
    };
    let (number, rest) = rest.split_once('/').map_or((rest, ""), |(v, r)| (v, r));
    let Ok(v) = number.parse::<ApiVersion>() else {
        // Not a version prefix: a path that starts with "v" (none exist).
        return Ok((version::CURRENT, path));
    };
    if v < version::MINIMUM {
        return Err(ApiError::bad_request(format!(
            "client version {v} is too old. Minimum supported API version is {}, please upgrade your client to a newer version",
            version::MINIMUM
        )));
    }
    if v > version::CURRENT {
        return Err(ApiError::bad_request(format!(
            "client version {v} is too new. Maximum supported API version is {}",
            version::CURRENT
        )));
    }
    Ok((v, rest))
}

fn percent_decode(segment: &str) -> String {
    if !segment.contains('%') {
        return segment.to_string();
    }
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::StatusCode;

    #[test]
    fn versions_in_range_are_stripped() {
        let (v, rest) = split_version("/v1.44/images/json").unwrap();
        assert_eq!((v, rest), (ApiVersion::new(1, 44), "images/json"));
        let (v, rest) = split_version("/_ping").unwrap();
        assert_eq!((v, rest), (version::CURRENT, "/_ping"));
        assert_eq!(CURRENT_VERSION, version::CURRENT.to_string());
    }

    #[test]
    fn versions_out_of_range_are_refused_with_dockers_words() {
        let e = split_version("/v1.12/info").unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert!(
            e.message.starts_with(
                "client version 1.12 is too old. Minimum supported API version is 1.24"
            )
        );
        let e = split_version("/v1.99/info").unwrap_err();
        assert!(
            e.message.starts_with(
                "client version 1.99 is too new. Maximum supported API version is 1.47"
            )
        );
    }

    #[test]
    fn decodes_escaped_segments() {
        assert_eq!(percent_decode("a%2Fb%3a"), "a/b:");
        assert_eq!(percent_decode("100%"), "100%");
    }
}
