//! Server-side resolution from an LDAP directory (RFC2307 and RFC2307bis) over ldap3.
//!
//! Shape: the source owns a small private Tokio runtime of the current-thread kind,
//! with no thread of its own. Callers are plain threads, each running its lookup with
//! `block_on`: one of them at a time drives the sockets (every connection's reads and
//! writes, for every lookup in flight), the others wait for their own answer and
//! take over when it leaves. A lookup on a quiet resolver so runs entirely on its
//! caller's thread, with no hand-off between threads on the way (against one worker
//! thread, bench nss: a cold lookup through proxidd 1.92x as fast as nslcd's, against
//! 1.73–1.82x). A caller that is itself inside another Tokio runtime (where
//! `block_on`, like ldap3's sync `LdapConn`, would panic) has its lookup driven by a
//! helper thread; such a caller's thread is blocked for the lookup, as with any
//! blocking call: async callers should use `spawn_blocking`.
//! Nothing may be left to run on its own, since nothing runs between lookups: the one
//! piece of work that outlives its lookup, a connect that grows the pool, is driven
//! by a thread started for it (`Pool::take_growth`): left as a spawned task, it would
//! sit half-done between lookups with its `connect_timeout` running. (An earlier try
//! of this runtime failed `tests/pam_python.rs` with "TLS setup timed out" on
//! proxidd's PAM binds. That suite passes with this one in every run so far, but
//! the cause of those failures was never reproduced: this is the likeliest fix, not
//! a proven one.)
//!
//! Fork: a child has the parent's runtime and pool as memory but none of their threads,
//! and the parent's sockets are shared with it. So the runtime, the pool and every lock
//! a lookup takes are per process (`fork::PerProcess`): a child's first lookup builds
//! its own runtime and opens its own connections; it never waits on the parent's.
//!
//! Connections, timeouts, failover (`pool`):
//! - up to `connections` pooled connections, opened on demand and shared: ldap3
//!   multiplexes concurrent operations on one connection. No connect or bind per lookup;
//!   the first lookup opens one connection, concurrency opens more (`pool`).
//!   A pooled connection found broken is replaced, with every other one to that server.
//! - `connect_timeout` bounds TCP connect plus the TLS or StartTLS handshake; the bind
//!   and each whole resolution on one connection (all its searches) are bounded by
//!   `operation_timeout`.
//! - `uris` are tried in order. A server that fails to connect or does not answer in
//!   time is skipped for `retry_after` (so it costs its timeout once, not on every
//!   lookup); while every server is skipped, lookups fail at once with the reasons.
//!   Connections to a server later in `uris` serve only while the servers before it
//!   are skipped, so a preferred server is tried again after `retry_after`; all are
//!   reopened after `connection_max_age`.
//! - TLS is rustls (ring), verifying the certificate and host name against `ca_file`,
//!   else the system store (`tls`: pinning, IP literals); a store that yields no
//!   certificate is a configuration error.
//! - Nothing is paid before the first lookup: the runtime, the system trust store and
//!   the first connection all start with it.
//!   TCP_NODELAY is set: without it, the second of two concurrent searches waits for the
//!   first one's delayed ACK.
//!
//! Rules (each explained where it is implemented, in `query`):
//! - names match byte for byte, although LDAP compares `uid` ignoring case;
//! - two entries for one name or ID, a missing or invalid `uidNumber`/`gidNumber`,
//!   are errors naming the DNs, never a guess;
//! - UID/GID below `min_uid`/`min_gid` (0 always) never come from LDAP: such users
//!   are not found, such groups are not a user's groups — but a user listed in one
//!   keeps its GID in `Identity::hidden_gids`, which the protected-identity check
//!   counts (nslcd would put the user in that group on the host);
//! - every value placed in a filter is escaped (RFC 4515);
//! - only the attributes we use are requested: never a group's member list;
//! - a search the server cuts at its size limit is asked again with paging (one paged
//!   search per connection at a time: OpenLDAP keeps one paging state per connection);
//!   an answer is complete or an error, never a silently truncated group list.

mod bind;
mod combined;
mod nss;
mod pool;
mod primary;
/// Step-by-step checks of one server, for `proxid doctor`.
#[doc(hidden)]
pub mod probe;
pub(crate) mod query;
mod resolve;
mod search;
mod tls;
mod user_search;

use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::clock::{Clock, SystemClock};
use crate::config::{Config, LdapConfig};
use crate::error::{Error, Result};
use crate::fork::PerProcess;
use crate::identity::PasswordCheck;
use crate::identity::{Group, Identity};
use crate::source::Source;

