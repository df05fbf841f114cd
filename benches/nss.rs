//! The host's NSS through glibc (`getpwnam_r` + `getgrouplist`), proxid next to SSSD,
//! nslcd and glibc `files`, all in the same run against one slapd the benchmark
//! starts, each provider in a private mount namespace (bind-mounted nsswitch.conf;
//! the host's NSS is never touched). Figures are medians; ratios are "how many times
//! faster than" the baseline named beside them.
//!
//!     sudo cargo bench --bench nss            # a table
//!     sudo cargo bench --bench nss -- --json  # one JSON object
//!
//! Rows: warm lookups (proxid answers from its shared table; SSSD from its memcache;
//! back-to-back repeats of each user), cold lookups (each user's first, daemons up
//! with their LDAP connections open, requests interleaved between providers), `id`
//! over 3,000 users in one process, the first lookup after a daemon start, and
//! `proxid resolve` spawn to exit next to `id` under SSSD.
//!
//! Needs root (unshare, mount), slapd, nslcd + libnss-ldapd; SSSD rows need
//! `sssd-ldap libnss-sss` (scripts/bench-setup.sh installs them without letting their
//! scripts change /etc) and are skipped without them.

// A benchmark measures real elapsed time; the clock module is for the library.
#![allow(clippy::disallowed_methods)]

#[path = "../tests/support/nss.rs"]
mod nss;
#[path = "../tests/support/mod.rs"]
mod support;

use std::ffi::CString;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};
use support::slapd::{Schema, Slapd, BASE};
use support::ConfFile;

/// Users in the directory (`id` runs over all of them).
const USERS: usize = 3000;
/// Users measured for warm and cold rows.
const SAMPLE: usize = 240;
/// Groups; each user is in three of them.
const GROUPS: usize = 100;
/// Back-to-back repeats of one warm lookup.
const REPEATS: usize = 25;
/// Rounds of the CLI rows (one spawn of each command per round).
const CLI_ROUNDS: usize = 40;
/// Daemon starts for the first-lookup row.
const STARTS: usize = 5;

fn user(i: usize) -> String {
    format!("u{i:05}")
}

fn ldif() -> String {
    let mut out = format!(
        "dn: {BASE}\nobjectClass: dcObject\nobjectClass: organization\no: example\ndc: example\n\n\
         dn: ou=people,{BASE}\nobjectClass: organizationalUnit\nou: people\n\n\
         dn: ou=groups,{BASE}\nobjectClass: organizationalUnit\nou: groups\n\n\
         dn: cn=benchusers,ou=groups,{BASE}\nobjectClass: posixGroup\ncn: benchusers\ngidNumber: 20000\n\n"
    );
    for i in 0..USERS {
        let n = user(i);
        out += &format!(
            "dn: uid={n},ou=people,{BASE}\nobjectClass: inetOrgPerson\nobjectClass: posixAccount\n\
             uid: {n}\ncn: user {i}\nsn: {n}\nuidNumber: {}\ngidNumber: 20000\n\
             homeDirectory: /home/{n}\nloginShell: /bin/bash\n\n",
            20000 + i
        );
    }
    let mut members = vec![Vec::new(); GROUPS];
    for i in 0..USERS {
        for k in [1, 7, 13] {
            let g = (i * k) % GROUPS;
            if !members[g].contains(&i) {
                members[g].push(i);
            }
        }
    }
    for (g, m) in members.iter().enumerate() {
        out += &format!(
            "dn: cn=g{g:03},ou=groups,{BASE}\nobjectClass: posixGroup\ncn: g{g:03}\ngidNumber: {}\n",
            30000 + g
        );
        for i in m {
            out += &format!("memberUid: {}\n", user(*i));
        }
        out += "\n";
    }
    out
}

// ---------------------------------------------------------------- the worker side

/// getpwnam_r + getgrouplist, as an NSS client pays per user: the user's GIDs, or
/// `None` when the user is not found.
fn user_gids(name: &CString) -> Option<Vec<libc::gid_t>> {
    // SAFETY: an all-zero passwd is a valid value (null pointers, zero numbers).
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut buf = [0 as libc::c_char; 4096];
    let mut result = std::ptr::null_mut();
    // SAFETY: valid pointers and sizes for the duration of the calls.
    unsafe {
        libc::getpwnam_r(
            name.as_ptr(),
            &mut pwd,
            buf.as_mut_ptr(),
            buf.len(),
            &mut result,
        );
        if result.is_null() {
            return None;
        }
        let mut gids = vec![0 as libc::gid_t; 256];
        let mut n = gids.len() as libc::c_int;
        libc::getgrouplist(name.as_ptr(), pwd.pw_gid, gids.as_mut_ptr(), &mut n);
        gids.truncate(n.max(0) as usize);
        Some(gids)
    }
}

