//! `proxidd`: serves the host's NSS (through `libnss_proxid.so.2`) from the LDAP
//! directory of `/etc/proxid.conf`, with proxid's cache, over a Unix stream socket.
//!
//! ```text
//! proxidd [--config FILE] [--socket PATH] [--foreground]
//! ```
//!
//! Shape: one thread accepts; each client gets a thread of its own (at most
//! `MAX_CLIENTS` at once; beyond that a new connection is closed at once), with read
//! and write timeouts, so a slow or hostile client stalls only itself. Signals are
//! blocked in every thread and taken by one `sigwait` thread: SIGHUP reloads (a bad
//! configuration keeps the running one), SIGTERM/SIGINT remove the socket and exit.
//! Logs go to stderr, one line each, with a `<N>` syslog priority prefix that
//! journald understands; the one exception is the plain `proxidd: ready` line.
//!
//! Never recursion: `PROXIDD_NO_NSS` is set in this process's environment before
//! anything else, and the NSS module answers UNAVAIL without connecting when it sees
//! it; a request coming from this very process (peer PID) is refused as well.

#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

use std::ffi::OsString;
use std::io::{Read, Write};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::io::AsRawFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use proxid::cache::{Cache, Freshness, SystemClock};
use proxid::config::{Config, Mode};
use proxid::identity::validate_name;
use proxid::source::ldap::{LdapSource, NssGroup, NssUser};
use proxid::{Error, Proxid};
use proxid_proto::{
    decode_header, GroupEntry, Passwd, Request, Response, Status, StatusDetail, HEADER_LEN,
    MAX_REQUEST,
};

/// Clients served at once; more are closed at once (they retry or fall through).
const MAX_CLIENTS: usize = 2048;
/// A client must send each request, and take each answer, within this.
const IO_TIMEOUT: Duration = Duration::from_secs(5);
/// Stack of a client thread (lookups run on it; only touched pages cost memory).
const CLIENT_STACK: usize = 2 * 1024 * 1024;
/// Entries per enumeration page at most.
const MAX_PAGE: u32 = 1000;
mod nss_table;

use proxid_proto::table::Kind;

const USAGE: &str = "usage: proxidd [--config FILE] [--socket PATH] [--foreground]";

// syslog priorities for the `<N>` prefix.
const ERR: u8 = 3;
const WARNING: u8 = 4;
const NOTICE: u8 = 5;
const INFO: u8 = 6;