use pool::{unavailable, Handle, Pool, Server, SOURCE};
use primary::PrimaryGroups;
use query::UserKey;
use resolve::Inner;
use search::{search, search_paged, Failure};

pub use nss::{NssGroup, NssUser};
pub use user_search::UserSearchHold;

/// Threads for host-name resolution (getaddrinfo), the only blocking work.
const RESOLVER_THREADS: usize = 1;

/// Resolves users and groups from LDAP. `Send + Sync`; share one per process.
pub struct LdapSource {
    blueprint: Blueprint,
    /// This process's runtime and pool; a forked child builds its own.
    live: PerProcess<Live>,
}

impl std::fmt::Debug for LdapSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LdapSource")
            .field("uris", &self.blueprint.cfg.uris)
            .finish_non_exhaustive()
    }
}

/// What a process needs to build its own runtime and pool: the validated settings.
struct Blueprint {
    cfg: LdapConfig,
    file: PathBuf,
    servers: Vec<Server>,
    /// Loaded at open from `ca_file`; `None`: the system store, loaded on first use.
    trust: Option<tls::Trust>,
    primary_group_ttl: Duration,
    clock: Arc<dyn Clock>,
}

/// A pool and the runtime driving its connections, built by the first lookup.
struct Live {
    inner: Arc<Inner>,
    /// Shared with the threads that drive a pool's growth.
    runtime: OnceLock<std::result::Result<Arc<tokio::runtime::Runtime>, String>>,
}

impl Live {
    fn runtime(&self) -> Result<&Arc<tokio::runtime::Runtime>> {
        let started = self.runtime.get_or_init(|| {
            tokio::runtime::Builder::new_current_thread()
                .max_blocking_threads(RESOLVER_THREADS)
                .thread_name("proxid-ldap")
                .enable_io()
                .enable_time()
                .build()
                .map(Arc::new)
                .map_err(|e| e.to_string())
        });
        started.as_ref().map_err(|e| {
            Error::io(
                "starting the LDAP client runtime",
                std::io::Error::other(e.clone()),
            )
        })
    }

    /// Opens the connection a lookup asked for on a thread of its own, which drives
    /// the runtime until the connect ends. If no thread can be started, a later
    /// lookup asks again.
    fn grow_pool(&self, runtime: &Arc<tokio::runtime::Runtime>) {
        let Some(growth) = self.inner.pool.take_growth() else {
            return;
        };
        let runtime = runtime.clone();
        let _ = std::thread::Builder::new()
            .name("proxid-ldap-connect".into())
            .spawn(move || runtime.block_on(growth));
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        if let Some(Ok(runtime)) = self.runtime.take() {
            // Never blocks, so dropping the source inside an async context is safe.
            // (Only the process that built a Live drops it: see PerProcess.) A thread
            // still opening a connection holds the runtime and drops it when done.
            if let Ok(runtime) = Arc::try_unwrap(runtime) {
                runtime.shutdown_background();
            }
        }
    }
}

impl Blueprint {
    /// A pool with no connection and no runtime yet: cheap, starts nothing.
    fn build(&self) -> Result<Live> {
        let m = &self.cfg.map;
        let user_attrs = vec![
            m.uid.clone(),
            m.uid_number.clone(),
            m.gid_number.clone(),
            m.home_directory.clone(),
            m.login_shell.clone(),
        ];
        let group_attrs = vec![m.group_name.clone(), m.gid_number.clone()];
        Ok(Live {
            inner: Arc::new(Inner {
                pool: Arc::new(Pool::new(
                    self.cfg.clone(),
                    self.file.clone(),
                    self.servers.clone(),
                    self.trust.clone(),
                    self.clock.clone(),
                )),
                cfg: self.cfg.clone(),
                user_attrs,
                group_attrs,
                primary_groups: PrimaryGroups {
                    ttl: self.primary_group_ttl,
                    known: Default::default(),
                    clock: self.clock.clone(),
                },
                user_searches: Default::default(),
                one_search_refused: Default::default(),
                one_search_shape: OnceLock::new(),
            }),
            runtime: OnceLock::new(),
        })
    }
}

