//! Regression tests for issue 11's security and exactness defects, one test (or a
//! few) per item, named `sec_11_<item>_...`, against the real things: the `proxid`
//! CLI, real Hadoop 3.3.4 jars, slapd, tmpfs, FIFOs and symlinks.

mod fake_source;
mod support;

use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const CLI: &str = env!("CARGO_BIN_EXE_proxid");
const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

fn proxid(config: &Path, args: &[&str]) -> Output {
    Command::new(CLI)
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("PROXID_CONF")
        .output()
        .expect("run proxid")
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A private directory (0700) holding a config file (0600) with `body`.
fn conf(body: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("proxid.conf");
    std::fs::write(&path, body).expect("write conf");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    (dir, path)
}

// ---------------------------------------------------------------------------
// 11.2: <final>true</final> in core-site.xml, compared with real Hadoop.
// ---------------------------------------------------------------------------

/// Every case of tests/data/core_site_final.txt (the table proxid's own parser is
/// tested with, in `policy::core_site`) given to Hadoop 3.3.4's `Configuration`:
/// Hadoop must end with the value the table says.
#[test]
fn sec_11_2_final_table_matches_real_hadoop() {
    let jars = Command::new("bash")
        .arg(Path::new(MANIFEST_DIR).join("java/fetch-hadoop.sh"))
        .output()
        .expect("run java/fetch-hadoop.sh");
    assert!(jars.status.success(), "{}", text(&jars));
    let jars = PathBuf::from(String::from_utf8_lossy(&jars.stdout).trim());
    let classpath = [
        "hadoop-client-api-3.3.4.jar",
        "hadoop-client-runtime-3.3.4.jar",
        "slf4j-api-2.0.7.jar",
        "commons-logging-1.1.3.jar",
    ]
    .map(|j| jars.join(j).display().to_string())
    .join(":");
    let work = tempfile::tempdir().expect("tempdir");
    let source = work.path().join("FinalProbe.java");
    std::fs::write(
        &source,
        r#"import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
public class FinalProbe {
  public static void main(String[] files) {
    for (String f : files) {
      Configuration c = new Configuration(false);
      c.addResource(new Path(f));
      String v = c.get("hadoop.proxyuser.p.groups");
      System.out.println(v == null ? "<unset>" : v);
    }
  }
}
"#,
    )
    .expect("write probe");
    let javac = Command::new("javac")
        .args(["-cp", &classpath, "-d"])
        .arg(work.path())
        .arg(&source)
        .output()
        .expect("run javac");
    assert!(javac.status.success(), "{}", text(&javac));

    let table =
        std::fs::read_to_string(Path::new(MANIFEST_DIR).join("tests/data/core_site_final.txt"))
            .expect("read table");
    let mut files = Vec::new();
    let mut wanted = Vec::new();
    for (i, line) in table.lines().filter(|l| !l.starts_with('#')).enumerate() {
        let (want, body) = line.split_once('\t').expect("a tab in every case");
        let file = work.path().join(format!("case{i:02}.xml"));
        std::fs::write(
            &file,
            format!("<?xml version=\"1.0\"?>\n<configuration>\n{body}\n</configuration>\n"),
        )
        .expect("write case");
        files.push(file);
        wanted.push((want.to_string(), body.to_string()));
    }
    let java = Command::new("java")
        .arg("-cp")
        .arg(format!("{}:{classpath}", work.path().display()))
        .arg("FinalProbe")
        .args(&files)
        .output()
        .expect("run java");
    assert!(java.status.success(), "{}", text(&java));
    let got: Vec<String> = String::from_utf8_lossy(&java.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(got.len(), wanted.len(), "{}", text(&java));
    for (got, (want, body)) in got.iter().zip(&wanted) {
        assert_eq!(got, want, "Hadoop reads {body} differently from the table");
    }
}

/// End to end: a final `users` value is not widened by a later `users=*`.
#[test]
fn sec_11_2_final_core_site_value_is_not_overridden() {
    let (dir, path) = conf("");
    let site = dir.path().join("core-site.xml");
    let prop = |n: &str, v: &str, f: bool| {
        let fin = if f { "<final>true</final>" } else { "" };
        format!(
            "<property><name>hadoop.proxyuser.livy.{n}</name><value>{v}</value>{fin}</property>\n"
        )
    };
    std::fs::write(
        &site,
        format!(
            "<configuration>\n{}{}{}</configuration>\n",
            prop("hosts", "*", false),
            prop("users", "alice", true),
            prop("users", "*", false)
        ),
    )
    .expect("write core-site");
    std::fs::write(
        &path,
        format!(
            "[impersonation]\nhadoop_core_site = {:?}\n",
            site.display().to_string()
        ),
    )
    .expect("write conf");
    let out = proxid(
        &path,
        &[
            "authorize",
            "--proxy",
            "livy",
            "--user",
            "nobody",
            "--host",
            "127.0.0.1",
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("user_not_allowed"),
        "{}",
        text(&out)
    );
}

// ---------------------------------------------------------------------------
// 11.7 and 11.18: request hosts and host lists.
// ---------------------------------------------------------------------------

fn authorize(config: &Path, proxy: &str, user: &str, host: &str) -> Output {
    proxid(
        config,
        &[
            "authorize",
            "--proxy",
            proxy,
            "--user",
            user,
            "--host",
            host,
            "--json",
        ],
    )
}

#[test]
fn sec_11_7_hex_ipv4_refused() {
    let (_dir, path) = conf(
        "[[impersonation.proxy]]\nuser = \"livy\"\nusers = [\"nobody\"]\nhosts = [\"localhost\", \"127.0.0.1\"]\n",
    );
    for host in [
        "0x7f.1",
        "0x7f000001",
        "127.1",
        "2130706433",
        "0x0a.010.0.1",
        "0177.0.0.1.",
    ] {
        let out = authorize(&path, "livy", "nobody", host);
        assert_eq!(out.status.code(), Some(2), "{host}: {}", text(&out));
        assert!(
            !String::from_utf8_lossy(&out.stdout).contains("allowed"),
            "{host}: {}",
            text(&out)
        );
    }
    // The same spellings in a host list are configuration errors.
    for item in ["0x7f.1", "0x0a010203", "127.1"] {
        let (_dir, path) = conf(&format!(
            "[[impersonation.proxy]]\nuser = \"livy\"\nusers = [\"nobody\"]\nhosts = [{item:?}]\n"
        ));
        let out = authorize(&path, "livy", "nobody", "127.0.0.1");
        assert_eq!(out.status.code(), Some(2), "{item}: {}", text(&out));
        assert!(text(&out).contains(item), "{item}: {}", text(&out));
    }
    // ...and dropped from a core-site.xml list, so they grant nothing.
    let (dir, path) = conf("");
    let site = dir.path().join("core-site.xml");
    std::fs::write(
        &site,
        "<configuration><property><name>hadoop.proxyuser.livy.users</name><value>nobody</value></property>\
         <property><name>hadoop.proxyuser.livy.hosts</name><value>0x7f.1,0x7f000001</value></property></configuration>",
    )
    .expect("write core-site");
    std::fs::write(
        &path,
        format!(
            "[impersonation]\nhadoop_core_site = {:?}\n",
            site.display().to_string()
        ),
    )
    .expect("write conf");
    let out = authorize(&path, "livy", "nobody", "127.0.0.1");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("host_not_allowed"),
        "{}",
        text(&out)
    );
}

#[test]
fn sec_11_18_scoped_ipv6_client_accepted() {
    let (_dir, path) = conf(
        "[[impersonation.proxy]]\nuser = \"livy\"\nusers = [\"nobody\"]\nhosts = [\"*\"]\n\n\
         [[impersonation.proxy]]\nuser = \"hue\"\nusers = [\"nobody\"]\nhosts = [\"fe80::1\"]\n",
    );
    for host in ["fe80::1%1", "fe80::1%eth0", "[fe80::1%lo]"] {
        for proxy in ["livy", "hue"] {
            let out = authorize(&path, proxy, "nobody", host);
            assert_eq!(
                out.status.code(),
                Some(0),
                "{proxy} from {host}: {}",
                text(&out)
            );
        }
    }
    let out = authorize(&path, "hue", "nobody", "fe80::2%1");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    for bad in [
        "fe80::1%",
        "fe80::1%a b",
        "1.2.3.4%1",
        "fe80::1%1%2",
        "fe80::zz%1",
    ] {
        let out = authorize(&path, "livy", "nobody", bad);
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", text(&out));
    }
}

// ---------------------------------------------------------------------------
// Extra: an assertion is a JSON object, never an array.
// ---------------------------------------------------------------------------

#[test]
fn sec_11_extra_assertion_array_form_refused() {
    let me = String::from_utf8(Command::new("id").arg("-un").output().expect("id").stdout)
        .expect("UTF-8 name")
        .trim()
        .to_string();
    for bad in [
        format!("[{me:?}]"),
        format!("[{me:?},0,[0]]"),
        "[\"alice\",20001,[10001]]".to_string(),
        format!("{{\"name\":{me:?},\"name\":{me:?}}}"),
        "\"alice\"".to_string(),
        "{\"name\":\"alice\",\"gids\":[1],\"extra\":1}".to_string(),
    ] {
        let err = proxid::Assertion::from_json(&bad).expect_err(&bad);
        assert!(
            matches!(err, proxid::Error::InvalidArgument(_)),
            "{bad}: {err:?}"
        );
        let (_dir, path) = conf("[resolution]\nserver_side = true\n");
        let out = proxid(&path, &["accept", &bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", text(&out));
        assert!(out.stdout.is_empty(), "{bad}: {}", text(&out));
    }
    let ok = proxid::Assertion::from_json(&format!("{{\"name\":{me:?}}}")).expect("object form");
    assert!(ok.is_name_only());
    let (_dir, path) = conf("[resolution]\nserver_side = true\n");
    let out = proxid(&path, &["accept", &format!("{{\"name\":{me:?}}}")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

// ---------------------------------------------------------------------------
// 11.12: a secret never in an error.
// ---------------------------------------------------------------------------

#[test]
fn sec_11_12_unquoted_bind_password_not_shown() {
    for value in ["12345678", "hunter2", "[\"hunter2\"]"] {
        let (_dir, path) = conf(&format!(
            "[ldap]\nuris = [\"ldap://127.0.0.1\"]\nbase = \"dc=x\"\nbind_dn = \"cn=a\"\nbind_password = {value}\n"
        ));
        let out = proxid(&path, &["check-config"]);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        let all = text(&out);
        assert!(
            !all.contains("12345678") && !all.contains("hunter2"),
            "{all}"
        );
        assert!(all.contains("bind_password"), "{all}");
    }
}

// ---------------------------------------------------------------------------
// 11.8 and 11.9: the audit log.
// ---------------------------------------------------------------------------

const LIVY_MAY_BE_NOBODY: &str =
    "[[impersonation.proxy]]\nuser = \"livy\"\nusers = [\"nobody\"]\nhosts = [\"*\"]\n";

/// A config whose audit log is `log`, and the `authorize --json` answer for
/// livy -> nobody, run under `timeout` so a blocking open fails the test.
fn audited_decision(dir: &Path, log: &Path) -> (Output, serde_json::Value) {
    let path = dir.join("proxid.conf");
    std::fs::write(
        &path,
        format!(
            "[impersonation]\naudit_log = {:?}\n\n{LIVY_MAY_BE_NOBODY}",
            log.display().to_string()
        ),
    )
    .expect("write conf");
    let out = Command::new("timeout")
        .arg("20")
        .arg(CLI)
        .arg("--config")
        .arg(&path)
        .args([
            "authorize",
            "--proxy",
            "livy",
            "--user",
            "nobody",
            "--host",
            "127.0.0.1",
            "--json",
        ])
        .output()
        .expect("run proxid");
    let json =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
    (out, json)
}

#[test]
fn sec_11_9_audit_log_symlink_fifo_directory_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Control: a regular file is written.
    let (out, json) = audited_decision(dir.path(), &dir.path().join("audit.log"));
    assert_eq!(json["verdict"], "allowed", "{}", text(&out));

    let victim = dir.path().join("victim");
    std::fs::write(&victim, "untouched\n").expect("write victim");
    let link = dir.path().join("link.log");
    std::os::unix::fs::symlink(&victim, &link).expect("symlink");
    let fifo = dir.path().join("fifo.log");
    let c = std::ffi::CString::new(fifo.to_str().expect("UTF-8")).expect("no NUL");
    // SAFETY: a valid C path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
    let subdir = dir.path().join("dir.log");
    std::fs::create_dir(&subdir).expect("mkdir");
    for (log, why) in [
        (&link, "symbolic link"),
        (&fifo, "FIFO"),
        (&subdir, "directory"),
    ] {
        let (out, json) = audited_decision(dir.path(), log);
        assert_eq!(out.status.code(), Some(1), "{why}: {}", text(&out));
        assert_eq!(json["verdict"], "denied", "{why}: {}", text(&out));
        let reason = json["reason"].as_str().unwrap_or_default();
        assert!(
            reason.starts_with("audit_failed") && reason.contains(&log.display().to_string()),
            "{why}: {reason}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(&victim).expect("read"),
        "untouched\n"
    );

    // A FIFO someone reads: opened without blocking, then refused as not a file.
    let reader = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&fifo)
        .expect("open FIFO for reading");
    let (out, json) = audited_decision(dir.path(), &fifo);
    assert_eq!(json["verdict"], "denied", "{}", text(&out));
    assert!(
        json["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("regular file"),
        "{}",
        text(&out)
    );
    drop(reader);
}

/// On a nearly full tmpfs (8 KiB, in a private mount namespace) decisions go on
/// until a line does not fit: that decision is denied, and the log holds only whole
/// lines, none of them torn.
#[test]
fn sec_11_8_full_disk_leaves_no_torn_line() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: mounting a tmpfs needs root (CI runs as root)");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let mnt = dir.path().join("mnt");
    std::fs::create_dir(&mnt).expect("mkdir");
    let log = mnt.join("audit.log");
    let conf = dir.path().join("proxid.conf");
    std::fs::write(
        &conf,
        format!(
            "[impersonation]\naudit_log = {:?}\n\n{LIVY_MAY_BE_NOBODY}",
            log.display().to_string()
        ),
    )
    .expect("write conf");
    let copy = dir.path().join("copy.log");
    // One page for the log, one page filled: the log can grow to 4096 bytes.
    let script = r#"set -e
mount -t tmpfs -o size=8k,mode=0755 tmpfs "$MNT"
head -c 4096 /dev/zero > "$MNT/fill"
for i in $(seq 40); do
  "$CLI" --config "$CONF" authorize --proxy livy --user nobody --host 127.0.0.1 --json || true
done
cp "$MNT/audit.log" "$COPY"
"#;
    let out = Command::new("unshare")
        .args(["-m", "sh", "-c", script])
        .env("MNT", &mnt)
        .env("CLI", CLI)
        .env("CONF", &conf)
        .env("COPY", &copy)
        .output()
        .expect("run unshare");
    assert!(out.status.success(), "{}", text(&out));
    let decisions: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(decisions.len(), 40);
    let allowed = decisions
        .iter()
        .filter(|d| d["verdict"] == "allowed")
        .count();
    let failed: Vec<_> = decisions
        .iter()
        .filter(|d| {
            d["reason"]
                .as_str()
                .is_some_and(|r| r.starts_with("audit_failed"))
        })
        .collect();
    assert!(allowed > 0 && !failed.is_empty(), "{decisions:?}");
    assert!(
        failed.iter().all(|d| d["verdict"] == "denied"),
        "{failed:?}"
    );
    let logged = std::fs::read(&copy).expect("read log copy");
    assert!(logged.ends_with(b"\n"), "the log ends in a torn line");
    let logged = String::from_utf8(logged).expect("UTF-8 log");
    let lines: Vec<&str> = logged.lines().collect();
    for l in &lines {
        let v: serde_json::Value =
            serde_json::from_str(l).unwrap_or_else(|e| panic!("torn line {l:?}: {e}"));
        assert_eq!(v["verdict"], "allowed", "{l}");
    }
    assert_eq!(
        lines.len(),
        allowed,
        "every allowed decision, and only those, is logged"
    );
}

// ---------------------------------------------------------------------------
// 11.13: policy-bearing files writable by others are refused.
// ---------------------------------------------------------------------------

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

fn chown(path: &Path, uid: u32) {
    std::os::unix::fs::chown(path, Some(uid), None).expect("chown");
}

#[test]
fn sec_11_13_world_writable_policy_files_refused() {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let check = |path: &Path| proxid(path, &["check-config"]);

    // The configuration file itself.
    let (_dir, path) = conf("[impersonation]\nsuperuser = \"nobody\"\n");
    chmod(&path, 0o644);
    assert_eq!(
        check(&path).status.code(),
        Some(0),
        "{}",
        text(&check(&path))
    );
    for mode in [0o666, 0o646, 0o664, 0o620] {
        chmod(&path, mode);
        let out = check(&path);
        assert_eq!(out.status.code(), Some(2), "{mode:o}: {}", text(&out));
        let all = text(&out);
        assert!(
            all.contains("writable by group or others") && all.contains("chmod go-w"),
            "{all}"
        );
        assert!(all.contains(&path.display().to_string()), "{all}");
        let out = authorize(&path, "nobody", "root", "127.0.0.1");
        assert_eq!(out.status.code(), Some(2), "{mode:o}: {}", text(&out));
    }
    chmod(&path, 0o644);
    if root {
        chown(&path, 65534);
        let out = check(&path);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(text(&out).contains("chown root"), "{}", text(&out));
        chown(&path, 0);
    }

    // The core-site.xml it imports.
    let (dir, path) = conf("");
    let site = dir.path().join("core-site.xml");
    std::fs::write(&site, "<configuration/>").expect("write core-site");
    std::fs::write(
        &path,
        format!(
            "[impersonation]\nhadoop_core_site = {:?}\n",
            site.display().to_string()
        ),
    )
    .expect("write conf");
    chmod(&site, 0o644);
    assert_eq!(
        check(&path).status.code(),
        Some(0),
        "{}",
        text(&check(&path))
    );
    chmod(&site, 0o666);
    let out = check(&path);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("chmod go-w") && text(&out).contains("core-site.xml"),
        "{}",
        text(&out)
    );
    if root {
        chmod(&site, 0o644);
        chown(&site, 65534);
        let out = check(&path);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(text(&out).contains("chown root"), "{}", text(&out));
    }

    // The audit log's directory.
    let dir = tempfile::tempdir().expect("tempdir");
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).expect("mkdir");
    let (_c, path) = conf(&format!(
        "[impersonation]\naudit_log = {:?}\n\n{LIVY_MAY_BE_NOBODY}",
        logs.join("audit.log").display().to_string()
    ));
    chmod(&logs, 0o755);
    assert_eq!(
        check(&path).status.code(),
        Some(0),
        "{}",
        text(&check(&path))
    );
    assert_eq!(
        authorize(&path, "livy", "nobody", "127.0.0.1")
            .status
            .code(),
        Some(0)
    );
    chmod(&logs, 0o1777);
    let out = check(&path);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("chmod go-w"), "{}", text(&out));
    let out = authorize(&path, "livy", "nobody", "127.0.0.1");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("audit_failed") && text(&out).contains("chmod go-w"),
        "{}",
        text(&out)
    );
}

// ---------------------------------------------------------------------------
// 11.3: protected identities fail closed.
// ---------------------------------------------------------------------------

use proxid::{Error, Identity, Proxid, Verdict};

const LIVY_MAY_BE_ANYONE: &str =
    "[[impersonation.proxy]]\nuser = \"livy\"\nusers = [\"*\"]\nhosts = [\"*\"]\n";

fn fake_cluster() -> Vec<Identity> {
    use fake_source::user;
    vec![
        user("hdfs", 6000, &[("hadoop", 6000)]),
        user("alice", 1001, &[("alice", 1001), ("admins", 11)]),
        user("bob", 1002, &[("bob", 1002)]),
        user("toor", 0, &[("toor", 1003)]),
        user("gidzero", 1004, &[("gidzero", 1004), ("wheel0", 0)]),
        user("livy", 4000, &[("livy", 4000)]),
    ]
}

fn fake_resolver(impersonation: &str, users: Vec<Identity>) -> Proxid {
    Proxid::from_resolver(fake_source::resolver(
        &format!("[impersonation]\n{impersonation}\n\n{LIVY_MAY_BE_ANYONE}"),
        users,
    ))
}

/// A protected name that is malformed or resolves nowhere is an error naming it,
/// at decision time (never an allow) and from check-config.
#[test]
fn sec_11_3_unresolvable_protected_names_fail_closed() {
    // Malformed: refused as the configuration is read.
    for (line, name) in [
        ("protected_users = [\"hdfs \"]", "hdfs "),
        ("protected_users = [\" hdfs\"]", " hdfs"),
        ("protected_groups = [\"\"]", ""),
    ] {
        let err = proxid::Config::from_toml(
            &format!("[impersonation]\n{line}\n"),
            Path::new("/test/proxid.conf"),
        )
        .expect_err(line);
        assert!(
            err.to_string().contains(&format!("{name:?}")),
            "{line}: {err}"
        );
    }
    // Well-formed but resolving nowhere: every decision is an error naming it.
    for (line, name) in [
        ("protected_users = [\"nosuchuser\"]", "nosuchuser"),
        ("protected_groups = [\"Admins\"]", "Admins"),
        ("superuser = \"nosuchsuper\"", "nosuchsuper"),
    ] {
        let r = fake_resolver(line, fake_cluster());
        for target in ["bob", "hdfs", "alice"] {
            let err = r.authorize("livy", target, "10.0.0.7").expect_err(line);
            assert!(matches!(err, Error::Config { .. }), "{line}: {err}");
            assert!(
                err.to_string().contains(&format!("{name:?}")),
                "{line}: {err}"
            );
        }
        assert!(r.check_policy().is_err(), "{line}");
    }
    // The exact names protect, and check_policy is content.
    let r = fake_resolver(
        "protected_users = [\"hdfs\"]\nprotected_groups = [\"admins\"]",
        fake_cluster(),
    );
    r.check_policy().expect("every protected name resolves");
    let reason = |t: &str| r.authorize("livy", t, "10.0.0.7").expect(t).reason;
    assert_eq!(reason("hdfs"), "protected_identity: uid 6000 (hdfs)");
    assert_eq!(reason("alice"), "protected_identity: gid 11 (admins)");
    assert_eq!(reason("bob"), "any_user");

    // From the command line, on this host's registry.
    for line in [
        "protected_users = [\"root \"]",
        "protected_groups = [\"Nogroup\"]",
    ] {
        let (_dir, path) = conf(&format!("[impersonation]\n{line}\n"));
        let out = proxid(&path, &["check-config"]);
        assert_eq!(out.status.code(), Some(2), "{line}: {}", text(&out));
        let quoted = line.split('"').nth(1).unwrap_or_default();
        assert!(
            text(&out).contains(&format!("{quoted:?}")),
            "{line}: {}",
            text(&out)
        );
        // Opening a resolver with that policy fails too.
        let out = proxid(&path, &["resolve", "root"]);
        assert_eq!(out.status.code(), Some(2), "{line}: {}", text(&out));
    }
}

/// A protected name whose source cannot answer makes the decision an error.
#[test]
fn sec_11_3_unavailable_protected_name_is_an_error() {
    for line in [
        "protected_users = [\"unavailable\"]",
        "protected_groups = [\"unavailable\"]",
    ] {
        let r = fake_resolver(line, fake_cluster());
        let err = r.authorize("livy", "bob", "10.0.0.7").expect_err(line);
        assert!(matches!(err, Error::Unavailable { .. }), "{line}: {err}");
    }
}

/// root is protected by UID 0 and GID 0 without ever being looked up.
#[test]
fn sec_11_3_root_protected_by_number_without_lookup() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    struct NoRoot(fake_source::FakeSource, AtomicUsize);
    impl proxid::source::Source for NoRoot {
        fn kind(&self) -> &'static str {
            "fake"
        }
        fn user_by_name(&self, name: &str) -> proxid::Result<Option<Identity>> {
            if name == "root" {
                self.1.fetch_add(1, Ordering::SeqCst);
            }
            self.0.user_by_name(name)
        }
        fn user_by_uid(&self, uid: u32) -> proxid::Result<Option<Identity>> {
            self.0.user_by_uid(uid)
        }
        fn group_by_name(&self, name: &str) -> proxid::Result<Option<proxid::Group>> {
            if name == "root" {
                self.1.fetch_add(1, Ordering::SeqCst);
            }
            self.0.group_by_name(name)
        }
        fn group_by_gid(&self, gid: u32) -> proxid::Result<Option<proxid::Group>> {
            self.0.group_by_gid(gid)
        }
    }
    let config = proxid::Config::from_toml(
        &format!("[impersonation]\nprotected_users = [\"root\"]\n\n{LIVY_MAY_BE_ANYONE}"),
        Path::new("/test/proxid.conf"),
    )
    .expect("config");
    let source = std::sync::Arc::new(NoRoot(
        fake_source::FakeSource(fake_cluster()),
        AtomicUsize::new(0),
    ));
    let r = Proxid::with_source(config, source.clone());
    let reason = |t: &str| r.authorize("livy", t, "10.0.0.7").expect(t).reason;
    assert_eq!(reason("toor"), "protected_identity: uid 0");
    assert_eq!(reason("gidzero"), "protected_identity: gid 0");
    assert_eq!(reason("bob"), "any_user");
    assert_eq!(source.1.load(Ordering::SeqCst), 0, "root was looked up");
    // GIDs below min_gid a directory lists the user in count too.
    let mut hidden = fake_source::user("carol", 1005, &[("carol", 1005)]);
    hidden.hidden_gids = vec![0];
    let r = fake_resolver("", vec![hidden]);
    assert_eq!(
        r.authorize("livy", "carol", "10.0.0.7")
            .expect("carol")
            .reason,
        "protected_identity: gid 0"
    );
}

