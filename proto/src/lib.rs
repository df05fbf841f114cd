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

/// A question to the daemon. Names are raw bytes (NSS hands us C strings, which need
/// not be UTF-8); the daemon validates them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    GetPwNam(Vec<u8>),
    GetPwUid(u32),
    GetGrNam(Vec<u8>),
    GetGrGid(u32),
    /// A user's supplementary GIDs (primary included or not; glibc adds it anyway).
    InitGroups(Vec<u8>),
    /// Enumeration, one page: entries `start .. start + count` of the daemon's
    /// prefetched list. An empty page is the end.
    ListPasswd {
        start: u32,
        count: u32,
    },
    ListGroup {
        start: u32,
        count: u32,
    },
    /// Daemon health; root gets the detailed form.
    Status,
    /// Empty the cache for one name, or entirely (`None`). Root only.
    Invalidate(Option<Vec<u8>>),
    /// Re-read the configuration (as SIGHUP). Root only.
    Reload,
    /// `proxid resolve NAME` as the daemon's resolver answers it: the whole identity
    /// or the error, exactly as the CLI would get them itself — but only when the
    /// CLI runs the same configuration: `config_digest` is the digest of the
    /// configuration file the CLI would load ([`CONFIG_DIGEST_LEN`] bytes), and a
    /// daemon whose own differs answers [`Response::OtherConfig`].
    Resolve {
        config_digest: Vec<u8>,
        name: Vec<u8>,
    },
    /// PAM `pam_sm_authenticate`: check a password. The password is never logged.
    Authenticate {
        user: Vec<u8>,
        password: Vec<u8>,
        service: Vec<u8>,
        rhost: Vec<u8>,
        ruser: Vec<u8>,
    },
    /// PAM `pam_sm_acct_mgmt`: may this user use this service now.
    Account {
        user: Vec<u8>,
        service: Vec<u8>,
        rhost: Vec<u8>,
        ruser: Vec<u8>,
    },
    /// May the caller (`proxy_uid`, taken by the daemon from `SO_PEERCRED` and checked
    /// against this field) act as `user` from `host`.
    Impersonate {
        proxy_uid: u32,
        user: Vec<u8>,
        host: Vec<u8>,
        service: Vec<u8>,
        ruser: Vec<u8>,
    },
}

impl Request {
    /// Whether only root may ask this (checked by the daemon with `SO_PEERCRED`).
    pub fn privileged(&self) -> bool {
        matches!(self, Request::Invalidate(_) | Request::Reload)
    }

