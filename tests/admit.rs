//! `Proxid::admit`, the server side in one call, in every combination of what the
//! client sends (name + IDs in client mode, name only in server mode, for the proxy
//! and the target separately) and how the server is set (`server_side` off, on,
//! `require_server_side`), with matching and mismatching proxy and target IDs:
//! against the real glibc NSS (users added in a private mount namespace) and against
//! a real slapd. Every call that gets past input validation leaves one audit line.

mod support;

use std::path::Path;
use std::process::Command;

use proxid::{AdmitRequest, Assertion, Config, Identity, Proxid, Verdict};
use support::slapd::{Schema, Slapd};

/// What the server is set to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Server {
    /// `server_side = false`: IDs from the client only.
    Plain,
    /// `server_side = true`: both shapes.
    Lenient,
    /// `require_server_side = true`: names only.
    Strict,
}

/// What one side of the request carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sent {
    /// Server-mode client: the name only.
    Name,
    /// Client-mode client whose registry agrees with the server's.
    Ids,
    /// Client-mode client whose registry gives another UID and an extra GID.
    WrongIds,
}

fn server_lines(server: Server) -> &'static str {
    match server {
        Server::Plain => "server_side = false\n",
        Server::Lenient => "server_side = true\n",
        Server::Strict => "require_server_side = true\n",
    }
}

fn assertion(id: &Identity, sent: Sent) -> Assertion {
    match sent {
        Sent::Name => Assertion {
            name: id.name.clone(),
            uid: None,
            gids: None,
        },
        Sent::Ids => Assertion {
            name: id.name.clone(),
            uid: Some(id.uid),
            gids: Some(id.gids()),
        },
        Sent::WrongIds => {
            let mut gids = id.gids();
            gids.push(4_000_000);
            Assertion {
                name: id.name.clone(),
                uid: Some(id.uid + 1),
                gids: Some(gids),
            }
        }
    }
}

/// The outcome the contract asks for: a mode mismatch on either side first, then
/// any ID difference, then the policy (which allows `proxy` to act as `user`).
fn expected(server: Server, proxy: Sent, user: Sent) -> &'static str {
    let mismatch = |s: Sent| match server {
        Server::Plain => s == Sent::Name,
        Server::Lenient => false,
        Server::Strict => s != Sent::Name,
    };
    if mismatch(proxy) || mismatch(user) {
        "mode_mismatch"
    } else if proxy == Sent::WrongIds || user == Sent::WrongIds {
        "identity_mismatch"
    } else {
        "allowed"
    }
}

fn audit_lines(path: &Path) -> usize {
    std::fs::read_to_string(path).map_or(0, |t| t.lines().count())
}

