//! Failover under load across a real replicated pair (issue 16.2): a syncrepl
//! provider and consumer, 8 threads resolving random users, and faults: the first
//! server killed with SIGKILL and restarted, then the second stopped; the first
//! server turned into a black hole (accepts, never answers); the first server
//! answering slowly (a delaying TCP proxy in front of it).
//!
//! Asserted: no wrong answer ever; errors only within the configured timeout window
//! after a fault; stale answers only for users cached before the outage and only while
//! every server is down; the client goes back to the first server once it is back
//! (`retry_after`), so stopping the second one then costs nothing. Figures (lookups/s
//! per phase, worst latency, time to return) are printed (`--nocapture`).

mod support;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use proxid::cache::Freshness;
use proxid::Resolver;
use support::fault_proxy::{FaultProxy, DELAY, HOLE, PASS};
use support::slapd::{Schema, Slapd, BASE};
use support::ConfFile;

const USERS: u32 = 300;
const FIRST_UID: u32 = 70000;
const THREADS: usize = 8;
/// connect_timeout and operation_timeout of every run.
const TIMEOUT: Duration = Duration::from_secs(1);
/// `retry_after`: how long a failed server is skipped.
const RETRY_AFTER: Duration = Duration::from_secs(1);

fn ldif() -> String {
    let mut out = support::fixture("rfc2307.ldif");
    out += &format!("\ndn: ou=load,{BASE}\nobjectClass: organizationalUnit\nou: load\n");
    for i in 0..USERS {
        out += &format!(
            "\ndn: uid=load{i:04},ou=load,{BASE}\nobjectClass: inetOrgPerson\nobjectClass: posixAccount\n\
             uid: load{i:04}\ncn: l\nsn: l\nuidNumber: {}\ngidNumber: 10000\nhomeDirectory: /home/l\n",
            FIRST_UID + i
        );
    }
    out
}

/// One provider/consumer pair per test binary (tests run one after the other: see
/// `SERIAL`), rebuilt by a test that leaves a server down.
fn pair() -> (Slapd, Slapd) {
    let last = format!("uid=load{:04},ou=load,{BASE}", USERS - 1);
    Slapd::start_replicated_pair(Schema::Rfc2307, &ldif(), &last)
}

/// The runs share a 2-core machine: one at a time, so their figures mean something.
static SERIAL: Mutex<()> = Mutex::new(());

fn config(uris: &[&str]) -> ConfFile {
    ConfFile::new(
        uris,
        &format!(
            "connect_timeout = \"{t}s\"\noperation_timeout = \"{t}s\"\nretry_after = \"{r}s\"\n\
             \n[cache]\npositive_ttl = \"300ms\"\nnegative_ttl = \"300ms\"\n",
            t = TIMEOUT.as_secs(),
            r = RETRY_AFTER.as_secs()
        ),
    )
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Outcome {
    Fresh,
    Stale,
    Error,
}

#[derive(Debug, Clone, Copy)]
struct Sample {
    /// When the lookup started and ended, since the run began.
    start: Duration,
    end: Duration,
    user: u32,
    outcome: Outcome,
}

/// Runs 8 resolving threads while `script` plays the faults (it gets the run's start
/// instant and marks phases). Returns every sample; panics on a wrong answer.
fn hammer(r: &Resolver, script: impl FnOnce(Instant)) -> Vec<Sample> {
    let stop = AtomicBool::new(false);
    #[allow(clippy::disallowed_methods)] // real time: a real slapd pair fails over
    let begin = Instant::now();
    let samples = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let (stop, samples) = (&stop, &samples);
            s.spawn(move || {
                let mut seed = 0x9e37_79b9_7f4a_7c15u64 ^ ((t as u64 + 1) * 0x1000_0001);
                let mut mine = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    // xorshift: users spread evenly, no crate needed.
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    let user = (seed % u64::from(USERS)) as u32;
                    let name = format!("load{user:04}");
                    let start = begin.elapsed();
                    let outcome = match r.resolve_with_freshness(name.as_bytes()) {
                        Ok((id, freshness)) => {
                            assert_eq!(
                                (id.name.as_str(), id.uid),
                                (name.as_str(), FIRST_UID + user),
                                "WRONG ANSWER"
                            );
                            if freshness == Freshness::Stale {
                                Outcome::Stale
                            } else {
                                Outcome::Fresh
                            }
                        }
                        Err(e) => {
                            assert!(matches!(e.kind(), "unavailable" | "timeout"), "{name}: {e}");
                            Outcome::Error
                        }
                    };
                    mine.push(Sample {
                        start,
                        end: begin.elapsed(),
                        user,
                        outcome,
                    });
                }
                samples.lock().unwrap().extend(mine);
            });
        }
        script(begin);
        stop.store(true, Ordering::Relaxed);
    });
    samples.into_inner().unwrap()
}

