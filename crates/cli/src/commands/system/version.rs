//! `berth version`: the client's version and the daemon's (`GET
//! /version`), in docker's layout (a tab writer with minimum width 20 and
//! padding 1), or `--format`. The client section is printed even when the
//! daemon cannot be reached; the error follows.
//!
//! berth's client section names what berth has (version, API version and
//! the version it was downgraded from, git commit, OS/arch, context); the
//! Go-specific lines of docker's (Go version, build time) are left out.

use crate::app::{App, print};
use crate::cli::{FormatArgs, Usage};
use crate::client::{MAX_API_VERSION, Method, Request};
use crate::commands::no_args;
use crate::error::CliError;
use crate::format::json::Json;
use crate::format::table::TabWriter;
use crate::format::template::{NilKind, Struct, Template, Value};
use crate::format::time::ansic_from_rfc3339;
use crate::inspect::{Field, Shape, typed};

const DEFAULT_TEMPLATE: &str = r#"{{with .Client -}}
Client:{{if ne .Platform nil}}{{if ne .Platform.Name ""}} {{.Platform.Name}}{{end}}{{end}}
 Version:	{{.Version}}
 API version:	{{.APIVersion}}{{if ne .APIVersion .DefaultAPIVersion}} (downgraded from {{.DefaultAPIVersion}}){{end}}
 Git commit:	{{.GitCommit}}
 OS/Arch:	{{.Os}}/{{.Arch}}
 Context:	{{.Context}}
{{- end}}

{{- if ne .Server nil}}{{with .Server}}

Server:{{if ne .Platform.Name ""}} {{.Platform.Name}}{{end}}
 {{- range $component := .Components}}
 {{$component.Name}}:
  {{- if eq $component.Name "Engine" }}
  Version:	{{.Version}}
  API version:	{{index .Details "ApiVersion"}} (minimum version {{index .Details "MinAPIVersion"}})
  Go version:	{{index .Details "GoVersion"}}
  Git commit:	{{index .Details "GitCommit"}}
  Built:	{{index .Details "BuildTime"}}
  OS/Arch:	{{index .Details "Os"}}/{{index .Details "Arch"}}
  Experimental:	{{index .Details "Experimental"}}
  {{- else }}
  Version:	{{$component.Version}}
  {{- range $key, $value := $component.Details}}
  {{$key}}:	{{$value}}
   {{- end}}
  {{- end}}
 {{- end}}
 {{- end}}{{- end}}"#;

const fn f(name: &'static str, json: &'static str, omit_empty: bool, shape: Shape) -> Field {
    Field {
        name,
        json,
        omit_empty,
        shape,
    }
}

static STR: Shape = Shape::Str;
static PLATFORM: [Field; 1] = [f("Name", "Name", false, Shape::Str)];
static COMPONENT: [Field; 3] = [
    f("Name", "Name", false, Shape::Str),
    f("Version", "Version", false, Shape::Str),
    f(
        "Details",
        "Details",
        true,
        Shape::Map(crate::format::template::MapElem::Str),
    ),
];
static COMPONENT_SHAPE: Shape = Shape::Struct("types.ComponentVersion", &COMPONENT);
static VERSION: [Field; 13] = [
    f(
        "Platform",
        "Platform",
        false,
        Shape::Struct("struct { Name string }", &PLATFORM),
    ),
    f(
        "Components",
        "Components",
        true,
        Shape::List(&COMPONENT_SHAPE),
    ),
    f("Version", "Version", false, Shape::Str),
    f("APIVersion", "ApiVersion", false, Shape::Str),
    f("MinAPIVersion", "MinAPIVersion", true, Shape::Str),
    f("GitCommit", "GitCommit", false, Shape::Str),
    f("GoVersion", "GoVersion", false, Shape::Str),
    f("Os", "Os", false, Shape::Str),
    f("Arch", "Arch", false, Shape::Str),
    f("KernelVersion", "KernelVersion", true, Shape::Str),
    f("Experimental", "Experimental", true, Shape::Bool),
    f("BuildTime", "BuildTime", true, Shape::Str),
    f("Details", "Details", true, Shape::List(&STR)),
];
/// docker's `types.Version` (the `Details` list is unused, kept for the
/// field count; docker has none).
static SERVER_SHAPE: Shape = Shape::Struct("types.Version", &VERSION);

