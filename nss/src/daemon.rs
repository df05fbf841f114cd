//! Asking proxidd: the shared table first, else its socket; never from inside proxidd.

use std::ffi::CStr;

use libc::{c_char, group, passwd, size_t};
use proxid_proto::client::{self, ClientError, NSS_TIMEOUT};
use proxid_proto::table::{self, Found};
use proxid_proto::{GroupRef, Request, Response};

use crate::buffer::{fill_group, fill_group_parts, fill_passwd};
use crate::table::from_table;
use crate::{Outcome, NOT_FOUND, UNAVAIL};

/// The connection to the daemon, kept between calls (see the crate docs).
static CONNECTION: client::Kept = client::Kept::new();

/// Set in proxidd's own environment: its NSS calls must never reach itself.
const LOOP_GUARD_ENV: &CStr = c"PROXIDD_NO_NSS";

extern "C" {
    fn secure_getenv(name: *const c_char) -> *mut c_char;
}

fn guarded() -> bool {
    // SAFETY: NUL-terminated literal; only the NULL-ness of the result is used.
    unsafe { !secure_getenv(LOOP_GUARD_ENV.as_ptr()).is_null() }
}

/// Asks the daemon; maps "no answer" to its status.
pub(crate) fn ask(request: &Request) -> Result<Response, Outcome> {
    if guarded() {
        // The daemon asks the directory itself; to its own view of the local
        // registry this module knows nobody. NOTFOUND (not UNAVAIL, which glibc
        // reports as an error number) so the daemon can tell "no local account" from
        // a broken NSS source.
        return Err(NOT_FOUND);
    }
    let socket = client::socket_path();
    let mut record = Vec::new();
    if let Some(payload) = from_table(&socket, request, &mut record).and_then(|r| record.get(r)) {
        if let Found::Hit(answer) = table::decode(payload) {
            return Ok(answer);
        }
    }
    ask_socket(&socket, request)
}

/// Asks the daemon over its socket.
fn ask_socket(socket: &[u8], request: &Request) -> Result<Response, Outcome> {
    match CONNECTION.call(socket, request, NSS_TIMEOUT) {
        Ok(Response::NotFound) | Ok(Response::Denied(_)) => Err(NOT_FOUND),
        Ok(Response::Unavailable(_)) => Err(Outcome(UNAVAIL, libc::EAGAIN)),
        Ok(Response::Error(_)) => Err(Outcome(UNAVAIL, libc::EIO)),
        Ok(response) => Ok(response),
        Err(ClientError::NotRunning(_)) | Err(ClientError::BadPath) => {
            Err(Outcome(UNAVAIL, libc::ENOENT))
        }
        Err(ClientError::Timeout) => Err(Outcome(UNAVAIL, libc::ETIMEDOUT)),
        Err(_) => Err(Outcome(UNAVAIL, libc::EIO)),
    }
}

pub(crate) fn passwd_request(
    request: Request,
    out: *mut passwd,
    buf: *mut c_char,
    buflen: size_t,
) -> Outcome {
    match ask(&request) {
        // SAFETY: glibc's pointers, passed through.
        Ok(Response::Passwd(p)) => unsafe { fill_passwd(&p, out, buf, buflen) },
        Ok(_) => Outcome(UNAVAIL, libc::EIO),
        Err(outcome) => outcome,
    }
}

pub(crate) fn group_request(
    request: Request,
    out: *mut group,
    buf: *mut c_char,
    buflen: size_t,
) -> Outcome {
    if !guarded() {
        // A table hit is read in place: no allocation per member.
        let socket = client::socket_path();
        let mut record = Vec::new();
        if let Some(payload) =
            from_table(&socket, &request, &mut record).and_then(|r| record.get(r))
        {
            if let Some(g) = GroupRef::decode(payload) {
                // SAFETY: glibc's pointers, passed through.
                return unsafe {
                    fill_group_parts(g.name, g.passwd, g.gid, &g.members, out, buf, buflen)
                };
            }
        }
        return match ask_socket(&socket, &request) {
            // SAFETY: glibc's pointers, passed through.
            Ok(Response::Group(g)) => unsafe { fill_group(&g, out, buf, buflen) },
            Ok(_) => Outcome(UNAVAIL, libc::EIO),
            Err(outcome) => outcome,
        };
    }
    match ask(&request) {
        // SAFETY: glibc's pointers, passed through.
        Ok(Response::Group(g)) => unsafe { fill_group(&g, out, buf, buflen) },
        Ok(_) => Outcome(UNAVAIL, libc::EIO),
        Err(outcome) => outcome,
    }
}
