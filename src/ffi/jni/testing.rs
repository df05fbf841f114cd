//! Test-only native methods (feature `testing`): a panic, every error kind, and a
//! decision with every field set, to check the conversions from Java.

use ::jni::objects::{JClass, JObject, JString};
use ::jni::sys::jlong;
use ::jni::EnvUnowned;

use super::objects::new_decision;
use super::strings::{name, optional_text, text};
use super::{native, resolver, Failure, Outcome};
use crate::error::Error;
use crate::policy::Decision;

/// Test-only: `static native Object testingPanic(String message)` panics with the
/// message, to prove from Java that a panic surfaces as `InternalException`.
#[cfg(feature = "testing")]
#[no_mangle]
#[allow(clippy::panic)] // panicking is the point
pub extern "system" fn Java_org_proxid_Native_testingPanic<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    message: JString<'local>,
) -> JObject<'local> {
    native(&mut env, |env| -> Outcome<JObject<'local>> {
        let message = optional_text(env, &message)?.unwrap_or_default();
        panic!("{message}");
    })
}

/// Test-only: `static native void testingError(String kind)` throws the exception
/// for an error of that kind, to check the kind-to-class table from Java for kinds
/// the host cannot produce on demand (LDAP down, mode mismatch...).
#[cfg(feature = "testing")]
#[no_mangle]
pub extern "system" fn Java_org_proxid_Native_testingError<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    kind: JString<'local>,
) {
    native(&mut env, |env| -> Outcome<()> {
        let kind = text(env, &kind, "kind")?;
        let detail = || format!("test error of kind {kind}");
        Err(Failure::Proxid(match kind.as_str() {
            "invalid_name" => Error::invalid_name("x", detail()),
            "not_found" => Error::not_found(detail()),
            "unavailable" => Error::Unavailable {
                source_name: "test".into(),
                detail: detail(),
            },
            "timeout" => Error::Timeout {
                source_name: "test".into(),
                after_ms: 1,
            },
            "directory" => Error::Directory { detail: detail() },
            "config" => Error::config("test.conf", detail()),
            "mode_mismatch" => Error::ModeMismatch { detail: detail() },
            "identity_mismatch" => Error::IdentityMismatch {
                name: "x".into(),
                detail: detail(),
            },
            "invalid_argument" => Error::InvalidArgument(detail()),
            "io" => Error::io(detail(), std::io::Error::other("test")),
            _ => return Err(Failure::IllegalArgument(format!("no error kind {kind:?}"))),
        }))
    })
}

/// Test-only: `static native Decision testingDecision(long handle, String user)`
/// returns an allowed decision for `user` with every field set, so the Java tests can
/// check the conversion before (and whatever) the policy decides.
#[cfg(feature = "testing")]
#[no_mangle]
pub extern "system" fn Java_org_proxid_Native_testingDecision<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    user: JString<'local>,
) -> JObject<'local> {
    native(&mut env, |env| -> Outcome<JObject<'local>> {
        let resolver = resolver(handle)?;
        let user = name(env, &user, "user")?;
        let effective = resolver.resolve(&user)?;
        let decision = Decision {
            verdict: crate::policy::Verdict::Allowed,
            proxy: "test-proxy".into(),
            user: user.clone(),
            host: "192.0.2.1".into(),
            effective_user: user,
            effective: Some(effective),
            rule: Some("test rule".into()),
            reason: "test decision".into(),
        };
        new_decision(env, &decision)
    })
}