fn log(priority: u8, message: impl std::fmt::Display) {
    // One write per line, so lines from several threads do not interleave.
    let line = format!("<{priority}>proxidd: {message}\n");
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// A name from a client, printable in a log line whatever it holds.
fn shown(raw: &[u8]) -> String {
    let cut = raw.get(..64).unwrap_or(raw);
    let text = format!("{:?}", String::from_utf8_lossy(cut));
    if raw.len() > 64 {
        text + "..."
    } else {
        text
    }
}

struct Args {
    config: Option<PathBuf>,
    socket: Option<PathBuf>,
    foreground: bool,
}

fn parse_args(mut args: impl Iterator<Item = OsString>) -> Result<Args, String> {
    let mut out = Args {
        config: None,
        socket: None,
        foreground: false,
    };
    while let Some(arg) = args.next() {
        match arg.to_str() {
            Some("--config") => {
                out.config = Some(args.next().ok_or("--config needs a FILE")?.into())
            }
            Some("--socket") => {
                out.socket = Some(args.next().ok_or("--socket needs a PATH")?.into())
            }
            Some("--foreground") => out.foreground = true,
            Some("-h" | "--help") => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            _ => return Err(format!("unknown argument {:?}", arg)),
        }
    }
    Ok(out)
}

/// Everything a configuration builds; replaced whole on reload.
struct State {
    config: Config,
    /// What `proxid resolve` sends to be answered with this configuration (`None`:
    /// its file changed since it was loaded; nobody is answered until a reload).
    digest: Option<proxid::resolve_service::ConfigDigest>,
    resolver: Proxid,
    ldap: Arc<LdapSource>,
    pw_name: Cache<String, NssUser, NssUser>,
    pw_uid: Cache<u32, NssUser, NssUser>,
    gr_name: Cache<String, NssGroup, NssGroup>,
    gr_gid: Cache<u32, NssGroup, NssGroup>,
    users: Snapshot<Passwd>,
    groups: Snapshot<GroupEntry>,
}

/// An enumeration list and when it was fetched.
type Snapshot<T> = Mutex<Option<(Instant, Arc<Vec<T>>)>>;

fn load_state(path: Option<&Path>) -> Result<State, String> {
    let config = Config::load(path).map_err(|e| e.to_string())?;
    let file = config
        .path
        .as_ref()
        .map_or("(no file: built-in defaults)".to_string(), |p| {
            p.display().to_string()
        });
    if config.resolution.mode != Mode::Server {
        return Err(format!(
            "{file}: [resolution] mode is \"client\"; proxidd serves NSS only with mode = \
             \"server\" (LDAP): in client mode it would resolve names through NSS, which \
             would ask proxidd again"
        ));
    }
    let ldap = Arc::new(LdapSource::new(&config).map_err(|e| e.to_string())?);
    let resolver = Proxid::with_source(config.clone(), ldap.clone());
    let clock = || -> Arc<dyn proxid::cache::Clock> { Arc::new(SystemClock::default()) };
    let c = &config.cache;
    Ok(State {
        pw_name: Cache::new(c.clone(), clock(), |_, u| u.clone()),
        pw_uid: Cache::new(c.clone(), clock(), |_, u| u.clone()),
        gr_name: Cache::new(c.clone(), clock(), |_, g| g.clone()),
        gr_gid: Cache::new(c.clone(), clock(), |_, g| g.clone()),
        users: Mutex::new(None),
        groups: Mutex::new(None),
        digest: proxid::resolve_service::loaded_digest(&config),
        resolver,
        ldap,
        config,
    })
}

struct Daemon {
    state: RwLock<Arc<State>>,
    config_arg: Option<PathBuf>,
    socket: PathBuf,
    started: Instant,
    requests: AtomicU64,
    hits: AtomicU64,
    misses: AtomicU64,
    clients: AtomicUsize,
    /// The PAM requests (kept across reloads: the failure throttle lives here).
    pam: proxid::pam_service::PamService,
    /// The shared table for the NSS module's warm path (`[daemon] shared_table`).
    table: Option<Mutex<nss_table::Table>>,
}

/// How a lookup went, before it becomes an answer.
enum Lookup<T> {
    Found(T),
    NotFound,
    Unavailable(String),
}

impl Daemon {
    fn state(&self) -> Arc<State> {
        self.state.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn reload(&self) -> Result<String, String> {
        let state = load_state(self.config_arg.as_deref())?;
        let file = state
            .config
            .path
            .as_ref()
            .map_or(String::new(), |p| p.display().to_string());
        if state.config.daemon.socket != self.socket {
            log(
                NOTICE,
                format_args!(
                    "reload: [daemon] socket changed to {:?}; still serving {:?} until restarted",
                    state.config.daemon.socket, self.socket
                ),
            );
        }
        let ttl = state.config.cache.positive_ttl;
        *self.state.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(state);
        self.with_table(|t| {
            t.set_ttl(ttl);
            t.clear();
        });
        Ok(format!("configuration reloaded from {file}"))
    }

    /// A cached NSS lookup; errors the caller cannot act on (an ambiguous or invalid
    /// entry) are "not found" through NSS and logged here.
    /// The second value says whether the answer was fetched just now (so a table
    /// entry published from it expires with the daemon's own cache entry).
    fn cached<K, V>(
        &self,
        cache: &Cache<K, V, V>,
        key: K,
        what: &str,
        fetch: impl FnOnce() -> proxid::Result<Option<V>>,
    ) -> (Lookup<V>, bool)
    where
        K: std::hash::Hash + Eq + Clone + Send + Sync,
        V: Clone + Send + Sync,
    {
        let mut asked = false;
        let result = cache.get_or_fetch(&key, || {
            asked = true;
            fetch()
        });
        let counter = if asked { &self.misses } else { &self.hits };
        counter.fetch_add(1, Ordering::Relaxed);
        match result {
            Ok((Some(v), freshness)) => (Lookup::Found(v), asked && freshness == Freshness::Fresh),
            Ok((None, _)) => (Lookup::NotFound, asked),
            Err(e) => (self.failed(what, e), false),
        }
    }

    fn with_table(&self, change: impl FnOnce(&mut nss_table::Table)) {
        if let Some(table) = &self.table {
            change(&mut table.lock().unwrap_or_else(|p| p.into_inner()));
        }
    }

    /// Puts an answer the daemon just gave (fresh from the directory) in the shared
    /// table, or takes the key out of it when the answer is "not found". Anything
    /// else (an outage, a stale answer) leaves the table as it is.
    fn published(&self, kind: Kind, key: &[u8], answer: Response, fresh: bool) -> Response {
        match &answer {
            Response::Passwd(_) | Response::Group(_) | Response::Gids(_) if fresh => {
                self.with_table(|t| t.publish(kind, key, &answer))
            }
            Response::NotFound => self.with_table(|t| t.remove(kind, key)),
            _ => {}
        }
        answer
    }

    fn failed<T>(&self, what: &str, e: Error) -> Lookup<T> {
        match e {
            Error::NotFound { .. } | Error::InvalidName { .. } => Lookup::NotFound,
            Error::Unavailable { .. } | Error::Timeout { .. } => {
                log(WARNING, format_args!("{what}: {e}"));
                Lookup::Unavailable(e.to_string())
            }
            e => {
                log(WARNING, format_args!("{what}: not served through NSS: {e}"));
                Lookup::NotFound
            }
        }
    }

    fn user_allowed(state: &State, u: &NssUser) -> bool {
        let min = state.config.ldap.as_ref().map_or(1, |l| l.min_uid).max(1);
        let min_gid = state.config.ldap.as_ref().map_or(1, |l| l.min_gid).max(1);
        u.uid >= min && u.gid >= min_gid && !state.config.daemon.filter_users.contains(&u.name)
    }

    fn group_allowed(state: &State, g: &NssGroup) -> bool {
        let min = state.config.ldap.as_ref().map_or(1, |l| l.min_gid).max(1);
        g.gid >= min && !state.config.daemon.filter_groups.contains(&g.name)
    }

    fn passwd(u: NssUser) -> Passwd {
        Passwd {
            name: u.name,
            passwd: "x".into(),
            uid: u.uid,
            gid: u.gid,
            gecos: u.gecos,
            dir: u.home,
            shell: u.shell,
        }
    }

    fn group(g: NssGroup) -> GroupEntry {
        GroupEntry {
            name: g.name,
            passwd: "x".into(),
            gid: g.gid,
            members: g.members,
        }
    }

    fn user_answer(state: &State, found: Lookup<NssUser>) -> Response {
        match found {
            Lookup::Found(u) if Self::user_allowed(state, &u) => Response::Passwd(Self::passwd(u)),
            Lookup::Found(_) | Lookup::NotFound => Response::NotFound,
            Lookup::Unavailable(why) => Response::Unavailable(why),
        }
    }

    fn group_answer(state: &State, found: Lookup<NssGroup>) -> Response {
        match found {
            Lookup::Found(g) if Self::group_allowed(state, &g) => Response::Group(Self::group(g)),
            Lookup::Found(_) | Lookup::NotFound => Response::NotFound,
            Lookup::Unavailable(why) => Response::Unavailable(why),
        }
    }

    /// A name from a client, or `None` (not found) when it is not a valid name.
    fn name(raw: &[u8]) -> Option<&str> {
        validate_name(raw).ok()
    }

    fn answer(&self, request: Request, peer: &Peer) -> Response {
        let state = self.state();
        let filters = &state.config.daemon;
        match request {
            Request::GetPwNam(raw) => {
                let Some(name) = Self::name(&raw) else {
                    return Response::NotFound;
                };
                if filters.filter_users.iter().any(|f| f == name) {
                    return Response::NotFound;
                }
                let what = format!("user {}", shown(&raw));
                let (found, fresh) = self.cached(&state.pw_name, name.to_string(), &what, || {
                    state.ldap.nss_user_by_name(name)
                });
                let answer = Self::user_answer(&state, found);
                self.published(Kind::PwName, name.as_bytes(), answer, fresh)
            }
            Request::GetPwUid(uid) => {
                if uid == 0 {
                    return Response::NotFound;
                }
                let (found, fresh) = self.cached(&state.pw_uid, uid, &format!("uid {uid}"), || {
                    state.ldap.nss_user_by_uid(uid)
                });
                let answer = Self::user_answer(&state, found);
                self.published(Kind::PwUid, &uid.to_ne_bytes(), answer, fresh)
            }
            Request::GetGrNam(raw) => {
                let Some(name) = Self::name(&raw) else {
                    return Response::NotFound;
                };
                if filters.filter_groups.iter().any(|f| f == name) {
                    return Response::NotFound;
                }
                let what = format!("group {}", shown(&raw));
                let (found, fresh) = self.cached(&state.gr_name, name.to_string(), &what, || {
                    state.ldap.nss_group_by_name(name)
                });
                let answer = Self::group_answer(&state, found);
                self.published(Kind::GrName, name.as_bytes(), answer, fresh)
            }
            Request::GetGrGid(gid) => {
                if gid == 0 {
                    return Response::NotFound;
                }
                let (found, fresh) = self.cached(&state.gr_gid, gid, &format!("gid {gid}"), || {
                    state.ldap.nss_group_by_gid(gid)
                });
                let answer = Self::group_answer(&state, found);
                self.published(Kind::GrGid, &gid.to_ne_bytes(), answer, fresh)
            }
            Request::InitGroups(raw) => {
                let answer = self.initgroups(&state, &raw);
                self.published(Kind::InitGroups, &raw, answer, true)
            }
            Request::ListPasswd { start, count } => {
                if !filters.enumerate {
                    return Response::Denied("enumeration is off ([daemon] enumerate)".into());
                }
                match self.snapshot(&state.users, &state, start, || {
                    Ok(state
                        .ldap
                        .nss_users()?
                        .into_iter()
                        .filter(|u| Self::user_allowed(&state, u))
                        .map(Self::passwd)
                        .collect())
                }) {
                    Ok(all) => Response::PasswdList(page(&all, start, count)),
                    Err(e) => Response::Unavailable(e.to_string()),
                }
            }
            Request::ListGroup { start, count } => {
                if !filters.enumerate {
                    return Response::Denied("enumeration is off ([daemon] enumerate)".into());
                }
                match self.snapshot(&state.groups, &state, start, || {
                    Ok(state
                        .ldap
                        .nss_groups()?
                        .into_iter()
                        .filter(|g| Self::group_allowed(&state, g))
                        .map(Self::group)
                        .collect())
                }) {
                    Ok(all) => Response::GroupList(page(&all, start, count)),
                    Err(e) => Response::Unavailable(e.to_string()),
                }
            }
            Request::Status => Response::Status(self.status(&state, peer)),
            Request::Invalidate(name) => {
                match name.as_deref().map(Self::name) {
                    Some(None) => return Response::Error("invalid name".into()),
                    Some(Some(name)) => {
                        let key = name.to_string();
                        state.resolver.invalidate(Some(name));
                        state.pw_name.remove(&key);
                        state.pw_uid.remove_where(|_, u| u.name == name);
                        state.gr_name.remove(&key);
                        let listed = |_: &u32, g: &NssGroup| {
                            g.name == name || g.members.iter().any(|m| m == name)
                        };
                        state.gr_gid.remove_where(listed);
                        state
                            .gr_name
                            .remove_where(|_, g| g.members.iter().any(|m| m == name));
                        self.with_table(|t| t.forget(name));
                    }
                    None => {
                        state.resolver.invalidate(None);
                        state.pw_name.clear();
                        state.pw_uid.clear();
                        state.gr_name.clear();
                        state.gr_gid.clear();
                        *state.users.lock().unwrap_or_else(|p| p.into_inner()) = None;
                        *state.groups.lock().unwrap_or_else(|p| p.into_inner()) = None;
                        self.with_table(|t| t.clear());
                    }
                }
                let what = name.map_or("the whole cache".to_string(), |n| shown(&n));
                log(
                    NOTICE,
                    format_args!("cache invalidated: {what} (by uid {})", peer.uid),
                );
                Response::Done(format!("invalidated {what}"))
            }
            Request::Reload => match self.reload() {
                Ok(done) => {
                    log(NOTICE, &done);
                    Response::Done(done)
                }
                Err(why) => {
                    log(
                        ERR,
                        format_args!("reload failed, keeping the running configuration: {why}"),
                    );
                    Response::Error(format!(
                        "reload failed, keeping the running configuration: {why}"
                    ))
                }
            },
            Request::Resolve {
                config_digest,
                name,
            } => self.resolve(&state, &config_digest, &name),
            mut request @ (Request::Authenticate { .. }
            | Request::Account { .. }
            | Request::Impersonate { .. }) => self
                .pam
                .answer(&state.resolver, &mut request, peer.uid)
                .unwrap_or_else(|| Response::Error("unsupported request".into())),
        }
    }

    /// `proxid resolve` / `groups` asking: the full resolver's answer (not the NSS
    /// view: no filters), when the CLI runs this configuration.
    fn resolve(&self, state: &State, digest: &[u8], raw: &[u8]) -> Response {
        proxid::resolve_service::answer(&state.resolver, state.digest.as_ref(), digest, raw)
    }

    fn initgroups(&self, state: &State, raw: &[u8]) -> Response {
        let Some(name) = Self::name(raw) else {
            return Response::NotFound;
        };
        let daemon = &state.config.daemon;
        if daemon.filter_users.iter().any(|f| f == name) {
            return Response::NotFound;
        }
        let min_gid = state.config.ldap.as_ref().map_or(1, |l| l.min_gid).max(1);
        match state.resolver.resolve(name) {
            // The primary GID is left out: glibc puts it first itself, and like nslcd
            // `getent initgroups` then lists supplementary groups only.
            Ok(identity) if identity.uid != 0 => Response::Gids(
                identity
                    .groups
                    .iter()
                    .skip(1)
                    .filter(|g| g.gid >= min_gid && !daemon.filter_groups.contains(&g.name))
                    .map(|g| g.gid)
                    .collect(),
            ),
            Ok(_) => Response::NotFound,
            Err(e) => match self.failed::<()>(&format!("groups of {}", shown(raw)), e) {
                Lookup::Unavailable(why) => Response::Unavailable(why),
                _ => Response::NotFound,
            },
        }
    }

    /// The enumeration list, fetched (paged) when a listing starts and the one held
    /// is older than the positive TTL.
    fn snapshot<T>(
        &self,
        slot: &Snapshot<T>,
        state: &State,
        start: u32,
        fetch: impl FnOnce() -> proxid::Result<Vec<T>>,
    ) -> proxid::Result<Arc<Vec<T>>> {
        let mut held = slot.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((at, list)) = held.as_ref() {
            if start > 0 || at.elapsed() < state.config.cache.positive_ttl {
                return Ok(list.clone());
            }
        }
        let list = Arc::new(fetch()?);
        // The daemon's own snapshot ages on the real clock.
        #[allow(clippy::disallowed_methods)]
        let now = Instant::now();
        *held = Some((now, list.clone()));
        Ok(list)
    }

    fn status(&self, state: &State, peer: &Peer) -> Status {
        let reachable = state.ldap.nss_group_by_gid(u32::MAX - 1).is_ok();
        let entries = state.resolver.cached_entries()
            + state.pw_name.len()
            + state.pw_uid.len()
            + state.gr_name.len()
            + state.gr_gid.len();
        Status {
            version: env!("CARGO_PKG_VERSION").into(),
            uptime_secs: self.started.elapsed().as_secs(),
            directory_reachable: reachable,
            cache_entries: entries as u64,
            cache_hits: self.hits.load(Ordering::Relaxed),
            cache_misses: self.misses.load(Ordering::Relaxed),
            requests: self.requests.load(Ordering::Relaxed),
            detail: (peer.uid == 0).then(|| StatusDetail {
                config_path: state
                    .config
                    .path
                    .as_ref()
                    .map_or(String::new(), |p| p.display().to_string()),
                source: state.resolver.source_kind().into(),
                socket: self.socket.display().to_string(),
                connections: self.clients.load(Ordering::Relaxed) as u64,
            }),
        }
    }
}

fn page<T: Clone>(all: &[T], start: u32, count: u32) -> Vec<T> {
    let start = (start as usize).min(all.len());
    let end = start
        .saturating_add(count.min(MAX_PAGE) as usize)
        .min(all.len());
    all.get(start..end).unwrap_or_default().to_vec()
}

/// The client process, from `SO_PEERCRED`.
struct Peer {
    pid: i32,
    uid: u32,
}

fn peer_of(stream: &UnixStream) -> Option<Peer> {
    let mut cred = libc::ucred {
        pid: 0,
        uid: u32::MAX,
        gid: u32::MAX,
    };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: reading SO_PEERCRED into a ucred of the right size.
    let rc = unsafe {
        libc::getsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&mut cred as *mut libc::ucred).cast(),
            &mut len,
        )
    };
    (rc == 0).then_some(Peer {
        pid: cred.pid,
        uid: cred.uid,
    })
}

