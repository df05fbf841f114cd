//! What the PAM module tests need around real libpam: the module built, a daemon
//! answering it on a Unix socket (the PAM and passwd requests, through
//! `proxid::pam_service` exactly as proxidd answers them), and a private mount
//! namespace with the test's own `/etc/pam.d` (the host's stays untouched).

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use proxid::pam_service::PamService;
use proxid::Resolver;
use proxid_proto::{split_frame, Passwd, Request, Response, MAX_REQUEST};

/// `libpam_proxid.so`, built once per test binary into its own target directory (the
/// outer `cargo test` holds the main one).
pub fn module() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let target = root.join("target/pam-module");
        let status = Command::new(env!("CARGO"))
            .args(["build", "--quiet", "-p", "pam_proxid"])
            .env("CARGO_TARGET_DIR", &target)
            .current_dir(root)
            .status()
            .expect("cargo build -p pam_proxid");
        assert!(status.success(), "building pam_proxid failed");
        target.join("debug/libpam_proxid.so")
    })
}

/// A daemon on a socket in a temp dir, answering as proxidd does; stopped on Drop.
pub struct Daemon {
    pub socket: PathBuf,
    stop: Arc<AtomicBool>,
    _dir: tempfile::TempDir,
}

fn peer_uid(stream: &UnixStream) -> u32 {
    use std::os::fd::AsRawFd;
    let mut cred = libc::ucred {
        pid: 0,
        uid: u32::MAX,
        gid: 0,
    };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: reading SO_PEERCRED into a ucred of the right size.
    let rc = unsafe {
        libc::getsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&mut cred as *mut libc::ucred).cast(),
            &mut len,
        )
    };
    assert_eq!(rc, 0, "SO_PEERCRED");
    cred.uid
}

fn serve(resolver: &Resolver, pam: &PamService, mut stream: UnixStream) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let payload = loop {
        match split_frame(&buf, MAX_REQUEST) {
            Ok(Some((payload, _))) => break payload.to_vec(),
            Ok(None) => {}
            Err(_) => return,
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let Ok(mut request) = Request::decode_payload(&payload) else {
        return;
    };
    let uid = peer_uid(&stream);
    let response = match pam.answer(resolver, &mut request, uid) {
        Some(r) => r,
        None => match request {
            Request::GetPwNam(name) => match resolver.resolve_bytes(&name) {
                Ok(id) => Response::Passwd(Passwd {
                    name: id.name,
                    passwd: "x".into(),
                    uid: id.uid,
                    gid: id.gid,
                    gecos: String::new(),
                    dir: id.home,
                    shell: id.shell,
                }),
                Err(proxid::Error::NotFound { .. } | proxid::Error::InvalidName { .. }) => {
                    Response::NotFound
                }
                Err(e) => Response::Unavailable(e.to_string()),
            },
            _ => Response::Error("unsupported request".into()),
        },
    };
    let _ = stream.write_all(&response.encode());
}

impl Daemon {
    pub fn start(resolver: Resolver, pam: PamService) -> Daemon {
        let dir = tempfile::tempdir().unwrap();
        // Every local user may connect, as to proxidd's socket.
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        let socket = dir.path().join("nss.sock");
        let listener = UnixListener::bind(&socket).unwrap();
        std::fs::set_permissions(&socket, std::os::unix::fs::PermissionsExt::from_mode(0o666))
            .unwrap();
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let shared = Arc::new((resolver, pam));
        std::thread::spawn(move || {
            while !stopping.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let _ = stream.set_nonblocking(false);
                        let shared = shared.clone();
                        std::thread::spawn(move || serve(&shared.0, &shared.1, stream));
                    }
                    Err(_) => std::thread::sleep(std::time::Duration::from_millis(5)),
                }
            }
        });
        Daemon {
            socket,
            stop,
            _dir: dir,
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
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
