//! `libnss_proxid.so.2`: glibc's NSS service `proxid`, a thin client of `proxidd`.
//!
//! glibc loads this into every process that asks NSS (`ls`, `id`, sshd, JVMs), so it
//! holds nothing of the core: no Tokio, no TLS, no LDAP, no threads, no thread-locals,
//! no signal handlers. Each call opens one connection to the daemon, sends one request,
//! reads one answer and closes (`proxid_proto::client`): no connection survives a
//! `fork`, and the only global state is the enumeration index (a plain integer a
//! forked child may keep, as it keeps a `FILE*` of the files backend).
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
use std::sync::atomic::{AtomicPtr, AtomicU32, AtomicUsize, Ordering};

use libc::{c_char, c_int, c_long, gid_t, group, passwd, size_t, uid_t};
use proxid_proto::client::{self, ClientError, NSS_TIMEOUT};
use proxid_proto::table::{self, Found, Kind, Mapped};
use proxid_proto::{GroupEntry, GroupRef, Passwd, Request, Response};

/// glibc's `enum nss_status`.
type NssStatus = c_int;
const TRYAGAIN: NssStatus = -2;
const UNAVAIL: NssStatus = -1;
const NOTFOUND: NssStatus = 0;
const SUCCESS: NssStatus = 1;

/// Set in proxidd's own environment: its NSS calls must never reach itself.
const LOOP_GUARD_ENV: &CStr = c"PROXIDD_NO_NSS";
/// Longest name sent to the daemon (it refuses longer ones anyway).
const MAX_NAME: usize = 256;

extern "C" {
    fn secure_getenv(name: *const c_char) -> *mut c_char;
}

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

fn guarded() -> bool {
    // SAFETY: NUL-terminated literal; only the NULL-ness of the result is used.
    unsafe { !secure_getenv(LOOP_GUARD_ENV.as_ptr()).is_null() }
}

