//! Rewriting a Java pattern into `regex` syntax with the same meaning, or refusing it
//! with an error naming the construct (the table in the parent module's docs).

pub(super) struct Translated {
    pub(super) pattern: String,
    pub(super) case_insensitive: bool,
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
pub(super) fn translate(java: &str) -> Result<Translated, String> {
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
