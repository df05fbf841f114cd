//! The policy's native methods: authorize, admit (as arguments or JSON), and proxy
//! rules built from Hadoop properties.

use ::jni::objects::{JClass, JLongArray, JObject, JObjectArray, JString};
use ::jni::sys::jlong;
use ::jni::{Env, EnvUnowned};

use super::objects::new_decision;
use super::strings::{name, text};
use super::{free_handle, handle_ref, id_arg, into_handle, native, resolver, Failure, Outcome};
use crate::policy::ProxyRules;

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
    native(&mut env, |env| -> Outcome<JObject<'local>> {
        let resolver = resolver(handle)?;
        let (proxy, user, host) = parties(env, &proxy, &user, &host)?;
        let decision = resolver.authorize(&proxy, &user, &host)?;
        new_decision(env, &decision)
    })
}

/// Who acts, for whom and from where: the arguments of both authorize methods.
fn parties(
    env: &Env<'_>,
    proxy: &JString<'_>,
    user: &JString<'_>,
    host: &JString<'_>,
) -> Outcome<(String, String, String)> {
    Ok((
        name(env, proxy, "proxy")?,
        name(env, user, "user")?,
        text(env, host, "host")?,
    ))
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
    let id = |what: &str, v: jlong| id_arg(v, &format_args!("{whose} {what}"));
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
    native(&mut env, |env| -> Outcome<JObject<'local>> {
        let resolver = resolver(handle)?;
        let request = crate::policy::admit::AdmitRequest {
            proxy: assertion(env, &proxy, proxy_uid, &proxy_gids, "proxy")?,
            user: assertion(env, &user, user_uid, &user_gids, "user")?,
            host: text(env, &host, "host")?,
        };
        let decision = resolver.admit(&request)?;
        new_decision(env, &decision)
    })
}

/// `static native Decision admitJson(long handle, String requestJson)`.
#[no_mangle]
pub extern "system" fn Java_org_proxid_Native_admitJson<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    request: JString<'local>,
) -> JObject<'local> {
    native(&mut env, |env| -> Outcome<JObject<'local>> {
        let resolver = resolver(handle)?;
        let json = text(env, &request, "requestJson")?;
        let request = crate::policy::admit::AdmitRequest::from_json(&json)?;
        let decision = resolver.admit(&request)?;
        new_decision(env, &decision)
    })
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
    native(&mut env, |env| -> Outcome<jlong> {
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
        Ok(into_handle(rules))
    })
}

/// `static native void freeProxyRules(long rules)`: 0 is a no-op.
#[no_mangle]
pub extern "system" fn Java_org_proxid_Native_freeProxyRules<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    rules: jlong,
) {
    native(&mut env, |_env| -> Outcome<()> {
        // SAFETY: the handle came from `proxyRules`, and `ProxyRules` frees it once,
        // after its Java object became unreachable (no call can use it).
        unsafe { free_handle::<ProxyRules>(rules) };
        Ok(())
    })
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
    native(&mut env, |env| -> Outcome<JObject<'local>> {
        let resolver = resolver(handle)?;
        // SAFETY: non-zero rule handles come only from `proxyRules`, and the caller's
        // `owner` argument keeps the Java object that frees it alive during this call.
        let rules = unsafe { handle_ref::<ProxyRules>(rules) }?;
        let (proxy, user, host) = parties(env, &proxy, &user, &host)?;
        let decision = resolver.authorize_with_rules(rules, &proxy, &user, &host)?;
        new_decision(env, &decision)
    })
}
