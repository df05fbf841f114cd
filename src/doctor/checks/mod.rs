//! The checks of `proxid doctor` (see the module above for the list).

use std::collections::BTreeSet;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::Arc;

use super::{Check, Options};
use crate::config::{self, Config, Mode};
use crate::core_site::java_trim;
use crate::error::Error;
use crate::identity::Identity;
use crate::policy::hosts::split_list;
use crate::principal::{check_keytab, host, keytab_from_template};
use crate::proxid::Proxid;
use crate::resolver::Resolver;
use crate::source::ldap::probe::{self, Level};
use crate::source::local::LocalSource;
use crate::source::local_list;

pub(super) fn all(options: &Options, emit: &mut dyn FnMut(Check)) {
    let (path, named) = config::config_path(options.config.as_deref());
    let exists = path.exists();
    if exists {
        emit(file_permissions(
            "permissions.config",
            &path,
            "configuration",
        ));
    }
    let config = match Config::load(options.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            emit(Check::fail(
                "config",
                e.to_string(),
                "correct the configuration as the message says (`proxid check-config` checks it again)",
            ));
            return;
        }
    };
    emit(Check::ok(
        "config",
        if exists {
            format!(
                "{} is valid: [resolution] mode = \"{}\"",
                path.display(),
                mode_name(config.resolution.mode)
            )
        } else {
            format!(
                "no {}{}: built-in defaults (client-side resolution)",
                path.display(),
                if named { "" } else { " (optional)" }
            )
        },
    ));
    if let Some(file) = config
        .ldap
        .as_ref()
        .and_then(|l| l.bind_password_file.as_ref())
    {
        emit(
            match config::check_secret_file_mode(file, "bind_password_file") {
                Ok(()) => Check::ok(
                    "permissions.secret",
                    format!("{}: readable by its owner only", file.display()),
                ),
                Err(e) => Check::fail(
                    "permissions.secret",
                    e.to_string(),
                    format!("run `chmod 600 {}`", file.display()),
                ),
            },
        );
    }
    if let Some(file) = &config.impersonation.hadoop_core_site {
        emit(file_permissions("permissions.policy", file, "policy"));
    }

    if let Some(ldap) = &config.ldap {
        for uri in &ldap.uris {
            for f in probe::probe(ldap, uri) {
                emit(from_finding(f));
            }
        }
    }

    let resolver = match Proxid::new_unchecked(config.clone()) {
        Ok(r) => r,
        Err(e) => {
            emit(Check::fail(
                "resolver",
                e.to_string(),
                "correct the [ldap] section as the message says",
            ));
            return;
        }
    };
    if let Some(server) = &options.server {
        mode_agreement(&config, server, &options.names, emit);
    }
    policy(&config, &resolver, emit);
    principals(&config, &resolver, &options.names, emit);
}

fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Client => "client",
        Mode::Server => "server",
    }
}

fn from_finding(f: probe::Finding) -> Check {
    let check = format!("ldap.{}", f.step);
    match (f.level, f.fix) {
        (Level::Ok, _) | (_, None) => Check::ok(check, f.detail),
        (Level::Warn, Some(fix)) => Check::warn(check, f.detail, fix),
        (Level::Fail, Some(fix)) => Check::fail(check, f.detail, fix),
    }
}

/// A file that decides who may do what: anyone who can write it can change that, so
/// group- or world-writable is a failure, and an owner other than root or us a warning.
fn file_permissions(check: &str, path: &Path, what: &str) -> Check {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => {
            return Check::fail(
                check,
                format!("{what} file {}: {e}", path.display()),
                "create the file or correct its path",
            )
        }
    };
    let mode = meta.mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Check::fail(
            check,
            format!(
                "{what} file {} is writable by {} (mode {mode:04o}): whoever can write it decides who may impersonate whom",
                path.display(),
                if mode & 0o002 != 0 { "everyone" } else { "its group" }
            ),
            format!("run `chmod go-w {}`", path.display()),
        );
    }
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != 0 && meta.uid() != me {
        return Check::warn(
            check,
            format!(
                "{what} file {} is owned by uid {}, neither root nor this user",
                path.display(),
                meta.uid()
            ),
            format!("run `chown root {}`", path.display()),
        );
    }
    Check::ok(
        check,
        format!(
            "{what} file {}: mode {mode:04o}, owner uid {}",
            path.display(),
            meta.uid()
        ),
    )
}

