//! Impersonation decisions: Hadoop proxy-user rules, protected identities, the
//! superuser, run-as-self, and the audit line every decision leaves.
//!
//! The order of checks, each one final:
//! 1. The proxy and target names and the host are validated (bad input is an error,
//!    not a decision).
//! 2. The target is resolved; a target nobody knows is denied, reason `not_found`.
//! 3. The configured `superuser` may act as anyone, root included, from any host.
//!    Only the target's IDs are ever compared below, so the superuser's own
//!    membership in GID 0 (MapR's `mapr` is in it) never counts against it.
//! 4. Protected identities: denied (`protected_identity`) when the target's UID is
//!    0 or a protected user's UID, or its primary GID or any supplementary GID is 0
//!    or a protected group's GID. root and the superuser are always protected. This
//!    is proxid's own rule and stricter than Hadoop, which lets `groups=*` reach
//!    root. It is a refusal even with `on_unauthorized = "run-as-self"`.
//! 5. The proxy-user rules (see [`rules`], [`hosts`] and [`core_site`] for how
//!    each corner case is read): users before hosts.
//! 6. Not authorized: `deny`, or `run-as-self`: proceed as the proxy itself
//!    ([`Verdict::RunAsSelf`], the proxy's identity as the effective one; a proxy
//!    that does not resolve is denied, reason `proxy_not_found`).
//!
//! Then, when `audit_log` is set, the decision is appended to it; if that fails the
//! decision becomes a denial with reason `audit_failed` (fail closed).
//!
//! Names are taken as short names: a caller holding a Kerberos principal maps it
//! with [`Resolver::short_name`] first, as Hadoop does before its lookup.
//! The rule set (proxid.conf rules, the core-site.xml import, host names resolved
//! to addresses) is built once per `Resolver`, on the first decision; to reload
//! the rules, build a new `Resolver` (Hadoop's `refreshSuperUserGroupsConfiguration`).

pub mod admit;
pub mod core_site;
pub mod hosts;
pub mod rules;
pub mod scopes;

#[cfg(test)]
mod tests;

use std::sync::OnceLock;

use serde::Serialize;

use crate::config::OnUnauthorized;
use crate::error::{Error, Result};
use crate::identity::{validate_name, Identity};
use crate::resolver::Engine;
use hosts::Lookup;
use rules::{LoadError, RuleSet};

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
    /// The rule that decided: `proxy livy (proxid.conf)`, `hadoop.proxyuser.livy
    /// (/etc/hadoop/conf/core-site.xml)`, `superuser mapr`,
    /// `impersonation.protected_users` or `impersonation.protected_groups`.
    pub rule: Option<String>,
    /// Why: a code, sometimes followed by `: detail`. Allowed: `superuser`,
    /// `any_user`, `user_listed`, `group_listed: G`, `uid_in_scope: uid N in R`,
    /// `gid_in_scope: gid N in R`. Denied or run-as-self:
    /// `no_rule`, `user_not_allowed`, `host_not_allowed[: detail]`. Denied only:
    /// `not_found`, `protected_identity: uid N` or `gid N` (followed by the
    /// protected name it came from, except for 0), `proxy_not_found`,
    /// `audit_failed: detail`.
    pub reason: String,
}

/// The rule set of a `Resolver`, built on first use and kept.
#[derive(Debug, Default)]
pub(crate) struct PolicyCell(OnceLock<std::result::Result<RuleSet, LoadError>>);

impl Decision {
    fn new(proxy: &str, user: &str, host: &str, verdict: Verdict, reason: String) -> Decision {
        Decision {
            verdict,
            proxy: proxy.to_string(),
            user: user.to_string(),
            host: host.to_string(),
            effective_user: String::new(),
            effective: None,
            rule: None,
            reason,
        }
    }

    fn acting_as(mut self, identity: Identity) -> Decision {
        self.effective_user = identity.name.clone();
        self.effective = Some(identity);
        self
    }

    fn by(mut self, rule: Option<String>) -> Decision {
        self.rule = rule;
        self
    }
}

impl Engine {
    /// May `proxy` impersonate `user` from `host`? Deny unless a rule allows.
    ///
    /// `host` is the request's peer address (IPv4 or IPv6 literal); a host name is
    /// accepted and resolved forward. Errors (`Err`) are not decisions: invalid
    /// names or host, a broken rule set (`Error::Config`), or a source that could
    /// not answer. A target that does not exist is a decision: denied, `not_found`.
    pub fn authorize(&self, proxy: &str, user: &str, host: &str) -> Result<Decision> {
        self.authorize_with(proxy, user, host, &hosts::system_lookup)
    }

    /// [`Resolver::authorize`] with an injected host-name lookup (tests).
    pub(crate) fn authorize_with(
        &self,
        proxy: &str,
        user: &str,
        host: &str,
        lookup: Lookup<'_>,
    ) -> Result<Decision> {
        let decision = self.decide(proxy, user, host, lookup)?;
        Ok(self.audited(decision))
    }

