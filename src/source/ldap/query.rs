//! What we ask the directory and how we read its answers: filters (every value escaped
//! per RFC 4515), entry parsing, and the rules that turn entries into users and groups.
//! Pure functions, so the rules are unit-tested without a server.

use ldap3::{ldap_escape, SearchEntry};

use crate::config::LdapConfig;
use crate::error::{Error, Result};
use crate::identity::Group;

pub(crate) use crate::config::wrapped_filter as wrapped;

/// `(&<base>(<attr>=<value>))` with `value` escaped. `attr` comes from the validated
/// configuration (its attribute names are checked in `config::ldap`), never from a caller.
pub(crate) fn and_equals(base: &str, attr: &str, value: &str) -> String {
    format!("(&{}({attr}={}))", wrapped(base), ldap_escape(value))
}

/// `(&<base>(|(<attr>=<v1>)(<attr>=<v2>)...))`, every value escaped.
pub(crate) fn and_any_of(base: &str, pairs: &[(&str, &str)]) -> String {
    let mut any = String::from("(|");
    for (attr, value) in pairs {
        any.push_str(&format!("({attr}={})", ldap_escape(*value)));
    }
    any.push(')');
    format!("(&{}{any})", wrapped(base))
}

/// The values of an attribute, matched case-insensitively as LDAP attribute names are.
pub(crate) fn values<'e>(entry: &'e SearchEntry, attr: &str) -> &'e [String] {
    entry
        .attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(attr))
        .map_or(&[], |(_, v)| v.as_slice())
}

fn single<'e>(entry: &'e SearchEntry, attr: &str) -> Result<Option<&'e str>> {
    match values(entry, attr) {
        [] => Ok(None),
        [one] => Ok(Some(one)),
        many => Err(Error::Directory {
            detail: format!(
                "{:?} has {} values of {attr} ({}); expected one",
                entry.dn,
                many.len(),
                many.join(", ")
            ),
        }),
    }
}

/// Parses a UID or GID as the directory holds it. Negative numbers, 4294967295
/// ((uid_t)-1, "no ID" to the kernel) and anything larger are errors, never wrapped.
pub(crate) fn parse_id(dn: &str, attr: &str, text: &str) -> Result<u32> {
    let invalid = |why: &str| Error::Directory {
        detail: format!("{dn:?} has {attr} {text:?}: {why}"),
    };
    if text.starts_with('-') {
        return Err(invalid("negative"));
    }
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid("not a number"));
    }
    match text.parse::<u64>() {
        Ok(n) if n < u64::from(u32::MAX) => Ok(n as u32),
        _ => Err(invalid("out of range (largest valid ID is 4294967294)")),
    }
}

fn required_id(entry: &SearchEntry, attr: &str) -> Result<u32> {
    match single(entry, attr)? {
        Some(text) => parse_id(&entry.dn, attr, text),
        None => Err(Error::Directory {
            detail: format!("{:?} has no {attr}", entry.dn),
        }),
    }
}

fn ambiguous(what: &str, entries: &[SearchEntry]) -> Error {
    let dns: Vec<&str> = entries.iter().map(|e| e.dn.as_str()).collect();
    Error::Directory {
        detail: format!(
            "{} entries match {what}: {}; proxid does not pick one",
            entries.len(),
            dns.join(" | ")
        ),
    }
}

/// A user entry, read and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UserEntry {
    pub dn: String,
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: String,
    pub shell: String,
}

/// How a user was asked for.
#[derive(Debug, Clone)]
pub(crate) enum UserKey {
    Name(String),
    Uid(u32),
}

/// Picks the one user entry that answers `key`, or none.
///
/// Names match byte for byte. LDAP compares `uid` ignoring case and surrounding
/// spaces, so the server may return `alice` for `ALICE`; we drop such entries, as
/// nss-pam-ldapd does by default and as glibc's files do. Returning `alice` for `ALICE`
/// would let a different Kerberos principal (`ALICE@REALM`) act as `alice`, and it
/// keeps every name we return usable against `memberUid`, which is case-exact.
///
/// Entries below `min_uid` / `min_gid` (so UID and GID 0 always) are not returned.
pub(crate) fn pick_user(
    cfg: &LdapConfig,
    key: &UserKey,
    entries: Vec<SearchEntry>,
) -> Result<Option<UserEntry>> {
    let map = &cfg.map;
    let mut matching: Vec<SearchEntry> = match key {
        UserKey::Name(name) => entries
            .into_iter()
            .filter(|e| values(e, &map.uid).iter().any(|v| v == name))
            .collect(),
        UserKey::Uid(_) => entries,
    };
    let entry = match matching.len() {
        0 => return Ok(None),
        1 => matching.remove(0),
        _ => {
            let what = match key {
                UserKey::Name(name) => format!("user name {name:?}"),
                UserKey::Uid(uid) => format!("{} {uid}", map.uid_number),
            };
            return Err(ambiguous(&what, &matching));
        }
    };
    let name = match key {
        UserKey::Name(name) => name.clone(),
        UserKey::Uid(_) => single(&entry, &map.uid)?
            .ok_or_else(|| Error::Directory {
                detail: format!("{:?} has no {}", entry.dn, map.uid),
            })?
            .to_owned(),
    };
    let uid = required_id(&entry, &map.uid_number)?;
    let gid = required_id(&entry, &map.gid_number)?;
    if uid < cfg.min_uid || gid < cfg.min_gid {
        return Ok(None);
    }
    let text = |attr: &str| values(&entry, attr).first().cloned().unwrap_or_default();
    Ok(Some(UserEntry {
        name,
        uid,
        gid,
        home: text(&map.home_directory),
        shell: text(&map.login_shell),
        dn: entry.dn,
    }))
}

