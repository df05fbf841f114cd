//! `/etc/proxid.conf`: where it is, how it is parsed (TOML, two layers: raw serde
//! structs that reject unknown keys, then a validated typed `Config`), the
//! file-permission rules for secrets and for policy-bearing files, and
//! `secure_getenv` for the variables a setuid caller must not control.
//!
//! The bottom layer: this module reads files and checks values, and decides
//! nothing else. Its parts:
//!
//! - `raw`: the serde structs, as the file is written (`deny_unknown_fields`);
//! - `validate`: raw into [`Config`], defaults filled in, and [`Config::validate`],
//!   which re-checks every invariant of a value that may have been changed since;
//! - `ldap`: the `[ldap]` section, its URIs, attribute map and bind rules;
//! - `duration`: `"300s"`-style durations;
//! - `files`: secret and policy file permissions, `secure_getenv`;
//! - `toml_error`: TOML errors with line numbers, never quoting a secret;
//! - [`mapr`]: MapR's own switches, read when the configuration loads.
//!
//! Every section struct is `#[non_exhaustive]`: code outside this crate reads the
//! fields but cannot build a configuration that skipped validation.
//!
//! ```compile_fail,E0639
//! // A configuration cannot be written as a struct literal outside proxid ...
//! let config = proxid::Config {
//!     path: None,
//!     resolution: proxid::Config::default().resolution,
//!     cache: Default::default(),
//!     ldap: None,
//!     impersonation: Default::default(),
//!     principals: Default::default(),
//!     pam: Default::default(),
//!     daemon: Default::default(),
//! };
//! ```
//!
//! ```compile_fail,E0639
//! // ... nor can one of its sections (here with min_uid = 0, root from LDAP).
//! let map = proxid::Config::default().ldap.unwrap().map;
//! let ldap = proxid::config::LdapConfig {
//!     uris: vec!["ldap://127.0.0.1".into()],
//!     base: "dc=x".into(),
//!     user_base: "dc=x".into(),
//!     group_base: "dc=x".into(),
//!     schema: proxid::config::LdapSchema::Rfc2307,
//!     nested_group_depth: 0,
//!     bind_dn: None,
//!     bind_password: None,
//!     bind_password_file: None,
//!     starttls: false,
//!     ca_file: None,
//!     connect_timeout: std::time::Duration::from_secs(1),
//!     operation_timeout: std::time::Duration::from_secs(1),
//!     connections: 1,
//!     retry_after: std::time::Duration::from_secs(1),
//!     connection_max_age: std::time::Duration::from_secs(1),
//!     min_uid: 0,
//!     min_gid: 0,
//!     allow_insecure_bind: false,
//!     map,
//! };
//! ```
//!
//! ```
//! // Reading works, and a value changed after loading is re-checked by its consumers.
//! let mut config = proxid::Config::default();
//! assert!(config.validate().is_ok());
//! config.daemon.socket = "relative.sock".into();
//! assert!(config.validate().is_err());
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::id_range::IdRange;

mod duration;
mod files;
mod ldap;
pub mod mapr;
mod raw;
#[cfg(test)]
mod tests;
mod toml_error;
mod validate;

pub use duration::parse_duration;
use duration::ser_duration;
pub(crate) use files::{check_policy_owner_mode, read_policy_file, PolicyFileError};
pub use files::{check_secret_file_mode, config_path, secure_env};
pub use ldap::{is_ldap_uri, LdapConfig, LdapMap, LdapSchema, Secret};
pub(crate) use ldap::{wrapped_filter, LdapServer};

/// The default configuration path.
pub const DEFAULT_PATH: &str = "/etc/proxid.conf";
/// Environment variable naming the configuration file.
pub const ENV_VAR: &str = "PROXID_CONF";

/// Who turns names into IDs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The local OS registry (NSS) on the client.
    Client,
    /// The directory (LDAP), on the server.
    Server,
}

