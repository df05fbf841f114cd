//! The identity object and its getters. Strings are borrowed from the identity and
//! live until it is freed.

use std::ffi::{c_char, CString};

use super::args::{c_data, free, get, lend};
use super::{Failure, PROXID_NO_ID};
use crate::identity::Identity;

/// A resolved user: name, UID, primary GID, groups (primary first), home, shell.
pub struct proxid_identity {
    identity: Identity,
    name: CString,
    home: CString,
    shell: CString,
    source: CString,
    group_names: Vec<CString>,
}

impl proxid_identity {
    pub(super) fn new(identity: Identity) -> Result<proxid_identity, Failure> {
        Ok(proxid_identity {
            name: c_data(identity.name.as_bytes(), "user name")?,
            home: c_data(identity.home.as_bytes(), "home directory")?,
            shell: c_data(identity.shell.as_bytes(), "shell")?,
            source: c_data(identity.source.as_bytes(), "source")?,
            group_names: identity
                .groups
                .iter()
                .map(|g| c_data(g.name.as_bytes(), "group name"))
                .collect::<Result<_, _>>()?,
            identity,
        })
    }
}

// ---------------------------------------------------------------------------
// Identity getters: strings are borrowed from the identity and live until it is freed.
// ---------------------------------------------------------------------------

/// The user name; NULL for a NULL identity.
#[no_mangle]
pub unsafe extern "C" fn proxid_identity_name(id: *const proxid_identity) -> *const c_char {
    // SAFETY: `id` is NULL or a live identity (README conventions).
    lend(unsafe { id.as_ref() }, |i| Some(&i.name))
}

/// The UID; PROXID_NO_ID for a NULL identity.
#[no_mangle]
pub unsafe extern "C" fn proxid_identity_uid(id: *const proxid_identity) -> u32 {
    // SAFETY: `id` is NULL or a live identity (README conventions).
    get(unsafe { id.as_ref() }, PROXID_NO_ID, |i| i.identity.uid)
}

/// The primary GID; PROXID_NO_ID for a NULL identity.
#[no_mangle]
pub unsafe extern "C" fn proxid_identity_gid(id: *const proxid_identity) -> u32 {
    // SAFETY: `id` is NULL or a live identity (README conventions).
    get(unsafe { id.as_ref() }, PROXID_NO_ID, |i| i.identity.gid)
}

/// How many groups the user is in, the primary group first; 0 for a NULL identity.
#[no_mangle]
pub unsafe extern "C" fn proxid_identity_group_count(id: *const proxid_identity) -> usize {
    // SAFETY: `id` is NULL or a live identity (README conventions).
    get(unsafe { id.as_ref() }, 0, |i| i.identity.groups.len())
}

/// The GID of group `i` (0 is the primary group); PROXID_NO_ID when out of range.
#[no_mangle]
pub unsafe extern "C" fn proxid_identity_group_gid(id: *const proxid_identity, i: usize) -> u32 {
    // SAFETY: `id` is NULL or a live identity (README conventions).
    get(unsafe { id.as_ref() }, PROXID_NO_ID, |id| {
        id.identity.groups.get(i).map_or(PROXID_NO_ID, |g| g.gid)
    })
}

/// The name of group `i`, or its GID in decimal when the group has no entry; NULL
/// when out of range.
#[no_mangle]
pub unsafe extern "C" fn proxid_identity_group_name(
    id: *const proxid_identity,
    i: usize,
) -> *const c_char {
    // SAFETY: `id` is NULL or a live identity (README conventions).
    lend(unsafe { id.as_ref() }, |id| id.group_names.get(i))
}

/// The home directory; NULL for a NULL identity.
#[no_mangle]
pub unsafe extern "C" fn proxid_identity_home(id: *const proxid_identity) -> *const c_char {
    // SAFETY: `id` is NULL or a live identity (README conventions).
    lend(unsafe { id.as_ref() }, |i| Some(&i.home))
}

/// The login shell; NULL for a NULL identity.
#[no_mangle]
pub unsafe extern "C" fn proxid_identity_shell(id: *const proxid_identity) -> *const c_char {
    // SAFETY: `id` is NULL or a live identity (README conventions).
    lend(unsafe { id.as_ref() }, |i| Some(&i.shell))
}

/// Which source answered: "local" or "ldap"; NULL for a NULL identity.
#[no_mangle]
pub unsafe extern "C" fn proxid_identity_source(id: *const proxid_identity) -> *const c_char {
    // SAFETY: `id` is NULL or a live identity (README conventions).
    lend(unsafe { id.as_ref() }, |i| Some(&i.source))
}

/// Frees an identity. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn proxid_identity_free(id: *mut proxid_identity) {
    // SAFETY: `id` is NULL or an identity this library returned, freed once, when no
    // thread reads it any more (README conventions).
    unsafe { free(id) }
}
