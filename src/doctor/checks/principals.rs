//! Principals and keytabs: the realm, the service principals, who can read the keytabs.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use super::Check;
use crate::config::Config;
use crate::identity::Identity;
use crate::principal::{check_keytab, host, keytab_from_template};
use crate::proxid::Proxid;

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

pub(super) fn principals(
    config: &Config,
    resolver: &Proxid,
    names: &[String],
    emit: &mut dyn FnMut(Check),
) {
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