    /// Builds the proxy-user rule set now rather than on the first decision, so a
    /// malformed core-site.xml or CIDR block shows at start-up (`Error::Config`).
    /// Resolves the host names in the rules. Returns how many rules are in force.
    pub fn check_policy(&self) -> Result<usize> {
        self.check_scopes()?;
        self.rule_set(&hosts::system_lookup).map(RuleSet::len)
    }

    /// The rule set, built on first use with `lookup` resolving host names.
    fn rule_set(&self, lookup: Lookup<'_>) -> Result<&RuleSet> {
        match self
            .policy
            .0
            .get_or_init(|| RuleSet::build(self.config(), lookup))
        {
            Ok(rules) => Ok(rules),
            Err(e) => Err(Error::config(e.file.clone(), e.message.clone())),
        }
    }

    fn decide(&self, proxy: &str, user: &str, host: &str, lookup: Lookup<'_>) -> Result<Decision> {
        validate_name(proxy.as_bytes())?;
        validate_name(user.as_bytes())?;
        let host_spec = hosts::parse_host(host)
            .map_err(|why| Error::InvalidArgument(format!("host: {why}")))?;
        let rules = self.rule_set(lookup)?;
        self.check_scopes()?;
        let decision =
            |verdict, reason: &str| Decision::new(proxy, user, host, verdict, reason.into());

        let target = match self.resolve(user) {
            Ok(id) => id,
            Err(Error::NotFound { .. }) => return Ok(decision(Verdict::Denied, "not_found")),
            Err(e) => return Err(e),
        };
        let imp = &self.config().impersonation;
        if imp.superuser.as_deref() == Some(proxy) {
            return Ok(decision(Verdict::Allowed, "superuser")
                .acting_as(target)
                .by(Some(format!("superuser {proxy}"))));
        }
        if let Some((rule, why)) = self.protection(&target)? {
            return Ok(
                decision(Verdict::Denied, &format!("protected_identity: {why}")).by(Some(rule)),
            );
        }
        let refusal = match rules.check(proxy, user, &target, &host_spec, lookup) {
            Ok(grant) => {
                return Ok(decision(Verdict::Allowed, &grant.reason)
                    .acting_as(target)
                    .by(Some(grant.rule)))
            }
            Err(refusal) => refusal,
        };
        let denied = decision(Verdict::Denied, &refusal.reason).by(refusal.rule.clone());
        match imp.on_unauthorized {
            OnUnauthorized::Deny => Ok(denied),
            OnUnauthorized::RunAsSelf => match self.resolve(proxy) {
                Ok(me) => Ok(decision(Verdict::RunAsSelf, &refusal.reason)
                    .acting_as(me)
                    .by(refusal.rule)),
                Err(Error::NotFound { .. }) => Ok(Decision {
                    reason: "proxy_not_found".into(),
                    ..denied
                }),
                Err(e) => Err(e),
            },
        }
    }

    /// Whether `target` is a protected identity: `(rule, detail)` when it is.
    /// Protected names that do not resolve protect nothing (no ID can be theirs);
    /// a source that cannot answer is an error, never a pass.
    fn protection(&self, target: &Identity) -> Result<Option<(String, String)>> {
        const USERS: &str = "impersonation.protected_users";
        const GROUPS: &str = "impersonation.protected_groups";
        let gids = target.gids();
        if target.uid == 0 {
            return Ok(Some((USERS.into(), "uid 0".into())));
        }
        let imp = &self.config().impersonation;
        for name in &imp.protected_users {
            match self.resolve(name) {
                Ok(p) if p.uid == target.uid => {
                    return Ok(Some((USERS.into(), format!("uid {} ({name})", p.uid))))
                }
                Ok(_) | Err(Error::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        // UIDs first, so a protected user in GID 0 is reported as that user.
        if gids.contains(&0) {
            return Ok(Some((GROUPS.into(), "gid 0".into())));
        }
        for name in &imp.protected_groups {
            match self.group(name) {
                Ok(g) if gids.contains(&g.gid) => {
                    return Ok(Some((GROUPS.into(), format!("gid {} ({name})", g.gid))))
                }
                Ok(_) | Err(Error::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }

    /// Writes the audit line; a decision that cannot be audited is a denial.
    fn audited(&self, decision: Decision) -> Decision {
        let Some(path) = &self.config().impersonation.audit_log else {
            return decision;
        };
        match crate::audit::append(path, &decision) {
            Ok(()) => decision,
            Err(e) => Decision {
                verdict: Verdict::Denied,
                effective_user: String::new(),
                effective: None,
                reason: format!("audit_failed: {}: {e}", path.display()),
                ..decision
            },
        }
    }
}
