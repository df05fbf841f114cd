//! The JNI front door: the native methods of `org.proxid.Native` (java/), thin over
//! [`Resolver`]. Nothing is decided here; arguments are converted, the Rust API is
//! called and the answer (or error) is turned into Java objects (or exceptions).
//!
//! Conventions every entry point follows:
//! - it runs inside [`EnvUnowned::with_env`], which catches panics, and resolves its
//!   outcome with [`ThrowJava`], the one place errors and panics become exceptions;
//!   nothing unwinds into the JVM;
//! - a resolver crosses as a `long`: `Box<Resolver>` from `open`, given back to
//!   `free`. 0 is rejected with `IllegalStateException`. The Java side (`Proxid`) makes
//!   sure no call runs during or after `free` (a read/write lock);
//! - a `null` string argument throws `NullPointerException`; a string that is not
//!   well-formed UTF-16 (a lone surrogate) is rejected rather than decoded lossily,
//!   so two different Java strings can never name the same user.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use ::jni::errors::{Error as JniError, ErrorPolicy};
use ::jni::objects::{JClass, JLongArray, JObject, JObjectArray, JString, JValue};
use ::jni::strings::{JNIStr, JNIString};
use ::jni::sys::jlong;
use ::jni::{jni_sig, jni_str, Env, EnvUnowned};

use super::Core;
use crate::error::Error;
use crate::identity::Identity;
use crate::policy::{Decision, ProxyRules};

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

fn throw_proxid(env: &mut Env<'_>, e: &Error) -> ::jni::errors::Result<()> {
    env.throw_new(exception_class(e), JNIString::new(e.to_string()))
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
        // Each throw returns Err(JavaException) once the exception is pending, which
        // is the success case here.
        let thrown = match &failure {
            Failure::Proxid(e) => throw_proxid(env, e),
            Failure::Null(what) => env.throw_new(
                jni_str!("java/lang/NullPointerException"),
                JNIString::new(format!("{what} is null")),
            ),
            Failure::Closed => env.throw_new(
                jni_str!("java/lang/IllegalStateException"),
                jni_str!("proxid: the resolver is closed"),
            ),
            Failure::IllegalArgument(message) => env.throw_new(
                jni_str!("java/lang/IllegalArgumentException"),
                JNIString::new(message),
            ),
            Failure::Malformed(shown) => env.throw_new(
                jni_str!("org/proxid/InvalidArgumentException"),
                JNIString::new(format!(
                    "{shown} is not well-formed UTF-16 (lone surrogate)"
                )),
            ),
            Failure::MalformedName(shown) => env.throw_new(
                jni_str!("org/proxid/InvalidNameException"),
                JNIString::new(format!(
                    "invalid name {shown}: not well-formed UTF-16 (lone surrogate)"
                )),
            ),
            Failure::Jni(e) => env.throw_new(
                INTERNAL_EXCEPTION,
                JNIString::new(format!("proxid: JNI call failed: {e}")),
            ),
        };
        match thrown {
            Err(JniError::JavaException) => Ok(T::default()),
            Err(other) => Err(other),
            Ok(()) => Ok(T::default()),
        }
    }

    fn on_panic<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _captures: &mut (),
        payload: Box<dyn std::any::Any + Send + 'static>,
    ) -> ::jni::errors::Result<T> {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "non-string panic payload".into());
        // Dropping a payload can itself panic; leak it instead (it is tiny and rare).
        std::mem::forget(payload);
        if env.exception_check() {
            env.exception_clear();
        }
        match env.throw_new(
            INTERNAL_EXCEPTION,
            JNIString::new(format!("proxid: internal error (panic): {what}")),
        ) {
            Err(JniError::JavaException) | Ok(()) => Ok(T::default()),
            Err(other) => Err(other),
        }
    }
}

