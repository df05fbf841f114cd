//! The compact form identities take inside the cache. 100,000 cached users must fit in
//! tens of MiB, so group names and shells are interned (users share them) and strings
//! are boxed slices; reads build an ordinary [`Identity`] from it.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use crate::fork::PerProcess;
use crate::identity::{Group, Identity};

/// An identity as the cache stores it. The user name is usually the cache key and is
/// not repeated; it is kept only when the registry answered with another spelling
/// (an NSS module that matches names case-insensitively, say), since callers must
/// see the registry's name.
pub struct StoredIdentity {
    name: Option<Box<str>>,
    uid: u32,
    gid: u32,
    groups: Box<[(u32, Arc<str>)]>,
    home: Box<str>,
    shell: Arc<str>,
    source: Arc<str>,
    hidden_gids: Box<[u32]>,
}

impl StoredIdentity {
    /// The user's name, for an identity stored under the key `asked`.
    pub fn name<'a>(&'a self, asked: &'a str) -> &'a str {
        self.name.as_deref().unwrap_or(asked)
    }

    /// The identity stored under the key `asked`, as callers receive it.
    pub fn to_identity(&self, asked: &str) -> Identity {
        Identity {
            name: self.name(asked).to_string(),
            uid: self.uid,
            gid: self.gid,
            groups: self
                .groups
                .iter()
                .map(|(gid, name)| Group {
                    name: name.to_string(),
                    gid: *gid,
                })
                .collect(),
            home: self.home.to_string(),
            shell: self.shell.to_string(),
            source: self.source.to_string(),
            hidden_gids: self.hidden_gids.to_vec(),
        }
    }
}

/// Shares the strings many identities repeat (group names, shells, source labels).
/// The set is per process: a forked child never waits on a lock a parent thread held
/// at the fork (it starts a set of its own; the strings already stored stay valid).
pub struct Interner(PerProcess<Mutex<HashSet<Arc<str>>>>);

impl Default for Interner {
    fn default() -> Self {
        Interner(PerProcess::new(Mutex::default()))
    }
}

impl Interner {
    fn set(&self) -> &Mutex<HashSet<Arc<str>>> {
        self.0.get_or_init(Mutex::default)
    }

    fn intern(set: &mut HashSet<Arc<str>>, text: &str) -> Arc<str> {
        if let Some(shared) = set.get(text) {
            return shared.clone();
        }
        let shared: Arc<str> = Arc::from(text);
        set.insert(shared.clone());
        shared
    }

    /// Forgets strings no stored identity uses any more.
    pub fn prune(&self) {
        let mut set = self.set().lock().unwrap_or_else(|p| p.into_inner());
        set.retain(|s| Arc::strong_count(s) > 1);
    }

    /// The stored form of `identity`, found under the key `asked`.
    pub fn store(&self, asked: &str, identity: &Identity) -> StoredIdentity {
        // One lock for the whole identity rather than one per string.
        let mut set = self.set().lock().unwrap_or_else(|p| p.into_inner());
        let set = &mut *set;
        StoredIdentity {
            name: (identity.name != asked).then(|| identity.name.as_str().into()),
            uid: identity.uid,
            gid: identity.gid,
            groups: identity
                .groups
                .iter()
                .map(|g| (g.gid, Self::intern(set, &g.name)))
                .collect(),
            home: identity.home.as_str().into(),
            shell: Self::intern(set, &identity.shell),
            source: Self::intern(set, &identity.source),
            hidden_gids: identity.hidden_gids.as_slice().into(),
        }
    }
}