/// Serves one client until it closes, falls silent or sends something unreadable.
fn serve(daemon: &Daemon, mut stream: UnixStream) {
    let Some(peer) = peer_of(&stream) else {
        return;
    };
    let _ = stream.set_read_timeout(Some(IO_TIMEOUT));
    let _ = stream.set_write_timeout(Some(IO_TIMEOUT));
    let own_pid = std::process::id() as i32;
    loop {
        let mut header = [0u8; HEADER_LEN];
        if stream.read_exact(&mut header).is_err() {
            return;
        }
        let response = match decode_header(&header, MAX_REQUEST) {
            Err(e) => {
                // Garbage or an oversized frame: say why once, then hang up (the
                // stream cannot be resynchronised).
                let _ = stream.write_all(&Response::Error(e.to_string()).encode());
                return;
            }
            Ok(len) => {
                let mut payload = vec![0u8; len];
                if stream.read_exact(&mut payload).is_err() {
                    return;
                }
                daemon.requests.fetch_add(1, Ordering::Relaxed);
                let decoded = Request::decode_payload(&payload);
                // A PAM request carries a password: wipe the raw copy at once (the
                // decoded one is wiped by the PAM service once answered).
                zeroize::Zeroize::zeroize(&mut payload);
                match decoded {
                    Err(e) => Response::Error(e.to_string()),
                    Ok(_) if peer.pid == own_pid => {
                        log(
                            ERR,
                            "refusing a request from proxidd itself (NSS recursion: is \
                             PROXIDD_NO_NSS cleared?)",
                        );
                        Response::Unavailable("proxidd does not ask itself".into())
                    }
                    Ok(request) if request.privileged() && peer.uid != 0 => {
                        Response::Denied("only root may invalidate or reload".into())
                    }
                    Ok(request) => daemon.answer(request, &peer),
                }
            }
        };
        if stream.write_all(&response.encode()).is_err() {
            return;
        }
    }
}

