//! Reloading a resolver while 8 threads resolve (issue 16.4), from Rust and from C,
//! against a real slapd: two configurations that answer one name with different
//! UIDs (different `user_base`), swapped back and forth, and broken configurations
//! refused while the old one keeps serving.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::OnceLock;

use proxid::Proxid;
use support::fault_proxy::{FaultProxy, DELAY};
use support::slapd::{Schema, Slapd, BASE};
use support::ConfFile;

const UID_A: u32 = 51001;
const UID_B: u32 = 52002;
const THREADS: usize = 8;

/// `flip` under `ou=gen-a` (UID_A) and under `ou=gen-b` (UID_B).
fn server() -> &'static Slapd {
    static SERVER: OnceLock<Slapd> = OnceLock::new();
    SERVER.get_or_init(|| {
        let mut ldif = support::fixture("rfc2307.ldif");
        for (ou, uid) in [("gen-a", UID_A), ("gen-b", UID_B)] {
            ldif += &format!(
                "\ndn: ou={ou},{BASE}\nobjectClass: organizationalUnit\nou: {ou}\n\n\
                 dn: uid=flip,ou={ou},{BASE}\nobjectClass: inetOrgPerson\nobjectClass: posixAccount\n\
                 uid: flip\ncn: flip\nsn: flip\nuidNumber: {uid}\ngidNumber: 10000\nhomeDirectory: /home/flip\n"
            );
        }
        Slapd::start(Schema::Rfc2307, &ldif)
    })
}

fn conf(ou: &str) -> ConfFile {
    ConfFile::new(
        &[&server().ldap_uri],
        &format!("user_base = \"ou={ou},{BASE}\"\n"),
    )
}

/// Files that must be refused: bad TOML, a bad value, a file that is not there.
fn broken_configs(dir: &Path) -> Vec<PathBuf> {
    let syntax = dir.join("syntax.conf");
    std::fs::write(&syntax, "[resolution\nmode = \"server\"\n").unwrap();
    let value = dir.join("value.conf");
    std::fs::write(&value, "[resolution]\nmode = \"sideways\"\n").unwrap();
    vec![syntax, value, dir.join("missing.conf")]
}

#[test]
fn reload_under_eight_threads_never_drops_or_mixes_lookups() {
    let (a, b) = (conf("gen-a"), conf("gen-b"));
    let broken = broken_configs(a.dir.path());
    let r = Proxid::open(Some(&a.path)).unwrap();
    assert_eq!(r.resolve("flip").unwrap().uid, UID_A);

    // A sequence lock: `seq` is odd while a reload runs; `serving` (the UID the
    // configuration in force answers) changes only then. A lookup that saw the same
    // even `seq` before and after ran entirely between two reloads.
    let seq = AtomicU64::new(0);
    let serving = AtomicU32::new(UID_A);
    let stop = AtomicBool::new(false);
    let (lookups, checked) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let mut refused = 0;
    std::thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                while !stop.load(Ordering::SeqCst) {
                    let before = seq.load(Ordering::SeqCst);
                    let want = serving.load(Ordering::SeqCst);
                    let uid = r
                        .resolve("flip")
                        .expect("no lookup fails during a reload")
                        .uid;
                    let after = seq.load(Ordering::SeqCst);
                    assert!(uid == UID_A || uid == UID_B, "uid {uid}");
                    if before == after && before % 2 == 0 {
                        assert_eq!(uid, want, "seq {before}");
                        checked.fetch_add(1, Ordering::Relaxed);
                    }
                    lookups.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        for round in 1..=40u64 {
            seq.fetch_add(1, Ordering::SeqCst);
            let now = serving.load(Ordering::SeqCst);
            if round % 4 == 0 {
                let bad = &broken[(round as usize / 4) % broken.len()];
                let err = r.reload(Some(bad)).expect_err("a broken file is refused");
                assert!(!err.to_string().is_empty());
                refused += 1;
            } else {
                let (next, uid) = if now == UID_A {
                    (&b.path, UID_B)
                } else {
                    (&a.path, UID_A)
                };
                r.reload(Some(next)).expect("reload");
                serving.store(uid, Ordering::SeqCst);
            }
            seq.fetch_add(1, Ordering::SeqCst);
            // A lookup made now sees the configuration just loaded (or kept).
            let want = serving.load(Ordering::SeqCst);
            assert_eq!(r.resolve("flip").unwrap().uid, want, "round {round}");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        stop.store(true, Ordering::SeqCst);
    });
    eprintln!(
        "{} lookups during 40 reloads ({refused} refused), {} checked against the configuration in force",
        lookups.load(Ordering::Relaxed),
        checked.load(Ordering::Relaxed)
    );
    assert!(checked.load(Ordering::Relaxed) > 0);
    assert_eq!(r.generation(), 1 + 30);
}

