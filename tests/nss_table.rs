//! The shared NSS table (`nss.cache` beside proxidd's socket) through real glibc,
//! a real daemon and real slapd, in private mount namespaces: table answers equal the
//! socket's, a hit never touches the socket, invalidation / reload / restart /
//! directory changes empty it, small buffers and fork on hits, and a corrupted or
//! untrusted file only ever sends the module to the socket.

#[path = "support/nss.rs"]
mod nss;
mod support;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use nss::{skip_unless_root, Daemon, Host};
use proxid::source::ldap::LdapSource;
use proxid_proto::table::{self, Found, Kind, Mapped};
use proxid_proto::{client, Request, Response};
use support::slapd::{Schema, Slapd, BASE};
use support::ConfFile;

const ALICE_UID: u32 = 10001;
const DEVS_GID: u32 = 10010;

fn table_path(host: &Host) -> PathBuf {
    host.dir.path().join("nss.cache")
}

fn call(socket: &Path, request: Request) -> Response {
    client::call(
        socket.as_os_str().as_encoded_bytes(),
        &request,
        Duration::from_secs(10),
    )
    .expect("daemon answers")
}

/// What the file holds for a key, at `now` (0: whatever is there, expired or not).
fn in_table(path: &Path, kind: Kind, key: &[u8], now: u64) -> Found {
    match Mapped::open(path.as_os_str().as_encoded_bytes()) {
        Some(m) => m.view().lookup(kind, key, now),
        None => Found::Miss,
    }
}

fn present(path: &Path, kind: Kind, key: &[u8]) -> bool {
    matches!(in_table(path, kind, key, 0), Found::Hit(_))
}

fn requests(socket: &Path) -> u64 {
    match call(socket, Request::Status) {
        Response::Status(s) => s.requests,
        other => panic!("status: {other:?}"),
    }
}

