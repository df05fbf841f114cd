//! `/etc/proxid.conf`: where it is, how it is parsed (TOML, two layers: raw serde
//! structs that reject unknown keys, then a validated typed `Config`), the
//! file-permission rules for secrets and for policy-bearing files, and
//! `secure_getenv` for the variables a setuid caller must not control.

use std::collections::BTreeMap;
use std::fmt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};
use crate::id_range::IdRange;

/// The default configuration path.
pub const DEFAULT_PATH: &str = "/etc/proxid.conf";
/// Environment variable naming the configuration file.
pub const ENV_VAR: &str = "PROXID_CONF";

// ---------------------------------------------------------------------------
// Layer 1: the file as written. Every struct rejects unknown keys.
// ---------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    resolution: RawResolution,
    #[serde(default)]
    cache: RawCache,
    ldap: Option<RawLdap>,
    #[serde(default)]
    impersonation: RawImpersonation,
    #[serde(default)]
    principals: RawPrincipals,
    #[serde(default)]
    pam: RawPam,
    #[serde(default)]
    daemon: RawDaemon,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPam {
    #[serde(default)]
    allowed_groups: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDaemon {
    socket: Option<PathBuf>,
    filter_users: Option<Vec<String>>,
    filter_groups: Option<Vec<String>>,
    enumerate: Option<bool>,
    shared_table: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawResolution {
    mode: Option<String>,
    server_side: Option<bool>,
    require_server_side: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCache {
    positive_ttl: Option<ConfDuration>,
    negative_ttl: Option<ConfDuration>,
    max_entries: Option<u64>,
    stale_if_unavailable: Option<ConfDuration>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLdap {
    #[serde(default)]
    uris: Vec<String>,
    base: Option<String>,
    user_base: Option<String>,
    group_base: Option<String>,
    schema: Option<String>,
    nested_group_depth: Option<u32>,
    bind_dn: Option<String>,
    bind_password_file: Option<PathBuf>,
    bind_password: Option<String>,
    starttls: Option<bool>,
    ca_file: Option<PathBuf>,
    connect_timeout: Option<ConfDuration>,
    operation_timeout: Option<ConfDuration>,
    connections: Option<u32>,
    retry_after: Option<ConfDuration>,
    connection_max_age: Option<ConfDuration>,
    min_uid: Option<u32>,
    min_gid: Option<u32>,
    allow_insecure_bind: Option<bool>,
    #[serde(default)]
    map: RawLdapMap,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLdapMap {
    user_filter: Option<String>,
    group_filter: Option<String>,
    uid: Option<String>,
    uid_number: Option<String>,
    gid_number: Option<String>,
    member_uid: Option<String>,
    member: Option<String>,
    home_directory: Option<String>,
    login_shell: Option<String>,
    group_name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawImpersonation {
    superuser: Option<String>,
    #[serde(default)]
    protected_users: Vec<String>,
    #[serde(default)]
    protected_groups: Vec<String>,
    on_unauthorized: Option<String>,
    hadoop_core_site: Option<PathBuf>,
    audit_log: Option<PathBuf>,
    mapr_daemon_conf: Option<PathBuf>,
    #[serde(default)]
    proxy: Vec<RawProxy>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProxy {
    user: String,
    #[serde(default)]
    hosts: Vec<String>,
    #[serde(default)]
    groups: Vec<String>,
    #[serde(default)]
    users: Vec<String>,
    #[serde(default)]
    uids: Vec<IdRange>,
    #[serde(default)]
    gids: Vec<IdRange>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrincipals {
    #[serde(default)]
    auth_to_local: Vec<String>,
    auth_to_local_mechanism: Option<String>,
    default_realm: Option<String>,
    keytab_path: Option<String>,
    default_principal: Option<String>,
    default_keytab: Option<PathBuf>,
    #[serde(default)]
    namespace: BTreeMap<String, RawProgramPrincipal>,
    #[serde(default)]
    application: BTreeMap<String, RawProgramPrincipal>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProgramPrincipal {
    principal: String,
    keytab: Option<PathBuf>,
}

/// A duration written as `"300s"`, `"2m"`, `"1h"`, `"500ms"` or `"1d"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ConfDuration(Duration);

impl<'de> Deserialize<'de> for ConfDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        parse_duration(&text)
            .map(ConfDuration)
            .map_err(serde::de::Error::custom)
    }
}

/// Parses `"300s"`-style durations. A bare number is refused: "300" could mean
/// seconds or milliseconds, and a wrong guess in a timeout is a silent outage.
pub fn parse_duration(text: &str) -> std::result::Result<Duration, String> {
    const UNITS: &str = "ms, s, m, h or d";
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    if digits.is_empty() {
        return Err(format!(
            "invalid duration {text:?}: expected a whole number followed by {UNITS}, e.g. \"300s\""
        ));
    }
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("invalid duration {text:?}: number too large"))?;
    let millis_per = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "" => return Err(format!("invalid duration {text:?}: missing unit ({UNITS})")),
        other => {
            return Err(format!(
                "invalid duration {text:?}: unknown unit {other:?} (use {UNITS})"
            ))
        }
    };
    n.checked_mul(millis_per)
        .map(Duration::from_millis)
        .ok_or_else(|| format!("invalid duration {text:?}: too large"))
}

fn format_duration(d: &Duration) -> String {
    let ms = d.as_millis();
    for (unit, per) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
    ] {
        if ms > 0 && ms % per == 0 {
            return format!("{}{unit}", ms / per);
        }
    }
    format!("{ms}ms")
}

fn ser_duration<S: Serializer>(d: &Duration, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&format_duration(d))
}

// ---------------------------------------------------------------------------
// Layer 2: the validated configuration the rest of the crate uses.
// ---------------------------------------------------------------------------

/// A secret (the LDAP bind password). Never printed, never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
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
pub struct Resolution {
    pub mode: Mode,
    /// Server role: accept name-only assertions and resolve them here.
    pub server_side: bool,
    /// Server role, strict: accept only name-only assertions, refusing IDs a client
    /// resolved itself (both sides must then run server-side resolution).
    pub require_server_side: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LdapSchema {
    /// posixGroup with `memberUid` (member names).
    Rfc2307,
    /// groups with `member` DNs, possibly nested.
    Rfc2307bis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LdapMap {
    pub user_filter: String,
    pub group_filter: String,
    pub uid: String,
    pub uid_number: String,
    pub gid_number: String,
    pub member_uid: String,
    pub member: String,
    pub home_directory: String,
    pub login_shell: String,
    pub group_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LdapConfig {
    pub uris: Vec<String>,
    pub base: String,
    pub user_base: String,
    pub group_base: String,
    pub schema: LdapSchema,
    pub nested_group_depth: u32,
    pub bind_dn: Option<String>,
    pub bind_password: Option<Secret>,
    pub bind_password_file: Option<PathBuf>,
    pub starttls: bool,
    pub ca_file: Option<PathBuf>,
    #[serde(serialize_with = "ser_duration")]
    pub connect_timeout: Duration,
    #[serde(serialize_with = "ser_duration")]
    pub operation_timeout: Duration,
    pub connections: u32,
    /// How long a server that failed is skipped; then it is tried first again (and
    /// connections to later servers in `uris` are replaced).
    #[serde(serialize_with = "ser_duration")]
    pub retry_after: Duration,
    /// Connections are reopened after this long.
    #[serde(serialize_with = "ser_duration")]
    pub connection_max_age: Duration,
    pub min_uid: u32,
    pub min_gid: u32,
    pub allow_insecure_bind: bool,
    pub map: LdapMap,
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

fn validate_daemon(raw: RawDaemon, path: &Path) -> Result<DaemonConfig> {
    let defaults = DaemonConfig::default();
    let socket = raw.socket.unwrap_or(defaults.socket);
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
    Ok(DaemonConfig {
        socket,
        filter_users: raw.filter_users.unwrap_or(defaults.filter_users),
        filter_groups: raw.filter_groups.unwrap_or(defaults.filter_groups),
        enumerate: raw.enumerate.unwrap_or(defaults.enumerate),
        shared_table: raw.shared_table.unwrap_or(defaults.shared_table),
    })
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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

/// Which of Hadoop's auth_to_local mechanisms applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthToLocalMechanism {
    /// A principal no rule matches is an error; results with `/` or `@` are errors.
    Hadoop,
    /// As MIT Kerberos: unmatched principals pass through unchanged.
    Mit,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProgramPrincipal {
    pub principal: String,
    pub keytab: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
pub struct PamConfig {
    /// Groups whose members may log in with their directory password. Empty means
    /// nobody (fail closed, as kanidm's `pam_allowed_login_groups`).
    pub allowed_groups: Vec<String>,
}

/// The validated configuration. Built by [`Config::load`] or [`Config::from_toml`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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

/// An environment variable as glibc's `secure_getenv` reads it: `None` in a
/// process running with AT_SECURE (setuid, setgid, file capabilities), whose
/// environment belongs to the less privileged user who started it. Every variable
/// that can change a policy or a file proxid trusts is read through this.
pub fn secure_env(name: &str) -> Option<std::ffi::OsString> {
    use std::os::unix::ffi::OsStrExt;
    extern "C" {
        // glibc 2.17 and later; the libc crate does not declare it.
        fn secure_getenv(name: *const libc::c_char) -> *mut libc::c_char;
    }
    let key = std::ffi::CString::new(name).ok()?;
    // SAFETY: `key` is a NUL-terminated string; the returned pointer, when not
    // NULL, points into the environment and is copied at once.
    let value = unsafe { secure_getenv(key.as_ptr()) };
    if value.is_null() {
        return None;
    }
    // SAFETY: non-NULL results of secure_getenv are NUL-terminated strings.
    let bytes = unsafe { std::ffi::CStr::from_ptr(value) }.to_bytes();
    Some(std::ffi::OsStr::from_bytes(bytes).to_os_string())
}

/// Where the configuration comes from: an explicit path, `PROXID_CONF` (ignored in
/// a setuid/setgid process, see [`secure_env`]), or the default.
pub fn config_path(explicit: Option<&Path>) -> (PathBuf, bool) {
    if let Some(path) = explicit {
        return (path.to_path_buf(), true);
    }
    match secure_env(ENV_VAR) {
        Some(p) if !p.is_empty() => (PathBuf::from(p), true),
        _ => (PathBuf::from(DEFAULT_PATH), false),
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
        let raw: RawConfig = toml::from_str(text).map_err(|e| toml_error(text, path, &e))?;
        validate(raw, path)
    }

    /// The effective configuration as TOML, secrets masked (for `check-config`).
    pub fn to_effective_toml(&self) -> String {
        toml::to_string(self).unwrap_or_else(|e| format!("# cannot render: {e}\n"))
    }
}

/// Keys whose values are secrets: an error about them never quotes the value.
const SECRET_KEYS: &[&str] = &["bind_password"];

/// A TOML/serde message about a secret key, without the value serde quotes
/// (`invalid type: integer 12345678, expected a string`): only what was expected.
fn without_secret(message: &str) -> String {
    let expected = message
        .rfind("expected ")
        .map(|at| format!(": {}", message[at..].trim_end_matches('.')))
        .unwrap_or_default();
    format!("invalid value for a secret key (the value is not shown){expected}")
}

/// The raw text of every `secret_key = value` in `text` (quotes stripped), to
/// scrub from messages.
fn secret_values(text: &str) -> Vec<&str> {
    text.lines()
        .filter_map(|line| line.split_once('='))
        .filter(|(key, _)| SECRET_KEYS.iter().any(|k| key.contains(k)))
        .map(|(_, value)| value.trim().trim_matches(['"', '\'']).trim())
        .filter(|value| !value.is_empty())
        .collect()
}

/// Turns a TOML error into "file:line: key `k`: message".
fn toml_error(text: &str, path: &Path, e: &toml::de::Error) -> Error {
    let mut message = e.message().trim().to_string();
    let mentions_secret = |t: &str| SECRET_KEYS.iter().any(|k| t.contains(k));
    // Whatever the error, a secret's text never appears in it.
    for value in secret_values(text) {
        message = message.replace(value, "********");
    }
    let Some(span) = e.span() else {
        if mentions_secret(&message) {
            message = without_secret(&message);
        }
        return Error::config(path, message);
    };
    let before = &text[..span.start.min(text.len())];
    let line_no = before.matches('\n').count() + 1;
    let line = text.lines().nth(line_no - 1).unwrap_or("");
    // The span may cover a multi-line value: every line it touches counts.
    let spanned = text.get(span.start.min(text.len())..span.end.min(text.len()));
    if mentions_secret(line) || mentions_secret(&message) || spanned.is_some_and(mentions_secret) {
        message = without_secret(&message);
    }
    let key = line
        .split_once('=')
        .map(|(k, _)| k.trim())
        .filter(|k| !k.is_empty() && !k.starts_with('['));
    let section = before
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('['))
        .map(|l| l.trim());
    let mut where_ = format!("line {line_no}");
    if let Some(section) = section {
        where_ += &format!(" in {section}");
    }
    match key {
        Some(key) if !message.contains(&format!("`{key}`")) => {
            Error::config(path, format!("{where_}: key `{key}`: {message}"))
        }
        _ => Error::config(path, format!("{where_}: {message}")),
    }
}

fn one_of<T: Copy>(
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

/// Why a policy-bearing file could not be used.
#[derive(Debug)]
pub(crate) enum PolicyFileError {
    /// It could not be opened or read.
    Io(std::io::Error),
    /// Its permissions let someone else change the policy: what and how to fix it.
    Unsafe(String),
}

/// Reads a file that carries policy (the configuration, a core-site.xml): opened
/// once, checked with `fstat` on that descriptor (see [`check_policy_owner_mode`]),
/// then read, so a swapped file cannot slip between check and read.
pub(crate) fn read_policy_file(
    path: &Path,
    what: &str,
) -> std::result::Result<Vec<u8>, PolicyFileError> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).map_err(PolicyFileError::Io)?;
    let meta = file.metadata().map_err(PolicyFileError::Io)?;
    check_policy_owner_mode(path, &meta, what).map_err(PolicyFileError::Unsafe)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(PolicyFileError::Io)?;
    Ok(bytes)
}

/// As SSSD refuses its sssd.conf: a file (or directory) that decides who may act as
/// whom must not be writable by group or others, nor owned by a user other than root
/// and the one running proxid (either could rewrite the policy). The message says
/// why and how to fix it.
pub(crate) fn check_policy_owner_mode(
    path: &Path,
    meta: &std::fs::Metadata,
    what: &str,
) -> std::result::Result<(), String> {
    let mode = meta.mode() & 0o7777;
    // A sticky directory (/tmp) still lets anyone create a name in it.
    if mode & 0o022 != 0 {
        return Err(format!(
            "{what} is writable by group or others (mode {mode:04o}): anyone who can write \
             it could change who may impersonate whom, so proxid refuses it; \
             run `chmod go-w {}`",
            path.display()
        ));
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    if meta.uid() != 0 && meta.uid() != euid {
        return Err(format!(
            "{what} is owned by uid {}, neither root nor the user running proxid (uid {euid}): \
             its owner could change who may impersonate whom, so proxid refuses it; \
             run `chown root {}`",
            meta.uid(),
            path.display()
        ));
    }
    Ok(())
}

/// Refuses a file holding a secret when group or others may read it, or when it is
/// not a regular file.
pub fn check_secret_file_mode(file: &Path, what: &str) -> Result<()> {
    let meta = std::fs::metadata(file)
        .map_err(|e| Error::config(file, format!("cannot read {what}: {e}")))?;
    if !meta.is_file() {
        return Err(Error::config(file, format!("{what} is not a regular file")));
    }
    let mode = meta.mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(Error::config(
            file,
            format!(
                "{what} is readable or writable by group or others (mode {mode:04o}); \
                 it holds a secret, so proxid refuses it: run `chmod 600 {}`",
                file.display()
            ),
        ));
    }
    Ok(())
}

fn read_secret_file(file: &Path) -> Result<Secret> {
    check_secret_file_mode(file, "bind_password_file")?;
    let text = std::fs::read_to_string(file)
        .map_err(|e| Error::config(file, format!("cannot read bind_password_file: {e}")))?;
    // One trailing newline is what `echo secret > file` leaves; strip just that.
    let text = text.strip_suffix('\n').unwrap_or(&text);
    let text = text.strip_suffix('\r').unwrap_or(text);
    if text.is_empty() {
        return Err(Error::config(file, "bind_password_file is empty"));
    }
    Ok(Secret(text.to_string()))
}

fn validate(raw: RawConfig, path: &Path) -> Result<Config> {
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
    let mode = crate::mapr::mode(
        written_mode.then_some(mode),
        raw.impersonation.hadoop_core_site.as_deref(),
        path,
    )?;
    let require_server_side = raw.resolution.require_server_side.unwrap_or(false);
    let server_side = raw.resolution.server_side.unwrap_or(require_server_side);
    if require_server_side && !server_side {
        return Err(Error::config(
            path,
            "[resolution] require_server_side = true needs server_side = true",
        ));
    }
    let resolution = Resolution {
        mode,
        server_side,
        require_server_side,
    };

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

    let ldap = raw.ldap.map(|l| validate_ldap(l, path)).transpose()?;
    if ldap.is_none() && mode == Mode::Server {
        return Err(Error::config(
            path,
            format!(
                "[resolution] mode = \"server\"{} resolves from LDAP, but there is no [ldap] section",
                if written_mode {
                    ""
                } else {
                    " (set by fs.mapr.server.resolve.user = true in hadoop_core_site)"
                }
            ),
        ));
    }

    let mut ri = raw.impersonation;
    ri.superuser = crate::mapr::superuser(ri.superuser, ri.mapr_daemon_conf.as_deref(), path)?;
    // A typo here would protect nothing: refuse it now (resolving comes later).
    for (key, names) in [
        ("protected_users", &ri.protected_users),
        ("protected_groups", &ri.protected_groups),
    ] {
        if let Some(bad) = names
            .iter()
            .find(|n| n.is_empty() || n.trim() != n.as_str() || n.contains('\0'))
        {
            return Err(Error::config(
                path,
                format!(
                    "[impersonation] {key}: {bad:?} is malformed (empty, or with leading or \
                     trailing whitespace); name the account exactly"
                ),
            ));
        }
    }
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
        if su.trim().is_empty() {
            return Err(Error::config(path, "[impersonation] superuser is empty"));
        }
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
    let mut proxy = Vec::new();
    for p in ri.proxy {
        if p.user.trim().is_empty() {
            return Err(Error::config(path, "[[impersonation.proxy]] user is empty"));
        }
        proxy.push(ProxyRule {
            user: p.user,
            hosts: p.hosts,
            groups: p.groups,
            users: p.users,
            uids: p.uids,
            gids: p.gids,
        });
    }
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
    crate::principal::check_config(&principals).map_err(|message| Error::config(path, message))?;

    let pam = validate_pam(raw.pam, path)?;

    Ok(Config {
        path: Some(path.to_path_buf()),
        resolution,
        cache,
        ldap,
        impersonation,
        principals,
        pam,
        daemon: validate_daemon(raw.daemon, path)?,
    })
}

fn validate_pam(p: RawPam, path: &Path) -> Result<PamConfig> {
    for group in &p.allowed_groups {
        if crate::identity::validate_name(group.as_bytes()).is_err() || group.trim() != group {
            return Err(Error::config(
                path,
                format!("[pam] allowed_groups: {group:?} is not a group name"),
            ));
        }
    }
    Ok(PamConfig {
        allowed_groups: p.allowed_groups,
    })
}

fn validate_ldap(l: RawLdap, path: &Path) -> Result<LdapConfig> {
    if l.uris.is_empty() {
        return Err(Error::config(
            path,
            "[ldap] uris is empty: name at least one ldap:// or ldaps:// URI",
        ));
    }
    for uri in &l.uris {
        let lower = uri.to_ascii_lowercase();
        if !(lower.starts_with("ldap://") || lower.starts_with("ldaps://")) {
            return Err(Error::config(
                path,
                format!("[ldap] uris: {uri:?} must start with ldap:// or ldaps://"),
            ));
        }
    }
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
    if bind_password.is_some() && l.bind_dn.is_none() {
        return Err(Error::config(
            path,
            "[ldap] a bind password is set but bind_dn is not",
        ));
    }
    let positive = |key: &str, d: Option<ConfDuration>, default: u64| -> Result<Duration> {
        let d = d.map_or(Duration::from_secs(default), |d| d.0);
        if d.is_zero() {
            return Err(Error::config(
                path,
                format!("[ldap] {key} must be more than 0"),
            ));
        }
        Ok(d)
    };
    let connections = l.connections.unwrap_or(4);
    if connections == 0 || connections > 256 {
        return Err(Error::config(
            path,
            "[ldap] connections must be between 1 and 256",
        ));
    }
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
    Ok(LdapConfig {
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
        connect_timeout: positive("connect_timeout", l.connect_timeout, 2)?,
        operation_timeout: positive("operation_timeout", l.operation_timeout, 3)?,
        connections,
        retry_after: positive("retry_after", l.retry_after, 10)?,
        connection_max_age: positive("connection_max_age", l.connection_max_age, 600)?,
        min_uid: l.min_uid.unwrap_or(1).max(1),
        min_gid: l.min_gid.unwrap_or(1).max(1),
        allow_insecure_bind: l.allow_insecure_bind.unwrap_or(false),
        map,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_table() {
        let ok: &[(&str, u64)] = &[
            ("300s", 300_000),
            ("2m", 120_000),
            ("1h", 3_600_000),
            ("1d", 86_400_000),
            ("500ms", 500),
            ("0s", 0),
            (" 5s ", 5_000),
        ];
        for (text, ms) in ok {
            assert_eq!(
                parse_duration(text),
                Ok(Duration::from_millis(*ms)),
                "{text}"
            );
        }
        let bad = [
            "",
            "300",
            "s",
            "-5s",
            "5 s",
            "5sec",
            "1.5s",
            "5S",
            "99999999999999999999s",
            "18446744073709551615d",
            "5ss",
            "m5",
        ];
        for text in bad {
            assert!(parse_duration(text).is_err(), "{text:?} should be refused");
        }
    }

    #[test]
    fn durations_round_trip_for_display() {
        for text in ["30s", "2m", "1h", "1d", "500ms"] {
            assert_eq!(format_duration(&parse_duration(text).unwrap()), text);
        }
    }

    fn parse(text: &str) -> Result<Config> {
        Config::from_toml(text, Path::new("/test/proxid.conf"))
    }

    #[test]
    fn empty_file_is_the_default() {
        let c = parse("").unwrap();
        assert_eq!(c.resolution.mode, Mode::Client);
        assert_eq!(c.cache, CacheConfig::default());
        assert_eq!(c.impersonation.protected_users, vec!["root"]);
    }

    #[test]
    fn errors_table() {
        // (config text, words the message must contain)
        let cases: &[(&str, &[&str])] = &[
            ("bogus = 1", &["/test/proxid.conf", "line 1", "bogus"]),
            (
                "[daemon]\nsocket = \"relative.sock\"",
                &["[daemon] socket", "absolute"],
            ),
            (
                "[daemon]\nenumerate = \"yes\"",
                &["enumerate", "invalid type"],
            ),
            ("[daemon]\nfilter = []", &["line 2", "filter"]),
            (
                "[cache]\npositive_ttl = \"5\"",
                &["line 2", "positive_ttl", "missing unit"],
            ),
            ("[cache]\npositive_ttl = \"5x\"", &["unknown unit"]),
            (
                "[cache]\npositive_ttl = 5",
                &["line 2", "positive_ttl", "invalid type"],
            ),
            ("[cache]\nmax_entries = -1", &["line 2", "max_entries"]),
            (
                "[cache]\nmax_entries = \"a\"",
                &["max_entries", "invalid type"],
            ),
            (
                "\n\n[resolution]\nmode = \"both\"",
                &["mode", "\"client\", \"server\""],
            ),
            ("[resolution]\nmode = \"server\"", &["no [ldap] section"]),
            (
                "[resolution]\nmod = \"client\"",
                &["line 2", "mod", "[resolution]"],
            ),
            ("[ldap]\nuris = []\nbase = \"dc=x\"", &["uris is empty"]),
            (
                "[ldap]\nuris = [\"http://x\"]\nbase = \"dc=x\"",
                &["ldap://"],
            ),
            ("[ldap]\nuris = [\"ldap://x\"]", &["base is missing"]),
            (
                "[ldap]\nuris = [\"ldap://x\"]\nbase = \"dc=x\"\nschema = \"ad\"",
                &["rfc2307bis"],
            ),
            (
                "[ldap]\nuris = [\"ldap://x\"]\nbase = \"dc=x\"\nconnect_timeout = \"0s\"",
                &["connect_timeout"],
            ),
            (
                "[ldap]\nuris = [\"ldap://x\"]\nbase = \"dc=x\"\nconnections = 0",
                &["connections"],
            ),
            (
                "[ldap]\nuris = [\"ldap://x\"]\nbase = \"dc=x\"\nretry_after = \"0s\"",
                &["retry_after", "more than 0"],
            ),
            (
                "[ldap]\nuris = [\"ldap://x\"]\nbase = \"dc=x\"\nretry_after = 10",
                &["retry_after"],
            ),
            (
                "[ldap]\nuris = [\"ldap://x\"]\nbase = \"dc=x\"\nconnection_max_age = \"0ms\"",
                &["connection_max_age", "more than 0"],
            ),
            (
                "[ldap]\nuris = [\"ldap://x\"]\nbase = \"dc=x\"\nmin_uid = -1",
                &["min_uid"],
            ),
            (
                "[ldap]\nuris = [\"ldap://x\"]\nbase = \"dc=x\"\n[ldap.map]\nuidd = \"x\"",
                &["line 5", "uidd"],
            ),
            (
                "[impersonation]\non_unauthorized = \"allow\"",
                &["run-as-self"],
            ),
            (
                "[[impersonation.proxy]]\nuser = \"livy\"\nhost = [\"*\"]",
                &["line 3", "host"],
            ),
            ("[[impersonation.proxy]]\nhosts = [\"*\"]", &["user"]),
            (
                "[principals]\nauth_to_local_mechanism = \"x\"",
                &["\"hadoop\", \"mit\""],
            ),
            ("[principals.namespace.a]\nkeytab = \"/k\"", &["principal"]),
            ("[cache", &["line 1"]),
            ("[pam]\nallowed_groups = [\"\"]", &["[pam] allowed_groups"]),
            (
                "[pam]\nallowed_groups = [\" x\"]",
                &["[pam] allowed_groups"],
            ),
            ("[pam]\nallowed_group = []", &["line 2", "allowed_group"]),
            (
                "[pam]\nallowed_groups = \"x\"",
                &["allowed_groups", "invalid type"],
            ),
            (
                "[resolution]\nserver_side = false\nrequire_server_side = true",
                &["require_server_side", "server_side = true"],
            ),
        ];
        for (text, words) in cases {
            let err = parse(text).expect_err(text).to_string();
            for w in *words {
                assert!(err.contains(w), "{text:?}: {err:?} lacks {w:?}");
            }
        }
    }

    /// Issue 11.12: an error about a secret key never shows its value.
    #[test]
    fn sec_11_12_secret_never_in_an_error() {
        let ldap = "[ldap]\nuris = [\"ldap://127.0.0.1\"]\nbase = \"dc=x\"\nbind_dn = \"cn=a\"\n";
        for (value, secret) in [
            ("12345678", "12345678"),
            ("1.5e3", "1.5e3"),
            ("true", "true"),
            ("[\"hunter2\"]", "hunter2"),
            ("{ p = \"hunter2\" }", "hunter2"),
            ("hunter2", "hunter2"),
            ("\"hunter2", "hunter2"),
            ("1979-05-27T07:32:00Z", "1979-05-27"),
        ] {
            let text = format!("{ldap}bind_password = {value}\n");
            let err = parse(&text).expect_err(&text).to_string();
            assert!(!err.contains(secret), "{text:?}: {err}");
            assert!(
                err.contains("bind_password") || err.contains("line 5"),
                "{text:?}: {err}"
            );
        }
        let inline = "ldap = { uris = [\"ldap://x\"], base = \"dc=x\", bind_password = 4242 }";
        let err = parse(inline).expect_err(inline).to_string();
        assert!(!err.contains("4242"), "{err}");
    }

    #[test]
    fn sec_11_3_malformed_protected_names_refused_at_load() {
        for line in [
            "protected_users = [\"hdfs \"]",
            "protected_users = [\"\"]",
            "protected_groups = [\"\\tadmins\"]",
        ] {
            let err = parse(&format!("[impersonation]\n{line}"))
                .expect_err(line)
                .to_string();
            assert!(
                err.contains("malformed") && err.contains("protected_"),
                "{err}"
            );
        }
    }

    #[test]
    fn pam_allowed_groups_default_to_nobody() {
        assert!(parse("").unwrap().pam.allowed_groups.is_empty());
        let c = parse("[pam]\nallowed_groups = [\"jupyter\", \"data science\"]").unwrap();
        assert_eq!(c.pam.allowed_groups, vec!["jupyter", "data science"]);
    }

    #[test]
    fn superuser_and_root_are_always_protected() {
        let c = parse("[impersonation]\nsuperuser = \"mapr\"\nprotected_users = []").unwrap();
        assert_eq!(c.impersonation.protected_users, vec!["root", "mapr"]);
        assert_eq!(c.impersonation.protected_groups, vec!["root"]);
    }

    #[test]
    fn secrets_are_masked_in_effective_config() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("bind.secret");
        std::fs::write(&secret, "hunter2\n").unwrap();
        std::fs::set_permissions(&secret, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .unwrap();
        let text = format!(
            "[ldap]\nuris = [\"ldap://127.0.0.1\"]\nbase = \"dc=x\"\nbind_dn = \"cn=a\"\nbind_password_file = {:?}",
            secret
        );
        let c = parse(&text).unwrap();
        assert_eq!(
            c.ldap
                .as_ref()
                .unwrap()
                .bind_password
                .as_ref()
                .unwrap()
                .expose(),
            "hunter2"
        );
        let shown = c.to_effective_toml();
        assert!(
            !shown.contains("hunter2") && shown.contains("********"),
            "{shown}"
        );
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
