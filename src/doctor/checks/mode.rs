//! `--server`: whether the client's and the server's resolution modes agree.

use std::path::Path;
use std::sync::Arc;

use super::{mode_name, Check};
use crate::config::{self, Config, Mode};
use crate::error::Error;
use crate::resolver::Resolver;
use crate::source::local::LocalSource;
use crate::source::local_list;

/// The configuration `--server` names: a proxid.conf, or `ldap[s]://` URIs
/// (comma-separated) with `client`'s `[ldap]` settings and server-side resolution.
pub fn server_config(client: &Config, server: &str) -> Result<(Config, bool), String> {
    if config::is_ldap_uri(server.trim_start()) {
        let mut config = client.clone();
        let Some(ldap) = config.ldap.as_mut() else {
            return Err(
                "a server given as a URI is probed with this configuration's [ldap] section, and there is none"
                    .into(),
            );
        };
        ldap.uris = server
            .split(',')
            .map(|u| u.trim().to_string())
            .filter(|u| !u.is_empty())
            .collect();
        config.resolution = config::Resolution {
            mode: Mode::Server,
            server_side: true,
            require_server_side: false,
        };
        return Ok((config, true));
    }
    Config::load_file(Path::new(server), true)
        .map(|c| (c, false))
        .map_err(|e| e.to_string())
}

const MODE_FIX: &str = "use server-side resolution on both sides (mode = \"server\" on the client, server_side = true on the server), or make the IDs equal in both registries";

pub(super) fn mode_agreement(
    client: &Config,
    server: &str,
    names: &[String],
    emit: &mut dyn FnMut(Check),
) {
    let (server_cfg, from_uri) = match server_config(client, server) {
        Ok(c) => c,
        Err(e) => {
            emit(Check::fail(
                "mode.settings",
                format!("--server {server:?}: {e}"),
                "pass the server's proxid.conf, or an ldap[s]:// URI with an [ldap] section here",
            ));
            return;
        }
    };
    let (c, s) = (&client.resolution, &server_cfg.resolution);
    let settings = if from_uri {
        Check::ok(
            "mode.settings",
            format!(
                "client [resolution] mode = \"{}\"; the server is given as a URI, so its [resolution] settings are not known: compared identities only",
                mode_name(c.mode)
            ),
        )
    } else if c.mode == Mode::Server && !s.server_side {
        Check::fail(
            "mode.settings",
            "the client has [resolution] mode = \"server\" (it sends names only), but the server has [resolution] server_side = false (it refuses name-only assertions)",
            "set server_side = true in the server's [resolution], or mode = \"client\" here",
        )
    } else if c.mode == Mode::Client && s.require_server_side {
        Check::fail(
            "mode.settings",
            "the client has [resolution] mode = \"client\" (it sends the IDs it resolved), but the server has [resolution] require_server_side = true (it refuses client-resolved IDs)",
            "set mode = \"server\" in this [resolution], or require_server_side = false on the server",
        )
    } else {
        Check::ok(
            "mode.settings",
            format!(
                "client mode = \"{}\"; server mode = \"{}\", server_side = {}, require_server_side = {}: they agree",
                mode_name(c.mode),
                mode_name(s.mode),
                s.server_side,
                s.require_server_side
            ),
        )
    };
    emit(settings);

    if server_cfg.resolution.mode == Mode::Client {
        emit(Check::warn(
            "mode.identities",
            "the server resolves from its own local registry (mode = \"client\"), which cannot be read from here",
            "run `proxid doctor` on the server too, or compare `proxid resolve` output from both machines",
        ));
        return;
    }
    // The server as it checks assertions, but answering every client style.
    let mut checking = server_cfg.clone();
    checking.resolution.require_server_side = false;
    let server = match Resolver::new(checking) {
        Ok(r) => r,
        Err(e) => {
            emit(Check::fail(
                "mode.identities",
                format!("the server's configuration: {e}"),
                "correct the server's [ldap] section",
            ));
            return;
        }
    };
    let mut local_cfg = client.clone();
    local_cfg.resolution.mode = Mode::Client;
    let local = Resolver::with_source(local_cfg, Arc::new(LocalSource::new()));

    let (listed, given) = if names.is_empty() {
        (
            local_list::regular_users()
                .into_iter()
                .map(|u| u.name)
                .collect::<Vec<_>>(),
            false,
        )
    } else {
        (names.to_vec(), true)
    };
    let mut mismatches = Vec::new();
    for name in &listed {
        let assertion = match local.assert(name) {
            Ok(a) => a,
            Err(Error::NotFound { .. }) => {
                mismatches.push(format!("{name:?}: not found locally"));
                continue;
            }
            Err(e) => {
                mismatches.push(format!("{name:?}: local lookup failed: {e}"));
                continue;
            }
        };
        match server.accept(&assertion) {
            Ok(_) => {}
            Err(Error::IdentityMismatch { detail, .. }) => {
                let detail = detail
                    .split(" (client-resolved")
                    .next()
                    .unwrap_or(&detail)
                    .to_string();
                mismatches.push(format!("{name:?}: {detail}"));
            }
            Err(Error::NotFound { .. }) => {
                mismatches.push(format!("{name:?}: not found on the server"))
            }
            Err(e @ (Error::Unavailable { .. } | Error::Timeout { .. })) => {
                emit(Check::fail(
                    "mode.identities",
                    format!("the server's directory cannot answer: {e}"),
                    "fix the server's directory connection first (see the ldap checks)",
                ));
                return;
            }
            Err(e) => mismatches.push(format!("{name:?}: {e}")),
        }
    }
    let whom = if given {
        "the given users"
    } else {
        "local users with UID >= 1000"
    };
    emit(if listed.is_empty() {
        Check::ok("mode.identities", format!("no {whom} to compare"))
    } else if mismatches.is_empty() {
        Check::ok(
            "mode.identities",
            format!(
                "{} of {whom}: UID, primary GID and groups agree with the server",
                listed.len()
            ),
        )
    } else {
        Check::fail(
            "mode.identities",
            format!(
                "{} of {} ({whom}) differ: {}",
                mismatches.len(),
                listed.len(),
                mismatches.join("; ")
            ),
            MODE_FIX,
        )
    });
}
