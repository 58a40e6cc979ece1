//! `berth image ...` and its top-level aliases (`images`, `pull`, `push`,
//! `history`, `tag`, `rmi`, `save`, `load`, `import`, `build`).

pub mod build;
pub mod history;
pub mod import;
pub mod inspect;
pub mod list;
pub mod load;
pub mod prune;
pub mod pull;
pub mod push;
pub mod remove;
pub mod save;
pub mod shape;
pub mod tag;

use crate::format::template::Struct;

/// A formatter row: a struct whose JSON is docker's `MarshalJSON` of a
/// formatter context (sorted keys, HTML escaped).
pub fn row(type_name: &str) -> Struct {
    let mut s = Struct::new(type_name);
    s.escape_html = true;
    s
}

/// `os[/arch[/variant]]` as the JSON of an OCI platform
/// (`{"architecture":"amd64","os":"linux"}`), what the API takes for
/// `--platform` on inspect, history, push, save and load.
pub fn platform_json(p: &str) -> String {
    use crate::format::json::Json;
    let parts: Vec<String> = p.split('/').map(|s| s.trim().to_lowercase()).collect();
    let mut o = Vec::new();
    o.push((
        "architecture".to_string(),
        Json::String(parts.get(1).cloned().unwrap_or_default()),
    ));
    o.push(("os".to_string(), Json::String(parts[0].clone())));
    if let Some(v) = parts.get(2) {
        o.push(("variant".to_string(), Json::String(v.clone())));
    }
    Json::Object(o).to_compact(true)
}

/// docker's `NewVersionError`: the daemon's API is too old for `feature`.
pub fn require_api(
    client: &crate::client::Client,
    required: &str,
    feature: &str,
) -> Result<(), crate::error::CliError> {
    let v = client.api_version()?;
    if crate::client::version_less(&v, required) {
        return Err(crate::error::CliError::Usage(format!(
            "{feature:?} requires API version {required}, but the Berth daemon API version is {v}"
        )));
    }
    Ok(())
}

/// Render a JSON message stream to standard output (or nowhere, for
/// `--quiet`), docker's `jsonstream.Display`.
pub fn display_stream(
    resp: crate::client::Response<'_>,
    quiet: bool,
    aux: &mut dyn FnMut(&crate::format::json::Json),
) -> Result<(), crate::error::CliError> {
    use crate::progress::Display;
    let now = || {
        let (s, n) = crate::format::time::now();
        s as f64 + f64::from(n) / 1e9
    };
    if quiet {
        let d = Display {
            terminal: false,
            width: 200,
        };
        d.stream(resp, &mut std::io::sink(), aux, &now)?;
    } else {
        let d = Display::stdout();
        let mut out = std::io::stdout().lock();
        d.stream(resp, &mut out, aux, &now)?;
    }
    Ok(())
}
