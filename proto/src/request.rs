//! Requests: what a client asks the daemon.

use crate::wire::{Reader, Writer};
use crate::{kind, DecodeError};

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
    /// configuration file the CLI would load ([`CONFIG_DIGEST_LEN`](crate::CONFIG_DIGEST_LEN) bytes), and a
    /// daemon whose own differs answers [`Response::OtherConfig`](crate::Response::OtherConfig).
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
