//! `proxid homes`: home directories for the users proxid resolves, done safely. The
//! EMR guide's step runs `hadoop fs -chmod 777 /user/$user` for every user; here each
//! directory belongs to its user and primary group with mode 0700, or a mode the
//! operator gives explicitly.
//!
//! Two ways:
//! - [`hdfs_commands`]: `hdfs dfs -mkdir -p`, `-chown`, `-chmod` lines for a shell,
//!   every operand with a character a shell treats specially single-quoted; names a shell or `hdfs` could misread (a leading
//!   `-`, `:`, `/`, control characters) are skipped, never passed on.
//! - [`LocalBase`]: directories under a local base, created relative to the opened
//!   base directory (`mkdirat`, `openat` with `O_NOFOLLOW`, `fchown`, `fchmod`), so a
//!   symbolic link planted at `BASE/NAME` is never followed and a name can never
//!   leave the base. Existing entries are left alone.

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::resolver::{Engine, Prefetch};
use crate::source::local_list;

/// The mode given to a new home directory unless `--mode` says otherwise.
pub const DEFAULT_MODE: u32 = 0o700;

/// Whose home directories.
#[derive(Debug, Clone, Copy)]
pub enum Selection<'a> {
    /// The members of a group, as the source lists them (LDAP: `memberUid` /
    /// `member`; local: the group's member list and the users whose primary group it is).
    Group(&'a str),
    /// Every user the source lists (LDAP: a paged search of the user base; local:
    /// users with UID >= 1000 except `nobody`).
    All,
    /// These names.
    Names(&'a [String]),
}

/// The user names a selection covers, sorted for a group or all users, in the order
/// given otherwise, each once. An unknown group is `NotFound`.
pub fn members(resolver: &Engine, selection: Selection<'_>) -> Result<Vec<String>> {
    let ldap = resolver.source_kind() == "ldap";
    let mut names = match selection {
        Selection::Names(names) => {
            let mut seen = std::collections::HashSet::new();
            return Ok(names
                .iter()
                .filter(|n| seen.insert(n.as_str()))
                .cloned()
                .collect());
        }
        Selection::Group(group) if ldap => {
            resolver.group(group)?;
            resolver.list_names(Prefetch::Group(group))?
        }
        Selection::Group(group) => local_list::group_members(group)?,
        Selection::All if ldap => resolver.list_names(Prefetch::Directory)?,
        Selection::All => local_list::regular_users()
            .into_iter()
            .map(|u| u.name)
            .collect(),
    };
    names.sort();
    names.dedup();
    Ok(names)
}

/// A user whose home directory is to be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    /// The primary group's name (its GID as text when the group has no entry).
    pub group: String,
}

/// Resolves `name` into a [`Target`]; the error is the reason to skip it.
pub fn target(resolver: &Engine, name: &str) -> std::result::Result<Target, String> {
    match resolver.resolve(name) {
        Ok(id) => {
            let group = id
                .groups
                .iter()
                .find(|g| g.gid == id.gid)
                .map_or_else(|| id.gid.to_string(), |g| g.name.clone());
            Ok(Target {
                name: id.name,
                uid: id.uid,
                gid: id.gid,
                group,
            })
        }
        Err(Error::NotFound { .. }) => Err("no such user".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// What happened (or would happen) for one user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// The directory was made.
    Created,
    /// Something is already there, left as it is.
    Exists,
    /// Nothing done; `reason` says why.
    Skipped,
    /// `--dry-run`: the directory would be made.
    WouldCreate,
    /// HDFS mode: the commands were written to the script.
    Scripted,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Created => "created",
            Action::Exists => "exists",
            Action::Skipped => "skipped",
            Action::WouldCreate => "would_create",
            Action::Scripted => "scripted",
        }
    }
}

/// One user's line of the report: `{"name","path","action","reason"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    pub name: String,
    pub path: String,
    pub action: Action,
    pub reason: Option<String>,
}

impl Outcome {
    pub fn skipped(name: &str, path: String, reason: impl Into<String>) -> Outcome {
        Outcome {
            name: name.to_string(),
            path,
            action: Action::Skipped,
            reason: Some(reason.into()),
        }
    }
}

/// Parses `--mode`: octal permission bits (`700`, `0750`), nothing above `0777`.
pub fn parse_mode(text: &str) -> Result<u32> {
    let digits = text.trim();
    let bad = || {
        Error::InvalidArgument(format!(
            "--mode {text:?}: give octal permission bits from 000 to 0777, such as 0700 or 0750"
        ))
    };
    if digits.is_empty() || digits.len() > 4 || !digits.bytes().all(|b| (b'0'..=b'7').contains(&b))
    {
        return Err(bad());
    }
    let mode = u32::from_str_radix(digits, 8).map_err(|_| bad())?;
    if mode > 0o777 {
        return Err(bad());
    }
    Ok(mode)
}

