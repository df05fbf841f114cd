//! proxidd and libnss_proxid.so.2 in tests: the module built and placed where glibc
//! finds it (`LD_LIBRARY_PATH`; getent and id are not setuid), commands run in a
//! private mount namespace whose /etc/nsswitch.conf is a bind-mounted test file, and
//! the daemon on a private socket (`--socket` + `PROXID_NSS_SOCKET`).
#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub const PROXIDD: &str = env!("CARGO_BIN_EXE_proxidd");

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Skips (with a note) where unshare/mount are not allowed.
pub fn skip_unless_root(test: &str) -> bool {
    if is_root() {
        return false;
    }
    eprintln!("SKIPPED {test}: needs root (unshare -m, mount); scripts/test-all.sh runs it in CI");
    true
}

/// The target directory this test binary's profile builds into (target/debug).
pub fn profile_dir() -> PathBuf {
    Path::new(PROXIDD).parent().unwrap().to_path_buf()
}

/// Where the built module and C programs go: under the target directory, reused by
/// every run (nothing left behind in /tmp).
fn scratch_dir() -> PathBuf {
    profile_dir().join("nss-tests")
}

/// A directory laid out as `scripts/install.sh` takes a build (`PROXID_LIB_DIR`):
/// `cargo test` leaves libproxid in deps/ (a `cargo build` would copy it up), and the
/// daemon and the modules beside it. Links to what this run built.
pub fn install_build_dir() -> tempfile::TempDir {
    let profile = profile_dir();
    let dir = tempfile::tempdir().unwrap();
    for (file, from) in [
        ("libproxid.so", profile.join("deps")),
        ("libproxid.a", profile.join("deps")),
        ("proxidd", profile.clone()),
        ("libnss_proxid.so", profile.clone()),
        ("libpam_proxid.so", profile.clone()),
    ] {
        if from.join(file).exists() {
            std::os::unix::fs::symlink(from.join(file), dir.path().join(file)).unwrap();
        }
    }
    dir
}

/// Builds the NSS module (a workspace member that `cargo test` of the root package
/// does not build) and returns a directory holding it as `libnss_proxid.so.2`.
pub fn module_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let profile = profile_dir();
        let target = profile.parent().unwrap();
        let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        cargo
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["build", "-p", "nss_proxid"])
            .env("CARGO_TARGET_DIR", target);
        if profile.file_name().is_some_and(|n| n == "release") {
            cargo.arg("--release");
        }
        let status = cargo.status().expect("cargo runs");
        assert!(status.success(), "building libnss_proxid failed");
        let dir = scratch_dir().join("lib");
        std::fs::create_dir_all(&dir).unwrap();
        // A copy renamed into place, not a link: a later rebuild must not change the
        // module under a running test (the old inode stays mapped).
        let part = dir.join(format!("libnss_proxid.so.2.{}", std::process::id()));
        std::fs::copy(profile.join("libnss_proxid.so"), &part).unwrap();
        std::fs::rename(&part, dir.join("libnss_proxid.so.2")).unwrap();
        dir
    })
}

/// An nsswitch.conf and a socket path in a temp dir.
pub struct Host {
    pub dir: tempfile::TempDir,
    pub nsswitch: PathBuf,
    pub socket: PathBuf,
}

impl Host {
    pub fn new() -> Host {
        Host::with_nsswitch(
            "passwd: files proxid\ngroup: files proxid\nshadow: files\nhosts: files dns\n",
        )
    }

    /// With proxid alone (so every answer, buffer errors included, is the module's).
    pub fn proxid_only() -> Host {
        Host::with_nsswitch("passwd: proxid\ngroup: proxid\nhosts: files dns\n")
    }

    pub fn with_nsswitch(text: &str) -> Host {
        let dir = tempfile::tempdir().unwrap();
        let nsswitch = dir.path().join("nsswitch.conf");
        std::fs::write(&nsswitch, text).unwrap();
        let socket = dir.path().join("nss.sock");
        Host {
            dir,
            nsswitch,
            socket,
        }
    }

