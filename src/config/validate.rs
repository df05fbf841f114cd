//! Layer 2: the file as written (`raw`) into the validated [`Config`], and
//! [`Config::validate`], which re-checks a value with the same rules. Each rule is
//! written once, as a `check_*` function over the validated types, and both paths
//! call it.

use std::collections::BTreeMap;
use std::path::Path;

use super::raw::{RawConfig, RawDaemon, RawProgramPrincipal};
use super::{
    AuthToLocalMechanism, CacheConfig, Config, DaemonConfig, ImpersonationConfig, Mode,
    OnUnauthorized, PamConfig, PrincipalsConfig, ProgramPrincipal, ProxyRule, Resolution,
};
use crate::error::{Error, Result};
use crate::kerberos::check_program_part;
use crate::kerberos::name::KerberosName;
use crate::kerberos::rules::AuthToLocal;
use crate::names::validate_name;

impl Config {
    /// Re-checks every invariant a loaded configuration holds, so a value changed
    /// after loading (its fields are public to read, and so to write) is refused
    /// before it is used: `Resolver::new` and the LDAP source call this. It reads no
    /// file (secret and policy files are checked when they are read, at load), and
    /// it leaves `[principals]` auth_to_local rules to where they are parsed (a
    /// malformed one fails on use). In `mode = "server"` it also checks what
    /// connecting to the directory needs: every URI's host and port, the
    /// `[ldap.map]` attribute names and filters, and no bind password in clear text
    /// to another host.
    pub fn validate(&self) -> Result<()> {
        let file = self.path.clone().unwrap_or_default();
        let path = file.as_path();
        check_resolution(&self.resolution, path)?;
        check_server_has_ldap(self.resolution.mode, self.ldap.is_some(), true, path)?;
        if let Some(ldap) = &self.ldap {
            ldap.check(path)?;
            if self.resolution.mode == Mode::Server {
                ldap.servers(path)?;
            }
        }
        check_impersonation(&self.impersonation, path)?;
        check_pam(&self.pam, path)?;
        check_daemon(&self.daemon, path)
    }
}

pub(super) fn one_of<T: Copy>(
    path: &Path,
    key: &str,
    value: Option<String>,
    default: T,
    choices: &[(&str, T)],
) -> Result<T> {
    let Some(value) = value else {
        return Ok(default);
    };
    choices
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(value.trim()))
        .map(|(_, v)| *v)
        .ok_or_else(|| {
            let names: Vec<_> = choices.iter().map(|(n, _)| format!("\"{n}\"")).collect();
            Error::config(
                path,
                format!("{key} = {value:?}: must be one of {}", names.join(", ")),
            )
        })
}