    /// The whole frame (header and payload).
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::frame();
        self.encode_payload(&mut w);
        w.finish()
    }

    fn encode_payload(&self, w: &mut Writer) {
        match self {
            Request::GetPwNam(n) => w.kind(kind::GETPWNAM).bytes(n),
            Request::GetPwUid(id) => w.kind(kind::GETPWUID).u32(*id),
            Request::GetGrNam(n) => w.kind(kind::GETGRNAM).bytes(n),
            Request::GetGrGid(id) => w.kind(kind::GETGRGID).u32(*id),
            Request::InitGroups(n) => w.kind(kind::INITGROUPS).bytes(n),
            Request::ListPasswd { start, count } => {
                w.kind(kind::LIST_PASSWD).u32(*start).u32(*count)
            }
            Request::ListGroup { start, count } => w.kind(kind::LIST_GROUP).u32(*start).u32(*count),
            Request::Status => w.kind(kind::STATUS),
            Request::Invalidate(None) => w.kind(kind::INVALIDATE).u8(0),
            Request::Invalidate(Some(n)) => w.kind(kind::INVALIDATE).u8(1).bytes(n),
            Request::Reload => w.kind(kind::RELOAD),
            Request::Resolve {
                config_digest,
                name,
            } => w.kind(kind::RESOLVE).bytes(config_digest).bytes(name),
            Request::Authenticate {
                user,
                password,
                service,
                rhost,
                ruser,
            } => w
                .kind(kind::AUTHENTICATE)
                .bytes(user)
                .bytes(password)
                .bytes(service)
                .bytes(rhost)
                .bytes(ruser),
            Request::Account {
                user,
                service,
                rhost,
                ruser,
            } => w
                .kind(kind::ACCOUNT)
                .bytes(user)
                .bytes(service)
                .bytes(rhost)
                .bytes(ruser),
            Request::Impersonate {
                proxy_uid,
                user,
                host,
                service,
                ruser,
            } => w
                .kind(kind::IMPERSONATE)
                .u32(*proxy_uid)
                .bytes(user)
                .bytes(host)
                .bytes(service)
                .bytes(ruser),
        };
    }

    /// Decodes a request payload (the bytes after the header).
    pub fn decode_payload(payload: &[u8]) -> Result<Request, DecodeError> {
        let mut r = Reader::new(payload);
        let request = match r.u16()? {
            kind::GETPWNAM => Request::GetPwNam(r.bytes()?),
            kind::GETPWUID => Request::GetPwUid(r.u32()?),
            kind::GETGRNAM => Request::GetGrNam(r.bytes()?),
            kind::GETGRGID => Request::GetGrGid(r.u32()?),
            kind::INITGROUPS => Request::InitGroups(r.bytes()?),
            kind::LIST_PASSWD => Request::ListPasswd {
                start: r.u32()?,
                count: r.u32()?,
            },
            kind::LIST_GROUP => Request::ListGroup {
                start: r.u32()?,
                count: r.u32()?,
            },
            kind::STATUS => Request::Status,
            kind::INVALIDATE => match r.u8()? {
                0 => Request::Invalidate(None),
                1 => Request::Invalidate(Some(r.bytes()?)),
                _ => return Err(DecodeError::Malformed("bad option flag")),
            },
            kind::RELOAD => Request::Reload,
            kind::RESOLVE => Request::Resolve {
                config_digest: r.bytes()?,
                name: r.bytes()?,
            },
            kind::AUTHENTICATE => Request::Authenticate {
                user: r.bytes()?,
                password: r.bytes()?,
                service: r.bytes()?,
                rhost: r.bytes()?,
                ruser: r.bytes()?,
            },
            kind::ACCOUNT => Request::Account {
                user: r.bytes()?,
                service: r.bytes()?,
                rhost: r.bytes()?,
                ruser: r.bytes()?,
            },
            kind::IMPERSONATE => Request::Impersonate {
                proxy_uid: r.u32()?,
                user: r.bytes()?,
                host: r.bytes()?,
                service: r.bytes()?,
                ruser: r.bytes()?,
            },
            other => return Err(DecodeError::UnknownKind(other)),
        };
        r.end()?;
        Ok(request)
    }
}

/// A passwd entry as NSS returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passwd {
    pub name: String,
    /// Always `x` from proxidd: no hash ever leaves the directory through NSS.
    pub passwd: String,
    pub uid: u32,
    pub gid: u32,
    pub gecos: String,
    pub dir: String,
    pub shell: String,
}

/// A group entry as NSS returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupEntry {
    pub name: String,
    pub passwd: String,
    pub gid: u32,
    /// Member user names (RFC2307bis: the members' `uid` values, found by DN).
    pub members: Vec<String>,
}

/// A group answer read in place (the NSS module's table path: no allocation per
/// member).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRef<'a> {
    pub name: &'a str,
    pub passwd: &'a str,
    pub gid: u32,
    pub members: Vec<&'a str>,
}

impl<'a> GroupRef<'a> {
    /// Reads an answer payload holding a group (`Response::Group`); `None` for
    /// anything else, with the same checks as [`Response::decode_payload`].
    pub fn decode(payload: &'a [u8]) -> Option<GroupRef<'a>> {
        let mut r = Reader::new(payload);
        if r.u16().ok()? != kind::R_GROUP {
            return None;
        }
        let name = r.text().ok()?;
        let passwd = r.text().ok()?;
        let gid = r.u32().ok()?;
        let n = r.count(4).ok()?;
        let mut members = Vec::with_capacity(n);
        for _ in 0..n {
            members.push(r.text().ok()?);
        }
        r.end().ok()?;
        Some(GroupRef {
            name,
            passwd,
            gid,
            members,
        })
    }
}

/// The daemon's health, for `proxid status`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Status {
    /// The daemon's version (its crate version).
    pub version: String,
    pub uptime_secs: u64,
    /// The source could answer a lookup just now.
    pub directory_reachable: bool,
    /// Cached answers (found and not found).
    pub cache_entries: u64,
    /// Lookups answered from the cache / asked to the directory.
    pub cache_hits: u64,
    pub cache_misses: u64,
    /// Requests served since start.
    pub requests: u64,
    /// Filled for root only: the configuration file and the source ("ldap").
    pub detail: Option<StatusDetail>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StatusDetail {
    pub config_path: String,
    pub source: String,
    pub socket: String,
    pub connections: u64,
}

/// Length of the configuration digest in [`Request::Resolve`] (SHA-256).
pub const CONFIG_DIGEST_LEN: usize = 32;

/// One group of an [`Identity`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityGroup {
    pub name: String,
    pub gid: u32,
}

