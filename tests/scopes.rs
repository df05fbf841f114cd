//! Scopes by number (`[[impersonation.proxy]] uids` / `gids`): range edges, overlaps,
//! GIDs primary and supplementary, the OR with users/groups, protected IDs refused at
//! load at each edge of a range, and malformed ranges as configuration errors.

mod fake_source;

use std::path::Path;

use fake_source::{user, with_config};
use proxid::{Config, Identity, Proxid, Verdict};

/// `mapr` is the superuser (primary group mapr 5000, also in GID 0); `hdfs` and
/// `wheel` are protected.
fn registry() -> Vec<Identity> {
    let mut users = vec![
        user("root", 0, &[("root", 0)]),
        user("mapr", 5000, &[("mapr", 5000), ("root", 0)]),
        user("hdfs", 6000, &[("hadoop", 6000)]),
        user("svc", 4000, &[("services", 400)]),
        user("prim", 1500, &[("prim", 31000)]),
        user("supp", 1501, &[("supp", 1501), ("data", 31999)]),
        user("listed", 1502, &[("listed", 1502)]),
        user("grouped", 1503, &[("grouped", 1503), ("jupyter", 2000)]),
        user("wheelie", 1504, &[("wheel", 10)]),
    ];
    for uid in [19999, 20000, 25000, 29999, 30000, 30500, 40000, 40001] {
        users.push(user(&format!("u{uid}"), uid, &[("users", 100)]));
    }
    users
}

fn conf(scope: &str) -> String {
    format!(
        r#"
[impersonation]
superuser = "mapr"
protected_users = ["hdfs"]
protected_groups = ["wheel"]

[[impersonation.proxy]]
user = "svc"
hosts = ["*"]
{scope}
"#
    )
}

fn parse(text: &str) -> proxid::Result<Config> {
    Config::from_toml(text, Path::new("/test/proxid.conf"))
}

fn resolver(scope: &str) -> Proxid {
    Proxid::from_resolver(with_config(parse(&conf(scope)).unwrap(), registry()))
}

