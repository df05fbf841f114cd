//! `doctor`: the library's checks, one row each; the worst decides the exit status.

use std::ffi::{OsStr, OsString};

use proxid::doctor::{self, Check};

use crate::output::{self, emit};
use crate::{name_operand, text_operand, Context, Status};

/// `proxid doctor [--json] [--server URI|CONF] [NAME...]`
pub fn run(ctx: &Context, server: Option<&OsStr>, names: &[OsString], json: bool) -> Status {
    let mut valid = Vec::new();
    for raw in names {
        match name_operand(raw) {
            Ok(name) => valid.push(name.to_string()),
            Err(f) => {
                output::report(&output::escape_operand(raw), &f.message);
                return f.status;
            }
        }
    }
    let server = match server.map(|s| text_operand(s, "--server")).transpose() {
        Ok(s) => s.map(str::to_string),
        Err(f) => {
            output::report("--server", &f.message);
            return f.status;
        }
    };
    let options = doctor::Options {
        config: ctx.config.clone(),
        server,
        names: valid,
    };
    let mut out = std::io::stdout().lock();
    let worst = doctor::run(&options, &mut |check: Check| {
        if json {
            emit(&mut out, &serde_json::to_string(&check).unwrap_or_default());
        } else {
            emit(&mut out, &text_row(&check));
        }
    });
    match worst {
        doctor::Status::Ok => Status::Ok,
        doctor::Status::Warn => Status::NotFound,
        doctor::Status::Fail => Status::Error,
    }
}

/// `ok   config: ...`, and `     fix: ...` under a warning or failure.
fn text_row(check: &Check) -> String {
    let mut row = format!(
        "{:<4} {}: {}",
        check.status.as_str(),
        output::one_line(&check.check),
        output::one_line(&check.detail)
    );
    if let Some(fix) = &check.fix {
        row += &format!("\n     fix: {}", output::one_line(fix));
    }
    row
}
