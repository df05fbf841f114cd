//! Entry points for the fuzz targets in `fuzz/` (issue 16.1): each takes arbitrary
//! bytes, feeds them to one parser or decoder the way outside input reaches it, and
//! checks the properties that must hold for every input. Not part of the API.
//!
//! A panic here is a bug in proxid (or in a property stated here); errors are fine.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::sync::{Arc, OnceLock};

use crate::config::{AuthToLocalMechanism, Config, LdapConfig};
use crate::core_site;
use crate::error::Result;
use crate::identity::{validate_name, Group, Identity};
use crate::mode::Assertion;
use crate::policy::admit::AdmitRequest;
use crate::policy::hosts::{self, MachineList, Strictness};
use crate::principal::{AuthToLocal, KerberosName};
use crate::proxid::Proxid;
use crate::source::ldap::query;
use crate::source::Source;

fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// A whole proxid.conf. What loads must print back (`check-config --effective`) as
/// TOML that loads again to the same configuration.
pub fn config_file(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let path = Path::new("/nonexistent/proxid-fuzz.conf");
    if let Ok(config) = Config::from_toml(text, path) {
        let printed = config.to_effective_toml();
        let again = Config::from_toml(&printed, path);
        assert!(again.is_ok(), "effective TOML does not load: {printed}");
    }
}

/// auth_to_local rules (one per line) then, on the last line, a principal; the first
/// byte picks the mechanism. Rules that parse must map any principal without panic.
pub fn auth_to_local(data: &[u8]) {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let Some(text) = text(rest) else { return };
    let mut lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
    let principal = lines.pop().unwrap_or_default();
    let _ = KerberosName::parse(&principal);
    let mechanism = if first & 1 == 0 {
        AuthToLocalMechanism::Hadoop
    } else {
        AuthToLocalMechanism::Mit
    };
    if let Ok(rules) = AuthToLocal::new(&lines, mechanism, Some("EXAMPLE.ORG".into())) {
        let _ = rules.short_name(&principal);
    }
}

/// Name lookups answered without DNS: a name stands for addresses derived from it.
fn fake_lookup(name: &str) -> Vec<IpAddr> {
    let h = name
        .bytes()
        .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(b.into()));
    match h % 4 {
        0 => vec![],
        1 => vec![IpAddr::V4(Ipv4Addr::from(h))],
        2 => vec![IpAddr::V6(Ipv6Addr::from(u128::from(h)))],
        _ => vec![
            IpAddr::V6(Ipv6Addr::from(u128::from(h) << 64)),
            IpAddr::V4(Ipv4Addr::from(h.rotate_left(8))),
        ],
    }
}

/// A host list (first line, as `hosts = "..."` or core-site.xml hold it) and a
/// request host (second line), matched both ways the configuration can be read.
pub fn host_list(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let (list, request) = text.split_once('\n').unwrap_or((text, "127.0.0.1"));
    let items = hosts::split_list(list);
    let spec = hosts::parse_host(request);
    for strictness in [Strictness::Strict, Strictness::Hadoop] {
        if let Ok(machines) = MachineList::new(&items, strictness, &fake_lookup) {
            if let Ok(spec) = &spec {
                if let Some(ip) = hosts::request_address(spec, &fake_lookup) {
                    let hit = machines.includes(ip);
                    assert!(!machines.is_all() || hit, "`*` must include {ip}");
                }
            }
        }
    }
}

/// A core-site.xml text: the proxy-user keys and one property read from it.
pub fn core_site_xml(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let _ = core_site::parse(text);
    let _ = core_site::property(text, "hadoop.security.auth_to_local");
}

/// A user or group name as callers pass it. A name accepted here must be usable in
/// an LDAP filter: escaped, it parses as one equality match.
pub fn names(data: &[u8]) {
    let Ok(name) = validate_name(data) else {
        return;
    };
    let filter = query::and_equals("(objectClass=posixAccount)", "uid", name);
    assert!(
        ldap3::parse_filter(&filter).is_ok(),
        "the escaped name does not make a filter: {filter}"
    );
    let _ = KerberosName::parse(name);
}

