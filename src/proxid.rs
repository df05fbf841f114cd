//! The façade: one [`Proxid`] per configuration file, the only object the faces (C,
//! Java, the CLI, the daemon) hold. It owns the three parts built from one
//! [`Config`] — the identity [`Engine`] (what a [`crate::Resolver`] serves), the
//! impersonation [`Policy`] and the [`Principals`] — and forwards each operation to
//! the part that decides it. It decides nothing itself.
//!
//! A reload builds all three parts from the new configuration and swaps them in one
//! atomic store, so no call ever sees the identities of one configuration with the
//! rules of another.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::auth::{Pam, PamAnswer, PamCode, PamEvent, PamRequest};
use crate::cache::Freshness;
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::error::Result;
use crate::generations::Generations;
use crate::identity::{Group, Identity, PasswordCheck};
use crate::mode::Assertion;
use crate::policy::admit::AdmitRequest;
use crate::policy::protected::ProtectedIds;
use crate::policy::{Decision, Directory, Policy, ProxyRules};
use crate::principal::{Principals, ProgramPrincipal};
use crate::resolver::{Engine, Prefetch, PrefetchReport};
use crate::source::Source;

/// proxid as one object: identities, impersonation decisions and Kerberos
/// principals from one configuration. `Send + Sync`; every method takes `&self`.
///
/// ```no_run
/// let proxid = proxid::Proxid::open(None)?; // PROXID_CONF, else /etc/proxid.conf
/// let alice = proxid.resolve("alice")?;
/// let decision = proxid.authorize("livy", "alice", "10.0.0.5")?;
/// println!("{} uid={} -> {:?}", alice.name, alice.uid, decision.verdict);
/// # Ok::<(), proxid::Error>(())
/// ```
pub struct Proxid {
    generations: Generations<Parts>,
}

/// One configuration's three parts, swapped together.
struct Parts {
    resolver: Engine,
    policy: Policy,
    principals: Principals,
}

impl Parts {
    fn new(resolver: Engine) -> Parts {
        let config = resolver.shared_config().clone();
        Parts {
            policy: Policy::with_clock(config.clone(), resolver.clock.clone()),
            principals: Principals::new(&config.principals, config.path.as_deref()),
            resolver,
        }
    }

    /// The parts of `config`, with the policy's load-time checks run.
    fn checked(config: Config, clock: Arc<dyn Clock>) -> Result<Parts> {
        let parts = Parts::new(Engine::with_clock(Arc::new(config), clock)?);
        parts.policy.check_on_load(&parts.resolver)?;
        Ok(parts)
    }

    fn pam(&self) -> Pam<'_> {
        Pam {
            dir: &self.resolver,
            policy: &self.policy,
        }
    }
}

/// The policy looks identities up in the resolver (cached, validated names).
impl Directory for Engine {
    fn resolve(&self, name: &str) -> Result<Identity> {
        Engine::resolve(self, name)
    }

    fn resolve_uid(&self, uid: u32) -> Result<Identity> {
        Engine::resolve_uid(self, uid)
    }

    fn group(&self, name: &str) -> Result<Group> {
        Engine::group(self, name)
    }

    fn source_kind(&self) -> &'static str {
        Engine::source_kind(self)
    }

    fn check_password(&self, name: &str, password: &str) -> Result<PasswordCheck> {
        Engine::check_password(self, name, password)
    }
}

impl std::fmt::Debug for Proxid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.parts().resolver, f)
    }
}

impl Proxid {
    /// Loads the configuration (`path`, else `PROXID_CONF`, else `/etc/proxid.conf`,
    /// else the embedded default) and builds everything from it.
    pub fn open(path: Option<&Path>) -> Result<Proxid> {
        Proxid::new(Config::load(path)?)
    }

