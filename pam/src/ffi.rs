//! The part of libpam the module uses (Linux-PAM's `security/pam_modules.h`,
//! `pam_ext.h`), and safe helpers over it. Numbers are Linux-PAM's.

use std::ffi::{CStr, CString};

use libc::{c_char, c_int, c_uint, c_void};

/// `pam_handle_t`, opaque.
#[repr(C)]
pub struct PamHandle {
    _private: [u8; 0],
}

pub const PAM_SUCCESS: c_int = 0;
pub const PAM_SYSTEM_ERR: c_int = 4;
pub const PAM_PERM_DENIED: c_int = 6;
pub const PAM_AUTH_ERR: c_int = 7;
pub const PAM_AUTHINFO_UNAVAIL: c_int = 9;
pub const PAM_USER_UNKNOWN: c_int = 10;
pub const PAM_NEW_AUTHTOK_REQD: c_int = 12;
pub const PAM_SESSION_ERR: c_int = 14;
pub const PAM_AUTHTOK_ERR: c_int = 20;
pub const PAM_IGNORE: c_int = 25;

/// Codes the daemon may answer with (anything else is a protocol error).
pub const DAEMON_CODES: [c_int; 6] = [
    PAM_SUCCESS,
    PAM_PERM_DENIED,
    PAM_AUTH_ERR,
    PAM_AUTHINFO_UNAVAIL,
    PAM_USER_UNKNOWN,
    PAM_NEW_AUTHTOK_REQD,
];

pub const PAM_SERVICE: c_int = 1;
pub const PAM_RHOST: c_int = 4;
pub const PAM_AUTHTOK: c_int = 6;
pub const PAM_RUSER: c_int = 8;

pub const PAM_SILENT: c_int = 0x8000;
const PAM_ERROR_MSG: c_int = 3;

const LOG_ERR: c_int = 3;
const LOG_NOTICE: c_int = 5;

#[link(name = "pam")]
extern "C" {
    fn pam_get_user(pamh: *mut PamHandle, user: *mut *const c_char, prompt: *const c_char)
        -> c_int;
    fn pam_get_item(pamh: *const PamHandle, item_type: c_int, item: *mut *const c_void) -> c_int;
    fn pam_get_authtok(
        pamh: *mut PamHandle,
        item: c_int,
        authtok: *mut *const c_char,
        prompt: *const c_char,
    ) -> c_int;
    fn pam_fail_delay(pamh: *mut PamHandle, usec: c_uint) -> c_int;
    fn pam_prompt(
        pamh: *mut PamHandle,
        style: c_int,
        response: *mut *mut c_char,
        fmt: *const c_char,
        ...
    ) -> c_int;
    fn pam_syslog(pamh: *const PamHandle, priority: c_int, fmt: *const c_char, ...);
}

/// A handle libpam gave us, for the length of one entry point.
pub struct Pam {
    handle: *mut PamHandle,
    silent: bool,
}

impl Pam {
    /// `None` for a NULL handle.
    pub fn new(handle: *mut PamHandle, flags: c_int) -> Option<Pam> {
        (!handle.is_null()).then_some(Pam {
            handle,
            silent: flags & PAM_SILENT != 0,
        })
    }

    /// PAM_USER, asking the application if it is not set yet.
    pub fn user(&self) -> Result<Vec<u8>, c_int> {
        let mut user: *const c_char = std::ptr::null();
        // SAFETY: valid handle and out-pointer; a NULL prompt means libpam's default.
        let rc = unsafe { pam_get_user(self.handle, &mut user, std::ptr::null()) };
        if rc != PAM_SUCCESS {
            return Err(rc);
        }
        if user.is_null() {
            return Err(PAM_USER_UNKNOWN);
        }
        // SAFETY: libpam returns a NUL-terminated string it owns; copied at once.
        Ok(unsafe { CStr::from_ptr(user) }.to_bytes().to_vec())
    }

    /// A string item (PAM_SERVICE, PAM_RHOST, PAM_RUSER), empty when unset.
    pub fn item(&self, item: c_int) -> Vec<u8> {
        let mut value: *const c_void = std::ptr::null();
        // SAFETY: valid handle and out-pointer.
        let rc = unsafe { pam_get_item(self.handle, item, &mut value) };
        if rc != PAM_SUCCESS || value.is_null() {
            return Vec::new();
        }
        // SAFETY: string items are NUL-terminated and owned by libpam; copied at once.
        unsafe { CStr::from_ptr(value.cast()) }.to_bytes().to_vec()
    }

    /// The password: PAM_AUTHTOK if a module before us set it, else asked through
    /// the conversation (and stored in PAM_AUTHTOK by libpam for the modules after
    /// us). `use_first_pass` / `try_first_pass` are read by libpam from our arguments,
    /// as for pam_unix. The copy is the caller's to wipe.
    pub fn password(&self) -> Result<Secret, c_int> {
        let mut token: *const c_char = std::ptr::null();
        // SAFETY: valid handle and out-pointer; NULL prompt = "Password: ".
        let rc = unsafe { pam_get_authtok(self.handle, PAM_AUTHTOK, &mut token, std::ptr::null()) };
        if rc != PAM_SUCCESS {
            return Err(rc);
        }
        if token.is_null() {
            return Err(PAM_AUTH_ERR);
        }
        // SAFETY: NUL-terminated, owned by libpam (never freed or written by us).
        Ok(Secret(unsafe { CStr::from_ptr(token) }.to_bytes().to_vec()))
    }

    /// Asks libpam to delay a failed `pam_authenticate` (like pam_unix).
    pub fn fail_delay(&self, usec: c_uint) {
        // SAFETY: valid handle.
        unsafe { pam_fail_delay(self.handle, usec) };
    }

    /// Shows `message` to the user (an error message), unless PAM_SILENT.
    pub fn tell(&self, message: &str) {
        if self.silent || message.is_empty() {
            return;
        }
        let text = c_text(message);
        // SAFETY: valid handle; "%s" with one NUL-terminated string; an error message
        // expects no response (NULL: libpam frees any the application returns).
        unsafe {
            pam_prompt(
                self.handle,
                PAM_ERROR_MSG,
                std::ptr::null_mut(),
                c"%s".as_ptr(),
                text.as_ptr(),
            )
        };
    }

    /// Writes `message` to the system log through libpam (which names the service).
    pub fn log(&self, error: bool, message: &str) {
        let text = c_text(message);
        let priority = if error { LOG_ERR } else { LOG_NOTICE };
        // SAFETY: valid handle; "%s" with one NUL-terminated string.
        unsafe { pam_syslog(self.handle, priority, c"%s".as_ptr(), text.as_ptr()) };
    }
}

/// Text for C: NUL bytes (which the daemon's messages never hold) replaced.
fn c_text(message: &str) -> CString {
    CString::new(message.replace('\0', " ")).unwrap_or_default()
}

/// A password copy, overwritten when dropped.
pub struct Secret(pub Vec<u8>);

impl Drop for Secret {
    fn drop(&mut self) {
        wipe(&mut self.0);
    }
}

/// Overwrites bytes in a way the optimizer keeps.
pub fn wipe(bytes: &mut [u8]) {
    for b in bytes.iter_mut() {
        // SAFETY: a valid, aligned pointer into the slice.
        unsafe { std::ptr::write_volatile(b, 0) };
    }
    std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
}
