//! `POST /build`: the classic (non-BuildKit) builder, as dockerd 20.10's
//! legacy builder behaves (`DOCKER_BUILDKIT=0 docker build`, docker-py's
//! `build`).
//!
//! The Dockerfile is read by `berth-build` (pure parsing and matching);
//! everything that touches images, snapshots and containers is here,
//! because a step needs the engine's own operations: `RUN` is a container
//! created, attached, started, waited for and diffed exactly as `docker
//! run` + `docker commit` would do it ([`run`]); `COPY`/`ADD`/`WORKDIR`
//! write into a snapshot of the current image mounted on the side
//! ([`files`]); every step ends in an image recorded through the path
//! import, load and commit take ([`commit`]), found again by the layer
//! cache when the same step runs on the same parent ([`cache`]).
//!
//! One file per part: [`context`] (receiving the build context, finding
//! the Dockerfile), [`dispatch`] (stages, steps, arguments and the
//! progress lines), [`run`], [`files`], [`commit`], [`cache`].
//!
//! Config-only steps (`ENV`, `CMD`, `LABEL`…) and `WORKDIR` commit from an
//! intermediate container, as dockerd does; on a `FROM scratch` stage with
//! no layer yet there is nothing to make one from, so they print no
//! `Running in` line there (docs/daemon.md lists the differences).

mod cache;
mod commit;
mod context;
pub(crate) use context::remove_leftovers;
mod dispatch;
mod files;
mod run;

use std::collections::BTreeMap;
use std::io::Read;

use berth_build::{ExpandError, ParseError};
use berth_image::{Digest, Platform, Reference};
use berth_models::host_config::HostConfig;
use berth_models::progress::JsonMessage;
use berth_registry::Credentials;

use crate::containers::ContainerError;
use crate::error::{ErrorKind, Kind};
use crate::images::ImageError;
use crate::progress::{Cancelled, Progress};

/// What a build asks (the `/build` query, resolved).
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The Dockerfile's path in the context (`Dockerfile` by default).
    pub dockerfile: String,
    /// `t`: names for the result.
    pub tags: Vec<Reference>,
    /// `buildargs`: `None` for a name given without a value.
    pub build_args: BTreeMap<String, Option<String>>,
    /// `labels`: added as a last `LABEL` step.
    pub labels: BTreeMap<String, String>,
    pub no_cache: bool,
    /// `cachefrom`: images whose steps may be reused.
    pub cache_from: Vec<String>,
    /// Pull base images even when present.
    pub pull: bool,
    /// `rm`: remove each step's container after it succeeded.
    pub remove: bool,
    /// `forcerm`: remove them always.
    pub force_remove: bool,
    /// Build up to this stage.
    pub target: String,
    /// `q`: only the image id on success.
    pub quiet: bool,
    /// What `RUN` containers get: network mode, extra hosts, shm size,
    /// memory and CPU limits, cgroup parent.
    pub host_config: HostConfig,
    pub platform: Option<Platform>,
    /// For pulling base images.
    pub credentials: Credentials,
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions {
            dockerfile: String::new(),
            tags: Vec::new(),
            build_args: BTreeMap::new(),
            labels: BTreeMap::new(),
            no_cache: false,
            cache_from: Vec::new(),
            pull: false,
            remove: true,
            force_remove: false,
            target: String::new(),
            quiet: false,
            host_config: HostConfig::default(),
            platform: None,
            credentials: Credentials::anonymous(),
        }
    }
}

