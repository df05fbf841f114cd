//! Answers out: `org.proxid.Identity` and `org.proxid.Decision` objects, each built
//! in its own local frame.

use ::jni::objects::{JLongArray, JObject, JObjectArray, JString, JValue};
use ::jni::sys::jlong;
use ::jni::{jni_sig, jni_str, Env};

use super::{Failure, Outcome};
use crate::identity::Identity;
use crate::policy::Decision;

/// Local references a conversion may hold at once (the JVM only promises 16).
const FRAME_CAPACITY: usize = 32;

/// A `org.proxid.Identity`, built in its own local frame so only the result survives.
pub(super) fn new_identity<'local>(
    env: &mut Env<'local>,
    id: &Identity,
) -> Outcome<JObject<'local>> {
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
pub(super) fn new_decision<'local>(
    env: &mut Env<'local>,
    d: &Decision,
) -> Outcome<JObject<'local>> {
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
