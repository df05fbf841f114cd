//! A private OpenLDAP slapd for tests and benchmarks: its own config and mdb database
//! in a temp dir, loaded from LDIF with slapadd, listening on free 127.0.0.1 ports
//! (ldap:// and ldaps:// with a CA and certificate generated here), stopped on Drop
//! or, for a server kept in a `static`, when the test process exits.
//!
//! Needs Debian's `slapd`, `ldap-utils`, `openssl` and, for RFC2307bis, `gosa-schema`.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

pub const BASE: &str = "dc=example,dc=org";
pub const ROOT_DN: &str = "cn=admin,dc=example,dc=org";
pub const ROOT_PW: &str = "admin-secret";
pub const BIND_DN: &str = "cn=proxid,ou=services,dc=example,dc=org";
pub const BIND_PW: &str = "proxid-secret";
/// The server's size limit: anything bigger must come back through paging.
pub const SIZE_LIMIT: usize = 500;

/// Which group schema the server loads. `nis` and `rfc2307bis` define the same
/// attributes, so one server holds one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schema {
    Rfc2307,
    Rfc2307bis,
}

pub struct Slapd {
    /// `ldap://127.0.0.1:PORT`
    pub ldap_uri: String,
    /// `ldaps://localhost:PORT` (the certificate names `localhost` only).
    pub ldaps_uri: String,
    pub port: u16,
    pub tls_port: u16,
    /// The CA that signed the server certificate.
    pub ca_file: PathBuf,
    pub dir: tempfile::TempDir,
    // Closing this makes the wrapper shell stop slapd (also when the process exits).
    stdin: Option<ChildStdin>,
    child: Child,
}

/// A program from /usr/sbin (slapd, slapadd), which is not on ordinary users' PATH.
pub fn sbin(name: &str) -> String {
    let path = format!("/usr/sbin/{name}");
    if Path::new(&path).exists() {
        path
    } else {
        name.to_string()
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A self-signed certificate for `localhost` and `::1` made the way small directories
/// make theirs, `openssl req -x509` with its defaults (so `CA:TRUE`): (cert, key).
pub fn make_self_signed(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let (key, cert) = (
        dir.join(format!("{name}.key")),
        dir.join(format!("{name}.pem")),
    );
    run(Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .arg("-nodes")
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .args(["-days", "2", "-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost,IP:::1"]));
    (cert, key)
}

/// Whether this host has IPv6 loopback (containers often do not).
pub fn has_ipv6() -> bool {
    TcpListener::bind("[::1]:0").is_ok()
}

/// A CA (`<name>-ca.pem`) and a certificate for `localhost` (and `::1`) it signed
/// (`<name>.pem`, key `<name>.key`), EC P-256 so generation is quick.
pub fn make_certificates(dir: &Path, name: &str) -> (PathBuf, PathBuf, PathBuf) {
    make_certificates_days(dir, name, 2)
}

/// [`make_certificates`] valid for `days` days.
pub fn make_certificates_days(dir: &Path, name: &str, days: u32) -> (PathBuf, PathBuf, PathBuf) {
    let days = days.to_string();
    let p = |f: String| dir.join(f);
    let (ca_key, ca) = (p(format!("{name}-ca.key")), p(format!("{name}-ca.pem")));
    let (key, csr, cert) = (
        p(format!("{name}.key")),
        p(format!("{name}.csr")),
        p(format!("{name}.pem")),
    );
    let ext = p(format!("{name}.ext"));
    std::fs::write(
        &ext,
        "subjectAltName=DNS:localhost,IP:::1\nbasicConstraints=critical,CA:FALSE\n\
         keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    run(Command::new("openssl")
        .args(["req", "-x509"])
        .args(ec)
        .arg("-keyout")
        .arg(&ca_key)
        .arg("-out")
        .arg(&ca)
        .args([
            "-days",
            &days,
            "-subj",
            &format!("/CN=proxid test CA {name}"),
        ])
        .args(["-addext", "basicConstraints=critical,CA:TRUE"])
        .args(["-addext", "keyUsage=critical,keyCertSign,cRLSign"]));
    run(Command::new("openssl")
        .arg("req")
        .args(ec)
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&csr)
        .args(["-subj", "/CN=localhost"]));
    run(Command::new("openssl")
        .args(["x509", "-req", "-days", &days, "-set_serial", "2"])
        .arg("-in")
        .arg(&csr)
        .arg("-CA")
        .arg(&ca)
        .arg("-CAkey")
        .arg(&ca_key)
        .arg("-extfile")
        .arg(&ext)
        .arg("-out")
        .arg(&cert));
    (ca, cert, key)
}

/// Additions to the generated slapd.conf: modules to load, and lines for the database
/// section (overlays).
#[derive(Debug, Default, Clone, Copy)]
pub struct Extra<'a> {
    pub modules: &'a [&'a str],
    pub database: &'a str,
}

