//! Directory logins and launcher impersonation, as the PAM module asks for them
//! through `proxidd`: the rules live here, the daemon and the module only carry them.
//!
//! - `authenticate`: an LDAP simple bind as the user's DN ([`PasswordCheck`]). Empty
//!   passwords, root, the superuser and protected identities never reach a bind.
//! - `account`: the user must resolve from the directory, not be protected, and be in
//!   one of `[pam] allowed_groups` (empty: nobody, fail closed).
//! - `impersonate`: the policy's decision for (proxy, target, host).
//!
//! Every attempt leaves one JSON line in `audit_log` (`time, event, user, service,
//! rhost, ruser, peer_uid, result, reason`); a line that cannot be written turns the
//! answer into a refusal. The password is never logged, kept or compared here.

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;
use serde_json::json;

use crate::error::{Error, Result};
use crate::identity::validate_name;
use crate::policy::audit;
use crate::policy::{Directory, Policy, Verdict};

/// Kept here too: what a directory says about a password is the PAM rules' input.
pub use crate::identity::PasswordCheck;

/// The answer to a PAM request, in PAM's terms (the module turns it into the
/// number of its libpam).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PamCode {
    Success,
    AuthErr,
    UserUnknown,
    AuthinfoUnavail,
    PermDenied,
    NewAuthtokReqd,
}

impl PamCode {
    /// The word used in the audit line's `result`.
    pub fn as_str(self) -> &'static str {
        match self {
            PamCode::Success => "success",
            PamCode::AuthErr => "auth_err",
            PamCode::UserUnknown => "user_unknown",
            PamCode::AuthinfoUnavail => "authinfo_unavail",
            PamCode::PermDenied => "perm_denied",
            PamCode::NewAuthtokReqd => "new_authtok_reqd",
        }
    }
}

/// Which PAM step asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PamEvent {
    Auth,
    Account,
    Impersonate,
}

impl PamEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            PamEvent::Auth => "auth",
            PamEvent::Account => "account",
            PamEvent::Impersonate => "impersonate",
        }
    }
}

/// Who asks, as the daemon knows it: the PAM items the module sent and the peer's
/// UID from `SO_PEERCRED` (never from the request).
#[derive(Debug, Clone, Default)]
pub struct PamRequest {
    /// `PAM_USER` as the application gave it (raw bytes: not trusted to be UTF-8).
    pub user: Vec<u8>,
    pub service: String,
    pub rhost: Option<String>,
    pub ruser: Option<String>,
    pub peer_uid: u32,
}

/// The answer: a code, and why (the audit `reason`, also shown to the user on
/// refusals that are not secret, such as `allowed_groups`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PamAnswer {
    pub code: PamCode,
    pub reason: String,
}

impl PamAnswer {
    fn new(code: PamCode, reason: impl Into<String>) -> PamAnswer {
        PamAnswer {
            code,
            reason: reason.into(),
        }
    }
}

fn unavailable(e: &Error) -> PamAnswer {
    PamAnswer::new(PamCode::AuthinfoUnavail, format!("unavailable: {e}"))
}

/// The PAM rules over one configuration's directory and policy (the façade pairs
/// them: [`crate::Proxid`]'s `pam_*` methods).
pub(crate) struct Pam<'a> {
    pub(crate) dir: &'a dyn Directory,
    pub(crate) policy: &'a Policy,
}