/// A resolved identity as `proxid resolve` prints it (the library's `Identity`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    /// Primary group first.
    pub groups: Vec<IdentityGroup>,
    pub home: String,
    pub shell: String,
    /// The source that answered ("ldap").
    pub source: String,
    /// GIDs the directory lists the user in below `min_gid` (not shown by the CLI,
    /// carried so the identity is the library's whole).
    pub hidden_gids: Vec<u32>,
}

/// The daemon's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    Passwd(Passwd),
    Group(GroupEntry),
    /// `InitGroups`: the user's GIDs.
    Gids(Vec<u32>),
    /// One enumeration page; empty at the end.
    PasswdList(Vec<Passwd>),
    GroupList(Vec<GroupEntry>),
    /// No such entry (or one the daemon refuses to serve; it logs why).
    NotFound,
    /// The directory could not answer; retry later.
    Unavailable(String),
    /// The caller may not ask this (privileged request from a non-root peer,
    /// enumeration turned off).
    Denied(String),
    /// The request was not understood.
    Error(String),
    Status(Status),
    /// Invalidate / reload done; the text says what happened.
    Done(String),
    /// PAM answers: a PAM status number and a message for the user or the log.
    Verdict {
        code: u32,
        message: String,
    },
    /// `Resolve`: the identity.
    Identity(Identity),
    /// `Resolve`: the resolver's error, as its stable kind (`not_found`,
    /// `unavailable`, ...) and its message.
    Failed {
        kind: String,
        message: String,
    },
    /// `Resolve`: the daemon runs another configuration than the one the client
    /// loaded; the client should resolve by itself.
    OtherConfig,
}

