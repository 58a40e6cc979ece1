//! A table of docker-style templates and what Go's `text/template` (with
//! docker's functions) prints for them; the expected texts were checked
//! against the docker CLI 28.

use super::*;

fn image_ctx() -> Value {
    let mut s = Struct::new("*formatter.imageContext")
        .field("Containers", "N/A")
        .field("CreatedAt", "2026-11-22 16:19:12 +0000 UTC")
        .field("Digest", "<none>")
        .field("ID", "eb9f4d4b8915")
        .field("Repository", "busybox")
        .field("Size", "1.98MB")
        .field("Tag", "latest");
    s.escape_html = true;
    Value::from(s)
}

fn inspect() -> Value {
    let raw = br#"{"Id":"sha256:abc","RepoTags":["busybox:latest","b:1"],"RepoDigests":[],
        "Config":{"Cmd":["sh","-c","echo hi"],"Env":["PATH=/bin","A=b"],"Labels":{"z":"1","a":"x y"},
        "Entrypoint":null,"ExposedPorts":{"80/tcp":{}}},"Size":1982000,"Os":"linux",
        "RootFS":{"Type":"layers","Layers":["sha256:l1","sha256:l2"]}}"#;
    let j = crate::format::json::Json::parse(raw).unwrap();
    Value::from_json_raw(&j)
}

fn render(tmpl: &str, data: &Value) -> Result<String, String> {
    let t = Template::parse(tmpl).map_err(|e| e.0)?;
    t.render(data).map_err(|e| e.0)
}