/// `[resolution]`: who turns names into IDs, and what a server accepts from clients
/// (the mode handshake, [`crate::mode`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Resolution {
    /// `mode`: `"client"` (the local OS registry) or `"server"` (LDAP, needs
    /// `[ldap]`). Default `"client"`, or what `fs.mapr.server.resolve.user` in
    /// `hadoop_core_site` says; a mode written here must agree with that property.
    pub mode: Mode,
    /// `server_side`: server role: accept name-only assertions and resolve them here.
    /// Default `false` (`true` when `require_server_side` is).
    pub server_side: bool,
    /// `require_server_side`: server role, strict: accept only name-only assertions,
    /// refusing IDs a client resolved itself (both sides must then run server-side
    /// resolution). Default `false`; needs `server_side`.
    pub require_server_side: bool,
}

/// `[cache]`: the in-process cache in front of every source. Durations are written
/// with a unit in the file (`"300s"`, `"5m"`, `"1h"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CacheConfig {
    /// `positive_ttl`: how long a found identity is served from memory. Default
    /// `"300s"`.
    #[serde(serialize_with = "ser_duration")]
    pub positive_ttl: Duration,
    /// `negative_ttl`: how long "no such user or group" is remembered, so a flood of
    /// bad names costs one lookup each per period. Default `"30s"`.
    #[serde(serialize_with = "ser_duration")]
    pub negative_ttl: Duration,
    /// `max_entries`: most entries held (a count), least recently used out first.
    /// Default `100000`.
    pub max_entries: usize,
    /// `stale_if_unavailable`: how long past its expiry an identity is still served
    /// while every LDAP server is down (marked stale). Default `"1h"`.
    #[serde(serialize_with = "ser_duration")]
    pub stale_if_unavailable: Duration,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            positive_ttl: Duration::from_secs(300),
            negative_ttl: Duration::from_secs(30),
            max_entries: 100_000,
            stale_if_unavailable: Duration::from_secs(3600),
        }
    }
}

/// What happens when a proxy is not allowed to impersonate the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnUnauthorized {
    /// `"deny"`: the request is refused.
    Deny,
    /// `"run-as-self"`: proceed as the proxy itself, not as the target.
    RunAsSelf,
}

/// One `[[impersonation.proxy]]` block, the meaning of `hadoop.proxyuser.<user>.*`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ProxyRule {
    /// `user`: the proxy (the `P` of `hadoop.proxyuser.P.*`). Required.
    pub user: String,
    /// `hosts`: where the proxy's requests may come from: `"*"`, IP addresses, CIDR
    /// blocks, host names (resolved once, when the rules are built). Default `[]`:
    /// nowhere.
    pub hosts: Vec<String>,
    /// `groups`: the target must be in one of these groups (primary group included).
    /// Default `[]`.
    pub groups: Vec<String>,
    /// `users`: ... or be one of these users (`"*"`: anyone). Default `[]`.
    pub users: Vec<String>,
    /// `uids`: ... or have its UID in one of these inclusive ranges (`"20000-29999"`,
    /// `"31000"`; MapR-style scopes). Default `[]`. A range covering a protected UID is
    /// refused when the policy is built.
    pub uids: Vec<IdRange>,
    /// `gids`: ... or have a GID (primary included) in one of these inclusive ranges.
    /// Default `[]`. A range covering a protected GID is refused as for `uids`.
    pub gids: Vec<IdRange>,
}

/// `[daemon]`: proxidd and its NSS module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct DaemonConfig {
    /// `socket`: the Unix socket proxidd serves (`proxidd --socket` overrides it): an
    /// absolute path of at most 107 bytes. Default `"/run/proxid/nss.sock"`.
    pub socket: PathBuf,
    /// `filter_users`: users never served through NSS (UID 0 never is, whatever this
    /// says). Default `["root"]`.
    pub filter_users: Vec<String>,
    /// `filter_groups`: groups never served through NSS (GID 0 never is). Default
    /// `["root"]`.
    pub filter_groups: Vec<String>,
    /// `enumerate`: whether `getent passwd` / `getent group` without a key list the
    /// directory. Default `false` (as SSSD's default).
    pub enumerate: bool,
    /// `shared_table`: whether proxidd publishes its answers in a read-only table
    /// beside the socket (`nss.cache`) for the NSS module's warm path. Default `true`.
    pub shared_table: bool,
}

