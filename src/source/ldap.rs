//! Server-side resolution from an LDAP directory (RFC2307 and RFC2307bis) over ldap3.
//!
//! Shape: the source owns a small private Tokio runtime. Callers are plain threads:
//! each lookup is spawned onto that runtime and the caller waits on a std channel, so
//! this works from any thread, including one that is itself inside another Tokio
//! runtime (where ldap3's sync `LdapConn` would panic). Such a caller's thread is
//! blocked for the lookup, as with any blocking call: async callers should use
//! `spawn_blocking`. The runtime starts with the first lookup (opening a resolver
//! starts no thread) and its threads stop when the source is dropped.
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
//! - Nothing is paid before the first lookup: the runtime thread, the system trust
//!   store and the first connection all start with it.
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
mod nss;
mod pool;
/// Step-by-step checks of one server, for `proxid doctor`.
#[doc(hidden)]
pub mod probe;
pub(crate) mod query;
mod tls;

use std::collections::HashSet;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use ldap3::adapters::{Adapter, EntriesOnly, PagedResults};
use ldap3::{LdapError, Scope, SearchEntry};

use crate::config::{Config, LdapConfig, LdapSchema};
use crate::error::{Error, Result};
use crate::fork::PerProcess;
use crate::identity::PasswordCheck;
use crate::identity::{ordered_groups, Group, Identity};
use crate::source::Source;

use pool::{unavailable, Handle, Pool, Server, SOURCE};
use query::{GroupEntry, UserEntry, UserKey};

pub use nss::{NssGroup, NssUser};

/// Entries per page. Servers cap this themselves (AD at 1000); paging is what makes
/// result sets larger than the server's size limit come back whole.
const PAGE_SIZE: i32 = 500;
/// Member DNs per nested-group search (keeps filters a sane size).
const NESTED_BATCH: usize = 64;
/// LDAP result code sizeLimitExceeded.
const SIZE_LIMIT_EXCEEDED: u32 = 4;
/// Worker threads of the private runtime. Lookups are I/O-bound, and one worker saves
/// the hand-offs between workers that a lookup's tasks (caller, connection drivers)
/// otherwise pay on every answer (measured: cold lookups ~10% faster than with 2).
const RUNTIME_THREADS: usize = 1;

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
}

/// A pool and the runtime whose threads drive its connections, started by the first
/// lookup: opening a resolver starts no thread.
struct Live {
    inner: Arc<Inner>,
    runtime: OnceLock<std::result::Result<tokio::runtime::Runtime, String>>,
}

impl Live {
    fn runtime(&self) -> Result<&tokio::runtime::Runtime> {
        let started = self.runtime.get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(RUNTIME_THREADS)
                // Only host-name resolution (getaddrinfo) runs on blocking threads.
                .max_blocking_threads(RUNTIME_THREADS)
                .thread_name("proxid-ldap")
                .enable_io()
                .enable_time()
                .build()
                .map_err(|e| e.to_string())
        });
        started.as_ref().map_err(|e| {
            Error::io(
                "starting the LDAP client runtime",
                std::io::Error::other(e.clone()),
            )
        })
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        if let Some(Ok(runtime)) = self.runtime.take() {
            // Never blocks, so dropping the source inside an async context is safe.
            // (Only the process that built a Live drops it: see PerProcess.)
            runtime.shutdown_background();
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
                )),
                cfg: self.cfg.clone(),
                user_attrs,
                group_attrs,
                primary_groups: PrimaryGroups {
                    ttl: self.primary_group_ttl,
                    known: Default::default(),
                },
            }),
            runtime: OnceLock::new(),
        })
    }
}

struct Inner {
    cfg: LdapConfig,
    pool: Arc<Pool>,
    user_attrs: Vec<String>,
    group_attrs: Vec<String>,
    /// Primary groups by GID. Most users' primary group does not list them
    /// (RFC2307: membership is implied by `gidNumber`), so without this every cold
    /// user lookup would wait a second round trip for a name many users share.
    primary_groups: PrimaryGroups,
}

