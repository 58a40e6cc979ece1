//! `berth create`: resolve the options ([`super::opts`]), then
//! `POST /containers/create?name=&platform=`; when the image is missing
//! (or `--pull always`), pull it as docker does — `Unable to find image
//! 'x' locally` and the pull progress on standard error — and try again.
//! Prints the ID (create) or hands it to `run`.

use crate::app::{App, print};
use crate::cli::{CreateArgs, Usage};
use crate::client::{Category, Method, Request};
use crate::commands::auth::registry_auth_header;
use crate::commands::min_args;
use crate::error::CliError;
use crate::progress::Display;
use crate::reference::Reference;

use super::opts::Create;

/// `--pull` values.
pub fn check_pull(pull: &str, command: &str) -> Result<(), CliError> {
    if ["always", "missing", "never", ""].contains(&pull) {
        return Ok(());
    }
    Err(super::with_help(
        &format!(
            "invalid pull option: '{pull}': must be one of \"always\", \"missing\" or \"never\""
        ),
        command,
        125,
    ))
}

/// Pull `image` with its progress on standard error.
fn pull(app: &App, image: &str, platform: Option<&str>, quiet: bool) -> Result<(), CliError> {
    let r = Reference::parse_normalized(image)?.with_default_tag();
    let auth = registry_auth_header(app, &r.domain)?;
    let client = app.client()?;
    let tag = match (&r.digest, &r.tag) {
        (Some(d), _) => d.clone(),
        (None, Some(t)) => t.clone(),
        _ => "latest".into(),
    };
    let req = Request::new(Method::Post, "/images/create")
        .query("fromImage", r.name())
        .query("tag", tag)
        .query_if(
            platform.is_some(),
            "platform",
            platform.unwrap_or_default().to_lowercase(),
        )
        .header("X-Registry-Auth", auth);
    let resp = client.send(req)?;
    let now = || {
        let (s, n) = crate::format::time::now();
        s as f64 + f64::from(n) / 1e9
    };
    let d = Display {
        terminal: !quiet && rustix::termios::isatty(rustix::stdio::stderr()),
        width: 200,
    };
    if quiet {
        d.stream(resp, &mut std::io::sink(), &mut |_| {}, &now)?;
    } else {
        let mut err = std::io::stderr().lock();
        d.stream(resp, &mut err, &mut |_| {}, &now)?;
    }
    Ok(())
}

/// Create the container (pulling as `--pull` says); its ID. Warnings
/// from the daemon go to standard error.
pub fn create_container(
    app: &App,
    c: &Create,
    pull_policy: &str,
    quiet: bool,
    cidfile: Option<&str>,
) -> Result<String, CliError> {
    // docker refuses an existing cidfile before creating anything
    if let Some(f) = cidfile.filter(|f| !f.is_empty())
        && std::path::Path::new(f).exists()
    {
        return Err(CliError::Usage(format!(
            "container ID file found, make sure the other container isn't running or delete {f}"
        )));
    }
    let client = app.client()?;
    let request = || {
        Request::new(Method::Post, "/containers/create")
            .query_if(c.name.is_some(), "name", c.name.clone().unwrap_or_default())
            .query_if(
                c.platform.is_some(),
                "platform",
                c.platform.clone().unwrap_or_default(),
            )
            .json(&c.body)
    };
    let full = Reference::parse_normalized(&c.image)
        .map(|r| r.with_default_tag().familiar())
        .unwrap_or_else(|_| c.image.clone());
    if pull_policy == "always" {
        pull(app, &c.image, c.platform.as_deref(), quiet)?;
    }
    let resp = match client.send(request()) {
        Ok(r) => r,
        Err(e) if e.category() == Category::NotFound && pull_policy == "missing" => {
            if !e.to_string().contains("No such image") {
                return Err(e.into());
            }
            eprintln!("Unable to find image '{full}' locally");
            pull(app, &c.image, c.platform.as_deref(), quiet)?;
            client.send(request())?
        }
        Err(e) => return Err(e.into()),
    };
    #[derive(serde::Deserialize, Default)]
    #[serde(rename_all = "PascalCase", default)]
    struct Created {
        id: String,
        warnings: Option<Vec<String>>,
    }
    let created: Created = resp.json()?;
    for w in created.warnings.unwrap_or_default() {
        eprintln!("WARNING: {w}");
    }
    if let Some(f) = cidfile.filter(|f| !f.is_empty()) {
        std::fs::write(f, &created.id).map_err(|e| {
            CliError::io(
                format!("failed to write the container ID to the file: open {f}"),
                e,
            )
        })?;
    }
    Ok(created.id)
}

/// Run `create`.
pub fn run(app: &App, a: &CreateArgs, u: Usage) -> Result<(), CliError> {
    min_args(u, &a.opts.args, 1)?;
    check_pull(&a.opts.pull, "create")?;
    let c =
        super::opts::build(&a.opts).map_err(|e| super::with_help(&e.to_string(), "create", 125))?;
    let id = create_container(
        app,
        &c,
        &a.opts.pull,
        a.opts.quiet,
        a.opts.cidfile.as_deref(),
    )
    .map_err(|e| match e {
        CliError::Client(ce) => super::with_help(&ce.to_string(), "create", 125),
        other => other,
    })?;
    print(&format!("{id}\n"))
}