/// Keeps the client count right however a client thread ends.
struct ClientSlot<'a>(&'a AtomicUsize);

impl Drop for ClientSlot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

fn accept_loop(daemon: Arc<Daemon>, listener: UnixListener) {
    for stream in listener.incoming() {
        let Ok(stream) = stream else {
            // EMFILE and friends: back off instead of spinning.
            std::thread::sleep(Duration::from_millis(10));
            continue;
        };
        if daemon.clients.fetch_add(1, Ordering::Relaxed) >= MAX_CLIENTS {
            daemon.clients.fetch_sub(1, Ordering::Relaxed);
            continue; // dropped: closed at once
        }
        let d = daemon.clone();
        let spawned = std::thread::Builder::new()
            .name("proxidd-client".into())
            .stack_size(CLIENT_STACK)
            .spawn(move || {
                let _slot = ClientSlot(&d.clients);
                serve(&d, stream);
            });
        if spawned.is_err() {
            daemon.clients.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// Creates the socket's directory if missing (root-owned 0755 when we are root),
/// replaces a stale socket (nothing listening on it) and binds.
fn bind(path: &Path) -> Result<UnixListener, String> {
    if let Some(dir) = path.parent() {
        if !dir.exists() {
            std::fs::create_dir_all(dir).map_err(|e| format!("creating {dir:?}: {e}"))?;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))
                .map_err(|e| format!("chmod 0755 {dir:?}: {e}"))?;
        }
    }
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => match UnixStream::connect(path) {
            Ok(_) => return Err(format!("{path:?}: another proxidd is listening there")),
            Err(_) => {
                log(INFO, format_args!("replacing stale socket {path:?}"));
                std::fs::remove_file(path).map_err(|e| format!("removing {path:?}: {e}"))?;
            }
        },
        Ok(_) => {
            return Err(format!(
                "{path:?} exists and is not a socket; not touching it"
            ))
        }
        Err(_) => {}
    }
    let listener = UnixListener::bind(path).map_err(|e| format!("binding {path:?}: {e}"))?;
    // Every local user may ask for public passwd/group data; privileged requests are
    // checked per request with SO_PEERCRED.
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o666))
        .map_err(|e| format!("chmod {path:?}: {e}"))?;
    Ok(listener)
}

