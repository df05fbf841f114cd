//! Java regular expressions, as Hadoop's auth_to_local rules write them, run on the
//! `regex` crate.
//!
//! A rule's filter and `s/FROM/TO/` pattern are `java.util.regex` patterns. Most of that
//! syntax means the same to the `regex` crate; where it does not, the pattern is either
//! translated to an equivalent or refused with an error naming the construct, so a rule
//! never silently matches differently than it would in Hadoop:
//!
//! | Java construct | here |
//! |---|---|
//! | `\d \D \w \W \s \S` (ASCII in Java) | translated to ASCII classes (they are Unicode in `regex`) |
//! | `\Q...\E`, `\a`, `\e`, `\cX`, `\0nn` octal | translated |
//! | `\` before any other non-letter (`\@`, `\/`, `\<`) | the literal character |
//! | back-references `\1`, `\k<name>` | refused: `regex` has none |
//! | look-ahead / look-behind `(?=` `(?!` `(?<=` `(?<!`, atomic `(?>` | refused |
//! | possessive quantifiers `*+ ++ ?+ {n}+` | refused (`regex` would read them as nested repetition) |
//! | `\b \B \G \Z \R \X \h \H \v \V \p{..} \P{..} \N` | refused (different or missing meaning) |
//! | inline flags other than `i`, `m`, `s` (`x d u U c`) | refused (`U` even means "ungreedy" in `regex`) |
//! | `[[:alpha:]]` (a union of `:alph` in Java, a POSIX class in `regex`) | refused |
//! | `--` and `~~` inside a class (set operations only in `regex`) | refused |
//!
//! Two differences depend on the text matched, not the pattern, and are refused when
//! a rule is applied. Case-insensitive matching (`(?i)`) is ASCII-only in Java and
//! Unicode in `regex`: they differ only on text holding U+212A (Kelvin sign), U+017F
//! (long s), U+0130 or U+0131, or when the pattern itself names non-ASCII characters
//! and the text has some; those cases are refused. Text with line terminators is
//! refused too (`.` and `$` treat `\r`, U+0085, U+2028 and U+2029 differently);
//! principals with control characters, U+2028 or U+2029 are refused before that, so
//! only odd rule formats can hit it.
//!
//! Replacement strings follow `Matcher.replaceFirst` / `replaceAll`: `$n` and `${name}`
//! name groups (the longest group number that exists), `\x` is a literal `x`; a
//! malformed replacement is an error only when the pattern matches, as in Java.

use regex::Regex;

mod translate;

use translate::translate;

/// A compiled Java pattern.
#[derive(Debug, Clone)]
pub(crate) struct JavaRegex {
    /// Unanchored: for `find`, `replaceFirst` and `replaceAll`.
    find: Regex,
    /// Anchored at both ends: for `matches()`.
    whole: Regex,
    case_insensitive: bool,
    /// The pattern names non-ASCII characters (literally or by escape).
    non_ascii: bool,
    /// The pattern as written, for messages.
    source: String,
}

/// A reason the text matched differs in meaning between Java and `regex`.
fn text_problem(re: &JavaRegex, text: &str) -> Option<String> {
    if text
        .chars()
        .any(|c| matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}'))
    {
        return Some(format!(
            "{text:?} contains a line terminator, which Java patterns treat differently"
        ));
    }
    // Characters whose Unicode case folding reaches ASCII letters (k, s, i).
    let folds_to_ascii = |c: char| matches!(c, '\u{212a}' | '\u{17f}' | '\u{130}' | '\u{131}');
    if re.case_insensitive
        && (text.chars().any(folds_to_ascii) || (re.non_ascii && !text.is_ascii()))
    {
        return Some(format!(
            "pattern {:?} is case-insensitive, which Java applies to ASCII only, and {text:?} has characters where that differs",
            re.source
        ));
    }
    None
}

impl JavaRegex {
    pub(crate) fn compile(java: &str) -> Result<JavaRegex, String> {
        let translated = translate(java)?;
        let build = |p: &str| {
            Regex::new(p).map_err(|e| {
                let detail = e.to_string();
                let last = detail.lines().last().unwrap_or("").trim().to_string();
                format!("invalid pattern {java:?}: {last}")
            })
        };
        Ok(JavaRegex {
            find: build(&translated.pattern)?,
            whole: build(&format!(r"\A(?:{})\z", translated.pattern))?,
            case_insensitive: translated.case_insensitive,
            non_ascii: !java.is_ascii()
                || ["\\x", "\\u", "\\0", "\\c"]
                    .iter()
                    .any(|e| java.contains(e)),
            source: java.to_string(),
        })
    }

