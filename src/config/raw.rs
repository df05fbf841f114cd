//! Layer 1: the file as written. Every struct rejects unknown keys; nothing here
//! is checked beyond its type (see `validate` for the rest).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use super::duration::ConfDuration;
use crate::id_range::IdRange;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    #[serde(default)]
    pub(super) resolution: RawResolution,
    #[serde(default)]
    pub(super) cache: RawCache,
    pub(super) ldap: Option<RawLdap>,
    #[serde(default)]
    pub(super) impersonation: RawImpersonation,
    #[serde(default)]
    pub(super) principals: RawPrincipals,
    #[serde(default)]
    pub(super) pam: RawPam,
    #[serde(default)]
    pub(super) daemon: RawDaemon,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPam {
    #[serde(default)]
    pub(super) allowed_groups: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDaemon {
    pub(super) socket: Option<PathBuf>,
    pub(super) filter_users: Option<Vec<String>>,
    pub(super) filter_groups: Option<Vec<String>>,
    pub(super) enumerate: Option<bool>,
    pub(super) shared_table: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawResolution {
    pub(super) mode: Option<String>,
    pub(super) server_side: Option<bool>,
    pub(super) require_server_side: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCache {
    pub(super) positive_ttl: Option<ConfDuration>,
    pub(super) negative_ttl: Option<ConfDuration>,
    pub(super) max_entries: Option<u64>,
    pub(super) stale_if_unavailable: Option<ConfDuration>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLdap {
    #[serde(default)]
    pub(super) uris: Vec<String>,
    pub(super) base: Option<String>,
    pub(super) user_base: Option<String>,
    pub(super) group_base: Option<String>,
    pub(super) schema: Option<String>,
    pub(super) nested_group_depth: Option<u32>,
    pub(super) bind_dn: Option<String>,
    pub(super) bind_password_file: Option<PathBuf>,
    pub(super) bind_password: Option<String>,
    pub(super) starttls: Option<bool>,
    pub(super) ca_file: Option<PathBuf>,
    pub(super) connect_timeout: Option<ConfDuration>,
    pub(super) operation_timeout: Option<ConfDuration>,
    pub(super) connections: Option<u32>,
    pub(super) retry_after: Option<ConfDuration>,
    pub(super) connection_max_age: Option<ConfDuration>,
    pub(super) min_uid: Option<u32>,
    pub(super) min_gid: Option<u32>,
    pub(super) allow_insecure_bind: Option<bool>,
    #[serde(default)]
    pub(super) map: RawLdapMap,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLdapMap {
    pub(super) user_filter: Option<String>,
    pub(super) group_filter: Option<String>,
    pub(super) uid: Option<String>,
    pub(super) uid_number: Option<String>,
    pub(super) gid_number: Option<String>,
    pub(super) member_uid: Option<String>,
    pub(super) member: Option<String>,
    pub(super) home_directory: Option<String>,
    pub(super) login_shell: Option<String>,
    pub(super) group_name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawImpersonation {
    pub(super) superuser: Option<String>,
    #[serde(default)]
    pub(super) protected_users: Vec<String>,
    #[serde(default)]
    pub(super) protected_groups: Vec<String>,
    pub(super) on_unauthorized: Option<String>,
    pub(super) hadoop_core_site: Option<PathBuf>,
    pub(super) audit_log: Option<PathBuf>,
    pub(super) mapr_daemon_conf: Option<PathBuf>,
    #[serde(default)]
    pub(super) proxy: Vec<RawProxy>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawProxy {
    pub(super) user: String,
    #[serde(default)]
    pub(super) hosts: Vec<String>,
    #[serde(default)]
    pub(super) groups: Vec<String>,
    #[serde(default)]
    pub(super) users: Vec<String>,
    #[serde(default)]
    pub(super) uids: Vec<IdRange>,
    #[serde(default)]
    pub(super) gids: Vec<IdRange>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPrincipals {
    #[serde(default)]
    pub(super) auth_to_local: Vec<String>,
    pub(super) auth_to_local_mechanism: Option<String>,
    pub(super) default_realm: Option<String>,
    pub(super) keytab_path: Option<String>,
    pub(super) default_principal: Option<String>,
    pub(super) default_keytab: Option<PathBuf>,
    #[serde(default)]
    pub(super) namespace: BTreeMap<String, RawProgramPrincipal>,
    #[serde(default)]
    pub(super) application: BTreeMap<String, RawProgramPrincipal>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawProgramPrincipal {
    pub(super) principal: String,
    pub(super) keytab: Option<PathBuf>,
}
