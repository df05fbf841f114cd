//! The C ABI from the outside: the committed header against the generated one, the
//! version macros and SONAME, the exported symbols, and the C programs in c-tests/
//! (linked shared and static, with sanitizers, through dlopen, under valgrind, and
//! against an installed copy found with pkg-config).
//!
//! The C programs are built by c-tests/Makefile against the libproxid.so and
//! libproxid.a that this same `cargo test` run built (target/<profile>/deps/), into
//! target/<profile>/deps/c-tests*; nothing is written into the source tree.
//!
//! Iterations of the 8-thread test: 10,000 per thread linked against the shared
//! library, fewer for the other builds (they run the same code) and 100 per thread
//! under valgrind, which is ~50x slower. `PROXID_C_TEST_ITERATIONS` overrides the
//! full count.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");
const REFRESH: &str = "PROXID_WRITE_HEADER=1 cargo test --test c_abi committed_header";

/// The built library and the C programs compiled against it.
struct Built {
    lib_dir: PathBuf,
    out: PathBuf,
    good_config: PathBuf,
    bad_config: PathBuf,
}

/// target/<profile>/deps/, where `cargo test` puts the libproxid.so and libproxid.a
/// it builds alongside this test binary (it copies them up to target/<profile>/ only
/// for `cargo build`).
fn lib_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("path of the test binary");
    let dir = exe
        .parent()
        .expect("test binary has a directory")
        .to_path_buf();
    for lib in ["libproxid.so", "libproxid.a"] {
        assert!(
            dir.join(lib).is_file(),
            "{} missing: cargo builds it with the tests (crate-type cdylib/staticlib)",
            dir.join(lib).display()
        );
    }
    dir
}

fn run(cmd: &mut Command) -> Output {
    let shown = format!("{cmd:?}");
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {shown}: {e} (scripts/test-all.sh installs it)"));
    out
}

