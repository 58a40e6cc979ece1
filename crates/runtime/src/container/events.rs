//! `events`: resource statistics and OOM notifications of a container, in
//! the JSON shape runc prints (`{"type":"stats","id":...,"data":{...}}`).

use std::time::{Duration, Instant};

use serde::Serialize;

use super::Container;
use crate::Result;
use crate::state::Status;

/// One event line.
#[derive(Debug, Serialize)]
pub struct Event {
    /// `stats` or `oom`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Container id.
    pub id: String,
    /// The statistics, for `stats`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<berth_cgroups::Stats>,
}

impl Container {
    /// One statistics event.
    pub fn stats(&self) -> Result<Event> {
        Ok(Event {
            kind: "stats",
            id: self.state.id.clone(),
            data: Some(self.cgroup()?.stats()?),
        })
    }

    /// Emit a stats event every `interval` and an oom event whenever the
    /// kernel reports one, until the container stops or `emit` says stop.
    pub fn watch(&self, interval: Duration, mut emit: impl FnMut(Event) -> bool) -> Result<()> {
        let cgroup = self.cgroup()?;
        let mut oom = cgroup.oom_watcher().ok();
        let mut next = Instant::now();
        loop {
            if self.status() == Status::Stopped {
                return Ok(());
            }
            let now = Instant::now();
            if now >= next {
                if let Ok(ev) = self.stats()
                    && !emit(ev)
                {
                    return Ok(());
                }
                next = now + interval;
            }
            let wait = next
                .saturating_duration_since(Instant::now())
                .min(Duration::from_millis(500));
            match oom.as_mut() {
                Some(w) => {
                    let mut fds = [rustix::event::PollFd::new(
                        &*w,
                        rustix::event::PollFlags::IN,
                    )];
                    let ts =
                        rustix::time::Timespec::try_from(wait).unwrap_or(rustix::time::Timespec {
                            tv_sec: 0,
                            tv_nsec: 500_000_000,
                        });
                    if matches!(rustix::event::poll(&mut fds, Some(&ts)), Ok(n) if n > 0)
                        && w.consume().ok().flatten().is_some()
                    {
                        let ev = Event {
                            kind: "oom",
                            id: self.state.id.clone(),
                            data: None,
                        };
                        if !emit(ev) {
                            return Ok(());
                        }
                    }
                }
                None => std::thread::sleep(wait),
            }
        }
    }
}
