//! The C ABI. `include/proxid.h` is generated from this file (build.rs runs cbindgen);
//! the conventions every function follows are written once, in the README's "C API"
//! section, and summarised at the top of the header:
//!
//! - `err` may be NULL; on failure a non-NULL `err` receives an error object.
//! - Out-parameters are written only on success (the getpw*_r functions follow glibc).
//! - Borrowed strings live until the object they came from is freed.
//! - Every pointer is checked; `_free(NULL)` is a no-op.
//! - No thread-local state; a resolver may be shared by any number of threads.
//! - A panic never crosses into C: it becomes `PROXID_PANIC`, NULL, or the fallback
//!   documented on the function (see `src/ffi/panic.rs`).
//!
//! This module only converts and forwards to [`Resolver`].

// The C names are the contract (`proxid_status`, `PROXID_OK`), spelled as C spells them.
#![allow(non_camel_case_types)]
// Each function's safety contract is the README's calling convention, written once.
#![allow(clippy::missing_safety_doc)]

use std::ffi::{c_char, c_int, CStr, CString, OsStr};
use std::mem::MaybeUninit;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::ptr::{self, NonNull};

use super::panic::{self, Fallback};
use crate::error::Error;
use crate::identity::Identity;
use crate::mode::Assertion;
use crate::policy::admit::AdmitRequest;
use crate::policy::{Decision, Verdict};
use crate::principal::ProgramPrincipal;
use crate::resolver::Resolver;

/// Version of the C ABI. The shared library's SONAME is `libproxid.so.<this>`; it
/// changes only when an existing function or type changes incompatibly.
pub const PROXID_ABI_VERSION: u32 = 0;

/// The UID or GID returned for "no such ID" (NULL object, index out of range, or an
/// internal error): `(uint32_t)-1`, never 0, which is root.
pub const PROXID_NO_ID: u32 = u32::MAX;

/// What happened. The numbers are fixed and never reused; new statuses get new numbers.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum proxid_status {
    /// Success.
    PROXID_OK = 0,
    /// No such user or group. Refuse the request; do not guess.
    PROXID_NOT_FOUND = 1,
    /// An argument is NULL or unusable (empty, over-long or non-UTF-8 name, bad JSON).
    /// Fix the input; retrying will not help.
    PROXID_INVALID_ARGUMENT = 2,
    /// The caller's buffer is too small; the size needed has been reported.
    PROXID_BUFFER_TOO_SMALL = 3,
    /// The configuration is wrong; the error message names the file.
    PROXID_CONFIG = 4,
    /// The source could not answer (LDAP down, NSS failing). Retry later: the answer is
    /// unknown, which is not "no such user".
    PROXID_UNAVAILABLE = 5,
    /// The source did not answer in time. Like PROXID_UNAVAILABLE.
    PROXID_TIMEOUT = 6,
    /// Client and server disagree on who resolves names; align `[resolution]`.
    PROXID_MODE_MISMATCH = 7,
    /// The client's IDs differ from the server's resolution of the same name.
    PROXID_IDENTITY_MISMATCH = 8,
    /// A bug in proxid: an internal panic was stopped at the C boundary. Please report it.
    PROXID_PANIC = 9,
    /// The directory holds data proxid refuses to interpret (two entries for one name,
    /// a missing or invalid ID). Fix the directory.
    PROXID_DIRECTORY = 10,
    /// An operating-system call failed for a reason other than "not found".
    PROXID_IO = 11,
}

use proxid_status::*;

impl proxid_status {
    const ALL: [proxid_status; 12] = [
        PROXID_OK,
        PROXID_NOT_FOUND,
        PROXID_INVALID_ARGUMENT,
        PROXID_BUFFER_TOO_SMALL,
        PROXID_CONFIG,
        PROXID_UNAVAILABLE,
        PROXID_TIMEOUT,
        PROXID_MODE_MISMATCH,
        PROXID_IDENTITY_MISMATCH,
        PROXID_PANIC,
        PROXID_DIRECTORY,
        PROXID_IO,
    ];

    fn from_raw(raw: u32) -> Option<proxid_status> {
        Self::ALL.into_iter().find(|s| *s as u32 == raw)
    }

    fn name(self) -> &'static CStr {
        match self {
            PROXID_OK => c"PROXID_OK",
            PROXID_NOT_FOUND => c"PROXID_NOT_FOUND",
            PROXID_INVALID_ARGUMENT => c"PROXID_INVALID_ARGUMENT",
            PROXID_BUFFER_TOO_SMALL => c"PROXID_BUFFER_TOO_SMALL",
            PROXID_CONFIG => c"PROXID_CONFIG",
            PROXID_UNAVAILABLE => c"PROXID_UNAVAILABLE",
            PROXID_TIMEOUT => c"PROXID_TIMEOUT",
            PROXID_MODE_MISMATCH => c"PROXID_MODE_MISMATCH",
            PROXID_IDENTITY_MISMATCH => c"PROXID_IDENTITY_MISMATCH",
            PROXID_PANIC => c"PROXID_PANIC",
            PROXID_DIRECTORY => c"PROXID_DIRECTORY",
            PROXID_IO => c"PROXID_IO",
        }
    }
}

impl Fallback for proxid_status {
    fn fallback() -> Self {
        PROXID_PANIC
    }
}

/// The one mapping from the crate's rich error to the flat C status.
pub fn status_of(error: &Error) -> proxid_status {
    match error {
        Error::InvalidName { .. } | Error::InvalidArgument(_) => PROXID_INVALID_ARGUMENT,
        Error::NotFound { .. } => PROXID_NOT_FOUND,
        Error::Unavailable { .. } => PROXID_UNAVAILABLE,
        Error::Timeout { .. } => PROXID_TIMEOUT,
        Error::Directory { .. } => PROXID_DIRECTORY,
        Error::Config { .. } => PROXID_CONFIG,
        Error::ModeMismatch { .. } => PROXID_MODE_MISMATCH,
        Error::IdentityMismatch { .. } => PROXID_IDENTITY_MISMATCH,
        Error::Io { .. } => PROXID_IO,
    }
}

/// An impersonation verdict. 0 is deliberately not a verdict, so zeroed memory never
/// reads as "allowed".
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum proxid_verdict {
    /// Act as the target user.
    PROXID_ALLOWED = 1,
    /// Refuse the request.
    PROXID_DENIED = 2,
    /// Not authorized, but proceed as the proxy itself (`on_unauthorized = "run-as-self"`).
    PROXID_RUN_AS_SELF = 3,
}

