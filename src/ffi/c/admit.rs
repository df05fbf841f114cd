//! Resolution modes and admission: identity assertions (JSON) sent by clients,
//! accepted by servers, and the server side of a whole request in one call.

use std::ffi::c_char;

use super::args::{answer, arg, c_data, str_arg};
use super::{
    proxid_decision, proxid_error, proxid_identity, proxid_resolver, proxid_status, Core, Failure,
};
use crate::mode::Assertion;
use crate::policy::admit::AdmitRequest;

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
    let body = |r: &Core| -> Result<_, Failure> {
        // SAFETY: `name` is NULL or NUL-terminated (README conventions).
        let name = unsafe { str_arg(name, "name") }?;
        c_data(r.assert(name)?.to_json().as_bytes(), "assertion")
    };
    // SAFETY: `r` is NULL or a live resolver, `json_out` and `err` are NULL or writable for
    // one pointer (README conventions).
    unsafe { answer(r, (json_out, "json_out"), err, body) }
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
    let body = |r: &Core| -> Result<_, Failure> {
        // SAFETY: `assertion_json` is NULL or NUL-terminated (README conventions).
        let json = unsafe { str_arg(assertion_json, "assertion_json") }?;
        let assertion = Assertion::from_json(json)?;
        proxid_identity::new(r.accept(&assertion)?)
    };
    // SAFETY: `r` is NULL or a live resolver, `out` and `err` are NULL or writable for
    // one pointer (README conventions).
    unsafe { answer(r, (out, "out"), err, body) }
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
    // SAFETY: `a.name` is NULL or NUL-terminated (this function's contract).
    let name = unsafe { str_arg(a.name, &format!("{whose}.name")) }?.to_string();
    // SAFETY: `uid` is NULL or points at one u32 (this function's contract).
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
        // SAFETY: `gids` is non-NULL (checked above) and points at `ngids` u32s
        // (this function's contract), at most NGROUPS_MAX of them.
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
    let body = |r: &Core| -> Result<_, Failure> {
        // SAFETY: `request` is NULL or the caller's request, read only during the call
        // (README conventions).
        let request = unsafe { arg(request, "request") }?;
        // SAFETY: the request's pointers are as proxid_assertion documents.
        let proxy = unsafe { assertion_arg(&request.proxy, "proxy") }?;
        // SAFETY: as for `proxy`.
        let user = unsafe { assertion_arg(&request.user, "user") }?;
        // SAFETY: `host` is NULL or NUL-terminated (README conventions).
        let host = unsafe { str_arg(request.host, "host") }?.to_string();
        let request = AdmitRequest { proxy, user, host };
        proxid_decision::new(r.admit(&request)?)
    };
    // SAFETY: `r` is NULL or a live resolver, `out` and `err` are NULL or writable for
    // one pointer (README conventions).
    unsafe { answer(r, (out, "out"), err, body) }
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
    let body = |r: &Core| -> Result<_, Failure> {
        // SAFETY: `request_json` is NULL or NUL-terminated (README conventions).
        let json = unsafe { str_arg(request_json, "request_json") }?;
        let request = AdmitRequest::from_json(json)?;
        proxid_decision::new(r.admit(&request)?)
    };
    // SAFETY: `r` is NULL or a live resolver, `out` and `err` are NULL or writable for
    // one pointer (README conventions).
    unsafe { answer(r, (out, "out"), err, body) }
}