/// Why `name` cannot be one path component, if it cannot: `/`, `.`, `..`, or a
/// control character (a newline in a directory name breaks every script that lists it).
pub fn component_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() || name == "." || name == ".." {
        Some("not usable as a directory name")
    } else if name.contains('/') {
        Some("contains '/'")
    } else if name.chars().any(char::is_control) {
        Some("contains a control character")
    } else {
        None
    }
}

/// `text` as one word for a POSIX shell: as is when it holds only characters no shell
/// treats specially (as Python's `shlex.quote`), else in single quotes (`'` written
/// as `'\''`).
pub fn shell_quote(text: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "@%+=:,./_-".contains(c);
    if !text.is_empty() && text.chars().all(plain) {
        return text.to_string();
    }
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// The HDFS path of `name`'s home directory.
pub fn hdfs_path(name: &str) -> String {
    format!("/user/{name}")
}

/// The three `hdfs dfs` lines that make `target`'s home directory, or why not.
pub fn hdfs_commands(target: &Target, mode: u32) -> std::result::Result<String, String> {
    for (what, text) in [("user name", &target.name), ("group name", &target.group)] {
        if let Some(problem) = component_problem(text) {
            return Err(format!("{what} {problem}"));
        }
        if text.starts_with('-') {
            return Err(format!(
                "{what} starts with '-' (hdfs would read it as an option)"
            ));
        }
        if text.contains(':') {
            return Err(format!(
                "{what} contains ':' (not valid in an HDFS path or owner)"
            ));
        }
    }
    let path = shell_quote(&hdfs_path(&target.name));
    let owner = shell_quote(&format!("{}:{}", target.name, target.group));
    Ok(format!(
        "hdfs dfs -mkdir -p {path}\nhdfs dfs -chown {owner} {path}\nhdfs dfs -chmod {mode:03o} {path}\n"
    ))
}

fn errno() -> std::io::Error {
    std::io::Error::last_os_error()
}

/// A local base directory (`--local BASE`), held open so every entry is made
/// relative to it.
#[derive(Debug)]
pub struct LocalBase {
    dir: OwnedFd,
    path: PathBuf,
}

/// What is at `BASE/NAME` now.
enum Found {
    Nothing,
    Directory { uid: u32, gid: u32, mode: u32 },
    Other(&'static str),
}

impl LocalBase {
    /// Opens `path`, which must be a directory (the base itself may be reached through
    /// a symbolic link: the operator named it).
    pub fn open(path: &Path) -> Result<LocalBase> {
        let c = CString::new(path.as_os_str().as_encoded_bytes())
            .map_err(|_| Error::InvalidArgument("--local: the path contains a NUL byte".into()))?;
        // SAFETY: a valid C string; the fd is owned below.
        let fd = unsafe {
            libc::open(
                c.as_ptr(),
                libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(Error::io(
                format!("opening --local {}", path.display()),
                errno(),
            ));
        }
        Ok(LocalBase {
            // SAFETY: fd was just opened and is owned by nobody else.
            dir: unsafe { OwnedFd::from_raw_fd(fd) },
            path: path.to_path_buf(),
        })
    }

    pub fn path_of(&self, name: &str) -> String {
        self.path.join(name).display().to_string()
    }

    fn examine(&self, name: &std::ffi::CStr) -> std::io::Result<Found> {
        // SAFETY: stat is plain data, filled by fstatat.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: valid fd, C string and out pointer.
        let r = unsafe {
            libc::fstatat(
                self.dir.as_raw_fd(),
                name.as_ptr(),
                &mut st,
                libc::AT_SYMLINK_NOFOLLOW,
            )
        };
        if r != 0 {
            let e = errno();
            return if e.raw_os_error() == Some(libc::ENOENT) {
                Ok(Found::Nothing)
            } else {
                Err(e)
            };
        }
        Ok(match st.st_mode & libc::S_IFMT {
            libc::S_IFDIR => Found::Directory {
                uid: st.st_uid,
                gid: st.st_gid,
                mode: st.st_mode & 0o7777,
            },
            libc::S_IFLNK => Found::Other("a symbolic link is in the way (not followed)"),
            _ => Found::Other("something that is not a directory is in the way"),
        })
    }

    fn existing(&self, target: &Target, path: String, found: Found) -> Outcome {
        match found {
            Found::Directory { uid, gid, mode } => {
                let mut notes = Vec::new();
                if uid != target.uid || gid != target.gid {
                    notes.push(format!(
                        "owned by {uid}:{gid}, not {}:{}",
                        target.uid, target.gid
                    ));
                }
                if mode & 0o022 != 0 {
                    notes.push(format!("mode {mode:04o} is group- or world-writable"));
                }
                Outcome {
                    name: target.name.clone(),
                    path,
                    action: Action::Exists,
                    reason: (!notes.is_empty())
                        .then(|| format!("left unchanged: {}", notes.join(", "))),
                }
            }
            Found::Other(why) => Outcome::skipped(&target.name, path, why),
            Found::Nothing => Outcome::skipped(&target.name, path, "vanished while checked"),
        }
    }

    /// Makes `BASE/NAME` for `target` (owner, primary group, `mode`) unless something
    /// is there already; with `dry_run`, only says what it would do.
    pub fn ensure(&self, target: &Target, mode: u32, dry_run: bool) -> Outcome {
        let name = target.name.as_str();
        if let Some(problem) = component_problem(name) {
            return Outcome::skipped(
                name,
                self.path.display().to_string(),
                format!("name {problem}"),
            );
        }
        let path = self.path_of(name);
        let Ok(c) = CString::new(name) else {
            return Outcome::skipped(name, path, "name contains a NUL byte");
        };
        match self.examine(&c) {
            Ok(Found::Nothing) => {}
            Ok(found) => return self.existing(target, path, found),
            Err(e) => return Outcome::skipped(name, path, format!("cannot examine: {e}")),
        }
        if dry_run {
            return Outcome {
                name: name.to_string(),
                path,
                action: Action::WouldCreate,
                reason: None,
            };
        }
        // Owner-only until it belongs to the user: never briefly open to others.
        // SAFETY: valid fd and C string.
        if unsafe { libc::mkdirat(self.dir.as_raw_fd(), c.as_ptr(), 0o700) } != 0 {
            let e = errno();
            if e.raw_os_error() == Some(libc::EEXIST) {
                return match self.examine(&c) {
                    Ok(found) => self.existing(target, path, found),
                    Err(e) => Outcome::skipped(name, path, format!("cannot examine: {e}")),
                };
            }
            return Outcome::skipped(name, path, format!("cannot create: {e}"));
        }
        // SAFETY: valid fd and C string; O_NOFOLLOW refuses a link swapped in since.
        let fd = unsafe {
            libc::openat(
                self.dir.as_raw_fd(),
                c.as_ptr(),
                libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
            )
        };
        if fd < 0 {
            return Outcome::skipped(
                name,
                path,
                format!("created, but cannot open it: {}", errno()),
            );
        }
        // SAFETY: just opened, owned here.
        let dir = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: valid fd.
        let set = unsafe {
            libc::fchown(dir.as_raw_fd(), target.uid, target.gid) == 0
                && libc::fchmod(dir.as_raw_fd(), mode as libc::mode_t) == 0
        };
        if !set {
            let e = errno();
            drop(dir);
            // Not left half-made (owned by whoever ran this).
            // SAFETY: valid fd and C string.
            unsafe { libc::unlinkat(self.dir.as_raw_fd(), c.as_ptr(), libc::AT_REMOVEDIR) };
            return Outcome::skipped(name, path, format!("cannot set owner and mode: {e}"));
        }
        Outcome {
            name: name.to_string(),
            path,
            action: Action::Created,
            reason: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_table() {
        for (text, want) in [
            ("700", Some(0o700)),
            ("0750", Some(0o750)),
            ("0770", Some(0o770)),
            ("0", Some(0)),
        ] {
            assert_eq!(parse_mode(text).ok(), want, "{text}");
        }
        for text in ["", "8", "1777", "07777", "rwx", "-700", "0o700", "99999"] {
            assert!(parse_mode(text).is_err(), "{text}");
        }
    }

    #[test]
    fn quoting_and_refusals() {
        assert_eq!(shell_quote("a'b"), "'a'\\''b'");
        assert_eq!(shell_quote("/user/alice"), "/user/alice");
        assert_eq!(shell_quote("alice:staff"), "alice:staff");
        for odd in ["", "a b", "$(x)", "`x`", "a;b", "*", "~x", "a\nb", "é"] {
            assert!(shell_quote(odd).starts_with('\''), "{odd:?}");
        }
        let t = |name: &str, group: &str| Target {
            name: name.into(),
            uid: 1,
            gid: 1,
            group: group.into(),
        };
        let script = hdfs_commands(&t("o'neil", "staff"), 0o700).unwrap();
        assert!(
            script.contains("-mkdir -p '/user/o'\\''neil'\n"),
            "{script}"
        );
        assert!(script.contains("-chown 'o'\\''neil:staff' '/user/o'\\''neil'\n"));
        assert!(script.contains("-chmod 700 '/user/o'\\''neil'\n"));
        for bad in ["../x", "..", "-rf", "a:b", "a\nb", "a/b"] {
            assert!(hdfs_commands(&t(bad, "staff"), 0o700).is_err(), "{bad:?}");
        }
        assert!(hdfs_commands(&t("a", "-g"), 0o700).is_err());
    }
}
