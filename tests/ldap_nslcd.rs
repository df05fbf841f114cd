//! proxid's LDAP answers against nss-pam-ldapd's, from the same slapd: `getent passwd`
//! and `id -G` through nslcd, run in a private mount namespace (`unshare -m`) with its
//! own /etc/nsswitch.conf, /etc/nslcd.conf and /run, so the machine's NSS is untouched.
//!
//! Known, intended differences, removed before comparing:
//! - GID 0: nslcd passes a GID-0 group from LDAP through; proxid never does.
//!
//! Everything else must agree, hostile names included (`validnames` widened so nslcd
//! hides none), as must the names that must resolve to nothing.

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use proxid::error::Error;
use proxid::source::ldap::LdapSource;
use proxid::Resolver;
use support::slapd::{Slapd, BASE};
use support::ConfFile;

/// Group names to compare: the fixtures' (some only in one schema), and ones that must
/// find nothing.
const GROUPS: &[&str] = &[
    "staff",
    "devs",
    "ops",
    "eng",
    "all",
    "cycle-a",
    "cycle-b",
    "hostile",
    "teamwork",
    "root-alike",
    "team",
    "legacy",
    "DEVS",
    "*",
    "dev*",
    "inj)(cn=*",
];

/// Names that must resolve to nothing in both.
const ABSENT: &[&str] = &[
    "ALICE",
    "Alice",
    " alice",
    "*",
    "inj)(uid=*",
    "\\2a",
    "alice*",
    "nobody-here",
];