/// getpwnam_r + getgrouplist. True when found.
fn lookup(name: &CString) -> bool {
    std::hint::black_box(user_gids(name)).is_some()
}

/// What `id NAME` asks: the user, the group list, each group by GID.
fn id(name: &CString) -> bool {
    let Some(gids) = user_gids(name) else {
        return false;
    };
    let mut gbuf = vec![0 as libc::c_char; 64 * 1024];
    for gid in gids {
        // SAFETY: an all-zero group is a valid value; the pointers and sizes are
        // valid for the duration of the call.
        unsafe {
            let mut grp: libc::group = std::mem::zeroed();
            let mut gres = std::ptr::null_mut();
            libc::getgrgid_r(gid, &mut grp, gbuf.as_mut_ptr(), gbuf.len(), &mut gres);
        }
    }
    true
}

fn median_of(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn elapsed_ns(f: impl FnOnce() -> bool) -> (f64, bool) {
    let t = Instant::now();
    let ok = f();
    (t.elapsed().as_secs_f64() * 1e9, ok)
}

/// `--child worker`: answers one command per stdin line with one stdout line.
///   lookup NAME          ns of one lookup, found (0/1)
///   repeat NAME N        median ns of N back-to-back lookups
///   idall FILE           total ns of `id` for every name in FILE, found count
///   spawn N PROG ARGS..  median ns from spawn to exit of PROG
fn worker() {
    let stdin = std::io::stdin();
    let mut out = std::io::stdout();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let words: Vec<&str> = line.split_whitespace().collect();
        let reply = match words.as_slice() {
            ["lookup", name] => {
                let n = CString::new(*name).unwrap();
                let (ns, ok) = elapsed_ns(|| lookup(&n));
                format!("{ns} {}", ok as u8)
            }
            ["repeat", name, count] => {
                let n = CString::new(*name).unwrap();
                let count: usize = count.parse().unwrap_or(1);
                let times = (0..count).map(|_| elapsed_ns(|| lookup(&n)).0).collect();
                format!("{} 1", median_of(times))
            }
            ["idall", file] => {
                let names: Vec<CString> = std::fs::read_to_string(file)
                    .unwrap_or_default()
                    .lines()
                    .map(|l| CString::new(l).unwrap())
                    .collect();
                let t = Instant::now();
                let found = names.iter().filter(|n| id(n)).count();
                format!("{} {found}", t.elapsed().as_secs_f64() * 1e9)
            }
            ["spawn", count, prog, args @ ..] => {
                let count: usize = count.parse().unwrap_or(1);
                let times = (0..count)
                    .map(|_| {
                        let t = Instant::now();
                        let ok = Command::new(prog)
                            .args(args)
                            .stdout(Stdio::null())
                            .stderr(Stdio::null())
                            .status()
                            .is_ok_and(|s| s.success());
                        assert!(ok, "{prog} {args:?} failed");
                        t.elapsed().as_secs_f64() * 1e9
                    })
                    .collect();
                format!("{} 1", median_of(times))
            }
            ["quit"] => break,
            _ => "nan 0".into(),
        };
        let _ = writeln!(out, "{reply}");
        let _ = out.flush();
    }
}

/// `--child first NAME`: the first lookup of a fresh process, in µs.
fn first(name: &str) {
    let n = CString::new(name).unwrap();
    let (ns, ok) = elapsed_ns(|| lookup(&n));
    assert!(ok, "{name} not found on the first lookup");
    println!("{}", ns / 1e3);
}

// ---------------------------------------------------------------- the driver side

/// The user a new worker is asked for to see that it answers: a directory user
/// outside the measured sample, or root for glibc files.
fn probe(name: &str) -> String {
    if name == "files" {
        "root".into()
    } else {
        user(USERS - 1)
    }
}

