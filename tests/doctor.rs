//! `proxid doctor` against a real slapd (ldap and ldaps), dead servers, bad files,
//! policy and keytab mistakes, and a local registry (in a private mount namespace)
//! that disagrees with the directory.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;
use support::slapd::{Schema, Slapd, BASE};
use support::{fixture, ConfFile};

const PROXID: &str = env!("CARGO_BIN_EXE_proxid");

/// The fixture directory with a certificate valid for 400 days.
fn server() -> &'static Slapd {
    static SERVER: OnceLock<Slapd> = OnceLock::new();
    SERVER
        .get_or_init(|| Slapd::start_with_cert_days(Schema::Rfc2307, &fixture("rfc2307.ldif"), 400))
}

/// A small directory whose certificate expires in 10 days.
fn short_lived() -> &'static Slapd {
    static SERVER: OnceLock<Slapd> = OnceLock::new();
    SERVER
        .get_or_init(|| Slapd::start_with_cert_days(Schema::Rfc2307, &fixture("rfc2307.ldif"), 10))
}

fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn doctor(conf: &Path, args: &[&str]) -> (i32, Vec<Value>) {
    let (code, out, err) = run(Command::new(PROXID)
        .env_remove("PROXID_CONF")
        .env("KRB5_CONFIG", "/nonexistent/krb5.conf")
        .arg("--config")
        .arg(conf)
        .arg("doctor")
        .arg("--json")
        .args(args));
    let rows = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}\n{err}")))
        .collect();
    (code, rows)
}

fn row<'a>(rows: &'a [Value], check: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["check"].as_str().is_some_and(|c| c.starts_with(check)))
        .unwrap_or_else(|| panic!("no {check} row in {rows:#?}"))
}

fn statuses(rows: &[Value]) -> Vec<String> {
    rows.iter()
        .map(|r| format!("{} {}", r["status"], r["check"]))
        .collect()
}

/// A server-mode configuration binding as the service account, trusting `slapd`'s CA.
fn conf(slapd: &Slapd, uris: &[&str], extra: &str) -> ConfFile {
    let dir = tempfile::tempdir().unwrap();
    let bind = ConfFile::bind_lines(dir.path(), support::slapd::BIND_PW);
    let c = ConfFile::new(
        uris,
        &format!(
            "{bind}ca_file = {:?}\n{extra}",
            slapd.ca_file.display().to_string()
        ),
    );
    // Keep the secret's directory alive with the configuration.
    std::mem::forget(dir);
    c
}

#[test]
fn ldap_and_ldaps_all_ok() {
    let s = server();
    let c = conf(s, &[&s.ldap_uri, &s.ldaps_uri], "");
    let (code, rows) = doctor(&c.path, &[]);
    assert_eq!(code, 0, "{:#?}", statuses(&rows));
    for r in &rows {
        assert_eq!(r["status"], "ok", "{r}");
    }
    let checks: Vec<&str> = rows.iter().map(|r| r["check"].as_str().unwrap()).collect();
    for step in ["dns", "tcp", "tls", "bind", "base", "users", "groups"] {
        let n = checks
            .iter()
            .filter(|c| **c == format!("ldap.{step}"))
            .count();
        assert_eq!(n, 2, "ldap.{step} once per URI: {checks:?}");
    }
    assert_eq!(row(&rows, "ldap.certificate")["check"], "ldap.certificate");
    let cert = row(&rows, "ldap.certificate")["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        cert.contains("DNS:localhost") && cert.contains("proxid test CA"),
        "{cert}"
    );
    assert!(
        cert.contains("expires in 399 days") || cert.contains("expires in 400 days"),
        "{cert}"
    );
    let tls: Vec<&Value> = rows.iter().filter(|r| r["check"] == "ldap.tls").collect();
    assert!(tls[0]["detail"].as_str().unwrap().contains("plain LDAP"));
    assert!(tls[1]["detail"]
        .as_str()
        .unwrap()
        .contains("certificate verified"));
    let users = row(&rows, "ldap.users")["detail"].as_str().unwrap();
    assert!(users.contains(" 21 users under"), "{users}");
    let bind = row(&rows, "ldap.bind")["detail"].as_str().unwrap();
    assert!(bind.contains("bound as") && !bind.contains(support::slapd::BIND_PW));
}