fn sleep_until(begin: Instant, at: Duration) {
    if let Some(left) = at.checked_sub(begin.elapsed()) {
        std::thread::sleep(left);
    }
}

/// Figures of the samples that started in `[from, to)`.
fn report(samples: &[Sample], label: &str, from: Duration, to: Duration) {
    let inside: Vec<_> = samples
        .iter()
        .filter(|s| s.start >= from && s.start < to)
        .collect();
    let count = |o| inside.iter().filter(|s| s.outcome == o).count();
    let (worst, worst_at) = inside
        .iter()
        .map(|s| (s.end - s.start, s.start))
        .max()
        .unwrap_or_default();
    let secs = (to - from).as_secs_f64().max(1e-3);
    eprintln!(
        "  {label:<34} {:>9.0} lookups/s  worst {:>6.0} ms (at {:>5.2} s)  errors {:>5}  stale {:>5}",
        inside.len() as f64 / secs,
        worst.as_secs_f64() * 1e3,
        worst_at.as_secs_f64(),
        count(Outcome::Error),
        count(Outcome::Stale),
    );
}

/// Every error started within `window` after one of `faults`.
fn errors_only_after(samples: &[Sample], faults: &[Duration], window: Duration) {
    for s in samples.iter().filter(|s| s.outcome == Outcome::Error) {
        assert!(
            faults
                .iter()
                .any(|&f| s.start + Duration::from_millis(50) >= f && s.start <= f + window),
            "an error at {:?}, not within {window:?} after a fault at {faults:?}",
            s.start
        );
    }
}

/// Stale answers only while every server was down (`[from, to)`), for users that had
/// a fresh answer before `from`.
fn stale_only_while_all_down(samples: &[Sample], all_down: Option<(Duration, Duration)>) {
    let cached_before: HashSet<u32> = match all_down {
        Some((from, _)) => samples
            .iter()
            .filter(|s| s.outcome == Outcome::Fresh && s.end < from)
            .map(|s| s.user)
            .collect(),
        None => HashSet::new(),
    };
    for s in samples.iter().filter(|s| s.outcome == Outcome::Stale) {
        let (from, to) = all_down
            .unwrap_or_else(|| panic!("a stale answer at {:?} while a server was up", s.start));
        assert!(
            s.end >= from && s.start <= to + TIMEOUT,
            "a stale answer at {:?}, outside the outage {from:?}..{to:?}",
            s.start
        );
        assert!(
            cached_before.contains(&s.user),
            "load{:04} was served stale without a fresh answer before the outage",
            s.user
        );
    }
}

