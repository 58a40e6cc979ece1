//! `docker exec`: exec instances are created against a running container
//! (`POST /containers/{id}/exec`), started through its shim (`POST
//! /exec/{id}/start`), and inspected for their exit code. They live in
//! memory only, as in dockerd.

use std::collections::HashMap;
use std::io::Write;
use std::os::unix::net::UnixStream;
use std::sync::Mutex;

use berth_models::container::{ExecConfig, ExecInspect, ExecProcessConfig};

use super::{ContainerError, Status};

#[derive(Debug, Clone)]
struct ExecRecord {
    container_id: String,
    config: ExecConfig,
    started: bool,
    running: bool,
    exit_code: Option<i64>,
    pid: i64,
}

/// Every exec instance, by id.
#[derive(Debug, Default)]
pub struct Execs {
    map: Mutex<HashMap<String, ExecRecord>>,
}

impl Execs {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, ExecRecord>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The exec ids of a container (inspect's `ExecIDs`).
    pub fn ids_of(&self, container: &str) -> Vec<String> {
        self.lock()
            .iter()
            .filter(|(_, e)| e.container_id == container)
            .map(|(id, _)| id.clone())
            .collect()
    }

    pub(crate) fn forget_container(&self, container: &str) {
        self.lock().retain(|_, e| e.container_id != container);
    }
}

fn no_such_exec(id: &str) -> ContainerError {
    ContainerError::NotFound(format!("No such exec instance: {id}"))
}

/// A stream that carries only dockerd's message for an exec that could
/// not start, framed as stdout unless `tty`.
fn failed_stream(error: &str, tty: bool) -> Result<UnixStream, ContainerError> {
    let (ours, theirs) =
        UnixStream::pair().map_err(|e| ContainerError::io("make a socket pair", e))?;
    let text = format!(
        "OCI runtime exec failed: exec failed: unable to start container process: {error}: unknown\r\n"
    );
    let mut bytes = Vec::new();
    if !tty {
        bytes.extend_from_slice(&berth_shim::framing::header(
            berth_shim::framing::STDOUT,
            text.len(),
        ));
    }
    bytes.extend_from_slice(text.as_bytes());
    (&ours)
        .write_all(&bytes)
        .map_err(|e| ContainerError::io("write the exec's error", e))?;
    Ok(theirs)
}

/// A started exec's stream (framed unless `tty`) and what the client may
/// type to detach from it (empty: Docker's default, ctrl-p ctrl-q).
#[derive(Debug)]
pub struct ExecStream {
    pub stream: UnixStream,
    pub tty: bool,
    pub detach_keys: String,
}

impl crate::Engine {
    /// `POST /containers/{id}/exec`.
    pub fn create_exec(&self, name: &str, config: ExecConfig) -> Result<String, ContainerError> {
        let record = self.container(name)?;
        match record.state.status {
            Status::Running => {}
            Status::Paused => {
                return Err(ContainerError::Conflict(format!(
                    "Container {} is paused, unpause the container before exec",
                    record.id
                )));
            }
            _ => {
                return Err(ContainerError::Conflict(format!(
                    "Container {} is not running",
                    record.id
                )));
            }
        }
        if config.cmd.as_ref().is_none_or(|c| c.is_empty()) {
            return Err(ContainerError::invalid("No exec command specified"));
        }
        let id = super::names::new_id();
        self.execs.lock().insert(
            id.clone(),
            ExecRecord {
                container_id: record.id.clone(),
                config: config.clone(),
                started: false,
                running: false,
                exit_code: None,
                pid: 0,
            },
        );
        let cmd = config.cmd.unwrap_or_default().join(" ");
        self.container_event(
            &record,
            &format!("exec_create: {cmd}"),
            &[("execID", id.clone())],
        );
        Ok(id)
    }

