//! `pam_proxid.so` through real libpam, in a private mount namespace with the test's
//! own `/etc/pam.d`: `pamtester` for auth, account and session (mkhomedir), against
//! a real slapd (ldaps, ppolicy) behind proxidd.

#[allow(unused_imports)]
#[path = "support/nss.rs"]
mod nss;
#[path = "support/pamd.rs"]
mod pamd;
mod support;

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Output;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use pamd::{can_unshare, in_namespace, module, Daemon};
use support::slapd::Slapd;
use support::ConfFile;

fn server() -> &'static Slapd {
    static S: OnceLock<Slapd> = OnceLock::new();
    S.get_or_init(support::pam::start)
}

const TAIL: &str = "[pam]\nallowed_groups = [\"jupyterusers\"]\n\n\
                    [impersonation]\nsuperuser = \"admin2\"\n\
                    [[impersonation.proxy]]\nuser = \"jupyter\"\nhosts = [\"127.0.0.1\"]\n\
                    groups = [\"jupyterusers\"]\n";

/// A daemon over the PAM directory, with its configuration (audit log in its dir).
fn daemon_for(uri: &str) -> (ConfFile, Daemon) {
    let conf = support::pam::conf(server(), uri, TAIL);
    let audit = conf.dir.path().join("audit.jsonl");
    let text = std::fs::read_to_string(&conf.path).unwrap().replace(
        "[impersonation]\n",
        &format!(
            "[impersonation]\naudit_log = {:?}\n",
            audit.display().to_string()
        ),
    );
    std::fs::write(&conf.path, text).unwrap();
    let daemon = Daemon::start(&conf.path);
    (conf, daemon)
}

/// A daemon per test: proxidd is a child process, and one kept in a `static` would
/// outlive the test binary.
fn daemon() -> (ConfFile, Daemon) {
    daemon_for(&server().ldaps_uri)
}

/// A directory holding one service file, `proxid-test`, naming the module by path.
fn pam_d(lines: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let text = lines.replace("MODULE", &module().display().to_string());
    std::fs::write(dir.path().join("proxid-test"), text).unwrap();
    dir
}

const STACK: &str = "auth required MODULE\naccount required MODULE\n\
                     session required MODULE mkhomedir\npassword required MODULE\n";

