//! The error object a failed call stores in `*err`.

use std::ffi::{c_char, CString};

use super::args::{free, get, lend};
use super::proxid_status;

/// Why a call failed: a status and a message for people.
pub struct proxid_error {
    status: proxid_status,
    message: CString,
}

impl proxid_error {
    pub(super) fn new(status: proxid_status, message: CString) -> proxid_error {
        proxid_error { status, message }
    }
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// The status of a failed call; PROXID_INVALID_ARGUMENT for a NULL error.
#[no_mangle]
pub unsafe extern "C" fn proxid_error_status(e: *const proxid_error) -> proxid_status {
    // SAFETY: `e` is NULL or a live error (README conventions).
    get(
        unsafe { e.as_ref() },
        proxid_status::PROXID_INVALID_ARGUMENT,
        |e| e.status,
    )
}

/// What went wrong, for people (logs, messages); NULL for a NULL error.
#[no_mangle]
pub unsafe extern "C" fn proxid_error_message(e: *const proxid_error) -> *const c_char {
    // SAFETY: `e` is NULL or a live error (README conventions).
    lend(unsafe { e.as_ref() }, |e| Some(&e.message))
}

/// Frees an error. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn proxid_error_free(e: *mut proxid_error) {
    // SAFETY: `e` is NULL or an error this library returned, freed once (README
    // conventions).
    unsafe { free(e) }
}
