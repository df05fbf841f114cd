//! The two hot commands without clap. `proxid [--config FILE] resolve|groups [--json]
//! [--direct] NAME...` is what scripts and services run once per user, and building
//! clap's whole command tree costs ~200 µs of a ~2 ms start (measured: in a fresh
//! process every page of it is touched for the first time). Only plain arguments
//! take this path; anything else — help, `--`, `-`, an option it does not know, a
//! repeated flag, an empty argument, no name, `--config` after the command — goes to
//! clap, which parses (or refuses) exactly as always. The tests check that clap reads
//! every argument list this path accepts the same way.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use crate::cli::Command;

/// `(--config, command)` for a plain `resolve` or `groups` argument list, else `None`.
pub fn plain(args: &[OsString]) -> Option<(Option<PathBuf>, Command)> {
    let mut rest = args.get(1..)?.iter();
    let mut next = rest.next()?;
    let mut config: Option<&OsStr> = None;
    if next == "--config" {
        config = Some(rest.next()?.as_os_str());
        next = rest.next()?;
    } else if let Some(value) = next.as_bytes().strip_prefix(b"--config=") {
        config = Some(OsStr::from_bytes(value));
        next = rest.next()?;
    }
    if config.is_some_and(|c| c.is_empty()) {
        return None;
    }
    let groups = match next.as_bytes() {
        b"resolve" => false,
        b"groups" => true,
        _ => return None,
    };
    let (mut json, mut direct, mut names) = (false, false, Vec::new());
    for arg in rest {
        match arg.as_bytes() {
            b"--json" if !groups && !json => json = true,
            b"--direct" if !direct => direct = true,
            [] | [b'-', ..] => return None,
            _ => names.push(arg.clone()),
        }
    }
    if names.is_empty() {
        return None;
    }
    let command = if groups {
        Command::Groups { direct, names }
    } else {
        Command::Resolve {
            json,
            direct,
            names,
        }
    };
    Some((config.map(PathBuf::from), command))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;
    use clap::Parser;

    fn args(list: &[&str]) -> Vec<OsString> {
        std::iter::once("proxid")
            .chain(list.iter().copied())
            .map(OsString::from)
            .collect()
    }

    #[test]
    fn what_it_takes_clap_reads_the_same_way() {
        let taken: &[&[&str]] = &[
            &["resolve", "alice"],
            &["resolve", "alice", "bob"],
            &["resolve", "--json", "alice"],
            &["resolve", "alice", "--json", "--direct"],
            &["--config", "/etc/p.conf", "resolve", "alice"],
            &["--config", "-odd.conf", "resolve", "alice"],
            &["--config=/etc/p.conf", "groups", "--direct", "alice"],
            &["groups", "alice", "b\u{e9}a"],
        ];
        for list in taken {
            let argv = args(list);
            let quick = plain(&argv).unwrap_or_else(|| panic!("{list:?} not taken"));
            let cli = Cli::try_parse_from(&argv).unwrap_or_else(|e| panic!("{list:?}: {e}"));
            assert_eq!(
                format!("{:?}", (cli.config, cli.command)),
                format!("{quick:?}"),
                "{list:?}"
            );
        }
        // Non-UTF-8 names too.
        let mut argv = args(&["resolve"]);
        argv.push(OsStr::from_bytes(b"\xff\xfe").to_os_string());
        let quick = plain(&argv).unwrap();
        let cli = Cli::try_parse_from(&argv).unwrap();
        assert_eq!(
            format!("{:?}", (cli.config, cli.command)),
            format!("{quick:?}")
        );
    }

    #[test]
    fn anything_else_is_left_to_clap() {
        let left: &[&[&str]] = &[
            &[],
            &["resolve"],
            &["resolve", "--json"],
            &["resolve", "--help"],
            &["resolve", "-h", "alice"],
            &["resolve", "--", "-alice"],
            &["resolve", "-", "alice"],
            &["resolve", "", "alice"],
            &["resolve", "--json", "--json", "alice"],
            &["resolve", "--direct", "--direct", "alice"],
            &["resolve", "--jsn", "alice"],
            &["groups", "--json", "alice"],
            &["resolve", "alice", "--config", "/etc/p.conf"],
            &["--config"],
            &["--config", "", "resolve", "alice"],
            &["--config=", "resolve", "alice"],
            &["--config", "/etc/p.conf"],
            &["--version"],
            &["check-config"],
            &["authorize", "livy", "alice"],
        ];
        for list in left {
            assert!(plain(&args(list)).is_none(), "{list:?} taken");
        }
    }
}
