//! Shared by the LDAP test binaries (and usable by benchmarks): a private slapd per
//! schema, started once per binary, proxid configurations pointing at it, and a
//! "black hole" server that accepts connections and never answers.
#![allow(dead_code)]
// The harness waits on real processes (slapd, proxies, daemons): real time.
#![allow(clippy::disallowed_methods)]

pub mod fault_proxy;
pub mod pam;
pub mod slapd;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use proxid::config::Config;
use slapd::{Schema, Slapd, BASE};

pub fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Users in `ou=many`: more than the server's size limit.
pub const BULK_USERS: usize = 1200;
/// Groups `joiner` is in: more than the server's size limit.
pub const JOINER_GROUPS: usize = 600;

/// A large directory, generated: `BULK_USERS` users all in group `big` (so `big` has
/// that many members), and `joiner`, member of `JOINER_GROUPS` groups.
pub fn bulk_ldif() -> String {
    let mut out = format!(
        "dn: ou=many,{BASE}\nobjectClass: organizationalUnit\nou: many\n\n\
         dn: uid=joiner,ou=many,{BASE}\nobjectClass: inetOrgPerson\nobjectClass: posixAccount\n\
         uid: joiner\ncn: joiner\nsn: joiner\nuidNumber: 29000\ngidNumber: 10000\nhomeDirectory: /home/joiner\n\n"
    );
    let mut big =
        format!("dn: cn=big,ou=many,{BASE}\nobjectClass: posixGroup\ncn: big\ngidNumber: 29999\n");
    for i in 0..BULK_USERS {
        out += &format!(
            "dn: uid=bulk{i:04},ou=many,{BASE}\nobjectClass: inetOrgPerson\nobjectClass: posixAccount\n\
             uid: bulk{i:04}\ncn: b\nsn: b\nuidNumber: {}\ngidNumber: 10000\nhomeDirectory: /home/b\n\n",
            30000 + i
        );
        big += &format!("memberUid: bulk{i:04}\n");
    }
    out += &big;
    out += "\n";
    for i in 0..JOINER_GROUPS {
        out += &format!(
            "dn: cn=g{i:04},ou=many,{BASE}\nobjectClass: posixGroup\ncn: g{i:04}\ngidNumber: {}\nmemberUid: joiner\n\n",
            40000 + i
        );
    }
    out
}

/// The RFC2307 server of this test binary: fixtures, broken data and the bulk tree.
pub fn rfc2307() -> &'static Slapd {
    static SERVER: OnceLock<Slapd> = OnceLock::new();
    SERVER.get_or_init(|| {
        let ldif = [fixture("rfc2307.ldif"), fixture("broken.ldif"), bulk_ldif()].join("\n");
        Slapd::start(Schema::Rfc2307, &ldif)
    })
}

/// The RFC2307bis server of this test binary.
pub fn rfc2307bis() -> &'static Slapd {
    static SERVER: OnceLock<Slapd> = OnceLock::new();
    SERVER.get_or_init(|| Slapd::start(Schema::Rfc2307bis, &fixture("rfc2307bis.ldif")))
}

/// A proxid configuration file in its own temp dir.
pub struct ConfFile {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
}

impl ConfFile {
    /// `[resolution] mode = "server"` and an `[ldap]` section made of `uris`, the
    /// fixture base and `extra` lines (TOML, inside `[ldap]`; `[ldap.map]` may follow).
    pub fn new(uris: &[&str], extra: &str) -> ConfFile {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("proxid.conf");
        let uris: Vec<String> = uris.iter().map(|u| format!("{u:?}")).collect();
        let mut text = format!(
            "[resolution]\nmode = \"server\"\n\n[ldap]\nuris = [{}]\nbase = \"{BASE}\"\n",
            uris.join(", ")
        );
        for default in ["connect_timeout = \"2s\"\n", "operation_timeout = \"3s\"\n"] {
            let key = default.split(' ').next().unwrap_or_default();
            if !extra.contains(key) {
                text += default;
            }
        }
        text += extra;
        std::fs::write(&path, text).unwrap();
        ConfFile { dir, path }
    }

    /// Writes the bind password into a private file and returns the TOML lines that
    /// bind with it.
    pub fn bind_lines(dir: &Path, password: &str) -> String {
        use std::os::unix::fs::PermissionsExt;
        let secret = dir.join("bind.secret");
        std::fs::write(&secret, password).unwrap();
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
        format!(
            "bind_dn = \"{}\"\nbind_password_file = {:?}\n",
            slapd::BIND_DN,
            secret.display().to_string()
        )
    }

    pub fn config(&self) -> Config {
        Config::load(Some(&self.path)).expect("config loads")
    }
}

/// A server that accepts TCP connections and never says a word.
pub struct BlackHole {
    pub port: u16,
    _listener: TcpListener,
    _held: std::thread::JoinHandle<()>,
}

impl BlackHole {
    pub fn start() -> BlackHole {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepting = listener.try_clone().unwrap();
        let held = std::thread::spawn(move || {
            let mut open = Vec::new();
            for conn in accepting.incoming().flatten() {
                open.push(conn);
            }
        });
        BlackHole {
            port,
            _listener: listener,
            _held: held,
        }
    }

    pub fn uri(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.port)
    }
}

/// A server that accepts TCP connections and closes them at once, counting them.
pub struct Slammer {
    pub port: u16,
    pub accepted: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Slammer {
    pub fn start() -> Slammer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = accepted.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                drop(conn);
            }
        });
        Slammer { port, accepted }
    }

    pub fn uri(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.port)
    }

    pub fn accepted(&self) -> usize {
        self.accepted.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// A TCP proxy in front of a server that counts the connections it carries and can
/// cut them all (as a server restart or a firewall would).
pub struct Proxy {
    pub port: u16,
    accepted: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    open: std::sync::Arc<std::sync::Mutex<Vec<std::net::TcpStream>>>,
}

impl Proxy {
    pub fn start(target_port: u16) -> Proxy {
        use std::sync::atomic::Ordering;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let open = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (count, tracked) = (accepted.clone(), open.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                count.fetch_add(1, Ordering::SeqCst);
                let Ok(server) = std::net::TcpStream::connect(("127.0.0.1", target_port)) else {
                    continue;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                let mut guard = tracked.lock().unwrap();
                guard.push(client.try_clone().unwrap());
                guard.push(server.try_clone().unwrap());
                for (mut from, mut to) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap()),
                    (server, client),
                ] {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(std::net::Shutdown::Both);
                    });
                }
            }
        });
        Proxy {
            port,
            accepted,
            open,
        }
    }

    pub fn uri(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.port)
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Closes every carried connection.
    pub fn cut(&self) {
        for conn in self.open.lock().unwrap().drain(..) {
            let _ = conn.shutdown(std::net::Shutdown::Both);
        }
    }
}

/// A port nothing listens on (connection refused at once).
pub fn dead_uri() -> String {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("ldap://127.0.0.1:{port}")
}