/// What can stop a build. Messages are dockerd 20.10's.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// The request or the Dockerfile asks for something impossible.
    #[error("{0}")]
    Invalid(String),
    /// The context has no such Dockerfile.
    #[error("Cannot locate specified Dockerfile: {0}")]
    NoDockerfile(String),
    /// A `RUN` exited with a non-zero code.
    #[error("The command '{command}' returned a non-zero code: {code}")]
    NonZero { command: String, code: i64 },
    /// An instruction failed (`COPY failed: …`).
    #[error("{0}")]
    Step(String),
    #[error("failed to process \"{word}\": {source}")]
    Expand {
        word: String,
        #[source]
        source: ExpandError,
    },
    #[error(transparent)]
    Image(#[from] ImageError),
    #[error(transparent)]
    Container(#[from] ContainerError),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the client went away: build cancelled")]
    Cancelled,
}

impl From<Cancelled> for BuildError {
    fn from(_: Cancelled) -> Self {
        BuildError::Cancelled
    }
}

impl BuildError {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> BuildError {
        BuildError::Io {
            context: context.into(),
            source,
        }
    }

    /// The exit code dockerd puts in the stream's `errorDetail` (a `RUN`'s).
    pub fn exit_code(&self) -> Option<i64> {
        match self {
            BuildError::NonZero { code, .. } => Some(*code),
            _ => None,
        }
    }
}

impl ErrorKind for BuildError {
    fn kind(&self) -> Kind {
        match self {
            BuildError::Parse(_) | BuildError::Invalid(_) | BuildError::Expand { .. } => {
                Kind::InvalidArgument
            }
            // dockerd's is a plain error: 500.
            BuildError::NoDockerfile(_) => Kind::Internal,
            BuildError::Image(e) => e.kind(),
            BuildError::Container(e) => e.kind(),
            _ => Kind::Internal,
        }
    }
}

/// The lines of the build's stream. With `q` the step lines are held back
/// (and only shown if the build fails), as dockerd does.
pub(crate) struct Output<'a> {
    progress: &'a dyn Progress,
    quiet: bool,
    held: std::sync::Mutex<Vec<JsonMessage>>,
}

impl Output<'_> {
    /// A `{"stream": …}` line.
    pub(crate) fn line(&self, text: impl Into<String>) -> Result<(), BuildError> {
        self.raw(JsonMessage {
            stream: text.into(),
            ..Default::default()
        })
    }

    /// Any message of the step output (pull progress, `RUN` output).
    pub(crate) fn raw(&self, message: JsonMessage) -> Result<(), BuildError> {
        if self.quiet {
            self.held
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(message);
            return Ok(());
        }
        Ok(self.progress.send(message)?)
    }

    /// `{"aux":{"ID":…}}` (held back too when quiet).
    pub(crate) fn aux_id(&self, id: &Digest) -> Result<(), BuildError> {
        self.raw(JsonMessage {
            aux: Some(serde_json::json!({ "ID": id.to_string() })),
            ..Default::default()
        })
    }

    /// What quiet held back (sent before an error).
    fn release(&self) {
        let held = std::mem::take(&mut *self.held.lock().unwrap_or_else(|p| p.into_inner()));
        for m in held {
            if self.progress.send(m).is_err() {
                return;
            }
        }
    }
}

impl Progress for Output<'_> {
    fn send(&self, message: JsonMessage) -> Result<(), Cancelled> {
        self.raw(message).map_err(|_| Cancelled)
    }

    fn cancelled(&self) -> bool {
        self.progress.cancelled()
    }
}

impl crate::Engine {
    /// Builds an image from `context` (a tar, possibly compressed, or a
    /// bare Dockerfile) and reports in dockerd's stream. Returns the id.
    pub fn build_image(
        &self,
        options: &BuildOptions,
        context: impl Read + Send,
        progress: &dyn Progress,
    ) -> Result<Digest, BuildError> {
        let out = Output {
            progress,
            quiet: options.quiet,
            held: std::sync::Mutex::new(Vec::new()),
        };
        let ctx = context::Context::receive(self, context)?;
        let result = (|| {
            let dockerfile = ctx.dockerfile(&options.dockerfile)?;
            if dockerfile.is_empty() {
                let name = if options.dockerfile.is_empty() {
                    "Dockerfile"
                } else {
                    options.dockerfile.as_str()
                };
                return Err(BuildError::Invalid(format!(
                    "the Dockerfile ({name}) cannot be empty"
                )));
            }
            let parsed = berth_build::instructions::parse(&dockerfile)?;
            let mut build = dispatch::Build::new(self, options, &out, &ctx, parsed)?;
            let outcome = build.run();
            build.finish();
            let id = outcome?;
            let short = crate::images::short_id(&id).to_string();
            out.line(format!("Successfully built {short}\n"))?;
            for tag in &options.tags {
                self.set_tag(&id, tag)?;
                out.line(format!("Successfully tagged {}\n", tag.familiar()))?;
            }
            if options.quiet {
                progress.send(JsonMessage {
                    stream: format!("{id}\n"),
                    ..Default::default()
                })?;
            }
            Ok(id)
        })();
        ctx.remove();
        if result.is_err() && options.quiet {
            out.release();
        }
        result
    }

    /// `POST /build/prune`: the classic builder keeps no cache of its own
    /// (its cache is the images), so there is nothing to delete.
    pub fn prune_build_cache(&self) -> (Vec<String>, u64) {
        (Vec::new(), 0)
    }
}
