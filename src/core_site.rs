//! Reads the `hadoop.proxyuser.*` properties of a Hadoop `core-site.xml`.
//!
//! The file is read the way Hadoop's `Configuration` reads it, as far as these keys
//! go: `<configuration>` holding `<property>` elements, each with `<name>` and
//! `<value>` children or `name`/`value` attributes; a later property of the same
//! name replaces an earlier one; an empty value does not set the key at all (Hadoop
//! drops null values), so it leaves an earlier value in place. Keys are
//! `hadoop.proxyuser.<S>.users|groups|hosts`, where `<S>`, the proxy's short name,
//! may hold dots but no whitespace (Hadoop's key regex is `[\S]*`).
//!
//! `final` is Hadoop's `Configuration.loadProperty` exactly (checked against Hadoop
//! 3.3.4 by `tests/security_policy.rs`, cases in `tests/data/core_site_final.txt`): a
//! property is final when its `<final>` text (or `final` attribute) is exactly
//! `true` (not `TRUE`, not ` true `; the last `<final>` of a property counts). Once
//! a name was defined final, every later definition of it is ignored, whatever its
//! own `final`; a final definition after non-final ones replaces them and then
//! sticks. A final definition without a value (or with an empty one) locks the
//! name as it stands: its earlier value, or no value at all.
//!
//! Refused with a clear error, never half-read: malformed XML, a root element other
//! than `<configuration>`, entities other than the five XML ones and character
//! references (so no DTD tricks), `xi:include` (its rules would be missing), and
//! `${...}` variables in a proxy-user value (proxid does not expand them; a guess
//! could widen a rule).

use std::collections::BTreeMap;

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

/// `String.trim()`: strips every char whose code is at most U+0020.
pub(crate) fn java_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

/// The three keys of one proxy, as Hadoop strings (`None` = key absent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ProxyKeys {
    pub users: Option<String>,
    pub groups: Option<String>,
    pub hosts: Option<String>,
}

/// Hadoop's default proxy-user key prefix (`ProxyUsers.CONF_HADOOP_PROXYUSER`).
pub(crate) const DEFAULT_PREFIX: &str = "hadoop.proxyuser";

/// The proxy-user keys of a core-site.xml text, by proxy short name. Errors are
/// human-readable and carry the line where the problem is.
pub(crate) fn parse(text: &str) -> Result<BTreeMap<String, ProxyKeys>, String> {
    let mut props = Properties::default();
    read_properties(text, &mut props)?;
    proxy_keys(props.values, DEFAULT_PREFIX)
}

/// The `<prefix>.<S>.users|groups|hosts` keys among `props` (name, value pairs in
/// the order they were set: a later one replaces an earlier one), by proxy short
/// name. The one rule builder behind both core-site.xml and a Hadoop
/// `Configuration` handed over by the Java provider. `prefix` is taken with or
/// without its trailing dot, as Hadoop's `DefaultImpersonationProvider.init` does.
pub(crate) fn proxy_keys(
    props: impl IntoIterator<Item = (String, String)>,
    prefix: &str,
) -> Result<BTreeMap<String, ProxyKeys>, String> {
    let prefix = prefix.strip_suffix('.').unwrap_or(prefix);
    let mut out: BTreeMap<String, ProxyKeys> = BTreeMap::new();
    for (name, value) in props {
        let Some((proxy, kind)) = proxy_key(&name, prefix) else {
            continue;
        };
        if value.contains("${") {
            return Err(format!(
                "property {name}: ${{...}} variables are not expanded by proxid; write the value out"
            ));
        }
        let keys = out.entry(proxy.to_string()).or_default();
        let slot = match kind {
            "users" => &mut keys.users,
            "groups" => &mut keys.groups,
            _ => &mut keys.hosts,
        };
        *slot = Some(value);
    }
    Ok(out)
}

/// The value of one property (the last one set, as Hadoop keeps it), read with the
/// same rules as the proxy-user keys; `None` when the file does not set it.
pub(crate) fn property(text: &str, key: &str) -> Result<Option<String>, String> {
    let mut props = Properties::default();
    read_properties(text, &mut props)?;
    Ok(props
        .values
        .into_iter()
        .rev()
        .find(|(name, _)| name == key)
        .map(|(_, v)| v))
}

