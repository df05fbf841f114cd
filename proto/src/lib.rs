//! proxidd's wire protocol: what the NSS module, the PAM module and the `proxid` CLI
//! send the daemon over its Unix stream socket, and what it answers.
//!
//! # Frames
//!
//! Every message (request or answer) is one frame:
//!
//! ```text
//! +------+------+------+---------+-----------------------+------------------+
//! | 'P'  | 'X'  | 'D'  | version | payload length (u32 BE) | payload (length) |
//! +------+------+------+---------+-----------------------+------------------+
//! ```
//!
//! The payload starts with a `u16` kind (big endian) followed by the kind's fields.
//! Integers are big endian; byte strings and text are a `u32` length then the bytes
//! (text is UTF-8, checked on decode); a list is a `u32` count then the items.
//! A request payload is at most [`MAX_REQUEST`] bytes, an answer at most [`MAX_FRAME`].
//! One connection carries any number of request/answer pairs, strictly in turn.
//!
//! Decoding never panics and never allocates more than the frame holds: every length
//! and count is checked against the bytes that are actually there.
//!
//! # Adding a request kind
//!
//! 1. Add a variant to [`Request`] with a new, never reused number in [`kind`]
//!    (numbers are the contract; old daemons answer an unknown number with
//!    [`Response::Error`] saying "unsupported request", so clients can tell).
//! 2. Encode it in `Request::encode_payload` and decode it in `Request::decode_payload`
//!    (same field order), and add a round-trip case to the tests.
//! 3. If it needs a new kind of answer, do the same in [`Response`].
//! 4. Answer it in the daemon (`src/bin/proxidd/`), deciding there whether it is
//!    privileged (root only, checked with `SO_PEERCRED`).
//!
//! Bump [`VERSION`] only for a change an old peer would misread (a field added to an
//! existing kind); new kinds do not need it.
//!
//! # Versions and negotiation
//!
//! There is none to do: a frame's version byte says how its kinds are laid out, and
//! it is still 1. Kinds were added since (`RESOLVE` and its answers, for the CLI),
//! without a bump, because a peer that does not know a kind says so instead of
//! misreading it: a daemon that predates a request answers [`Response::Error`]
//! ("unsupported request kind N") and the asking side falls back to what it did
//! before (the CLI resolves by itself); the NSS and PAM modules never send the new
//! kinds and never receive their answers, so old modules and new daemons (and the
//! reverse) keep working.

#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod client;
pub mod table;

mod entry;
mod request;
mod response;
mod wire;

pub use entry::{
    GroupEntry, GroupRef, Identity, IdentityGroup, Passwd, Status, StatusDetail, CONFIG_DIGEST_LEN,
};
pub use request::Request;
pub use response::Response;

use std::fmt;

/// The first three bytes of every frame.
pub const MAGIC: [u8; 3] = *b"PXD";
/// Protocol version, the fourth byte of every frame.
pub const VERSION: u8 = 1;
/// Bytes before the payload: magic, version, length.
pub const HEADER_LEN: usize = 8;
/// Largest request payload the daemon reads (names are at most 256 bytes; a PAM
/// password a few kB).
pub const MAX_REQUEST: usize = 64 * 1024;
/// Largest answer payload a client reads (a group of 100,000 members fits).
pub const MAX_FRAME: usize = 16 * 1024 * 1024;

/// Request and answer kind numbers (the `u16` at the start of a payload). Fixed,
/// never reused.
pub mod kind {
    pub const GETPWNAM: u16 = 1;
    pub const GETPWUID: u16 = 2;
    pub const GETGRNAM: u16 = 3;
    pub const GETGRGID: u16 = 4;
    pub const INITGROUPS: u16 = 5;
    pub const LIST_PASSWD: u16 = 6;
    pub const LIST_GROUP: u16 = 7;
    pub const STATUS: u16 = 8;
    pub const INVALIDATE: u16 = 9;
    pub const RELOAD: u16 = 10;
    /// The CLI's `proxid resolve` / `groups` (the full resolver, not the NSS view).
    pub const RESOLVE: u16 = 11;
    // PAM (32..=63).
    pub const AUTHENTICATE: u16 = 32;
    pub const ACCOUNT: u16 = 33;
    pub const IMPERSONATE: u16 = 34;

    // Answers (256..).
    pub const R_PASSWD: u16 = 256;
    pub const R_GROUP: u16 = 257;
    pub const R_GIDS: u16 = 258;
    pub const R_PASSWD_LIST: u16 = 259;
    pub const R_GROUP_LIST: u16 = 260;
    pub const R_NOT_FOUND: u16 = 261;
    pub const R_UNAVAILABLE: u16 = 262;
    pub const R_DENIED: u16 = 263;
    pub const R_ERROR: u16 = 264;
    pub const R_STATUS: u16 = 265;
    pub const R_DONE: u16 = 266;
    pub const R_VERDICT: u16 = 267;
    pub const R_IDENTITY: u16 = 268;
    pub const R_FAILED: u16 = 269;
    pub const R_OTHER_CONFIG: u16 = 270;
}

/// Why a frame or payload could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// Fewer bytes than the header or a field needs.
    Truncated,
    /// The first bytes are not `PXD`.
    BadMagic,
    /// A version this side does not speak.
    BadVersion(u8),
    /// The announced payload is larger than allowed.
    TooLarge(usize),
    /// A kind number this side does not know (a newer peer).
    UnknownKind(u16),
    /// Text that is not UTF-8, a bad flag byte, bytes left over.
    Malformed(&'static str),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Truncated => write!(f, "truncated frame"),
            DecodeError::BadMagic => write!(f, "not a proxidd frame (bad magic)"),
            DecodeError::BadVersion(v) => {
                write!(f, "protocol version {v} (this side speaks {VERSION})")
            }
            DecodeError::TooLarge(n) => write!(f, "frame of {n} bytes is over the limit"),
            DecodeError::UnknownKind(k) => write!(f, "unsupported request kind {k}"),
            DecodeError::Malformed(why) => write!(f, "malformed frame: {why}"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Checks a frame header and returns the payload length it announces.
pub fn decode_header(header: &[u8; HEADER_LEN], max: usize) -> Result<usize, DecodeError> {
    if header[..3] != MAGIC {
        return Err(DecodeError::BadMagic);
    }
    if header[3] != VERSION {
        return Err(DecodeError::BadVersion(header[3]));
    }
    let len = u32::from_be_bytes([header[4], header[5], header[6], header[7]]) as usize;
    if len > max {
        return Err(DecodeError::TooLarge(len));
    }
    Ok(len)
}

/// Splits one complete frame off the front of `buf`: `Ok(None)` while more bytes are
/// needed, `Ok(Some((payload, frame_len)))` once it is all there.
pub fn split_frame(buf: &[u8], max: usize) -> Result<Option<(&[u8], usize)>, DecodeError> {
    let Some(header) = buf.get(..HEADER_LEN) else {
        // Refuse garbage as soon as its first bytes show it.
        if buf.iter().zip(MAGIC).any(|(got, want)| *got != want) {
            return Err(DecodeError::BadMagic);
        }
        return Ok(None);
    };
    let mut h = [0u8; HEADER_LEN];
    h.copy_from_slice(header);
    let len = decode_header(&h, max)?;
    Ok(buf
        .get(HEADER_LEN..HEADER_LEN + len)
        .map(|payload| (payload, HEADER_LEN + len)))
}

#[cfg(test)]
mod tests;
