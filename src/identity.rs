//! The identity model: who a user is in numbers, and the one place names are validated.

use serde::{Deserialize, Serialize};

pub use crate::names::{validate_name, MAX_NAME_BYTES};

/// A group as the user belongs to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// The group's name, or its GID in decimal when no group entry exists
    /// (what `id -Gn` and `hdfs groups` print in that case).
    pub name: String,
    /// The group's GID.
    pub gid: u32,
}

/// A resolved user: the numbers a client presents and a server acts as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// The user name, as the source spells it.
    pub name: String,
    /// The UID.
    pub uid: u32,
    /// Primary GID; always equal to `groups[0].gid`.
    pub gid: u32,
    /// Primary group first, then supplementary groups, without duplicates.
    pub groups: Vec<Group>,
    /// The home directory, as the source gives it.
    pub home: String,
    /// The login shell, as the source gives it.
    pub shell: String,
    /// Which source answered: "local" or "ldap".
    pub source: String,
    /// GIDs of groups the directory lists this user in that sit below `[ldap]
    /// min_gid` (GID 0 among them). They are not the user's groups to proxid (not in
    /// `groups`, `gids()` or assertions), but a host whose NSS module passes them
    /// through (nslcd does) puts the user in them, so the protected-identity check
    /// counts them: a member of a GID-0 group is never impersonated. Empty for the
    /// local registry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hidden_gids: Vec<u32>,
}

impl Identity {
    /// All GIDs, primary first.
    pub fn gids(&self) -> Vec<u32> {
        self.groups.iter().map(|g| g.gid).collect()
    }

    /// Group names, primary first (the shape Hadoop's group mapping returns).
    pub fn group_names(&self) -> Vec<String> {
        self.groups.iter().map(|g| g.name.clone()).collect()
    }
}

/// Builds the group list: primary first, then the others in order, duplicates dropped.
pub fn ordered_groups(primary: Group, others: impl IntoIterator<Item = Group>) -> Vec<Group> {
    let mut groups = vec![primary];
    for group in others {
        if !groups.iter().any(|g| g.gid == group.gid) {
            groups.push(group);
        }
    }
    groups
}

/// What a directory says about a user's password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PasswordCheck {
    /// The password is right.
    Ok,
    /// Wrong or empty password (also: a bind the server did not take as the user).
    WrongPassword,
    /// No such user in the directory (or one proxid does not speak for).
    UserUnknown,
    /// The directory locked the account (ppolicy `accountLocked`, AD `data 775`).
    Locked,
    /// The password expired or must be changed after a reset.
    Expired,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_are_deduplicated_primary_first() {
        let g = |n: &str, gid| Group {
            name: n.into(),
            gid,
        };
        let groups = ordered_groups(g("staff", 10), [g("a", 5), g("staff", 10), g("a", 5)]);
        assert_eq!(groups, vec![g("staff", 10), g("a", 5)]);
    }
}
