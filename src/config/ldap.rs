//! `[ldap]`: the directory to resolve from, and every rule about it: URIs (one
//! scheme check, hosts and ports), the attribute map and filters, the bind
//! password and when it may travel in clear text, timeouts, and the UID/GID floor.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Serialize, Serializer};

use super::duration::ser_duration;
use super::files::{check_secret_file_mode, read_secret_file};
use super::raw::RawLdap;
use super::validate::one_of;
use crate::error::{Error, Result};

/// A secret (the LDAP bind password). Never printed, never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub(super) String);

impl Secret {
    /// The secret itself, for the one place that sends it (the LDAP bind). Never
    /// print or log what this returns.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(********)")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str("********")
    }
}

/// `[ldap] schema`: how the directory records group membership.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LdapSchema {
    /// `"rfc2307"`: posixGroup with `memberUid` (member names).
    Rfc2307,
    /// `"rfc2307bis"`: groups with `member` DNs, possibly nested.
    Rfc2307bis,
}

/// `[ldap.map]`: the filters and attribute names the directory uses. Filters go into
/// queries as written (checked to parse); attribute names must be plain LDAP
/// attribute descriptions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct LdapMap {
    /// `user_filter`: what a user entry is. Default `"(objectClass=posixAccount)"`.
    pub user_filter: String,
    /// `group_filter`: what a group entry is. Default `"(objectClass=posixGroup)"`
    /// (rfc2307) or `"(|(objectClass=posixGroup)(objectClass=groupOfNames))"`
    /// (rfc2307bis).
    pub group_filter: String,
    /// `uid`: the user's login name. Default `"uid"`.
    pub uid: String,
    /// `uid_number`: the user's UID. Default `"uidNumber"`.
    pub uid_number: String,
    /// `gid_number`: the user's primary GID, and a group's GID. Default
    /// `"gidNumber"`.
    pub gid_number: String,
    /// `member_uid`: a group's member names (rfc2307). Default `"memberUid"`.
    pub member_uid: String,
    /// `member`: a group's member DNs (rfc2307bis). Default `"member"`.
    pub member: String,
    /// `home_directory`: the user's home directory. Default `"homeDirectory"`.
    pub home_directory: String,
    /// `login_shell`: the user's shell. Default `"loginShell"`.
    pub login_shell: String,
    /// `group_name`: a group's name. Default `"cn"`.
    pub group_name: String,
}

/// `[ldap]`: the directory server-side resolution reads. Durations are written with
/// a unit in the file (`"2s"`, `"500ms"`, `"10m"`), and none may be 0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct LdapConfig {
    /// `uris`: `ldap://` or `ldaps://` URIs, tried in order (failover). Required, at
    /// least one.
    pub uris: Vec<String>,
    /// `base`: the search base. Required.
    pub base: String,
    /// `user_base`: where users are searched. Default: `base`.
    pub user_base: String,
    /// `group_base`: where groups are searched. Default: `base`.
    pub group_base: String,
    /// `schema`: how membership is recorded. Default `"rfc2307"`.
    pub schema: LdapSchema,
    /// `nested_group_depth`: how many levels of nested rfc2307bis groups are
    /// followed (cycles are stopped). Default `0`: none.
    pub nested_group_depth: u32,
    /// `bind_dn`: the DN of a simple bind. Default: none (anonymous).
    pub bind_dn: Option<String>,
    /// The bind password: `bind_password` (inline; the configuration file must then
    /// be private) or the content of `bind_password_file`. Default: none; needs
    /// `bind_dn`.
    pub bind_password: Option<Secret>,
    /// `bind_password_file`: the file the bind password was read from; refused when
    /// group or others may read it. Default: none; not with `bind_password`.
    pub bind_password_file: Option<PathBuf>,
    /// `starttls`: upgrade `ldap://` connections with StartTLS. Default `false`.
    /// Certificates are always verified.
    pub starttls: bool,
    /// `ca_file`: the PEM certificates TLS trusts (a server certificate found in it
    /// is also accepted as pinned). Default: none, the system store.
    pub ca_file: Option<PathBuf>,
    /// `connect_timeout`: the most one connection attempt (TCP, TLS, bind) may take.
    /// Default `"2s"`.
    #[serde(serialize_with = "ser_duration")]
    pub connect_timeout: Duration,
    /// `operation_timeout`: the most one lookup may wait for the server's answer.
    /// Default `"3s"`.
    #[serde(serialize_with = "ser_duration")]
    pub operation_timeout: Duration,
    /// `connections`: the most pooled connections (a count, 1 to 256), opened on
    /// demand. Default `4`.
    pub connections: u32,
    /// `retry_after`: how long a server that failed is skipped; then it is tried
    /// first again (and connections to later servers in `uris` are replaced).
    /// Default `"10s"`.
    #[serde(serialize_with = "ser_duration")]
    pub retry_after: Duration,
    /// `connection_max_age`: connections are reopened after this long. Default
    /// `"10m"`.
    #[serde(serialize_with = "ser_duration")]
    pub connection_max_age: Duration,
    /// `min_uid`: users with a lower UID are ignored; at least 1 (0 is read as 1:
    /// root never comes from the directory). Default `1`.
    pub min_uid: u32,
    /// `min_gid`: groups with a lower GID are not among a user's groups (a member
    /// keeps the GID for the protection check); at least 1. Default `1`.
    pub min_gid: u32,
    /// `allow_insecure_bind`: allow a simple bind over plain `ldap://` (no StartTLS)
    /// to a host other than loopback. Default `false`: refused.
    pub allow_insecure_bind: bool,
    /// `[ldap.map]`.
    pub map: LdapMap,
}

