//! The rules behind `pam_proxid.so`, against a real slapd (TLS, ppolicy): password
//! checks by bind, account decisions with `[pam] allowed_groups`, launcher
//! impersonation, and the audit line of each attempt. The module and the daemon only
//! carry these answers (tests/pam_module.rs drives them through real libpam).

mod support;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use proxid::auth::{PamCode, PamRequest};
use proxid::Proxid;
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

fn resolver_with(uri: &str, tail: &str) -> (ConfFile, Proxid) {
    let conf = support::pam::conf(server(), uri, tail);
    let audit = conf.dir.path().join("audit.jsonl");
    let text = std::fs::read_to_string(&conf.path).unwrap();
    let text = text.replace(
        "[impersonation]\n",
        &format!(
            "[impersonation]\naudit_log = {:?}\n",
            audit.display().to_string()
        ),
    );
    std::fs::write(&conf.path, text).unwrap();
    let r = Proxid::new(conf.config()).expect("resolver");
    (conf, r)
}

fn resolver() -> &'static (ConfFile, Proxid) {
    static R: OnceLock<(ConfFile, Proxid)> = OnceLock::new();
    R.get_or_init(|| resolver_with(&server().ldaps_uri, TAIL))
}

fn req(user: &str) -> PamRequest {
    PamRequest {
        user: user.as_bytes().to_vec(),
        service: "proxid-test".into(),
        rhost: None,
        ruser: None,
        peer_uid: 1234,
    }
}

