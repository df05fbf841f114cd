//! Connections to the directory: which servers, how to reach them (TLS, bind,
//! timeouts), which ones failed recently, and a small pool of open connections that
//! many threads share. ldap3 multiplexes operations on one connection, so a pooled
//! connection serves several lookups at once; the pool only spreads the load.

use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, StdStream};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore};

use crate::config::LdapConfig;
use crate::error::{Error, Result};

/// How long a server that failed to connect or answer is skipped (nslcd's
/// `reconnect_retrytime` is 10 s too). While every server is in this state, lookups
/// fail at once instead of waiting for timeouts again.
pub(crate) const RETRY_DEAD_AFTER: Duration = Duration::from_secs(10);
/// Connections are reopened after this long, so a preferred server that came back
/// is used again and no connection lives forever.
const MAX_CONNECTION_AGE: Duration = Duration::from_secs(600);

pub(crate) const SOURCE: &str = "ldap";

pub(crate) fn unavailable(detail: impl Into<String>) -> Error {
    Error::Unavailable {
        source_name: SOURCE.into(),
        detail: detail.into(),
    }
}

/// One entry of `uris`, taken apart.
#[derive(Debug, Clone)]
pub(crate) struct Server {
    pub uri: String,
    pub tls: bool,
    pub host: String,
    pub port: u16,
}

impl Server {
    pub(crate) fn parse(uri: &str) -> std::result::Result<Server, String> {
        let (scheme, rest) = uri
            .split_once("://")
            .ok_or_else(|| format!("{uri:?} is not an ldap:// or ldaps:// URI"))?;
        let tls = match scheme.to_ascii_lowercase().as_str() {
            "ldap" => false,
            "ldaps" => true,
            _ => return Err(format!("{uri:?} is not an ldap:// or ldaps:// URI")),
        };
        let authority = rest.split(['/', '?']).next().unwrap_or_default();
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (host, after) = v6
                .split_once(']')
                .ok_or_else(|| format!("{uri:?}: unclosed [ in host"))?;
            (host, after.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(format!("{uri:?} names no host"));
        }
        let port = match port {
            None | Some("") => {
                if tls {
                    636
                } else {
                    389
                }
            }
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|&p| p > 0)
                .ok_or_else(|| format!("{uri:?}: bad port {p:?}"))?,
        };
        let scheme = if tls { "ldaps" } else { "ldap" };
        let shown_host = if host.contains(':') {
            format!("[{host}]")
        } else {
            host.to_owned()
        };
        Ok(Server {
            uri: format!("{scheme}://{shown_host}:{port}"),
            tls,
            host: host.to_owned(),
            port,
        })
    }

    pub(crate) fn is_loopback(&self) -> bool {
        self.host.eq_ignore_ascii_case("localhost")
            || self
                .host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }
}

