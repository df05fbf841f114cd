//! The glibc-shaped calls that fill caller buffers: proxid_getgrouplist and the
//! getpw*_r pair, with glibc's conventions (errno values, `*result`).

use std::ffi::{c_char, c_int, CStr};
use std::ptr::{self, NonNull};

use super::args::{bytes_arg, Out};
use super::resolver::resolver_arg;
use super::{call, proxid_error, proxid_resolver, proxid_status, Core, Failure};
use crate::error::Error;
use crate::ffi::panic;
use crate::identity::Identity;

// ---------------------------------------------------------------------------
// glibc-shaped calls that fill caller buffers
// ---------------------------------------------------------------------------

/// The user's GIDs, primary first, the way getgrouplist(3) reports them.
///
/// `*ngids` holds the capacity of `gids` on entry (`gids` may be NULL when it is 0)
/// and the number of groups on return. When the groups do not fit, the status is
/// PROXID_BUFFER_TOO_SMALL, `*ngids` holds the count needed and `gids` is untouched.
/// That answer is a size probe, not an error: `*err` is left alone (no error object
/// to free).
#[no_mangle]
pub unsafe extern "C" fn proxid_getgrouplist(
    r: *const proxid_resolver,
    name: *const c_char,
    gids: *mut u32,
    ngids: *mut usize,
    err: *mut *mut proxid_error,
) -> proxid_status {
    // SAFETY: `err` is NULL or writable for one pointer (README conventions).
    let err = unsafe { Out::optional(err) };
    call(err, || {
        // SAFETY: `r` is NULL or a live resolver (README conventions).
        let r = unsafe { resolver_arg(r) }?;
        // SAFETY: `name` is NULL or NUL-terminated (README conventions).
        let name = unsafe { bytes_arg(name, "name") }?;
        let ngids = NonNull::new(ngids).ok_or_else(|| Failure::null("ngids"))?;
        // SAFETY: `ngids` is non-NULL and points at the caller's size_t, readable and
        // writable during the call (this function's contract).
        let capacity = unsafe { ngids.read() };
        if gids.is_null() && capacity > 0 {
            return Err(Failure::null("gids (with *ngids > 0)"));
        }
        let groups = r.resolve_bytes(name)?.groups;
        if groups.len() > capacity {
            // SAFETY: as for the read above.
            unsafe { ngids.write(groups.len()) };
            return Ok(proxid_status::PROXID_BUFFER_TOO_SMALL);
        }
        for (i, group) in groups.iter().enumerate() {
            // SAFETY: `gids` has room for `capacity` u32s (this function's contract)
            // and `i` < groups.len() <= capacity; it is non-NULL when capacity > 0
            // (checked above), and this loop runs only then.
            unsafe { gids.add(i).write(group.gid) };
        }
        // SAFETY: as for the read above.
        unsafe { ngids.write(groups.len()) };
        Ok(proxid_status::PROXID_OK)
    })
}

/// Like getpwnam_r(3), with glibc's return convention: 0 with `*result` pointing at
/// `pwd` when found; 0 with `*result` NULL when not found (an invalid name is not
/// found); ERANGE when `buf` is too small (retry with a larger one); EINVAL for a NULL
/// argument; ETIMEDOUT or EIO when the source could not answer. The strings live in
/// `buf`; `pw_passwd` is "x" and `pw_gecos` is "".
#[no_mangle]
pub unsafe extern "C" fn proxid_getpwnam_r(
    r: *const proxid_resolver,
    name: *const c_char,
    pwd: *mut libc::passwd,
    buf: *mut c_char,
    buflen: usize,
    result: *mut *mut libc::passwd,
) -> c_int {
    let lookup = |r: &Core| {
        if name.is_null() {
            return None;
        }
        // SAFETY: `name` is non-NULL (checked above) and NUL-terminated (README).
        let name = unsafe { CStr::from_ptr(name) };
        Some(r.resolve_bytes(name.to_bytes()))
    };
    // SAFETY: `r` is NULL or a live resolver; `pwd`, `buf` and `result` are NULL or
    // as getpwnam_r(3) requires (README conventions).
    unsafe { getpw_r(r, pwd, buf, buflen, result, lookup) }
}