/// `[ldap]` as written into [`LdapConfig`], defaults filled in and checked.
pub(super) fn from_raw(l: RawLdap, path: &Path) -> Result<LdapConfig> {
    check_uri_schemes(&l.uris, path)?;
    let base = l
        .base
        .filter(|b| !b.trim().is_empty())
        .ok_or_else(|| Error::config(path, "[ldap] base is missing"))?;
    let schema = one_of(
        path,
        "[ldap] schema",
        l.schema,
        LdapSchema::Rfc2307,
        &[
            ("rfc2307", LdapSchema::Rfc2307),
            ("rfc2307bis", LdapSchema::Rfc2307bis),
        ],
    )?;
    let bind_password = match (&l.bind_password, &l.bind_password_file) {
        (Some(_), Some(_)) => {
            return Err(Error::config(
                path,
                "[ldap] set bind_password or bind_password_file, not both",
            ))
        }
        (Some(p), None) => {
            // The password sits in this very file, so this file must be private.
            check_secret_file_mode(path, "a configuration file holding bind_password")?;
            Some(Secret(p.clone()))
        }
        (None, Some(file)) => Some(read_secret_file(file)?),
        (None, None) => None,
    };
    let or_secs = |d: Option<super::duration::ConfDuration>, secs| {
        d.map_or(Duration::from_secs(secs), |d| d.0)
    };
    let m = l.map;
    let map = LdapMap {
        user_filter: m
            .user_filter
            .unwrap_or_else(|| "(objectClass=posixAccount)".into()),
        group_filter: m.group_filter.unwrap_or_else(|| match schema {
            LdapSchema::Rfc2307 => "(objectClass=posixGroup)".into(),
            LdapSchema::Rfc2307bis => {
                "(|(objectClass=posixGroup)(objectClass=groupOfNames))".into()
            }
        }),
        uid: m.uid.unwrap_or_else(|| "uid".into()),
        uid_number: m.uid_number.unwrap_or_else(|| "uidNumber".into()),
        gid_number: m.gid_number.unwrap_or_else(|| "gidNumber".into()),
        member_uid: m.member_uid.unwrap_or_else(|| "memberUid".into()),
        member: m.member.unwrap_or_else(|| "member".into()),
        home_directory: m.home_directory.unwrap_or_else(|| "homeDirectory".into()),
        login_shell: m.login_shell.unwrap_or_else(|| "loginShell".into()),
        group_name: m.group_name.unwrap_or_else(|| "cn".into()),
    };
    let ldap = LdapConfig {
        uris: l.uris,
        user_base: l.user_base.unwrap_or_else(|| base.clone()),
        group_base: l.group_base.unwrap_or_else(|| base.clone()),
        base,
        schema,
        nested_group_depth: l.nested_group_depth.unwrap_or(0),
        bind_dn: l.bind_dn,
        bind_password,
        bind_password_file: l.bind_password_file,
        starttls: l.starttls.unwrap_or(false),
        ca_file: l.ca_file,
        connect_timeout: or_secs(l.connect_timeout, 2),
        operation_timeout: or_secs(l.operation_timeout, 3),
        connections: l.connections.unwrap_or(4),
        retry_after: or_secs(l.retry_after, 10),
        connection_max_age: or_secs(l.connection_max_age, 600),
        // 0 is read as 1: UID and GID 0 never come from the directory.
        min_uid: l.min_uid.unwrap_or(1).max(1),
        min_gid: l.min_gid.unwrap_or(1).max(1),
        allow_insecure_bind: l.allow_insecure_bind.unwrap_or(false),
        map,
    };
    ldap.check(path)?;
    Ok(ldap)
}

