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
//! 4. Protected identities ([`protected`]): denied (`protected_identity`) when the
//!    target's UID is 0 or a protected user's UID, or its primary GID, any
//!    supplementary GID or any directory GID below `min_gid` it is listed in is 0 or
//!    a protected group's GID. root (by number) and the superuser are always
//!    protected; a protected name that cannot be resolved makes the decision an
//!    error. This is proxid's own rule and stricter than Hadoop, which lets
//!    `groups=*` reach root. It is a refusal even with
//!    `on_unauthorized = "run-as-self"`.
//! 5. The proxy-user rules (see `src/policy/rules.rs`, `hosts/` and `src/core_site.rs`
//!    for how each corner case is read; scopes in `scopes.rs`): users before hosts.
//! 6. Not authorized: `deny`, or `run-as-self`: proceed as the proxy itself
//!    ([`Verdict::RunAsSelf`], the proxy's identity as the effective one; a proxy
//!    that does not resolve is denied, reason `proxy_not_found`).
//!
//! Then, when `audit_log` is set, the decision is appended to it; if that fails the
//! decision becomes a denial with reason `audit_failed` (fail closed).
//!
//! Names are taken as short names: a caller holding a Kerberos principal maps it
//! with [`crate::Proxid::short_name`] first, as Hadoop does before its lookup.
//! The rule set (proxid.conf rules, the core-site.xml import, host names resolved
//! to addresses) is built once per [`Policy`], on the first decision; a reload of
//! [`crate::Proxid`] builds a new one (Hadoop's `refreshSuperUserGroupsConfiguration`).
//!
//! The policy looks identities up through [`Directory`], never through the resolver
//! itself: this layer sits above the identity layer and names nothing of it.

pub mod admit;
pub(crate) mod audit;
mod directory;
pub(crate) mod hosts;
pub mod protected;
pub(crate) mod rules;
pub(crate) mod scopes;

#[cfg(test)]
mod tests;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use once_cell::race::OnceBox;

use serde::Serialize;

use crate::clock::{Clock, SystemClock};
use crate::config::{Config, OnUnauthorized};
use crate::error::{Error, Result};
use crate::identity::{validate_name, Identity};
pub use directory::Directory;
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
    /// The word used in JSON and the audit line: `allowed`, `denied`, `run_as_self`.
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
    /// Allowed, denied, or run as the proxy itself.
    pub verdict: Verdict,
    /// The proxy (the real user) as asked.
    pub proxy: String,
    /// The target user as asked.
    pub user: String,
    /// The request's host as given.
    pub host: String,
    /// Who the operation runs as: the target when allowed, the proxy for run-as-self,
    /// empty when denied.
    pub effective_user: String,
    /// The identity behind `effective_user`, when there is one. In JSON, its UID
    /// alone: `effective_uid`.
    #[serde(rename = "effective_uid", serialize_with = "uid_of")]
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

/// `Decision::effective` in JSON: the UID alone.
fn uid_of<S: serde::Serializer>(
    effective: &Option<Identity>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    effective.as_ref().map(|id| id.uid).serialize(s)
}

/// Proxy-user rules handed over as Hadoop properties (the `<prefix>.*` keys of a
/// Hadoop `Configuration`), for [`Policy::authorize_with_rules`]. They are used
/// beside proxid.conf's own rules; the superuser, protected identities,
/// `on_unauthorized` and the audit log still come from proxid.conf. Host names in
/// them are resolved once, when they are built.
#[derive(Debug, Clone)]
pub struct ProxyRules(RuleSet);

impl ProxyRules {
    /// The `<prefix>.<S>.users|groups|hosts` properties among `properties` (name,
    /// value pairs; a later pair replaces an earlier one of the same name; other
    /// names are ignored), read as core-site.xml's are (Hadoop's leniency).
    /// `prefix` is `hadoop.proxyuser` for Hadoop's default, with or without the
    /// trailing dot. `source` names the origin in rule labels and errors (e.g.
    /// `Hadoop Configuration`). A value that cannot be read is `Error::Config`.
    pub fn from_properties(
        properties: impl IntoIterator<Item = (String, String)>,
        prefix: &str,
        source: &str,
    ) -> Result<ProxyRules> {
        RuleSet::from_properties(properties, prefix, source, &hosts::system_lookup)
            .map(ProxyRules)
            .map_err(|message| Error::config(source, message))
    }