fn run_ok(cmd: &mut Command) -> String {
    let shown = format!("{cmd:?}");
    let out = run(cmd);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{shown} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Names of the `proxid_*` functions the shared library exports.
fn exported_functions(lib: &Path) -> BTreeSet<String> {
    run_ok(Command::new("nm").args(["-D", "--defined-only"]).arg(lib))
        .lines()
        .filter_map(
            |line| match line.split_whitespace().collect::<Vec<_>>()[..] {
                [_, "T", name] if name.starts_with("proxid_") => Some(name.to_owned()),
                _ => None,
            },
        )
        .collect()
}

/// Names of the functions a header declares: every `proxid_xxx(`.
fn declared_functions(header: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (at, _) in header.match_indices("proxid_") {
        let rest = &header[at..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if rest[end..].starts_with('(') {
            names.insert(rest[..end].to_owned());
        }
    }
    names
}

fn built() -> &'static Built {
    static BUILT: OnceLock<Built> = OnceLock::new();
    BUILT.get_or_init(|| {
        let lib_dir = lib_dir();
        // The library in target/ is the one this run built, but cargo does not keep one
        // per feature set: ask the library itself whether it has the test entry points.
        let testing =
            exported_functions(&lib_dir.join("libproxid.so")).contains("proxid_testing_panic");
        assert!(
            testing || !cfg!(feature = "testing"),
            "{} was last built by a cargo command without the `testing` feature (cargo \
             keeps one per directory); rebuild it for this run with `touch src/lib.rs`",
            lib_dir.join("libproxid.so").display()
        );
        let out = lib_dir.join(if testing {
            "c-tests-testing"
        } else {
            "c-tests"
        });
        std::fs::create_dir_all(&out).expect("create the C build directory");
        let good_config = out.join("good.conf");
        let bad_config = out.join("bad.conf");
        std::fs::write(&good_config, "[resolution]\nmode = \"client\"\n").expect("write config");
        std::fs::write(&bad_config, "[resolution]\nmode = \"sideways\"\n").expect("write config");
        run_ok(
            Command::new("make")
                .arg("-C")
                .arg(Path::new(MANIFEST_DIR).join("c-tests"))
                .arg("-j2")
                .arg(format!("LIBDIR={}", lib_dir.display()))
                .arg(format!("INCDIR={MANIFEST_DIR}/include"))
                .arg(format!("OUT={}", out.display()))
                .arg(format!("TESTING={}", u8::from(testing))),
        );
        Built {
            lib_dir,
            out,
            good_config,
            bad_config,
        }
    })
}

/// Runs a C test program (optionally under a wrapper such as valgrind) and returns
/// its summary line.
fn run_c_test(wrapper: &[&str], program: &str, args: &[&str]) -> String {
    let b = built();
    let program = b.out.join(program);
    let mut cmd = match wrapper.split_first() {
        Some((first, rest)) => {
            let mut c = Command::new(first);
            c.args(rest).arg(&program);
            c
        }
        None => Command::new(&program),
    };
    cmd.args(args)
        .env_remove("PROXID_CONF")
        // A backtrace per deliberate panic only slows the runs down.
        .env("RUST_BACKTRACE", "0");
    run_ok(&mut cmd)
}

fn iterations() -> String {
    std::env::var("PROXID_C_TEST_ITERATIONS").unwrap_or_else(|_| "10000".into())
}

fn main_test(wrapper: &[&str], program: &str, iterations: &str) {
    let b = built();
    let summary = run_c_test(
        wrapper,
        program,
        &[
            b.good_config.to_str().expect("UTF-8 path"),
            b.bad_config.to_str().expect("UTF-8 path"),
            iterations,
        ],
    );
    assert!(summary.contains(" 0 failures"), "{summary}");
}

#[test]
fn committed_header() {
    let committed_path = Path::new(MANIFEST_DIR).join("include/proxid.h");
    let fresh = std::fs::read_to_string(env!("PROXID_GENERATED_HEADER")).expect("generated header");
    if std::env::var_os("PROXID_WRITE_HEADER").is_some() {
        std::fs::write(&committed_path, &fresh).expect("write include/proxid.h");
        return;
    }
    let committed = std::fs::read_to_string(&committed_path).unwrap_or_default();
    if committed != fresh {
        let first_difference = committed
            .lines()
            .zip(fresh.lines())
            .position(|(a, b)| a != b)
            .map_or_else(
                || "one is a prefix of the other".to_owned(),
                |n| format!("first difference at line {}", n + 1),
            );
        panic!(
            "include/proxid.h differs from the header build.rs generates ({first_difference}).\n\
             Refresh it with:\n    {REFRESH}"
        );
    }
}

#[test]
fn header_version_macros_match_cargo_toml() {
    let header = std::fs::read_to_string(Path::new(MANIFEST_DIR).join("include/proxid.h"))
        .expect("include/proxid.h");
    let define = |name: &str| -> String {
        let prefix = format!("#define {name} ");
        header
            .lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("{name} not defined in include/proxid.h"))
            .trim()
            .to_owned()
    };
    assert_eq!(
        define("PROXID_VERSION_MAJOR"),
        env!("CARGO_PKG_VERSION_MAJOR")
    );
    assert_eq!(
        define("PROXID_VERSION_MINOR"),
        env!("CARGO_PKG_VERSION_MINOR")
    );
    assert_eq!(
        define("PROXID_VERSION_PATCH"),
        env!("CARGO_PKG_VERSION_PATCH")
    );
    assert_eq!(
        define("PROXID_VERSION"),
        format!("\"{}\"", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(
        define("PROXID_ABI_VERSION"),
        proxid::ffi::c::PROXID_ABI_VERSION.to_string()
    );
    assert_eq!(
        proxid::ffi::c::proxid_abi_version(),
        proxid::ffi::c::PROXID_ABI_VERSION
    );
}

#[test]
fn shared_library_soname_carries_the_abi_version() {
    let lib = lib_dir().join("libproxid.so");
    let dynamic = run_ok(Command::new("readelf").arg("-d").arg(&lib));
    let want = format!(
        "Library soname: [libproxid.so.{}]",
        proxid::ffi::c::PROXID_ABI_VERSION
    );
    assert!(dynamic.contains(&want), "{want} not in:\n{dynamic}");
}

#[test]
fn exported_functions_are_exactly_the_declared_ones() {
    let header = std::fs::read_to_string(Path::new(MANIFEST_DIR).join("include/proxid.h"))
        .expect("include/proxid.h");
    let exported = exported_functions(&lib_dir().join("libproxid.so"));
    let mut declared = declared_functions(&header);
    if !exported.contains("proxid_testing_panic") {
        declared.retain(|name| !name.starts_with("proxid_testing_"));
    }
    assert!(declared.len() > 30, "header parse found only {declared:?}");
    assert_eq!(
        exported, declared,
        "exported (nm -D) vs declared in include/proxid.h"
    );
}

#[test]
fn c_test_linked_against_the_shared_library() {
    main_test(&[], "test_shared", &iterations());
}

#[test]
fn c_test_linked_against_the_static_library() {
    main_test(&[], "test_static", "1000");
}

#[test]
fn c_test_with_address_and_undefined_behaviour_sanitizers() {
    main_test(&[], "test_sanitize", "1000");
}

#[test]
fn dlopen_finds_and_calls_every_declared_function() {
    let b = built();
    let lib = b.lib_dir.join("libproxid.so");
    let summary = run_c_test(
        &[],
        "test_dlopen",
        &[
            lib.to_str().expect("UTF-8 path"),
            b.good_config.to_str().expect("UTF-8 path"),
        ],
    );
    assert!(summary.contains(" 0 failures"), "{summary}");
}

/// proxid_admit's matrix from C (c-tests/test_admit.c), with two accounts of this
/// machine other than root and three servers that differ only in `[resolution]`.
#[test]
fn admit_from_c_in_every_mode_combination() {
    let users = run_ok(Command::new("getent").arg("passwd"));
    let names: Vec<&str> = users
        .lines()
        .filter_map(|l| l.split(':').next().filter(|_| !l.contains(":x:0:")))
        .filter(|n| {
            !run_ok(Command::new("id").arg("-G").arg(n))
                .split_whitespace()
                .any(|g| g == "0")
        })
        .take(2)
        .collect();
    let [proxy, user] = names[..] else {
        panic!("two non-root accounts in getent passwd: {names:?}")
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let confs: Vec<String> = [
        "server_side = false",
        "server_side = true",
        "require_server_side = true",
    ]
    .iter()
    .enumerate()
    .map(|(i, line)| {
        let path = dir.path().join(format!("{i}.conf"));
        std::fs::write(
            &path,
            format!(
                "[resolution]\n{line}\n[[impersonation.proxy]]\nuser = {proxy:?}\n\
                     hosts = [\"*\"]\nusers = [{user:?}]\n"
            ),
        )
        .expect("write config");
        path.to_str().expect("UTF-8 path").to_string()
    })
    .collect();
    let summary = run_c_test(
        &[],
        "test_admit",
        &[&confs[0], &confs[1], &confs[2], proxy, user],
    );
    assert!(summary.contains(" 0 failures"), "{summary}");
}

#[test]
fn c_tests_are_valgrind_clean() {
    const VALGRIND: &[&str] = &[
        "valgrind",
        "-q",
        "--error-exitcode=1",
        "--leak-check=full",
        "--errors-for-leak-kinds=definite",
    ];
    let b = built();
    main_test(VALGRIND, "test_shared", "100");
    main_test(VALGRIND, "test_static", "20");
    let lib = b.lib_dir.join("libproxid.so");
    run_c_test(
        VALGRIND,
        "test_dlopen",
        &[
            lib.to_str().expect("UTF-8 path"),
            b.good_config.to_str().expect("UTF-8 path"),
        ],
    );
}

#[test]
fn install_script_and_pkg_config_build_a_c_program() {
    let b = built();
    let tmp = tempfile::tempdir().expect("temp dir");
    let install = |prefix: &Path, destdir: Option<&Path>| {
        let mut cmd = Command::new("bash");
        cmd.arg(Path::new(MANIFEST_DIR).join("scripts/install.sh"))
            .env("PREFIX", prefix)
            .env("PROXID_LIB_DIR", &b.lib_dir)
            .env_remove("LIBDIR")
            .env_remove("INCLUDEDIR")
            .env_remove("DESTDIR");
        if let Some(destdir) = destdir {
            cmd.env("DESTDIR", destdir);
        }
        run_ok(&mut cmd);
    };

    // Installed under a prefix, then found through pkg-config.
    let prefix = tmp.path().join("usr");
    install(&prefix, None);
    let libdir = prefix.join("lib");
    let version = env!("CARGO_PKG_VERSION");
    let abi = proxid::ffi::c::PROXID_ABI_VERSION;
    assert!(libdir.join(format!("libproxid.so.{version}")).is_file());
    let link = |name: String| std::fs::read_link(libdir.join(name)).expect("a symlink");
    assert_eq!(
        link(format!("libproxid.so.{abi}")),
        Path::new(&format!("libproxid.so.{version}"))
    );
    assert_eq!(
        link("libproxid.so".into()),
        Path::new(&format!("libproxid.so.{abi}"))
    );
    assert!(libdir.join("libproxid.a").is_file());
    assert!(prefix.join("include/proxid.h").is_file());

    let pkg_config = |args: &[&str]| {
        run_ok(
            Command::new("pkg-config")
                .args(args)
                .env("PKG_CONFIG_PATH", libdir.join("pkgconfig")),
        )
    };
    assert_eq!(pkg_config(&["--modversion", "proxid"]).trim(), version);
    let flags = pkg_config(&["--cflags", "--libs", "proxid"]);
    let example = tmp.path().join("example");
    run_ok(
        Command::new("cc")
            .args(["-std=c11", "-Wall", "-Wextra", "-Werror"])
            .arg(Path::new(MANIFEST_DIR).join("c-tests/example.c"))
            .args(flags.split_whitespace())
            .arg(format!("-Wl,-rpath,{}", libdir.display()))
            .arg("-o")
            .arg(&example),
    );
    let shown = run_ok(
        Command::new(&example)
            .arg("root")
            .env("PROXID_CONF", &b.good_config),
    );
    assert!(shown.starts_with("uid=0(root) gid=0"), "{shown}");

    // Staged for packaging: everything under DESTDIR, the .pc file names the real prefix.
    let stage = tmp.path().join("stage");
    install(Path::new("/usr"), Some(&stage));
    let pc = std::fs::read_to_string(stage.join("usr/lib/pkgconfig/proxid.pc")).expect("proxid.pc");
    assert!(
        pc.contains("prefix=/usr\n") && pc.contains("libdir=/usr/lib\n"),
        "{pc}"
    );
    assert!(stage.join("usr/include/proxid.h").is_file());
    assert!(stage.join(format!("usr/lib/libproxid.so.{abi}")).exists());
}

/// Issue 11.1: a setuid-root helper linked with libproxid, run by an unprivileged
/// user with `PROXID_CONF` pointing at a file that makes that user the superuser,
/// must not read the variable (AT_SECURE, `secure_getenv`), nor `KRB5_CONFIG`
/// (whose default realm would map `alice@EVIL.REALM` to `alice`). The same
/// program without the setuid bit, run the same way, does read them (the control).
#[test]
fn sec_11_1_setuid_helper_ignores_proxid_conf() {
    use std::os::unix::fs::PermissionsExt;
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: needs root to make a setuid-root program (CI runs as root)");
        return;
    }
    let b = built();
    // Under target/, not /tmp: /tmp may be mounted nosuid.
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("setuid-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create setuid dir");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod dir");
    let options = run_ok(
        Command::new("findmnt")
            .args(["-n", "-o", "OPTIONS", "-T"])
            .arg(&dir),
    );
    assert!(
        !options.split(',').any(|o| o.trim() == "nosuid"),
        "{} is on a nosuid file system ({options}): the setuid test cannot run there",
        dir.display()
    );
    let evil = dir.join("evil.conf");
    std::fs::write(&evil, "[impersonation]\nsuperuser = \"nobody\"\n").expect("write conf");
    std::fs::set_permissions(&evil, std::fs::Permissions::from_mode(0o644)).expect("chmod conf");
    let krb5 = dir.join("krb5.conf");
    std::fs::write(&krb5, "[libdefaults]\n  default_realm = EVIL.REALM\n")
        .expect("write krb5.conf");
    std::fs::set_permissions(&krb5, std::fs::Permissions::from_mode(0o644)).expect("chmod krb5");
    let plain = dir.join("plain_helper");
    let setuid = dir.join("setuid_helper");
    for (copy, mode) in [(&plain, 0o755), (&setuid, 0o4755)] {
        std::fs::copy(b.out.join("setuid_authorize"), copy).expect("copy helper");
        std::fs::set_permissions(copy, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }
    let as_nobody = |program: &Path| {
        run_ok(
            Command::new("setpriv")
                .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
                .arg(program)
                .args(["nobody", "root"])
                .env("PROXID_CONF", &evil)
                .env("KRB5_CONFIG", &krb5),
        )
    };
    let control = as_nobody(&plain);
    assert!(
        control.starts_with("ALLOWED superuser") && control.contains("SHORT alice"),
        "without setuid the variables count: {control}"
    );
    let attacked = as_nobody(&setuid);
    std::fs::remove_dir_all(&dir).ok();
    assert!(
        !attacked.starts_with("ALLOWED") && !attacked.contains("superuser"),
        "a setuid helper read PROXID_CONF: {attacked}"
    );
    assert!(
        attacked.contains("SHORT_ERROR"),
        "a setuid helper read KRB5_CONFIG: {attacked}"
    );
}

/// Issue 11 point 4 from C: forks while 8 threads resolve, 100 times; every child
/// resolves with the parent's resolver under an alarm (a hang fails).
#[test]
fn sec_11_4_c_fork_during_inflight_lookups() {
    let b = built();
    let config = b.out.join("no-cache.conf");
    std::fs::write(
        &config,
        "[resolution]\nmode = \"client\"\n[cache]\npositive_ttl = \"0s\"\nnegative_ttl = \"0s\"\n",
    )
    .expect("write config");
    let summary = run_c_test(
        &[],
        "test_fork",
        &[config.to_str().expect("UTF-8 path"), "100"],
    );
    assert!(summary.contains(" 0 failures"), "{summary}");
}
