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

struct Translated {
    pattern: String,
    case_insensitive: bool,
}

const ASCII_CLASSES: [(char, &str); 6] = [
    ('d', "[0-9]"),
    ('D', "[^0-9]"),
    ('w', "[0-9A-Za-z_]"),
    ('W', "[^0-9A-Za-z_]"),
    ('s', r"[\t\n\x0B\x0C\r ]"),
    ('S', r"[^\t\n\x0B\x0C\r ]"),
];

fn unsupported(java: &str, what: &str) -> String {
    format!("pattern {java:?} uses {what}, which proxid does not support (the regex crate lacks it or means something else)")
}

/// Appends one literal character so that `regex` reads it literally.
fn push_literal(out: &mut String, c: char) {
    let mut buf = [0u8; 4];
    out.push_str(&regex::escape(c.encode_utf8(&mut buf)));
}

/// Rewrites a Java pattern into `regex` syntax with the same meaning, or says why not.
fn translate(java: &str) -> Result<Translated, String> {
    let chars: Vec<char> = java.chars().collect();
    let mut out = String::with_capacity(java.len() + 8);
    let mut case_insensitive = false;
    let mut class_depth = 0usize;
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        i += 1;
        match c {
            '\\' => i = escape(java, &chars, i, class_depth > 0, &mut out)?,
            '[' => {
                if chars.get(i) == Some(&':') {
                    return Err(unsupported(java, "a POSIX-style class \"[:...:]\""));
                }
                class_depth += 1;
                out.push('[');
                if chars.get(i) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                // A ']' right after '[' or '[^' is a literal in both dialects.
                if chars.get(i) == Some(&']') {
                    out.push_str(r"\]");
                    i += 1;
                }
            }
            ']' if class_depth > 0 => {
                class_depth -= 1;
                out.push(']');
            }
            '-' | '~' if class_depth > 0 && chars.get(i) == Some(&c) => {
                return Err(unsupported(java, &format!("\"{c}{c}\" inside a class")));
            }
            _ if class_depth > 0 => out.push(c),
            '(' if chars.get(i) == Some(&'?') => {
                i += 1;
                i = group_prefix(java, &chars, i, &mut out, &mut case_insensitive)?;
            }
            '*' | '+' | '?' => {
                out.push(c);
                i = quantifier_suffix(java, &chars, i, &mut out)?;
            }
            '{' => {
                out.push('{');
                while let Some(&d) = chars.get(i).filter(|&&d| d != '}') {
                    out.push(d);
                    i += 1;
                }
                if i < chars.len() {
                    out.push('}');
                    i += 1;
                    i = quantifier_suffix(java, &chars, i, &mut out)?;
                }
            }
            _ => out.push(c),
        }
    }
    Ok(Translated {
        pattern: out,
        case_insensitive,
    })
}

/// After a quantifier: `?` (lazy) is shared, `+` (possessive) is Java only.
fn quantifier_suffix(
    java: &str,
    chars: &[char],
    i: usize,
    out: &mut String,
) -> Result<usize, String> {
    let i = match chars.get(i) {
        Some('+') => return Err(unsupported(java, "a possessive quantifier")),
        Some('?') => {
            out.push('?');
            i + 1
        }
        _ => i,
    };
    // Java refuses a quantifier on a quantifier (`a?*`, `a???`); `regex` would nest them.
    match chars.get(i) {
        Some(q @ ('*' | '+' | '?')) => Err(format!(
            "pattern {java:?}: dangling quantifier {:?} after a quantifier",
            q
        )),
        // Java accepts `a?{2}` with a meaning of its own; refuse rather than guess.
        Some('{') => Err(unsupported(
            java,
            "a counted repetition right after a quantifier",
        )),
        _ => Ok(i),
    }
}

