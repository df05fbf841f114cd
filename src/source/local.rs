//! Client-side resolution: the local OS registry through glibc's re-entrant NSS calls
//! (getpwnam_r, getpwuid_r, getgrnam_r, getgrgid_r, getgrouplist). Whatever NSS is
//! configured to consult (files, sss, ldap) answers, exactly as it does for `id`.

use std::ffi::{CStr, CString};
use std::mem::MaybeUninit;

use crate::error::{Error, Result};
use crate::identity::{ordered_groups, Group, Identity};
use crate::source::Source;

/// Largest buffer handed to a `get*_r` call. A group with tens of thousands of members
/// needs megabytes; past this we report the entry as unavailable rather than grow forever.
const MAX_BUFFER: usize = 64 << 20;
const FIRST_BUFFER: usize = 4096;
/// getgrouplist grows its array up to this many groups (Linux's NGROUPS_MAX is 65536).
const MAX_GROUPS: usize = 1 << 17;

/// The local NSS source. Stateless: every call goes to glibc.
#[derive(Debug, Default, Clone, Copy)]
pub struct LocalSource;

impl LocalSource {
    /// The local source (it holds nothing: each lookup asks glibc).
    pub fn new() -> Self {
        LocalSource
    }
}

/// Runs a `get*_r` call, growing the buffer on ERANGE. `call` returns the function's
/// return code and whether a result was produced; it gets a fresh buffer each time.
///
/// Only `(0, NULL)` is "not found". Any error number is "unavailable": when a module
/// answers UNAVAIL or TRYAGAIN (nslcd or sssd down), glibc returns that module's
/// errno, and the modules use ENOENT for "cannot reach the daemon" (measured with
/// libnss-ldapd and no nslcd: getpwnam_r returns ENOENT). Reading ENOENT as "no such
/// user" would cache an outage as a negative answer.
fn with_growing_buffer<T>(
    what: &str,
    mut call: impl FnMut(&mut [libc::c_char]) -> (libc::c_int, Option<T>),
) -> Result<Option<T>> {
    let mut size = FIRST_BUFFER;
    loop {
        let mut buf = vec![0 as libc::c_char; size];
        let (rc, found) = call(&mut buf);
        match rc {
            0 => return Ok(found),
            libc::ERANGE if size < MAX_BUFFER => size *= 2,
            rc => {
                return Err(Error::Unavailable {
                    source_name: "local".into(),
                    detail: format!("{what}: {}", std::io::Error::from_raw_os_error(rc)),
                })
            }
        }
    }
}

/// Copies a C string out of an NSS record. Names that are not UTF-8 cannot be asked
/// for through our API, so an entry holding one is reported instead of mangled.
fn owned(ptr: *const libc::c_char, field: &str) -> Result<String> {
    if ptr.is_null() {
        return Ok(String::new());
    }
    // SAFETY: NSS fills these fields with NUL-terminated strings inside our buffer,
    // which outlives this call.
    let s = unsafe { CStr::from_ptr(ptr) };
    s.to_str().map(str::to_owned).map_err(|_| Error::Directory {
        detail: format!("{field} {:?} in the local registry is not UTF-8", s),
    })
}

struct Passwd {
    name: String,
    uid: u32,
    gid: u32,
    home: String,
    shell: String,
}

fn passwd_from(pwd: &libc::passwd) -> Result<Passwd> {
    Ok(Passwd {
        name: owned(pwd.pw_name, "user name")?,
        uid: pwd.pw_uid,
        gid: pwd.pw_gid,
        home: owned(pwd.pw_dir, "home directory")?,
        shell: owned(pwd.pw_shell, "shell")?,
    })
}

fn group_from(grp: &libc::group) -> Result<Group> {
    Ok(Group {
        name: owned(grp.gr_name, "group name")?,
        gid: grp.gr_gid,
    })
}

