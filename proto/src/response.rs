//! Answers: what the daemon says back.

use crate::entry::{
    get_group, get_identity, get_passwd, put_group, put_passwd, GROUP_MIN, PASSWD_MIN,
};
use crate::wire::{len_u32, Reader, Writer};
use crate::{kind, DecodeError, GroupEntry, Identity, Passwd, Status, StatusDetail};

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