/// When our process next holds an established TCP connection to `port`, polling from
/// `since` for at most `limit`.
fn connected_again(port: u16, since: Instant, limit: Duration) -> Option<Duration> {
    while since.elapsed() < limit {
        if our_connections_to(port) > 0 {
            return Some(since.elapsed());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

/// Established TCP connections from this process to 127.0.0.1:`port` (another
/// process's, such as the consumer's replication connection, are not counted).
fn our_connections_to(port: u16) -> usize {
    let mut ours = HashSet::new();
    if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
        for fd in fds.flatten() {
            if let Ok(target) = std::fs::read_link(fd.path()) {
                let t = target.to_string_lossy();
                if let Some(inode) = t.strip_prefix("socket:[").and_then(|t| t.strip_suffix(']')) {
                    ours.insert(inode.to_string());
                }
            }
        }
    }
    let table = std::fs::read_to_string("/proc/self/net/tcp").unwrap_or_default();
    table
        .lines()
        .skip(1)
        .filter(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            f.len() > 9
                && f[3] == "01"
                && f[2].ends_with(&format!(":{port:04X}"))
                && ours.contains(f[9])
        })
        .count()
}

#[test]
fn kill_restart_and_stop_across_a_replicated_pair() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let (mut provider, mut consumer) = pair();
    let conf = config(&[&provider.ldap_uri, &consumer.ldap_uri]);
    let r = Resolver::open(Some(&conf.path)).unwrap();
    let s = |ms: u64| Duration::from_millis(ms);
    let (kill_at, restart_at, stop_second_at, stop_first_at, end) =
        (s(1000), s(2500), s(4500), s(5500), s(7000));
    let mut back_after = None;
    let samples = hammer(&r, |begin| {
        sleep_until(begin, kill_at);
        provider.kill9();
        sleep_until(begin, restart_at);
        provider.restart();
        #[allow(clippy::disallowed_methods)] // real time: a real slapd pair fails over
        let restarted = Instant::now();
        back_after = connected_again(provider.port, restarted, s(2400));
        sleep_until(begin, stop_second_at);
        consumer.stop();
        sleep_until(begin, stop_first_at);
        provider.stop();
        sleep_until(begin, end);
    });
    eprintln!("kill -9 / restart / stop, {} lookups:", samples.len());
    report(&samples, "both up", s(0), kill_at);
    report(
        &samples,
        "first killed (second serves)",
        kill_at,
        restart_at,
    );
    report(&samples, "first restarted", restart_at, stop_second_at);
    report(
        &samples,
        "second stopped (first serves)",
        stop_second_at,
        stop_first_at,
    );
    report(&samples, "both down (stale or errors)", stop_first_at, end);
    eprintln!(
        "  back on the first server {back_after:?} after its restart (retry_after {RETRY_AFTER:?})"
    );

    let window = TIMEOUT * 2 + s(500);
    let before_all_down: Vec<Sample> = samples
        .iter()
        .copied()
        .filter(|x| x.start < stop_first_at)
        .collect();
    errors_only_after(&before_all_down, &[kill_at, stop_second_at], window);
    stale_only_while_all_down(&samples, Some((stop_first_at, end)));
    assert!(
        back_after.is_some_and(|d| d <= RETRY_AFTER + TIMEOUT + s(1000)),
        "the client did not return to the first server: {back_after:?}"
    );
    // Returned to the first server before the second stopped: that stop cost nothing.
    assert!(
        !samples.iter().any(|x| x.outcome == Outcome::Error
            && x.start >= stop_second_at
            && x.start < stop_first_at),
        "errors after the second server stopped although the first was back"
    );
    // Users cached before the outage kept being answered (stale) while all were down.
    assert!(samples
        .iter()
        .any(|x| x.outcome == Outcome::Stale && x.start >= stop_first_at));
}

/// `[proxy in front of the provider, consumer]`: the proxy turns `fault` for a while,
/// then passes again; then the consumer stops.
fn proxied_run(label: &str, fault: u8, delay: Duration) -> Vec<Sample> {
    let (provider, mut consumer) = pair();
    let proxy = FaultProxy::start(provider.port);
    let conf = config(&[&proxy.uri(), &consumer.ldap_uri]);
    let r = Resolver::open(Some(&conf.path)).unwrap();
    let s = |ms: u64| Duration::from_millis(ms);
    let (fault_at, heal_at, stop_second_at, end) = (s(800), s(2800), s(4600), s(5400));
    let mut back_after = None;
    let samples = hammer(&r, |begin| {
        sleep_until(begin, fault_at);
        proxy.set(fault, delay);
        sleep_until(begin, heal_at);
        #[allow(clippy::disallowed_methods)] // real time: a real slapd pair fails over
        let healed = Instant::now();
        proxy.set(PASS, Duration::ZERO);
        back_after = proxy.forwarded_after(healed, s(2400));
        sleep_until(begin, stop_second_at);
        consumer.stop();
        sleep_until(begin, end);
    });
    eprintln!("{label}, {} lookups:", samples.len());
    report(&samples, "both up", s(0), fault_at);
    report(&samples, &format!("first {label}"), fault_at, heal_at);
    report(&samples, "first healed", heal_at, stop_second_at);
    report(&samples, "second stopped", stop_second_at, end);
    eprintln!("  a new connection to the first server {back_after:?} after it healed");
    // A black hole made the client leave; it came back (a slow server is not left).
    assert!(
        fault != HOLE || back_after.is_some(),
        "the client never reconnected to the first server"
    );
    errors_only_after(&samples, &[fault_at], TIMEOUT * 2 + s(500));
    stale_only_while_all_down(&samples, None);
    assert!(
        !samples
            .iter()
            .any(|x| x.outcome == Outcome::Error && x.start >= stop_second_at),
        "errors after the second server stopped although the first was back"
    );
    samples
}

#[test]
fn a_black_hole_costs_one_timeout_window() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    proxied_run("black hole", HOLE, Duration::ZERO);
}

#[test]
fn a_slow_server_answers_correctly() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let samples = proxied_run("delayed 300 ms each way", DELAY, Duration::from_millis(300));
    // Slower than usual but inside operation_timeout: nothing fails.
    assert!(!samples.iter().any(|x| x.outcome == Outcome::Error));
}
