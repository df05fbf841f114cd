//! The C ABI. `include/proxid.h` is generated from this module and its submodules
//! (build.rs runs cbindgen on this file, which follows the `mod` lines); the
//! conventions every function follows are written once, in the README's "C API"
//! section, and summarised at the top of the header:
//!
//! - `err` may be NULL; on failure a non-NULL `err` receives an error object.
//! - Out-parameters are written only on success (the getpw*_r functions follow glibc).
//! - Borrowed strings live until the object they came from is freed.
//! - Every pointer is checked; `_free(NULL)` is a no-op.
//! - No thread-local state; a resolver may be shared by any number of threads, and a
//!   result object (immutable once made) may be read by several at once.
//! - A panic never crosses into C: it becomes `PROXID_PANIC`, NULL, or the fallback
//!   documented on the function (see `src/ffi/panic.rs`).
//!
//! This module holds the statuses, the panic boundary of status-returning calls
//! (`call`) and the library facts; `args` checks every pointer that comes in and
//! writes every out-parameter; one module per object does the rest. It only converts
//! and forwards to the core (`Core`).
//!
//! Unsafe code is narrowed to the pointer operations themselves, each under its own
//! `SAFETY` comment; the safety contract of every exported function is the README's
//! calling convention, written once.

// The C names are the contract (`proxid_status`, `PROXID_OK`), spelled as C spells them.
#![allow(non_camel_case_types)]
// Each function's safety contract is the README's calling convention, written once.
#![allow(clippy::missing_safety_doc)]

use std::ffi::{c_char, CStr};
use std::mem::MaybeUninit;

use super::panic::{self, Fallback};
use super::Core;
use crate::error::Error;
use crate::policy::Verdict;

// The order of these modules is the order of the functions in the header.
mod admit;
mod args;
mod decision;
mod error;
mod glibc;
mod identity;
mod principal;
mod resolver;
#[cfg(feature = "testing")]
mod testing;

pub use admit::*;
pub use args::proxid_string_free;
pub use decision::*;
pub use error::*;
pub use glibc::*;
pub use identity::*;
pub use principal::*;
pub use resolver::*;
#[cfg(feature = "testing")]
pub use testing::*;

use args::{c_text, Out};

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

/// A body that returns nothing succeeded.
impl From<()> for proxid_status {
    fn from((): ()) -> Self {
        PROXID_OK
    }
}

/// Runs the body of a status-returning function behind the panic boundary: the
/// skeleton every such function shares. The body's value is the status (`()` is
/// PROXID_OK; proxid_getgrouplist answers PROXID_BUFFER_TOO_SMALL this way, with no
/// error object). A failure, or a panic, becomes its status and, when `err` is not
/// NULL, an error object in `*err`.
fn call<S: Into<proxid_status>>(
    err: Option<Out<*mut proxid_error>>,
    body: impl FnOnce() -> Result<S, Failure>,
) -> proxid_status {
    let failure = match panic::catch(body) {
        Ok(Ok(status)) => return status.into(),
        Ok(Err(failure)) => failure,
        Err(panicked) => Failure {
            status: PROXID_PANIC,
            message: format!("internal error in proxid (please report): {}", panicked.0),
        },
    };
    let status = failure.status;
    if let Some(err) = err {
        err.give(proxid_error::new(status, c_text(&failure.message)));
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

#[cfg(test)]
mod tests {
    use super::args::{c_data, c_text};
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

    /// The README and the header say result objects are immutable and may be read by
    /// several threads at once (and freed from any thread): the types must agree.
    #[test]
    fn result_objects_may_be_shared_between_threads() {
        fn shared<T: Send + Sync>() {}
        shared::<proxid_resolver>();
        shared::<proxid_identity>();
        shared::<proxid_decision>();
        shared::<proxid_principal>();
        shared::<proxid_error>();
    }

    #[test]
    fn messages_with_nul_survive_as_text() {
        assert_eq!(c_text("a\0b").to_str().ok(), Some("a\\0b"));
        assert!(c_data(b"a\0b", "name").is_err());
    }
}
