//! The one `Resolver` every front door (Rust, CLI, C, Java, NSS) goes through.

use std::path::Path;
use std::sync::Arc;

use crate::cache::{Cache, Clock, Freshness, SystemClock};
use crate::config::{Config, Mode};
use crate::error::{Error, Result};
use crate::identity::{validate_name, Group, Identity};
use crate::source::local::LocalSource;
use crate::source::Source;

/// Resolves names to identities from the source the configuration selects.
/// Cheap to share: `Send + Sync`, every method takes `&self`.
pub struct Resolver {
    config: Arc<Config>,
    source: Arc<dyn Source>,
    by_name: Cache<String, Arc<Identity>>,
    by_uid: Cache<u32, Arc<Identity>>,
}

impl std::fmt::Debug for Resolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resolver")
            .field("source", &self.source.kind())
            .field("config", &self.config.path)
            .finish()
    }
}

impl Resolver {
    /// Loads the configuration (`path`, else `PROXID_CONF`, else `/etc/proxid.conf`,
    /// else the embedded default) and builds a resolver from it.
    pub fn open(path: Option<&Path>) -> Result<Resolver> {
        Resolver::new(Config::load(path)?)
    }

    /// Builds a resolver from a validated configuration.
    pub fn new(config: Config) -> Result<Resolver> {
        let source: Arc<dyn Source> = match config.resolution.mode {
            Mode::Client => Arc::new(LocalSource::new()),
            Mode::Server => {
                return Err(Error::config(
                    config.path.clone().unwrap_or_default(),
                    "server-side resolution (LDAP) is not built into this version",
                ))
            }
        };
        Ok(Resolver::with_source(config, source))
    }

    /// Builds a resolver over any source (tests, embedders with their own registry).
    pub fn with_source(config: Config, source: Arc<dyn Source>) -> Resolver {
        Resolver::with_source_and_clock(config, source, Arc::new(SystemClock::default()))
    }

    /// As [`Resolver::with_source`], with the cache's clock injected (tests move time
    /// by hand instead of sleeping).
    pub fn with_source_and_clock(
        config: Config,
        source: Arc<dyn Source>,
        clock: Arc<dyn Clock>,
    ) -> Resolver {
        Resolver {
            by_name: Cache::new(config.cache.clone(), clock.clone()),
            by_uid: Cache::new(config.cache.clone(), clock),
            config: Arc::new(config),
            source,
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The label of the source answering: "local" or "ldap".
    pub fn source_kind(&self) -> &'static str {
        self.source.kind()
    }

    /// Resolves a user name. Unknown names are `Error::NotFound`.
    pub fn resolve(&self, name: &str) -> Result<Identity> {
        self.resolve_bytes(name.as_bytes())
    }

    /// Resolves a user name given as raw bytes (C strings, CLI arguments), validating it.
    pub fn resolve_bytes(&self, raw: &[u8]) -> Result<Identity> {
        Ok(Identity::clone(&self.resolve_shared(raw)?.0))
    }

    /// The cached identity itself (no copy), and whether it is stale: served past its
    /// TTL because the source is unavailable. The fast path of every front door.
    pub fn resolve_shared(&self, raw: &[u8]) -> Result<(Arc<Identity>, Freshness)> {
        let name = validate_name(raw)?;
        let (found, freshness) = self.by_name.get_or_fetch(&name.to_string(), || {
            let found = self.source.user_by_name(name)?.map(Arc::new);
            if let Some(identity) = &found {
                self.by_uid.insert(identity.uid, Some(identity.clone()));
            }
            Ok(found)
        })?;
        let identity = found.ok_or_else(|| Error::not_found(format!("user {name:?}")))?;
        Ok((identity, freshness))
    }

    /// Resolves a UID.
    pub fn resolve_uid(&self, uid: u32) -> Result<Identity> {
        let (found, _) = self.by_uid.get_or_fetch(&uid, || {
            let found = self.source.user_by_uid(uid)?.map(Arc::new);
            if let Some(identity) = &found {
                // Keep both keys consistent: the name now answers with this identity too.
                self.by_name
                    .insert(identity.name.clone(), Some(identity.clone()));
            }
            Ok(found)
        })?;
        found
            .map(|identity| Identity::clone(&identity))
            .ok_or_else(|| Error::not_found(format!("uid {uid}")))
    }

    /// Looks up a group by name.
    pub fn group(&self, name: &str) -> Result<Group> {
        let name = validate_name(name.as_bytes())?;
        self.source
            .group_by_name(name)?
            .ok_or_else(|| Error::not_found(format!("group {name:?}")))
    }

    /// Looks up a group by GID.
    pub fn group_by_gid(&self, gid: u32) -> Result<Group> {
        self.source
            .group_by_gid(gid)?
            .ok_or_else(|| Error::not_found(format!("gid {gid}")))
    }
}

impl Resolver {
    /// Empties the cache for one user name (and its UID), or all of it with `None`, so
    /// the next lookup asks the source.
    pub fn invalidate(&self, name: Option<&str>) {
        match name {
            None => {
                self.by_name.clear();
                self.by_uid.clear();
            }
            Some(name) => {
                self.by_name.remove(&name.to_string());
                // The UID key may hold the same user even when the name entry is gone.
                self.by_uid.remove_where(|identity| identity.name == name);
            }
        }
    }

    /// Number of cached answers (found and not found), by name and by UID.
    pub fn cached_entries(&self) -> usize {
        self.by_name.len() + self.by_uid.len()
    }
}
