//! Per-lookup latency of proxid's LDAP resolution next to raw ldap3 searches on a
//! persistent connection, against the same private slapd, in the same run.
//!
//! `cargo bench --bench ldap_latency` (needs slapd, ldap-utils, openssl).
//!
//! Rows:
//! - raw ldap3, one search: the floor, one round trip (ldap3 defaults).
//! - raw ldap3, the resolution's searches: user ∥ memberUid groups, then the primary
//!   group, by hand on one connection: the protocol work a resolution needs.
//! - proxid resolve, pooled: `Resolver::resolve` with no cache in front ("cold" for
//!   the entry, warm connection), i.e. every call goes to the directory.
//! - proxid first lookup, ldap:// / ldaps://: a new resolver each time, so connect
//!   (and TLS handshake) are included.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use ldap3::{LdapConnAsync, Scope};
use proxid::source::ldap::LdapSource;
use proxid::Resolver;
use support::slapd::{Schema, Slapd};
use support::ConfFile;

const ROUNDS: usize = 2000;
const COLD_ROUNDS: usize = 100;

struct Stats(Vec<Duration>);

impl Stats {
    fn row(mut self, what: &str) {
        self.0.sort();
        let n = self.0.len();
        let at = |q: f64| self.0[((n as f64 * q) as usize).min(n - 1)];
        let mean = self.0.iter().sum::<Duration>() / n as u32;
        println!(
            "{what:<52} n={n:<5} median {:>7.1} µs  p90 {:>7.1} µs  p99 {:>7.1} µs  mean {:>7.1} µs",
            micros(at(0.5)),
            micros(at(0.9)),
            micros(at(0.99)),
            micros(mean)
        );
    }
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn time<T>(rounds: usize, mut f: impl FnMut() -> T) -> Stats {
    for _ in 0..rounds.min(50) {
        f();
    }
    Stats(
        (0..rounds)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(f());
                t.elapsed()
            })
            .collect(),
    )
}

fn main() {
    let server = Slapd::start(Schema::Rfc2307, &support::fixture("rfc2307.ldif"));
    println!(
        "slapd {} (RFC2307 fixtures), user alice: 3 supplementary groups, primary group by gidNumber",
        server.ldap_uri
    );

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut ldap = rt.block_on(async {
        let (conn, ldap) = LdapConnAsync::new(&server.ldap_uri).await.unwrap();
        ldap3::drive!(conn);
        ldap
    });
    let user_filter = "(&(objectClass=posixAccount)(uid=alice))";
    let user_attrs = vec![
        "uid",
        "uidNumber",
        "gidNumber",
        "homeDirectory",
        "loginShell",
    ];
    let group_attrs = vec!["cn", "gidNumber"];
    time(ROUNDS, || {
        rt.block_on(async {
            let r = ldap
                .search(
                    support::slapd::BASE,
                    Scope::Subtree,
                    user_filter,
                    user_attrs.clone(),
                )
                .await
                .unwrap();
            r.success().unwrap()
        })
    })
    .row("raw ldap3, one search");

    time(ROUNDS, || {
        rt.block_on(async {
            let (mut a, mut b, mut c) = (ldap.clone(), ldap.clone(), ldap.clone());
            let (users, groups) = tokio::join!(
                a.search(
                    support::slapd::BASE,
                    Scope::Subtree,
                    user_filter,
                    user_attrs.clone()
                ),
                b.search(
                    support::slapd::BASE,
                    Scope::Subtree,
                    "(&(objectClass=posixGroup)(memberUid=alice))",
                    group_attrs.clone()
                ),
            );
            users.unwrap().success().unwrap();
            groups.unwrap().success().unwrap();
            c.search(
                support::slapd::BASE,
                Scope::Subtree,
                "(&(objectClass=posixGroup)(gidNumber=10000))",
                group_attrs.clone(),
            )
            .await
            .unwrap()
            .success()
            .unwrap()
        })
    })
    .row("raw ldap3, the resolution's 3 searches (2 RTT)");

    let conf = ConfFile::new(&[&server.ldap_uri], "connections = 1\n");
    let resolver = Resolver::new(conf.config()).unwrap();
    time(ROUNDS, || resolver.resolve("alice").unwrap())
        .row("proxid resolve, pooled connection, no cache");

    let bis = Slapd::start(Schema::Rfc2307bis, &support::fixture("rfc2307bis.ldif"));
    let conf = ConfFile::new(
        &[&bis.ldap_uri],
        "connections = 1\nschema = \"rfc2307bis\"\nnested_group_depth = 2\n",
    );
    let resolver_bis = Resolver::new(conf.config()).unwrap();
    time(ROUNDS, || resolver_bis.resolve("alice").unwrap())
        .row("proxid resolve, rfc2307bis, nesting depth 2 (4 RTT)");

    for (label, uri, extra) in [
        (
            "proxid first lookup, new resolver, ldap://",
            server.ldap_uri.clone(),
            String::new(),
        ),
        (
            "proxid first lookup, new resolver, ldaps://",
            server.ldaps_uri.clone(),
            format!("ca_file = {:?}\n", server.ca_file.display().to_string()),
        ),
    ] {
        let conf = ConfFile::new(&[&uri], &extra);
        let config = conf.config();
        time(COLD_ROUNDS, || {
            Resolver::new(config.clone())
                .unwrap()
                .resolve("alice")
                .unwrap()
        })
        .row(label);
    }

    // Building the source: TLS trust from ca_file, or from the system store.
    for (label, extra) in [
        (
            "LdapSource::new, ldaps, ca_file",
            format!("ca_file = {:?}\n", server.ca_file.display().to_string()),
        ),
        ("LdapSource::new, ldaps, system store", String::new()),
    ] {
        let conf = ConfFile::new(&[&server.ldaps_uri], &extra);
        let config = conf.config();
        time(COLD_ROUNDS, || LdapSource::new(&config).unwrap()).row(label);
    }

    // Throughput with 16 threads sharing one resolver.
    let conf = ConfFile::new(&[&server.ldap_uri], "connections = 4\n");
    let resolver = std::sync::Arc::new(Resolver::new(conf.config()).unwrap());
    let per_thread = 500;
    let started = Instant::now();
    let threads: Vec<_> = (0..16)
        .map(|_| {
            let r = resolver.clone();
            std::thread::spawn(move || {
                for _ in 0..per_thread {
                    r.resolve("alice").unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let elapsed = started.elapsed();
    println!(
        "proxid, 16 threads x {per_thread} resolutions, 4 connections: {:.0} resolutions/s",
        (16 * per_thread) as f64 / elapsed.as_secs_f64()
    );
}