/// Runs the whole matrix against `open(server setting, audit log path)`, for
/// `proxy` acting as `user` (allowed by the rules `open` writes).
fn matrix(open: &dyn Fn(Server, &Path) -> Proxid, proxy: &Identity, user: &Identity) {
    let sents = [Sent::Name, Sent::Ids, Sent::WrongIds];
    let dir = tempfile::tempdir().unwrap();
    let mut runs = 0;
    for server in [Server::Plain, Server::Lenient, Server::Strict] {
        let audit = dir.path().join(format!("{server:?}.jsonl"));
        let r = open(server, &audit);
        for p in sents {
            for u in sents {
                let request = AdmitRequest {
                    proxy: assertion(proxy, p),
                    user: assertion(user, u),
                    host: "10.0.0.7".into(),
                };
                // The wire form is what servers receive.
                let request = AdmitRequest::from_json(&request.to_json()).unwrap();
                let before = audit_lines(&audit);
                let got = r.admit(&request);
                let case = format!("{server:?} proxy {p:?} user {u:?}");
                let want = expected(server, p, u);
                match &got {
                    Ok(d) => {
                        assert_eq!(want, "allowed", "{case}: {d:?}");
                        assert_eq!(d.verdict, Verdict::Allowed, "{case}");
                        let eff = d.effective.as_ref().expect("effective identity");
                        assert_eq!(eff, user, "{case}: the server's own resolution");
                        assert_eq!(d.effective_user, user.name);
                    }
                    Err(e) => {
                        assert_eq!(e.kind(), want, "{case}: {e}");
                        let msg = e.to_string();
                        if want == "mode_mismatch" {
                            assert!(
                                msg.contains("server_side") && msg.contains("mode = "),
                                "{case}: {msg}"
                            );
                            for (whose, s, name) in
                                [("proxy", p, &proxy.name), ("user", u, &user.name)]
                            {
                                let named = msg.contains(&format!("{whose} {name:?}"));
                                let mism = match server {
                                    Server::Plain => s == Sent::Name,
                                    Server::Strict => s != Sent::Name,
                                    Server::Lenient => false,
                                };
                                assert_eq!(named, mism, "{case}: {whose} in {msg}");
                            }
                        } else {
                            for (whose, s, id) in [("proxy", p, proxy), ("user", u, user)] {
                                let named = msg.contains(&format!(
                                    "{whose} {}: uid: client {}, server {}",
                                    id.name,
                                    id.uid + 1,
                                    id.uid
                                ));
                                assert_eq!(named, s == Sent::WrongIds, "{case}: {whose} in {msg}");
                                if s == Sent::WrongIds {
                                    assert!(
                                        msg.contains(&format!(
                                            "{whose} {}: gids only on the client: 4000000",
                                            id.name
                                        )),
                                        "{msg}"
                                    );
                                }
                            }
                        }
                    }
                }
                assert_eq!(audit_lines(&audit), before + 1, "{case}: one audit line");
                let last: serde_json::Value = serde_json::from_str(
                    std::fs::read_to_string(&audit)
                        .unwrap()
                        .lines()
                        .last()
                        .unwrap(),
                )
                .unwrap();
                assert_eq!(last["proxy"], proxy.name.as_str());
                assert_eq!(last["user"], user.name.as_str());
                let verdict = if want == "allowed" {
                    "allowed"
                } else {
                    "denied"
                };
                assert_eq!(last["verdict"], verdict, "{case}: {last}");
                if want != "allowed" {
                    assert!(last["reason"].as_str().unwrap().starts_with(want), "{last}");
                }
                runs += 1;
            }
        }
        // The policy still decides after a clean handshake: an unlisted target is denied.
        let other = AdmitRequest {
            proxy: assertion(
                proxy,
                if server == Server::Strict {
                    Sent::Name
                } else {
                    Sent::Ids
                },
            ),
            user: Assertion {
                name: proxy.name.clone(),
                uid: None,
                gids: None,
            },
            host: "10.0.0.7".into(),
        };
        if server != Server::Plain {
            let d = r.admit(&other).unwrap();
            assert_eq!(d.verdict, Verdict::Denied, "{server:?}: {d:?}");
            assert_eq!(d.reason, "user_not_allowed");
        }
        // Unknown names are not_found, naming whose; bad input is refused before anything.
        let unknown = AdmitRequest {
            proxy: assertion(proxy, Sent::Name),
            user: Assertion {
                name: "no-such-user-pxadm".into(),
                uid: None,
                gids: None,
            },
            host: "10.0.0.7".into(),
        };
        if server != Server::Plain {
            let e = r.admit(&unknown).unwrap_err();
            assert_eq!(e.kind(), "not_found", "{e}");
            assert!(e.to_string().contains("user \"no-such-user-pxadm\""), "{e}");
        }
        for (proxy_name, host) in [
            ("", "10.0.0.7"),
            ("a\0b", "10.0.0.7"),
            (proxy.name.as_str(), "not a host!"),
        ] {
            let before = audit_lines(&audit);
            let bad = AdmitRequest {
                proxy: Assertion {
                    name: proxy_name.into(),
                    uid: None,
                    gids: None,
                },
                user: assertion(user, Sent::Name),
                host: host.into(),
            };
            let e = r.admit(&bad).unwrap_err();
            assert!(
                matches!(e.kind(), "invalid_name" | "invalid_argument"),
                "{e}"
            );
            assert_eq!(audit_lines(&audit), before, "bad input is not audited");
        }
    }
    assert_eq!(runs, 27);
}

