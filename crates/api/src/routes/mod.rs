//! The handlers, one module per API section (moby `api/server/router/*`).

pub mod auth;
pub mod build;
pub mod container_fs;
pub mod container_stats;
pub mod containers;
pub mod events;
pub mod exec;
pub mod images;
pub mod networks;
pub mod swarm;
pub mod system;
pub mod volumes;
