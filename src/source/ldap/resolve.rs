//! One resolution: the searches a user or group lookup makes (in one round trip
//! where the schema allows), RFC2307bis nesting, and the identity built from them.

use std::collections::HashSet;
use std::future::Future;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, OnceLock};

use ldap3::SearchEntry;

use super::combined::OneSearchShape;
use super::pool::{Handle, Pool, SOURCE};
use super::primary::PrimaryGroups;
use super::query::{self, GroupEntry, UserEntry, UserKey};
use super::search::{search, search_paged, Failure};
use super::user_search::UserSearches;
use crate::config::{LdapConfig, LdapSchema};
use crate::error::Result;
use crate::identity::{ordered_groups, Group, Identity};

/// Member DNs per nested-group search (keeps filters a sane size).
const NESTED_BATCH: usize = 64;

pub(super) struct Inner {
    pub(super) cfg: LdapConfig,
    pub(super) pool: Arc<Pool>,
    pub(super) user_attrs: Vec<String>,
    pub(super) group_attrs: Vec<String>,
    /// Primary groups by GID. Most users' primary group does not list them
    /// (RFC2307: membership is implied by `gidNumber`), so without this every cold
    /// user lookup would wait a second round trip for a name many users share.
    pub(super) primary_groups: PrimaryGroups,
    /// User searches by name running now, shared by the lookups that want them.
    pub(super) user_searches: Arc<UserSearches>,
    /// A server refused the one search for a user and its groups (`combined`).
    pub(super) one_search_refused: AtomicBool,
    /// What of that search follows from the configuration, worked out once;
    /// `None` inside: the configuration rules it out.
    pub(super) one_search_shape: OnceLock<Option<OneSearchShape>>,
}

impl Inner {
    pub(super) fn user_filter(&self, key: &UserKey) -> String {
        let map = &self.cfg.map;
        match key {
            UserKey::Name(name) => query::and_equals(&map.user_filter, &map.uid, name),
            UserKey::Uid(uid) => {
                query::and_equals(&map.user_filter, &map.uid_number, &uid.to_string())
            }
        }
    }

