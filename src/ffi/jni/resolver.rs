//! The resolver's native methods: open and free the handle, resolve, short names,
//! invalidate, reload, version.

use std::path::Path;

use ::jni::objects::{JClass, JObject, JString};
use ::jni::sys::jlong;
use ::jni::EnvUnowned;

use super::objects::new_identity;
use super::strings::{name, optional_text, text};
use super::{free_handle, id_arg, into_handle, native, resolver, Core, Outcome};

/// `static native long open(String configPathOrNull)`: loads the configuration
/// (null: `PROXID_CONF`, else `/etc/proxid.conf`, else defaults) and returns a handle
/// the caller must give back to `free` exactly once.
#[no_mangle]
pub extern "system" fn Java_org_proxid_Native_open<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    config_path: JString<'local>,
) -> jlong {
    native(&mut env, |env| -> Outcome<jlong> {
        let path = optional_text(env, &config_path)?;
        let resolver = Core::open(path.as_deref().map(Path::new))?;
        Ok(into_handle(resolver))
    })
}

/// `static native void free(long handle)`: drops the resolver. 0 is a no-op.
#[no_mangle]
pub extern "system" fn Java_org_proxid_Native_free<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
) {
    native(&mut env, |_env| -> Outcome<()> {
        // SAFETY: the handle came from `open` and `Proxid.close` frees it once,
        // under its write lock (no call is running, none can start).
        unsafe { free_handle::<Core>(handle) };
        Ok(())
    })
}

/// `static native Identity resolve(long handle, String name)`.
#[no_mangle]
pub extern "system" fn Java_org_proxid_Native_resolve<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    user: JString<'local>,
) -> JObject<'local> {
    native(&mut env, |env| -> Outcome<JObject<'local>> {
        let resolver = resolver(handle)?;
        let user = name(env, &user, "name")?;
        let id = resolver.resolve(&user)?;
        new_identity(env, &id)
    })
}

/// `static native Identity resolveUid(long handle, long uid)`; uid in 0..=2^32-1.
#[no_mangle]
pub extern "system" fn Java_org_proxid_Native_resolveUid<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    uid: jlong,
) -> JObject<'local> {
    native(&mut env, |env| -> Outcome<JObject<'local>> {
        let resolver = resolver(handle)?;
        let uid = id_arg(uid, &"uid")?;
        let id = resolver.resolve_uid(uid)?;
        new_identity(env, &id)
    })
}

/// `static native String shortName(long handle, String principal)`.
#[no_mangle]
pub extern "system" fn Java_org_proxid_Native_shortName<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    principal: JString<'local>,
) -> JObject<'local> {
    native(&mut env, |env| -> Outcome<JObject<'local>> {
        let resolver = resolver(handle)?;
        let principal = text(env, &principal, "principal")?;
        let short = resolver.short_name(&principal)?;
        Ok(env.new_string(short)?.into())
    })
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
    native(&mut env, |env| -> Outcome<()> {
        let resolver = resolver(handle)?;
        let user = optional_text(env, &user)?;
        resolver.invalidate(user.as_deref());
        Ok(())
    })
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
    native(&mut env, |env| -> Outcome<()> {
        let resolver = resolver(handle)?;
        let path = optional_text(env, &config_path)?;
        resolver.reload(path.as_deref().map(Path::new))?;
        Ok(())
    })
}

/// `static native String version()`: the crate version the library was built from.
#[no_mangle]
pub extern "system" fn Java_org_proxid_Native_version<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
) -> JObject<'local> {
    native(&mut env, |env| -> Outcome<JObject<'local>> {
        Ok(env.new_string(env!("CARGO_PKG_VERSION"))?.into())
    })
}