impl LdapConfig {
    /// Every rule loading enforces that needs no file and no look at the URIs'
    /// hosts (see [`LdapConfig::servers`] for those). Errors name `path`.
    pub(super) fn check(&self, path: &Path) -> Result<()> {
        check_uri_schemes(&self.uris, path)?;
        if self.base.trim().is_empty() {
            return Err(Error::config(path, "[ldap] base is missing"));
        }
        if self.bind_password.is_some() && self.bind_dn.is_none() {
            return Err(Error::config(
                path,
                "[ldap] a bind password is set but bind_dn is not",
            ));
        }
        if self.connections == 0 || self.connections > 256 {
            return Err(Error::config(
                path,
                "[ldap] connections must be between 1 and 256",
            ));
        }
        for (key, d) in [
            ("connect_timeout", self.connect_timeout),
            ("operation_timeout", self.operation_timeout),
            ("retry_after", self.retry_after),
            ("connection_max_age", self.connection_max_age),
        ] {
            if d.is_zero() {
                return Err(Error::config(
                    path,
                    format!("[ldap] {key} must be more than 0"),
                ));
            }
        }
        for (key, floor) in [("min_uid", self.min_uid), ("min_gid", self.min_gid)] {
            if floor == 0 {
                return Err(Error::config(
                    path,
                    format!("[ldap] {key} = 0: must be at least 1 (ID 0 is root's, never the directory's)"),
                ));
            }
        }
        Ok(())
    }

    /// What connecting to the directory needs on top of what loading checks: every
    /// URI taken apart (host, port), the attribute map's names and the filters (they
    /// go into queries verbatim), and no bind password in clear text to a host that
    /// is not this one. Where the LDAP source is built, and in
    /// [`super::Config::validate`] for `mode = "server"`. Errors name `path`.
    pub(crate) fn servers(&self, path: &Path) -> Result<Vec<LdapServer>> {
        let bad = |message: String| Error::config(path, message);
        let servers = self
            .uris
            .iter()
            .map(|u| LdapServer::parse(u).map_err(|e| bad(format!("[ldap] uris: {e}"))))
            .collect::<Result<Vec<_>>>()?;
        let m = &self.map;
        for (key, name) in [
            ("uid", &m.uid),
            ("uid_number", &m.uid_number),
            ("gid_number", &m.gid_number),
            ("member_uid", &m.member_uid),
            ("member", &m.member),
            ("home_directory", &m.home_directory),
            ("login_shell", &m.login_shell),
            ("group_name", &m.group_name),
        ] {
            check_attribute_name(key, name).map_err(bad)?;
        }
        for filter in [&m.user_filter, &m.group_filter] {
            ldap3::parse_filter(format!("(&{}(x=y))", wrapped_filter(filter)))
                .map_err(|_| bad(format!("[ldap.map] {filter:?} is not a valid LDAP filter")))?;
        }
        if self.bind_dn.is_some() && !self.allow_insecure_bind && !self.starttls {
            if let Some(s) = servers.iter().find(|s| !s.tls && !s.is_loopback()) {
                return Err(bad(format!(
                    "[ldap] refusing to send the bind password in clear text to {}: use \
                     ldaps://, starttls = true, or allow_insecure_bind = true",
                    s.uri
                )));
            }
        }
        Ok(servers)
    }
}

