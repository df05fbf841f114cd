//! proxidd + libnss_proxid.so.2 through real glibc (getent, id) against real slapd, in
//! private mount namespaces with a bind-mounted nsswitch.conf (`passwd: files proxid`);
//! the machine's NSS is never touched (checked byte for byte).

#[path = "support/nss.rs"]
mod nss;
mod support;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use nss::{skip_unless_root, Host, PROXIDD};
use proxid::source::ldap::LdapSource;
use proxid_proto::{client, Request, Response};
use support::slapd::{Slapd, BASE};
use support::ConfFile;

/// Groups asked by name: the fixtures' (some only in one schema) and absent ones.
const GROUPS: &[&str] = &[
    "staff",
    "devs",
    "ops",
    "eng",
    "all",
    "cycle-a",
    "cycle-b",
    "hostile",
    "teamwork",
    "root-alike",
    "team",
    "legacy",
    "root",
    "DEVS",
    "*",
    "inj)(cn=*",
];
const ABSENT: &[&str] = &[
    "ALICE",
    " alice",
    "*",
    "inj)(uid=*",
    "alice*",
    "nobody-here",
    "root",
];

/// Asks every question through glibc, one line per answer: `getent passwd NAME`,
/// `getent initgroups NAME`, `id NAME`, `getent passwd UID` per user, then
/// `getent group NAME` and `getent group GID` per group.
const QUERIES: &str = r#"
one() { out=$("$@" 2>/dev/null); rc=$?; printf '%s %s:%s\n' "$kind" "$rc" "$(printf '%s' "$out" | tr '\n' ' ')"; }
while IFS= read -r name; do
    kind=passwd one getent passwd -- "$name"
    uid=$(getent passwd -- "$name" | awk -F: '{print $3}')
    kind=initgroups one getent initgroups -- "$name"
    kind=id one id -- "$name"
    if [ -n "$uid" ]; then kind=byuid one getent passwd "$uid"; else echo "byuid"; fi
done < "$D/names"
while IFS= read -r group; do
    kind=group one getent group -- "$group"
    gid=$(getent group -- "$group" | awk -F: '{print $3}')
    if [ -n "$gid" ]; then kind=bygid one getent group "$gid"; else echo "bygid"; fi
done < "$D/groups"
"#;