    /// Builds from a validated configuration. Fails (`Error::Config`) when the
    /// source cannot be set up, when a protected name is malformed or resolves
    /// nowhere, or when a scope covers a protected ID (see [`crate::policy`]).
    pub fn new(config: Config) -> Result<Proxid> {
        Ok(Proxid::from_parts(Parts::checked(
            config,
            Arc::new(SystemClock::default()),
        )?))
    }

    /// As [`Proxid::new`] without the policy's load-time checks, for `proxid doctor`,
    /// which reports each of those problems as a row of its own.
    pub(crate) fn new_unchecked(config: Config) -> Result<Proxid> {
        Ok(Proxid::from_parts(Parts::new(Engine::new(Arc::new(
            config,
        ))?)))
    }

    /// Builds over any source (tests, embedders with their own registry), without
    /// the load-time checks (a decision still fails closed on a protected name).
    pub fn with_source(config: Config, source: Arc<dyn Source>) -> Proxid {
        Proxid::with_source_and_clock(config, source, Arc::new(SystemClock::default()))
    }

    /// As [`Proxid::with_source`], with the cache's clock injected.
    pub fn with_source_and_clock(
        config: Config,
        source: Arc<dyn Source>,
        clock: Arc<dyn Clock>,
    ) -> Proxid {
        Proxid::from_parts(Parts::new(Engine::build(Arc::new(config), source, clock)))
    }

    /// A façade around an identity resolver built by hand (for instance over a
    /// source of one's own, with [`crate::Resolver::with_source`]): its newest
    /// configuration, with that configuration's policy and principals. No load-time
    /// checks, as [`Proxid::with_source`].
    pub fn from_resolver(resolver: crate::Resolver) -> Proxid {
        Proxid::from_parts(Parts::new(resolver.into_engine()))
    }

    fn from_parts(parts: Parts) -> Proxid {
        Proxid {
            generations: Generations::new(parts),
        }
    }

    fn parts(&self) -> &Parts {
        self.generations.current()
    }

    /// Reloads the configuration: `path`, or with `None` the file the current
    /// configuration came from (else `PROXID_CONF`, `/etc/proxid.conf`, the default).
    /// A configuration that does not load or validate (including a scope covering a
    /// protected ID) is refused with its error, and the current one keeps serving.
    /// Calls already running finish on the configuration they started with; calls
    /// made after this returns `Ok` use the new one (identities, rules and principals
    /// together), with an empty cache. The new configuration brings its own source,
    /// also for one built with [`Proxid::with_source`].
    pub fn reload(&self, path: Option<&Path>) -> Result<()> {
        let path: Option<PathBuf> = path
            .map(Path::to_path_buf)
            .or_else(|| self.config().path.clone());
        self.reload_config(Config::load(path.as_deref())?)
    }

    /// As [`Proxid::reload`] from a configuration already loaded.
    pub fn reload_config(&self, config: Config) -> Result<()> {
        // A reload keeps the clock (a test's stays a test's).
        let next = Parts::checked(config, self.parts().resolver.clock.clone())?;
        // The old parts only finish calls already running: free their caches.
        self.generations
            .push(next, |old| old.resolver.invalidate(None));
        Ok(())
    }

    /// How many configurations have been loaded (1 + successful reloads).
    pub fn generation(&self) -> usize {
        self.generations.count()
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        self.parts().resolver.config()
    }

    /// The identity resolver of the configuration in force (for what the façade
    /// does not forward, such as [`Engine::resolve_with_freshness`]).
    pub fn resolver(&self) -> &Engine {
        &self.parts().resolver
    }

    /// The impersonation policy of the configuration in force.
    pub fn policy(&self) -> &Policy {
        &self.parts().policy
    }

    /// The principal rules of the configuration in force.
    pub fn principals(&self) -> &Principals {
        &self.parts().principals
    }
}

/// Identities ([`Engine`]).
impl Proxid {
    /// Resolves a user name. Unknown names are `Error::NotFound`.
    pub fn resolve(&self, name: &str) -> Result<Identity> {
        self.resolver().resolve(name)
    }