/// Scopes by number against the same registry: `open(scope lines)` builds a
/// server_side resolver whose one rule lets `proxy` act as whoever the scope
/// covers, with `proxy` itself protected.
fn scopes(open: &dyn Fn(&str) -> proxid::Result<Proxid>, proxy: &Identity, user: &Identity) {
    let name_only = |id: &Identity| Assertion {
        name: id.name.clone(),
        uid: None,
        gids: None,
    };
    let request = AdmitRequest {
        proxy: name_only(proxy),
        user: name_only(user),
        host: "10.0.0.7".into(),
    };
    let last_gid = *user.gids().last().unwrap();
    let cases = [
        (
            format!("uids = [\"{}\"]", user.uid),
            Some(format!("uid_in_scope: uid {0} in {0}", user.uid)),
        ),
        (
            format!("uids = [\"{}-{}\"]", user.uid, user.uid + 1),
            Some("uid_in_scope".into()),
        ),
        (format!("uids = [\"{}\"]", user.uid + 1), None),
        (
            format!("gids = [\"{last_gid}\"]"),
            Some(format!("gid_in_scope: gid {last_gid} in {last_gid}")),
        ),
        (
            format!("gids = [\"{}\"]", user.gid),
            Some(format!("gid_in_scope: gid {0} in {0}", user.gid)),
        ),
    ];
    for (scope, allowed) in cases {
        let r = open(&scope).unwrap_or_else(|e| panic!("{scope}: {e}"));
        let d = r.admit(&request).unwrap();
        match allowed {
            Some(reason) => {
                assert_eq!(d.verdict, Verdict::Allowed, "{scope}: {d:?}");
                assert!(d.reason.starts_with(&reason), "{scope}: {}", d.reason);
            }
            None => assert_eq!(d.verdict, Verdict::Denied, "{scope}: {d:?}"),
        }
    }
    // The proxy is protected here: a scope covering its UID is refused at open.
    let scope = format!("uids = [\"{}-{}\"]", proxy.uid, proxy.uid + 5);
    let e = open(&scope).expect_err(&scope);
    assert_eq!(e.kind(), "config");
    let msg = e.to_string();
    assert!(
        msg.contains(&format!(
            "covers uid {} (protected user {})",
            proxy.uid, proxy.name
        )),
        "{msg}"
    );
}

fn scope_text(resolution: &str, ldap: &str, proxy: &str, scope: &str) -> String {
    format!(
        "[resolution]\n{resolution}server_side = true\n{ldap}\n[impersonation]\n\
         protected_users = [{proxy:?}]\n\n[[impersonation.proxy]]\nuser = {proxy:?}\n\
         hosts = [\"*\"]\n{scope}\n"
    )
}

fn conf_text(
    resolution: &str,
    ldap: &str,
    server: Server,
    audit: &Path,
    proxy: &str,
    user: &str,
) -> String {
    format!(
        "[resolution]\n{resolution}{}\n{ldap}\n[impersonation]\naudit_log = {:?}\n\n\
         [[impersonation.proxy]]\nuser = {proxy:?}\nhosts = [\"*\"]\nusers = [{user:?}]\n",
        server_lines(server),
        audit.display().to_string()
    )
}

