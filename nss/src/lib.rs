//! `libnss_proxid.so.2`: glibc's NSS service `proxid`, a thin client of `proxidd`.
//!
//! glibc loads this into every process that asks NSS (`ls`, `id`, sshd, JVMs), so it
//! holds nothing of the core: no Tokio, no TLS, no LDAP, no threads, no thread-locals,
//! no signal handlers. A call reads the daemon's shared table, else asks over one
//! connection kept open between calls (`proxid_proto::client::Kept`, as SSSD's
//! client): it is used only by the process that opened it (a forked child, seeing
//! another PID, opens its own) and only while its descriptor is still that socket; a
//! thread finding it busy opens a connection of its own instead of waiting. The
//! other global state is the enumeration index (a plain integer a forked child may
//! keep, as it keeps a `FILE*` of the files backend).
//!
//! Statuses (glibc aborts on any other value):
//! - found: `SUCCESS`;
//! - no such entry (or one the daemon refuses to serve): `NOTFOUND`, errno `ENOENT`;
//! - the caller's buffer is too small: `TRYAGAIN`, errno `ERANGE` — nothing else
//!   returns `TRYAGAIN`, and enumeration does not advance then;
//! - daemon not running (socket absent, connection refused): `UNAVAIL`, errno `ENOENT`,
//!   at once; daemon hung: `UNAVAIL`, errno `ETIMEDOUT`, after at most 2 s; daemon up
//!   but the directory down: `UNAVAIL`, errno `EAGAIN`; anything else (bad answer, a
//!   bug caught at the boundary): `UNAVAIL`, errno `EIO`.
//! - inside proxidd itself (`PROXIDD_NO_NSS` set): `NOTFOUND`, errno `ENOENT`, without
//!   connecting — the daemon never asks itself, and its own local lookups (protected
//!   accounts, PAM proxies) see "no such local account", not an outage.

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

use std::ffi::CStr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU32, Ordering};

use libc::{c_char, c_int, c_long, gid_t, group, passwd, size_t, uid_t};
use proxid_proto::{Request, Response};

mod buffer;
mod daemon;
mod table;

use buffer::{fill_group, fill_passwd};
use daemon::{ask, group_request, passwd_request};

/// glibc's `enum nss_status`.
type NssStatus = c_int;
const TRYAGAIN: NssStatus = -2;
const UNAVAIL: NssStatus = -1;
const NOTFOUND: NssStatus = 0;
const SUCCESS: NssStatus = 1;

/// Longest name sent to the daemon (it refuses longer ones anyway).
const MAX_NAME: usize = 256;

/// A status and the errno that goes with it.
struct Outcome(NssStatus, c_int);

const FOUND: Outcome = Outcome(SUCCESS, 0);
const NOT_FOUND: Outcome = Outcome(NOTFOUND, libc::ENOENT);
const TOO_SMALL: Outcome = Outcome(TRYAGAIN, libc::ERANGE);

/// The one panic boundary: every entry point runs its body through this. A panic (a
/// bug) becomes `UNAVAIL`/`EIO`; it never unwinds into glibc's caller.
fn boundary(errnop: *mut c_int, body: impl FnOnce() -> Outcome) -> NssStatus {
    let Outcome(status, errno) =
        catch_unwind(AssertUnwindSafe(body)).unwrap_or(Outcome(UNAVAIL, libc::EIO));
    if status != SUCCESS && !errnop.is_null() {
        // SAFETY: glibc passes a valid errno pointer; checked for NULL anyway.
        unsafe { *errnop = errno };
    }
    status
}

/// The name glibc passes, or `None` for NULL, empty or overlong (not found without
/// asking anyone).
///
/// # Safety
/// `name` is NULL or a NUL-terminated string.
unsafe fn name_arg(name: *const c_char) -> Option<Vec<u8>> {
    if name.is_null() {
        return None;
    }
    // SAFETY: not NULL (checked), so NUL-terminated (the caller's contract).
    let bytes = unsafe { CStr::from_ptr(name) }.to_bytes();
    (!bytes.is_empty() && bytes.len() <= MAX_NAME).then(|| bytes.to_vec())
}