#[test]
fn docker_templates_table() {
    let img = image_ctx();
    let ins = inspect();
    let cases: &[(&str, &Value, &str)] = &[
        ("{{.Repository}}:{{.Tag}}", &img, "busybox:latest"),
        ("{{.ID}}\t{{.Size}}", &img, "eb9f4d4b8915\t1.98MB"),
        (
            "{{json .}}",
            &img,
            r#"{"Containers":"N/A","CreatedAt":"2026-11-22 16:19:12 +0000 UTC","Digest":"\u003cnone\u003e","ID":"eb9f4d4b8915","Repository":"busybox","Size":"1.98MB","Tag":"latest"}"#,
        ),
        ("{{json .Digest}}", &img, r#""<none>""#),
        ("{{.Repository | upper}}", &img, "BUSYBOX"),
        ("{{upper .Repository | lower}}", &img, "busybox"),
        ("{{printf \"%-10s|\" .Tag}}", &img, "latest    |"),
        ("{{printf \"%.3s\" .ID}}", &img, "eb9"),
        ("{{pad .Tag 2 3}}|", &img, "  latest   |"),
        ("{{truncate .ID 4}}", &img, "eb9f"),
        ("{{title \"hello wORLD-x\"}}", &img, "Hello WORLD-X"),
        ("{{if eq .Tag \"latest\"}}yes{{else}}no{{end}}", &img, "yes"),
        (
            "{{if ne .Tag \"latest\"}}yes{{else if .ID}}id{{end}}",
            &img,
            "id",
        ),
        ("{{with .Repository}}[{{.}}]{{end}}", &img, "[busybox]"),
        ("{{with .Missing}}x{{else}}none{{end}}", &ins, "none"),
        (
            "{{$r := .Repository}}{{$r}}-{{$r}}",
            &img,
            "busybox-busybox",
        ),
        ("{{.Config.Cmd}}", &ins, "[sh -c echo hi]"),
        ("{{json .Config.Cmd}}", &ins, r#"["sh","-c","echo hi"]"#),
        ("{{join .Config.Cmd \" \"}}", &ins, "sh -c echo hi"),
        ("{{.Config.Labels}}", &ins, "map[a:x y z:1]"),
        ("{{index .Config.Labels \"a\"}}", &ins, "x y"),
        ("{{index .Config.Labels \"nope\"}}", &ins, "<no value>"),
        ("{{index .RepoTags 1}}", &ins, "b:1"),
        (
            "{{range .RepoTags}}{{.}} {{end}}",
            &ins,
            "busybox:latest b:1 ",
        ),
        (
            "{{range $i, $t := .RepoTags}}{{$i}}={{$t}};{{end}}",
            &ins,
            "0=busybox:latest;1=b:1;",
        ),
        (
            "{{range $k, $v := .Config.Labels}}{{$k}}={{$v}},{{end}}",
            &ins,
            "a=x y,z=1,",
        ),
        ("{{range .RepoDigests}}x{{else}}empty{{end}}", &ins, "empty"),
        (
            "{{range .Config.Env}}{{println .}}{{end}}",
            &ins,
            "PATH=/bin\nA=b\n",
        ),
        ("{{len .RootFS.Layers}}", &ins, "2"),
        ("{{.Size}}", &ins, "1982000"),
        ("{{.Config.Entrypoint}}", &ins, "<no value>"),
        ("{{.Nope}}", &ins, "<no value>"),
        ("{{.Nope.Deeper}}", &ins, "<no value>"),
        ("{{split \"a,b,c\" \",\"}}", &ins, "[a b c]"),
        ("{{index (split \"a:b\" \":\") 1}}", &ins, "b"),
        ("{{(index .RootFS.Layers 0)}}", &ins, "sha256:l1"),
        (
            "{{.RootFS}}",
            &ins,
            "map[Layers:[sha256:l1 sha256:l2] Type:layers]",
        ),
        (
            "{{json .RootFS}}",
            &ins,
            r#"{"Layers":["sha256:l1","sha256:l2"],"Type":"layers"}"#,
        ),
        (
            "{{and .Os .Size}} {{or .Nope \"dflt\"}} {{not .Os}}",
            &ins,
            "1982000 dflt false",
        ),
        ("{{if and .Os (eq .Os \"linux\")}}L{{end}}", &ins, "L"),
        ("{{- .Os -}}  \n  {{- .Os}}", &ins, "linuxlinux"),
        ("a{{/* comment */}}b", &ins, "ab"),
        (
            "{{range $i, $e := .RepoTags}}{{if $i}}, {{end}}{{$e}}{{end}}",
            &ins,
            "busybox:latest, b:1",
        ),
        (
            "{{range .RepoTags}}{{if eq . \"b:1\"}}{{break}}{{end}}{{.}};{{end}}",
            &ins,
            "busybox:latest;",
        ),
        ("{{range 3}}{{.}}{{end}}", &ins, "012"),
        ("{{print 1 2 \"a\" \"b\"}}", &ins, "1 2ab"),
        ("{{printf \"%d-%s\" 5 \"x\"}}", &ins, "5-x"),
        ("{{lt 1 2}} {{ge \"b\" \"a\"}}", &ins, "true true"),
        (
            "{{html \"<a&b>\"}} {{urlquery \"a b&c\"}}",
            &ins,
            "&lt;a&amp;b&gt; a+b%26c",
        ),
        (
            "{{define \"t\"}}[{{.}}]{{end}}{{template \"t\" .Os}}",
            &ins,
            "[linux]",
        ),
        ("{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}", &ins, "2"),
    ];
    let mut failures = Vec::new();
    for (tmpl, data, want) in cases {
        match render(tmpl, data) {
            Ok(got) if got == *want => {}
            other => failures.push(format!("{tmpl}: want {want:?}, got {other:?}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn errors_read_like_go() {
    let img = image_ctx();
    let ins = inspect();
    let cases: &[(&str, &Value, &str)] = &[
        (
            "{{.Foo}}",
            &img,
            "template: :1:2: executing \"\" at <.Foo>: can't evaluate field Foo in type *formatter.imageContext",
        ),
        ("{{.Os", &img, "template: :1: unclosed action"),
        ("{{if .Os}}", &img, "template: :1: unexpected EOF"),
        (
            "{{nope}}",
            &img,
            "template: :1: function \"nope\" not defined",
        ),
        (
            "{{join .Repository}}",
            &img,
            "template: :1:2: executing \"\" at <join .Repository>: wrong number of args for join: want 2 got 1",
        ),
        (
            "{{index .RepoTags 5}}",
            &ins,
            "template: :1:2: executing \"\" at <index .RepoTags 5>: error calling index: index out of range: 5",
        ),
        (
            "x\n  {{.Os.Foo}}",
            &ins,
            "template: :2:7: executing \"\" at <.Os.Foo>: can't evaluate field Foo in type string",
        ),
        (
            "{{eq .Size 1 | printf \"%v\"}}",
            &ins,
            "template: :1:2: executing \"\" at <eq .Size 1>: error calling eq: incompatible types for comparison",
        ),
    ];
    let mut failures = Vec::new();
    for (tmpl, data, want) in cases {
        match render(tmpl, data) {
            Err(got) if got == *want => {}
            other => failures.push(format!("{tmpl}: want error {want:?}, got {other:?}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn missingkey_error_mode() {
    let ins = inspect();
    let t = Template::parse("{{.Nope}}").unwrap();
    let (_, r) = t.execute_with(
        &ins,
        Options {
            missing_key_error: true,
            funcs: FuncSet::Basic,
        },
    );
    assert_eq!(
        r.unwrap_err().0,
        "template: :1:2: executing \"\" at <.Nope>: map has no entry for key \"Nope\""
    );
}

#[test]
fn header_functions_leave_headers_alone() {
    let header = Value::Map(
        vec![
            ("Repository".into(), Value::from("REPOSITORY")),
            ("Labels".into(), Value::from("LABELS")),
        ],
        MapElem::Str,
    );
    let t = Template::parse(
        "{{.Repository | lower}}\t{{json .Labels}}\t{{.Other}}\t{{truncate .Repository 3}}",
    )
    .unwrap();
    let (out, r) = t.execute_with(
        &header,
        Options {
            missing_key_error: false,
            funcs: FuncSet::Header,
        },
    );
    assert!(r.is_ok());
    assert_eq!(out.unwrap(), "REPOSITORY\tLABELS\t<no value>\tREPOSITORY");
}

#[test]
fn methods_take_arguments() {
    let s = Struct::new("*formatter.containerContext").method("Label", |args| {
        Ok(Value::Str(format!(
            "label:{}",
            args[0].as_str().unwrap_or("")
        )))
    });
    assert_eq!(
        render("{{.Label \"a.b\"}}", &Value::from(s)).unwrap(),
        "label:a.b"
    );
}