    /// Resolves a user name given as raw bytes (C strings, CLI arguments), validating it.
    pub fn resolve_bytes(&self, raw: &[u8]) -> Result<Identity> {
        self.resolver().resolve_bytes(raw)
    }

    /// Resolves a name and says whether the answer is stale.
    pub fn resolve_with_freshness(&self, raw: &[u8]) -> Result<(Identity, Freshness)> {
        self.resolver().resolve_with_freshness(raw)
    }

    /// Resolves a UID: the source's answer by UID.
    pub fn resolve_uid(&self, uid: u32) -> Result<Identity> {
        self.resolver().resolve_uid(uid)
    }

    /// Looks up a group by name.
    pub fn group(&self, name: &str) -> Result<Group> {
        self.resolver().group(name)
    }

    /// Looks up a group by GID.
    pub fn group_by_gid(&self, gid: u32) -> Result<Group> {
        self.resolver().group_by_gid(gid)
    }

    /// Empties the cache for one user name, or all of it with `None`.
    pub fn invalidate(&self, name: Option<&str>) {
        self.resolver().invalidate(name)
    }

    /// Warms the cache (see [`Engine::prefetch`]).
    pub fn prefetch(&self, scope: Prefetch<'_>) -> Result<PrefetchReport> {
        self.resolver().prefetch(scope)
    }

    /// The user names a scope covers, without resolving them.
    pub fn list_names(&self, scope: Prefetch<'_>) -> Result<Vec<String>> {
        self.resolver().list_names(scope)
    }

    /// Number of cached answers, by name and by UID.
    pub fn cached_entries(&self) -> usize {
        self.resolver().cached_entries()
    }

    /// Loads now what the source defers to its first lookup (the LDAP trust store).
    pub fn check_source(&self) -> Result<()> {
        self.resolver().check_source()
    }

    /// The label of the source answering: "local" or "ldap".
    pub fn source_kind(&self) -> &'static str {
        self.resolver().source_kind()
    }

    /// Client side of the mode handshake: the assertion the configured mode calls for.
    pub fn assert(&self, name: &str) -> Result<Assertion> {
        self.resolver().assert(name)
    }

    /// Server side of the mode handshake: the identity to act as, or why not.
    pub fn accept(&self, assertion: &Assertion) -> Result<Identity> {
        self.resolver().accept(assertion)
    }
}

/// Impersonation ([`Policy`]).
impl Proxid {
    /// May `proxy` impersonate `user` from `host`? See [`Policy::authorize`].
    pub fn authorize(&self, proxy: &str, user: &str, host: &str) -> Result<Decision> {
        let parts = self.parts();
        parts.policy.authorize(&parts.resolver, proxy, user, host)
    }

    /// [`Proxid::authorize`] with `extra` rules beside proxid.conf's.
    pub fn authorize_with_rules(
        &self,
        extra: &ProxyRules,
        proxy: &str,
        user: &str,
        host: &str,
    ) -> Result<Decision> {
        let parts = self.parts();
        parts
            .policy
            .authorize_with_rules(&parts.resolver, extra, proxy, user, host)
    }

    /// The server side of a request in one call (see [`crate::policy::admit`]).
    pub fn admit(&self, request: &AdmitRequest) -> Result<Decision> {
        let parts = self.parts();
        parts.policy.admit(&parts.resolver, request)
    }

    /// [`Proxid::admit`] with an injected host-name lookup (fuzzing, tests).
    pub(crate) fn admit_with(
        &self,
        request: &AdmitRequest,
        lookup: crate::policy::hosts::Lookup<'_>,
    ) -> Result<Decision> {
        let parts = self.parts();
        parts.policy.admit_with(&parts.resolver, request, lookup)
    }

    /// Builds the rule set now and resolves every protected name; returns how many
    /// rules are in force. See [`Policy::check_policy`].
    pub fn check_policy(&self) -> Result<usize> {
        let parts = self.parts();
        parts.policy.check_policy(&parts.resolver)
    }

