//! `pam_proxid.so`: directory logins and launcher impersonation checks, a thin client
//! of `proxidd` (the rules are the daemon's: `proxid::auth`).
//!
//! libpam `dlopen`s this into login programs, su, sudo and JupyterHub, so it holds
//! nothing of the core: no runtime, no TLS, no LDAP, no threads, no thread-locals, no
//! statics. Each request is one connection to the daemon (`proxid_proto::client`:
//! close-on-exec, off fds 0–2, `MSG_NOSIGNAL`), so nothing goes stale across `fork`.
//! The socket is the NSS module's (`/run/proxid/nss.sock`, or `PROXID_NSS_SOCKET`
//! read with `secure_getenv`, so ignored in setuid programs). Every entry point runs
//! behind one panic boundary; a panic is `PAM_SYSTEM_ERR`, never an unwind into libpam.
//!
//! Arguments: `use_first_pass`, `try_first_pass` (as pam_unix; libpam reads them),
//! `impersonate`, `impersonate=strict`, `mkhomedir`.

#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod ffi;
mod home;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use libc::{c_char, c_int};
use proxid_proto::client::{self, ClientError};
use proxid_proto::{Request, Response};

use ffi::*;

/// Bound on one request to the daemon. The daemon answers within its own LDAP
/// timeouts (connect + operation) and the failure throttle's delay; this only stops
/// a hung daemon from hanging a login.
const TIMEOUT: Duration = Duration::from_secs(15);
/// What a failed password check asks libpam to wait (as pam_unix, pam_faillock).
const FAIL_DELAY_USEC: u32 = 2_000_000;

/// The module's arguments.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Args {
    impersonate: bool,
    strict: bool,
    mkhomedir: bool,
}

impl Args {
    /// Parses `argv`; unknown arguments are logged and ignored (as pam_unix does).
    fn parse(pam: &Pam, argc: c_int, argv: *const *const c_char) -> Args {
        let mut args = Args::default();
        if argv.is_null() {
            return args;
        }
        for i in 0..usize::try_from(argc).unwrap_or(0) {
            // SAFETY: libpam passes argc valid C strings.
            let arg = unsafe { *argv.add(i) };
            if arg.is_null() {
                continue;
            }
            // SAFETY: NUL-terminated, owned by libpam for the call.
            match unsafe { std::ffi::CStr::from_ptr(arg) }.to_bytes() {
                b"impersonate" => args.impersonate = true,
                b"impersonate=strict" => {
                    args.impersonate = true;
                    args.strict = true;
                }
                b"mkhomedir" => args.mkhomedir = true,
                // Read by pam_get_authtok itself.
                b"use_first_pass" | b"try_first_pass" => {}
                other => pam.log(
                    true,
                    &format!(
                        "pam_proxid: unknown argument {:?} ignored",
                        String::from_utf8_lossy(other)
                    ),
                ),
            }
        }
        args
    }
}

/// The one panic boundary: every entry point runs its body here.
fn boundary(
    pamh: *mut PamHandle,
    flags: c_int,
    argc: c_int,
    argv: *const *const c_char,
    body: fn(&Pam, Args) -> c_int,
) -> c_int {
    catch_unwind(AssertUnwindSafe(|| {
        let Some(pam) = Pam::new(pamh, flags) else {
            return PAM_SYSTEM_ERR;
        };
        let args = Args::parse(&pam, argc, argv);
        body(&pam, args)
    }))
    .unwrap_or(PAM_SYSTEM_ERR)
}

/// An answer from the daemon: a PAM code and its message.
struct Verdict {
    code: c_int,
    message: String,
}

/// Asks the daemon. No answer (not running, hung, garbage) is
/// `PAM_AUTHINFO_UNAVAIL` with the reason, logged.
fn ask(pam: &Pam, request: &Request) -> Verdict {
    let unavailable = |why: String| {
        pam.log(true, &format!("pam_proxid: {why}"));
        Verdict {
            code: PAM_AUTHINFO_UNAVAIL,
            message: why,
        }
    };
    match client::call(&client::socket_path(), request, TIMEOUT) {
        Ok(Response::Verdict { code, message }) => match c_int::try_from(code) {
            Ok(code) if DAEMON_CODES.contains(&code) => Verdict { code, message },
            _ => unavailable(format!("proxidd answered an unknown PAM code {code}")),
        },
        Ok(Response::Unavailable(why)) => unavailable(format!("directory unavailable: {why}")),
        Ok(other) => unavailable(format!("unexpected answer from proxidd: {}", kind(&other))),
        Err(e @ ClientError::NotRunning(_)) => unavailable(e.to_string()),
        Err(e) => unavailable(format!("proxidd: {e}")),
    }
}

