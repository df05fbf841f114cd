//! `mkhomedir`: the user's home directory, created owner-only (0700, owner and primary
//! group from the directory), walking the path with `openat(O_NOFOLLOW)` so no
//! symbolic link is ever followed. Missing parents are created root-owned 0755. An
//! existing home is left alone when it is a directory owned by the user and not
//! writable by others; anything else is refused with the reason.

use std::ffi::CString;

use libc::{c_int, gid_t, mode_t, uid_t};

/// Closes a descriptor when dropped.
struct Dir(c_int);

impl Drop for Dir {
    fn drop(&mut self) {
        // SAFETY: we own the descriptor.
        unsafe { libc::close(self.0) };
    }
}

fn errno_text(what: &str) -> String {
    format!("{what}: {}", std::io::Error::last_os_error())
}

fn open_dir(parent: &Dir, name: &CString) -> Result<Dir, c_int> {
    // SAFETY: valid directory descriptor and NUL-terminated name.
    let fd = unsafe {
        libc::openat(
            parent.0,
            name.as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        Err(std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EIO))
    } else {
        Ok(Dir(fd))
    }
}

/// Creates `home` for `uid`/`gid` if it does not exist. `Ok(true)` when created.
pub fn ensure(home: &[u8], uid: uid_t, gid: gid_t) -> Result<bool, String> {
    let shown = String::from_utf8_lossy(home).into_owned();
    if home.first() != Some(&b'/') {
        return Err(format!("home directory {shown:?} is not an absolute path"));
    }
    let parts: Vec<&[u8]> = home
        .split(|b| *b == b'/')
        .filter(|p| !p.is_empty())
        .collect();
    if parts.is_empty() || parts.iter().any(|p| *p == b"." || *p == b"..") {
        return Err(format!("home directory {shown:?} is not a plain path"));
    }
    if uid == 0 {
        return Err("refusing to make a home directory for UID 0".into());
    }
    let names: Vec<CString> = parts
        .iter()
        .map(|p| CString::new(*p).map_err(|_| format!("home directory {shown:?} holds NUL")))
        .collect::<Result<_, _>>()?;
    // SAFETY: opening "/" as a directory.
    let root = unsafe {
        libc::open(
            c"/".as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    if root < 0 {
        return Err(errno_text("open /"));
    }
    let mut dir = Dir(root);
    let (last, parents) = names.split_last().ok_or("empty home path")?;
    for name in parents {
        dir = match open_dir(&dir, name) {
            Ok(d) => d,
            Err(libc::ENOENT) => {
                // SAFETY: valid descriptor and name.
                let rc = unsafe { libc::mkdirat(dir.0, name.as_ptr(), 0o755 as mode_t) };
                if rc != 0 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EEXIST) {
                    return Err(errno_text(&format!("creating a parent of {shown}")));
                }
                open_dir(&dir, name).map_err(|e| {
                    format!(
                        "opening a parent of {shown}: {}",
                        std::io::Error::from_raw_os_error(e)
                    )
                })?
            }
            Err(libc::ELOOP | libc::ENOTDIR) => {
                return Err(format!(
                    "a parent of {shown} is a symbolic link or not a directory; not following it"
                ))
            }
            Err(e) => {
                return Err(format!(
                    "opening a parent of {shown}: {}",
                    std::io::Error::from_raw_os_error(e)
                ))
            }
        };
    }
    // SAFETY: valid descriptor and name. 0700 from the start: never more open than that.
    let created = unsafe { libc::mkdirat(dir.0, last.as_ptr(), 0o700 as mode_t) } == 0;
    if !created && std::io::Error::last_os_error().raw_os_error() != Some(libc::EEXIST) {
        return Err(errno_text(&format!("creating {shown}")));
    }
    let home_dir = open_dir(&dir, last).map_err(|e| match e {
        libc::ELOOP | libc::ENOTDIR => {
            format!("{shown} exists and is a symbolic link or not a directory; refusing it")
        }
        e => format!("opening {shown}: {}", std::io::Error::from_raw_os_error(e)),
    })?;
    if created {
        // SAFETY: valid descriptor.
        if unsafe { libc::fchown(home_dir.0, uid, gid) } != 0 {
            return Err(errno_text(&format!("chown {shown}")));
        }
        // SAFETY: valid descriptor. Again after chown, which may clear mode bits.
        if unsafe { libc::fchmod(home_dir.0, 0o700) } != 0 {
            return Err(errno_text(&format!("chmod {shown}")));
        }
        return Ok(true);
    }
    // SAFETY: stat is plain data: all zeroes is a valid value.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: valid descriptor; `st` is a live, writable struct stat.
    if unsafe { libc::fstat(home_dir.0, &mut st) } != 0 {
        return Err(errno_text(&format!("stat {shown}")));
    }
    if st.st_uid != uid {
        return Err(format!(
            "{shown} exists but belongs to UID {}, not {uid}; refusing it",
            st.st_uid
        ));
    }
    if st.st_mode & 0o002 != 0 {
        return Err(format!(
            "{shown} exists and is writable by everyone (mode {:04o}); refusing it",
            st.st_mode & 0o7777
        ));
    }
    Ok(false)
}
