//! The impersonation rules: in force, well formed, and what each one lets through.

use std::collections::BTreeSet;

use super::Check;
use crate::config::Config;
use crate::core_site::java_trim;
use crate::error::Error;
use crate::policy::hosts::split_list;
use crate::proxid::Proxid;

/// One proxy rule as the checks see it, from proxid.conf or core-site.xml.
struct Rule {
    source: String,
    proxy: String,
    users: Vec<String>,
    groups: Vec<String>,
    hosts: Vec<String>,
}

fn items(values: &[String]) -> Vec<String> {
    values.iter().flat_map(|v| split_list(v)).collect()
}

fn rules(config: &Config) -> Result<Vec<Rule>, String> {
    let mut out: Vec<Rule> = config
        .impersonation
        .proxy
        .iter()
        .map(|r| Rule {
            source: "proxid.conf".into(),
            proxy: r.user.clone(),
            users: items(&r.users),
            groups: items(&r.groups),
            hosts: items(&r.hosts),
        })
        .collect();
    if let Some(path) = &config.impersonation.hadoop_core_site {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let keys =
            crate::core_site::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        for (proxy, k) in keys {
            let list = |v: &Option<String>| v.as_deref().map(split_list).unwrap_or_default();
            out.push(Rule {
                source: path.display().to_string(),
                proxy,
                users: list(&k.users),
                groups: list(&k.groups),
                hosts: list(&k.hosts),
            });
        }
    }
    Ok(out)
}

pub(super) fn policy(config: &Config, resolver: &Proxid, emit: &mut dyn FnMut(Check)) {
    let imp = &config.impersonation;
    emit(match resolver.check_rules() {
        Ok(n) => Check::ok("policy.rules", format!("{n} proxy rule(s) in force")),
        Err(e) => Check::fail(
            "policy.rules",
            e.to_string(),
            "correct the proxy rule the message names",
        ),
    });

    let mut missing = Vec::new();
    let mut failed = None;
    // `root` needs no entry: UID and GID 0 are protected whatever the names resolve to
    // (and never come from LDAP).
    for user in &imp.protected_users {
        match resolver.resolve(user) {
            Ok(_) => {}
            Err(Error::NotFound { .. }) if user == "root" => {}
            Err(Error::NotFound { .. }) => missing.push(format!("user {user:?}")),
            Err(e) => failed = Some(e),
        }
    }
    for group in &imp.protected_groups {
        match resolver.group(group) {
            Ok(_) => {}
            Err(Error::NotFound { .. }) if group == "root" => {}
            Err(Error::NotFound { .. }) => missing.push(format!("group {group:?}")),
            Err(e) => failed = Some(e),
        }
    }
    emit(match (failed, missing.is_empty()) {
        (Some(e), _) => Check::fail(
            "policy.protected",
            format!("protected identities could not be looked up: {e}"),
            "fix the identity source first (see the ldap checks)",
        ),
        // A protected name that resolves nowhere is refused when a resolver opens.
        (None, false) => Check::fail(
            "policy.protected",
            format!(
                "these protected names do not resolve, so no resolver opens with them: {}",
                missing.join(", ")
            ),
            "correct the names in [impersonation] protected_users / protected_groups",
        ),
        (None, true) => Check::ok(
            "policy.protected",
            format!(
                "protected users [{}], groups [{}] resolve",
                imp.protected_users.join(", "),
                imp.protected_groups.join(", ")
            ),
        ),
    });

    emit(match &imp.superuser {
        None => Check::ok("policy.superuser", "no superuser configured"),
        Some(su) => match resolver.resolve(su) {
            Ok(id) => Check::ok(
                "policy.superuser",
                format!("superuser {su:?} exists (uid {})", id.uid),
            ),
            Err(Error::NotFound { .. }) => Check::fail(
                "policy.superuser",
                format!("superuser {su:?} does not exist: whoever is later given that name may impersonate anyone"),
                "correct [impersonation] superuser or create the account",
            ),
            Err(e) => Check::fail(
                "policy.superuser",
                format!("superuser {su:?} could not be looked up: {e}"),
                "fix the identity source first (see the ldap checks)",
            ),
        },
    });

    let rules = match rules(config) {
        Ok(r) => r,
        Err(e) => {
            emit(Check::fail(
                "policy.proxy",
                e,
                "correct the core-site.xml file",
            ));
            return;
        }
    };
    if rules.is_empty() {
        emit(Check::ok("policy.proxy", "no proxy rules"));
    }
    let protected_users: BTreeSet<&str> = imp.protected_users.iter().map(String::as_str).collect();
    let protected_groups: BTreeSet<&str> =
        imp.protected_groups.iter().map(String::as_str).collect();
    let no_protection = protected_users.is_empty() && protected_groups.is_empty();
    for rule in &rules {
        let check = format!("policy.proxy {}", rule.proxy);
        let star = |v: &[String]| matches!(v, [only] if java_trim(only) == "*");
        let everyone = star(&rule.users) || star(&rule.groups);
        let mut warnings = Vec::new();
        let mut fixes = Vec::new();
        let named: Vec<String> = rule
            .users
            .iter()
            .filter(|u| protected_users.contains(u.as_str()))
            .map(|u| format!("user {u:?}"))
            .chain(
                rule.groups
                    .iter()
                    .filter(|g| protected_groups.contains(g.as_str()))
                    .map(|g| format!("group {g:?}")),
            )
            .collect();
        if !named.is_empty() {
            warnings.push(format!(
                "lets {:?} act for protected {} (refused anyway: protected identities are enforced)",
                rule.proxy,
                named.join(", ")
            ));
            fixes.push("remove the protected names from the rule");
        }
        if everyone && no_protection {
            warnings.push(format!(
                "lets {:?} act for anyone, and no identity is protected",
                rule.proxy
            ));
            fixes.push("set [impersonation] protected_users and protected_groups (root at least)");
        }
        if everyone && star(&rule.hosts) {
            warnings.push(format!(
                "lets {:?} act for anyone in any group from any host (groups = * and hosts = *)",
                rule.proxy
            ));
            fixes.push("list the gateway hosts the proxy runs on in the rule's hosts");
        }
        let detail = format!(
            "{} ({}): users [{}], groups [{}], hosts [{}]",
            rule.proxy,
            rule.source,
            rule.users.join(","),
            rule.groups.join(","),
            rule.hosts.join(",")
        );
        emit(if warnings.is_empty() {
            Check::ok(check, detail)
        } else {
            Check::warn(
                check,
                format!("{detail}: {}", warnings.join("; ")),
                capitalised(&fixes.join("; ")),
            )
        });
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
        + "."
}
