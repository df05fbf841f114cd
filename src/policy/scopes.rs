//! Scopes by number, MapR's scoped impersonation tickets in proxid.conf:
//! `[[impersonation.proxy]] uids = ["20000-29999"]`, `gids = ["31000"]`.
//!
//! - A target is in a rule's `uids` when its UID is in one of the ranges, and in its
//!   `gids` when any of its GIDs, primary included, is. A target matches a rule when
//!   it matches any of `users`, `groups`, `uids` or `gids` (OR, as Hadoop ORs `users`
//!   and `groups`; MapR's own pages disagree between "UIDs or GIDs" and "UIDs and or
//!   GIDs", so proxid picks the reading Hadoop users already know).
//! - Ranges are inclusive and may overlap (the union counts).
//! - The guide's rule, checked when the policy is built (resolver open,
//!   `check-config`), not only at decision time: a scope may not contain the UID of
//!   root (0), of the superuser or of a protected user, nor the GID of root (0), of
//!   the superuser's primary group or of a protected group. Such a configuration is
//!   refused, naming the range and the identity it covers. Protected identities are
//!   refused at decision time as well (see the module above), so a protected user
//!   whose UID moves into a scope later is still never taken on.

use crate::config::Config;
use crate::error::{Error, Result};
use crate::id_range::IdRange;
use crate::identity::Identity;

use super::{Directory, Policy};

/// The numeric scopes of one proxy rule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Scopes {
    pub uids: Vec<IdRange>,
    pub gids: Vec<IdRange>,
}

impl Scopes {
    /// Why `target` is in scope (`uid_in_scope: uid N in R` / `gid_in_scope: gid N in
    /// R`), or `None`.
    pub(crate) fn allows(&self, target: &Identity) -> Option<String> {
        if let Some(r) = self.uids.iter().find(|r| r.contains(target.uid)) {
            return Some(format!("uid_in_scope: uid {} in {r}", target.uid));
        }
        target.gids().into_iter().find_map(|gid| {
            self.gids
                .iter()
                .find(|r| r.contains(gid))
                .map(|r| format!("gid_in_scope: gid {gid} in {r}"))
        })
    }
}

/// The IDs no scope may contain, each with the name it protects (for messages).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ScopeProtectedIds {
    /// `(uid, "root")`, `(1001, "superuser mapr")`, ...
    pub uids: Vec<(u32, String)>,
    /// `(0, "root")`, `(5000, "mapr (primary group of superuser mapr)")`, ...
    pub gids: Vec<(u32, String)>,
}

impl Policy {
    /// The IDs no scope may contain: every protected ID ([`Policy::protected_ids`],
    /// which fails closed on a name it cannot resolve) plus the superuser's primary
    /// GID, each labelled for the error message.
    fn scope_protected_ids(&self, dir: &dyn Directory) -> Result<ScopeProtectedIds> {
        let imp = &self.config().impersonation;
        let protected = self.protected_ids(dir)?;
        let label = |name: &Option<String>, plain: &str| match name {
            None => "root".to_string(),
            Some(n) if imp.superuser.as_deref() == Some(n.as_str()) => format!("superuser {n}"),
            Some(n) => format!("{plain} {n}"),
        };
        let mut ids = ScopeProtectedIds {
            uids: protected
                .uids
                .iter()
                .map(|(id, name)| (*id, label(name, "protected user")))
                .collect(),
            gids: protected
                .gids
                .iter()
                .map(|(id, name)| (*id, label(name, "protected group")))
                .collect(),
        };
        if let Some(su) = &imp.superuser {
            let id = dir.resolve(su)?;
            let group = id
                .groups
                .first()
                .map_or(id.gid.to_string(), |g| g.name.clone());
            ids.gids
                .push((id.gid, format!("{group} (primary group of superuser {su})")));
        }
        Ok(ids)
    }

    /// Refuses a configuration whose `uids`/`gids` scopes contain a protected ID
    /// (`Error::Config` naming the rule, the range and the identity). Runs once per
    /// policy when it succeeds; a source that could not answer is retried next time.
    pub fn check_scopes(&self, dir: &dyn Directory) -> Result<()> {
        if self
            .scopes_checked
            .load(std::sync::atomic::Ordering::Acquire)
            || !has_scopes(self.config())
        {
            return Ok(());
        }
        check(self.config(), &self.scope_protected_ids(dir)?)?;
        self.scopes_checked
            .store(true, std::sync::atomic::Ordering::Release);
        Ok(())
    }
}

/// Whether any `[[impersonation.proxy]]` rule has a numeric scope.
pub(crate) fn has_scopes(config: &Config) -> bool {
    config
        .impersonation
        .proxy
        .iter()
        .any(|p| !p.uids.is_empty() || !p.gids.is_empty())
}

/// The load-time rule, on its own so the protected IDs can come from anywhere.
pub(crate) fn check(config: &Config, protected: &ScopeProtectedIds) -> Result<()> {
    let file = config
        .path
        .clone()
        .unwrap_or_else(|| "<embedded default configuration>".into());
    for (index, p) in config.impersonation.proxy.iter().enumerate() {
        let lists = [
            ("uids", "uid", &p.uids, &protected.uids),
            ("gids", "gid", &p.gids, &protected.gids),
        ];
        for (key, what, ranges, ids) in lists {
            for range in ranges {
                if let Some((id, name)) = ids.iter().find(|(id, _)| range.contains(*id)) {
                    return Err(Error::config(
                        &file,
                        format!(
                            "[[impersonation.proxy]] #{} (user {:?}): {key}: range \"{range}\" \
                             covers {what} {id} ({name}), which is protected; a scope may not \
                             contain the UID of root, of the superuser or of a protected user, \
                             nor the GID of root, of the superuser's primary group or of a \
                             protected group",
                            index + 1,
                            p.user
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}