/// Borrows the resolver behind a handle.
fn resolver<'h>(handle: jlong) -> Outcome<&'h Core> {
    if handle == 0 {
        return Err(Failure::Closed);
    }
    // SAFETY: non-zero handles come only from `open` (Box::into_raw), and the Java
    // side (`Proxid`, the only caller of the package-private `Native`) holds a read
    // lock across every call and the write lock around `free`, so the box is alive
    // for the whole call.
    Ok(unsafe { &*(handle as *const Core) })
}

/// A Java string as Rust text, or `None` for `null`. Lone surrogates are refused:
/// the crate's lossy decoding would turn them into U+FFFD.
fn optional_text(env: &Env<'_>, s: &JString<'_>) -> Outcome<Option<String>> {
    if s.is_null() {
        return Ok(None);
    }
    let chars = s.mutf8_chars(env)?;
    let text = chars.to_str().into_owned();
    // Well-formed strings survive the round trip to modified UTF-8 byte for byte.
    if JNIString::new(&text).to_bytes() != chars.to_bytes() {
        return Err(Failure::Malformed(escaped_utf16(chars.to_bytes())));
    }
    Ok(Some(text))
}

/// How many UTF-16 units of a malformed string an error message shows.
const SHOWN_UNITS: usize = 64;

/// The start of a string given as modified UTF-8 (one 1-3 byte sequence per UTF-16
/// unit), quoted and escaped like Rust's `{:?}`, with each lone surrogate as
/// `\uXXXX` (Java's own notation) instead of U+FFFD, so the message shows what was
/// actually wrong.
fn escaped_utf16(mutf8: &[u8]) -> String {
    let mut units = Vec::new();
    let mut bytes = mutf8.iter().copied();
    while let Some(b) = bytes.next() {
        let mut next = || u16::from(bytes.next().unwrap_or(0) & 0x3f);
        let unit = match b {
            0x00..=0x7f => u16::from(b),
            0xc0..=0xdf => (u16::from(b & 0x1f) << 6) | next(),
            _ => (u16::from(b & 0x0f) << 12) | (next() << 6) | next(),
        };
        units.push(unit);
        if units.len() == SHOWN_UNITS {
            break;
        }
    }
    let mut out = String::from("\"");
    for c in char::decode_utf16(units) {
        match c {
            Ok(c) => out.extend(c.escape_debug()),
            Err(e) => out.push_str(&format!("\\u{:04x}", e.unpaired_surrogate())),
        }
    }
    out.push('"');
    out
}

/// A required text argument.
fn text(env: &Env<'_>, s: &JString<'_>, what: &'static str) -> Outcome<String> {
    optional_text(env, s)?.ok_or(Failure::Null(what))
}

/// A required user name; malformed text is an invalid name, as in `validate_name`.
fn name(env: &Env<'_>, s: &JString<'_>, what: &'static str) -> Outcome<String> {
    text(env, s, what).map_err(|f| match f {
        Failure::Malformed(shown) => Failure::MalformedName(shown),
        other => other,
    })
}

/// Local references a conversion may hold at once (the JVM only promises 16).
const FRAME_CAPACITY: usize = 32;

/// A `org.proxid.Identity`, built in its own local frame so only the result survives.
fn new_identity<'local>(env: &mut Env<'local>, id: &Identity) -> Outcome<JObject<'local>> {
    env.with_local_frame_returning_local::<_, JObject, Failure>(FRAME_CAPACITY, |env| {
        identity_object(env, id)
    })
}

fn identity_object<'local>(env: &mut Env<'local>, id: &Identity) -> Outcome<JObject<'local>> {
    let empty = env.new_string("")?;
    let names = JObjectArray::<JString>::new(env, id.groups.len(), &empty)?;
    for (i, group) in id.groups.iter().enumerate() {
        let s = env.new_string(&group.name)?;
        names.set_element(env, i, &s)?;
        // Users can be in hundreds of groups; keep the local-reference table small.
        env.delete_local_ref(s);
    }
    let gid_values: Vec<jlong> = id.groups.iter().map(|g| jlong::from(g.gid)).collect();
    let gids = JLongArray::new(env, gid_values.len())?;
    gids.set_region(env, 0, &gid_values)?;
    let name = env.new_string(&id.name)?;
    let home = env.new_string(&id.home)?;
    let shell = env.new_string(&id.shell)?;
    let source = env.new_string(&id.source)?;
    Ok(env.new_object(
        jni_str!("org/proxid/Identity"),
        jni_sig!("(Ljava/lang/String;JJ[Ljava/lang/String;[JLjava/lang/String;Ljava/lang/String;Ljava/lang/String;)V"),
        &[
            JValue::Object(&name),
            JValue::Long(jlong::from(id.uid)),
            JValue::Long(jlong::from(id.gid)),
            JValue::Object(&names),
            JValue::Object(&gids),
            JValue::Object(&home),
            JValue::Object(&shell),
            JValue::Object(&source),
        ],
    )?)
}

