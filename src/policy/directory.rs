//! The lookups the policy needs, as a trait: the policy decides over any
//! directory of identities, and [`crate::Resolver`] is the one proxid passes (the
//! façade implements this trait for it).

use crate::error::Result;
use crate::identity::{Group, Identity, PasswordCheck};

/// Where the policy (and the PAM rules) look identities up. Answers are the
/// resolver's, cached as it caches them: `Error::NotFound` for an unknown name,
/// another error when the source cannot answer.
pub trait Directory {
    /// The identity of a user name.
    fn resolve(&self, name: &str) -> Result<Identity>;
    /// The identity the source gives for a UID.
    fn resolve_uid(&self, uid: u32) -> Result<Identity>;
    /// A group by name.
    fn group(&self, name: &str) -> Result<Group>;
    /// Which source answers: `"local"` or `"ldap"`.
    fn source_kind(&self) -> &'static str;
    /// A password check against the source (LDAP: a bind as the user). Never cached.
    fn check_password(&self, name: &str, password: &str) -> Result<PasswordCheck>;
}
