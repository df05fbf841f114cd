//! The entries answers carry (passwd, group, identity, status) and their encoding.

use crate::wire::{len_u32, Reader, Writer};
use crate::{kind, DecodeError};

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
    /// anything else, with the same checks as [`Response::decode_payload`](crate::Response::decode_payload).
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

/// Length of the configuration digest in [`Request::Resolve`](crate::Request::Resolve) (SHA-256).
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

/// Smallest encoded passwd / group (empty strings), for bounding counts.
pub(crate) const PASSWD_MIN: usize = 5 * 4 + 2 * 4;
pub(crate) const GROUP_MIN: usize = 2 * 4 + 4 + 4;

pub(crate) fn put_passwd(w: &mut Writer, p: &Passwd) {
    w.str(&p.name)
        .str(&p.passwd)
        .u32(p.uid)
        .u32(p.gid)
        .str(&p.gecos)
        .str(&p.dir)
        .str(&p.shell);
}

pub(crate) fn get_passwd(r: &mut Reader<'_>) -> Result<Passwd, DecodeError> {
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

pub(crate) fn put_group(w: &mut Writer, g: &GroupEntry) {
    w.str(&g.name)
        .str(&g.passwd)
        .u32(g.gid)
        .u32(len_u32(g.members.len()));
    for m in &g.members {
        w.str(m);
    }
}

pub(crate) fn get_group(r: &mut Reader<'_>) -> Result<GroupEntry, DecodeError> {
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

pub(crate) fn get_identity(r: &mut Reader<'_>) -> Result<Identity, DecodeError> {
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
