// The `proxid` command-line definition: every command, option, help text and example.
//
// build.rs `include!`s this file to write the man pages and shell completions into
// target/ at build time, so it uses nothing but `std` and `clap` (no `proxid::`, no
// inner `//!` doc comments).
//
// Operands and option values are `OsString`: clap hands them over byte for byte, and
// the commands validate them (a non-UTF-8 name is `invalid_name`, never converted).
//
// To add a command: a variant here (doc comment = one-line help, `after_help` =
// examples), a module in commands/, and one arm in main.rs's `dispatch`.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum, ValueHint};

/// Printed after the top-level help and in proxid(1).
pub const EXIT_STATUS_HELP: &str = "\
Exit status:
  0  success (every name resolved, the request allowed)
  1  a name not found, or a request denied or run as self
  2  any other error: invalid name, unreadable configuration, source unavailable, usage

Escaping:
  Names, hosts and other operands are printed escaped on human-readable output and
  on stderr, one record per line: \\\\ for a backslash, \\n \\r \\t, and \\xHH for
  any other control character, byte that is not UTF-8, Unicode line separator or
  bidirectional control. --json output is escaped by JSON instead.

Examples:
  proxid resolve \"$(id -un)\"
  proxid --config /etc/proxid.conf authorize --proxy livy --user alice --host 10.0.0.5
  proxid completions bash > /etc/bash_completion.d/proxid";

#[derive(Debug, Parser)]
#[command(
    name = "proxid",
    version,
    about = "Resolve users (NSS or LDAP) and decide Hadoop-style impersonation",
    long_about = "Resolve user names into UIDs, primary GIDs and groups, from the local \
                  OS registry (NSS) or from LDAP, and decide whether a proxy user may \
                  act as another user from a given host, with Hadoop-compatible \
                  proxy-user rules, protected identities and an audit trail.",
    after_help = EXIT_STATUS_HELP,
    subcommand_required = true,
    propagate_version = true
)]
pub struct Cli {
    /// Configuration file [default: $PROXID_CONF, else /etc/proxid.conf, else built-in]
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        value_hint = ValueHint::FilePath,
        allow_hyphen_values = true
    )]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// UID, primary GID and groups of each user, like `id`
    #[command(after_help = "\