/// A panic, like a NULL decision, reads as "denied".
impl Fallback for proxid_verdict {
    fn fallback() -> Self {
        proxid_verdict::PROXID_DENIED
    }
}

impl From<Verdict> for proxid_verdict {
    fn from(verdict: Verdict) -> Self {
        match verdict {
            Verdict::Allowed => proxid_verdict::PROXID_ALLOWED,
            Verdict::Denied => proxid_verdict::PROXID_DENIED,
            Verdict::RunAsSelf => proxid_verdict::PROXID_RUN_AS_SELF,
        }
    }
}

// ---------------------------------------------------------------------------
// Opaque objects. Each owns the C strings its getters lend out.
// ---------------------------------------------------------------------------

/// A resolver built from one configuration. Safe to share across threads.
pub struct proxid_resolver {
    resolver: Resolver,
}

/// A resolved user: name, UID, primary GID, groups (primary first), home, shell.
pub struct proxid_identity {
    identity: Identity,
    name: CString,
    home: CString,
    shell: CString,
    source: CString,
    group_names: Vec<CString>,
}

/// An impersonation decision.
pub struct proxid_decision {
    verdict: proxid_verdict,
    effective_user: CString,
    reason: CString,
    rule: Option<CString>,
    effective: Option<Box<proxid_identity>>,
}

/// Why a call failed: a status and a message for people.
pub struct proxid_error {
    status: proxid_status,
    message: CString,
}

/// The Kerberos principal a program runs as, with its short name and keytab.
pub struct proxid_principal {
    principal: CString,
    short_name: CString,
    keytab: Option<CString>,
}

/// A failed call on its way to a status and an error object.
struct Failure {
    status: proxid_status,
    message: String,
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Failure {
            status: status_of(&error),
            message: error.to_string(),
        }
    }
}

impl Failure {
    fn invalid(message: impl Into<String>) -> Self {
        Failure {
            status: PROXID_INVALID_ARGUMENT,
            message: message.into(),
        }
    }

    fn null(what: &str) -> Self {
        Failure::invalid(format!("{what} is NULL"))
    }
}

/// Text for people: NUL bytes (which C cannot carry) are shown as `\0`.
fn c_text(text: &str) -> CString {
    CString::new(text.replace('\0', "\\0")).unwrap_or_default()
}

/// Data handed to C, which cannot carry a NUL byte: such data is refused, not cut short.
fn c_data(bytes: &[u8], what: &str) -> Result<CString, Failure> {
    CString::new(bytes).map_err(|_| Failure {
        status: PROXID_DIRECTORY,
        message: format!(
            "{what} {:?} contains a NUL byte",
            String::from_utf8_lossy(bytes)
        ),
    })
}

impl proxid_identity {
    fn new(identity: Identity) -> Result<proxid_identity, Failure> {
        Ok(proxid_identity {
            name: c_data(identity.name.as_bytes(), "user name")?,
            home: c_data(identity.home.as_bytes(), "home directory")?,
            shell: c_data(identity.shell.as_bytes(), "shell")?,
            source: c_data(identity.source.as_bytes(), "source")?,
            group_names: identity
                .groups
                .iter()
                .map(|g| c_data(g.name.as_bytes(), "group name"))
                .collect::<Result<_, _>>()?,
            identity,
        })
    }
}

impl proxid_decision {
    fn new(decision: Decision) -> Result<proxid_decision, Failure> {
        Ok(proxid_decision {
            verdict: decision.verdict.into(),
            effective_user: c_data(decision.effective_user.as_bytes(), "effective user")?,
            reason: c_text(&decision.reason),
            rule: decision.rule.as_deref().map(c_text),
            effective: decision
                .effective
                .map(|id| proxid_identity::new(id).map(Box::new))
                .transpose()?,
        })
    }
}

impl proxid_principal {
    fn new(program: ProgramPrincipal) -> Result<proxid_principal, Failure> {
        Ok(proxid_principal {
            principal: c_data(program.principal.as_bytes(), "principal")?,
            short_name: c_data(program.short_name.as_bytes(), "short name")?,
            keytab: program
                .keytab
                .map(|k| c_data(k.as_os_str().as_bytes(), "keytab path"))
                .transpose()?,
        })
    }
}

// ---------------------------------------------------------------------------
// Argument helpers: every pointer goes through one of these before use.
// ---------------------------------------------------------------------------

/// Borrows an object the caller passed in; NULL is an error naming the argument.
///
/// Safety: `ptr` is NULL or a live object of this library (README conventions).
unsafe fn arg<'a, T>(ptr: *const T, what: &str) -> Result<&'a T, Failure> {
    // SAFETY: per this function's contract.
    unsafe { ptr.as_ref() }.ok_or_else(|| Failure::null(what))
}

/// The bytes of a C string argument, without its NUL.
///
/// Safety: `ptr` is NULL or a NUL-terminated string.
unsafe fn bytes_arg<'a>(ptr: *const c_char, what: &str) -> Result<&'a [u8], Failure> {
    if ptr.is_null() {
        return Err(Failure::null(what));
    }
    // SAFETY: non-NULL and NUL-terminated per this function's contract.
    Ok(unsafe { CStr::from_ptr(ptr) }.to_bytes())
}

/// A C string argument that must be UTF-8.
///
/// Safety: as [`bytes_arg`].
unsafe fn str_arg<'a>(ptr: *const c_char, what: &str) -> Result<&'a str, Failure> {
    // SAFETY: forwarded contract.
    let bytes = unsafe { bytes_arg(ptr, what) }?;
    std::str::from_utf8(bytes).map_err(|_| Failure::invalid(format!("{what} is not valid UTF-8")))
}

/// An out-parameter, checked for NULL before any work is done.
fn out_arg<T>(ptr: *mut T, what: &str) -> Result<NonNull<T>, Failure> {
    NonNull::new(ptr).ok_or_else(|| Failure::null(what))
}

/// Hands a new object to the caller through a checked out-parameter.
///
/// Safety: `out` points at writable memory for one pointer.
unsafe fn give<T>(out: NonNull<*mut T>, value: T) {
    // SAFETY: per this function's contract; the caller now owns the box.
    unsafe { out.as_ptr().write(Box::into_raw(Box::new(value))) }
}

