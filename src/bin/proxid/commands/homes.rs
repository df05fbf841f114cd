//! `homes`: home directories for a group's members, all users or given names, as an
//! HDFS script or created locally. The library decides what to do for each user;
//! this prints, counts and shows progress.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::io::{IsTerminal, Write};
use std::path::Path;

use proxid::homes::{self, Action, LocalBase, Outcome, Selection};

use crate::output::{self, emit};
use crate::{name_operand, text_operand, Context, Failure, Status};

/// Runs with more users than this show a progress bar (on a terminal).
const PROGRESS_FROM: usize = 50;

/// The operands of `proxid homes`.
pub struct Args<'a> {
    pub group: Option<&'a OsStr>,
    pub all: bool,
    pub names: &'a [OsString],
    pub local: Option<&'a Path>,
    pub mode: Option<&'a OsStr>,
    pub dry_run: bool,
    pub json: bool,
}

fn fail(what: &str, f: Failure) -> Status {
    output::report(what, &f.message);
    f.status
}

/// `proxid homes (--group G | --all | NAME...) [--local BASE] [--mode MODE] [--dry-run] [--json]`
pub fn run(ctx: &Context, args: Args<'_>) -> Status {
    let mode = match args.mode.map(|m| {
        text_operand(m, "--mode").and_then(|t| homes::parse_mode(t).map_err(Failure::from))
    }) {
        None => homes::DEFAULT_MODE,
        Some(Ok(m)) => m,
        Some(Err(f)) => return fail("--mode", f),
    };
    let resolver = match ctx.open() {
        Ok(r) => r,
        Err(s) => return s,
    };
    let base = match args.local.map(LocalBase::open).transpose() {
        Ok(b) => b,
        Err(e) => return fail("--local", e.into()),
    };

    // Operands that are not names are reported like skipped users, not dropped.
    let mut outcomes_early = Vec::new();
    let mut given = Vec::new();
    for raw in args.names {
        match name_operand(raw) {
            Ok(n) => given.push(n.to_string()),
            Err(f) => outcomes_early.push(Outcome::skipped(
                &output::json_text(raw),
                String::new(),
                f.message,
            )),
        }
    }
    let selection = match args.group {
        Some(raw) => match name_operand(raw) {
            Ok(g) => Selection::Group(g),
            Err(f) => return fail(&output::escape_operand(raw), f),
        },
        None if args.all => Selection::All,
        None => Selection::Names(&given),
    };
    let names = match homes::members(resolver.resolver(), selection) {
        Ok(n) => n,
        Err(e) => return fail("homes", e.into()),
    };

    let script = base.is_none() && !args.json && !args.dry_run;
    let mut out = std::io::stdout().lock();
    if script {
        emit(
            &mut out,
            "#!/bin/sh\n# HDFS home directories, written by `proxid homes`.\nset -e",
        );
    }
    // Only on a terminal, and only for runs long enough to wait for.
    let progress = (std::io::stderr().is_terminal() && names.len() > PROGRESS_FROM).then(|| {
        let bar = indicatif::ProgressBar::new(names.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });

    let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut skipped: BTreeMap<String, usize> = BTreeMap::new();
    let mut report = |out: &mut std::io::StdoutLock<'_>, o: &Outcome| {
        *counts.entry(o.action.as_str()).or_default() += 1;
        if o.action == Action::Skipped {
            *skipped
                .entry(o.reason.clone().unwrap_or_default())
                .or_default() += 1;
        }
        let line = if args.json {
            serde_json::to_string(o).unwrap_or_default()
        } else {
            text_line(o)
        };
        let print = |out: &mut std::io::StdoutLock<'_>| {
            if script {
                // stdout is the script: the report goes to stderr.
                eprintln!("{line}");
            } else {
                emit(out, &line);
            }
        };
        match &progress {
            Some(bar) => bar.suspend(|| print(out)),
            None => print(out),
        }
    };
    for o in &outcomes_early {
        report(&mut out, o);
    }
    for name in &names {
        let outcome = match (homes::target(resolver.resolver(), name), &base) {
            (Err(why), Some(b)) => Outcome::skipped(name, b.path_of(name), why),
            (Err(why), None) => Outcome::skipped(name, homes::hdfs_path(name), why),
            (Ok(t), Some(b)) => b.ensure(&t, mode, args.dry_run),
            (Ok(t), None) => match homes::hdfs_commands(&t, mode) {
                Ok(commands) => {
                    if script {
                        let _ = write!(out, "{commands}");
                    }
                    Outcome {
                        name: t.name.clone(),
                        path: homes::hdfs_path(&t.name),
                        action: Action::Scripted,
                        reason: None,
                    }
                }
                Err(why) => Outcome::skipped(name, homes::hdfs_path(name), why),
            },
        };
        report(&mut out, &outcome);
        if let Some(bar) = &progress {
            bar.inc(1);
        }
    }
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    let _ = out.flush();
    summary(&counts, &skipped);
    if counts.contains_key("skipped") {
        Status::NotFound
    } else {
        Status::Ok
    }
}

/// `alice /home/alice: created`, `eve /home/eve: skipped: why`
fn text_line(o: &Outcome) -> String {
    let mut line = format!(
        "{} {}: {}",
        output::esc(&o.name),
        output::esc(&o.path),
        o.action.as_str()
    );
    match (&o.reason, o.action) {
        (Some(r), Action::Skipped) => line += &format!(": {}", output::one_line(r)),
        (Some(r), _) => line += &format!(" ({})", output::one_line(r)),
        (None, _) => {}
    }
    line
}

/// `proxid: homes: 3 created, 1 existed, 2 skipped (no such user: 2)` on stderr.
fn summary(counts: &BTreeMap<&'static str, usize>, skipped: &BTreeMap<String, usize>) {
    let n = |a: &str| counts.get(a).copied().unwrap_or(0);
    let mut parts = Vec::new();
    for (action, shown) in [
        ("would_create", "would be created"),
        ("scripted", "scripted"),
    ] {
        if n(action) > 0 {
            parts.push(format!("{} {shown}", n(action)));
        }
    }
    parts.push(format!("{} created", n("created")));
    parts.push(format!("{} existed", n("exists")));
    let mut last = format!("{} skipped", n("skipped"));
    if !skipped.is_empty() {
        let why: Vec<String> = skipped.iter().map(|(r, k)| format!("{r}: {k}")).collect();
        last += &format!(" ({})", why.join("; "));
    }
    parts.push(last);
    output::report("homes", &parts.join(", "));
}