    /// `POST /exec/{id}/start`: the stream (framed unless tty), and whether
    /// it has a tty.
    pub fn start_exec(&self, exec_id: &str, detach: bool) -> Result<ExecStream, ContainerError> {
        let exec = {
            let mut execs = self.execs.lock();
            let e = execs
                .get_mut(exec_id)
                .ok_or_else(|| no_such_exec(exec_id))?;
            if e.started {
                return Err(ContainerError::Conflict(format!(
                    "Error: Exec command {exec_id} has already run"
                )));
            }
            e.started = true;
            e.running = true;
            e.clone()
        };
        let record = self.container(&exec.container_id)?;
        let shim = self
            .shims
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&record.id)
            .cloned()
            .filter(|_| record.state.status == Status::Running)
            .ok_or_else(|| {
                ContainerError::Conflict(format!("Container {} is not running", record.id))
            })?;
        let process = self.exec_process(&record, &exec.config)?;
        let c = &exec.config;
        let spec = berth_shim::ExecSpec {
            exec_id: exec_id.to_string(),
            process,
            attach_stdin: c.attach_stdin && !detach,
            attach_stdout: c.attach_stdout && !detach,
            attach_stderr: c.attach_stderr && !detach,
            detach,
        };
        let stream = match shim.exec(&spec) {
            Ok(s) => s,
            Err(e) => {
                let mut execs = self.execs.lock();
                if let Some(x) = execs.get_mut(exec_id) {
                    x.running = false;
                    x.exit_code = Some(126);
                }
                drop(execs);
                if detach {
                    return Err(ContainerError::Start(e.to_string()));
                }
                // dockerd has answered the start by then: the error goes
                // into the stream, and the exec's exit code says 126.
                return Ok(ExecStream {
                    stream: failed_stream(&e.to_string(), c.tty)?,
                    tty: c.tty,
                    detach_keys: String::new(),
                });
            }
        };
        let cmd = c.cmd.clone().unwrap_or_default().join(" ");
        self.container_event(
            &record,
            &format!("exec_start: {cmd}"),
            &[("execID", exec_id.to_string())],
        );
        Ok(ExecStream {
            stream,
            tty: c.tty,
            detach_keys: c.detach_keys.clone(),
        })
    }

    /// The OCI process of an exec: the container's, with the exec's
    /// command, tty, environment, directory and user.
    fn exec_process(
        &self,
        record: &super::ContainerRecord,
        c: &ExecConfig,
    ) -> Result<oci_spec::runtime::Process, ContainerError> {
        let paths = self.container_paths(&record.id);
        let text = std::fs::read(paths.run.join("config.json"))
            .map_err(|e| ContainerError::io("read the container's config.json", e))?;
        let spec: oci_spec::runtime::Spec = serde_json::from_slice(&text)
            .map_err(|e| ContainerError::Internal(format!("the container's config.json: {e}")))?;
        let mut process = spec.process().clone().unwrap_or_default();
        process.set_args(c.cmd.clone());
        process.set_terminal(Some(c.tty));
        if let Some([h, w]) = c.console_size.filter(|s| *s != [0, 0]) {
            process.set_console_size(
                oci_spec::runtime::BoxBuilder::default()
                    .height(h as u64)
                    .width(w as u64)
                    .build()
                    .ok(),
            );
        } else {
            process.set_console_size(None);
        }
        let mut env = process.env().clone().unwrap_or_default();
        for e in c.env.clone().unwrap_or_default() {
            let key = e.split('=').next().unwrap_or(&e).to_string();
            env.retain(|x| x.split('=').next() != Some(key.as_str()));
            // A bare NAME unsets NAME (moby's ReplaceOrAppendEnvValues).
            if e.contains('=') {
                env.push(e);
            }
        }
        process.set_env(Some(env));
        if !c.working_dir.is_empty() {
            process.set_cwd(c.working_dir.clone().into());
        }
        if !c.user.is_empty() {
            let u = super::user::resolve(&paths.rootfs(), &c.user, &[])?;
            process.set_user(
                oci_spec::runtime::UserBuilder::default()
                    .uid(u.uid)
                    .gid(u.gid)
                    .additional_gids(u.additional_gids)
                    .build()
                    .map_err(|e| ContainerError::Internal(e.to_string()))?,
            );
        }
        if c.privileged {
            let all: Vec<String> = super::caps::ALL.iter().map(|s| s.to_string()).collect();
            let caps: oci_spec::runtime::Capabilities =
                all.iter().filter_map(|c| c.parse().ok()).collect();
            if let Some(pc) = process.capabilities().clone() {
                let mut pc = pc;
                pc.set_bounding(Some(caps.clone()));
                pc.set_effective(Some(caps.clone()));
                pc.set_permitted(Some(caps));
                process.set_capabilities(Some(pc));
            }
        }
        Ok(process)
    }

    /// `GET /exec/{id}/json`.
    /// Before a container's shim goes: asks it how the container's
    /// running execs ended, so that inspect reports their real exit codes.
    pub(crate) fn settle_execs(&self, container_id: &str, shim: &berth_shim::Client) {
        let running: Vec<String> = self
            .execs
            .lock()
            .iter()
            .filter(|(_, e)| e.container_id == container_id && e.running)
            .map(|(id, _)| id.clone())
            .collect();
        for id in running {
            if let Ok(state) = shim.exec_state(&id)
                && let Some(x) = self.execs.lock().get_mut(&id)
            {
                x.pid = state.pid as i64;
                x.running = state.running;
                x.exit_code = state.exit_code.map(|c| c as i64);
            }
        }
    }

