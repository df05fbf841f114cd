//! What principals need from this machine: its fully qualified host name (for `_HOST`)
//! and the Kerberos default realm from krb5.conf.

use std::ffi::{CStr, CString};
use std::path::{Path, PathBuf};

/// Where krb5.conf is: the first file of `KRB5_CONFIG` (as MIT Kerberos reads it),
/// else `/etc/krb5.conf`. `KRB5_CONFIG` is ignored in a setuid/setgid process.
pub fn krb5_conf_path() -> PathBuf {
    crate::config::secure_env("KRB5_CONFIG")
        .and_then(|v| {
            v.to_str()
                .and_then(|s| s.split(':').find(|p| !p.is_empty()))
                .map(PathBuf::from)
        })
        .unwrap_or_else(|| PathBuf::from("/etc/krb5.conf"))
}

/// `[libdefaults] default_realm` from a krb5.conf file; `None` when the file is
/// missing or unreadable or names no default realm.
pub fn default_realm_from_krb5_conf(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    default_realm_in(&text)
}

fn default_realm_in(text: &str) -> Option<String> {
    let mut in_libdefaults = false;
    let mut depth = 0usize; // inside `name = { ... }` subsections
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if depth == 0 && line.starts_with('[') {
            let section = line.trim_start_matches('[').split(']').next().unwrap_or("");
            in_libdefaults = section.trim() == "libdefaults";
            continue;
        }
        if line.ends_with('{') {
            depth += 1;
            continue;
        }
        if line.starts_with('}') {
            depth = depth.saturating_sub(1);
            continue;
        }
        if !in_libdefaults || depth > 0 {
            continue;
        }
        if let Some((key, value)) = line.split_once('=') {
            if key.trim() == "default_realm" {
                // A trailing `*` marks the value final in MIT's profile syntax.
                let value = value.trim().trim_end_matches('*').trim();
                if !value.is_empty() {
                    return Some(value.to_string());
                }
            }
        }
    }
    None
}

/// This machine's host name as `gethostname` reports it.
fn hostname() -> Option<String> {
    let mut buf = [0u8; 256];
    // SAFETY: buf is writable for its whole length; we pass one less so the result
    // is always NUL-terminated.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len() - 1) };
    if rc != 0 {
        return None;
    }
    let name = buf.split(|b| *b == 0).next()?;
    let name = std::str::from_utf8(name).ok()?;
    (!name.is_empty()).then(|| name.to_string())
}

/// The canonical name of `host` by `getaddrinfo(AI_CANONNAME)`.
fn canonical_name(host: &str) -> Option<String> {
    let c_host = CString::new(host).ok()?;
    // SAFETY: an all-zero addrinfo is a valid "no hints" value; we then set flags.
    let mut hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    hints.ai_flags = libc::AI_CANONNAME;
    hints.ai_family = libc::AF_UNSPEC;
    let mut res: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: valid C string, valid hints, res receives a list we free below.
    let rc = unsafe { libc::getaddrinfo(c_host.as_ptr(), std::ptr::null(), &hints, &mut res) };
    if rc != 0 || res.is_null() {
        return None;
    }
    // SAFETY: res is a valid list from getaddrinfo; ai_canonname, when set, is a C string
    // owned by the list, copied before the list is freed.
    let name = unsafe {
        let canon = (*res).ai_canonname;
        let name = (!canon.is_null())
            .then(|| CStr::from_ptr(canon).to_str().ok().map(str::to_string))
            .flatten();
        libc::freeaddrinfo(res);
        name
    };
    name.filter(|n| !n.is_empty())
}

/// This machine's fully qualified host name, lower-cased: the canonical name of
/// `gethostname()`, else the host name itself, else "localhost".
pub fn local_fqdn() -> String {
    let host = hostname().unwrap_or_else(|| "localhost".into());
    canonical_name(&host).unwrap_or(host).to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn krb5_conf_table() {
        let cases: &[(&str, Option<&str>)] = &[
            ("[libdefaults]\n default_realm = EXAMPLE.COM\n", Some("EXAMPLE.COM")),
            ("[libdefaults]\ndefault_realm=A.B *\n", Some("A.B")),
            (
                "# c\n[realms]\n X = {\n default_realm = NO\n }\n[libdefaults]\n\tdns_lookup_realm = false\n default_realm = YES.ORG\n",
                Some("YES.ORG"),
            ),
            ("[realms]\n default_realm = NOPE\n", None),
            ("[libdefaults]\n x = {\n default_realm = NOPE\n }\n", None),
            ("[libdefaults]\n; default_realm = NOPE\n", None),
            ("", None),
        ];
        for (text, expected) in cases {
            assert_eq!(default_realm_in(text).as_deref(), *expected, "{text:?}");
        }
    }

    #[test]
    fn missing_krb5_conf_has_no_realm() {
        assert_eq!(
            default_realm_from_krb5_conf(Path::new("/nonexistent/krb5.conf")),
            None
        );
    }

    #[test]
    fn fqdn_is_lower_case_and_not_empty() {
        let fqdn = local_fqdn();
        assert!(!fqdn.is_empty());
        assert_eq!(fqdn, fqdn.to_lowercase());
    }
}
