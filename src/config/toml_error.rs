//! TOML errors turned into "file:line: key `k`: message", never quoting a secret.

use std::path::Path;

use crate::error::Error;

/// Keys whose values are secrets: an error about them never quotes the value.
const SECRET_KEYS: &[&str] = &["bind_password"];

/// A TOML/serde message about a secret key, without the value serde quotes
/// (`invalid type: integer 12345678, expected a string`): only what was expected.
fn without_secret(message: &str) -> String {
    let expected = message
        .rfind("expected ")
        .map(|at| format!(": {}", message[at..].trim_end_matches('.')))
        .unwrap_or_default();
    format!("invalid value for a secret key (the value is not shown){expected}")
}

/// The raw text of every `secret_key = value` in `text` (quotes stripped), to
/// scrub from messages.
fn secret_values(text: &str) -> Vec<&str> {
    text.lines()
        .filter_map(|line| line.split_once('='))
        .filter(|(key, _)| SECRET_KEYS.iter().any(|k| key.contains(k)))
        .map(|(_, value)| value.trim().trim_matches(['"', '\'']).trim())
        .filter(|value| !value.is_empty())
        .collect()
}

/// Turns a TOML error into "file:line: key `k`: message".
pub(super) fn toml_error(text: &str, path: &Path, e: &toml::de::Error) -> Error {
    let mut message = e.message().trim().to_string();
    let mentions_secret = |t: &str| SECRET_KEYS.iter().any(|k| t.contains(k));
    // Whatever the error, a secret's text never appears in it.
    for value in secret_values(text) {
        message = message.replace(value, "********");
    }
    let Some(span) = e.span() else {
        if mentions_secret(&message) {
            message = without_secret(&message);
        }
        return Error::config(path, message);
    };
    let before = &text[..span.start.min(text.len())];
    let line_no = before.matches('\n').count() + 1;
    let line = text.lines().nth(line_no - 1).unwrap_or("");
    // The span may cover a multi-line value: every line it touches counts.
    let spanned = text.get(span.start.min(text.len())..span.end.min(text.len()));
    if mentions_secret(line) || mentions_secret(&message) || spanned.is_some_and(mentions_secret) {
        message = without_secret(&message);
    }
    let key = line
        .split_once('=')
        .map(|(k, _)| k.trim())
        .filter(|k| !k.is_empty() && !k.starts_with('['));
    let section = before
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('['))
        .map(|l| l.trim());
    let mut where_ = format!("line {line_no}");
    if let Some(section) = section {
        where_ += &format!(" in {section}");
    }
    match key {
        Some(key) if !message.contains(&format!("`{key}`")) => {
            Error::config(path, format!("{where_}: key `{key}`: {message}"))
        }
        _ => Error::config(path, format!("{where_}: {message}")),
    }
}
