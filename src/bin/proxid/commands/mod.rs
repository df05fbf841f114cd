//! One module per command; each exposes a function taking the parsed operands and
//! returning the exit status. main.rs's `dispatch` calls them.
//!
//! Adding a command (say `status [--json]`):
//! 1. cli.rs: a `Command` variant. Its doc comment is the one-line help; `after_help`
//!    holds `Output:`, `Exit status:` and `Examples:` paragraphs (each heading becomes
//!    a section of its man page). Operands are `OsString`; a nested command
//!    (`cache invalidate`) is a variant holding `#[command(subcommand)]`.
//! 2. commands/status.rs with `pub fn run(ctx: &Context, ...) -> Status`: open the
//!    resolver with `ctx.open()`, take operands through `name_operand`/`text_operand`
//!    (never `to_string_lossy`), turn library errors into a `Failure` (`?` or
//!    `.into()`: status and `--json` kind come from `classify`), print with
//!    `output::emit`/`output::report`, and escape every name in text output with
//!    `output::esc`/`output::escape`.
//! 3. main.rs: one arm in `dispatch` (the match is exhaustive, so the compiler asks).
//!
//! The man page (`proxid-status.1`), completions and help follow from the definition;
//! add the command to `COMMANDS` in tests/cli.rs so its help, completions and page
//! are checked.

pub mod accept;
pub mod admit;
pub mod authorize;
pub mod check_config;
pub mod completions;
pub mod daemon;
pub mod doctor;
pub mod homes;
pub mod principal;
pub mod resolve;
