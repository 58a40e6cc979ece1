//! Test fixtures shared by Berth's integration tests.
#![forbid(unsafe_code)]