    /// `program args...` inside a private mount namespace seeing our nsswitch.conf,
    /// with the module on the library path and our socket.
    pub fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new("unshare");
        cmd.args(["-m", "--propagation", "private", "sh", "-c"])
            .arg("mount --bind \"$0\" /etc/nsswitch.conf && exec \"$@\"")
            .arg(&self.nsswitch)
            .arg(program)
            .env("LD_LIBRARY_PATH", module_dir())
            .env("PROXID_NSS_SOCKET", &self.socket);
        cmd
    }

    /// Runs `program args` in the namespace: (exit code, stdout then stderr).
    pub fn run(&self, program: &str, args: &[&str]) -> (i32, String) {
        let out = self
            .command(program)
            .args(args)
            .output()
            .expect("command runs");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    }

    /// Starts proxidd inside its own namespace with `passwd: files proxid` (so a
    /// recursion would show) and waits for `proxidd: ready`.
    pub fn start_daemon(&self, config: &Path) -> Daemon {
        let log = self
            .dir
            .path()
            .join(format!("proxidd-{}.log", log_number()));
        let child = self
            .command(PROXIDD)
            .args(["--foreground", "--config"])
            .arg(config)
            .arg("--socket")
            .arg(&self.socket)
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("proxidd starts");
        let mut daemon = Daemon { child, log };
        daemon.wait_ready();
        daemon
    }
}

fn log_number() -> u64 {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

pub struct Daemon {
    pub child: Child,
    pub log: PathBuf,
}

impl Daemon {
    pub fn log_text(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut text);
        }
        text
    }

    fn wait_ready(&mut self) {
        #[allow(clippy::disallowed_methods)] // waits for a real daemon
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(20) {
            if self.log_text().lines().any(|l| l == "proxidd: ready") {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("proxidd exited ({status}): {}", self.log_text());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("proxidd not ready: {}", self.log_text());
    }

    pub fn signal(&self, sig: libc::c_int) {
        // SAFETY: signalling our own child.
        unsafe { libc::kill(self.child.id() as libc::pid_t, sig) };
    }

    /// SIGTERM, then the exit status.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        self.signal(libc::SIGTERM);
        self.child.wait().unwrap()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        // A failing test shows what the daemon said.
        if std::thread::panicking() {
            if let Ok(log) = std::fs::read_to_string(&self.log) {
                eprintln!("--- {} ---\n{log}", self.log.display());
            }
        }
    }
}

/// Compiles `c-tests/NAME.c` (`-Wall -Wextra -Werror`, pthreads) once per test binary
/// and returns the program's path. `flags` adds e.g. `-fsanitize=address`.
pub fn c_program_with(name: &str, tag: &str, flags: &[&str]) -> String {
    static BUILT: std::sync::Mutex<Vec<(String, String)>> = std::sync::Mutex::new(Vec::new());
    let key = format!("{name}-{tag}");
    let mut built = BUILT.lock().unwrap();
    if let Some((_, path)) = built.iter().find(|(k, _)| *k == key) {
        return path.clone();
    }
    let dir = scratch_dir().join("c");
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join(&key);
    let part = dir.join(format!("{key}.{}", std::process::id()));
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("c-tests/{name}.c"));
    let status = Command::new("cc")
        .args(["-Wall", "-Wextra", "-Werror", "-O1", "-g", "-pthread"])
        .args(flags)
        .arg(&src)
        .arg("-o")
        .arg(&part)
        .status()
        .expect("cc runs");
    assert!(status.success(), "compiling {src:?} failed");
    std::fs::rename(&part, &out).unwrap();
    let path = out.display().to_string();
    built.push((key, path.clone()));
    path
}

pub fn c_program(name: &str) -> String {
    c_program_with(name, "plain", &[])
}