/// Frees an object this library handed out; NULL is a no-op.
///
/// Safety: `ptr` is NULL or came from [`give`] as a `T` and was not freed before.
unsafe fn free<T>(ptr: *mut T) {
    if !ptr.is_null() {
        // SAFETY: per this function's contract.
        drop(unsafe { Box::from_raw(ptr) });
    }
}

/// Lends a string owned by an object: NULL when the object is NULL or has none.
fn lend(text: Option<&CString>) -> *const c_char {
    text.map_or(ptr::null(), |t| t.as_ptr())
}

/// Runs a status-returning body behind the panic boundary. Failures (including a
/// panic) become a status and, when `err` is not NULL, an error object in `*err`.
///
/// Safety: `err` is NULL or points at writable memory for one pointer.
unsafe fn call(
    err: *mut *mut proxid_error,
    body: impl FnOnce() -> Result<(), Failure>,
) -> proxid_status {
    let failure = match panic::catch(body) {
        Ok(Ok(())) => return PROXID_OK,
        Ok(Err(failure)) => failure,
        Err(panicked) => Failure {
            status: PROXID_PANIC,
            message: format!("internal error in proxid (please report): {}", panicked.0),
        },
    };
    let status = failure.status;
    if let Some(err) = NonNull::new(err) {
        let error = proxid_error {
            status,
            message: c_text(&failure.message),
        };
        // SAFETY: per this function's contract.
        unsafe { give(err, error) };
    }
    status
}

// ---------------------------------------------------------------------------
// Library facts
// ---------------------------------------------------------------------------

/// The C ABI version this library implements (PROXID_ABI_VERSION of its header).
#[no_mangle]
pub extern "C" fn proxid_abi_version() -> u32 {
    PROXID_ABI_VERSION
}

/// The library's version, e.g. "0.1.0". A static string, never NULL.
#[no_mangle]
pub extern "C" fn proxid_version() -> *const c_char {
    const VERSION: &CStr =
        match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
            Ok(v) => v,
            Err(_) => c"unknown",
        };
    VERSION.as_ptr()
}

/// The name of a status, e.g. "PROXID_NOT_FOUND"; "PROXID_UNKNOWN_STATUS" for a number
/// this version does not know. A static string, never NULL.
#[no_mangle]
pub extern "C" fn proxid_status_name(s: MaybeUninit<proxid_status>) -> *const c_char {
    // C may pass any number; read it as the integer it is before trusting it as a
    // variant (an out-of-range enum value is undefined behaviour in Rust).
    // SAFETY: `proxid_status` is `repr(u32)`, so the argument is exactly a u32.
    let raw = unsafe { s.as_ptr().cast::<u32>().read() };
    panic::catch(|| proxid_status::from_raw(raw).map(proxid_status::name))
        .ok()
        .flatten()
        .unwrap_or(c"PROXID_UNKNOWN_STATUS")
        .as_ptr()
}

// ---------------------------------------------------------------------------
// Resolver
// ---------------------------------------------------------------------------

/// Opens a resolver. `config_path` NULL means: `PROXID_CONF`, then /etc/proxid.conf,
/// then the built-in defaults (client-side resolution). On success `*out` holds a
/// resolver to free with proxid_resolver_free.
#[no_mangle]
pub unsafe extern "C" fn proxid_resolver_open(
    config_path: *const c_char,
    out: *mut *mut proxid_resolver,
    err: *mut *mut proxid_error,
) -> proxid_status {
    // SAFETY: every pointer is checked by the helpers (README conventions).
    unsafe {
        call(err, || {
            let out = out_arg(out, "out")?;
            let path = if config_path.is_null() {
                None
            } else {
                Some(Path::new(OsStr::from_bytes(bytes_arg(
                    config_path,
                    "config_path",
                )?)))
            };
            let resolver = Resolver::open(path)?;
            give(out, proxid_resolver { resolver });
            Ok(())
        })
    }
}

/// Frees a resolver. NULL is a no-op. No other thread may still be using it.
#[no_mangle]
pub unsafe extern "C" fn proxid_resolver_free(r: *mut proxid_resolver) {
    // SAFETY: `r` is NULL or from proxid_resolver_open (README conventions).
    panic::or_fallback(|| unsafe { free(r) })
}

/// Reloads the configuration: `config_path`, or with NULL the file the resolver was
/// opened from (else `PROXID_CONF`, /etc/proxid.conf, the defaults). Calls already
/// running on other threads finish on the old configuration; calls made after this
/// returns PROXID_OK use the new one (with an empty cache). A configuration that does
/// not load or validate is refused with its error and the old one keeps serving.
#[no_mangle]
pub unsafe extern "C" fn proxid_resolver_reload(
    r: *const proxid_resolver,
    config_path: *const c_char,
    err: *mut *mut proxid_error,
) -> proxid_status {
    // SAFETY: every pointer is checked by the helpers (README conventions).
    unsafe {
        call(err, || {
            let r = arg(r, "resolver")?;
            let path = if config_path.is_null() {
                None
            } else {
                Some(Path::new(OsStr::from_bytes(bytes_arg(
                    config_path,
                    "config_path",
                )?)))
            };
            r.resolver.reload(path)?;
            Ok(())
        })
    }
}

/// Forgets cached answers for one user name, or for everyone when `name` is NULL, so
/// the next lookup asks the source.
#[no_mangle]
pub unsafe extern "C" fn proxid_resolver_invalidate(
    r: *const proxid_resolver,
    name: *const c_char,
) -> proxid_status {
    // SAFETY: every pointer is checked by the helpers (README conventions).
    unsafe {
        call(ptr::null_mut(), || {
            let r = arg(r, "resolver")?;
            let name = if name.is_null() {
                None
            } else {
                Some(str_arg(name, "name")?)
            };
            r.resolver.invalidate(name);
            Ok(())
        })
    }
}

/// Resolves a user name. On success `*out` holds an identity to free with
/// proxid_identity_free. Unknown users are PROXID_NOT_FOUND.
#[no_mangle]
pub unsafe extern "C" fn proxid_resolve(
    r: *const proxid_resolver,
    name: *const c_char,
    out: *mut *mut proxid_identity,
    err: *mut *mut proxid_error,
) -> proxid_status {
    // SAFETY: every pointer is checked by the helpers (README conventions).
    unsafe {
        call(err, || {
            let r = arg(r, "resolver")?;
            let name = bytes_arg(name, "name")?;
            let out = out_arg(out, "out")?;
            let identity = proxid_identity::new(r.resolver.resolve_bytes(name)?)?;
            give(out, identity);
            Ok(())
        })
    }
}

