//! The identity layer: names and UIDs to identities, groups, the cache in front of
//! the source, and the server side of the mode handshake. No policy here: the
//! impersonation rules ([`crate::policy`]) reach identities through the
//! `policy::Directory` trait, and [`crate::Proxid`] puts the two (and the
//! principals) together.

use std::path::Path;
use std::sync::Arc;

use crate::cache::{Cache, Freshness};
use crate::clock::{Clock, SystemClock};
use crate::config::{Config, Mode};
use crate::error::{Error, Result};
use crate::generations::Generations;
use crate::identity::{validate_name, Group, Identity, PasswordCheck};
use crate::identity_store::{Interner, StoredIdentity};
use crate::mode::Assertion;
use crate::source::ldap::LdapSource;
use crate::source::local::LocalSource;
use crate::source::Source;

/// Resolves names to identities from the source the configuration selects.
/// Cheap to share: `Send + Sync`, every method takes `&self`.
///
/// A resolver can be reloaded ([`Resolver::reload`]): each configuration is one
/// [`Engine`] (source and caches), and the resolver lends out the newest one
/// through `Deref`, so every method of [`Engine`] is a method of the resolver.
/// For impersonation decisions and principals as well, use [`crate::Proxid`].
pub struct Resolver {
    generations: Generations<Engine>,
}

/// One configuration's identity state: its source and caches. Reached through
/// [`Resolver`] (`Deref`); a call runs entirely on the engine it started on.
pub struct Engine {
    config: Arc<Config>,
    source: Arc<dyn Source>,
    /// Name -> identity (or "no such user").
    by_name: Cache<String, StoredIdentity, Identity>,
    /// UID -> identity, as the source answers by UID. Never filled from a by-name
    /// answer: with two users on one UID (or an LDAP entry with two names) the answer
    /// by UID is the source's own (glibc: the first in /etc/passwd), whatever was
    /// asked before.
    by_uid: Cache<u32, StoredIdentity, Identity>,
    /// Group name -> group.
    groups: Cache<String, Group, Group>,
    interner: Interner,
    /// The caches' clock, also the audit log's.
    pub(crate) clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Resolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&**self, f)
    }
}

impl std::ops::Deref for Resolver {
    type Target = Engine;

    fn deref(&self) -> &Engine {
        self.generations.current()
    }
}

impl std::fmt::Debug for Engine {
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

    /// Builds a resolver from a validated configuration: the LDAP source in server
    /// mode (`Error::Config` when it cannot be set up), else the local registry.
    pub fn new(config: Config) -> Result<Resolver> {
        Ok(Resolver::from_engine(Engine::new(Arc::new(config))?))
    }

    /// Builds a resolver over any source (tests, embedders with their own registry).
    pub fn with_source(config: Config, source: Arc<dyn Source>) -> Resolver {
        Resolver::with_source_and_clock(config, source, Arc::new(SystemClock::default()))
    }

    /// As [`Resolver::with_source`], with the clock injected: the caches' TTLs, audit
    /// timestamps and the PAM throttle read it (tests move time by hand instead of
    /// sleeping). An LDAP source takes its own: [`LdapSource::with_clock`].
    pub fn with_source_and_clock(
        config: Config,
        source: Arc<dyn Source>,
        clock: Arc<dyn Clock>,
    ) -> Resolver {
        Resolver::from_engine(Engine::build(Arc::new(config), source, clock))
    }

    /// The engine of the newest configuration.
    pub(crate) fn into_engine(self) -> Engine {
        self.generations.into_current()
    }

    pub(crate) fn from_engine(engine: Engine) -> Resolver {
        Resolver {
            generations: Generations::new(engine),
        }
    }

    /// Reloads the configuration: `path`, or with `None` the file the current
    /// configuration came from (else `PROXID_CONF`, `/etc/proxid.conf`, the default).
    /// A configuration that does not load or validate is refused with its error, and
    /// the current one keeps serving. Calls already running finish on the
    /// configuration they started with; calls made after this returns `Ok` use the
    /// new one, with an empty cache. The new configuration brings its own source
    /// (LDAP or local), also for a resolver built with [`Resolver::with_source`].
    pub fn reload(&self, path: Option<&Path>) -> Result<()> {
        let path = path
            .map(Path::to_path_buf)
            .or_else(|| self.config.path.clone());
        self.reload_config(Config::load(path.as_deref())?)
    }

    /// As [`Resolver::reload`] from a configuration already loaded.
    pub fn reload_config(&self, config: Config) -> Result<()> {
        let engine = Engine::with_clock(Arc::new(config), self.clock.clone())?;
        self.generations.push(engine, |old| old.invalidate(None));
        Ok(())
    }

