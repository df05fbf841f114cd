//! Parsing Kerberos principal names the way Hadoop's `KerberosName` does, plus MIT's
//! escapes.
//!
//! Shape: `primary[/instance][@REALM]`, every part non-empty. As in Hadoop:
//! - a string of that shape is a principal (one or two components, realm optional);
//! - a string that is not of that shape but contains `@` is malformed (`a/b/c@R`,
//!   `u@`, `@R`, `/x@R`, `u@a/b`, `a@b@R`);
//! - a string that is not of that shape and has no `@` (`a/b/c`, `a/`) is a bare name,
//!   returned unchanged by auth_to_local without consulting any rule (Hadoop's K24).
//!
//! Unlike Hadoop, `\/`, `\@` and `\\` are read as MIT Kerberos writes them: literal
//! characters inside a component (Hadoop would split `a\/b` at the slash, leaving a
//! backslash in the user name). Any other backslash sequence is refused rather than
//! guessed at. Empty strings, control characters, U+2028/U+2029 and principals longer
//! than [`MAX_PRINCIPAL_BYTES`] are refused too.

use crate::error::{Error, Result};

/// The longest principal accepted, in bytes.
pub const MAX_PRINCIPAL_BYTES: usize = 1024;

/// A parsed principal name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KerberosName {
    /// `primary[/instance][@REALM]`, components unescaped.
    Principal {
        /// The first component (the user or service name).
        primary: String,
        /// The component after `/`, if any (a host for services).
        instance: Option<String>,
        /// The realm after `@`, if any.
        realm: Option<String>,
    },
    /// Not a principal and no `@`: passed through unchanged (Hadoop's behaviour).
    Bare(String),
}

/// Writes one component back with `/`, `@` and `\` escaped.
fn escape_component(text: &str, out: &mut String) {
    for c in text.chars() {
        if matches!(c, '/' | '@' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
}

impl KerberosName {
    /// Parses `text`; malformed principals are `Error::InvalidName` saying why.
    pub fn parse(text: &str) -> Result<KerberosName> {
        let bad = |reason: &str| Error::invalid_name(shown(text), reason);
        if text.is_empty() {
            return Err(bad("empty principal"));
        }
        if text.len() > MAX_PRINCIPAL_BYTES {
            return Err(bad(&format!(
                "principal of {} bytes, longer than {MAX_PRINCIPAL_BYTES}",
                text.len()
            )));
        }
        if let Some(c) = text
            .chars()
            .find(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}'))
        {
            return Err(bad(&format!("contains the control character {c:?}")));
        }

        // Split at unescaped '/' and '@': (separator before the part, part).
        let mut parts: Vec<(Option<char>, String)> = vec![(None, String::new())];
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some(e @ ('/' | '@' | '\\')) => push_char(&mut parts, e),
                    Some(e) => {
                        return Err(bad(&format!(
                            "unsupported escape \\{e} (only \\/, \\@ and \\\\ are escapes)"
                        )))
                    }
                    None => return Err(bad("ends with a lone backslash")),
                },
                '/' | '@' => parts.push((Some(c), String::new())),
                _ => push_char(&mut parts, c),
            }
        }

        let seps: Vec<char> = parts.iter().filter_map(|(s, _)| *s).collect();
        let nonempty = parts.iter().all(|(_, p)| !p.is_empty());
        let mut it = parts.into_iter().map(|(_, p)| p);
        let primary = it.next().unwrap_or_default();
        let (instance, realm) = match (seps.as_slice(), nonempty) {
            ([], true) => (None, None),
            (['/'], true) => (it.next(), None),
            (['@'], true) => (None, it.next()),
            (['/', '@'], true) => (it.next(), it.next()),
            _ if !seps.contains(&'@') => return Ok(KerberosName::Bare(text.to_string())),
            _ => return Err(bad(malformed_reason(&seps, nonempty, &primary))),
        };
        Ok(KerberosName::Principal {
            primary,
            instance,
            realm,
        })
    }

    /// The principal written back (Hadoop's `toString`), escapes restored.
    pub fn to_text(&self) -> String {
        match self {
            KerberosName::Bare(s) => s.clone(),
            KerberosName::Principal {
                primary,
                instance,
                realm,
            } => {
                let mut out = String::new();
                escape_component(primary, &mut out);
                if let Some(i) = instance {
                    out.push('/');
                    escape_component(i, &mut out);
                }
                if let Some(r) = realm {
                    out.push('@');
                    escape_component(r, &mut out);
                }
                out
            }
        }
    }
}