impl LdapSource {
    /// Builds the source from the `[ldap]` section. Checks what can be checked without
    /// a server (URIs, attribute names, insecure binds, TLS trust); connects lazily.
    pub fn new(config: &Config) -> Result<LdapSource> {
        let file = config.path.clone().unwrap_or_default();
        let bad = |message: String| Error::config(&file, message);
        let cfg = config
            .ldap
            .clone()
            .ok_or_else(|| bad("LDAP resolution needs an [ldap] section".into()))?;
        config.validate()?;
        let servers = cfg.servers(&file)?;
        // A ca_file is read now (cheap, and a bad one is best reported at startup); the
        // system store, which costs milliseconds, on the first connection.
        let needs_tls = cfg.starttls || servers.iter().any(|s| s.tls);
        let trust = match &cfg.ca_file {
            Some(ca_file) if needs_tls => {
                Some(tls::Trust::load(Some(ca_file)).map_err(|e| bad(format!("[ldap] {e}")))?)
            }
            _ => None,
        };
        let blueprint = Blueprint {
            cfg,
            file,
            servers,
            trust,
            primary_group_ttl: config.cache.positive_ttl,
            clock: Arc::new(SystemClock::default()),
        };
        Ok(LdapSource {
            live: PerProcess::new(blueprint.build()?),
            blueprint,
        })
    }

    /// As [`LdapSource::new`], measuring `retry_after`, `connection_max_age` and the
    /// age of remembered primary groups on `clock` (tests move it by hand).
    pub fn with_clock(config: &Config, clock: Arc<dyn Clock>) -> Result<LdapSource> {
        let mut source = LdapSource::new(config)?;
        source.blueprint.clock = clock;
        // Nothing was started yet: the pool is rebuilt on the new clock.
        source.live = PerProcess::new(source.blueprint.build()?);
        Ok(source)
    }

    /// This process's runtime and pool, built on a forked child's first lookup.
    fn live(&self) -> Result<&Live> {
        self.live.get_or_try_init(|| self.blueprint.build())
    }

    /// Runs a lookup on the private runtime and waits for it on this thread.
    fn run<T, F, Fut>(&self, lookup: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(Arc<Inner>) -> Fut,
        Fut: Future<Output = Result<T>> + Send + 'static,
    {
        let live = self.live()?;
        let runtime = live.runtime()?;
        let work = lookup(live.inner.clone());
        let answer = if tokio::runtime::Handle::try_current().is_err() {
            runtime.block_on(work)
        } else {
            // Inside another runtime, block_on would panic: a helper thread drives it.
            std::thread::scope(|s| s.spawn(|| runtime.block_on(work)).join()).map_err(|_| {
                unavailable("the lookup stopped unexpectedly (the LDAP client failed)")
            })?
        };
        live.grow_pool(runtime);
        answer
    }

    /// Every user name in the directory (all `uid` values of entries matching the user
    /// filter), fetched page by page so directories beyond the server's size limit
    /// come back whole.
    pub fn user_names(&self) -> Result<Vec<String>> {
        self.run(|inner| async move {
            inner
                .with_connection(|ldap| {
                    let inner = inner.clone();
                    async move {
                        let uid = inner.cfg.map.uid.clone();
                        let filter = query::wrapped(&inner.cfg.map.user_filter);
                        let entries =
                            search_paged(ldap, &inner.cfg.user_base, &filter, vec![uid.clone()])
                                .await?;
                        Ok(entries
                            .iter()
                            .flat_map(|e| query::values(e, &uid).to_vec())
                            .collect())
                    }
                })
                .await
        })
    }
}

impl Source for LdapSource {
    fn kind(&self) -> &'static str {
        SOURCE
    }

    fn forget_cached(&self) {
        if let Ok(live) = self.live() {
            live.inner.primary_groups.clear();
        }
    }

    fn check(&self) -> Result<()> {
        self.live()?.inner.pool.check_tls()
    }

    fn user_names(&self) -> Result<Option<Vec<String>>> {
        LdapSource::user_names(self).map(Some)
    }

    fn group_member_names(&self, group: &str) -> Result<Option<Vec<String>>> {
        let group = group.to_string();
        self.run(|inner| async move { inner.group_member_names(&group).await })
            .map(Some)
    }

    fn check_password(&self, name: &str, password: &str) -> Result<PasswordCheck> {
        let name = name.to_owned();
        let password = zeroize::Zeroizing::new(password.to_owned());
        self.run(|inner| async move { inner.check_password(&name, &password).await })
    }

    fn user_by_name(&self, name: &str) -> Result<Option<Identity>> {
        let key = UserKey::Name(name.to_owned());
        self.run(|inner| inner.user(key))
    }

    fn user_by_uid(&self, uid: u32) -> Result<Option<Identity>> {
        self.run(|inner| inner.user(UserKey::Uid(uid)))
    }

    fn group_by_name(&self, name: &str) -> Result<Option<Group>> {
        let name = name.to_owned();
        self.run(|inner| inner.group(Some(name), None))
    }

    fn group_by_gid(&self, gid: u32) -> Result<Option<Group>> {
        self.run(|inner| inner.group(None, Some(gid)))
    }
}
