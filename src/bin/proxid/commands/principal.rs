//! `principal` and `program-principal`: Kerberos names.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

use serde_json::json;

use crate::output::{self, emit, esc};
use crate::{text_operand, Context, Failure, Status};

/// `proxid principal [--json] PRINCIPAL...`: exit 0 when all mapped, 2 when any failed.
pub fn principal(ctx: &Context, principals: &[OsString], json: bool) -> Status {
    let resolver = match ctx.open() {
        Ok(r) => r,
        Err(s) => return s,
    };
    let mut out = std::io::stdout().lock();
    let mut worst = Status::Ok;
    for raw in principals {
        let mapped = text_operand(raw, "principal")
            .and_then(|principal| Ok(resolver.short_name(principal)?));
        match mapped {
            Ok(short) if json => emit(
                &mut out,
                &json!({"principal": output::json_text(raw), "short_name": short}).to_string(),
            ),
            Ok(short) => emit(&mut out, &esc(&short)),
            Err(f) => {
                worst = Status::Error;
                if json {
                    let line = f.json(json!({"principal": output::json_text(raw)}));
                    emit(&mut out, &line.to_string());
                } else {
                    output::report(&output::escape_operand(raw), &f.message);
                }
            }
        }
    }
    worst
}

/// `proxid program-principal [--json] NAMESPACE [APPLICATION]`
pub fn program_principal(
    ctx: &Context,
    namespace: &OsStr,
    application: Option<&OsStr>,
    json: bool,
) -> Status {
    let shown = match application {
        Some(app) => format!(
            "program-principal {} {}",
            output::escape_operand(namespace),
            output::escape_operand(app)
        ),
        None => format!("program-principal {}", output::escape_operand(namespace)),
    };
    let resolver = match ctx.open() {
        Ok(r) => r,
        Err(s) => return s,
    };
    let found = (|| {
        let namespace = text_operand(namespace, "NAMESPACE")?;
        let application = application
            .map(|app| text_operand(app, "APPLICATION"))
            .transpose()?;
        Ok::<_, Failure>(resolver.program_principal_unchecked(namespace, application)?)
    })();
    let program = match found {
        Ok(p) => p,
        Err(f) => {
            output::report(&shown, &f.message);
            return f.status;
        }
    };
    let keytab_check = program
        .keytab
        .as_deref()
        .map_or(Ok(()), proxid::principal::check_keytab)
        .map_err(Failure::from);
    let mut out = std::io::stdout().lock();
    if json {
        let mut line = json!({
            "principal": program.principal,
            "short_name": program.short_name,
            "keytab": program.keytab,
        });
        if let Err(f) = &keytab_check {
            line = f.json(line);
        }
        emit(&mut out, &line.to_string());
    } else {
        emit(&mut out, &format!("principal: {}", esc(&program.principal)));
        emit(
            &mut out,
            &format!("short_name: {}", esc(&program.short_name)),
        );
        let keytab = program.keytab.as_ref().map_or("(none)".into(), |k| {
            output::escape(k.as_os_str().as_bytes())
        });
        emit(&mut out, &format!("keytab: {keytab}"));
    }
    match keytab_check {
        Ok(()) => Status::Ok,
        Err(f) => {
            output::report(&shown, &f.message);
            Status::Error
        }
    }
}
