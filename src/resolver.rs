//! The one `Resolver` every front door (Rust, CLI, C, Java, NSS) goes through.

use std::path::Path;
use std::sync::Arc;

use crate::config::{Config, Mode};
use crate::error::{Error, Result};
use crate::identity::{validate_name, Group, Identity};
use crate::source::ldap::LdapSource;
use crate::source::local::LocalSource;
use crate::source::Source;

/// Resolves names to identities from the source the configuration selects.
/// Cheap to share: `Send + Sync`, every method takes `&self`.
pub struct Resolver {
    config: Arc<Config>,
    source: Arc<dyn Source>,
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
            Mode::Server => Arc::new(LdapSource::new(&config)?),
        };
        Ok(Resolver::with_source(config, source))
    }

    /// Builds a resolver over any source (tests, embedders with their own registry).
    pub fn with_source(config: Config, source: Arc<dyn Source>) -> Resolver {
        Resolver {
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
        let name = validate_name(raw)?;
        self.source
            .user_by_name(name)?
            .ok_or_else(|| Error::not_found(format!("user {name:?}")))
    }

    /// Resolves a UID.
    pub fn resolve_uid(&self, uid: u32) -> Result<Identity> {
        self.source
            .user_by_uid(uid)?
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
    /// Empties the cache for one user name, or all of it with `None`, so the next
    /// lookup asks the source. (No cache yet: a no-op until the cache issue lands.)
    pub fn invalidate(&self, name: Option<&str>) {
        let _ = name;
    }
}