/// Resolves a UID. On success `*out` holds an identity to free with proxid_identity_free.
#[no_mangle]
pub unsafe extern "C" fn proxid_resolve_uid(
    r: *const proxid_resolver,
    uid: u32,
    out: *mut *mut proxid_identity,
    err: *mut *mut proxid_error,
) -> proxid_status {
    // SAFETY: every pointer is checked by the helpers (README conventions).
    unsafe {
        call(err, || {
            let r = arg(r, "resolver")?;
            let out = out_arg(out, "out")?;
            let identity = proxid_identity::new(r.resolver.resolve_uid(uid)?)?;
            give(out, identity);
            Ok(())
        })
    }
}

// ---------------------------------------------------------------------------
// Identity getters: strings are borrowed from the identity and live until it is freed.
// ---------------------------------------------------------------------------

/// The user name; NULL for a NULL identity.
#[no_mangle]
pub unsafe extern "C" fn proxid_identity_name(id: *const proxid_identity) -> *const c_char {
    // SAFETY: `id` is NULL or a live identity (README conventions).
    panic::or_fallback(|| lend(unsafe { id.as_ref() }.map(|i| &i.name)))
}

/// The UID; PROXID_NO_ID for a NULL identity.
#[no_mangle]
pub unsafe extern "C" fn proxid_identity_uid(id: *const proxid_identity) -> u32 {
    // SAFETY: `id` is NULL or a live identity (README conventions).
    panic::or_fallback(|| unsafe { id.as_ref() }.map_or(PROXID_NO_ID, |i| i.identity.uid))
}

/// The primary GID; PROXID_NO_ID for a NULL identity.
#[no_mangle]
pub unsafe extern "C" fn proxid_identity_gid(id: *const proxid_identity) -> u32 {
    // SAFETY: `id` is NULL or a live identity (README conventions).
    panic::or_fallback(|| unsafe { id.as_ref() }.map_or(PROXID_NO_ID, |i| i.identity.gid))
}

/// How many groups the user is in, the primary group first; 0 for a NULL identity.
#[no_mangle]
pub unsafe extern "C" fn proxid_identity_group_count(id: *const proxid_identity) -> usize {
    // SAFETY: `id` is NULL or a live identity (README conventions).
    panic::or_fallback(|| unsafe { id.as_ref() }.map_or(0, |i| i.identity.groups.len()))
}

/// The GID of group `i` (0 is the primary group); PROXID_NO_ID when out of range.
#[no_mangle]
pub unsafe extern "C" fn proxid_identity_group_gid(id: *const proxid_identity, i: usize) -> u32 {
    // SAFETY: `id` is NULL or a live identity (README conventions).
    panic::or_fallback(|| {
        unsafe { id.as_ref() }
            .and_then(|id| id.identity.groups.get(i))
            .map_or(PROXID_NO_ID, |g| g.gid)
    })
}

/// The name of group `i`, or its GID in decimal when the group has no entry; NULL
/// when out of range.
#[no_mangle]
pub unsafe extern "C" fn proxid_identity_group_name(
    id: *const proxid_identity,
    i: usize,
) -> *const c_char {
    // SAFETY: `id` is NULL or a live identity (README conventions).
    panic::or_fallback(|| lend(unsafe { id.as_ref() }.and_then(|id| id.group_names.get(i))))
}

/// The home directory; NULL for a NULL identity.
#[no_mangle]
pub unsafe extern "C" fn proxid_identity_home(id: *const proxid_identity) -> *const c_char {
    // SAFETY: `id` is NULL or a live identity (README conventions).
    panic::or_fallback(|| lend(unsafe { id.as_ref() }.map(|i| &i.home)))
}

/// The login shell; NULL for a NULL identity.
#[no_mangle]
pub unsafe extern "C" fn proxid_identity_shell(id: *const proxid_identity) -> *const c_char {
    // SAFETY: `id` is NULL or a live identity (README conventions).
    panic::or_fallback(|| lend(unsafe { id.as_ref() }.map(|i| &i.shell)))
}

/// Which source answered: "local" or "ldap"; NULL for a NULL identity.
#[no_mangle]
pub unsafe extern "C" fn proxid_identity_source(id: *const proxid_identity) -> *const c_char {
    // SAFETY: `id` is NULL or a live identity (README conventions).
    panic::or_fallback(|| lend(unsafe { id.as_ref() }.map(|i| &i.source)))
}

/// Frees an identity. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn proxid_identity_free(id: *mut proxid_identity) {
    // SAFETY: `id` is NULL or an identity this library returned (README conventions).
    panic::or_fallback(|| unsafe { free(id) })
}

// ---------------------------------------------------------------------------
// glibc-shaped calls that fill caller buffers
// ---------------------------------------------------------------------------

/// The user's GIDs, primary first, the way getgrouplist(3) reports them.
///
/// `*ngids` holds the capacity of `gids` on entry (`gids` may be NULL when it is 0)
/// and the number of groups on return. When the groups do not fit, the status is
/// PROXID_BUFFER_TOO_SMALL, `*ngids` holds the count needed and `gids` is untouched.
#[no_mangle]
pub unsafe extern "C" fn proxid_getgrouplist(
    r: *const proxid_resolver,
    name: *const c_char,
    gids: *mut u32,
    ngids: *mut usize,
    err: *mut *mut proxid_error,
) -> proxid_status {
    // SAFETY: every pointer is checked by the helpers; `gids` has room for `*ngids`
    // entries (README conventions).
    unsafe {
        call(err, || {
            let r = arg(r, "resolver")?;
            let name = bytes_arg(name, "name")?;
            let ngids = out_arg(ngids, "ngids")?;
            let capacity = ngids.as_ptr().read();
            if gids.is_null() && capacity > 0 {
                return Err(Failure::null("gids (with *ngids > 0)"));
            }
            let all = r.resolver.resolve_bytes(name)?.gids();
            if all.len() > capacity {
                ngids.as_ptr().write(all.len());
                return Err(Failure {
                    status: PROXID_BUFFER_TOO_SMALL,
                    message: format!("{} groups, room for {capacity}", all.len()),
                });
            }
            if !all.is_empty() {
                ptr::copy_nonoverlapping(all.as_ptr(), gids, all.len());
            }
            ngids.as_ptr().write(all.len());
            Ok(())
        })
    }
}

