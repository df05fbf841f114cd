//! `admit --json REQUEST`: the server side of a request in one call (mode handshake
//! and exact ID check for proxy and target, then the decision). Output and exit codes
//! are `authorize`'s: 0 allowed, 1 denied or run-as-self, 2 error.

use std::ffi::OsStr;

use proxid::AdmitRequest;
use serde_json::json;

use crate::commands::authorize::print_decision;
use crate::output::{self, emit};
use crate::{text_operand, Context, Failure, Status};

/// `proxid admit [--json] REQUEST_JSON`
pub fn run(ctx: &Context, raw: &OsStr, json: bool) -> Status {
    let resolver = match ctx.open() {
        Ok(r) => r,
        Err(s) => return s,
    };
    // Bytes that are not UTF-8 are refused, never replaced.
    let (shown, admitted) = match text_operand(raw, "REQUEST_JSON") {
        Ok(text) => match AdmitRequest::from_json(text) {
            Ok(request) => (
                json!({
                    "proxy": request.proxy.name,
                    "user": request.user.name,
                    "host": request.host,
                }),
                resolver.admit(&request).map_err(Failure::from),
            ),
            Err(e) => (json!({}), Err(e.into())),
        },
        Err(f) => (json!({"request": output::json_text(raw)}), Err(f)),
    };
    let mut out = std::io::stdout().lock();
    match admitted {
        Ok(d) => print_decision(&mut out, &d, json),
        Err(f) => {
            if json {
                emit(&mut out, &f.json(shown).to_string());
            } else {
                output::report("admit", &f.message);
            }
            Status::Error
        }
    }
}
