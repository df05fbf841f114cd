//! `proxid homes` against a real slapd: local directories in a temp base (owner,
//! group, mode checked with stat), existing entries, symbolic links, hostile names,
//! dry runs, idempotence, JSON, and the HDFS script run through `sh` with a stand-in
//! `hdfs` that records its arguments.

mod support;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use serde_json::Value;
use support::slapd::{Schema, Slapd, BASE};
use support::{fixture, ConfFile};

const PROXID: &str = env!("CARGO_BIN_EXE_proxid");

/// Users whose names a shell, a path or hdfs could misread, in group `odd`.
fn hostile_ldif() -> String {
    let mut out = String::new();
    let names = [
        "../evil",
        "a/b",
        "it's",
        "-rf",
        "x:y",
        "$(touch pwned)",
        "..",
    ];
    for (i, name) in names.iter().enumerate() {
        out += &format!(
            "dn: uidNumber={},ou=people,{BASE}\nobjectClass: inetOrgPerson\nobjectClass: posixAccount\n\
             uid: {name}\ncn: odd\nsn: odd\nuidNumber: {}\ngidNumber: 10000\nhomeDirectory: /x\n\n",
            12000 + i,
            12000 + i
        );
    }
    out += &format!(
        "dn: cn=odd,ou=groups,{BASE}\nobjectClass: posixGroup\ncn: odd\ngidNumber: 12999\n"
    );
    for name in names {
        out += &format!("memberUid: {name}\n");
    }
    out + "\n"
}

fn server() -> &'static Slapd {
    static SERVER: OnceLock<Slapd> = OnceLock::new();
    SERVER.get_or_init(|| {
        Slapd::start(
            Schema::Rfc2307,
            &[fixture("rfc2307.ldif"), hostile_ldif()].join("\n"),
        )
    })
}

fn conf() -> &'static ConfFile {
    static CONF: OnceLock<ConfFile> = OnceLock::new();
    CONF.get_or_init(|| ConfFile::new(&[&server().ldap_uri], ""))
}

