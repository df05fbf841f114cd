//! `completions SHELL`: the same scripts build.rs writes into target/.

use std::io::Write;

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::{Cli, CompletionShell};
use crate::Status;

/// `proxid completions bash|zsh|fish`
pub fn run(shell: CompletionShell) -> Status {
    let shell = match shell {
        CompletionShell::Bash => Shell::Bash,
        CompletionShell::Zsh => Shell::Zsh,
        CompletionShell::Fish => Shell::Fish,
    };
    // Into memory first: clap_complete panics on a failed write (`| head`).
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "proxid", &mut script);
    let _ = std::io::stdout().lock().write_all(&script);
    Status::Ok
}
