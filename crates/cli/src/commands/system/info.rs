//! `berth info`: the client's details and the daemon's (`GET /info`) in
//! docker's layout, or `--format` (the daemon's fields, plus `ClientInfo`).
//! Without a daemon the client section is printed and the error follows.

use base64::Engine as _;

use crate::app::{App, print};
use crate::cli::{FormatArgs, Usage};
use crate::client::{ClientError, Method, Request};
use crate::commands::no_args;
use crate::config::credentials::INDEX_SERVER;
use crate::error::CliError;
use crate::format::json::Json;
use crate::format::template::{Struct, Template, Value};
use crate::format::units::bytes_size;

fn client_info(debug: bool) -> Value {
    Value::from(
        Struct::new("system.clientInfo")
            .field("Version", env!("CARGO_PKG_VERSION"))
            .field("Context", "default")
            .field("Debug", debug)
            .field("Plugins", Value::List(Vec::new()))
            .field(
                "Warnings",
                Value::Nil(crate::format::template::NilKind::List),
            ),
    )
}

/// `/info` as a struct whose fields are the daemon's (in its order), with
/// `ClientInfo` added: unknown fields are errors as on docker's typed value.
fn info_value(server: Option<&Json>, debug: bool) -> Value {
    let mut s = Struct::new("system.dockerInfo");
    if let Some(Json::Object(entries)) = server {
        for (k, v) in entries {
            s.fields.push((k.clone(), Value::from_json_ordered(v)));
        }
    }
    s.fields.push(("ClientInfo".into(), client_info(debug)));
    Value::from(s)
}

/// Run `info`.
pub fn run(app: &App, a: &FormatArgs, u: Usage) -> Result<(), CliError> {
    no_args(u, &a.args)?;
    let debug = app.settings.debug;
    let format = a.format.clone().unwrap_or_default();
    if format.is_empty() {
        return pretty(app, debug);
    }
    if format == "json" {
        let (server, err) = fetch(app);
        let mut entries = match server {
            Some(Json::Object(e)) => e,
            _ => Vec::new(),
        };
        entries.push((
            "ClientInfo".into(),
            Json::parse(client_info(debug).to_json(false).as_bytes()).unwrap_or(Json::Null),
        ));
        print(&format!("{}\n", Json::Object(entries).to_compact(false)))?;
        return err.map_or(Ok(()), Err);
    }
    let tmpl = Template::parse(&format).map_err(|e| CliError::Status {
        message: format!("template parsing error: {e}"),
        code: 64,
    })?;
    // docker skips the daemon when the template only needs client fields
    let client_only = info_value(None, debug);
    if let Ok(out) = tmpl.render(&client_only) {
        return print(&format!("{out}\n"));
    }
    let (server, err) = fetch(app);
    if let Some(e) = err {
        return Err(e);
    }
    // docker prints what the template wrote and a newline, then the error
    let (out, r) = tmpl.execute_with(
        &info_value(server.as_ref(), debug),
        crate::format::template::Options {
            missing_key_error: false,
            funcs: crate::format::template::FuncSet::Basic,
        },
    );
    print(&format!("{}\n", out.unwrap_or_default()))?;
    r.map_err(|e| CliError::Usage(e.0))
}

fn fetch(app: &App) -> (Option<Json>, Option<CliError>) {
    let client = match app.client() {
        Ok(c) => c,
        Err(e) => return (None, Some(e)),
    };
    match client
        .send(Request::new(Method::Get, "/info"))
        .and_then(|r| r.bytes())
    {
        Ok(raw) => match Json::parse(&raw) {
            Ok(j) => (Some(j), None),
            Err(e) => (
                None,
                Some(CliError::Usage(format!("invalid /info answer: {e}"))),
            ),
        },
        Err(e) => (None, Some(e.into())),
    }
}

fn pretty(app: &App, debug: bool) -> Result<(), CliError> {
    let mut out = String::new();
    out.push_str("Client:\n");
    out.push_str(&format!(" Version:    {}\n", env!("CARGO_PKG_VERSION")));
    out.push_str(" Context:    default\n");
    out.push_str(&format!(" Debug Mode: {debug}\n"));
    out.push_str("\nServer:\n");
    let (server, err) = fetch(app);
    let mut warnings = Vec::new();
    if let Some(j) = &server {
        let user = app
            .config()
            .ok()
            .and_then(|c| c.auth(INDEX_SERVER).map(|a| a.username.clone()))
            .unwrap_or_default();
        server_lines(j, debug, &user, &mut out, &mut warnings);
    }
    print(&out)?;
    for w in warnings {
        eprintln!("{w}");
    }
    match err {
        Some(CliError::Client(ClientError::Daemon { .. })) | None => {
            if let Some(e) = err {
                eprintln!("ERROR: {e}");
                return Err(CliError::Usage("errors pretty printing info".into()));
            }
            Ok(())
        }
        Some(e) => Err(e),
    }
}

