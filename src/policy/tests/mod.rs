//! The proxy-user case table of Hadoop 3.3.4 (research notes, section 18.1), run
//! through the core-site.xml import exactly as Hadoop reads those properties, plus
//! the proxid.conf rules and how the two sources combine. Host names go through a
//! fake lookup (TestMachineList's), so no test here needs DNS.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use super::*;
use crate::config::Config;
use crate::identity::Group;
use crate::resolver::Resolver;
use crate::source::Source;

use crate::testing::{user as identity, FakeSource as Fake};

/// TestMachineList's fake resolver, plus `localhost`.
fn lookup(name: &str) -> Vec<IpAddr> {
    let ips: &[&str] = match name {
        "host1" => &["1.2.3.1"],
        "host4" => &["1.2.3.4"],
        "localhost" => &["127.0.0.1"],
        _ => &[],
    };
    ips.iter().map(|s| s.parse().unwrap()).collect()
}

/// `hp.proxier.groups=foo; hp.proxier.hosts=*` as core-site.xml (`\n` = newline).
fn core_site_xml(props: &str) -> String {
    let mut body = String::new();
    for pair in props.split(';').filter(|p| !p.trim().is_empty()) {
        let (key, value) = pair.split_once('=').expect(pair);
        let key = key.trim().replacen("hp.", "hadoop.proxyuser.", 1);
        let value = value
            .replace("\\n", "\n")
            .replace('&', "&amp;")
            .replace('<', "&lt;");
        body.push_str(&format!(
            "  <property>\n    <name>{key}</name>\n    <value>{value}</value>\n  </property>\n"
        ));
    }
    format!("<?xml version=\"1.0\"?>\n<configuration>\n{body}</configuration>\n")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Allow,
    /// Hadoop's "User: R is not allowed to impersonate U".
    DenyUser,
    /// Hadoop's "Unauthorized connection for super-user".
    DenyHost,
    /// The rule set does not load: every decision is an error.
    LoadError,
    /// proxid's protected identities (Hadoop has none).
    Protected,
}
use Expect::*;

/// What a decision (or error) is, in the table's terms.
fn outcome(result: &Result<Decision>) -> Expect {
    match result {
        Err(Error::Config { .. }) => LoadError,
        Err(e) => panic!("unexpected error {e}"),
        Ok(d) if d.verdict == Verdict::Allowed => Allow,
        Ok(d) if d.reason.starts_with("host_not_allowed") => DenyHost,
        Ok(d) if d.reason == "no_rule" || d.reason == "user_not_allowed" => DenyUser,
        Ok(d) if d.reason.starts_with("protected_identity") => Protected,
        Ok(d) => panic!("unexpected decision {d:?}"),
    }
}

/// A policy over a resolver, paired as the façade pairs them.
struct Harness {
    resolver: Resolver,
    policy: Policy,
}

impl Harness {
    fn new(config: Config, source: Arc<dyn Source>) -> Harness {
        let resolver = Resolver::with_source(config, source);
        let policy = Policy::new(resolver.shared_config().clone());
        Harness { resolver, policy }
    }

    fn authorize(&self, proxy: &str, user: &str, host: &str) -> Result<Decision> {
        self.policy.authorize(&*self.resolver, proxy, user, host)
    }

    fn authorize_with(
        &self,
        proxy: &str,
        user: &str,
        host: &str,
        lookup: Lookup<'_>,
    ) -> Result<Decision> {
        self.policy
            .authorize_with(&*self.resolver, proxy, user, host, lookup)
    }

    fn authorize_with_rules_using(
        &self,
        extra: &RuleSet,
        proxy: &str,
        user: &str,
        host: &str,
        lookup: Lookup<'_>,
    ) -> Result<Decision> {
        self.policy
            .authorize_with_rules_using(&*self.resolver, extra, proxy, user, host, lookup)
    }

    fn check_policy(&self) -> Result<usize> {
        self.policy.check_policy(&*self.resolver)
    }
}

fn resolver(config: Config, users: Vec<Identity>) -> Harness {
    Harness::new(config, Arc::new(Fake(users)))
}

/// The users every case can see: the proxies, root, and the target with its groups.
fn users_for(proxy: &str, target: &str, groups: &[&str]) -> Vec<Identity> {
    let target_groups: Vec<(&str, u32)> = if groups.is_empty() {
        vec![("users", 100)]
    } else {
        groups
            .iter()
            .enumerate()
            .map(|(i, g)| (*g, 2000 + i as u32))
            .collect()
    };
    let mut users = vec![
        identity("root", 0, &[("root", 0)]),
        identity(
            "mapr",
            5000,
            &[("mapr", 5000), ("root", 0), ("mapr2", 5001)],
        ),
    ];
    if !users.iter().any(|u| u.name == target) {
        users.push(identity(target, 3000, &target_groups));
    }
    if !users.iter().any(|u| u.name == proxy) {
        users.push(identity(proxy, 4000, &[("services", 400)]));
    }
    users
}

mod conf;
mod hadoop;
