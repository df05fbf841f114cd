//! TEMPORARY: the all-in-one methods the foreign front doors (`ffi::c`, `ffi::jni`)
//! still call on [`Resolver`], as thin delegations to a [`Policy`] and
//! [`Principals`] built from the resolver's configuration on first use (per
//! configuration: a reload of the resolver builds new ones).
//!
//! Remove this file (and `Engine::compat`) once the front doors hold a
//! [`crate::Proxid`], which offers every method below with the same signature, plus
//! the load-time checks (`Proxid::open` refuses an unresolvable protected name or a
//! scope covering a protected ID; `Resolver::open` does not look at the policy).

use crate::error::{Error, Result};
use crate::identity::Identity;
use crate::policy::admit::AdmitRequest;
use crate::policy::{Decision, Policy, ProxyRules};
use crate::principal::{Principals, ProgramPrincipal};
use crate::resolver::{Engine, Resolver};

/// The parts an engine lacks, kept in its type-erased `compat` slot.
struct Parts {
    policy: Policy,
    principals: Principals,
}

fn parts(engine: &Engine) -> Result<&Parts> {
    let slot = engine.compat.get_or_init(|| {
        let config = engine.shared_config().clone();
        let parts = Parts {
            policy: Policy::new(config.clone()),
            principals: Principals::new(&config.principals, config.path.as_deref()),
        };
        Box::new(Box::new(parts))
    });
    (**slot)
        .downcast_ref::<Parts>()
        .ok_or_else(|| Error::InvalidArgument("compat: unexpected slot type".into()))
}

#[doc(hidden)]
impl Resolver {
    /// Use [`crate::Proxid::authorize`].
    pub fn authorize(&self, proxy: &str, user: &str, host: &str) -> Result<Decision> {
        let engine: &Engine = self;
        parts(engine)?.policy.authorize(engine, proxy, user, host)
    }

    /// Use [`crate::Proxid::authorize_with_rules`].
    pub fn authorize_with_rules(
        &self,
        extra: &ProxyRules,
        proxy: &str,
        user: &str,
        host: &str,
    ) -> Result<Decision> {
        let engine: &Engine = self;
        parts(engine)?
            .policy
            .authorize_with_rules(engine, extra, proxy, user, host)
    }

    /// Use [`crate::Proxid::admit`].
    pub fn admit(&self, request: &AdmitRequest) -> Result<Decision> {
        let engine: &Engine = self;
        parts(engine)?.policy.admit(engine, request)
    }

    /// Use [`crate::Proxid::short_name`].
    pub fn short_name(&self, principal: &str) -> Result<String> {
        parts(self)?.principals.short_name(principal)
    }

    /// Use [`crate::Proxid::identity_for_principal`].
    pub fn identity_for_principal(&self, principal: &str) -> Result<Identity> {
        let engine: &Engine = self;
        engine.resolve(&parts(engine)?.principals.short_name(principal)?)
    }

    /// Use [`crate::Proxid::program_principal`].
    pub fn program_principal(
        &self,
        namespace: &str,
        application: Option<&str>,
    ) -> Result<ProgramPrincipal> {
        parts(self)?
            .principals
            .program_principal(namespace, application)
    }
}
