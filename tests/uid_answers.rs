//! Issue 11 point 6: an answer by UID is the source's answer by UID, never one filled
//! in from an earlier lookup by name. Against glibc (two users on one UID, in a private
//! mount namespace) and against slapd (two entries on one UID; one entry with two
//! names).

mod support;

use std::ffi::CString;

use proxid::{Config, Error, Resolver};
use support::{rfc2307, ConfFile};

fn broken_resolver() -> (ConfFile, Resolver) {
    let conf = ConfFile::new(
        &[&rfc2307().ldap_uri],
        "user_base = \"ou=broken,dc=example,dc=org\"\ngroup_base = \"ou=broken,dc=example,dc=org\"\n\
         [ldap.map]\nuser_filter = \"(objectClass=inetOrgPerson)\"\n",
    );
    let r = Resolver::new(conf.config()).unwrap();
    (conf, r)
}

fn is_directory_error(r: &Resolver, uid: u32) -> bool {
    matches!(r.resolve_uid(uid), Err(Error::Directory { .. }))
}

#[test]
fn sec_11_6_ldap_uid_answers_do_not_depend_on_names_resolved_before() {
    // One entry, two `uid` values: by UID, which name? An error, cold and warm.
    for first in ["twonames", "twonames-alias"] {
        let (_conf, r) = broken_resolver();
        assert!(is_directory_error(&r, 20031), "cold");
        let (_conf, r) = broken_resolver();
        assert_eq!(r.resolve(first).unwrap().uid, 20031);
        assert!(is_directory_error(&r, 20031), "after resolving {first}");
        assert!(is_directory_error(&r, 20031), "asked twice");
    }
    // Two entries on one UID: each name resolves, the UID stays ambiguous.
    let (_conf, r) = broken_resolver();
    assert_eq!(r.resolve("sameuid1").unwrap().uid, 20003);
    assert!(is_directory_error(&r, 20003));
    assert_eq!(r.resolve("sameuid2").unwrap().uid, 20003);
    assert!(is_directory_error(&r, 20003));
}

/// glibc's answer by UID, in the current mount namespace.
fn glibc_name_of(uid: u32) -> Option<String> {
    // SAFETY: single-threaded child; the static result is read at once.
    let pw = unsafe { libc::getpwuid(uid) };
    if pw.is_null() {
        return None;
    }
    // SAFETY: non-null getpwuid result with a NUL-terminated name.
    let name = unsafe { std::ffi::CStr::from_ptr((*pw).pw_name) };
    Some(name.to_string_lossy().into_owned())
}

/// In a forked child with its own mount namespace, `passwd` and `group` bound over
/// /etc's, runs `check`; Ok(()) when it returned 0, Err(its code) otherwise.
fn in_private_namespace(
    passwd: &std::path::Path,
    group: &std::path::Path,
    check: impl FnOnce() -> i32,
) -> Result<(), i32> {
    let bind = |from: &std::path::Path, to: &str| -> bool {
        let from = CString::new(from.as_os_str().as_encoded_bytes()).unwrap();
        let to = CString::new(to).unwrap();
        // SAFETY: valid C strings; a bind mount inside our private namespace.
        unsafe {
            libc::mount(
                from.as_ptr(),
                to.as_ptr(),
                std::ptr::null(),
                libc::MS_BIND,
                std::ptr::null(),
            ) == 0
        }
    };
    // SAFETY: the child only sets up mounts, runs `check` and leaves with _exit.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0);
    if pid == 0 {
        // SAFETY: plain syscalls in the single-threaded child.
        let private = unsafe {
            libc::alarm(20);
            libc::unshare(libc::CLONE_NEWNS) == 0
                && libc::mount(
                    c"none".as_ptr(),
                    c"/".as_ptr(),
                    std::ptr::null(),
                    libc::MS_REC | libc::MS_PRIVATE,
                    std::ptr::null(),
                ) == 0
        };
        let code = if !private || !bind(passwd, "/etc/passwd") || !bind(group, "/etc/group") {
            100
        } else {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(check)).unwrap_or(101)
        };
        // SAFETY: leaves without the parent's destructors.
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    // SAFETY: our child.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 {
        Ok(())
    } else {
        Err(status)
    }
}

#[test]
fn sec_11_6_local_uid_answers_are_glibcs_whatever_was_asked_before() {
    // SAFETY: plain syscall.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("SKIPPED: needs root for a private mount namespace (CI runs as root)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    let mut group = std::fs::read_to_string("/etc/group").unwrap();
    passwd += "pxhdfs:x:47105:47105::/home/pxhdfs:/bin/sh\n";
    passwd += "pxhdfsalias:x:47105:47105::/home/pxhdfs:/bin/sh\n";
    group += "pxhdfs:x:47105:\n";
    let (p, g) = (dir.path().join("passwd"), dir.path().join("group"));
    std::fs::write(&p, passwd).unwrap();
    std::fs::write(&g, group).unwrap();
    let new = || {
        Resolver::new(Config::from_toml("", std::path::Path::new("/test/proxid.conf")).unwrap())
            .unwrap()
    };
    let result = in_private_namespace(&p, &g, || {
        if glibc_name_of(47105).as_deref() != Some("pxhdfs") {
            return 2; // the namespace is not what this test set up
        }
        let cold = new();
        if cold.resolve_uid(47105).map(|i| i.name).ok().as_deref() != Some("pxhdfs") {
            return 3;
        }
        let warm = new();
        if warm.resolve("pxhdfsalias").map(|i| i.name).ok().as_deref() != Some("pxhdfsalias") {
            return 4;
        }
        // glibc says pxhdfs by UID, whatever was asked by name before.
        if warm.resolve_uid(47105).map(|i| i.name).ok().as_deref() != Some("pxhdfs") {
            return 5;
        }
        if warm.resolve("pxhdfsalias").map(|i| i.name).ok().as_deref() != Some("pxhdfsalias") {
            return 6;
        }
        0
    });
    assert_eq!(result, Ok(()), "child status (exit code << 8)");
}
