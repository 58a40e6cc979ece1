//! The terminal during an interactive session: raw mode on standard input
//! while a TTY container is attached (restored on drop, as docker's
//! `RestoreTerminal`), and the window size docker sends with
//! `/containers/{id}/resize` and `/exec/{id}/resize`.

use rustix::termios::{OptionalActions, Termios, tcgetattr, tcgetwinsize, tcsetattr};

/// Standard input in raw mode until dropped.
#[derive(Debug)]
pub struct RawMode {
    saved: Termios,
}

impl RawMode {
    /// Put standard input in raw mode; None when it is not a terminal.
    pub fn enable() -> Option<RawMode> {
        let fd = rustix::stdio::stdin();
        if !rustix::termios::isatty(fd) {
            return None;
        }
        let saved = tcgetattr(fd).ok()?;
        let mut raw = saved.clone();
        raw.make_raw();
        tcsetattr(fd, OptionalActions::Now, &raw).ok()?;
        Some(RawMode { saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = tcsetattr(rustix::stdio::stdin(), OptionalActions::Now, &self.saved);
    }
}

/// Standard output's window size (height, width); None when it is not a
/// terminal.
pub fn size() -> Option<(u16, u16)> {
    let fd = rustix::stdio::stdout();
    if !rustix::termios::isatty(fd) {
        return None;
    }
    let ws = tcgetwinsize(fd).ok()?;
    Some((ws.ws_row, ws.ws_col))
}
