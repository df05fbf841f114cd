//! Packing entries into the caller's buffer, as glibc's `struct passwd` / `struct group`.

use libc::{c_char, gid_t, group, passwd, size_t, uid_t};
use proxid_proto::{GroupEntry, Passwd};

use crate::{Outcome, FOUND, NOT_FOUND, TOO_SMALL, UNAVAIL};

/// Carves strings and pointer arrays out of the caller's buffer.
pub(crate) struct Arena {
    ptr: *mut c_char,
    len: usize,
    used: usize,
}

impl Arena {
    pub(crate) fn new(ptr: *mut c_char, len: size_t) -> Arena {
        Arena {
            ptr,
            len: if ptr.is_null() { 0 } else { len },
            used: 0,
        }
    }

    /// A NUL-terminated copy of `s`; `None` when it does not fit.
    pub(crate) fn string(&mut self, s: &str) -> Option<*mut c_char> {
        let need = s.len() + 1;
        if self.len - self.used < need {
            return None;
        }
        // SAFETY: `used + need <= len`, inside the caller's buffer.
        unsafe {
            let dst = self.ptr.add(self.used);
            std::ptr::copy_nonoverlapping(s.as_ptr().cast::<c_char>(), dst, s.len());
            *dst.add(s.len()) = 0;
            self.used += need;
            Some(dst)
        }
    }

    /// Room for `n` pointers, aligned; `None` when it does not fit.
    pub(crate) fn pointers(&mut self, n: usize) -> Option<*mut *mut c_char> {
        let align = std::mem::align_of::<*mut c_char>();
        let start = (self.ptr as usize).checked_add(self.used)?;
        let pad = (align - start % align) % align;
        let bytes = n.checked_mul(std::mem::size_of::<*mut c_char>())?;
        let need = pad.checked_add(bytes)?;
        if self.len - self.used < need {
            return None;
        }
        // SAFETY: in bounds and aligned, as computed above.
        let p = unsafe { self.ptr.add(self.used + pad) }.cast::<*mut c_char>();
        self.used += need;
        Some(p)
    }
}

/// A field with a NUL would be cut short in C: such an entry is not served.
fn clean(fields: &[&str]) -> bool {
    fields.iter().all(|f| !f.contains('\0'))
}

/// # Safety
/// `out` points at a `struct passwd`, `buf` at `buflen` bytes.
pub(crate) unsafe fn fill_passwd(
    p: &Passwd,
    out: *mut passwd,
    buf: *mut c_char,
    buflen: size_t,
) -> Outcome {
    if out.is_null() {
        return Outcome(UNAVAIL, libc::EINVAL);
    }
    if !clean(&[&p.name, &p.passwd, &p.gecos, &p.dir, &p.shell]) {
        return NOT_FOUND;
    }
    let mut arena = Arena::new(buf, buflen);
    let (Some(name), Some(pw), Some(gecos), Some(dir), Some(shell)) = (
        arena.string(&p.name),
        arena.string(&p.passwd),
        arena.string(&p.gecos),
        arena.string(&p.dir),
        arena.string(&p.shell),
    ) else {
        return TOO_SMALL;
    };
    // SAFETY: not NULL (checked); the caller's struct, ours to fill for this call.
    let out = unsafe { &mut *out };
    out.pw_name = name;
    out.pw_passwd = pw;
    out.pw_uid = p.uid as uid_t;
    out.pw_gid = p.gid as gid_t;
    out.pw_gecos = gecos;
    out.pw_dir = dir;
    out.pw_shell = shell;
    FOUND
}

/// # Safety
/// `out` points at a `struct group`, `buf` at `buflen` bytes.
pub(crate) unsafe fn fill_group(
    g: &GroupEntry,
    out: *mut group,
    buf: *mut c_char,
    buflen: size_t,
) -> Outcome {
    // SAFETY: our caller's promise about `out`, `buf` and `buflen` is the one it needs.
    unsafe { fill_group_parts(&g.name, &g.passwd, g.gid, &g.members, out, buf, buflen) }
}

/// # Safety
/// As [`fill_group`].
pub(crate) unsafe fn fill_group_parts<M: AsRef<str>>(
    name: &str,
    passwd: &str,
    gid: u32,
    members: &[M],
    out: *mut group,
    buf: *mut c_char,
    buflen: size_t,
) -> Outcome {
    if out.is_null() {
        return Outcome(UNAVAIL, libc::EINVAL);
    }
    if !clean(&[name, passwd]) || members.iter().any(|m| m.as_ref().contains('\0')) {
        return NOT_FOUND;
    }
    let mut arena = Arena::new(buf, buflen);
    let Some(array) = arena.pointers(members.len() + 1) else {
        return TOO_SMALL;
    };
    let (Some(name), Some(pw)) = (arena.string(name), arena.string(passwd)) else {
        return TOO_SMALL;
    };
    for (i, member) in members.iter().enumerate() {
        let Some(m) = arena.string(member.as_ref()) else {
            return TOO_SMALL;
        };
        // SAFETY: `array` has room for members.len() + 1 aligned pointers; i < members.len().
        unsafe { array.add(i).write(m) };
    }
    // SAFETY: the last of the members.len() + 1 slots of `array`.
    unsafe { array.add(members.len()).write(std::ptr::null_mut()) };
    // SAFETY: not NULL (checked); the caller's struct, ours to fill for this call.
    let out = unsafe { &mut *out };
    out.gr_name = name;
    out.gr_passwd = pw;
    out.gr_gid = gid as gid_t;
    out.gr_mem = array;
    FOUND
}
