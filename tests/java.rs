//! Builds the Java API and the Hadoop providers (java/Makefile) and runs their JUnit 5
//! tests against the libproxid.so of this build, inside a real JVM with -Xcheck:jni
//! and the real Hadoop 3.3.4 classes (fetched once into ~/.cache by
//! java/fetch-hadoop.sh). Needs a JDK, make and Debian's junit5 package, which
//! scripts/test-all.sh installs. A private slapd serves the tests that need LDAP mode
//! (the provider refresh leak test); its proxid.conf reaches them as the system
//! property `proxid.test.ldap.conf`.
#![cfg(all(feature = "jni", feature = "testing"))]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");
const CLI: &str = env!("CARGO_BIN_EXE_proxid");

/// Symbols the Java tests call; a library without them was built without the features.
const NEEDED_SYMBOLS: [&[u8]; 2] = [
    b"Java_org_proxid_Native_resolve",
    b"Java_org_proxid_Native_testingPanic",
];

fn has_jni_symbols(lib: &Path) -> bool {
    let Ok(bytes) = std::fs::read(lib) else {
        return false;
    };
    NEEDED_SYMBOLS
        .iter()
        .all(|sym| bytes.windows(sym.len()).any(|w| w == *sym))
}

/// The cdylib this `cargo test` built, copied aside so a later build of the same
/// target directory with other features cannot swap it out under the JVM. It is the
/// one in `deps/`: `cargo test` does not refresh the copy next to the CLI.
fn library_for_java(into: &Path) -> PathBuf {
    let built = Path::new(CLI)
        .parent()
        .expect("CLI has a directory")
        .join("deps")
        .join("libproxid.so");
    if !has_jni_symbols(&built) {
        // Another test rebuilt the shared target directory with other features.
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--lib", "--features", "jni,testing"])
            .current_dir(MANIFEST_DIR)
            .status()
            .expect("run cargo build");
        assert!(
            status.success(),
            "cargo build --features jni,testing failed"
        );
        assert!(
            has_jni_symbols(&built),
            "{} lacks the JNI entry points",
            built.display()
        );
    }
    std::fs::create_dir_all(into).expect("create library dir");
    let copy = into.join("libproxid.so");
    std::fs::copy(&built, &copy).expect("copy libproxid.so");
    copy
}

#[test]
fn java_api_and_hadoop_providers_pass_their_junit_tests() {
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("java");
    let lib = library_for_java(&work.join("lib"));
    let slapd = support::slapd::Slapd::start(
        support::slapd::Schema::Rfc2307,
        &support::fixture("rfc2307.ldif"),
    );
    let ldap_conf = support::ConfFile::new(&[&slapd.ldap_uri], "connections = 2\n");
    let output = Command::new("make")
        .arg("-C")
        .arg(Path::new(MANIFEST_DIR).join("java"))
        .arg("test")
        .arg(format!("BUILD={}", work.join("build").display()))
        .arg(format!("LIB={}", lib.parent().expect("lib dir").display()))
        .arg(format!("CLI={CLI}"))
        .arg(format!(
            "JVMFLAGS=-Xcheck:jni -Dproxid.test.ldap.conf={}",
            ldap_conf.path.display()
        ))
        // One line per deliberate test panic instead of a backtrace each.
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("run make (is make installed?)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(
        output.status.success(),
        "java tests failed ({}); output above",
        output.status
    );
    assert!(
        stdout.contains("tests successful") && stdout.contains(" 0 tests failed"),
        "the JUnit summary is missing; output above"
    );
    // -Xcheck:jni reports misuse of JNI (unchecked exceptions, too many local
    // references...) as warnings and carries on; none is acceptable.
    let jni_warning = |line: &str| {
        line.contains("WARNING in native method")
            || line.contains("WARNING") && line.contains("JNI")
    };
    assert!(
        !stdout.lines().chain(stderr.lines()).any(jni_warning),
        "-Xcheck:jni complained; output above"
    );
}