impl Default for DaemonConfig {
    fn default() -> Self {
        DaemonConfig {
            socket: PathBuf::from("/run/proxid/nss.sock"),
            filter_users: vec!["root".into()],
            filter_groups: vec!["root".into()],
            enumerate: false,
            shared_table: true,
        }
    }
}

/// `[impersonation]`: who may act as whom ([`crate::policy`] gives the order of the
/// checks).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ImpersonationConfig {
    /// `superuser`: may impersonate anyone, root included; always protected itself.
    /// Default: none, or the `mapr.daemon.user=` of `mapr_daemon_conf` (a superuser
    /// written here must then name the same user).
    pub superuser: Option<String>,
    /// `protected_users`: users never taken on through impersonation, compared by
    /// UID; each must resolve. Default `["root"]`; root and the superuser are always
    /// added.
    pub protected_users: Vec<String>,
    /// `protected_groups`: no member of these groups (by GID, primary included) is
    /// taken on; each must resolve. Default `["root"]`; root is always added.
    pub protected_groups: Vec<String>,
    /// `on_unauthorized`: what a request no rule allows becomes. Default `"deny"`.
    pub on_unauthorized: OnUnauthorized,
    /// `hadoop_core_site`: a core-site.xml whose `hadoop.proxyuser.*` rules are
    /// imported (and whose `fs.mapr.server.resolve.user` sets `[resolution] mode`).
    /// It carries policy, so it is refused when group- or world-writable. Default:
    /// none.
    pub hadoop_core_site: Option<PathBuf>,
    /// `audit_log`: the file each decision is appended to, one JSON line each; a line
    /// that cannot be written whole makes the decision `denied`. Default: none (no
    /// audit).
    pub audit_log: Option<PathBuf>,
    /// `mapr_daemon_conf`: MapR's daemon.conf, whose `mapr.daemon.user=` is the
    /// default superuser (`mapr`); refused when group- or world-writable. Default:
    /// none.
    pub mapr_daemon_conf: Option<PathBuf>,
    /// `[[impersonation.proxy]]` blocks, in file order. Default: none.
    pub proxy: Vec<ProxyRule>,
}

impl Default for ImpersonationConfig {
    fn default() -> Self {
        ImpersonationConfig {
            superuser: None,
            protected_users: vec!["root".into()],
            protected_groups: vec!["root".into()],
            on_unauthorized: OnUnauthorized::Deny,
            hadoop_core_site: None,
            audit_log: None,
            mapr_daemon_conf: None,
            proxy: Vec::new(),
        }
    }
}

pub use crate::kerberos::AuthToLocalMechanism;

/// One `[principals.namespace.NS]` or `[principals.application."NS/APP"]` block: the
/// Kerberos identity a program runs with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ProgramPrincipal {
    /// `principal`: `primary[/instance]@REALM`; an instance of `_HOST` becomes this
    /// machine's lower-cased FQDN. Required.
    pub principal: String,
    /// `keytab`: the keytab holding the principal's key. Default: none, then
    /// `keytab_path` with the principal's short name, if set.
    pub keytab: Option<PathBuf>,
}

/// `[principals]`: Kerberos principals to short names (Hadoop's auth_to_local) and
/// the principals programs run with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PrincipalsConfig {
    /// `auth_to_local`: Hadoop `hadoop.security.auth_to_local` rules, one string each
    /// (`RULE:[n:fmt](regex)s/from/to/g/L`, `DEFAULT`), tried in order. Default
    /// `["DEFAULT"]`; a malformed rule is refused at load.
    pub auth_to_local: Vec<String>,
    /// `auth_to_local_mechanism`: `"hadoop"` (no match is an error) or `"mit"`
    /// (an unmatched principal passes through). Default `"hadoop"`.
    pub auth_to_local_mechanism: AuthToLocalMechanism,
    /// `default_realm`: the realm `DEFAULT` strips. Default: `default_realm` of
    /// `$KRB5_CONFIG` or `/etc/krb5.conf`.
    pub default_realm: Option<String>,
    /// `keytab_path`: a keytab path template for program principals without an
    /// explicit keytab; `${name}` becomes the principal's short name. Default: none.
    pub keytab_path: Option<String>,
    /// `default_principal`: the principal of a program that no `namespace` or
    /// `application` block names. Default: none.
    pub default_principal: Option<String>,
    /// `default_keytab`: the keytab of `default_principal`. Default: none.
    pub default_keytab: Option<PathBuf>,
    /// `[principals.namespace.NS]` blocks, by namespace name. Default: none.
    pub namespace: BTreeMap<String, ProgramPrincipal>,
    /// `[principals.application."NS/APP"]` blocks, by `NS/APP`; an application's block
    /// beats its namespace's. Default: none.
    pub application: BTreeMap<String, ProgramPrincipal>,
}

