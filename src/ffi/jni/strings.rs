//! Java strings in: `null` is refused (or `None` where the method allows it), and a
//! string that is not well-formed UTF-16 is refused with its lone surrogates shown,
//! never decoded lossily.

use ::jni::objects::JString;
use ::jni::strings::JNIString;
use ::jni::Env;

use super::{Failure, Outcome};

/// A Java string as Rust text, or `None` for `null`. Lone surrogates are refused:
/// the crate's lossy decoding would turn them into U+FFFD.
pub(super) fn optional_text(env: &Env<'_>, s: &JString<'_>) -> Outcome<Option<String>> {
    if s.is_null() {
        return Ok(None);
    }
    let chars = s.mutf8_chars(env)?;
    let text = chars.to_str().into_owned();
    // Well-formed strings survive the round trip to modified UTF-8 byte for byte.
    if JNIString::new(&text).to_bytes() != chars.to_bytes() {
        return Err(Failure::Malformed(escaped_utf16(chars.to_bytes())));
    }
    Ok(Some(text))
}

/// How many UTF-16 units of a malformed string an error message shows.
const SHOWN_UNITS: usize = 64;

/// The start of a string given as modified UTF-8 (one 1-3 byte sequence per UTF-16
/// unit), quoted and escaped like Rust's `{:?}`, with each lone surrogate as
/// `\uXXXX` (Java's own notation) instead of U+FFFD, so the message shows what was
/// actually wrong.
fn escaped_utf16(mutf8: &[u8]) -> String {
    let mut units = Vec::new();
    let mut bytes = mutf8.iter().copied();
    while let Some(b) = bytes.next() {
        let mut next = || u16::from(bytes.next().unwrap_or(0) & 0x3f);
        let unit = match b {
            0x00..=0x7f => u16::from(b),
            0xc0..=0xdf => (u16::from(b & 0x1f) << 6) | next(),
            _ => (u16::from(b & 0x0f) << 12) | (next() << 6) | next(),
        };
        units.push(unit);
        if units.len() == SHOWN_UNITS {
            break;
        }
    }
    let mut out = String::from("\"");
    for c in char::decode_utf16(units) {
        match c {
            Ok(c) => out.extend(c.escape_debug()),
            Err(e) => out.push_str(&format!("\\u{:04x}", e.unpaired_surrogate())),
        }
    }
    out.push('"');
    out
}

/// A required text argument.
pub(super) fn text(env: &Env<'_>, s: &JString<'_>, what: &'static str) -> Outcome<String> {
    optional_text(env, s)?.ok_or(Failure::Null(what))
}

/// A required user name; malformed text is an invalid name, as in `validate_name`.
pub(super) fn name(env: &Env<'_>, s: &JString<'_>, what: &'static str) -> Outcome<String> {
    text(env, s, what).map_err(|f| match f {
        Failure::Malformed(shown) => Failure::MalformedName(shown),
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::escaped_utf16;

    /// Modified UTF-8 of UTF-16 units: what the JVM hands over.
    fn mutf8(units: &[u16]) -> Vec<u8> {
        let mut out = Vec::new();
        for &u in units {
            match u {
                0x01..=0x7f => out.push(u as u8),
                0x00 | 0x80..=0x7ff => {
                    out.push(0xc0 | (u >> 6) as u8);
                    out.push(0x80 | (u & 0x3f) as u8);
                }
                _ => {
                    out.push(0xe0 | (u >> 12) as u8);
                    out.push(0x80 | ((u >> 6) & 0x3f) as u8);
                    out.push(0x80 | (u & 0x3f) as u8);
                }
            }
        }
        out
    }

    #[test]
    fn lone_surrogates_are_escaped_the_rest_is_kept() {
        let cases: &[(&[u16], &str)] = &[
            (&[0x61, 0xd800, 0x62], r#""a\ud800b""#),
            (&[0xdc00], r#""\udc00""#),
            (&[0xd83d, 0xde00, 0xd83d], "\"\u{1f600}\\ud83d\""),
            (
                &[0xe9, 0x0a, 0x22, 0x5c, 0x00, 0xdfff],
                r#""é\n\"\\\0\udfff""#,
            ),
        ];
        for (units, want) in cases {
            assert_eq!(escaped_utf16(&mutf8(units)), *want, "{units:x?}");
        }
        // Long strings are cut after 64 units.
        let long: Vec<u16> = std::iter::repeat_n(0x78, 1000).chain([0xd800]).collect();
        assert_eq!(
            escaped_utf16(&mutf8(&long)),
            format!("\"{}\"", "x".repeat(64))
        );
    }
}
