//! The Debian package: `scripts/package-deb.sh` builds it (release build, lintian
//! clean), and the installed files work. It is installed into a throwaway dpkg root
//! (`dpkg --root` with a fresh database), never onto this machine, then purged.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stdout(cmd: &mut Command) -> String {
    String::from_utf8(run(cmd).stdout).expect("UTF-8 output")
}

fn deb_path() -> PathBuf {
    let arch = stdout(Command::new("dpkg").arg("--print-architecture"));
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(MANIFEST_DIR).join("target"));
    target.join("debian").join(format!(
        "proxid_{}_{}.deb",
        env!("CARGO_PKG_VERSION"),
        arch.trim()
    ))
}

/// `dpkg` acting on a private root: its own database, maintainer scripts run with
/// `DPKG_ROOT` set (ours do nothing to the host then), dependencies not checked
/// (the private database has no libc6).
fn dpkg(root: &Path) -> Command {
    let mut cmd = Command::new("dpkg");
    cmd.arg(format!("--root={}", root.display())).args([
        "--force-script-chrootless",
        "--force-depends",
        "--log=/dev/null",
    ]);
    cmd
}

#[test]
fn package_builds_lintian_clean_installs_runs_and_purges() {
    if Command::new("dpkg-deb").arg("--version").output().is_err() {
        panic!("dpkg-deb missing: scripts/test-all.sh installs dpkg-dev");
    }
    let script = Path::new(MANIFEST_DIR).join("scripts/package-deb.sh");
    let built = stdout(Command::new("bash").arg(&script).env("PROXID_LINTIAN", "1"));
    assert!(built.contains("lintian clean"), "{built}");
    let deb = deb_path();
    assert!(deb.is_file(), "{} not built", deb.display());

    // What the package says about itself.
    let fields = stdout(Command::new("dpkg-deb").arg("-f").arg(&deb));
    assert!(fields.contains("Package: proxid\n"), "{fields}");
    assert!(fields.contains("Depends: libc6"), "{fields}");
    let listing = stdout(Command::new("dpkg-deb").arg("-c").arg(&deb));
    for path in [
        "./usr/bin/proxid",
        "./usr/include/proxid.h",
        "/libproxid.so.0 -> libproxid.so.",
        "/pkgconfig/proxid.pc",
        "./usr/share/man/man1/proxid.1.gz",
        "./usr/sbin/proxidd",
        "./usr/share/man/man8/proxidd.8.gz",
        "/systemd/system/proxidd.service",
        "/libnss_proxid.so.2",
        "/security/pam_proxid.so",
    ] {
        assert!(
            listing.contains(path),
            "{path} missing from the package:\n{listing}"
        );
    }
    assert!(
        listing.contains("-rw-r--r-- root/root") && listing.contains("./etc/proxid.conf"),
        "{listing}"
    );
    for forbidden in ["nsswitch.conf", "pam.d/"] {
        assert!(!listing.contains(forbidden), "package ships {forbidden}");
    }

    // Installed into a throwaway root.
    let tmp = tempfile::tempdir().expect("temp dir");
    let root = tmp.path();
    for dir in [
        "var/lib/dpkg/info",
        "var/lib/dpkg/updates",
        "var/lib/dpkg/triggers",
    ] {
        std::fs::create_dir_all(root.join(dir)).expect("dpkg admin dir");
    }
    std::fs::write(root.join("var/lib/dpkg/status"), "").expect("dpkg status");
    run(dpkg(root).arg("-i").arg(&deb));
    let status = stdout(dpkg(root).args(["-s", "proxid"]));
    assert!(status.contains("Status: install ok installed"), "{status}");
    assert!(
        status.contains("Conffiles:\n /etc/proxid.conf "),
        "{status}"
    );

    let cli = root.join("usr/bin/proxid");
    let version = stdout(Command::new(&cli).arg("--version"));
    assert!(version.contains(env!("CARGO_PKG_VERSION")), "{version}");
    let conf = root.join("etc/proxid.conf");
    let resolved = stdout(
        Command::new(&cli)
            .arg("--config")
            .arg(&conf)
            .args(["resolve", "root"]),
    );
    assert!(
        resolved.starts_with("root uid=0(root) gid=0(root)"),
        "{resolved}"
    );

    // The installed header, pkg-config file and library build and run a C program.
    let multiarch = stdout(Command::new("gcc").arg("-print-multiarch"));
    let libdir = root.join("usr/lib").join(multiarch.trim());
    let flags = stdout(
        Command::new("pkg-config")
            .args(["--cflags", "--libs", "proxid"])
            .env("PKG_CONFIG_PATH", libdir.join("pkgconfig"))
            .env("PKG_CONFIG_SYSROOT_DIR", root),
    );
    let program = root.join("whoami");
    run(Command::new("cc")
        .args(["-Wall", "-Wextra", "-Werror", "-o"])
        .arg(&program)
        .arg(Path::new(MANIFEST_DIR).join("c-tests/example.c"))
        .args(flags.split_whitespace()));
    let ran = stdout(
        Command::new(&program)
            .arg("root")
            .env("LD_LIBRARY_PATH", &libdir)
            .env("PROXID_CONF", &conf),
    );
    assert!(ran.contains("uid=0"), "{ran}");

    // Purged: nothing of it is left in the root, the conffile included.
    run(dpkg(root).args(["--purge", "proxid"]));
    assert!(!cli.exists() && !conf.exists(), "purge left files behind");
}
