//! The Docker Engine API over HTTP for berthd: the sockets ([`listener`]),
//! the connection loop ([`server`]), routing by version and path
//! ([`router`]), request parsing ([`request`]), responses and streams
//! ([`response`]), hijacked attach/exec streams ([`hijack`]), and one
//! handler module per API section (`routes/`).
//!
//! This crate translates; the engine decides. Handlers parse the request
//! into engine calls, run blocking engine work on Tokio's blocking pool, and
//! turn the result, or the error's kind, into Docker's response.
#![forbid(unsafe_code)]

pub mod error;
pub mod hijack;
pub mod listener;
pub mod request;
pub mod response;
pub mod router;
mod routes;
pub mod server;

pub use listener::{Address, DEFAULT_SOCKET, ListenError, Listener, TlsFiles};
pub use server::serve;
