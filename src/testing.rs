//! Test doubles shared by the unit tests (`src/`) and the integration tests (`tests/`):
//! one in-memory registry instead of a fake per test file. Not part of the API.

use std::path::Path;
use std::sync::Arc;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::identity::{Group, Identity};
use crate::resolver::Resolver;
use crate::source::Source;

/// Users by name; the groups are every group some user is in. A user or group named
/// `unavailable` makes the source fail as if the directory were down.
#[derive(Debug, Clone, Default)]
pub struct FakeSource(pub Vec<Identity>);

impl FakeSource {
    fn groups(&self) -> impl Iterator<Item = &Group> {
        self.0.iter().flat_map(|u| u.groups.iter())
    }
}

fn down() -> Error {
    Error::Unavailable {
        source_name: "fake".into(),
        detail: "directory down".into(),
    }
}

impl Source for FakeSource {
    fn kind(&self) -> &'static str {
        "fake"
    }
    fn user_by_name(&self, name: &str) -> Result<Option<Identity>> {
        if name == "unavailable" {
            return Err(down());
        }
        Ok(self.0.iter().find(|u| u.name == name).cloned())
    }
    fn user_by_uid(&self, uid: u32) -> Result<Option<Identity>> {
        Ok(self.0.iter().find(|u| u.uid == uid).cloned())
    }
    fn group_by_name(&self, name: &str) -> Result<Option<Group>> {
        if name == "unavailable" {
            return Err(down());
        }
        Ok(self.groups().find(|g| g.name == name).cloned())
    }
    fn group_by_gid(&self, gid: u32) -> Result<Option<Group>> {
        Ok(self.groups().find(|g| g.gid == gid).cloned())
    }
}

/// `user("bob", 1002, &[("bob", 1002), ("wheel", 10)])`: primary group first (a user
/// given no group has GID 0).
pub fn user(name: &str, uid: u32, groups: &[(&str, u32)]) -> Identity {
    let groups: Vec<Group> = groups
        .iter()
        .map(|(n, gid)| Group {
            name: n.to_string(),
            gid: *gid,
        })
        .collect();
    Identity {
        name: name.into(),
        uid,
        gid: groups.first().map_or(0, |g| g.gid),
        groups,
        home: format!("/home/{name}"),
        shell: "/bin/sh".into(),
        source: "fake".into(),
        hidden_gids: Vec::new(),
    }
}

/// A resolver over `users` with the configuration `toml` (which must load).
#[allow(clippy::panic)] // a test helper: a configuration that does not load is the test's bug
pub fn resolver(toml: &str, users: Vec<Identity>) -> Resolver {
    let config = Config::from_toml(toml, Path::new("/test/proxid.conf"))
        .unwrap_or_else(|e| panic!("the test configuration must load: {e}"));
    with_config(config, users)
}

/// A resolver over `users` with `config`.
pub fn with_config(config: Config, users: Vec<Identity>) -> Resolver {
    Resolver::with_source(config, Arc::new(FakeSource(users)))
}
