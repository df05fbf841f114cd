//! What a lookup by name costs the directory, counted by slapd itself (its monitor
//! database): with users and groups under one base, an RFC2307 user and the groups
//! listing it come back from one search, with the same answer as from two; an entry
//! that is both a user and a group listing itself, where one search cannot tell which
//! half of the filter it matched, is asked again as two searches.

mod support;

use ldap3::{LdapConnAsync, Scope, SearchEntry};
use proxid::{Identity, Resolver};
use support::slapd::{Extra, Schema, Slapd, BASE};
use support::{fixture, ConfFile};

/// A user that is also a posixGroup listing itself (its own private group, in one
/// entry): one search returns it with both
/// a matching `uid` and a matching `memberUid`.
const SELF_LISTED: &str = "dn: cn=selfie,ou=groups,dc=example,dc=org
objectClass: posixGroup
objectClass: posixAccount
cn: selfie
uid: selfie
uidNumber: 10501
gidNumber: 10501
homeDirectory: /home/selfie
memberUid: selfie
";

fn server() -> Slapd {
    let ldif = [fixture("rfc2307.ldif"), SELF_LISTED.to_string()].join("\n");
    Slapd::start_with_extra(
        Schema::Rfc2307,
        &ldif,
        Extra {
            modules: &[],
            database: "\ndatabase monitor\naccess to * by * read\n",
        },
    )
}

/// Searches slapd has started so far, this count included. (Started, not completed:
/// slapd counts a search completed only after sending its answer, so a completed
/// count can miss the search whose answer the caller already holds.)
fn searches(server: &Slapd) -> u64 {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let entries = runtime.block_on(async {
        let (conn, mut ldap) = LdapConnAsync::new(&server.ldap_uri).await.expect("connect");
        ldap3::drive!(conn);
        ldap.search(
            "cn=Search,cn=Operations,cn=Monitor",
            Scope::Base,
            "(objectClass=*)",
            vec!["monitorOpInitiated"],
        )
        .await
        .expect("monitor search")
        .success()
        .expect("monitor answers")
        .0
    });
    let entry = SearchEntry::construct(entries.into_iter().next().expect("monitor entry"));
    entry.attrs["monitorOpInitiated"][0]
        .parse()
        .expect("a count")
}

/// Resolvers with users and groups under one base, and under `user_base` and
/// `ou=groups`, each with its connections open and primary group 10000 known.
fn resolvers(server: &Slapd, user_base: &str) -> (Resolver, Resolver) {
    let one_base = ConfFile::new(&[&server.ldap_uri], "");
    let two_bases = ConfFile::new(
        &[&server.ldap_uri],
        &format!("user_base = \"{user_base}\"\ngroup_base = \"ou=groups,{BASE}\"\n"),
    );
    let one = Resolver::new(one_base.config()).expect("resolver");
    let two = Resolver::new(two_bases.config()).expect("resolver");
    one.resolve("alice").expect("alice");
    two.resolve("alice").expect("alice");
    (one, two)
}

/// The searches `name`'s resolution sent, and its identity.
fn resolve_counting(server: &Slapd, resolver: &Resolver, name: &str) -> (u64, Identity) {
    let before = searches(server);
    let identity = resolver.resolve(name).expect("resolves");
    // The second count counts itself as well.
    (searches(server) - before - 1, identity)
}

#[test]
fn users_and_their_groups_come_back_from_one_search_with_the_same_answer() {
    let server = server();
    let (one, two) = resolvers(&server, &format!("ou=people,{BASE}"));
    for name in ["bob", "dave", "MixedCase", "alice2"] {
        let (sent_one, by_one) = resolve_counting(&server, &one, name);
        let (sent_two, by_two) = resolve_counting(&server, &two, name);
        assert_eq!(by_one, by_two, "{name}");
        assert_eq!(sent_one, 1, "{name}: one search under one base");
        assert_eq!(
            sent_two, 2,
            "{name}: user and group searches under two bases"
        );
    }
    // A name nobody has costs one search as well.
    let before = searches(&server);
    assert!(one.resolve("nobody-at-all").is_err());
    assert_eq!(searches(&server) - before - 1, 1);
}

#[test]
fn an_entry_that_is_user_and_group_at_once_is_asked_again_as_two_searches() {
    let server = server();
    let (one, two) = resolvers(&server, BASE);
    let (sent, by_one) = resolve_counting(&server, &one, "selfie");
    let (_, by_two) = resolve_counting(&server, &two, "selfie");
    assert_eq!(by_one, by_two);
    assert_eq!((by_one.uid, by_one.gids()), (10501, vec![10501]));
    assert_eq!(sent, 3, "the one search, then user and group searches");
    // Everyone else still takes one search.
    assert_eq!(resolve_counting(&server, &one, "bob").0, 1);
}