    /// `Pattern.matcher(text).matches()`: the whole text must match.
    pub(crate) fn matches_whole(&self, text: &str) -> Result<bool, String> {
        if let Some(problem) = text_problem(self, text) {
            return Err(problem);
        }
        Ok(self.whole.is_match(text))
    }

    /// Java's number of capturing groups (`Matcher.groupCount()`).
    fn group_count(&self) -> usize {
        self.find.captures_len().saturating_sub(1)
    }

    /// `Matcher.replaceFirst` (`all == false`) or `replaceAll`.
    pub(crate) fn replace(
        &self,
        text: &str,
        replacement: &Replacement,
        all: bool,
    ) -> Result<String, String> {
        if let Some(problem) = text_problem(self, text) {
            return Err(problem);
        }
        let mut out = String::new();
        let mut copied = 0; // end of the text already appended
        let mut search = 0; // where the next find starts
        while search <= text.len() {
            let Some(caps) = self.find.captures_at(text, search) else {
                break;
            };
            let Some(m) = caps.get(0) else { break };
            let pieces = replacement.pieces.as_ref().map_err(Clone::clone)?;
            out.push_str(&text[copied..m.start()]);
            for piece in pieces {
                match piece {
                    Piece::Literal(s) => out.push_str(s),
                    Piece::Group(n) => {
                        if let Some(g) = caps.get(*n) {
                            out.push_str(g.as_str());
                        }
                    }
                    Piece::Named(name) => {
                        if let Some(g) = caps.name(name) {
                            out.push_str(g.as_str());
                        }
                    }
                }
            }
            copied = m.end();
            if !all {
                break;
            }
            // As Java's Matcher.find: after an empty match, move on one character.
            search = if m.start() == m.end() {
                match text[m.end()..].chars().next() {
                    Some(c) => m.end() + c.len_utf8(),
                    None => break,
                }
            } else {
                m.end()
            };
        }
        out.push_str(&text[copied..]);
        Ok(out)
    }

    /// Parses a Java replacement string against this pattern's groups.
    pub(crate) fn replacement(&self, java: &str) -> Replacement {
        Replacement {
            pieces: parse_replacement(java, self.group_count(), |name| {
                self.find.capture_names().flatten().any(|n| n == name)
            }),
        }
    }
}

#[derive(Debug, Clone)]
enum Piece {
    Literal(String),
    Group(usize),
    Named(String),
}

/// A parsed Java replacement string; a malformed one keeps its error for when it is used.
#[derive(Debug, Clone)]
pub(crate) struct Replacement {
    pieces: Result<Vec<Piece>, String>,
}

fn parse_replacement(
    java: &str,
    group_count: usize,
    has_name: impl Fn(&str) -> bool,
) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut chars = java.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(next) => literal.push(next),
                None => {
                    return Err(format!(
                        "replacement {java:?}: character to be escaped is missing"
                    ))
                }
            },
            '$' => {
                if !literal.is_empty() {
                    pieces.push(Piece::Literal(std::mem::take(&mut literal)));
                }
                match chars.next() {
                    None => {
                        return Err(format!(
                            "replacement {java:?}: illegal group reference: group index is missing"
                        ))
                    }
                    Some('{') => {
                        let mut name = String::new();
                        loop {
                            match chars.next() {
                                Some('}') => break,
                                Some(ch) if ch.is_ascii_alphanumeric() => name.push(ch),
                                _ => {
                                    return Err(format!(
                                        "replacement {java:?}: named capturing group is missing trailing '}}'"
                                    ))
                                }
                            }
                        }
                        if !has_name(&name) {
                            return Err(format!(
                                "replacement {java:?}: no group with name {{{name}}}"
                            ));
                        }
                        pieces.push(Piece::Named(name));
                    }
                    Some(d) if d.is_ascii_digit() => {
                        // Java takes the longest prefix of digits that names an existing group.
                        let mut number = d as usize - '0' as usize;
                        while let Some(next) = chars.peek().and_then(|c| c.to_digit(10)) {
                            let longer = number * 10 + next as usize;
                            if longer > group_count {
                                break;
                            }
                            number = longer;
                            chars.next();
                        }
                        if number > group_count {
                            return Err(format!("replacement {java:?}: no group {number}"));
                        }
                        pieces.push(Piece::Group(number));
                    }
                    Some(_) => {
                        return Err(format!("replacement {java:?}: illegal group reference"))
                    }
                }
            }
            other => literal.push(other),
        }
    }
    if !literal.is_empty() {
        pieces.push(Piece::Literal(literal));
    }
    Ok(pieces)
}

#[cfg(test)]
mod tests;
