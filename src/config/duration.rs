//! Durations as the configuration writes them (`"300s"`), read and shown.

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serializer};

/// A duration written as `"300s"`, `"2m"`, `"1h"`, `"500ms"` or `"1d"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ConfDuration(pub(super) Duration);

impl<'de> Deserialize<'de> for ConfDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        parse_duration(&text)
            .map(ConfDuration)
            .map_err(serde::de::Error::custom)
    }
}

/// Parses `"300s"`-style durations. A bare number is refused: "300" could mean
/// seconds or milliseconds, and a wrong guess in a timeout is a silent outage.
pub fn parse_duration(text: &str) -> std::result::Result<Duration, String> {
    const UNITS: &str = "ms, s, m, h or d";
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    if digits.is_empty() {
        return Err(format!(
            "invalid duration {text:?}: expected a whole number followed by {UNITS}, e.g. \"300s\""
        ));
    }
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("invalid duration {text:?}: number too large"))?;
    let millis_per = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "" => return Err(format!("invalid duration {text:?}: missing unit ({UNITS})")),
        other => {
            return Err(format!(
                "invalid duration {text:?}: unknown unit {other:?} (use {UNITS})"
            ))
        }
    };
    n.checked_mul(millis_per)
        .map(Duration::from_millis)
        .ok_or_else(|| format!("invalid duration {text:?}: too large"))
}

pub(super) fn format_duration(d: &Duration) -> String {
    let ms = d.as_millis();
    for (unit, per) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
    ] {
        if ms > 0 && ms % per == 0 {
            return format!("{}{unit}", ms / per);
        }
    }
    format!("{ms}ms")
}

pub(super) fn ser_duration<S: Serializer>(
    d: &Duration,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&format_duration(d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_table() {
        let ok: &[(&str, u64)] = &[
            ("300s", 300_000),
            ("2m", 120_000),
            ("1h", 3_600_000),
            ("1d", 86_400_000),
            ("500ms", 500),
            ("0s", 0),
            (" 5s ", 5_000),
        ];
        for (text, ms) in ok {
            assert_eq!(
                parse_duration(text),
                Ok(Duration::from_millis(*ms)),
                "{text}"
            );
        }
        let bad = [
            "",
            "300",
            "s",
            "-5s",
            "5 s",
            "5sec",
            "1.5s",
            "5S",
            "99999999999999999999s",
            "18446744073709551615d",
            "5ss",
            "m5",
        ];
        for text in bad {
            assert!(parse_duration(text).is_err(), "{text:?} should be refused");
        }
    }

    #[test]
    fn durations_round_trip_for_display() {
        for text in ["30s", "2m", "1h", "1d", "500ms"] {
            assert_eq!(format_duration(&parse_duration(text).unwrap()), text);
        }
    }
}
