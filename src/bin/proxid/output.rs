//! How the CLI prints: escaping for human-readable lines, the `id`-style line, the
//! JSON shapes, and stdout/stderr writes.
//!
//! Escaping rule (README "Command line"): a name, host or any other operand is shown
//! with `\\` for a backslash, `\n` `\r` `\t`, and `\xHH` for every other control
//! character, every byte that is not UTF-8 and every Unicode line separator or
//! bidirectional control, so one record is one line and what is shown cannot pose as
//! other output. JSON output is escaped by JSON instead.

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;

use proxid::Identity;

/// Characters that are valid and printable to `char::is_control` but still move or
/// reorder text on a terminal: line/paragraph separators and bidi controls.
fn is_invisible_control(c: char) -> bool {
    matches!(c,
        '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{061c}'
        | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn push_char(out: &mut String, c: char, backslash: bool) {
    match c {
        '\\' if backslash => out.push_str("\\\\"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if c.is_control() || is_invisible_control(c) => {
            let mut buf = [0; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
        c => out.push(c),
    }
}

/// `raw` escaped for one line of human-readable output (the rule above).
pub fn escape(raw: &[u8]) -> String {
    let mut out = String::with_capacity(raw.len());
    for chunk in raw.utf8_chunks() {
        for c in chunk.valid().chars() {
            push_char(&mut out, c, true);
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

/// [`escape`] for text (a name the library returned).
pub fn esc(text: &str) -> String {
    escape(text.as_bytes())
}

/// An operand escaped for the `<what>` of an error line: whole up to the longest valid
/// name, cut after that (a 10 kB operand is not worth echoing).
pub fn escape_operand(raw: &OsStr) -> String {
    escape_cut(raw, proxid::identity::MAX_NAME_BYTES)
}

/// `raw` escaped, cut after `max` bytes with `...` to say so.
pub fn escape_cut(raw: &OsStr, max: usize) -> String {
    let raw = raw.as_bytes();
    match raw.get(..max) {
        Some(head) if raw.len() > max => escape(head) + "...",
        _ => escape(raw),
    }
}

/// A message from the library kept on one line: control characters escaped as in
/// [`escape`]; backslashes left alone, because the library already quotes names in
/// messages with Rust's `{:?}` (`"a\\b"`), which doubles them.
pub fn one_line(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for c in message.chars() {
        push_char(&mut out, c, false);
    }
    out
}

/// An operand for a JSON field: as given when it is UTF-8, else escaped (JSON strings
/// cannot hold the raw bytes, and U+FFFD would hide which bytes they were).
pub fn json_text(raw: &OsStr) -> String {
    match raw.to_str() {
        Some(text) => text.to_string(),
        None => escape(raw.as_bytes()),
    }
}

/// Prints one line to stdout; a closed pipe (`proxid resolve ... | head`) is not an error.
pub fn emit(out: &mut impl Write, line: &str) {
    let _ = writeln!(out, "{line}");
}

/// Prints `proxid: <what>: <why>` to stderr. `what` must already be escaped.
pub fn report(what: &str, why: &str) {
    eprintln!("proxid: {what}: {}", one_line(why));
}

/// `alice uid=20001(alice) gid=10001(staff) groups=10001(staff),30001(jupyter)`
pub fn id_line(id: &Identity) -> String {
    let name = esc(&id.name);
    let primary = id.groups.first().map_or(String::new(), |g| esc(&g.name));
    let groups: Vec<String> = id
        .groups
        .iter()
        .map(|g| format!("{}({})", g.gid, esc(&g.name)))
        .collect();
    format!(
        "{name} uid={}({name}) gid={}({primary}) groups={}",
        id.uid,
        id.gid,
        groups.join(",")
    )
}

/// `alice : staff jupyter`
pub fn groups_line(id: &Identity) -> String {
    let names: Vec<String> = id.groups.iter().map(|g| esc(&g.name)).collect();
    format!("{} : {}", esc(&id.name), names.join(" "))
}

/// An identity as `--json` shows it: `Identity`'s own JSON form without
/// `hidden_gids` (GIDs below the floor that proxid keeps for the protection check;
/// they are not the user's groups).
pub fn identity_json(id: &Identity) -> serde_json::Value {
    let mut v = serde_json::to_value(id).unwrap_or_default();
    if let Some(fields) = v.as_object_mut() {
        fields.shift_remove("hidden_gids");
    }
    v
}

/// Sets `key` in a JSON object (as `value["key"] = field` would, but never panics:
/// a value that is not an object becomes one).
pub fn set_field(value: &mut serde_json::Value, key: &str, field: impl Into<serde_json::Value>) {
    if !value.is_object() {
        *value = serde_json::Value::Object(serde_json::Map::new());
    }
    if let Some(fields) = value.as_object_mut() {
        fields.insert(key.to_owned(), field.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_table() {
        let cases: &[(&[u8], &str)] = &[
            (b"alice", "alice"),
            ("jos\u{e9}".as_bytes(), "jos\u{e9}"),
            (b"a b", "a b"),
            (b"a\\b", "a\\\\b"),
            (b"x\nallowed", "x\\nallowed"),
            (b"\r\t", "\\r\\t"),
            (b"\x1b[31m", "\\x1b[31m"),
            (b"\x7f", "\\x7f"),
            (b"u\xffx", "u\\xffx"),
            (b"\xc3", "\\xc3"),
            ("a\u{85}b".as_bytes(), "a\\xc2\\x85b"),
            ("a\u{2028}b".as_bytes(), "a\\xe2\\x80\\xa8b"),
            ("evil\u{202e}txt".as_bytes(), "evil\\xe2\\x80\\xaetxt"),
        ];
        for (raw, want) in cases {
            assert_eq!(escape(raw), *want, "{raw:?}");
            assert!(!escape(raw).contains('\n'));
        }
        assert_eq!(one_line("user \"a\\\\b\"\nx"), "user \"a\\\\b\"\\nx");
        let long = OsStr::from_bytes(&[b'a'; 100]);
        assert_eq!(escape_cut(long, 64), "a".repeat(64) + "...");
        assert_eq!(escape_operand(long), "a".repeat(100));
    }

    #[test]
    fn identity_json_is_the_identity_without_hidden_gids() {
        let mut id = proxid::testing::user("a\u{202e}\"b", 1001, &[("staff", 100), ("ops", 200)]);
        id.hidden_gids = vec![0];
        let text = identity_json(&id).to_string();
        assert_eq!(
            text,
            "{\"name\":\"a\u{202e}\\\"b\",\"uid\":1001,\"gid\":100,\"groups\":[{\"name\":\"staff\",\
             \"gid\":100},{\"name\":\"ops\",\"gid\":200}],\"home\":\"/home/a\u{202e}\\\"b\",\
             \"shell\":\"/bin/sh\",\"source\":\"fake\"}"
        );
    }
}
