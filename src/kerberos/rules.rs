//! Hadoop's `hadoop.security.auth_to_local` rule language, evaluated as Hadoop 3.3.4's
//! `KerberosName.getShortName` does.
//!
//! Grammar (Hadoop's own parser, reproduced): rules follow each other with optional
//! whitespace, even none (`RULE:[1:$1]DEFAULT`); each is `DEFAULT` or
//! `RULE:[N:FORMAT]` + optional `(FILTER)` + optional `s/FROM/TO/` + optional `g`,
//! then an optional `/` and an optional `L`. FORMAT cannot contain `]`, FILTER
//! cannot contain `)`, FROM and TO cannot contain `/`. One configuration entry may
//! hold several rules (as copied from core-site.xml); any entry that does not parse
//! refuses the whole rule set, naming the entry.
//!
//! Evaluation, rule by rule, first result wins:
//! - `DEFAULT` yields the primary when the realm equals the default realm (exact,
//!   case-sensitive). Without any default realm it never applies (Hadoop uses "").
//! - `RULE:[N:...]` applies only to principals of exactly N components. FORMAT's `$0`
//!   is the realm, `$1` the primary, `$2` the instance; a `$n` beyond those, or `$`
//!   without digits, is an error when the rule is applied (Hadoop's BadFormatString),
//!   not a skip. `$0` of a principal without a realm is the text `null`, as in Hadoop.
//!   FILTER must match the whole expanded string; `s///` is Java's `replaceFirst`,
//!   or `replaceAll` with `g`.
//! - Under `hadoop`, a result containing `/` or `@` is an error naming the rule (it
//!   does not fall through to later rules); under `mit` it is returned. This check
//!   comes before `/L` lower-casing.
//! - No rule applied: `hadoop` fails; `mit` returns the principal unchanged.
//! - An empty FORMAT (`RULE:[1:]`) yields an empty short name without error, as in
//!   Hadoop; resolving it to an identity then fails as an empty name.
//! - A principal with neither instance nor realm is returned as it is, untouched by
//!   rules; so is a bare name (see [`super::name`]). Under `hadoop`, a primary that
//!   holds an escaped `/` or `@` is still refused, since it is not a simple name.

use super::AuthToLocalMechanism;
use crate::error::{Error, Result};

use super::javare::{JavaRegex, Replacement};
use super::name::KerberosName;

/// One piece of a rule's FORMAT.
#[derive(Debug, Clone)]
enum FormatPiece {
    Literal(String),
    Param(usize),
    /// `$` followed by no digits or too many: an error once the rule applies.
    Bad(String),
}

#[derive(Debug, Clone)]
enum Kind {
    Default,
    Rule {
        components: usize,
        format: Vec<FormatPiece>,
        filter: Option<Box<JavaRegex>>,
        substitution: Option<Box<(JavaRegex, Replacement, bool)>>,
    },
}

/// One parsed rule.
#[derive(Debug, Clone)]
struct Rule {
    kind: Kind,
    lower_case: bool,
    /// The rule as written, for messages.
    text: String,
}

/// A parsed, ready-to-use auth_to_local rule set.
#[derive(Debug, Clone)]
pub struct AuthToLocal {
    rules: Vec<Rule>,
    mechanism: AuthToLocalMechanism,
    default_realm: Option<String>,
}

/// Java's `\s`.
fn is_java_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\u{b}' | '\u{c}' | '\r')
}

/// Splits `s` at the first `stop`, returning (before, after-stop), or `None`.
fn until(s: &str, stop: char) -> Option<(&str, &str)> {
    s.find(stop).map(|i| (&s[..i], &s[i + stop.len_utf8()..]))
}

fn parse_format(format: &str) -> Vec<FormatPiece> {
    let mut pieces = Vec::new();
    let mut rest = format;
    while !rest.is_empty() {
        let (literal, after) = match until(rest, '$') {
            Some((lit, after)) => (lit, Some(after)),
            None => (rest, None),
        };
        if !literal.is_empty() {
            pieces.push(FormatPiece::Literal(literal.to_string()));
        }
        let Some(after) = after else { break };
        let digits_len = after.bytes().take_while(u8::is_ascii_digit).count();
        let digits = &after[..digits_len];
        pieces.push(match digits.parse::<i32>() {
            Ok(n) => FormatPiece::Param(n as usize),
            Err(_) => FormatPiece::Bad(digits.to_string()),
        });
        rest = &after[digits_len..];
    }
    pieces
}

