//! The crate's error type. Every variant says what the caller should do about it;
//! the foreign front doors flatten these into fixed status codes (see `ffi`).

use std::path::PathBuf;
use std::sync::Arc;

/// Result alias used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while loading configuration, resolving or deciding.
///
/// Cheap to clone (the one non-`Clone` payload, an `io::Error`, is shared), so callers
/// that waited on another thread's lookup receive exactly its error. Code that acts on
/// the kind of error matches on the variants, exhaustively, never on [`Error::kind`]'s
/// text.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// The name was rejected before any lookup (empty, NUL, too long, not UTF-8, or a
    /// malformed principal). Fix the input; retrying will not help.
    #[error("invalid name {name:?}: {reason}")]
    InvalidName {
        /// The name as given (cut and made printable where it had to be).
        name: String,
        /// What is wrong with it.
        reason: String,
    },

    /// No source knows this user or group. Refuse the request; do not guess.
    #[error("{what} not found")]
    NotFound {
        /// What was looked for (`user "alice"`, `uid 4000`, ...).
        what: String,
    },

    /// The source could not answer (LDAP down, NSS module failing). Retry later; the
    /// answer is unknown, which is not the same as "no such user".
    #[error("{source_name} unavailable: {detail}")]
    Unavailable {
        /// The source that could not answer ("local", "ldap", ...).
        source_name: String,
        /// Why (the server, the error it gave).
        detail: String,
    },

    /// The source did not answer within the configured time. Like `Unavailable`: retry
    /// later; the answer is unknown.
    #[error("{source_name} timed out after {after_ms} ms")]
    Timeout {
        /// The source that did not answer.
        source_name: String,
        /// How long it was waited for, in milliseconds.
        after_ms: u64,
    },

    /// The directory holds data we refuse to interpret (two entries for one name, a
    /// missing or invalid ID). Fix the directory; proxid never picks one at random.
    #[error("ambiguous or invalid directory data: {detail}")]
    Directory {
        /// What is wrong, naming the entries (DNs) concerned.
        detail: String,
    },

    /// The configuration is wrong. Fix the file named in the message.
    #[error("{file}: {message}")]
    Config {
        /// The file at fault (the configuration file, or a file it names).
        file: PathBuf,
        /// What is wrong and, where it can say, the section, key and line.
        message: String,
    },

    /// Client and server disagree on who resolves names. Align `[resolution]` on both.
    #[error("resolution mode mismatch: {detail}")]
    ModeMismatch {
        /// Both sides' settings, and whose assertion it was.
        detail: String,
    },

    /// The client's IDs differ from the server's resolution of the same name. Refuse
    /// the request; fix whichever registry is wrong.
    #[error("identity mismatch for {name}: {detail}")]
    IdentityMismatch {
        /// The name both sides resolved.
        name: String,
        /// Every ID that differs, the client's and the server's.
        detail: String,
    },

    /// A caller-supplied argument is unusable (bad assertion JSON, bad principal rule...).
    /// Fix the argument; retrying will not help.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),

    /// An operating-system call failed for a reason other than "not found" (a file
    /// that cannot be read, a thread that cannot start). Fix what `context` names.
    #[error("{context}: {source}")]
    Io {
        /// What was being done (`read /etc/proxid/bind.secret`, ...).
        context: String,
        /// The operating system's error, shared so the enum stays cheap to clone.
        #[source]
        source: Arc<std::io::Error>,
    },
}

impl Error {
    pub(crate) fn invalid_name(name: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidName {
            name: name.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn not_found(what: impl Into<String>) -> Self {
        Error::NotFound { what: what.into() }
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source: Arc::new(source),
        }
    }

    pub(crate) fn config(file: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Config {
            file: file.into(),
            message: message.into(),
        }
    }

    /// A stable, machine-readable kind, used by the CLI's `--json` output and the
    /// foreign front doors.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::InvalidName { .. } => "invalid_name",
            Error::NotFound { .. } => "not_found",
            Error::Unavailable { .. } => "unavailable",
            Error::Timeout { .. } => "timeout",
            Error::Directory { .. } => "directory",
            Error::Config { .. } => "config",
            Error::ModeMismatch { .. } => "mode_mismatch",
            Error::IdentityMismatch { .. } => "identity_mismatch",
            Error::InvalidArgument(_) => "invalid_argument",
            Error::Io { .. } => "io",
        }
    }
}