fn slapd_conf(
    dir: &Path,
    schema: Schema,
    cert: &Path,
    key: &Path,
    ca: &Path,
    extra: Extra<'_>,
) -> String {
    let schemas = match schema {
        Schema::Rfc2307 => ["core", "cosine", "nis", "inetorgperson"]
            .map(|s| format!("/etc/ldap/schema/{s}.schema")),
        Schema::Rfc2307bis => [
            "/etc/ldap/schema/core.schema".to_string(),
            "/etc/ldap/schema/cosine.schema".to_string(),
            "/etc/ldap/schema/gosa/rfc2307bis.schema".to_string(),
            "/etc/ldap/schema/inetorgperson.schema".to_string(),
        ],
    };
    let mut conf = String::new();
    for s in schemas {
        assert!(
            Path::new(&s).exists(),
            "{s} is missing: install slapd (and gosa-schema)"
        );
        conf += &format!("include {s}\n");
    }
    let d = dir.display();
    conf += &format!(
        "pidfile {d}/slapd.pid\nargsfile {d}/slapd.args\n\
         modulepath /usr/lib/ldap\nmoduleload back_mdb\n{modules}\
         TLSCACertificateFile {ca}\nTLSCertificateFile {cert}\nTLSCertificateKeyFile {key}\n\
         sizelimit {SIZE_LIMIT}\n\
         database mdb\nmaxsize 268435456\nsuffix \"{BASE}\"\nrootdn \"{ROOT_DN}\"\nrootpw {ROOT_PW}\n\
         directory {d}/db\n\
         index objectClass,uid,memberUid,uidNumber,gidNumber,cn eq\n",
        ca = ca.display(),
        cert = cert.display(),
        key = key.display(),
        modules = extra
            .modules
            .iter()
            .map(|m| format!("moduleload {m}\n"))
            .collect::<String>(),
    );
    if schema == Schema::Rfc2307bis {
        conf += "index member eq\n";
    }
    // Like a production directory: paging lifts the per-search size limit.
    conf += &format!(
        "limits * size.soft={SIZE_LIMIT} size.hard={SIZE_LIMIT} size.prtotal=unlimited\n\
         access to attrs=userPassword by anonymous auth by * none\n\
         access to * by * read\n"
    );
    conf += extra.database;
    conf
}

