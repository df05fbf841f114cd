//! Connections to the directory: which servers, how to reach them (TLS, bind,
//! timeouts), which ones failed recently, and a small pool of open connections that
//! many threads share. ldap3 multiplexes operations on one connection, so a pooled
//! connection serves several lookups at once; the pool only spreads the load.

use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Instant;

use ldap3::Ldap;
use rustls::ClientConfig;

use super::tls::Trust;

mod connect;

use crate::clock::Clock;
use crate::config::LdapConfig;
use crate::error::{Error, Result};
use connect::tls_configs;

pub(crate) const SOURCE: &str = "ldap";

pub(crate) fn unavailable(detail: impl Into<String>) -> Error {
    Error::Unavailable {
        source_name: SOURCE.into(),
        detail: detail.into(),
    }
}

/// One entry of `uris`, taken apart (parsed and checked in `config`).
pub(crate) use crate::config::LdapServer as Server;

/// A connection as lookups use it. Cloning `Ldap` is how ldap3 shares a connection.
#[derive(Clone)]
pub(crate) struct Handle {
    pub ldap: Ldap,
    /// Held for the length of a paged search: OpenLDAP keeps one paged-results state
    /// per connection, so a second paged search on it invalidates the first's cookie.
    pub paging: Arc<tokio::sync::Mutex<()>>,
}

/// An open connection in the pool.
struct Conn {
    handle: Handle,
    id: u64,
    server: usize,
    opened: Instant,
    /// Lookups using it right now.
    busy: Arc<AtomicUsize>,
}

/// A connection handed to one lookup.
pub(crate) struct Lease {
    pub handle: Handle,
    pub server: usize,
    /// Opened for this lookup (rather than reused from the pool).
    pub fresh: bool,
    pub id: u64,
    _busy: Busy,
}

/// Counts a lease as using its connection until the lease is dropped.
struct Busy(Arc<AtomicUsize>);

