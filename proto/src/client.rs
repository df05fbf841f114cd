//! A small blocking client, written on raw `libc` calls because it is loaded into
//! arbitrary processes (the NSS and PAM modules): no threads, no thread-locals, no
//! signal handlers; the socket is close-on-exec and kept off fds 0–2, writes use
//! `MSG_NOSIGNAL` (a library must not die of SIGPIPE), and the whole exchange —
//! connect included — has one deadline.
//!
//! [`call`] opens a connection per request. [`Kept`] keeps one open between calls
//! for a process that asks often (the NSS module: `id` asks three times, a
//! long-lived service thousands), as SSSD's client does: a connection made by
//! another process (the parent before a `fork`) or whose descriptor now names
//! something else (a program that closed and reused it) is never used.

use std::sync::{Mutex, TryLockError};
use std::time::{Duration, Instant};

use crate::{split_frame, DecodeError, Request, Response, MAX_FRAME};

/// Where proxidd listens unless told otherwise; compiled into the modules.
pub const DEFAULT_SOCKET: &str = "/run/proxid/nss.sock";
/// Overrides [`DEFAULT_SOCKET`] for tests; read with `secure_getenv` only, so it is
/// ignored in setuid programs.
pub const SOCKET_ENV: &str = "PROXID_NSS_SOCKET";
/// The NSS module's bound on one call, compiled in: a hung daemon costs at most this.
pub const NSS_TIMEOUT: Duration = Duration::from_secs(2);

/// Why a call got no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientError {
    /// Nothing listens at the socket (absent, refused): the daemon is not running.
    NotRunning(i32),
    /// The daemon did not answer before the deadline.
    Timeout,
    /// Any other system error (errno).
    Io(i32),
    /// The daemon closed the connection without answering.
    Closed,
    /// The answer could not be decoded.
    Protocol(DecodeError),
    /// The socket path does not fit a `sockaddr_un` or holds a NUL.
    BadPath,
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientError::NotRunning(e) => write!(
                f,
                "proxidd is not running ({})",
                std::io::Error::from_raw_os_error(*e)
            ),
            ClientError::Timeout => write!(f, "proxidd did not answer in time"),
            ClientError::Io(e) => write!(f, "{}", std::io::Error::from_raw_os_error(*e)),
            ClientError::Closed => write!(f, "proxidd closed the connection without answering"),
            ClientError::Protocol(e) => write!(f, "bad answer from proxidd: {e}"),
            ClientError::BadPath => write!(f, "socket path too long or contains NUL"),
        }
    }
}

impl std::error::Error for ClientError {}

extern "C" {
    // glibc; the libc crate does not declare it.
    fn secure_getenv(name: *const libc::c_char) -> *mut libc::c_char;
}

/// The socket to use: `PROXID_NSS_SOCKET` (through `secure_getenv`) or the default.
pub fn socket_path() -> Vec<u8> {
    // SAFETY: the name is a NUL-terminated literal; the result, when not NULL, points
    // at the environment's NUL-terminated value, copied at once.
    unsafe {
        let value = secure_getenv(c"PROXID_NSS_SOCKET".as_ptr());
        if !value.is_null() {
            let bytes = std::ffi::CStr::from_ptr(value).to_bytes();
            if !bytes.is_empty() {
                return bytes.to_vec();
            }
        }
    }
    DEFAULT_SOCKET.as_bytes().to_vec()
}

/// Sends `request` to the daemon at `path` and returns its answer, all within `timeout`.
pub fn call(path: &[u8], request: &Request, timeout: Duration) -> Result<Response, ClientError> {
    // A socket deadline in real time (this crate has no clock to inject; no rule
    // depends on it).
    #[allow(clippy::disallowed_methods)]
    let deadline = Instant::now() + timeout;
    let fd = connect(path, deadline)?;
    exchange(&fd, request, deadline)
}

/// One connection carrying several requests in turn (the CLI asks for each name of
/// `proxid resolve a b c` on one connection), with a deadline per step: connecting
/// (which fails at once when nothing listens) and each request. Closed when dropped.
pub struct Session {
    fd: Fd,
}

impl Session {
    /// Connects to the daemon at `path` within `timeout`.
    pub fn connect(path: &[u8], timeout: Duration) -> Result<Session, ClientError> {
        // A socket deadline in real time (this crate has no clock to inject; no rule
        // depends on it).
        #[allow(clippy::disallowed_methods)]
        let deadline = Instant::now() + timeout;
        Ok(Session {
            fd: connect(path, deadline)?,
        })
    }

    /// Sends `request` and returns the answer, both within `timeout`.
    pub fn call(&self, request: &Request, timeout: Duration) -> Result<Response, ClientError> {
        // A socket deadline in real time, as in `connect`.
        #[allow(clippy::disallowed_methods)]
        let deadline = Instant::now() + timeout;
        exchange(&self.fd, request, deadline)
    }
}