impl Response {
    /// The whole frame (header and payload).
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::frame();
        match self {
            Response::Passwd(p) => {
                w.kind(kind::R_PASSWD);
                put_passwd(&mut w, p);
            }
            Response::Group(g) => {
                w.kind(kind::R_GROUP);
                put_group(&mut w, g);
            }
            Response::Gids(gids) => {
                w.kind(kind::R_GIDS).u32(len_u32(gids.len()));
                for gid in gids {
                    w.u32(*gid);
                }
            }
            Response::PasswdList(list) => {
                w.kind(kind::R_PASSWD_LIST).u32(len_u32(list.len()));
                for p in list {
                    put_passwd(&mut w, p);
                }
            }
            Response::GroupList(list) => {
                w.kind(kind::R_GROUP_LIST).u32(len_u32(list.len()));
                for g in list {
                    put_group(&mut w, g);
                }
            }
            Response::NotFound => {
                w.kind(kind::R_NOT_FOUND);
            }
            Response::Unavailable(m) => {
                w.kind(kind::R_UNAVAILABLE).str(m);
            }
            Response::Denied(m) => {
                w.kind(kind::R_DENIED).str(m);
            }
            Response::Error(m) => {
                w.kind(kind::R_ERROR).str(m);
            }
            Response::Status(s) => {
                w.kind(kind::R_STATUS)
                    .str(&s.version)
                    .u64(s.uptime_secs)
                    .u8(s.directory_reachable as u8)
                    .u64(s.cache_entries)
                    .u64(s.cache_hits)
                    .u64(s.cache_misses)
                    .u64(s.requests);
                match &s.detail {
                    None => {
                        w.u8(0);
                    }
                    Some(d) => {
                        w.u8(1)
                            .str(&d.config_path)
                            .str(&d.source)
                            .str(&d.socket)
                            .u64(d.connections);
                    }
                }
            }
            Response::Done(m) => {
                w.kind(kind::R_DONE).str(m);
            }
            Response::Verdict { code, message } => {
                w.kind(kind::R_VERDICT).u32(*code).str(message);
            }
            Response::Identity(id) => {
                w.kind(kind::R_IDENTITY)
                    .str(&id.name)
                    .u32(id.uid)
                    .u32(id.gid)
                    .u32(len_u32(id.groups.len()));
                for g in &id.groups {
                    w.str(&g.name).u32(g.gid);
                }
                w.str(&id.home)
                    .str(&id.shell)
                    .str(&id.source)
                    .u32(len_u32(id.hidden_gids.len()));
                for gid in &id.hidden_gids {
                    w.u32(*gid);
                }
            }
            Response::Failed { kind, message } => {
                w.kind(kind::R_FAILED).str(kind).str(message);
            }
            Response::OtherConfig => {
                w.kind(kind::R_OTHER_CONFIG);
            }
        }
        w.finish()
    }

    /// Decodes an answer payload (the bytes after the header).
    pub fn decode_payload(payload: &[u8]) -> Result<Response, DecodeError> {
        let mut r = Reader::new(payload);
        let response = match r.u16()? {
            kind::R_PASSWD => Response::Passwd(get_passwd(&mut r)?),
            kind::R_GROUP => Response::Group(get_group(&mut r)?),
            kind::R_GIDS => {
                let n = r.count(4)?;
                let mut gids = Vec::with_capacity(n);
                for _ in 0..n {
                    gids.push(r.u32()?);
                }
                Response::Gids(gids)
            }
            kind::R_PASSWD_LIST => {
                let n = r.count(PASSWD_MIN)?;
                let mut list = Vec::with_capacity(n);
                for _ in 0..n {
                    list.push(get_passwd(&mut r)?);
                }
                Response::PasswdList(list)
            }
            kind::R_GROUP_LIST => {
                let n = r.count(GROUP_MIN)?;
                let mut list = Vec::with_capacity(n);
                for _ in 0..n {
                    list.push(get_group(&mut r)?);
                }
                Response::GroupList(list)
            }
            kind::R_NOT_FOUND => Response::NotFound,
            kind::R_UNAVAILABLE => Response::Unavailable(r.str()?),
            kind::R_DENIED => Response::Denied(r.str()?),
            kind::R_ERROR => Response::Error(r.str()?),
            kind::R_STATUS => {
                let mut s = Status {
                    version: r.str()?,
                    uptime_secs: r.u64()?,
                    directory_reachable: r.flag()?,
                    cache_entries: r.u64()?,
                    cache_hits: r.u64()?,
                    cache_misses: r.u64()?,
                    requests: r.u64()?,
                    detail: None,
                };
                if r.flag()? {
                    s.detail = Some(StatusDetail {
                        config_path: r.str()?,
                        source: r.str()?,
                        socket: r.str()?,
                        connections: r.u64()?,
                    });
                }
                Response::Status(s)
            }
            kind::R_DONE => Response::Done(r.str()?),
            kind::R_VERDICT => Response::Verdict {
                code: r.u32()?,
                message: r.str()?,
            },
            kind::R_IDENTITY => Response::Identity(get_identity(&mut r)?),
            kind::R_FAILED => Response::Failed {
                kind: r.str()?,
                message: r.str()?,
            },
            kind::R_OTHER_CONFIG => Response::OtherConfig,
            other => return Err(DecodeError::UnknownKind(other)),
        };
        r.end()?;
        Ok(response)
    }
}

/// Smallest encoded passwd / group (empty strings), for bounding counts.
const PASSWD_MIN: usize = 5 * 4 + 2 * 4;
const GROUP_MIN: usize = 2 * 4 + 4 + 4;

fn put_passwd(w: &mut Writer, p: &Passwd) {
    w.str(&p.name)
        .str(&p.passwd)
        .u32(p.uid)
        .u32(p.gid)
        .str(&p.gecos)
        .str(&p.dir)
        .str(&p.shell);
}

fn get_passwd(r: &mut Reader<'_>) -> Result<Passwd, DecodeError> {
    Ok(Passwd {
        name: r.str()?,
        passwd: r.str()?,
        uid: r.u32()?,
        gid: r.u32()?,
        gecos: r.str()?,
        dir: r.str()?,
        shell: r.str()?,
    })
}