    pub(super) fn group_search(
        &self,
        ldap: Handle,
        filter: String,
    ) -> impl Future<Output = std::result::Result<Vec<SearchEntry>, Failure>> + Send + 'static {
        let base = self.cfg.group_base.clone();
        let attrs = self.group_attrs.clone();
        async move { search(ldap, &base, &filter, attrs).await }
    }

    /// Groups listing the user directly: by `memberUid` (RFC2307), and in RFC2307bis by
    /// `member` DN too (as nss-pam-ldapd does, so mixed directories work).
    pub(super) fn direct_groups_filter(&self, user: &UserEntry) -> String {
        let map = &self.cfg.map;
        match self.cfg.schema {
            LdapSchema::Rfc2307 => self.member_uid_filter(&user.name),
            LdapSchema::Rfc2307bis => query::and_any_of(
                &map.group_filter,
                &[(&map.member_uid, &user.name), (&map.member, &user.dn)],
            ),
        }
    }

    /// Follows RFC2307bis nesting up to `nested_group_depth` levels, visiting each group
    /// once (so membership cycles end).
    pub(super) async fn nested_groups(
        &self,
        ldap: &Handle,
        direct: Vec<GroupEntry>,
    ) -> std::result::Result<Vec<GroupEntry>, Failure> {
        let mut seen: HashSet<String> = direct.iter().map(|g| query::dn_key(&g.dn)).collect();
        let mut frontier: Vec<String> = direct.iter().map(|g| g.dn.clone()).collect();
        let mut all = direct;
        for _ in 0..self.cfg.nested_group_depth {
            if frontier.is_empty() {
                break;
            }
            let mut next = Vec::new();
            for batch in frontier.chunks(NESTED_BATCH) {
                let pairs: Vec<(&str, &str)> = batch
                    .iter()
                    .map(|dn| (self.cfg.map.member.as_str(), dn.as_str()))
                    .collect();
                let filter = query::and_any_of(&self.cfg.map.group_filter, &pairs);
                for entry in self.group_search(ldap.clone(), filter).await? {
                    let group = query::group_entry(&self.cfg, &entry)?;
                    if seen.insert(query::dn_key(&group.dn)) {
                        next.push(group.dn.clone());
                        all.push(group);
                    }
                }
            }
            frontier = next;
        }
        Ok(all)
    }

    pub(super) fn group_entries(&self, entries: &[SearchEntry]) -> Result<Vec<GroupEntry>> {
        entries
            .iter()
            .map(|e| query::group_entry(&self.cfg, e))
            .collect()
    }

    /// The primary group when it is among the groups listing the user.
    pub(super) fn primary_among(&self, groups: &[GroupEntry], gid: u32) -> Option<Group> {
        groups
            .iter()
            .filter_map(|g| g.posix(&self.cfg))
            .filter(|g| g.gid == gid)
            // Several share the GID: the same one every time, as in `identity`.
            .min_by(|a, b| a.name.cmp(&b.name))
    }

    /// The primary group: the group entry with the user's `gidNumber`, or just the
    /// number when no entry has it.
    pub(super) async fn primary_group(
        &self,
        ldap: Handle,
        gid: u32,
    ) -> std::result::Result<Group, Failure> {
        let map = &self.cfg.map;
        let filter = query::and_equals(&map.group_filter, &map.gid_number, &gid.to_string());
        let entries = self.group_search(ldap, filter).await?;
        let what = format!("{} {gid} (primary group)", map.gid_number);
        Ok(
            query::pick_group(&self.cfg, None, &what, entries)?.unwrap_or(Group {
                name: gid.to_string(),
                gid,
            }),
        )
    }

    /// One resolution by UID, or under RFC2307bis, on one connection: the user first
    /// (its name or DN is needed), then its groups and primary group together, then
    /// one round trip per level of RFC2307bis nesting.
    pub(super) async fn resolve_user(
        &self,
        ldap: Handle,
        key: &UserKey,
    ) -> std::result::Result<Option<Identity>, Failure> {
        let user_filter = self.user_filter(key);
        let entries = search(
            ldap.clone(),
            &self.cfg.user_base,
            &user_filter,
            self.user_attrs.clone(),
        )
        .await?;
        let Some(user) = query::pick_user(&self.cfg, key, entries)? else {
            return Ok(None);
        };
        let memberships = async {
            let entries = self
                .group_search(ldap.clone(), self.direct_groups_filter(&user))
                .await?;
            let direct = self.group_entries(&entries)?;
            match self.cfg.schema {
                LdapSchema::Rfc2307 => Ok(direct),
                LdapSchema::Rfc2307bis => self.nested_groups(&ldap, direct).await,
            }
        };
        let (all, primary) =
            tokio::try_join!(memberships, self.primary_group(ldap.clone(), user.gid))?;
        Ok(Some(self.identity(user, &all, primary)))
    }

    /// An RFC2307 lookup by name in one round trip: the user and the groups listing
    /// it in one search where users and groups share a base (`combined`), else the
    /// user search and the `memberUid` search at the same moment, each on the least
    /// busy pooled connection (slapd answers two searches on two connections in about
    /// the time of one, but on one connection in nearly the time of both; a cold pool
    /// pipelines both on its first connection rather than wait for a second
    /// handshake). A user search for the same name already running (proxidd's passwd
    /// lookup) is joined rather than repeated. The primary group's name costs a
    /// second round trip only when that group does not list the user and has not
    /// been seen before.
    pub(super) async fn resolve_rfc2307_name(&self, name: &str) -> Result<Option<Identity>> {
        let key = UserKey::Name(name.to_string());
        let (users, groups) = self.user_and_group_entries(name).await?;
        let Some(user) = query::pick_user(&self.cfg, &key, users)? else {
            return Ok(None);
        };
        let direct = self.group_entries(&groups)?;
        let known = self
            .primary_among(&direct, user.gid)
            .or_else(|| self.primary_groups.get(user.gid));
        let primary = match known {
            Some(g) => g,
            None => {
                self.with_connection(|ldap| self.primary_group(ldap, user.gid))
                    .await?
            }
        };
        self.primary_groups.put(&primary);
        Ok(Some(self.identity(user, &direct, primary)))
    }

    /// Groups whose `memberUid` lists `name`.
    pub(super) fn member_uid_filter(&self, name: &str) -> String {
        query::and_equals(&self.cfg.map.group_filter, &self.cfg.map.member_uid, name)
    }

    /// The entries of the groups whose `memberUid` lists `name` (RFC2307).
    pub(super) async fn groups_listing(&self, name: &str) -> Result<Vec<SearchEntry>> {
        let filter = self.member_uid_filter(name);
        self.with_connection(|ldap| self.group_search(ldap, filter.clone()))
            .await
    }

    /// The identity from its parts: primary group first, then the others by GID.
    pub(super) fn identity(
        &self,
        user: UserEntry,
        groups: &[GroupEntry],
        primary: Group,
    ) -> Identity {
        let mut others: Vec<Group> = groups.iter().filter_map(|g| g.posix(&self.cfg)).collect();
        // By GID, then name: of two groups sharing one GID, the list keeps one (a
        // process has GIDs, not names), always the same: the name that sorts first.
        others.sort_by(|a, b| (a.gid, &a.name).cmp(&(b.gid, &b.name)));
        // Below the floor: not the user's groups, but kept for the protection check.
        let mut hidden_gids: Vec<u32> = groups
            .iter()
            .filter_map(|g| g.gid.filter(|&gid| gid < self.cfg.min_gid))
            .collect();
        hidden_gids.sort_unstable();
        hidden_gids.dedup();
        Identity {
            name: user.name,
            uid: user.uid,
            gid: user.gid,
            groups: ordered_groups(primary, others),
            home: user.home,
            shell: user.shell,
            source: SOURCE.into(),
            hidden_gids,
        }
    }

    pub(super) async fn user(self: Arc<Self>, key: UserKey) -> Result<Option<Identity>> {
        if let UserKey::Uid(uid) = key {
            if uid < self.cfg.min_uid {
                return Ok(None);
            }
        }
        if let (UserKey::Name(name), LdapSchema::Rfc2307) = (&key, self.cfg.schema) {
            return self.resolve_rfc2307_name(name).await;
        }
        let this = self.clone();
        self.with_connection(|ldap| {
            let this = this.clone();
            let key = key.clone();
            async move { this.resolve_user(ldap, &key).await }
        })
        .await
    }

    /// The filter finding a group by name (else by GID) and how to name it in
    /// messages; `None` for a GID below `min_gid`, which is never served.
    pub(crate) fn group_query(
        &self,
        name: Option<&str>,
        gid: Option<u32>,
    ) -> Option<(String, String)> {
        let map = &self.cfg.map;
        match (name, gid) {
            (Some(n), _) => Some((
                query::and_equals(&map.group_filter, &map.group_name, n),
                format!("group name {n:?}"),
            )),
            (None, Some(g)) if g >= self.cfg.min_gid => Some((
                query::and_equals(&map.group_filter, &map.gid_number, &g.to_string()),
                format!("{} {g}", map.gid_number),
            )),
            _ => None,
        }
    }

    pub(super) async fn group(
        self: Arc<Self>,
        name: Option<String>,
        gid: Option<u32>,
    ) -> Result<Option<Group>> {
        let Some((filter, what)) = self.group_query(name.as_deref(), gid) else {
            return Ok(None);
        };
        let this = self.clone();
        self.with_connection(|ldap| {
            let this = this.clone();
            let (filter, what, name) = (filter.clone(), what.clone(), name.clone());
            async move {
                let entries = this.group_search(ldap, filter).await?;
                Ok(query::pick_group(
                    &this.cfg,
                    name.as_deref(),
                    &what,
                    entries,
                )?)
            }
        })
        .await
    }
}