/// A connection kept open between calls, for one process: see the module docs.
/// Calls that find it in use (another thread's call, or a `fork` taken while one
/// was running) open a connection of their own instead of waiting.
pub struct Kept {
    held: Mutex<Option<KeptFd>>,
}

/// The kept descriptor, with what identifies it as ours.
struct KeptFd {
    fd: Fd,
    /// The process that connected it.
    pid: libc::pid_t,
    /// The socket's device and inode, to notice a descriptor closed and reused.
    id: (u64, u64),
}

impl KeptFd {
    /// Whether this process made it, it is still that socket, and the daemon has
    /// not closed it (an idle connection is closed by the daemon after a while).
    fn usable(&self) -> bool {
        // SAFETY: getpid has no preconditions.
        if self.pid != unsafe { libc::getpid() } || socket_id(&self.fd) != Some(self.id) {
            return false;
        }
        let mut pfd = libc::pollfd {
            fd: self.fd.0,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd, no wait. Readable before a request was sent
        // means closed (or out of step): not usable.
        unsafe { libc::poll(&mut pfd, 1, 0) == 0 }
    }
}

impl Default for Kept {
    fn default() -> Self {
        Self::new()
    }
}

impl Kept {
    /// No connection yet; usable in a `static`.
    pub const fn new() -> Kept {
        Kept {
            held: Mutex::new(None),
        }
    }

    /// As [`call`], on the kept connection when there is a usable one (else a new
    /// one, kept afterwards). A kept connection the daemon closed meanwhile costs
    /// one retry on a new connection (every request that uses this is a lookup,
    /// safe to ask twice).
    pub fn call(
        &self,
        path: &[u8],
        request: &Request,
        timeout: Duration,
    ) -> Result<Response, ClientError> {
        let mut guard = match self.held.try_lock() {
            Ok(guard) => guard,
            Err(TryLockError::Poisoned(p)) => p.into_inner(),
            Err(TryLockError::WouldBlock) => return call(path, request, timeout),
        };
        // A socket deadline in real time, as in `call`.
        #[allow(clippy::disallowed_methods)]
        let deadline = Instant::now() + timeout;
        let reused = match guard.take() {
            Some(kept) if kept.usable() => Some(kept),
            Some(kept) => {
                forget(kept);
                None
            }
            None => None,
        };
        let (kept, answer) = match reused {
            Some(kept) => match exchange(&kept.fd, request, deadline) {
                Err(ClientError::Closed | ClientError::Io(libc::EPIPE | libc::ECONNRESET)) => {
                    drop(kept);
                    Self::fresh(path, request, deadline)?
                }
                answer => (kept, answer),
            },
            None => Self::fresh(path, request, deadline)?,
        };
        // Only a connection that carried a whole exchange is in step for the next.
        if answer.is_ok() {
            *guard = Some(kept);
        }
        answer
    }

