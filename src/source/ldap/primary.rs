//! Primary groups remembered between lookups, aged on the source's clock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::clock::Clock;
use crate::identity::Group;

/// GID -> primary group, kept for the cache's positive TTL (0 keeps nothing).
pub(super) struct PrimaryGroups {
    pub(super) ttl: Duration,
    pub(super) known: Mutex<HashMap<u32, (Group, Instant)>>,
    pub(super) clock: Arc<dyn Clock>,
}

impl PrimaryGroups {
    pub(super) fn get(&self, gid: u32) -> Option<Group> {
        let known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        let (group, at) = known.get(&gid)?;
        let age = self.clock.now().saturating_duration_since(*at);
        (age < self.ttl).then(|| group.clone())
    }

    pub(super) fn put(&self, group: &Group) {
        if self.ttl.is_zero() {
            return;
        }
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        // Bounded like the identity cache; when full, start over rather than track age.
        if known.len() >= 100_000 {
            known.clear();
        }
        known.insert(group.gid, (group.clone(), self.clock.now()));
    }

    pub(super) fn clear(&self) {
        self.known.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::TestClock;

    fn remembered(ttl: Duration, clock: &TestClock) -> PrimaryGroups {
        PrimaryGroups {
            ttl,
            known: Mutex::default(),
            clock: Arc::new(clock.clone()),
        }
    }

    /// A remembered primary group is used for the cache's positive TTL on the
    /// source's clock, then asked for again; a TTL of 0 remembers nothing.
    #[test]
    fn primary_groups_are_remembered_for_their_ttl() {
        let clock = TestClock::default();
        let groups = remembered(Duration::from_secs(300), &clock);
        let staff = Group {
            name: "staff".into(),
            gid: 100,
        };
        groups.put(&staff);
        clock.advance(Duration::from_millis(299_999));
        assert_eq!(groups.get(100), Some(staff.clone()));
        clock.advance(Duration::from_millis(1));
        assert_eq!(groups.get(100), None, "forgotten at the TTL");
        groups.put(&staff);
        groups.clear();
        assert_eq!(groups.get(100), None);

        let none = remembered(Duration::ZERO, &clock);
        none.put(&staff);
        assert_eq!(none.get(100), None);
    }
}
