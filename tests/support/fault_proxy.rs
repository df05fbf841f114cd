//! A TCP proxy that plays a faulty directory server in front of a real one: it
//! passes bytes through, delays them, or becomes a black hole.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// A TCP proxy in front of a server: passes bytes through, delays each chunk, or
/// becomes a black hole (accepts, reads, never answers).
pub struct FaultProxy {
    pub port: u16,
    /// 0 pass, 1 delay, 2 black hole.
    mode: Arc<AtomicU8>,
    delay_ms: Arc<AtomicU64>,
    /// When each connection passed on to the server was accepted.
    forwarded: Arc<Mutex<Vec<Instant>>>,
}

pub const PASS: u8 = 0;
pub const DELAY: u8 = 1;
pub const HOLE: u8 = 2;

impl FaultProxy {
    pub fn start(upstream: u16) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mode = Arc::new(AtomicU8::new(PASS));
        let delay_ms = Arc::new(AtomicU64::new(0));
        let forwarded = Arc::new(Mutex::new(Vec::new()));
        let (m, d, f) = (mode.clone(), delay_ms.clone(), forwarded.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                if m.load(Ordering::SeqCst) == HOLE {
                    let (m, d) = (m.clone(), d.clone());
                    std::thread::spawn(move || pump(client, None, m, d));
                    continue;
                }
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                    continue;
                };
                f.lock().unwrap().push(Instant::now());
                // As proxid's own sockets: no Nagle delay on small LDAP messages.
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                for (from, to) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap()),
                    (server, client),
                ] {
                    let (m, d) = (m.clone(), d.clone());
                    std::thread::spawn(move || pump(from, Some(to), m, d));
                }
            }
        });
        FaultProxy {
            port,
            mode,
            delay_ms,
            forwarded,
        }
    }

    pub fn uri(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.port)
    }

    /// The first connection passed on to the server at or after `since`, polling
    /// for at most `limit`.
    pub fn forwarded_after(&self, since: Instant, limit: Duration) -> Option<Duration> {
        while since.elapsed() < limit {
            let first = self
                .forwarded
                .lock()
                .unwrap()
                .iter()
                .find(|&&t| t >= since)
                .copied();
            if let Some(t) = first {
                return Some(t - since);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }

    pub fn set(&self, mode: u8, delay: Duration) {
        self.delay_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
        self.mode.store(mode, Ordering::SeqCst);
    }
}

/// Copies `from` to `to` as the mode says. A delayed chunk is written `delay` after
/// it arrived (latency, not a slower line: chunks behind it are not held longer).
fn pump(mut from: TcpStream, to: Option<TcpStream>, mode: Arc<AtomicU8>, delay: Arc<AtomicU64>) {
    let (tx, rx) = mpsc::channel::<(Instant, Vec<u8>)>();
    let writer = to.map(|mut to| {
        std::thread::spawn(move || {
            for (due, chunk) in rx {
                if let Some(left) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(left);
                }
                if to.write_all(&chunk).is_err() {
                    break;
                }
            }
            let _ = to.shutdown(Shutdown::Write);
        })
    });
    let mut buf = [0u8; 16384];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let due = match mode.load(Ordering::SeqCst) {
            PASS => Instant::now(),
            DELAY => Instant::now() + Duration::from_millis(delay.load(Ordering::SeqCst)),
            // The hole swallows everything, this connection's later bytes too.
            _ => {
                while matches!(from.read(&mut buf), Ok(n) if n > 0) {}
                break;
            }
        };
        if writer.is_none() || tx.send((due, buf[..n].to_vec())).is_err() {
            continue;
        }
    }
    drop(tx);
    if let Some(w) = writer {
        let _ = w.join();
    }
}
