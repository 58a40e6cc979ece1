//! The handlers, one module per API section (moby `api/server/router/*`).

pub mod containers;
pub mod events;
pub mod system;
