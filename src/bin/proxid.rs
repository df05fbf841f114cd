//! The `proxid` command line. It parses arguments, calls the library and prints;
//! every decision is made in the library.
//!
//! Exit codes: 0 success, 1 not found / denied, 2 any other error.

use std::ffi::OsString;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::process::ExitCode;

use proxid::{Error, Identity, Resolver};
use serde_json::json;

const USAGE: &str = "\
usage: proxid [--config FILE] <command> [options] [--] ARGS...

commands:
  resolve [--json] NAME...      UID, primary GID and groups of each user (like `id`)
  groups NAME...                group names of each user (like `hdfs groups`)
  check-config                  validate and print the effective configuration
  principal [--json] PRINCIPAL...
                                short name of each Kerberos principal (auth_to_local);
                                exit 0 when all mapped, 2 when any failed
  program-principal [--json] NAMESPACE [APPLICATION]
                                principal, short name and keytab a program runs with
  status [--json]               proxidd: running, directory reachable, cache size, hit rate
  cache invalidate [NAME]       empty proxidd's cache for NAME, or all of it (root)
  authorize --proxy P --user U --host H [--json]
                                may proxy P act as user U for a request from host H?
                                exit 0 allowed, 1 denied or run-as-self, 2 error
  accept [--json] ASSERTION_JSON
                                server side of the resolution handshake: the identity
                                to act as for a client's assertion

exit status: 0 success, 1 not found, 2 any other error";

/// Exit statuses shared by all commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Status {
    Ok = 0,
    NotFound = 1,
    Error = 2,
}

#[path = "cli/daemon_cmds.rs"]
mod daemon_cmds;

impl Status {
    fn from_code(code: u8) -> Status {
        match code {
            0 => Status::Ok,
            1 => Status::NotFound,
            _ => Status::Error,
        }
    }
}

fn status_of(e: &Error) -> Status {
    match e {
        Error::NotFound { .. } => Status::NotFound,
        _ => Status::Error,
    }
}

/// Arguments after global options: the command, its flags and its operands.
struct Args {
    config: Option<PathBuf>,
    command: String,
    json: bool,
    operands: Vec<OsString>,
    /// `--proxy`, `--user`, `--host` values (authorize), in the order given.
    values: Vec<(String, OsString)>,
}

fn usage_error(message: &str) -> Status {
    eprintln!("proxid: usage: {message}\n{USAGE}");
    Status::Error
}

/// Parses `[--config FILE] command [--json] [--] operands`. Options may appear
/// anywhere before `--`; everything after `--` is an operand.
fn parse_args(mut raw: impl Iterator<Item = OsString>) -> Result<Args, String> {
    let mut config = None;
    let mut command = None;
    let mut json = false;
    let mut operands = Vec::new();
    let mut values = Vec::new();
    let mut options_done = false;
    while let Some(arg) = raw.next() {
        let text = arg.to_string_lossy();
        if options_done || !text.starts_with('-') || text == "-" {
            if command.is_none() {
                command = Some(text.into_owned());
            } else {
                operands.push(arg);
            }
            continue;
        }
        match text.as_ref() {
            "--" => options_done = true,
            "--config" => {
                let file = raw.next().ok_or("--config needs a FILE")?;
                config = Some(PathBuf::from(file));
            }
            s if s.starts_with("--config=") => config = Some(PathBuf::from(&s[9..])),
            "--json" => json = true,
            "--proxy" | "--user" | "--host" => {
                let value = raw.next().ok_or(format!("{text} needs a value"))?;
                values.push((text[2..].to_string(), value));
            }
            s if ["--proxy=", "--user=", "--host="]
                .iter()
                .any(|p| s.starts_with(p)) =>
            {
                let (key, value) = s[2..].split_once('=').unwrap_or_default();
                values.push((key.to_string(), OsString::from(value)));
            }
            "-h" | "--help" => {
                command = Some("help".into());
            }
            other => return Err(format!("unknown option {other:?}")),
        }
    }
    let command = command.ok_or("no command given")?;
    Ok(Args {
        config,
        command,
        json,
        operands,
        values,
    })
}

fn id_line(id: &Identity) -> String {
    let primary = id.groups.first().map_or(String::new(), |g| g.name.clone());
    let groups: Vec<String> = id
        .groups
        .iter()
        .map(|g| format!("{}({})", g.gid, g.name))
        .collect();
    format!(
        "{} uid={}({}) gid={}({}) groups={}",
        id.name,
        id.uid,
        id.name,
        id.gid,
        primary,
        groups.join(",")
    )
}

fn identity_json(id: &Identity) -> serde_json::Value {
    json!({
        "name": id.name,
        "uid": id.uid,
        "gid": id.gid,
        "groups": id.groups.iter().map(|g| json!({"name": g.name, "gid": g.gid})).collect::<Vec<_>>(),
        "home": id.home,
        "shell": id.shell,
        "source": id.source,
    })
}

fn error_json(name: &str, e: &Error) -> serde_json::Value {
    json!({"name": name, "error": e.kind(), "message": e.to_string()})
}