    /// How many configurations this resolver has loaded (1 + successful reloads).
    pub fn generation(&self) -> usize {
        self.generations.count()
    }
}

impl Engine {
    /// The engine for `config`, over the source it selects.
    pub(crate) fn new(config: Arc<Config>) -> Result<Engine> {
        Engine::with_clock(config, Arc::new(SystemClock::default()))
    }

    /// As [`Engine::new`], on `clock` (a reload keeps the clock it was built on).
    pub(crate) fn with_clock(config: Arc<Config>, clock: Arc<dyn Clock>) -> Result<Engine> {
        // A Config changed after loading is checked again (see `Config::validate`).
        config.validate()?;
        let source: Arc<dyn Source> = match config.resolution.mode {
            Mode::Client => Arc::new(LocalSource::new()),
            Mode::Server => Arc::new(LdapSource::with_clock(&config, clock.clone())?),
        };
        Ok(Engine::build(config, source, clock))
    }

    pub(crate) fn build(
        config: Arc<Config>,
        source: Arc<dyn Source>,
        clock: Arc<dyn Clock>,
    ) -> Engine {
        Engine {
            by_name: Cache::new(config.cache.clone(), clock.clone(), |name, stored| {
                stored.to_identity(name)
            }),
            by_uid: Cache::new(config.cache.clone(), clock.clone(), |_, stored| {
                stored.to_identity("")
            }),
            groups: Cache::new(config.cache.clone(), clock.clone(), |_, group| {
                group.clone()
            }),
            clock,
            interner: Interner::default(),
            config,
            source,
        }
    }

    /// The configuration this engine runs on.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The configuration, shared with the other parts built from it.
    pub(crate) fn shared_config(&self) -> &Arc<Config> {
        &self.config
    }

    /// Loads now what the source defers to its first lookup (the LDAP TLS trust
    /// store), so a problem there shows at `check-config` rather than at 3 a.m.
    pub fn check_source(&self) -> Result<()> {
        self.source.check()
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
        Ok(self.resolve_with_freshness(raw)?.0)
    }

    /// Resolves a name and says whether the answer is stale: served past its TTL
    /// because the source is unavailable (`stale_if_unavailable`).
    pub fn resolve_with_freshness(&self, raw: &[u8]) -> Result<(Identity, Freshness)> {
        let name = validate_name(raw)?;
        let (found, freshness) = self
            .by_name
            .get_or_fetch(&name.to_string(), || self.fetch_by_name(name))?;
        let identity = found.ok_or_else(|| Error::not_found(format!("user {name:?}")))?;
        Ok((identity, freshness))
    }

    fn fetch_by_name(&self, name: &str) -> Result<Option<StoredIdentity>> {
        let found = self.source.user_by_name(name)?;
        Ok(found.map(|identity| self.interner.store(name, &identity)))
    }

    /// Resolves a UID: the source's answer by UID, cached by UID only.
    pub fn resolve_uid(&self, uid: u32) -> Result<Identity> {
        let (found, _) = self.by_uid.get_or_fetch(&uid, || {
            let found = self.source.user_by_uid(uid)?;
            // Stored under no name, so the stored form keeps the registry's.
            Ok(found.map(|identity| self.interner.store("", &identity)))
        })?;
        found.ok_or_else(|| Error::not_found(format!("uid {uid}")))
    }

    /// Checks a user's password with the source (LDAP: a bind as the user). Never
    /// cached; the PAM rules around it are in `auth`.
    pub(crate) fn check_password(&self, name: &str, password: &str) -> Result<PasswordCheck> {
        self.source.check_password(name, password)
    }

    /// Looks up a group by name.
    pub fn group(&self, name: &str) -> Result<Group> {
        let name = validate_name(name.as_bytes())?;
        // Cached like users: every impersonation decision looks up the protected groups.
        let (found, _) = self
            .groups
            .get_or_fetch(&name.to_string(), || self.source.group_by_name(name))?;
        found.ok_or_else(|| Error::not_found(format!("group {name:?}")))
    }

    /// Looks up a group by GID.
    pub fn group_by_gid(&self, gid: u32) -> Result<Group> {
        self.source
            .group_by_gid(gid)?
            .ok_or_else(|| Error::not_found(format!("gid {gid}")))
    }
}

impl Engine {
    /// Empties the cache for one user name (and its UID), or all of it with `None`, so
    /// the next lookup asks the source.
    pub fn invalidate(&self, name: Option<&str>) {
        match name {
            None => {
                self.by_name.clear();
                self.by_uid.clear();
                self.groups.clear();
                self.interner.prune();
                self.source.forget_cached();
            }
            Some(name) => {
                self.by_name.remove(&name.to_string());
                // Other spellings that found this user, and the UID key, which may
                // point at the name even when the name entry is gone.
                self.by_name
                    .remove_where(|asked, stored| stored.name(asked) == name);
                self.by_uid
                    .remove_where(|_, stored| stored.name("") == name);
            }
        }
    }

