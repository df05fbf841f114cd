//! `accept ASSERTION_JSON`: the server side of the resolution handshake.

use std::ffi::OsStr;

use serde_json::json;

use crate::output::{self, emit};
use crate::{text_operand, Context, Failure, Status};

/// `proxid accept [--json] ASSERTION_JSON`
pub fn run(ctx: &Context, raw: &OsStr, json: bool) -> Status {
    let resolver = match ctx.open() {
        Ok(r) => r,
        Err(s) => return s,
    };
    // Bytes that are not UTF-8 are refused, never replaced: `{"name":"u\xffx"}` must not
    // become a request for `u\u{fffd}x`.
    let (shown, accepted) = match text_operand(raw, "ASSERTION_JSON") {
        Ok(text) => match proxid::Assertion::from_json(text) {
            // Errors name the asserted user when the assertion could be read at all.
            Ok(assertion) => (
                assertion.name.clone(),
                resolver.accept(&assertion).map_err(Failure::from),
            ),
            Err(e) => (text.to_string(), Err(e.into())),
        },
        Err(f) => (output::json_text(raw), Err(f)),
    };
    let mut out = std::io::stdout().lock();
    match accepted {
        Ok(id) if json => emit(&mut out, &output::identity_json(&id).to_string()),
        Ok(id) => emit(&mut out, &output::id_line(&id)),
        Err(f) => {
            if json {
                let line = f.json(json!({"name": shown}));
                emit(&mut out, &line.to_string());
            } else {
                output::report("accept", &f.message);
            }
            return f.status;
        }
    }
    Status::Ok
}
