//! `berth commit`: `POST /commit?container=&repo=&tag=&comment=&author=
//! &pause=&changes=`, printing the new image's ID.

use crate::app::{App, print};
use crate::cli::{CommitArgs, Usage};
use crate::client::{Method, Request};
use crate::commands::range_args;
use crate::error::CliError;
use crate::reference::Reference;

/// Run `commit`.
pub fn run(app: &App, a: &CommitArgs, u: Usage) -> Result<(), CliError> {
    range_args(u, &a.args, 1, 2)?;
    let mut repo = String::new();
    let mut tag = String::new();
    if let Some(r) = a.args.get(1) {
        let parsed = Reference::parse_normalized(r)?;
        if parsed.digest.is_some() {
            return Err(CliError::Usage(
                "refusing to create a tag with a digest reference".into(),
            ));
        }
        repo = parsed.name();
        tag = parsed.tag.clone().unwrap_or_default();
    }
    let mut req = Request::new(Method::Post, "/commit")
        .query("container", a.args[0].clone())
        .query_if(!repo.is_empty(), "repo", repo)
        .query_if(!tag.is_empty(), "tag", tag)
        .query_if(
            a.message.is_some(),
            "comment",
            a.message.clone().unwrap_or_default(),
        )
        .query_if(
            a.author.is_some(),
            "author",
            a.author.clone().unwrap_or_default(),
        )
        .query_if(!a.pause, "pause", "0");
    for c in &a.change {
        req = req.query("changes", c.clone());
    }
    #[derive(serde::Deserialize, Default)]
    #[serde(rename_all = "PascalCase", default)]
    struct Id {
        id: String,
    }
    let id: Id = app
        .client()?
        .send(req.json(&serde_json::json!({})))?
        .json()?;
    print(&format!("{}\n", id.id))
}