/// A `org.proxid.Decision`, built in its own local frame so only the result survives.
fn new_decision<'local>(env: &mut Env<'local>, d: &Decision) -> Outcome<JObject<'local>> {
    env.with_local_frame_returning_local::<_, JObject, Failure>(FRAME_CAPACITY, |env| {
        decision_object(env, d)
    })
}

fn decision_object<'local>(env: &mut Env<'local>, d: &Decision) -> Outcome<JObject<'local>> {
    let effective = match &d.effective {
        Some(id) => new_identity(env, id)?,
        None => JObject::null(),
    };
    let rule = match &d.rule {
        Some(rule) => JObject::from(env.new_string(rule)?),
        None => JObject::null(),
    };
    let verdict = env.new_string(d.verdict.as_str())?;
    let proxy = env.new_string(&d.proxy)?;
    let user = env.new_string(&d.user)?;
    let host = env.new_string(&d.host)?;
    let effective_user = env.new_string(&d.effective_user)?;
    let reason = env.new_string(&d.reason)?;
    Ok(env.new_object(
        jni_str!("org/proxid/Decision"),
        jni_sig!("(Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;Lorg/proxid/Identity;Ljava/lang/String;Ljava/lang/String;)V"),
        &[
            JValue::Object(&verdict),
            JValue::Object(&proxy),
            JValue::Object(&user),
            JValue::Object(&host),
            JValue::Object(&effective_user),
            JValue::Object(&effective),
            JValue::Object(&rule),
            JValue::Object(&reason),
        ],
    )?)
}

/// `static native long open(String configPathOrNull)`: loads the configuration
/// (null: `PROXID_CONF`, else `/etc/proxid.conf`, else defaults) and returns a handle
/// the caller must give back to `free` exactly once.
#[no_mangle]
pub extern "system" fn Java_org_proxid_Native_open<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    config_path: JString<'local>,
) -> jlong {
    env.with_env(|env| -> Outcome<jlong> {
        let path = optional_text(env, &config_path)?;
        let resolver = Core::open(path.as_deref().map(Path::new))?;
        Ok(Box::into_raw(Box::new(resolver)) as jlong)
    })
    .resolve::<ThrowJava>()
}

/// `static native void free(long handle)`: drops the resolver. 0 is a no-op.
#[no_mangle]
pub extern "system" fn Java_org_proxid_Native_free<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
) {
    env.with_env(|_env| -> Outcome<()> {
        if handle != 0 {
            // SAFETY: the handle came from `open` and `Proxid.close` frees it once,
            // under its write lock (no call is running, none can start).
            drop(unsafe { Box::from_raw(handle as *mut Core) });
        }
        Ok(())
    })
    .resolve::<ThrowJava>()
}

/// `static native Identity resolve(long handle, String name)`.
#[no_mangle]
pub extern "system" fn Java_org_proxid_Native_resolve<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    user: JString<'local>,
) -> JObject<'local> {
    env.with_env(|env| -> Outcome<JObject<'local>> {
        let resolver = resolver(handle)?;
        let user = name(env, &user, "name")?;
        let id = resolver.resolve(&user)?;
        new_identity(env, &id)
    })
    .resolve::<ThrowJava>()
}

