//! One admission call for servers: the whole server side of a data-fabric request
//! (a proxy acting for a user, from a host) in one place, so an embedder cannot run
//! the steps in the wrong order or skip one.
//!
//! In order, each step final:
//! 1. Input: both names and the host are validated (`InvalidName` /
//!    `InvalidArgument`, nothing audited).
//! 2. The mode handshake for both identities, as [`crate::Engine::accept`] does it for one:
//!    a name-only assertion needs `server_side = true`, client-resolved IDs are
//!    refused under `require_server_side = true`. Every mismatch, the proxy's and the
//!    user's, is listed in one `ModeMismatch` naming both settings.
//! 3. The exact ID check for both: each name is resolved here (`NotFound` names
//!    whose it is); client-sent UID, primary GID and GID set must equal this
//!    resolution. Every difference of both identities is listed in one
//!    `IdentityMismatch`, each prefixed with whose it is (`proxy livy: uid: client
//!    4001, server 4000`). MapR requires it of the client's own user too ("The UID
//!    and GID of the user name under which the MapR client is running must match
//!    exactly").
//! 4. The impersonation decision, as [`Policy::authorize`]; its `Decision` carries
//!    the effective identity.
//!
//! Exactly one audit line per call that gets past step 1: the decision, or for a
//! refusal at steps 2–3 (`mode_mismatch`, `identity_mismatch`, `not_found`) a
//! `denied` line whose reason is that kind and the message. A source that cannot
//! answer is an error and leaves no line: nothing was decided.

use serde::{Deserialize, Serialize};

use super::hosts::{self, Lookup};
use super::{Decision, Directory, Policy, Verdict};
use crate::error::{Error, Result};
use crate::identity::validate_name;
use crate::mode::{self, Assertion, EXACT};

/// What a server received: the proxy's assertion, the target user's assertion
/// (each the name, plus UID and GIDs when the client resolved them) and the
/// client's host. JSON: `{"proxy": {"name", "uid"?, "gids"?}, "user": {...}, "host"}`;
/// unknown fields are refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdmitRequest {
    /// Who acts: the proxy's assertion.
    pub proxy: Assertion,
    /// For whom: the target user's assertion.
    pub user: Assertion,
    /// The client's host (an address, or a name resolved forward).
    pub host: String,
}

impl AdmitRequest {
    /// Reads the JSON form; unknown fields and malformed input are `InvalidArgument`.
    pub fn from_json(text: &str) -> Result<AdmitRequest> {
        serde_json::from_str(text)
            .map_err(|e| Error::InvalidArgument(format!("admission request: {e}")))
    }

    /// The compact JSON form.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl Policy {
    /// The server side of a request in one call: mode handshake for both identities,
    /// exact ID check for both, then the impersonation decision (see the module
    /// documentation for the order and the audit line).
    pub fn admit(&self, dir: &dyn Directory, request: &AdmitRequest) -> Result<Decision> {
        self.admit_with(dir, request, &hosts::system_lookup)
    }

    pub(crate) fn admit_with(
        &self,
        dir: &dyn Directory,
        request: &AdmitRequest,
        lookup: Lookup<'_>,
    ) -> Result<Decision> {
        let proxy = validate_name(request.proxy.name.as_bytes())?;
        let user = validate_name(request.user.name.as_bytes())?;
        hosts::parse_host(&request.host)
            .map_err(|why| Error::InvalidArgument(format!("host: {why}")))?;
        let sides = [
            ("proxy", proxy, &request.proxy),
            ("user", user, &request.user),
        ];
        match self.admission_checks(dir, &sides) {
            Ok(()) => {
                let decision = self.decide(dir, proxy, user, &request.host, lookup, None)?;
                Ok(self.audited(decision))
            }
            Err(e) => {
                if matches!(
                    e,
                    Error::ModeMismatch { .. }
                        | Error::IdentityMismatch { .. }
                        | Error::NotFound { .. }
                ) {
                    let reason = format!("{}: {e}", e.kind());
                    let refused =
                        Decision::new(proxy, user, &request.host, Verdict::Denied, reason);
                    // The caller gets the error either way; a failed audit adds nothing.
                    let _ = self.audited(refused);
                }
                Err(e)
            }
        }
    }

    /// Steps 2 and 3 for both identities.
    fn admission_checks(
        &self,
        dir: &dyn Directory,
        sides: &[(&str, &str, &Assertion); 2],
    ) -> Result<()> {
        let mut mismatches = Vec::new();
        for (whose, name, assertion) in sides {
            match mode::handshake(&self.config().resolution, name, assertion) {
                Ok(()) => {}
                Err(Error::ModeMismatch { detail }) => {
                    mismatches.push(format!("{whose} {name:?}: {detail}"))
                }
                Err(e) => return Err(e),
            }
        }
        if !mismatches.is_empty() {
            return Err(Error::ModeMismatch {
                detail: mismatches.join("; "),
            });
        }
        let mut differing = Vec::new();
        let mut differences = Vec::new();
        for (whose, name, assertion) in sides {
            let found = match dir.resolve(name) {
                Ok(id) => mode::differences(assertion, &id),
                Err(Error::NotFound { .. }) => {
                    return Err(Error::not_found(format!("{whose} {name:?}")))
                }
                Err(e) => return Err(e),
            };
            if !found.is_empty() {
                differing.push(format!("{whose} {name}"));
                differences.extend(found.into_iter().map(|d| format!("{whose} {name}: {d}")));
            }
        }
        if differences.is_empty() {
            Ok(())
        } else {
            Err(Error::IdentityMismatch {
                name: differing.join(" and "),
                detail: format!("{} ({EXACT})", differences.join("; ")),
            })
        }
    }
}