Output:
  alice uid=20001(alice) gid=10001(staff) groups=10001(staff),30001(jupyter)
  With --json one object per line:
  {\"name\",\"uid\",\"gid\",\"groups\":[{\"name\",\"gid\"},...],\"home\",\"shell\",\"source\",\"via\"},
  or {\"name\",\"error\",\"message\"} for a name that failed. \"source\" says which
  answered: \"proxidd\" (the daemon), else this process's directory (\"ldap\") or
  \"local\"; \"via\" is \"proxidd\" or \"direct\" (this process resolved).

Daemon:
  In server mode, when proxidd runs the same configuration, it answers (its cache
  is warm, its connections open); the answer is the one this process would give.
  Otherwise, or with --direct, the name is resolved here.

Exit status:
  0 every name resolved, 1 any not found, 2 any other error

Examples:
  proxid resolve alice bob
  proxid resolve --json alice
  proxid resolve --direct alice
  proxid resolve -- -odd-name")]
    Resolve {
        /// One JSON object per line instead of `id`-style text
        #[arg(long)]
        json: bool,
        /// Resolve in this process, never asking proxidd
        #[arg(long)]
        direct: bool,
        /// User names (`--` before a name that starts with `-`)
        #[arg(value_name = "NAME", required = true, value_hint = ValueHint::Username)]
        names: Vec<OsString>,
    },

    /// Group names of each user, primary first, like `hdfs groups`
    #[command(after_help = "\
Output:
  alice : staff jupyter

Exit status:
  0 every name resolved, 1 any not found, 2 any other error

Daemon:
  As for resolve: proxidd answers when it runs the same configuration, unless
  --direct is given.

Examples:
  proxid groups alice
  proxid groups --direct alice
  proxid --config /etc/proxid.conf groups alice bob")]
    Groups {
        /// Resolve in this process, never asking proxidd
        #[arg(long)]
        direct: bool,
        /// User names
        #[arg(value_name = "NAME", required = true, value_hint = ValueHint::Username)]
        names: Vec<OsString>,
    },

    /// Validate the configuration and print it in effect, secrets masked
    #[command(after_help = "\
Checks:
  Builds everything a resolver builds on first use (proxy-user rules, an imported
  core-site.xml), so a broken rule shows now.

Exit status:
  0 valid, 2 invalid

Examples:
  proxid check-config
  proxid --config ./proxid.conf check-config")]
    CheckConfig,

    /// Short name of each Kerberos principal (auth_to_local)
    #[command(after_help = "\
Output:
  One short name per line; with --json one object per line:
  {\"principal\",\"short_name\"} or {\"principal\",\"error\",\"message\"}

Exit status:
  0 every principal mapped, 2 any failed

Examples:
  proxid principal alice@EXAMPLE.COM
  proxid principal --json nn/host1.example.com@EXAMPLE.COM")]
    Principal {
        /// One JSON object per line
        #[arg(long)]
        json: bool,
        /// Kerberos principals (`primary[/instance][@REALM]`)
        #[arg(value_name = "PRINCIPAL", required = true)]
        principals: Vec<OsString>,
    },

    /// Principal, short name and keytab a program runs with
    #[command(after_help = "\
Output:
  principal: ..., short_name: ..., keytab: ... lines. The application's entry beats
  the namespace's, which beats the default. With --json:
  {\"principal\",\"short_name\",\"keytab\"} (plus \"error\", \"message\" when the keytab
  is unusable)

Exit status:
  0 found and the keytab usable, 1 not found, 2 any other error

Examples:
  proxid program-principal analytics
  proxid program-principal --json analytics nightly-report")]
    ProgramPrincipal {
        /// One JSON object instead of `key: value` lines
        #[arg(long)]
        json: bool,
        /// The program's namespace
        #[arg(value_name = "NAMESPACE")]
        namespace: OsString,
        /// The program's application, if any
        #[arg(value_name = "APPLICATION")]
        application: Option<OsString>,
    },

    /// May proxy P act as user U for a request from host H?
    #[command(after_help = "\
Output:
  allowed as alice(uid 20001): livy -> alice from 10.0.0.5 (reason: ...; rule: ...)
  With --json: {\"verdict\":\"allowed\"|\"denied\"|\"run_as_self\",\"proxy\",\"user\",
  \"host\",\"effective_user\",\"effective_uid\",\"rule\",\"reason\"}

Exit status:
  0 allowed, 1 denied or run as self, 2 error

Examples:
  proxid authorize --proxy livy --user alice --host 10.0.0.5
  proxid authorize --json --proxy=hive --user=bob --host=gw1.example.com")]
    Authorize {
        // Option values are taken as given, even when they start with `-`.
        /// The proxy (service) user making the request
        #[arg(long, value_name = "P", allow_hyphen_values = true, value_hint = ValueHint::Username)]
        proxy: OsString,
        /// The user the proxy wants to act as
        #[arg(long, value_name = "U", allow_hyphen_values = true, value_hint = ValueHint::Username)]
        user: OsString,
        /// The host the request comes from (name or address)
        #[arg(long, value_name = "H", allow_hyphen_values = true, value_hint = ValueHint::Hostname)]
        host: OsString,
        /// One JSON object instead of text
        #[arg(long)]
        json: bool,
    },

    /// Server side of the resolution handshake: the identity to act as
    #[command(after_help = "\
Assertion:
  {\"name\":\"alice\"} for server-side resolution, or
  {\"name\":\"alice\",\"uid\":20001,\"gids\":[10001,30001]} for client-side.
  Prints the identity to act as, as `resolve` does.

Exit status:
  0 accepted, 1 not found, 2 any other error

Examples:
  proxid accept '{\"name\":\"alice\"}'
  proxid accept --json '{\"name\":\"alice\",\"uid\":20001,\"gids\":[10001]}'")]
    Accept {
        /// One JSON object instead of `id`-style text
        #[arg(long)]
        json: bool,
        /// The client's identity assertion
        #[arg(value_name = "ASSERTION_JSON")]
        assertion: OsString,
    },

    /// Server side of a request in one call: handshake for proxy and user, then the decision
    #[command(after_help = "\
Request:
  {\"proxy\": {\"name\", \"uid\"?, \"gids\"?}, \"user\": {\"name\", \"uid\"?, \"gids\"?}, \"host\"}
  with uid and gids present exactly when the client resolved the name itself.
  Runs the mode handshake for both identities, the exact ID check for both,
  then the impersonation decision, and writes one audit line.

Output:
  As authorize: allowed as alice(uid 20001): livy -> alice from 10.0.0.5 (...)
  With --json: authorize's object, or {\"proxy\",\"user\",\"host\",\"error\",\"message\"}
  with error one of mode_mismatch, identity_mismatch, not_found, ...

Exit status:
  0 allowed, 1 denied or run as self, 2 error

Examples:
  proxid admit --json '{\"proxy\":{\"name\":\"livy\"},\"user\":{\"name\":\"alice\"},\"host\":\"10.0.0.5\"}'")]
    Admit {
        /// One JSON object instead of text
        #[arg(long)]
        json: bool,
        /// The admission request
        #[arg(value_name = "REQUEST_JSON")]
        request: OsString,
    },

    /// Check configuration, LDAP servers, mode agreement, policy and keytabs
    #[command(after_help = "\
Checks:
  config and permissions (the configuration, the policy and secret files); each LDAP
  URI (DNS, TCP connect time, TLS handshake, certificate chain, names and days to
  expiry, service bind, base DN, paged user and group counts); with --server, the
  two sides' [resolution] settings and the local UID/GIDs of NAMEs (default: every
  local user with UID >= 1000) against the server's; policy (protected names
  resolve, the superuser exists, no proxy rule names a protected identity or allows
  everyone from everywhere); principals (default realm, keytabs, keytab template).

Output:
  One row per check: `ok|warn|fail CHECK: DETAIL`, then `  fix: ...` unless ok.
  With --json one object per line: {\"check\",\"status\":\"ok\"|\"warn\"|\"fail\",
  \"detail\",\"fix\"} (fix null when ok).

Exit status:
  0 every check ok, 1 any warning, 2 any failure

Examples:
  proxid doctor
  proxid doctor --json | jq -c 'select(.status != \"ok\")'
  proxid doctor --server /mnt/server/etc/proxid.conf alice bob
  proxid doctor --server ldaps://ldap1.example.org")]
    Doctor {
        /// One JSON object per check and line
        #[arg(long)]
        json: bool,
        /// The server to agree with: its proxid.conf, or ldap[s]:// URIs (comma-separated)
        #[arg(long, value_name = "URI|CONF", value_hint = ValueHint::AnyPath)]
        server: Option<OsString>,
        /// Users to compare with the server and to check keytabs for
        #[arg(value_name = "NAME", value_hint = ValueHint::Username)]
        names: Vec<OsString>,
    },

    /// Create home directories (HDFS script or local) owned by each user, mode 0700
    #[command(
        group(clap::ArgGroup::new("who").required(true).args(["group", "all", "names"])),
        after_help = "\
Output:
  Without --local: a shell script on stdout, three lines per user:
    hdfs dfs -mkdir -p /user/NAME
    hdfs dfs -chown NAME:PRIMARY_GROUP /user/NAME
    hdfs dfs -chmod 700 /user/NAME
  (a name with characters a shell treats specially single-quoted), and on stderr one line per user: `NAME PATH: scripted` or `... skipped: WHY`.
  With --local BASE, on stdout one line per user:
  `NAME PATH: created|exists|skipped: WHY` (`would_create` with --dry-run).
  With --json, on stdout in both modes (and no script): one object per line,
  {\"name\",\"path\",\"action\",\"reason\"}. A summary goes to stderr.

Rules:
  Directories belong to the user and its primary group, mode 0700 unless --mode
  gives another (group- or world-writable only when asked for). Existing entries are
  left alone, symbolic links never followed, names with '/', control characters,
  or (for HDFS) a leading '-' or ':' are skipped. Running it again changes nothing.

Exit status:
  0 every user created, existing or scripted, 1 any user skipped, 2 any other error

Examples:
  proxid homes --group analysts | sh
  proxid homes --all --dry-run
  proxid homes --local /home --group staff
  proxid homes --local /srv/shared --mode 0750 alice bob")]
    Homes {
        /// Every member of this group
        #[arg(long, value_name = "G", allow_hyphen_values = true)]
        group: Option<OsString>,
        /// Every user the directory lists (paged); local: every user with UID >= 1000
        #[arg(long)]
        all: bool,
        /// Create local directories BASE/NAME instead of writing an HDFS script
        #[arg(long, value_name = "BASE", value_hint = ValueHint::DirPath)]
        local: Option<PathBuf>,
        /// Octal mode of new directories [default: 0700]
        #[arg(long, value_name = "MODE")]
        mode: Option<OsString>,
        /// Say what would be done, change nothing
        #[arg(long)]
        dry_run: bool,
        /// One JSON object per user and line
        #[arg(long)]
        json: bool,
        /// User names
        #[arg(value_name = "NAME", value_hint = ValueHint::Username)]
        names: Vec<OsString>,
    },

    /// Ask proxidd whether it runs, reaches the directory, and how its cache does
    #[command(after_help = "\
Output:
  proxidd: running (version V, up Ns), directory: reachable|unreachable,
  cache: N entries, hit rate P% (H hits, M misses), requests: N
  (and config/socket details when asked as root).
  With --json: {\"daemon\":\"running\",\"version\",\"uptime_secs\",\"directory_reachable\",
  \"cache_entries\",\"cache_hits\",\"cache_misses\",\"hit_rate\",\"requests\",...}
  or {\"daemon\":\"not_running\"}.

Exit status:
  0 running and the directory reachable, 1 running but the directory unreachable,
  2 not running or any other error

Examples:
  proxid status
  proxid status --json")]
    Status {
        /// One JSON object instead of text
        #[arg(long)]
        json: bool,
    },

    /// Talk to proxidd's cache
    #[command(
        subcommand,
        after_help = "\
Examples:
  proxid cache invalidate alice
  proxid cache invalidate"
    )]
    Cache(CacheCommand),

    /// Print a shell completion script
    #[command(after_help = "\
Examples:
  proxid completions bash > /etc/bash_completion.d/proxid
  proxid completions zsh > \"${fpath[1]}/_proxid\"
  proxid completions fish > ~/.config/fish/completions/proxid.fish")]
    Completions {
        /// The shell to complete for
        #[arg(value_enum, value_name = "SHELL")]
        shell: CompletionShell,
    },
}

/// `proxid cache ...`
#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// Empty proxidd's cache for NAME, or all of it (root only)
    #[command(after_help = "\
Exit status:
  0 done, 2 refused (not root), daemon not running or any other error

Examples:
  proxid cache invalidate alice
  proxid cache invalidate")]
    Invalidate {
        /// The user or group name to forget (default: everything)
        #[arg(value_name = "NAME", value_hint = ValueHint::Username)]
        name: Option<OsString>,
    },
}

/// Shells `proxid completions` writes scripts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
}