/// A worker process inside one provider's namespace.
struct Worker {
    name: &'static str,
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
}

impl Worker {
    fn spawn(name: &'static str, mut cmd: Command) -> Option<Worker> {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .ok()?;
        let input = child.stdin.take()?;
        let output = BufReader::new(child.stdout.take()?);
        let mut w = Worker {
            name,
            child,
            input,
            output,
        };
        // Ready when it answers (the namespace script starts its daemon first).
        let (_, ok) = w.ask(&format!("lookup {}", probe(name)));
        if !ok {
            eprintln!("bench: {name} does not answer; its rows are skipped");
            return None;
        }
        Some(w)
    }

    /// (value, ok) of one command.
    fn ask(&mut self, command: &str) -> (f64, bool) {
        if writeln!(self.input, "{command}").is_err() {
            return (f64::NAN, false);
        }
        let mut line = String::new();
        if self.output.read_line(&mut line).unwrap_or(0) == 0 {
            return (f64::NAN, false);
        }
        let mut it = line.split_whitespace();
        let v = it.next().and_then(|s| s.parse().ok()).unwrap_or(f64::NAN);
        let ok = it.next().is_some_and(|s| s != "0");
        (v, ok)
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = writeln!(self.input, "quit");
        let _ = self.child.wait();
    }
}

fn bench_exe() -> PathBuf {
    std::env::current_exe().unwrap()
}

/// A namespace script: `setup` (mounts, start a daemon, wait), then `tail`.
fn namespaced(dir: &Path, setup: &str, tail: &str) -> Command {
    let script = format!("set -e\n{setup}\n{tail}\n");
    let path = dir.join(format!(
        "run-{}.sh",
        dir.read_dir().map_or(0, |d| d.count())
    ));
    std::fs::write(&path, script).unwrap();
    let mut cmd = Command::new("unshare");
    cmd.args(["-m", "--propagation", "private", "sh"])
        .arg(path)
        .env("D", dir)
        .env("BENCH", bench_exe())
        .stderr(Stdio::inherit());
    cmd
}

/// A namespace's tail: start its daemon, serve as a worker, stop the daemon however
/// the worker ends (the daemon must not outlive the benchmark).
const WORKER_THEN_STOP: &str = "start\ntrap stop EXIT\n\"$BENCH\" --child worker";

const WAIT_SOCKET: &str = r#"
wait_for() {
    i=0
    while [ ! -S "$1" ]; do
        i=$((i + 1))
        if [ "$i" -gt 600 ]; then echo "bench: $1 did not appear" >&2; cat "$2" >&2; exit 3; fi
        sleep 0.05
    done
}
"#;

fn nslcd_setup(dir: &Path, server: &Slapd) -> Option<String> {
    if !Path::new("/usr/sbin/nslcd").exists() {
        eprintln!("bench: nslcd not installed; its rows are skipped");
        return None;
    }
    std::fs::write(
        dir.join("nslcd.conf"),
        format!(
            "uri {}\nbase {BASE}\nbind_timelimit 5\ntimelimit 5\n",
            server.ldap_uri
        ),
    )
    .ok()?;
    std::fs::write(
        dir.join("nsswitch-nslcd.conf"),
        "passwd: files ldap\ngroup: files ldap\n",
    )
    .ok()?;
    Some(format!(
        "{WAIT_SOCKET}\nmount -t tmpfs tmpfs /run\nmkdir -p /run/nslcd\n\
         mount --bind \"$D/nsswitch-nslcd.conf\" /etc/nsswitch.conf\n\
         mount --bind \"$D/nslcd.conf\" /etc/nslcd.conf\n\
         start() {{ /usr/sbin/nslcd -d >/dev/null 2>\"$D/nslcd.log\" & pid=$!; wait_for /run/nslcd/socket \"$D/nslcd.log\"; }}\n\
         stop() {{ kill \"$pid\"; wait \"$pid\" 2>/dev/null || true; rm -f /run/nslcd/socket; }}\n"
    ))
}

fn sssd_installed() -> bool {
    Path::new("/usr/sbin/sssd").exists()
        && [
            "/usr/lib/x86_64-linux-gnu",
            "/usr/lib/aarch64-linux-gnu",
            "/lib64",
            "/usr/lib",
        ]
        .iter()
        .any(|d| Path::new(d).join("libnss_sss.so.2").exists())
}

