//! OOM-kill notification for a container's cgroup.
//!
//! - v1: an `eventfd` registered on `memory.oom_control` through `cgroup.event_control`; the
//!   kernel adds 1 per OOM event. The kernel also signals it when the cgroup is removed, which is
//!   told apart by checking whether the cgroup still exists.
//! - v2: `inotify` on `memory.events` and `cgroup.events`; an event is reported when the
//!   `oom_kill` counter grows, and [`OomEvent::CgroupEmpty`] when `cgroup.events` changes to
//!   `populated 0` (the last process left; runc's v2 notifier ends there too). cgroupfs sends no
//!   inotify event when a cgroup directory is removed, so removal is only noticed when the files
//!   are gone at the next change.
//!
//! Both descriptors are non-blocking: poll [`OomWatcher`]'s fd for readability, then call
//! [`OomWatcher::consume`], or call [`OomWatcher::wait`].

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rustix::event::{EventfdFlags, PollFd, PollFlags};
use rustix::fs::inotify;

use crate::cgroup_file::{self, FileError};

/// A failure to set up or read an OOM notification.
#[derive(Debug, thiserror::Error)]
pub enum OomError {
    /// Creating the eventfd or inotify instance failed.
    #[error("create the OOM notification descriptor")]
    Create(#[source] io::Error),
    /// Opening `memory.oom_control` or registering the eventfd failed.
    #[error("register OOM notification for {path}")]
    Register {
        path: PathBuf,
        #[source]
        source: FileError,
    },
    /// Adding the inotify watch on `memory.events` failed.
    #[error("watch {path}")]
    Watch {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Reading the descriptor or the counter failed.
    #[error("read OOM notification of {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Reading `memory.events` failed.
    #[error("read OOM counter")]
    Counter(#[source] FileError),
}

impl OomError {
    pub(crate) fn is_not_found(&self) -> bool {
        match self {
            OomError::Register { source, .. } | OomError::Counter(source) => source.is_not_found(),
            OomError::Watch { source, .. } => source.kind() == io::ErrorKind::NotFound,
            _ => false,
        }
    }
}

/// What a watcher observed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OomEvent {
    /// The cgroup hit its memory limit `count` times since the last event (v1: OOM events;
    /// v2: processes OOM-killed).
    Oom { count: u64 },
    /// The cgroup was removed; no further events will come.
    CgroupRemoved,
    /// v2: the last process of the cgroup exited (`populated 0`); no OOM can happen until a
    /// process joins again.
    CgroupEmpty,
}

enum Source {
    V1 {
        eventfd: OwnedFd,
        /// Kept open: the registration lives as long as this descriptor.
        _oom_control: OwnedFd,
        dir: PathBuf,
    },
    V2 {
        inotify: OwnedFd,
        dir: PathBuf,
        last_oom_kill: u64,
        /// Watch descriptor of `cgroup.events`.
        events_wd: i32,
        /// `cgroup.events` changed and was not looked at yet (an OOM is reported first).
        events_pending: bool,
    },
}

/// OOM notification for one cgroup. See the module doc.
pub struct OomWatcher {
    source: Source,
}

impl std::fmt::Debug for OomWatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (kind, dir) = match &self.source {
            Source::V1 { dir, .. } => ("v1 eventfd", dir),
            Source::V2 { dir, .. } => ("v2 inotify", dir),
        };
        f.debug_struct("OomWatcher")
            .field("kind", &kind)
            .field("dir", dir)
            .finish()
    }
}