/// `static native Identity resolveUid(long handle, long uid)`; uid in 0..=2^32-1.
#[no_mangle]
pub extern "system" fn Java_org_proxid_Native_resolveUid<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    uid: jlong,
) -> JObject<'local> {
    env.with_env(|env| -> Outcome<JObject<'local>> {
        let resolver = resolver(handle)?;
        let uid = u32::try_from(uid).map_err(|_| {
            Failure::IllegalArgument(format!("uid {uid} is outside 0..={}", u32::MAX))
        })?;
        let id = resolver.resolve_uid(uid)?;
        new_identity(env, &id)
    })
    .resolve::<ThrowJava>()
}

/// `static native Decision authorize(long handle, String proxy, String user, String host)`.
#[no_mangle]
pub extern "system" fn Java_org_proxid_Native_authorize<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    proxy: JString<'local>,
    user: JString<'local>,
    host: JString<'local>,
) -> JObject<'local> {
    env.with_env(|env| -> Outcome<JObject<'local>> {
        let resolver = resolver(handle)?;
        let proxy = name(env, &proxy, "proxy")?;
        let user = name(env, &user, "user")?;
        let host = text(env, &host, "host")?;
        let decision = resolver.authorize(&proxy, &user, &host)?;
        new_decision(env, &decision)
    })
    .resolve::<ThrowJava>()
}

/// One side of an admission request: `gids` null means the name only.
fn assertion(
    env: &Env<'_>,
    name_arg: &JString<'_>,
    uid: jlong,
    gids: &JLongArray<'_>,
    whose: &'static str,
) -> Outcome<crate::mode::Assertion> {
    let name = name(env, name_arg, whose)?;
    if gids.is_null() {
        return Ok(crate::mode::Assertion {
            name,
            uid: None,
            gids: None,
        });
    }
    let id = |what: &str, v: jlong| {
        u32::try_from(v).map_err(|_| {
            Failure::IllegalArgument(format!("{whose} {what} {v} is outside 0..={}", u32::MAX))
        })
    };
    let mut raw = vec![0; gids.len(env)?];
    gids.get_region(env, 0, &mut raw)?;
    Ok(crate::mode::Assertion {
        name,
        uid: Some(id("uid", uid)?),
        gids: Some(
            raw.into_iter()
                .map(|g| id("gid", g))
                .collect::<Outcome<_>>()?,
        ),
    })
}

/// `static native Decision admit(long handle, String proxy, long proxyUid, long[]
/// proxyGids, String user, long userUid, long[] userGids, String host)`.
#[no_mangle]
#[allow(clippy::too_many_arguments)] // the JNI signature: two assertions and a host
pub extern "system" fn Java_org_proxid_Native_admit<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    proxy: JString<'local>,
    proxy_uid: jlong,
    proxy_gids: JLongArray<'local>,
    user: JString<'local>,
    user_uid: jlong,
    user_gids: JLongArray<'local>,
    host: JString<'local>,
) -> JObject<'local> {
    env.with_env(|env| -> Outcome<JObject<'local>> {
        let resolver = resolver(handle)?;
        let request = crate::policy::admit::AdmitRequest {
            proxy: assertion(env, &proxy, proxy_uid, &proxy_gids, "proxy")?,
            user: assertion(env, &user, user_uid, &user_gids, "user")?,
            host: text(env, &host, "host")?,
        };
        let decision = resolver.admit(&request)?;
        new_decision(env, &decision)
    })
    .resolve::<ThrowJava>()
}

/// `static native Decision admitJson(long handle, String requestJson)`.
#[no_mangle]
pub extern "system" fn Java_org_proxid_Native_admitJson<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    request: JString<'local>,
) -> JObject<'local> {
    env.with_env(|env| -> Outcome<JObject<'local>> {
        let resolver = resolver(handle)?;
        let json = text(env, &request, "requestJson")?;
        let request = crate::policy::admit::AdmitRequest::from_json(&json)?;
        let decision = resolver.admit(&request)?;
        new_decision(env, &decision)
    })
    .resolve::<ThrowJava>()
}

