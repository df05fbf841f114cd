//! The JNI front door: the native methods of `org.proxid.Native` (java/), thin over
//! the core handle (`Core`). Nothing is decided here; arguments are converted, the
//! Rust API is called and the answer (or error) is turned into Java objects (or
//! exceptions).
//!
//! Conventions every entry point follows:
//! - it runs through `native`: inside [`EnvUnowned::with_env`], which catches
//!   panics, with its outcome resolved by `ThrowJava`, the one place errors and
//!   panics become exceptions; nothing unwinds into the JVM;
//! - a resolver crosses as a `long`: `Box<Core>` from `open`, given back to
//!   `free`. 0 is rejected with `IllegalStateException`. The Java side (`Proxid`) makes
//!   sure no call runs during or after `free` (a read/write lock);
//! - a `null` string argument throws `NullPointerException`; a string that is not
//!   well-formed UTF-16 (a lone surrogate) is rejected rather than decoded lossily,
//!   so two different Java strings can never name the same user (`strings`).
//!
//! This module holds the failures, their exceptions and the handle; `strings` and
//! `objects` convert arguments and answers; `resolver` and `policy` are the
//! native methods.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ::jni::errors::{Error as JniError, ErrorPolicy};
use ::jni::strings::{JNIStr, JNIString};
use ::jni::sys::jlong;
use ::jni::{jni_str, Env, EnvUnowned};

use super::Core;
use crate::error::Error;

mod objects;
mod policy;
mod resolver;
mod strings;
#[cfg(feature = "testing")]
mod testing;

pub use policy::*;
pub use resolver::*;
#[cfg(feature = "testing")]
pub use testing::*;

/// Why a native call failed, before it becomes a Java exception.
enum Failure {
    /// The Rust API said no: thrown as the `org.proxid` exception for its kind.
    Proxid(Error),
    /// A `null` argument: `NullPointerException` naming the argument.
    Null(&'static str),
    /// Handle 0, i.e. a closed `Proxid`: `IllegalStateException`.
    Closed,
    /// An argument outside what the Rust API can take: `IllegalArgumentException`.
    IllegalArgument(String),
    /// A string that is not well-formed UTF-16: its start, quoted, with each lone
    /// surrogate written as `\uXXXX`.
    Malformed(String),
    /// The same, for an argument that is a user name: `InvalidNameException`.
    MalformedName(String),
    /// A JNI call failed; usually a Java exception is already pending and is kept.
    Jni(JniError),
}

impl From<JniError> for Failure {
    fn from(e: JniError) -> Self {
        Failure::Jni(e)
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Proxid(e)
    }
}

type Outcome<T> = Result<T, Failure>;

/// The `org.proxid` exception class for an error: one exhaustive match, so a new
/// variant cannot compile without choosing its class.
fn exception_class(e: &Error) -> &'static JNIStr {
    match e {
        Error::InvalidName { .. } => jni_str!("org/proxid/InvalidNameException"),
        Error::NotFound { .. } => jni_str!("org/proxid/NotFoundException"),
        Error::Unavailable { .. } => jni_str!("org/proxid/UnavailableException"),
        Error::Timeout { .. } => jni_str!("org/proxid/TimeoutException"),
        Error::Directory { .. } => jni_str!("org/proxid/DirectoryException"),
        Error::Config { .. } => jni_str!("org/proxid/ConfigException"),
        Error::ModeMismatch { .. } => jni_str!("org/proxid/ModeMismatchException"),
        Error::IdentityMismatch { .. } => jni_str!("org/proxid/IdentityMismatchException"),
        Error::InvalidArgument(_) => jni_str!("org/proxid/InvalidArgumentException"),
        Error::Io { .. } => jni_str!("org/proxid/SystemException"),
    }
}

const INTERNAL_EXCEPTION: &JNIStr = jni_str!("org/proxid/InternalException");

impl Failure {
    /// The exception a failure becomes: its class and message.
    fn exception(&self) -> (&'static JNIStr, String) {
        match self {
            Failure::Proxid(e) => (exception_class(e), e.to_string()),
            Failure::Null(what) => (
                jni_str!("java/lang/NullPointerException"),
                format!("{what} is null"),
            ),
            Failure::Closed => (
                jni_str!("java/lang/IllegalStateException"),
                "proxid: the resolver is closed".to_string(),
            ),
            Failure::IllegalArgument(message) => (
                jni_str!("java/lang/IllegalArgumentException"),
                message.clone(),
            ),
            Failure::Malformed(shown) => (
                jni_str!("org/proxid/InvalidArgumentException"),
                format!("{shown} is not well-formed UTF-16 (lone surrogate)"),
            ),
            Failure::MalformedName(shown) => (
                jni_str!("org/proxid/InvalidNameException"),
                format!("invalid name {shown}: not well-formed UTF-16 (lone surrogate)"),
            ),
            Failure::Jni(e) => (INTERNAL_EXCEPTION, format!("proxid: JNI call failed: {e}")),
        }
    }
}

/// Throws a new exception and returns the native method's default value. A throw
/// returns Err(JavaException) once the exception is pending, which is the success
/// case here.
fn throw<T: Default>(
    env: &mut Env<'_>,
    class: &JNIStr,
    message: String,
) -> ::jni::errors::Result<T> {
    match env.throw_new(class, JNIString::new(message)) {
        Err(JniError::JavaException) | Ok(()) => Ok(T::default()),
        Err(other) => Err(other),
    }
}

