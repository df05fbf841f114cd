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

use ldap3::controls::{MatchedValues, RawControl};
use ldap3::SearchEntry;

use super::query::{self, UserKey};
use super::search::one_pass;
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

/// What the one search takes from the configuration alone.
pub(crate) struct OneSearchShape {
    /// The user's and the groups' attributes, each once, and `memberUid`.
    attrs: Vec<String>,
    /// The values filter's items for every attribute but the two names: all values.
    all_values: String,
}

impl Inner {
    /// The one search's shape, or `None` when the configuration rules it out: not
    /// RFC2307, users and groups under different bases, or the two names' attributes
    /// also asked for otherwise (the values filter would cut those down too).
    fn one_search_shape(&self) -> Option<&OneSearchShape> {
        let shape = self.one_search_shape.get_or_init(|| {
            let map = &self.cfg.map;
            let (uid, member) = (&map.uid, &map.member_uid);
            let names_alone = !uid.eq_ignore_ascii_case(member)
                && self
                    .nss_user_attrs()
                    .iter()
                    .chain(&self.group_attrs)
                    .filter(|a| a.eq_ignore_ascii_case(uid) || a.eq_ignore_ascii_case(member))
                    .count()
                    == 1;
            let one_base =
                query::dn_key(&self.cfg.user_base) == query::dn_key(&self.cfg.group_base);
            if self.cfg.schema != LdapSchema::Rfc2307 || !one_base || !names_alone {
                return None;
            }
            let mut attrs = self.nss_user_attrs();
            for a in self.group_attrs.iter().chain([member]) {
                if !attrs.iter().any(|b| b.eq_ignore_ascii_case(a)) {
                    attrs.push(a.clone());
                }
            }
            let all_values: Vec<String> = attrs
                .iter()
                .filter(|a| !a.eq_ignore_ascii_case(uid) && !a.eq_ignore_ascii_case(member))
                .map(|a| format!("({a}=*)"))
                .collect();
            // ldap3 panics on a values filter it cannot parse: check the items (its
            // parser takes the same items as in a search filter).
            if !all_values.iter().all(|i| ldap3::parse_filter(i).is_ok()) {
                return None;
            }
            Some(OneSearchShape {
                attrs,
                all_values: all_values.concat(),
            })
        });
        shape.as_ref()
    }

    /// Whether lookups by name may take the one search: the configuration allows it
    /// and no server has refused the control.
    pub(super) fn searches_user_and_groups_at_once(&self) -> bool {
        self.one_search_shape().is_some() && !self.one_search_refused.load(Ordering::Acquire)
    }

    /// The filter and the Matched Values control of the one search for `name`.
    fn one_search(&self, name: &str) -> Option<(String, RawControl)> {
        let map = &self.cfg.map;
        let shape = self.one_search_shape()?;
        let user = self.user_filter(&UserKey::Name(name.to_string()));
        let groups = self.member_uid_filter(name);
        let value = ldap3::ldap_escape(name);
        let names = [
            format!("({}={value})", map.uid),
            format!("({}={value})", map.member_uid),
        ];
        // The items carrying the name are checked per name, as the shape's were.
        if !names.iter().all(|i| ldap3::parse_filter(i).is_ok()) {
            return None;
        }
        let mut control = MatchedValues::new(format!("({}{})", names.concat(), shape.all_values));
        control.crit = true;
        Some((format!("(|{user}{groups})"), control))
    }

    /// The user entries for `name` and the entries of the groups listing it, from one
    /// search; `None`: ask the two searches instead (see the module docs).
    pub(super) async fn user_and_groups_in_one_search(
        &self,
        name: &str,
    ) -> Result<Option<UserAndGroups>> {
        let (Some((filter, control)), Some(shape)) =
            (self.one_search(name), self.one_search_shape())
        else {
            return Ok(None);
        };
        let entries = self
            .with_connection(|handle| {
                let (filter, control, base) = (&filter, &control, &self.cfg.user_base);
                async move {
                    let mut ldap = handle.ldap.clone();
                    ldap.with_controls(control.clone());
                    let (entries, done) =
                        one_pass(&mut ldap, base, filter, shape.attrs.clone()).await?;
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
