//! `proxid doctor`: every check an operator would otherwise do by hand (`getent`,
//! `ldapsearch`, `openssl s_client`, `klist -k`, reading core-site.xml), each one a
//! row that is ok, a warning or a failure, with the fix in one sentence.
//!
//! The checks, in order:
//! - `config`, `permissions.*`: the configuration loads; neither it nor a policy file
//!   (core-site.xml) is writable by group or others; secret files pass the rule the
//!   loader enforces ([`crate::config::check_secret_file_mode`]).
//! - `ldap.*`: each URI probed step by step ([`crate::source::ldap::probe`]).
//! - `mode.*` (with a server to compare with): the two sides' `[resolution]`
//!   settings, then the local UID/GIDs of the users against the server's (MapR's
//!   rule that client and server agree), every difference listed.
//! - `policy.*`: the rules build, protected names resolve, the superuser exists, no
//!   proxy rule names a protected identity or opens everything to everyone.
//! - `principals.*`: the default realm, each keytab (present, a keytab, readable by
//!   the user it is for and by nobody else), the keytab template for the given names.
//!
//! Checks never stop at the first problem (except that nothing after `config` runs
//! without a configuration): the point is to list all of them.

mod checks;

use std::path::PathBuf;

use serde::Serialize;

pub use checks::server_config;

/// How a check went. Ordered: the worst of a run decides the exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warn,
    Fail,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Fail => "fail",
        }
    }

    /// The exit status of `proxid doctor`: 0 all ok, 1 any warning, 2 any failure.
    pub fn exit_code(self) -> u8 {
        self as u8
    }
}

/// One row of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// What was checked: `config`, `ldap.tls ldaps://host:636`, `mode.identities`...
    pub check: String,
    pub status: Status,
    pub detail: String,
    /// The fix, one sentence; `None` when ok.
    pub fix: Option<String>,
}

impl Check {
    pub fn ok(check: impl Into<String>, detail: impl Into<String>) -> Check {
        Check {
            check: check.into(),
            status: Status::Ok,
            detail: detail.into(),
            fix: None,
        }
    }

    pub fn warn(
        check: impl Into<String>,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Check {
        Check {
            check: check.into(),
            status: Status::Warn,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }

    pub fn fail(
        check: impl Into<String>,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Check {
        Check {
            check: check.into(),
            status: Status::Fail,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }
}

/// What to check.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--config`; else `PROXID_CONF`, else `/etc/proxid.conf`.
    pub config: Option<PathBuf>,
    /// `--server`: the server's proxid.conf, or `ldap[s]://` URIs (comma-separated)
    /// meaning a server-side resolving server with this configuration's `[ldap]`
    /// settings at those URIs.
    pub server: Option<String>,
    /// Users to compare and to resolve keytab templates for (already validated).
    /// Empty: every local user with UID >= 1000 for the comparison.
    pub names: Vec<String>,
}

/// Runs every check, handing each row to `emit` as soon as it is known (LDAP probes
/// take a while). Returns the worst status.
pub fn run(options: &Options, emit: &mut dyn FnMut(Check)) -> Status {
    let mut worst = Status::Ok;
    let mut sink = |c: Check| {
        worst = worst.max(c.status);
        emit(c);
    };
    checks::all(options, &mut sink);
    worst
}