/// The shape of getpwnam_r, getpwuid_r, getgrnam_r and getgrgid_r once the key is
/// bound: (record, buffer, buffer length, result) -> errno, where the record `R` is
/// `libc::passwd` or `libc::group`.
type NssCall<'a, R> = &'a dyn Fn(*mut R, *mut libc::c_char, usize, *mut *mut R) -> libc::c_int;

/// One lookup through `call`, growing the buffer as needed; `read` copies the record
/// out while its strings are still in the buffer.
fn nss_lookup<R, T>(
    what: &str,
    call: NssCall<'_, R>,
    read: fn(&R) -> Result<T>,
) -> Result<Option<T>> {
    with_growing_buffer(what, |buf| {
        let mut record = MaybeUninit::<R>::uninit();
        let mut result: *mut R = std::ptr::null_mut();
        let rc = call(
            record.as_mut_ptr(),
            buf.as_mut_ptr(),
            buf.len(),
            &mut result,
        );
        // SAFETY: a non-null result points at `record`, fully initialised by glibc,
        // whose strings live in `buf` for the length of this closure.
        let found = (rc == 0 && !result.is_null()).then(|| read(unsafe { &*result }));
        (rc, found)
    })?
    .transpose()
}

fn getpwnam(name: &CStr) -> Result<Option<Passwd>> {
    nss_lookup(
        "getpwnam_r",
        // SAFETY: the pointers come from `nss_lookup`, valid for the call, with the
        // buffer's true length; `name` is a C string.
        &|p, b, n, r| unsafe { libc::getpwnam_r(name.as_ptr(), p, b, n, r) },
        passwd_from,
    )
}

fn getpwuid(uid: u32) -> Result<Option<Passwd>> {
    nss_lookup(
        "getpwuid_r",
        // SAFETY: the pointers come from `nss_lookup`, valid for the call, with the
        // buffer's true length.
        &|p, b, n, r| unsafe { libc::getpwuid_r(uid, p, b, n, r) },
        passwd_from,
    )
}

fn getgrnam(name: &CStr) -> Result<Option<Group>> {
    nss_lookup(
        "getgrnam_r",
        // SAFETY: the pointers come from `nss_lookup`, valid for the call, with the
        // buffer's true length; `name` is a C string.
        &|g, b, n, r| unsafe { libc::getgrnam_r(name.as_ptr(), g, b, n, r) },
        group_from,
    )
}

fn getgrgid(gid: u32) -> Result<Option<Group>> {
    nss_lookup(
        "getgrgid_r",
        // SAFETY: the pointers come from `nss_lookup`, valid for the call, with the
        // buffer's true length.
        &|g, b, n, r| unsafe { libc::getgrgid_r(gid, g, b, n, r) },
        group_from,
    )
}

/// A group name no registry holds, asked for to learn whether every group source
/// answers (see [`getgrouplist`]).
const PROBE_GROUP: &CStr = c"proxid-health-probe.invalid";

/// Every GID the user is in, as glibc's getgrouplist reports it (primary first).
///
/// getgrouplist cannot report errors: a group source that is down (nslcd stopped)
/// silently contributes no groups, and the user would lose a protected group's
/// protection. glibc does hand each module `&errno`, so a module that answered UNAVAIL
/// leaves its errno set (measured: ENOENT from libnss-ldapd without nslcd, glibc
/// 2.36). When errno is set, the group database is probed with a name no source holds,
/// which every configured source must answer: if that fails too, the groups are
/// `Unavailable`, never a shorter list. An `initgroups: files` line in nsswitch.conf
/// says memberships come from files only; then a directory outage costs nothing here.
fn getgrouplist(name: &CStr, primary: u32) -> Result<Vec<u32>> {
    let (gids, errno) = getgrouplist_raw(name, primary)?;
    if errno != 0 {
        getgrnam(PROBE_GROUP).map_err(|e| match e {
            Error::Unavailable { detail, .. } => Error::Unavailable {
                source_name: "local".into(),
                detail: format!(
                    "a group source does not answer, so the groups of {name:?} are unknown \
                     ({detail})"
                ),
            },
            e => e,
        })?;
    }
    Ok(gids)
}

