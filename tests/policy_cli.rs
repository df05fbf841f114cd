//! `proxid authorize` and `proxid accept` against this machine's own accounts
//! (root and the users `getent passwd` lists), with real configuration files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn proxid(config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_proxid"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("PROXID_CONF")
        .output()
        .unwrap()
}

fn authorize(config: &Path, proxy: &str, user: &str, host: &str, json: bool) -> Output {
    let mut args = vec![
        "authorize",
        "--proxy",
        proxy,
        "--user",
        user,
        "--host",
        host,
    ];
    if json {
        args.push("--json");
    }
    proxid(config, &args)
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap()
}

fn stdout_json(out: &Output) -> Value {
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

/// A host account: name, UID and GIDs as the CLI resolves them.
#[derive(Debug, Clone)]
struct Account {
    name: String,
    uid: u64,
    gids: Vec<u64>,
}

fn resolve(config: &Path, name: &str) -> Option<Account> {
    let out = proxid(config, &["resolve", "--json", "--", name]);
    if code(&out) != 0 {
        return None;
    }
    let v = stdout_json(&out);
    Some(Account {
        name: name.to_string(),
        uid: v["uid"].as_u64()?,
        gids: v["groups"]
            .as_array()?
            .iter()
            .filter_map(|g| g["gid"].as_u64())
            .collect(),
    })
}

/// The `getent passwd` accounts that resolve (the first 40), root first.
fn host_accounts(config: &Path) -> Vec<Account> {
    let out = Command::new("getent").arg("passwd").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let mut names: Vec<&str> = text.lines().filter_map(|l| l.split(':').next()).collect();
    names.sort_by_key(|n| *n != "root");
    names.dedup();
    // A directory that enumerates thousands of users would only make this slow.
    names.truncate(40);
    names.iter().filter_map(|n| resolve(config, n)).collect()
}

/// Accounts that are not protected by default (UID and every GID non-zero).
fn ordinary(accounts: &[Account]) -> Vec<Account> {
    accounts
        .iter()
        .filter(|a| a.uid != 0 && !a.gids.contains(&0))
        .cloned()
        .collect()
}

/// Three accounts of this machine that are not protected by default.
fn three_accounts(s: &Setup) -> [Account; 3] {
    let users = ordinary(&host_accounts(&s.file("plain.conf", "")));
    assert!(
        users.len() >= 3,
        "this machine needs three non-root accounts: {users:?}"
    );
    [users[0].clone(), users[1].clone(), users[2].clone()]
}

struct Setup {
    _dir: tempfile::TempDir,
    dir: PathBuf,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        Setup {
            dir: dir.path().to_path_buf(),
            _dir: dir,
        }
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }
}

/// Proxy `p` may act as `t1` from loopback; everything goes to `audit`.
fn rules(p: &str, t1: &str, audit: &Path, extra: &str) -> String {
    format!(
        "[impersonation]\naudit_log = {audit:?}\n{extra}\n\
         [[impersonation.proxy]]\nuser = {p:?}\nhosts = [\"127.0.0.0/8\", \"::1\"]\nusers = [{t1:?}]\n"
    )
}

