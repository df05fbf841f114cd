//! proxid: who a user is, and who may act as whom.
//!
//! proxid turns a user name into UID, primary GID and supplementary GIDs (from the
//! local OS registry or from LDAP), maps Kerberos principals to short names
//! (Hadoop's auth_to_local), and decides Hadoop-style impersonation requests
//! ("may `livy` act as `alice` from 10.0.0.5?"), fail closed, with an audit line.
//!
//! # Start here: [`Proxid`]
//!
//! One [`Proxid`] is built from one [`Config`] (`/etc/proxid.conf`, TOML) and offers
//! every operation: [`Proxid::resolve`], [`Proxid::authorize`], [`Proxid::admit`],
//! [`Proxid::short_name`], [`Proxid::reload`], ... It is `Send + Sync` and cheap to
//! share; the C ABI, the Java API, the `proxid` CLI and the `proxidd` daemon each hold
//! one.
//!
//! ```no_run
//! let proxid = proxid::Proxid::open(None)?; // PROXID_CONF, else /etc/proxid.conf
//! let alice = proxid.resolve("alice")?;
//! println!("{} uid={} gids={:?}", alice.name, alice.uid, alice.gids());
//!
//! let decision = proxid.authorize("livy", "alice", "10.0.0.5")?;
//! if decision.verdict == proxid::Verdict::Allowed {
//!     println!("run as {}", decision.effective_user);
//! }
//! # Ok::<(), proxid::Error>(())
//! ```
//!
//! # Only identities: [`Resolver`]
//!
//! A program that only needs identities can hold a [`Resolver`]: the same lookups,
//! cache and mode handshake ([`mode`]), no policy.
//!
//! ```no_run
//! let resolver = proxid::Resolver::open(None)?;
//! let alice = resolver.resolve("alice")?;
//! println!("{} uid={} gids={:?}", alice.name, alice.uid, alice.gids());
//! # Ok::<(), proxid::Error>(())
//! ```
//!
//! # What comes back
//!
//! - [`Identity`] and [`Group`]: a resolved user and its groups.
//! - [`Decision`] and [`Verdict`]: an impersonation decision, with the rule and the
//!   reason ([`policy`] documents the order of checks).
//! - [`Assertion`] and [`AdmitRequest`]: what a client sends a server ([`mode`]).
//! - [`ProgramPrincipal`], [`principal::KerberosName`], [`principal::AuthToLocal`]:
//!   Kerberos principals ([`principal`]).
//! - [`Error`]: one enum; each variant says what the caller does about it.
//!
//! How the crate is layered, and where each rule lives, is in ARCHITECTURE.md.

#![warn(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

#[doc(hidden)]
pub mod auth;
#[doc(hidden)]
pub mod cache;
pub mod clock;
pub mod config;
mod core_site;
#[doc(hidden)]
pub mod doctor;
pub mod error;
#[doc(hidden)]
pub mod ffi;
mod fork;
#[doc(hidden)]
pub mod fuzzing;
mod generations;
#[doc(hidden)]
pub mod homes;
pub mod id_range;
pub mod identity;
mod identity_store;
mod kerberos;
pub mod mode;
mod names;
#[doc(hidden)]
pub mod pam_service;
pub mod policy;
pub mod principal;
mod proxid;
#[doc(hidden)]
pub mod resolve_service;
mod resolver;
pub mod source;
#[doc(hidden)]
pub mod testing;

pub use config::Config;
pub use error::{Error, Result};
pub use identity::{Group, Identity};
pub use mode::Assertion;
pub use policy::admit::AdmitRequest;
pub use policy::{Decision, ProxyRules, Verdict};
pub use principal::ProgramPrincipal;
pub use proxid::Proxid;
pub use resolver::{Engine, Prefetch, PrefetchReport, Resolver};