#[test]
fn starttls_is_probed() {
    let s = server();
    let c = conf(
        s,
        &[&s.ldap_uri.replace("127.0.0.1", "localhost")],
        "starttls = true\n",
    );
    let (code, rows) = doctor(&c.path, &[]);
    assert_eq!(code, 0, "{:#?}", statuses(&rows));
    assert!(row(&rows, "ldap.tls")["detail"]
        .as_str()
        .unwrap()
        .contains("StartTLS handshake"));
}

#[test]
fn short_lived_certificate_warns() {
    let s = short_lived();
    let c = conf(s, &[&s.ldaps_uri], "");
    let (code, rows) = doctor(&c.path, &[]);
    assert_eq!(code, 1, "{:#?}", statuses(&rows));
    let cert = row(&rows, "ldap.certificate");
    assert_eq!(cert["status"], "warn");
    assert!(
        cert["detail"].as_str().unwrap().contains("under 30"),
        "{cert}"
    );
    assert!(cert["fix"].as_str().unwrap().contains("renew"));
    // Everything after the certificate still ran.
    assert_eq!(row(&rows, "ldap.users")["status"], "ok");
}

#[test]
fn untrusted_certificate_fails() {
    let s = server();
    let other = short_lived();
    // Trusting another CA: the handshake must fail, naming why.
    let c = conf(other, &[&s.ldaps_uri], "");
    let (code, rows) = doctor(&c.path, &[]);
    assert_eq!(code, 2);
    let tls = row(&rows, "ldap.tls");
    assert_eq!(tls["status"], "fail");
    assert!(
        tls["detail"].as_str().unwrap().contains("handshake failed"),
        "{tls}"
    );
    assert!(
        rows.iter().all(|r| r["check"] != "ldap.bind"),
        "stops at the failure"
    );
}

#[test]
fn dead_and_unresolvable_uris_fail_with_a_fix() {
    let s = server();
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dead_uri = format!("ldap://127.0.0.1:{dead}");
    let c = conf(
        s,
        &[&dead_uri, "ldap://no-such-host.invalid", &s.ldap_uri],
        "",
    );
    let (code, rows) = doctor(&c.path, &[]);
    assert_eq!(code, 2);
    let tcp = row(&rows, "ldap.tcp");
    assert_eq!(tcp["status"], "fail");
    assert!(tcp["detail"].as_str().unwrap().contains(&dead_uri), "{tcp}");
    assert!(!tcp["fix"].as_str().unwrap().is_empty());
    let dns: Vec<&Value> = rows.iter().filter(|r| r["check"] == "ldap.dns").collect();
    assert_eq!(dns[1]["status"], "fail", "{dns:?}");
    assert!(dns[1]["fix"].is_string());
    // The third, live URI is still probed.
    assert_eq!(
        rows.iter().filter(|r| r["check"] == "ldap.users").count(),
        1
    );
}

#[test]
fn wrong_bind_password_fails_at_bind() {
    let s = server();
    let dir = tempfile::tempdir().unwrap();
    let bind = ConfFile::bind_lines(dir.path(), "wrong");
    let c = ConfFile::new(&[&s.ldap_uri], &bind);
    let (code, rows) = doctor(&c.path, &[]);
    assert_eq!(code, 2);
    assert_eq!(row(&rows, "ldap.bind")["status"], "fail");
    assert!(row(&rows, "ldap.bind")["fix"]
        .as_str()
        .unwrap()
        .contains("bind_dn"));
}

#[test]
fn json_shape_and_text_rows() {
    let s = server();
    let c = conf(s, &[&s.ldap_uri], "");
    let (_, rows) = doctor(&c.path, &[]);
    assert!(!rows.is_empty());
    for r in &rows {
        let keys: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["check", "status", "detail", "fix"], "{r}");
        let status = r["status"].as_str().unwrap();
        assert!(["ok", "warn", "fail"].contains(&status));
        assert_eq!(r["fix"].is_null(), status == "ok", "{r}");
    }
    let (code, out, _) = run(Command::new(PROXID)
        .env("KRB5_CONFIG", "/nonexistent")
        .arg("--config")
        .arg(&c.path)
        .arg("doctor"));
    assert_eq!(code, 0);
    assert!(out.lines().any(|l| l.starts_with("ok   config: ")), "{out}");
}