    /// The part of [`Proxid::check_policy`] that needs no protected name.
    pub(crate) fn check_rules(&self) -> Result<usize> {
        self.parts().policy.check_rules()
    }

    /// The UIDs and GIDs of every protected identity, resolved now.
    pub fn protected_ids(&self) -> Result<ProtectedIds> {
        let parts = self.parts();
        parts.policy.protected_ids(&parts.resolver)
    }

    /// Refuses scopes that contain a protected ID. See [`Policy::check_scopes`].
    pub fn check_scopes(&self) -> Result<()> {
        let parts = self.parts();
        parts.policy.check_scopes(&parts.resolver)
    }
}

/// Kerberos principals ([`Principals`]).
impl Proxid {
    /// The short user name for a Kerberos principal, by the auth_to_local rules.
    pub fn short_name(&self, principal: &str) -> Result<String> {
        self.principals().short_name(principal)
    }

    /// Principal -> short name -> identity.
    pub fn identity_for_principal(&self, principal: &str) -> Result<Identity> {
        let parts = self.parts();
        parts
            .resolver
            .resolve(&parts.principals.short_name(principal)?)
    }

    /// The principal for a program, with its keytab checked. See
    /// [`Principals::program_principal`].
    pub fn program_principal(
        &self,
        namespace: &str,
        application: Option<&str>,
    ) -> Result<ProgramPrincipal> {
        self.principals().program_principal(namespace, application)
    }

    /// As [`Proxid::program_principal`], without looking at the keytab file.
    pub fn program_principal_unchecked(
        &self,
        namespace: &str,
        application: Option<&str>,
    ) -> Result<ProgramPrincipal> {
        self.principals()
            .program_principal_unchecked(namespace, application)
    }

    /// This machine's FQDN, lower-cased (looked up once per configuration).
    pub fn local_fqdn(&self) -> &str {
        self.principals().local_fqdn()
    }
}

/// Directory logins for the PAM module (rules in `auth`; the daemon carries them).
#[doc(hidden)]
impl Proxid {
    /// Checks `password` for `req.user` with a bind to the directory. Audited.
    pub fn pam_authenticate(&self, req: &PamRequest, password: &[u8]) -> PamAnswer {
        self.parts().pam().pam_authenticate(req, password)
    }

    /// May `req.user` log in through the directory? Audited.
    pub fn pam_account(&self, req: &PamRequest) -> PamAnswer {
        self.parts().pam().pam_account(req)
    }

    /// May `proxy` act as `req.user` (su, sudo)? Audited.
    pub fn pam_impersonate(&self, req: &PamRequest, proxy: &str) -> PamAnswer {
        self.parts().pam().pam_impersonate(req, proxy)
    }

    /// The proxy of an impersonation request, from the peer's credentials.
    pub fn pam_proxy(&self, peer_uid: u32, sent_uid: u32, passwd_file: &Path) -> Result<String> {
        self.parts()
            .pam()
            .pam_proxy(peer_uid, sent_uid, passwd_file)
    }

    /// Whether the daemon never serves `req.user` (root, `[daemon] filter_users`).
    pub fn pam_is_filtered(&self, req: &PamRequest) -> bool {
        self.parts().pam().pam_is_filtered(req)
    }

    /// A request refused before any rule ran (`filter_users`). Audited.
    pub fn pam_filtered(&self, event: PamEvent, req: &PamRequest) -> PamAnswer {
        self.parts().pam().pam_filtered(event, req)
    }

    /// A request the caller refused itself. Audited.
    pub fn pam_refused(
        &self,
        event: PamEvent,
        req: &PamRequest,
        code: PamCode,
        reason: &str,
    ) -> PamAnswer {
        self.parts().pam().pam_refused(event, req, code, reason)
    }
}

// Every thread borrows the current parts; keep that sound if a field changes.
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<Parts>();
    send_sync::<Proxid>();
};