/// A group entry. `gid` is `None` for groups that are not POSIX groups (an RFC2307bis
/// `groupOfNames` used only to nest others): they give no GID but are still followed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GroupEntry {
    pub dn: String,
    pub names: Vec<String>,
    pub gid: Option<u32>,
}

pub(crate) fn group_entry(cfg: &LdapConfig, entry: &SearchEntry) -> Result<GroupEntry> {
    let gid = single(entry, &cfg.map.gid_number)?
        .map(|t| parse_id(&entry.dn, &cfg.map.gid_number, t))
        .transpose()?;
    Ok(GroupEntry {
        dn: entry.dn.clone(),
        names: values(entry, &cfg.map.group_name).to_vec(),
        gid,
    })
}

impl GroupEntry {
    /// The group as a user belongs to it, if it is a POSIX group at or above `min_gid`.
    /// A group without a name is shown by number, like `id -Gn` does.
    pub(crate) fn posix(&self, cfg: &LdapConfig) -> Option<Group> {
        let gid = self.gid.filter(|&g| g >= cfg.min_gid)?;
        Some(Group {
            name: self
                .names
                .first()
                .cloned()
                .unwrap_or_else(|| gid.to_string()),
            gid,
        })
    }
}

/// Picks the one POSIX group entry asked for by name (byte for byte, as for users) or
/// by GID. Two entries are an error naming both.
pub(crate) fn pick_group(
    cfg: &LdapConfig,
    name: Option<&str>,
    what: &str,
    entries: Vec<SearchEntry>,
) -> Result<Option<Group>> {
    let matching: Vec<SearchEntry> = entries
        .into_iter()
        .filter(|e| name.is_none_or(|n| values(e, &cfg.map.group_name).iter().any(|v| v == n)))
        .collect();
    let mut groups = Vec::new();
    for entry in &matching {
        let group = group_entry(cfg, entry)?;
        if group.gid.is_some() {
            groups.push(group);
        }
    }
    match groups.len() {
        0 => Ok(None),
        1 => {
            let mut group = groups.remove(0).posix(cfg);
            if let (Some(g), Some(n)) = (group.as_mut(), name) {
                n.clone_into(&mut g.name);
            }
            Ok(group)
        }
        _ => Err(ambiguous(what, &matching)),
    }
}

/// Lower-cased DN, to recognise a group already visited while following nesting.
/// (The server returns each entry's DN the same way every time; this also absorbs
/// case differences in `member` values written by hand.)
pub(crate) fn dn_key(dn: &str) -> String {
    dn.to_lowercase()
}