/// SSSD in its own namespace: its sssd.conf (0600), database, pipes and memcache
/// (/var/lib/sss, mc included) in a temp dir, its pid file on a private /run.
fn sssd_setup(dir: &Path, server: &Slapd) -> Option<String> {
    if !sssd_installed() {
        eprintln!("bench: SSSD not installed (sudo scripts/bench-setup.sh); its rows are skipped");
        return None;
    }
    use std::os::unix::fs::PermissionsExt;
    let etc = dir.join("sssd-etc");
    std::fs::create_dir_all(&etc).ok()?;
    let conf = format!(
        "[sssd]\nservices = nss\ndomains = bench\n\n[nss]\nmemcache_timeout = 3600\n\n\
         [domain/bench]\nid_provider = ldap\nauth_provider = none\nldap_uri = {}\n\
         ldap_search_base = {BASE}\nldap_schema = rfc2307\nldap_id_use_start_tls = false\n\
         cache_credentials = false\nenumerate = false\nentry_cache_timeout = 3600\n",
        server.ldap_uri
    );
    std::fs::write(etc.join("sssd.conf"), conf).ok()?;
    std::fs::set_permissions(
        etc.join("sssd.conf"),
        std::fs::Permissions::from_mode(0o600),
    )
    .ok()?;
    std::fs::set_permissions(&etc, std::fs::Permissions::from_mode(0o700)).ok()?;
    std::fs::write(
        dir.join("nsswitch-sssd.conf"),
        "passwd: files sss\ngroup: files sss\n",
    )
    .ok()?;
    Some(format!(
        "{WAIT_SOCKET}\nmount -t tmpfs tmpfs /run\nmkdir -p \"$D/sss\" \"$D/sssd-log\"\n\
         mount --bind \"$D/sss\" /var/lib/sss\nmount --bind \"$D/sssd-etc\" /etc/sssd\n\
         mkdir -p /var/log/sssd && mount --bind \"$D/sssd-log\" /var/log/sssd\n\
         mount --bind \"$D/nsswitch-sssd.conf\" /etc/nsswitch.conf\n\
         start() {{\n  rm -rf /var/lib/sss/*\n  mkdir -p /var/lib/sss/db /var/lib/sss/pipes/private /var/lib/sss/mc /var/lib/sss/pubconf /var/lib/sss/gpo_cache\n\
           chmod 700 /var/lib/sss/pipes/private\n\
           /usr/sbin/sssd -i -d 1 --logger=stderr >/dev/null 2>\"$D/sssd.log\" & pid=$!\n\
           wait_for /var/lib/sss/pipes/nss \"$D/sssd.log\"\n}}\n\
         stop() {{ kill \"$pid\"; wait \"$pid\" 2>/dev/null || true; sleep 0.2; }}\n"
    ))
}

/// Requests proxidd has served (its status).
fn daemon_requests(socket: &Path) -> u64 {
    let path = socket.as_os_str().as_encoded_bytes();
    match proxid_proto::client::call(path, &proxid_proto::Request::Status, Duration::from_secs(5)) {
        Ok(proxid_proto::Response::Status(s)) => s.requests,
        _ => 0,
    }
}

struct Report {
    rows: Vec<(String, f64, String, String)>,
    json: Map<String, Value>,
}

impl Report {
    fn add(&mut self, key: &str, what: &str, value: f64, unit: &str, ratios: &[(f64, &str)]) {
        let text = ratios
            .iter()
            .filter(|(r, _)| r.is_finite())
            .map(|(r, base)| format!("{r:.2}x vs {base}"))
            .collect::<Vec<_>>()
            .join(", ");
        self.rows.push((what.into(), value, unit.into(), text));
        let mut entry = json!({ "value": value, "unit": unit });
        let list: Vec<Value> = ratios
            .iter()
            .filter(|(r, _)| r.is_finite())
            .map(|(r, base)| json!({ "ratio": r, "baseline": base }))
            .collect();
        if !list.is_empty() {
            entry["ratios"] = Value::Array(list);
        }
        self.json.insert(key.into(), entry);
    }
}

