//! The classic builder's layer cache, keyed as dockerd keys it: a step is
//! cached when an image whose parent is the current image has the same
//! `container_config` (the step's run config with its command or
//! `#(nop)` comment, which for `COPY`/`ADD` holds a hash of the files).
//! The newest such image wins; on `FROM scratch` the candidates are the
//! built images without a parent. Once a step misses, the rest of the
//! stage runs (`cacheBusted`).
//!
//! With `cache_from`, as dockerd 20.10's `ImageCache`: a local hit only
//! counts when it is one of those images or one of their ancestors; names
//! that do not resolve are skipped (so only unknown names means no cache).

use berth_image::Digest;
use berth_models::container_config::ContainerConfig;

use super::{BuildError, BuildOptions};
use crate::images::store;

pub(crate) struct Cache {
    disabled: bool,
    busted: bool,
    /// `cache_from` images, resolved; `None` when not asked.
    sources: Option<Vec<Digest>>,
}

/// `None` and empty are the same to the cache (Go's nil and empty slices).
fn norm<T: Clone + Default + PartialEq>(v: &Option<T>) -> T {
    v.clone().unwrap_or_default()
}

/// dockerd's `compare` (and stricter: every field a step can change).
fn same(a: &ContainerConfig, b: &ContainerConfig) -> bool {
    norm(&a.cmd) == norm(&b.cmd)
        && norm(&a.entrypoint) == norm(&b.entrypoint)
        && norm(&a.env) == norm(&b.env)
        && norm(&a.labels) == norm(&b.labels)
        && norm(&a.exposed_ports) == norm(&b.exposed_ports)
        && norm(&a.volumes) == norm(&b.volumes)
        && norm(&a.on_build) == norm(&b.on_build)
        && norm(&a.shell) == norm(&b.shell)
        && a.healthcheck == b.healthcheck
        && a.user == b.user
        && a.working_dir == b.working_dir
        && a.stop_signal == b.stop_signal
        && a.tty == b.tty
        && !a.open_stdin
        && !b.open_stdin
}

impl Cache {
    pub(crate) fn new(engine: &crate::Engine, options: &BuildOptions) -> Cache {
        let sources = (!options.cache_from.is_empty()).then(|| {
            options
                .cache_from
                .iter()
                .filter_map(|name| match engine.find_image(name) {
                    Ok(image) => Some(image.id),
                    Err(e) => {
                        tracing::warn!(
                            "Could not look up {name} for cache resolution, skipping: {e}"
                        );
                        None
                    }
                })
                .collect()
        });
        Cache {
            disabled: options.no_cache,
            busted: false,
            sources,
        }
    }

    /// A new stage probes again.
    pub(crate) fn reset(&mut self) {
        self.busted = false;
    }

    /// The cached image of a step on `parent` with key `probe`.
    pub(crate) fn probe(
        &mut self,
        engine: &crate::Engine,
        parent: Option<&Digest>,
        probe: &ContainerConfig,
    ) -> Result<Option<Digest>, BuildError> {
        if self.disabled || self.busted {
            return Ok(None);
        }
        let hit = self.lookup(engine, parent, probe)?;
        if hit.is_none() {
            self.busted = true;
        }
        Ok(hit)
    }

    /// The newest child of `parent` (of no image: `FROM scratch`, among
    /// the images without a parent) made by the same step.
    fn lookup(
        &self,
        engine: &crate::Engine,
        parent: Option<&Digest>,
        probe: &ContainerConfig,
    ) -> Result<Option<Digest>, BuildError> {
        let children: Vec<Digest> = {
            let conn = engine.db.conn();
            match parent {
                Some(parent) => store::children(&conn, parent),
                None => store::all_images(&conn).map(|all| {
                    all.into_iter()
                        .filter(|i| i.parent.is_none())
                        .map(|i| i.id)
                        .collect()
                }),
            }
            .map_err(crate::images::ImageError::from)?
        };
        let mut best: Option<(String, Digest)> = None;
        for id in children {
            let Ok(image) = engine.find_image(id.as_str()) else {
                continue;
            };
            let Ok(config) = engine.image_config(&image) else {
                continue;
            };
            // Only what a build made has a step's config to compare.
            let Some(cc) = crate::images::config_view::api_config(config.container_config.as_ref())
                .filter(|cc| cc.cmd.as_ref().is_some_and(|c| !c.is_empty()))
            else {
                continue;
            };
            if !same(&cc, probe) {
                continue;
            }
            if let Some(sources) = &self.sources
                && !sources
                    .iter()
                    .any(|s| self.is_ancestor_or_self(engine, &image.id, s))
            {
                continue;
            }
            let created = config.created.clone().unwrap_or_default();
            if best.as_ref().is_none_or(|(c, _)| created > *c) {
                best = Some((created, image.id));
            }
        }
        Ok(best.map(|(_, id)| id))
    }

    /// Whether `candidate` is `of` or one of its parents.
    fn is_ancestor_or_self(&self, engine: &crate::Engine, candidate: &Digest, of: &Digest) -> bool {
        let mut next = Some(of.clone());
        let mut hops = 0;
        while let Some(id) = next {
            if &id == candidate {
                return true;
            }
            hops += 1;
            if hops > 1000 {
                return false;
            }
            next = engine.find_image(id.as_str()).ok().and_then(|i| i.parent);
        }
        false
    }
}
