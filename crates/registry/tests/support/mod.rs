//! Test fixtures shared by the registry integration tests: a real `docker-registry` process on
//! 127.0.0.1, a tiny HTTP server for misbehaving endpoints, a token server that signs JWTs the
//! registry trusts, certificates, and small images built at test time.

#![allow(dead_code)]

pub mod certs;
pub mod http;
pub mod images;
pub use berth_testutil::registry;
pub mod token;
