//! `proxid status` and `proxid cache invalidate [NAME]`: the CLI's side of proxidd's
//! protocol, kept apart from the argument parser so it can be rewired into any parser.
//! Exit codes: 0 done (status: daemon up and directory reachable), 1 daemon up but the
//! directory unreachable, 2 anything else (daemon not running, refused, bad usage).

use std::ffi::OsString;
use std::path::Path;
use std::time::Duration;

use proxid_proto::client;
use proxid_proto::{Request, Response};

/// How long the CLI waits for the daemon (a status probe asks the directory).
const TIMEOUT: Duration = Duration::from_secs(10);

/// The daemon's socket: `PROXID_NSS_SOCKET`, else `[daemon] socket` of the
/// configuration, else the default.
fn socket(config: Option<&Path>) -> Vec<u8> {
    if std::env::var_os(client::SOCKET_ENV).is_some_and(|v| !v.is_empty()) {
        return client::socket_path();
    }
    match proxid::Config::load(config) {
        Ok(c) => c.daemon.socket.into_os_string().into_encoded_bytes(),
        Err(_) => client::DEFAULT_SOCKET.as_bytes().to_vec(),
    }
}

fn ask(config: Option<&Path>, request: &Request) -> Result<Response, u8> {
    client::call(&socket(config), request, TIMEOUT).map_err(|e| {
        eprintln!("proxid: proxidd: {e}");
        2
    })
}

pub fn status(config: Option<&Path>, json: bool) -> u8 {
    let s = match ask(config, &Request::Status) {
        Ok(Response::Status(s)) => s,
        Ok(other) => {
            eprintln!("proxid: proxidd: unexpected answer {other:?}");
            return 2;
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
            v["config"] = d.config_path.clone().into();
            v["source"] = d.source.clone().into();
            v["socket"] = d.socket.clone().into();
            v["clients"] = d.connections.into();
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
            println!("config: {}", d.config_path);
            println!("socket: {} ({} clients)", d.socket, d.connections);
        }
    }
    if s.directory_reachable {
        0
    } else {
        1
    }
}

/// `operands` are what follows `cache`: `invalidate [NAME]`.
pub fn cache(config: Option<&Path>, operands: &[OsString]) -> u8 {
    let (Some(sub), rest) = (operands.first(), operands.get(1..).unwrap_or_default()) else {
        eprintln!("proxid: usage: proxid cache invalidate [NAME]");
        return 2;
    };
    if sub != "invalidate" || rest.len() > 1 {
        eprintln!("proxid: usage: proxid cache invalidate [NAME]");
        return 2;
    }
    let name = rest.first().map(|n| n.as_encoded_bytes().to_vec());
    match ask(config, &Request::Invalidate(name)) {
        Ok(Response::Done(what)) => {
            println!("proxidd: {what}");
            0
        }
        Ok(Response::Denied(why)) | Ok(Response::Error(why)) => {
            eprintln!("proxid: cache invalidate: {why}");
            2
        }
        Ok(other) => {
            eprintln!("proxid: proxidd: unexpected answer {other:?}");
            2
        }
        Err(code) => code,
    }
}