impl Inner {
    /// The names a group lists: its `memberUid` values, and for `member` DNs whose
    /// first RDN is the user-name attribute (`uid=alice,ou=people,...`), that value.
    /// Member DNs named otherwise are skipped: prefetching is a warm-up, and every
    /// name it finds is then resolved the ordinary way.
    pub(super) async fn group_member_names(&self, group: &str) -> Result<Vec<String>> {
        let map = &self.cfg.map;
        let filter = query::and_equals(&map.group_filter, &map.group_name, group);
        let attrs = vec![
            map.group_name.clone(),
            map.member_uid.clone(),
            map.member.clone(),
        ];
        let entries = self
            .with_connection(|ldap| {
                let (base, filter, attrs) = (&self.cfg.group_base, &filter, attrs.clone());
                async move { search_paged(ldap, base, filter, attrs).await }
            })
            .await?;
        let uid_rdn = format!("{}=", map.uid.to_ascii_lowercase());
        let mut names = Vec::new();
        for entry in entries
            .iter()
            .filter(|e| query::values(e, &map.group_name).iter().any(|n| n == group))
        {
            names.extend(query::values(entry, &map.member_uid).iter().cloned());
            for dn in query::values(entry, &map.member) {
                let first = dn.split(',').next().unwrap_or_default();
                if first.to_ascii_lowercase().starts_with(&uid_rdn) && !first.contains('\\') {
                    names.push(first[uid_rdn.len()..].to_string());
                }
            }
        }
        names.sort();
        names.dedup();
        Ok(names)
    }
}
