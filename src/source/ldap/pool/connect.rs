//! Opening connections: TLS settings per server, the first live server in `uris`
//! order, TCP with TCP_NODELAY, TLS or StartTLS, and the bind, each bounded by the
//! configured timeouts.

use std::sync::Arc;

use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, StdStream};
use rustls::ClientConfig;

use super::super::tls::{self, Trust};
use super::{unavailable, Pool, Server, TlsConfigs};
use crate::error::{Error, Result};

impl Pool {
    /// Loads the trust store now, if TLS is used (`check-config`).
    pub(crate) fn check_tls(&self) -> Result<()> {
        self.tls_for(0).map(drop)
    }

    /// The TLS configuration for `server`, loading the trust store on first use. A
    /// store that cannot be loaded is a configuration error, as at startup.
    fn tls_for(&self, server: usize) -> Result<Option<Arc<ClientConfig>>> {
        if !self.needs_tls {
            return Ok(None);
        }
        let configs = self.tls.get_or_init(|| {
            Trust::load(self.cfg.ca_file.as_deref())
                .and_then(|trust| tls_configs(&self.servers, self.cfg.starttls, &trust))
        });
        match configs {
            // One configuration per server, built from the same list `server` indexes.
            Ok(configs) => configs.get(server).cloned().ok_or_else(|| {
                Error::config(&self.file, format!("[ldap] no server number {server}"))
            }),
            Err(e) => Err(Error::config(&self.file, format!("[ldap] {e}"))),
        }
    }

    /// Opens a connection to the first server that works, in `uris` order, skipping
    /// servers that failed recently.
    pub(super) async fn connect_any(&self) -> Result<(Ldap, usize)> {
        let mut failures = Vec::new();
        let mut skipped = Vec::new();
        for (index, server) in self.servers.iter().enumerate() {
            if let Some(why) = self.dead_reason(index) {
                skipped.push(format!("{}: {why}", server.uri));
                continue;
            }
            let tls = self.tls_for(index)?;
            match self.open(server, tls).await {
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
                "every LDAP server failed within the last {:?} (retry_after), not retrying \
                 yet ({})",
                self.cfg.retry_after,
                skipped.join("; ")
            )));
        }
        Err(unavailable(failures.join("; ")))
    }

    /// Connects (TCP with TCP_NODELAY, then TLS or StartTLS) and binds, all bounded by
    /// the configured timeouts.
    async fn open(
        &self,
        server: &Server,
        tls: Option<Arc<ClientConfig>>,
    ) -> std::result::Result<Ldap, String> {
        let mut ldap = self.connect(server, tls).await?;
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
            let tls = self.tls_for(index)?;
            match self.connect(server, tls).await {
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
    async fn connect(
        &self,
        server: &Server,
        tls: Option<Arc<ClientConfig>>,
    ) -> std::result::Result<Ldap, String> {
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
            let tls = tls.ok_or_else(|| "TLS requested but not configured".to_string())?;
            settings = settings.set_config(tls);
        }
        let (conn, ldap) = LdapConnAsync::with_settings(settings, &tls::ldap3_uri(server))
            .await
            .map_err(|e| match e {
                ldap3::LdapError::Timeout { .. } => {
                    format!("TLS setup timed out after {} ms", connect.as_millis())
                }
                e => tls::explain(server, &e.to_string()),
            })?;
        tokio::spawn(async move {
            // The connection ends when every handle is dropped or the server goes away;
            // lookups see that as an error on their handle.
            let _ = conn.drive().await;
        });
        Ok(ldap)
    }
}

/// Each server's TLS configuration: for ldaps:// servers, and for all with StartTLS.
pub(super) fn tls_configs(servers: &[Server], starttls: bool, trust: &Trust) -> TlsConfigs {
    servers
        .iter()
        .map(|s| {
            (s.tls || starttls)
                .then(|| trust.client_config(s))
                .transpose()
        })
        .collect()
}
