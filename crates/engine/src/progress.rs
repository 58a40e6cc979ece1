//! Where long operations (pull, push, load, import) report what they do:
//! the lines of Docker's JSON progress stream. The API layer implements
//! [`Progress`] over the HTTP response; a closed client cancels the
//! operation at its next report.

use berth_models::progress::{JsonMessage, ProgressDetail};

/// The client went away: the operation should stop and clean up.
#[derive(Debug, Clone, Copy, thiserror::Error, PartialEq, Eq)]
#[error("the client closed the connection")]
pub struct Cancelled;

pub trait Progress: Sync {
    /// Sends one message; `Err(Cancelled)` once nobody is listening.
    fn send(&self, message: JsonMessage) -> Result<(), Cancelled>;

    /// Whether nobody listens any more (for operations that wait a long
    /// time without reporting: a build's silent `RUN`).
    fn cancelled(&self) -> bool {
        false
    }

    /// A status line about `id` (a layer, an image), or a global one if
    /// `id` is empty.
    fn status(&self, id: &str, status: &str) -> Result<(), Cancelled> {
        self.send(JsonMessage::status(id, status))
    }

    /// A progress bar line for `id`: `current` of `total` bytes.
    fn bar(&self, id: &str, status: &str, current: u64, total: u64) -> Result<(), Cancelled> {
        self.send(JsonMessage {
            id: id.to_string(),
            status: status.to_string(),
            progress_detail: Some(ProgressDetail {
                current: current as i64,
                total: total as i64,
            }),
            progress: progress_bar(current, total),
            ..Default::default()
        })
    }
}

/// Discards every message (operations run without a client, tests).
#[derive(Debug, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn send(&self, _: JsonMessage) -> Result<(), Cancelled> {
        Ok(())
    }
}

/// The bar as text (`[=====>     ]  1.2MB/4.5MB`), as dockerd sends it in
/// the `progress` field for clients that print it as is.
pub fn progress_bar(current: u64, total: u64) -> String {
    const WIDTH: u64 = 50;
    if total == 0 {
        return format!("{:>8}", human_size(current));
    }
    let filled = (current.min(total) * WIDTH / total) as usize;
    let mut bar = "=".repeat(filled);
    if filled < WIDTH as usize {
        bar.push('>');
    }
    format!(
        "[{bar:<width$}] {:>8}/{}",
        human_size(current),
        human_size(total),
        width = WIDTH as usize
    )
}

/// go-units `HumanSize`: decimal units, four significant figures.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 9] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
    let mut size = bytes as f64;
    let mut unit = 0;
    while size >= 1000.0 && unit < UNITS.len() - 1 {
        size /= 1000.0;
        unit += 1;
    }
    let text = format!("{size:.4}");
    let digits_before = text.split('.').next().map_or(1, str::len);
    let decimals = 4usize.saturating_sub(digits_before);
    let mut s = format!("{size:.decimals$}");
    if s.contains('.') {
        s = s.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    format!("{s}{}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_like_go_units() {
        assert_eq!(human_size(0), "0B");
        assert_eq!(human_size(999), "999B");
        assert_eq!(human_size(1000), "1kB");
        assert_eq!(human_size(4_261_000), "4.261MB");
        assert_eq!(human_size(93_000_000), "93MB");
        assert_eq!(human_size(123_456_789), "123.5MB");
    }

    #[test]
    fn bars() {
        assert!(progress_bar(50, 100).starts_with("[=========================>"));
        assert!(
            progress_bar(100, 100)
                .starts_with("[==================================================")
        );
        assert!(progress_bar(1, 0).trim().ends_with("1B"));
    }
}