#[test]
fn world_writable_config_fails() {
    let s = server();
    let c = conf(s, &[&s.ldap_uri], "");
    std::fs::set_permissions(&c.path, std::fs::Permissions::from_mode(0o666)).unwrap();
    let (code, rows) = doctor(&c.path, &[]);
    assert_eq!(code, 2);
    let perm = row(&rows, "permissions.config");
    assert_eq!(perm["status"], "fail");
    assert!(
        perm["fix"].as_str().unwrap().contains("chmod go-w"),
        "{perm}"
    );
}

#[test]
fn invalid_config_fails_and_stops() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("proxid.conf");
    std::fs::write(&path, "[resolution]\nmode = \"sideways\"\n").unwrap();
    let (code, rows) = doctor(&path, &[]);
    assert_eq!(code, 2);
    assert_eq!(row(&rows, "config")["status"], "fail");
    assert!(row(&rows, "config")["detail"]
        .as_str()
        .unwrap()
        .contains("sideways"));
    assert_eq!(rows.last().unwrap()["check"], "config");
}

#[test]
fn mode_settings_disagree() {
    let s = server();
    let client = conf(s, &[&s.ldap_uri], "");
    let server_dir = tempfile::tempdir().unwrap();
    let server_conf = server_dir.path().join("server.conf");
    std::fs::write(
        &server_conf,
        format!(
            "[resolution]\nmode = \"server\"\nserver_side = false\n[ldap]\nuris = [{:?}]\nbase = {BASE:?}\n",
            s.ldap_uri
        ),
    )
    .unwrap();
    let (code, rows) = doctor(
        &client.path,
        &["--server", server_conf.to_str().unwrap(), "alice"],
    );
    assert_eq!(code, 2);
    let m = row(&rows, "mode.settings");
    assert_eq!(m["status"], "fail");
    let detail = m["detail"].as_str().unwrap();
    assert!(
        detail.contains("mode = \"server\"") && detail.contains("server_side = false"),
        "{m}"
    );
    // alice is in the directory, not in this machine's registry.
    let ids = row(&rows, "mode.identities");
    assert_eq!(ids["status"], "fail");
    assert!(
        ids["detail"]
            .as_str()
            .unwrap()
            .contains("\"alice\": not found locally"),
        "{ids}"
    );
}

#[test]
fn policy_sanity() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("proxid.conf");
    std::fs::write(
        &path,
        "[impersonation]\nsuperuser = \"no-such-superuser-px\"\n\
         protected_users = [\"root\", \"no-such-protected-px\"]\n\
         [[impersonation.proxy]]\nuser = \"livy\"\nusers = [\"root\"]\nhosts = [\"10.0.0.1\"]\n\
         [[impersonation.proxy]]\nuser = \"hive\"\ngroups = [\"*\"]\nhosts = [\"*\"]\n\
         [[impersonation.proxy]]\nuser = \"knox\"\ngroups = [\"staff\"]\nhosts = [\"10.0.0.2\"]\n",
    )
    .unwrap();
    let (code, rows) = doctor(&path, &[]);
    assert_eq!(code, 2, "{:#?}", statuses(&rows));
    assert_eq!(row(&rows, "policy.rules")["status"], "ok");
    assert_eq!(row(&rows, "policy.superuser")["status"], "fail");
    let protected = row(&rows, "policy.protected");
    assert_eq!(protected["status"], "fail");
    assert!(protected["detail"]
        .as_str()
        .unwrap()
        .contains("no-such-protected-px"));
    let livy = row(&rows, "policy.proxy livy");
    assert_eq!(livy["status"], "warn");
    assert!(livy["detail"]
        .as_str()
        .unwrap()
        .contains("protected user \"root\""));
    let hive = row(&rows, "policy.proxy hive");
    assert_eq!(hive["status"], "warn");
    assert!(hive["detail"].as_str().unwrap().contains("any host"));
    assert_eq!(row(&rows, "policy.proxy knox")["status"], "ok");
}

