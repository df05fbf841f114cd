//! Where identities come from. Each source answers with three outcomes that callers
//! treat differently: `Ok(Some(_))` found, `Ok(None)` not found (refuse, do not guess),
//! `Err(Unavailable | Timeout)` the source could not say (retry, serve stale, fail).

pub mod ldap;
pub mod local;
#[doc(hidden)]
pub mod local_list;

use crate::error::{Error, Result};
use crate::identity::PasswordCheck;
use crate::identity::{Group, Identity};

/// A registry of users and groups (the local NSS databases, or an LDAP directory).
///
/// Names passed in have already gone through [`crate::identity::validate_name`].
pub trait Source: Send + Sync {
    /// Short label reported as `source` in results: "local" or "ldap".
    fn kind(&self) -> &'static str;

    /// The user with this name, with primary and supplementary groups.
    fn user_by_name(&self, name: &str) -> Result<Option<Identity>>;

    /// The user with this UID, with primary and supplementary groups.
    fn user_by_uid(&self, uid: u32) -> Result<Option<Identity>>;

    /// The group with this name.
    fn group_by_name(&self, name: &str) -> Result<Option<Group>>;

    /// The group with this GID.
    fn group_by_gid(&self, gid: u32) -> Result<Option<Group>>;

    /// Checks a user's password against the registry (LDAP: a bind as the user).
    /// The local source does not: it answers `Unavailable`.
    fn check_password(&self, name: &str, password: &str) -> Result<PasswordCheck> {
        let _ = (name, password);
        Err(Error::Unavailable {
            source_name: self.kind().into(),
            detail: "this source does not check passwords".into(),
        })
    }

    /// Forgets whatever the source keeps between lookups (the LDAP source remembers
    /// primary groups), so the next lookup reads the registry afresh.
    fn forget_cached(&self) {}

    /// Loads now what the source would otherwise load on its first lookup (LDAP: the
    /// TLS trust store), so `check-config` reports a problem there.
    fn check(&self) -> Result<()> {
        Ok(())
    }

    /// Every user name the registry holds (for prefetching), or `None` when this
    /// source cannot list its users.
    fn user_names(&self) -> Result<Option<Vec<String>>> {
        Ok(None)
    }

    /// The names a group lists as members (for prefetching), `Ok(Some(empty))` for an
    /// unknown group, or `None` when this source cannot list members.
    fn group_member_names(&self, group: &str) -> Result<Option<Vec<String>>> {
        let _ = group;
        Ok(None)
    }
}