#[test]
fn authorize_exit_codes_and_json() {
    let s = Setup::new();
    let [proxy_account, target, _] = three_accounts(&s);
    let audit = s.dir.join("audit.jsonl");
    let conf = s.file(
        "proxid.conf",
        &rules(&proxy_account.name, &target.name, &audit, ""),
    );
    let (p, t1) = (proxy_account.name.as_str(), target.name.as_str());
    let t1_uid = Value::from(target.uid);
    let nobody = "no-such-user-proxid-test";
    // (proxy, user, host, exit code, verdict, reason prefix, effective uid)
    #[rustfmt::skip]
    let cases: Vec<(&str, &str, &str, i32, &str, &str, Value)> = vec![
        (p, t1, "127.0.0.1", 0, "allowed", "user_listed", t1_uid.clone()),
        (p, t1, "127.9.9.9", 0, "allowed", "user_listed", t1_uid.clone()),
        (p, t1, "::1", 0, "allowed", "user_listed", t1_uid.clone()),
        (p, t1, "::ffff:127.0.0.1", 0, "allowed", "user_listed", t1_uid.clone()),
        (p, t1, "localhost", 0, "allowed", "user_listed", t1_uid),
        (p, t1, "10.0.0.1", 1, "denied", "host_not_allowed", Value::Null),
        (p, p, "127.0.0.1", 1, "denied", "user_not_allowed", Value::Null),
        (t1, t1, "127.0.0.1", 1, "denied", "no_rule", Value::Null),
        (p, "root", "127.0.0.1", 1, "denied", "protected_identity", Value::Null),
        (p, nobody, "127.0.0.1", 1, "denied", "not_found", Value::Null),
    ];
    for (proxy, user, host, exit, verdict, reason, uid) in &cases {
        let out = authorize(&conf, proxy, user, host, true);
        let case = format!("{proxy}->{user}@{host}");
        assert_eq!(code(&out), *exit, "{case}: {out:?}");
        let v = stdout_json(&out);
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        #[rustfmt::skip]
        assert_eq!(keys, ["verdict", "proxy", "user", "host", "effective_user", "effective_uid", "rule", "reason"]);
        assert_eq!(v["verdict"], *verdict, "{case}");
        let got_reason = v["reason"].as_str().unwrap();
        assert!(got_reason.starts_with(reason), "{case}: {v}");
        assert_eq!(v["effective_uid"], *uid, "{case}");
        assert_eq!(
            (v["proxy"].as_str(), v["user"].as_str(), v["host"].as_str()),
            (Some(*proxy), Some(*user), Some(*host))
        );
    }
    // Without --json: one human line, same exit codes.
    let out = authorize(&conf, p, t1, "127.0.0.1", false);
    assert_eq!(code(&out), 0);
    let line = String::from_utf8_lossy(&out.stdout);
    let expected = format!(
        "allowed as {t1}(uid {}): {p} -> {t1} from 127.0.0.1",
        target.uid
    );
    assert!(line.starts_with(&expected), "{line}");
    // One audit line per decision above.
    let audited = std::fs::read_to_string(&audit).unwrap();
    assert_eq!(audited.lines().count(), cases.len() + 1);
}

#[test]
fn authorize_usage_and_configuration_errors_exit_2() {
    let s = Setup::new();
    let broken_site = s.file(
        "core-site.xml",
        "<configuration>\n  <property>\n</configuration>\n",
    );
    let conf = s.file(
        "proxid.conf",
        &format!("[impersonation]\nhadoop_core_site = {broken_site:?}\n"),
    );
    #[rustfmt::skip]
    let cases: &[&[&str]] = &[
        &["authorize", "--proxy", "root", "--user", "root"],
        &["authorize", "--proxy", "root", "--user", "root", "--user", "x", "--host", "::1"],
        &["authorize", "--proxy", "root", "--user", "root", "--host", "::1", "extra"],
        &["authorize", "--proxy"],
        &["authorize", "--proxy", "root", "--user", "root", "--host", "*"],
        &["authorize", "--proxy", "", "--user", "root", "--host", "::1"],
        // The malformed core-site.xml: every decision is an error, naming the file.
        &["authorize", "--proxy", "root", "--user", "root", "--host", "::1"],
    ];
    for args in cases {
        let out = proxid(&conf, args);
        assert_eq!(code(&out), 2, "{args:?}: {out:?}");
        assert!(!out.stderr.is_empty(), "{args:?}");
    }
    // Hostile values: a 10 kB name, non-UTF-8 bytes.
    let long = "a".repeat(10_000);
    for (proxy, user, host) in [
        ("root", long.as_str(), "::1"),
        (long.as_str(), "root", "::1"),
    ] {
        let out = authorize(&conf, proxy, user, host, false);
        assert_eq!(code(&out), 2);
        assert!(String::from_utf8_lossy(&out.stderr).contains("invalid name"));
    }
    use std::os::unix::ffi::OsStrExt;
    let out = Command::new(env!("CARGO_BIN_EXE_proxid"))
        .args(["authorize", "--proxy", "root", "--host", "::1", "--user"])
        .arg(std::ffi::OsStr::from_bytes(b"\xff\xfe"))
        .output()
        .unwrap();
    assert_eq!(code(&out), 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--user is not valid UTF-8"));
    let out = proxid(&conf, cases[6]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&broken_site.display().to_string()) && err.contains("line 3"),
        "{err}"
    );
    let out = proxid(
        &conf,
        &[
            "authorize",
            "--proxy=root",
            "--user=root",
            "--host=::1",
            "--json",
        ],
    );
    assert_eq!(code(&out), 2);
    assert_eq!(stdout_json(&out)["error"], "config");
}

