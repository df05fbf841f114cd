//! Client-side resolution against the machine's own NSS: `proxid resolve --json`
//! must agree with `id` and `getent` for every account, including accounts this test
//! adds inside a private mount namespace (its own /etc/passwd and /etc/group).

use std::collections::BTreeSet;
use std::process::Command;

use serde_json::Value;

const PROXID: &str = env!("CARGO_BIN_EXE_proxid");

fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().expect("command runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn proxid(args: &[&str]) -> (i32, String, String) {
    run(Command::new(PROXID).env_remove("PROXID_CONF").args(args))
}

/// What `id` and `getent passwd` say about one user.
#[derive(Debug)]
struct Expected {
    name: String,
    uid: u32,
    gid: u32,
    groups: Vec<u32>,
    home: String,
    shell: String,
}

fn numbers(text: &str) -> Vec<u32> {
    text.split_whitespace()
        .map(|n| n.parse().expect("numeric id"))
        .collect()
}

/// Compares one `--json` line with what `id`/`getent` reported.
fn check(json: &Value, want: &Expected) {
    let name = &want.name;
    assert_eq!(json["name"], want.name.as_str(), "{name}: {json}");
    assert_eq!(json["uid"], want.uid, "{name}: uid");
    assert_eq!(json["gid"], want.gid, "{name}: gid");
    assert_eq!(json["home"], want.home.as_str(), "{name}: home");
    assert_eq!(json["shell"], want.shell.as_str(), "{name}: shell");
    assert_eq!(json["source"], "local");
    let gids: Vec<u32> = json["groups"]
        .as_array()
        .expect("groups array")
        .iter()
        .map(|g| g["gid"].as_u64().expect("gid") as u32)
        .collect();
    assert_eq!(gids.first(), Some(&want.gid), "{name}: primary group first");
    let unique: BTreeSet<u32> = gids.iter().copied().collect();
    assert_eq!(
        unique.len(),
        gids.len(),
        "{name}: duplicate groups {gids:?}"
    );
    let expected: BTreeSet<u32> = want.groups.iter().copied().collect();
    assert_eq!(unique, expected, "{name}: groups differ from `id -G`");
    if !expected.contains(&0) {
        assert!(
            !unique.contains(&0),
            "{name}: given GID 0 without being in root's group"
        );
    }
}

fn passwd_users() -> Vec<Expected> {
    let (code, out, _) = run(Command::new("getent").arg("passwd"));
    assert_eq!(code, 0);
    let mut seen = BTreeSet::new();
    out.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split(':').collect();
            (f.len() == 7 && seen.insert(f[0].to_string())).then_some(f)
        })
        .map(|f| {
            let id = |flag: &str| run(Command::new("id").arg(flag).arg(f[0])).1;
            Expected {
                name: f[0].into(),
                uid: numbers(&id("-u"))[0],
                gid: numbers(&id("-g"))[0],
                groups: numbers(&id("-G")),
                home: f[5].into(),
                shell: f[6].into(),
            }
        })
        .collect()
}

#[test]
fn every_passwd_user_agrees_with_id_and_getent() {
    let users = passwd_users();
    assert!(!users.is_empty());
    let mut args = vec!["resolve", "--json", "--"];
    args.extend(users.iter().map(|u| u.name.as_str()));
    let (code, out, err) = proxid(&args);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), users.len());
    for (json, want) in lines.iter().zip(&users) {
        check(json, want);
    }
}

#[test]
fn text_and_groups_output_shapes() {
    let (code, out, _) = proxid(&["resolve", "root"]);
    assert_eq!(code, 0);
    assert_eq!(out.trim(), "root uid=0(root) gid=0(root) groups=0(root)");
    let (code, out, _) = proxid(&["groups", "root"]);
    assert_eq!(code, 0);
    assert_eq!(out.trim(), "root : root");
}

#[test]
fn unknown_and_hostile_names() {
    let ten_kb = "a".repeat(10 * 1024);
    let cases: &[(&str, &str)] = &[
        ("no-such-user-proxid", "not_found"),
        ("*", "not_found"),
        ("a)(b", "not_found"),
        ("\\", "not_found"),
        ("-rf", "not_found"),
        ("", "invalid_name"),
        (&ten_kb, "invalid_name"),
    ];
    for (name, kind) in cases {
        let (code, out, _) = proxid(&["resolve", "--json", "--", name]);
        let json: Value = serde_json::from_str(out.trim()).expect("json");
        assert_eq!(json["error"], *kind, "{name:.20}: {json}");
        assert_eq!(code, if *kind == "not_found" { 1 } else { 2 }, "{name:.20}");
    }
    // One unknown name among known ones: exit 1, the known ones still printed.
    let (code, out, err) = proxid(&["resolve", "root", "no-such-user-proxid"]);
    assert_eq!(code, 1);
    assert!(out.starts_with("root uid=0"));
    assert!(err.starts_with("proxid: no-such-user-proxid: "), "{err}");
}

