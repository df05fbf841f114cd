//! NSS-shaped answers for `proxidd`: passwd entries with their gecos, and groups with
//! their member names — what `getent passwd` / `getent group` print, which the
//! identity model (numbers and groups of one user) does not carry.
//!
//! - gecos is the `gecos` attribute, else `cn` (as nslcd), else empty;
//! - a group's members are its `memberUid` values and, for `member` DNs (RFC2307bis),
//!   the `uid` of the entry each DN names, read from the directory — never text cut
//!   out of the DN. A DN that names no user (a nested group, a deleted entry) is
//!   skipped. Nested groups are not expanded (as nslcd and SSSD show `getent group`).
//! - the rules of every other lookup hold: names match byte for byte, two entries for
//!   one name or ID are an error naming both, IDs below `min_uid`/`min_gid` are not
//!   found.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use ldap3::{Scope, SearchEntry};

use super::query::{self, UserKey};
use super::{search, search_paged, Failure, Handle, Inner, LdapSource, UserSearchHold};
use crate::error::Result;

/// A passwd entry (the password field is always `x`, added by the daemon).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NssUser {
    /// The login name (`[ldap.map] uid`).
    pub name: String,
    /// The UID (`uid_number`), at least `min_uid`.
    pub uid: u32,
    /// The primary GID (`gid_number`).
    pub gid: u32,
    /// The `gecos` attribute, else `cn`, else empty.
    pub gecos: String,
    /// The home directory (`home_directory`), empty when the entry has none.
    pub home: String,
    /// The login shell (`login_shell`), empty when the entry has none.
    pub shell: String,
}

/// A group entry with its member user names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NssGroup {
    /// The group's name (`[ldap.map] group_name`).
    pub name: String,
    /// The GID (`gid_number`), at least `min_gid`.
    pub gid: u32,
    /// The members' user names: `memberUid` values and the `uid` of each `member` DN
    /// that names a user; nested groups are not expanded.
    pub members: Vec<String>,
}

/// Member DNs up to this many are looked up one by one (a base search each); above,
/// one paged listing of the user base maps every DN at once.
const MEMBER_LOOKUPS: usize = 32;

impl LdapSource {
    /// The passwd entry of the user called `name` (byte for byte); `None`: no such
    /// user, or one whose UID or GID is below `min_uid` / `min_gid`.
    pub fn nss_user_by_name(&self, name: &str) -> Result<Option<NssUser>> {
        let key = UserKey::Name(name.to_string());
        self.run(move |inner| async move { inner.nss_user(key).await })
    }

    /// Keeps the answer of the user search for `name` until the hold is dropped, so
    /// a resolution of `name` and then [`LdapSource::nss_user_by_name`] cost one user
    /// search (`None` when this process's LDAP client cannot start).
    pub fn hold_user_search(&self, name: &str) -> Option<UserSearchHold> {
        Some(self.live().ok()?.inner.hold_user_search(name))
    }

    /// The passwd entry of the user with this UID; `None`: no such user, or one whose
    /// UID or GID is below `min_uid` / `min_gid`.
    pub fn nss_user_by_uid(&self, uid: u32) -> Result<Option<NssUser>> {
        self.run(move |inner| async move { inner.nss_user(UserKey::Uid(uid)).await })
    }

    /// The group called `name` with its member names; `None`: no such group, or one
    /// below `min_gid`.
    pub fn nss_group_by_name(&self, name: &str) -> Result<Option<NssGroup>> {
        let name = name.to_string();
        self.run(move |inner| async move { inner.nss_group(Some(name), None).await })
    }

    /// The group with this GID with its member names; `None`: no such group, or a GID
    /// below `min_gid`.
    pub fn nss_group_by_gid(&self, gid: u32) -> Result<Option<NssGroup>> {
        self.run(move |inner| async move { inner.nss_group(None, Some(gid)).await })
    }

    /// Every valid user (enumeration), paged. Invalid entries and names held by two
    /// entries are left out.
    pub fn nss_users(&self) -> Result<Vec<NssUser>> {
        self.run(|inner| async move { inner.nss_all_users().await })
    }

    /// Every valid POSIX group with its members (enumeration), paged.
    pub fn nss_groups(&self) -> Result<Vec<NssGroup>> {
        self.run(|inner| async move { inner.nss_all_groups().await })
    }
}

fn gecos(entry: &SearchEntry) -> String {
    query::values(entry, "gecos")
        .first()
        .or_else(|| query::values(entry, "cn").first())
        .cloned()
        .unwrap_or_default()
}

