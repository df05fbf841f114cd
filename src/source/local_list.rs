//! Listing the local registry (NSS), which lookups never need: every user, and the
//! members of a group. For operator commands (`proxid doctor`, `proxid homes`); never
//! called from code loaded into other processes.
//!
//! glibc's enumeration (`getpwent`) keeps its position in process-wide state, so
//! listings are serialised by one lock.

use std::ffi::{CStr, CString};
use std::sync::Mutex;

use crate::error::{Error, Result};

static ENUMERATION: Mutex<()> = Mutex::new(());

/// One `passwd` entry as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalUser {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
}

/// Every user `getpwent` lists (local files and any other NSS source that enumerates),
/// in order, each name once. Names that are not UTF-8 are left out.
pub fn users() -> Vec<LocalUser> {
    let _one = ENUMERATION.lock().unwrap_or_else(|p| p.into_inner());
    let mut out: Vec<LocalUser> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    // SAFETY: setpwent/getpwent/endpwent are used under ENUMERATION; each entry is
    // copied out before the next call overwrites it.
    unsafe {
        libc::setpwent();
        loop {
            let pw = libc::getpwent();
            if pw.is_null() {
                break;
            }
            let pw = &*pw;
            if pw.pw_name.is_null() {
                continue;
            }
            if let Ok(name) = CStr::from_ptr(pw.pw_name).to_str() {
                if seen.insert(name.to_string()) {
                    out.push(LocalUser {
                        name: name.to_string(),
                        uid: pw.pw_uid,
                        gid: pw.pw_gid,
                    });
                }
            }
        }
        libc::endpwent();
    }
    out
}

/// Users with UID >= 1000 (people, by Debian's and most distributions' convention),
/// without `nobody` (65534, the overflow ID).
pub fn regular_users() -> Vec<LocalUser> {
    users()
        .into_iter()
        .filter(|u| u.uid >= 1000 && u.uid != 65534)
        .collect()
}

/// The members of group `name`: those it lists, then the users whose primary group it
/// is, sorted, each once. `NotFound` for an unknown group.
pub fn group_members(name: &str) -> Result<Vec<String>> {
    let c_name =
        CString::new(name).map_err(|_| Error::invalid_name(name, "contains a NUL byte"))?;
    let (gid, mut members) = {
        let _one = ENUMERATION.lock().unwrap_or_else(|p| p.into_inner());
        // SAFETY: getgrnam under ENUMERATION; the entry is copied before unlocking.
        unsafe {
            let gr = libc::getgrnam(c_name.as_ptr());
            if gr.is_null() {
                return Err(Error::not_found(format!("group {name:?}")));
            }
            let gr = &*gr;
            let mut members = Vec::new();
            let mut p = gr.gr_mem;
            while !p.is_null() && !(*p).is_null() {
                if let Ok(m) = CStr::from_ptr(*p).to_str() {
                    members.push(m.to_string());
                }
                p = p.add(1);
            }
            (gr.gr_gid, members)
        }
    };
    members.extend(users().into_iter().filter(|u| u.gid == gid).map(|u| u.name));
    members.sort();
    members.dedup();
    Ok(members)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_is_listed_and_in_its_group() {
        assert!(users().iter().any(|u| u.name == "root" && u.uid == 0));
        assert!(group_members("root").unwrap().contains(&"root".to_string()));
        assert!(matches!(
            group_members("no-such-group-proxid"),
            Err(Error::NotFound { .. })
        ));
    }
}