/// The LDAP side, both schemas: `alice` is listed in `root-alike` (gidNumber 0);
/// `erin` in `lowgroup` (gidNumber 1, below `min_gid = 1000`); `sneaky` has the
/// UID of the local `daemon` account (1), which the directory does not hold.
fn ldap_extras(schema: support::slapd::Schema) -> String {
    use support::slapd::{Schema, BASE};
    let lowgroup = match schema {
        Schema::Rfc2307 => format!(
            "dn: cn=lowgroup,ou=groups,{BASE}\nobjectClass: posixGroup\ncn: lowgroup\ngidNumber: 1\nmemberUid: erin\n"
        ),
        Schema::Rfc2307bis => format!(
            "dn: cn=lowgroup,ou=groups,{BASE}\nobjectClass: groupOfNames\nobjectClass: posixGroup\ncn: lowgroup\ngidNumber: 1\nmember: uid=erin,ou=people,{BASE}\n"
        ),
    };
    let fixture = match schema {
        Schema::Rfc2307 => "rfc2307.ldif",
        Schema::Rfc2307bis => "rfc2307bis.ldif",
    };
    let person = |name: &str, uid: u32| {
        format!(
            "dn: uid={name},ou=people,{BASE}\nobjectClass: inetOrgPerson\nobjectClass: posixAccount\n\
             uid: {name}\ncn: {name}\nsn: {name}\nuidNumber: {uid}\ngidNumber: 10000\nhomeDirectory: /home/{name}\n"
        )
    };
    [
        support::fixture(fixture),
        person("erin", 20500),
        person("sneaky", 1),
        lowgroup,
    ]
    .join("\n")
}

