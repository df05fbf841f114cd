use super::*;

#[test]
fn translation_table() {
    // (java pattern, text, whole-match expected; None = refused at compile)
    let cases: &[(&str, &str, Option<bool>)] = &[
        (r"\d+", "123", Some(true)),
        (r"\d+", "\u{661}\u{662}", Some(false)), // Arabic-Indic digits: not \d in Java
        (r"\w+", "caf\u{e9}", Some(false)),
        (r"[\w.]+", "a.b_c", Some(true)),
        (r"\@", "@", Some(true)),
        (r"\<a\>", "<a>", Some(true)),
        (r"\Qa.b\E", "a.b", Some(true)),
        (r"\Qa.b\E", "axb", Some(false)),
        (r"[]a]+", "]a", Some(true)),
        (r"\x41\u0042\0103", "ABC", Some(true)),
        (r"(?i)abc", "ABC", Some(true)),
        (r"(?i:a)b", "Ab", Some(true)),
        (r"(?<n>a)b", "ab", Some(true)),
        (r"a{2}", "aa", Some(true)),
        (r"a*?", "aaa", Some(true)),
        (r"(a)\1", "aa", None),
        (r"(?=a)a", "a", None),
        (r"(?<=a)b", "ab", None),
        (r"(?>a)", "a", None),
        (r"a++", "aa", None),
        (r"a{2}+", "aa", None),
        (r"\bfoo", "foo", None),
        (r"\p{Lower}", "a", None),
        (r"(?U)a", "a", None),
        (r"(?x)a b", "ab", None),
        (r"[[:alpha:]]", "a", None),
        (r"[a--b]", "a", None),
        (r"\Z", "", None),
        (r"abc\", "abc", None),
        (r"a{", "a", None),
        (r"a?*", "a", None),
        (r"a???", "a", None),
        (r"a{1}{2}", "a", None),
    ];
    for (pattern, text, expected) in cases {
        match JavaRegex::compile(pattern) {
            Ok(re) => assert_eq!(
                re.matches_whole(text).ok(),
                *expected,
                "{pattern:?} on {text:?}"
            ),
            Err(e) => assert!(expected.is_none(), "{pattern:?} refused: {e}"),
        }
    }
}

#[test]
fn replacement_table() {
    // (pattern, text, replacement, all, expected) -- checked with OpenJDK 17.
    // (pattern, text, replacement, all, expected; None = error)
    let cases: &[(&str, &str, &str, bool, Option<&str>)] = &[
        ("a*", "baaac", "-", true, Some("-b--c-")),
        ("a*", "baaac", "-", false, Some("-baaac")),
        ("", "ab", "-", true, Some("-a-b-")),
        ("(x)", "x", "$12", true, Some("x2")),
        ("(?<n>x)", "x", "${n}${n}", true, Some("xx")),
        ("x", "x", "$", true, None),
        ("x", "y", "$", true, Some("y")), // no match: the replacement is never read
        ("(x)", "x", "\\", true, None),
        ("(x)", "x", "$2", true, None),
        ("(x)|(y)", "y", "[$1]", true, Some("[]")),
        ("x", "x", "\\$1", true, Some("$1")),
    ];
    for (pattern, text, replacement, all, expected) in cases {
        let re = JavaRegex::compile(pattern).unwrap();
        let got = re.replace(text, &re.replacement(replacement), *all);
        assert_eq!(
            got.as_deref().ok(),
            *expected,
            "{pattern:?} {text:?} {replacement:?}"
        );
    }
}

#[test]
fn text_differences_are_refused() {
    let re = JavaRegex::compile("(?i)k").unwrap();
    assert!(re.matches_whole("\u{212a}").is_err());
    assert_eq!(re.matches_whole("\u{e9}"), Ok(false));
    assert_eq!(re.matches_whole("K"), Ok(true));
    let re = JavaRegex::compile("(?i)\u{e9}").unwrap();
    assert!(re.matches_whole("\u{c9}").is_err());
    let re = JavaRegex::compile("(?i)\\u00e9").unwrap();
    assert!(re.matches_whole("\u{c9}").is_err());
    let re = JavaRegex::compile(".*").unwrap();
    assert!(re.matches_whole("a\u{2028}b").is_err());
}