impl Default for PrincipalsConfig {
    fn default() -> Self {
        PrincipalsConfig {
            auth_to_local: vec!["DEFAULT".into()],
            auth_to_local_mechanism: AuthToLocalMechanism::Hadoop,
            default_realm: None,
            keytab_path: None,
            default_principal: None,
            default_keytab: None,
            namespace: BTreeMap::new(),
            application: BTreeMap::new(),
        }
    }
}

/// `[pam]`: who may log in through `pam_proxid.so`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PamConfig {
    /// `allowed_groups`: groups whose members may log in with their directory
    /// password. Default `[]`: nobody (fail closed, as kanidm's
    /// `pam_allowed_login_groups`).
    pub allowed_groups: Vec<String>,
}

/// The validated configuration. Built by [`Config::load`] or [`Config::from_toml`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Config {
    /// The file this came from; `None` for the embedded default.
    #[serde(skip)]
    pub path: Option<PathBuf>,
    /// `[resolution]`.
    pub resolution: Resolution,
    /// `[cache]`.
    pub cache: CacheConfig,
    /// `[ldap]`; `None` when the file has no such section (needed for server mode).
    pub ldap: Option<LdapConfig>,
    /// `[impersonation]` and its `[[impersonation.proxy]]` blocks.
    pub impersonation: ImpersonationConfig,
    /// `[principals]`.
    pub principals: PrincipalsConfig,
    /// `[pam]`.
    pub pam: PamConfig,
    /// `[daemon]`.
    pub daemon: DaemonConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            path: None,
            resolution: Resolution {
                mode: Mode::Client,
                server_side: false,
                require_server_side: false,
            },
            cache: CacheConfig::default(),
            ldap: None,
            impersonation: ImpersonationConfig::default(),
            principals: PrincipalsConfig::default(),
            pam: PamConfig::default(),
            daemon: DaemonConfig::default(),
        }
    }
}

impl Config {
    /// Loads the configuration: `explicit` (e.g. `--config`), else `PROXID_CONF`, else
    /// `/etc/proxid.conf`. No file at the default path means the embedded default
    /// (client-side resolution); a path that was named explicitly must exist.
    pub fn load(explicit: Option<&Path>) -> Result<Config> {
        let (path, named) = config_path(explicit);
        Config::load_file(&path, named)
    }

    /// Loads `path`. When it does not exist, a `required` path is an error and an
    /// optional one (the default path) yields the embedded default.
    pub fn load_file(path: &Path, required: bool) -> Result<Config> {
        match read_policy_file(path, "the configuration file") {
            Ok(bytes) => {
                let text = String::from_utf8(bytes)
                    .map_err(|_| Error::config(path, "file is not valid UTF-8"))?;
                Config::from_toml(&text, path)
            }
            Err(PolicyFileError::Io(e))
                if e.kind() == std::io::ErrorKind::NotFound && !required =>
            {
                Ok(Config::default())
            }
            Err(PolicyFileError::Io(e)) => Err(Error::config(path, format!("cannot read: {e}"))),
            Err(PolicyFileError::Unsafe(why)) => Err(Error::config(path, why)),
        }
    }

    /// Parses and validates configuration text that came from `path` (used in messages
    /// and for the permission checks of files holding secrets).
    pub fn from_toml(text: &str, path: &Path) -> Result<Config> {
        let raw: raw::RawConfig =
            toml::from_str(text).map_err(|e| toml_error::toml_error(text, path, &e))?;
        validate::from_raw(raw, path)
    }

    /// The effective configuration as TOML, secrets masked (for `check-config`).
    pub fn to_effective_toml(&self) -> String {
        toml::to_string(self).unwrap_or_else(|e| format!("# cannot render: {e}\n"))
    }
}