/// `uris` names at least one URI and each has the scheme ldap or ldaps.
fn check_uri_schemes(uris: &[String], path: &Path) -> Result<()> {
    if uris.is_empty() {
        return Err(Error::config(
            path,
            "[ldap] uris is empty: name at least one ldap:// or ldaps:// URI",
        ));
    }
    match uris.iter().find(|uri| uri_tls(uri).is_none()) {
        Some(uri) => Err(Error::config(
            path,
            format!("[ldap] uris: {uri:?} must start with ldap:// or ldaps://"),
        )),
        None => Ok(()),
    }
}

/// Whether `uri` has the scheme ldap or ldaps (any case), by the one scheme check.
pub fn is_ldap_uri(uri: &str) -> bool {
    uri_tls(uri).is_some()
}

/// The one scheme check: `Some(tls)` for an `ldap://` (false) or `ldaps://` (true)
/// URI, in any case; `None` for anything else.
fn uri_tls(uri: &str) -> Option<bool> {
    let (scheme, _) = uri.split_once("://")?;
    match scheme.to_ascii_lowercase().as_str() {
        "ldap" => Some(false),
        "ldaps" => Some(true),
        _ => None,
    }
}

/// One entry of `uris`, taken apart.
#[derive(Debug, Clone)]
pub(crate) struct LdapServer {
    /// Normalised: `scheme://host:port`, the port written out.
    pub uri: String,
    /// `ldaps://`.
    pub tls: bool,
    /// The host, without the brackets of an IPv6 literal.
    pub host: String,
    pub port: u16,
}

impl LdapServer {
    /// Takes an `ldap://` or `ldaps://` URI apart; the message says what is wrong.
    pub fn parse(uri: &str) -> std::result::Result<LdapServer, String> {
        let tls =
            uri_tls(uri).ok_or_else(|| format!("{uri:?} is not an ldap:// or ldaps:// URI"))?;
        let rest = uri.split_once("://").map_or("", |(_, rest)| rest);
        let authority = rest.split(['/', '?']).next().unwrap_or_default();
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (host, after) = v6
                .split_once(']')
                .ok_or_else(|| format!("{uri:?}: unclosed [ in host"))?;
            (host, after.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(format!("{uri:?} names no host"));
        }
        let port = match port {
            None | Some("") => {
                if tls {
                    636
                } else {
                    389
                }
            }
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|&p| p > 0)
                .ok_or_else(|| format!("{uri:?}: bad port {p:?}"))?,
        };
        let scheme = if tls { "ldaps" } else { "ldap" };
        let shown_host = if host.contains(':') {
            format!("[{host}]")
        } else {
            host.to_owned()
        };
        Ok(LdapServer {
            uri: format!("{scheme}://{shown_host}:{port}"),
            tls,
            host: host.to_owned(),
            port,
        })
    }

    /// `localhost` or a loopback address: a clear-text bind to it stays on this host.
    pub fn is_loopback(&self) -> bool {
        self.host.eq_ignore_ascii_case("localhost")
            || self
                .host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }
}

/// Attribute names from `[ldap.map]` go into filters verbatim, so they must be
/// attribute descriptions (RFC 4512: a keystring or a numeric OID), nothing else.
fn check_attribute_name(key: &str, name: &str) -> std::result::Result<(), String> {
    let keystring = name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let oid = !name.is_empty()
        && name
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    if keystring || oid {
        Ok(())
    } else {
        Err(format!(
            "[ldap.map] {key} = {name:?} is not an LDAP attribute name"
        ))
    }
}

/// A filter from the configuration, parenthesised if the administrator left that out.
pub(crate) fn wrapped_filter(filter: &str) -> String {
    let filter = filter.trim();
    if filter.starts_with('(') {
        filter.to_owned()
    } else {
        format!("({filter})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_names_table() {
        for (name, ok) in [
            ("uid", true),
            ("x-my-attr", true),
            ("1.3.6.1.1.1.1.0", true),
            ("", false),
            ("uid)(x", false),
            ("1uid", false),
            ("1..2", false),
            ("uid=*", false),
        ] {
            assert_eq!(check_attribute_name("uid", name).is_ok(), ok, "{name}");
        }
    }
}