#[test]
fn admit_matrix_against_slapd() {
    let slapd = Slapd::start(Schema::Rfc2307, &support::fixture("rfc2307.ldif"));
    let ldap = format!(
        "[ldap]\nuris = [{:?}]\nbase = {:?}\n",
        slapd.ldap_uri,
        support::slapd::BASE
    );
    let dir = tempfile::tempdir().unwrap();
    let open = |server: Server, audit: &Path| {
        let text = conf_text("mode = \"server\"\n", &ldap, server, audit, "dave", "bob");
        let path = dir.path().join("proxid.conf");
        std::fs::write(&path, &text).unwrap();
        Proxid::new(Config::from_toml(&text, &path).unwrap()).unwrap()
    };
    let r = open(Server::Lenient, &dir.path().join("x"));
    // alice is listed in a GID 0 group, so she is protected: bob is the target.
    let (dave, alice) = (r.resolve("dave").unwrap(), r.resolve("bob").unwrap());
    assert!(
        alice.gids().len() > 1,
        "alice has supplementary groups: {alice:?}"
    );
    matrix(&open, &dave, &alice);
    let path = dir.path().join("scoped.conf");
    scopes(
        &|scope| {
            let text = scope_text("mode = \"server\"\n", &ldap, "dave", scope);
            Proxid::new(Config::from_toml(&text, &path)?)
        },
        &dave,
        &alice,
    );
}

/// Runs inside the namespace set up by `admit_matrix_against_local_nss`.
#[test]
fn inner_local_nss_matrix() {
    if std::env::var_os("PROXID_ADMIT_INNER").is_none() {
        return; // only meaningful inside the private namespace
    }
    let dir = tempfile::tempdir().unwrap();
    let open = |server: Server, audit: &Path| {
        let text = conf_text(
            "mode = \"client\"\n",
            "",
            server,
            audit,
            "pxadm-proxy",
            "pxadm-user",
        );
        Proxid::new(Config::from_toml(&text, &dir.path().join("proxid.conf")).unwrap()).unwrap()
    };
    let r = open(Server::Lenient, &dir.path().join("x"));
    let (proxy, user) = (
        r.resolve("pxadm-proxy").unwrap(),
        r.resolve("pxadm-user").unwrap(),
    );
    assert_eq!((proxy.uid, user.uid), (47101, 47102));
    assert_eq!(user.gids(), vec![47102, 47150, 47151]);
    // The client side of a local-registry client: what proxid_assert would send.
    assert_eq!(r.assert("pxadm-user").unwrap(), assertion(&user, Sent::Ids));
    matrix(&open, &proxy, &user);
    let path = dir.path().join("scoped.conf");
    scopes(
        &|scope| {
            let text = scope_text("mode = \"client\"\n", "", "pxadm-proxy", scope);
            Proxid::new(Config::from_toml(&text, &path)?)
        },
        &proxy,
        &user,
    );
    println!("PXADM-INNER-DONE");
}

#[test]
fn admit_matrix_against_local_nss() {
    if run(Command::new("id").arg("-u")).trim() != "0" {
        eprintln!("skipped: needs root for unshare -m (CI runs as root)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    let mut group = std::fs::read_to_string("/etc/group").unwrap();
    passwd += "pxadm-proxy:x:47101:47101::/nonexistent:/usr/sbin/nologin\n";
    passwd += "pxadm-user:x:47102:47102::/home/pxadm-user:/bin/sh\n";
    group += "pxadm-proxy:x:47101:\npxadm-user:x:47102:\n";
    group += "pxadm-a:x:47150:pxadm-user\npxadm-b:x:47151:pxadm-user,pxadm-proxy\n";
    let (p, g) = (dir.path().join("passwd"), dir.path().join("group"));
    std::fs::write(&p, passwd).unwrap();
    std::fs::write(&g, group).unwrap();
    let exe = std::env::current_exe().unwrap();
    let script = format!(
        "set -e\nmount --bind {} /etc/passwd\nmount --bind {} /etc/group\n\
         exec {} --exact inner_local_nss_matrix --nocapture --test-threads=1",
        p.display(),
        g.display(),
        exe.display()
    );
    let out = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", &script])
        .env("PROXID_ADMIT_INNER", "1")
        .env_remove("PROXID_CONF")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("PXADM-INNER-DONE"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn run(cmd: &mut Command) -> String {
    String::from_utf8_lossy(&cmd.output().unwrap().stdout).into_owned()
}
