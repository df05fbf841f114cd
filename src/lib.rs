//! proxid: turn a user name into UID, primary GID and supplementary GIDs (from the
//! local OS registry or from LDAP), and decide Hadoop-style impersonation requests.
//!
//! ```no_run
//! let resolver = proxid::Resolver::open(None)?;
//! let alice = resolver.resolve("alice")?;
//! println!("{} uid={} gids={:?}", alice.name, alice.uid, alice.gids());
//! # Ok::<(), proxid::Error>(())
//! ```

pub mod audit;
pub mod auth;
pub mod cache;
pub mod config;
pub mod doctor;
pub mod error;
pub mod ffi;
mod fork;
#[doc(hidden)]
pub mod fuzzing;
pub mod homes;
pub mod id_range;
pub mod identity;
mod identity_store;
pub mod mapr;
pub mod mode;
pub mod pam_service;
pub mod policy;
pub mod principal;
pub mod resolve_service;
pub mod resolver;
pub mod source;

pub use config::Config;
pub use error::{Error, Result};
pub use identity::{Group, Identity};
pub use mode::Assertion;
pub use policy::admit::AdmitRequest;
pub use policy::{Decision, ProxyRules, Verdict};
pub use principal::ProgramPrincipal;
pub use resolver::{Engine, Prefetch, PrefetchReport, Resolver};
