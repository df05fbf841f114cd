//! `proxid status` and `proxid cache invalidate [NAME]`: the CLI's side of proxidd's
//! protocol. Exit codes: 0 done (status: daemon up and directory reachable), 1 daemon
//! up but the directory unreachable, 2 anything else (daemon not running, refused,
//! bad usage).

use std::ffi::OsStr;
use std::path::Path;
use std::time::Duration;

use proxid_proto::client;
use proxid_proto::{Request, Response};

use crate::output::{self, esc};
use crate::{name_operand, Context, Status};

/// How long the CLI waits for the daemon (a status probe asks the directory).
const TIMEOUT: Duration = Duration::from_secs(10);

/// The daemon's socket: `PROXID_NSS_SOCKET`, else `[daemon] socket` of the
/// configuration, else the default.
fn socket(config: Option<&Path>) -> Vec<u8> {
    if env_socket() {
        return client::socket_path();
    }
    match proxid::Config::load(config) {
        Ok(c) => socket_of(&c.daemon.socket),
        Err(_) => client::DEFAULT_SOCKET.as_bytes().to_vec(),
    }
}

/// Whether `PROXID_NSS_SOCKET` names the socket (as for the NSS module).
fn env_socket() -> bool {
    std::env::var_os(client::SOCKET_ENV).is_some_and(|v| !v.is_empty())
}

/// The daemon's socket given the configured one (`[daemon] socket`, which defaults
/// to the default socket): `PROXID_NSS_SOCKET` when set, else that.
pub fn socket_of(configured: &Path) -> Vec<u8> {
    if env_socket() {
        return client::socket_path();
    }
    configured.as_os_str().as_encoded_bytes().to_vec()
}

fn ask(config: Option<&Path>, request: &Request) -> Result<Response, Status> {
    client::call(&socket(config), request, TIMEOUT).map_err(|e| {
        output::report("proxidd", &e.to_string());
        Status::Error
    })
}

/// `proxid status [--json]`
pub fn status(ctx: &Context, json: bool) -> Status {
    let s = match ask(ctx.config.as_deref(), &Request::Status) {
        Ok(Response::Status(s)) => s,
        Ok(other) => {
            output::report("proxidd", &format!("unexpected answer {other:?}"));
            return Status::Error;
        }
        Err(code) => {
            if json {
                println!("{}", serde_json::json!({"daemon": "not_running"}));
            }
            return code;
        }
    };
    let asked = s.cache_hits + s.cache_misses;
    let rate = if asked == 0 {
        0.0
    } else {
        100.0 * s.cache_hits as f64 / asked as f64
    };
    if json {
        let mut v = serde_json::json!({
            "daemon": "running",
            "version": s.version,
            "uptime_secs": s.uptime_secs,
            "directory_reachable": s.directory_reachable,
            "cache_entries": s.cache_entries,
            "cache_hits": s.cache_hits,
            "cache_misses": s.cache_misses,
            "hit_rate": rate / 100.0,
            "requests": s.requests,
        });
        if let Some(d) = &s.detail {
            output::set_field(&mut v, "config", d.config_path.clone());
            output::set_field(&mut v, "source", d.source.clone());
            output::set_field(&mut v, "socket", d.socket.clone());
            output::set_field(&mut v, "clients", d.connections);
        }
        println!("{v}");
    } else {
        println!(
            "proxidd: running (version {}, up {}s)",
            s.version, s.uptime_secs
        );
        println!(
            "directory: {}",
            if s.directory_reachable {
                "reachable"
            } else {
                "unreachable"
            }
        );
        println!(
            "cache: {} entries, hit rate {rate:.1}% ({} hits, {} misses)",
            s.cache_entries, s.cache_hits, s.cache_misses
        );
        println!("requests: {}", s.requests);
        if let Some(d) = &s.detail {
            println!("config: {}", esc(&d.config_path));
            println!("socket: {} ({} clients)", esc(&d.socket), d.connections);
        }
    }
    if s.directory_reachable {
        Status::Ok
    } else {
        Status::NotFound
    }
}

/// `proxid cache invalidate [NAME]`
pub fn invalidate(ctx: &Context, name: Option<&OsStr>) -> Status {
    let name = match name.map(name_operand).transpose() {
        Ok(name) => name.map(|n| n.as_bytes().to_vec()),
        Err(f) => {
            output::report("cache invalidate", &f.message);
            return f.status;
        }
    };
    match ask(ctx.config.as_deref(), &Request::Invalidate(name)) {
        Ok(Response::Done(what)) => {
            println!("proxidd: {}", esc(&what));
            Status::Ok
        }
        Ok(Response::Denied(why)) | Ok(Response::Error(why)) => {
            output::report("cache invalidate", &why);
            Status::Error
        }
        Ok(other) => {
            output::report("proxidd", &format!("unexpected answer {other:?}"));
            Status::Error
        }
        Err(status) => status,
    }
}
