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

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Resolution {
    pub mode: Mode,
    /// Server role: accept name-only assertions and resolve them here.
    pub server_side: bool,
    /// Server role, strict: accept only name-only assertions, refusing IDs a client
    /// resolved itself (both sides must then run server-side resolution).
    pub require_server_side: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CacheConfig {
    #[serde(serialize_with = "ser_duration")]
    pub positive_ttl: Duration,
    #[serde(serialize_with = "ser_duration")]
    pub negative_ttl: Duration,
    pub max_entries: usize,
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
    Deny,
    /// Proceed as the proxy itself, not as the target.
    RunAsSelf,
}

/// One `[[impersonation.proxy]]` block, the meaning of `hadoop.proxyuser.<user>.*`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ProxyRule {
    pub user: String,
    pub hosts: Vec<String>,
    pub groups: Vec<String>,
    pub users: Vec<String>,
    /// Scope by number: targets whose UID is in one of these ranges (`policy::scopes`).
    pub uids: Vec<IdRange>,
    /// Scope by number: targets with a GID (primary included) in one of these ranges.
    pub gids: Vec<IdRange>,
}

/// `[daemon]`: proxidd and its NSS module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct DaemonConfig {
    /// The Unix socket proxidd serves.
    pub socket: PathBuf,
    /// Users never served through NSS (root never is, whatever this says).
    pub filter_users: Vec<String>,
    /// Groups never served through NSS.
    pub filter_groups: Vec<String>,
    /// Whether `getent passwd` / `getent group` without a key list the directory.
    pub enumerate: bool,
    /// Whether proxidd publishes its answers in a read-only table beside the socket
    /// for the NSS module's warm path (`nss.cache`).
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ImpersonationConfig {
    pub superuser: Option<String>,
    pub protected_users: Vec<String>,
    pub protected_groups: Vec<String>,
    pub on_unauthorized: OnUnauthorized,
    pub hadoop_core_site: Option<PathBuf>,
    pub audit_log: Option<PathBuf>,
    /// MapR's daemon.conf, whose `mapr.daemon.user=` is the default superuser (`mapr`).
    pub mapr_daemon_conf: Option<PathBuf>,
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ProgramPrincipal {
    pub principal: String,
    pub keytab: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PrincipalsConfig {
    pub auth_to_local: Vec<String>,
    pub auth_to_local_mechanism: AuthToLocalMechanism,
    pub default_realm: Option<String>,
    pub keytab_path: Option<String>,
    pub default_principal: Option<String>,
    pub default_keytab: Option<PathBuf>,
    pub namespace: BTreeMap<String, ProgramPrincipal>,
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
    /// Groups whose members may log in with their directory password. Empty means
    /// nobody (fail closed, as kanidm's `pam_allowed_login_groups`).
    pub allowed_groups: Vec<String>,
}

/// The validated configuration. Built by [`Config::load`] or [`Config::from_toml`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Config {
    /// The file this came from; `None` for the embedded default.
    #[serde(skip)]
    pub path: Option<PathBuf>,
    pub resolution: Resolution,
    pub cache: CacheConfig,
    pub ldap: Option<LdapConfig>,
    pub impersonation: ImpersonationConfig,
    pub principals: PrincipalsConfig,
    pub pam: PamConfig,
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
