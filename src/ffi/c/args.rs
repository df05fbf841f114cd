//! Every pointer that comes in goes through one of these before use, and every
//! out-parameter is written through [`Out`]. The `unsafe fn`s here state what the
//! caller promises about one pointer; the entry points make that promise, each under
//! its own `SAFETY` comment, as the README's calling convention lets them.

use std::ffi::{c_char, CStr, CString, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::ptr::{self, NonNull};

use super::resolver::resolver_arg;
use super::{call, proxid_error, proxid_resolver, proxid_status, Core, Failure};
use crate::ffi::panic::{self, Fallback};

/// Text for people: NUL bytes (which C cannot carry) are shown as `\0`.
pub(super) fn c_text(text: &str) -> CString {
    CString::new(text.replace('\0', "\\0")).unwrap_or_default()
}

/// Data handed to C, which cannot carry a NUL byte: such data is refused, not cut short.
pub(super) fn c_data(bytes: &[u8], what: &str) -> Result<CString, Failure> {
    CString::new(bytes).map_err(|_| Failure {
        status: proxid_status::PROXID_DIRECTORY,
        message: format!(
            "{what} {:?} contains a NUL byte",
            String::from_utf8_lossy(bytes)
        ),
    })
}

/// Borrows an object the caller passed in; NULL is an error naming the argument.
///
/// Safety: `ptr` is NULL or a live object of this library, not freed during the call.
pub(super) unsafe fn arg<'a, T>(ptr: *const T, what: &str) -> Result<&'a T, Failure> {
    // SAFETY: `ptr` is NULL (giving None) or live, per this function's contract.
    unsafe { ptr.as_ref() }.ok_or_else(|| Failure::null(what))
}

/// The bytes of a C string argument, without its NUL.
///
/// Safety: `ptr` is NULL or a NUL-terminated string that outlives the call.
pub(super) unsafe fn bytes_arg<'a>(ptr: *const c_char, what: &str) -> Result<&'a [u8], Failure> {
    if ptr.is_null() {
        return Err(Failure::null(what));
    }
    // SAFETY: non-NULL (checked above) and NUL-terminated per this function's contract.
    Ok(unsafe { CStr::from_ptr(ptr) }.to_bytes())
}

/// A C string argument that must be UTF-8.
///
/// Safety: as [`bytes_arg`].
pub(super) unsafe fn str_arg<'a>(ptr: *const c_char, what: &str) -> Result<&'a str, Failure> {
    // SAFETY: this function's contract is `bytes_arg`'s.
    let bytes = unsafe { bytes_arg(ptr, what) }?;
    std::str::from_utf8(bytes).map_err(|_| Failure::invalid(format!("{what} is not valid UTF-8")))
}

/// A C string argument that may be NULL (meaning "none"); when given, UTF-8.
///
/// Safety: as [`bytes_arg`].
pub(super) unsafe fn optional_str_arg<'a>(
    ptr: *const c_char,
    what: &str,
) -> Result<Option<&'a str>, Failure> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: this function's contract is `bytes_arg`'s.
    unsafe { str_arg(ptr, what) }.map(Some)
}

/// A file path argument that may be NULL (meaning "the default"); any bytes but NUL.
///
/// Safety: as [`bytes_arg`].
pub(super) unsafe fn optional_path_arg<'a>(
    ptr: *const c_char,
    what: &str,
) -> Result<Option<&'a Path>, Failure> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: this function's contract is `bytes_arg`'s.
    let bytes = unsafe { bytes_arg(ptr, what) }?;
    Ok(Some(Path::new(OsStr::from_bytes(bytes))))
}

/// An out-parameter, checked for NULL before any work is done. Writing through it
/// is safe: whoever made it promised the memory is writable for the whole call.
pub(super) struct Out<T>(NonNull<T>);

impl<T> Out<T> {
    /// A required out-parameter; NULL is an error naming the argument.
    ///
    /// Safety: `ptr` is NULL or points at memory writable for one `T` until the
    /// exported function that received it returns.
    pub(super) unsafe fn new(ptr: *mut T, what: &str) -> Result<Out<T>, Failure> {
        NonNull::new(ptr)
            .map(Out)
            .ok_or_else(|| Failure::null(what))
    }

    /// An optional out-parameter (`err`): NULL means the caller does not want it.
    ///
    /// Safety: as [`Out::new`].
    pub(super) unsafe fn optional(ptr: *mut T) -> Option<Out<T>> {
        NonNull::new(ptr).map(Out)
    }