/// The shared table beside the socket, new for this run (the one a previous run left
/// is retired); `None` when turned off or when it cannot be written (logged: the
/// module then asks the socket every time).
fn open_table(config: &Config, socket: &Path) -> Option<Mutex<nss_table::Table>> {
    let path = nss_table::path_for_socket(socket);
    if !config.daemon.shared_table {
        // A table left by an earlier run must not keep answering.
        use std::os::unix::fs::OpenOptionsExt;
        let old = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&path);
        if let Ok(old) = old {
            nss_table::retire_file(&old);
            let _ = std::fs::remove_file(&path);
        }
        return None;
    }
    let ttl = config.cache.positive_ttl;
    match nss_table::Table::create(&path, nss_table::DEFAULT_SIZE, ttl) {
        Ok(t) => {
            log(INFO, format_args!("publishing the NSS table {path:?}"));
            Some(Mutex::new(t))
        }
        Err(e) => {
            log(
                WARNING,
                format_args!("no shared NSS table ({path:?}: {e}); every lookup asks the socket"),
            );
            None
        }
    }
}

/// `sd_notify` without libsystemd: one datagram to `$NOTIFY_SOCKET`.
fn sd_notify(message: &str) {
    let Some(target) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let Ok(socket) = std::os::unix::net::UnixDatagram::unbound() else {
        return;
    };
    let bytes = target.as_encoded_bytes();
    let sent = if let Some(name) = bytes.strip_prefix(b"@") {
        use std::os::linux::net::SocketAddrExt;
        std::os::unix::net::SocketAddr::from_abstract_name(name)
            .and_then(|addr| socket.send_to_addr(message.as_bytes(), &addr))
    } else {
        socket.send_to(message.as_bytes(), Path::new(&target))
    };
    if let Err(e) = sent {
        log(WARNING, format_args!("sd_notify {message:?}: {e}"));
    }
}

