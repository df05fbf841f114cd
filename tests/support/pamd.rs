//! What the PAM module tests need around real libpam: the module built, proxidd
//! answering it, and a private mount namespace with the test's own `/etc/pam.d`
//! (the host's stays untouched).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// `libpam_proxid.so`, built once per test binary (a workspace member that `cargo
/// test` of the root package does not build), as `support::nss` builds its module.
pub fn module() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let profile = super::nss::profile_dir();
        let mut cargo = Command::new(env!("CARGO"));
        cargo
            .args(["build", "--quiet", "-p", "pam_proxid"])
            .env("CARGO_TARGET_DIR", profile.parent().unwrap())
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        if profile.file_name().is_some_and(|n| n == "release") {
            cargo.arg("--release");
        }
        assert!(
            cargo.status().expect("cargo").success(),
            "building pam_proxid failed"
        );
        // A copy: a later rebuild must not change the module under a running test.
        let copy = std::env::temp_dir().join(format!("pam_proxid-{}.so", std::process::id()));
        std::fs::copy(profile.join("libpam_proxid.so"), &copy).unwrap();
        copy
    })
}

/// proxidd (the real daemon, `support::nss`) serving `config` on a socket every
/// local user may reach; stopped on Drop.
pub struct Daemon {
    pub socket: PathBuf,
    _proxidd: super::nss::Daemon,
    _host: super::nss::Host,
}

impl Daemon {
    pub fn start(config: &Path) -> Daemon {
        let host = super::nss::Host::new();
        // The service account of the launcher tests connects too.
        std::fs::set_permissions(
            host.dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        let proxidd = host.start_daemon(config);
        Daemon {
            socket: host.socket.clone(),
            _proxidd: proxidd,
            _host: host,
        }
    }
}

/// Whether this process may make mount namespaces (root; CI runs as root).
pub fn can_unshare() -> bool {
    Command::new("unshare")
        .args(["-m", "--propagation", "private", "true"])
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs `script` with `sh -e` in a private mount namespace where `/etc/pam.d` is
/// `pam_d` (a directory of service files), `/run` a fresh tmpfs holding
/// `/run/proxid/nss.sock` (a link to `socket`: setuid programs ignore
/// `PROXID_NSS_SOCKET`), `/home` a fresh tmpfs, and `binds` further bind mounts.
pub fn in_namespace(
    pam_d: &Path,
    socket: &Path,
    binds: &[(&Path, &str)],
    script: &str,
    stdin: &str,
) -> Output {
    let mut setup = format!(
        "set -e\nmount --bind '{}' /etc/pam.d\nmount -t tmpfs -o mode=755 none /run\n\
         mkdir -m 755 /run/proxid\nln -s '{}' /run/proxid/nss.sock\n\
         mount -t tmpfs -o mode=755 none /home\n",
        pam_d.display(),
        socket.display()
    );
    for (from, to) in binds {
        setup += &format!("mount --bind '{}' '{to}'\n", from.display());
    }
    let mut child = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c"])
        .arg(format!("{setup}{script}"))
        .env("PROXID_NSS_SOCKET", socket)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("unshare");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}
