//! The panic boundary. A panic that unwinds into C is undefined behaviour and an
//! `extern "C"` function that panics aborts the host process (a panicking NSS module
//! took squid down, kanidm#4203), so every exported function runs its body through
//! [`catch`] and turns a panic into a value the caller already handles.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// A panic caught at the boundary, with its message when it had one.
#[derive(Debug)]
pub(crate) struct Panicked(pub String);

/// Runs `body`, stopping any panic. The only `catch_unwind` in the crate.
///
/// `AssertUnwindSafe` is sound here: after a panic the caller only gets a status and
/// drops whatever the body was building; shared state (the resolver) holds no
/// invariant that a half-finished lookup can break.
pub(crate) fn catch<R>(body: impl FnOnce() -> R) -> Result<R, Panicked> {
    catch_unwind(AssertUnwindSafe(body)).map_err(|payload| Panicked(message(payload.as_ref())))
}

/// Runs `body`; a panic returns the fallback of the function's return type.
pub(crate) fn or_fallback<R: Fallback>(body: impl FnOnce() -> R) -> R {
    catch(body).unwrap_or_else(|_| R::fallback())
}

/// The message of a panic payload (a `&str` or a `String`, as `panic!` makes them).
pub(crate) fn message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_owned()
    }
}

/// The value an exported function returns when its body panicked.
pub(crate) trait Fallback {
    fn fallback() -> Self;
}

impl<T> Fallback for *const T {
    fn fallback() -> Self {
        std::ptr::null()
    }
}

impl<T> Fallback for *mut T {
    fn fallback() -> Self {
        std::ptr::null_mut()
    }
}

/// Counts (`size_t`) fall back to 0.
impl Fallback for usize {
    fn fallback() -> Self {
        0
    }
}

/// `uint32_t` results are UIDs and GIDs: fall back to `(uint32_t)-1`, the POSIX
/// "no ID" value, never to 0, which is root.
impl Fallback for u32 {
    fn fallback() -> Self {
        u32::MAX
    }
}

/// `int` results are errno values (the getpw*_r family): fall back to EIO.
impl Fallback for libc::c_int {
    fn fallback() -> Self {
        libc::EIO
    }
}

impl Fallback for () {
    fn fallback() -> Self {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panics_become_messages_and_fallbacks() {
        let caught = catch(|| -> u32 { panic!("boom {}", 1) });
        let ptr: *const u8 = or_fallback(|| panic!("static"));
        let id: u32 = or_fallback(|| panic!("id"));
        let errno: libc::c_int = or_fallback(|| std::panic::panic_any(42_i32));
        assert_eq!(caught.map_err(|p| p.0).unwrap_err(), "boom 1");
        assert!(ptr.is_null());
        assert_eq!(id, u32::MAX);
        assert_eq!(errno, libc::EIO);
        assert_eq!(catch(|| 7).ok(), Some(7));
    }
}
