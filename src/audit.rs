//! The audit log: one JSON line per impersonation decision (and per PAM attempt,
//! see `auth`).
//!
//! Each line is written with a single `write(2)` on a file opened with `O_APPEND`,
//! so lines from many threads and many processes never interleave, and the file is
//! opened anew for every line, so a rotated log is followed without a signal.
//! Names cannot break a line: JSON escapes control characters and newlines.
//! The caller turns any failure here into a denial (fail closed). Errors (bad
//! input, a broken rule set, a source that cannot answer) are not decisions and
//! leave no line: the caller gets the error itself.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::json;

use crate::policy::Decision;

/// Mode of a newly created audit log: the owner writes, its group may read.
const AUDIT_FILE_MODE: u32 = 0o640;

/// The audit line for `decision` at `now`, without the trailing newline.
pub fn line(decision: &Decision, now: SystemTime) -> String {
    json!({
        "time": rfc3339_utc(now),
        "proxy": decision.proxy,
        "user": decision.user,
        "host": decision.host,
        "verdict": decision.verdict.as_str(),
        "rule": decision.rule,
        "reason": decision.reason,
        "effective_user": decision.effective_user,
        "effective_uid": decision.effective.as_ref().map(|id| id.uid),
    })
    .to_string()
}

/// Appends one line for `decision` to `path`, atomically. Any error (cannot open,
/// short write) is returned: the decision must then be a denial.
pub fn append(path: &Path, decision: &Decision) -> std::io::Result<()> {
    append_text(path, &line(decision, SystemTime::now()))
}

/// Appends `line` and a newline to `path` with one `write(2)` (`O_APPEND`).
pub fn append_text(path: &Path, line: &str) -> std::io::Result<()> {
    let mut text = String::with_capacity(line.len() + 1);
    text.push_str(line);
    text.push('\n');
    let mut file = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(AUDIT_FILE_MODE)
        .open(path)?;
    // One write call: a partial write would split a line, so it counts as failure.
    let written = file.write(text.as_bytes())?;
    if written != text.len() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::WriteZero,
            format!("short write ({written} of {} bytes)", text.len()),
        ));
    }
    Ok(())
}

/// `2026-11-23T12:55:04.123Z`. Times before 1970 print as the epoch.
pub fn rfc3339_utc(t: SystemTime) -> String {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since.subsec_millis()
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_table() {
        let cases: &[(u64, u32, &str)] = &[
            (0, 0, "1970-01-01T00:00:00.000Z"),
            (951_782_400, 5, "2000-02-29T00:00:00.005Z"),
            (1_709_251_199, 999, "2024-02-29T23:59:59.999Z"),
            (1_795_438_504, 123, "2026-11-23T12:55:04.123Z"),
            (4_102_444_800, 0, "2100-01-01T00:00:00.000Z"),
        ];
        for (secs, ms, want) in cases {
            let t = UNIX_EPOCH + Duration::from_secs(*secs) + Duration::from_millis(u64::from(*ms));
            assert_eq!(rfc3339_utc(t), *want, "{secs}");
        }
        assert_eq!(
            rfc3339_utc(UNIX_EPOCH - Duration::from_secs(5)),
            "1970-01-01T00:00:00.000Z"
        );
    }
}