/// Like getpwnam_r(3), with glibc's return convention: 0 with `*result` pointing at
/// `pwd` when found; 0 with `*result` NULL when not found (an invalid name is not
/// found); ERANGE when `buf` is too small (retry with a larger one); EINVAL for a NULL
/// argument; ETIMEDOUT or EIO when the source could not answer. The strings live in
/// `buf`; `pw_passwd` is "x" and `pw_gecos` is "".
#[no_mangle]
pub unsafe extern "C" fn proxid_getpwnam_r(
    r: *const proxid_resolver,
    name: *const c_char,
    pwd: *mut libc::passwd,
    buf: *mut c_char,
    buflen: usize,
    result: *mut *mut libc::passwd,
) -> c_int {
    // SAFETY: pointers are checked below; `buf` has room for `buflen` bytes (README).
    panic::or_fallback(|| unsafe {
        let Some(result) = NonNull::new(result) else {
            return libc::EINVAL;
        };
        result.as_ptr().write(ptr::null_mut());
        let Some(r) = r.as_ref() else {
            return libc::EINVAL;
        };
        if name.is_null() || pwd.is_null() || (buf.is_null() && buflen > 0) {
            return libc::EINVAL;
        }
        let found = r.resolver.resolve_bytes(CStr::from_ptr(name).to_bytes());
        passwd_reply(found, pwd, buf, buflen, result)
    })
}

/// Like getpwuid_r(3); see proxid_getpwnam_r for the return convention.
#[no_mangle]
pub unsafe extern "C" fn proxid_getpwuid_r(
    r: *const proxid_resolver,
    uid: u32,
    pwd: *mut libc::passwd,
    buf: *mut c_char,
    buflen: usize,
    result: *mut *mut libc::passwd,
) -> c_int {
    // SAFETY: pointers are checked below; `buf` has room for `buflen` bytes (README).
    panic::or_fallback(|| unsafe {
        let Some(result) = NonNull::new(result) else {
            return libc::EINVAL;
        };
        result.as_ptr().write(ptr::null_mut());
        let Some(r) = r.as_ref() else {
            return libc::EINVAL;
        };
        if pwd.is_null() || (buf.is_null() && buflen > 0) {
            return libc::EINVAL;
        }
        passwd_reply(r.resolver.resolve_uid(uid), pwd, buf, buflen, result)
    })
}

/// The getpw*_r answer for a lookup's outcome.
///
/// Safety: `pwd` is writable, `buf` has room for `buflen` bytes, `result` is writable.
unsafe fn passwd_reply(
    found: crate::Result<Identity>,
    pwd: *mut libc::passwd,
    buf: *mut c_char,
    buflen: usize,
    result: NonNull<*mut libc::passwd>,
) -> c_int {
    match found {
        // SAFETY: forwarded contract.
        Ok(identity) => unsafe { fill_passwd(&identity, pwd, buf, buflen, result) },
        Err(e) => errno_of(&e),
    }
}

/// The getpw*_r return value for an error, as glibc's own: "not found" is 0 with a
/// NULL result. One exhaustive match, so a new variant must choose.
fn errno_of(e: &Error) -> c_int {
    match e {
        Error::NotFound { .. } | Error::InvalidName { .. } => 0,
        Error::Timeout { .. } => libc::ETIMEDOUT,
        Error::Unavailable { .. }
        | Error::Directory { .. }
        | Error::Config { .. }
        | Error::ModeMismatch { .. }
        | Error::IdentityMismatch { .. }
        | Error::InvalidArgument(_)
        | Error::Io { .. } => libc::EIO,
    }
}

/// Packs the identity's strings into `buf` and points `pwd`'s fields at them.
///
/// Safety: as [`passwd_reply`].
unsafe fn fill_passwd(
    identity: &Identity,
    pwd: *mut libc::passwd,
    buf: *mut c_char,
    buflen: usize,
    result: NonNull<*mut libc::passwd>,
) -> c_int {
    let fields: [&[u8]; 5] = [
        identity.name.as_bytes(),
        b"x",
        b"",
        identity.home.as_bytes(),
        identity.shell.as_bytes(),
    ];
    if fields.iter().any(|f| f.contains(&0)) {
        return libc::EIO;
    }
    let needed: usize = fields.iter().map(|f| f.len() + 1).sum();
    if needed > buflen {
        return libc::ERANGE;
    }
    let mut placed = [ptr::null_mut::<c_char>(); 5];
    let mut at = buf;
    for (field, slot) in fields.iter().zip(placed.iter_mut()) {
        // SAFETY: the fields fit in `buflen` bytes (checked above) and `buf` is the
        // caller's memory, distinct from ours.
        unsafe {
            ptr::copy_nonoverlapping(field.as_ptr().cast::<c_char>(), at, field.len());
            at.add(field.len()).write(0);
            *slot = at;
            at = at.add(field.len() + 1);
        }
    }
    let [pw_name, pw_passwd, pw_gecos, pw_dir, pw_shell] = placed;
    // SAFETY: forwarded contract.
    unsafe {
        pwd.write(libc::passwd {
            pw_name,
            pw_passwd,
            pw_uid: identity.uid,
            pw_gid: identity.gid,
            pw_gecos,
            pw_dir,
            pw_shell,
        });
        result.as_ptr().write(pwd);
    }
    0
}

// ---------------------------------------------------------------------------
// Impersonation decisions
// ---------------------------------------------------------------------------

/// May `proxy` impersonate `user` from `host`? Deny unless a rule allows. On success
/// `*out` holds a decision to free with proxid_decision_free; a denial is a successful
/// call whose verdict is PROXID_DENIED.
#[no_mangle]
pub unsafe extern "C" fn proxid_authorize(
    r: *const proxid_resolver,
    proxy: *const c_char,
    user: *const c_char,
    host: *const c_char,
    out: *mut *mut proxid_decision,
    err: *mut *mut proxid_error,
) -> proxid_status {
    // SAFETY: every pointer is checked by the helpers (README conventions).
    unsafe {
        call(err, || {
            let r = arg(r, "resolver")?;
            let proxy = str_arg(proxy, "proxy")?;
            let user = str_arg(user, "user")?;
            let host = str_arg(host, "host")?;
            let out = out_arg(out, "out")?;
            let decision = proxid_decision::new(r.resolver.authorize(proxy, user, host)?)?;
            give(out, decision);
            Ok(())
        })
    }
}

