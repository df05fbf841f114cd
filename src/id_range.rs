//! Inclusive ranges of UIDs or GIDs, as written in `[[impersonation.proxy]] uids` and
//! `gids`: `"20000-29999"` or `"31000"` (a bare TOML integer is read as `"31000"`).
//!
//! Strict on purpose, since a scope decides who may be impersonated: decimal digits
//! only (no sign, no spaces, no `0x`, no leading zeros that could be read as octal),
//! each bound a `u32`, at most one `-`, and `lo <= hi`.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// `lo..=hi`, both inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IdRange {
    /// The first ID in the range.
    pub lo: u32,
    /// The last ID in the range (inclusive).
    pub hi: u32,
}

impl IdRange {
    /// Parses `"N"` or `"LO-HI"`; the error says what is wrong, for the config message.
    pub fn parse(text: &str) -> Result<IdRange, String> {
        let bad = |why: &str| {
            format!(
                "invalid ID range {text:?}: {why} (write \"N\" or \"LO-HI\", decimal, \
                 inclusive, e.g. \"20000-29999\")"
            )
        };
        let number = |part: &str| -> Result<u32, String> {
            if part.is_empty() {
                return Err(bad("a bound is missing"));
            }
            if !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad("only decimal digits and one '-' are allowed"));
            }
            if part.len() > 1 && part.starts_with('0') {
                return Err(bad("leading zeros are not allowed"));
            }
            part.parse::<u32>()
                .map_err(|_| bad("a bound is larger than 4294967295"))
        };
        let (lo, hi) = match text.split_once('-') {
            None => {
                let n = number(text)?;
                (n, n)
            }
            Some((lo, hi)) => (number(lo)?, number(hi)?),
        };
        if lo > hi {
            return Err(bad("the low bound is above the high bound"));
        }
        Ok(IdRange { lo, hi })
    }

    /// Whether `id` is in the range, both ends included.
    pub fn contains(&self, id: u32) -> bool {
        self.lo <= id && id <= self.hi
    }
}

impl fmt::Display for IdRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.lo == self.hi {
            write!(f, "{}", self.lo)
        } else {
            write!(f, "{}-{}", self.lo, self.hi)
        }
    }
}

impl Serialize for IdRange {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for IdRange {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct RangeVisitor;
        impl Visitor<'_> for RangeVisitor {
            type Value = IdRange;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an ID range such as \"20000-29999\" or \"31000\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<IdRange, E> {
                IdRange::parse(v).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<IdRange, E> {
                u32::try_from(v)
                    .map(|n| IdRange { lo: n, hi: n })
                    .map_err(|_| E::custom(format!("invalid ID {v}: outside 0..=4294967295")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<IdRange, E> {
                self.visit_i64(i64::try_from(v).unwrap_or(-1))
            }
        }
        d.deserialize_any(RangeVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_table() {
        let ok: &[(&str, u32, u32)] = &[
            ("0", 0, 0),
            ("31000", 31000, 31000),
            ("20000-29999", 20000, 29999),
            ("5-5", 5, 5),
            ("0-4294967295", 0, u32::MAX),
            ("4294967295", u32::MAX, u32::MAX),
        ];
        for (text, lo, hi) in ok {
            assert_eq!(
                IdRange::parse(text),
                Ok(IdRange { lo: *lo, hi: *hi }),
                "{text}"
            );
        }
        let bad = [
            "",
            "-",
            "-5",
            "5-",
            "--5",
            "1-2-3",
            "5--6",
            " 5",
            "5 ",
            "5 - 6",
            "+5",
            "0x10",
            "007",
            "10-9",
            "4294967296",
            "1-4294967296",
            "abc",
            "1,2",
            "١٢",
            "5\n",
        ];
        for text in bad {
            assert!(IdRange::parse(text).is_err(), "{text:?} should be refused");
        }
    }

    #[test]
    fn display_round_trips() {
        for text in ["0", "31000", "20000-29999", "0-4294967295"] {
            assert_eq!(IdRange::parse(text).unwrap().to_string(), text);
        }
    }

    #[test]
    fn edges_are_inclusive() {
        let r = IdRange::parse("10-20").unwrap();
        assert!(!r.contains(9));
        assert!(r.contains(10));
        assert!(r.contains(20));
        assert!(!r.contains(21));
    }
}