/// Blocks the signals we handle in this thread and every thread started after.
fn block_signals() -> libc::sigset_t {
    // SAFETY: building and installing a signal mask.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for s in [libc::SIGHUP, libc::SIGTERM, libc::SIGINT] {
            libc::sigaddset(&mut set, s);
        }
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        set
    }
}

/// Without `--foreground` (and outside systemd), detach: the parent waits until the
/// child is ready (exit 0) or has failed (exit 1). Returns the child's end of the pipe.
fn detach() -> Option<std::fs::File> {
    use std::os::fd::FromRawFd;
    let mut fds = [0; 2];
    // SAFETY: pipe and fork before any thread exists.
    unsafe {
        if libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) != 0 {
            return None;
        }
        match libc::fork() {
            -1 => None,
            0 => {
                libc::close(fds[0]);
                libc::setsid();
                Some(std::fs::File::from_raw_fd(fds[1]))
            }
            _ => {
                libc::close(fds[1]);
                let mut ready = std::fs::File::from_raw_fd(fds[0]);
                let mut byte = [0u8; 1];
                let ok = matches!(ready.read(&mut byte), Ok(1));
                std::process::exit(if ok { 0 } else { 1 });
            }
        }
    }
}

/// Proves the loop guard at start: an NSS lookup from this process must not reach
/// us (it would wait for the timeout, or be refused by the peer check and logged).
fn check_loop_guard() {
    #[allow(clippy::disallowed_methods)] // measures how long the work really took
    let started = Instant::now();
    let mut buf = vec![0 as libc::c_char; 1024];
    // SAFETY: a zeroed passwd is plain data; getpwnam_r writes into our buffers.
    unsafe {
        let mut pw: libc::passwd = std::mem::zeroed();
        let mut result = std::ptr::null_mut();
        libc::getpwnam_r(
            c"proxidd-loop-check".as_ptr(),
            &mut pw,
            buf.as_mut_ptr(),
            buf.len(),
            &mut result,
        );
    }
    let took = started.elapsed();
    if took > Duration::from_millis(500) {
        log(
            WARNING,
            format_args!("an NSS lookup from proxidd took {took:?}: check PROXIDD_NO_NSS"),
        );
    }
}

