//! The resolver handle: open, reload, invalidate, free, and the lookups that answer
//! with an identity.

use std::ffi::c_char;

use super::args::{answer, arg, bytes_arg, free, optional_path_arg, optional_str_arg, Out};
use super::{call, proxid_error, proxid_identity, proxid_status, Core, Failure};

/// A resolver built from one configuration. Safe to share across threads.
pub struct proxid_resolver {
    pub(super) resolver: Core,
}

/// The resolver a caller passed in; NULL is PROXID_INVALID_ARGUMENT.
///
/// Safety: `r` is NULL or a resolver from proxid_resolver_open, not freed during the
/// call.
pub(super) unsafe fn resolver_arg<'a>(r: *const proxid_resolver) -> Result<&'a Core, Failure> {
    // SAFETY: this function's contract is `arg`'s for a resolver.
    unsafe { arg(r, "resolver") }.map(|r| &r.resolver)
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
    // SAFETY: `err` is NULL or writable for one pointer (README conventions).
    let err = unsafe { Out::optional(err) };
    call(err, || {
        // SAFETY: `out` is NULL or writable for one pointer (README conventions).
        let out = unsafe { Out::new(out, "out") }?;
        // SAFETY: `config_path` is NULL or NUL-terminated (README conventions).
        let path = unsafe { optional_path_arg(config_path, "config_path") }?;
        let resolver = Core::open(path)?;
        out.give(proxid_resolver { resolver });
        Ok(())
    })
}

/// Frees a resolver. NULL is a no-op. No other thread may still be using it.
#[no_mangle]
pub unsafe extern "C" fn proxid_resolver_free(r: *mut proxid_resolver) {
    // SAFETY: `r` is NULL or from proxid_resolver_open, freed once, when no thread
    // uses it any more (README conventions).
    unsafe { free(r) }
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
    // SAFETY: `err` is NULL or writable for one pointer (README conventions).
    let err = unsafe { Out::optional(err) };
    call(err, || {
        // SAFETY: `r` is NULL or a live resolver (README conventions).
        let r = unsafe { resolver_arg(r) }?;
        // SAFETY: `config_path` is NULL or NUL-terminated (README conventions).
        let path = unsafe { optional_path_arg(config_path, "config_path") }?;
        r.reload(path)?;
        Ok(())
    })
}

/// Forgets cached answers for one user name, or for everyone when `name` is NULL, so
/// the next lookup asks the source.
#[no_mangle]
pub unsafe extern "C" fn proxid_resolver_invalidate(
    r: *const proxid_resolver,
    name: *const c_char,
) -> proxid_status {
    call(None, || {
        // SAFETY: `r` is NULL or a live resolver (README conventions).
        let r = unsafe { resolver_arg(r) }?;
        // SAFETY: `name` is NULL or NUL-terminated (README conventions).
        let name = unsafe { optional_str_arg(name, "name") }?;
        r.invalidate(name);
        Ok(())
    })
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
    let body = |r: &Core| -> Result<_, Failure> {
        // SAFETY: `name` is NULL or NUL-terminated (README conventions).
        let name = unsafe { bytes_arg(name, "name") }?;
        proxid_identity::new(r.resolve_bytes(name)?)
    };
    // SAFETY: `r` is NULL or a live resolver, `out` and `err` are NULL or writable for
    // one pointer (README conventions).
    unsafe { answer(r, (out, "out"), err, body) }
}

/// Resolves a UID. On success `*out` holds an identity to free with proxid_identity_free.
#[no_mangle]
pub unsafe extern "C" fn proxid_resolve_uid(
    r: *const proxid_resolver,
    uid: u32,
    out: *mut *mut proxid_identity,
    err: *mut *mut proxid_error,
) -> proxid_status {
    let body = |r: &Core| -> Result<_, Failure> { proxid_identity::new(r.resolve_uid(uid)?) };
    // SAFETY: `r` is NULL or a live resolver, `out` and `err` are NULL or writable for
    // one pointer (README conventions).
    unsafe { answer(r, (out, "out"), err, body) }
}
