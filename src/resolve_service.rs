//! `proxid resolve` / `proxid groups` through proxidd: the daemon's answer to the
//! wire protocol's `Resolve` request, and the conversions both sides share.
//!
//! The daemon answers with its full resolver (the view `proxid resolve` has, not the
//! filtered NSS view): the identity, or the error as its stable kind
//! ([`Error::kind`]) and its message, so the CLI prints, escapes and exits exactly as
//! it would have resolving by itself. It answers only a client that runs the same
//! configuration: the request carries [`config_digest`] of the configuration the CLI
//! loaded, and a daemon whose own digest differs answers `OtherConfig` (the CLI then
//! resolves by itself).

use proxid_proto::{Identity as WireIdentity, IdentityGroup, Response, CONFIG_DIGEST_LEN};

use crate::identity::validate_name;
use crate::{Config, Group, Identity, Resolver};

/// SHA-256 of a configuration, as [`config_digest`] computes it.
pub type ConfigDigest = [u8; CONFIG_DIGEST_LEN];

/// The digest the CLI and the daemon compare: SHA-256 of the effective configuration
/// as `proxid check-config` prints it. Two files that differ only in comments,
/// layout or defaults spelled out give the same digest; where the file lives does not
/// count, and neither do secret values (they are masked in that form, so the digest
/// says nothing about them): a daemon and a CLI that name the same password file, or
/// the same inline password, digest alike.
pub fn config_digest(config: &Config) -> ConfigDigest {
    let text = config.to_effective_toml();
    let hash = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    let mut out = [0u8; CONFIG_DIGEST_LEN];
    out.copy_from_slice(hash.as_ref());
    out
}

/// The daemon's answer to `Resolve { config_digest, name }`, `own` being the digest
/// of the configuration `resolver` was built from.
pub fn answer(resolver: &Resolver, own: &ConfigDigest, digest: &[u8], name: &[u8]) -> Response {
    if digest != own.as_slice() {
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
    fn digest_follows_the_effective_configuration() {
        let path = std::path::Path::new("/nonexistent/proxid.conf");
        let a = Config::from_toml("[cache]\npositive_ttl = \"5m\"\n", path).unwrap();
        let same = Config::from_toml("# comment\n[cache]\npositive_ttl = \"300s\"\n", path);
        let other = Config::from_toml("[cache]\npositive_ttl = \"6m\"\n", path).unwrap();
        assert_eq!(config_digest(&a), config_digest(&same.unwrap()));
        assert_ne!(config_digest(&a), config_digest(&other));
    }
}