fn audit_lines(conf: &ConfFile) -> Vec<serde_json::Value> {
    std::fs::read_to_string(conf.dir.path().join("audit.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

#[test]
fn passwords_table() {
    let (_, r) = resolver();
    let cases: &[(&[u8], &[u8], PamCode)] = &[
        (b"alice", b"alice-pw", PamCode::Success),
        (b"alice", b"wrong", PamCode::AuthErr),
        (b"alice", b"", PamCode::AuthErr),
        (b"alice", b"alice-pw\0", PamCode::AuthErr),
        (b"alice", b"\xff\xfe", PamCode::AuthErr),
        (b"Alice", b"alice-pw", PamCode::UserUnknown),
        (b"nobody-here", b"x", PamCode::UserUnknown),
        (b"root", b"x", PamCode::UserUnknown),
        (b"admin2", b"admin2-pw", PamCode::UserUnknown), // the superuser
        (b"*", b"x", PamCode::UserUnknown),
        (b"a)(uid=*", b"x", PamCode::UserUnknown),
        (b"", b"x", PamCode::UserUnknown),
        (b"al\nice", b"x", PamCode::UserUnknown),
        (b"locked", b"locked-pw", PamCode::PermDenied),
        (b"expired", b"expired-pw", PamCode::NewAuthtokReqd),
        // bob has no login group, but auth only checks the password; account refuses him.
        (b"bob", b"bob-pw", PamCode::Success),
    ];
    for (user, password, want) in cases {
        let user = String::from_utf8_lossy(user);
        let mut request = req(&user);
        request.user = user.as_bytes().to_vec();
        let got = r.pam_authenticate(&request, password);
        assert_eq!(got.code, *want, "{user:?}: {got:?}");
    }
    let long = "x".repeat(10_000);
    assert_eq!(
        r.pam_authenticate(&req(&long), b"x").code,
        PamCode::UserUnknown
    );
}

#[test]
fn accounts_table() {
    let (_, r) = resolver();
    for (user, want) in [
        ("alice", PamCode::Success),
        ("carol", PamCode::Success),
        ("bob", PamCode::PermDenied),
        ("nobody-here", PamCode::UserUnknown),
        ("root", PamCode::UserUnknown),
        ("admin2", PamCode::UserUnknown),
    ] {
        let got = r.pam_account(&req(user));
        assert_eq!(got.code, want, "{user}: {got:?}");
    }
    let bob = r.pam_account(&req("bob"));
    assert!(bob.reason.contains("allowed_groups"), "{bob:?}");
}

#[test]
fn no_allowed_groups_means_nobody() {
    let (_conf, r) = resolver_with(&server().ldaps_uri, "[impersonation]\n");
    let got = r.pam_account(&req("alice"));
    assert_eq!(got.code, PamCode::PermDenied);
    assert!(got.reason.contains("[pam] allowed_groups"), "{got:?}");
}

#[test]
fn starttls_binds_and_plain_ldap_is_refused_for_passwords() {
    let s = server();
    let (_c, tls) = resolver_with(
        &s.ldap_uri.replace("127.0.0.1", "localhost"),
        "[impersonation]\n",
    );
    // Resolution over plain loopback works, but the password needs TLS.
    let got = tls.pam_authenticate(&req("alice"), b"alice-pw");
    assert_eq!(got.code, PamCode::AuthinfoUnavail, "{got:?}");
    assert!(got.reason.contains("unencrypted"), "{got:?}");

    let plain = s.ldap_uri.replace("127.0.0.1", "localhost");
    let conf = support::pam::conf(s, &plain, "starttls = true\n");
    let r = Proxid::new(conf.config()).unwrap();
    assert_eq!(
        r.pam_authenticate(&req("alice"), b"alice-pw").code,
        PamCode::Success
    );
    assert_eq!(
        r.pam_authenticate(&req("alice"), b"nope").code,
        PamCode::AuthErr
    );
}

#[test]
fn directory_down_is_unavailable_within_the_timeout() {
    let hole = support::BlackHole::start();
    let conf = support::pam::conf(server(), &hole.uri(), "");
    let text = std::fs::read_to_string(&conf.path)
        .unwrap()
        .replace("operation_timeout = \"3s\"", "operation_timeout = \"1s\"")
        .replace("connect_timeout = \"2s\"", "connect_timeout = \"1s\"");
    std::fs::write(&conf.path, text).unwrap();
    let r = Proxid::new(conf.config()).unwrap();
    #[allow(clippy::disallowed_methods)] // real time: the throttle really sleeps
    let start = Instant::now();
    let got = r.pam_authenticate(&req("alice"), b"alice-pw");
    assert_eq!(got.code, PamCode::AuthinfoUnavail, "{got:?}");
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    let dead = support::dead_uri();
    let conf = support::pam::conf(server(), &dead, "");
    let r = Proxid::new(conf.config()).unwrap();
    assert_eq!(r.pam_account(&req("alice")).code, PamCode::AuthinfoUnavail);
}

#[test]
fn impersonation_table() {
    let (_, r) = resolver();
    for (proxy, user, rhost, want) in [
        ("jupyter", "alice", None, PamCode::Success),
        ("jupyter", "carol", Some("127.0.0.1"), PamCode::Success),
        ("jupyter", "alice", Some("10.1.2.3"), PamCode::PermDenied),
        ("jupyter", "bob", None, PamCode::PermDenied),
        ("jupyter", "root", None, PamCode::PermDenied),
        ("jupyter", "jupyter", None, PamCode::PermDenied),
        ("bob", "alice", None, PamCode::PermDenied),
        ("jupyter", "nobody-here", None, PamCode::PermDenied),
    ] {
        let mut request = req(user);
        request.rhost = rhost.map(String::from);
        let got = r.pam_impersonate(&request, proxy);
        assert_eq!(got.code, want, "{proxy} -> {user}: {got:?}");
    }
}

#[test]
fn proxy_is_the_peer_or_the_real_uid_named_from_passwd() {
    let (conf, r) = resolver();
    let passwd = conf.dir.path().join("passwd");
    std::fs::write(
        &passwd,
        "root:x:0:0::/root:/bin/sh\nlivy:x:990:990::/:/bin/false\n",
    )
    .unwrap();
    // A non-root peer is the proxy whatever it sends.
    assert_eq!(r.pam_proxy(990, 0, &passwd).unwrap(), "livy");
    // A root peer (setuid launcher) sends getuid(): named from the file, else LDAP.
    assert_eq!(r.pam_proxy(0, 990, &passwd).unwrap(), "livy");
    assert_eq!(r.pam_proxy(0, 20100, &passwd).unwrap(), "jupyter");
    assert_eq!(r.pam_proxy(0, 0, &passwd).unwrap(), "root");
    assert!(r.pam_proxy(0, 55555, &passwd).is_err());
}

#[test]
fn every_attempt_is_one_audit_line_without_the_password() {
    let (conf, r) = resolver_with(&server().ldaps_uri, TAIL);
    let mut request = req("alice");
    request.rhost = Some("hub.example".into());
    request.ruser = Some("jupyter".into());
    r.pam_authenticate(&request, b"alice-pw");
    r.pam_authenticate(&request, b"secret-wrong-pw");
    r.pam_account(&request);
    r.pam_impersonate(&req("bob"), "jupyter");
    let lines = audit_lines(&conf);
    assert_eq!(lines.len(), 4, "{lines:?}");
    let text = std::fs::read_to_string(conf.dir.path().join("audit.jsonl")).unwrap();
    assert!(!text.contains("alice-pw") && !text.contains("secret-wrong-pw"));
    let want = [
        ("auth", "success"),
        ("auth", "auth_err"),
        ("account", "success"),
        ("impersonate", "perm_denied"),
    ];
    for (line, (event, result)) in lines.iter().zip(want) {
        assert_eq!(line["event"], event, "{line}");
        assert_eq!(line["result"], result, "{line}");
        for key in [
            "time", "user", "service", "rhost", "ruser", "peer_uid", "reason",
        ] {
            assert!(line.get(key).is_some(), "{key} missing in {line}");
        }
    }
    assert_eq!(lines[0]["rhost"], "hub.example");
    assert_eq!(lines[0]["ruser"], "jupyter");
    assert_eq!(lines[0]["peer_uid"], 1234);
    assert_eq!(lines[0]["service"], "proxid-test");
}

#[test]
fn failures_are_slowed_per_peer_and_user_after_five_in_a_minute() {
    use proxid::pam_service::PamService;
    use proxid_proto::{Request, Response};
    let (_, r) = resolver();
    let pam = PamService::default();
    let attempt = |user: &str, password: &str, peer: u32| {
        let mut request = Request::Authenticate {
            user: user.as_bytes().to_vec(),
            password: password.as_bytes().to_vec(),
            service: b"proxid-test".to_vec(),
            rhost: Vec::new(),
            ruser: Vec::new(),
        };
        #[allow(clippy::disallowed_methods)] // real time: the throttle really sleeps
        let start = Instant::now();
        let answer = pam.answer(r, &mut request, peer).expect("a PAM request");
        // The password is wiped once answered.
        if let Request::Authenticate { password, .. } = &request {
            assert!(password.iter().all(|b| *b == 0));
        }
        (answer, start.elapsed())
    };
    for _ in 0..5 {
        let (answer, _) = attempt("carol", "wrong", 4242);
        assert_eq!(
            answer,
            Response::Verdict {
                code: 7,
                message: "wrong_password".into()
            }
        );
    }
    // The sixth for the same (peer, user) waits at least a second (the bound);
    // the same user from another peer, and another user from this peer, do not.
    let (_, slow) = attempt("carol", "carol-pw", 4242);
    assert!(slow >= Duration::from_secs(1), "{slow:?}");
    let (answer, other_peer) = attempt("carol", "carol-pw", 4243);
    assert_eq!(
        answer,
        Response::Verdict {
            code: 0,
            message: "password_ok".into()
        }
    );
    assert!(other_peer < Duration::from_secs(1), "{other_peer:?}");
    let (_, other_user) = attempt("alice", "alice-pw", 4242);
    assert!(other_user < Duration::from_secs(1), "{other_user:?}");
    // The success above forgot carol's failures for peer 4242.
    let (_, after) = attempt("carol", "carol-pw", 4242);
    assert!(after < Duration::from_secs(1), "{after:?}");
    // Not a PAM request: not PamService's business.
    assert!(pam.answer(r, &mut Request::Status, 0).is_none());
}

#[test]
fn daemon_filter_users_are_never_served() {
    use proxid::pam_service::PamService;
    use proxid_proto::{Request, Response};
    let (_c, r) = resolver_with(
        &server().ldaps_uri,
        "[daemon]\nfilter_users = [\"root\", \"carol\"]\n\n[impersonation]\n",
    );
    let pam = PamService::default();
    let mut auth = Request::Authenticate {
        user: b"carol".to_vec(),
        password: b"carol-pw".to_vec(),
        service: b"s".to_vec(),
        rhost: Vec::new(),
        ruser: Vec::new(),
    };
    let filtered = Response::Verdict {
        code: 10,
        message: "filtered".into(),
    };
    assert_eq!(pam.answer(&r, &mut auth, 1000), Some(filtered.clone()));
    let mut account = Request::Account {
        user: b"carol".to_vec(),
        service: b"s".to_vec(),
        rhost: Vec::new(),
        ruser: Vec::new(),
    };
    assert_eq!(pam.answer(&r, &mut account, 1000), Some(filtered));
}

#[test]
fn an_impersonation_whose_proxy_has_no_name_is_refused_and_audited() {
    use proxid::pam_service::PamService;
    use proxid_proto::{Request, Response};
    let (conf, r) = resolver_with(&server().ldaps_uri, TAIL);
    let mut request = Request::Impersonate {
        proxy_uid: 55555,
        user: b"alice".to_vec(),
        host: Vec::new(),
        service: b"su".to_vec(),
        ruser: b"jupyter".to_vec(),
    };
    // A root peer (setuid launcher) whose real UID names nobody.
    let answer = PamService::default().answer(&r, &mut request, 0);
    assert!(
        matches!(&answer, Some(Response::Verdict { code: 6, message }) if message.starts_with("proxy_unknown: uid 55555")),
        "{answer:?}"
    );
    let lines = audit_lines(&conf);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["event"], "impersonate");
    assert_eq!(lines[0]["result"], "perm_denied");
}
