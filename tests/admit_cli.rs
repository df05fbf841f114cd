//! `proxid admit --json REQUEST` with two of the host's own accounts (client-side
//! resolution, real NSS): output and exit codes as `authorize --json`.

use std::process::Command;

use serde_json::{json, Value};

/// Two accounts of this machine other than root: (name, uid, gids primary first).
fn two_users() -> [(String, u32, Vec<u32>); 2] {
    let out = Command::new("getent").arg("passwd").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut found = Vec::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split(':').collect();
        if f.len() != 7
            || f[2] == "0"
            || found
                .iter()
                .any(|(n, _, _): &(String, u32, Vec<u32>)| n == f[0])
        {
            continue;
        }
        let id = |flag: &str| {
            let out = Command::new("id").arg(flag).arg(f[0]).output().unwrap();
            String::from_utf8_lossy(&out.stdout)
                .split_whitespace()
                .map(|n| n.parse::<u32>().unwrap())
                .collect::<Vec<u32>>()
        };
        let (gid, mut gids) = (id("-g")[0], id("-G"));
        if gids.contains(&0) {
            continue; // protected: in root's group
        }
        gids.retain(|g| *g != gid);
        gids.insert(0, gid);
        found.push((f[0].to_string(), id("-u")[0], gids));
        if found.len() == 2 {
            break;
        }
    }
    found
        .try_into()
        .expect("two non-root accounts in getent passwd")
}

