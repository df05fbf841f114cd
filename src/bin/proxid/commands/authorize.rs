//! `authorize --proxy P --user U --host H`: one impersonation decision.

use std::ffi::OsStr;

use proxid::{Decision, Verdict};
use serde_json::json;

use crate::output::{self, emit, esc};
use crate::{text_operand, Context, Failure, Status};

/// `proxid authorize --proxy P --user U --host H [--json]`
pub fn run(ctx: &Context, proxy: &OsStr, user: &OsStr, host: &OsStr, json: bool) -> Status {
    let decided = match decide(ctx, proxy, user, host) {
        Ok(decided) => decided,
        Err(status) => return status,
    };
    let mut out = std::io::stdout().lock();
    match decided {
        Ok(d) => print_decision(&mut out, &d, json),
        Err(f) => {
            if json {
                let line = f.json(json!({
                    "proxy": output::json_text(proxy),
                    "user": output::json_text(user),
                    "host": output::json_text(host),
                }));
                emit(&mut out, &line.to_string());
            } else {
                output::report("authorize", &f.message);
            }
            Status::Error
        }
    }
}

/// The decision, or why there is none; `Err(status)` when the configuration could not
/// be opened (already reported).
fn decide(
    ctx: &Context,
    proxy: &OsStr,
    user: &OsStr,
    host: &OsStr,
) -> Result<Result<Decision, Failure>, Status> {
    // Only UTF-8 is checked here; the library validates names and the host itself.
    let operands = (|| {
        Ok((
            text_operand(proxy, "--proxy")?,
            text_operand(user, "--user")?,
            text_operand(host, "--host")?,
        ))
    })();
    let (proxy, user, host) = match operands {
        Ok(operands) => operands,
        Err(f) => return Ok(Err(f)),
    };
    let resolver = ctx.open()?;
    Ok(resolver.authorize(proxy, user, host).map_err(Failure::from))
}

/// Prints a decision (one JSON object, or one line of text) and returns its exit
/// status: 0 allowed, 1 denied or run-as-self. `admit` prints its decisions so too.
pub fn print_decision(out: &mut impl std::io::Write, d: &Decision, json: bool) -> Status {
    if json {
        emit(out, &decision_json(d).to_string());
    } else {
        emit(out, &decision_line(d));
    }
    match d.verdict {
        Verdict::Allowed => Status::Ok,
        Verdict::Denied | Verdict::RunAsSelf => Status::NotFound,
    }
}

/// The decision's own JSON form (`Decision`'s `Serialize`).
fn decision_json(d: &Decision) -> serde_json::Value {
    serde_json::to_value(d).unwrap_or_default()
}

/// `allowed as alice(uid 20001): livy -> alice from 10.0.0.5 (reason: ...; rule: ...)`
fn decision_line(d: &Decision) -> String {
    let acting = match &d.effective {
        Some(id) => format!(" as {}(uid {})", esc(&id.name), id.uid),
        None => String::new(),
    };
    format!(
        "{}{acting}: {} -> {} from {} (reason: {}; rule: {})",
        d.verdict.as_str(),
        esc(&d.proxy),
        esc(&d.user),
        esc(&d.host),
        esc(&d.reason),
        d.rule.as_deref().map_or("none".into(), esc)
    )
}