impl Pam<'_> {
    /// Checks `password` for `req.user` with a bind to the directory. Audited.
    pub fn pam_authenticate(&self, req: &PamRequest, password: &[u8]) -> PamAnswer {
        let answer = self.authenticate_inner(req, password);
        self.pam_audited(PamEvent::Auth, req, answer)
    }

    fn authenticate_inner(&self, req: &PamRequest, password: &[u8]) -> PamAnswer {
        if password.is_empty() {
            return PamAnswer::new(PamCode::AuthErr, "empty_password");
        }
        let name = match self.directory_user(&req.user) {
            Ok(name) => name,
            Err(answer) => return answer,
        };
        // ldap3 takes the password as text; a password that is not UTF-8 cannot be
        // sent as the user typed it, so it cannot be right.
        let Ok(password) = std::str::from_utf8(password) else {
            return PamAnswer::new(PamCode::AuthErr, "password_not_utf8");
        };
        match self.dir.check_password(&name, password) {
            Ok(PasswordCheck::Ok) => PamAnswer::new(PamCode::Success, "password_ok"),
            Ok(PasswordCheck::WrongPassword) => PamAnswer::new(PamCode::AuthErr, "wrong_password"),
            Ok(PasswordCheck::UserUnknown) => PamAnswer::new(PamCode::UserUnknown, "not_found"),
            Ok(PasswordCheck::Locked) => PamAnswer::new(PamCode::PermDenied, "account_locked"),
            Ok(PasswordCheck::Expired) => {
                PamAnswer::new(PamCode::NewAuthtokReqd, "password_expired")
            }
            Err(Error::Directory { detail }) => {
                PamAnswer::new(PamCode::UserUnknown, format!("directory: {detail}"))
            }
            Err(e) => unavailable(&e),
        }
    }

    /// May `req.user` log in through the directory? Audited.
    pub fn pam_account(&self, req: &PamRequest) -> PamAnswer {
        let answer = self.account_inner(req);
        self.pam_audited(PamEvent::Account, req, answer)
    }

    fn account_inner(&self, req: &PamRequest) -> PamAnswer {
        let name = match self.directory_user(&req.user) {
            Ok(name) => name,
            Err(answer) => return answer,
        };
        let allowed = &self.policy.config().pam.allowed_groups;
        if allowed.is_empty() {
            return PamAnswer::new(
                PamCode::PermDenied,
                "no_allowed_groups: nobody may log in through proxid until \
                 [pam] allowed_groups is set in proxid.conf",
            );
        }
        let identity = match self.dir.resolve(&name) {
            Ok(id) => id,
            Err(Error::NotFound { .. }) => {
                return PamAnswer::new(PamCode::UserUnknown, "not_found")
            }
            Err(e) => return unavailable(&e),
        };
        match identity.groups.iter().find(|g| allowed.contains(&g.name)) {
            Some(g) => PamAnswer::new(PamCode::Success, format!("group_allowed: {}", g.name)),
            None => PamAnswer::new(
                PamCode::PermDenied,
                format!(
                    "not_in_allowed_groups: {name} is in none of [pam] allowed_groups ({})",
                    allowed.join(", ")
                ),
            ),
        }
    }

    /// May `proxy` act as `req.user` (a launcher: su, sudo)? The host is `req.rhost`,
    /// else `127.0.0.1`. The caller names the proxy with [`Pam::pam_proxy`].
    /// Allowed is `Success`; denied and run-as-self are `PermDenied` with the reason;
    /// a target that is not valid or not known is `UserUnknown`. Audited.
    pub fn pam_impersonate(&self, req: &PamRequest, proxy: &str) -> PamAnswer {
        let answer = self.impersonate_inner(req, proxy);
        self.pam_audited(PamEvent::Impersonate, req, answer)
    }

    fn impersonate_inner(&self, req: &PamRequest, proxy: &str) -> PamAnswer {
        let Ok(user) = validate_name(&req.user) else {
            return PamAnswer::new(PamCode::UserUnknown, "invalid_name");
        };
        let host = req
            .rhost
            .as_deref()
            .filter(|h| !h.is_empty())
            .unwrap_or("127.0.0.1");
        if user == proxy {
            return PamAnswer::new(
                PamCode::PermDenied,
                format!("run_as_self: {proxy} asks to run as itself"),
            );
        }
        match self.policy.decide_unaudited(self.dir, proxy, user, host) {
            Ok(d) => match d.verdict {
                Verdict::Allowed => PamAnswer::new(
                    PamCode::Success,
                    format!("allowed: proxy {proxy}: {}", d.reason),
                ),
                Verdict::Denied => PamAnswer::new(
                    PamCode::PermDenied,
                    format!("denied: proxy {proxy}: {}", d.reason),
                ),
                Verdict::RunAsSelf => PamAnswer::new(
                    PamCode::PermDenied,
                    format!("run_as_self: proxy {proxy}: {}", d.reason),
                ),
            },
            Err(e @ (Error::InvalidName { .. } | Error::InvalidArgument(_))) => {
                PamAnswer::new(PamCode::UserUnknown, format!("invalid: {e}"))
            }
            Err(e) => unavailable(&e),
        }
    }

    /// The proxy of an impersonation request, never taken on the caller's word: a
    /// peer that is not root is itself the proxy; a root peer (a setuid launcher)
    /// sends its real UID (`getuid()`). The UID is named from `passwd_file` (normally
    /// `/etc/passwd`, read directly, never through NSS, which may be us), else from the
    /// directory. PAM_RUSER adds nothing: it only counts when it names this same user.
    pub fn pam_proxy(&self, peer_uid: u32, sent_uid: u32, passwd_file: &Path) -> Result<String> {
        let uid = if peer_uid == 0 { sent_uid } else { peer_uid };
        match passwd_name(passwd_file, uid) {
            Some(name) => Ok(name),
            None => Ok(self.dir.resolve_uid(uid)?.name),
        }
    }

    /// Whether the daemon never serves `req.user`: root, always, and the users in
    /// `[daemon] filter_users` (the caller then answers with [`Pam::pam_filtered`]).
    pub fn pam_is_filtered(&self, req: &PamRequest) -> bool {
        req.user == b"root"
            || self
                .policy
                .config()
                .daemon
                .filter_users
                .iter()
                .any(|n| n.as_bytes() == req.user)
    }

    /// A request refused before any rule ran (the daemon's `filter_users`): audited
    /// as `user_unknown`, reason `filtered`.
    pub fn pam_filtered(&self, event: PamEvent, req: &PamRequest) -> PamAnswer {
        self.pam_refused(event, req, PamCode::UserUnknown, "filtered")
    }

    /// A request the caller refused itself (an impersonation whose proxy cannot be
    /// named): audited like every other attempt.
    pub fn pam_refused(
        &self,
        event: PamEvent,
        req: &PamRequest,
        code: PamCode,
        reason: &str,
    ) -> PamAnswer {
        self.pam_audited(event, req, PamAnswer::new(code, reason))
    }

    /// The name of a user the directory may speak for, or the answer refusing it:
    /// invalid names, root, the superuser and protected identities are `UserUnknown`
    /// (local modules decide for them), a source that cannot answer is unavailable.
    fn directory_user(&self, raw: &[u8]) -> std::result::Result<String, PamAnswer> {
        let name = validate_name(raw)
            .map_err(|_| PamAnswer::new(PamCode::UserUnknown, "invalid_name"))?
            .to_string();
        let imp = &self.policy.config().impersonation;
        if name == "root"
            || imp.superuser.as_deref() == Some(name.as_str())
            || imp.protected_users.contains(&name)
        {
            return Err(PamAnswer::new(PamCode::UserUnknown, "protected_identity"));
        }
        if self.dir.source_kind() != "ldap" {
            return Err(PamAnswer::new(
                PamCode::UserUnknown,
                "not_served: proxid resolves from the local registry, not a directory",
            ));
        }
        let identity = match self.dir.resolve(&name) {
            Ok(id) => id,
            Err(Error::NotFound { .. }) => {
                return Err(PamAnswer::new(PamCode::UserUnknown, "not_found"))
            }
            Err(Error::Directory { detail }) => {
                return Err(PamAnswer::new(
                    PamCode::UserUnknown,
                    format!("directory: {detail}"),
                ))
            }
            Err(e) => return Err(unavailable(&e)),
        };
        match self.policy.protection(self.dir, &identity) {
            Ok(None) => Ok(identity.name),
            Ok(Some((rule, why))) => Err(PamAnswer::new(
                PamCode::UserUnknown,
                format!("protected_identity: {why} ({rule})"),
            )),
            Err(e) => Err(unavailable(&e)),
        }
    }

    /// Writes the audit line; an answer that cannot be audited is a refusal.
    fn pam_audited(&self, event: PamEvent, req: &PamRequest, answer: PamAnswer) -> PamAnswer {
        let Some(path) = &self.policy.config().impersonation.audit_log else {
            return answer;
        };
        let line = pam_audit_line(event, req, &answer, self.policy.clock().wall());
        match audit::append_text(path, &line) {
            Ok(()) => answer,
            Err(e) if answer.code == PamCode::Success => PamAnswer::new(
                PamCode::PermDenied,
                format!("audit_failed: {}: {e}", path.display()),
            ),
            Err(_) => answer,
        }
    }
}

