//! Swarm mode: berthd is never part of a swarm (multi-host goes through
//! Kubernetes), and answers the swarm endpoints as dockerd does on a node
//! that has not joined one: 503 with dockerd's words, so that clients that
//! probe (`docker info`, docker-py's `leave_swarm(force=True)`) carry on.
//! Joining or creating a swarm is refused, saying why.

use http::StatusCode;

use crate::error::ApiError;

const NOT_A_MANAGER: &str = "This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" to connect this node to swarm and try again.";

/// `POST /swarm/leave`.
pub fn leave() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "This node is not part of a swarm",
    )
}

/// `/swarm`, `/services`, `/tasks`, `/nodes`, `/secrets`, `/configs`.
pub fn not_a_manager() -> ApiError {
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, NOT_A_MANAGER)
}

/// `POST /swarm/init` and `/swarm/join`.
pub fn unsupported() -> ApiError {
    ApiError::new(
        StatusCode::NOT_IMPLEMENTED,
        "swarm mode is not supported by berthd (Berth plugs into Kubernetes for more than one host)",
    )
}
