//! `proxidd`: serves the host's NSS (through `libnss_proxid.so.2`) from the LDAP
//! directory of `/etc/proxid.conf`, with proxid's cache, over a Unix stream socket.
//!
//! ```text
//! proxidd [--config FILE] [--socket PATH] [--foreground]
//! ```
//!
//! Shape: a few idle threads wait in `accept`; each serves the client it took until
//! the client leaves, starting another waiter first when it was the last (at most
//! `MAX_CLIENTS` clients at once; beyond that a new connection is closed at once),
//! with read and write timeouts, so a slow or hostile client stalls only itself. Signals are
//! blocked in every thread and taken by one `sigwait` thread: SIGHUP reloads (a bad
//! configuration keeps the running one), SIGTERM/SIGINT remove the socket and exit.
//! Logs go to stderr, one line each, with a `<N>` syslog priority prefix that
//! journald understands; the one exception is the plain `proxidd: ready` line.
//!
//! Never recursion: `PROXIDD_NO_NSS` is set in this process's environment before
//! anything else, and the NSS module answers UNAVAIL without connecting when it sees
//! it; a request coming from this very process (peer PID) is refused as well.
//!
//! Modules: `state` (what a configuration builds, load and reload, the shared table
//! opened beside the socket), `server` (the socket, the accepting threads, the client
//! limit and timeouts), `answer` (the requests), `prefetch` (the background group
//! lookups of RFC2307bis getpwnam calls), `process` (signals, detaching, systemd's
//! notify socket, the loop-guard check) and `nss_table` (the shared table's writer).

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
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::{Arc, RwLock};
use std::time::Instant;

mod answer;
mod nss_table;
mod prefetch;
mod process;
mod server;
mod state;

use process::{block_signals, check_loop_guard, detach, sd_notify};
use server::{bind, serve_socket};
use state::{load_state, open_table, Daemon};

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
    let daemon = Arc::new_cyclic(|me| Daemon {
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
        prefetch: prefetch::Prefetcher::start(me.clone()),
        pam: proxid::pam_service::PamService::default(),
        table,
    });
    if let Err(e) = serve_socket(daemon.clone(), listener) {
        log(ERR, format_args!("cannot start: {e}"));
        std::process::exit(1);
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