/// The TLS client configuration shared by every connection: rustls with the ring
/// provider, trusting `ca_file` or else the system store. Loading no certificate at
/// all is an error, never a silent "trust nothing" that fails later with a vague message.
pub(crate) fn tls_config(ca_file: Option<&Path>) -> std::result::Result<Arc<ClientConfig>, String> {
    let mut roots = RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| format!("ca_file {}: {e}", path.display()))?;
            for cert in certs {
                let cert = cert.map_err(|e| format!("ca_file {}: {e}", path.display()))?;
                roots
                    .add(cert)
                    .map_err(|e| format!("ca_file {}: {e}", path.display()))?;
            }
            if roots.is_empty() {
                return Err(format!(
                    "ca_file {} holds no PEM certificate",
                    path.display()
                ));
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            let (added, _ignored) = roots.add_parsable_certificates(found.certs);
            if added == 0 {
                let why: Vec<String> = found.errors.iter().map(|e| e.to_string()).collect();
                return Err(format!(
                    "no ca_file is set and the system certificate store yielded no usable \
                     certificate{}{}",
                    if why.is_empty() { "" } else { ": " },
                    why.join("; ")
                ));
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// A connection as lookups use it. Cloning `Ldap` is how ldap3 shares a connection.
#[derive(Clone)]
pub(crate) struct Handle {
    pub ldap: Ldap,
    /// Held for the length of a paged search: OpenLDAP keeps one paged-results state
    /// per connection, so a second paged search on it invalidates the first's cookie.
    pub paging: Arc<tokio::sync::Mutex<()>>,
}

/// An open connection in a pool slot.
struct Conn {
    handle: Handle,
    id: u64,
    server: usize,
    opened: Instant,
}

/// A connection handed to one lookup.
pub(crate) struct Lease {
    pub handle: Handle,
    pub server: usize,
    /// Opened for this lookup (rather than reused from the pool).
    pub fresh: bool,
    slot: usize,
    pub id: u64,
}

pub(crate) struct Pool {
    cfg: LdapConfig,
    servers: Vec<Server>,
    tls: Option<Arc<ClientConfig>>,
    slots: Vec<tokio::sync::Mutex<Option<Conn>>>,
    next_slot: AtomicUsize,
    next_id: AtomicU64,
    /// Per server: skip it until this instant, and why it failed.
    dead_until: Mutex<Vec<Option<(Instant, String)>>>,
}

impl Pool {
    pub(crate) fn new(
        cfg: LdapConfig,
        servers: Vec<Server>,
        tls: Option<Arc<ClientConfig>>,
    ) -> Pool {
        let n = cfg.connections.max(1) as usize;
        Pool {
            dead_until: Mutex::new(vec![None; servers.len()]),
            slots: (0..n).map(|_| tokio::sync::Mutex::new(None)).collect(),
            next_slot: AtomicUsize::new(0),
            next_id: AtomicU64::new(1),
            cfg,
            servers,
            tls,
        }
    }

    pub(crate) fn server(&self, index: usize) -> &Server {
        &self.servers[index]
    }

    pub(crate) fn server_count(&self) -> usize {
        self.servers.len()
    }

    /// A connection, reused when the slot holds a live one, opened otherwise.
    pub(crate) async fn get(&self) -> Result<Lease> {
        let slot = self.next_slot.fetch_add(1, Ordering::Relaxed) % self.slots.len();
        let mut held = self.slots[slot].lock().await;
        if let Some(conn) = held.as_mut() {
            if !conn.handle.ldap.is_closed() && conn.opened.elapsed() < MAX_CONNECTION_AGE {
                return Ok(Lease {
                    handle: conn.handle.clone(),
                    server: conn.server,
                    fresh: false,
                    slot,
                    id: conn.id,
                });
            }
        }
        *held = None;
        let (ldap, server) = self.connect_any().await?;
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let handle = Handle {
            ldap,
            paging: Arc::new(tokio::sync::Mutex::new(())),
        };
        *held = Some(Conn {
            handle: handle.clone(),
            id,
            server,
            opened: Instant::now(),
        });
        Ok(Lease {
            handle,
            server,
            fresh: true,
            slot,
            id,
        })
    }

    /// Drops the leased connection from the pool, unless it was already replaced.
    /// Never waits: a slot that is locked is being reconnected by someone else.
    pub(crate) fn discard(&self, lease: &Lease) {
        if let Ok(mut held) = self.slots[lease.slot].try_lock() {
            if held.as_ref().is_some_and(|c| c.id == lease.id) {
                *held = None;
            }
        }
    }

    /// Drops the pooled connections to `server` opened no later than connection
    /// `up_to` (it hung, or closed one of them, as a restarting server closes all).
    /// Connections opened since then were opened after the trouble began (by a
    /// concurrent lookup that already reconnected) and are kept.
    pub(crate) fn discard_server(&self, server: usize, up_to: u64) {
        for slot in &self.slots {
            if let Ok(mut held) = slot.try_lock() {
                if held
                    .as_ref()
                    .is_some_and(|c| c.server == server && c.id <= up_to)
                {
                    *held = None;
                }
            }
        }
    }

    pub(crate) fn mark_dead(&self, server: usize, why: &str) {
        if let Ok(mut dead) = self.dead_until.lock() {
            dead[server] = Some((Instant::now() + RETRY_DEAD_AFTER, why.to_owned()));
        }
    }

    fn mark_alive(&self, server: usize) {
        if let Ok(mut dead) = self.dead_until.lock() {
            dead[server] = None;
        }
    }

    /// Why the server is being skipped, if it is.
    fn dead_reason(&self, server: usize) -> Option<String> {
        let dead = self.dead_until.lock().ok()?;
        match &dead[server] {
            Some((until, why)) if Instant::now() < *until => Some(why.clone()),
            _ => None,
        }
    }

    /// Opens a connection to the first server that works, in `uris` order, skipping
    /// servers that failed recently.
    async fn connect_any(&self) -> Result<(Ldap, usize)> {
        let mut failures = Vec::new();
        let mut skipped = Vec::new();
        for (index, server) in self.servers.iter().enumerate() {
            if let Some(why) = self.dead_reason(index) {
                skipped.push(format!("{}: {why}", server.uri));
                continue;
            }
            match self.open(server).await {
                Ok(ldap) => {
                    self.mark_alive(index);
                    return Ok((ldap, index));
                }
                Err(why) => {
                    self.mark_dead(index, &why);
                    failures.push(format!("{}: {why}", server.uri));
                }
            }
        }
        if failures.is_empty() {
            return Err(unavailable(format!(
                "every LDAP server failed within the last {} s, not retrying yet ({})",
                RETRY_DEAD_AFTER.as_secs(),
                skipped.join("; ")
            )));
        }
        Err(unavailable(failures.join("; ")))
    }

    /// Connects (TCP with TCP_NODELAY, then TLS or StartTLS) and binds, all bounded by
    /// the configured timeouts.
    async fn open(&self, server: &Server) -> std::result::Result<Ldap, String> {
        let mut ldap = self.connect(server).await?;
        if let (Some(dn), Some(password)) = (&self.cfg.bind_dn, &self.cfg.bind_password) {
            let op = self.cfg.operation_timeout;
            let bound = tokio::time::timeout(op, ldap.simple_bind(dn, password.expose()))
                .await
                .map_err(|_| format!("bind timed out after {} ms", op.as_millis()))?
                .map_err(|e| format!("bind as {dn:?}: {e}"))?;
            bound
                .success()
                .map_err(|e| format!("bind as {dn:?}: {e}"))?;
        }
        Ok(ldap)
    }

    /// A new connection, outside the pool and not bound, for checking a user's
    /// password: to the first live server in `uris` order whose connection is
    /// encrypted (ldaps:// or StartTLS), or any server with `allow_insecure_bind`.
    pub(crate) async fn open_for_user_bind(&self) -> Result<Ldap> {
        let mut failures = Vec::new();
        for (index, server) in self.servers.iter().enumerate() {
            let encrypted = server.tls || self.cfg.starttls;
            if !encrypted && !self.cfg.allow_insecure_bind {
                failures.push(format!(
                    "{}: refusing to send a user's password unencrypted (use ldaps://, \
                     starttls = true, or allow_insecure_bind = true)",
                    server.uri
                ));
                continue;
            }
            if let Some(why) = self.dead_reason(index) {
                failures.push(format!("{}: {why}", server.uri));
                continue;
            }
            match self.connect(server).await {
                Ok(ldap) => return Ok(ldap),
                Err(why) => {
                    self.mark_dead(index, &why);
                    failures.push(format!("{}: {why}", server.uri));
                }
            }
        }
        Err(unavailable(failures.join("; ")))
    }

    /// Connects: TCP with TCP_NODELAY, then TLS or StartTLS, bounded by
    /// `connect_timeout`. No bind.
    async fn connect(&self, server: &Server) -> std::result::Result<Ldap, String> {
        let connect = self.cfg.connect_timeout;
        let tcp = tokio::time::timeout(
            connect,
            tokio::net::TcpStream::connect((server.host.as_str(), server.port)),
        )
        .await
        .map_err(|_| format!("connect timed out after {} ms", connect.as_millis()))?
        .map_err(|e| format!("connect: {e}"))?;
        // LDAP requests are small writes; without this, the second of two concurrent
        // searches waits for the first one's delayed ACK (up to 40 ms on Linux).
        tcp.set_nodelay(true)
            .map_err(|e| format!("TCP_NODELAY: {e}"))?;
        let tcp = tcp.into_std().map_err(|e| format!("socket: {e}"))?;

        let starttls = self.cfg.starttls && !server.tls;
        let mut settings = LdapConnSettings::new()
            .set_conn_timeout(connect)
            .set_starttls(starttls)
            .set_std_stream(StdStream::Tcp(tcp));
        if server.tls || starttls {
            let tls = self
                .tls
                .clone()
                .ok_or_else(|| "TLS requested but not configured".to_string())?;
            settings = settings.set_config(tls);
        }
        let (conn, ldap) = LdapConnAsync::with_settings(settings, &server.uri)
            .await
            .map_err(|e| match e {
                ldap3::LdapError::Timeout { .. } => {
                    format!("TLS setup timed out after {} ms", connect.as_millis())
                }
                e => e.to_string(),
            })?;
        tokio::spawn(async move {
            // The connection ends when every handle is dropped or the server goes away;
            // lookups see that as an error on their handle.
            let _ = conn.drive().await;
        });
        Ok(ldap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn ca_file_without_certificates_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let err = tls_config(Some(&empty)).unwrap_err();
        assert!(err.contains("no PEM certificate"), "{err}");
        assert!(tls_config(Some(&dir.path().join("missing.pem"))).is_err());
    }
}
