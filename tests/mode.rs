//! The resolution-mode handshake: what a client asserts in each mode and what a
//! server accepts, with two registries that agree or disagree.

mod fake_source;

use fake_source::{user, with_config};
use proxid::config::Mode;
use proxid::{Assertion, Config, Error, Identity, Resolver};

fn config(mode: Mode, server_side: bool) -> Config {
    let mut c = Config::default();
    c.resolution.mode = mode;
    c.resolution.server_side = server_side;
    c
}

/// The registry both sides share.
fn registry() -> Vec<Identity> {
    vec![
        user(
            "alice",
            1001,
            &[("alice", 1001), ("jupyter", 2000), ("staff", 50)],
        ),
        user("bob", 1002, &[("bob", 1002)]),
    ]
}

fn side(mode: Mode, server_side: bool, users: Vec<Identity>) -> Resolver {
    with_config(config(mode, server_side), users)
}

#[test]
fn client_assertions_by_mode() {
    let client = side(Mode::Client, false, registry());
    let a = client.assert("alice").unwrap();
    assert_eq!(a.uid, Some(1001));
    assert_eq!(a.gids.as_deref(), Some(&[1001, 2000, 50][..]));
    assert_eq!(
        a.to_json(),
        r#"{"name":"alice","uid":1001,"gids":[1001,2000,50]}"#
    );
    assert!(matches!(
        client.assert("nobody"),
        Err(Error::NotFound { .. })
    ));

    // In server mode the client sends the name only, even for names it does not know.
    let client = side(Mode::Server, false, registry());
    for name in ["alice", "nobody"] {
        let a = client.assert(name).unwrap();
        assert!(a.is_name_only());
        assert_eq!(a.to_json(), format!(r#"{{"name":"{name}"}}"#));
    }
    for bad in ["", "a\0b"] {
        for mode in [Mode::Client, Mode::Server] {
            let err = side(mode, false, registry()).assert(bad).unwrap_err();
            assert_eq!(err.kind(), "invalid_name", "{mode:?} {bad:?}");
        }
    }
}

#[test]
fn mode_matrix() {
    // (client mode, server's server_side, outcome kind or "ok")
    let cases = [
        (Mode::Client, false, "ok"),
        (Mode::Client, true, "ok"),
        (Mode::Server, true, "ok"),
        (Mode::Server, false, "mode_mismatch"),
    ];
    for (client_mode, server_side, want) in cases {
        let client = side(client_mode, false, registry());
        let server = side(Mode::Client, server_side, registry());
        let wire = client.assert("alice").unwrap().to_json();
        let got = Assertion::from_json(&wire).and_then(|a| server.accept(&a));
        match (&got, want) {
            (Ok(id), "ok") => assert_eq!(id.uid, 1001),
            (Err(e), kind) => assert_eq!(e.kind(), kind, "{client_mode:?}/{server_side}: {e}"),
            _ => panic!("{client_mode:?}/{server_side}: {got:?}"),
        }
    }
}

/// The other direction: a strict server (`require_server_side`) refuses IDs a client
/// resolved itself, whatever they are.
#[test]
fn strict_server_refuses_client_resolved_ids() {
    let mut strict = config(Mode::Server, true);
    strict.resolution.require_server_side = true;
    let server = with_config(strict, registry());
    for (client_mode, want) in [(Mode::Client, "mode_mismatch"), (Mode::Server, "ok")] {
        let client = side(client_mode, false, registry());
        let got = server.accept(&client.assert("alice").unwrap());
        match (&got, want) {
            (Ok(id), "ok") => assert_eq!(id.uid, 1001),
            (Err(e), kind) => {
                assert_eq!(e.kind(), kind, "{client_mode:?}: {e}");
                let msg = e.to_string();
                assert!(
                    msg.contains("require_server_side = true") && msg.contains("mode = \"client\""),
                    "{msg}"
                );
            }
            _ => panic!("{client_mode:?}: {got:?}"),
        }
    }
}

#[test]
fn mode_mismatch_names_both_settings() {
    let server = side(Mode::Client, false, registry());
    let err = server
        .accept(&Assertion {
            name: "alice".into(),
            uid: None,
            gids: None,
        })
        .unwrap_err();
    let msg = err.to_string();
    for words in [
        "mode mismatch",
        "mode = \"server\"",
        "server_side = false",
        "alice",
    ] {
        assert!(msg.contains(words), "{msg} lacks {words}");
    }
}

#[test]
fn client_ids_must_match_the_servers_exactly() {
    let server = side(Mode::Client, true, registry());
    // (uid, gids, accepted?, words in the error)
    #[rustfmt::skip]
    let cases: &[(u32, &[u32], bool, &[&str])] = &[
        (1001, &[1001, 2000, 50], true, &[]),
        (1001, &[1001, 50, 2000], true, &[]),           // supplementary order is not identity
        (1001, &[1001, 2000, 50, 50], true, &[]),       // nor are repeats
        (1002, &[1001, 2000, 50], false, &["uid: client 1002, server 1001"]),
        (1001, &[1001, 2000], false, &["gids only on the server: 50"]),
        (1001, &[1001, 2000, 50, 27], false, &["gids only on the client: 27"]),
        (1001, &[1001, 2000, 27], false, &["only on the client: 27", "only on the server: 50"]),
        (1001, &[2000, 1001, 50], false, &["primary gid: client 2000, server 1001"]),
        (0, &[0], false, &["uid: client 0, server 1001", "primary gid: client 0", "only on the client: 0", "only on the server: 50,1001,2000"]),
    ];
    for (uid, gids, ok, words) in cases {
        let a = Assertion {
            name: "alice".into(),
            uid: Some(*uid),
            gids: Some(gids.to_vec()),
        };
        match server.accept(&a) {
            Ok(id) => {
                assert!(*ok, "{a:?} accepted");
                assert_eq!(id.gids(), vec![1001, 2000, 50]);
            }
            Err(e) => {
                assert!(!*ok, "{a:?}: {e}");
                assert!(matches!(e, Error::IdentityMismatch { .. }), "{e}");
                let msg = e.to_string();
                for w in *words {
                    assert!(msg.contains(w), "{msg} lacks {w:?}");
                }
            }
        }
    }
}

#[test]
fn registries_that_disagree_fail_the_handshake() {
    // Same name, different numbers on the two machines.
    let client = side(Mode::Client, false, registry());
    let server = side(
        Mode::Client,
        false,
        vec![user("alice", 5001, &[("alice", 5001), ("jupyter", 2000)])],
    );
    let err = server.accept(&client.assert("alice").unwrap()).unwrap_err();
    assert_eq!(err.kind(), "identity_mismatch");
    assert!(
        err.to_string().contains("uid: client 1001, server 5001"),
        "{err}"
    );
}

#[test]
fn names_the_server_does_not_know_are_not_processed() {
    let server = side(Mode::Client, true, vec![]);
    let client_resolved = Assertion {
        name: "alice".into(),
        uid: Some(1001),
        gids: Some(vec![1001]),
    };
    let name_only = Assertion {
        name: "alice".into(),
        uid: None,
        gids: None,
    };
    for a in [client_resolved, name_only] {
        assert!(
            matches!(server.accept(&a), Err(Error::NotFound { .. })),
            "{a:?}"
        );
    }
}

#[test]
fn malformed_assertions_are_refused() {
    let server = side(Mode::Client, true, registry());
    let texts = [
        "",
        "{",
        "[]",
        r#"{"uid":1001}"#,
        r#"{"name":"alice","gid":1001}"#,
        r#"{"name":"alice","uid":-1,"gids":[1001]}"#,
        r#"{"name":"alice","uid":4294967296,"gids":[1001]}"#,
        r#"{"name":"alice","uid":"1001","gids":[1001]}"#,
    ];
    for text in texts {
        let err = Assertion::from_json(text).unwrap_err();
        assert_eq!(err.kind(), "invalid_argument", "{text:?}");
    }
    // Half an assertion is neither mode.
    let halves = [
        r#"{"name":"alice","uid":1001}"#,
        r#"{"name":"alice","gids":[1001]}"#,
        r#"{"name":"alice","uid":1001,"gids":[]}"#,
    ];
    for text in halves {
        let err = server
            .accept(&Assertion::from_json(text).unwrap())
            .unwrap_err();
        assert_eq!(err.kind(), "invalid_argument", "{text}");
    }
    // Hostile names are rejected or simply unknown, never matched loosely.
    let long = "a".repeat(10_000);
    let cases: &[(&str, &str)] = &[
        ("", "invalid_name"),
        ("a\0b", "invalid_name"),
        (&long, "invalid_name"),
        ("*", "not_found"),
        (")(", "not_found"),
        ("ALICE", "not_found"),
    ];
    for (name, kind) in cases {
        let a = Assertion {
            name: name.to_string(),
            uid: None,
            gids: None,
        };
        assert_eq!(server.accept(&a).unwrap_err().kind(), *kind, "{name:.20}");
    }
}

#[test]
fn assertions_round_trip_through_json() {
    let cases = [
        Assertion {
            name: "alice".into(),
            uid: Some(1001),
            gids: Some(vec![1001, 2000]),
        },
        Assertion {
            name: "bob \"the\" \u{e9}".into(),
            uid: None,
            gids: None,
        },
    ];
    for a in cases {
        assert_eq!(Assertion::from_json(&a.to_json()).unwrap(), a);
    }
}