/// Splits `<prefix>.<S>.<kind>` into `(S, kind)`.
fn proxy_key<'n>(name: &'n str, prefix: &str) -> Option<(&'n str, &'n str)> {
    let rest = name.strip_prefix(prefix)?.strip_prefix('.')?;
    let (proxy, kind) = rest.rsplit_once('.')?;
    let known = matches!(kind, "users" | "groups" | "hosts");
    (known && !proxy.is_empty() && !proxy.chars().any(char::is_whitespace)).then_some((proxy, kind))
}

/// 1-based line of a byte offset, for messages.
fn line_of(text: &str, pos: u64) -> usize {
    let end = usize::try_from(pos).unwrap_or(usize::MAX).min(text.len());
    text.as_bytes()
        .iter()
        .take(end)
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Which element's text we are collecting inside a `<property>`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    Name,
    Value,
    Final,
    Other,
}

/// State of the `<property>` being read.
#[derive(Default)]
struct Property {
    name: Option<String>,
    value: Option<String>,
    /// Hadoop: `"true".equals(text)`, no trimming, no case folding.
    final_: bool,
}

/// The properties read so far, in file order, and the names defined final.
#[derive(Default)]
struct Properties {
    values: Vec<(String, String)>,
    finals: std::collections::HashSet<String>,
}

fn local(e: &BytesStart<'_>) -> String {
    e.local_name().as_ref().to_string()
}

fn attribute(e: &BytesStart<'_>, key: &str) -> Result<Option<String>, String> {
    match e.try_get_attribute(key) {
        Ok(Some(a)) => a
            .normalized_value(XmlVersion::Implicit1_0)
            .map(|v| Some(v.into_owned()))
            .map_err(|err| format!("attribute {key}: {err}")),
        Ok(None) => Ok(None),
        Err(err) => Err(format!("attributes: {err}")),
    }
}

/// The five predefined entities; anything else is refused.
fn entity(name: &str) -> Option<char> {
    Some(match name {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "apos" => '\'',
        "quot" => '"',
        _ => return None,
    })
}