/// docker's `prettyPrintServerInfo`.
fn server_lines(j: &Json, debug: bool, user: &str, out: &mut String, warnings: &mut Vec<String>) {
    let s = |k: &str| j.get(k).and_then(Json::as_str).unwrap_or("").to_string();
    let n = |k: &str| j.get(k).and_then(Json::as_i64).unwrap_or(0);
    let b = |k: &str| matches!(j.get(k), Some(Json::Bool(true)));
    let strs = |v: Option<&Json>| -> Vec<String> {
        v.and_then(Json::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut w = Lines(out);
    w.kv(" Containers:", n("Containers").to_string());
    w.kv("  Running:", n("ContainersRunning").to_string());
    w.kv("  Paused:", n("ContainersPaused").to_string());
    w.kv("  Stopped:", n("ContainersStopped").to_string());
    w.kv(" Images:", n("Images").to_string());
    w.non_empty(" Server Version:", s("ServerVersion"));
    w.non_empty(" Storage Driver:", s("Driver"));
    for key in ["DriverStatus", "SystemStatus"] {
        if let Some(Json::Array(pairs)) = j.get(key) {
            let indent = if key == "DriverStatus" { "  " } else { " " };
            for p in pairs {
                let p = strs(Some(p));
                if p.len() >= 2 {
                    w.kv(&format!("{indent}{}:", p[0]), p[1].clone());
                }
            }
        }
    }
    w.non_empty(" Logging Driver:", s("LoggingDriver"));
    w.non_empty(" Cgroup Driver:", s("CgroupDriver"));
    w.non_empty(" Cgroup Version:", s("CgroupVersion"));
    w.line(" Plugins:");
    let plugins = j.get("Plugins");
    let plugin = |k: &str| strs(plugins.and_then(|p| p.get(k))).join(" ");
    w.kv("  Volume:", plugin("Volume"));
    w.kv("  Network:", plugin("Network"));
    if !plugin("Authorization").is_empty() {
        w.kv("  Authorization:", plugin("Authorization"));
    }
    w.kv("  Log:", plugin("Log"));
    let cdi = strs(j.get("CDISpecDirs"));
    if !cdi.is_empty() {
        w.line(" CDI spec directories:");
        for d in cdi {
            w.line(&format!("  {d}"));
        }
    }
    let swarm_state = j
        .get("Swarm")
        .and_then(|sw| sw.get("LocalNodeState"))
        .and_then(Json::as_str)
        .unwrap_or("")
        .to_string();
    w.kv(" Swarm:", swarm_state);
    if let Some(Json::Object(rt)) = j.get("Runtimes")
        && !rt.is_empty()
    {
        let mut names: Vec<&str> = rt.iter().map(|(k, _)| k.as_str()).collect();
        names.sort_unstable();
        w.kv(" Runtimes:", names.join(" "));
        w.kv(" Default Runtime:", s("DefaultRuntime"));
    }
    if s("OSType") == "linux" {
        let commit = |k: &str| {
            j.get(k)
                .and_then(|c| c.get("ID"))
                .and_then(Json::as_str)
                .unwrap_or("")
                .to_string()
        };
        w.kv(" Init Binary:", s("InitBinary"));
        w.kv(" containerd version:", commit("ContainerdCommit"));
        w.kv(" runc version:", commit("RuncCommit"));
        w.kv(" init version:", commit("InitCommit"));
        let opts = strs(j.get("SecurityOptions"));
        if !opts.is_empty() {
            w.line(" Security Options:");
            for o in opts {
                let mut name = o.clone();
                let mut profile = None;
                if o.contains("name=") {
                    for kv in o.split(',') {
                        match kv.split_once('=') {
                            Some(("name", v)) => name = v.to_string(),
                            Some(("profile", v)) => profile = Some(v.to_string()),
                            _ => {}
                        }
                    }
                }
                w.line(&format!("  {name}"));
                if let Some(p) = profile {
                    w.kv("   Profile:", p);
                }
            }
        }
    }
    w.non_empty(" Kernel Version:", s("KernelVersion"));
    w.non_empty(" Operating System:", s("OperatingSystem"));
    w.non_empty(" OSType:", s("OSType"));
    w.non_empty(" Architecture:", s("Architecture"));
    w.kv(" CPUs:", n("NCPU").to_string());
    w.kv(" Total Memory:", bytes_size(n("MemTotal") as f64));
    w.non_empty(" Name:", s("Name"));
    w.non_empty(" ID:", s("ID"));
    w.kv(" Docker Root Dir:", s("DockerRootDir"));
    w.kv(" Debug Mode:", b("Debug").to_string());
    if b("Debug") || debug {
        w.kv("  File Descriptors:", n("NFd").to_string());
        w.kv("  Goroutines:", n("NGoroutines").to_string());
        w.kv("  System Time:", s("SystemTime"));
        w.kv("  EventsListeners:", n("NEventsListener").to_string());
    }
    w.non_empty(" HTTP Proxy:", s("HttpProxy"));
    w.non_empty(" HTTPS Proxy:", s("HttpsProxy"));
    w.non_empty(" No Proxy:", s("NoProxy"));
    w.non_empty(" Username:", user.to_string());
    let labels = strs(j.get("Labels"));
    if !labels.is_empty() {
        w.line(" Labels:");
        for l in labels {
            w.line(&format!("  {l}"));
        }
    }
    w.kv(" Experimental:", b("ExperimentalBuild").to_string());
    if let Some(rc) = j.get("RegistryConfig") {
        let mut index: Vec<(String, bool)> = match rc.get("IndexConfigs") {
            Some(Json::Object(ic)) => ic
                .iter()
                .map(|(k, v)| (k.clone(), matches!(v.get("Secure"), Some(Json::Bool(true)))))
                .collect(),
            _ => Vec::new(),
        };
        index.sort();
        let cidrs: Vec<String> = rc
            .get("InsecureRegistryCIDRs")
            .and_then(Json::as_array)
            .unwrap_or_default()
            .iter()
            .map(|c| {
                // the API writes a CIDR as a string ("127.0.0.0/8")
                if let Some(text) = c.as_str() {
                    return text.to_string();
                }
                let ip = c.get("IP").and_then(Json::as_str).unwrap_or("");
                let bits: u32 = c
                    .get("Mask")
                    .and_then(Json::as_str)
                    .and_then(|m| base64::engine::general_purpose::STANDARD.decode(m).ok())
                    .map(|m| m.iter().map(|b| b.count_ones()).sum())
                    .unwrap_or(0);
                format!("{ip}/{bits}")
            })
            .collect();
        if !cidrs.is_empty() || !index.is_empty() {
            w.line(" Insecure Registries:");
            for (name, secure) in &index {
                if !secure {
                    w.line(&format!("  {name}"));
                }
            }
            for c in cidrs {
                w.line(&format!("  {c}"));
            }
        }
        let mirrors = strs(rc.get("Mirrors"));
        if !mirrors.is_empty() {
            w.line(" Registry Mirrors:");
            for m in mirrors {
                w.line(&format!("  {m}"));
            }
        }
    }
    w.kv(
        " Live Restore Enabled:",
        b("LiveRestoreEnabled").to_string(),
    );
    if !s("ProductLicense").is_empty() {
        w.kv(" Product License:", s("ProductLicense"));
    }
    if let Some(Json::Array(pools)) = j.get("DefaultAddressPools")
        && !pools.is_empty()
    {
        w.line(" Default Address Pools:");
        for p in pools {
            let base = p.get("Base").and_then(Json::as_str).unwrap_or("");
            let size = p.get("Size").and_then(Json::as_i64).unwrap_or(0);
            w.line(&format!("   Base: {base}, Size: {size}"));
        }
    }
    w.0.push('\n');
    warnings.extend(strs(j.get("Warnings")));
}

/// Go's `fmt.Fprintln` of a label and a value (a space between them,
/// even when the value is empty), and of a bare line.
struct Lines<'a>(&'a mut String);

impl Lines<'_> {
    fn kv(&mut self, label: &str, value: String) {
        self.0.push_str(&format!("{label} {value}\n"));
    }

    fn non_empty(&mut self, label: &str, value: String) {
        if !value.is_empty() {
            self.kv(label, value);
        }
    }

    fn line(&mut self, text: &str) {
        self.0.push_str(text);
        self.0.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pretty_server_section() {
        let j = Json::parse(br#"{"Containers":1,"ContainersRunning":0,"ContainersPaused":0,"ContainersStopped":1,"Images":2,"Driver":"overlay2","DriverStatus":[["Backing Filesystem","extfs"]],"Plugins":{"Volume":["local"],"Network":["host","null"],"Authorization":null,"Log":["json-file"]},"Swarm":{"LocalNodeState":"inactive"},"Runtimes":{"runc":{},"berth":{}},"DefaultRuntime":"runc","OSType":"linux","SecurityOptions":["name=seccomp,profile=default","name=cgroupns"],"NCPU":2,"MemTotal":4294967296,"DockerRootDir":"/var/lib/berth","RegistryConfig":{"InsecureRegistryCIDRs":["127.0.0.0/8",{"IP":"10.0.0.0","Mask":"/wAAAA=="}],"IndexConfigs":{"docker.io":{"Secure":true}}},"Warnings":["WARNING: x"]}"#).unwrap();
        let mut out = String::new();
        let mut w = Vec::new();
        server_lines(&j, false, "", &mut out, &mut w);
        assert!(out.starts_with(" Containers: 1\n  Running: 0\n  Paused: 0\n  Stopped: 1\n Images: 2\n Storage Driver: overlay2\n  Backing Filesystem: extfs\n Plugins:\n  Volume: local\n  Network: host null\n  Log: json-file\n Swarm: inactive\n Runtimes: berth runc\n Default Runtime: runc\n"), "{out}");
        assert!(
            out.contains(" Security Options:\n  seccomp\n   Profile: default\n  cgroupns\n"),
            "{out}"
        );
        assert!(out.contains(" Total Memory: 4GiB\n"), "{out}");
        assert!(
            out.contains(" Insecure Registries:\n  127.0.0.0/8\n  10.0.0.0/8\n"),
            "{out}"
        );
        assert_eq!(w, vec!["WARNING: x".to_string()]);
    }
}
