//! `proxid admit --json REQUEST`: the server side of a request in one call (mode
//! handshake and exact ID check for proxy and target, then the decision). Output and
//! exit codes are `authorize`'s: 0 allowed, 1 denied or run-as-self, 2 error
//! ([`print_decision`] prints a decision as `authorize` does).

use serde_json::json;

use super::{emit, open, usage_error, Args, Status};
use proxid::{AdmitRequest, Decision, Verdict};

pub(crate) fn cmd_admit(args: &Args) -> Status {
    let [raw] = args.operands.as_slice() else {
        return usage_error("admit needs exactly one REQUEST_JSON");
    };
    let resolver = match open(args) {
        Ok(r) => r,
        Err(s) => return s,
    };
    let request = match raw.to_str() {
        Some(text) => AdmitRequest::from_json(text),
        None => Err(proxid::Error::InvalidArgument(
            "admission request: not valid UTF-8".into(),
        )),
    };
    let (request, result) = match request {
        Ok(r) => {
            let result = resolver.admit(&r);
            (Some(r), result)
        }
        Err(e) => (None, Err(e)),
    };
    let mut out = std::io::stdout().lock();
    match result {
        Ok(d) => {
            print_decision(&mut out, &d, args.json);
            match d.verdict {
                Verdict::Allowed => Status::Ok,
                Verdict::Denied | Verdict::RunAsSelf => Status::NotFound,
            }
        }
        Err(e) => {
            if args.json {
                let mut line = match &request {
                    Some(r) => json!({"proxy": r.proxy.name, "user": r.user.name, "host": r.host}),
                    None => json!({}),
                };
                line["error"] = json!(e.kind());
                line["message"] = json!(e.to_string());
                emit(&mut out, &line.to_string());
            } else {
                eprintln!("proxid: admit: {e}");
            }
            Status::Error
        }
    }
}

/// Prints a decision as `authorize` does: one JSON object, or one line of text.
pub(crate) fn print_decision(out: &mut impl std::io::Write, d: &Decision, as_json: bool) {
    if as_json {
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
        emit(out, &line.to_string());
    } else {
        let acting = d.effective.as_ref().map_or(String::new(), |id| {
            format!(" as {}(uid {})", id.name, id.uid)
        });
        emit(
            out,
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
}
