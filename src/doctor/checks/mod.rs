//! The checks of `proxid doctor` (see the module above for the list).

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use super::{Check, Options};
use crate::config::{self, Config, Mode};
use crate::proxid::Proxid;
use crate::source::ldap::probe::{self, Level};

mod mode;
mod policy;
mod principals;

use mode::mode_agreement;
pub use mode::server_config;
use policy::policy;
use principals::principals;

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