/// The user name of a member entry: its `uid` value named in its RDN when it has
/// several (`uid=alice` with `uid: alice` and `uid: a.smith`), else its only one.
fn member_name(uid_attr: &str, entry: &SearchEntry) -> Option<String> {
    let values = query::values(entry, uid_attr);
    let rdn = entry.dn.split(',').next().unwrap_or_default();
    let from_rdn = rdn
        .split_once('=')
        .filter(|(a, _)| a.trim().eq_ignore_ascii_case(uid_attr))
        .map(|(_, v)| v.trim());
    match values {
        [] => None,
        [one] => Some(one.clone()),
        many => from_rdn
            .and_then(|r| many.iter().find(|v| v.as_str() == r))
            .or_else(|| many.first())
            .cloned(),
    }
}

/// A base-scope search: the entry at `dn` if it matches `filter`; nothing when the
/// DN does not exist (a member DN left behind by a deleted user).
async fn read_entry(
    handle: Handle,
    dn: &str,
    filter: &str,
    attrs: Vec<String>,
) -> std::result::Result<Option<SearchEntry>, Failure> {
    let mut ldap = handle.ldap.clone();
    let result = ldap.search(dn, Scope::Base, filter, attrs).await?;
    const NO_SUCH_OBJECT: u32 = 32;
    const INVALID_DN_SYNTAX: u32 = 34;
    if matches!(result.1.rc, NO_SUCH_OBJECT | INVALID_DN_SYNTAX) {
        return Ok(None);
    }
    let (entries, _) = result.success()?;
    Ok(entries.into_iter().next().map(SearchEntry::construct))
}

fn push_unique(out: &mut Vec<String>, seen: &mut HashSet<String>, name: &str) {
    if seen.insert(name.to_string()) {
        out.push(name.to_string());
    }
}

impl Inner {
    fn nss_group_attrs(&self) -> Vec<String> {
        let m = &self.cfg.map;
        vec![
            m.group_name.clone(),
            m.gid_number.clone(),
            m.member_uid.clone(),
            m.member.clone(),
        ]
    }

    async fn nss_user(self: Arc<Self>, key: UserKey) -> Result<Option<NssUser>> {
        if let UserKey::Uid(uid) = key {
            if uid < self.cfg.min_uid {
                return Ok(None);
            }
        }
        let entries = match &key {
            UserKey::Name(name) => self.user_entries_by_name(name).await?,
            UserKey::Uid(_) => self.search_user(&key).await?,
        };
        let mut gecos_by_dn: HashMap<String, String> =
            entries.iter().map(|e| (e.dn.clone(), gecos(e))).collect();
        let Some(user) = query::pick_user(&self.cfg, &key, entries)? else {
            return Ok(None);
        };
        Ok(Some(NssUser {
            gecos: gecos_by_dn.remove(&user.dn).unwrap_or_default(),
            name: user.name,
            uid: user.uid,
            gid: user.gid,
            home: user.home,
            shell: user.shell,
        }))
    }

    async fn nss_group(
        self: Arc<Self>,
        name: Option<String>,
        gid: Option<u32>,
    ) -> Result<Option<NssGroup>> {
        let Some((filter, what)) = self.group_query(name.as_deref(), gid) else {
            return Ok(None);
        };
        let attrs = self.nss_group_attrs();
        let this = self.clone();
        self.with_connection(|ldap| {
            let this = this.clone();
            let (filter, what, name, attrs) =
                (filter.clone(), what.clone(), name.clone(), attrs.clone());
            async move {
                let entries = search(ldap.clone(), &this.cfg.group_base, &filter, attrs).await?;
                let Some(group) =
                    query::pick_group(&this.cfg, name.as_deref(), &what, entries.clone())?
                else {
                    return Ok(None);
                };
                // The one POSIX entry pick_group accepted.
                let Some(entry) = entries.iter().find(|e| {
                    query::group_entry(&this.cfg, e).is_ok_and(|g| g.gid == Some(group.gid))
                        && name.as_deref().is_none_or(|n| {
                            query::values(e, &this.cfg.map.group_name)
                                .iter()
                                .any(|v| v == n)
                        })
                }) else {
                    return Ok(None);
                };
                let members = this.members(&ldap, &[entry], None).await?;
                Ok(Some(NssGroup {
                    name: group.name,
                    gid: group.gid,
                    members: members.into_iter().next().unwrap_or_default(),
                }))
            }
        })
        .await
    }

    /// Member names of each entry, in the directory's order, without duplicates.
    /// `users` maps lower-cased DNs to user names when the caller already listed them.
    async fn members(
        &self,
        ldap: &Handle,
        entries: &[&SearchEntry],
        users: Option<&HashMap<String, String>>,
    ) -> std::result::Result<Vec<Vec<String>>, Failure> {
        let map = &self.cfg.map;
        let dn_count: usize = entries
            .iter()
            .map(|e| query::values(e, &map.member).len())
            .sum();
        let listed;
        let users = match users {
            Some(u) => Some(u),
            None if dn_count > MEMBER_LOOKUPS => {
                listed = self.user_dn_map(ldap).await?;
                Some(&listed)
            }
            None => None,
        };
        let user_filter = query::wrapped(&map.user_filter);
        let mut all = Vec::with_capacity(entries.len());
        for entry in entries {
            let mut seen = HashSet::new();
            let mut names = Vec::new();
            for name in query::values(entry, &map.member_uid) {
                push_unique(&mut names, &mut seen, name);
            }
            for dn in query::values(entry, &map.member) {
                let name = match users {
                    Some(users) => users.get(&query::dn_key(dn)).cloned(),
                    None => read_entry(ldap.clone(), dn, &user_filter, vec![map.uid.clone()])
                        .await?
                        .and_then(|e| member_name(&map.uid, &e)),
                };
                if let Some(name) = name {
                    push_unique(&mut names, &mut seen, &name);
                }
            }
            all.push(names);
        }
        Ok(all)
    }