#[test]
fn uid_and_gid_scopes_table() {
    // (scope lines, target, allowed?, reason prefix when allowed)
    let cases: &[(&str, &str, bool, &str)] = &[
        // range edges, inclusive
        (r#"uids = ["20000-29999"]"#, "u19999", false, ""),
        (
            r#"uids = ["20000-29999"]"#,
            "u20000",
            true,
            "uid_in_scope: uid 20000 in 20000-29999",
        ),
        (r#"uids = ["20000-29999"]"#, "u29999", true, "uid_in_scope"),
        (r#"uids = ["20000-29999"]"#, "u30000", false, ""),
        // single values, as MapR's -impersonateduids; a bare integer too
        (
            r#"uids = ["40000"]"#,
            "u40000",
            true,
            "uid_in_scope: uid 40000 in 40000",
        ),
        (r#"uids = ["40000"]"#, "u40001", false, ""),
        (r#"uids = [40001]"#, "u40001", true, "uid_in_scope"),
        // overlapping ranges: the union
        (
            r#"uids = ["20000-29999", "25000-30500"]"#,
            "u30500",
            true,
            "uid_in_scope: uid 30500 in 25000-30500",
        ),
        (
            r#"uids = ["20000-29999", "25000-30500"]"#,
            "u25000",
            true,
            "uid_in_scope: uid 25000 in 20000-29999",
        ),
        (
            r#"uids = ["20000-29999", "25000-30500"]"#,
            "u40000",
            false,
            "",
        ),
        // GID scope: primary and supplementary GIDs both count
        (
            r#"gids = ["31000-31999"]"#,
            "prim",
            true,
            "gid_in_scope: gid 31000 in 31000-31999",
        ),
        (
            r#"gids = ["31000-31999"]"#,
            "supp",
            true,
            "gid_in_scope: gid 31999 in 31000-31999",
        ),
        (r#"gids = ["31000-31998"]"#, "supp", false, ""),
        (r#"gids = ["31001-31999"]"#, "prim", false, ""),
        // a UID scope never matches on a GID and the other way round
        (r#"uids = ["31000-31999"]"#, "prim", false, ""),
        (r#"gids = ["1500-1501"]"#, "prim", false, ""),
        // OR with users and groups (and an empty scope list is no scope)
        (
            "users = [\"listed\"]\nuids = [\"20000\"]",
            "listed",
            true,
            "user_listed",
        ),
        (
            "users = [\"listed\"]\nuids = [\"20000\"]",
            "u20000",
            true,
            "uid_in_scope",
        ),
        (
            "groups = [\"jupyter\"]\ngids = [\"31000\"]",
            "grouped",
            true,
            "group_listed: jupyter",
        ),
        (
            "groups = [\"jupyter\"]\ngids = [\"31000\"]",
            "prim",
            true,
            "gid_in_scope",
        ),
        ("users = []\nuids = []\ngids = []", "u20000", false, ""),
        // a protected target stays refused (wheel is protected; no scope names 10)
        (r#"gids = ["11-20"]"#, "wheelie", false, ""),
    ];
    for (scope, target, allowed, reason) in cases {
        let r = resolver(scope);
        r.check_policy().unwrap_or_else(|e| panic!("{scope}: {e}"));
        let d = r.authorize("svc", target, "10.0.0.7").unwrap();
        let want = if *allowed {
            Verdict::Allowed
        } else {
            Verdict::Denied
        };
        assert_eq!(d.verdict, want, "{scope} / {target}: {d:?}");
        if *allowed {
            assert!(
                d.reason.starts_with(reason),
                "{scope} / {target}: {}",
                d.reason
            );
            assert_eq!(d.effective.as_ref().unwrap().name, *target);
        }
    }
}

#[test]
fn protected_ids_refused_at_each_edge() {
    // (scope, refused?, words the error must contain)
    let cases: &[(&str, bool, &[&str])] = &[
        // root's UID 0 at the low edge
        (
            r#"uids = ["0-10"]"#,
            true,
            &["uids", "\"0-10\"", "uid 0", "root"],
        ),
        (r#"uids = ["1-10"]"#, false, &[]),
        // superuser mapr, UID 5000, at either edge
        (
            r#"uids = ["4000-5000"]"#,
            true,
            &["\"4000-5000\"", "uid 5000", "superuser mapr"],
        ),
        (
            r#"uids = ["5000-6000"]"#,
            true,
            &["uid 5000", "superuser mapr"],
        ),
        (r#"uids = ["5001-5999"]"#, false, &[]),
        // protected user hdfs, UID 6000
        (
            r#"uids = ["6000"]"#,
            true,
            &["uid 6000", "protected user hdfs"],
        ),
        (r#"uids = ["5001-5999", "6001-7000"]"#, false, &[]),
        (r#"uids = ["5999-6001"]"#, true, &["\"5999-6001\"", "hdfs"]),
        // the whole UID space covers root
        (r#"uids = ["0-4294967295"]"#, true, &["uid 0"]),
        // GID 0 (root), the superuser's primary group 5000, protected group wheel 10
        (r#"gids = ["0"]"#, true, &["gids", "gid 0", "root"]),
        (r#"gids = ["1-9"]"#, false, &[]),
        (
            r#"gids = ["10-20"]"#,
            true,
            &["gid 10", "protected group wheel"],
        ),
        (r#"gids = ["5-10"]"#, true, &["gid 10"]),
        (r#"gids = ["11-4999"]"#, false, &[]),
        (
            r#"gids = ["4999-5000"]"#,
            true,
            &["gid 5000", "primary group of superuser mapr"],
        ),
        (r#"gids = ["5001-5999"]"#, false, &[]),
        // hdfs's primary group 6000 is not protected (only protected groups are)
        (r#"gids = ["6000"]"#, false, &[]),
    ];
    for (scope, refused, words) in cases {
        let r = resolver(scope);
        match r.check_policy() {
            Ok(_) => assert!(!refused, "{scope}: should be refused"),
            Err(e) => {
                assert!(*refused, "{scope}: {e}");
                assert_eq!(e.kind(), "config", "{scope}");
                let msg = e.to_string();
                assert!(msg.contains("/test/proxid.conf"), "{msg}");
                assert!(msg.contains("user \"svc\""), "{msg}");
                for w in *words {
                    assert!(msg.contains(w), "{scope}: {msg:?} lacks {w:?}");
                }
                // Never a decision with a refused scope.
                assert_eq!(
                    r.authorize("svc", "u20000", "10.0.0.7").unwrap_err().kind(),
                    "config"
                );
            }
        }
    }
}

#[test]
fn malformed_ranges_name_file_line_and_key() {
    let bad = [
        r#""-5""#,
        r#""5-""#,
        r#""1-2-3""#,
        r#""10-9""#,
        r#""4294967296""#,
        r#""0x10""#,
        r#"" 5""#,
        r#""a-b""#,
        r#""""#,
        "-1",
        "4294967296",
        "1.5",
    ];
    for key in ["uids", "gids"] {
        for value in bad {
            let text =
                format!("[[impersonation.proxy]]\nuser = \"svc\"\n{key} = [\"7\", {value}]\n");
            let err = parse(&text).expect_err(&text).to_string();
            for w in ["/test/proxid.conf", "line 3", key] {
                assert!(err.contains(w), "{text:?}: {err:?} lacks {w:?}");
            }
        }
    }
}

#[test]
fn effective_config_shows_scopes() {
    let c = parse(&conf("uids = [\"20000-29999\", 31000]\ngids = [\"7\"]")).unwrap();
    let shown = c.to_effective_toml();
    assert!(
        shown.contains(r#"uids = ["20000-29999", "31000"]"#),
        "{shown}"
    );
    assert!(shown.contains(r#"gids = ["7"]"#), "{shown}");
}
