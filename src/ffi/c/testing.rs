//! Test-only entry points (feature `testing`): prove the panic boundary from C.

use std::ffi::c_char;

use super::args::Out;
use super::{call, proxid_error, proxid_status};
use crate::ffi::panic;

// ---------------------------------------------------------------------------
// Test-only entry points (feature `testing`): prove the panic boundary from C.
// ---------------------------------------------------------------------------

/// Test only: panics inside the boundary; returns PROXID_PANIC and, when `err` is not
/// NULL, an error object saying so.
#[no_mangle]
#[allow(clippy::panic)] // panicking is the point
pub unsafe extern "C" fn proxid_testing_panic(err: *mut *mut proxid_error) -> proxid_status {
    // SAFETY: `err` is NULL or writable for one pointer (README conventions).
    let err = unsafe { Out::optional(err) };
    call(err, || -> Result<(), _> {
        panic!("proxid_testing_panic: deliberate panic")
    })
}

/// Test only: panics inside the boundary of a pointer-returning function; returns NULL.
#[no_mangle]
#[allow(clippy::panic)] // panicking is the point
pub extern "C" fn proxid_testing_panic_pointer() -> *const c_char {
    panic::or_fallback(|| panic!("proxid_testing_panic_pointer: deliberate panic"))
}