fn homes(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(PROXID)
        .env_remove("PROXID_CONF")
        .arg("--config")
        .arg(&conf().path)
        .arg("homes")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json_lines(out: &str) -> Vec<Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

fn is_root() -> bool {
    // SAFETY: no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn local_homes_owner_group_mode_and_idempotence() {
    if !is_root() {
        eprintln!("skipped: needs root to give directories away (CI runs as root)");
        return;
    }
    let base = tempfile::tempdir().unwrap();
    let b = base.path().to_str().unwrap();
    let (code, out, err) = homes(&["--local", b, "alice", "carol", "nosuchuser-px"]);
    assert_eq!(code, 1, "a user skipped: {out}{err}");
    assert!(out.contains(&format!("alice {b}/alice: created")), "{out}");
    assert!(
        out.contains("nosuchuser-px") && out.contains("skipped: no such user"),
        "{out}"
    );
    assert!(
        err.contains("2 created, 0 existed, 1 skipped (no such user: 1)"),
        "{err}"
    );
    for (name, uid, gid) in [("alice", 10001, 10000), ("carol", 10003, 10099)] {
        let meta = std::fs::symlink_metadata(base.path().join(name)).unwrap();
        assert!(meta.is_dir());
        assert_eq!((meta.uid(), meta.gid()), (uid, gid), "{name}");
        assert_eq!(meta.mode() & 0o7777, 0o700, "{name}");
    }
    // Again: nothing changes, everything exists, exit 0.
    let (code, out, err) = homes(&["--local", b, "alice", "carol"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.matches(": exists").count(), 2, "{out}");
    assert!(err.contains("0 created, 2 existed, 0 skipped"), "{err}");
    // An explicit mode is honoured, even group-writable.
    let (code, _, err) = homes(&["--local", b, "--mode", "0770", "bob"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        std::fs::metadata(base.path().join("bob")).unwrap().mode() & 0o7777,
        0o770
    );
    let (code, _, err) = homes(&["--local", b, "--mode", "4777", "dave"]);
    assert_eq!(code, 2, "{err}");
    assert!(!base.path().join("dave").exists());
}

#[test]
fn symlinks_files_and_hostile_names_are_skipped() {
    if !is_root() {
        eprintln!("skipped: needs root (CI runs as root)");
        return;
    }
    let outside = tempfile::tempdir().unwrap();
    let before = std::fs::metadata(outside.path()).unwrap();
    let base = tempfile::tempdir().unwrap();
    let b = base.path().to_str().unwrap();
    std::os::unix::fs::symlink(outside.path(), base.path().join("alice")).unwrap();
    std::fs::write(base.path().join("bob"), "a file").unwrap();
    let (code, out, err) = homes(&["--json", "--local", b, "alice", "bob", "--group", "odd"]);
    assert_eq!(
        code, 2,
        "--group and names together is a usage error: {out}{err}"
    );
    let (code, out, err) = homes(&["--json", "--local", b, "alice", "bob"]);
    assert_eq!(code, 1, "{err}");
    let rows = json_lines(&out);
    assert_eq!(rows[0]["action"], "skipped");
    assert!(rows[0]["reason"]
        .as_str()
        .unwrap()
        .contains("symbolic link"));
    assert_eq!(rows[1]["action"], "skipped");
    // The link's target was not touched.
    let meta = std::fs::metadata(outside.path()).unwrap();
    assert_eq!(
        (meta.uid(), meta.gid(), meta.mode()),
        (before.uid(), before.gid(), before.mode())
    );
    assert!(std::fs::symlink_metadata(base.path().join("alice"))
        .unwrap()
        .file_type()
        .is_symlink());

    // Hostile names from the directory never leave the base.
    let inner = base.path().join("inner");
    std::fs::create_dir(&inner).unwrap();
    let (code, out, err) = homes(&[
        "--json",
        "--local",
        inner.to_str().unwrap(),
        "--group",
        "odd",
    ]);
    assert_eq!(code, 1, "{err}");
    let rows = json_lines(&out);
    assert_eq!(rows.len(), 7, "{out}");
    let action = |name: &str| {
        let r = rows.iter().find(|r| r["name"] == name).unwrap();
        (
            r["action"].as_str().unwrap().to_string(),
            r["reason"].clone(),
        )
    };
    for bad in ["../evil", "a/b", ".."] {
        let (a, reason) = action(bad);
        assert_eq!(a, "skipped", "{bad}");
        assert!(reason.is_string());
    }
    for fine in ["it's", "-rf", "x:y", "$(touch pwned)"] {
        assert_eq!(action(fine).0, "created", "{fine}");
    }
    assert_eq!(listing(base.path()), ["alice", "bob", "inner"]);
    assert_eq!(listing(&inner), ["$(touch pwned)", "-rf", "it's", "x:y"]);
    assert!(!base.path().join("evil").exists());
}

#[test]
fn dry_run_changes_nothing_and_json_shape() {
    let base = tempfile::tempdir().unwrap();
    let b = base.path().to_str().unwrap();
    let (code, out, err) = homes(&["--dry-run", "--json", "--local", b, "--group", "devs"]);
    assert_eq!(code, 0, "{err}");
    let rows = json_lines(&out);
    let names: Vec<&str> = rows.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["alice", "bob", "dave"]);
    for r in &rows {
        let keys: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["name", "path", "action", "reason"], "{r}");
        assert_eq!(r["action"], "would_create");
        assert!(r["reason"].is_null());
        assert_eq!(r["path"], format!("{b}/{}", r["name"].as_str().unwrap()));
    }
    assert!(err.contains("3 would be created"), "{err}");
    assert!(listing(base.path()).is_empty());
    // --dry-run without --local: the report, no script.
    let (code, out, _) = homes(&["--dry-run", "--group", "devs"]);
    assert_eq!(code, 0);
    assert!(!out.contains("hdfs dfs"), "{out}");
    assert!(out.contains("alice /user/alice: scripted"), "{out}");
}

#[test]
fn all_users_paged() {
    let (code, out, err) = homes(&["--all", "--json", "--dry-run", "--local", "/nonexistent-px"]);
    assert_eq!(code, 2, "a missing base is an error: {out}{err}");
    let (_, out, err) = homes(&["--all", "--json", "--dry-run"]);
    let rows = json_lines(&out);
    // 21 fixture users and 7 hostile ones.
    assert_eq!(rows.len(), 28, "{err}");
    assert!(rows.iter().any(|r| r["name"] == "MixedCase"));
    // No progress bar in a pipe: stderr is the summary line only.
    assert!(!err.contains('\r') && !err.contains('\x1b'), "{err:?}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn hdfs_script_runs_with_every_name_quoted() {
    let dir = tempfile::tempdir().unwrap();
    // A stand-in hdfs: one line per call, arguments separated by NUL-free markers.
    let log = dir.path().join("calls");
    let fake = dir.path().join("hdfs");
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\nfor a in \"$@\"; do printf '[%s]' \"$a\" >> {log}; done\necho >> {log}\n",
            log = log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (code, script, err) = homes(&["--group", "odd"]);
    assert_eq!(code, 1, "some names are skipped: {err}");
    assert!(script.starts_with("#!/bin/sh\n"), "{script}");
    assert!(err.contains("../evil /user/../evil: skipped"), "{err}");
    assert!(err.contains("-rf /user/-rf: skipped"), "{err}");
    let mut sh = Command::new("sh")
        .current_dir(dir.path())
        .env("PATH", format!("{}:/usr/bin:/bin", dir.path().display()))
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    sh.stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    assert!(sh.wait().unwrap().success());
    let calls = std::fs::read_to_string(&log).unwrap();
    let want = "[dfs][-mkdir][-p][/user/$(touch pwned)]\n[dfs][-chown][$(touch pwned):staff][/user/$(touch pwned)]\n[dfs][-chmod][700][/user/$(touch pwned)]\n\
                [dfs][-mkdir][-p][/user/it's]\n[dfs][-chown][it's:staff][/user/it's]\n[dfs][-chmod][700][/user/it's]\n";
    assert_eq!(calls, want);
    assert!(!dir.path().join("pwned").exists());
    assert!(
        script.contains("hdfs dfs -mkdir -p '/user/$(touch pwned)'\n"),
        "{script}"
    );

    // Plain names stay plain.
    let (code, script, _) = homes(&["--group", "devs"]);
    assert_eq!(code, 0);
    assert!(script.contains(
        "hdfs dfs -mkdir -p /user/alice\nhdfs dfs -chown alice:staff /user/alice\nhdfs dfs -chmod 700 /user/alice\n"
    ), "{script}");
    let (_, script, _) = homes(&["--mode", "750", "bob"]);
    assert!(
        script.contains("hdfs dfs -chmod 750 /user/bob\n"),
        "{script}"
    );
}

#[test]
fn unknown_group_and_usage() {
    let (code, _, err) = homes(&["--group", "no-such-group-px"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("not found"), "{err}");
    let (code, _, err) = homes(&[]);
    assert_eq!(code, 2, "{err}");
    let (code, _, _) = homes(&["--all", "alice"]);
    assert_eq!(code, 2);
}

/// Local resolution: a group's members are its member list plus the users whose
/// primary group it is (root's group lists nobody, yet root is in it).
#[test]
fn local_group_members() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("proxid.conf");
    std::fs::write(&conf, "[resolution]\nmode = \"client\"\n").unwrap();
    let base = dir.path().join("base");
    std::fs::create_dir(&base).unwrap();
    let out = Command::new(PROXID)
        .env_remove("PROXID_CONF")
        .arg("--config")
        .arg(&conf)
        .args(["homes", "--json", "--dry-run", "--group", "root", "--local"])
        .arg(&base)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let rows = json_lines(&String::from_utf8_lossy(&out.stdout));
    assert!(
        rows.iter()
            .any(|r| r["name"] == "root" && r["action"] == "would_create"),
        "{rows:?}"
    );
    assert!(listing(&base).is_empty());
}