fn push_char(parts: &mut [(Option<char>, String)], c: char) {
    if let Some((_, last)) = parts.last_mut() {
        last.push(c);
    }
}

fn malformed_reason(seps: &[char], nonempty: bool, primary: &str) -> &'static str {
    let ats = seps.iter().filter(|c| **c == '@').count();
    let slashes_before_at = seps.iter().take_while(|c| **c != '@').count();
    if primary.is_empty() {
        "malformed principal: empty primary (expected primary[/instance]@REALM)"
    } else if ats > 1 {
        "malformed principal: more than one '@' (write a literal one as \\@)"
    } else if slashes_before_at < seps.len() - 1 {
        "malformed principal: '/' in the realm (expected primary[/instance]@REALM)"
    } else if slashes_before_at > 1 {
        "malformed principal: more than two components (expected primary[/instance]@REALM)"
    } else if !nonempty {
        "malformed principal: empty instance or realm (expected primary[/instance]@REALM)"
    } else {
        "malformed principal (expected primary[/instance]@REALM)"
    }
}

/// At most 64 characters of a hostile name for messages.
fn shown(text: &str) -> String {
    let mut s: String = text.chars().take(64).collect();
    if s.len() < text.len() {
        s.push_str("...");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(primary: &str, instance: Option<&str>, realm: Option<&str>) -> KerberosName {
        KerberosName::Principal {
            primary: primary.into(),
            instance: instance.map(Into::into),
            realm: realm.map(Into::into),
        }
    }

    #[test]
    fn parse_table() {
        let long = "a".repeat(MAX_PRINCIPAL_BYTES + 1);
        let cases: Vec<(&str, Option<KerberosName>)> = vec![
            ("alice", Some(p("alice", None, None))),
            (
                "alice@EXAMPLE.COM",
                Some(p("alice", None, Some("EXAMPLE.COM"))),
            ),
            (
                "hdfs/h.example.com@R",
                Some(p("hdfs", Some("h.example.com"), Some("R"))),
            ),
            ("HTTP/abc.com", Some(p("HTTP", Some("abc.com"), None))),
            ("a/b/c", Some(KerberosName::Bare("a/b/c".into()))),
            ("a/", Some(KerberosName::Bare("a/".into()))),
            ("a\\/b@R", Some(p("a/b", None, Some("R")))),
            ("a\\@b/c@R", Some(p("a@b", Some("c"), Some("R")))),
            ("a\\\\b@R", Some(p("a\\b", None, Some("R")))),
            ("owen/owen/owen@FOO.COM", None),
            ("owen@foo/bar.com", None),
            ("alice@", None),
            ("@EXAMPLE.COM", None),
            ("/x@EXAMPLE.COM", None),
            ("u@a/b", None),
            ("user6@example.com@OTHER.REALM", None),
            ("", None),
            ("a\nb@R", None),
            ("a\u{2028}b", None),
            ("a\\xb@R", None),
            ("a\\", None),
            (long.as_str(), None),
        ];
        for (text, expected) in cases {
            let got = KerberosName::parse(text);
            match expected {
                Some(name) => assert_eq!(got.unwrap(), name, "{text:?}"),
                None => assert!(
                    matches!(got, Err(Error::InvalidName { .. })),
                    "{text:?}: {got:?}"
                ),
            }
        }
    }

    #[test]
    fn to_text_restores_escapes() {
        for text in ["a\\/b/c@R", "alice", "x\\@y@R", "a/b/c"] {
            assert_eq!(KerberosName::parse(text).unwrap().to_text(), text);
        }
    }
}
