//! Kerberos principals: short names, the identity behind a principal, and the
//! principal a program runs as.

use std::ffi::{c_char, CString};
use std::os::unix::ffi::OsStrExt;

use super::args::{answer, c_data, free, lend, optional_str_arg, str_arg};
use super::{proxid_error, proxid_identity, proxid_resolver, proxid_status, Core, Failure};
use crate::principal::ProgramPrincipal;

/// The Kerberos principal a program runs as, with its short name and keytab.
pub struct proxid_principal {
    principal: CString,
    short_name: CString,
    keytab: Option<CString>,
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
    let body = |r: &Core| -> Result<_, Failure> {
        // SAFETY: `principal` is NULL or NUL-terminated (README conventions).
        let principal = unsafe { str_arg(principal, "principal") }?;
        c_data(r.short_name(principal)?.as_bytes(), "short name")
    };
    // SAFETY: `r` is NULL or a live resolver, `out` and `err` are NULL or writable for
    // one pointer (README conventions).
    unsafe { answer(r, (out, "out"), err, body) }
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
    let body = |r: &Core| -> Result<_, Failure> {
        // SAFETY: `principal` is NULL or NUL-terminated (README conventions).
        let principal = unsafe { str_arg(principal, "principal") }?;
        proxid_identity::new(r.identity_for_principal(principal)?)
    };
    // SAFETY: `r` is NULL or a live resolver, `out` and `err` are NULL or writable for
    // one pointer (README conventions).
    unsafe { answer(r, (out, "out"), err, body) }
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
    let body = |r: &Core| -> Result<_, Failure> {
        // SAFETY: `namespace_` is NULL or NUL-terminated (README conventions).
        let namespace = unsafe { str_arg(namespace_, "namespace") }?;
        // SAFETY: `application` is NULL or NUL-terminated (README conventions).
        let application = unsafe { optional_str_arg(application, "application") }?;
        let program = r.program_principal(namespace, application)?;
        proxid_principal::new(program)
    };
    // SAFETY: `r` is NULL or a live resolver, `out` and `err` are NULL or writable for
    // one pointer (README conventions).
    unsafe { answer(r, (out, "out"), err, body) }
}

/// The full principal, e.g. "etl@EXAMPLE.ORG"; NULL for a NULL principal.
#[no_mangle]
pub unsafe extern "C" fn proxid_principal_name(p: *const proxid_principal) -> *const c_char {
    // SAFETY: `p` is NULL or a live principal (README conventions).
    lend(unsafe { p.as_ref() }, |p| Some(&p.principal))
}

/// The short name the principal maps to; NULL for a NULL principal.
#[no_mangle]
pub unsafe extern "C" fn proxid_principal_short_name(p: *const proxid_principal) -> *const c_char {
    // SAFETY: `p` is NULL or a live principal (README conventions).
    lend(unsafe { p.as_ref() }, |p| Some(&p.short_name))
}

/// The keytab path; NULL when none is configured or for a NULL principal.
#[no_mangle]
pub unsafe extern "C" fn proxid_principal_keytab(p: *const proxid_principal) -> *const c_char {
    // SAFETY: `p` is NULL or a live principal (README conventions).
    lend(unsafe { p.as_ref() }, |p| p.keytab.as_ref())
}

/// Frees a principal. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn proxid_principal_free(p: *mut proxid_principal) {
    // SAFETY: `p` is NULL or a principal this library returned, freed once, when no
    // thread reads it any more (README conventions).
    unsafe { free(p) }
}