    /// How many rules there are (one per proxy).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when no property named a proxy rule.
    pub fn is_empty(&self) -> bool {
        self.0.len() == 0
    }
}

/// The rule set of a [`Policy`], built on first use and kept. A racing cell, never a
/// blocking one: two first callers may both build (one result is kept), but nobody
/// ever waits, so a child forked while a parent thread builds cannot hang.
#[derive(Debug, Default)]
struct PolicyCell(OnceBox<std::result::Result<RuleSet, LoadError>>);

/// One configuration's impersonation policy: the `[impersonation]` settings, the
/// proxy-user rule set (built on first use) and whether the scopes were checked.
/// Every decision takes the [`Directory`] to look identities up in.
pub struct Policy {
    config: Arc<Config>,
    /// Stamps the audit lines (the resolver's, so a test moves both).
    clock: Arc<dyn Clock>,
    rules: PolicyCell,
    /// Set once the `uids`/`gids` scopes were checked against the protected IDs.
    scopes_checked: AtomicBool,
}

impl std::fmt::Debug for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policy")
            .field("config", &self.config)
            .field("rules", &self.rules)
            .finish_non_exhaustive()
    }
}

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

impl Policy {
    /// The policy of `config`; nothing is built or resolved yet.
    pub fn new(config: Arc<Config>) -> Policy {
        Policy::with_clock(config, Arc::new(SystemClock::default()))
    }

    /// As [`Policy::new`], stamping audit lines with `clock`.
    pub fn with_clock(config: Arc<Config>, clock: Arc<dyn Clock>) -> Policy {
        Policy {
            config,
            clock,
            rules: PolicyCell::default(),
            scopes_checked: AtomicBool::new(false),
        }
    }

    /// The configuration this policy was built from.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The clock that stamps this policy's audit lines.
    pub fn clock(&self) -> &dyn Clock {
        &*self.clock
    }

    /// The checks [`crate::Proxid::new`] runs when a configuration is loaded: every
    /// protected name resolves, and no scope covers a protected ID.
    pub(crate) fn check_on_load(&self, dir: &dyn Directory) -> Result<()> {
        self.check_protected_names(dir)?;
        // A scope covering a protected ID is refused when the configuration is loaded.
        self.check_scopes(dir)
    }

    /// May `proxy` impersonate `user` from `host`? Deny unless a rule allows.
    ///
    /// `host` is the request's peer address (IPv4 or IPv6 literal); a host name is
    /// accepted and resolved forward. Errors (`Err`) are not decisions: invalid
    /// names or host, a broken rule set (`Error::Config`), or a source that could
    /// not answer. A target that does not exist is a decision: denied, `not_found`.
    pub fn authorize(
        &self,
        dir: &dyn Directory,
        proxy: &str,
        user: &str,
        host: &str,
    ) -> Result<Decision> {
        self.authorize_with(dir, proxy, user, host, &hosts::system_lookup)
    }

    /// [`Policy::authorize`] with an injected host-name lookup (tests).
    pub(crate) fn authorize_with(
        &self,
        dir: &dyn Directory,
        proxy: &str,
        user: &str,
        host: &str,
        lookup: Lookup<'_>,
    ) -> Result<Decision> {
        let decision = self.decide(dir, proxy, user, host, lookup, None)?;
        Ok(self.audited(decision))
    }

    /// [`Policy::authorize`] with `extra` rules beside proxid.conf's (the Hadoop
    /// provider passes its `Configuration`'s rules): allowed when one rule of either
    /// allows both the target and the host.
    pub fn authorize_with_rules(
        &self,
        dir: &dyn Directory,
        extra: &ProxyRules,
        proxy: &str,
        user: &str,
        host: &str,
    ) -> Result<Decision> {
        self.authorize_with_rules_using(dir, &extra.0, proxy, user, host, &hosts::system_lookup)
    }