/// Median over `users` of each worker's answer to `command(user)`, asking the
/// workers in turn for each user (interleaved). Who goes first rotates from user
/// to user, so each contender follows each other one equally often (a daemon still
/// busy after its own answer, as SSSD writing its cache, slows whoever comes next).
fn interleaved(
    workers: &mut [&mut Worker],
    users: &[String],
    command: impl Fn(&str) -> String,
) -> Vec<f64> {
    let n = workers.len();
    let mut samples = vec![Vec::new(); n];
    for (k, u) in users.iter().enumerate() {
        for i in (0..n).map(|j| (j + k) % n) {
            let w = &mut workers[i];
            let (v, ok) = w.ask(&command(u));
            assert!(ok, "{}: {} not found", w.name, u);
            samples[i].push(v);
        }
    }
    samples.into_iter().map(median_of).collect()
}

/// First lookup of a fresh process right after a daemon start, `STARTS` times; µs.
fn first_after_start(dir: &Path, setup: &str) -> Option<f64> {
    let tail = format!(
        "n=0\nwhile [ \"$n\" -lt {STARTS} ]; do\n  start\n  \"$BENCH\" --child first {}\n  stop\n  n=$((n + 1))\ndone",
        user(4242 % USERS)
    );
    let out = namespaced(dir, setup, &tail)
        .stdout(Stdio::piped())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let values: Vec<f64> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    (!values.is_empty()).then(|| median_of(values))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--child") {
        match args.get(2).map(String::as_str) {
            Some("worker") => worker(),
            Some("first") => first(&args[3]),
            _ => std::process::exit(2),
        }
        return;
    }
    let as_json = args.iter().any(|a| a == "--json");
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("bench nss: needs root (unshare, mount); nothing measured");
        return;
    }
    let mut report = Report {
        rows: Vec::new(),
        json: Map::new(),
    };
    let server = Slapd::start(Schema::Rfc2307, &ldif());
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let names: Vec<String> = (0..USERS).map(user).collect();
    std::fs::write(d.join("all-users"), names.join("\n") + "\n").unwrap();
    // Cold and warm rows use SAMPLE users spread over the directory.
    let sample: Vec<String> = (0..SAMPLE).map(|i| user(i * (USERS / SAMPLE))).collect();

    // proxid: the daemon on a private socket, its table beside it; workers in a
    // namespace with `passwd: files proxid`.
    let conf = ConfFile::new(
        &[&server.ldap_uri],
        "\n[cache]\npositive_ttl = \"1h\"\nmax_entries = 100000\n",
    );
    let host = nss::Host::new();
    let mut daemon = host.start_daemon(&conf.path);
    let mut worker_cmd = host.command(bench_exe().to_str().unwrap());
    worker_cmd.args(["--child", "worker"]);
    let mut proxid = Worker::spawn("proxid", worker_cmd).expect("proxid answers");

    let nslcd_setup = nslcd_setup(d, &server);
    let mut nslcd = nslcd_setup
        .as_ref()
        .and_then(|s| Worker::spawn("nslcd", namespaced(d, s, WORKER_THEN_STOP)));
    let sssd_setup = sssd_setup(d, &server);
    let mut sssd = sssd_setup
        .as_ref()
        .and_then(|s| Worker::spawn("sssd", namespaced(d, s, WORKER_THEN_STOP)));
    let files_nss = d.join("nsswitch-files.conf");
    std::fs::write(&files_nss, "passwd: files\ngroup: files\n").unwrap();
    let mut files = Worker::spawn(
        "files",
        namespaced(
            d,
            "mount --bind \"$D/nsswitch-files.conf\" /etc/nsswitch.conf",
            "exec \"$BENCH\" --child worker",
        ),
    );
    // Workers check readiness with the last user: keep the sample clear of it.

    // Cold: each sample user's first lookup, interleaved proxid / nslcd / sssd.
    {
        let mut ws: Vec<&mut Worker> = vec![&mut proxid];
        ws.extend(nslcd.as_mut());
        ws.extend(sssd.as_mut());
        let medians = interleaved(&mut ws, &sample, |u| format!("lookup {u}"));
        let names: Vec<&str> = ws.iter().map(|w| w.name).collect();
        let p = medians[0];
        let of = |n: &str| names.iter().position(|x| *x == n).map(|i| medians[i]);
        let mut ratios = Vec::new();
        if let Some(n) = of("nslcd") {
            report.add(
                "cold_nslcd_us",
                "cold lookup via nslcd (median)",
                n / 1e3,
                "us",
                &[],
            );
            ratios.push((n / p, "nslcd"));
        }
        if let Some(s) = of("sssd") {
            report.add(
                "cold_sssd_us",
                "cold lookup via SSSD (median)",
                s / 1e3,
                "us",
                &[],
            );
            ratios.push((s / p, "SSSD"));
        }
        report.add(
            "cold_proxid_us",
            "cold lookup via proxid (daemon cache miss, LDAP connection open)",
            p / 1e3,
            "us",
            &ratios,
        );
    }

    // Warm: the same users again, back-to-back repeats of each.
    {
        let local: Vec<String> = std::fs::read_to_string("/etc/passwd")
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split(':').next().map(str::to_string))
            .collect();
        let repeat = |u: &str| format!("repeat {u} {REPEATS}");
        let mut ws: Vec<&mut Worker> = vec![&mut proxid];
        ws.extend(nslcd.as_mut());
        ws.extend(sssd.as_mut());
        // Warm everyone up once (SSSD fills its memcache on the second answer).
        interleaved(&mut ws, &sample, |u| format!("repeat {u} 2"));
        let medians = interleaved(&mut ws, &sample, repeat);
        let names: Vec<&str> = ws.iter().map(|w| w.name).collect();
        let p = medians[0];
        let of = |n: &str| names.iter().position(|x| *x == n).map(|i| medians[i]);
        let files_ns = files.as_mut().map(|f| {
            let mut one: Vec<&mut Worker> = vec![f];
            interleaved(&mut one, &local, repeat)[0]
        });
        let mut ratios = Vec::new();
        if let Some(s) = of("sssd") {
            report.add(
                "warm_sssd_ns",
                "warm lookup via SSSD (memcache)",
                s,
                "ns",
                &[],
            );
            ratios.push((s / p, "SSSD memcache"));
        }
        if let Some(n) = of("nslcd") {
            report.add(
                "warm_nslcd_ns",
                "warm lookup via nslcd (no cache)",
                n,
                "ns",
                &[],
            );
            ratios.push((n / p, "nslcd"));
        }
        if let Some(f) = files_ns {
            report.add(
                "warm_files_ns",
                "lookup via glibc files (local users)",
                f,
                "ns",
                &[],
            );
            ratios.push((f / p, "glibc files"));
        }
        report.add(
            "warm_proxid_ns",
            "warm lookup via proxid (shared table hit)",
            p,
            "ns",
            &ratios,
        );
    }

    // `id` over every user in one process (most of them cold), then again (warm).
    {
        let all = format!("idall {}", d.join("all-users").display());
        let mut rows: Vec<(&str, f64, f64)> = Vec::new();
        let mut asked = 0;
        for w in [Some(&mut proxid), nslcd.as_mut(), sssd.as_mut()]
            .into_iter()
            .flatten()
        {
            let (first, found) = w.ask(&all);
            assert!(found, "{}: id over all users found nobody", w.name);
            let before = daemon_requests(&host.socket);
            let (second, _) = w.ask(&all);
            if w.name == "proxid" {
                asked = daemon_requests(&host.socket).saturating_sub(before + 1);
            }
            rows.push((w.name, first / 1e6, second / 1e6));
        }
        report.add(
            "id3000_again_proxid_requests",
            "requests proxidd got during proxid's second `id` pass",
            asked as f64,
            "",
            &[],
        );
        let (_, p1, p2) = rows[0];
        for (pass, key, pv) in [(1, "id3000_first", p1), (2, "id3000_again", p2)] {
            let mut ratios = Vec::new();
            for (name, v1, v2) in &rows[1..] {
                let v = if pass == 1 { *v1 } else { *v2 };
                report.add(
                    &format!("{key}_{name}_ms"),
                    &format!("`id` x{USERS} in one process via {name}, pass {pass}"),
                    v,
                    "ms",
                    &[],
                );
                ratios.push((v / pv, *name));
            }
            report.add(
                &format!("{key}_proxid_ms"),
                &format!("`id` x{USERS} in one process via proxid, pass {pass}"),
                pv,
                "ms",
                &ratios,
            );
        }
    }

    // CLI: `proxid resolve U` spawn to exit with the daemon up, next to `id U` under
    // proxid, SSSD (warm) and nslcd; one spawn of each in turn per round, so a drift
    // of the machine's speed hits all of them alike.
    {
        let u = &sample[3];
        let proxid_bin = nss::profile_dir().join("proxid");
        let cli = format!(
            "spawn 1 {} --config {} resolve {u}",
            proxid_bin.display(),
            conf.path.display()
        );
        let idcmd = format!("spawn 1 /usr/bin/id {u}");
        if !proxid_bin.exists() {
            eprintln!("bench: {proxid_bin:?} not built; CLI row skipped");
        }
        let have_cli = proxid_bin.exists();
        let (mut cli_samples, mut id_proxid, mut id_sssd, mut id_nslcd) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for round in 0..CLI_ROUNDS {
            // Who goes first rotates, as in `interleaved`.
            for step in (0..4).map(|k| (k + round) % 4) {
                match step {
                    0 if have_cli => cli_samples.push(proxid.ask(&cli).0),
                    1 => id_proxid.push(proxid.ask(&idcmd).0),
                    2 => {
                        if let Some(s) = sssd.as_mut() {
                            id_sssd.push(s.ask(&idcmd).0);
                        }
                    }
                    3 => {
                        if let Some(n) = nslcd.as_mut() {
                            id_nslcd.push(n.ask(&idcmd).0);
                        }
                    }
                    _ => {}
                }
            }
        }
        let cli_ns = median_of(cli_samples);
        let id_proxid = median_of(id_proxid);
        let mut ratios = Vec::new();
        report.add(
            "cli_id_proxid_us",
            "`id U` via proxid, spawn to exit",
            id_proxid / 1e3,
            "us",
            &[],
        );
        ratios.push((id_proxid / cli_ns, "`id` via proxid"));
        if !id_sssd.is_empty() {
            let v = median_of(id_sssd);
            report.add(
                "cli_id_sssd_us",
                "`id U` via SSSD (warm), spawn to exit",
                v / 1e3,
                "us",
                &[],
            );
            ratios.push((v / cli_ns, "`id` via SSSD"));
        }
        if !id_nslcd.is_empty() {
            let v = median_of(id_nslcd);
            report.add(
                "cli_id_nslcd_us",
                "`id U` via nslcd, spawn to exit",
                v / 1e3,
                "us",
                &[],
            );
            ratios.push((v / cli_ns, "`id` via nslcd"));
        }
        if have_cli {
            report.add(
                "cli_proxid_resolve_us",
                "`proxid resolve U` (daemon up), spawn to exit",
                cli_ns / 1e3,
                "us",
                &ratios,
            );
        }
    }

    // Workers hold the daemons' namespaces: close them before restarting daemons.
    drop(proxid);
    drop(nslcd);
    drop(sssd);
    drop(files);

    // First lookup after a daemon start (a fresh process, right after `ready`).
    {
        let mut firsts = Vec::new();
        for _ in 0..STARTS {
            daemon.stop();
            daemon = host.start_daemon(&conf.path);
            let out = host
                .command(bench_exe().to_str().unwrap())
                .args(["--child", "first", &user(4242 % USERS)])
                .output()
                .unwrap();
            if let Ok(v) = String::from_utf8_lossy(&out.stdout).trim().parse::<f64>() {
                firsts.push(v);
            }
        }
        let p = median_of(firsts);
        let mut ratios = Vec::new();
        if let Some(n) = nslcd_setup.as_ref().and_then(|s| first_after_start(d, s)) {
            report.add(
                "start_nslcd_us",
                "first lookup after nslcd starts",
                n,
                "us",
                &[],
            );
            ratios.push((n / p, "nslcd"));
        }
        if let Some(s) = sssd_setup.as_ref().and_then(|s| first_after_start(d, s)) {
            report.add(
                "start_sssd_us",
                "first lookup after sssd starts (empty cache)",
                s,
                "us",
                &[],
            );
            ratios.push((s / p, "SSSD"));
        }
        report.add(
            "start_proxid_us",
            "first lookup after proxidd starts",
            p,
            "us",
            &ratios,
        );
    }
    daemon.stop();

    if as_json {
        println!("{}", Value::Object(report.json));
    } else {
        println!("{:<62} {:>12}  ratio (x faster than)", "row", "value");
        for (what, value, unit, ratio) in &report.rows {
            println!("{what:<62} {value:>9.1} {unit:<2}  {ratio}");
        }
    }
}