pub(super) fn from_raw(raw: RawConfig, path: &Path) -> Result<Config> {
    let defaults = Config::default();
    let written_mode = raw.resolution.mode.is_some();
    let mode = one_of(
        path,
        "[resolution] mode",
        raw.resolution.mode,
        Mode::Client,
        &[("client", Mode::Client), ("server", Mode::Server)],
    )?;
    // fs.mapr.server.resolve.user in the imported core-site.xml (see `mapr`).
    let mode = super::mapr::mode(
        written_mode.then_some(mode),
        raw.impersonation.hadoop_core_site.as_deref(),
        path,
    )?;
    let require_server_side = raw.resolution.require_server_side.unwrap_or(false);
    let resolution = Resolution {
        mode,
        server_side: raw.resolution.server_side.unwrap_or(require_server_side),
        require_server_side,
    };
    check_resolution(&resolution, path)?;

    let dc = defaults.cache;
    let cache = CacheConfig {
        positive_ttl: raw.cache.positive_ttl.map_or(dc.positive_ttl, |d| d.0),
        negative_ttl: raw.cache.negative_ttl.map_or(dc.negative_ttl, |d| d.0),
        max_entries: match raw.cache.max_entries {
            None => dc.max_entries,
            Some(n) => usize::try_from(n)
                .map_err(|_| Error::config(path, "[cache] max_entries is too large"))?,
        },
        stale_if_unavailable: raw
            .cache
            .stale_if_unavailable
            .map_or(dc.stale_if_unavailable, |d| d.0),
    };

    let ldap = raw
        .ldap
        .map(|l| super::ldap::from_raw(l, path))
        .transpose()?;
    check_server_has_ldap(mode, ldap.is_some(), written_mode, path)?;

    let mut ri = raw.impersonation;
    ri.superuser = super::mapr::superuser(ri.superuser, ri.mapr_daemon_conf.as_deref(), path)?;
    let mut protected_users = ri.protected_users;
    let mut protected_groups = ri.protected_groups;
    // root is always protected, whatever the file says.
    for (list, name) in [
        (&mut protected_users, "root"),
        (&mut protected_groups, "root"),
    ] {
        if !list.iter().any(|n| n == name) {
            list.insert(0, name.to_string());
        }
    }
    if let Some(su) = &ri.superuser {
        if !protected_users.contains(su) {
            protected_users.push(su.clone());
        }
    }
    let on_unauthorized = one_of(
        path,
        "[impersonation] on_unauthorized",
        ri.on_unauthorized,
        OnUnauthorized::Deny,
        &[
            ("deny", OnUnauthorized::Deny),
            ("run-as-self", OnUnauthorized::RunAsSelf),
        ],
    )?;
    let proxy = ri
        .proxy
        .into_iter()
        .map(|p| ProxyRule {
            user: p.user,
            hosts: p.hosts,
            groups: p.groups,
            users: p.users,
            uids: p.uids,
            gids: p.gids,
        })
        .collect();
    let impersonation = ImpersonationConfig {
        superuser: ri.superuser,
        protected_users,
        protected_groups,
        on_unauthorized,
        hadoop_core_site: ri.hadoop_core_site,
        audit_log: ri.audit_log,
        mapr_daemon_conf: ri.mapr_daemon_conf,
        proxy,
    };
    check_impersonation(&impersonation, path)?;

    let rp = raw.principals;
    let program = |m: BTreeMap<String, RawProgramPrincipal>| {
        m.into_iter()
            .map(|(k, v)| {
                (
                    k,
                    ProgramPrincipal {
                        principal: v.principal,
                        keytab: v.keytab,
                    },
                )
            })
            .collect()
    };
    let principals = PrincipalsConfig {
        auth_to_local: if rp.auth_to_local.is_empty() {
            defaults.principals.auth_to_local
        } else {
            rp.auth_to_local
        },
        auth_to_local_mechanism: one_of(
            path,
            "[principals] auth_to_local_mechanism",
            rp.auth_to_local_mechanism,
            AuthToLocalMechanism::Hadoop,
            &[
                ("hadoop", AuthToLocalMechanism::Hadoop),
                ("mit", AuthToLocalMechanism::Mit),
            ],
        )?,
        default_realm: rp.default_realm,
        keytab_path: rp.keytab_path,
        default_principal: rp.default_principal,
        default_keytab: rp.default_keytab,
        namespace: program(rp.namespace),
        application: program(rp.application),
    };
    // A malformed auth_to_local rule or principal is refused, naming it.
    check_principals(&principals).map_err(|message| Error::config(path, message))?;

    let pam = PamConfig {
        allowed_groups: raw.pam.allowed_groups,
    };
    check_pam(&pam, path)?;

    Ok(Config {
        path: Some(path.to_path_buf()),
        resolution,
        cache,
        ldap,
        impersonation,
        principals,
        pam,
        daemon: daemon(raw.daemon, path)?,
    })
}

/// `[daemon]` with its defaults.
fn daemon(raw: RawDaemon, path: &Path) -> Result<DaemonConfig> {
    let defaults = DaemonConfig::default();
    let daemon = DaemonConfig {
        socket: raw.socket.unwrap_or(defaults.socket),
        filter_users: raw.filter_users.unwrap_or(defaults.filter_users),
        filter_groups: raw.filter_groups.unwrap_or(defaults.filter_groups),
        enumerate: raw.enumerate.unwrap_or(defaults.enumerate),
        shared_table: raw.shared_table.unwrap_or(defaults.shared_table),
    };
    check_daemon(&daemon, path)?;
    Ok(daemon)
}

fn check_resolution(r: &Resolution, path: &Path) -> Result<()> {
    if r.require_server_side && !r.server_side {
        return Err(Error::config(
            path,
            "[resolution] require_server_side = true needs server_side = true",
        ));
    }
    Ok(())
}

