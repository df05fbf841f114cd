//! Proxy-user rules with the meaning of Hadoop's `hadoop.proxyuser.<S>.{users,groups,hosts}`
//! (`DefaultImpersonationProvider` and `AccessControlList` in Hadoop 3.3.4).
//!
//! Choices, each matching Hadoop 3.3.4 unless marked *differs*:
//! - Users and groups of one rule form one ACL. When either value, trimmed, is
//!   exactly `*`, the whole ACL allows everybody, whatever the other lists
//!   (`users=*` with `groups=nobody` lets everyone in). A `*` inside a list is a
//!   literal name in core-site.xml, as in Hadoop; in proxid.conf it is a
//!   configuration error (*differs*: reported, not silently narrowed).
//! - Lists are split on commas or newlines, items trimmed, empties and duplicates
//!   dropped; a space does not separate (`alice bob` is one name). In proxid.conf
//!   each array element is read the same way, so `["a,b"]` is `a` and `b`.
//! - Names are case-sensitive: the proxy, the target and group names.
//! - The target matches by its name or by any of its groups, primary included, as
//!   the resolver returns them (a group without an entry is named by its GID).
//! - In proxid.conf a rule may also scope by number (`uids`, `gids`, see
//!   [`super::scopes`]); a target matches when it matches any of users, groups,
//!   uids or gids (*differs*: Hadoop has no numeric scopes).
//! - Netgroups (`@name`) are not expanded: `@name` is a literal group name that no
//!   group has, so it never matches (*differs*: Hadoop expands it only with a
//!   netgroup-capable group mapping).
//! - A proxy with no rule, or whose rule has neither users nor groups, is denied as
//!   "user not allowed"; one whose rule has no hosts is denied as "host not allowed";
//!   users are checked before hosts, so the reason is the one Hadoop gives.
//! - Proxy names with whitespace never match in Hadoop (its key regex is `[\S]*`):
//!   such keys in core-site.xml are ignored, and in proxid.conf they are an error.
//! - proxid.conf rules, core-site.xml rules and the rules a Hadoop `Configuration`
//!   hands the Java provider ([`super::ProxyRules::from_properties`], read by the same builder
//!   as core-site.xml) are kept side by side, never merged: a request is allowed when
//!   one single rule allows both the target and the host (*differs* only in that
//!   Hadoop has just one source; merging two sources' lists would combine one
//!   source's hosts with another's groups).

use std::collections::HashSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use super::hosts::{split_list, HostSpec, Lookup, MachineList, Strictness};
use super::scopes::Scopes;
use crate::config::Config;
use crate::core_site;
use crate::identity::Identity;

/// Who a rule lets a proxy act as.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Acl {
    all: bool,
    users: HashSet<String>,
    groups: HashSet<String>,
    /// proxid.conf's `uids`/`gids`, ORed with users and groups (see [`super::scopes`]).
    scopes: Scopes,
}

impl Acl {
    /// Builds the ACL from Hadoop values (`None` = key absent).
    fn new(
        users: Option<&str>,
        groups: Option<&str>,
        strictness: Strictness,
    ) -> Result<Acl, String> {
        let wildcard = |v: Option<&str>| v.is_some_and(|v| core_site::java_trim(v) == "*");
        if wildcard(users) || wildcard(groups) {
            return Ok(Acl {
                all: true,
                ..Acl::default()
            });
        }
        let list = |what: &str, v: Option<&str>| -> Result<HashSet<String>, String> {
            let items = v.map(split_list).unwrap_or_default();
            if strictness == Strictness::Strict && items.iter().any(|i| i == "*") {
                return Err(format!(
                    "{what}: \"*\" must be the only item when used; it is not a wildcard among others"
                ));
            }
            Ok(items.into_iter().collect())
        };
        Ok(Acl {
            all: false,
            users: list("users", users)?,
            groups: list("groups", groups)?,
            scopes: Scopes::default(),
        })
    }