/// Asks the daemon; maps "no answer" to its status.
fn ask(request: &Request) -> Result<Response, Outcome> {
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
    match client::call(socket, request, NSS_TIMEOUT) {
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

/// The mapped table, or NULL. The `Mapped` lives in an anonymous mapping of its own
/// rather than on the heap: glibc unloads NSS modules at exit under valgrind
/// (`__libc_freeres`), and a heap block only this module's statics pointed at would
/// then be reported as lost.
static TABLE: AtomicPtr<Mapped> = AtomicPtr::new(std::ptr::null_mut());
/// Lookups reading the table right now: a replaced mapping is unmapped only when
/// the thread replacing it is the only one, else left mapped (a rare, bounded leak:
/// one mapping per daemon restart met while another thread was reading).
static READERS: AtomicUsize = AtomicUsize::new(0);

struct Reading;

impl Reading {
    fn start() -> Reading {
        READERS.fetch_add(1, Ordering::SeqCst);
        Reading
    }
}

impl Drop for Reading {
    fn drop(&mut self) {
        READERS.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Moves `m` into an anonymous mapping; NULL (and `m` dropped) if that fails.
fn hold(m: Mapped) -> *mut Mapped {
    let size = std::mem::size_of::<Mapped>();
    // SAFETY: an anonymous private mapping; checked below.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            size,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return std::ptr::null_mut();
    }
    let p = p.cast::<Mapped>();
    // SAFETY: page-aligned, `size` bytes, writable.
    unsafe { p.write(m) };
    p
}

/// Drops and unmaps what [`hold`] made.
///
/// # Safety
/// `p` came from `hold` and nobody uses it any more.
unsafe fn release(p: *mut Mapped) {
    // SAFETY: `p` holds the Mapped `hold` wrote, and nobody uses it any more.
    unsafe { std::ptr::drop_in_place(p) };
    // SAFETY: `p` is the start of the mapping of that size `hold` made; its value is dropped.
    unsafe { libc::munmap(p.cast(), std::mem::size_of::<Mapped>()) };
}

/// The answer from the shared table, as the record copied into `record` and the
/// range of its payload; `None`: ask the socket.
fn from_table(
    socket: &[u8],
    request: &Request,
    record: &mut Vec<u8>,
) -> Option<std::ops::Range<usize>> {
    let id;
    let (kind, key): (Kind, &[u8]) = match request {
        Request::GetPwNam(name) => (Kind::PwName, name),
        Request::GetPwUid(uid) => {
            id = uid.to_ne_bytes();
            (Kind::PwUid, &id)
        }
        Request::GetGrNam(name) => (Kind::GrName, name),
        Request::GetGrGid(gid) => {
            id = gid.to_ne_bytes();
            (Kind::GrGid, &id)
        }
        Request::InitGroups(name) => (Kind::InitGroups, name),
        _ => return None,
    };
    let _reading = Reading::start();
    let mut current = TABLE.load(Ordering::SeqCst);
    // SAFETY: a non-NULL TABLE is a live Box<Mapped>; it is freed only by a thread
    // that swapped it out while no other reader was counted (see READERS).
    if current.is_null() || !unsafe { &*current }.view().valid() {
        let fresh =
            Mapped::open(&table::path_for_socket(socket)).map_or(std::ptr::null_mut(), hold);
        let old = TABLE.swap(fresh, Ordering::SeqCst);
        if !old.is_null() && READERS.load(Ordering::SeqCst) == 1 {
            // SAFETY: swapped out, and no other thread is reading: ours to free.
            unsafe { release(old) };
        }
        current = fresh;
    }
    if current.is_null() {
        return None;
    }
    // SAFETY: as above; our Reading keeps it alive.
    unsafe { &*current }
        .view()
        .lookup_payload(kind, key, table::now_ms(), record)
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

/// Carves strings and pointer arrays out of the caller's buffer.
struct Arena {
    ptr: *mut c_char,
    len: usize,
    used: usize,
}

impl Arena {
    fn new(ptr: *mut c_char, len: size_t) -> Arena {
        Arena {
            ptr,
            len: if ptr.is_null() { 0 } else { len },
            used: 0,
        }
    }

    /// A NUL-terminated copy of `s`; `None` when it does not fit.
    fn string(&mut self, s: &str) -> Option<*mut c_char> {
        let need = s.len() + 1;
        if self.len - self.used < need {
            return None;
        }
        // SAFETY: `used + need <= len`, inside the caller's buffer.
        unsafe {
            let dst = self.ptr.add(self.used);
            std::ptr::copy_nonoverlapping(s.as_ptr().cast::<c_char>(), dst, s.len());
            *dst.add(s.len()) = 0;
            self.used += need;
            Some(dst)
        }
    }

    /// Room for `n` pointers, aligned; `None` when it does not fit.
    fn pointers(&mut self, n: usize) -> Option<*mut *mut c_char> {
        let align = std::mem::align_of::<*mut c_char>();
        let start = (self.ptr as usize).checked_add(self.used)?;
        let pad = (align - start % align) % align;
        let bytes = n.checked_mul(std::mem::size_of::<*mut c_char>())?;
        let need = pad.checked_add(bytes)?;
        if self.len - self.used < need {
            return None;
        }
        // SAFETY: in bounds and aligned, as computed above.
        let p = unsafe { self.ptr.add(self.used + pad) }.cast::<*mut c_char>();
        self.used += need;
        Some(p)
    }
}

/// A field with a NUL would be cut short in C: such an entry is not served.
fn clean(fields: &[&str]) -> bool {
    fields.iter().all(|f| !f.contains('\0'))
}

/// # Safety
/// `out` points at a `struct passwd`, `buf` at `buflen` bytes.
unsafe fn fill_passwd(p: &Passwd, out: *mut passwd, buf: *mut c_char, buflen: size_t) -> Outcome {
    if out.is_null() {
        return Outcome(UNAVAIL, libc::EINVAL);
    }
    if !clean(&[&p.name, &p.passwd, &p.gecos, &p.dir, &p.shell]) {
        return NOT_FOUND;
    }
    let mut arena = Arena::new(buf, buflen);
    let (Some(name), Some(pw), Some(gecos), Some(dir), Some(shell)) = (
        arena.string(&p.name),
        arena.string(&p.passwd),
        arena.string(&p.gecos),
        arena.string(&p.dir),
        arena.string(&p.shell),
    ) else {
        return TOO_SMALL;
    };
    // SAFETY: not NULL (checked); the caller's struct, ours to fill for this call.
    let out = unsafe { &mut *out };
    out.pw_name = name;
    out.pw_passwd = pw;
    out.pw_uid = p.uid as uid_t;
    out.pw_gid = p.gid as gid_t;
    out.pw_gecos = gecos;
    out.pw_dir = dir;
    out.pw_shell = shell;
    FOUND
}

/// # Safety
/// `out` points at a `struct group`, `buf` at `buflen` bytes.
unsafe fn fill_group(g: &GroupEntry, out: *mut group, buf: *mut c_char, buflen: size_t) -> Outcome {
    // SAFETY: our caller's promise about `out`, `buf` and `buflen` is the one it needs.
    unsafe { fill_group_parts(&g.name, &g.passwd, g.gid, &g.members, out, buf, buflen) }
}

/// # Safety
/// As [`fill_group`].
unsafe fn fill_group_parts<M: AsRef<str>>(
    name: &str,
    passwd: &str,
    gid: u32,
    members: &[M],
    out: *mut group,
    buf: *mut c_char,
    buflen: size_t,
) -> Outcome {
    if out.is_null() {
        return Outcome(UNAVAIL, libc::EINVAL);
    }
    if !clean(&[name, passwd]) || members.iter().any(|m| m.as_ref().contains('\0')) {
        return NOT_FOUND;
    }
    let mut arena = Arena::new(buf, buflen);
    let Some(array) = arena.pointers(members.len() + 1) else {
        return TOO_SMALL;
    };
    let (Some(name), Some(pw)) = (arena.string(name), arena.string(passwd)) else {
        return TOO_SMALL;
    };
    for (i, member) in members.iter().enumerate() {
        let Some(m) = arena.string(member.as_ref()) else {
            return TOO_SMALL;
        };
        // SAFETY: `array` has room for members.len() + 1 aligned pointers; i < members.len().
        unsafe { array.add(i).write(m) };
    }
    // SAFETY: the last of the members.len() + 1 slots of `array`.
    unsafe { array.add(members.len()).write(std::ptr::null_mut()) };
    // SAFETY: not NULL (checked); the caller's struct, ours to fill for this call.
    let out = unsafe { &mut *out };
    out.gr_name = name;
    out.gr_passwd = pw;
    out.gr_gid = gid as gid_t;
    out.gr_mem = array;
    FOUND
}

fn passwd_request(request: Request, out: *mut passwd, buf: *mut c_char, buflen: size_t) -> Outcome {
    match ask(&request) {
        // SAFETY: glibc's pointers, passed through.
        Ok(Response::Passwd(p)) => unsafe { fill_passwd(&p, out, buf, buflen) },
        Ok(_) => Outcome(UNAVAIL, libc::EIO),
        Err(outcome) => outcome,
    }
}

fn group_request(request: Request, out: *mut group, buf: *mut c_char, buflen: size_t) -> Outcome {
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
