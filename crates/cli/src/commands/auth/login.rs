//! `berth login`: credentials from `-u`/`-p`/`--password-stdin` or the
//! terminal (the password read without echo), checked by the daemon
//! (`POST /auth`), then stored where the client config says (the file's
//! `auths`, or a credential helper). Stored credentials are tried first
//! when neither user nor password is given, as docker does. Docker Hub's
//! web (device-code) login is not offered: it needs the internet; the
//! user name and password prompt is used instead.

use std::io::{BufRead, Read};

use serde::Deserialize;

use crate::app::{App, print, stdin_is_terminal};
use crate::cli::{LoginArgs, Usage};
use crate::client::{Method, Request};
use crate::commands::max_args;
use crate::config::credentials::{self, INDEX_SERVER};
use crate::config::{AuthConfig, convert_to_hostname};
use crate::error::CliError;
use crate::format::json::Json;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct AuthResponse {
    status: String,
    identity_token: String,
}

const UNENCRYPTED_WARNING: &str = "\nWARNING! Your credentials are stored unencrypted in '{}'.\nConfigure a credential helper to remove this warning. See\nhttps://docs.docker.com/go/credential-store/\n";

/// `POST /auth` with `auth`.
fn check(app: &App, auth: &AuthConfig) -> Result<AuthResponse, CliError> {
    let mut body = Vec::new();
    for (k, v) in [
        ("username", &auth.username),
        ("password", &auth.password),
        ("serveraddress", &auth.server_address),
        ("identitytoken", &auth.identity_token),
    ] {
        if !v.is_empty() {
            body.push((k.to_string(), Json::String(v.clone())));
        }
    }
    let client = app.client()?;
    let resp = client.send(
        Request::new(Method::Post, "/auth").body(crate::client::Body::Json(
            Json::Object(body).to_compact(true).into_bytes(),
        )),
    )?;
    Ok(resp.json()?)
}

/// Save `auth` and warn when a password went into the file.
fn save(app: &App, auth: &AuthConfig) -> Result<(), CliError> {
    let mut cfg = app.config()?;
    let warn = credentials::store(&mut cfg, auth)
        .map_err(|e| CliError::Usage(format!("Error saving credentials: {e}")))?;
    if warn {
        eprintln!(
            "{}",
            UNENCRYPTED_WARNING.replace("{}", &cfg.path().display().to_string())
        );
    }
    Ok(())
}

/// Read a line from the terminal with echo off (restored afterwards).
fn read_password() -> Result<String, CliError> {
    use rustix::termios::{LocalModes, OptionalActions, tcgetattr, tcsetattr};
    let fd = rustix::stdio::stdin();
    let saved = tcgetattr(fd).ok();
    if let Some(t) = &saved {
        let mut quiet = t.clone();
        quiet.local_modes.remove(LocalModes::ECHO);
        let _ = tcsetattr(fd, OptionalActions::Now, &quiet);
    }
    let mut line = String::new();
    let r = std::io::stdin().lock().read_line(&mut line);
    if let Some(t) = &saved
        && let Err(e) = tcsetattr(fd, OptionalActions::Now, t)
    {
        eprintln!("Error: failed to restore terminal state to echo input: {e}");
    }
    r.map_err(|e| CliError::io("read the password", e))?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

fn read_line() -> Result<String, CliError> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| CliError::io("read the user name", e))?;
    Ok(line.trim().to_string())
}