/// `pamtester proxid-test USER OPS...` in the namespace, `stdin` answering prompts.
fn pamtester(socket: &Path, stack: &str, user: &str, ops: &str, stdin: &str) -> Output {
    let dir = pam_d(stack);
    in_namespace(
        dir.path(),
        socket,
        &[],
        &format!("pamtester proxid-test '{user}' {ops}"),
        stdin,
    )
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

macro_rules! needs_root {
    () => {
        if !can_unshare() {
            eprintln!("skipped: needs root for unshare -m (CI runs as root)");
            return;
        }
    };
}

#[test]
fn pamtester_auth_and_account_table() {
    needs_root!();
    let (conf, d) = daemon();
    // (user, password line, operations, success, words in pamtester's message)
    let cases: &[(&str, &str, &str, bool, &str)] = &[
        (
            "alice",
            "alice-pw\n",
            "authenticate acct_mgmt",
            true,
            "successfully",
        ),
        (
            "alice",
            "wrong\n",
            "authenticate",
            false,
            "Authentication failure",
        ),
        (
            "alice",
            "\n",
            "authenticate",
            false,
            "Authentication failure",
        ),
        (
            "nobody-here",
            "x\n",
            "authenticate",
            false,
            "User not known",
        ),
        ("root", "x\n", "authenticate", false, "User not known"),
        (
            "admin2",
            "admin2-pw\n",
            "authenticate",
            false,
            "User not known",
        ),
        ("bob", "bob-pw\n", "authenticate", true, "successfully"),
        ("bob", "", "acct_mgmt", false, "Permission denied"),
        ("nobody-here", "", "acct_mgmt", false, "User not known"),
        ("*", "x\n", "authenticate", false, "User not known"),
        ("a)(uid=*", "x\n", "authenticate", false, "User not known"),
        (
            "alice\\",
            "alice-pw\n",
            "authenticate",
            false,
            "User not known",
        ),
        (
            "locked",
            "locked-pw\n",
            "authenticate",
            false,
            "Permission denied",
        ),
        (
            "expired",
            "expired-pw\n",
            "authenticate",
            false,
            "new one required",
        ),
    ];
    for (user, password, ops, ok, words) in cases {
        let out = pamtester(&d.socket, STACK, user, ops, password);
        let said = text(&out);
        assert_eq!(
            out.status.success(),
            *ok,
            "{user} {ops}: {said} audit: {:?}",
            std::fs::read_to_string(conf.dir.path().join("audit.jsonl"))
        );
        assert!(
            said.contains(words),
            "{user} {ops}: {said:?} lacks {words:?}"
        );
    }
    let long = "y".repeat(10_000);
    let out = pamtester(&d.socket, STACK, &long, "authenticate", "x\n");
    assert!(text(&out).contains("User not known"), "{}", text(&out));
    // The refusal for a user outside allowed_groups names the key to set.
    let out = pamtester(&d.socket, STACK, "bob", "acct_mgmt", "");
    assert!(text(&out).contains("allowed_groups"), "{}", text(&out));
}

#[test]
fn use_first_pass_without_a_cached_password_fails_without_prompting() {
    needs_root!();
    let (_conf, d) = daemon();
    let stack = "auth required MODULE use_first_pass\n";
    let out = pamtester(&d.socket, stack, "alice", "authenticate", "alice-pw\n");
    assert!(!out.status.success(), "{}", text(&out));
    let stack = "auth required MODULE try_first_pass\n";
    let out = pamtester(&d.socket, stack, "alice", "authenticate", "alice-pw\n");
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn daemon_down_is_authinfo_unavail_at_once() {
    needs_root!();
    let gone = tempfile::tempdir().unwrap();
    let socket = gone.path().join("nss.sock");
    #[allow(clippy::disallowed_methods)] // real time: the throttle delay of a real daemon
    let start = Instant::now();
    let out = pamtester(&socket, STACK, "alice", "authenticate", "alice-pw\n");
    let took = start.elapsed();
    assert!(!out.status.success());
    assert!(
        text(&out).contains("Authentication service cannot retrieve authentication info"),
        "{}",
        text(&out)
    );
    // pamtester + namespace setup included; the module itself does not wait.
    assert!(took < Duration::from_secs(5), "{took:?}");
    let out = pamtester(&socket, STACK, "alice", "acct_mgmt", "");
    assert!(!out.status.success(), "{}", text(&out));
}

#[test]
fn directory_down_is_authinfo_unavail_within_the_timeout() {
    needs_root!();
    let hole = support::BlackHole::start();
    let conf = support::pam::conf(server(), &hole.uri(), TAIL);
    let text_conf = std::fs::read_to_string(&conf.path)
        .unwrap()
        .replace("operation_timeout = \"3s\"", "operation_timeout = \"1s\"")
        .replace("connect_timeout = \"2s\"", "connect_timeout = \"1s\"");
    std::fs::write(&conf.path, text_conf).unwrap();
    let d = Daemon::start(&conf.path);
    #[allow(clippy::disallowed_methods)] // real time: the throttle delay of a real daemon
    let start = Instant::now();
    let out = pamtester(&d.socket, STACK, "alice", "authenticate", "alice-pw\n");
    assert!(!out.status.success());
    assert!(
        text(&out).contains("cannot retrieve authentication info"),
        "{}",
        text(&out)
    );
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn session_mkhomedir_makes_an_owner_only_home() {
    needs_root!();
    let (_conf, d) = daemon();
    let dir = pam_d(STACK);
    // /home is a fresh tmpfs in the namespace; /home/carol is made by the module, then
    // a second session finds it and leaves it; a symlinked home is refused.
    let out = in_namespace(
        dir.path(),
        &d.socket,
        &[],
        "pamtester proxid-test carol open_session close_session\n\
         stat -c '%a %u %g %F' /home/carol\n\
         pamtester proxid-test carol open_session\n\
         ln -s /etc /home/alice\n\
         if pamtester proxid-test alice open_session; then echo FOLLOWED; fi\n\
         stat -c '%U' /etc\n\
         mkdir -m 700 /home/bob\n\
         if pamtester proxid-test bob open_session; then echo FOREIGN; fi\n\
         mkdir -m 777 /home/admin2 && chown 20004 /home/admin2\n\
         if pamtester proxid-test admin2 open_session; then echo OPEN; fi\n\
",
        "",
    );
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("700 20003 20000 directory"), "{said}");
    assert!(!said.contains("FOLLOWED"), "{said}");
    assert!(said.contains("symbolic link"), "{said}");
    assert!(said.contains("\nroot\n"), "{said}");
    // An existing home owned by someone else, or writable by everyone, is refused.
    assert!(
        !said.contains("FOREIGN") && said.contains("belongs to UID 0"),
        "{said}"
    );
    assert!(
        !said.contains("OPEN") && said.contains("writable by everyone"),
        "{said}"
    );
}

#[test]
fn chauthtok_ignores_local_users_and_refuses_directory_users() {
    needs_root!();
    let (_conf, d) = daemon();
    // Only our module in the password stack: local users get PAM_IGNORE, which makes
    // the stack fail as "no module decided" rather than as our refusal.
    let out = pamtester(&d.socket, STACK, "alice", "chauthtok", "");
    assert!(!out.status.success());
    assert!(text(&out).contains("change it there"), "{}", text(&out));
    let stack = "password [success=ok ignore=ignore default=bad] MODULE\n\
                 password required pam_permit.so\n";
    let out = pamtester(&d.socket, stack, "root", "chauthtok", "");
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn every_pam_attempt_is_audited() {
    needs_root!();
    let (conf, d) = daemon_for(&server().ldaps_uri);
    pamtester(
        &d.socket,
        STACK,
        "alice",
        "authenticate acct_mgmt",
        "alice-pw\n",
    );
    pamtester(&d.socket, STACK, "alice", "authenticate", "wrong-pw-here\n");
    let log = std::fs::read_to_string(conf.dir.path().join("audit.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let seen: Vec<(String, String)> = lines
        .iter()
        .map(|l| {
            (
                l["event"].as_str().unwrap().to_string(),
                l["result"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want = [
        ("auth", "success"),
        ("account", "success"),
        ("auth", "auth_err"),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(seen, want, "{log}");
    assert!(!log.contains("alice-pw") && !log.contains("wrong-pw-here"));
    assert_eq!(lines[0]["service"], "proxid-test");
    assert_eq!(lines[0]["peer_uid"], 0);
    // The directory's state is untouched by the module tests' homes.
    assert!(std::fs::metadata("/home")
        .map(|m| m.uid() == 0)
        .unwrap_or(true));
}

/// Files for a launcher test: passwd/group with the service account and the targets
/// (su and sudo look them up through NSS `files`), a sudoers file with a blanket
/// NOPASSWD rule for the service account (the case the issue fears), service files.
struct Launcher {
    dir: tempfile::TempDir,
    conf: ConfFile,
    daemon: Daemon,
}

const SERVICE_UID: u32 = 20100;

fn launcher(su_auth: &str, sudo_session: &str) -> Launcher {
    let dir = tempfile::tempdir().unwrap();
    let p = |f: &str| dir.path().join(f);
    let mut passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    passwd += "jupyter:x:20100:20100::/tmp:/bin/sh\n\
               alice:x:20001:20000::/tmp:/bin/sh\n\
               bob:x:20002:20000::/tmp:/bin/sh\n";
    let mut group = std::fs::read_to_string("/etc/group").unwrap();
    group += "svc:x:20100:\nusers-px:x:20000:\n";
    std::fs::write(p("passwd"), passwd).unwrap();
    std::fs::write(p("group"), group).unwrap();
    std::fs::write(
        p("sudoers"),
        "Defaults !lecture\nroot ALL=(ALL:ALL) ALL\njupyter ALL=(ALL) NOPASSWD: ALL\n",
    )
    .unwrap();
    std::fs::set_permissions(
        p("sudoers"),
        std::os::unix::fs::PermissionsExt::from_mode(0o440),
    )
    .unwrap();
    std::fs::create_dir(p("pam.d")).unwrap();
    let module = module().display().to_string();
    std::fs::write(
        p("pam.d/su"),
        format!(
            "auth {su_auth}\nauth required pam_deny.so\n\
             account required pam_permit.so\nsession required pam_permit.so\n"
        )
        .replace("MODULE", &module),
    )
    .unwrap();
    std::fs::write(
        p("pam.d/sudo"),
        format!(
            "auth required pam_deny.so\naccount required pam_permit.so\nsession {sudo_session}\n"
        )
        .replace("MODULE", &module),
    )
    .unwrap();
    std::fs::write(
        p("pam.d/proxid-test"),
        "auth required MODULE impersonate=strict\n".replace("MODULE", &module),
    )
    .unwrap();
    let conf = support::pam::conf(server(), &server().ldaps_uri, TAIL);
    let audit = conf.dir.path().join("audit.jsonl");
    let text = std::fs::read_to_string(&conf.path).unwrap().replace(
        "[impersonation]\n",
        &format!(
            "[impersonation]\naudit_log = {:?}\n",
            audit.display().to_string()
        ),
    );
    std::fs::write(&conf.path, text).unwrap();
    let daemon = Daemon::start(&conf.path);
    Launcher { dir, conf, daemon }
}

impl Launcher {
    /// Runs `command` as the service account in the namespace.
    fn run_as_service(&self, command: &str) -> Output {
        let p = |f: &str| self.dir.path().join(f);
        let (passwd, group, sudoers) = (p("passwd"), p("group"), p("sudoers"));
        in_namespace(
            &p("pam.d"),
            &self.daemon.socket,
            &[
                (&passwd, "/etc/passwd"),
                (&group, "/etc/group"),
                (&sudoers, "/etc/sudoers"),
            ],
            &format!(
                "exec setpriv --reuid {SERVICE_UID} --regid {SERVICE_UID} --clear-groups \
                 --reset-env {command}"
            ),
            "",
        )
    }

    fn audit(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.conf.dir.path().join("audit.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

#[test]
fn su_as_a_service_account_needs_no_password_for_allowed_targets_only() {
    needs_root!();
    let l = launcher("sufficient MODULE impersonate", "required pam_permit.so");
    let out = l.run_as_service("su alice -c 'id -un'");
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "alice");
    // Not allowed: the module ignores, the rest of the stack (pam_deny here, a
    // password elsewhere) decides.
    for target in ["bob", "root"] {
        let out = l.run_as_service(&format!("su {target} -c 'id -un'"));
        assert!(!out.status.success(), "{target}: {}", text(&out));
        assert!(
            text(&out).contains("Authentication failure"),
            "{}",
            text(&out)
        );
    }
    let audit = l.audit();
    let seen: Vec<(&str, &str, &str)> = audit
        .iter()
        .map(|a| {
            (
                a["event"].as_str().unwrap(),
                a["user"].as_str().unwrap(),
                a["result"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("impersonate", "alice", "success"),
            ("impersonate", "bob", "perm_denied"),
            ("impersonate", "root", "perm_denied"),
        ],
        "{audit:?}"
    );
    assert_eq!(audit[0]["service"], "su");
    assert_eq!(audit[0]["ruser"], "jupyter");
    assert_eq!(
        audit[0]["peer_uid"], 0,
        "su is setuid root: the proxy is its real UID"
    );
    assert!(audit[1]["reason"]
        .as_str()
        .unwrap()
        .contains("proxy jupyter"));
}

#[test]
fn su_with_strict_impersonation_says_no() {
    needs_root!();
    let l = launcher(
        "sufficient MODULE impersonate=strict",
        "required pam_permit.so",
    );
    let out = l.run_as_service("su bob -c 'id -un'");
    assert!(!out.status.success());
    assert!(text(&out).contains("proxid: denied"), "{}", text(&out));
}

#[test]
fn sudo_nopasswd_is_held_to_the_proxy_rules_in_session() {
    needs_root!();
    let l = launcher("required pam_deny.so", "required MODULE impersonate");
    let out = l.run_as_service("sudo -n -u alice id -un");
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "alice");
    for (target, why) in [
        ("bob", "denied"),
        ("root", "denied"),
        ("jupyter", "run_as_self"),
    ] {
        let out = l.run_as_service(&format!("sudo -n -u {target} id -un"));
        let said = text(&out);
        assert!(!out.status.success(), "{target}: {said}");
        // PAM_PERM_DENIED, which sudo treats as fatal (PAM_SESSION_ERR it would ignore).
        assert!(
            said.contains("pam_open_session: Permission denied"),
            "{target}: {said}"
        );
        assert!(
            !String::from_utf8_lossy(&out.stdout).contains(target),
            "{said}"
        );
        // sudo -n opens the session with PAM_SILENT: the reason is in the audit log.
        let last = l.audit().pop().unwrap();
        assert_eq!(last["user"], target);
        assert!(last["reason"].as_str().unwrap().starts_with(why), "{last}");
    }
    let audit = l.audit();
    let users: Vec<&str> = audit.iter().map(|a| a["user"].as_str().unwrap()).collect();
    assert_eq!(users, ["alice", "bob", "root", "jupyter"], "{audit:?}");
    assert!(audit
        .iter()
        .all(|a| a["event"] == "impersonate" && a["service"] == "sudo"));
    assert_eq!(audit[0]["result"], "success");
}

/// c-tests/pam_driver.c, compiled with `-Wall -Wextra -Werror` against libpam.
fn pam_driver() -> std::path::PathBuf {
    let out = std::env::temp_dir().join(format!("pam_driver-{}", std::process::id()));
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("c-tests/pam_driver.c");
    let status = std::process::Command::new("cc")
        .args(["-Wall", "-Wextra", "-Werror", "-g"])
        .arg(&src)
        .args(["-lpam", "-o"])
        .arg(&out)
        .status()
        .expect("cc");
    assert!(status.success(), "compiling {}", src.display());
    out
}

#[test]
fn valgrind_on_a_c_program_driving_libpam() {
    needs_root!(); // proxidd runs in a namespace of its own (support::nss)
                   // No namespace needed: pam_start_confdir reads the service file from our dir, and
                   // PROXID_NSS_SOCKET is honoured (the driver is not setuid).
    let (_conf, d) = daemon();
    let dir = tempfile::tempdir().unwrap();
    let module = module().display().to_string();
    std::fs::write(
        dir.path().join("proxid-test"),
        format!(
            "auth required {module}\naccount required {module}\n\
             session required {module}\npassword required {module}\n"
        ),
    )
    .unwrap();
    let driver = pam_driver();
    let out = std::process::Command::new("valgrind")
        .args([
            "--quiet",
            "--error-exitcode=99",
            "--leak-check=full",
            "--errors-for-leak-kinds=definite",
            "--trace-children=no",
        ])
        .arg(&driver)
        .arg(dir.path())
        .args([
            "proxid-test",
            "alice",
            "alice-pw",
            "bob",
            "wrong",
            "nobody-here",
            "x",
        ])
        .env("PROXID_NSS_SOCKET", &d.socket)
        .output()
        .expect("valgrind runs");
    let said = text(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    for line in [
        "alice authenticate 0",
        "alice account 0",
        "alice setcred 0",
        "alice chauthtok 20",
        "bob authenticate 7",
        "bob account 6",
        "nobody-here authenticate 10",
        "nobody-here account 10",
    ] {
        assert!(said.contains(line), "{line:?} missing: {said}");
    }
    // The forked child logged in again.
    assert_eq!(said.matches("alice authenticate 0").count(), 2, "{said}");
    let _ = std::fs::remove_file(driver);
}

#[test]
fn install_puts_the_module_in_the_pam_directory_and_edits_no_service_file() {
    nss::module_dir(); // libnss_proxid.so next to proxidd, as install.sh expects
    module(); // libpam_proxid.so there too
    let built = nss::install_build_dir();
    let stage = tempfile::tempdir().unwrap();
    let before = std::fs::read_dir("/etc/pam.d").map(|d| d.count()).ok();
    let out = std::process::Command::new("bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/install.sh"))
        .env("PREFIX", "/usr")
        .env("DESTDIR", stage.path())
        .env("PROXID_LIB_DIR", built.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let installed = stage
        .path()
        .join("lib/x86_64-linux-gnu/security/pam_proxid.so");
    assert!(installed.is_file(), "{}", text(&out));
    assert_eq!(installed.metadata().unwrap().mode() & 0o777, 0o644);
    assert!(!stage.path().join("etc").exists());
    assert_eq!(
        std::fs::read_dir("/etc/pam.d").map(|d| d.count()).ok(),
        before
    );
}

#[test]
fn a_non_root_caller_is_its_own_proxy_whatever_it_claims() {
    needs_root!();
    let l = launcher("sufficient MODULE impersonate", "required pam_permit.so");
    // pamtester is not setuid: the daemon sees the service account's UID and takes
    // it as the proxy; PAM_RUSER saying "root" changes nothing.
    let out = l.run_as_service("pamtester -I ruser=root proxid-test alice authenticate");
    assert!(out.status.success(), "{}", text(&out));
    let out = l.run_as_service("pamtester -I ruser=admin2 proxid-test bob authenticate");
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("Permission denied"), "{}", text(&out));
    let audit = l.audit();
    assert_eq!(audit.len(), 2, "{audit:?}");
    assert_eq!(audit[0]["peer_uid"], SERVICE_UID);
    assert_eq!(audit[0]["ruser"], "root");
    assert!(
        audit[1]["reason"]
            .as_str()
            .unwrap()
            .contains("proxy jupyter"),
        "{audit:?}"
    );
}