    /// Why the ACL lets `target`, asked for as `name`, in, or `None`. The name
    /// compared is the one asked for, as Hadoop compares the request's short name,
    /// even if a case-insensitive directory resolved it to another spelling.
    fn allows(&self, name: &str, target: &Identity) -> Option<String> {
        if self.all {
            return Some("any_user".into());
        }
        if self.users.contains(name) {
            return Some("user_listed".into());
        }
        target
            .groups
            .iter()
            .find(|g| self.groups.contains(&g.name))
            .map(|g| format!("group_listed: {}", g.name))
            .or_else(|| self.scopes.allows(target))
    }
}

/// One proxy's rule from one source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rule {
    pub proxy: String,
    /// How audits and decisions name the rule.
    pub label: String,
    /// `None` when the source had neither users nor groups for this proxy.
    acl: Option<Acl>,
    /// `None` when the source had no hosts for this proxy.
    hosts: Option<MachineList>,
}

/// Why a proxy may not act as a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    /// `no_rule`, `user_not_allowed` or `host_not_allowed`, maybe with detail.
    pub reason: String,
    pub rule: Option<String>,
}

/// A rule that allowed the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Grant {
    pub reason: String,
    pub rule: String,
}

/// Every proxy-user rule in force, built once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RuleSet {
    rules: Vec<Rule>,
}

/// A rule-set error: the file to blame and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LoadError {
    pub file: PathBuf,
    pub message: String,
}

impl RuleSet {
    /// Builds the rules from `[[impersonation.proxy]]` and, when configured, the
    /// `hadoop.proxyuser.*` properties of `hadoop_core_site`.
    pub(crate) fn build(config: &Config, lookup: Lookup<'_>) -> Result<RuleSet, LoadError> {
        let conf_file = config
            .path
            .clone()
            .unwrap_or_else(|| PathBuf::from("<embedded default configuration>"));
        let conf_err = |message: String| LoadError {
            file: conf_file.clone(),
            message,
        };
        let mut rules = Vec::new();
        let proxies = &config.impersonation.proxy;
        for (index, p) in proxies.iter().enumerate() {
            let at = format!("[[impersonation.proxy]] #{} (user {:?})", index + 1, p.user);
            if p.user.chars().any(char::is_whitespace) {
                return Err(conf_err(format!(
                    "{at}: a proxy user name cannot contain whitespace (Hadoop never matches one)"
                )));
            }
            let join = |v: &Vec<String>| v.join(",");
            let acl = Acl::new(
                Some(&join(&p.users)),
                Some(&join(&p.groups)),
                Strictness::Strict,
            )
            .map_err(|m| conf_err(format!("{at}: {m}")))?;
            let acl = Acl {
                scopes: Scopes {
                    uids: p.uids.clone(),
                    gids: p.gids.clone(),
                },
                ..acl
            };
            let hosts = MachineList::new(&split_list(&join(&p.hosts)), Strictness::Strict, lookup)
                .map_err(|m| conf_err(format!("{at}: hosts: {m}")))?;
            let same_proxy = proxies.iter().filter(|q| q.user == p.user).count();
            let label = if same_proxy > 1 {
                format!("proxy {} (proxid.conf #{})", p.user, index + 1)
            } else {
                format!("proxy {} (proxid.conf)", p.user)
            };
            rules.push(Rule {
                proxy: p.user.clone(),
                label,
                acl: Some(acl),
                hosts: Some(hosts),
            });
        }
        if let Some(path) = &config.impersonation.hadoop_core_site {
            rules.extend(core_site_rules(path, lookup)?);
        }
        Ok(RuleSet { rules })
    }

    /// Rules from `(name, value)` properties, as a Hadoop `Configuration` holds them:
    /// the `<prefix>.<S>.users|groups|hosts` keys, read exactly like core-site.xml's
    /// (later values replace earlier ones; other keys are ignored). `source` names
    /// where they came from in rule labels and errors.
    pub(crate) fn from_properties(
        props: impl IntoIterator<Item = (String, String)>,
        prefix: &str,
        source: &str,
        lookup: Lookup<'_>,
    ) -> Result<RuleSet, String> {
        let keys = core_site::proxy_keys(props, prefix)?;
        Ok(RuleSet {
            rules: property_rules(keys, prefix, source, lookup)?,
        })
    }

    /// How many rules there are (one per proxy and source).
    pub(crate) fn len(&self) -> usize {
        self.rules.len()
    }