/// docker's `PromptUserForCredentials`.
fn prompt(
    user: &str,
    password: &str,
    default_user: &str,
    server: &str,
) -> Result<AuthConfig, CliError> {
    let mut user = user.trim().to_string();
    if user.is_empty() {
        if server == INDEX_SERVER {
            print(
                "Log in with your Docker ID or email address to push and pull images from Docker Hub. If you don't have a Docker ID, head over to https://hub.docker.com/ to create one.\n",
            )?;
        }
        let default_user = default_user.trim();
        if default_user.is_empty() {
            print("Username: ")?;
        } else {
            print(&format!("Username ({default_user}): "))?;
        }
        user = read_line()?;
        if user.is_empty() {
            user = default_user.to_string();
        }
        if user.is_empty() {
            return Err(CliError::Usage("Error: Non-null Username Required".into()));
        }
    }
    let mut password = password.trim().to_string();
    if password.is_empty() {
        print("Password: ")?;
        password = read_password()?;
        print("\n")?;
        if password.is_empty() {
            return Err(CliError::Usage("Error: Password Required".into()));
        }
    }
    Ok(AuthConfig {
        username: user,
        password,
        server_address: server.to_string(),
        ..AuthConfig::default()
    })
}

/// Run `login`.
pub fn run(app: &App, a: &LoginArgs, u: Usage) -> Result<(), CliError> {
    max_args(u, &a.args, 1)?;
    if a.password_stdin {
        if a.password.is_some() {
            return Err(CliError::Usage(
                "conflicting options: cannot specify both --password and --password-stdin".into(),
            ));
        }
        if a.username.is_none() {
            return Err(CliError::Usage(
                "the --password-stdin option requires --username to be set".into(),
            ));
        }
    }
    if a.username.as_deref() == Some("") {
        return Err(CliError::Usage("username is empty".into()));
    }
    if a.password.as_deref() == Some("") {
        return Err(CliError::Usage("password is empty".into()));
    }
    let user = a.username.clone().unwrap_or_default();
    let mut password = a.password.clone().unwrap_or_default();
    if !password.is_empty() {
        eprintln!("WARNING! Using --password via the CLI is insecure. Use --password-stdin.");
    }
    if a.password_stdin {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| CliError::io("read the password from stdin", e))?;
        password = s.strip_suffix('\n').unwrap_or(&s).to_string();
        password = password.strip_suffix('\r').unwrap_or(&password).to_string();
    }
    let server = match a.args.first() {
        Some(s) if !s.is_empty() && s != "docker.io" => s.clone(),
        _ => INDEX_SERVER.to_string(),
    };
    let is_default = server == INDEX_SERVER;
    let server = if is_default {
        server
    } else {
        convert_to_hostname(&server)
    };

    // stored credentials first, when none were given
    let mut stored = AuthConfig {
        server_address: server.clone(),
        ..AuthConfig::default()
    };
    if user.is_empty() && password.is_empty() {
        let cfg = app.config()?;
        if let Ok(s) = credentials::get(&cfg, &server) {
            stored.username = s.username;
            stored.password = s.password;
        }
    }
    if !stored.username.is_empty() && !stored.password.is_empty() {
        eprintln!(
            "Authenticating with existing credentials... [Username: {}]",
            stored.username
        );
        eprintln!(
            "\ni Info → To login with a different account, run 'berth logout' followed by 'berth login'\n\n"
        );
        match check(app, &stored) {
            Ok(resp) => {
                let mut auth = stored.clone();
                if !resp.identity_token.is_empty() {
                    auth.password.clear();
                    auth.identity_token = resp.identity_token;
                }
                save(app, &auth)?;
                if !resp.status.is_empty() {
                    print(&format!("{}\n", resp.status))?;
                }
                return Ok(());
            }
            Err(e) => {
                if matches!(&e, CliError::Client(c) if c.status() == Some(401)) {
                    eprintln!("Stored credentials invalid or expired");
                } else {
                    eprintln!("Login did not succeed, error: {e}");
                }
            }
        }
    }
    if (user.is_empty() || password.is_empty()) && !stdin_is_terminal() {
        return Err(CliError::Usage(
            "Error: Cannot perform an interactive login from a non TTY device".into(),
        ));
    }
    let mut auth = prompt(&user, &password, &stored.username, &server)?;
    let resp = check(app, &auth)?;
    if !resp.identity_token.is_empty() {
        auth.password.clear();
        auth.identity_token = resp.identity_token;
    }
    save(app, &auth)?;
    if !resp.status.is_empty() {
        print(&format!("{}\n", resp.status))?;
    }
    Ok(())
}
