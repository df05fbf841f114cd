//! The audit log: one JSON line per impersonation decision (and per PAM attempt,
//! see `crate::auth`).
//!
//! Each line is written with a single `write(2)` on a file opened with `O_APPEND`,
//! under an exclusive `flock`, so lines from many threads and many processes never
//! interleave. A short or failed write (a full file system) is undone: the file is
//! truncated back to its length before the write, so a reader never sees a torn
//! line (and never half a line saying `"verdict":"allowed"`); the lock keeps another
//! proxid writer from appending between the write and the truncation. The file is
//! opened anew for every line, so a rotated log is followed without a signal, with
//! `O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC` (a symlink is refused, a FIFO cannot block
//! the decision) and must be a regular file.
//! Names cannot break a line: JSON escapes control characters and newlines.
//! The caller turns any failure here into a denial (fail closed). Errors (bad
//! input, a broken rule set, a source that cannot answer) are not decisions and
//! leave no line: the caller gets the error itself.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::json;

use super::Decision;
use crate::clock::Clock;

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

/// Appends one line for `decision`, stamped with `clock`'s wall time, to `path`,
/// whole or not at all. Any error (cannot open, not a regular file, short write) is
/// returned: the decision must then be a denial.
pub fn append(path: &Path, decision: &Decision, clock: &dyn Clock) -> std::io::Result<()> {
    append_text(path, &line(decision, clock.wall()))
}

/// Appends `line` and a newline to `path` with one `write(2)` (`O_APPEND`).
pub fn append_text(path: &Path, line: &str) -> std::io::Result<()> {
    let mut text = String::with_capacity(line.len() + 1);
    text.push_str(line);
    text.push('\n');
    check_directory(path)?;
    let file = open(path)?;
    let _lock = Flock::exclusive(&file)?;
    let before = file.metadata()?.len();
    let outcome = (&file).write(text.as_bytes());
    match outcome {
        Ok(n) if n == text.len() => Ok(()),
        other => {
            // Undo whatever part of the line reached the file.
            let undo = file.set_len(before);
            let why = match other {
                Ok(n) => format!("short write ({n} of {} bytes)", text.len()),
                Err(e) => e.to_string(),
            };
            let undo = match undo {
                Ok(()) => String::new(),
                Err(e) => format!("; truncating back to {before} bytes failed: {e}"),
            };
            Err(std::io::Error::other(format!("{why}{undo}")))
        }
    }
}

/// The log's directory must be safe from other users: whoever may create names in
/// it could swap the log (a link to somewhere else, a FIFO). A directory that does
/// not exist is left to `open` to report.
pub(crate) fn check_directory(path: &Path) -> std::io::Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    match std::fs::metadata(parent) {
        Ok(meta) if meta.is_dir() => {
            crate::config::check_policy_owner_mode(parent, &meta, "the audit log's directory")
                .map_err(std::io::Error::other)
        }
        _ => Ok(()),
    }
}

/// Opens the log for appending: never through a symlink, never blocking (a FIFO),
/// never inherited by a child; and only a regular file will do.
fn open(path: &Path) -> std::io::Result<File> {
    let file = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(AUDIT_FILE_MODE)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => std::io::Error::other(
                "is a symbolic link; proxid writes the audit log only to a regular file",
            ),
            Some(libc::ENXIO) => std::io::Error::other(
                "is a FIFO or socket; proxid writes the audit log only to a regular file",
            ),
            _ => e,
        })?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::other(
            "is not a regular file; proxid writes the audit log only to a regular file",
        ));
    }
    Ok(file)
}

/// An exclusive `flock` on a file, released when dropped.
struct Flock<'a>(&'a File);

impl<'a> Flock<'a> {
    fn exclusive(file: &'a File) -> std::io::Result<Flock<'a>> {
        loop {
            // SAFETY: the descriptor is open for the life of `file`.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } == 0 {
                return Ok(Flock(file));
            }
            let e = std::io::Error::last_os_error();
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }
}

impl Drop for Flock<'_> {
    fn drop(&mut self) {
        // SAFETY: as above; closing the file would release the lock anyway.
        unsafe { libc::flock(self.0.as_raw_fd(), libc::LOCK_UN) };
    }
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