/// The audit line of one PAM attempt, without the trailing newline. Names that are
/// not UTF-8 are written lossily (JSON cannot carry them); control characters are
/// escaped by JSON, so one attempt is one line.
pub fn pam_audit_line(
    event: PamEvent,
    req: &PamRequest,
    answer: &PamAnswer,
    now: SystemTime,
) -> String {
    json!({
        "time": audit::rfc3339_utc(now),
        "event": event.as_str(),
        "user": String::from_utf8_lossy(&req.user),
        "service": req.service,
        "rhost": req.rhost,
        "ruser": req.ruser,
        "peer_uid": req.peer_uid,
        "result": answer.code.as_str(),
        "reason": answer.reason,
    })
    .to_string()
}

/// The name of `uid` in a passwd-format file, read directly (not through NSS).
pub fn passwd_name(file: &Path, uid: u32) -> Option<String> {
    let text = std::fs::read(file).ok()?;
    text.split(|b| *b == b'\n').find_map(|line| {
        let mut fields = line.split(|b| *b == b':');
        let name = fields.next()?;
        let _password = fields.next()?;
        let found: u32 = std::str::from_utf8(fields.next()?).ok()?.parse().ok()?;
        let name = std::str::from_utf8(name).ok()?;
        (found == uid && validate_name(name.as_bytes()).is_ok()).then(|| name.to_string())
    })
}

