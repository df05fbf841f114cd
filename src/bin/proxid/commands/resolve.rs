//! `resolve` and `groups`: identities by user name, from proxidd when it runs the same
//! configuration (server mode), else resolved in this process.

use std::ffi::OsString;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use proxid::resolve_service::{self, ConfigDigest};
use proxid::{Error, Identity};
use proxid_proto::client::{self, Session};
use proxid_proto::{Request, Response};
use serde_json::json;

use crate::output::{self, emit};
use crate::{classify, name_operand, Context, Failure, Status};

#[derive(Clone, Copy)]
enum Shape {
    Id,
    Json,
    Groups,
}

/// `proxid resolve [--json] [--direct] NAME...`
pub fn resolve(ctx: &Context, names: &[OsString], json: bool, direct: bool) -> Status {
    run(
        ctx,
        names,
        if json { Shape::Json } else { Shape::Id },
        direct,
    )
}

/// `proxid groups [--direct] NAME...`
pub fn groups(ctx: &Context, names: &[OsString], direct: bool) -> Status {
    run(ctx, names, Shape::Groups, direct)
}

/// Who answered a name: the `via` field of `--json`.
#[derive(Clone, Copy)]
enum Via {
    Daemon,
    Direct,
}

impl Via {
    fn json(self) -> &'static str {
        match self {
            Via::Daemon => "proxidd",
            Via::Direct => "direct",
        }
    }
}

fn run(ctx: &Context, names: &[OsString], shape: Shape, direct: bool) -> Status {
    // The daemon is asked first, before anything a resolver builds (source, runtime,
    // cache); a resolver is opened only when a name needs one.
    let mut daemon = if direct { None } else { Daemon::open(ctx) };
    let mut resolver = None;
    if daemon.is_none() {
        // As before the daemon existed: a configuration error is reported once,
        // before any name.
        match ctx.open() {
            Ok(r) => resolver = Some(r),
            Err(s) => return s,
        }
    }
    let mut out = std::io::stdout().lock();
    let mut worst = Status::Ok;
    for raw in names {
        let name = match name_operand(raw) {
            Ok(name) => name,
            Err(f) => {
                worst = worst.max(f.status);
                report(&mut out, raw, &f, shape);
                continue;
            }
        };
        let mut answer = daemon
            .as_ref()
            .and_then(|d| d.ask(name))
            .map(|a| (a, Via::Daemon));
        if answer.is_none() {
            // Gone, another configuration, or a newer daemon: no more asking.
            daemon = None;
            if resolver.is_none() {
                match ctx.open() {
                    Ok(r) => resolver = Some(r),
                    Err(s) => return worst.max(s),
                }
            }
            answer = resolver
                .as_ref()
                .map(|r| (r.resolve(name).map_err(Failure::from), Via::Direct));
        }
        let Some((found, via)) = answer else {
            return worst.max(Status::Error);
        };
        match (found, shape) {
            (Ok(id), Shape::Id) => emit(&mut out, &output::id_line(&id)),
            (Ok(id), Shape::Json) => {
                let mut line = output::identity_json(&id);
                // `source` says which answered: the daemon, or this process's own
                // source ("ldap"/"local"); `via` says the same as proxidd/direct.
                if let Via::Daemon = via {
                    output::set_field(&mut line, "source", via.json());
                }
                output::set_field(&mut line, "via", via.json());
                emit(&mut out, &line.to_string());
            }
            (Ok(id), Shape::Groups) => emit(&mut out, &output::groups_line(&id)),
            (Err(f), _) => {
                worst = worst.max(f.status);
                report(&mut out, raw, &f, shape);
            }
        }
    }
    worst
}

fn report(out: &mut impl std::io::Write, raw: &OsString, f: &Failure, shape: Shape) {
    match shape {
        Shape::Json => {
            let line = f.json(json!({"name": output::json_text(raw)}));
            emit(out, &line.to_string());
        }
        Shape::Id | Shape::Groups => output::report(&output::escape_operand(raw), &f.message),
    }
}

/// Waiting to connect: a refused or absent socket fails at once; this bounds only a
/// daemon too busy to take the connection (a full backlog).
const CONNECT_TIMEOUT: Duration = Duration::from_millis(100);
/// Added to the daemon's own bound on a lookup before giving up on its answer.
const ANSWER_MARGIN: Duration = Duration::from_millis(500);

/// proxidd, connected, for a client that runs in server mode.
struct Daemon {
    session: Session,
    digest: ConfigDigest,
    /// How long an answer may take: what a lookup may take the daemon
    /// (`connect_timeout` + `operation_timeout`, their defaults when not set), plus a
    /// margin.
    answer_timeout: Duration,
}