/// Like getpwuid_r(3); see proxid_getpwnam_r for the return convention.
#[no_mangle]
pub unsafe extern "C" fn proxid_getpwuid_r(
    r: *const proxid_resolver,
    uid: u32,
    pwd: *mut libc::passwd,
    buf: *mut c_char,
    buflen: usize,
    result: *mut *mut libc::passwd,
) -> c_int {
    let lookup = |r: &Core| Some(r.resolve_uid(uid));
    // SAFETY: `r` is NULL or a live resolver; `pwd`, `buf` and `result` are NULL or
    // as getpwuid_r(3) requires (README conventions).
    unsafe { getpw_r(r, pwd, buf, buflen, result, lookup) }
}

/// The skeleton of the getpw*_r pair, behind the panic boundary: `*result` NULL
/// first, EINVAL for a NULL argument (`lookup` answers None for its own), then the
/// lookup's answer packed into the caller's buffer.
///
/// Safety: `r` is NULL or a live resolver; `result` is NULL or writable for one
/// pointer; `pwd` is NULL or writable for one `struct passwd`; `buf` is NULL or
/// writable for `buflen` bytes.
unsafe fn getpw_r(
    r: *const proxid_resolver,
    pwd: *mut libc::passwd,
    buf: *mut c_char,
    buflen: usize,
    result: *mut *mut libc::passwd,
    lookup: impl FnOnce(&Core) -> Option<crate::Result<Identity>>,
) -> c_int {
    panic::or_fallback(|| {
        // SAFETY: `result` is NULL or writable for one pointer (this function's contract).
        let Some(result) = (unsafe { Out::optional(result) }) else {
            return libc::EINVAL;
        };
        result.write(ptr::null_mut());
        // SAFETY: `r` is NULL or a live resolver (this function's contract).
        let Ok(r) = (unsafe { resolver_arg(r) }) else {
            return libc::EINVAL;
        };
        if pwd.is_null() || (buf.is_null() && buflen > 0) {
            return libc::EINVAL;
        }
        match lookup(r) {
            None => libc::EINVAL,
            // SAFETY: `pwd` and `buf` are non-NULL (checked above; `buf` may be NULL
            // only when `buflen` is 0) and writable (this function's contract).
            Some(Ok(identity)) => unsafe { fill_passwd(&identity, pwd, buf, buflen, result) },
            Some(Err(e)) => errno_of(&e),
        }
    })
}

/// The getpw*_r return value for an error, as glibc's own: "not found" is 0 with a
/// NULL result. One exhaustive match, so a new variant must choose.
fn errno_of(e: &Error) -> c_int {
    match e {
        Error::NotFound { .. } | Error::InvalidName { .. } => 0,
        Error::Timeout { .. } => libc::ETIMEDOUT,
        Error::Unavailable { .. }
        | Error::Directory { .. }
        | Error::Config { .. }
        | Error::ModeMismatch { .. }
        | Error::IdentityMismatch { .. }
        | Error::InvalidArgument(_)
        | Error::Io { .. } => libc::EIO,
    }
}

/// Packs the identity's strings into `buf` and points `pwd`'s fields at them.
///
/// Safety: `pwd` is writable for one `struct passwd`, `buf` for `buflen` bytes.
unsafe fn fill_passwd(
    identity: &Identity,
    pwd: *mut libc::passwd,
    buf: *mut c_char,
    buflen: usize,
    result: Out<*mut libc::passwd>,
) -> c_int {
    let fields: [&[u8]; 5] = [
        identity.name.as_bytes(),
        b"x",
        b"",
        identity.home.as_bytes(),
        identity.shell.as_bytes(),
    ];
    if fields.iter().any(|f| f.contains(&0)) {
        return libc::EIO;
    }
    let needed: usize = fields.iter().map(|f| f.len() + 1).sum();
    if needed > buflen {
        return libc::ERANGE;
    }
    let mut placed = [ptr::null_mut::<c_char>(); 5];
    let mut at = buf;
    for (field, slot) in fields.iter().zip(placed.iter_mut()) {
        // SAFETY: the fields and their NULs fit in `buflen` bytes (checked above),
        // `at` stays within `buf`, and `buf` is the caller's memory, distinct from ours.
        unsafe {
            ptr::copy_nonoverlapping(field.as_ptr().cast::<c_char>(), at, field.len());
            at.add(field.len()).write(0);
            *slot = at;
            at = at.add(field.len() + 1);
        }
    }
    let [pw_name, pw_passwd, pw_gecos, pw_dir, pw_shell] = placed;
    // SAFETY: `pwd` is writable for one `struct passwd` (this function's contract).
    unsafe {
        pwd.write(libc::passwd {
            pw_name,
            pw_passwd,
            pw_uid: identity.uid,
            pw_gid: identity.gid,
            pw_gecos,
            pw_dir,
            pw_shell,
        })
    };
    result.write(pwd);
    0
}

