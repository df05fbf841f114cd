//! Name syntax: what proxid accepts as a user or group name. A leaf (it imports
//! only `error`), so the configuration can check names without the identity layer.

use crate::error::{Error, Result};

/// Longest user or group name accepted, in bytes. glibc has no fixed limit; 256 is
/// far above what any directory we know of allows and keeps hostile input cheap.
pub const MAX_NAME_BYTES: usize = 256;

/// Validates a user or group name taken from outside (CLI argument, C string, JNI).
/// Returns the name as `&str`; every lookup path starts here.
pub fn validate_name(raw: &[u8]) -> Result<&str> {
    let shown = || String::from_utf8_lossy(raw.get(..64).unwrap_or(raw)).into_owned();
    if raw.is_empty() {
        return Err(Error::invalid_name("", "empty name"));
    }
    if raw.len() > MAX_NAME_BYTES {
        return Err(Error::invalid_name(
            shown() + "...",
            format!("{} bytes, longer than {MAX_NAME_BYTES}", raw.len()),
        ));
    }
    if raw.contains(&0) {
        return Err(Error::invalid_name(shown(), "contains a NUL byte"));
    }
    std::str::from_utf8(raw).map_err(|_| Error::invalid_name(shown(), "not valid UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_validation_table() {
        let long = "a".repeat(MAX_NAME_BYTES + 1);
        let longest = "a".repeat(MAX_NAME_BYTES);
        let cases: &[(&[u8], bool)] = &[
            (b"alice", true),
            (b"", false),
            (b"a\0b", false),
            (b"\xff\xfe", false),
            (long.as_bytes(), false),
            (longest.as_bytes(), true),
            ("jos\u{e9}".as_bytes(), true),
            (b"*", true),
            (b"a)(b", true),
            (b"a b", true),
        ];
        for (raw, ok) in cases {
            assert_eq!(validate_name(raw).is_ok(), *ok, "{raw:?}");
        }
        assert!(matches!(
            validate_name(b"a\0b"),
            Err(Error::InvalidName { .. })
        ));
    }
}