/// The verdict; PROXID_DENIED for a NULL decision.
#[no_mangle]
pub unsafe extern "C" fn proxid_decision_verdict(d: *const proxid_decision) -> proxid_verdict {
    // SAFETY: `d` is NULL or a live decision (README conventions).
    panic::or_fallback(|| {
        unsafe { d.as_ref() }.map_or(proxid_verdict::PROXID_DENIED, |d| d.verdict)
    })
}

/// Who the operation runs as: the target when allowed, the proxy for run-as-self, ""
/// when denied; NULL for a NULL decision.
#[no_mangle]
pub unsafe extern "C" fn proxid_decision_effective_user(
    d: *const proxid_decision,
) -> *const c_char {
    // SAFETY: `d` is NULL or a live decision (README conventions).
    panic::or_fallback(|| lend(unsafe { d.as_ref() }.map(|d| &d.effective_user)))
}

/// The identity behind the effective user, borrowed from the decision; NULL when
/// there is none (denied) or for a NULL decision. Do not free it.
#[no_mangle]
pub unsafe extern "C" fn proxid_decision_effective_identity(
    d: *const proxid_decision,
) -> *const proxid_identity {
    // SAFETY: `d` is NULL or a live decision (README conventions).
    panic::or_fallback(|| {
        unsafe { d.as_ref() }
            .and_then(|d| d.effective.as_deref())
            .map_or(ptr::null(), |id| id as *const proxid_identity)
    })
}

/// Why, in a word or a phrase; NULL for a NULL decision.
#[no_mangle]
pub unsafe extern "C" fn proxid_decision_reason(d: *const proxid_decision) -> *const c_char {
    // SAFETY: `d` is NULL or a live decision (README conventions).
    panic::or_fallback(|| lend(unsafe { d.as_ref() }.map(|d| &d.reason)))
}

/// The rule that decided, e.g. "proxy livy (proxid.conf)"; NULL when no rule matched
/// or for a NULL decision.
#[no_mangle]
pub unsafe extern "C" fn proxid_decision_rule(d: *const proxid_decision) -> *const c_char {
    // SAFETY: `d` is NULL or a live decision (README conventions).
    panic::or_fallback(|| lend(unsafe { d.as_ref() }.and_then(|d| d.rule.as_ref())))
}

/// Frees a decision (and its effective identity). NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn proxid_decision_free(d: *mut proxid_decision) {
    // SAFETY: `d` is NULL or a decision this library returned (README conventions).
    panic::or_fallback(|| unsafe { free(d) })
}

// ---------------------------------------------------------------------------
// Resolution modes: identity assertions (JSON) sent by clients, accepted by servers
// ---------------------------------------------------------------------------

/// Client side: the identity assertion for `name` that the configured mode calls for,
/// as compact JSON. On success `*json_out` holds a string to free with
/// proxid_string_free.
#[no_mangle]
pub unsafe extern "C" fn proxid_assert(
    r: *const proxid_resolver,
    name: *const c_char,
    json_out: *mut *mut c_char,
    err: *mut *mut proxid_error,
) -> proxid_status {
    // SAFETY: every pointer is checked by the helpers (README conventions).
    unsafe {
        call(err, || {
            let r = arg(r, "resolver")?;
            let name = str_arg(name, "name")?;
            let out = out_arg(json_out, "json_out")?;
            let json = c_data(r.resolver.assert(name)?.to_json().as_bytes(), "assertion")?;
            out.as_ptr().write(json.into_raw());
            Ok(())
        })
    }
}

/// Server side: the identity to act as for a client's assertion (JSON as produced by
/// proxid_assert), or why not (PROXID_MODE_MISMATCH, PROXID_IDENTITY_MISMATCH, ...).
/// On success `*out` holds an identity to free with proxid_identity_free.
#[no_mangle]
pub unsafe extern "C" fn proxid_accept(
    r: *const proxid_resolver,
    assertion_json: *const c_char,
    out: *mut *mut proxid_identity,
    err: *mut *mut proxid_error,
) -> proxid_status {
    // SAFETY: every pointer is checked by the helpers (README conventions).
    unsafe {
        call(err, || {
            let r = arg(r, "resolver")?;
            let json = str_arg(assertion_json, "assertion_json")?;
            let out = out_arg(out, "out")?;
            let assertion = Assertion::from_json(json)?;
            let identity = proxid_identity::new(r.resolver.accept(&assertion)?)?;
            give(out, identity);
            Ok(())
        })
    }
}

/// One side of an admission request, as the client sent it: the name, plus the UID
/// and GIDs when the client resolved them itself (client-side resolution). The
/// caller owns it; proxid reads it only during the call.
#[repr(C)]
pub struct proxid_assertion {
    /// The user name, NUL-terminated UTF-8. Required.
    pub name: *const c_char,
    /// The client's UID for `name`; NULL when the client sent the name only.
    pub uid: *const u32,
    /// The client's GIDs, primary first, `ngids` of them; NULL when the client sent
    /// the name only. UID and GIDs go together: one without the other is
    /// PROXID_INVALID_ARGUMENT.
    pub gids: *const u32,
    pub ngids: usize,
}

/// What a server received for one request: who acts (`proxy`), for whom (`user`),
/// from where (`host`, an IP address or host name). A zeroed request with the two
/// names and the host set is a name-only (server-side resolution) request.
#[repr(C)]
pub struct proxid_admit_request {
    pub proxy: proxid_assertion,
    pub user: proxid_assertion,
    pub host: *const c_char,
}

/// Linux's limit on supplementary groups; a longer list is a caller's mistake.
const NGROUPS_MAX: usize = 65536;