fn open(args: &Args) -> Result<Resolver, Status> {
    Resolver::open(args.config.as_deref()).map_err(|e| {
        eprintln!("proxid: configuration: {e}");
        Status::Error
    })
}

/// Prints to stdout; a closed pipe (`proxid resolve ... | head`) is not an error.
fn emit(out: &mut impl Write, line: &str) {
    let _ = writeln!(out, "{line}");
}

fn cmd_resolve(args: &Args, groups_only: bool) -> Status {
    if args.operands.is_empty() {
        return usage_error("resolve needs at least one NAME");
    }
    let resolver = match open(args) {
        Ok(r) => r,
        Err(s) => return s,
    };
    let mut out = std::io::stdout().lock();
    let mut worst = Status::Ok;
    for raw in &args.operands {
        let shown = raw.to_string_lossy();
        match resolver.resolve_bytes(raw.as_bytes()) {
            Ok(id) if groups_only => emit(
                &mut out,
                &format!("{} : {}", id.name, id.group_names().join(" ")),
            ),
            Ok(id) if args.json => emit(&mut out, &identity_json(&id).to_string()),
            Ok(id) => emit(&mut out, &id_line(&id)),
            Err(e) => {
                worst = worst.max(status_of(&e));
                if args.json && !groups_only {
                    emit(&mut out, &error_json(&shown, &e).to_string());
                } else {
                    eprintln!("proxid: {shown}: {e}");
                }
            }
        }
    }
    worst
}

fn cmd_check_config(args: &Args) -> Status {
    // Everything a resolver builds at first use (proxy-user rules, a core-site.xml
    // import) is built here too, so a broken rule shows now rather than at 3 a.m.
    let checked = proxid::Config::load(args.config.as_deref()).and_then(|config| {
        let rules = Resolver::new(config.clone())?.check_policy()?;
        Ok((config, rules))
    });
    match checked {
        Ok((config, rules)) => {
            let from = config
                .path
                .as_ref()
                .map_or("embedded default (no configuration file)".into(), |p| {
                    p.display().to_string()
                });
            let mut out = std::io::stdout().lock();
            emit(&mut out, &format!("# proxid configuration from {from}"));
            emit(&mut out, &format!("# {rules} proxy-user rule(s) in force"));
            let _ = write!(out, "{}", config.to_effective_toml());
            Status::Ok
        }
        Err(e) => {
            eprintln!("proxid: configuration: {e}");
            Status::Error
        }
    }
}

/// The one value of `--NAME`, as UTF-8 (names and hosts must be valid UTF-8).
fn single_value(args: &Args, name: &str) -> Result<String, String> {
    let mut found = args.values.iter().filter(|(k, _)| k == name);
    let (_, value) = found.next().ok_or(format!("authorize needs --{name}"))?;
    if found.next().is_some() {
        return Err(format!("--{name} given more than once"));
    }
    value
        .to_str()
        .map(str::to_string)
        .ok_or(format!("--{name} is not valid UTF-8"))
}

fn cmd_authorize(args: &Args) -> Status {
    if !args.operands.is_empty() {
        return usage_error("authorize takes --proxy, --user and --host, no operands");
    }
    let (proxy, user, host) = match (
        single_value(args, "proxy"),
        single_value(args, "user"),
        single_value(args, "host"),
    ) {
        (Ok(p), Ok(u), Ok(h)) => (p, u, h),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return usage_error(&e),
    };
    let resolver = match open(args) {
        Ok(r) => r,
        Err(s) => return s,
    };
    let mut out = std::io::stdout().lock();
    match resolver.authorize(&proxy, &user, &host) {
        Ok(d) => {
            if args.json {
                let line = json!({
                    "verdict": d.verdict.as_str(),
                    "proxy": d.proxy,
                    "user": d.user,
                    "host": d.host,
                    "effective_user": d.effective_user,
                    "effective_uid": d.effective.as_ref().map(|id| id.uid),
                    "rule": d.rule,
                    "reason": d.reason,
                });
                emit(&mut out, &line.to_string());
            } else {
                let acting = match &d.effective {
                    Some(id) => format!(" as {}(uid {})", id.name, id.uid),
                    None => String::new(),
                };
                emit(
                    &mut out,
                    &format!(
                        "{}{acting}: {} -> {} from {} (reason: {}; rule: {})",
                        d.verdict.as_str(),
                        d.proxy,
                        d.user,
                        d.host,
                        d.reason,
                        d.rule.as_deref().unwrap_or("none")
                    ),
                );
            }
            match d.verdict {
                proxid::Verdict::Allowed => Status::Ok,
                proxid::Verdict::Denied | proxid::Verdict::RunAsSelf => Status::NotFound,
            }
        }
        Err(e) => {
            if args.json {
                let mut line = json!({"proxy": proxy, "user": user, "host": host});
                line["error"] = json!(e.kind());
                line["message"] = json!(e.to_string());
                emit(&mut out, &line.to_string());
            } else {
                eprintln!("proxid: authorize: {e}");
            }
            Status::Error
        }
    }
}