/// Local references a property-array conversion frees as it goes: two per property.
const PROPERTY_REFS: usize = 4;

/// `static native long proxyRules(String prefix, String[] keys, String[] values,
/// String source)`: the `<prefix>.*` proxy-user rules among the properties
/// (`keys[i]` = `values[i]`), returned as a handle for `freeProxyRules` (exactly
/// once). A `null` element is refused.
#[no_mangle]
pub extern "system" fn Java_org_proxid_Native_proxyRules<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    prefix: JString<'local>,
    keys: JObjectArray<'local, JString<'local>>,
    values: JObjectArray<'local, JString<'local>>,
    source: JString<'local>,
) -> jlong {
    env.with_env(|env| -> Outcome<jlong> {
        let prefix = text(env, &prefix, "prefix")?;
        let source = text(env, &source, "source")?;
        if keys.is_null() {
            return Err(Failure::Null("keys"));
        }
        if values.is_null() {
            return Err(Failure::Null("values"));
        }
        let len = keys.len(env)?;
        if values.len(env)? != len {
            return Err(Failure::IllegalArgument(
                "keys and values differ in length".into(),
            ));
        }
        let mut properties = Vec::with_capacity(len);
        for i in 0..len {
            let pair = env.with_local_frame(PROPERTY_REFS, |env| -> Outcome<(String, String)> {
                let key = keys.get_element(env, i)?;
                let value = values.get_element(env, i)?;
                Ok((text(env, &key, "key")?, text(env, &value, "value")?))
            })?;
            properties.push(pair);
        }
        let rules = ProxyRules::from_properties(properties, &prefix, &source)?;
        Ok(Box::into_raw(Box::new(rules)) as jlong)
    })
    .resolve::<ThrowJava>()
}

/// `static native void freeProxyRules(long rules)`: 0 is a no-op.
#[no_mangle]
pub extern "system" fn Java_org_proxid_Native_freeProxyRules<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    rules: jlong,
) {
    env.with_env(|_env| -> Outcome<()> {
        if rules != 0 {
            // SAFETY: the handle came from `proxyRules`, and `ProxyRules` frees it
            // once, after its Java object became unreachable (no call can use it).
            drop(unsafe { Box::from_raw(rules as *mut ProxyRules) });
        }
        Ok(())
    })
    .resolve::<ThrowJava>()
}

/// `static native Decision authorizeWithRules(long handle, Object owner, long rules,
/// String proxy, String user, String host)`. `owner` is the Java `ProxyRules` that
/// holds `rules`: passing it keeps it reachable (so not freed) for the whole call.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_org_proxid_Native_authorizeWithRules<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    _owner: JObject<'local>,
    rules: jlong,
    proxy: JString<'local>,
    user: JString<'local>,
    host: JString<'local>,
) -> JObject<'local> {
    env.with_env(|env| -> Outcome<JObject<'local>> {
        let resolver = resolver(handle)?;
        if rules == 0 {
            return Err(Failure::Closed);
        }
        // SAFETY: non-zero rule handles come only from `proxyRules`, and the caller's
        // `owner` argument keeps the Java object that frees it alive during this call.
        let rules = unsafe { &*(rules as *const ProxyRules) };
        let proxy = name(env, &proxy, "proxy")?;
        let user = name(env, &user, "user")?;
        let host = text(env, &host, "host")?;
        let decision = resolver.authorize_with_rules(rules, &proxy, &user, &host)?;
        new_decision(env, &decision)
    })
    .resolve::<ThrowJava>()
}

/// `static native String shortName(long handle, String principal)`.
#[no_mangle]
pub extern "system" fn Java_org_proxid_Native_shortName<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    principal: JString<'local>,
) -> JObject<'local> {
    env.with_env(|env| -> Outcome<JObject<'local>> {
        let resolver = resolver(handle)?;
        let principal = text(env, &principal, "principal")?;
        let short = resolver.short_name(&principal)?;
        Ok(env.new_string(short)?.into())
    })
    .resolve::<ThrowJava>()
}