impl OomWatcher {
    /// Watch the v1 memory cgroup `dir`.
    pub(crate) fn v1(dir: &Path) -> Result<Self, OomError> {
        let oom_path = dir.join("memory.oom_control");
        let oom_control = rustix::fs::open(
            &oom_path,
            rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )
        .map_err(|e| OomError::Register {
            path: oom_path.clone(),
            source: FileError::Open {
                path: oom_path.clone(),
                source: e.into(),
            },
        })?;
        let eventfd = rustix::event::eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)
            .map_err(|e| OomError::Create(e.into()))?;
        let line = format!("{} {}", eventfd.as_raw_fd(), oom_control.as_raw_fd());
        cgroup_file::write(dir, "cgroup.event_control", &line).map_err(|source| {
            OomError::Register {
                path: oom_path,
                source,
            }
        })?;
        Ok(OomWatcher {
            source: Source::V1 {
                eventfd,
                _oom_control: oom_control,
                dir: dir.to_path_buf(),
            },
        })
    }

    /// Watch the v2 cgroup `dir`.
    pub(crate) fn v2(dir: &Path) -> Result<Self, OomError> {
        let inotify = inotify::init(inotify::CreateFlags::CLOEXEC | inotify::CreateFlags::NONBLOCK)
            .map_err(|e| OomError::Create(e.into()))?;
        let watch = |file: &str| {
            let path = dir.join(file);
            inotify::add_watch(&inotify, &path, inotify::WatchFlags::MODIFY).map_err(|e| {
                OomError::Watch {
                    path,
                    source: e.into(),
                }
            })
        };
        watch("memory.events")?;
        let events_wd = watch("cgroup.events")?;
        // Start from the current count: only new kills are reported.
        let last_oom_kill = crate::v2::memory::oom_kill_count(dir).map_err(OomError::Counter)?;
        Ok(OomWatcher {
            source: Source::V2 {
                inotify,
                dir: dir.to_path_buf(),
                last_oom_kill,
                events_wd,
                events_pending: false,
            },
        })
    }

    /// Consume what is pending without blocking: `Ok(None)` if nothing (or nothing relevant,
    /// such as a v2 `memory.events` change that is not an OOM kill) happened.
    pub fn consume(&mut self) -> Result<Option<OomEvent>, OomError> {
        match &mut self.source {
            Source::V1 { eventfd, dir, .. } => {
                let mut buf = [0u8; 8];
                match rustix::io::read(&*eventfd, &mut buf) {
                    Ok(8) => {}
                    Ok(_) => return Ok(None),
                    Err(rustix::io::Errno::AGAIN) => return Ok(None),
                    Err(e) => {
                        return Err(OomError::Read {
                            path: dir.clone(),
                            source: e.into(),
                        });
                    }
                }
                // The kernel also signals the eventfd when the cgroup goes away.
                if !dir.join("cgroup.event_control").exists() {
                    return Ok(Some(OomEvent::CgroupRemoved));
                }
                Ok(Some(OomEvent::Oom {
                    count: u64::from_ne_bytes(buf),
                }))
            }
            Source::V2 {
                inotify: fd,
                dir,
                last_oom_kill,
                events_wd,
                events_pending,
            } => {
                let mut buf = [MaybeUninit::<u8>::uninit(); 1024];
                let mut reader = inotify::Reader::new(&*fd, &mut buf);
                let mut memory_changed = false;
                loop {
                    match reader.next() {
                        Ok(ev) if ev.events().contains(inotify::ReadFlags::IGNORED) => {
                            return Ok(Some(OomEvent::CgroupRemoved));
                        }
                        Ok(ev) if ev.wd() == *events_wd => *events_pending = true,
                        Ok(_) => memory_changed = true,
                        Err(rustix::io::Errno::AGAIN) => break,
                        Err(e) => {
                            return Err(OomError::Read {
                                path: dir.clone(),
                                source: e.into(),
                            });
                        }
                    }
                }
                if memory_changed {
                    let count = match crate::v2::memory::oom_kill_count(dir) {
                        Ok(c) => c,
                        Err(f) if f.is_not_found() => return Ok(Some(OomEvent::CgroupRemoved)),
                        Err(f) => return Err(OomError::Counter(f)),
                    };
                    if count > *last_oom_kill {
                        let n = count - *last_oom_kill;
                        *last_oom_kill = count;
                        // A pending cgroup.events change is looked at on the next call.
                        return Ok(Some(OomEvent::Oom { count: n }));
                    }
                }
                if std::mem::take(events_pending) {
                    let path = dir.join("cgroup.events");
                    let populated = match cgroup_file::read_path(&path) {
                        Ok(t) => cgroup_file::flat_keyed_value(&path, &t, "populated")
                            .map_err(OomError::Counter)?,
                        Err(f) if f.is_not_found() => return Ok(Some(OomEvent::CgroupRemoved)),
                        Err(f) => return Err(OomError::Counter(f)),
                    };
                    if populated == 0 {
                        return Ok(Some(OomEvent::CgroupEmpty));
                    }
                }
                Ok(None)
            }
        }
    }

    /// Wait up to `timeout` (forever if `None`) for an event.
    pub fn wait(&mut self, timeout: Option<Duration>) -> Result<Option<OomEvent>, OomError> {
        let deadline = timeout.map(|t| std::time::Instant::now() + t);
        loop {
            if let Some(ev) = self.consume()? {
                return Ok(Some(ev));
            }
            let left = match deadline {
                Some(d) => match d.checked_duration_since(std::time::Instant::now()) {
                    Some(left) if !left.is_zero() => Some(left),
                    _ => return Ok(None),
                },
                None => None,
            };
            let ts = left.map(|l| rustix::time::Timespec {
                tv_sec: i64::try_from(l.as_secs()).unwrap_or(i64::MAX),
                tv_nsec: i64::from(l.subsec_nanos()),
            });
            let mut fds = [PollFd::new(self, PollFlags::IN)];
            match rustix::event::poll(&mut fds, ts.as_ref()) {
                Ok(_) | Err(rustix::io::Errno::INTR) => {}
                Err(e) => {
                    return Err(OomError::Read {
                        path: self.dir().to_path_buf(),
                        source: e.into(),
                    });
                }
            }
        }
    }

    fn dir(&self) -> &Path {
        match &self.source {
            Source::V1 { dir, .. } | Source::V2 { dir, .. } => dir,
        }
    }
}

impl AsFd for OomWatcher {
    /// The descriptor to poll for readability.
    fn as_fd(&self) -> BorrowedFd<'_> {
        match &self.source {
            Source::V1 { eventfd, .. } => eventfd.as_fd(),
            Source::V2 { inotify, .. } => inotify.as_fd(),
        }
    }
}
