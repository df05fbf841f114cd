//! Kerberos principals: parsing, Hadoop auth_to_local, program principals and keytabs.
//! (Stub: the principals issue fills this in.)

use std::path::PathBuf;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::identity::Identity;
use crate::resolver::Resolver;

/// The principal a program runs as, with its short name and keytab.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProgramPrincipal {
    pub principal: String,
    pub short_name: String,
    pub keytab: Option<PathBuf>,
}

impl Resolver {
    /// The short user name for a Kerberos principal, by the configured auth_to_local rules.
    pub fn short_name(&self, principal: &str) -> Result<String> {
        let _ = principal;
        Err(Error::InvalidArgument(
            "short_name: not implemented yet".into(),
        ))
    }

    /// Principal -> short name -> identity.
    pub fn identity_for_principal(&self, principal: &str) -> Result<Identity> {
        self.resolve(&self.short_name(principal)?)
    }

    /// The principal for a program: application beats namespace beats default.
    pub fn program_principal(
        &self,
        namespace: &str,
        application: Option<&str>,
    ) -> Result<ProgramPrincipal> {
        let _ = (namespace, application);
        Err(Error::InvalidArgument(
            "program_principal: not implemented yet".into(),
        ))
    }
}