/// `written`: whether proxid.conf wrote `mode` (else core-site.xml set it).
fn check_server_has_ldap(mode: Mode, has_ldap: bool, written: bool, path: &Path) -> Result<()> {
    if mode == Mode::Server && !has_ldap {
        return Err(Error::config(
            path,
            format!(
                "[resolution] mode = \"server\"{} resolves from LDAP, but there is no [ldap] section",
                if written {
                    ""
                } else {
                    " (set by fs.mapr.server.resolve.user = true in hadoop_core_site)"
                }
            ),
        ));
    }
    Ok(())
}

fn check_impersonation(imp: &ImpersonationConfig, path: &Path) -> Result<()> {
    if let Some(su) = &imp.superuser {
        if su.trim().is_empty() {
            return Err(Error::config(path, "[impersonation] superuser is empty"));
        }
    }
    // A typo here would protect nothing: refuse it now (resolving comes later). The
    // superuser, added to protected_users, was checked as such.
    for (key, names) in [
        ("protected_users", &imp.protected_users),
        ("protected_groups", &imp.protected_groups),
    ] {
        if let Some(bad) = names.iter().find(|n| {
            Some(*n) != imp.superuser.as_ref()
                && (n.is_empty() || n.trim() != n.as_str() || n.contains('\0'))
        }) {
            return Err(Error::config(
                path,
                format!(
                    "[impersonation] {key}: {bad:?} is malformed (empty, or with leading or \
                     trailing whitespace); name the account exactly"
                ),
            ));
        }
    }
    // root, and the superuser, are always protected, whatever the file says.
    let unprotected = [
        ("protected_users", &imp.protected_users, Some("root")),
        ("protected_groups", &imp.protected_groups, Some("root")),
        (
            "protected_users",
            &imp.protected_users,
            imp.superuser.as_deref(),
        ),
    ]
    .into_iter()
    .find_map(|(key, list, name)| {
        let name = name?;
        (!list.iter().any(|n| n == name)).then_some((key, name))
    });
    if let Some((key, name)) = unprotected {
        return Err(Error::config(
            path,
            format!("[impersonation] {key} lacks {name:?}, which is always protected"),
        ));
    }
    if imp.proxy.iter().any(|p| p.user.trim().is_empty()) {
        return Err(Error::config(path, "[[impersonation.proxy]] user is empty"));
    }
    Ok(())
}

fn check_pam(pam: &PamConfig, path: &Path) -> Result<()> {
    for group in &pam.allowed_groups {
        if validate_name(group.as_bytes()).is_err() || group.trim() != group {
            return Err(Error::config(
                path,
                format!("[pam] allowed_groups: {group:?} is not a group name"),
            ));
        }
    }
    Ok(())
}

fn check_daemon(daemon: &DaemonConfig, path: &Path) -> Result<()> {
    let socket = &daemon.socket;
    // sockaddr_un holds 107 bytes and a NUL.
    if !socket.is_absolute() || socket.as_os_str().len() > 107 {
        return Err(Error::config(
            path,
            format!(
                "[daemon] socket = {:?}: must be an absolute path of at most 107 bytes",
                socket
            ),
        ));
    }
    Ok(())
}

/// Checks `[principals]` when the configuration is loaded: every auth_to_local rule
/// parses, every configured principal is well-formed, every application key is
/// `"NAMESPACE/APPLICATION"`. The message names the offending rule or entry.
fn check_principals(config: &PrincipalsConfig) -> std::result::Result<(), String> {
    AuthToLocal::check(&config.auth_to_local).map_err(|m| format!("[principals] {m}"))?;
    let entries = config
        .namespace
        .iter()
        .map(|(k, v)| (format!("[principals.namespace.{k:?}]"), &v.principal))
        .chain(
            config
                .application
                .iter()
                .map(|(k, v)| (format!("[principals.application.{k:?}]"), &v.principal)),
        )
        .chain(
            config
                .default_principal
                .iter()
                .map(|p| ("[principals] default_principal".to_string(), p)),
        );
    for (entry, principal) in entries {
        KerberosName::parse(principal).map_err(|e| format!("{entry} principal: {e}"))?;
    }
    for key in config.application.keys() {
        let ok = matches!(key.split_once('/'), Some((ns, app))
            if check_program_part("namespace", ns).is_ok() && check_program_part("application", app).is_ok());
        if !ok {
            return Err(format!(
                "[principals.application.{key:?}]: the key must be \"NAMESPACE/APPLICATION\""
            ));
        }
    }
    Ok(())
}
