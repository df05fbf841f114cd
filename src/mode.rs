//! Client-side vs server-side resolution: the identity assertion a client sends and
//! the server's check of it. (Stub: the resolution-modes issue fills this in.)

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::identity::Identity;
use crate::resolver::Resolver;

/// What a client sends to say who it acts for: the name, plus the IDs it resolved
/// locally (client-side resolution) or nothing else (server-side resolution).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assertion {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gids: Option<Vec<u32>>,
}

impl Assertion {
    /// The compact JSON form that crosses the wire.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(text: &str) -> Result<Assertion> {
        serde_json::from_str(text)
            .map_err(|e| Error::InvalidArgument(format!("identity assertion: {e}")))
    }
}

impl Resolver {
    /// Client side: the assertion the configured mode calls for.
    pub fn assert(&self, name: &str) -> Result<Assertion> {
        let _ = name;
        Err(Error::InvalidArgument("assert: not implemented yet".into()))
    }

    /// Server side: the identity to act as for `assertion`, or why not.
    pub fn accept(&self, assertion: &Assertion) -> Result<Identity> {
        let _ = assertion;
        Err(Error::InvalidArgument("accept: not implemented yet".into()))
    }
}