/// Builds a `SearchEntry` for tests.
#[cfg(test)]
pub(crate) fn entry(dn: &str, attrs: &[(&str, &[&str])]) -> SearchEntry {
    SearchEntry {
        dn: dn.into(),
        attrs: attrs
            .iter()
            .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
            .collect::<std::collections::HashMap<_, _>>(),
        bin_attrs: std::collections::HashMap::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn cfg() -> LdapConfig {
        let toml =
            "[ldap]\nuris = [\"ldap://127.0.0.1\"]\nbase = \"dc=x\"\nmin_uid = 1000\nmin_gid = 100";
        Config::from_toml(toml, std::path::Path::new("t.conf"))
            .unwrap()
            .ldap
            .unwrap()
    }

    #[test]
    fn filters_escape_every_metacharacter() {
        let cases = [
            ("alice", "(&(objectClass=posixAccount)(uid=alice))"),
            ("*", "(&(objectClass=posixAccount)(uid=\\2a))"),
            (
                "inj)(uid=*",
                "(&(objectClass=posixAccount)(uid=inj\\29\\28uid=\\2a))",
            ),
            ("\\2a", "(&(objectClass=posixAccount)(uid=\\5c2a))"),
            ("a\0b", "(&(objectClass=posixAccount)(uid=a\\00b))"),
        ];
        for (value, want) in cases {
            assert_eq!(and_equals("(objectClass=posixAccount)", "uid", value), want);
        }
        assert_eq!(
            and_equals("objectClass=x", "uid", "a"),
            "(&(objectClass=x)(uid=a))"
        );
        assert_eq!(
            and_any_of("(o=x)", &[("member", "cn=a\\,b"), ("memberUid", "(")]),
            "(&(o=x)(|(member=cn=a\\5c,b)(memberUid=\\28)))"
        );
    }

    #[test]
    fn ids_table() {
        for (text, want) in [
            ("0", Some(0)),
            ("1000", Some(1000)),
            ("4294967294", Some(4294967294)),
            ("4294967295", None),
            ("4294967296", None),
            ("99999999999999999999999", None),
            ("-1", None),
            ("-0", None),
            ("", None),
            (" 5", None),
            ("1e3", None),
            ("+5", None),
        ] {
            assert_eq!(parse_id("dn", "uidNumber", text).ok(), want, "{text:?}");
        }
        let err = parse_id("uid=x,dc=y", "uidNumber", "-5").unwrap_err();
        assert!(err.to_string().contains("uid=x,dc=y"), "{err}");
    }

    fn user(dn: &str, uid: &[&str], n: &str, g: &str) -> SearchEntry {
        entry(
            dn,
            &[
                ("uid", uid),
                ("uidNumber", &[n]),
                ("gidNumber", &[g]),
                ("homeDirectory", &["/h"]),
            ],
        )
    }

    #[test]
    fn users_match_names_exactly_and_never_guess() {
        let c = cfg();
        let name = |n: &str| UserKey::Name(n.into());
        let alice = || user("uid=alice,dc=x", &["alice"], "1001", "100");
        let got = pick_user(&c, &name("alice"), vec![alice()])
            .unwrap()
            .unwrap();
        assert_eq!((got.uid, got.gid, got.home.as_str()), (1001, 100, "/h"));
        // The server matched case-insensitively; we do not.
        assert_eq!(pick_user(&c, &name("ALICE"), vec![alice()]).unwrap(), None);
        assert_eq!(pick_user(&c, &name(" alice"), vec![alice()]).unwrap(), None);
        // A second name on the same entry is that entry.
        let multi = user("uid=bob,dc=x", &["bob", "robert"], "1002", "100");
        assert_eq!(
            pick_user(&c, &name("robert"), vec![multi.clone()])
                .unwrap()
                .unwrap()
                .name,
            "robert"
        );
        // ...but by UID we cannot say which name it is.
        assert!(pick_user(&c, &UserKey::Uid(1002), vec![multi]).is_err());
        // Two entries: an error naming both.
        let dup = user("uid=alice,ou=other,dc=x", &["alice"], "1009", "100");
        let err = pick_user(&c, &name("alice"), vec![alice(), dup])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("uid=alice,dc=x") && err.contains("ou=other"),
            "{err}"
        );
    }

    #[test]
    fn user_ids_table() {
        let c = cfg();
        let key = UserKey::Name("u".into());
        // (uidNumber, gidNumber) -> Ok(found?) or Err
        let cases: &[(&[&str], &[&str], Option<bool>)] = &[
            (&["1001"], &["100"], Some(true)),
            (&["0"], &["100"], Some(false)),
            (&["1001"], &["0"], Some(false)),
            (&["999"], &["100"], Some(false)),
            (&["1001"], &["99"], Some(false)),
            (&[], &["100"], None),
            (&["1001"], &[], None),
            (&["4294967295"], &["100"], None),
            (&["-1"], &["100"], None),
            (&["1001", "1002"], &["100"], None),
        ];
        for (uid, gid, want) in cases {
            let e = entry(
                "uid=u,dc=x",
                &[("uid", &["u"]), ("uidNumber", uid), ("gidNumber", gid)],
            );
            let got = pick_user(&c, &key, vec![e]);
            assert_eq!(
                got.as_ref().ok().map(|u| u.is_some()),
                *want,
                "{uid:?} {gid:?}: {got:?}"
            );
        }
    }

    #[test]
    fn groups_by_name_and_gid() {
        let c = cfg();
        let g = |dn: &str, cn: &[&str], gid: &[&str]| entry(dn, &[("cn", cn), ("gidNumber", gid)]);
        let staff = g("cn=staff,dc=x", &["staff", "Staff People"], &["100"]);
        let found = pick_group(&c, Some("Staff People"), "x", vec![staff.clone()]).unwrap();
        assert_eq!(found.unwrap().name, "Staff People");
        assert_eq!(
            pick_group(&c, Some("STAFF"), "x", vec![staff.clone()]).unwrap(),
            None
        );
        assert_eq!(
            pick_group(&c, None, "x", vec![staff.clone()])
                .unwrap()
                .unwrap()
                .name,
            "staff"
        );
        let low = g("cn=low,dc=x", &["low"], &["5"]);
        assert_eq!(pick_group(&c, None, "x", vec![low]).unwrap(), None);
        let nested_only = entry("cn=n,dc=x", &[("cn", &["n"])]);
        assert_eq!(
            pick_group(&c, Some("n"), "x", vec![nested_only]).unwrap(),
            None
        );
        let other = g("cn=staff2,dc=x", &["staff"], &["100"]);
        assert!(pick_group(&c, None, "x", vec![staff, other]).is_err());
        let bad = g("cn=bad,dc=x", &["bad"], &["-3"]);
        assert!(pick_group(&c, None, "x", vec![bad]).is_err());
    }
}