/// The client half.
fn client_value(api_version: &str) -> Value {
    let mut s = Struct::new("system.clientVersion")
        .field("Platform", Value::Nil(NilKind::Pointer))
        .field("Version", env!("CARGO_PKG_VERSION"))
        .field("APIVersion", api_version)
        .field("DefaultAPIVersion", MAX_API_VERSION)
        .field("GitCommit", option_env!("BERTH_GIT_COMMIT").unwrap_or(""))
        .field("Os", "linux")
        .field("Arch", super::go_arch())
        .field("Context", "default");
    s.json_tags = Some(
        [
            ("Platform", true),
            ("Version", true),
            ("ApiVersion", true),
            ("DefaultAPIVersion", true),
            ("GitCommit", true),
            ("Os", true),
            ("Arch", true),
            ("Context", false),
        ]
        .iter()
        .map(|(k, o)| (k.to_string(), *o))
        .collect(),
    );
    Value::from(s)
}

/// docker's fix-ups of `/version`: the engine component's build time in
/// ANSIC, and an engine component made from the top-level fields when the
/// daemon sent none.
fn fix_server(mut j: Json) -> Json {
    let Json::Object(top) = &mut j else { return j };
    let get = |top: &Vec<(String, Json)>, k: &str| -> String {
        top.iter()
            .find(|(key, _)| key == k)
            .and_then(|(_, v)| v.as_str())
            .unwrap_or("")
            .to_string()
    };
    let mut found = false;
    if let Some((_, Json::Array(components))) = top.iter_mut().find(|(k, _)| k == "Components") {
        for c in components.iter_mut() {
            if c.get("Name").and_then(Json::as_str) != Some("Engine") {
                continue;
            }
            found = true;
            if let Json::Object(fields) = c
                && let Some((_, Json::Object(details))) =
                    fields.iter_mut().find(|(k, _)| k == "Details")
                && let Some((_, Json::String(bt))) =
                    details.iter_mut().find(|(k, _)| k == "BuildTime")
            {
                *bt = ansic_from_rfc3339(bt);
            }
        }
    }
    if !found {
        let experimental = matches!(
            top.iter()
                .find(|(k, _)| k == "Experimental")
                .map(|(_, v)| v),
            Some(Json::Bool(true))
        );
        let details = vec![
            ("ApiVersion", get(top, "ApiVersion")),
            ("MinAPIVersion", get(top, "MinAPIVersion")),
            ("GitCommit", get(top, "GitCommit")),
            ("GoVersion", get(top, "GoVersion")),
            ("Os", get(top, "Os")),
            ("Arch", get(top, "Arch")),
            ("BuildTime", ansic_from_rfc3339(&get(top, "BuildTime"))),
            ("Experimental", experimental.to_string()),
        ];
        let engine = Json::Object(vec![
            ("Name".into(), Json::String("Engine".into())),
            ("Version".into(), Json::String(get(top, "Version"))),
            (
                "Details".into(),
                Json::Object(
                    details
                        .into_iter()
                        .map(|(k, v)| (k.to_string(), Json::String(v)))
                        .collect(),
                ),
            ),
        ]);
        match top.iter_mut().find(|(k, _)| k == "Components") {
            Some((_, Json::Array(c))) => c.push(engine),
            _ => top.push(("Components".into(), Json::Array(vec![engine]))),
        }
    }
    j
}

