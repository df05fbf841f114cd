//! Protected identities: the UIDs and GIDs no proxy may take on (only the
//! `superuser` may), and how they are found. Fail closed throughout:
//!
//! - root is protected by number, UID 0 and GID 0, whatever the source says and
//!   without a lookup (a directory never serves root). `root` in
//!   `protected_users` / `protected_groups` means exactly that.
//! - Every other protected name (`protected_users`, `protected_groups`, the
//!   `superuser`) is looked up in the configured source and, in server mode, also in
//!   the local registry (NSS): a local `hdfs` or `mapr` account the directory lacks is
//!   protected, and a directory user sharing its UID is refused with it. Every ID
//!   found in either counts.
//! - A name that is malformed (not a valid name, or with leading or trailing
//!   whitespace: `"hdfs "` is a typo, not an account) or that resolves nowhere is a
//!   configuration error naming it: `check-config` and `Proxid::new` fail, and a
//!   decision that needs it is an error, never an allow. A source that cannot answer
//!   makes the decision an error too.
//! - The target's IDs compared are its UID, its primary and supplementary GIDs, and
//!   the GIDs of directory groups below `min_gid` it is listed in
//!   ([`Identity::hidden_gids`]): proxid does not report those as the user's groups,
//!   but a host whose NSS passes them through puts the user in them.

use std::collections::BTreeMap;

use super::{Directory, Policy};
use crate::config::Mode;
use crate::error::{Error, Result};
use crate::identity::{validate_name, Identity};
use crate::source::local::LocalSource;
use crate::source::Source;

/// Rule names a protection denial carries.
pub(crate) const USERS: &str = "impersonation.protected_users";
pub(crate) const GROUPS: &str = "impersonation.protected_groups";

/// The resolved UIDs and GIDs of every protected identity, each with the protected
/// name it came from (`None` for root's 0). Built by [`Policy::protected_ids`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProtectedIds {
    /// UID -> the protected user name it belongs to (`None`: UID 0, root).
    pub uids: BTreeMap<u32, Option<String>>,
    /// GID -> the protected group name it belongs to (`None`: GID 0, root).
    pub gids: BTreeMap<u32, Option<String>>,
}

impl ProtectedIds {
    /// Whether `target` is protected: `(rule, detail)` when it is, such as
    /// `("impersonation.protected_users", "uid 6000 (hdfs)")` or `(…groups, "gid 0")`.
    /// UIDs first, so a protected user who is also in GID 0 is reported as that user.
    pub fn protects(&self, target: &Identity) -> Option<(&'static str, String)> {
        let shown = |what: &str, id: u32, name: &Option<String>| match name {
            Some(n) => format!("{what} {id} ({n})"),
            None => format!("{what} {id}"),
        };
        if let Some(name) = self.uids.get(&target.uid) {
            return Some((USERS, shown("uid", target.uid, name)));
        }
        // GID 0 before the named groups, as root's is the one that matters most.
        let mut gids: Vec<u32> = target.gids();
        gids.extend(&target.hidden_gids);
        gids.sort_unstable_by_key(|&g| (g != 0, g));
        gids.iter().find_map(|g| {
            self.gids
                .get(g)
                .map(|name| (GROUPS, shown("gid", *g, name)))
        })
    }
}

/// Which protected list a name comes from.
#[derive(Clone, Copy)]
enum Kind {
    User,
    Group,
}

impl Policy {
    /// The UIDs and GIDs of every protected identity, resolved now (through the cache
    /// for the configured source). Root's UID 0 and GID 0 are always in. Errors:
    /// `Error::Config` naming a protected name that is malformed or resolves
    /// nowhere; the source's error when a source cannot answer. Never a partial set.
    pub fn protected_ids(&self, dir: &dyn Directory) -> Result<ProtectedIds> {
        let imp = &self.config().impersonation;
        let mut ids = ProtectedIds::default();
        ids.uids.insert(0, None);
        ids.gids.insert(0, None);
        let users = imp.protected_users.iter().chain(&imp.superuser);
        let named = users
            .map(|n| (Kind::User, n))
            .chain(imp.protected_groups.iter().map(|n| (Kind::Group, n)));
        for (kind, name) in named {
            if name == "root" {
                continue; // by number, above
            }
            for id in self.protected_name_ids(dir, kind, name)? {
                let map = match kind {
                    Kind::User => &mut ids.uids,
                    Kind::Group => &mut ids.gids,
                };
                map.entry(id).or_insert_with(|| Some(name.clone()));
            }
        }
        Ok(ids)
    }

    /// Checks the protected names when the configuration has any besides root: a
    /// malformed name, or one that resolves nowhere, is an error naming it. A source
    /// that cannot answer now is no error here (the decisions will be).
    pub(crate) fn check_protected_names(&self, dir: &dyn Directory) -> Result<()> {
        match self.protected_ids(dir) {
            Ok(_) => Ok(()),
            Err(e @ Error::Config { .. }) | Err(e @ Error::InvalidName { .. }) => Err(e),
            Err(_) => Ok(()),
        }
    }

    /// The IDs one protected name has in the configured source and, in server mode,
    /// in the local registry.
    fn protected_name_ids(&self, dir: &dyn Directory, kind: Kind, name: &str) -> Result<Vec<u32>> {
        let key = match kind {
            Kind::User => "protected_users",
            Kind::Group => "protected_groups",
        };
        let config_error = |why: String| {
            let file = self.config().path.clone().unwrap_or_default();
            Error::config(file, format!("[impersonation] {key}: {name:?} {why}"))
        };
        if name.trim() != name || validate_name(name.as_bytes()).is_err() {
            return Err(config_error(
                "is malformed (empty, over 256 bytes, or with leading or trailing whitespace); \
                 name the account exactly"
                    .into(),
            ));
        }
        let mut ids = Vec::new();
        let configured = match kind {
            Kind::User => dir.resolve(name).map(|id| id.uid),
            Kind::Group => dir.group(name).map(|g| g.gid),
        };
        match configured {
            Ok(id) => ids.push(id),
            Err(Error::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
        if self.config().resolution.mode == Mode::Server {
            let local = LocalSource::new();
            let found = match kind {
                Kind::User => local.user_by_name(name)?.map(|id| id.uid),
                Kind::Group => local.group_by_name(name)?.map(|g| g.gid),
            };
            ids.extend(found);
        }
        if ids.is_empty() {
            let where_ = match self.config().resolution.mode {
                Mode::Server => "neither in the directory nor in the local registry",
                Mode::Client => "in the local registry",
            };
            let what = match kind {
                Kind::User => "user",
                Kind::Group => "group",
            };
            return Err(config_error(format!(
                "resolves nowhere: no such {what} {where_} (names are case-sensitive); \
                 a protected name that protects nothing is refused"
            )));
        }
        Ok(ids)
    }
}
