//! Following a running container: one thread per container blocks on its
//! shim's `wait`, records the exit, releases the root filesystem, and then
//! applies `--rm` or the restart policy (Docker's back-off: 100 ms doubling,
//! reset after 10 s of running). Health checks run beside it
//! ([`super::health`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use berth_shim::{Client, ExitStatus};

use super::{ContainerRecord, Status};

impl crate::Engine {
    /// Starts following `id` on its own thread.
    pub(crate) fn follow(&self, id: String, client: Arc<Client>) {
        let Some(engine) = self.this() else {
            tracing::error!("container {id}: the engine is not shared; nobody will follow it");
            return;
        };
        let started = Instant::now();
        self.start_health_checks(&id, &client);
        std::thread::Builder::new()
            .name(format!("follow-{}", &id[..12.min(id.len())]))
            .spawn(move || {
                let status = client.wait();
                let Some(engine) = engine.upgrade() else {
                    return;
                };
                let status = match status {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::warn!(
                            "container {id}: lost its shim ({e}); reading its exit record"
                        );
                        read_exit_patiently(&engine.container_paths(&id).run)
                            .unwrap_or_else(|| engine.lost_exit(&id))
                    }
                };
                engine.settle_execs(&id, &client);
                let _ = client.shutdown();
                engine.on_exit(&id, &status, started.elapsed());
            })
            .expect("spawning a thread");
    }

    /// Records an exit and decides what comes next.
    pub(crate) fn on_exit(&self, id: &str, status: &ExitStatus, ran_for: Duration) {
        self.shims
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
        self.release_rootfs(id);
        // Before the state changes: a restart waiting for this exit must
        // find the old endpoints gone.
        self.teardown_container_network(id);
        let record = match self.update_container(id, |r| {
            r.state.status = Status::Exited;
            r.state.pid = 0;
            r.state.exit_code = status.code as i64;
            r.state.oom_killed = status.oom_killed;
            r.state.finished_at = Some(status.finished_at.clone());
            r.state.exits += 1;
            if let Some(h) = r.state.health.as_mut() {
                h.status = "unhealthy".into();
            }
            Ok(r.clone())
        }) {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!("container {id} exited but is gone: {e}");
                return;
            }
        };
        if status.oom_killed {
            self.container_event(&record, "oom", &[]);
        }
        self.container_event(&record, "die", &[("exitCode", status.code.to_string())]);
        if record.host_config.auto_remove {
            if let Err(e) = self.remove_container(id, true, true) {
                tracing::warn!("container {id}: auto-remove: {e}");
            }
            return;
        }
        if should_restart(&record) {
            self.schedule_restart(id.to_string(), &record, ran_for);
        }
    }

    fn schedule_restart(&self, id: String, record: &ContainerRecord, ran_for: Duration) {
        let Some(engine) = self.this() else { return };
        let delay = if ran_for > Duration::from_secs(10) {
            Duration::from_millis(100)
        } else {
            Duration::from_millis(100 * (1u64 << record.restart_count.clamp(0, 10)))
        };
        let _ = self.update_container(&id, |r| {
            r.state.status = Status::Restarting;
            Ok(())
        });
        std::thread::spawn(move || {
            std::thread::sleep(delay);
            let Some(engine) = engine.upgrade() else {
                return;
            };
            let lock = engine.container_lock(&id);
            let _held = lock.lock().unwrap_or_else(|p| p.into_inner());
            let Ok(record) = engine.container(&id) else {
                return;
            };
            if record.state.status != Status::Restarting || record.state.manually_stopped {
                return;
            }
            let _ = engine.update_container(&id, |r| {
                r.restart_count += 1;
                Ok(())
            });
            if let Err(e) = engine.start_locked(&id) {
                tracing::warn!("container {id}: restart failed: {e}");
                let _ = engine.update_container(&id, |r| {
                    r.state.status = Status::Exited;
                    Ok(())
                });
            }
            let _ = engine
                .container(&id)
                .map(|r| engine.container_event(&r, "restart", &[]));
        });
    }
}

/// Whether the restart policy brings the container back.
fn should_restart(record: &ContainerRecord) -> bool {
    if record.state.manually_stopped {
        return false;
    }
    let policy = &record.host_config.restart_policy;
    match policy.name.as_str() {
        "always" | "unless-stopped" => true,
        "on-failure" => {
            record.state.exit_code != 0
                && (policy.maximum_retry_count == 0
                    || record.restart_count < policy.maximum_retry_count)
        }
        _ => false,
    }
}

/// The shim's exit record, giving a shim that is still writing it a
/// moment (a lost connection can come just before the record lands).
fn read_exit_patiently(dir: &std::path::Path) -> Option<ExitStatus> {
    for _ in 0..40 {
        if let Some(s) = berth_shim::read_exit(dir) {
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

impl crate::Engine {
    /// A container whose shim died without recording an exit (killed with
    /// -9, say): its processes may still run, unowned. They are killed and
    /// its runtime state and cgroups removed, as the shim would have; what
    /// is recorded is exit code 255.
    pub(crate) fn lost_exit(&self, id: &str) -> ExitStatus {
        let root = self.config.exec_root.join("runtime");
        match berth_runtime::container::Container::load(&root, id) {
            Ok(c) => {
                if let Err(e) = c.delete(true) {
                    tracing::warn!("container {id}: removing what its shim left: {e}");
                }
            }
            Err(e) => tracing::debug!("container {id}: no runtime state left ({e})"),
        }
        ExitStatus {
            code: 255,
            signal: None,
            oom_killed: false,
            finished_at: crate::time::format_rfc3339_nanos(std::time::SystemTime::now()),
        }
    }
}