/// The configuration `--server` names: a proxid.conf, or `ldap[s]://` URIs
/// (comma-separated) with `client`'s `[ldap]` settings and server-side resolution.
pub fn server_config(client: &Config, server: &str) -> Result<(Config, bool), String> {
    if config::is_ldap_uri(server.trim_start()) {
        let mut config = client.clone();
        let Some(ldap) = config.ldap.as_mut() else {
            return Err(
                "a server given as a URI is probed with this configuration's [ldap] section, and there is none"
                    .into(),
            );
        };
        ldap.uris = server
            .split(',')
            .map(|u| u.trim().to_string())
            .filter(|u| !u.is_empty())
            .collect();
        config.resolution = config::Resolution {
            mode: Mode::Server,
            server_side: true,
            require_server_side: false,
        };
        return Ok((config, true));
    }
    Config::load_file(Path::new(server), true)
        .map(|c| (c, false))
        .map_err(|e| e.to_string())
}

const MODE_FIX: &str = "use server-side resolution on both sides (mode = \"server\" on the client, server_side = true on the server), or make the IDs equal in both registries";

fn mode_agreement(client: &Config, server: &str, names: &[String], emit: &mut dyn FnMut(Check)) {
    let (server_cfg, from_uri) = match server_config(client, server) {
        Ok(c) => c,
        Err(e) => {
            emit(Check::fail(
                "mode.settings",
                format!("--server {server:?}: {e}"),
                "pass the server's proxid.conf, or an ldap[s]:// URI with an [ldap] section here",
            ));
            return;
        }
    };
    let (c, s) = (&client.resolution, &server_cfg.resolution);
    let settings = if from_uri {
        Check::ok(
            "mode.settings",
            format!(
                "client [resolution] mode = \"{}\"; the server is given as a URI, so its [resolution] settings are not known: compared identities only",
                mode_name(c.mode)
            ),
        )
    } else if c.mode == Mode::Server && !s.server_side {
        Check::fail(
            "mode.settings",
            "the client has [resolution] mode = \"server\" (it sends names only), but the server has [resolution] server_side = false (it refuses name-only assertions)",
            "set server_side = true in the server's [resolution], or mode = \"client\" here",
        )
    } else if c.mode == Mode::Client && s.require_server_side {
        Check::fail(
            "mode.settings",
            "the client has [resolution] mode = \"client\" (it sends the IDs it resolved), but the server has [resolution] require_server_side = true (it refuses client-resolved IDs)",
            "set mode = \"server\" in this [resolution], or require_server_side = false on the server",
        )
    } else {
        Check::ok(
            "mode.settings",
            format!(
                "client mode = \"{}\"; server mode = \"{}\", server_side = {}, require_server_side = {}: they agree",
                mode_name(c.mode),
                mode_name(s.mode),
                s.server_side,
                s.require_server_side
            ),
        )
    };
    emit(settings);

    if server_cfg.resolution.mode == Mode::Client {
        emit(Check::warn(
            "mode.identities",
            "the server resolves from its own local registry (mode = \"client\"), which cannot be read from here",
            "run `proxid doctor` on the server too, or compare `proxid resolve` output from both machines",
        ));
        return;
    }
    // The server as it checks assertions, but answering every client style.
    let mut checking = server_cfg.clone();
    checking.resolution.require_server_side = false;
    let server = match Resolver::new(checking) {
        Ok(r) => r,
        Err(e) => {
            emit(Check::fail(
                "mode.identities",
                format!("the server's configuration: {e}"),
                "correct the server's [ldap] section",
            ));
            return;
        }
    };
    let mut local_cfg = client.clone();
    local_cfg.resolution.mode = Mode::Client;
    let local = Resolver::with_source(local_cfg, Arc::new(LocalSource::new()));

    let (listed, given) = if names.is_empty() {
        (
            local_list::regular_users()
                .into_iter()
                .map(|u| u.name)
                .collect::<Vec<_>>(),
            false,
        )
    } else {
        (names.to_vec(), true)
    };
    let mut mismatches = Vec::new();
    for name in &listed {
        let assertion = match local.assert(name) {
            Ok(a) => a,
            Err(Error::NotFound { .. }) => {
                mismatches.push(format!("{name:?}: not found locally"));
                continue;
            }
            Err(e) => {
                mismatches.push(format!("{name:?}: local lookup failed: {e}"));
                continue;
            }
        };
        match server.accept(&assertion) {
            Ok(_) => {}
            Err(Error::IdentityMismatch { detail, .. }) => {
                let detail = detail
                    .split(" (client-resolved")
                    .next()
                    .unwrap_or(&detail)
                    .to_string();
                mismatches.push(format!("{name:?}: {detail}"));
            }
            Err(Error::NotFound { .. }) => {
                mismatches.push(format!("{name:?}: not found on the server"))
            }
            Err(e @ (Error::Unavailable { .. } | Error::Timeout { .. })) => {
                emit(Check::fail(
                    "mode.identities",
                    format!("the server's directory cannot answer: {e}"),
                    "fix the server's directory connection first (see the ldap checks)",
                ));
                return;
            }
            Err(e) => mismatches.push(format!("{name:?}: {e}")),
        }
    }
    let whom = if given {
        "the given users"
    } else {
        "local users with UID >= 1000"
    };
    emit(if listed.is_empty() {
        Check::ok("mode.identities", format!("no {whom} to compare"))
    } else if mismatches.is_empty() {
        Check::ok(
            "mode.identities",
            format!(
                "{} of {whom}: UID, primary GID and groups agree with the server",
                listed.len()
            ),
        )
    } else {
        Check::fail(
            "mode.identities",
            format!(
                "{} of {} ({whom}) differ: {}",
                mismatches.len(),
                listed.len(),
                mismatches.join("; ")
            ),
            MODE_FIX,
        )
    });
}

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