/// `(?` constructs; `i` points after the `?`.
fn group_prefix(
    java: &str,
    chars: &[char],
    mut i: usize,
    out: &mut String,
    case_insensitive: &mut bool,
) -> Result<usize, String> {
    match chars.get(i) {
        Some(':') => {
            out.push_str("(?:");
            return Ok(i + 1);
        }
        Some('=') | Some('!') => return Err(unsupported(java, "look-ahead")),
        Some('>') => return Err(unsupported(java, "an atomic group")),
        Some('<') => {
            return match chars.get(i + 1) {
                Some('=') | Some('!') => Err(unsupported(java, "look-behind")),
                _ => {
                    out.push_str("(?<");
                    Ok(i + 1)
                }
            };
        }
        _ => {}
    }
    // Inline flags: (?flags) or (?flags:...)
    out.push_str("(?");
    let mut on = true;
    while let Some(&f) = chars.get(i) {
        i += 1;
        match f {
            'i' | 'm' | 's' => {
                if f == 'i' && on {
                    *case_insensitive = true;
                }
                out.push(f);
            }
            '-' => {
                on = false;
                out.push('-');
            }
            ')' | ':' => {
                out.push(f);
                return Ok(i);
            }
            other => {
                return Err(unsupported(java, &format!("the inline flag {other:?}")));
            }
        }
    }
    Err(format!("pattern {java:?}: unclosed group"))
}

/// One escape; `i` points after the backslash. Returns the index after the escape.
fn escape(
    java: &str,
    chars: &[char],
    mut i: usize,
    in_class: bool,
    out: &mut String,
) -> Result<usize, String> {
    let Some(&c) = chars.get(i) else {
        return Err(format!("pattern {java:?} ends with a lone backslash"));
    };
    i += 1;
    if let Some((_, class)) = ASCII_CLASSES.iter().find(|(k, _)| *k == c) {
        out.push_str(class);
        return Ok(i);
    }
    match c {
        't' | 'n' | 'r' | 'f' => {
            out.push('\\');
            out.push(c);
        }
        'a' => out.push_str(r"\x07"),
        'e' => out.push_str(r"\x1B"),
        'A' | 'z' if !in_class => {
            out.push('\\');
            out.push(c);
        }
        'x' => {
            // \xhh or \x{h...h}: the same in both dialects.
            out.push_str(r"\x");
            if chars.get(i) == Some(&'{') {
                while let Some(&d) = chars.get(i).filter(|&&d| d != '}') {
                    out.push(d);
                    i += 1;
                }
                if i < chars.len() {
                    out.push('}');
                    i += 1;
                }
            } else {
                for _ in 0..2 {
                    if let Some(&h) = chars.get(i) {
                        out.push(h);
                        i += 1;
                    }
                }
            }
        }
        'u' => {
            let hex: String = chars.iter().skip(i).take(4).collect();
            if hex.len() != 4 || !hex.chars().all(|h| h.is_ascii_hexdigit()) {
                return Err(format!("pattern {java:?}: illegal Unicode escape"));
            }
            out.push_str(&format!(r"\x{{{hex}}}"));
            i += 4;
        }
        '0' => {
            // Java octal: \0n, \0nn, \0mnn (m <= 3).
            let digits: String = chars
                .iter()
                .skip(i)
                .take(3)
                .take_while(|d| ('0'..='7').contains(*d))
                .collect();
            let digits = if digits.len() == 3 && digits.as_bytes().first() > Some(&b'3') {
                &digits[..2]
            } else {
                &digits[..]
            };
            let value = u32::from_str_radix(digits, 8)
                .map_err(|_| format!("pattern {java:?}: illegal octal escape"))?;
            out.push_str(&format!(r"\x{{{value:X}}}"));
            i += digits.len();
        }
        'c' => {
            let Some(&x) = chars.get(i) else {
                return Err(format!("pattern {java:?}: illegal control escape"));
            };
            out.push_str(&format!(r"\x{{{:X}}}", (x as u32) ^ 64));
            i += 1;
        }
        'Q' => {
            // Literal text up to \E (or the end).
            while let Some(&q) = chars.get(i) {
                if q == '\\' && chars.get(i + 1) == Some(&'E') {
                    i += 2;
                    break;
                }
                push_literal(out, q);
                i += 1;
            }
        }
        '1'..='9' | 'k' => return Err(unsupported(java, "a back-reference")),
        'b' | 'B' => return Err(unsupported(java, "a word boundary (\\b, \\B)")),
        'p' | 'P' => return Err(unsupported(java, "a Java character property (\\p, \\P)")),
        _ if c.is_alphabetic() => {
            return Err(unsupported(java, &format!("the escape \\{c}")));
        }
        // A backslash before any other character makes it literal in Java.
        _ => push_literal(out, c),
    }
    Ok(i)
}

#[cfg(test)]
mod tests;