fn read_properties(text: &str, props: &mut Properties) -> Result<(), String> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    // Element names from the root down; text goes to `field` inside a property.
    let mut stack: Vec<String> = Vec::new();
    let mut seen_root = false;
    let mut property: Option<Property> = None;
    let mut field = Field::Other;
    let mut buffer = String::new();
    let at = |r: &Reader<&[u8]>| format!("line {}", line_of(text, r.buffer_position()));
    loop {
        let event = reader.read_event().map_err(|e| {
            format!(
                "malformed XML at line {}: {e}",
                line_of(text, reader.error_position())
            )
        })?;
        let in_property = stack.len() == 2 && property.is_some();
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let name = local(e);
                let empty = matches!(event, Event::Empty(_));
                if stack.is_empty() {
                    if seen_root {
                        return Err(format!("{}: a second root element <{name}>", at(&reader)));
                    }
                    if name != "configuration" {
                        return Err(format!(
                            "{}: the root element is <{name}>, expected <configuration>",
                            at(&reader)
                        ));
                    }
                    seen_root = true;
                } else if name == "include" {
                    return Err(format!(
                        "{}: <{}> (XInclude) is not supported; \
                         put the proxy-user properties in this file",
                        at(&reader),
                        e.name().as_ref()
                    ));
                } else if stack.len() == 1 && name == "property" {
                    let mut p = Property {
                        name: attribute(e, "name")?,
                        value: attribute(e, "value")?,
                        final_: attribute(e, "final")?.as_deref() == Some("true"),
                    };
                    if empty {
                        finish(&mut p, props);
                    } else {
                        property = Some(p);
                    }
                } else if in_property {
                    field = match name.as_str() {
                        "name" => Field::Name,
                        "value" => Field::Value,
                        "final" => Field::Final,
                        _ => Field::Other,
                    };
                    buffer.clear();
                }
                if !empty {
                    stack.push(name);
                }
            }
            Event::End(_) => {
                let name = stack.pop().unwrap_or_default();
                if stack.len() == 2 && property.is_some() {
                    if let Some(p) = property.as_mut() {
                        match field {
                            Field::Name => p.name = Some(java_trim_owned(&buffer)),
                            Field::Value => p.value = Some(buffer.clone()),
                            Field::Final => p.final_ = buffer == "true",
                            Field::Other => {}
                        }
                    }
                    field = Field::Other;
                    buffer.clear();
                } else if stack.len() == 1 && name == "property" {
                    if let Some(mut p) = property.take() {
                        finish(&mut p, props);
                    }
                }
            }
            Event::Text(ref t) => {
                let content = t.xml10_content();
                if stack.is_empty() && !content.trim().is_empty() {
                    return Err(format!("{}: text outside <configuration>", at(&reader)));
                }
                if stack.len() == 3 && field != Field::Other {
                    buffer.push_str(&content);
                }
            }
            Event::CData(ref c) => {
                if stack.is_empty() {
                    return Err(format!("{}: CDATA outside <configuration>", at(&reader)));
                }
                if stack.len() == 3 && field != Field::Other {
                    buffer.push_str(&c.xml10_content());
                }
            }
            Event::GeneralRef(ref r) => {
                let c = match r.resolve_char_ref() {
                    Ok(Some(c)) => c,
                    Ok(None) => {
                        let name = r.xml10_content();
                        entity(&name).ok_or_else(|| {
                            format!(
                                "{}: unknown entity &{name}; (only the five XML entities are allowed)",
                                at(&reader)
                            )
                        })?
                    }
                    Err(e) => return Err(format!("{}: {e}", at(&reader))),
                };
                if stack.len() == 3 && field != Field::Other {
                    buffer.push(c);
                }
            }
            Event::DocType(_) => {
                return Err(format!(
                    "{}: DOCTYPE declarations are not accepted in core-site.xml",
                    at(&reader)
                ));
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => {
                if let Some(open) = stack.last() {
                    return Err(format!(
                        "malformed XML: the file ends inside <{open}> (line {})",
                        line_of(text, text.len() as u64)
                    ));
                }
                if !seen_root {
                    return Err("no <configuration> element (empty or not XML)".into());
                }
                return Ok(());
            }
        }
    }
}

fn java_trim_owned(s: &str) -> String {
    java_trim(s).to_string()
}