/// `static native void invalidate(long handle, String nameOrNull)`: null empties
/// the whole cache.
#[no_mangle]
pub extern "system" fn Java_org_proxid_Native_invalidate<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    user: JString<'local>,
) {
    env.with_env(|env| -> Outcome<()> {
        let resolver = resolver(handle)?;
        let user = optional_text(env, &user)?;
        resolver.invalidate(user.as_deref());
        Ok(())
    })
    .resolve::<ThrowJava>()
}

/// `static native void reload(long handle, String configPathOrNull)`: loads a new
/// configuration (null: the file the resolver came from); calls already running finish
/// on the old one. A configuration that does not load is refused (`ConfigException`)
/// and the old one keeps serving.
#[no_mangle]
pub extern "system" fn Java_org_proxid_Native_reload<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    config_path: JString<'local>,
) {
    env.with_env(|env| -> Outcome<()> {
        let resolver = resolver(handle)?;
        let path = optional_text(env, &config_path)?;
        resolver.reload(path.as_deref().map(Path::new))?;
        Ok(())
    })
    .resolve::<ThrowJava>()
}

/// `static native String version()`: the crate version the library was built from.
#[no_mangle]
pub extern "system" fn Java_org_proxid_Native_version<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
) -> JObject<'local> {
    env.with_env(|env| -> Outcome<JObject<'local>> {
        Ok(env.new_string(env!("CARGO_PKG_VERSION"))?.into())
    })
    .resolve::<ThrowJava>()
}

/// Test-only: `static native Object testingPanic(String message)` panics with the
/// message, to prove from Java that a panic surfaces as `InternalException`.
#[cfg(feature = "testing")]
#[no_mangle]
#[allow(clippy::panic)]
pub extern "system" fn Java_org_proxid_Native_testingPanic<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    message: JString<'local>,
) -> JObject<'local> {
    env.with_env(|env| -> Outcome<JObject<'local>> {
        let message = optional_text(env, &message)?.unwrap_or_default();
        panic!("{message}");
    })
    .resolve::<ThrowJava>()
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
    env.with_env(|env| -> Outcome<()> {
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
    .resolve::<ThrowJava>()
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
    env.with_env(|env| -> Outcome<JObject<'local>> {
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
    .resolve::<ThrowJava>()
}

#[cfg(test)]
mod tests {
    use super::escaped_utf16;

    /// Modified UTF-8 of UTF-16 units: what the JVM hands over.
    fn mutf8(units: &[u16]) -> Vec<u8> {
        let mut out = Vec::new();
        for &u in units {
            match u {
                0x01..=0x7f => out.push(u as u8),
                0x00 | 0x80..=0x7ff => {
                    out.push(0xc0 | (u >> 6) as u8);
                    out.push(0x80 | (u & 0x3f) as u8);
                }
                _ => {
                    out.push(0xe0 | (u >> 12) as u8);
                    out.push(0x80 | ((u >> 6) & 0x3f) as u8);
                    out.push(0x80 | (u & 0x3f) as u8);
                }
            }
        }
        out
    }

    #[test]
    fn lone_surrogates_are_escaped_the_rest_is_kept() {
        let cases: &[(&[u16], &str)] = &[
            (&[0x61, 0xd800, 0x62], r#""a\ud800b""#),
            (&[0xdc00], r#""\udc00""#),
            (&[0xd83d, 0xde00, 0xd83d], "\"\u{1f600}\\ud83d\""),
            (
                &[0xe9, 0x0a, 0x22, 0x5c, 0x00, 0xdfff],
                r#""é\n\"\\\0\udfff""#,
            ),
        ];
        for (units, want) in cases {
            assert_eq!(escaped_utf16(&mutf8(units)), *want, "{units:x?}");
        }
        // Long strings are cut after 64 units.
        let long: Vec<u16> = std::iter::repeat_n(0x78, 1000).chain([0xd800]).collect();
        assert_eq!(
            escaped_utf16(&mutf8(&long)),
            format!("\"{}\"", "x".repeat(64))
        );
    }
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