/// Parses one rule at the start of `s` (Hadoop's `ruleParser.lookingAt`), returning
/// the rule and the rest.
fn parse_one(s: &str) -> std::result::Result<(Rule, &str), String> {
    let start = s.trim_start_matches(is_java_space);
    let (kind, mut rest) = if let Some(rest) = start.strip_prefix("DEFAULT") {
        (Kind::Default, rest)
    } else if let Some(rest) = start.strip_prefix("RULE:[") {
        let digits_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let (digits, rest) = rest.split_at(digits_len);
        let rest = rest.strip_prefix(':').ok_or("expected RULE:[N:FORMAT]")?;
        let (format, mut rest) = until(rest, ']').ok_or("FORMAT is not closed by ']'")?;
        let components: i32 = digits
            .parse()
            .map_err(|_| format!("component count {digits:?} is not a number"))?;
        if format
            .chars()
            .any(|c| matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}'))
        {
            return Err("FORMAT contains a line break".into());
        }
        let mut filter = None;
        if let Some(after) = rest.strip_prefix('(') {
            if let Some((pattern, after)) = until(after, ')') {
                filter = Some(Box::new(JavaRegex::compile(pattern)?));
                rest = after;
            }
        }
        let mut substitution = None;
        if let Some(after) = rest.strip_prefix("s/") {
            if let Some((from, after)) = until(after, '/') {
                if let Some((to, after)) = until(after, '/') {
                    let from = JavaRegex::compile(from)?;
                    let to = from.replacement(to);
                    let (global, after) = match after.strip_prefix('g') {
                        Some(a) => (true, a),
                        None => (false, after),
                    };
                    substitution = Some(Box::new((from, to, global)));
                    rest = after;
                }
            }
        }
        (
            Kind::Rule {
                components: components as usize,
                format: parse_format(format),
                filter,
                substitution,
            },
            rest,
        )
    } else {
        return Err("expected DEFAULT or RULE:[N:FORMAT](FILTER)s/FROM/TO/[g][/L]".into());
    };
    rest = rest.strip_prefix('/').unwrap_or(rest);
    let lower_case = if let Some(r) = rest.strip_prefix('L') {
        rest = r;
        // Hadoop accepts `DEFAULT/L` but never lower-cases DEFAULT's result.
        !matches!(kind, Kind::Default)
    } else {
        false
    };
    let text = start[..start.len() - rest.len()].to_string();
    Ok((
        Rule {
            kind,
            lower_case,
            text,
        },
        rest,
    ))
}

/// Parses configured rule entries; the error names the entry that failed.
fn parse_rules(entries: &[String]) -> std::result::Result<Vec<Rule>, String> {
    let mut rules = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        let named = |why: &str| format!("auth_to_local rule {} {entry:?}: {why}", index + 1);
        // Java's String.trim: every character up to U+0020.
        let mut rest = entry.trim_matches(|c: char| c <= ' ');
        if rest.is_empty() {
            return Err(named("empty rule"));
        }
        while !rest.is_empty() {
            let (rule, after) = parse_one(rest)
                .map_err(|why| named(&format!("invalid rule at {:?}: {why}", shorten(rest))))?;
            rules.push(rule);
            rest = after;
        }
    }
    Ok(rules)
}

fn shorten(s: &str) -> String {
    let mut out: String = s.chars().take(40).collect();
    if out.len() < s.len() {
        out.push_str("...");
    }
    out
}

impl AuthToLocal {
    /// Parses the rules once. A malformed rule refuses the whole set; the message
    /// names the rule.
    pub fn new(
        entries: &[String],
        mechanism: AuthToLocalMechanism,
        default_realm: Option<String>,
    ) -> std::result::Result<AuthToLocal, String> {
        Ok(AuthToLocal {
            rules: parse_rules(entries)?,
            mechanism,
            default_realm,
        })
    }

    /// Checks that rule entries parse, without building anything else.
    pub fn check(entries: &[String]) -> std::result::Result<(), String> {
        parse_rules(entries).map(|_| ())
    }

