//! An RFC2307 user and the groups listing it, in one search.
//!
//! A cold lookup by name needs the user entry and the groups whose `memberUid` lists
//! the name. Two searches sent at once cost slapd two operations (measured on a quiet
//! slapd: one search ~390 µs, two at once ~490 µs, both as one search ~415 µs), so
//! when users and groups live under one base the two filters go out as one:
//! `(|(&<user_filter>(uid=N))(&<group_filter>(memberUid=N)))`.
//!
//! Which half of the filter an entry matched is read from the entry itself, with the
//! Matched Values control (RFC 3876, critical): the server returns only the `uid`
//! values that match `(uid=N)` and the `memberUid` values that match `(memberUid=N)`,
//! with its own matching rules, and every value of the other attributes asked for.
//! An entry with a matching `uid` and no matching `memberUid` can only have come from
//! the user half, and the reverse from the group half, whatever the configured
//! filters say. An entry with both or neither (a user that is also a posixGroup
//! listing itself; attributes the server lets us search but not read) leaves the
//! question open, and the lookup asks the two searches instead, as does a server
//! that refuses the control (it is then not asked again by this process) or a size
//! limit. The group half never returns a member list: only the matching value.

use std::sync::atomic::Ordering;

use ldap3::adapters::EntriesOnly;
use ldap3::controls::{MatchedValues, RawControl};
use ldap3::{Scope, SearchEntry};

use super::query::{self, UserKey};
use super::Inner;
use crate::config::LdapSchema;
use crate::error::Result;

/// Result codes saying the server will not take the search as asked: protocol error,
/// size limit, unavailable critical extension, unwilling to perform.
const NOT_AS_ASKED: [u32; 4] = [2, 4, 12, 53];
/// Of those, the ones that mean it never will (the control): not asked again.
const NEVER: [u32; 3] = [2, 12, 53];

/// The user entries for a name, and the entries of the groups listing it.
pub(super) type UserAndGroups = (Vec<SearchEntry>, Vec<SearchEntry>);

/// The one search for a name: filter, attributes and the Matched Values control.
struct OneSearch {
    filter: String,
    attrs: Vec<String>,
    control: RawControl,
}

impl Inner {
    /// Whether lookups by name may take the one search: RFC2307, one base for users
    /// and groups, the two names' attributes distinct from every other one asked
    /// for, and no server has refused the control.
    pub(super) fn searches_user_and_groups_at_once(&self) -> bool {
        let map = &self.cfg.map;
        let (uid, member) = (&map.uid, &map.member_uid);
        self.cfg.schema == LdapSchema::Rfc2307
            && query::dn_key(&self.cfg.user_base) == query::dn_key(&self.cfg.group_base)
            && !self.one_search_refused.load(Ordering::Acquire)
            && !uid.eq_ignore_ascii_case(member)
            && self
                .nss_user_attrs()
                .iter()
                .chain(&self.group_attrs)
                .filter(|a| a.eq_ignore_ascii_case(uid) || a.eq_ignore_ascii_case(member))
                .count()
                == 1
    }

    fn one_search(&self, name: &str) -> Option<OneSearch> {
        let map = &self.cfg.map;
        let user = self.user_filter(&UserKey::Name(name.to_string()));
        let groups = query::and_equals(&map.group_filter, &map.member_uid, name);
        let mut attrs = self.nss_user_attrs();
        for a in self.group_attrs.iter().chain([&map.member_uid]) {
            if !attrs.iter().any(|b| b.eq_ignore_ascii_case(a)) {
                attrs.push(a.clone());
            }
        }
        // Matched values: the two names' matching values, every value of the rest.
        let value = ldap3::ldap_escape(name);
        let mut items = vec![
            format!("({}={value})", map.uid),
            format!("({}={value})", map.member_uid),
        ];
        items.extend(
            attrs
                .iter()
                .filter(|a| !a.eq_ignore_ascii_case(&map.uid))
                .filter(|a| !a.eq_ignore_ascii_case(&map.member_uid))
                .map(|a| format!("({a}=*)")),
        );
        // ldap3 panics on a values filter it cannot parse: check each item first
        // (its parser takes the same items as in a search filter).
        if !items.iter().all(|i| ldap3::parse_filter(i).is_ok()) {
            return None;
        }
        let mut control = MatchedValues::new(format!("({})", items.concat()));
        control.crit = true;
        Some(OneSearch {
            filter: format!("(|{user}{groups})"),
            attrs,
            control,
        })
    }

    /// The user entries for `name` and the entries of the groups listing it, from one
    /// search; `None`: ask the two searches instead (see the module docs).
    pub(super) async fn user_and_groups_in_one_search(
        &self,
        name: &str,
    ) -> Result<Option<UserAndGroups>> {
        let Some(one) = self.one_search(name) else {
            return Ok(None);
        };
        let entries = self
            .with_connection(|handle| {
                let (one, base) = (&one, &self.cfg.user_base);
                async move {
                    let mut ldap = handle.ldap.clone();
                    let mut stream = ldap
                        .with_controls(one.control.clone())
                        .streaming_search_with(
                            EntriesOnly::new(),
                            base,
                            Scope::Subtree,
                            &one.filter,
                            one.attrs.clone(),
                        )
                        .await?;
                    let mut entries = Vec::new();
                    while let Some(entry) = stream.next().await? {
                        entries.push(SearchEntry::construct(entry));
                    }
                    let done = stream.finish().await;
                    if NOT_AS_ASKED.contains(&done.rc) {
                        if NEVER.contains(&done.rc) {
                            self.one_search_refused.store(true, Ordering::Release);
                        }
                        return Ok(None);
                    }
                    done.success()?;
                    Ok(Some(entries))
                }
            })
            .await?;
        Ok(entries.and_then(|e| split(&self.cfg.map.uid, &self.cfg.map.member_uid, e)))
    }
}

/// Users (a matching `uid`, no matching `memberUid`) and groups (the reverse); `None`
/// when an entry is both or neither.
fn split(uid: &str, member_uid: &str, entries: Vec<SearchEntry>) -> Option<UserAndGroups> {
    let (mut users, mut groups) = (Vec::new(), Vec::new());
    for entry in entries {
        let named = !query::values(&entry, uid).is_empty();
        let listed = !query::values(&entry, member_uid).is_empty();
        match (named, listed) {
            (true, false) => users.push(entry),
            (false, true) => groups.push(entry),
            _ => return None,
        }
    }
    Some((users, groups))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::ldap::query::entry;

    #[test]
    fn entries_split_by_which_name_matched() {
        let alice = entry("uid=alice,ou=people,dc=x", &[("uid", &["alice"])]);
        let devs = entry("cn=devs,ou=groups,dc=x", &[("memberUid", &["alice"])]);
        let (users, groups) = split("uid", "memberUid", vec![alice, devs]).expect("split");
        assert_eq!(users.len(), 1);
        assert_eq!(groups[0].dn, "cn=devs,ou=groups,dc=x");
    }

    #[test]
    fn an_entry_matching_both_or_neither_name_leaves_it_to_two_searches() {
        let both = entry(
            "uid=alice,dc=x",
            &[("uid", &["alice"]), ("memberUid", &["alice"])],
        );
        assert!(split("uid", "memberUid", vec![both]).is_none());
        let neither = entry("cn=x,dc=x", &[("cn", &["x"])]);
        assert!(split("uid", "memberUid", vec![neither]).is_none());
    }
}
