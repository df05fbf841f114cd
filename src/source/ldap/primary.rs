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
