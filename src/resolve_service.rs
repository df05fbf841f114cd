//! `proxid resolve` / `proxid groups` through proxidd: the daemon's answer to the
//! wire protocol's `Resolve` request, and the conversions both sides share.
//!
//! The daemon answers with its full resolver (the view `proxid resolve` has, not the
//! filtered NSS view): the identity, or the error as its stable kind
//! ([`Error::kind`]) and its message, so the CLI prints, escapes and exits exactly as
//! it would have resolving by itself. It answers only a client that runs the same
//! configuration: the request carries [`file_digest`] of the configuration file the
//! CLI would load, and a daemon whose own ([`loaded_digest`]) differs answers
//! `OtherConfig` (the CLI then resolves by itself).
//!
//! The digest is over the file's bytes (and its canonical path, since relative paths
//! in it may depend on where it is), not over a validated configuration: so the CLI
//! needs no validation to ask — a user who may read `/etc/proxid.conf` but not the
//! bind secret it names is answered too — and a file that changed since the daemon
//! loaded it (a reload pending) never matches.
//!
//! [`Error::kind`]: crate::Error::kind

use std::path::Path;

use proxid_proto::{Identity as WireIdentity, IdentityGroup, Response, CONFIG_DIGEST_LEN};

use crate::identity::validate_name;
use crate::{Config, Group, Identity, Proxid};

/// SHA-256 of a configuration file, as [`file_digest`] computes it.
pub type ConfigDigest = [u8; CONFIG_DIGEST_LEN];

/// The digest of the configuration file at `path` holding `bytes`: SHA-256 over its
/// canonical path (as given when that cannot be had), a NUL, and its bytes.
pub fn file_digest(path: &Path, bytes: &[u8]) -> ConfigDigest {
    let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(canonical.as_os_str().as_encoded_bytes());
    ctx.update(&[0]);
    ctx.update(bytes);
    let mut out = [0u8; CONFIG_DIGEST_LEN];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// The daemon's digest for `config`, loaded from its file: the file's digest when the
/// file still holds what was loaded (read again and compared, so a file rewritten
/// between the load and this read is not taken for the loaded one). `None` when
/// there is no file or it changed: no client matches until the next reload.
pub fn loaded_digest(config: &Config) -> Option<ConfigDigest> {
    let path = config.path.as_deref()?;
    let bytes = std::fs::read(path).ok()?;
    let text = std::str::from_utf8(&bytes).ok()?;
    let again = Config::from_toml(text, path).ok()?;
    (again == *config).then(|| file_digest(path, &bytes))
}

/// The daemon's answer to `Resolve { config_digest, name }`, `own` being the digest
/// of the configuration `resolver` was built from.
pub fn answer(
    resolver: &Proxid,
    own: Option<&ConfigDigest>,
    digest: &[u8],
    name: &[u8],
) -> Response {
    if own.is_none_or(|own| digest != own.as_slice()) {
        return Response::OtherConfig;
    }
    let found = validate_name(name).and_then(|name| resolver.resolve(name));
    match found {
        Ok(identity) => Response::Identity(to_wire(identity)),
        Err(e) => Response::Failed {
            kind: e.kind().to_string(),
            message: e.to_string(),
        },
    }
}

/// An identity for the wire.
pub fn to_wire(id: Identity) -> WireIdentity {
    WireIdentity {
        name: id.name,
        uid: id.uid,
        gid: id.gid,
        groups: id
            .groups
            .into_iter()
            .map(|g| IdentityGroup {
                name: g.name,
                gid: g.gid,
            })
            .collect(),
        home: id.home,
        shell: id.shell,
        source: id.source,
        hidden_gids: id.hidden_gids,
    }
}

/// An identity from the wire.
pub fn from_wire(id: WireIdentity) -> Identity {
    Identity {
        name: id.name,
        uid: id.uid,
        gid: id.gid,
        groups: id
            .groups
            .into_iter()
            .map(|g| Group {
                name: g.name,
                gid: g.gid,
            })
            .collect(),
        home: id.home,
        shell: id.shell,
        source: id.source,
        hidden_gids: id.hidden_gids,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_cross_the_wire_whole() {
        let id = Identity {
            name: "alice".into(),
            uid: 20001,
            gid: 10001,
            groups: vec![
                Group {
                    name: "staff".into(),
                    gid: 10001,
                },
                Group {
                    name: "a\u{202e}b".into(),
                    gid: 30001,
                },
            ],
            home: "/home/alice".into(),
            shell: "/bin/bash".into(),
            source: "ldap".into(),
            hidden_gids: vec![0],
        };
        let wire = Response::Identity(to_wire(id.clone())).encode();
        let decoded = proxid_proto::Response::decode_payload(&wire[proxid_proto::HEADER_LEN..]);
        match decoded {
            Ok(Response::Identity(w)) => assert_eq!(from_wire(w), id),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn digest_follows_the_file_and_what_was_loaded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("proxid.conf");
        std::fs::write(&path, "[cache]\npositive_ttl = \"5m\"\n").unwrap();
        let config = Config::load(Some(&path)).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let digest = file_digest(&path, &bytes);
        assert_eq!(loaded_digest(&config), Some(digest));
        // The same file through another spelling of its path.
        let dotted = dir.path().join(".").join("proxid.conf");
        assert_eq!(file_digest(&dotted, &bytes), digest);
        // The same bytes elsewhere, other bytes here.
        let other = dir.path().join("other.conf");
        std::fs::write(&other, &bytes).unwrap();
        assert_ne!(file_digest(&other, &bytes), digest);
        assert_ne!(file_digest(&path, b"# changed\n"), digest);
        // Rewritten since it was loaded: no digest until the next load.
        std::fs::write(&path, "[cache]\npositive_ttl = \"6m\"\n").unwrap();
        assert_eq!(loaded_digest(&config), None);
        assert_eq!(loaded_digest(&Config::default()), None);
    }
}
