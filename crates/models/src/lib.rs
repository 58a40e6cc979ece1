//! The Docker Engine API's wire types: what berthd sends and the `berth` CLI
//! reads. Field names, `null`s and omitted fields follow the Go types of
//! moby's `api/types` so that every Docker client parses our answers as it
//! parses dockerd's; each module names the Go type it mirrors.
//!
//! Types here are plain data: no validation, no behaviour beyond
//! (de)serialisation. The engine converts them into its own validated values
//! (and back) at the API boundary.
#![forbid(unsafe_code)]

pub mod auth;
pub mod container;
pub mod container_config;
pub mod duration;
pub mod error;
pub mod events;
pub mod filters;
pub mod host_config;
pub mod image;
pub mod network;
pub mod progress;
pub mod stats;
pub mod system;
pub mod version;
pub mod volume;