#[derive(Debug, PartialEq, Eq)]
struct Answer {
    uid: u32,
    gid: u32,
    home: String,
    shell: String,
    gids: BTreeSet<u32>,
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// What nslcd said: per user name a (`getent passwd`, `id -G`) pair, per group name a
/// `name:x:gid` line (from getgrnam); empty when not found.
struct NslcdAnswers {
    users: Vec<(String, String)>,
    groups: Vec<String>,
}

/// Runs nslcd in a private namespace and asks it about every name.
fn ask_nslcd(server: &Slapd, nested: bool, names: &[String]) -> NslcdAnswers {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("nsswitch.conf"), "passwd: ldap\ngroup: ldap\n").unwrap();
    let mut conf = format!(
        "uri {}\nbase {BASE}\n\
         # Hide no legal name (the default validnames hides many).\n\
         validnames /^.+$/\n\
         filter group (|(objectClass=posixGroup)(objectClass=groupOfNames))\n\
         bind_timelimit 5\ntimelimit 5\nreconnect_retrytime 1\n",
        server.ldap_uri
    );
    if nested {
        conf += "nss_nested_groups yes\n";
    }
    std::fs::write(d.join("nslcd.conf"), conf).unwrap();
    std::fs::write(d.join("names"), names.join("\n") + "\n").unwrap();
    std::fs::write(d.join("groups"), GROUPS.join("\n") + "\n").unwrap();
    let script = r#"
set -e
mount -t tmpfs tmpfs /run
mkdir -p /run/nslcd
mount --bind "$1/nsswitch.conf" /etc/nsswitch.conf
mount --bind "$1/nslcd.conf" /etc/nslcd.conf
/usr/sbin/nslcd -n 2>"$1/nslcd.log" &
pid=$!
i=0
while [ ! -S /run/nslcd/socket ]; do
    i=$((i + 1))
    if [ "$i" -gt 200 ]; then echo "nslcd did not start" >&2; cat "$1/nslcd.log" >&2; exit 3; fi
    sleep 0.05
done
set +e
while IFS= read -r name; do
    printf '%s\n' "$(getent passwd "$name")"
    printf '%s\n' "$(id -G "$name" 2>/dev/null)"
done < "$1/names"
# Not getent: glibc's putgrent refuses to print members holding ',' or ':'. perl-base
# is essential in Debian.
while IFS= read -r group; do
    perl -e '@g = getgrnam($ARGV[0]); print "$g[0]:x:$g[2]" if @g; print "\n"' -- "$group"
done < "$1/groups"
kill "$pid"
wait "$pid" 2>/dev/null
exit 0
"#;
    std::fs::write(d.join("run.sh"), script).unwrap();
    let out = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh"])
        .arg(d.join("run.sh"))
        .arg(d)
        .output()
        .expect("unshare");
    assert!(
        out.status.success(),
        "nslcd run failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("UTF-8 output");
    let lines: Vec<&str> = text.split('\n').collect();
    let n = names.len();
    assert!(lines.len() > n * 2 + GROUPS.len(), "short output: {text:?}");
    NslcdAnswers {
        users: (0..n)
            .map(|i| (lines[2 * i].to_string(), lines[2 * i + 1].to_string()))
            .collect(),
        groups: lines[2 * n..2 * n + GROUPS.len()]
            .iter()
            .map(|l| l.to_string())
            .collect(),
    }
}

fn parse_nslcd(name: &str, passwd: &str, id: &str) -> Option<Answer> {
    if passwd.is_empty() {
        assert!(
            id.is_empty(),
            "{name:?}: id -G without a passwd entry: {id:?}"
        );
        return None;
    }
    let fields: Vec<&str> = passwd.split(':').collect();
    assert_eq!(fields.len(), 7, "{passwd:?}");
    assert_eq!(fields[0], name, "nslcd answered another name");
    let gids: Vec<u32> = id.split_whitespace().map(|g| g.parse().unwrap()).collect();
    Some(Answer {
        uid: fields[2].parse().unwrap(),
        gid: fields[3].parse().unwrap(),
        home: fields[5].into(),
        shell: fields[6].into(),
        // Intended difference: GID 0 never comes from LDAP in proxid.
        gids: gids.into_iter().filter(|&g| g != 0).collect(),
    })
}

fn parse_proxid(r: &Resolver, name: &str) -> Option<Answer> {
    match r.resolve(name) {
        Ok(id) => Some(Answer {
            uid: id.uid,
            gid: id.gid,
            gids: id.gids().into_iter().collect(),
            home: id.home,
            shell: id.shell,
        }),
        Err(Error::NotFound { .. }) => None,
        Err(e) => panic!("{name:?}: {e}"),
    }
}

fn compare(server: &Slapd, extra: &str, nested: bool) {
    let people = format!("user_base = \"ou=people,{BASE}\"\n");
    let conf = ConfFile::new(&[&server.ldap_uri], &format!("{people}{extra}"));
    let mut names = LdapSource::new(&conf.config())
        .unwrap()
        .user_names()
        .unwrap();
    assert!(names.len() >= 20, "{names:?}");
    names.extend(ABSENT.iter().map(|s| s.to_string()));
    let r = Resolver::new(ConfFile::new(&[&server.ldap_uri], extra).config()).unwrap();
    let nsswitch_before = std::fs::read("/etc/nsswitch.conf").unwrap();
    let nslcd = ask_nslcd(server, nested, &names);
    let nsswitch_after = std::fs::read("/etc/nsswitch.conf").unwrap();
    assert!(
        nsswitch_before == nsswitch_after,
        "the machine's nsswitch.conf changed"
    );
    let mut found = 0;
    for (name, (passwd, id)) in names.iter().zip(&nslcd.users) {
        let theirs = parse_nslcd(name, passwd, id);
        let ours = parse_proxid(&r, name);
        assert_eq!(
            ours, theirs,
            "{name:?}: proxid vs nslcd ({passwd:?} / {id:?})"
        );
        found += usize::from(ours.is_some());
    }
    assert_eq!(
        found,
        names.len() - ABSENT.len(),
        "every fixture user resolves"
    );

    let mut groups_found = 0;
    for (name, line) in GROUPS.iter().zip(&nslcd.groups) {
        let theirs = (!line.is_empty()).then(|| {
            let fields: Vec<&str> = line.split(':').collect();
            assert_eq!(fields[0], *name, "{line:?}");
            fields[2].parse::<u32>().unwrap()
        });
        // Intended difference: GID 0 never comes from LDAP in proxid.
        let theirs = theirs.filter(|&gid| gid != 0);
        let ours = match r.group(name) {
            Ok(g) => Some(g.gid),
            Err(Error::NotFound { .. }) => None,
            Err(e) => panic!("group {name:?}: {e}"),
        };
        assert_eq!(ours, theirs, "group {name:?}: proxid vs nslcd ({line:?})");
        groups_found += usize::from(ours.is_some());
    }
    assert!(
        groups_found >= 9,
        "only {groups_found} fixture groups found"
    );
}

fn skip_unless_root(test: &str) -> bool {
    if is_root() && Path::new("/usr/sbin/nslcd").exists() {
        return false;
    }
    eprintln!(
        "SKIPPED {test}: needs root (unshare -m, mount) and nslcd + libnss-ldapd installed; \
         scripts/test-all.sh runs it in CI"
    );
    true
}

#[test]
fn rfc2307_answers_match_nslcd() {
    if skip_unless_root("rfc2307_answers_match_nslcd") {
        return;
    }
    compare(support::rfc2307(), "", false);
}

#[test]
fn rfc2307bis_answers_match_nslcd_with_nested_groups() {
    if skip_unless_root("rfc2307bis_answers_match_nslcd_with_nested_groups") {
        return;
    }
    compare(
        support::rfc2307bis(),
        "schema = \"rfc2307bis\"\nnested_group_depth = 10\n",
        true,
    );
}