#[test]
fn non_utf8_name_is_invalid() {
    use std::os::unix::ffi::OsStrExt;
    let name = std::ffi::OsStr::from_bytes(b"ab\xff");
    let out = Command::new(PROXID)
        .args(["resolve", "--json", "--"])
        .arg(name)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["error"], "invalid_name");
}

#[test]
fn usage_errors_exit_2_with_prefix() {
    for args in [
        &["frobnicate"][..],
        &["resolve"],
        &["resolve", "--bogus", "x"],
        &[],
    ] {
        let (code, _, err) = proxid(args);
        assert_eq!(code, 2, "{args:?}");
        assert!(err.starts_with("proxid: "), "{err}");
    }
}

/// Users the test adds in a private mount namespace, each with its `id` answer.
#[test]
fn users_added_in_a_private_namespace_agree_with_id() {
    if !nix_is_root() {
        eprintln!("skipped: needs root for unshare -m (CI runs as root)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    let mut group = std::fs::read_to_string("/etc/group").unwrap();
    // many groups: member of 300 groups; single: only its primary group;
    // orphan: primary GID 47999 has no /etc/group entry; spaced: odd but legal name chars.
    passwd += "pxmany:x:47001:47001::/home/pxmany:/bin/sh\n";
    passwd += "pxsingle:x:47002:47002::/home/pxsingle:/bin/bash\n";
    passwd += "pxorphan:x:47003:47999::/nonexistent:/usr/sbin/nologin\n";
    passwd += "px.dot-user:x:47004:47001:Dot User:/home/dot:/bin/sh\n";
    group += "pxmany:x:47001:\npxsingle:x:47002:\n";
    for i in 0..300 {
        group += &format!("pxg{i}:x:{}:pxmany,px.dot-user\n", 48000 + i);
    }
    group += "pxorph2:x:47500:pxorphan\n";
    let passwd_file = dir.path().join("passwd");
    let group_file = dir.path().join("group");
    std::fs::write(&passwd_file, passwd).unwrap();
    std::fs::write(&group_file, group).unwrap();
    let users = ["pxmany", "pxsingle", "pxorphan", "px.dot-user", "root"];
    let script = format!(
        r#"set -e
mount --bind {passwd} /etc/passwd
mount --bind {group} /etc/group
for u in {users}; do
  e=$(getent passwd "$u")
  printf '%s\t%s\t%s\t%s\t%s\t' "$u" "$(id -u "$u")" "$(id -g "$u")" "$(id -G "$u")" "$e"
  {proxid} resolve --json -- "$u"
done"#,
        passwd = passwd_file.display(),
        group = group_file.display(),
        users = users.join(" "),
        proxid = PROXID,
    );
    let (code, out, err) = run(Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", &script])
        .env_remove("PROXID_CONF"));
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), users.len(), "{out}");
    for line in lines {
        let f: Vec<&str> = line.splitn(6, '\t').collect();
        let pw: Vec<&str> = f[4].split(':').collect();
        let want = Expected {
            name: f[0].into(),
            uid: numbers(f[1])[0],
            gid: numbers(f[2])[0],
            groups: numbers(f[3]),
            home: pw[5].into(),
            shell: pw[6].into(),
        };
        let json: Value = serde_json::from_str(f[5]).unwrap();
        check(&json, &want);
        match want.name.as_str() {
            "pxmany" => assert_eq!(json["groups"].as_array().unwrap().len(), 301),
            "pxsingle" => assert_eq!(json["groups"].as_array().unwrap().len(), 1),
            "pxorphan" => {
                // No group entry for the primary GID: named by number, as `id -Gn` does.
                assert_eq!(json["groups"][0]["name"], "47999");
                assert_eq!(json["groups"][1]["name"], "pxorph2");
            }
            _ => {}
        }
    }
}

fn nix_is_root() -> bool {
    run(Command::new("id").arg("-u")).1.trim() == "0"
}
