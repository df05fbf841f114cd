//! Impersonation decisions: Hadoop proxy-user rules, protected identities, the
//! superuser, run-as-self. (Stub: the impersonation issue fills this in.)

use serde::Serialize;

use crate::error::{Error, Result};
use crate::identity::Identity;
use crate::resolver::Resolver;

/// The outcome of an impersonation request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Act as the target user.
    Allowed,
    /// Refuse the request.
    Denied,
    /// Not authorized, but proceed as the proxy itself (`on_unauthorized = "run-as-self"`).
    RunAsSelf,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Allowed => "allowed",
            Verdict::Denied => "denied",
            Verdict::RunAsSelf => "run_as_self",
        }
    }
}

/// A decision with everything the audit log and the caller need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub verdict: Verdict,
    pub proxy: String,
    pub user: String,
    pub host: String,
    /// Who the operation runs as: the target when allowed, the proxy for run-as-self,
    /// empty when denied.
    pub effective_user: String,
    /// The identity behind `effective_user`, when there is one.
    pub effective: Option<Identity>,
    /// The rule that decided, e.g. `proxy livy (proxid.conf)`.
    pub rule: Option<String>,
    /// Why, in a word or a phrase (`not_found`, `host not allowed`, ...).
    pub reason: String,
}

impl Resolver {
    /// May `proxy` impersonate `user` from `host`? Deny unless a rule allows.
    pub fn authorize(&self, proxy: &str, user: &str, host: &str) -> Result<Decision> {
        let _ = (proxy, user, host);
        Err(Error::InvalidArgument(
            "authorize: not implemented yet".into(),
        ))
    }
}