    /// Warms the cache for services that know who their users are: the whole
    /// directory (listed page by page), one group's members, or given names. Names
    /// are resolved a few at a time, one thread per pooled connection at most; stops
    /// at `max_entries`. Returns how many identities are now cached and which names
    /// failed (and why), so a bad entry does not stop the rest.
    pub fn prefetch(&self, scope: Prefetch<'_>) -> Result<PrefetchReport> {
        let mut names = self.list_names(scope)?;
        names.truncate(self.config.cache.max_entries);
        let workers = self
            .config
            .ldap
            .as_ref()
            .map_or(1, |l| l.connections as usize)
            .clamp(1, 8);
        let chunk = names.len().div_ceil(workers).max(1);
        let outcomes: Vec<(usize, Vec<(String, Error)>)> = std::thread::scope(|s| {
            let handles: Vec<_> = names
                .chunks(chunk)
                .map(|part| {
                    s.spawn(move || {
                        let mut failed = Vec::new();
                        for name in part {
                            if let Err(e) = self.resolve(name) {
                                failed.push((name.clone(), e));
                            }
                        }
                        (part.len() - failed.len(), failed)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        (
                            0,
                            vec![(
                                String::new(),
                                Error::InvalidArgument("prefetch worker panicked".into()),
                            )],
                        )
                    })
                })
                .collect()
        });
        let mut report = PrefetchReport::default();
        for (resolved, failed) in outcomes {
            report.resolved += resolved;
            report.failed.extend(failed);
        }
        Ok(report)
    }

    /// The user names a scope covers, without resolving them: every user the source
    /// can list, the members a group lists (`Ok(empty)` for an unknown group), or the
    /// names given. `Unavailable` when the source cannot list (the local source).
    pub fn list_names(&self, scope: Prefetch<'_>) -> Result<Vec<String>> {
        let listed = match scope {
            Prefetch::Directory => self.source.user_names()?,
            Prefetch::Group(group) => {
                let group = validate_name(group.as_bytes())?;
                self.source.group_member_names(group)?
            }
            Prefetch::Users(names) => Some(names.iter().map(|n| n.to_string()).collect()),
        };
        listed.ok_or_else(|| Error::Unavailable {
            source_name: self.source.kind().into(),
            detail: "this source cannot list users".into(),
        })
    }

    /// Number of cached answers (found and not found), by name and by UID.
    pub fn cached_entries(&self) -> usize {
        self.by_name.len() + self.by_uid.len()
    }
}

impl Engine {
    /// Client side of the mode handshake ([`crate::mode`]): the assertion the
    /// configured mode calls for.
    pub fn assert(&self, name: &str) -> Result<Assertion> {
        let name = validate_name(name.as_bytes())?;
        match self.config().resolution.mode {
            Mode::Client => {
                let id = self.resolve(name)?;
                Ok(Assertion {
                    uid: Some(id.uid),
                    gids: Some(id.gids()),
                    name: id.name,
                })
            }
            Mode::Server => Ok(Assertion {
                name: name.to_string(),
                uid: None,
                gids: None,
            }),
        }
    }

    /// Server side of the mode handshake ([`crate::mode`]): the identity to act as
    /// for `assertion`, or why not.
    pub fn accept(&self, assertion: &Assertion) -> Result<Identity> {
        let name = validate_name(assertion.name.as_bytes())?;
        crate::mode::handshake(&self.config().resolution, name, assertion)?;
        let id = self.resolve(name)?;
        let differences = crate::mode::differences(assertion, &id);
        if differences.is_empty() {
            Ok(id)
        } else {
            Err(Error::IdentityMismatch {
                name: name.to_string(),
                detail: format!("{} ({})", differences.join("; "), crate::mode::EXACT),
            })
        }
    }
}

/// What [`Engine::prefetch`] warms.
#[derive(Debug, Clone, Copy)]
pub enum Prefetch<'a> {
    /// Every user the source can list (LDAP: a paged search of the user base).
    Directory,
    /// The members a group lists.
    Group(&'a str),
    /// These user names.
    Users(&'a [&'a str]),
}

/// The outcome of a prefetch ([`Engine::prefetch`]).
#[derive(Debug, Default)]
pub struct PrefetchReport {
    /// Identities resolved and now cached.
    pub resolved: usize,
    /// Names that did not resolve, with why.
    pub failed: Vec<(String, Error)>,
}

// `Resolver` lends `&Engine` to every thread; keep that sound if a field changes.
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<Engine>();
};
