//! `berth volume ...`: create, ls, inspect, rm, prune against the
//! `/volumes` endpoints, with docker's output.

pub mod create;
pub mod inspect;
pub mod list;
pub mod prune;
pub mod remove;