/// Records a finished property as `Configuration.loadProperty` does: one without a
/// name, or with an empty value (`<value></value>` or no value at all), sets
/// nothing; a name already defined final keeps its value; a final property locks
/// its name even when it set nothing.
fn finish(p: &mut Property, props: &mut Properties) {
    let Some(name) = p.name.take().filter(|n| !n.is_empty()) else {
        return;
    };
    let value = p.value.take().filter(|v| !v.is_empty());
    if let Some(value) = value {
        if !props.finals.contains(&name) {
            props.values.push((name.clone(), value));
        }
    }
    if p.final_ {
        props.finals.insert(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conf(body: &str) -> String {
        format!("<?xml version=\"1.0\"?>\n<configuration>\n{body}\n</configuration>\n")
    }

    fn prop(name: &str, value: &str) -> String {
        format!("<property><name>{name}</name><value>{value}</value></property>")
    }

    #[test]
    fn reads_proxy_user_keys() {
        let text = conf(
            &[
                prop("hadoop.proxyuser.livy.hosts", "*"),
                prop("hadoop.proxyuser.livy.groups", "jupyter, staff"),
                prop("hadoop.proxyuser.test.user.users", "alice"),
                prop("hadoop.proxyuser.test user2.groups", "*"),
                prop("hadoop.proxyuser.livy.other", "x"),
                prop("fs.defaultFS", "hdfs://nn:8020"),
                "<property name=\"hadoop.proxyuser.hive.hosts\" value=\"10.0.0.0/8\"/>".into(),
                prop(" hadoop.proxyuser.hue.users ", "a &amp; b,&#99;"),
                prop(
                    "hadoop.proxyuser.oozie.hosts",
                    "<![CDATA[1.2.3.4\n5.6.7.8]]>",
                ),
            ]
            .concat(),
        );
        let keys = parse(&text).unwrap();
        assert_eq!(keys.len(), 5, "{keys:?}");
        assert_eq!(keys["livy"].hosts.as_deref(), Some("*"));
        assert_eq!(keys["livy"].groups.as_deref(), Some("jupyter, staff"));
        assert_eq!(keys["livy"].users, None);
        assert_eq!(keys["test.user"].users.as_deref(), Some("alice"));
        assert_eq!(keys["hive"].hosts.as_deref(), Some("10.0.0.0/8"));
        assert_eq!(keys["hue"].users.as_deref(), Some("a & b,c"));
        assert_eq!(keys["oozie"].hosts.as_deref(), Some("1.2.3.4\n5.6.7.8"));
    }

    #[test]
    fn later_values_win_and_empty_values_do_not_count() {
        let text = conf(&[
            prop("hadoop.proxyuser.a.groups", "first"),
            prop("hadoop.proxyuser.a.groups", "second"),
            prop("hadoop.proxyuser.a.groups", ""),
            prop("hadoop.proxyuser.b.hosts", ""),
            "<property><name>hadoop.proxyuser.c.users</name></property>".into(),
            "<property><description>d</description><name>hadoop.proxyuser.d.users</name><final>true</final><value>x</value></property>".into(),
        ]
        .concat());
        let keys = parse(&text).unwrap();
        assert_eq!(keys["a"].groups.as_deref(), Some("second"));
        assert!(!keys.contains_key("b") && !keys.contains_key("c"));
        assert_eq!(keys["d"].users.as_deref(), Some("x"));
    }

    /// The case table checked against real Hadoop 3.3.4 by tests/security_policy.rs.
    pub(crate) const FINAL_CASES: &str = include_str!("../tests/data/core_site_final.txt");

    #[test]
    fn sec_11_2_final_properties_stick_as_in_hadoop() {
        let mut rows = 0;
        for line in FINAL_CASES.lines().filter(|l| !l.starts_with('#')) {
            let (want, body) = line.split_once('\t').expect("a tab in every case");
            let keys = parse(&conf(body)).unwrap_or_else(|e| panic!("{body}: {e}"));
            let got = keys.get("p").and_then(|k| k.groups.as_deref());
            let want = (want != "<unset>").then_some(want);
            assert_eq!(got, want, "{body}");
            rows += 1;
        }
        assert!(rows >= 18, "{rows} cases");
    }

    #[test]
    fn empty_configuration_is_no_rules() {
        assert!(parse("<configuration/>").unwrap().is_empty());
        assert!(parse("<configuration></configuration>").unwrap().is_empty());
    }

    #[test]
    fn malformed_files_table() {
        // (text, words the error must contain)
        let cases: &[(&str, &[&str])] = &[
            ("", &["no <configuration>"]),
            ("not xml at all", &["outside <configuration>"]),
            ("<configuration>", &["ends inside <configuration>"]),
            (
                "<configuration>\n<property><name>a</name></propert>\n</configuration>",
                &["malformed XML", "line 2"],
            ),
            ("<conf></conf>", &["expected <configuration>"]),
            (
                "<configuration></configuration><configuration></configuration>",
                &["second root"],
            ),
            (
                "<!DOCTYPE x [<!ENTITY e \"1.2.3.4\">]><configuration/>",
                &["DOCTYPE"],
            ),
            (
                "<configuration><property><name>n</name><value>&e;</value></property></configuration>",
                &["unknown entity &e;"],
            ),
            (
                "<configuration xmlns:xi=\"http://www.w3.org/2001/XInclude\"><xi:include href=\"x.xml\"/></configuration>",
                &["XInclude"],
            ),
            (
                "<configuration><property><name>hadoop.proxyuser.a.hosts</name><value>${h}</value></property></configuration>",
                &["hadoop.proxyuser.a.hosts", "variables"],
            ),
            ("<configuration><property name=\"a></configuration>", &["malformed XML"]),
        ];
        for (text, words) in cases {
            let err = parse(text).expect_err(text);
            for w in *words {
                assert!(err.contains(w), "{text:?}: {err:?} lacks {w:?}");
            }
        }
    }
}