    /// The realm `DEFAULT` rules compare with.
    pub fn default_realm(&self) -> Option<&str> {
        self.default_realm.as_deref()
    }

    /// `hadoop` or `mit`: what happens to a principal no rule matches, and to a
    /// result that is not a simple name.
    pub fn mechanism(&self) -> AuthToLocalMechanism {
        self.mechanism
    }

    /// The short name of `principal` (Hadoop's `getShortName`).
    pub fn short_name(&self, principal: &str) -> Result<String> {
        let name = KerberosName::parse(principal)?;
        let (primary, instance, realm) = match &name {
            KerberosName::Bare(s) => return Ok(s.clone()),
            KerberosName::Principal {
                primary,
                instance,
                realm,
            } => (primary, instance, realm),
        };
        let hadoop = self.mechanism == AuthToLocalMechanism::Hadoop;
        let non_simple = |s: &str| s.contains('/') || s.contains('@');
        if instance.is_none() && realm.is_none() {
            if hadoop && non_simple(primary) {
                return Err(Error::invalid_name(
                    principal,
                    format!("{primary:?} is not a simple user name"),
                ));
            }
            return Ok(primary.clone());
        }
        // Hadoop's params: realm (null when absent), then the components.
        let mut params = vec![
            realm.clone().unwrap_or_else(|| "null".into()),
            primary.clone(),
        ];
        params.extend(instance.clone());
        for rule in &self.rules {
            if let Some(result) = self.apply(rule, &params, realm.as_deref(), principal)? {
                return Ok(result);
            }
        }
        if hadoop {
            let mut reason = format!("no auth_to_local rule applied to {}", name.to_text());
            if self.default_realm.is_none()
                && self.rules.iter().any(|r| matches!(r.kind, Kind::Default))
            {
                reason.push_str(
                    " (DEFAULT cannot apply: no default realm; set [principals] default_realm or krb5.conf's default_realm)",
                );
            }
            return Err(Error::invalid_name(principal, reason));
        }
        Ok(name.to_text())
    }

    fn apply(
        &self,
        rule: &Rule,
        params: &[String],
        realm: Option<&str>,
        principal: &str,
    ) -> Result<Option<String>> {
        let rule_error = |why: String| {
            Error::InvalidArgument(format!("auth_to_local rule {:?}: {why}", rule.text))
        };
        let result = match &rule.kind {
            Kind::Default => match (&self.default_realm, realm) {
                (Some(default), Some(realm)) if default == realm => params.get(1).cloned(),
                _ => None,
            },
            Kind::Rule {
                components,
                format,
                filter,
                substitution,
            } => {
                if params.len() - 1 != *components {
                    return Ok(None);
                }
                let base = expand(format, params).map_err(rule_error)?;
                let passes = match filter {
                    None => true,
                    Some(f) => f.matches_whole(&base).map_err(rule_error)?,
                };
                if !passes {
                    None
                } else if let Some(sub) = substitution {
                    let (from, to, global) = &**sub;
                    Some(from.replace(&base, to, *global).map_err(rule_error)?)
                } else {
                    Some(base)
                }
            }
        };
        let Some(result) = result else {
            return Ok(None);
        };
        if self.mechanism == AuthToLocalMechanism::Hadoop
            && (result.contains('/') || result.contains('@'))
        {
            return Err(Error::invalid_name(
                principal,
                format!(
                    "non-simple name {result:?} after auth_to_local rule {:?} (mechanism hadoop)",
                    rule.text
                ),
            ));
        }
        Ok(Some(if rule.lower_case {
            result.to_lowercase()
        } else {
            result
        }))
    }
}

/// Hadoop's `replaceParameters`.
fn expand(format: &[FormatPiece], params: &[String]) -> std::result::Result<String, String> {
    let mut out = String::new();
    for piece in format {
        match piece {
            FormatPiece::Literal(s) => out.push_str(s),
            FormatPiece::Param(n) => match params.get(*n) {
                Some(p) => out.push_str(p),
                None => {
                    return Err(format!(
                        "index {n} is outside of the valid range 0 to {}",
                        params.len() - 1
                    ))
                }
            },
            FormatPiece::Bad(digits) => {
                return Err(format!(
                    "bad format: \"${digits}\" is not a parameter number"
                ))
            }
        }
    }
    Ok(out)
}
