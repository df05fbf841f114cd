//! The socket: binding it, the accept loop, the limit on clients, and serving one
//! client (timeouts, frames, who may ask what).

use std::io::{Read, Write};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::io::AsRawFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use proxid_proto::{decode_header, Request, Response, HEADER_LEN, MAX_REQUEST};

use crate::state::Daemon;
use crate::{log, ERR, INFO};

/// Clients served at once; more are closed at once (they retry or fall through).
const MAX_CLIENTS: usize = 2048;
/// A client must send each request, and take each answer, within this.
const IO_TIMEOUT: Duration = Duration::from_secs(5);
/// Stack of a client thread (lookups run on it; only touched pages cost memory).
pub(crate) const CLIENT_STACK: usize = 2 * 1024 * 1024;

/// The client process, from `SO_PEERCRED`.
pub(crate) struct Peer {
    pub(crate) pid: i32,
    pub(crate) uid: u32,
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

/// Threads left waiting in `accept` when the daemon is idle: a new client (every
/// `id`, every `proxid resolve`) is taken by one of them at once, instead of an
/// accepting thread waking and starting a thread for it.
const IDLE_ACCEPTORS: usize = 4;

/// The threads serving the socket: each waits in `accept`, serves the client it
/// got until it leaves, and goes back to waiting; the last idle one starts another
/// before serving, so a new client never waits for a busy one. Past
/// `IDLE_ACCEPTORS` idle threads, a thread that finishes a client ends.
struct Acceptors {
    daemon: Arc<Daemon>,
    listener: UnixListener,
    idle: AtomicUsize,
}

/// Starts the threads that accept and serve clients.
pub(crate) fn serve_socket(daemon: Arc<Daemon>, listener: UnixListener) -> std::io::Result<()> {
    let pool = Arc::new(Acceptors {
        daemon,
        listener,
        idle: AtomicUsize::new(0),
    });
    for _ in 0..IDLE_ACCEPTORS {
        start_acceptor(&pool)?;
    }
    Ok(())
}

fn start_acceptor(pool: &Arc<Acceptors>) -> std::io::Result<()> {
    pool.idle.fetch_add(1, Ordering::AcqRel);
    let own = pool.clone();
    std::thread::Builder::new()
        .name("proxidd-client".into())
        .stack_size(CLIENT_STACK)
        .spawn(move || acceptor(&own))
        .map(drop)
        .inspect_err(|_| {
            pool.idle.fetch_sub(1, Ordering::AcqRel);
        })
}

/// One serving thread; it counts itself idle while it waits in `accept`.
fn acceptor(pool: &Arc<Acceptors>) {
    let daemon = &pool.daemon;
    loop {
        let accepted = pool.listener.accept();
        let idle_left = pool.idle.fetch_sub(1, Ordering::AcqRel).saturating_sub(1);
        match accepted {
            Err(_) => {
                // EMFILE and friends: back off instead of spinning.
                std::thread::sleep(Duration::from_millis(10));
            }
            Ok((stream, _)) => {
                if daemon.clients.fetch_add(1, Ordering::Relaxed) >= MAX_CLIENTS {
                    daemon.clients.fetch_sub(1, Ordering::Relaxed);
                    drop(stream); // closed at once
                } else {
                    let _slot = ClientSlot(&daemon.clients);
                    // Nobody else waits in accept: start the next waiter first. If
                    // it cannot start, this thread accepts again after its client.
                    if idle_left == 0 {
                        let _ = start_acceptor(pool);
                    }
                    serve(daemon, stream);
                }
            }
        }
        if pool.idle.load(Ordering::Acquire) >= IDLE_ACCEPTORS {
            return;
        }
        pool.idle.fetch_add(1, Ordering::AcqRel);
    }
}

/// Creates the socket's directory if missing (root-owned 0755 when we are root),
/// replaces a stale socket (nothing listening on it) and binds.
pub(crate) fn bind(path: &Path) -> Result<UnixListener, String> {
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
