//! Client-side vs server-side resolution: the identity assertion a client sends and
//! the server's check of it.
//!
//! The client's `[resolution] mode` decides what it sends:
//! - `"client"`: it resolves the name in its own registry and sends name, UID and
//!   GIDs (primary first): `{"name":"alice","uid":1001,"gids":[1001,27]}`. A name it
//!   cannot resolve is `NotFound` and nothing is sent.
//! - `"server"`: it sends the name only, `{"name":"alice"}`, and the server resolves.
//!
//! The server's `[resolution] server_side` decides what it accepts:
//!
//! | client sends \ server | `server_side = false`         | `server_side = true`     |
//! |-----------------------|-------------------------------|--------------------------|
//! | name only             | `ModeMismatch` (both settings named) | resolved on the server |
//! | name + IDs            | checked against the server's own resolution | same      |
//!
//! Client-resolved IDs are never taken on trust: the server resolves the name itself
//! and the UID, the primary GID and the set of GIDs must all be equal
//! (`IdentityMismatch` lists every difference). The GIDs compare as sets, because
//! two registries list supplementary groups in different orders and may repeat one;
//! the primary GID (the first) is compared on its own, because it decides who owns
//! new files. A name the server cannot resolve is `NotFound`: the action is not
//! processed. There is no fallback from one mode to the other, ever.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::config::Resolution;
use crate::error::{Error, Result};
use crate::identity::Identity;

/// What a client sends to say who it acts for: the name, plus the IDs it resolved
/// locally (client-side resolution) or nothing else (server-side resolution).
/// Unknown fields are refused, so a misspelt `gid` cannot pass for a name-only one,
/// and only the object form is read: serde's derive would also take an array
/// (`["alice",20001,[10001]]`), a second spelling nobody documented.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assertion {
    /// The user name the client acts for.
    pub name: String,
    /// The UID the client resolved (client-side resolution only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    /// Primary GID first, then the supplementary GIDs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gids: Option<Vec<u32>>,
}

/// The wire form, read through [`Assertion`]'s map-only `Deserialize`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAssertion {
    name: String,
    #[serde(default)]
    uid: Option<u32>,
    #[serde(default)]
    gids: Option<Vec<u32>>,
}

impl<'de> Deserialize<'de> for Assertion {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct ObjectOnly;
        impl<'de> serde::de::Visitor<'de> for ObjectOnly {
            type Value = RawAssertion;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object {\"name\", \"uid\", \"gids\"}")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> std::result::Result<RawAssertion, A::Error> {
                RawAssertion::deserialize(serde::de::value::MapAccessDeserializer::new(map))
            }
        }
        let raw = d.deserialize_map(ObjectOnly)?;
        Ok(Assertion {
            name: raw.name,
            uid: raw.uid,
            gids: raw.gids,
        })
    }
}

impl Assertion {
    /// The compact JSON form that crosses the wire.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads the JSON object form; anything else is `InvalidArgument`.
    pub fn from_json(text: &str) -> Result<Assertion> {
        serde_json::from_str(text)
            .map_err(|e| Error::InvalidArgument(format!("identity assertion: {e}")))
    }

    /// A name-only assertion asks the server to resolve.
    pub fn is_name_only(&self) -> bool {
        self.uid.is_none() && self.gids.is_none()
    }
}

/// The mode handshake alone: whether a server with these `[resolution]` settings
/// takes an assertion of this shape (`ModeMismatch` naming both settings, or
/// `InvalidArgument` for a half-sent one). Resolves nothing.
pub(crate) fn handshake(resolution: &Resolution, name: &str, assertion: &Assertion) -> Result<()> {
    let server_side = resolution.server_side;
    match (assertion.uid, &assertion.gids) {
        (None, None) if !server_side => Err(Error::ModeMismatch {
            detail: format!(
                "the client sent only the name {name:?}, asking the server to resolve it \
                 (client [resolution] mode = \"server\"), but this server has \
                 [resolution] server_side = false; set server_side = true here, or \
                 mode = \"client\" on the client"
            ),
        }),
        (None, None) => Ok(()),
        (Some(_), _) | (_, Some(_)) if resolution.require_server_side => Err(Error::ModeMismatch {
            detail: format!(
                "the client sent IDs it resolved itself for {name:?} (client \
                     [resolution] mode = \"client\"), but this server has \
                     require_server_side = true and resolves every name itself; set \
                     mode = \"server\" on the client, or require_server_side = false here"
            ),
        }),
        (Some(_), Some(gids)) if !gids.is_empty() => Ok(()),
        _ => Err(Error::InvalidArgument(format!(
            "identity assertion for {name:?}: send both uid and gids (primary GID \
             first), or neither for server-side resolution"
        ))),
    }
}

/// Every way the IDs the client sent (when it sent any) differ from `server`, the
/// server's own resolution of the asserted name, in words.
pub(crate) fn differences(assertion: &Assertion, server: &Identity) -> Vec<String> {
    match (assertion.uid, &assertion.gids) {
        (Some(uid), Some(gids)) => id_differences(uid, gids, server),
        _ => Vec::new(),
    }
}

/// Why client-resolved IDs must match, appended to every identity mismatch.
pub(crate) const EXACT: &str = "client-resolved IDs must equal the server's resolution exactly";

/// Every way the client's IDs differ from the server's identity, in words.
fn id_differences(uid: u32, gids: &[u32], server: &Identity) -> Vec<String> {
    let mut out = Vec::new();
    if uid != server.uid {
        out.push(format!("uid: client {uid}, server {}", server.uid));
    }
    if gids.first() != Some(&server.gid) {
        out.push(format!(
            "primary gid: client {}, server {}",
            gids.first().map_or("none".into(), u32::to_string),
            server.gid
        ));
    }
    let client: BTreeSet<u32> = gids.iter().copied().collect();
    let ours: BTreeSet<u32> = server.gids().into_iter().collect();
    let show = |set: Vec<&u32>| {
        set.iter()
            .map(|g| g.to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    let only_client: Vec<&u32> = client.difference(&ours).collect();
    if !only_client.is_empty() {
        out.push(format!("gids only on the client: {}", show(only_client)));
    }
    let only_server: Vec<&u32> = ours.difference(&client).collect();
    if !only_server.is_empty() {
        out.push(format!("gids only on the server: {}", show(only_server)));
    }
    out
}
