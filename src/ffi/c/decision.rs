//! Impersonation decisions: proxid_authorize and the decision object's getters.

use std::ffi::{c_char, CString};
use std::ptr;

use super::args::{answer, c_data, c_text, free, get, lend, str_arg};
use super::{
    proxid_error, proxid_identity, proxid_resolver, proxid_status, proxid_verdict, Core, Failure,
};
use crate::policy::Decision;

/// An impersonation decision.
pub struct proxid_decision {
    verdict: proxid_verdict,
    effective_user: CString,
    reason: CString,
    rule: Option<CString>,
    effective: Option<Box<proxid_identity>>,
}

impl proxid_decision {
    pub(super) fn new(decision: Decision) -> Result<proxid_decision, Failure> {
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
    let body = |r: &Core| -> Result<_, Failure> {
        // SAFETY: `proxy` is NULL or NUL-terminated (README conventions).
        let proxy = unsafe { str_arg(proxy, "proxy") }?;
        // SAFETY: `user` is NULL or NUL-terminated (README conventions).
        let user = unsafe { str_arg(user, "user") }?;
        // SAFETY: `host` is NULL or NUL-terminated (README conventions).
        let host = unsafe { str_arg(host, "host") }?;
        proxid_decision::new(r.authorize(proxy, user, host)?)
    };
    // SAFETY: `r` is NULL or a live resolver, `out` and `err` are NULL or writable for
    // one pointer (README conventions).
    unsafe { answer(r, (out, "out"), err, body) }
}

/// The verdict; PROXID_DENIED for a NULL decision.
#[no_mangle]
pub unsafe extern "C" fn proxid_decision_verdict(d: *const proxid_decision) -> proxid_verdict {
    // SAFETY: `d` is NULL or a live decision (README conventions).
    get(unsafe { d.as_ref() }, proxid_verdict::PROXID_DENIED, |d| {
        d.verdict
    })
}

/// Who the operation runs as: the target when allowed, the proxy for run-as-self, ""
/// when denied; NULL for a NULL decision.
#[no_mangle]
pub unsafe extern "C" fn proxid_decision_effective_user(
    d: *const proxid_decision,
) -> *const c_char {
    // SAFETY: `d` is NULL or a live decision (README conventions).
    lend(unsafe { d.as_ref() }, |d| Some(&d.effective_user))
}

/// The identity behind the effective user, borrowed from the decision; NULL when
/// there is none (denied) or for a NULL decision. Do not free it.
#[no_mangle]
pub unsafe extern "C" fn proxid_decision_effective_identity(
    d: *const proxid_decision,
) -> *const proxid_identity {
    // SAFETY: `d` is NULL or a live decision (README conventions).
    get(unsafe { d.as_ref() }, ptr::null(), |d| {
        d.effective
            .as_deref()
            .map_or(ptr::null(), |id| id as *const proxid_identity)
    })
}

/// Why, in a word or a phrase; NULL for a NULL decision.
#[no_mangle]
pub unsafe extern "C" fn proxid_decision_reason(d: *const proxid_decision) -> *const c_char {
    // SAFETY: `d` is NULL or a live decision (README conventions).
    lend(unsafe { d.as_ref() }, |d| Some(&d.reason))
}

/// The rule that decided, e.g. "proxy livy (proxid.conf)"; NULL when no rule matched
/// or for a NULL decision.
#[no_mangle]
pub unsafe extern "C" fn proxid_decision_rule(d: *const proxid_decision) -> *const c_char {
    // SAFETY: `d` is NULL or a live decision (README conventions).
    lend(unsafe { d.as_ref() }, |d| d.rule.as_ref())
}

/// Frees a decision (and its effective identity). NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn proxid_decision_free(d: *mut proxid_decision) {
    // SAFETY: `d` is NULL or a decision this library returned, freed once, when no
    // thread reads it any more (README conventions).
    unsafe { free(d) }
}