/// The one error policy of this module: every failure and every panic becomes a
/// Java exception, and the native method returns its type's default (0, null).
struct ThrowJava;

impl<T: Default> ErrorPolicy<T, Failure> for ThrowJava {
    type Captures<'unowned_env_local: 'native_method, 'native_method> = ();

    fn on_error<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _captures: &mut (),
        failure: Failure,
    ) -> ::jni::errors::Result<T> {
        if env.exception_check() {
            // A Java exception is already on its way (from a JNI call); it says more.
            return Ok(T::default());
        }
        let (class, message) = failure.exception();
        throw(env, class, message)
    }

    fn on_panic<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _captures: &mut (),
        payload: Box<dyn std::any::Any + Send + 'static>,
    ) -> ::jni::errors::Result<T> {
        let what = super::panic::message(payload.as_ref());
        // Dropping a payload can itself panic; leak it instead (it is tiny and rare).
        std::mem::forget(payload);
        if env.exception_check() {
            env.exception_clear();
        }
        throw(
            env,
            INTERNAL_EXCEPTION,
            format!("proxid: internal error (panic): {what}"),
        )
    }
}

/// The skeleton of every native method: runs `body` inside `with_env` (which stops
/// panics) and turns its failure or panic into a Java exception ([`ThrowJava`]).
fn native<'local, T: Default + 'local>(
    env: &mut EnvUnowned<'local>,
    body: impl FnOnce(&mut Env<'local>) -> Outcome<T>,
) -> T {
    env.with_env(body).resolve::<ThrowJava>()
}

/// A Rust object handed to Java as a `long`, to be given back to [`free_handle`]
/// exactly once.
fn into_handle<T>(value: T) -> jlong {
    Box::into_raw(Box::new(value)) as jlong
}

/// Borrows the object behind a handle; 0 (a closed object) is
/// `IllegalStateException`.
///
/// Safety: a non-zero `handle` came from [`into_handle`] for a `T` and is not freed
/// before the borrow ends.
unsafe fn handle_ref<'h, T>(handle: jlong) -> Outcome<&'h T> {
    if handle == 0 {
        return Err(Failure::Closed);
    }
    // SAFETY: a live `Box<T>` from `into_handle`, per this function's contract.
    Ok(unsafe { &*(handle as *const T) })
}

/// Drops the object behind a handle; 0 is a no-op.
///
/// Safety: `handle` is 0 or came from [`into_handle`] for a `T`, is freed once, and no
/// call uses it any more.
unsafe fn free_handle<T>(handle: jlong) {
    if handle != 0 {
        // SAFETY: from Box::into_raw in `into_handle`, owned by no one else, per this
        // function's contract.
        drop(unsafe { Box::from_raw(handle as *mut T) });
    }
}

/// Borrows the resolver behind a handle.
fn resolver<'h>(handle: jlong) -> Outcome<&'h Core> {
    // SAFETY: non-zero handles come only from `open` (`into_handle`), and the Java
    // side (`Proxid`, the only caller of the package-private `Native`) holds a read
    // lock across every call and the write lock around `free`, so the box is alive
    // for the whole call.
    unsafe { handle_ref(handle) }
}

/// A `long` argument that must be a UID or GID (0..=2^32-1); `what` names it in the
/// `IllegalArgumentException`.
fn id_arg(v: jlong, what: &dyn std::fmt::Display) -> Outcome<u32> {
    u32::try_from(v)
        .map_err(|_| Failure::IllegalArgument(format!("{what} {v} is outside 0..={}", u32::MAX)))
}

#[cfg(test)]
mod error_class_tests {
    use super::*;

    #[test]
    fn sec_11_14_every_error_variant_has_its_java_class() {
        let io = || std::io::Error::other("x");
        let cases = [
            (Error::invalid_name("", "empty"), "InvalidNameException"),
            (Error::not_found("user"), "NotFoundException"),
            (
                Error::Unavailable {
                    source_name: "ldap".into(),
                    detail: "x".into(),
                },
                "UnavailableException",
            ),
            (
                Error::Timeout {
                    source_name: "ldap".into(),
                    after_ms: 1,
                },
                "TimeoutException",
            ),
            (
                Error::Directory { detail: "x".into() },
                "DirectoryException",
            ),
            (Error::config("/etc/proxid.conf", "bad"), "ConfigException"),
            (
                Error::ModeMismatch { detail: "x".into() },
                "ModeMismatchException",
            ),
            (
                Error::IdentityMismatch {
                    name: "a".into(),
                    detail: "x".into(),
                },
                "IdentityMismatchException",
            ),
            (
                Error::InvalidArgument("x".into()),
                "InvalidArgumentException",
            ),
            (Error::io("read", io()), "SystemException"),
        ];
        for (error, class) in cases {
            // A clone (what a coalesced waiter receives) maps the same way.
            for e in [error.clone(), error] {
                assert_eq!(
                    exception_class(&e).to_str(),
                    format!("org/proxid/{class}"),
                    "{e}"
                );
            }
        }
    }
}
