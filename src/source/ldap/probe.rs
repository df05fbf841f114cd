//! One LDAP server examined step by step for `proxid doctor`: DNS, TCP connect, the
//! TLS handshake and its certificates, the service bind, the base DN, and how many
//! users and groups the filters see. Each step says what it found and, when something
//! is wrong, the fix; the first failing step ends the probe (the later ones would only
//! repeat it).
//!
//! The probe connects the way lookups do (the same URI parsing, TLS trust, timeouts
//! and bind), but on its own connections: a lookup's pool hides which step failed.

use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ldap3::{LdapConnAsync, LdapConnSettings, Scope, StdStream};
use rustls::ClientConfig;

use super::pool::Server;
use super::tls::Trust;
use super::{query, search_paged, Handle};
use crate::clock::{Clock, SystemClock};
use crate::config::LdapConfig;

mod tls_steps;

use tls_steps::{certificates, handshake};

/// Certificates expiring sooner than this are a warning.
pub const EXPIRY_WARN_DAYS: i64 = 30;
/// Bound on each whole count (a paged search of the user or group base).
const COUNT_TIMEOUT: Duration = Duration::from_secs(120);

/// How a step went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Ok,
    Warn,
    Fail,
}

/// One step's outcome.
#[derive(Debug, Clone)]
pub struct Finding {
    /// `dns`, `tcp`, `tls`, `certificate`, `bind`, `base`, `users`, `groups`.
    pub step: &'static str,
    pub level: Level,
    pub detail: String,
    /// One sentence; `None` when ok.
    pub fix: Option<String>,
}

fn ok(step: &'static str, detail: String) -> Finding {
    Finding {
        step,
        level: Level::Ok,
        detail,
        fix: None,
    }
}

fn bad(step: &'static str, level: Level, detail: String, fix: impl Into<String>) -> Finding {
    Finding {
        step,
        level,
        detail,
        fix: Some(fix.into()),
    }
}