impl Busy {
    fn new(count: &Arc<AtomicUsize>) -> Busy {
        count.fetch_add(1, Ordering::AcqRel);
        Busy(count.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Clears `Pool::growing` when a requested connect ends, or is dropped unrun.
struct Growing(Arc<Pool>);

impl Drop for Growing {
    fn drop(&mut self) {
        self.0.growing.store(false, Ordering::Release);
    }
}

/// The TLS configuration of each server (`None` for plain LDAP), built on the first
/// connection when it needs the system store (reading it costs milliseconds that a
/// process which never looks anyone up should not pay).
type TlsConfigs = std::result::Result<Vec<Option<Arc<ClientConfig>>>, String>;

/// Up to `connections` open connections, shared by every lookup. The pool warms on
/// demand: the first lookup opens one connection and pipelines its searches on it
/// (one handshake, never two or three in a row); a lookup that finds every open
/// connection busy uses the least busy one at once and has one more opened in the
/// background, so concurrency grows the pool without anyone waiting for a handshake.
pub(crate) struct Pool {
    cfg: LdapConfig,
    /// The configuration file, to name it in errors.
    file: PathBuf,
    servers: Vec<Server>,
    needs_tls: bool,
    tls: OnceLock<TlsConfigs>,
    open: Mutex<Vec<Conn>>,
    size: usize,
    /// One connect at a time: concurrent lookups on a cold pool share one handshake.
    opening: tokio::sync::Mutex<()>,
    /// A connect beside the lookups is asked for or underway.
    growing: AtomicBool,
    /// Asked for, not yet taken by `take_growth`.
    growth_wanted: AtomicBool,
    /// Where the next pick starts looking.
    next: AtomicUsize,
    next_id: AtomicU64,
    /// Per server: when it last failed, and why (skipped for `retry_after` after).
    dead_since: Mutex<Vec<Option<(Instant, String)>>>,
    /// Where ages and `retry_after` are measured.
    clock: Arc<dyn Clock>,
}

impl Pool {
    /// `trust` is given when it was loaded already (from `ca_file`, which is cheap and
    /// best checked at startup); otherwise it is loaded on the first connection.
    pub(crate) fn new(
        cfg: LdapConfig,
        file: PathBuf,
        servers: Vec<Server>,
        trust: Option<Trust>,
        clock: Arc<dyn Clock>,
    ) -> Pool {
        let needs_tls = cfg.starttls || servers.iter().any(|s| s.tls);
        let tls = OnceLock::new();
        if let Some(trust) = trust {
            let _ = tls.set(tls_configs(&servers, cfg.starttls, &trust));
        }
        Pool {
            dead_since: Mutex::new(vec![None; servers.len()]),
            size: cfg.connections.max(1) as usize,
            open: Mutex::new(Vec::new()),
            opening: tokio::sync::Mutex::new(()),
            growing: AtomicBool::new(false),
            growth_wanted: AtomicBool::new(false),
            next: AtomicUsize::new(0),
            next_id: AtomicU64::new(1),
            needs_tls,
            tls,
            file,
            cfg,
            servers,
            clock,
        }
    }

    /// The normalised URI of server `index` (a `Lease::server`), for messages.
    pub(crate) fn uri(&self, index: usize) -> &str {
        self.servers
            .get(index)
            .map_or("an LDAP server", |s| s.uri.as_str())
    }

    pub(crate) fn server_count(&self) -> usize {
        self.servers.len()
    }

    fn open_conns(&self) -> MutexGuard<'_, Vec<Conn>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether a pooled connection may still serve: open, younger than
    /// `connection_max_age`, and, when it goes to a server later in `uris`, only while
    /// every server before it is still being skipped: once one's `retry_after` is
    /// over, the next connection tries it again.
    fn usable(&self, conn: &mut Conn) -> bool {
        !conn.handle.ldap.is_closed()
            && self.clock.now().saturating_duration_since(conn.opened) < self.cfg.connection_max_age
            && (0..conn.server).all(|earlier| self.dead_reason(earlier).is_some())
    }

    /// The least busy usable connection, and whether the pool has room for another.
    fn pick(&self) -> Option<(Lease, bool)> {
        let mut open = self.open_conns();
        open.retain_mut(|c| self.usable(c));
        // Among equally busy connections, take turns (as a round robin would): the
        // next search of a lookup then goes out on another connection than the last.
        let start = self.next.fetch_add(1, Ordering::Relaxed) % open.len().max(1);
        let conn = open
            .iter()
            .skip(start)
            .chain(open.iter().take(start))
            .min_by_key(|c| c.busy.load(Ordering::Acquire))?;
        let crowded = conn.busy.load(Ordering::Acquire) > 0 && open.len() < self.size;
        Some((
            Lease {
                handle: conn.handle.clone(),
                server: conn.server,
                fresh: false,
                id: conn.id,
                _busy: Busy::new(&conn.busy),
            },
            crowded,
        ))
    }

    /// A connection: the least busy open one, or a new one when none is open.
    pub(crate) async fn get(self: &Arc<Self>) -> Result<Lease> {
        let mut waited = false;
        loop {
            if let Some((lease, crowded)) = self.pick() {
                // A lookup that waited for the connect that opened this connection is
                // part of the same burst: growing now would put a second handshake
                // beside the first lookup's searches.
                if crowded && !waited {
                    self.grow();
                }
                return Ok(lease);
            }
            let _turn = self.opening.lock().await;
            if !self.open_conns().is_empty() {
                waited = true;
                continue;
            }
            return self.connect_new().await;
        }
    }

    /// Asks for one more connection (one at a time). No task is spawned here: the
    /// runtime runs only while a caller drives it, so a connect left to run on its
    /// own would stall between lookups and time out. `take_growth` hands it to
    /// `LdapSource::run`, which drives it on a thread of its own.
    fn grow(&self) {
        if !self.growing.swap(true, Ordering::AcqRel) {
            self.growth_wanted.store(true, Ordering::Release);
        }
    }

    /// The connect a lookup asked for, if any: run it to the end (dropping it unrun
    /// lets a later lookup ask again).
    pub(crate) fn take_growth(self: &Arc<Self>) -> Option<impl Future<Output = ()> + Send> {
        if !self.growth_wanted.swap(false, Ordering::AcqRel) {
            return None;
        }
        let done = Growing(self.clone());
        Some(async move {
            let pool = &done.0;
            let _turn = pool.opening.lock().await;
            if pool.open_conns().len() < pool.size {
                // A failure is remembered (the server marked dead) for the next lookup.
                let _ = pool.connect_new().await;
            }
        })
    }

    /// Connects to the first server that works and pools the connection.
    async fn connect_new(&self) -> Result<Lease> {
        let (ldap, server) = self.connect_any().await?;
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let handle = Handle {
            ldap,
            paging: Arc::new(tokio::sync::Mutex::new(())),
        };
        let busy = Arc::new(AtomicUsize::new(0));
        let lease = Lease {
            handle: handle.clone(),
            server,
            fresh: true,
            id,
            _busy: Busy::new(&busy),
        };
        self.open_conns().push(Conn {
            handle,
            id,
            server,
            opened: self.clock.now(),
            busy,
        });
        Ok(lease)
    }

    /// Drops the leased connection from the pool, unless it was already replaced.
    pub(crate) fn discard(&self, lease: &Lease) {
        self.open_conns().retain(|c| c.id != lease.id);
    }

    /// Drops the pooled connections to `server` opened no later than connection
    /// `up_to` (it hung, or closed one of them, as a restarting server closes all).
    /// Connections opened since then were opened after the trouble began (by a
    /// concurrent lookup that already reconnected) and are kept.
    pub(crate) fn discard_server(&self, server: usize, up_to: u64) {
        self.open_conns()
            .retain(|c| !(c.server == server && c.id <= up_to));
    }

    pub(crate) fn mark_dead(&self, server: usize, why: &str) {
        if let Ok(mut dead) = self.dead_since.lock() {
            if let Some(slot) = dead.get_mut(server) {
                *slot = Some((self.clock.now(), why.to_owned()));
            }
        }
    }

    fn mark_alive(&self, server: usize) {
        if let Ok(mut dead) = self.dead_since.lock() {
            if let Some(slot) = dead.get_mut(server) {
                *slot = None;
            }
        }
    }

    /// Why the server is being skipped, if it is.
    fn dead_reason(&self, server: usize) -> Option<String> {
        let dead = self.dead_since.lock().ok()?;
        match dead.get(server)? {
            Some((since, why))
                if self.clock.now().saturating_duration_since(*since) < self.cfg.retry_after =>
            {
                Some(why.clone())
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::TestClock;
    use std::time::Duration;

    /// (normalised URI, TLS, host, port)
    type Parsed<'a> = (&'a str, bool, &'a str, u16);

    #[test]
    fn uris_table() {
        let cases: &[(&str, Option<Parsed>)] = &[
            (
                "ldap://h.example",
                Some(("ldap://h.example:389", false, "h.example", 389)),
            ),
            (
                "LDAPS://h.example/",
                Some(("ldaps://h.example:636", true, "h.example", 636)),
            ),
            (
                "ldap://127.0.0.1:3890/dc=x??sub",
                Some(("ldap://127.0.0.1:3890", false, "127.0.0.1", 3890)),
            ),
            (
                "ldaps://[::1]:6360",
                Some(("ldaps://[::1]:6360", true, "::1", 6360)),
            ),
            ("ldap://", None),
            ("ldap://h:0", None),
            ("ldap://h:99999", None),
            ("ldap://h:x", None),
            ("http://h", None),
            ("ldapi:///run/x", None),
            ("ldap://[::1", None),
        ];
        for (uri, want) in cases {
            let got = Server::parse(uri)
                .ok()
                .map(|s| (s.uri, s.tls, s.host, s.port));
            let want = want.map(|(u, t, h, p)| (u.to_string(), t, h.to_string(), p));
            assert_eq!(got, want, "{uri}");
        }
    }

    #[test]
    fn loopback_table() {
        for (uri, lo) in [
            ("ldap://localhost", true),
            ("ldap://127.0.0.1", true),
            ("ldap://127.1.2.3", true),
            ("ldap://[::1]", true),
            ("ldap://10.0.0.1", false),
            ("ldap://ldap.example.org", false),
            ("ldap://localhost.evil.example", false),
        ] {
            assert_eq!(Server::parse(uri).unwrap().is_loopback(), lo, "{uri}");
        }
    }

    fn pool_on(clock: &TestClock) -> Pool {
        let toml = "[resolution]\nmode = \"server\"\n[ldap]\n\
                    uris = [\"ldap://127.0.0.1:1\", \"ldap://127.0.0.1:2\"]\n\
                    base = \"dc=x\"\nretry_after = \"10s\"\n";
        let config = crate::config::Config::from_toml(toml, std::path::Path::new("/t.conf"))
            .expect("config");
        let cfg = config.ldap.expect("[ldap]");
        let servers = cfg.uris.iter().map(|u| Server::parse(u).unwrap()).collect();
        Pool::new(
            cfg,
            "/t.conf".into(),
            servers,
            None,
            Arc::new(clock.clone()),
        )
    }

    /// A server that failed is skipped for exactly `retry_after` on the pool's clock,
    /// and only it: no sleeping, the clock is moved by hand.
    #[test]
    fn a_dead_server_is_retried_only_after_retry_after() {
        let clock = TestClock::default();
        let pool = pool_on(&clock);
        pool.mark_dead(0, "connect: refused");
        assert_eq!(pool.dead_reason(0).as_deref(), Some("connect: refused"));
        assert_eq!(pool.dead_reason(1), None, "only the server that failed");
        clock.advance(Duration::from_millis(9_999));
        assert!(pool.dead_reason(0).is_some(), "skipped within retry_after");
        clock.advance(Duration::from_millis(1));
        assert_eq!(pool.dead_reason(0), None, "tried again at retry_after");
        // Failing again starts a new wait; a success ends it at once.
        pool.mark_dead(0, "again");
        clock.advance(Duration::from_secs(5));
        assert!(pool.dead_reason(0).is_some());
        pool.mark_alive(0);
        assert_eq!(pool.dead_reason(0), None);
    }

    #[test]
    fn ca_file_without_certificates_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let err = Trust::load(Some(&empty)).unwrap_err();
        assert!(err.contains("no PEM certificate"), "{err}");
        assert!(Trust::load(Some(&dir.path().join("missing.pem"))).is_err());
    }
}
