//! Running as a service: signals, detaching from the terminal, systemd's notify
//! socket, and the start-up check that our own NSS lookups never reach us.

use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::{log, WARNING};

/// `sd_notify` without libsystemd: one datagram to `$NOTIFY_SOCKET`.
pub(crate) fn sd_notify(message: &str) {
    let Some(target) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let Ok(socket) = std::os::unix::net::UnixDatagram::unbound() else {
        return;
    };
    let bytes = target.as_encoded_bytes();
    let sent = if let Some(name) = bytes.strip_prefix(b"@") {
        use std::os::linux::net::SocketAddrExt;
        std::os::unix::net::SocketAddr::from_abstract_name(name)
            .and_then(|addr| socket.send_to_addr(message.as_bytes(), &addr))
    } else {
        socket.send_to(message.as_bytes(), Path::new(&target))
    };
    if let Err(e) = sent {
        log(WARNING, format_args!("sd_notify {message:?}: {e}"));
    }
}

/// Blocks the signals we handle in this thread and every thread started after.
pub(crate) fn block_signals() -> libc::sigset_t {
    // SAFETY: building and installing a signal mask.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for s in [libc::SIGHUP, libc::SIGTERM, libc::SIGINT] {
            libc::sigaddset(&mut set, s);
        }
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        set
    }
}

/// Without `--foreground` (and outside systemd), detach: the parent waits until the
/// child is ready (exit 0) or has failed (exit 1). Returns the child's end of the pipe.
pub(crate) fn detach() -> Option<std::fs::File> {
    use std::os::fd::FromRawFd;
    let mut fds = [0; 2];
    // SAFETY: pipe and fork before any thread exists.
    unsafe {
        if libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) != 0 {
            return None;
        }
        match libc::fork() {
            -1 => None,
            0 => {
                libc::close(fds[0]);
                libc::setsid();
                Some(std::fs::File::from_raw_fd(fds[1]))
            }
            _ => {
                libc::close(fds[1]);
                let mut ready = std::fs::File::from_raw_fd(fds[0]);
                let mut byte = [0u8; 1];
                let ok = matches!(ready.read(&mut byte), Ok(1));
                std::process::exit(if ok { 0 } else { 1 });
            }
        }
    }
}

/// Proves the loop guard at start: an NSS lookup from this process must not reach
/// us (it would wait for the timeout, or be refused by the peer check and logged).
pub(crate) fn check_loop_guard() {
    #[allow(clippy::disallowed_methods)] // measures how long the work really took
    let started = Instant::now();
    let mut buf = vec![0 as libc::c_char; 1024];
    // SAFETY: a zeroed passwd is plain data; getpwnam_r writes into our buffers.
    unsafe {
        let mut pw: libc::passwd = std::mem::zeroed();
        let mut result = std::ptr::null_mut();
        libc::getpwnam_r(
            c"proxidd-loop-check".as_ptr(),
            &mut pw,
            buf.as_mut_ptr(),
            buf.len(),
            &mut result,
        );
    }
    let took = started.elapsed();
    if took > Duration::from_millis(500) {
        log(
            WARNING,
            format_args!("an NSS lookup from proxidd took {took:?}: check PROXIDD_NO_NSS"),
        );
    }
}