#[cfg(test)]
mod tests {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;
    use std::ffi::CString;
    use std::ptr;

    use super::super::{proxid_error_free, proxid_resolver_free, proxid_resolver_open};
    use super::*;

    /// Counts this thread's allocations, so a test can see what one call allocates
    /// while other tests run on other threads.
    struct Counting;

    thread_local! {
        static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
    }

    // SAFETY: every call is forwarded unchanged to the system allocator; counting
    // touches only a thread-local `Cell` of a `Copy` type (no allocation, no drop).
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
            // SAFETY: the caller's contract is `GlobalAlloc::alloc`'s, forwarded.
            unsafe { System.alloc(layout) }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: `ptr` came from `System.alloc` above, with this layout.
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    #[global_allocator]
    static COUNTING: Counting = Counting;

    fn allocations_of(f: impl FnOnce()) -> usize {
        let before = ALLOCATIONS.with(Cell::get);
        f();
        ALLOCATIONS.with(Cell::get) - before
    }

    #[test]
    fn a_getgrouplist_size_probe_allocates_no_error_object() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("proxid.conf");
        std::fs::write(&path, "").unwrap();
        let path = CString::new(path.to_str().unwrap()).unwrap();
        let mut r = ptr::null_mut();
        // SAFETY: valid strings and out-parameters (README conventions).
        let opened = unsafe { proxid_resolver_open(path.as_ptr(), &mut r, ptr::null_mut()) };
        assert_eq!(opened, proxid_status::PROXID_OK);
        // SAFETY: `r` is the resolver opened above.
        let core = unsafe { resolver_arg(r) }.map_err(|f| f.message).unwrap();
        let name = c"root";
        let needed = core.resolve_bytes(name.to_bytes()).unwrap().groups.len();
        assert!(needed >= 1);

        // A probe with an error out-parameter: the status and the count, `*err`
        // untouched, and no more allocation than the lookup itself makes.
        let lookup = allocations_of(|| drop(core.resolve_bytes(name.to_bytes())));
        let sentinel = ptr::dangling_mut::<proxid_error>();
        let mut err = sentinel;
        let mut ngids = 0;
        let mut status = proxid_status::PROXID_OK;
        let probe = allocations_of(|| {
            // SAFETY: valid resolver, name and out-parameters; `gids` NULL with 0.
            status = unsafe {
                proxid_getgrouplist(r, name.as_ptr(), ptr::null_mut(), &mut ngids, &mut err)
            };
        });
        assert_eq!(status, proxid_status::PROXID_BUFFER_TOO_SMALL);
        assert_eq!(ngids, needed);
        assert_eq!(err, sentinel, "a size probe wrote *err");
        assert!(
            probe <= lookup,
            "the probe allocated {probe} times, the lookup {lookup}"
        );

        // A real failure still stores an error object.
        let mut err = ptr::null_mut();
        let mut ngids = 1;
        // SAFETY: as above; `gids` NULL with a capacity is the error being tested.
        let status =
            unsafe { proxid_getgrouplist(r, name.as_ptr(), ptr::null_mut(), &mut ngids, &mut err) };
        assert_eq!(status, proxid_status::PROXID_INVALID_ARGUMENT);
        assert!(!err.is_null());
        // SAFETY: the error and the resolver this test got, each freed once.
        unsafe {
            proxid_error_free(err);
            proxid_resolver_free(r);
        }
    }
}