/// Failed password checks per (peer UID, target user), as pam_faillock keys on the
/// user: after `LIMIT` failures within `WINDOW`, each further attempt waits `DELAY`
/// before it is checked. Keyed on the pair, not the peer alone, so one attacker
/// behind a shared front end (JupyterHub sends every login from one UID) slows only
/// the names it attacks. Time is a parameter, so tests never sleep.
#[derive(Debug, Default)]
pub struct Throttle {
    failures: Mutex<HashMap<(u32, String), VecDeque<Instant>>>,
}

impl Throttle {
    pub const LIMIT: usize = 5;
    pub const WINDOW: Duration = Duration::from_secs(60);
    pub const DELAY: Duration = Duration::from_secs(1);
    /// Keys kept at most; beyond this the oldest-looking entries are dropped.
    const MAX_KEYS: usize = 10_000;

    /// How long the next attempt for this pair must wait.
    pub fn delay(&self, peer_uid: u32, user: &str, now: Instant) -> Duration {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let Some(times) = map.get_mut(&(peer_uid, user.to_string())) else {
            return Duration::ZERO;
        };
        times.retain(|t| now.saturating_duration_since(*t) < Self::WINDOW);
        if times.len() >= Self::LIMIT {
            Self::DELAY
        } else {
            Duration::ZERO
        }
    }

    /// Records the outcome of an attempt: a success forgets the pair's failures.
    pub fn record(&self, peer_uid: u32, user: &str, failed: bool, now: Instant) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let key = (peer_uid, user.to_string());
        if !failed {
            map.remove(&key);
            return;
        }
        if map.len() >= Self::MAX_KEYS && !map.contains_key(&key) {
            map.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|t| now.saturating_duration_since(*t) < Self::WINDOW)
            });
            if map.len() >= Self::MAX_KEYS {
                map.clear();
            }
        }
        let times = map.entry(key).or_default();
        times.push_back(now);
        while times.len() > Self::LIMIT * 2 {
            times.pop_front();
        }
    }
}

#[cfg(test)]
mod tests;