    /// Stores `value` in the caller's memory (the old value is not dropped: it is C's).
    pub(super) fn write(&self, value: T) {
        // SAFETY: writable for one `T` during the call, promised when `self` was made.
        unsafe { self.0.as_ptr().write(value) }
    }
}

/// What a call hands to the caller through an out-parameter: an object (freed by its
/// `_free` function) or a string (freed by proxid_string_free).
pub(super) trait Handout {
    /// What the caller receives a pointer to.
    type Raw;
    /// Gives up ownership to the caller.
    fn hand_out(self) -> *mut Self::Raw;
}

impl Handout for CString {
    type Raw = c_char;
    fn hand_out(self) -> *mut c_char {
        self.into_raw()
    }
}

/// The objects this library hands out, each boxed.
macro_rules! boxed_handout {
    ($($object:ty),*) => {$(
        impl Handout for $object {
            type Raw = $object;
            fn hand_out(self) -> *mut $object {
                Box::into_raw(Box::new(self))
            }
        }
    )*};
}

boxed_handout!(
    super::proxid_resolver,
    super::proxid_identity,
    super::proxid_decision,
    super::proxid_principal,
    super::proxid_error
);

impl<T> Out<*mut T> {
    /// Hands a new object or string to the caller, who now owns it.
    pub(super) fn give(self, value: impl Handout<Raw = T>) {
        self.write(value.hand_out());
    }
}

/// The skeleton of every call that asks the resolver and answers through `*out`:
/// checks `r`, then `out` (named `out_name` in the error), runs `body` behind the panic boundary and hands its
/// answer to the caller; a failure goes to `*err` ([`call`]).
///
/// Safety: `r` is NULL or a live resolver, `out` and `err` are NULL or writable for
/// one pointer, as the README's conventions say.
pub(super) unsafe fn answer<A: Handout>(
    r: *const proxid_resolver,
    (out, out_name): (*mut *mut A::Raw, &str),
    err: *mut *mut proxid_error,
    body: impl FnOnce(&Core) -> Result<A, Failure>,
) -> proxid_status {
    // SAFETY: `err` is NULL or writable for one pointer (this function's contract).
    let err = unsafe { Out::optional(err) };
    call(err, || {
        // SAFETY: `r` is NULL or a live resolver (this function's contract).
        let r = unsafe { resolver_arg(r) }?;
        // SAFETY: `out` is NULL or writable for one pointer (this function's contract).
        let out = unsafe { Out::new(out, out_name) }?;
        out.give(body(r)?);
        Ok(())
    })
}

/// Frees an object this library handed out through [`Out::give`]; NULL is a no-op.
///
/// Safety: `ptr` is NULL or came from [`Out::give`] as a `T`, was not freed before,
/// and no other thread uses it any more.
pub(super) unsafe fn free<T>(ptr: *mut T) {
    if ptr.is_null() {
        return;
    }
    // SAFETY: from Box::into_raw in `Out::give` and owned by no one else, per this
    // function's contract.
    let boxed = unsafe { Box::from_raw(ptr) };
    panic::or_fallback(move || drop(boxed));
}

/// The skeleton of every getter: a field of an object the caller passed in, read
/// behind the panic boundary; `none` when the object is NULL.
pub(super) fn get<T, R: Fallback>(object: Option<&T>, none: R, field: impl FnOnce(&T) -> R) -> R {
    panic::or_fallback(|| object.map_or(none, field))
}

/// The skeleton of every string getter: a string borrowed from an object, NULL when
/// the object is NULL or has none. It lives until the object is freed.
pub(super) fn lend<T>(
    object: Option<&T>,
    field: impl FnOnce(&T) -> Option<&CString>,
) -> *const c_char {
    panic::or_fallback(|| object.and_then(field).map_or(ptr::null(), |s| s.as_ptr()))
}

/// Frees a string this library returned (proxid_assert, proxid_short_name). NULL is
/// a no-op.
#[no_mangle]
pub unsafe extern "C" fn proxid_string_free(s: *mut c_char) {
    if s.is_null() {
        return;
    }
    // SAFETY: `s` came from CString::into_raw in `Out::give_string` and is freed once
    // (README conventions).
    let owned = unsafe { CString::from_raw(s) };
    panic::or_fallback(move || drop(owned));
}