fn put_group(w: &mut Writer, g: &GroupEntry) {
    w.str(&g.name)
        .str(&g.passwd)
        .u32(g.gid)
        .u32(len_u32(g.members.len()));
    for m in &g.members {
        w.str(m);
    }
}

fn get_group(r: &mut Reader<'_>) -> Result<GroupEntry, DecodeError> {
    let name = r.str()?;
    let passwd = r.str()?;
    let gid = r.u32()?;
    let n = r.count(4)?;
    let mut members = Vec::with_capacity(n);
    for _ in 0..n {
        members.push(r.str()?);
    }
    Ok(GroupEntry {
        name,
        passwd,
        gid,
        members,
    })
}

fn get_identity(r: &mut Reader<'_>) -> Result<Identity, DecodeError> {
    let name = r.str()?;
    let uid = r.u32()?;
    let gid = r.u32()?;
    let n = r.count(4 + 4)?;
    let mut groups = Vec::with_capacity(n);
    for _ in 0..n {
        groups.push(IdentityGroup {
            name: r.str()?,
            gid: r.u32()?,
        });
    }
    let home = r.str()?;
    let shell = r.str()?;
    let source = r.str()?;
    let n = r.count(4)?;
    let mut hidden_gids = Vec::with_capacity(n);
    for _ in 0..n {
        hidden_gids.push(r.u32()?);
    }
    Ok(Identity {
        name,
        uid,
        gid,
        groups,
        home,
        shell,
        source,
        hidden_gids,
    })
}

/// Lengths saturate rather than wrap; an encoder that hits this has a frame far over
/// [`MAX_FRAME`], which the reader refuses anyway.
fn len_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

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

struct Writer(Vec<u8>);

impl Writer {
    fn frame() -> Writer {
        let mut v = Vec::with_capacity(64);
        v.extend_from_slice(&MAGIC);
        v.push(VERSION);
        v.extend_from_slice(&[0; 4]);
        Writer(v)
    }
    fn finish(mut self) -> Vec<u8> {
        let len = len_u32(self.0.len() - HEADER_LEN).to_be_bytes();
        if let Some(slot) = self.0.get_mut(4..HEADER_LEN) {
            slot.copy_from_slice(&len); // frame() wrote HEADER_LEN bytes: always there
        }
        self.0
    }
    fn kind(&mut self, k: u16) -> &mut Writer {
        self.0.extend_from_slice(&k.to_be_bytes());
        self
    }
    fn u8(&mut self, v: u8) -> &mut Writer {
        self.0.push(v);
        self
    }
    fn u32(&mut self, v: u32) -> &mut Writer {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn u64(&mut self, v: u64) -> &mut Writer {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn bytes(&mut self, b: &[u8]) -> &mut Writer {
        self.u32(len_u32(b.len()));
        self.0.extend_from_slice(b);
        self
    }
    fn str(&mut self, s: &str) -> &mut Writer {
        self.bytes(s.as_bytes())
    }
}

struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf }
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.buf.len() {
            return Err(DecodeError::Truncated);
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }
    fn flag(&mut self) -> Result<bool, DecodeError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(DecodeError::Malformed("bad flag byte")),
        }
    }
    fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array()?))
    }
    fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array()?))
    }
    fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array()?))
    }
    fn text(&mut self) -> Result<&'a str, DecodeError> {
        let n = self.u32()? as usize;
        std::str::from_utf8(self.take(n)?).map_err(|_| DecodeError::Malformed("text is not UTF-8"))
    }
    fn bytes(&mut self) -> Result<Vec<u8>, DecodeError> {
        let n = self.u32()? as usize;
        Ok(self.take(n)?.to_vec())
    }
    fn str(&mut self) -> Result<String, DecodeError> {
        String::from_utf8(self.bytes()?).map_err(|_| DecodeError::Malformed("text is not UTF-8"))
    }
    /// A list count, refused when the remaining bytes cannot hold that many items of
    /// at least `min_item` bytes (no allocation driven by a hostile number).
    fn count(&mut self, min_item: usize) -> Result<usize, DecodeError> {
        let n = self.u32()? as usize;
        if n.saturating_mul(min_item) > self.buf.len() {
            return Err(DecodeError::Truncated);
        }
        Ok(n)
    }
    fn end(&self) -> Result<(), DecodeError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::Malformed("bytes after the last field"))
        }
    }
}

#[cfg(test)]
mod tests;