    pub fn inspect_exec(&self, exec_id: &str) -> Result<ExecInspect, ContainerError> {
        let mut exec = self
            .execs
            .lock()
            .get(exec_id)
            .cloned()
            .ok_or_else(|| no_such_exec(exec_id))?;
        if exec.running {
            let shim = self
                .shims
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&exec.container_id)
                .cloned();
            match shim.map(|s| s.exec_state(exec_id)) {
                Some(Ok(state)) => {
                    exec.pid = state.pid as i64;
                    exec.running = state.running;
                    exec.exit_code = state.exit_code.map(|c| c as i64);
                }
                // The container (and its shim) went: the exec ended with it.
                _ => {
                    exec.running = false;
                    exec.exit_code = exec.exit_code.or(Some(137));
                }
            }
            if let Some(x) = self.execs.lock().get_mut(exec_id) {
                x.running = exec.running;
                x.exit_code = exec.exit_code;
                x.pid = exec.pid;
            }
        }
        let c = &exec.config;
        let cmd = c.cmd.clone().unwrap_or_default();
        Ok(ExecInspect {
            id: exec_id.to_string(),
            running: exec.running,
            exit_code: exec.exit_code,
            process_config: ExecProcessConfig {
                tty: c.tty,
                entrypoint: cmd.first().cloned().unwrap_or_default(),
                arguments: cmd.iter().skip(1).cloned().collect(),
                privileged: Some(c.privileged),
                user: (!c.user.is_empty()).then(|| c.user.clone()),
            },
            open_stdin: c.attach_stdin,
            open_stderr: c.attach_stderr,
            open_stdout: c.attach_stdout,
            can_remove: false,
            container_id: exec.container_id.clone(),
            detach_keys: c.detach_keys.clone(),
            pid: exec.pid,
        })
    }

    /// `POST /exec/{id}/resize`.
    pub fn resize_exec(
        &self,
        exec_id: &str,
        height: u16,
        width: u16,
    ) -> Result<(), ContainerError> {
        let exec = self
            .execs
            .lock()
            .get(exec_id)
            .cloned()
            .ok_or_else(|| no_such_exec(exec_id))?;
        let shim = self
            .shims
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&exec.container_id)
            .cloned()
            .ok_or_else(|| {
                ContainerError::Conflict(format!("Container {} is not running", exec.container_id))
            })?;
        Ok(shim.exec_resize(exec_id, height, width)?)
    }

    /// Runs `cmd` in the container and returns (exit code, output), for
    /// health checks.
    pub(crate) fn exec_capture(
        &self,
        id: &str,
        cmd: Vec<String>,
        timeout: std::time::Duration,
    ) -> Result<(i64, String), ContainerError> {
        use std::io::Read;
        let exec_id = self.create_exec(
            id,
            ExecConfig {
                attach_stdout: true,
                attach_stderr: true,
                cmd: Some(cmd),
                ..Default::default()
            },
        )?;
        let result = (|| {
            let mut stream = self.start_exec(&exec_id, false)?.stream;
            stream
                .set_read_timeout(Some(timeout))
                .map_err(|e| ContainerError::io("exec stream", e))?;
            let mut raw = Vec::new();
            let timed_out = match stream.read_to_end(&mut raw) {
                Ok(_) => false,
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    true
                }
                Err(e) => return Err(ContainerError::io("exec stream", e)),
            };
            if timed_out {
                let exec = self.execs.lock().get(&exec_id).cloned();
                if let (Some(_), Some(shim)) = (
                    exec,
                    self.shims
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .get(id)
                        .cloned(),
                ) {
                    let _ = shim.exec_kill(&exec_id, 9);
                }
                return Ok((-1, format!("Health check exceeded timeout ({timeout:?})")));
            }
            let output = String::from_utf8_lossy(&berth_shim::framing::payloads(&raw)).into_owned();
            let mut code = None;
            for _ in 0..100 {
                let state = self.inspect_exec(&exec_id)?;
                if !state.running {
                    code = state.exit_code;
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Ok((code.unwrap_or(-1), output))
        })();
        self.execs.lock().remove(&exec_id);
        result
    }
}
