//! `resolve` and `groups`: identities by user name.

use std::ffi::OsString;

use serde_json::json;

use crate::output::{self, emit};
use crate::{name_operand, Context, Failure, Status};

#[derive(Clone, Copy)]
enum Shape {
    Id,
    Json,
    Groups,
}

/// `proxid resolve [--json] NAME...`
pub fn resolve(ctx: &Context, names: &[OsString], json: bool) -> Status {
    run(ctx, names, if json { Shape::Json } else { Shape::Id })
}

/// `proxid groups NAME...`
pub fn groups(ctx: &Context, names: &[OsString]) -> Status {
    run(ctx, names, Shape::Groups)
}

fn run(ctx: &Context, names: &[OsString], shape: Shape) -> Status {
    let resolver = match ctx.open() {
        Ok(r) => r,
        Err(s) => return s,
    };
    let mut out = std::io::stdout().lock();
    let mut worst = Status::Ok;
    for raw in names {
        let found = name_operand(raw).and_then(|name| Ok(resolver.resolve(name)?));
        match (found, shape) {
            (Ok(id), Shape::Id) => emit(&mut out, &output::id_line(&id)),
            (Ok(id), Shape::Json) => emit(&mut out, &output::identity_json(&id).to_string()),
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