/// Warms alice: passwd by name and UID, her groups, devs by name and GID.
fn warm(host: &Host) {
    for args in [
        &["passwd", "alice"][..],
        &["passwd", "10001"],
        &["initgroups", "alice"],
        &["group", "devs"],
        &["group", "10010"],
    ] {
        let (code, out) = host.run("getent", args);
        assert_eq!(code, 0, "getent {args:?}: {out}");
    }
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    #[allow(clippy::disallowed_methods)] // real time: a daemon in another process answers
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < Duration::from_secs(10), "{what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One line per glibc answer for every name and group, as a caller sees them.
const QUERIES: &str = r#"
one() { out=$("$@" 2>/dev/null); printf '%s %s:%s\n' "$1 $2" "$?" "$(printf '%s' "$out" | tr '\n' ' ')"; }
while IFS= read -r name; do
    one getent passwd -- "$name"
    uid=$(getent passwd -- "$name" | cut -d: -f3)
    [ -n "$uid" ] && one getent passwd "$uid"
    one getent initgroups -- "$name"
    one id -- "$name"
done < "$D/names"
for group in staff devs ops eng all cycle-a teamwork team legacy root nosuch; do
    one getent group -- "$group"
    gid=$(getent group -- "$group" | cut -d: -f3)
    [ -n "$gid" ] && one getent group "$gid"
done
exit 0
"#;

fn answers(host: &Host, names: &[String]) -> Vec<String> {
    std::fs::write(host.dir.path().join("names"), names.join("\n") + "\n").unwrap();
    let out = host
        .command("sh")
        .args(["-c", QUERIES])
        .env("D", host.dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

fn equal_answers(server: &Slapd) {
    let people = format!("user_base = \"ou=people,{BASE}\"\n");
    let conf = ConfFile::new(&[&server.ldap_uri], &people);
    let mut names = LdapSource::new(&conf.config())
        .unwrap()
        .user_names()
        .unwrap();
    assert!(names.len() >= 10, "{names:?}");
    names.push("nobody-here".into());
    // The socket alone: the daemon publishes no table.
    let off = ConfFile::new(
        &[&server.ldap_uri],
        &format!("{people}\n[daemon]\nshared_table = false\n"),
    );
    let reference = {
        let host = Host::new();
        let _daemon = host.start_daemon(&off.path);
        let lines = answers(&host, &names);
        assert!(!table_path(&host).exists());
        lines
    };
    let host = Host::new();
    let _daemon = host.start_daemon(&conf.path);
    let cold = answers(&host, &names);
    let before = requests(&host.socket);
    let warm = answers(&host, &names);
    let after = requests(&host.socket);
    assert_eq!(cold, reference);
    assert_eq!(warm, reference);
    // The warm pass asked the daemon only for what is not in the table (absent
    // names); far fewer requests than the cold pass made.
    assert!(
        after - before < (names.len() as u64) * 2,
        "{before} -> {after} for {} names",
        names.len()
    );
    // Protocol level: every entry in the table is the socket's answer.
    let path = table_path(&host);
    let now = table::now_ms();
    let mut hits = 0;
    for name in &names {
        for (kind, request) in [
            (Kind::PwName, Request::GetPwNam(name.clone().into_bytes())),
            (
                Kind::InitGroups,
                Request::InitGroups(name.clone().into_bytes()),
            ),
        ] {
            if let Found::Hit(answer) = in_table(&path, kind, name.as_bytes(), now) {
                hits += 1;
                assert_eq!(answer, call(&host.socket, request.clone()), "{name}");
                if let Response::Passwd(p) = &answer {
                    let Found::Hit(by_uid) =
                        in_table(&path, Kind::PwUid, &p.uid.to_ne_bytes(), now)
                    else {
                        panic!("{name} by UID not in the table");
                    };
                    assert_eq!(by_uid, call(&host.socket, Request::GetPwUid(p.uid)));
                }
            }
        }
    }
    assert!(hits >= names.len(), "{hits} hits for {} names", names.len());
    for group in ["staff", "devs", "ops"] {
        if let Found::Hit(answer) = in_table(&path, Kind::GrName, group.as_bytes(), now) {
            assert_eq!(answer, call(&host.socket, Request::GetGrNam(group.into())));
        }
    }
}

#[test]
fn table_answers_equal_the_sockets_rfc2307() {
    if skip_unless_root("table_answers_equal_the_sockets_rfc2307") {
        return;
    }
    equal_answers(support::rfc2307());
}

#[test]
fn table_answers_equal_the_sockets_rfc2307bis() {
    if skip_unless_root("table_answers_equal_the_sockets_rfc2307bis") {
        return;
    }
    equal_answers(support::rfc2307bis());
}

#[test]
fn a_table_hit_does_not_touch_the_socket() {
    if skip_unless_root("a_table_hit_does_not_touch_the_socket") {
        return;
    }
    let conf = ConfFile::new(&[&support::rfc2307().ldap_uri], "");
    let host = Host::proxid_only();
    let daemon = host.start_daemon(&conf.path);
    warm(&host);
    let meta = std::fs::metadata(table_path(&host)).unwrap();
    assert!(meta.is_file() && meta.uid() == 0);
    assert_eq!(meta.permissions().mode() & 0o777, 0o644);
    let before = requests(&host.socket);
    warm(&host);
    assert_eq!(
        requests(&host.socket),
        before + 1,
        "only the status request"
    );
    // A stopped daemon: warm lookups still answer at once, a cold one waits for the
    // socket until the module's 2 s deadline.
    daemon.signal(libc::SIGSTOP);
    #[allow(clippy::disallowed_methods)] // real time: the module's deadline is real
    let started = Instant::now();
    warm(&host);
    let warm_took = started.elapsed();
    #[allow(clippy::disallowed_methods)] // real time: the module's deadline is real
    let started = Instant::now();
    let (code, _) = host.run("getent", &["passwd", "bob"]);
    let cold_took = started.elapsed();
    daemon.signal(libc::SIGCONT);
    assert_eq!(code, 2, "bob is not in the table and the daemon is stopped");
    assert!(cold_took >= Duration::from_secs(2), "{cold_took:?}");
    assert!(warm_took < Duration::from_secs(2), "{warm_took:?}");
    assert_eq!(host.run("getent", &["passwd", "bob"]).0, 0);
}

#[test]
fn small_buffers_threads_and_fork_on_table_hits() {
    if skip_unless_root("small_buffers_threads_and_fork_on_table_hits") {
        return;
    }
    let conf = ConfFile::new(&[&support::rfc2307().ldap_uri], "");
    // proxid alone, so every ERANGE is the module's.
    let host = Host::proxid_only();
    let daemon = host.start_daemon(&conf.path);
    warm(&host);
    // With the daemon stopped every answer below comes from the table (a socket
    // call would fail after 2 s and the program would say so).
    daemon.signal(libc::SIGSTOP);
    let program = nss::c_program("nss_calls");
    let uid = ALICE_UID.to_string();
    let gid = DEVS_GID.to_string();
    let mut failed = Vec::new();
    for args in [
        vec!["buffers", "alice", "devs", &uid, &gid],
        vec!["groups", "alice"],
        vec!["threads", "alice", "16"],
        vec!["fork", "alice"],
        vec!["threads-unchanged", "alice"],
        vec!["closed-stdio", "alice"],
    ] {
        let (code, out) = host.run(&program, &args);
        if code != 0 {
            failed.push(format!("{args:?}: {out}"));
        }
    }
    if Command::new("valgrind").arg("--version").output().is_ok() {
        let (code, out) = host.run(
            "valgrind",
            &[
                "--error-exitcode=99",
                "--leak-check=full",
                "--errors-for-leak-kinds=definite",
                "-q",
                &program,
                "buffers",
                "alice",
                "devs",
                &uid,
                &gid,
            ],
        );
        if code != 0 {
            failed.push(format!("valgrind: {out}"));
        }
    }
    daemon.signal(libc::SIGCONT);
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

#[test]
fn invalidate_reload_restart_and_directory_changes_reach_the_table() {
    if skip_unless_root("invalidate_reload_restart_and_directory_changes_reach_the_table") {
        return;
    }
    let server = Slapd::start(Schema::Rfc2307, &support::fixture("rfc2307.ldif"));
    let conf = ConfFile::new(&[&server.ldap_uri], "");
    let host = Host::new();
    let path = table_path(&host);
    let alice_uid = ALICE_UID.to_ne_bytes();
    let mut daemon = host.start_daemon(&conf.path);
    warm(&host);
    assert_eq!(host.run("getent", &["passwd", "bob"]).0, 0);
    assert!(present(&path, Kind::PwName, b"alice"));
    assert!(present(&path, Kind::PwUid, &alice_uid));
    assert!(present(&path, Kind::InitGroups, b"alice"));
    assert!(present(&path, Kind::GrName, b"devs"));
    assert!(present(&path, Kind::PwName, b"bob"));

    // `proxid cache invalidate alice`: her entries and the groups naming her go.
    let proxid = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_proxid"))
            .args(args)
            .env("PROXID_NSS_SOCKET", &host.socket)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    proxid(&["cache", "invalidate", "alice"]);
    assert!(!present(&path, Kind::PwName, b"alice"));
    assert!(!present(&path, Kind::PwUid, &alice_uid));
    assert!(!present(&path, Kind::InitGroups, b"alice"));
    assert!(!present(&path, Kind::GrName, b"devs"), "devs lists alice");
    assert!(present(&path, Kind::PwName, b"bob"), "bob is not alice");
    // Everything.
    proxid(&["cache", "invalidate"]);
    assert!(!present(&path, Kind::PwName, b"bob"));

    // SIGHUP.
    warm(&host);
    assert!(present(&path, Kind::PwName, b"alice"));
    daemon.signal(libc::SIGHUP);
    wait_until("reload empties the table", || {
        !present(&path, Kind::PwName, b"alice")
    });

    // Restart (SIGTERM): the file is retired and removed; the next daemon writes a
    // new one, and a mapping of the old one says so.
    warm(&host);
    let old = Mapped::open(path.as_os_str().as_encoded_bytes()).unwrap();
    let old_inode = std::fs::metadata(&path).unwrap().ino();
    assert!(old.view().valid());
    assert!(daemon.stop().success());
    assert!(!old.view().valid(), "retired on SIGTERM");
    assert!(!path.exists());
    let mut daemon = host.start_daemon(&conf.path);
    assert!(
        !present(&path, Kind::PwName, b"alice"),
        "a new, empty table"
    );
    warm(&host);
    // A crash leaves the file; the next daemon retires it and writes another.
    let crashed = Mapped::open(path.as_os_str().as_encoded_bytes()).unwrap();
    let crashed_inode = std::fs::metadata(&path).unwrap().ino();
    assert_ne!(crashed_inode, old_inode);
    daemon.child.kill().unwrap();
    daemon.child.wait().unwrap();
    assert!(crashed.view().valid(), "nobody retired it");
    let third = host.start_daemon(&conf.path);
    assert!(!crashed.view().valid(), "the next daemon retired it");
    assert_ne!(std::fs::metadata(&path).unwrap().ino(), crashed_inode);
    assert!(!present(&path, Kind::PwName, b"alice"));
    drop(third);

    // Directory changes with a 1 s TTL: a changed user is served changed once the
    // entry expires, a removed one disappears from the table.
    let short = ConfFile::new(
        &[&server.ldap_uri],
        "\n[cache]\npositive_ttl = \"1s\"\nnegative_ttl = \"1s\"\n",
    );
    let _daemon: Daemon = host.start_daemon(&short.path);
    let (_, before) = host.run("getent", &["passwd", "alice"]);
    assert!(before.contains("/bin/bash"), "{before}");
    assert_eq!(host.run("getent", &["passwd", "bob"]).0, 0);
    server.modify(
        "dn: uid=alice,ou=people,dc=example,dc=org\nchangetype: modify\nreplace: loginShell\nloginShell: /bin/changed\n",
    );
    server.modify("dn: uid=bob,ou=people,dc=example,dc=org\nchangetype: delete\n");
    std::thread::sleep(Duration::from_millis(1300));
    assert_eq!(
        in_table(&path, Kind::PwName, b"alice", table::now_ms()),
        Found::Miss,
        "expired with the daemon's TTL"
    );
    let (code, after) = host.run("getent", &["passwd", "alice"]);
    assert_eq!(code, 0);
    assert!(after.contains("/bin/changed"), "{after}");
    match in_table(&path, Kind::PwName, b"alice", table::now_ms()) {
        Found::Hit(Response::Passwd(p)) => assert_eq!(p.shell, "/bin/changed"),
        other => panic!("alice republished: {other:?}"),
    }
    assert_eq!(host.run("getent", &["passwd", "bob"]).0, 2);
    assert!(
        !present(&path, Kind::PwName, b"bob"),
        "a removed user leaves the table"
    );
}

/// Recomputes every record's checksum in a table image (records are laid out from
/// the start of the data area while the ring has not wrapped).
fn reseal(image: &mut [u8]) {
    let u64_at = |b: &[u8], o: usize| u64::from_ne_bytes(b[o..o + 8].try_into().unwrap()) as usize;
    let u32_at = |b: &[u8], o: usize| u32::from_ne_bytes(b[o..o + 4].try_into().unwrap());
    let data = u64_at(image, table::h::DATA);
    let data_len = u64_at(image, table::h::DATA_LEN);
    let mut rel = 0;
    while rel + table::RECORD_HEADER <= data_len {
        let at = data + rel;
        if u32_at(image, at) != table::RECORD_MAGIC {
            break;
        }
        let len = u32_at(image, at + table::r::LEN) as usize;
        let sum = table::checksum(&image[at..at + len]);
        image[at + table::r::CHECKSUM..at + table::r::CHECKSUM + 4]
            .copy_from_slice(&sum.to_ne_bytes());
        rel += len.next_multiple_of(8);
    }
}

/// Puts `bytes` at the table's path as a new file (renamed into place).
fn plant(path: &Path, bytes: &[u8], mode: u32, owner: u32) {
    let tmp = path.with_extension("planted");
    let _ = std::fs::remove_file(&tmp);
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(mode)).unwrap();
    std::os::unix::fs::chown(&tmp, Some(owner), Some(owner)).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

#[test]
fn a_corrupted_or_untrusted_table_sends_the_module_to_the_socket() {
    if skip_unless_root("a_corrupted_or_untrusted_table_sends_the_module_to_the_socket") {
        return;
    }
    let conf = ConfFile::new(&[&support::rfc2307().ldap_uri], "");
    let host = Host::proxid_only();
    let _daemon = host.start_daemon(&conf.path);
    warm(&host);
    let path = table_path(&host);
    let real = std::fs::read(&path).unwrap();
    // A forged copy: alice's home changed, checksums made right again.
    let mut forged = real.clone();
    let (from, to) = (b"/home/u10001", b"/home/FORGED");
    let mut patched = 0;
    for i in 0..forged.len() - from.len() {
        if &forged[i..i + from.len()] == from {
            forged[i..i + to.len()].copy_from_slice(to);
            patched += 1;
        }
    }
    assert!(patched >= 2, "alice by name and by UID");
    reseal(&mut forged);
    let home = |host: &Host| {
        let (code, out) = host.run("getent", &["passwd", "alice"]);
        assert_eq!(code, 0, "alice always found: {out}");
        out.trim().split(':').nth(5).unwrap_or_default().to_string()
    };
    assert_eq!(home(&host), "/home/u10001");
    // The forged file, root-owned 0644: read (so the cases below test refusals).
    plant(&path, &forged, 0o644, 0);
    assert_eq!(home(&host), "/home/FORGED");
    // Not root's: refused.
    plant(&path, &forged, 0o644, 65534);
    assert_eq!(home(&host), "/home/u10001", "owner not root");
    // Writable by others: refused.
    plant(&path, &forged, 0o666, 0);
    assert_eq!(home(&host), "/home/u10001", "mode 0666");
    // Truncated.
    plant(&path, &forged[..forged.len() / 2], 0o644, 0);
    assert_eq!(home(&host), "/home/u10001", "truncated");
    // A symlink to a good file.
    let elsewhere = host.dir.path().join("elsewhere");
    std::fs::write(&elsewhere, &forged).unwrap();
    std::fs::remove_file(&path).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &path).unwrap();
    assert_eq!(home(&host), "/home/u10001", "symlink");
    std::fs::remove_file(&path).unwrap();
    // Garbage: random bytes everywhere, or only in the header, index and records.
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut noise = vec![0u8; real.len()];
    noise.iter_mut().for_each(|b| *b = rand() as u8);
    plant(&path, &noise, 0o644, 0);
    assert_eq!(home(&host), "/home/u10001", "random bytes");
    let program = nss::c_program("nss_calls");
    let uid = ALICE_UID.to_string();
    let gid = DEVS_GID.to_string();
    for round in 0..12 {
        let mut broken = real.clone();
        let span = if round % 2 == 0 {
            64 * 1024
        } else {
            broken.len()
        };
        for _ in 0..(200 * (round + 1)) {
            let at = table::HEADER_SIZE + (rand() as usize) % (span - table::HEADER_SIZE);
            broken[at] = rand() as u8;
        }
        plant(&path, &broken, 0o644, 0);
        let (code, out) = host.run(&program, &["buffers", "alice", "devs", &uid, &gid]);
        assert_eq!(code, 0, "round {round}: {out}");
        let (code, out) = host.run(&program, &["groups", "alice"]);
        assert_eq!(code, 0, "round {round}: {out}");
    }
    if Command::new("valgrind").arg("--version").output().is_ok() {
        let mut broken = real.clone();
        for _ in 0..2000 {
            let at = table::HEADER_SIZE + (rand() as usize) % (64 * 1024);
            broken[at] = rand() as u8;
        }
        plant(&path, &broken, 0o644, 0);
        let (code, out) = host.run(
            "valgrind",
            &[
                "--error-exitcode=99",
                "-q",
                &program,
                "buffers",
                "alice",
                "devs",
                &uid,
                &gid,
            ],
        );
        assert_eq!(code, 0, "valgrind: {out}");
    }
}

#[test]
fn a_cold_getpwnam_publishes_the_group_list_for_initgroups() {
    if skip_unless_root("a_cold_getpwnam_publishes_the_group_list_for_initgroups") {
        return;
    }
    for server in [support::rfc2307(), support::rfc2307bis()] {
        let conf = ConfFile::new(&[&server.ldap_uri], "");
        let host = Host::proxid_only();
        let _daemon = host.start_daemon(&conf.path);
        let (code, out) = host.run("getent", &["passwd", "alice"]);
        assert_eq!(code, 0, "{out}");
        // RFC2307: published before getpwnam answers; RFC2307bis: by the prefetch
        // that getpwnam started.
        wait_until("alice's group list in the table", || {
            present(&table_path(&host), Kind::InitGroups, b"alice")
        });
        let before = requests(&host.socket);
        let (code, groups) = host.run("getent", &["initgroups", "alice"]);
        assert_eq!(code, 0, "{groups}");
        assert_eq!(
            requests(&host.socket),
            before + 1,
            "initgroups after getpwnam asked the daemon (only the status request may)"
        );
        // The same list the daemon gives when asked.
        let Response::Gids(asked) = call(&host.socket, Request::InitGroups(b"alice".to_vec()))
        else {
            panic!("initgroups alice");
        };
        for gid in asked {
            assert!(groups.contains(&gid.to_string()), "{gid} in {groups}");
        }
    }
}