    /// [`Policy::authorize_with_rules`] with an injected host-name lookup (tests).
    pub(crate) fn authorize_with_rules_using(
        &self,
        dir: &dyn Directory,
        extra: &RuleSet,
        proxy: &str,
        user: &str,
        host: &str,
        lookup: Lookup<'_>,
    ) -> Result<Decision> {
        let decision = self.decide(dir, proxy, user, host, lookup, Some(extra))?;
        Ok(self.audited(decision))
    }

    /// Builds the proxy-user rule set now rather than on the first decision, so a
    /// malformed core-site.xml or CIDR block shows at start-up (`Error::Config`).
    /// Resolves the host names in the rules and every protected name (an error names
    /// one that is malformed or resolves nowhere), and checks that the audit log's
    /// directory is safe from other users. Returns how many rules are in force.
    pub fn check_policy(&self, dir: &dyn Directory) -> Result<usize> {
        let rules = self.check_rules()?;
        self.protected_ids(dir)?;
        self.check_scopes(dir)?;
        Ok(rules)
    }

    /// The part of [`Policy::check_policy`] that needs no protected name: the rule
    /// set and the audit log's directory (`proxid doctor` reports the rest apart).
    pub(crate) fn check_rules(&self) -> Result<usize> {
        let rules = self.rule_set(&hosts::system_lookup)?.len();
        if let Some(log) = &self.config().impersonation.audit_log {
            audit::check_directory(log).map_err(|e| Error::config(log.clone(), e.to_string()))?;
        }
        Ok(rules)
    }

    /// The rule set, built on first use with `lookup` resolving host names.
    fn rule_set(&self, lookup: Lookup<'_>) -> Result<&RuleSet> {
        match self
            .rules
            .0
            .get_or_init(|| Box::new(RuleSet::build(self.config(), lookup)))
        {
            Ok(rules) => Ok(rules),
            Err(e) => Err(Error::config(e.file.clone(), e.message.clone())),
        }
    }

    /// The decision without its audit line (the PAM face writes its own line).
    pub(crate) fn decide_unaudited(
        &self,
        dir: &dyn Directory,
        proxy: &str,
        user: &str,
        host: &str,
    ) -> Result<Decision> {
        self.decide(dir, proxy, user, host, &hosts::system_lookup, None)
    }

    /// Whether `target` is a protected identity: `(rule, detail)` when it is. A
    /// protected name that cannot be resolved is an error, never a pass.
    pub(crate) fn protection(
        &self,
        dir: &dyn Directory,
        target: &Identity,
    ) -> Result<Option<(String, String)>> {
        Ok(self
            .protected_ids(dir)?
            .protects(target)
            .map(|(rule, detail)| (rule.to_string(), detail)))
    }

    fn decide(
        &self,
        dir: &dyn Directory,
        proxy: &str,
        user: &str,
        host: &str,
        lookup: Lookup<'_>,
        extra: Option<&RuleSet>,
    ) -> Result<Decision> {
        validate_name(proxy.as_bytes())?;
        validate_name(user.as_bytes())?;
        let host_spec = hosts::parse_request_host(host)
            .map_err(|why| Error::InvalidArgument(format!("host: {why}")))?;
        let rules = self.rule_set(lookup)?;
        self.check_scopes(dir)?;
        let decision =
            |verdict, reason: &str| Decision::new(proxy, user, host, verdict, reason.into());

        let target = match dir.resolve(user) {
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
        if let Some((rule, why)) = self.protected_ids(dir)?.protects(&target) {
            return Ok(
                decision(Verdict::Denied, &format!("protected_identity: {why}"))
                    .by(Some(rule.to_string())),
            );
        }
        let sets: &[&RuleSet] = match extra {
            Some(extra) => &[rules, extra],
            None => &[rules],
        };
        let refusal = match RuleSet::check_all(sets, proxy, user, &target, &host_spec, lookup) {
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
            OnUnauthorized::RunAsSelf => match dir.resolve(proxy) {
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

    /// Writes the audit line; a decision that cannot be audited is a denial.
    fn audited(&self, decision: Decision) -> Decision {
        let Some(path) = &self.config().impersonation.audit_log else {
            return decision;
        };
        match audit::append(path, &decision, &*self.clock) {
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
