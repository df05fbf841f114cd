//! The files and variables proxid trusts: the permission rules for files that
//! hold a secret or carry policy, and `secure_getenv` for the variables a setuid
//! caller must not control.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::{Secret, DEFAULT_PATH, ENV_VAR};
use crate::error::{Error, Result};

/// An environment variable as glibc's `secure_getenv` reads it: `None` in a
/// process running with AT_SECURE (setuid, setgid, file capabilities), whose
/// environment belongs to the less privileged user who started it. Every variable
/// that can change a policy or a file proxid trusts is read through this.
pub fn secure_env(name: &str) -> Option<std::ffi::OsString> {
    use std::os::unix::ffi::OsStrExt;
    extern "C" {
        // glibc 2.17 and later; the libc crate does not declare it.
        fn secure_getenv(name: *const libc::c_char) -> *mut libc::c_char;
    }
    let key = std::ffi::CString::new(name).ok()?;
    // SAFETY: `key` is a NUL-terminated string; the returned pointer, when not
    // NULL, points into the environment and is copied at once.
    let value = unsafe { secure_getenv(key.as_ptr()) };
    if value.is_null() {
        return None;
    }
    // SAFETY: non-NULL results of secure_getenv are NUL-terminated strings.
    let bytes = unsafe { std::ffi::CStr::from_ptr(value) }.to_bytes();
    Some(std::ffi::OsStr::from_bytes(bytes).to_os_string())
}

/// Where the configuration comes from: an explicit path, `PROXID_CONF` (ignored in
/// a setuid/setgid process, see [`secure_env`]), or the default.
pub fn config_path(explicit: Option<&Path>) -> (PathBuf, bool) {
    if let Some(path) = explicit {
        return (path.to_path_buf(), true);
    }
    match secure_env(ENV_VAR) {
        Some(p) if !p.is_empty() => (PathBuf::from(p), true),
        _ => (PathBuf::from(DEFAULT_PATH), false),
    }
}

/// Why a policy-bearing file could not be used.
#[derive(Debug)]
pub(crate) enum PolicyFileError {
    /// It could not be opened or read.
    Io(std::io::Error),
    /// Its permissions let someone else change the policy: what and how to fix it.
    Unsafe(String),
}

/// Reads a file that carries policy (the configuration, a core-site.xml): opened
/// once, checked with `fstat` on that descriptor (see [`check_policy_owner_mode`]),
/// then read, so a swapped file cannot slip between check and read.
pub(crate) fn read_policy_file(
    path: &Path,
    what: &str,
) -> std::result::Result<Vec<u8>, PolicyFileError> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).map_err(PolicyFileError::Io)?;
    let meta = file.metadata().map_err(PolicyFileError::Io)?;
    check_policy_owner_mode(path, &meta, what).map_err(PolicyFileError::Unsafe)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(PolicyFileError::Io)?;
    Ok(bytes)
}

/// As SSSD refuses its sssd.conf: a file (or directory) that decides who may act as
/// whom must not be writable by group or others, nor owned by a user other than root
/// and the one running proxid (either could rewrite the policy). The message says
/// why and how to fix it.
pub(crate) fn check_policy_owner_mode(
    path: &Path,
    meta: &std::fs::Metadata,
    what: &str,
) -> std::result::Result<(), String> {
    let mode = meta.mode() & 0o7777;
    // A sticky directory (/tmp) still lets anyone create a name in it.
    if mode & 0o022 != 0 {
        return Err(format!(
            "{what} is writable by group or others (mode {mode:04o}): anyone who can write \
             it could change who may impersonate whom, so proxid refuses it; \
             run `chmod go-w {}`",
            path.display()
        ));
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    if meta.uid() != 0 && meta.uid() != euid {
        return Err(format!(
            "{what} is owned by uid {}, neither root nor the user running proxid (uid {euid}): \
             its owner could change who may impersonate whom, so proxid refuses it; \
             run `chown root {}`",
            meta.uid(),
            path.display()
        ));
    }
    Ok(())
}

/// Refuses a file holding a secret when group or others may read it, or when it is
/// not a regular file.
pub fn check_secret_file_mode(file: &Path, what: &str) -> Result<()> {
    let meta = std::fs::metadata(file)
        .map_err(|e| Error::config(file, format!("cannot read {what}: {e}")))?;
    if !meta.is_file() {
        return Err(Error::config(file, format!("{what} is not a regular file")));
    }
    let mode = meta.mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(Error::config(
            file,
            format!(
                "{what} is readable or writable by group or others (mode {mode:04o}); \
                 it holds a secret, so proxid refuses it: run `chmod 600 {}`",
                file.display()
            ),
        ));
    }
    Ok(())
}

pub(super) fn read_secret_file(file: &Path) -> Result<Secret> {
    check_secret_file_mode(file, "bind_password_file")?;
    let text = std::fs::read_to_string(file)
        .map_err(|e| Error::config(file, format!("cannot read bind_password_file: {e}")))?;
    // One trailing newline is what `echo secret > file` leaves; strip just that.
    let text = text.strip_suffix('\n').unwrap_or(&text);
    let text = text.strip_suffix('\r').unwrap_or(text);
    if text.is_empty() {
        return Err(Error::config(file, "bind_password_file is empty"));
    }
    Ok(Secret(text.to_string()))
}
