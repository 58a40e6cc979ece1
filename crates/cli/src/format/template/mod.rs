//! A Go `text/template` implementation focused on what docker users write
//! in `--format`: fields and nested fields, `{{json .}}`, `{{index .Labels
//! "k"}}`, `range`/`if`/`else`/`with`/`end`, variables, pipelines
//! (`{{.X | upper}}`), `printf`, Go's builtins and docker's functions
//! (`json`, `join`, `split`, `title`, `lower`, `upper`, `pad`, `truncate`,
//! `println`).
//!
//! Why not a crate: the Go-template crates on crates.io (gtmpl) do not
//! reproduce Go's printing of nil slices and maps, `missingkey` modes,
//! docker's function set or Go's error messages, and docker's output
//! depends on all of those. Errors read as Go's do:
//! `template: :1:2: executing "" at <.Foo>: can't evaluate field Foo in
//! type *formatter.imageContext`; callers prefix `template parsing error: `
//! as docker does.

mod exec;
mod funcs;
mod lex;
mod parse;
pub mod printf;
mod value;

pub use exec::Options;
pub use funcs::FuncSet;
pub use value::{MapElem, Method, NilKind, Struct, Value};

/// A template error, worded as Go's `text/template` words it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct TemplateError(pub String);

/// A parsed template.
#[derive(Debug, Clone)]
pub struct Template {
    name: String,
    src: String,
    tree: parse::Tree,
}

impl Template {
    /// Parse an anonymous template with docker's functions.
    pub fn parse(src: &str) -> Result<Template, TemplateError> {
        Template::parse_named("", src)
    }

    /// Parse a template named `name` (Go puts the name in its errors:
    /// `template: version:1: ...`).
    pub fn parse_named(name: &str, src: &str) -> Result<Template, TemplateError> {
        match parse::parse(src, &funcs::exists) {
            Ok(tree) => Ok(Template {
                name: name.to_string(),
                src: src.to_string(),
                tree,
            }),
            Err(e) => Err(TemplateError(format!(
                "template: {name}:{}: {}",
                line_of(src, e.pos),
                e.msg
            ))),
        }
    }

    /// Execute with the given options: the output written before any
    /// error (Go writes as it goes, and docker prints table headers even
    /// when their execution fails half-way), and the error.
    pub fn execute_with(
        &self,
        data: &Value,
        opts: Options,
    ) -> (Option<String>, Result<(), TemplateError>) {
        match exec::execute(&self.tree, data, opts) {
            Ok(out) => (Some(out), Ok(())),
            Err((partial, e)) => {
                let (line, col) = line_col(&self.src, e.pos);
                let ctx: String = if e.at.chars().count() > 20 {
                    format!("{}...", e.at.chars().take(20).collect::<String>())
                } else {
                    e.at.clone()
                };
                (
                    Some(partial),
                    Err(TemplateError(format!(
                        "template: {name}:{line}:{col}: executing \"{name}\" at <{ctx}>: {}",
                        e.msg,
                        name = self.name
                    ))),
                )
            }
        }
    }

    /// Render `data`, or the error.
    pub fn render(&self, data: &Value) -> Result<String, TemplateError> {
        let (out, r) = self.execute_with(
            data,
            Options {
                missing_key_error: false,
                funcs: FuncSet::Basic,
            },
        );
        r.map(|()| out.unwrap_or_default())
    }
}

fn line_of(src: &str, pos: usize) -> usize {
    1 + src[..pos.min(src.len())].matches('\n').count()
}

fn line_col(src: &str, pos: usize) -> (usize, usize) {
    let pos = pos.min(src.len());
    let before = &src[..pos];
    let line = 1 + before.matches('\n').count();
    let col = match before.rfind('\n') {
        Some(nl) => pos - nl - 1,
        None => pos,
    };
    (line, col)
}

#[cfg(test)]
mod tests;