/// Runs `start` + QUERIES in a private namespace with `nsswitch` and returns the lines.
fn ask(d: &Path, nsswitch: &str, start: &str, names: &[String]) -> Vec<String> {
    std::fs::write(d.join("nsswitch.conf"), nsswitch).unwrap();
    std::fs::write(d.join("names"), names.join("\n") + "\n").unwrap();
    std::fs::write(d.join("groups"), GROUPS.join("\n") + "\n").unwrap();
    let script = format!(
        "set -e\nmount --bind \"$D/nsswitch.conf\" /etc/nsswitch.conf\n{start}\nset +e\n{QUERIES}\nkill \"$pid\"\nwait \"$pid\" 2>/dev/null\nexit 0\n"
    );
    std::fs::write(d.join("run.sh"), script).unwrap();
    let out = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh"])
        .arg(d.join("run.sh"))
        .env("D", d)
        .env("LD_LIBRARY_PATH", nss::module_dir())
        .env("PROXID_NSS_SOCKET", d.join("nss.sock"))
        .output()
        .expect("unshare");
    assert!(
        out.status.success(),
        "run failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

const WAIT_FOR: &str = r#"
i=0
while ! grep -q "$READY" "$LOG" 2>/dev/null; do
    i=$((i + 1))
    if [ "$i" -gt 400 ]; then echo "service did not start" >&2; cat "$LOG" >&2; exit 3; fi
    sleep 0.05
done
"#;

fn ask_proxid(server: &Slapd, extra: &str, names: &[String]) -> (Vec<String>, String) {
    let conf = ConfFile::new(&[&server.ldap_uri], extra);
    let d = conf.dir.path();
    let start = format!(
        "LOG=\"$D/proxidd.log\"; READY='^proxidd: ready$'\n\"{PROXIDD}\" --foreground --config \"{}\" --socket \"$D/nss.sock\" 2>\"$LOG\" &\npid=$!\n{WAIT_FOR}",
        conf.path.display()
    );
    let lines = ask(
        d,
        "passwd: files proxid\ngroup: files proxid\nhosts: files\n",
        &start,
        names,
    );
    let log = std::fs::read_to_string(d.join("proxidd.log")).unwrap_or_default();
    (lines, log)
}

fn ask_nslcd(server: &Slapd, names: &[String]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("nslcd.conf"),
        format!(
            "uri {}\nbase {BASE}\nvalidnames /^.+$/\n\
             filter group (|(objectClass=posixGroup)(objectClass=groupOfNames))\n\
             bind_timelimit 5\ntimelimit 5\nreconnect_retrytime 1\n",
            server.ldap_uri
        ),
    )
    .unwrap();
    let start = "mount -t tmpfs tmpfs /run\nmkdir -p /run/nslcd\nmount --bind \"$D/nslcd.conf\" /etc/nslcd.conf\n\
         /usr/sbin/nslcd -n 2>\"$D/nslcd.log\" &\npid=$!\n\
         i=0\nwhile [ ! -S /run/nslcd/socket ]; do i=$((i+1)); [ $i -gt 200 ] && exit 3; sleep 0.05; done";
    ask(
        d,
        "passwd: files ldap\ngroup: files ldap\nhosts: files\n",
        start,
        names,
    )
}

/// Removes what differs on purpose: GID 0 (proxid never serves it; nslcd passes it
/// through), password fields (proxid: `x`; nslcd: `*`) and the order of a
/// group's members.
fn normalize(line: &str) -> String {
    let (kind, rest) = line.split_once(' ').unwrap_or((line, ""));
    let (rc, out) = rest.split_once(':').unwrap_or(("", rest));
    let out = out.trim_end();
    match kind {
        "group" | "bygid" => {
            let f: Vec<&str> = out.split(':').collect();
            if f.len() < 4 || f[2] == "0" {
                return format!("{kind} none");
            }
            let mut members: Vec<&str> = f[3].split(',').filter(|s| !s.is_empty()).collect();
            members.sort();
            format!("{kind} {rc}:{}:{}:{}", f[0], f[2], members.join(","))
        }
        "initgroups" => {
            let parts: Vec<&str> = out.split_whitespace().filter(|p| *p != "0").collect();
            format!("{kind} {rc}:{}", parts.join(" "))
        }
        "id" => {
            let cleaned: Vec<&str> = out
                .split(',')
                .map(|g| g.strip_prefix("groups=0(root)").unwrap_or(g))
                .filter(|g| !g.starts_with("0("))
                .collect();
            format!("{kind} {rc}:{}", cleaned.join(","))
        }
        "passwd" | "byuid" => {
            // The password field: proxid always `x`, nslcd `*` without userPassword.
            let mut f: Vec<&str> = out.split(':').collect();
            if f.len() == 7 {
                f[1] = "-";
            }
            format!("{kind} {rc}:{}", f.join(":"))
        }
        _ => line.trim_end().to_string(),
    }
}

fn compare(server: &Slapd, extra: &str) {
    let nsswitch_before = std::fs::read("/etc/nsswitch.conf").unwrap();
    let people = format!("user_base = \"ou=people,{BASE}\"\n");
    let conf = ConfFile::new(&[&server.ldap_uri], &format!("{people}{extra}"));
    let mut names = LdapSource::new(&conf.config())
        .unwrap()
        .user_names()
        .unwrap();
    assert!(names.len() >= 20, "{names:?}");
    names.extend(ABSENT.iter().map(|s| s.to_string()));
    let (ours, log) = ask_proxid(server, extra, &names);
    let theirs = ask_nslcd(server, &names);
    assert_eq!(ours.len(), theirs.len(), "{ours:#?}\n{theirs:#?}");
    let mut found = 0;
    let mut primary = String::new();
    let mut absent = false;
    let diffs: Vec<String> = ours
        .iter()
        .zip(&theirs)
        .filter(|(raw, theirs_raw)| {
            let (o, t) = (normalize(raw), normalize(theirs_raw));
            if let Some(rest) = o.strip_prefix("passwd ") {
                primary = rest.split(':').nth(4).unwrap_or_default().to_string();
                absent = !rest.starts_with("0:");
            }
            if o.starts_with("initgroups ") {
                // Intended differences: proxid leaves the primary GID to glibc (nslcd
                // lists it when the group names the user), and a name that is not a
                // user has no groups (nslcd matches `memberUid` loosely: " alice" and
                // "ALICE" get alice's groups).
                if absent {
                    return o
                        .split(':')
                        .nth(1)
                        .unwrap_or_default()
                        .split_whitespace()
                        .count()
                        > 1;
                }
                let strip = |l: &str| {
                    l.split_whitespace()
                        .filter(|g| *g != primary)
                        .collect::<Vec<_>>()
                        .join(" ")
                };
                return strip(&o) != strip(&t);
            }
            // glibc's putgrent refuses to print a member holding ',' (`com,ma`), so
            // getent prints nothing for the hostile group where proxid gives the
            // members' real names; nslcd gives DN text (`com\2Cma`) instead. The
            // names themselves are checked by rfc2307bis_members_are_uid_values.
            let raw = raw.trim_end();
            if (raw == "group 0:" || raw == "bygid") && t.contains(":hostile:") {
                return false;
            }
            o != t
        })
        .map(|(o, t)| format!("proxid: {o}\nnslcd:  {t}"))
        .collect();
    assert!(diffs.is_empty(), "{}\nlog: {log}", diffs.join("\n"));
    for o in &ours {
        found += usize::from(o.starts_with("passwd 0:"));
    }
    // Every fixture user; of the absent names only `root`, from /etc/passwd.
    assert_eq!(
        found,
        names.len() - ABSENT.len() + 1,
        "every fixture user found"
    );
    // The password field is always x; root is never served by proxid.
    for line in ours.iter().filter(|l| l.starts_with("passwd 0:")) {
        assert_eq!(line.split(':').nth(2), Some("x"), "{line}");
    }
    assert!(!log.contains("recursion"), "{log}");
    assert_eq!(
        std::fs::read("/etc/nsswitch.conf").unwrap(),
        nsswitch_before,
        "the machine's nsswitch.conf changed"
    );
}

#[test]
fn rfc2307_getent_and_id_match_nslcd() {
    if skip_unless_root("rfc2307_getent_and_id_match_nslcd") {
        return;
    }
    compare(support::rfc2307(), "");
}

#[test]
fn rfc2307bis_getent_and_id_match_nslcd() {
    if skip_unless_root("rfc2307bis_getent_and_id_match_nslcd") {
        return;
    }
    compare(support::rfc2307bis(), "schema = \"rfc2307bis\"\n");
}

fn conf_for(server: &Slapd) -> ConfFile {
    ConfFile::new(&[&server.ldap_uri], "")
}

#[test]
fn daemon_down_answers_at_once_and_restart_needs_no_caller_restart() {
    if skip_unless_root("daemon_down_answers_at_once_and_restart_needs_no_caller_restart") {
        return;
    }
    let conf = conf_for(support::rfc2307());
    let host = Host::new();
    let mut daemon = host.start_daemon(&conf.path);
    assert_eq!(host.run("getent", &["passwd", "alice"]).0, 0);
    assert!(daemon.stop().success());
    assert!(!host.socket.exists(), "socket removed on SIGTERM");
    // One long-lived caller: a shell asking before, during and after the outage.
    let local = std::fs::read_to_string("/etc/passwd").unwrap();
    let local_user = local.lines().next().unwrap().split(':').next().unwrap();
    for name in ["alice", "bob"] {
        #[allow(clippy::disallowed_methods)] // real time: a daemon in another process answers
        let started = Instant::now();
        let (code, out) = host.run("getent", &["passwd", name]);
        assert_eq!(code, 2, "{name} not found while the daemon is down: {out}");
        // The namespace + exec cost is included; the module itself answers at once.
        assert!(started.elapsed() < Duration::from_millis(1000));
    }
    assert_eq!(host.run("getent", &["passwd", local_user]).0, 0);
    // A C caller measures the module alone: within 100 ms per call.
    let (code, out) = host.run(&nss::c_program("nss_calls"), &["timed", "alice", "100"]);
    assert_eq!(code, 0, "{out}");
    // `proxid status` says the daemon is not running.
    let out = Command::new(env!("CARGO_BIN_EXE_proxid"))
        .arg("status")
        .env("PROXID_NSS_SOCKET", &host.socket)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not running"));
    // Restart while one process keeps asking: it gets answers again.
    let mut waiter = host
        .command(&nss::c_program("nss_calls"))
        .args(["until-found", "alice", "10000"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let _daemon = host.start_daemon(&conf.path);
    let status = waiter.wait().unwrap();
    assert!(
        status.success(),
        "the same process found alice after the restart"
    );
}

#[test]
fn refuses_client_mode_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("proxid.conf");
    std::fs::write(&conf, "[resolution]\nmode = \"client\"\n").unwrap();
    let out = Command::new(PROXIDD)
        .args(["--foreground", "--config"])
        .arg(&conf)
        .arg("--socket")
        .arg(dir.path().join("s"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("mode = \"server\""), "{err}");
    assert!(!dir.path().join("s").exists());
    let out = Command::new(PROXIDD).arg("--bogus").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

fn raw_call(socket: &Path, bytes: &[u8]) -> Option<Response> {
    let mut s = UnixStream::connect(socket).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = s.write_all(bytes);
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let (payload, _) = proxid_proto::split_frame(&buf, proxid_proto::MAX_FRAME).ok()??;
    Response::decode_payload(payload).ok()
}

fn call(socket: &Path, request: Request) -> Response {
    client::call(
        socket.as_os_str().as_encoded_bytes(),
        &request,
        Duration::from_secs(5),
    )
    .expect("daemon answers")
}

#[test]
fn hostile_protocol_input_and_idle_clients_do_not_stop_service() {
    if skip_unless_root("hostile_protocol_input_and_idle_clients_do_not_stop_service") {
        return;
    }
    let conf = conf_for(support::rfc2307());
    let host = Host::new();
    let daemon = host.start_daemon(&conf.path);
    let sock = host.socket.clone();
    // 1,000 idle connections, held open while others are served.
    let idle: Vec<UnixStream> = (0..1000)
        .filter_map(|_| UnixStream::connect(&sock).ok())
        .collect();
    assert!(idle.len() >= 900, "{} idle connections", idle.len());
    let mut frame = Request::GetPwNam(b"alice".to_vec()).encode();
    let hostile: Vec<Vec<u8>> = vec![
        b"GET / HTTP/1.0\r\n\r\n".to_vec(),
        vec![0; 64],
        vec![b'P', b'X', b'D', 1, 0xff, 0xff, 0xff, 0xff],
        vec![b'P', b'X', b'D', 9, 0, 0, 0, 2, 0, 8],
        frame[..frame.len() - 2].to_vec(),
        {
            frame[9] = 0xee; // unknown kind
            frame.clone()
        },
        vec![
            b'P', b'X', b'D', 1, 0, 0, 0, 6, 0, 1, 0xff, 0xff, 0xff, 0xff,
        ],
    ];
    for bytes in &hostile {
        let answer = raw_call(&sock, bytes);
        assert!(
            !matches!(answer, Some(Response::Passwd(_))),
            "{bytes:?}: {answer:?}"
        );
    }
    match call(&sock, Request::GetPwNam(b"alice".to_vec())) {
        Response::Passwd(p) => assert_eq!((p.name.as_str(), p.passwd.as_str()), ("alice", "x")),
        other => panic!("{other:?}"),
    }
    assert_eq!(host.run("getent", &["passwd", "bob"]).0, 0);
    // Privileged requests need root: drop to nobody in a child and ask.
    let nobody = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(PROXIDD)
        .arg("--help")
        .output();
    if nobody.map(|o| o.status.success()).unwrap_or(false) {
        let out = Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_proxid"))
            .args(["cache", "invalidate"])
            .env("PROXID_NSS_SOCKET", &sock)
            .output()
            .unwrap();
        assert_ne!(out.status.code(), Some(0), "non-root may not invalidate");
    }
    assert!(matches!(
        call(&sock, Request::Invalidate(None)),
        Response::Done(_)
    ));
    drop(idle);
    assert!(daemon.log_text().contains("proxidd: ready"));
}

#[test]
fn reload_with_a_broken_config_keeps_serving() {
    if skip_unless_root("reload_with_a_broken_config_keeps_serving") {
        return;
    }
    let conf = conf_for(support::rfc2307());
    let host = Host::new();
    let daemon = host.start_daemon(&conf.path);
    let good = std::fs::read_to_string(&conf.path).unwrap();
    std::fs::write(&conf.path, "[ldap\nthis is not toml").unwrap();
    daemon.signal(libc::SIGHUP);
    #[allow(clippy::disallowed_methods)] // real time: a daemon in another process answers
    let started = Instant::now();
    while !daemon.log_text().contains("reload failed") {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{}",
            daemon.log_text()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(host.run("getent", &["passwd", "alice"]).0, 0);
    assert!(matches!(
        call(&host.socket, Request::Reload),
        Response::Error(_)
    ));
    std::fs::write(
        &conf.path,
        good + "\n[daemon]\nfilter_users = [\"alice\"]\n",
    )
    .unwrap();
    assert!(matches!(
        call(&host.socket, Request::Reload),
        Response::Done(_)
    ));
    assert_eq!(
        host.run("getent", &["passwd", "alice"]).0,
        2,
        "filtered after reload"
    );
    assert_eq!(host.run("getent", &["passwd", "bob"]).0, 0);
}

#[test]
fn status_reports_the_directory_and_the_cache() {
    if skip_unless_root("status_reports_the_directory_and_the_cache") {
        return;
    }
    // Without the shared table, so the repeated lookups reach the daemon's cache
    // (with it, they are answered by the module; tests/nss_table.rs).
    let conf = ConfFile::new(
        &[&support::rfc2307().ldap_uri],
        "\n[daemon]\nshared_table = false\n",
    );
    let host = Host::new();
    let _daemon = host.start_daemon(&conf.path);
    for _ in 0..3 {
        assert_eq!(host.run("getent", &["passwd", "alice"]).0, 0);
    }
    let Response::Status(s) = call(&host.socket, Request::Status) else {
        panic!("status")
    };
    assert!(s.directory_reachable);
    assert!(s.cache_hits >= 2 && s.cache_misses >= 1, "{s:?}");
    assert!(s.detail.is_some(), "root gets the detail");
    let out = Command::new(env!("CARGO_BIN_EXE_proxid"))
        .arg("status")
        .env("PROXID_NSS_SOCKET", &host.socket)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("directory: reachable"), "{text}");
    assert!(text.contains("hit rate"), "{text}");
}

/// A group of `HUGE_GROUP` members (memberUid values), generated.
const HUGE_GROUP: usize = 10_000;

fn huge_group_server() -> Slapd {
    let mut ldif = support::fixture("rfc2307.ldif");
    ldif += &format!(
        "\ndn: cn=huge,ou=groups,{BASE}\nobjectClass: posixGroup\ncn: huge\ngidNumber: 39999\n"
    );
    for i in 0..HUGE_GROUP {
        ldif += &format!("memberUid: member{i:05}\n");
    }
    Slapd::start(support::slapd::Schema::Rfc2307, &ldif)
}

#[test]
fn small_buffers_big_groups_threads_and_fork_through_glibc() {
    if skip_unless_root("small_buffers_big_groups_threads_and_fork_through_glibc") {
        return;
    }
    let server = huge_group_server();
    let conf = ConfFile::new(&[&server.ldap_uri], "");
    // proxid alone, so every ERANGE below is the module's, not the files backend's.
    let host = Host::proxid_only();
    let _daemon = host.start_daemon(&conf.path);
    let program = nss::c_program("nss_calls");
    let huge = HUGE_GROUP.to_string();
    for args in [
        vec!["buffers", "alice", "devs", "10001", "10010"],
        vec!["groups", "alice"],
        vec!["threads", "alice", "16"],
        vec!["fork", "alice"],
        vec!["threads-unchanged", "alice"],
        vec!["closed-stdio", "alice"],
        vec!["bigroup", "huge", &huge],
    ] {
        let (code, out) = host.run(&program, &args);
        assert_eq!(code, 0, "{args:?}: {out}");
    }
}

#[test]
fn valgrind_and_asan_find_nothing_in_the_module() {
    if skip_unless_root("valgrind_and_asan_find_nothing_in_the_module") {
        return;
    }
    let conf = conf_for(support::rfc2307());
    let host = Host::proxid_only();
    let _daemon = host.start_daemon(&conf.path);
    let asan = nss::c_program_with(
        "nss_calls",
        "asan",
        &["-fsanitize=address", "-fno-omit-frame-pointer"],
    );
    for args in [
        vec!["buffers", "alice", "devs", "10001", "10010"],
        vec!["groups", "alice"],
        vec!["threads", "alice", "4"],
    ] {
        let (code, out) = host.run(&asan, &args);
        assert_eq!(code, 0, "ASan {args:?}: {out}");
    }
    if Command::new("valgrind").arg("--version").output().is_err() {
        eprintln!("valgrind not installed: skipped that half (scripts/test-all.sh installs it)");
        return;
    }
    let plain = nss::c_program("nss_calls");
    let (code, out) = host.run(
        "valgrind",
        &[
            "--error-exitcode=99",
            "--leak-check=full",
            "--errors-for-leak-kinds=definite",
            "-q",
            &plain,
            "buffers",
            "alice",
            "devs",
            "10001",
            "10010",
        ],
    );
    assert_eq!(code, 0, "valgrind: {out}");
    let (code, out) = host.run(
        "valgrind",
        &["--error-exitcode=99", "-q", &plain, "groups", "alice"],
    );
    assert_eq!(code, 0, "valgrind: {out}");
}

#[test]
fn rfc2307bis_members_are_uid_values_found_by_dn() {
    if skip_unless_root("rfc2307bis_members_are_uid_values_found_by_dn") {
        return;
    }
    let conf = ConfFile::new(
        &[&support::rfc2307bis().ldap_uri],
        "schema = \"rfc2307bis\"\n",
    );
    let host = Host::new();
    let _daemon = host.start_daemon(&conf.path);
    let Response::Group(g) = call(&host.socket, Request::GetGrNam(b"hostile".to_vec())) else {
        panic!("hostile group not found")
    };
    for name in [
        "com,ma",
        "back\\slash",
        "less<",
        "#hash",
        "quo\"te",
        "MixedCase",
    ] {
        assert!(
            g.members.iter().any(|m| m == name),
            "{name:?} in {:?}",
            g.members
        );
    }
    assert!(
        !g.members.iter().any(|m| m.contains("\\2C")),
        "{:?}",
        g.members
    );
}

#[test]
fn install_puts_daemon_module_and_unit_in_place_and_prints_nsswitch_lines() {
    nss::module_dir(); // builds libnss_proxid.so next to proxidd
    let built = nss::install_build_dir();
    let stage = tempfile::tempdir().unwrap();
    let before = std::fs::read("/etc/nsswitch.conf").ok();
    let out = Command::new("bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/install.sh"))
        .env("PREFIX", "/usr")
        .env("DESTDIR", stage.path())
        .env("PROXID_LIB_DIR", built.path())
        .env("NSSLIBDIR", "/usr/lib/x86_64-linux-gnu")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = stage.path();
    assert!(s.join("usr/sbin/proxidd").is_file());
    assert!(s
        .join("usr/lib/x86_64-linux-gnu/libnss_proxid.so.2")
        .is_file());
    let unit = std::fs::read_to_string(s.join("usr/lib/systemd/system/proxidd.service")).unwrap();
    for line in [
        "Type=notify",
        "ExecStart=/usr/sbin/proxidd --foreground",
        "ProtectSystem=strict",
        "RuntimeDirectory=proxid",
        "NoNewPrivileges=yes",
        "CapabilityBoundingSet=\n",
    ] {
        assert!(unit.contains(line), "{line:?} in the unit");
    }
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.contains(&"passwd: files proxid"), "{text}");
    assert!(lines.contains(&"group: files proxid"), "{text}");
    assert_eq!(std::fs::read("/etc/nsswitch.conf").ok(), before);
}

#[test]
fn enumeration_is_off_by_default_and_paged_when_on() {
    if skip_unless_root("enumeration_is_off_by_default_and_paged_when_on") {
        return;
    }
    let server = support::rfc2307bis();
    let host = Host::proxid_only();
    let off = ConfFile::new(&[&server.ldap_uri], "schema = \"rfc2307bis\"\n");
    let daemon = host.start_daemon(&off.path);
    let (code, out) = host.run("getent", &["passwd"]);
    assert_eq!((code, out.trim()), (0, ""), "nothing listed when off");
    drop(daemon);
    let on = ConfFile::new(
        &[&server.ldap_uri],
        "schema = \"rfc2307bis\"\n[daemon]\nenumerate = true\n",
    );
    let _daemon = host.start_daemon(&on.path);
    let (_, users) = host.run("getent", &["passwd"]);
    assert!(
        users.lines().any(|l| l.starts_with("alice:x:10001:")),
        "{users}"
    );
    assert!(!users.lines().any(|l| l.starts_with("root:")), "{users}");
    let (_, groups) = host.run("getent", &["group"]);
    assert!(
        groups.lines().any(|l| l.starts_with("devs:x:10010:")),
        "{groups}"
    );
}

#[test]
fn the_daemon_never_asks_itself() {
    if skip_unless_root("the_daemon_never_asks_itself") {
        return;
    }
    // The daemon runs with `passwd: files proxid` and PROXID_NSS_SOCKET naming its own
    // socket; at start it looks a name up through NSS. The guard must answer at once.
    let conf = conf_for(support::rfc2307());
    let host = Host::new();
    #[allow(clippy::disallowed_methods)] // real time: a daemon in another process answers
    let started = Instant::now();
    let daemon = host.start_daemon(&conf.path);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(host.run("getent", &["passwd", "alice"]).0, 0);
    let log = daemon.log_text();
    assert!(!log.contains("NSS lookup from proxidd took"), "{log}");
    assert!(!log.contains("from proxidd itself"), "{log}");
}

#[test]
fn a_hung_daemon_costs_at_most_two_seconds_per_call() {
    if skip_unless_root("a_hung_daemon_costs_at_most_two_seconds_per_call") {
        return;
    }
    let host = Host::proxid_only();
    // Listening, never accepting: connections complete (backlog) and nothing answers.
    let _hung = std::os::unix::net::UnixListener::bind(&host.socket).unwrap();
    #[allow(clippy::disallowed_methods)] // real time: a daemon in another process answers
    let started = Instant::now();
    let (code, out) = host.run(
        &nss::c_program("nss_calls"),
        &["timed", "alice", "2500", "2"],
    );
    assert_eq!(code, 0, "{out}");
    // Two calls (getpwnam_r, getpwuid_r), each ended by the module's compiled-in 2 s.
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

/// PIDs whose command line mentions `needle` (our own temp socket path: precise).
fn pids_mentioning(needle: &str) -> Vec<i32> {
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        if String::from_utf8_lossy(&cmdline).contains(needle) {
            pids.push(pid);
        }
    }
    pids
}

#[test]
fn notifies_systemd_and_detaches_without_foreground() {
    let conf = conf_for(support::rfc2307());
    let dir = tempfile::tempdir().unwrap();
    // systemd's side: a datagram socket at NOTIFY_SOCKET.
    let notify = dir.path().join("notify");
    let listener = std::os::unix::net::UnixDatagram::bind(&notify).unwrap();
    listener
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let socket = dir.path().join("a.sock");
    let mut child = Command::new(PROXIDD)
        .arg("--config")
        .arg(&conf.path)
        .arg("--socket")
        .arg(&socket)
        .env("NOTIFY_SOCKET", &notify)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut buf = [0u8; 64];
    let n = listener.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"READY=1");
    assert!(
        child.try_wait().unwrap().is_none(),
        "under systemd: no detaching"
    );
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    assert!(child.wait().unwrap().success());

    // Without --foreground and outside systemd: the parent returns once ready.
    let socket = dir.path().join("b.sock");
    // (status(), not output(): the detached daemon keeps the inherited fds open.)
    let status = Command::new(PROXIDD)
        .arg("--config")
        .arg(&conf.path)
        .arg("--socket")
        .arg(&socket)
        .env_remove("NOTIFY_SOCKET")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    assert!(matches!(
        call(&socket, Request::Status),
        Response::Status(_)
    ));
    let pids = pids_mentioning(&socket.display().to_string());
    assert_eq!(pids.len(), 1, "{pids:?}");
    // SAFETY: signalling the daemon this test started.
    unsafe { libc::kill(pids[0], libc::SIGTERM) };
    #[allow(clippy::disallowed_methods)] // real time: a daemon in another process answers
    let started = Instant::now();
    while socket.exists() && started.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!socket.exists(), "socket removed on SIGTERM");
}