fn kind(r: &Response) -> &'static str {
    match r {
        Response::Denied(_) => "denied",
        Response::Error(_) => "error",
        Response::NotFound => "not found",
        _ => "not a PAM verdict",
    }
}

/// PAM_SERVICE, PAM_RHOST, PAM_RUSER.
fn items(pam: &Pam) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    (
        pam.item(PAM_SERVICE),
        pam.item(PAM_RHOST),
        pam.item(PAM_RUSER),
    )
}

/// The impersonation check for a launcher: may the caller (the daemon takes it from
/// the socket's peer, or our real UID when the peer is a setuid-root launcher) act as
/// PAM_USER?
fn impersonate(pam: &Pam) -> Verdict {
    let user = match pam.user() {
        Ok(u) => u,
        Err(code) => {
            return Verdict {
                code,
                message: String::new(),
            }
        }
    };
    let (service, rhost, ruser) = items(pam);
    let v = ask(
        pam,
        &Request::Impersonate {
            // SAFETY: getuid cannot fail.
            proxy_uid: unsafe { libc::getuid() },
            user,
            host: rhost,
            service,
            ruser,
        },
    );
    if v.code != PAM_SUCCESS {
        // The reason also reaches the log: launchers may run silently (sudo -n).
        pam.log(false, &format!("pam_proxid: {}", v.message));
    }
    v
}

fn authenticate(pam: &Pam, args: Args) -> c_int {
    if args.impersonate {
        // su: PAM_USER is the target, the caller the proxy. Allowed needs no password;
        // otherwise the rest of the stack decides, or, strict, the answer is no.
        let v = impersonate(pam);
        return match v.code {
            PAM_SUCCESS => PAM_SUCCESS,
            PAM_PERM_DENIED if args.strict => {
                pam.tell(&format!("proxid: {}", v.message));
                PAM_PERM_DENIED
            }
            _ if args.strict => v.code,
            _ => PAM_IGNORE,
        };
    }
    let user = match pam.user() {
        Ok(u) => u,
        Err(code) => return code,
    };
    if user.is_empty() {
        return PAM_USER_UNKNOWN;
    }
    let mut password = match pam.password() {
        Ok(p) => p,
        Err(code) => {
            pam.fail_delay(FAIL_DELAY_USEC);
            return if code == PAM_SUCCESS {
                PAM_AUTH_ERR
            } else {
                code
            };
        }
    };
    // pam_get_authtok returns "" as a success; an empty password never goes further
    // (an LDAP bind with a DN and no password is an anonymous bind some servers accept).
    if password.0.is_empty() {
        pam.fail_delay(FAIL_DELAY_USEC);
        return PAM_AUTH_ERR;
    }
    let (service, rhost, ruser) = items(pam);
    let mut request = Request::Authenticate {
        user,
        password: std::mem::take(&mut password.0),
        service,
        rhost,
        ruser,
    };
    let v = ask(pam, &request);
    if let Request::Authenticate { password, .. } = &mut request {
        wipe(password);
    }
    drop(password);
    match v.code {
        PAM_SUCCESS => PAM_SUCCESS,
        PAM_NEW_AUTHTOK_REQD | PAM_PERM_DENIED => {
            pam.tell(&format!("proxid: {}", v.message));
            pam.fail_delay(FAIL_DELAY_USEC);
            v.code
        }
        code => {
            pam.fail_delay(FAIL_DELAY_USEC);
            code
        }
    }
}

fn account(pam: &Pam, _args: Args) -> c_int {
    let user = match pam.user() {
        Ok(u) => u,
        Err(code) => return code,
    };
    let (service, rhost, ruser) = items(pam);
    let v = ask(
        pam,
        &Request::Account {
            user,
            service,
            rhost,
            ruser,
        },
    );
    if v.code == PAM_PERM_DENIED {
        pam.tell(&format!("proxid: {}", v.message));
    }
    v.code
}