/// Reads one side of a request.
///
/// Safety: the pointers in `a` are NULL or valid as documented on proxid_assertion.
unsafe fn assertion_arg(a: &proxid_assertion, whose: &str) -> Result<Assertion, Failure> {
    // SAFETY: per this function's contract.
    let name = unsafe { str_arg(a.name, &format!("{whose}.name")) }?.to_string();
    // SAFETY: `uid` is NULL or points at one u32.
    let uid = unsafe { a.uid.as_ref() }.copied();
    let gids = if a.gids.is_null() {
        if a.ngids != 0 {
            return Err(Failure::invalid(format!(
                "{whose}.gids is NULL but {whose}.ngids is {}",
                a.ngids
            )));
        }
        None
    } else if a.ngids > NGROUPS_MAX {
        return Err(Failure::invalid(format!(
            "{whose}.ngids is {}: more than NGROUPS_MAX ({NGROUPS_MAX})",
            a.ngids
        )));
    } else {
        // SAFETY: `gids` points at `ngids` u32s (proxid_assertion's contract).
        Some(unsafe { std::slice::from_raw_parts(a.gids, a.ngids) }.to_vec())
    };
    Ok(Assertion { name, uid, gids })
}

/// The server side of a request in one call: the mode handshake for both
/// identities (PROXID_MODE_MISMATCH), the exact ID check for both
/// (PROXID_IDENTITY_MISMATCH, the message says whose IDs differ), names this server
/// cannot resolve (PROXID_NOT_FOUND), then the impersonation decision. On success
/// `*out` holds a decision to free with proxid_decision_free (a denial is a
/// successful call whose verdict is PROXID_DENIED). One audit line per call.
#[no_mangle]
pub unsafe extern "C" fn proxid_admit(
    r: *const proxid_resolver,
    request: *const proxid_admit_request,
    out: *mut *mut proxid_decision,
    err: *mut *mut proxid_error,
) -> proxid_status {
    // SAFETY: every pointer is checked by the helpers (README conventions).
    unsafe {
        call(err, || {
            let r = arg(r, "resolver")?;
            let request = arg(request, "request")?;
            let out = out_arg(out, "out")?;
            let request = AdmitRequest {
                proxy: assertion_arg(&request.proxy, "proxy")?,
                user: assertion_arg(&request.user, "user")?,
                host: str_arg(request.host, "host")?.to_string(),
            };
            give(out, proxid_decision::new(r.resolver.admit(&request)?)?);
            Ok(())
        })
    }
}

/// proxid_admit with the request as JSON, the form `proxid admit --json` takes:
/// `{"proxy": ASSERTION, "user": ASSERTION, "host": "10.0.0.7"}`, each ASSERTION as
/// proxid_assert produced it on the client. Unknown fields are refused.
#[no_mangle]
pub unsafe extern "C" fn proxid_admit_json(
    r: *const proxid_resolver,
    request_json: *const c_char,
    out: *mut *mut proxid_decision,
    err: *mut *mut proxid_error,
) -> proxid_status {
    // SAFETY: every pointer is checked by the helpers (README conventions).
    unsafe {
        call(err, || {
            let r = arg(r, "resolver")?;
            let json = str_arg(request_json, "request_json")?;
            let out = out_arg(out, "out")?;
            let request = AdmitRequest::from_json(json)?;
            give(out, proxid_decision::new(r.resolver.admit(&request)?)?);
            Ok(())
        })
    }
}

/// Frees a string this library returned (proxid_assert, proxid_short_name). NULL is
/// a no-op.
#[no_mangle]
pub unsafe extern "C" fn proxid_string_free(s: *mut c_char) {
    panic::or_fallback(|| {
        if !s.is_null() {
            // SAFETY: `s` came from CString::into_raw in this library (README conventions).
            drop(unsafe { CString::from_raw(s) });
        }
    })
}

// ---------------------------------------------------------------------------
// Kerberos principals
// ---------------------------------------------------------------------------

/// The short user name for a Kerberos principal, by the configured auth_to_local
/// rules. On success `*out` holds a string to free with proxid_string_free.
#[no_mangle]
pub unsafe extern "C" fn proxid_short_name(
    r: *const proxid_resolver,
    principal: *const c_char,
    out: *mut *mut c_char,
    err: *mut *mut proxid_error,
) -> proxid_status {
    // SAFETY: every pointer is checked by the helpers (README conventions).
    unsafe {
        call(err, || {
            let r = arg(r, "resolver")?;
            let principal = str_arg(principal, "principal")?;
            let out = out_arg(out, "out")?;
            let short = c_data(r.resolver.short_name(principal)?.as_bytes(), "short name")?;
            out.as_ptr().write(short.into_raw());
            Ok(())
        })
    }
}

/// Principal, then short name, then identity. On success `*out` holds an identity to
/// free with proxid_identity_free.
#[no_mangle]
pub unsafe extern "C" fn proxid_identity_for_principal(
    r: *const proxid_resolver,
    principal: *const c_char,
    out: *mut *mut proxid_identity,
    err: *mut *mut proxid_error,
) -> proxid_status {
    // SAFETY: every pointer is checked by the helpers (README conventions).
    unsafe {
        call(err, || {
            let r = arg(r, "resolver")?;
            let principal = str_arg(principal, "principal")?;
            let out = out_arg(out, "out")?;
            let identity = proxid_identity::new(r.resolver.identity_for_principal(principal)?)?;
            give(out, identity);
            Ok(())
        })
    }
}

/// The principal a program runs as: the application's (`application` may be NULL),
/// else the namespace's, else the default. On success `*out` holds a principal to free
/// with proxid_principal_free.
#[no_mangle]
pub unsafe extern "C" fn proxid_program_principal(
    r: *const proxid_resolver,
    namespace_: *const c_char,
    application: *const c_char,
    out: *mut *mut proxid_principal,
    err: *mut *mut proxid_error,
) -> proxid_status {
    // SAFETY: every pointer is checked by the helpers (README conventions).
    unsafe {
        call(err, || {
            let r = arg(r, "resolver")?;
            let namespace = str_arg(namespace_, "namespace")?;
            let application = if application.is_null() {
                None
            } else {
                Some(str_arg(application, "application")?)
            };
            let out = out_arg(out, "out")?;
            let program = r.resolver.program_principal(namespace, application)?;
            give(out, proxid_principal::new(program)?);
            Ok(())
        })
    }
}

/// The full principal, e.g. "etl@EXAMPLE.ORG"; NULL for a NULL principal.
#[no_mangle]
pub unsafe extern "C" fn proxid_principal_name(p: *const proxid_principal) -> *const c_char {
    // SAFETY: `p` is NULL or a live principal (README conventions).
    panic::or_fallback(|| lend(unsafe { p.as_ref() }.map(|p| &p.principal)))
}