    /// Every user entry's DN (lower-cased) and name, listed page by page.
    async fn user_dn_map(
        &self,
        ldap: &Handle,
    ) -> std::result::Result<HashMap<String, String>, Failure> {
        let filter = query::wrapped(&self.cfg.map.user_filter);
        let entries = search_paged(
            ldap.clone(),
            &self.cfg.user_base,
            &filter,
            vec![self.cfg.map.uid.clone()],
        )
        .await?;
        Ok(entries
            .iter()
            .filter_map(|e| Some((query::dn_key(&e.dn), member_name(&self.cfg.map.uid, e)?)))
            .collect())
    }

    async fn nss_all_users(self: Arc<Self>) -> Result<Vec<NssUser>> {
        let filter = query::wrapped(&self.cfg.map.user_filter);
        let attrs = self.nss_user_attrs();
        let entries = self
            .with_connection(|ldap| {
                let (base, filter, attrs) = (&self.cfg.user_base, &filter, attrs.clone());
                async move { search_paged(ldap, base, filter, attrs).await }
            })
            .await?;
        let mut count: HashMap<String, usize> = HashMap::new();
        for e in &entries {
            for name in query::values(e, &self.cfg.map.uid) {
                *count.entry(name.clone()).or_default() += 1;
            }
        }
        let mut users = Vec::new();
        for entry in entries {
            let Some(name) = member_name(&self.cfg.map.uid, &entry) else {
                continue;
            };
            if count.get(&name) != Some(&1) {
                continue;
            }
            let gecos = gecos(&entry);
            let key = UserKey::Name(name);
            if let Ok(Some(user)) = query::pick_user(&self.cfg, &key, vec![entry]) {
                users.push(NssUser {
                    gecos,
                    name: user.name,
                    uid: user.uid,
                    gid: user.gid,
                    home: user.home,
                    shell: user.shell,
                });
            }
        }
        Ok(users)
    }

    async fn nss_all_groups(self: Arc<Self>) -> Result<Vec<NssGroup>> {
        let filter = query::wrapped(&self.cfg.map.group_filter);
        let attrs = self.nss_group_attrs();
        let this = self.clone();
        self.with_connection(|ldap| {
            let this = this.clone();
            let (filter, attrs) = (filter.clone(), attrs.clone());
            async move {
                let entries =
                    search_paged(ldap.clone(), &this.cfg.group_base, &filter, attrs).await?;
                let users = this.user_dn_map(&ldap).await?;
                let valid: Vec<(&SearchEntry, String, u32)> = entries
                    .iter()
                    .filter_map(|e| {
                        let g = query::group_entry(&this.cfg, e).ok()?;
                        let posix = g.posix(&this.cfg)?;
                        Some((e, posix.name, posix.gid))
                    })
                    .collect();
                let refs: Vec<&SearchEntry> = valid.iter().map(|(e, _, _)| *e).collect();
                let members = this.members(&ldap, &refs, Some(&users)).await?;
                Ok(valid
                    .into_iter()
                    .zip(members)
                    .map(|((_, name, gid), members)| NssGroup { name, gid, members })
                    .collect())
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gecos_falls_back_to_cn() {
        let with = query::entry("uid=a,dc=x", &[("gecos", &["Alice A"]), ("cn", &["a"])]);
        let without = query::entry("uid=b,dc=x", &[("cn", &["Bob B"])]);
        let none = query::entry("uid=c,dc=x", &[]);
        assert_eq!(gecos(&with), "Alice A");
        assert_eq!(gecos(&without), "Bob B");
        assert_eq!(gecos(&none), "");
    }

    #[test]
    fn member_name_prefers_the_rdn_value() {
        let two = query::entry("uid=alice,ou=p,dc=x", &[("uid", &["a.smith", "alice"])]);
        assert_eq!(member_name("uid", &two).as_deref(), Some("alice"));
        let cn = query::entry("cn=Alice Smith,ou=p,dc=x", &[("uid", &["alice"])]);
        assert_eq!(member_name("uid", &cn).as_deref(), Some("alice"));
        let none = query::entry("cn=g,ou=g,dc=x", &[]);
        assert_eq!(member_name("uid", &none), None);
    }
}