fn cmd_accept(args: &Args) -> Status {
    let [raw] = args.operands.as_slice() else {
        return usage_error("accept needs exactly one ASSERTION_JSON");
    };
    let resolver = match open(args) {
        Ok(r) => r,
        Err(s) => return s,
    };
    let text = raw.to_string_lossy();
    let assertion = proxid::Assertion::from_json(&text);
    // Errors name the asserted user when the assertion could be read at all.
    let shown = assertion
        .as_ref()
        .map_or_else(|_| text.to_string(), |a| a.name.clone());
    let result = assertion.and_then(|a| resolver.accept(&a));
    let mut out = std::io::stdout().lock();
    match result {
        Ok(id) if args.json => emit(&mut out, &identity_json(&id).to_string()),
        Ok(id) => emit(&mut out, &id_line(&id)),
        Err(e) => {
            if args.json {
                emit(&mut out, &error_json(&shown, &e).to_string());
            } else {
                eprintln!("proxid: accept: {e}");
            }
            return status_of(&e);
        }
    }
    Status::Ok
}

fn cmd_principal(args: &Args) -> Status {
    if args.operands.is_empty() {
        return usage_error("principal needs at least one PRINCIPAL");
    }
    let resolver = match open(args) {
        Ok(r) => r,
        Err(s) => return s,
    };
    let mut out = std::io::stdout().lock();
    let mut worst = Status::Ok;
    for raw in &args.operands {
        let shown = raw.to_string_lossy();
        let result = match raw.to_str() {
            Some(principal) => resolver.short_name(principal),
            None => Err(Error::InvalidName {
                name: shown.to_string(),
                reason: "not valid UTF-8".into(),
            }),
        };
        match result {
            Ok(short) if args.json => emit(
                &mut out,
                &json!({"principal": shown, "short_name": short}).to_string(),
            ),
            Ok(short) => emit(&mut out, &short),
            Err(e) => {
                worst = Status::Error;
                if args.json {
                    let line =
                        json!({"principal": shown, "error": e.kind(), "message": e.to_string()});
                    emit(&mut out, &line.to_string());
                } else {
                    eprintln!("proxid: {shown}: {e}");
                }
            }
        }
    }
    worst
}

fn cmd_program_principal(args: &Args) -> Status {
    let parts: Vec<String> = args
        .operands
        .iter()
        .map(|o| o.to_string_lossy().into_owned())
        .collect();
    let (namespace, application) = match parts.as_slice() {
        [ns] => (ns.as_str(), None),
        [ns, app] => (ns.as_str(), Some(app.as_str())),
        _ => return usage_error("program-principal needs NAMESPACE [APPLICATION]"),
    };
    let resolver = match open(args) {
        Ok(r) => r,
        Err(s) => return s,
    };
    let program = match resolver.program_principal_unchecked(namespace, application) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("proxid: program-principal {}: {e}", parts.join(" "));
            return status_of(&e);
        }
    };
    let keytab_check = program
        .keytab
        .as_deref()
        .map_or(Ok(()), proxid::principal::check_keytab);
    let mut out = std::io::stdout().lock();
    if args.json {
        let mut line = json!({
            "principal": program.principal,
            "short_name": program.short_name,
            "keytab": program.keytab,
        });
        if let Err(e) = &keytab_check {
            line["error"] = json!(e.kind());
            line["message"] = json!(e.to_string());
        }
        emit(&mut out, &line.to_string());
    } else {
        emit(&mut out, &format!("principal: {}", program.principal));
        emit(&mut out, &format!("short_name: {}", program.short_name));
        let keytab = program
            .keytab
            .as_ref()
            .map_or("(none)".into(), |k| k.display().to_string());
        emit(&mut out, &format!("keytab: {keytab}"));
    }
    match keytab_check {
        Ok(()) => Status::Ok,
        Err(e) => {
            eprintln!("proxid: program-principal {}: {e}", parts.join(" "));
            Status::Error
        }
    }
}

fn run() -> Status {
    let args = match parse_args(std::env::args_os().skip(1)) {
        Ok(a) => a,
        Err(e) => return usage_error(&e),
    };
    match args.command.as_str() {
        "resolve" => cmd_resolve(&args, false),
        "groups" => cmd_resolve(&args, true),
        "check-config" => cmd_check_config(&args),
        "principal" => cmd_principal(&args),
        "program-principal" => cmd_program_principal(&args),
        "authorize" => cmd_authorize(&args),
        "accept" => cmd_accept(&args),
        "status" => Status::from_code(daemon_cmds::status(args.config.as_deref(), args.json)),
        "cache" => Status::from_code(daemon_cmds::cache(args.config.as_deref(), &args.operands)),
        "help" => {
            println!("{USAGE}");
            Status::Ok
        }
        other => usage_error(&format!("unknown command {other:?}")),
    }
}

fn main() -> ExitCode {
    ExitCode::from(run() as u8)
}
