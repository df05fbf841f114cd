//! The `proxid` command line. It parses arguments (cli.rs), calls the library and
//! prints (output.rs); every decision is made in the library. One module per command
//! in commands/.
//!
//! Exit codes: 0 success, 1 not found / denied, 2 any other error (usage included).

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

mod cli;
mod commands;
mod output;
mod quick_args;

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::{CommandFactory, Parser};
use proxid::{Error, Proxid};

use cli::{CacheCommand, Cli, Command};

/// Exit statuses shared by all commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Ok = 0,
    NotFound = 1,
    Error = 2,
}

/// The exit status and the `--json` `error` kind of a library error: the one place
/// the CLI dispatches on an error, exhaustive so a new variant must be placed here.
pub fn classify(e: &Error) -> (Status, &'static str) {
    match e {
        Error::NotFound { .. } => (Status::NotFound, "not_found"),
        Error::InvalidName { .. } => (Status::Error, "invalid_name"),
        Error::Unavailable { .. } => (Status::Error, "unavailable"),
        Error::Timeout { .. } => (Status::Error, "timeout"),
        Error::Directory { .. } => (Status::Error, "directory"),
        Error::Config { .. } => (Status::Error, "config"),
        Error::ModeMismatch { .. } => (Status::Error, "mode_mismatch"),
        Error::IdentityMismatch { .. } => (Status::Error, "identity_mismatch"),
        Error::InvalidArgument(_) => (Status::Error, "invalid_argument"),
        Error::Io { .. } => (Status::Error, "io"),
    }
}

/// A failed operation as the CLI reports it.
#[derive(Debug)]
pub struct Failure {
    pub status: Status,
    /// The `error` field of `--json` output.
    pub kind: &'static str,
    /// Unescaped; `output::report` puts it on one line for stderr.
    pub message: String,
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        let (status, kind) = classify(&e);
        Failure {
            status,
            kind,
            message: e.to_string(),
        }
    }
}

impl Failure {
    /// An operand refused before any lookup; the message shows its bytes escaped
    /// (the library's own message would show U+FFFD for bytes that are not UTF-8), at
    /// most 64 of them as the library's message does.
    fn invalid_name(raw: &OsStr, reason: String) -> Self {
        let shown = output::escape_cut(raw, 64);
        let (status, kind) = classify(&Error::InvalidName {
            name: shown.clone(),
            reason: reason.clone(),
        });
        Failure {
            status,
            kind,
            message: format!("invalid name \"{shown}\": {reason}"),
        }
    }

    /// `fields` (an object naming what failed) with `"error"` and `"message"` added.
    pub fn json(&self, mut fields: serde_json::Value) -> serde_json::Value {
        output::set_field(&mut fields, "error", self.kind);
        output::set_field(&mut fields, "message", self.message.as_str());
        fields
    }
}

/// A user or group name operand, validated exactly as `Proxid::resolve` validates
/// names (empty, too long, NUL, not UTF-8 are `invalid_name`).
pub fn name_operand(raw: &OsStr) -> Result<&str, Failure> {
    proxid::identity::validate_name(raw.as_bytes()).map_err(|e| match e {
        Error::InvalidName { reason, .. } => Failure::invalid_name(raw, reason),
        other => other.into(),
    })
}

/// Any other text operand (host, principal, JSON): must be UTF-8, else `invalid_name`
/// naming `what`; the library validates the rest.
pub fn text_operand<'a>(raw: &'a OsStr, what: &str) -> Result<&'a str, Failure> {
    raw.to_str()
        .ok_or_else(|| Failure::invalid_name(raw, format!("{what} is not valid UTF-8")))
}

/// What every command gets: the global options.
pub struct Context {
    pub config: Option<PathBuf>,
}

impl Context {
    /// Opens the resolver, reporting a configuration error as every command does.
    pub fn open(&self) -> Result<Proxid, Status> {
        Proxid::open(self.config.as_deref()).map_err(|e| {
            output::report("configuration", &e.to_string());
            Status::Error
        })
    }
}

fn dispatch(ctx: &Context, command: Command) -> Status {
    match command {
        Command::Resolve {
            json,
            direct,
            names,
        } => commands::resolve::resolve(ctx, &names, json, direct),
        Command::Groups { direct, names } => commands::resolve::groups(ctx, &names, direct),
        Command::CheckConfig => commands::check_config::run(ctx),
        Command::Principal { json, principals } => {
            commands::principal::principal(ctx, &principals, json)
        }
        Command::ProgramPrincipal {
            json,
            namespace,
            application,
        } => commands::principal::program_principal(ctx, &namespace, application.as_deref(), json),
        Command::Authorize {
            proxy,
            user,
            host,
            json,
        } => commands::authorize::run(ctx, &proxy, &user, &host, json),
        Command::Accept { json, assertion } => commands::accept::run(ctx, &assertion, json),
        Command::Admit { json, request } => commands::admit::run(ctx, &request, json),
        Command::Doctor {
            json,
            server,
            names,
        } => commands::doctor::run(ctx, server.as_deref(), &names, json),
        Command::Homes {
            group,
            all,
            local,
            mode,
            dry_run,
            json,
            names,
        } => commands::homes::run(
            ctx,
            commands::homes::Args {
                group: group.as_deref(),
                all,
                names: &names,
                local: local.as_deref(),
                mode: mode.as_deref(),
                dry_run,
                json,
            },
        ),
        Command::Status { json } => commands::daemon::status(ctx, json),
        Command::Cache(CacheCommand::Invalidate { name }) => {
            commands::daemon::invalidate(ctx, name.as_deref())
        }
        Command::Completions { shell } => commands::completions::run(shell),
    }
}

/// Reports a clap error: help and version on stdout (exit 0), usage errors on stderr
/// as `proxid: usage: ...` (exit 2), with every argument clap echoes escaped.
fn usage_error(e: &clap::Error, args: &[OsString]) -> Status {
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            return Status::Ok;
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            eprintln!("proxid: usage: no command given\n");
            eprint!("{}", Cli::command().render_help());
            return Status::Error;
        }
        _ => {}
    }
    let mut text = e.render().to_string();
    // clap echoes an offending argument (or the value of `--opt=value`) converted
    // lossily and unescaped: show it escaped.
    let values = args.iter().filter_map(|arg| {
        let bytes = arg.as_bytes();
        let value = bytes
            .iter()
            .position(|&b| b == b'=')
            .and_then(|i| bytes.get(i + 1..));
        bytes.starts_with(b"--").then_some(value).flatten()
    });
    for raw in args.iter().map(|a| a.as_bytes()).chain(values) {
        let shown = String::from_utf8_lossy(raw);
        let escaped = output::escape(raw);
        if escaped != shown && !shown.is_empty() {
            text = text.replace(shown.as_ref(), &escaped);
        }
    }
    let text = text.strip_prefix("error: ").unwrap_or(&text);
    eprint!("proxid: usage: {text}");
    Status::Error
}

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    if let Some((config, command)) = quick_args::plain(&args) {
        return ExitCode::from(dispatch(&Context { config }, command) as u8);
    }
    let status = match Cli::try_parse_from(&args) {
        Ok(cli) => dispatch(&Context { config: cli.config }, cli.command),
        Err(e) => usage_error(&e, &args),
    };
    ExitCode::from(status as u8)
}