#[test]
fn superuser_run_as_self_and_audit_fail_closed() {
    let s = Setup::new();
    let [p, t1, t2] = three_accounts(&s);
    let audit = s.dir.join("audit.jsonl");
    let extra = format!(
        "superuser = {:?}\non_unauthorized = \"run-as-self\"",
        p.name
    );
    let conf = s.file("proxid.conf", &rules(&p.name, &t1.name, &audit, &extra));
    let run = |conf: &Path, proxy: &str, user: &str| {
        let out = authorize(conf, proxy, user, "192.0.2.1", true);
        (code(&out), stdout_json(&out))
    };
    // The superuser becomes root, from any host.
    let (exit, v) = run(&conf, &p.name, "root");
    assert_eq!(
        (exit, v["verdict"].as_str(), v["effective_uid"].as_u64()),
        (0, Some("allowed"), Some(0))
    );
    assert_eq!(v["reason"], "superuser");
    // t1 has no rule: it proceeds as itself.
    let (exit, v) = run(&conf, &t1.name, &t2.name);
    assert_eq!(exit, 1);
    assert_eq!(v["verdict"], "run_as_self");
    assert_eq!(v["effective_user"], t1.name.as_str());
    assert_eq!(v["effective_uid"], t1.uid);
    assert_eq!(v["reason"], "no_rule");
    // The superuser is protected from everyone else, run-as-self or not.
    let (exit, v) = run(&conf, &t1.name, &p.name);
    assert_eq!((exit, v["verdict"].as_str()), (1, Some("denied")));
    let expected = format!("protected_identity: uid {} ({})", p.uid, p.name);
    assert_eq!(v["reason"], expected.as_str());

    // An audit log that cannot be written: every decision is a denial.
    let bad = rules(&p.name, &t1.name, &s.dir, &extra);
    let conf = s.file("bad-audit.conf", &bad);
    for (proxy, user) in [
        (p.name.as_str(), "root"),
        (t1.name.as_str(), t2.name.as_str()),
    ] {
        let (exit, v) = run(&conf, proxy, user);
        assert_eq!(exit, 1, "{v}");
        assert_eq!(v["verdict"], "denied");
        assert!(
            v["reason"].as_str().unwrap().starts_with("audit_failed"),
            "{v}"
        );
        assert_eq!(v["effective_uid"], Value::Null);
    }
}

