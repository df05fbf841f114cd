//! Answering requests: the NSS lookups through the daemon's caches, enumeration,
//! PAM, `proxid resolve` and status.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use proxid::cache::{Cache, Freshness};
use proxid::config::LdapSchema;
use proxid::identity::validate_name;
use proxid::source::ldap::{NssGroup, NssUser};
use proxid::Error;
use proxid_proto::table::Kind;
use proxid_proto::{GroupEntry, Passwd, Request, Response, Status, StatusDetail};

use crate::server::Peer;
use crate::state::{Daemon, Snapshot, State};
use crate::{log, shown, ERR, NOTICE, WARNING};

/// Entries per enumeration page at most.
const MAX_PAGE: u32 = 1000;

/// How a lookup went, before it becomes an answer.
enum Lookup<T> {
    Found(T),
    NotFound,
    Unavailable(String),
}

impl Daemon {
    /// A cold getpwnam's passwd entry. Such a call is nearly always followed by
    /// initgroups (`id`, logins, YARN's container executor), so the user's groups are
    /// looked up with it:
    /// - RFC2307: the user's full resolution runs first, on this thread (its user and
    ///   `memberUid` searches go out at once), and the passwd entry is read from its
    ///   user search, held for this call: getpwnam costs one round trip, and
    ///   initgroups none (its answer is in the cache, and in the shared table before
    ///   the getpwnam answer is sent: published after it, the caller's initgroups
    ///   often came first and paid a round trip);
    /// - RFC2307bis, whose group search needs the user's DN: the resolution runs on a
    ///   prefetch thread beside the passwd search, whose user search it joins.
    fn passwd_with_groups(
        &self,
        state: &Arc<State>,
        name: &str,
    ) -> proxid::Result<Option<NssUser>> {
        let schema = state.config.ldap.as_ref().map(|l| l.schema);
        if schema != Some(LdapSchema::Rfc2307) {
            self.prefetch.groups_of(state, name);
            return state.ldap.nss_user_by_name(name);
        }
        let _hold = state.ldap.hold_user_search(name);
        // An error is cached by the resolver too; initgroups reports it when asked.
        if state.resolver.resolve(name).is_ok() {
            self.publish_groups(state, name);
        }
        state.ldap.nss_user_by_name(name)
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

    pub(crate) fn answer(&self, request: Request, peer: &Peer) -> Response {
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
                    self.passwd_with_groups(&state, name)
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

    /// Puts `name`'s group list in the shared table once the resolver holds it (the
    /// prefetch's end), so the NSS module's `initgroups` needs no round trip.
    pub(crate) fn publish_groups(&self, state: &State, name: &str) {
        let answer = self.initgroups(state, name.as_bytes());
        if matches!(answer, Response::Gids(_)) {
            self.published(Kind::InitGroups, name.as_bytes(), answer, true);
        }
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
