//! The daemon's side of `pam_proxid.so`: turns the PAM requests of the wire protocol
//! (`Authenticate`, `Account`, `Impersonate`) into [`crate::auth`] calls and their
//! answers into `Response::Verdict` with Linux-PAM's numbers. `proxidd` hands every
//! PAM request here with the peer's UID from `SO_PEERCRED`; nothing in the request
//! says who the caller is.
//!
//! Failed password checks are throttled per (peer UID, user): after 5 within a
//! minute, each further check waits 1 s first (see [`crate::auth::Throttle`]).

use std::path::PathBuf;

use proxid_proto::{Request, Response};
use zeroize::Zeroize;

use crate::auth::{PamAnswer, PamCode, PamEvent, PamRequest, Throttle};
use crate::proxid::Proxid;

/// Linux-PAM's numbers for the codes the daemon answers with.
pub fn pam_number(code: PamCode) -> u32 {
    match code {
        PamCode::Success => 0,
        PamCode::PermDenied => 6,
        PamCode::AuthErr => 7,
        PamCode::AuthinfoUnavail => 9,
        PamCode::UserUnknown => 10,
        PamCode::NewAuthtokReqd => 12,
    }
}

/// State the PAM requests keep between calls (the failure throttle), and where the
/// local users are named from. Users in `[daemon] filter_users` (and root, always)
/// are never served: `PAM_USER_UNKNOWN`, reason `filtered`.
#[derive(Debug)]
pub struct PamService {
    throttle: Throttle,
    passwd_file: PathBuf,
}

impl Default for PamService {
    fn default() -> Self {
        PamService {
            throttle: Throttle::default(),
            passwd_file: PathBuf::from("/etc/passwd"),
        }
    }
}

impl PamService {
    /// Names proxies from another passwd-format file (tests).
    pub fn with_passwd_file(mut self, file: PathBuf) -> PamService {
        self.passwd_file = file;
        self
    }

    /// The answer to a PAM request, or `None` for any other kind. Blocks the calling
    /// thread for the directory round trips (and the throttle's delay).
    pub fn answer(
        &self,
        resolver: &Proxid,
        request: &mut Request,
        peer_uid: u32,
    ) -> Option<Response> {
        let answer = match request {
            Request::Authenticate {
                user,
                password,
                service,
                rhost,
                ruser,
            } => {
                let req = pam_request(user, service, rhost, ruser, peer_uid);
                let answer = self.authenticate(resolver, &req, password);
                password.zeroize();
                answer
            }
            Request::Account {
                user,
                service,
                rhost,
                ruser,
            } => {
                let req = pam_request(user, service, rhost, ruser, peer_uid);
                if is_filtered(resolver, &req) {
                    resolver.pam_filtered(PamEvent::Account, &req)
                } else {
                    resolver.pam_account(&req)
                }
            }
            Request::Impersonate {
                proxy_uid,
                user,
                host,
                service,
                ruser,
            } => {
                let req = pam_request(user, service, host, ruser, peer_uid);
                match resolver.pam_proxy(peer_uid, *proxy_uid, &self.passwd_file) {
                    Ok(proxy) => resolver.pam_impersonate(&req, &proxy),
                    Err(e) => resolver.pam_refused(
                        PamEvent::Impersonate,
                        &req,
                        match e {
                            crate::Error::NotFound { .. } => PamCode::PermDenied,
                            _ => PamCode::AuthinfoUnavail,
                        },
                        &format!(
                            "proxy_unknown: uid {}: {e}",
                            if peer_uid == 0 { *proxy_uid } else { peer_uid }
                        ),
                    ),
                }
            }
            _ => return None,
        };
        Some(Response::Verdict {
            code: pam_number(answer.code),
            message: answer.reason,
        })
    }

    fn authenticate(&self, resolver: &Proxid, req: &PamRequest, password: &[u8]) -> PamAnswer {
        if is_filtered(resolver, req) {
            return resolver.pam_filtered(PamEvent::Auth, req);
        }
        let user = String::from_utf8_lossy(&req.user).into_owned();
        let delay = self
            .throttle
            .delay(req.peer_uid, &user, resolver.resolver().clock.now());
        if !delay.is_zero() {
            std::thread::sleep(delay);
        }
        let answer = resolver.pam_authenticate(req, password);
        let failed = matches!(answer.code, PamCode::AuthErr);
        self.throttle
            .record(req.peer_uid, &user, failed, resolver.resolver().clock.now());
        answer
    }
}

fn is_filtered(resolver: &Proxid, req: &PamRequest) -> bool {
    resolver.pam_is_filtered(req)
}

fn text(bytes: &[u8]) -> Option<String> {
    (!bytes.is_empty()).then(|| String::from_utf8_lossy(bytes).into_owned())
}

fn pam_request(
    user: &[u8],
    service: &[u8],
    rhost: &[u8],
    ruser: &[u8],
    peer_uid: u32,
) -> PamRequest {
    PamRequest {
        user: user.to_vec(),
        service: String::from_utf8_lossy(service).into_owned(),
        rhost: text(rhost),
        ruser: text(ruser),
        peer_uid,
    }
}