fn admit(conf: &std::path::Path, request: &str) -> (i32, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_proxid"))
        .arg("--config")
        .arg(conf)
        .args(["admit", "--json", request])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("{e}: {stdout:?} {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), line)
}

#[test]
fn admit_json_outputs_and_exit_codes() {
    let [(proxy, puid, pgids), (user, uid, gids)] = two_users();
    let dir = tempfile::tempdir().unwrap();
    let conf = |server_side: bool| {
        let path = dir.path().join(format!("proxid-{server_side}.conf"));
        std::fs::write(
            &path,
            format!(
                "[resolution]\nserver_side = {server_side}\n\n[[impersonation.proxy]]\n\
                 user = {proxy:?}\nhosts = [\"10.0.0.0/8\"]\nusers = [{user:?}]\n"
            ),
        )
        .unwrap();
        path
    };
    let (plain, lenient) = (conf(false), conf(true));
    let ids = |name: &str, uid: u32, gids: &[u32]| json!({"name": name, "uid": uid, "gids": gids});
    let request =
        |p: Value, u: Value, host: &str| json!({"proxy": p, "user": u, "host": host}).to_string();

    // Allowed: exit 0, authorize's fields, the effective identity's UID.
    let ok = request(
        ids(&proxy, puid, &pgids),
        ids(&user, uid, &gids),
        "10.1.2.3",
    );
    let (code, line) = admit(&plain, &ok);
    assert_eq!(code, 0, "{line}");
    assert_eq!(line["verdict"], "allowed");
    assert_eq!(line["proxy"], proxy.as_str());
    assert_eq!(line["user"], user.as_str());
    assert_eq!(line["host"], "10.1.2.3");
    assert_eq!(line["effective_user"], user.as_str());
    assert_eq!(line["effective_uid"], uid);
    assert_eq!(line["reason"], "user_listed");
    assert!(line["rule"].as_str().unwrap().starts_with("proxy "));
    // Denied by the policy (host outside the rule): exit 1.
    let (code, line) = admit(
        &plain,
        &request(
            ids(&proxy, puid, &pgids),
            ids(&user, uid, &gids),
            "192.0.2.1",
        ),
    );
    assert_eq!(
        (code, line["verdict"].as_str()),
        (1, Some("denied")),
        "{line}"
    );
    assert!(line["reason"]
        .as_str()
        .unwrap()
        .starts_with("host_not_allowed"));

    // Errors: exit 2 with {proxy, user, host, error, message}.
    let name = |n: &str| json!({"name": n});
    let cases: Vec<(&std::path::Path, String, &str, Vec<String>)> = vec![
        (
            &plain,
            request(name(&proxy), ids(&user, uid, &gids), "10.1.2.3"),
            "mode_mismatch",
            vec![format!("proxy {proxy:?}"), "server_side = false".into()],
        ),
        (
            &plain,
            request(
                ids(&proxy, puid + 1, &pgids),
                ids(&user, uid, &gids),
                "10.1.2.3",
            ),
            "identity_mismatch",
            vec![format!(
                "proxy {proxy}: uid: client {}, server {puid}",
                puid + 1
            )],
        ),
        (
            &lenient,
            request(
                name(&proxy),
                ids(&user, uid, &[gids[0], 4_000_000]),
                "10.1.2.3",
            ),
            "identity_mismatch",
            vec![format!("user {user}: gids only on the client: 4000000")],
        ),
        (
            &lenient,
            request(name(&proxy), name("no-such-user-pxadm"), "10.1.2.3"),
            "not_found",
            vec!["user \"no-such-user-pxadm\"".into()],
        ),
    ];
    for (conf, req, kind, words) in cases {
        let (code, line) = admit(conf, &req);
        assert_eq!(code, 2, "{req}: {line}");
        assert_eq!(line["error"], kind, "{req}: {line}");
        assert_eq!(line["proxy"], proxy.as_str());
        let msg = line["message"].as_str().unwrap();
        for w in words {
            assert!(msg.contains(&w), "{msg:?} lacks {w:?}");
        }
    }
    // Malformed requests: object form only, unknown fields refused.
    for bad in [
        "[]".to_string(),
        "{}".into(),
        "not json".into(),
        json!({"proxy": name(&proxy), "user": name(&user)}).to_string(),
        json!({"proxy": name(&proxy), "user": name(&user), "host": "10.1.2.3", "extra": 1})
            .to_string(),
        json!({"proxy": {"name": proxy, "gid": 1}, "user": name(&user), "host": "10.1.2.3"})
            .to_string(),
        json!({"proxy": name(&proxy), "user": {"name": user, "uid": -1, "gids": [1]}, "host": "h"})
            .to_string(),
        request(name(&proxy), json!({"name": user, "uid": uid}), "10.1.2.3"),
    ] {
        let (code, line) = admit(&lenient, &bad);
        assert_eq!(code, 2, "{bad}");
        assert_eq!(line["error"], "invalid_argument", "{bad}: {line}");
    }
    // Usage: exactly one operand.
    let out = Command::new(env!("CARGO_BIN_EXE_proxid"))
        .args([
            "--config".as_ref(),
            plain.as_os_str(),
            "admit".as_ref(),
            "--json".as_ref(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("proxid: "));
}

#[test]
fn hostile_names_are_refused_not_injected() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("proxid.conf");
    std::fs::write(&conf, "[resolution]\nserver_side = true\n").unwrap();
    let long = "a".repeat(10 * 1024);
    for (name, kind) in [
        (long.as_str(), "invalid_name"),
        ("", "invalid_name"),
        ("a\0b", "invalid_name"),
        ("*", "not_found"),
        (")(", "not_found"),
        ("\\", "not_found"),
        ("a\nb", "not_found"),
    ] {
        let req = json!({"proxy": {"name": name}, "user": {"name": "root"}, "host": "::1"});
        let (code, line) = admit(&conf, &req.to_string());
        assert_eq!(code, 2, "{name:.20}");
        assert_eq!(line["error"], kind, "{name:.20}: {line}");
    }
}

/// A scope covering a protected ID is refused as soon as the configuration is
/// loaded, by every command, naming the range and the identity.
#[test]
fn protected_scope_is_refused_at_load() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("proxid.conf");
    std::fs::write(
        &conf,
        "[[impersonation.proxy]]\nuser = \"svc\"\nhosts = [\"*\"]\ngids = [\"0-10\"]\n",
    )
    .unwrap();
    for args in [&["check-config"][..], &["resolve", "root"]] {
        let out = Command::new(env!("CARGO_BIN_EXE_proxid"))
            .arg("--config")
            .arg(&conf)
            .args(args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        for w in [
            "proxid.conf",
            "gids",
            "\"0-10\"",
            "gid 0 (root)",
            "protected",
        ] {
            assert!(err.contains(w), "{args:?}: {err:?} lacks {w:?}");
        }
    }
}