/// # Safety
/// Called by glibc with its usual arguments.
#[no_mangle]
pub unsafe extern "C" fn _nss_proxid_getpwnam_r(
    name: *const c_char,
    out: *mut passwd,
    buf: *mut c_char,
    buflen: size_t,
    errnop: *mut c_int,
) -> NssStatus {
    // SAFETY: glibc passes NULL or a NUL-terminated name.
    boundary(errnop, || match unsafe { name_arg(name) } {
        Some(name) => passwd_request(Request::GetPwNam(name), out, buf, buflen),
        None => NOT_FOUND,
    })
}

/// # Safety
/// Called by glibc with its usual arguments.
#[no_mangle]
pub unsafe extern "C" fn _nss_proxid_getpwuid_r(
    uid: uid_t,
    out: *mut passwd,
    buf: *mut c_char,
    buflen: size_t,
    errnop: *mut c_int,
) -> NssStatus {
    boundary(errnop, || {
        passwd_request(Request::GetPwUid(uid), out, buf, buflen)
    })
}

/// # Safety
/// Called by glibc with its usual arguments.
#[no_mangle]
pub unsafe extern "C" fn _nss_proxid_getgrnam_r(
    name: *const c_char,
    out: *mut group,
    buf: *mut c_char,
    buflen: size_t,
    errnop: *mut c_int,
) -> NssStatus {
    // SAFETY: glibc passes NULL or a NUL-terminated name.
    boundary(errnop, || match unsafe { name_arg(name) } {
        Some(name) => group_request(Request::GetGrNam(name), out, buf, buflen),
        None => NOT_FOUND,
    })
}

/// # Safety
/// Called by glibc with its usual arguments.
#[no_mangle]
pub unsafe extern "C" fn _nss_proxid_getgrgid_r(
    gid: gid_t,
    out: *mut group,
    buf: *mut c_char,
    buflen: size_t,
    errnop: *mut c_int,
) -> NssStatus {
    boundary(errnop, || {
        group_request(Request::GetGrGid(gid), out, buf, buflen)
    })
}

/// Appends the user's GIDs after `(*groupsp)[..*start]`: skips `group` (glibc put it
/// first) and any GID already there, grows the array with `realloc` (glibc frees it),
/// stops at `limit` when `limit > 0` (SUCCESS, as glibc's files module).
///
/// # Safety
/// Called by glibc with its usual arguments.
#[no_mangle]
pub unsafe extern "C" fn _nss_proxid_initgroups_dyn(
    user: *const c_char,
    group: gid_t,
    start: *mut c_long,
    size: *mut c_long,
    groupsp: *mut *mut gid_t,
    limit: c_long,
    errnop: *mut c_int,
) -> NssStatus {
    boundary(errnop, || {
        if start.is_null() || size.is_null() || groupsp.is_null() {
            return Outcome(UNAVAIL, libc::EINVAL);
        }
        // SAFETY: glibc passes NULL or a NUL-terminated name.
        let Some(name) = (unsafe { name_arg(user) }) else {
            return NOT_FOUND;
        };
        let gids = match ask(&Request::InitGroups(name)) {
            Ok(Response::Gids(gids)) => gids,
            Ok(_) => return Outcome(UNAVAIL, libc::EIO),
            Err(outcome) => return outcome,
        };
        for gid in gids {
            let gid = gid as gid_t;
            if gid == group {
                continue;
            }
            // SAFETY: `start` is not NULL (checked): glibc's count, live for the call.
            let at = unsafe { *start };
            // SAFETY: `size` is not NULL (checked): glibc's capacity, live for the call.
            let capacity = unsafe { *size };
            let have = at.max(0) as usize;
            // SAFETY: `groupsp` is not NULL (checked): glibc's array pointer.
            let current = unsafe { *groupsp };
            let found = if current.is_null() {
                &[][..]
            } else {
                // SAFETY: not NULL: glibc's array, holding `*start` GIDs (found so far).
                unsafe { std::slice::from_raw_parts(current, have) }
            };
            if found.contains(&gid) {
                continue;
            }
            if limit > 0 && at >= limit {
                break;
            }
            let mut current = current;
            if current.is_null() || at >= capacity {
                let mut grown = capacity.max(1).saturating_mul(2);
                if limit > 0 {
                    grown = grown.min(limit);
                }
                grown = grown.max(at + 1);
                let bytes = (grown as usize).saturating_mul(std::mem::size_of::<gid_t>());
                // SAFETY: NULL or glibc's malloc'd array (glibc frees it); realloc keeps its GIDs.
                let p = unsafe { libc::realloc(current.cast(), bytes) }.cast::<gid_t>();
                if p.is_null() {
                    // TRYAGAIN is kept for "buffer too small"; out of memory is UNAVAIL.
                    return Outcome(UNAVAIL, libc::ENOMEM);
                }
                // SAFETY: `groupsp` is not NULL (checked); glibc reads the new array from it.
                unsafe { *groupsp = p };
                // SAFETY: `size` is not NULL (checked).
                unsafe { *size = grown };
                current = p;
            }
            // SAFETY: the array has room for `capacity` > `at` GIDs, or was just grown past `at`.
            unsafe { current.add(have).write(gid) };
            // SAFETY: `start` is not NULL (checked).
            unsafe { *start = at + 1 };
        }
        FOUND
    })
}

