//! The daemon's state: what a configuration builds, loading and reloading it, and the
//! shared table beside the socket.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use proxid::cache::{Cache, SystemClock};
use proxid::config::{Config, Mode};
use proxid::source::ldap::{LdapSource, NssGroup, NssUser};
use proxid::Proxid;
use proxid_proto::{GroupEntry, Passwd};

use crate::prefetch::Prefetcher;
use crate::{log, nss_table, INFO, NOTICE, WARNING};

/// Everything a configuration builds; replaced whole on reload.
pub(crate) struct State {
    pub(crate) config: Config,
    /// What `proxid resolve` sends to be answered with this configuration (`None`:
    /// its file changed since it was loaded; nobody is answered until a reload).
    pub(crate) digest: Option<proxid::resolve_service::ConfigDigest>,
    pub(crate) resolver: Proxid,
    pub(crate) ldap: Arc<LdapSource>,
    pub(crate) pw_name: Cache<String, NssUser, NssUser>,
    pub(crate) pw_uid: Cache<u32, NssUser, NssUser>,
    pub(crate) gr_name: Cache<String, NssGroup, NssGroup>,
    pub(crate) gr_gid: Cache<u32, NssGroup, NssGroup>,
    pub(crate) users: Snapshot<Passwd>,
    pub(crate) groups: Snapshot<GroupEntry>,
}

/// An enumeration list and when it was fetched.
pub(crate) type Snapshot<T> = Mutex<Option<(Instant, Arc<Vec<T>>)>>;

pub(crate) fn load_state(path: Option<&Path>) -> Result<State, String> {
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

pub(crate) struct Daemon {
    pub(crate) state: RwLock<Arc<State>>,
    pub(crate) config_arg: Option<PathBuf>,
    pub(crate) socket: PathBuf,
    pub(crate) started: Instant,
    pub(crate) requests: AtomicU64,
    pub(crate) hits: AtomicU64,
    pub(crate) misses: AtomicU64,
    pub(crate) clients: AtomicUsize,
    /// Background group lookups for cold getpwnam calls.
    pub(crate) prefetch: Prefetcher,
    /// The PAM requests (kept across reloads: the failure throttle lives here).
    pub(crate) pam: proxid::pam_service::PamService,
    /// The shared table for the NSS module's warm path (`[daemon] shared_table`).
    pub(crate) table: Option<Mutex<nss_table::Table>>,
}

impl Daemon {
    pub(crate) fn state(&self) -> Arc<State> {
        self.state.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub(crate) fn reload(&self) -> Result<String, String> {
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

    pub(crate) fn with_table(&self, change: impl FnOnce(&mut nss_table::Table)) {
        if let Some(table) = &self.table {
            change(&mut table.lock().unwrap_or_else(|p| p.into_inner()));
        }
    }
}

/// The shared table beside the socket, new for this run (the one a previous run left
/// is retired); `None` when turned off or when it cannot be written (logged: the
/// module then asks the socket every time).
pub(crate) fn open_table(config: &Config, socket: &Path) -> Option<Mutex<nss_table::Table>> {
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