#[test]
fn keytabs() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("root.keytab");
    std::fs::write(&good, [5u8, 2, 0, 0]).unwrap();
    std::fs::set_permissions(&good, std::fs::Permissions::from_mode(0o600)).unwrap();
    let bad = dir.path().join("bad.keytab");
    std::fs::write(&bad, b"not a keytab").unwrap();
    std::fs::set_permissions(&bad, std::fs::Permissions::from_mode(0o600)).unwrap();
    let path = dir.path().join("proxid.conf");
    std::fs::write(
        &path,
        format!(
            "[principals]\ndefault_realm = \"EXAMPLE.ORG\"\ndefault_principal = \"svc@EXAMPLE.ORG\"\n\
             default_keytab = {:?}\nkeytab_path = \"{}/${{name}}.keytab\"\n",
            bad.display().to_string(),
            dir.path().display()
        ),
    )
    .unwrap();
    let (code, rows) = doctor(&path, &["root", "nobody"]);
    assert_eq!(code, 2);
    assert_eq!(row(&rows, "principals.realm")["status"], "ok");
    let default = row(&rows, "principals.keytab default");
    assert_eq!(default["status"], "fail", "{default}");
    assert_eq!(row(&rows, "principals.keytab_path root")["status"], "ok");
    assert_eq!(
        row(&rows, "principals.keytab_path nobody")["status"],
        "fail"
    );
    // A keytab everyone can read is a failure.
    std::fs::set_permissions(&good, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (_, rows) = doctor(&path, &["root"]);
    let root = row(&rows, "principals.keytab_path root");
    assert_eq!(root["status"], "fail");
    assert!(root["detail"].as_str().unwrap().contains("everyone"));
}

fn is_root() -> bool {
    run(Command::new("id").arg("-u")).1.trim() == "0"
}

/// The local registry (bind-mounted passwd and group in a private namespace) has
/// alice as the directory does and bob with another UID: bob is listed, alice not.
#[test]
fn local_users_against_the_directory() {
    if !is_root() {
        eprintln!("skipped: needs root for unshare -m (CI runs as root)");
        return;
    }
    let s = server();
    let client = conf(s, &[&s.ldap_uri], "");
    // Alice's groups as the directory has them.
    let (code, out, err) = run(Command::new(PROXID)
        .arg("--config")
        .arg(&client.path)
        .args(["resolve", "--json", "alice"]));
    assert_eq!(code, 0, "{err}");
    let alice: Value = serde_json::from_str(out.trim()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    let mut group = std::fs::read_to_string("/etc/group").unwrap();
    passwd += &format!(
        "alice:x:{}:{}::/home/alice:/bin/sh\n",
        alice["uid"], alice["gid"]
    );
    passwd += "bob:x:20002:10000::/home/bob:/bin/sh\n";
    for g in alice["groups"].as_array().unwrap() {
        let members = if g["gid"] == alice["gid"] {
            ""
        } else {
            "alice"
        };
        group += &format!("{}:x:{}:{members}\n", g["name"].as_str().unwrap(), g["gid"]);
    }
    let (pf, gf) = (dir.path().join("passwd"), dir.path().join("group"));
    std::fs::write(&pf, passwd).unwrap();
    std::fs::write(&gf, group).unwrap();
    // The client resolves locally; the server is the directory at a URI.
    let local_conf = dir.path().join("client.conf");
    let text = std::fs::read_to_string(&client.path)
        .unwrap()
        .replace("mode = \"server\"", "mode = \"client\"");
    std::fs::write(&local_conf, text).unwrap();
    let script = format!(
        "set -e\nmount --bind {} /etc/passwd\nmount --bind {} /etc/group\n\
         KRB5_CONFIG=/nonexistent {PROXID} --config {} doctor --json --server {} alice bob || echo \"exit $?\"",
        pf.display(),
        gf.display(),
        local_conf.display(),
        s.ldap_uri
    );
    let (code, out, err) = run(Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", &script])
        .env_remove("PROXID_CONF"));
    assert_eq!(code, 0, "{err}");
    assert!(out.ends_with("exit 2\n"), "{out}");
    let rows: Vec<Value> = out
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ids = row(&rows, "mode.identities");
    assert_eq!(ids["status"], "fail", "{ids}");
    let detail = ids["detail"].as_str().unwrap();
    assert!(detail.starts_with("1 of 2"), "{detail}");
    assert!(
        detail.contains("\"bob\"") && detail.contains("20002") && detail.contains("10002"),
        "{detail}"
    );
    assert!(!detail.contains("\"alice\""), "{detail}");
    assert!(ids["fix"].as_str().unwrap().contains("server_side"));
    // The host's files are untouched.
    assert!(!std::fs::read_to_string("/etc/passwd")
        .unwrap()
        .contains("bob:x:20002"));
}