/// The short name the principal maps to; NULL for a NULL principal.
#[no_mangle]
pub unsafe extern "C" fn proxid_principal_short_name(p: *const proxid_principal) -> *const c_char {
    // SAFETY: `p` is NULL or a live principal (README conventions).
    panic::or_fallback(|| lend(unsafe { p.as_ref() }.map(|p| &p.short_name)))
}

/// The keytab path; NULL when none is configured or for a NULL principal.
#[no_mangle]
pub unsafe extern "C" fn proxid_principal_keytab(p: *const proxid_principal) -> *const c_char {
    // SAFETY: `p` is NULL or a live principal (README conventions).
    panic::or_fallback(|| lend(unsafe { p.as_ref() }.and_then(|p| p.keytab.as_ref())))
}

/// Frees a principal. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn proxid_principal_free(p: *mut proxid_principal) {
    // SAFETY: `p` is NULL or a principal this library returned (README conventions).
    panic::or_fallback(|| unsafe { free(p) })
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// The status of a failed call; PROXID_INVALID_ARGUMENT for a NULL error.
#[no_mangle]
pub unsafe extern "C" fn proxid_error_status(e: *const proxid_error) -> proxid_status {
    // SAFETY: `e` is NULL or a live error (README conventions).
    panic::or_fallback(|| unsafe { e.as_ref() }.map_or(PROXID_INVALID_ARGUMENT, |e| e.status))
}

/// What went wrong, for people (logs, messages); NULL for a NULL error.
#[no_mangle]
pub unsafe extern "C" fn proxid_error_message(e: *const proxid_error) -> *const c_char {
    // SAFETY: `e` is NULL or a live error (README conventions).
    panic::or_fallback(|| lend(unsafe { e.as_ref() }.map(|e| &e.message)))
}

/// Frees an error. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn proxid_error_free(e: *mut proxid_error) {
    // SAFETY: `e` is NULL or an error this library returned (README conventions).
    panic::or_fallback(|| unsafe { free(e) })
}

// ---------------------------------------------------------------------------
// Test-only entry points (feature `testing`): prove the panic boundary from C.
// ---------------------------------------------------------------------------

/// Test only: panics inside the boundary; returns PROXID_PANIC and, when `err` is not
/// NULL, an error object saying so.
#[cfg(feature = "testing")]
#[no_mangle]
#[allow(clippy::panic)] // panicking is the point
pub unsafe extern "C" fn proxid_testing_panic(err: *mut *mut proxid_error) -> proxid_status {
    // SAFETY: `err` is NULL or writable (README conventions).
    unsafe { call(err, || panic!("proxid_testing_panic: deliberate panic")) }
}

/// Test only: panics inside the boundary of a pointer-returning function; returns NULL.
#[cfg(feature = "testing")]
#[no_mangle]
#[allow(clippy::panic)] // panicking is the point
pub extern "C" fn proxid_testing_panic_pointer() -> *const c_char {
    panic::or_fallback(|| panic!("proxid_testing_panic_pointer: deliberate panic"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn status_numbers_are_fixed_and_named() {
        // These numbers are ABI: change none of them, only add.
        let fixed = [
            (PROXID_OK, 0, "PROXID_OK"),
            (PROXID_NOT_FOUND, 1, "PROXID_NOT_FOUND"),
            (PROXID_INVALID_ARGUMENT, 2, "PROXID_INVALID_ARGUMENT"),
            (PROXID_BUFFER_TOO_SMALL, 3, "PROXID_BUFFER_TOO_SMALL"),
            (PROXID_CONFIG, 4, "PROXID_CONFIG"),
            (PROXID_UNAVAILABLE, 5, "PROXID_UNAVAILABLE"),
            (PROXID_TIMEOUT, 6, "PROXID_TIMEOUT"),
            (PROXID_MODE_MISMATCH, 7, "PROXID_MODE_MISMATCH"),
            (PROXID_IDENTITY_MISMATCH, 8, "PROXID_IDENTITY_MISMATCH"),
            (PROXID_PANIC, 9, "PROXID_PANIC"),
            (PROXID_DIRECTORY, 10, "PROXID_DIRECTORY"),
            (PROXID_IO, 11, "PROXID_IO"),
        ];
        assert_eq!(fixed.len(), proxid_status::ALL.len());
        for (status, number, name) in fixed {
            assert_eq!(status as u32, number);
            assert_eq!(proxid_status::from_raw(number), Some(status));
            let shown = proxid_status_name(MaybeUninit::new(status));
            // SAFETY: proxid_status_name returns a static C string.
            assert_eq!(unsafe { CStr::from_ptr(shown) }.to_str().ok(), Some(name));
        }
        assert_eq!(proxid_status::from_raw(12), None);
        assert_eq!(proxid_status::from_raw(u32::MAX), None);
        assert_eq!(proxid_verdict::PROXID_ALLOWED as u32, 1);
        assert_eq!(proxid_verdict::PROXID_DENIED as u32, 2);
        assert_eq!(proxid_verdict::PROXID_RUN_AS_SELF as u32, 3);
    }

    #[test]
    fn every_error_kind_maps_to_a_status() {
        let io = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        let cases = [
            (Error::invalid_name("", "empty"), PROXID_INVALID_ARGUMENT),
            (Error::InvalidArgument("x".into()), PROXID_INVALID_ARGUMENT),
            (Error::not_found("user"), PROXID_NOT_FOUND),
            (
                Error::Unavailable {
                    source_name: "ldap".into(),
                    detail: "down".into(),
                },
                PROXID_UNAVAILABLE,
            ),
            (
                Error::Timeout {
                    source_name: "ldap".into(),
                    after_ms: 5,
                },
                PROXID_TIMEOUT,
            ),
            (Error::Directory { detail: "x".into() }, PROXID_DIRECTORY),
            (Error::config("/etc/proxid.conf", "bad"), PROXID_CONFIG),
            (
                Error::ModeMismatch { detail: "x".into() },
                PROXID_MODE_MISMATCH,
            ),
            (
                Error::IdentityMismatch {
                    name: "a".into(),
                    detail: "x".into(),
                },
                PROXID_IDENTITY_MISMATCH,
            ),
            (Error::io("read", io), PROXID_IO),
        ];
        for (error, status) in cases {
            assert_eq!(status_of(&error), status, "{error}");
        }
    }

    #[test]
    fn messages_with_nul_survive_as_text() {
        assert_eq!(c_text("a\0b").to_str().ok(), Some("a\\0b"));
        assert!(c_data(b"a\0b", "name").is_err());
    }
}
