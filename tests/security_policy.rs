//! Regression tests for issue 11's security and exactness defects, one test (or a
//! few) per item, named `sec_11_<item>_...`, against the real things: the `proxid`
//! CLI, real Hadoop 3.3.4 jars, slapd, tmpfs, FIFOs and symlinks.

mod support;

use std::os::unix::fs::PermissionsExt;
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