/// GID -> primary group, kept for the cache's positive TTL (0 keeps nothing).
struct PrimaryGroups {
    ttl: std::time::Duration,
    known: std::sync::Mutex<std::collections::HashMap<u32, (Group, std::time::Instant)>>,
}

impl PrimaryGroups {
    fn get(&self, gid: u32) -> Option<Group> {
        let known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        let (group, at) = known.get(&gid)?;
        (at.elapsed() < self.ttl).then(|| group.clone())
    }

    fn put(&self, group: &Group) {
        if self.ttl.is_zero() {
            return;
        }
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        // Bounded like the identity cache; when full, start over rather than track age.
        if known.len() >= 100_000 {
            known.clear();
        }
        known.insert(group.gid, (group.clone(), std::time::Instant::now()));
    }

    fn clear(&self) {
        self.known.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

/// Why one attempt at a lookup failed: the connection (try another), or the answer
/// (report it).
enum Failure {
    Connection(LdapError),
    Answer(Error),
}

impl From<LdapError> for Failure {
    fn from(e: LdapError) -> Self {
        match e {
            // busy / unavailable: this server cannot answer now; another one may.
            LdapError::LdapResult { result } if matches!(result.rc, 51 | 52) => {
                Failure::Connection(LdapError::LdapResult { result })
            }
            // Any other result code is the directory's answer: asking elsewhere will
            // not change it.
            LdapError::LdapResult { result } => Failure::Answer(unavailable(format!(
                "the server answered {} ({}){}",
                result.rc,
                result_code_name(result.rc),
                if result.text.is_empty() {
                    String::new()
                } else {
                    format!(": {}", result.text)
                }
            ))),
            e => Failure::Connection(e),
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Answer(e)
    }
}

fn result_code_name(rc: u32) -> &'static str {
    match rc {
        2 => "protocol error",
        3 => "time limit exceeded",
        4 => "size limit exceeded: the answer would be incomplete",
        10 => "referral",
        11 => "administrative limit exceeded",
        32 => "no such object: check user_base / group_base",
        34 => "invalid DN syntax",
        48 => "inappropriate authentication",
        49 => "invalid credentials",
        50 => "insufficient access rights",
        51 => "busy",
        52 => "unavailable",
        53 => "unwilling to perform",
        _ => "LDAP error",
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
        let servers = cfg
            .uris
            .iter()
            .map(|u| Server::parse(u).map_err(|e| bad(format!("[ldap] uris: {e}"))))
            .collect::<Result<Vec<_>>>()?;
        let m = &cfg.map;
        for (key, name) in [
            ("uid", &m.uid),
            ("uid_number", &m.uid_number),
            ("gid_number", &m.gid_number),
            ("member_uid", &m.member_uid),
            ("member", &m.member),
            ("home_directory", &m.home_directory),
            ("login_shell", &m.login_shell),
            ("group_name", &m.group_name),
        ] {
            query::check_attribute_name(key, name).map_err(bad)?;
        }
        for filter in [&m.user_filter, &m.group_filter] {
            ldap3::parse_filter(query::and_equals(filter, "x", "y"))
                .map_err(|_| bad(format!("[ldap.map] {filter:?} is not a valid LDAP filter")))?;
        }
        if cfg.bind_dn.is_some() && !cfg.allow_insecure_bind && !cfg.starttls {
            if let Some(s) = servers.iter().find(|s| !s.tls && !s.is_loopback()) {
                return Err(bad(format!(
                    "[ldap] refusing to send the bind password in clear text to {}: use \
                     ldaps://, starttls = true, or allow_insecure_bind = true",
                    s.uri
                )));
            }
        }
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
        };
        Ok(LdapSource {
            live: PerProcess::new(blueprint.build()?),
            blueprint,
        })
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
        // Outside any runtime the caller's thread polls the lookup itself: answers
        // wake it directly instead of waking a worker that then wakes it.
        if tokio::runtime::Handle::try_current().is_err() {
            return runtime.block_on(work);
        }
        // Inside another runtime, block_on would panic: hand the lookup over.
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        runtime.spawn(async move {
            let _ = tx.send(work.await);
        });
        rx.recv()
            .map_err(|_| unavailable("the lookup stopped unexpectedly (the LDAP client failed)"))?
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

/// A subtree search returning whole entries. Asked plainly first, since nearly every
/// lookup fits in one answer; if the server stops at its size limit, asked again with
/// paging, so the answer is complete or an error, never silently truncated.
async fn search(
    handle: Handle,
    base: &str,
    filter: &str,
    attrs: Vec<String>,
) -> std::result::Result<Vec<SearchEntry>, Failure> {
    let mut ldap = handle.ldap.clone();
    let mut stream = ldap
        .streaming_search_with(
            EntriesOnly::new(),
            base,
            Scope::Subtree,
            filter,
            attrs.clone(),
        )
        .await?;
    let mut entries = Vec::new();
    while let Some(entry) = stream.next().await? {
        entries.push(SearchEntry::construct(entry));
    }
    let done = stream.finish().await;
    if done.rc == SIZE_LIMIT_EXCEEDED {
        return search_paged(handle, base, filter, attrs).await;
    }
    done.success()?;
    Ok(entries)
}

/// A subtree search in pages of `PAGE_SIZE`, one paged search per connection at a time.
async fn search_paged(
    handle: Handle,
    base: &str,
    filter: &str,
    attrs: Vec<String>,
) -> std::result::Result<Vec<SearchEntry>, Failure> {
    let _one_at_a_time = handle.paging.lock().await;
    let mut ldap = handle.ldap.clone();
    let adapters: Vec<Box<dyn Adapter<String, Vec<String>>>> = vec![
        Box::new(EntriesOnly::new()),
        Box::new(PagedResults::new(PAGE_SIZE)),
    ];
    let mut stream = ldap
        .streaming_search_with(adapters, base, Scope::Subtree, filter, attrs)
        .await?;
    let mut entries = Vec::new();
    while let Some(entry) = stream.next().await? {
        entries.push(SearchEntry::construct(entry));
    }
    stream.finish().await.success()?;
    Ok(entries)
}

impl Inner {
    /// Runs `op` on a pooled connection within `operation_timeout`. A pooled connection
    /// that turns out broken is replaced (with every other pooled connection to that
    /// server: they were most likely cut together) and the lookup retried; a server
    /// that fails on a fresh connection, or does not answer in time, is marked dead
    /// and the next one tried.
    async fn with_connection<T, F, Fut>(&self, op: F) -> Result<T>
    where
        F: Fn(Handle) -> Fut,
        Fut: Future<Output = std::result::Result<T, Failure>>,
    {
        let timeout = self.cfg.operation_timeout;
        let mut last: Option<Error> = None;
        // Each server fails at most twice (a stale pooled connection, then a fresh one)
        // before it is dead and skipped.
        for _ in 0..2 * self.pool.server_count() + 1 {
            let lease = match self.pool.get().await {
                Ok(lease) => lease,
                Err(e) => return Err(last.unwrap_or(e)),
            };
            let uri = &self.pool.server(lease.server).uri;
            match tokio::time::timeout(timeout, op(lease.handle.clone())).await {
                Ok(Ok(value)) => return Ok(value),
                Ok(Err(Failure::Answer(e))) => return Err(e),
                Ok(Err(Failure::Connection(e))) => {
                    let why = e.to_string();
                    if lease.fresh {
                        self.pool.mark_dead(lease.server, &why);
                        self.pool.discard(&lease);
                    } else {
                        self.pool.discard_server(lease.server, lease.id);
                    }
                    last = Some(unavailable(format!("{uri}: {why}")));
                }
                Err(_) => {
                    let after_ms = duration_ms(timeout);
                    self.pool
                        .mark_dead(lease.server, &format!("no answer within {after_ms} ms"));
                    // A server that hangs is dropped whole: every connection to it.
                    self.pool.discard_server(lease.server, u64::MAX);
                    last = Some(Error::Timeout {
                        source_name: SOURCE.into(),
                        after_ms,
                    });
                }
            }
        }
        Err(last.unwrap_or_else(|| unavailable("no LDAP server answered")))
    }

    fn user_filter(&self, key: &UserKey) -> String {
        let map = &self.cfg.map;
        match key {
            UserKey::Name(name) => query::and_equals(&map.user_filter, &map.uid, name),
            UserKey::Uid(uid) => {
                query::and_equals(&map.user_filter, &map.uid_number, &uid.to_string())
            }
        }
    }

    fn group_search(
        &self,
        ldap: Handle,
        filter: String,
    ) -> impl Future<Output = std::result::Result<Vec<SearchEntry>, Failure>> + Send + 'static {
        let base = self.cfg.group_base.clone();
        let attrs = self.group_attrs.clone();
        async move { search(ldap, &base, &filter, attrs).await }
    }

    /// Groups listing the user directly: by `memberUid` (RFC2307), and in RFC2307bis by
    /// `member` DN too (as nss-pam-ldapd does, so mixed directories work).
    fn direct_groups_filter(&self, user: &UserEntry) -> String {
        let map = &self.cfg.map;
        match self.cfg.schema {
            LdapSchema::Rfc2307 => {
                query::and_equals(&map.group_filter, &map.member_uid, &user.name)
            }
            LdapSchema::Rfc2307bis => query::and_any_of(
                &map.group_filter,
                &[(&map.member_uid, &user.name), (&map.member, &user.dn)],
            ),
        }
    }

    /// Follows RFC2307bis nesting up to `nested_group_depth` levels, visiting each group
    /// once (so membership cycles end).
    async fn nested_groups(
        &self,
        ldap: &Handle,
        direct: Vec<GroupEntry>,
    ) -> std::result::Result<Vec<GroupEntry>, Failure> {
        let mut seen: HashSet<String> = direct.iter().map(|g| query::dn_key(&g.dn)).collect();
        let mut frontier: Vec<String> = direct.iter().map(|g| g.dn.clone()).collect();
        let mut all = direct;
        for _ in 0..self.cfg.nested_group_depth {
            if frontier.is_empty() {
                break;
            }
            let mut next = Vec::new();
            for batch in frontier.chunks(NESTED_BATCH) {
                let pairs: Vec<(&str, &str)> = batch
                    .iter()
                    .map(|dn| (self.cfg.map.member.as_str(), dn.as_str()))
                    .collect();
                let filter = query::and_any_of(&self.cfg.map.group_filter, &pairs);
                for entry in self.group_search(ldap.clone(), filter).await? {
                    let group = query::group_entry(&self.cfg, &entry)?;
                    if seen.insert(query::dn_key(&group.dn)) {
                        next.push(group.dn.clone());
                        all.push(group);
                    }
                }
            }
            frontier = next;
        }
        Ok(all)
    }

    fn group_entries(&self, entries: &[SearchEntry]) -> Result<Vec<GroupEntry>> {
        entries
            .iter()
            .map(|e| query::group_entry(&self.cfg, e))
            .collect()
    }

    /// The primary group when it is among the groups listing the user.
    fn primary_among(&self, groups: &[GroupEntry], gid: u32) -> Option<Group> {
        groups
            .iter()
            .filter_map(|g| g.posix(&self.cfg))
            .filter(|g| g.gid == gid)
            // Several share the GID: the same one every time, as in `identity`.
            .min_by(|a, b| a.name.cmp(&b.name))
    }

    /// The primary group: the group entry with the user's `gidNumber`, or just the
    /// number when no entry has it.
    async fn primary_group(&self, ldap: Handle, gid: u32) -> std::result::Result<Group, Failure> {
        let map = &self.cfg.map;
        let filter = query::and_equals(&map.group_filter, &map.gid_number, &gid.to_string());
        let entries = self.group_search(ldap, filter).await?;
        let what = format!("{} {gid} (primary group)", map.gid_number);
        Ok(
            query::pick_group(&self.cfg, None, &what, entries)?.unwrap_or(Group {
                name: gid.to_string(),
                gid,
            }),
        )
    }

    /// One resolution by UID, or under RFC2307bis, on one connection: the user first
    /// (its name or DN is needed), then its groups and primary group together, then
    /// one round trip per level of RFC2307bis nesting.
    async fn resolve_user(
        &self,
        ldap: Handle,
        key: &UserKey,
    ) -> std::result::Result<Option<Identity>, Failure> {
        let user_filter = self.user_filter(key);
        let entries = search(
            ldap.clone(),
            &self.cfg.user_base,
            &user_filter,
            self.user_attrs.clone(),
        )
        .await?;
        let Some(user) = query::pick_user(&self.cfg, key, entries)? else {
            return Ok(None);
        };
        let memberships = async {
            let entries = self
                .group_search(ldap.clone(), self.direct_groups_filter(&user))
                .await?;
            let direct = self.group_entries(&entries)?;
            match self.cfg.schema {
                LdapSchema::Rfc2307 => Ok(direct),
                LdapSchema::Rfc2307bis => self.nested_groups(&ldap, direct).await,
            }
        };
        let (all, primary) =
            tokio::try_join!(memberships, self.primary_group(ldap.clone(), user.gid))?;
        Ok(Some(self.identity(user, &all, primary)))
    }

    /// An RFC2307 lookup by name in one round trip: the user search and the
    /// `memberUid` search go out at the same moment, each on the least busy pooled
    /// connection (slapd answers two searches on two connections in about the time
    /// of one, but on one connection in nearly the time of both; a cold pool
    /// pipelines both on its first connection rather than wait for a second handshake). The primary group's
    /// name costs a second round trip only when that group does not list the user and
    /// has not been seen before.
    async fn resolve_rfc2307_name(&self, name: &str) -> Result<Option<Identity>> {
        let key = UserKey::Name(name.to_string());
        let user_filter = self.user_filter(&key);
        let map = &self.cfg.map;
        let group_filter = query::and_equals(&map.group_filter, &map.member_uid, name);
        let users = self.with_connection(|ldap| {
            let attrs = self.user_attrs.clone();
            let (base, filter) = (&self.cfg.user_base, &user_filter);
            async move { search(ldap, base, filter, attrs).await }
        });
        let groups = self.with_connection(|ldap| self.group_search(ldap, group_filter.clone()));
        let (users, groups) = tokio::try_join!(users, groups)?;
        let Some(user) = query::pick_user(&self.cfg, &key, users)? else {
            return Ok(None);
        };
        let direct = self.group_entries(&groups)?;
        let known = self
            .primary_among(&direct, user.gid)
            .or_else(|| self.primary_groups.get(user.gid));
        let primary = match known {
            Some(g) => g,
            None => {
                self.with_connection(|ldap| self.primary_group(ldap, user.gid))
                    .await?
            }
        };
        self.primary_groups.put(&primary);
        Ok(Some(self.identity(user, &direct, primary)))
    }

    /// The identity from its parts: primary group first, then the others by GID.
    fn identity(&self, user: UserEntry, groups: &[GroupEntry], primary: Group) -> Identity {
        let mut others: Vec<Group> = groups.iter().filter_map(|g| g.posix(&self.cfg)).collect();
        // By GID, then name: of two groups sharing one GID, the list keeps one (a
        // process has GIDs, not names), always the same: the name that sorts first.
        others.sort_by(|a, b| (a.gid, &a.name).cmp(&(b.gid, &b.name)));
        // Below the floor: not the user's groups, but kept for the protection check.
        let mut hidden_gids: Vec<u32> = groups
            .iter()
            .filter_map(|g| g.gid.filter(|&gid| gid < self.cfg.min_gid))
            .collect();
        hidden_gids.sort_unstable();
        hidden_gids.dedup();
        Identity {
            name: user.name,
            uid: user.uid,
            gid: user.gid,
            groups: ordered_groups(primary, others),
            home: user.home,
            shell: user.shell,
            source: SOURCE.into(),
            hidden_gids,
        }
    }

    async fn user(self: Arc<Self>, key: UserKey) -> Result<Option<Identity>> {
        if let UserKey::Uid(uid) = key {
            if uid < self.cfg.min_uid {
                return Ok(None);
            }
        }
        if let (UserKey::Name(name), LdapSchema::Rfc2307) = (&key, self.cfg.schema) {
            return self.resolve_rfc2307_name(name).await;
        }
        let this = self.clone();
        self.with_connection(|ldap| {
            let this = this.clone();
            let key = key.clone();
            async move { this.resolve_user(ldap, &key).await }
        })
        .await
    }

    /// The filter finding a group by name (else by GID) and how to name it in
    /// messages; `None` for a GID below `min_gid`, which is never served.
    pub(crate) fn group_query(
        &self,
        name: Option<&str>,
        gid: Option<u32>,
    ) -> Option<(String, String)> {
        let map = &self.cfg.map;
        match (name, gid) {
            (Some(n), _) => Some((
                query::and_equals(&map.group_filter, &map.group_name, n),
                format!("group name {n:?}"),
            )),
            (None, Some(g)) if g >= self.cfg.min_gid => Some((
                query::and_equals(&map.group_filter, &map.gid_number, &g.to_string()),
                format!("{} {g}", map.gid_number),
            )),
            _ => None,
        }
    }

    async fn group(
        self: Arc<Self>,
        name: Option<String>,
        gid: Option<u32>,
    ) -> Result<Option<Group>> {
        let Some((filter, what)) = self.group_query(name.as_deref(), gid) else {
            return Ok(None);
        };
        let this = self.clone();
        self.with_connection(|ldap| {
            let this = this.clone();
            let (filter, what, name) = (filter.clone(), what.clone(), name.clone());
            async move {
                let entries = this.group_search(ldap, filter).await?;
                Ok(query::pick_group(
                    &this.cfg,
                    name.as_deref(),
                    &what,
                    entries,
                )?)
            }
        })
        .await
    }
}

impl Inner {
    /// The names a group lists: its `memberUid` values, and for `member` DNs whose
    /// first RDN is the user-name attribute (`uid=alice,ou=people,...`), that value.
    /// Member DNs named otherwise are skipped: prefetching is a warm-up, and every
    /// name it finds is then resolved the ordinary way.
    async fn group_member_names(&self, group: &str) -> Result<Vec<String>> {
        let map = &self.cfg.map;
        let filter = query::and_equals(&map.group_filter, &map.group_name, group);
        let attrs = vec![
            map.group_name.clone(),
            map.member_uid.clone(),
            map.member.clone(),
        ];
        let entries = self
            .with_connection(|ldap| {
                let (base, filter, attrs) = (&self.cfg.group_base, &filter, attrs.clone());
                async move { search_paged(ldap, base, filter, attrs).await }
            })
            .await?;
        let uid_rdn = format!("{}=", map.uid.to_ascii_lowercase());
        let mut names = Vec::new();
        for entry in entries
            .iter()
            .filter(|e| query::values(e, &map.group_name).iter().any(|n| n == group))
        {
            names.extend(query::values(entry, &map.member_uid).iter().cloned());
            for dn in query::values(entry, &map.member) {
                let first = dn.split(',').next().unwrap_or_default();
                if first.to_ascii_lowercase().starts_with(&uid_rdn) && !first.contains('\\') {
                    names.push(first[uid_rdn.len()..].to_string());
                }
            }
        }
        names.sort();
        names.dedup();
        Ok(names)
    }
}

fn duration_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
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