fn policy(config: &Config, resolver: &Proxid, emit: &mut dyn FnMut(Check)) {
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

/// Whether `id` may read `path` by its mode bits (root always may).
fn readable_by(meta: &std::fs::Metadata, id: &Identity) -> bool {
    let mode = meta.mode();
    id.uid == 0
        || (meta.uid() == id.uid && mode & 0o400 != 0)
        || (meta.uid() != id.uid && id.gids().contains(&meta.gid()) && mode & 0o040 != 0)
        || (meta.uid() != id.uid && !id.gids().contains(&meta.gid()) && mode & 0o004 != 0)
}

/// A keytab: present, a keytab, readable by `user` (when known) and by no one else.
fn keytab_check(check: String, path: &Path, user: Option<&Identity>) -> Check {
    if let Err(e) = check_keytab(path) {
        return Check::fail(
            check,
            e.to_string(),
            "create the keytab with `ktutil` or `kadmin ktadd` at this path, or correct the path",
        );
    }
    let Ok(meta) = std::fs::metadata(path) else {
        return Check::fail(
            check,
            format!("{}: cannot stat", path.display()),
            "check the path",
        );
    };
    let mode = meta.mode() & 0o777;
    if mode & 0o007 != 0 {
        return Check::fail(
            check,
            format!(
                "{}: readable by everyone (mode {mode:04o}); a keytab is a password",
                path.display()
            ),
            format!("run `chmod o-rwx {}`", path.display()),
        );
    }
    if let Some(id) = user {
        if !readable_by(&meta, id) {
            return Check::fail(
                check,
                format!(
                    "{}: {:?} (uid {}) cannot read it (owner uid {}, gid {}, mode {mode:04o})",
                    path.display(),
                    id.name,
                    id.uid,
                    meta.uid(),
                    meta.gid()
                ),
                format!(
                    "run `chown {} {}` and `chmod 400` it",
                    id.name,
                    path.display()
                ),
            );
        }
    }
    Check::ok(
        check,
        format!(
            "{}: a keytab{}, mode {mode:04o}",
            path.display(),
            user.map_or(String::new(), |id| format!(", readable by {:?}", id.name))
        ),
    )
}

fn principals(config: &Config, resolver: &Proxid, names: &[String], emit: &mut dyn FnMut(Check)) {
    let p = &config.principals;
    let realm = p
        .default_realm
        .clone()
        .map(|r| (r, "[principals] default_realm".to_string()))
        .or_else(|| {
            let conf = host::krb5_conf_path();
            host::default_realm_from_krb5_conf(&conf).map(|r| (r, conf.display().to_string()))
        });
    let krb5_conf = host::krb5_conf_path();
    let kerberos_used = krb5_conf.exists()
        || p.default_principal.is_some()
        || p.keytab_path.is_some()
        || !p.namespace.is_empty()
        || !p.application.is_empty()
        || p.auth_to_local != crate::config::PrincipalsConfig::default().auth_to_local;
    emit(match realm {
        Some((realm, from)) => Check::ok(
            "principals.realm",
            format!("default realm {realm:?} (from {from})"),
        ),
        None if !kerberos_used => Check::ok(
            "principals.realm",
            format!(
                "Kerberos is not set up here (no {}, no [principals] entries): nothing to check",
                krb5_conf.display()
            ),
        ),
        None => Check::warn(
            "principals.realm",
            format!(
                "no default realm: neither [principals] default_realm nor {} names one, so principals without @REALM are not mapped by DEFAULT rules",
                host::krb5_conf_path().display()
            ),
            "set [principals] default_realm or default_realm in krb5.conf's [libdefaults]",
        ),
    });

    // Explicit keytabs, each checked for the user its principal maps to.
    let mut entries: Vec<(String, &str, &Path)> = Vec::new();
    if let (Some(principal), Some(keytab)) = (&p.default_principal, &p.default_keytab) {
        entries.push(("default".into(), principal, keytab));
    }
    for (key, e) in &p.namespace {
        if let Some(k) = &e.keytab {
            entries.push((format!("namespace {key}"), &e.principal, k));
        }
    }
    for (key, e) in &p.application {
        if let Some(k) = &e.keytab {
            entries.push((format!("application {key}"), &e.principal, k));
        }
    }
    for (what, principal, keytab) in &entries {
        let user = resolver
            .short_name(principal)
            .ok()
            .and_then(|short| resolver.resolve(&short).ok());
        emit(keytab_check(
            format!("principals.keytab {what}"),
            keytab,
            user.as_ref(),
        ));
    }
    if let Some(template) = &p.keytab_path {
        for name in names {
            let check = format!("principals.keytab_path {name}");
            let path = match keytab_from_template(template, name) {
                Ok(path) => path,
                Err(e) => {
                    emit(Check::fail(
                        check,
                        e.to_string(),
                        "use names that are valid file names, or correct [principals] keytab_path",
                    ));
                    continue;
                }
            };
            let user = resolver.resolve(name).ok();
            emit(keytab_check(check, &path, user.as_ref()));
        }
    }
    if entries.is_empty() && (p.keytab_path.is_none() || names.is_empty()) {
        emit(Check::ok(
            "principals.keytabs",
            if p.keytab_path.is_some() {
                "no keytab configured besides [principals] keytab_path; name users to check it for"
            } else {
                "no keytab configured"
            },
        ));
    }
}