/// The probe reports how long real network steps took: the system clock.
fn now() -> Instant {
    SystemClock::default().now()
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// Probes the server at `uri` with the `[ldap]` settings `cfg` (bind credentials
/// already read). Never panics on what a server sends; every error is a finding.
pub fn probe(cfg: &LdapConfig, uri: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    let _ = run(cfg, uri, &mut out);
    out
}

/// Pushes findings; `Err(())` after the first failure.
fn run(cfg: &LdapConfig, uri: &str, out: &mut Vec<Finding>) -> Result<(), ()> {
    let mut push = |f: Finding| {
        let failed = f.level == Level::Fail;
        out.push(f);
        if failed {
            Err(())
        } else {
            Ok(())
        }
    };
    let server = match Server::parse(uri) {
        Ok(s) => s,
        Err(e) => {
            return push(bad(
                "dns",
                Level::Fail,
                e,
                "write the URI as ldap://HOST[:PORT] or ldaps://HOST[:PORT] in [ldap] uris",
            ))
        }
    };

    // DNS
    let started = now();
    let addrs: Vec<SocketAddr> =
        match (server.host.as_str(), server.port).to_socket_addrs() {
            Ok(a) => a.collect(),
            Err(e) => return push(bad(
                "dns",
                Level::Fail,
                format!("{}: cannot resolve {:?}: {e}", server.uri, server.host),
                "fix the host name in [ldap] uris or this machine's DNS (resolv.conf, /etc/hosts)",
            )),
        };
    let shown: Vec<String> = addrs.iter().map(|a| a.ip().to_string()).collect();
    push(ok(
        "dns",
        format!(
            "{} resolves to {} in {}",
            server.host,
            shown.join(", "),
            ms(started.elapsed())
        ),
    ))?;

    // TCP
    let mut last = String::from("no address");
    let mut tcp = None;
    for addr in &addrs {
        let started = now();
        match TcpStream::connect_timeout(addr, cfg.connect_timeout) {
            Ok(s) => {
                tcp = Some((s, *addr, started.elapsed()));
                break;
            }
            Err(e) => last = format!("{addr}: {e}"),
        }
    }
    let Some((stream, addr, took)) = tcp else {
        return push(bad(
            "tcp",
            Level::Fail,
            format!("{}: cannot connect: {last}", server.uri),
            format!(
                "start the LDAP server or open port {} in the firewall, or remove this URI from [ldap] uris",
                server.port
            ),
        ));
    };
    push(ok(
        "tcp",
        format!("{}: connected to {addr} in {}", server.uri, ms(took)),
    ))?;

    // TLS
    let starttls = cfg.starttls && !server.tls;
    let tls = if server.tls || starttls {
        let config = match Trust::load(cfg.ca_file.as_deref()).and_then(|t| t.client_config(&server)) {
            Ok(c) => c,
            Err(e) => {
                return push(bad(
                    "tls",
                    Level::Fail,
                    e,
                    "point [ldap] ca_file at the PEM file of the CA that signed the server's certificate",
                ))
            }
        };
        match handshake(stream, &server, config.clone(), starttls, cfg.connect_timeout) {
            Ok((detail, chain)) => {
                push(ok("tls", format!("{}: {detail}", server.uri)))?;
                push(certificates(&server, &chain))?;
            }
            Err(e) => {
                return push(bad(
                    "tls",
                    Level::Fail,
                    format!("{}: TLS handshake failed: {e}", server.uri),
                    "make the server present a certificate for this host name signed by the CA in [ldap] ca_file (or the system store)",
                ))
            }
        }
        Some(config)
    } else {
        let level = if server.is_loopback() {
            Level::Ok
        } else {
            Level::Warn
        };
        let detail = format!("{}: plain LDAP, no TLS", server.uri);
        push(match level {
            Level::Ok => ok("tls", detail + " (loopback)"),
            _ => bad(
                "tls",
                Level::Warn,
                detail + ": names, IDs and the bind go over the network in clear",
                "use an ldaps:// URI or set [ldap] starttls = true",
            ),
        })?;
        None
    };

    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            return push(bad(
                "bind",
                Level::Fail,
                format!("cannot start the LDAP client runtime: {e}"),
                "check the process limits (threads, file descriptors)",
            ))
        }
    };
    let findings = runtime.block_on(directory_steps(cfg, &server, addr, tls, starttls));
    for f in findings {
        push(f)?;
    }
    Ok(())
}

