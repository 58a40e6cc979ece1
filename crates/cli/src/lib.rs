//! `berth`: Docker's command line against the Docker Engine API.
pub mod format;

/// Entry point.
pub fn main() -> i32 {
    0
}
