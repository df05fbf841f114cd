//! Issue 11 point 15: an NSS source that cannot answer is `unavailable`, never "not
//! found". Runs in a private mount namespace whose nsswitch.conf names libnss-ldapd's
//! `ldap` module with no nslcd running (its socket absent, on a private /run): the
//! module answers UNAVAIL and glibc returns its errno, ENOENT, with a NULL result.
//! The host's files are never touched.

use std::process::Command;

use serde_json::Value;

const PROXID: &str = env!("CARGO_BIN_EXE_proxid");
/// A name no registry holds.
const UNKNOWN: &str = "proxid-no-such-user";

fn usable() -> bool {
    // SAFETY: plain syscall.
    let root = unsafe { libc::geteuid() } == 0;
    let module = [
        "/lib/x86_64-linux-gnu",
        "/usr/lib/x86_64-linux-gnu",
        "/lib64",
        "/usr/lib",
    ]
    .iter()
    .any(|d| std::path::Path::new(d).join("libnss_ldap.so.2").exists());
    if !(root && module) {
        eprintln!(
            "SKIPPED: needs root (unshare -m) and libnss-ldapd (scripts/test-all.sh installs it)"
        );
    }
    root && module
}

/// `proxid resolve --json -- NAMES` with this nsswitch.conf: (exit code, one JSON
/// value per name).
fn resolve_with(nsswitch: &str, names: &[&str]) -> (i32, Vec<Value>) {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("nsswitch.conf");
    std::fs::write(&conf, nsswitch).unwrap();
    let script = r#"set -e
mount -t tmpfs tmpfs /run
mount --bind "$1" /etc/nsswitch.conf
shift
set +e
"$@"
"#;
    let out = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", script, "sh"])
        .arg(&conf)
        .args([PROXID, "resolve", "--json", "--"])
        .args(names)
        .env_remove("PROXID_CONF")
        .output()
        .expect("unshare");
    let text = String::from_utf8_lossy(&out.stdout);
    let lines = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l:?}")))
        .collect();
    (out.status.code().unwrap_or(-1), lines)
}

#[test]
fn sec_11_15_nss_unavailable_is_not_not_found() {
    if !usable() {
        return;
    }
    // The directory holds the users, files the groups.
    let (code, lines) = resolve_with("passwd: files ldap\ngroup: files\n", &[UNKNOWN]);
    assert_eq!(lines[0]["error"], "unavailable", "{lines:?}");
    assert_eq!(code, 2, "an outage is an error (2), not \"not found\" (1)");
    // Files users still resolve.
    let (code, lines) = resolve_with("passwd: files ldap\ngroup: files\n", &["root", UNKNOWN]);
    assert_eq!(lines[0]["uid"], 0, "{lines:?}");
    assert_eq!(lines[1]["error"], "unavailable", "{lines:?}");
    assert_eq!(code, 2);
    // Healthy NSS still says not found.
    let (code, lines) = resolve_with("passwd: files\ngroup: files\n", &[UNKNOWN]);
    assert_eq!((code, &lines[0]["error"]), (1, &Value::from("not_found")));
}

#[test]
fn sec_11_15_group_source_down_makes_groups_unknown_not_shorter() {
    if !usable() {
        return;
    }
    // getgrouplist cannot report that the ldap module failed: without the check,
    // root would come back with the files groups only, and a user's directory groups
    // (protected ones included) would silently vanish.
    let (code, lines) = resolve_with("passwd: files ldap\ngroup: files ldap\n", &["root"]);
    assert_eq!(lines[0]["error"], "unavailable", "{lines:?}");
    assert!(
        lines[0]["message"].as_str().unwrap().contains("groups"),
        "{lines:?}"
    );
    assert_eq!(code, 2);
    // Memberships declared to come from files only: the outage does not matter.
    let (code, lines) = resolve_with(
        "passwd: files ldap\ngroup: files ldap\ninitgroups: files\n",
        &["root"],
    );
    assert_eq!((code, &lines[0]["uid"]), (0, &Value::from(0)), "{lines:?}");
}
