//! Kerberos principal syntax and Hadoop's auth_to_local rule language: pure parsing
//! and evaluation, no configuration and no lookups, so that the configuration layer
//! can refuse a malformed rule at load and [`crate::principal`] can evaluate it.
//!
//! - [`name`]: principal syntax (Hadoop's shapes, MIT's `\/` `\@` escapes).
//! - [`rules`]: the auth_to_local rule language, both mechanisms, as Hadoop 3.3.4.
//! - `javare`: Java regexes on the `regex` crate (what is translated, what is refused).

mod javare;
pub mod name;
pub mod rules;

use serde::Serialize;

use crate::error::{Error, Result};

/// Which of Hadoop's auth_to_local mechanisms applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthToLocalMechanism {
    /// A principal no rule matches is an error; results with `/` or `@` are errors.
    Hadoop,
    /// As MIT Kerberos: unmatched principals pass through unchanged.
    Mit,
}

/// A namespace or application part of a program principal key: non-empty, short,
/// no `/`, no control character.
pub(crate) fn check_program_part(what: &str, text: &str) -> Result<()> {
    let reason = if text.is_empty() {
        Some("empty")
    } else if text.len() > crate::names::MAX_NAME_BYTES {
        Some("too long")
    } else if text.contains('/') {
        Some("contains '/'")
    } else if text.chars().any(char::is_control) {
        Some("contains a control character")
    } else {
        None
    };
    match reason {
        Some(r) => Err(Error::invalid_name(text, format!("{what} {r}"))),
        None => Ok(()),
    }
}