/// getgrouplist's GIDs, and the errno its last call left.
fn getgrouplist_raw(name: &CStr, primary: u32) -> Result<(Vec<u32>, i32)> {
    let mut capacity: usize = 64;
    loop {
        let mut gids = vec![0 as libc::gid_t; capacity];
        let mut count = capacity as libc::c_int;
        // SAFETY: errno is this thread's; clearing it is always allowed.
        unsafe { *libc::__errno_location() = 0 };
        // SAFETY: gids holds `count` elements; glibc writes at most that many and
        // stores the real total in `count`.
        let rc =
            unsafe { libc::getgrouplist(name.as_ptr(), primary, gids.as_mut_ptr(), &mut count) };
        let errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
        let count = usize::try_from(count).unwrap_or(0);
        if rc >= 0 {
            gids.truncate(count);
            return Ok((gids, errno));
        }
        if capacity >= MAX_GROUPS {
            return Err(Error::Unavailable {
                source_name: "local".into(),
                detail: format!("getgrouplist: more than {MAX_GROUPS} groups"),
            });
        }
        // glibc reports the needed size in `count`; older libcs leave it alone.
        capacity = count.max(capacity * 2).min(MAX_GROUPS);
    }
}

/// A group for a GID, named from the group database or, lacking an entry, by number.
/// A group database that fails to answer is `Unavailable`, not a number.
fn group_for_gid(gid: u32) -> Result<Group> {
    Ok(getgrgid(gid)?.unwrap_or_else(|| Group {
        name: gid.to_string(),
        gid,
    }))
}

fn c_name(name: &str) -> Result<CString> {
    CString::new(name).map_err(|_| Error::invalid_name(name, "contains a NUL byte"))
}

impl LocalSource {
    fn identity(&self, pw: Passwd) -> Result<Identity> {
        let cname = c_name(&pw.name)?;
        let primary = group_for_gid(pw.gid)?;
        let others = getgrouplist(&cname, pw.gid)?
            .into_iter()
            .filter(|&gid| gid != pw.gid)
            .map(group_for_gid)
            .collect::<Result<Vec<_>>>()?;
        Ok(Identity {
            name: pw.name,
            uid: pw.uid,
            gid: pw.gid,
            groups: ordered_groups(primary, others),
            home: pw.home,
            shell: pw.shell,
            source: self.kind().into(),
            hidden_gids: Vec::new(),
        })
    }
}

impl Source for LocalSource {
    fn kind(&self) -> &'static str {
        "local"
    }

    fn user_by_name(&self, name: &str) -> Result<Option<Identity>> {
        getpwnam(&c_name(name)?)?
            .map(|pw| self.identity(pw))
            .transpose()
    }

    fn user_by_uid(&self, uid: u32) -> Result<Option<Identity>> {
        getpwuid(uid)?.map(|pw| self.identity(pw)).transpose()
    }

    fn group_by_name(&self, name: &str) -> Result<Option<Group>> {
        getgrnam(&c_name(name)?)
    }

    fn group_by_gid(&self, gid: u32) -> Result<Option<Group>> {
        getgrgid(gid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_resolves_with_gid_zero_first() {
        let root = LocalSource.user_by_name("root").unwrap().unwrap();
        assert_eq!((root.uid, root.gid, root.groups[0].gid), (0, 0, 0));
        assert_eq!(LocalSource.user_by_uid(0).unwrap().unwrap().name, "root");
    }

    #[test]
    fn unknown_names_are_not_found() {
        for name in ["no-such-user-proxid", "*", "a)(b", &"x".repeat(200)] {
            assert!(LocalSource.user_by_name(name).unwrap().is_none(), "{name}");
        }
    }

    #[test]
    fn groups_by_name_and_gid_agree() {
        let root = LocalSource.group_by_gid(0).unwrap().unwrap();
        assert_eq!(LocalSource.group_by_name(&root.name).unwrap(), Some(root));
    }
}