#[test]
fn reload_without_a_path_rereads_the_file_the_resolver_came_from() {
    let a = conf("gen-a");
    let r = Proxid::open(Some(&a.path)).unwrap();
    assert_eq!(r.resolve("flip").unwrap().uid, UID_A);
    let text = std::fs::read_to_string(&a.path).unwrap();
    std::fs::write(&a.path, text.replace("ou=gen-a", "ou=gen-b")).unwrap();
    // Cached answers belong to the old configuration: the new one starts empty.
    r.reload(None).unwrap();
    assert_eq!(r.resolve("flip").unwrap().uid, UID_B);
    assert_eq!(r.config().path.as_deref(), Some(a.path.as_path()));

    // The same file broken: refused, the configuration in force keeps answering.
    std::fs::write(&a.path, "[ldap]\nuris = 7\n").unwrap();
    let err = r.reload(None).unwrap_err();
    assert_eq!(err.kind(), "config", "{err}");
    assert_eq!(r.resolve("flip").unwrap().uid, UID_B);
    assert_eq!(r.generation(), 2);
}

#[test]
fn a_reload_that_fails_validation_keeps_the_old_source() {
    let a = conf("gen-a");
    let r = Proxid::open(Some(&a.path)).unwrap();
    // Valid TOML, unusable LDAP section (no server): refused before anything swaps.
    let bad = a.dir.path().join("no-uris.conf");
    std::fs::write(
        &bad,
        format!("[resolution]\nmode = \"server\"\n[ldap]\nuris = []\nbase = \"{BASE}\"\n"),
    )
    .unwrap();
    assert!(r.reload(Some(&bad)).is_err());
    assert_eq!(r.source_kind(), "ldap");
    assert_eq!(r.resolve("flip").unwrap().uid, UID_A);
}

#[test]
fn a_lookup_in_flight_during_a_reload_finishes_on_the_old_configuration() {
    // A: behind a proxy that delays every answer, so its lookup is still running
    // when B is loaded.
    let proxy = FaultProxy::start(server().port);
    proxy.set(DELAY, std::time::Duration::from_millis(300));
    let a = ConfFile::new(
        &[&proxy.uri()],
        &format!("user_base = \"ou=gen-a,{BASE}\"\n"),
    );
    let b = conf("gen-b");
    let r = Proxid::open(Some(&a.path)).unwrap();
    std::thread::scope(|s| {
        let slow = s.spawn(|| {
            #[allow(clippy::disallowed_methods)] // real time: a reload under real load
            let started = std::time::Instant::now();
            (r.resolve("flip").map(|id| id.uid), started.elapsed())
        });
        std::thread::sleep(std::time::Duration::from_millis(150));
        r.reload(Some(&b.path)).unwrap();
        // New calls: B, at once.
        assert_eq!(r.resolve("flip").unwrap().uid, UID_B);
        assert!(
            !slow.is_finished(),
            "the slow lookup should still be running"
        );
        let (uid, took) = slow.join().unwrap();
        assert_eq!(uid.unwrap(), UID_A, "the call in flight finished on A");
        eprintln!("in-flight lookup on the old configuration took {took:?}");
    });
}

/// target/<profile>/deps, where `cargo test` leaves libproxid.so.
fn lib_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().to_path_buf()
}

#[test]
fn reload_from_c_under_eight_threads() {
    let (a, b) = (conf("gen-a"), conf("gen-b"));
    let broken = a.dir.path().join("broken.conf");
    std::fs::write(&broken, "[resolution]\nmode = \"sideways\"\n").unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = lib_dir().join("c-tests-reload");
    let lib = out.join("lib");
    std::fs::create_dir_all(&lib).unwrap();
    // The shared library under its SONAME, as the dynamic linker looks for it.
    for link in ["libproxid.so.0", "libproxid.so"] {
        let _ = std::fs::remove_file(lib.join(link));
        std::os::unix::fs::symlink(lib_dir().join("libproxid.so"), lib.join(link)).unwrap();
    }
    let program = out.join("test_reload");
    let status = Command::new("cc")
        .args(["-std=c11", "-O1", "-g", "-Wall", "-Wextra", "-Werror"])
        .arg("-I")
        .arg(root.join("include"))
        .arg(root.join("c-tests/test_reload.c"))
        .arg("-o")
        .arg(&program)
        .arg(format!("-L{}", lib.display()))
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        .args(["-lproxid", "-pthread"])
        .status()
        .expect("cc");
    assert!(status.success(), "test_reload.c does not build");
    let run = Command::new(&program)
        .arg(&a.path)
        .arg(UID_A.to_string())
        .arg(&b.path)
        .arg(UID_B.to_string())
        .arg(&broken)
        .args(["flip", "40"])
        .env_remove("PROXID_CONF")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stdout}{stderr}");
    eprintln!("{stdout}");
}