#[test]
fn sec_11_3_ldap_protection_both_schemas() {
    use support::slapd::{Schema, Slapd};
    let local_daemon = proxid::Proxid::new(proxid::Config::default())
        .and_then(|r| r.resolve("daemon"))
        .expect("the local daemon account (base-passwd)");
    assert_eq!(local_daemon.uid, 1);
    for schema in [Schema::Rfc2307, Schema::Rfc2307bis] {
        let server = Slapd::start(schema, &ldap_extras(schema));
        let uri = server.ldap_uri.clone();
        let schema_line = match schema {
            Schema::Rfc2307 => "schema = \"rfc2307\"",
            Schema::Rfc2307bis => "schema = \"rfc2307bis\"",
        };
        let open = |ldap: &str, imp: &str| {
            let conf = support::ConfFile::new(
                &[&uri],
                &format!("{schema_line}\n{ldap}\n[impersonation]\n{imp}\n\n{LIVY_MAY_BE_ANYONE}"),
            );
            (Proxid::new(conf.config()), conf)
        };
        // GID 0 (root-alike) is kept for the check, not shown as a group.
        let (r, _c) = open("", "");
        let r = r.expect("open");
        let alice = r.resolve("alice").expect("alice");
        assert!(
            !alice.gids().contains(&0) && alice.hidden_gids.contains(&0),
            "{alice:?}"
        );
        let d = r.authorize("livy", "alice", "10.0.0.7").expect("decision");
        assert_eq!(
            (d.verdict, d.reason.as_str()),
            (Verdict::Denied, "protected_identity: gid 0")
        );
        assert_eq!(
            r.authorize("livy", "bob", "10.0.0.7").expect("bob").verdict,
            Verdict::Allowed
        );

        // Below min_gid: lowgroup (1) is the local group `daemon`'s GID.
        let (r, _c) = open("min_gid = 1000", "protected_groups = [\"daemon\"]");
        let r = r.expect("open: daemon is a local group");
        let erin = r.resolve("erin").expect("erin");
        assert_eq!(erin.gids(), vec![10000], "{erin:?}");
        let d = r.authorize("livy", "erin", "10.0.0.7").expect("decision");
        assert_eq!(d.reason, "protected_identity: gid 1 (daemon)", "{schema:?}");

        // A local account the directory lacks is protected; a directory user with
        // its UID does not slip through.
        let (r, _c) = open("", "protected_users = [\"daemon\"]");
        let r = r.expect("open: daemon is a local user");
        let d = r.authorize("livy", "sneaky", "10.0.0.7").expect("decision");
        assert_eq!(d.reason, "protected_identity: uid 1 (daemon)", "{schema:?}");
        assert_eq!(
            r.authorize("livy", "bob", "10.0.0.7").expect("bob").verdict,
            Verdict::Allowed
        );

        // Names that resolve nowhere (the directory is case-exact) refuse to open.
        for imp in [
            "protected_groups = [\"Devs\"]",
            "protected_users = [\"nosuch\"]",
        ] {
            let (r, conf) = open("", imp);
            let err = r.expect_err(imp);
            assert!(matches!(err, Error::Config { .. }), "{imp}: {err}");
            let out = proxid(&conf.path, &["check-config"]);
            assert_eq!(out.status.code(), Some(2), "{imp}: {}", text(&out));
            let name = imp.split('"').nth(1).unwrap_or_default();
            assert!(text(&out).contains(&format!("{name:?}")), "{}", text(&out));
        }
    }
}

/// A directory that is down: the resolver still opens (nothing is known to be
/// wrong), but a decision that needs the protected names is an error, not an allow.
#[test]
fn sec_11_3_directory_down_makes_decisions_errors() {
    let conf = support::ConfFile::new(
        &[&support::dead_uri()],
        &format!("connect_timeout = \"200ms\"\n[impersonation]\nprotected_users = [\"daemon\"]\n\n{LIVY_MAY_BE_ANYONE}"),
    );
    let r = Proxid::new(conf.config()).expect("opens while the directory is down");
    let err = r
        .authorize("livy", "daemon", "10.0.0.7")
        .expect_err("no decision");
    assert!(
        matches!(err, Error::Unavailable { .. } | Error::Timeout { .. }),
        "{err}"
    );
    assert!(r.check_policy().is_err());
}