#[test]
fn audit_lines_from_many_processes_stay_whole() {
    let s = Setup::new();
    let [p, t1, _] = three_accounts(&s);
    let audit = s.dir.join("audit.jsonl");
    let conf = s.file("proxid.conf", &rules(&p.name, &t1.name, &audit, ""));
    let children: Vec<_> = (0..16)
        .map(|i| {
            Command::new(env!("CARGO_BIN_EXE_proxid"))
                .arg("--config")
                .arg(&conf)
                .args([
                    "authorize",
                    "--proxy",
                    &p.name,
                    "--user",
                    &t1.name,
                    "--host",
                    &format!("127.0.0.{i}"),
                ])
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let text = std::fs::read_to_string(&audit).unwrap();
    let hosts: std::collections::BTreeSet<String> = text
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}"));
            assert_eq!(v["verdict"], "allowed");
            v["host"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(hosts.len(), 16);
}

#[test]
fn accept_against_host_accounts() {
    let s = Setup::new();
    let client_side = s.file("client.conf", "");
    let server_side = s.file("server.conf", "[resolution]\nserver_side = true\n");
    let accounts = host_accounts(&client_side);
    assert_eq!(accounts[0].name, "root");
    for a in &accounts {
        let gids: Vec<String> = a.gids.iter().map(u64::to_string).collect();
        let exact = format!(
            r#"{{"name":{:?},"uid":{},"gids":[{}]}}"#,
            a.name,
            a.uid,
            gids.join(",")
        );
        let reordered = format!(
            r#"{{"name":{:?},"uid":{},"gids":[{}]}}"#,
            a.name,
            a.uid,
            [&gids[..1], &gids[1..]]
                .iter()
                .flat_map(|g| g.iter().rev())
                .cloned()
                .collect::<Vec<_>>()
                .join(",")
        );
        let wrong_uid = format!(
            r#"{{"name":{:?},"uid":{},"gids":[{}]}}"#,
            a.name,
            a.uid + 1,
            gids.join(",")
        );
        let extra_gid = format!(
            r#"{{"name":{:?},"uid":{},"gids":[{},4242424]}}"#,
            a.name,
            a.uid,
            gids.join(",")
        );
        let name_only = format!(r#"{{"name":{:?}}}"#, a.name);
        // (config, assertion, exit code, error kind or "")
        let cases: [(&Path, &str, i32, &str); 7] = [
            (&client_side, &exact, 0, ""),
            (&client_side, &reordered, 0, ""),
            (&server_side, &exact, 0, ""),
            (&server_side, &name_only, 0, ""),
            (&client_side, &wrong_uid, 2, "identity_mismatch"),
            (&client_side, &extra_gid, 2, "identity_mismatch"),
            (&client_side, &name_only, 2, "mode_mismatch"),
        ];
        for (conf, assertion, exit, kind) in cases {
            let out = proxid(conf, &["accept", "--json", assertion]);
            assert_eq!(code(&out), exit, "{assertion} with {conf:?}: {out:?}");
            let v = stdout_json(&out);
            if exit == 0 {
                assert_eq!(v["uid"], a.uid, "{assertion}");
                assert_eq!(v["name"], a.name.as_str());
            } else {
                assert_eq!(v["error"], kind, "{assertion}: {v}");
                assert_eq!(v["name"], a.name.as_str());
            }
        }
    }
    // Plain output is `resolve`'s line.
    let out = proxid(
        &client_side,
        &[
            "accept",
            &format!(
                r#"{{"name":"root","uid":0,"gids":[{}]}}"#,
                accounts[0]
                    .gids
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        ],
    );
    assert_eq!(code(&out), 0);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("root uid=0(root) gid=0("));
    // Unknown names exit 1, like `resolve`; bad input exits 2.
    let nobody = "no-such-user-proxid-test";
    let cases: &[(&Path, String, i32)] = &[
        (&server_side, format!(r#"{{"name":"{nobody}"}}"#), 1),
        (
            &client_side,
            format!(r#"{{"name":"{nobody}","uid":1,"gids":[1]}}"#),
            1,
        ),
        (&client_side, "not json".into(), 2),
        (&client_side, r#"{"name":"root","uid":0}"#.into(), 2),
        (&client_side, r#"{"name":""}"#.into(), 2),
    ];
    for (conf, assertion, exit) in cases {
        let out = proxid(conf, &["accept", assertion]);
        assert_eq!(code(&out), *exit, "{assertion}: {out:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).starts_with("proxid: accept: "),
            "{out:?}"
        );
    }
    let out = proxid(&client_side, &["accept"]);
    assert_eq!(code(&out), 2);
}