/// Starts slapd from `dir/slapd.conf` and waits until both ports answer. On failure,
/// returns its log.
// The child is handed to `Slapd`, which waits for it on Drop.
#[allow(clippy::zombie_processes)]
fn spawn(dir: &Path, port: u16, tls_port: u16) -> Result<(Child, ChildStdin), String> {
    let mut urls = format!("ldap://127.0.0.1:{port}/ ldaps://127.0.0.1:{tls_port}/");
    if has_ipv6() {
        urls += &format!(" ldap://[::1]:{port}/ ldaps://[::1]:{tls_port}/");
    }
    let log = dir.join("slapd.log");
    // The shell keeps slapd in the foreground and stops it when our end of its stdin
    // closes, which also happens when this process dies (servers kept in statics).
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(r#""$4" -d 0 -f "$1" -h "$2" 2>"$3" & pid=$!; read _ignored; kill $pid 2>/dev/null; wait $pid"#)
        .arg("sh")
        .arg(dir.join("slapd.conf"))
        .arg(&urls)
        .arg(&log)
        .arg(sbin("slapd"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("sh");
    let stdin = child.stdin.take().expect("piped stdin");
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let up = |p| TcpStream::connect(("127.0.0.1", p)).is_ok();
        if up(port) && up(tls_port) {
            return Ok((child, stdin));
        }
        if Instant::now() > deadline {
            drop(stdin);
            let _ = child.wait();
            return Err(std::fs::read_to_string(&log).unwrap_or_default());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Slapd {
    /// Starts a server holding `ldif` (the concatenated contents of LDIF files), with a
    /// certificate signed by its own CA; it also listens on `[::1]` when the host has
    /// IPv6.
    pub fn start(schema: Schema, ldif: &str) -> Slapd {
        Slapd::start_full(schema, ldif, false, 2, Extra::default())
    }

    /// [`Slapd::start`] with a server certificate (and CA) valid for `days` days.
    pub fn start_with_cert_days(schema: Schema, ldif: &str, days: u32) -> Slapd {
        Slapd::start_full(schema, ldif, false, days, Extra::default())
    }

    /// As `start`; with `self_signed`, the server presents a self-signed `CA:TRUE`
    /// certificate (`make_self_signed`), which is then also its `ca_file`.
    pub fn start_with(schema: Schema, ldif: &str, self_signed: bool) -> Slapd {
        Slapd::start_full(schema, ldif, self_signed, 2, Extra::default())
    }

    /// A syncrepl pair: a provider holding `ldif` (syncprov overlay) and a consumer
    /// that starts empty and copies it (refreshAndPersist, retrying every second).
    /// Returns once the consumer holds the entry `wait_for` (a DN).
    pub fn start_replicated_pair(schema: Schema, ldif: &str, wait_for: &str) -> (Slapd, Slapd) {
        let provider = Slapd::start_inner(
            schema,
            ldif,
            false,
            2,
            Extra::default(),
            &Replication::Provider,
        );
        let consumer = Slapd::start_inner(
            schema,
            "",
            false,
            2,
            Extra::default(),
            &Replication::Consumer(provider.ldap_uri.clone()),
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        while !consumer.has_entry(wait_for) {
            assert!(
                Instant::now() < deadline,
                "the consumer did not replicate {wait_for} within 30 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        (provider, consumer)
    }

    /// Whether the server holds the entry `dn` (an anonymous base search).
    pub fn has_entry(&self, dn: &str) -> bool {
        Command::new("ldapsearch")
            .args([
                "-x",
                "-LLL",
                "-H",
                &self.ldap_uri,
                "-s",
                "base",
                "-b",
                dn,
                "1.1",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Kills slapd with SIGKILL (a crash: no goodbye to clients). `restart` brings it
    /// back on the same ports and data.
    pub fn kill9(&mut self) {
        let pid = std::fs::read_to_string(self.dir.path().join("slapd.pid"))
            .expect("slapd.pid")
            .trim()
            .to_string();
        run(Command::new("kill").args(["-9", &pid]));
        // Gone once its port refuses.
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_ok() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// As [`Slapd::start`], with modules and database lines added (overlays).
    pub fn start_with_extra(schema: Schema, ldif: &str, extra: Extra<'_>) -> Slapd {
        Slapd::start_full(schema, ldif, false, 2, extra)
    }

    fn start_full(
        schema: Schema,
        ldif: &str,
        self_signed: bool,
        days: u32,
        extra: Extra<'_>,
    ) -> Slapd {
        Slapd::start_inner(schema, ldif, self_signed, days, extra, &Replication::None)
    }

    fn start_inner(
        schema: Schema,
        ldif: &str,
        self_signed: bool,
        days: u32,
        extra: Extra<'_>,
        repl: &Replication,
    ) -> Slapd {
        let dir = tempfile::tempdir().expect("temp dir");
        let (ca_file, cert, key) = if self_signed {
            let (cert, key) = make_self_signed(dir.path(), "server");
            (cert.clone(), cert, key)
        } else {
            make_certificates_days(dir.path(), "server", days)
        };
        std::fs::create_dir(dir.path().join("db")).unwrap();
        let conf = dir.path().join("slapd.conf");
        let text = slapd_conf(dir.path(), schema, &cert, &key, &ca_file, extra);
        std::fs::write(&conf, repl.configure(text)).unwrap();
        if !ldif.is_empty() {
            let data = dir.path().join("data.ldif");
            std::fs::write(&data, ldif).unwrap();
            run(Command::new(sbin("slapadd"))
                .arg("-q")
                .arg("-f")
                .arg(&conf)
                .arg("-l")
                .arg(&data));
        }

        let mut last_log = String::new();
        for _ in 0..5 {
            let (port, tls_port) = (free_port(), free_port());
            match spawn(dir.path(), port, tls_port) {
                Ok((child, stdin)) => {
                    return Slapd {
                        ldap_uri: format!("ldap://127.0.0.1:{port}"),
                        ldaps_uri: format!("ldaps://localhost:{tls_port}"),
                        port,
                        tls_port,
                        ca_file,
                        dir,
                        stdin: Some(stdin),
                        child,
                    }
                }
                // Most likely another process took a port between our probe and slapd's bind.
                Err(log) => last_log = log,
            }
        }
        panic!("slapd did not start: {last_log}");
    }

    /// Stops slapd and starts it again on the same ports and data: every client
    /// connection is closed by the server.
    pub fn restart(&mut self) {
        self.stop();
        let (child, stdin) = spawn(self.dir.path(), self.port, self.tls_port)
            .unwrap_or_else(|log| panic!("slapd did not restart: {log}"));
        self.child = child;
        self.stdin = Some(stdin);
    }

    /// Stops slapd (every connection refused until `restart`).
    pub fn stop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.wait();
    }

    /// Runs an `ldapmodify` as the root DN (tests that change the directory).
    pub fn modify(&self, ldif: &str) {
        let mut child = Command::new("ldapmodify")
            .args(["-x", "-H", &self.ldap_uri, "-D", ROOT_DN, "-w", ROOT_PW])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("ldapmodify");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(ldif.as_bytes())
            .unwrap();
        assert!(child.wait().unwrap().success(), "ldapmodify failed");
    }
}

/// A server's part in syncrepl replication.
enum Replication {
    None,
    /// Serves changes to consumers (the syncprov overlay).
    Provider,
    /// Copies the whole suffix from the provider at this URI, as the root DN.
    Consumer(String),
}

impl Replication {
    /// `conf` (from `slapd_conf`, whose database section is last) with this role's
    /// module and directives.
    fn configure(&self, conf: String) -> String {
        match self {
            Replication::None => conf,
            Replication::Provider => {
                conf.replace(
                    "moduleload back_mdb\n",
                    "moduleload back_mdb\nmoduleload syncprov\n",
                ) + "index entryCSN,entryUUID eq\noverlay syncprov\nsyncprov-checkpoint 100 1\n"
            }
            Replication::Consumer(provider) => {
                conf + &format!(
                    "index entryCSN,entryUUID eq\n\
                     syncrepl rid=001 provider={provider} type=refreshAndPersist retry=\"1 +\" \
                     searchbase=\"{BASE}\" bindmethod=simple binddn=\"{ROOT_DN}\" \
                     credentials={ROOT_PW} timeout=2 network-timeout=2\n"
                )
            }
        }
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        self.stop();
    }
}
