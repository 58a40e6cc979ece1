//! `berth network ...`: create, ls, inspect, rm, prune, connect and
//! disconnect against the `/networks` endpoints, with docker's output.

pub mod connect;
pub mod create;
pub mod inspect;
pub mod list;
pub mod prune;
pub mod remove;