fn open_session(pam: &Pam, args: Args) -> c_int {
    if args.impersonate {
        // sudo switches PAM_USER to the target just before the session stack. It
        // ignores PAM_SESSION_ERR, so a refusal must be something else.
        let v = impersonate(pam);
        match v.code {
            PAM_SUCCESS => {}
            PAM_AUTHINFO_UNAVAIL => {
                pam.tell(&format!("proxid: {}", v.message));
                return PAM_AUTHINFO_UNAVAIL;
            }
            _ => {
                pam.tell(&format!("proxid: {}", v.message));
                return PAM_PERM_DENIED;
            }
        }
    }
    if !args.mkhomedir {
        return if args.impersonate {
            PAM_SUCCESS
        } else {
            PAM_IGNORE
        };
    }
    let user = match pam.user() {
        Ok(u) => u,
        Err(code) => return code,
    };
    let entry = match client::call(&client::socket_path(), &Request::GetPwNam(user), TIMEOUT) {
        Ok(Response::Passwd(p)) => p,
        // Not a directory user: not ours to make a home for.
        Ok(Response::NotFound) => return PAM_IGNORE,
        Ok(_) | Err(_) => {
            pam.log(true, "pam_proxid: mkhomedir: proxidd did not answer");
            return PAM_SESSION_ERR;
        }
    };
    match home::ensure(entry.dir.as_bytes(), entry.uid, entry.gid) {
        Ok(true) => {
            pam.log(false, &format!("pam_proxid: created {}", entry.dir));
            PAM_SUCCESS
        }
        Ok(false) => PAM_SUCCESS,
        Err(why) => {
            pam.log(true, &format!("pam_proxid: mkhomedir: {why}"));
            pam.tell(&format!("proxid: {why}"));
            PAM_SESSION_ERR
        }
    }
}

fn chauthtok(pam: &Pam, _args: Args) -> c_int {
    let user = match pam.user() {
        Ok(u) => u,
        Err(_) => return PAM_IGNORE,
    };
    match client::call(&client::socket_path(), &Request::GetPwNam(user), TIMEOUT) {
        Ok(Response::Passwd(_)) => {
            pam.tell("proxid: this password lives in the directory; change it there");
            PAM_AUTHTOK_ERR
        }
        _ => PAM_IGNORE,
    }
}

/// # Safety
/// Called by libpam with its handle and the module arguments.
#[no_mangle]
pub unsafe extern "C" fn pam_sm_authenticate(
    pamh: *mut PamHandle,
    flags: c_int,
    argc: c_int,
    argv: *const *const c_char,
) -> c_int {
    boundary(pamh, flags, argc, argv, authenticate)
}

/// Always `PAM_SUCCESS`: libpam replays setcred for every auth module that ran, and
/// su fails a login whose setcred fails.
///
/// # Safety
/// Called by libpam.
#[no_mangle]
pub unsafe extern "C" fn pam_sm_setcred(
    _pamh: *mut PamHandle,
    _flags: c_int,
    _argc: c_int,
    _argv: *const *const c_char,
) -> c_int {
    PAM_SUCCESS
}

/// # Safety
/// Called by libpam with its handle and the module arguments.
#[no_mangle]
pub unsafe extern "C" fn pam_sm_acct_mgmt(
    pamh: *mut PamHandle,
    flags: c_int,
    argc: c_int,
    argv: *const *const c_char,
) -> c_int {
    boundary(pamh, flags, argc, argv, account)
}

/// # Safety
/// Called by libpam with its handle and the module arguments.
#[no_mangle]
pub unsafe extern "C" fn pam_sm_open_session(
    pamh: *mut PamHandle,
    flags: c_int,
    argc: c_int,
    argv: *const *const c_char,
) -> c_int {
    boundary(pamh, flags, argc, argv, open_session)
}

/// # Safety
/// Called by libpam.
#[no_mangle]
pub unsafe extern "C" fn pam_sm_close_session(
    _pamh: *mut PamHandle,
    _flags: c_int,
    _argc: c_int,
    _argv: *const *const c_char,
) -> c_int {
    PAM_SUCCESS
}

/// Password changes are not supported: `PAM_IGNORE` for users proxid does not serve
/// (so `passwd` keeps working for local users), `PAM_AUTHTOK_ERR` with a message for
/// directory users.
///
/// # Safety
/// Called by libpam with its handle and the module arguments.
#[no_mangle]
pub unsafe extern "C" fn pam_sm_chauthtok(
    pamh: *mut PamHandle,
    flags: c_int,
    argc: c_int,
    argv: *const *const c_char,
) -> c_int {
    boundary(pamh, flags, argc, argv, chauthtok)
}