fn main() {
    // First, before any thread exists: our own NSS calls must never reach us.
    std::env::set_var("PROXIDD_NO_NSS", "1");
    let args = match parse_args(std::env::args_os().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("proxidd: {e}\n{USAGE}");
            std::process::exit(2);
        }
    };
    let signals = block_signals();
    // Checked before detaching, so a refusal reaches the terminal and the exit status.
    let mut state = match load_state(args.config.as_deref()) {
        Ok(s) => s,
        Err(why) => {
            log(ERR, format_args!("refusing to start: {why}"));
            std::process::exit(1);
        }
    };
    let ready_pipe = if args.foreground || std::env::var_os("NOTIFY_SOCKET").is_some() {
        None
    } else {
        // The LDAP runtime's threads do not survive fork: build it again in the child.
        drop(state);
        let pipe = detach();
        state = match load_state(args.config.as_deref()) {
            Ok(s) => s,
            Err(why) => {
                log(ERR, format_args!("refusing to start: {why}"));
                std::process::exit(1);
            }
        };
        pipe
    };
    let socket = args
        .socket
        .clone()
        .unwrap_or_else(|| state.config.daemon.socket.clone());
    let listener = match bind(&socket) {
        Ok(l) => l,
        Err(why) => {
            log(ERR, format_args!("cannot serve: {why}"));
            std::process::exit(1);
        }
    };
    let table = open_table(&state.config, &socket);
    let daemon = Arc::new(Daemon {
        state: RwLock::new(Arc::new(state)),
        config_arg: args.config.clone(),
        socket: socket.clone(),
        // Uptime is real time.
        #[allow(clippy::disallowed_methods)]
        started: Instant::now(),
        requests: AtomicU64::new(0),
        hits: AtomicU64::new(0),
        misses: AtomicU64::new(0),
        clients: AtomicUsize::new(0),
        pam: proxid::pam_service::PamService::default(),
        table,
    });
    {
        let d = daemon.clone();
        if let Err(e) = std::thread::Builder::new()
            .name("proxidd-accept".into())
            .spawn(move || accept_loop(d, listener))
        {
            log(ERR, format_args!("cannot start: {e}"));
            std::process::exit(1);
        }
    }
    check_loop_guard();
    log(INFO, format_args!("serving NSS on {socket:?}"));
    {
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(b"proxidd: ready\n");
    }
    sd_notify("READY=1");
    if let Some(mut pipe) = ready_pipe {
        let _ = pipe.write_all(b"1");
    }
    loop {
        let mut sig: libc::c_int = 0;
        // SAFETY: waiting for one of the signals blocked above.
        if unsafe { libc::sigwait(&signals, &mut sig) } != 0 {
            continue;
        }
        match sig {
            libc::SIGHUP => {
                sd_notify("RELOADING=1");
                match daemon.reload() {
                    Ok(done) => log(NOTICE, done),
                    Err(why) => log(
                        ERR,
                        format_args!("reload failed, keeping the running configuration: {why}"),
                    ),
                }
                sd_notify("READY=1");
            }
            _ => {
                sd_notify("STOPPING=1");
                let _ = std::fs::remove_file(&socket);
                daemon.with_table(|t| t.retire());
                log(INFO, "stopping");
                std::process::exit(0);
            }
        }
    }
}