/// Run `version`.
pub fn run(app: &App, a: &FormatArgs, u: Usage) -> Result<(), CliError> {
    no_args(u, &a.args)?;
    let format = match a.format.as_deref() {
        None | Some("") => DEFAULT_TEMPLATE,
        Some("json") => "{{json .}}",
        Some(f) => f,
    };
    let tmpl = Template::parse_named("version", format).map_err(|e| CliError::Status {
        message: format!("template parsing error: {e}"),
        code: 64,
    })?;
    let mut error = None;
    let (api, server) = match app.client() {
        Ok(client) => {
            let api = client.api_version()?;
            match client
                .send(Request::new(Method::Get, "/version"))
                .and_then(|r| r.bytes())
            {
                Ok(raw) => match Json::parse(&raw) {
                    Ok(j) => (api, typed(Some(&fix_server(j)), &SERVER_SHAPE)),
                    Err(e) => {
                        error = Some(CliError::Usage(format!("invalid /version answer: {e}")));
                        (api, Value::Nil(NilKind::Pointer))
                    }
                },
                Err(e) => {
                    error = Some(e.into());
                    (api, Value::Nil(NilKind::Pointer))
                }
            }
        }
        Err(e) => {
            error = Some(e);
            (MAX_API_VERSION.to_string(), Value::Nil(NilKind::Pointer))
        }
    };
    let data = Value::from(
        Struct::new("system.versionInfo")
            .field("Client", client_value(&api))
            .field("Server", server),
    );
    let (out, r) = tmpl.execute_with(
        &data,
        crate::format::template::Options {
            missing_key_error: false,
            funcs: crate::format::template::FuncSet::Basic,
        },
    );
    let mut text = out.unwrap_or_default();
    text.push('\n');
    print(&TabWriter::new(20, 1).format(&text))?;
    if let Some(e) = error {
        return Err(e);
    }
    r.map_err(|e| CliError::Usage(e.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_like_docker() {
        let raw = br#"{"Platform":{"Name":""},"Components":[{"Name":"Engine","Version":"20.10.24","Details":{"ApiVersion":"1.41","Arch":"amd64","BuildTime":"2026-05-07T21:09:36.000000000+00:00","Experimental":"false","GitCommit":"5d6db84","GoVersion":"go1.19.8","KernelVersion":"6.18","MinAPIVersion":"1.12","Os":"linux"}},{"Name":"containerd","Version":"1.6.20","Details":{"GitCommit":"abc"}}],"Version":"20.10.24","ApiVersion":"1.41"}"#;
        let server = typed(Some(&fix_server(Json::parse(raw).unwrap())), &SERVER_SHAPE);
        let data = Value::from(
            Struct::new("system.versionInfo")
                .field("Client", client_value("1.41"))
                .field("Server", server),
        );
        let t = Template::parse(DEFAULT_TEMPLATE).unwrap();
        let out = TabWriter::new(20, 1).format(&(t.render(&data).unwrap() + "\n"));
        let want_server = "\n\nServer:\n Engine:\n  Version:          20.10.24\n  API version:      1.41 (minimum version 1.12)\n  Go version:       go1.19.8\n  Git commit:       5d6db84\n  Built:            Thu May  7 21:09:36 2026\n  OS/Arch:          linux/amd64\n  Experimental:     false\n containerd:\n  Version:          1.6.20\n  GitCommit:        abc\n";
        assert!(out.ends_with(want_server), "{out}");
        assert!(out.starts_with("Client:\n Version:           "), "{out}");
        assert!(
            out.contains(" API version:       1.41 (downgraded from 1.50)\n"),
            "{out}"
        );
        // no server: only the client part
        let data = Value::from(
            Struct::new("system.versionInfo")
                .field("Client", client_value(MAX_API_VERSION))
                .field("Server", Value::Nil(NilKind::Pointer)),
        );
        let out = t.render(&data).unwrap();
        assert!(out.ends_with(" Context:\tdefault"), "{out}");
        let j = Template::parse("{{json .Client}}")
            .unwrap()
            .render(&data)
            .unwrap();
        assert!(
            j.starts_with(r#"{"Version":""#)
                && j.contains(r#""ApiVersion":"1.50","DefaultAPIVersion":"1.50""#),
            "{j}"
        );
    }
}
