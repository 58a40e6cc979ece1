//! Health checks (`HEALTHCHECK` / `--health-*`): a thread per running
//! container runs the test through the shim every interval and moves
//! `State.Health` between starting, healthy and unhealthy with Docker's
//! rules (retries, start period, the last five results kept).

use std::sync::Arc;
use std::time::{Duration, Instant};

use berth_models::container::HealthLog;
use berth_models::container_config::HealthConfig;

const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_RETRIES: i64 = 3;
/// Docker keeps this many results.
const KEEP: usize = 5;

/// Whether the config asks for checks (`NONE` and an empty test do not).
pub fn enabled(h: &HealthConfig) -> bool {
    !h.test.is_empty() && h.test[0] != "NONE"
}

fn nanos(n: i64, default: Duration) -> Duration {
    if n > 0 {
        Duration::from_nanos(n as u64)
    } else {
        default
    }
}

/// The command a test runs.
fn command(h: &HealthConfig) -> Option<Vec<String>> {
    match h.test.first().map(String::as_str) {
        Some("CMD") => Some(h.test[1..].to_vec()),
        Some("CMD-SHELL") => Some(vec!["/bin/sh".into(), "-c".into(), h.test[1..].join(" ")]),
        _ => None,
    }
}

impl crate::Engine {
    /// Runs the health checks of `id` until it stops (on its own thread).
    pub(crate) fn start_health_checks(&self, id: &str, _client: &Arc<berth_shim::Client>) {
        let Ok(record) = self.container(id) else {
            return;
        };
        let Some(h) = record.config.healthcheck.clone().filter(enabled) else {
            return;
        };
        let Some(cmd) = command(&h) else { return };
        let Some(engine) = self.this() else { return };
        let id = id.to_string();
        let started_at = record.state.started_at.clone();
        std::thread::spawn(move || {
            let interval = nanos(h.interval, DEFAULT_INTERVAL);
            let timeout = nanos(h.timeout, DEFAULT_TIMEOUT);
            let start_period = nanos(h.start_period, Duration::ZERO);
            let retries = if h.retries > 0 {
                h.retries
            } else {
                DEFAULT_RETRIES
            };
            let began = Instant::now();
            loop {
                std::thread::sleep(interval);
                let Some(engine) = engine.upgrade() else {
                    return;
                };
                let Ok(r) = engine.container(&id) else { return };
                if r.state.status != super::Status::Running || r.state.started_at != started_at {
                    return;
                }
                let start = crate::time::format_rfc3339_nanos(std::time::SystemTime::now());
                let (code, output) = match engine.exec_capture(&id, cmd.clone(), timeout) {
                    Ok(x) => x,
                    Err(e) => (-1, e.to_string()),
                };
                let end = crate::time::format_rfc3339_nanos(std::time::SystemTime::now());
                let in_start_period = began.elapsed() < start_period;
                let result = engine.update_container(&id, |r| {
                    if r.state.started_at != started_at || r.state.status != super::Status::Running
                    {
                        return Ok(None);
                    }
                    let Some(health) = r.state.health.as_mut() else {
                        return Ok(None);
                    };
                    let before = health.status.clone();
                    health.log.push(HealthLog {
                        start,
                        end,
                        exit_code: code,
                        output: output.clone(),
                    });
                    if health.log.len() > KEEP {
                        health.log.remove(0);
                    }
                    if code == 0 {
                        health.failing_streak = 0;
                        health.status = "healthy".into();
                    } else if !(in_start_period && health.status == "starting") {
                        health.failing_streak += 1;
                        if health.failing_streak >= retries {
                            health.status = "unhealthy".into();
                        }
                    }
                    let now = health.status.clone();
                    Ok((now != before).then(|| (now, r.clone())))
                });
                if let Ok(Some((status, r))) = result {
                    engine.container_event(&r, &format!("health_status: {status}"), &[]);
                }
            }
        });
    }
}