/// Users and groups for the admission check: `alice` may act for anyone from
/// anywhere, except the protected `root`.
struct FixedDirectory;

impl FixedDirectory {
    fn user(name: &str) -> Option<Identity> {
        let (uid, gid) = match name {
            "alice" => (10001, 10000),
            "bob" => (10002, 10000),
            "root" => (0, 0),
            _ => return None,
        };
        Some(Identity {
            name: name.into(),
            uid,
            gid,
            groups: vec![Group {
                name: if gid == 0 { "root" } else { "staff" }.into(),
                gid,
            }],
            home: "/".into(),
            shell: "/bin/sh".into(),
            source: "fuzz".into(),
            hidden_gids: Vec::new(),
        })
    }
}

impl Source for FixedDirectory {
    fn kind(&self) -> &'static str {
        "fuzz"
    }
    fn user_by_name(&self, name: &str) -> Result<Option<Identity>> {
        Ok(FixedDirectory::user(name))
    }
    fn user_by_uid(&self, uid: u32) -> Result<Option<Identity>> {
        Ok(["alice", "bob", "root"]
            .into_iter()
            .filter_map(FixedDirectory::user)
            .find(|u| u.uid == uid))
    }
    fn group_by_name(&self, name: &str) -> Result<Option<Group>> {
        Ok(match name {
            "staff" => Some(Group {
                name: name.into(),
                gid: 10000,
            }),
            "root" => Some(Group {
                name: name.into(),
                gid: 0,
            }),
            _ => None,
        })
    }
    fn group_by_gid(&self, gid: u32) -> Result<Option<Group>> {
        Ok(match gid {
            10000 => Some(Group {
                name: "staff".into(),
                gid,
            }),
            0 => Some(Group {
                name: "root".into(),
                gid,
            }),
            _ => None,
        })
    }
}

/// The server-side Proxid the admission target asks; `None` only if its fixed
/// configuration stopped loading, which the tests below catch.
fn admission_resolver() -> Option<&'static Proxid> {
    static RESOLVER: OnceLock<Option<Proxid>> = OnceLock::new();
    RESOLVER
        .get_or_init(|| {
            let toml = "[resolution]\nserver_side = true\n\n\
                    [[impersonation.proxy]]\nuser = \"alice\"\nhosts = [\"*\"]\nusers = [\"*\"]\n";
            let config = Config::from_toml(toml, Path::new("/nonexistent/fuzz.conf")).ok()?;
            Some(Proxid::with_source(config, Arc::new(FixedDirectory)))
        })
        .as_ref()
}

/// A client's identity assertion (`accept` JSON) or a whole admission request. What
/// parses prints back to JSON that parses to the same value; an admission never
/// lets anyone act as root.
pub fn assertion_json(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let resolver = admission_resolver();
    if let Ok(a) = Assertion::from_json(text) {
        assert_eq!(Assertion::from_json(&a.to_json()).ok(), Some(a.clone()));
        if let Some(r) = resolver {
            let _ = r.accept(&a);
        }
    }
    if let Ok(request) = AdmitRequest::from_json(text) {
        assert_eq!(
            AdmitRequest::from_json(&request.to_json()).ok(),
            Some(request.clone())
        );
        if let Some(Ok(decision)) = resolver.map(|r| r.admit_with(&request, &fake_lookup)) {
            if decision.verdict == crate::policy::Verdict::Allowed {
                assert_ne!(request.user.name, "root", "{decision:?}");
            }
        }
    }
}

/// The LDAP section the entries target decodes with; `None` only if its fixed
/// configuration stopped loading, which the tests below catch.
fn ldap_config() -> Option<&'static LdapConfig> {
    static CFG: OnceLock<Option<LdapConfig>> = OnceLock::new();
    CFG.get_or_init(|| {
        let toml =
            "[ldap]\nuris = [\"ldap://127.0.0.1\"]\nbase = \"dc=x\"\nmin_uid = 1000\nmin_gid = 100";
        Config::from_toml(toml, Path::new("/nonexistent/fuzz.conf"))
            .ok()
            .and_then(|c| c.ldap)
    })
    .as_ref()
}