/// Enumeration position: the index of the next entry in the daemon's list. Only an
/// integer, so a forked child simply carries on from the same place.
static PW_NEXT: AtomicU32 = AtomicU32::new(0);
static GR_NEXT: AtomicU32 = AtomicU32::new(0);

#[no_mangle]
pub extern "C" fn _nss_proxid_setpwent(_stayopen: c_int) -> NssStatus {
    PW_NEXT.store(0, Ordering::Relaxed);
    SUCCESS
}

#[no_mangle]
pub extern "C" fn _nss_proxid_endpwent() -> NssStatus {
    PW_NEXT.store(0, Ordering::Relaxed);
    SUCCESS
}

/// # Safety
/// Called by glibc with its usual arguments.
#[no_mangle]
pub unsafe extern "C" fn _nss_proxid_getpwent_r(
    out: *mut passwd,
    buf: *mut c_char,
    buflen: size_t,
    errnop: *mut c_int,
) -> NssStatus {
    boundary(errnop, || {
        let index = PW_NEXT.load(Ordering::Relaxed);
        let entry = match ask(&Request::ListPasswd {
            start: index,
            count: 1,
        }) {
            Ok(Response::PasswdList(list)) => list.into_iter().next(),
            Ok(_) => return Outcome(UNAVAIL, libc::EIO),
            Err(outcome) => return outcome,
        };
        let Some(entry) = entry else {
            return NOT_FOUND;
        };
        // SAFETY: glibc's pointers, passed through.
        let outcome = unsafe { fill_passwd(&entry, out, buf, buflen) };
        // TRYAGAIN (small buffer) must not advance: the caller retries this entry.
        if outcome.0 != TRYAGAIN {
            PW_NEXT.store(index.saturating_add(1), Ordering::Relaxed);
        }
        outcome
    })
}

#[no_mangle]
pub extern "C" fn _nss_proxid_setgrent(_stayopen: c_int) -> NssStatus {
    GR_NEXT.store(0, Ordering::Relaxed);
    SUCCESS
}

#[no_mangle]
pub extern "C" fn _nss_proxid_endgrent() -> NssStatus {
    GR_NEXT.store(0, Ordering::Relaxed);
    SUCCESS
}

/// # Safety
/// Called by glibc with its usual arguments.
#[no_mangle]
pub unsafe extern "C" fn _nss_proxid_getgrent_r(
    out: *mut group,
    buf: *mut c_char,
    buflen: size_t,
    errnop: *mut c_int,
) -> NssStatus {
    boundary(errnop, || {
        let index = GR_NEXT.load(Ordering::Relaxed);
        let entry = match ask(&Request::ListGroup {
            start: index,
            count: 1,
        }) {
            Ok(Response::GroupList(list)) => list.into_iter().next(),
            Ok(_) => return Outcome(UNAVAIL, libc::EIO),
            Err(outcome) => return outcome,
        };
        let Some(entry) = entry else {
            return NOT_FOUND;
        };
        // SAFETY: glibc's pointers, passed through.
        let outcome = unsafe { fill_group(&entry, out, buf, buflen) };
        if outcome.0 != TRYAGAIN {
            GR_NEXT.store(index.saturating_add(1), Ordering::Relaxed);
        }
        outcome
    })
}

#[cfg(test)]
mod tests;
