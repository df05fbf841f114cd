//! MapR / HPE Ezmeral Data Fabric's own switches, read when the configuration loads.
//!
//! - `fs.mapr.server.resolve.user` in the client's `core-site.xml` asks the cluster
//!   to resolve names (MapR: "If enabled, the client requests the CLDB to resolve the
//!   user with UID/GIDs"). When the core-site.xml proxid imports (`[impersonation]
//!   hadoop_core_site`) sets it, it sets `[resolution] mode`: `true` is `"server"`,
//!   `false` is `"client"`. When proxid.conf writes `mode` itself ("explicit": the key
//!   is present, even with the default value `"client"`), the two must agree, or the
//!   configuration is refused naming both. The value is read as Hadoop's
//!   `getBoolean` reads it (trimmed, `true`/`false` in any case); anything else is an
//!   error rather than Hadoop's silent default. A core-site.xml that cannot be read
//!   is a configuration error at load; one that is malformed but never mentions the
//!   property is reported when the proxy-user rules are built, as before.
//! - `mapr.daemon.user=` in `/opt/mapr/conf/daemon.conf` names the cluster's
//!   superuser. With `[impersonation] mapr_daemon_conf` set, it is the default
//!   `superuser`; a `superuser` written in proxid.conf must then name the same user,
//!   or the configuration is refused naming both (two sources of truth that disagree
//!   about who may impersonate root are a mistake to fix, not to pick from). The file
//!   decides who may impersonate anyone, so it is refused when group or others may
//!   write it.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use super::Mode;
use crate::error::{Error, Result};
use crate::names::validate_name;

/// The client-side property asking for server-side resolution.
pub const CLIENT_SWITCH: &str = "fs.mapr.server.resolve.user";
/// The key of the superuser's name in daemon.conf.
pub const DAEMON_USER_KEY: &str = "mapr.daemon.user";

/// What `fs.mapr.server.resolve.user` says in `core_site`, if it is set there.
pub(crate) fn client_switch(core_site: &Path) -> Result<Option<bool>> {
    let err = |m: String| Error::config(core_site, m);
    let bytes =
        std::fs::read(core_site).map_err(|e| err(format!("cannot read hadoop_core_site: {e}")))?;
    let text =
        String::from_utf8(bytes).map_err(|_| err("hadoop_core_site is not valid UTF-8".into()))?;
    // A file that never spells the key cannot set it; its other mistakes are reported
    // when the proxy-user rules are built, as before this switch was read.
    if !text.contains(CLIENT_SWITCH) {
        return Ok(None);
    }
    let Some(value) = crate::core_site::property(&text, CLIENT_SWITCH).map_err(err)? else {
        return Ok(None);
    };
    let trimmed = crate::core_site::java_trim(&value);
    if trimmed.eq_ignore_ascii_case("true") {
        Ok(Some(true))
    } else if trimmed.eq_ignore_ascii_case("false") {
        Ok(Some(false))
    } else {
        Err(err(format!(
            "property {CLIENT_SWITCH} = {value:?}: must be true or false"
        )))
    }
}

/// The effective `[resolution] mode`: `written` (`None` when proxid.conf leaves
/// `mode` out) reconciled with `fs.mapr.server.resolve.user` in `core_site`.
pub(crate) fn mode(
    written: Option<Mode>,
    core_site: Option<&Path>,
    conf_file: &Path,
) -> Result<Mode> {
    let switch = match core_site {
        Some(path) => client_switch(path)?.map(|on| (on, path)),
        None => None,
    };
    let word = |m: Mode| match m {
        Mode::Client => "client",
        Mode::Server => "server",
    };
    match (written, switch) {
        (Some(mode), None) => Ok(mode),
        (None, None) => Ok(Mode::Client),
        (None, Some((on, _))) => Ok(if on { Mode::Server } else { Mode::Client }),
        (Some(mode), Some((on, path))) => {
            let wanted = if on { Mode::Server } else { Mode::Client };
            if mode == wanted {
                return Ok(mode);
            }
            Err(Error::config(
                conf_file,
                format!(
                    "[resolution] mode = \"{}\" conflicts with {CLIENT_SWITCH} = {on} in {} \
                     (which means mode = \"{}\"); make them agree, or remove `mode` and let \
                     core-site.xml decide",
                    word(mode),
                    path.display(),
                    word(wanted)
                ),
            ))
        }
    }
}

/// The superuser: `written` (`[impersonation] superuser`) reconciled with the
/// `mapr.daemon.user=` line of `daemon_conf`.
pub(crate) fn superuser(
    written: Option<String>,
    daemon_conf: Option<&Path>,
    conf_file: &Path,
) -> Result<Option<String>> {
    let Some(path) = daemon_conf else {
        return Ok(written);
    };
    let daemon_user = daemon_user(path)?;
    match written {
        Some(su) if su != daemon_user => Err(Error::config(
            conf_file,
            format!(
                "[impersonation] superuser = {su:?} conflicts with {DAEMON_USER_KEY}={daemon_user} \
                 in {} (mapr_daemon_conf); remove superuser or make them agree",
                path.display()
            ),
        )),
        _ => Ok(Some(daemon_user)),
    }
}

/// The name on the `mapr.daemon.user=` line of a MapR daemon.conf.
pub(crate) fn daemon_user(path: &Path) -> Result<String> {
    let err = |m: String| Error::config(path, m);
    let meta =
        std::fs::metadata(path).map_err(|e| err(format!("cannot read mapr_daemon_conf: {e}")))?;
    if !meta.is_file() {
        return Err(err("mapr_daemon_conf is not a regular file".into()));
    }
    let mode = meta.mode() & 0o777;
    if mode & 0o022 != 0 {
        return Err(err(format!(
            "mapr_daemon_conf is writable by group or others (mode {mode:04o}); it names the \
             superuser, who may impersonate anyone, so proxid refuses it: run `chmod go-w {}`",
            path.display()
        )));
    }
    let bytes =
        std::fs::read(path).map_err(|e| err(format!("cannot read mapr_daemon_conf: {e}")))?;
    let text =
        String::from_utf8(bytes).map_err(|_| err("mapr_daemon_conf is not valid UTF-8".into()))?;
    let mut found: Option<(usize, String)> = None;
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        if key.trim() != DAEMON_USER_KEY {
            continue;
        }
        let value = value.trim();
        let at = format!("line {}: {DAEMON_USER_KEY}", index + 1);
        if value.is_empty() {
            return Err(err(format!("{at} is empty")));
        }
        validate_name(value.as_bytes()).map_err(|e| err(format!("{at}: {e}")))?;
        if let Some((first, earlier)) = &found {
            if earlier != value {
                return Err(err(format!(
                    "{at}={value} contradicts line {first}: {DAEMON_USER_KEY}={earlier}"
                )));
            }
        }
        found = Some((index + 1, value.to_string()));
    }
    found
        .map(|(_, name)| name)
        .ok_or_else(|| err(format!("no {DAEMON_USER_KEY}= line")))
}
