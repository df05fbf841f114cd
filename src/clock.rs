//! Time, injected: every reading of the clock in proxid goes through a [`Clock`], so
//! tests move time by hand ([`TestClock`]) instead of sleeping, and no rule depends on
//! when a test happens to run. `clippy.toml` forbids `Instant::now` and
//! `SystemTime::now` everywhere else.
//!
//! A leaf: this module imports nothing from the crate.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// Where time comes from.
pub trait Clock: Send + Sync {
    /// Monotonic time, for durations: TTLs, `retry_after`, connection ages.
    fn now(&self) -> Instant;

    /// Wall-clock time, for what people read: audit timestamps, certificate expiry.
    fn wall(&self) -> SystemTime;
}

/// The operating system's clocks.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock {
    _private: (),
}

impl Clock for SystemClock {
    // The one place the real clocks are read.
    #[allow(clippy::disallowed_methods)]
    fn now(&self) -> Instant {
        Instant::now()
    }

    #[allow(clippy::disallowed_methods)]
    fn wall(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that stands still until [`TestClock::advance`] moves it; clones share one
/// time. Both readings move together.
#[doc(hidden)]
#[derive(Debug, Clone)]
pub struct TestClock(Arc<Frozen>);

#[derive(Debug)]
struct Frozen {
    start: Instant,
    wall_start: SystemTime,
    /// Nanoseconds advanced since `start`.
    offset: AtomicU64,
}

impl Default for TestClock {
    fn default() -> Self {
        TestClock::at(SystemClock::default().wall())
    }
}

impl TestClock {
    /// A clock whose wall time starts at `wall` (its monotonic time starts now).
    pub fn at(wall: SystemTime) -> TestClock {
        TestClock(Arc::new(Frozen {
            start: SystemClock::default().now(),
            wall_start: wall,
            offset: AtomicU64::new(0),
        }))
    }

    /// Moves both readings forward by `by`.
    pub fn advance(&self, by: Duration) {
        let nanos = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        let _ = self
            .0
            .offset
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                Some(n.saturating_add(nanos))
            });
    }

    fn elapsed(&self) -> Duration {
        Duration::from_nanos(self.0.offset.load(Ordering::SeqCst))
    }
}

impl Clock for TestClock {
    fn now(&self) -> Instant {
        let start = self.0.start;
        start.checked_add(self.elapsed()).unwrap_or(start)
    }

    fn wall(&self) -> SystemTime {
        let start = self.0.wall_start;
        start.checked_add(self.elapsed()).unwrap_or(start)
    }
}

/// `d` in whole milliseconds, saturating (for messages and millisecond clocks).
pub fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_test_clock_moves_only_when_advanced() {
        let clock = TestClock::at(SystemTime::UNIX_EPOCH);
        let (t0, w0) = (clock.now(), clock.wall());
        assert_eq!(clock.now(), t0);
        let shared = clock.clone();
        shared.advance(Duration::from_millis(1500));
        assert_eq!(clock.now() - t0, Duration::from_millis(1500));
        assert_eq!(
            clock.wall(),
            w0 + Duration::from_millis(1500),
            "wall time moves with it"
        );
        assert_eq!(millis(Duration::from_micros(2999)), 2);
        assert_eq!(millis(Duration::MAX), u64::MAX);
    }
}