    fn fresh(
        path: &[u8],
        request: &Request,
        deadline: Instant,
    ) -> Result<(KeptFd, Result<Response, ClientError>), ClientError> {
        let fd = connect(path, deadline)?;
        let id = socket_id(&fd).ok_or(ClientError::Io(libc::EBADF))?;
        let answer = exchange(&fd, request, deadline);
        // SAFETY: getpid has no preconditions.
        let pid = unsafe { libc::getpid() };
        Ok((KeptFd { fd, pid, id }, answer))
    }
}

/// Lets go of a kept connection that is not usable: closed when this process made
/// it and the descriptor is still that socket; left alone otherwise (the parent's
/// copy in a forked child is closed; a number the program reused is not ours).
fn forget(kept: KeptFd) {
    if socket_id(&kept.fd) == Some(kept.id) {
        drop(kept);
    } else {
        std::mem::forget(kept.fd);
    }
}

/// The device and inode of the socket `fd` refers to; `None` when it is not a socket.
fn socket_id(fd: &Fd) -> Option<(u64, u64)> {
    // SAFETY: an all-zero stat is a valid value to be overwritten.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: fstat into a valid stat; the result is checked.
    let rc = unsafe { libc::fstat(fd.0, &mut st) };
    (rc == 0 && st.st_mode & libc::S_IFMT == libc::S_IFSOCK).then_some((st.st_dev, st.st_ino))
}

fn exchange(fd: &Fd, request: &Request, deadline: Instant) -> Result<Response, ClientError> {
    let mut frame = request.encode();
    let sent = send_all(fd, &frame, deadline);
    // A PAM request carries a password: overwrite the frame before it is freed.
    for b in frame.iter_mut() {
        // SAFETY: a valid, aligned pointer into the frame.
        unsafe { std::ptr::write_volatile(b, 0) };
    }
    sent?;
    let payload = receive(fd, deadline)?;
    Response::decode_payload(&payload).map_err(ClientError::Protocol)
}

/// Closes the socket however the call ends.
struct Fd(libc::c_int);

impl Drop for Fd {
    fn drop(&mut self) {
        // SAFETY: we own this descriptor and close it once.
        unsafe { libc::close(self.0) };
    }
}

fn errno() -> i32 {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

fn remaining(deadline: Instant) -> Result<libc::c_int, ClientError> {
    // Real time left before the socket deadline set in `call`.
    #[allow(clippy::disallowed_methods)]
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(ClientError::Timeout);
    }
    // Round up so a sub-millisecond rest still waits.
    Ok(libc::c_int::try_from(left.as_millis() + 1).unwrap_or(libc::c_int::MAX))
}

/// Waits until `fd` is ready for `events`, or the deadline.
fn wait(fd: &Fd, events: libc::c_short, deadline: Instant) -> Result<(), ClientError> {
    loop {
        let mut pfd = libc::pollfd {
            fd: fd.0,
            events,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let n = unsafe { libc::poll(&mut pfd, 1, remaining(deadline)?) };
        match n {
            1.. => return Ok(()),
            0 => return Err(ClientError::Timeout),
            _ if errno() == libc::EINTR => continue,
            _ => return Err(ClientError::Io(errno())),
        }
    }
}

fn connect(path: &[u8], deadline: Instant) -> Result<Fd, ClientError> {
    // SAFETY: sockaddr_un is plain data; zeroed is a valid value.
    let mut addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    if path.is_empty() || path.len() >= addr.sun_path.len() || path.contains(&0) {
        return Err(ClientError::BadPath);
    }
    addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
    for (dst, src) in addr.sun_path.iter_mut().zip(path) {
        *dst = *src as libc::c_char;
    }
    // SAFETY: plain socket creation; the result is checked.
    let raw = unsafe {
        libc::socket(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
            0,
        )
    };
    if raw < 0 {
        return Err(ClientError::Io(errno()));
    }
    let mut fd = Fd(raw);
    if fd.0 < 3 {
        // A process that closed stdin/stdout/stderr must not get our socket there,
        // where its next printf would write into the protocol.
        // SAFETY: duplicating a descriptor we own; checked below.
        let high = unsafe { libc::fcntl(fd.0, libc::F_DUPFD_CLOEXEC, 3) };
        if high < 0 {
            return Err(ClientError::Io(errno()));
        }
        fd = Fd(high);
    }
    let len = std::mem::size_of::<libc::sa_family_t>() + path.len() + 1;
    loop {
        // SAFETY: addr is a valid sockaddr_un of at least `len` bytes.
        let rc = unsafe {
            libc::connect(
                fd.0,
                (&addr as *const libc::sockaddr_un).cast(),
                len as libc::socklen_t,
            )
        };
        if rc == 0 {
            return Ok(fd);
        }
        match errno() {
            libc::EINTR => continue,
            // A full backlog: the daemon is there but busy; retry until the deadline.
            libc::EAGAIN => {
                remaining(deadline)?;
                std::thread::sleep(Duration::from_millis(5));
            }
            libc::EINPROGRESS => {
                wait(&fd, libc::POLLOUT, deadline)?;
                let mut err: libc::c_int = 0;
                let mut size = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
                // SAFETY: reading an int option into an int.
                let rc = unsafe {
                    libc::getsockopt(
                        fd.0,
                        libc::SOL_SOCKET,
                        libc::SO_ERROR,
                        (&mut err as *mut libc::c_int).cast(),
                        &mut size,
                    )
                };
                return match (rc, err) {
                    (0, 0) => Ok(fd),
                    (0, e) => Err(not_running_or_io(e)),
                    _ => Err(ClientError::Io(errno())),
                };
            }
            e => return Err(not_running_or_io(e)),
        }
    }
}

fn not_running_or_io(e: i32) -> ClientError {
    match e {
        libc::ENOENT | libc::ECONNREFUSED | libc::ENOTDIR | libc::ENOTSOCK => {
            ClientError::NotRunning(e)
        }
        e => ClientError::Io(e),
    }
}

fn send_all(fd: &Fd, mut bytes: &[u8], deadline: Instant) -> Result<(), ClientError> {
    while !bytes.is_empty() {
        // SAFETY: sending from a live slice.
        let n = unsafe { libc::send(fd.0, bytes.as_ptr().cast(), bytes.len(), libc::MSG_NOSIGNAL) };
        if n >= 0 {
            // send never reports more than it was given; if it did, stop with an error.
            bytes = bytes.get(n as usize..).ok_or(ClientError::Io(libc::EIO))?;
            continue;
        }
        match errno() {
            libc::EINTR => {}
            libc::EAGAIN => wait(fd, libc::POLLOUT, deadline)?,
            e => return Err(ClientError::Io(e)),
        }
    }
    Ok(())
}

fn receive(fd: &Fd, deadline: Instant) -> Result<Vec<u8>, ClientError> {
    let mut buf: Vec<u8> = Vec::with_capacity(512);
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if let Some((payload, _)) = split_frame(&buf, MAX_FRAME).map_err(ClientError::Protocol)? {
            return Ok(payload.to_vec());
        }
        // SAFETY: receiving into a live buffer of the given size.
        let n = unsafe { libc::recv(fd.0, chunk.as_mut_ptr().cast(), chunk.len(), 0) };
        match n {
            // recv never reports more than the buffer holds; if it did, stop with an error.
            1.. => {
                buf.extend_from_slice(chunk.get(..n as usize).ok_or(ClientError::Io(libc::EIO))?)
            }
            0 => return Err(ClientError::Closed),
            _ => match errno() {
                libc::EINTR => {}
                libc::EAGAIN => wait(fd, libc::POLLIN, deadline)?,
                e => return Err(ClientError::Io(e)),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::os::unix::io::AsRawFd;
    use std::os::unix::net::UnixListener;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::*;
    use crate::{decode_header, HEADER_LEN, MAX_REQUEST};

    /// A server answering `NotFound` to `per_connection` requests on each connection it
    /// accepts, then hanging up; counts the connections.
    fn server(name: &str, per_connection: usize) -> (Vec<u8>, Arc<AtomicUsize>) {
        let dir = std::env::temp_dir().join(format!("proxid-kept-{name}-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("s.sock");
        let _ = std::fs::remove_file(&path);
        let listener = UnixListener::bind(&path).unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let mut s = stream.unwrap();
                counter.fetch_add(1, Ordering::SeqCst);
                std::thread::spawn(move || {
                    for _ in 0..per_connection {
                        let mut header = [0u8; HEADER_LEN];
                        if s.read_exact(&mut header).is_err() {
                            break;
                        }
                        let len = decode_header(&header, MAX_REQUEST).unwrap();
                        let mut payload = vec![0u8; len];
                        s.read_exact(&mut payload).unwrap();
                        s.write_all(&Response::NotFound.encode()).unwrap();
                    }
                });
            }
        });
        (path.as_os_str().as_encoded_bytes().to_vec(), accepted)
    }

    fn ask(kept: &Kept, path: &[u8]) -> Result<Response, ClientError> {
        kept.call(path, &Request::GetPwNam(b"alice".to_vec()), NSS_TIMEOUT)
    }

    #[test]
    fn calls_share_one_connection_and_a_closed_one_is_replaced() {
        let (path, accepted) = server("share", 3);
        let kept = Kept::new();
        for _ in 0..3 {
            assert_eq!(ask(&kept, &path), Ok(Response::NotFound));
        }
        assert_eq!(
            accepted.load(Ordering::SeqCst),
            1,
            "three calls, one connection"
        );
        // The server hung up after its third answer (as proxidd does with an idle
        // client): the next call connects again, and nobody sees an error.
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(ask(&kept, &path), Ok(Response::NotFound));
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_descriptor_the_program_reused_is_neither_used_nor_closed() {
        let (path, accepted) = server("reuse", 100);
        let kept = Kept::new();
        assert_eq!(ask(&kept, &path), Ok(Response::NotFound));
        let fd = kept.held.lock().unwrap().as_ref().unwrap().fd.0;
        // The program closes "its" descriptors and opens a file that gets that number.
        let file = std::fs::File::open("/dev/null").unwrap();
        // SAFETY: replacing descriptor `fd` with a copy of the file's.
        assert_eq!(unsafe { libc::dup2(file.as_raw_fd(), fd) }, fd);
        assert_eq!(ask(&kept, &path), Ok(Response::NotFound));
        assert_eq!(accepted.load(Ordering::SeqCst), 2, "a new connection");
        // SAFETY: fcntl on a descriptor number; only its validity is read.
        let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
        assert!(flags >= 0, "fd {fd} left open");
        let now = kept.held.lock().unwrap().as_ref().unwrap().fd.0;
        assert_ne!(now, fd);
    }

    #[test]
    fn a_call_finding_the_connection_busy_opens_its_own() {
        let (path, accepted) = server("busy", 100);
        let kept = Kept::new();
        assert_eq!(ask(&kept, &path), Ok(Response::NotFound));
        // Held as by another thread mid-call (or by a thread of the parent at fork).
        let busy = kept.held.lock().unwrap();
        assert_eq!(ask(&kept, &path), Ok(Response::NotFound));
        drop(busy);
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
        assert_eq!(ask(&kept, &path), Ok(Response::NotFound));
        assert_eq!(accepted.load(Ordering::SeqCst), 2, "the kept one again");
    }
}