/// Directory entries with hostile values, as a server could send them: the bytes are
/// cut into entries (0xFE), attributes (0xFD) and values (0xFC); an attribute's first
/// byte picks its name. Decoded users and groups must respect the configured floors.
pub fn ldap_entries(data: &[u8]) {
    const ATTRS: [&str; 8] = [
        "uid",
        "uidNumber",
        "gidNumber",
        "homeDirectory",
        "loginShell",
        "cn",
        "memberUid",
        "objectClass",
    ];
    let Some(cfg) = ldap_config() else { return };
    let mut entries = Vec::new();
    for (i, raw) in data.split(|&b| b == 0xFE).take(16).enumerate() {
        let mut attrs = std::collections::HashMap::<String, Vec<String>>::new();
        for attr in raw.split(|&b| b == 0xFD) {
            let Some((&pick, values)) = attr.split_first() else {
                continue;
            };
            let Some(name) = ATTRS.get(usize::from(pick) % ATTRS.len()) else {
                continue;
            };
            let name = name.to_string();
            let values = values
                .split(|&b| b == 0xFC)
                .map(|v| String::from_utf8_lossy(v).into_owned());
            attrs.entry(name).or_default().extend(values);
        }
        entries.push(ldap3::SearchEntry {
            dn: format!("uid=e{i},dc=x"),
            attrs,
            bin_attrs: Default::default(),
        });
    }
    let first_uid = entries
        .first()
        .and_then(|e| e.attrs.get("uid"))
        .and_then(|v| v.first())
        .cloned()
        .unwrap_or_default();
    for key in [
        query::UserKey::Name(first_uid.clone()),
        query::UserKey::Uid(1000),
    ] {
        if let Ok(Some(user)) = query::pick_user(cfg, &key, entries.clone()) {
            assert!(
                user.uid >= cfg.min_uid && user.gid >= cfg.min_gid,
                "{user:?}"
            );
        }
    }
    for entry in &entries {
        if let Ok(group) = query::group_entry(cfg, entry) {
            if let Some(g) = group.posix(cfg) {
                assert!(g.gid >= cfg.min_gid, "{g:?}");
            }
        }
    }
    for name in [None, Some(first_uid.as_str())] {
        if let Ok(Some(g)) = query::pick_group(cfg, name, "fuzz", entries.clone()) {
            assert!(g.gid >= cfg.min_gid, "{g:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every committed seed goes through its target: the targets run in `cargo test`
    /// too, and a seed that panics is caught without the fuzzer.
    #[test]
    fn committed_seeds_pass_every_target() {
        type Target = (&'static str, fn(&[u8]));
        let targets: [Target; 7] = [
            ("config_file", config_file),
            ("auth_to_local", auth_to_local),
            ("host_list", host_list),
            ("core_site_xml", core_site_xml),
            ("names", names),
            ("assertion_json", assertion_json),
            ("ldap_entries", ldap_entries),
        ];
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
        for (target, run) in targets {
            let dir = root.join(target);
            let seeds: Vec<_> = std::fs::read_dir(&dir)
                .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .flatten()
                .collect();
            assert!(!seeds.is_empty(), "{target} has no seed");
            for seed in seeds {
                run(&std::fs::read(seed.path()).unwrap());
            }
        }
    }

    #[test]
    fn the_fixed_configurations_load() {
        assert!(admission_resolver().is_some());
        assert!(ldap_config().is_some());
    }

    #[test]
    fn the_admission_directory_allows_alice_and_protects_root() {
        let r = admission_resolver().expect("the fuzz configuration loads");
        let ask = |user: &str| {
            let request = AdmitRequest {
                proxy: Assertion {
                    name: "alice".into(),
                    uid: None,
                    gids: None,
                },
                user: Assertion {
                    name: user.into(),
                    uid: None,
                    gids: None,
                },
                host: "10.0.0.1".into(),
            };
            r.admit_with(&request, &fake_lookup).map(|d| d.verdict)
        };
        assert_eq!(ask("bob").unwrap(), crate::policy::Verdict::Allowed);
        assert_ne!(ask("root").ok(), Some(crate::policy::Verdict::Allowed));
    }
}