/// Bind, base DN, counts: over ldap3 as lookups do.
async fn directory_steps(
    cfg: &LdapConfig,
    server: &Server,
    addr: SocketAddr,
    tls: Option<Arc<ClientConfig>>,
    starttls: bool,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let fail = |step, detail: String, fix: &str| bad(step, Level::Fail, detail, fix);
    let op = cfg.operation_timeout;
    let tcp = match tokio::time::timeout(cfg.connect_timeout, tokio::net::TcpStream::connect(addr))
        .await
    {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            out.push(fail(
                "bind",
                format!("{}: reconnect: {e}", server.uri),
                "check the server",
            ));
            return out;
        }
        Err(_) => {
            out.push(fail(
                "bind",
                format!("{}: reconnect timed out", server.uri),
                "check the server",
            ));
            return out;
        }
    };
    let _ = tcp.set_nodelay(true);
    let Ok(tcp) = tcp.into_std() else {
        out.push(fail("bind", "socket error".into(), "retry"));
        return out;
    };
    let mut settings = LdapConnSettings::new()
        .set_conn_timeout(cfg.connect_timeout)
        .set_starttls(starttls)
        .set_std_stream(StdStream::Tcp(tcp));
    if let Some(tls) = tls {
        settings = settings.set_config(tls);
    }
    let (conn, mut ldap) = match LdapConnAsync::with_settings(settings, &server.uri).await {
        Ok(c) => c,
        Err(e) => {
            out.push(fail(
                "bind",
                format!("{}: connect: {e}", server.uri),
                "check the server's TLS settings",
            ));
            return out;
        }
    };
    tokio::spawn(async move {
        let _ = conn.drive().await;
    });

    // Service bind
    match (&cfg.bind_dn, &cfg.bind_password) {
        (Some(dn), Some(password)) => {
            let started = now();
            let result = tokio::time::timeout(op, ldap.simple_bind(dn, password.expose())).await;
            let why = match result {
                Err(_) => Some(format!("no answer within {}", ms(op))),
                Ok(Err(e)) => Some(e.to_string()),
                Ok(Ok(r)) => r.success().err().map(|e| e.to_string()),
            };
            if let Some(why) = why {
                out.push(fail(
                    "bind",
                    format!("{}: bind as {dn:?} failed: {why}", server.uri),
                    "check [ldap] bind_dn and the password in bind_password_file against the directory",
                ));
                return out;
            }
            out.push(ok(
                "bind",
                format!(
                    "{}: bound as {dn:?} in {}",
                    server.uri,
                    ms(started.elapsed())
                ),
            ));
        }
        (Some(dn), None) => {
            out.push(fail(
                "bind",
                format!("{}: bind_dn {dn:?} has no password", server.uri),
                "set [ldap] bind_password_file",
            ));
            return out;
        }
        (None, _) => out.push(ok(
            "bind",
            format!("{}: anonymous (no bind_dn configured)", server.uri),
        )),
    }

    // Base DN
    let base = tokio::time::timeout(
        op,
        ldap.search(&cfg.base, Scope::Base, "(objectClass=*)", vec!["1.1"]),
    )
    .await;
    let why = match base {
        Err(_) => Some(format!("no answer within {}", ms(op))),
        Ok(Err(e)) => Some(e.to_string()),
        Ok(Ok(r)) => match r.success() {
            Ok((entries, _)) if entries.len() == 1 => None,
            Ok((entries, _)) => Some(format!("{} entries returned", entries.len())),
            Err(e) => Some(e.to_string()),
        },
    };
    if let Some(why) = why {
        out.push(fail(
            "base",
            format!("{}: base {:?} is not readable: {why}", server.uri, cfg.base),
            "check [ldap] base and that the service account may read it (the server's ACLs)",
        ));
        return out;
    }
    out.push(ok(
        "base",
        format!("{}: base {:?} readable", server.uri, cfg.base),
    ));

    // Counts
    let handle = Handle {
        ldap: ldap.clone(),
        paging: Default::default(),
    };
    for (step, what, base, filter) in [
        ("users", "users", &cfg.user_base, &cfg.map.user_filter),
        ("groups", "groups", &cfg.group_base, &cfg.map.group_filter),
    ] {
        let filter = query::wrapped(filter);
        let started = now();
        let counted = tokio::time::timeout(
            COUNT_TIMEOUT,
            search_paged(handle.clone(), base, &filter, vec!["1.1".into()]),
        )
        .await;
        let finding = match counted {
            Ok(Ok(entries)) if entries.is_empty() => bad(
                step,
                Level::Warn,
                format!("{}: no {what} under {base:?} match {filter}", server.uri),
                format!("check [ldap] {what} base and [ldap.map] filter (and the service account's read rights)"),
            ),
            Ok(Ok(entries)) => ok(
                step,
                format!(
                    "{}: {} {what} under {base:?} (paged count in {})",
                    server.uri,
                    entries.len(),
                    ms(started.elapsed())
                ),
            ),
            Ok(Err(e)) => bad(
                step,
                Level::Fail,
                format!("{}: counting {what} failed: {}", server.uri, describe(e)),
                "check the base and filter in [ldap] and the server's paging limits",
            ),
            Err(_) => bad(
                step,
                Level::Warn,
                format!("{}: counting {what} took over {} s", server.uri, COUNT_TIMEOUT.as_secs()),
                "nothing to fix if the directory is this large; otherwise check the server's load",
            ),
        };
        out.push(finding);
    }
    let _ = ldap.unbind().await;
    out
}

fn describe(e: super::Failure) -> String {
    match e {
        super::Failure::Connection(e) => e.to_string(),
        super::Failure::Answer(e) => e.to_string(),
    }
}