    /// May `proxy` act as `target` (asked for as `name`) from `host`, by the rules
    /// of `sets`, kept side by side (one single rule must allow both the target and
    /// the host)? `host` is parsed already; its address is looked up only if a rule
    /// needs it.
    pub(crate) fn check_all(
        sets: &[&RuleSet],
        proxy: &str,
        name: &str,
        target: &Identity,
        host: &HostSpec,
        lookup: Lookup<'_>,
    ) -> Result<Grant, Refusal> {
        let mine: Vec<&Rule> = sets
            .iter()
            .flat_map(|set| set.rules.iter())
            .filter(|r| r.proxy == proxy)
            .collect();
        let Some(first) = mine.first() else {
            return Err(Refusal {
                reason: "no_rule".into(),
                rule: None,
            });
        };
        let user_ok: Vec<(&Rule, String)> = mine
            .iter()
            .filter_map(|r| Some((*r, r.acl.as_ref()?.allows(name, target)?)))
            .collect();
        let Some((first_ok, _)) = user_ok.first() else {
            return Err(Refusal {
                reason: "user_not_allowed".into(),
                rule: Some(first.label.clone()),
            });
        };
        // Resolved at most once per check, and only if a list is not `*`.
        let mut address: Option<Option<IpAddr>> = None;
        let mut dropped: Vec<&str> = Vec::new();
        for (rule, why) in &user_ok {
            let Some(hosts) = &rule.hosts else { continue };
            let included = hosts.is_all() || {
                let ip =
                    *address.get_or_insert_with(|| super::hosts::request_address(host, lookup));
                ip.is_some_and(|ip| hosts.includes(ip))
            };
            if included {
                return Ok(Grant {
                    reason: why.clone(),
                    rule: rule.label.clone(),
                });
            }
            dropped.extend(hosts.dropped.iter().map(String::as_str));
        }
        let mut reason = String::from("host_not_allowed");
        if address == Some(None) {
            reason.push_str(": the request host does not resolve");
        } else if !dropped.is_empty() {
            reason.push_str(&format!(
                ": host entries dropped because they did not resolve: {}",
                dropped.join(", ")
            ));
        }
        Err(Refusal {
            reason,
            rule: Some(first_ok.label.clone()),
        })
    }
}

fn core_site_rules(path: &Path, lookup: Lookup<'_>) -> Result<Vec<Rule>, LoadError> {
    let err = |message: String| LoadError {
        file: path.to_path_buf(),
        message,
    };
    let bytes = crate::config::read_policy_file(path, "hadoop_core_site").map_err(|e| match e {
        crate::config::PolicyFileError::Io(e) => err(format!("cannot read hadoop_core_site: {e}")),
        crate::config::PolicyFileError::Unsafe(why) => err(why),
    })?;
    let text =
        String::from_utf8(bytes).map_err(|_| err("hadoop_core_site is not valid UTF-8".into()))?;
    let keys = core_site::parse(&text).map_err(err)?;
    property_rules(
        keys,
        core_site::DEFAULT_PREFIX,
        &path.display().to_string(),
        lookup,
    )
    .map_err(err)
}

/// Rules from Hadoop proxy-user keys (read with Hadoop's leniency), labelled
/// `<prefix>.<proxy> (<source>)`.
fn property_rules(
    keys: std::collections::BTreeMap<String, core_site::ProxyKeys>,
    prefix: &str,
    source: &str,
    lookup: Lookup<'_>,
) -> Result<Vec<Rule>, String> {
    let prefix = prefix.strip_suffix('.').unwrap_or(prefix);
    let mut rules = Vec::new();
    for (proxy, k) in keys {
        let acl = if k.users.is_some() || k.groups.is_some() {
            Some(Acl::new(
                k.users.as_deref(),
                k.groups.as_deref(),
                Strictness::Hadoop,
            )?)
        } else {
            None
        };
        let hosts = k
            .hosts
            .as_deref()
            .map(|h| MachineList::new(&split_list(h), Strictness::Hadoop, lookup))
            .transpose()
            .map_err(|m| format!("{prefix}.{proxy}.hosts: {m}"))?;
        rules.push(Rule {
            label: format!("{prefix}.{proxy} ({source})"),
            proxy,
            acl,
            hosts,
        });
    }
    Ok(rules)
}