impl Daemon {
    /// Reads the configuration file and connects, or `None` when there is no daemon
    /// to ask. The file is not validated here (the daemon validated the same bytes, or
    /// its digest differs): it is read and parsed as TOML for `[resolution] mode`,
    /// `[daemon] socket` and the `[ldap]` timeouts only, so a user who may read the
    /// file but not the bind secret it names is answered too. No daemon to ask: no
    /// readable file (resolving here reports why), client mode (proxidd serves server
    /// mode only, and there is nothing to gain: the answer comes from this host's NSS
    /// either way), nothing listening.
    fn open(ctx: &Context) -> Option<Daemon> {
        let (path, _) = proxid::config::config_path(ctx.config.as_deref());
        let bytes = std::fs::read(&path).ok()?;
        let table: toml::Table = std::str::from_utf8(&bytes).ok()?.parse().ok()?;
        let key = |section: &str, key: &str| table.get(section)?.get(key)?.as_str();
        if key("resolution", "mode") != Some("server") {
            return None;
        }
        let duration = |name: &str, default: u64| {
            key("ldap", name)
                .and_then(|text| proxid::config::parse_duration(text).ok())
                .unwrap_or(Duration::from_secs(default))
        };
        let answer_timeout =
            duration("connect_timeout", 2) + duration("operation_timeout", 3) + ANSWER_MARGIN;
        let configured = key("daemon", "socket").unwrap_or(client::DEFAULT_SOCKET);
        let socket = super::daemon::socket_of(Path::new(configured));
        let session = Session::connect(&socket, CONNECT_TIMEOUT).ok()?;
        Some(Daemon {
            session,
            digest: resolve_service::file_digest(&path, &bytes),
            answer_timeout,
        })
    }

    /// The daemon's answer for a valid name, or `None` to resolve here (no answer in
    /// time, another configuration, an answer this CLI does not know).
    fn ask(&self, name: &str) -> Option<Result<Identity, Failure>> {
        let request = Request::Resolve {
            config_digest: self.digest.to_vec(),
            name: name.as_bytes().to_vec(),
        };
        match self.session.call(&request, self.answer_timeout).ok()? {
            Response::Identity(id) => Some(Ok(resolve_service::from_wire(id))),
            Response::Failed { kind, message } => remote_failure(&kind, message).map(Err),
            // OtherConfig; Error from a daemon that predates the request; anything else.
            _ => None,
        }
    }
}

/// The daemon's error as this process would report it: the status and `error` kind
/// come from `classify` (through an error of the kind the daemon named), the message
/// is the daemon's. `None` for a kind this CLI does not know (a newer daemon).
fn remote_failure(kind: &str, message: String) -> Option<Failure> {
    let (status, kind) = classify(&error_of_kind(kind)?);
    Some(Failure {
        status,
        kind,
        message,
    })
}

/// An error of the kind `Error::kind` names `kind` (its fields empty).
fn error_of_kind(kind: &str) -> Option<Error> {
    let e = match kind {
        "not_found" => Error::NotFound {
            what: String::new(),
        },
        "invalid_name" => Error::InvalidName {
            name: String::new(),
            reason: String::new(),
        },
        "unavailable" => Error::Unavailable {
            source_name: String::new(),
            detail: String::new(),
        },
        "timeout" => Error::Timeout {
            source_name: String::new(),
            after_ms: 0,
        },
        "directory" => Error::Directory {
            detail: String::new(),
        },
        "config" => Error::Config {
            file: Default::default(),
            message: String::new(),
        },
        "mode_mismatch" => Error::ModeMismatch {
            detail: String::new(),
        },
        "identity_mismatch" => Error::IdentityMismatch {
            name: String::new(),
            detail: String::new(),
        },
        "invalid_argument" => Error::InvalidArgument(String::new()),
        "io" => Error::Io {
            context: String::new(),
            source: Arc::new(std::io::Error::other("")),
        },
        _ => return None,
    };
    Some(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_remote_kind_is_classified_as_its_own() {
        let kinds = [
            "not_found",
            "invalid_name",
            "unavailable",
            "timeout",
            "directory",
            "config",
            "mode_mismatch",
            "identity_mismatch",
            "invalid_argument",
            "io",
        ];
        for kind in kinds {
            let e = error_of_kind(kind).expect(kind);
            assert_eq!(e.kind(), kind);
            let f = remote_failure(kind, "m".into()).expect(kind);
            assert_eq!((f.status, f.kind), classify(&e));
            assert_eq!(f.message, "m");
        }
        assert!(remote_failure("from_the_future", "m".into()).is_none());
    }
}
