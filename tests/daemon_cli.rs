//! `proxid resolve` / `proxid groups` answered by a running proxidd (issue 15): against
//! real slapd and a real daemon on a private socket, the daemon's answer is the one
//! the CLI gives by itself (`--direct`) for every fixture user, hostile and refused
//! names and every error; the JSON says who answered (`"via"`); a stopped daemon, a
//! daemon running another configuration, an old daemon and a hung one all leave the
//! CLI resolving by itself; `--direct` and client mode never touch the socket.

mod support;

use std::ffi::{OsStr, OsString};
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use proxid_proto::{decode_header, Request, Response, HEADER_LEN, MAX_REQUEST};
use serde_json::Value;
use support::slapd::{Schema, Slapd};
use support::ConfFile;

const PROXID: &str = env!("CARGO_BIN_EXE_proxid");
const PROXIDD: &str = env!("CARGO_BIN_EXE_proxidd");

/// proxidd in the foreground on `socket`, stopped (SIGTERM) when dropped.
struct Daemon {
    child: Child,
    log: PathBuf,
}

impl Daemon {
    fn start(config: &Path, socket: &Path) -> Daemon {
        let log = socket.with_extension("log");
        let child = Command::new(PROXIDD)
            .args(["--foreground", "--config"])
            .arg(config)
            .arg("--socket")
            .arg(socket)
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("proxidd starts");
        let mut daemon = Daemon { child, log };
        #[allow(clippy::disallowed_methods)] // waits in real time for a real process
        let started = Instant::now();
        while !daemon.log_text().lines().any(|l| l == "proxidd: ready") {
            if let Ok(Some(status)) = daemon.child.try_wait() {
                panic!("proxidd exited ({status}): {}", daemon.log_text());
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "proxidd not ready: {}",
                daemon.log_text()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        daemon
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn stop(&mut self) {
        // SAFETY: signalling our own child.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let _ = self.child.wait();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.stop();
        }
        if std::thread::panicking() {
            eprintln!("--- proxidd log ---\n{}", self.log_text());
        }
    }
}

/// `proxid --config CONFIG ARGS...` with the daemon's socket in the environment.
fn proxid(config: &Path, socket: &Path, args: &[&OsStr]) -> Output {
    Command::new(PROXID)
        .env_remove("PROXID_CONF")
        .env("PROXID_NSS_SOCKET", socket)
        .arg("--config")
        .arg(config)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("proxid runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8(b.to_vec()).expect("output is UTF-8")
}

/// Every user name of the fixtures (`uid:` lines; base64 ones left out).
fn fixture_users(ldif: &str) -> Vec<String> {
    let mut names: Vec<String> = ldif
        .lines()
        .filter_map(|l| l.strip_prefix("uid: "))
        .map(str::to_string)
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Names that fail, each in its own way: not found, ambiguous or invalid directory
/// data, filter metacharacters, case and space variants, root, escapes, too long, not
/// UTF-8.
fn failing_names() -> Vec<OsString> {
    let mut names: Vec<OsString> = [
        "nobody-here",
        "dup",
        "sameuid1", // two users share its UID: found by name, refused by UID
        "nouidnumber",
        "nogidnumber",
        "negative",
        "*",
        "inj)(uid=*",
        "alice*",
        "ALICE",
        " alice",
        "root",
        "a\nb\u{202e}",
        "x\x1b[31m",
    ]
    .iter()
    .map(OsString::from)
    .collect();
    names.push(OsString::from("l".repeat(300)));
    names.push(OsStr::from_bytes(b"bad\xffutf8").to_os_string());
    names
}

fn os(names: &[String]) -> Vec<OsString> {
    names.iter().map(OsString::from).collect()
}

/// `proxid ARGS... NAMES...` as (exit code, stdout, stderr).
fn run(config: &Path, socket: &Path, args: &[&str], names: &[OsString]) -> (i32, String, String) {
    let mut all: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
    all.extend(names.iter().map(OsString::as_os_str));
    let out = proxid(config, socket, &all);
    (
        out.status.code().unwrap_or(-1),
        text(&out.stdout),
        text(&out.stderr),
    )
}

/// JSON lines with `via` taken out, and the `via` of each line that has one. A line
/// the daemon answered says so in `source` too; it is put back to the directory's
/// `"ldap"` (what the same line resolved directly says) so lines compare.
fn split_via(stdout: &str) -> (Vec<Value>, Vec<String>) {
    let mut vias = Vec::new();
    let lines = stdout
        .lines()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).expect("a JSON line");
            if let Some(object) = v.as_object_mut() {
                if let Some(via) = object.remove("via") {
                    let via = via.as_str().unwrap_or_default().to_string();
                    if via == "proxidd" {
                        assert_eq!(object.get("source"), Some(&Value::from("proxidd")), "{l}");
                        object.insert("source".into(), Value::from("ldap"));
                    }
                    vias.push(via);
                }
            }
            v
        })
        .collect();
    (lines, vias)
}

/// The daemon's request counter, from `proxid status --json`.
fn daemon_requests(config: &Path, socket: &Path) -> u64 {
    let out = proxid(
        config,
        socket,
        &[OsStr::new("status"), OsStr::new("--json")],
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("status JSON");
    v["requests"].as_u64().expect("requests")
}

fn fixtures() -> (Slapd, Vec<String>) {
    let ldif = [
        support::fixture("rfc2307.ldif"),
        support::fixture("broken.ldif"),
    ]
    .join("\n");
    let users = fixture_users(&support::fixture("rfc2307.ldif"));
    (Slapd::start(Schema::Rfc2307, &ldif), users)
}

#[test]
fn the_daemon_answers_exactly_as_the_cli_does_by_itself() {
    let (server, users) = fixtures();
    let conf = ConfFile::new(&[&server.ldap_uri], "");
    let socket = conf.dir.path().join("nss.sock");
    let daemon = Daemon::start(&conf.path, &socket);
    let c = &conf.path;

    // Every fixture user, then every failing name, in one invocation and one by one.
    let good = os(&users);
    assert!(good.len() >= 15, "{good:?}");
    let bad = failing_names();
    let before = daemon_requests(c, &socket);
    for names in [&good, &bad] {
        let (code, out, err) = run(c, &socket, &["resolve", "--json"], names);
        let (dcode, dout, derr) = run(c, &socket, &["resolve", "--json", "--direct"], names);
        let (lines, vias) = split_via(&out);
        let (dlines, dvias) = split_via(&dout);
        assert_eq!((code, &lines, &err), (dcode, &dlines, &derr), "{names:?}");
        assert_eq!(lines.len(), names.len());
        assert!(vias.iter().all(|v| v == "proxidd"), "{vias:?}");
        assert!(dvias.iter().all(|v| v == "direct"), "{dvias:?}");
        for args in [&["resolve"][..], &["groups"][..]] {
            let daemon_said = run(c, &socket, args, names);
            let direct_args = [args, &["--direct"][..]].concat();
            assert_eq!(
                daemon_said,
                run(c, &socket, &direct_args, names),
                "{args:?}"
            );
        }
    }
    assert_eq!(
        split_via(&run(c, &socket, &["resolve", "--json"], &good).1)
            .1
            .len(),
        good.len()
    );
    for name in &bad {
        let one = std::slice::from_ref(name);
        for args in [&["resolve", "--json"][..], &["groups"][..]] {
            let direct_args = [args, &["--direct"][..]].concat();
            let (code, out, err) = run(c, &socket, args, one);
            let (dcode, dout, derr) = run(c, &socket, &direct_args, one);
            assert_eq!((code, &err), (dcode, &derr), "{name:?} {args:?}");
            if args[0] == "resolve" {
                assert_eq!(split_via(&out).0, split_via(&dout).0, "{name:?}");
                let v: Value = serde_json::from_str(out.trim()).unwrap();
                let kind = v["error"].as_str().unwrap_or_default().to_string();
                let want = match name.to_str() {
                    Some("nobody-here" | "ALICE" | " alice" | "alice*" | "*" | "a\nb\u{202e}") => {
                        "not_found"
                    }
                    Some("dup") => "directory",
                    _ => "",
                };
                if !want.is_empty() {
                    assert_eq!(kind, want, "{name:?}: {out}");
                }
                let want_code = match kind.as_str() {
                    "" => 0,
                    "not_found" => 1,
                    _ => 2,
                };
                assert_eq!(code, want_code, "{name:?}: {out}");
            } else {
                assert_eq!(out, dout, "{name:?}");
            }
        }
    }
    // The daemon was asked: at least once per valid name of each daemon run.
    let asked = daemon_requests(c, &socket) - before;
    assert!(asked as usize >= 2 * good.len(), "{asked}");
    assert!(daemon.log_text().contains("proxidd: ready"));
}

#[test]
fn without_the_same_daemon_the_cli_resolves_by_itself() {
    let (server, _) = fixtures();
    let conf = ConfFile::new(&[&server.ldap_uri], "");
    let socket = conf.dir.path().join("nss.sock");
    let c = &conf.path;
    let alice = [OsString::from("alice")];
    let via = |config: &Path| {
        let (code, out, err) = run(config, &socket, &["resolve", "--json"], &alice);
        assert_eq!(code, 0, "{out}{err}");
        let (lines, vias) = split_via(&out);
        assert_eq!(lines[0]["source"], "ldap");
        assert_eq!(lines[0]["uid"], 10001);
        vias[0].clone()
    };
    // No daemon at all.
    assert_eq!(via(c), "direct");

    let mut daemon = Daemon::start(c, &socket);
    assert_eq!(via(c), "proxidd");
    // The same file named through PROXID_CONF rather than --config.
    let out = Command::new(PROXID)
        .env("PROXID_CONF", c)
        .env("PROXID_NSS_SOCKET", &socket)
        .args(["resolve", "--json", "alice"])
        .output()
        .unwrap();
    assert_eq!(split_via(&text(&out.stdout)).1, ["proxidd"]);
    // Another file, even one saying the same with a comment: the CLI resolves itself.
    let text_of = std::fs::read_to_string(c).unwrap();
    let same = conf.dir.path().join("same.conf");
    std::fs::write(&same, format!("# the same\n{text_of}")).unwrap();
    assert_eq!(via(&same), "direct");
    let other = conf.dir.path().join("other.conf");
    std::fs::write(&other, format!("{text_of}min_uid = 1001\n")).unwrap();
    assert_eq!(via(&other), "direct");
    let out = proxid(
        &other,
        &socket,
        &[OsStr::new("groups"), OsStr::new("alice")],
    );
    assert_eq!(out.status.code(), Some(0));
    // The daemon's own file edited, not yet reloaded: not the configuration it runs.
    std::fs::write(c, format!("{text_of}connections = 2\n")).unwrap();
    assert_eq!(via(c), "direct");
    // Reloaded (SIGHUP): answered again.
    // SAFETY: signalling our own child.
    unsafe { libc::kill(daemon.child.id() as libc::pid_t, libc::SIGHUP) };
    #[allow(clippy::disallowed_methods)] // waits in real time for a real process
    let started = Instant::now();
    while via(c) != "proxidd" {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{}",
            daemon.log_text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // Stopped: the socket is gone.
    daemon.stop();
    assert!(!socket.exists());
    assert_eq!(via(c), "direct");
    // Killed: a stale socket nobody listens on (refused at once).
    let mut daemon = Daemon::start(c, &socket);
    let _ = daemon.child.kill();
    let _ = daemon.child.wait();
    assert!(socket.exists());
    assert_eq!(via(c), "direct");
}

/// A listener that never accepts: connections wait in its backlog.
fn hung_listener(path: &Path) -> UnixListener {
    let _ = std::fs::remove_file(path);
    let listener = UnixListener::bind(path).unwrap();
    listener.set_nonblocking(true).unwrap();
    listener
}

/// Whether anyone connected to `listener` (taken from its backlog).
fn was_touched(listener: &UnixListener) -> bool {
    listener.accept().is_ok()
}

#[test]
fn direct_and_client_mode_never_touch_the_socket() {
    let (server, _) = fixtures();
    let conf = ConfFile::new(&[&server.ldap_uri], "");
    let socket = conf.dir.path().join("hung.sock");
    let listener = hung_listener(&socket);
    let alice = [OsString::from("alice")];
    for args in [
        &["resolve", "--json", "--direct"][..],
        &["groups", "--direct"][..],
    ] {
        let (code, out, err) = run(&conf.path, &socket, args, &alice);
        assert_eq!(code, 0, "{out}{err}");
        assert!(!was_touched(&listener), "{args:?} connected");
    }
    let (_, out, _) = run(
        &conf.path,
        &socket,
        &["resolve", "--json", "--direct"],
        &alice,
    );
    assert_eq!(split_via(&out).1, ["direct"]);

    // Client mode resolves through this host's NSS; proxidd serves only server mode.
    let client = conf.dir.path().join("client.conf");
    std::fs::write(&client, "[resolution]\nmode = \"client\"\n").unwrap();
    let root = [OsString::from("root")];
    let (code, out, err) = run(&client, &socket, &["resolve", "--json"], &root);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(split_via(&out).1, ["direct"]);
    assert!(!was_touched(&listener), "client mode connected");
    // A configuration that does not load: reported as before, no socket.
    let broken = conf.dir.path().join("broken.conf");
    std::fs::write(&broken, "[resolution\n").unwrap();
    let (code, _, err) = run(&broken, &socket, &["resolve"], &root);
    assert_eq!(code, 2);
    assert!(err.starts_with("proxid: configuration: "), "{err}");
    assert!(!was_touched(&listener), "broken configuration connected");
}

#[test]
fn a_hung_or_old_daemon_leaves_the_cli_resolving_by_itself() {
    let (server, _) = fixtures();
    // Short bounds, so a hung daemon costs little: connect + operation + 0.5 s.
    let conf = ConfFile::new(
        &[&server.ldap_uri],
        "connect_timeout = \"1s\"\noperation_timeout = \"1s\"\n",
    );
    let alice = [OsString::from("alice"), OsString::from("bob")];
    let want = run(&conf.path, Path::new("/nonexistent"), &["resolve"], &alice);
    assert_eq!(want.0, 0, "{want:?}");

    // Hung: connected (into the backlog), never answered.
    let socket = conf.dir.path().join("hung.sock");
    let listener = hung_listener(&socket);
    #[allow(clippy::disallowed_methods)] // the CLI's real timeout, loosely bounded
    let started = Instant::now();
    let (code, out, err) = run(&conf.path, &socket, &["resolve", "--json"], &alice);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(split_via(&out).1, ["direct", "direct"]);
    assert!(was_touched(&listener));
    // Given up once, not once per name (a loose bound: 2.5 s per name would be 5 s).
    assert!(started.elapsed() < Duration::from_secs(20));

    // A daemon from before the Resolve request: "unsupported request kind".
    let socket = conf.dir.path().join("old.sock");
    let _ = std::fs::remove_file(&socket);
    let old = UnixListener::bind(&socket).unwrap();
    let server_thread = std::thread::spawn(move || {
        let (mut s, _) = old.accept().unwrap();
        let mut header = [0u8; HEADER_LEN];
        s.read_exact(&mut header).unwrap();
        let mut payload = vec![0u8; decode_header(&header, MAX_REQUEST).unwrap()];
        s.read_exact(&mut payload).unwrap();
        let why = match Request::decode_payload(&payload) {
            Ok(Request::Resolve { .. }) => "unsupported request kind 11".to_string(),
            other => format!("unexpected {other:?}"),
        };
        s.write_all(&Response::Error(why).encode()).unwrap();
        // Anything more on this connection would be a second question: none comes.
        let mut rest = Vec::new();
        let _ = s.read_to_end(&mut rest);
        rest
    });
    let (code, out, err) = run(&conf.path, &socket, &["resolve"], &alice);
    assert_eq!((code, &out, &err), (want.0, &want.1, &want.2));
    assert!(server_thread.join().unwrap().is_empty());
}

#[test]
fn a_user_who_cannot_read_the_bind_secret_is_answered_by_the_daemon() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("SKIPPED: needs root to run the CLI as nobody");
        return;
    }
    let (server, _) = fixtures();
    let dir = tempfile::tempdir().unwrap();
    let bind = ConfFile::bind_lines(dir.path(), support::slapd::BIND_PW);
    let conf = ConfFile::new(&[&server.ldap_uri], &bind);
    for d in [dir.path(), conf.dir.path()] {
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let socket = conf.dir.path().join("nss.sock");
    let _daemon = Daemon::start(&conf.path, &socket);
    let as_nobody = |extra: &[&str]| {
        let out = Command::new(PROXID)
            .env_remove("PROXID_CONF")
            .env("PROXID_NSS_SOCKET", &socket)
            .arg("--config")
            .arg(&conf.path)
            .args(extra)
            .uid(65534)
            .gid(65534)
            .output()
            .expect("proxid runs");
        (out.status.code(), text(&out.stdout), text(&out.stderr))
    };
    // By itself it cannot read the secret: a configuration error, as before.
    let (code, _, err) = as_nobody(&["resolve", "--direct", "alice"]);
    assert_eq!(code, Some(2));
    assert!(err.starts_with("proxid: configuration: "), "{err}");
    // Through the daemon: answered, the same as root resolving by itself.
    let (code, out, err) = as_nobody(&["resolve", "--json", "alice", "nobody-here"]);
    assert_eq!(code, Some(1), "{err}");
    let (lines, vias) = split_via(&out);
    assert_eq!(vias, ["proxidd"]);
    let root = proxid(
        &conf.path,
        &socket,
        &["resolve", "--json", "--direct", "alice", "nobody-here"].map(OsStr::new),
    );
    assert_eq!(lines, split_via(&text(&root.stdout)).0);
}
