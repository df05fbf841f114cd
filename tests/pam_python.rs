//! The Python side of a JupyterHub host: `pamela` (the PAM binding JupyterHub uses)
//! and JupyterHub's own `PAMAuthenticator` with `check_account` on, logging
//! directory users in through `pam_proxid.so` and proxidd, in a private mount
//! namespace with the test's `/etc/pam.d`. Both come from PyPI into a virtualenv
//! (`PROXID_PAM_VENV`, made by scripts/test-all.sh; default ~/.cache/proxid/pam-venv).

#[allow(unused_imports)]
#[path = "support/nss.rs"]
mod nss;
#[path = "support/pamd.rs"]
mod pamd;
mod support;

use std::path::PathBuf;
use std::sync::OnceLock;

use pamd::{can_unshare, in_namespace, module, Daemon};
use support::slapd::Slapd;

fn server() -> &'static Slapd {
    static S: OnceLock<Slapd> = OnceLock::new();
    S.get_or_init(support::pam::start)
}

/// The virtualenv's python, or `None` (skip) when it was not made and nobody said
/// where it is. Named explicitly (CI) and missing is a failure.
fn python() -> Option<PathBuf> {
    let (venv, named) = match std::env::var_os("PROXID_PAM_VENV") {
        Some(v) => (PathBuf::from(v), true),
        None => (
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/proxid/pam-venv"),
            false,
        ),
    };
    let python = venv.join("bin/python");
    let ready = python.exists() && venv.join("bin/jupyterhub").exists();
    assert!(
        ready || !named,
        "PROXID_PAM_VENV={} has no jupyterhub",
        venv.display()
    );
    ready.then_some(python)
}

const SCRIPT: &str = r#"
import asyncio, sys
import pamela
from jupyterhub.auth import PAMAuthenticator

S = "proxid-test"
def pam(what, f):
    try:
        f()
        print(what, "ok")
    except pamela.PAMError as e:
        print(what, "error", e.errno)

pam("pamela alice", lambda: pamela.authenticate("alice", "alice-pw", service=S))
pam("pamela wrong", lambda: pamela.authenticate("alice", "nope", service=S))
pam("pamela empty", lambda: pamela.authenticate("alice", "", service=S))
pam("pamela unknown", lambda: pamela.authenticate("nobody-here", "x", service=S))
pam("pamela root", lambda: pamela.authenticate("root", "x", service=S))
pam("pamela account alice", lambda: pamela.check_account("alice", service=S))
pam("pamela account bob", lambda: pamela.check_account("bob", service=S))

hub = PAMAuthenticator(service=S, check_account=True)
async def main():
    for user, password in [("alice", "alice-pw"), ("alice", "nope"), ("bob", "bob-pw"),
                           ("carol", "carol-pw"), ("Alice", "alice-pw")]:
        got = await hub.authenticate(None, {"username": user, "password": password})
        if isinstance(got, dict):
            got = got.get("name")
        print("hub", user, password, "->", got)
asyncio.run(main())
"#;

#[test]
fn pamela_and_jupyterhub_log_directory_users_in() {
    if !can_unshare() {
        eprintln!("skipped: needs root for unshare -m (CI runs as root)");
        return;
    }
    let Some(python) = python() else {
        eprintln!("skipped: no pamela/jupyterhub virtualenv (scripts/test-all.sh makes it)");
        return;
    };
    let tail = "[pam]\nallowed_groups = [\"jupyterusers\"]\n\n[impersonation]\n";
    let conf = support::pam::conf(server(), &server().ldaps_uri, tail);
    let audit = conf.dir.path().join("audit.jsonl");
    let text = std::fs::read_to_string(&conf.path).unwrap().replace(
        "[impersonation]\n",
        &format!(
            "[impersonation]\naudit_log = {:?}\n",
            audit.display().to_string()
        ),
    );
    std::fs::write(&conf.path, text).unwrap();
    let daemon = Daemon::start(&conf.path);
    let pam_d = tempfile::tempdir().unwrap();
    let module = module().display().to_string();
    // The README's JupyterHub lines; pam_deny / pam_permit stand in for pam_unix (which
    // on a real host passes an account the proxid NSS module makes known).
    std::fs::write(
        pam_d.path().join("proxid-test"),
        format!(
            "auth [success=done authinfo_unavail=ignore user_unknown=ignore default=die] {module}\n\
             auth required pam_deny.so\n\
             account [success=ok user_unknown=ignore authinfo_unavail=ignore default=bad] {module}\n\
             account required pam_permit.so\n"
        ),
    )
    .unwrap();
    let script = pam_d.path().join("hub.py");
    std::fs::write(&script, SCRIPT).unwrap();
    let out = in_namespace(
        pam_d.path(),
        &daemon.socket,
        &[],
        &format!("'{}' '{}'", python.display(), script.display()),
        "",
    );
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{said}");
    for line in [
        "pamela alice ok",
        "pamela wrong error 7",
        "pamela empty error 7",
        "pamela account alice ok",
        "pamela account bob error 6",
        "hub alice alice-pw -> alice",
        "hub alice nope -> None",
        "hub bob bob-pw -> None",
        "hub carol carol-pw -> carol",
        // PAM gets the name as typed; the directory's `alice` is not `Alice`.
        "hub Alice alice-pw -> None",
    ] {
        assert!(said.contains(line), "{line:?} missing:\n{said}");
    }
    // unknown and root: user_unknown is ignored, then pam_deny decides.
    assert!(
        !said.contains("pamela unknown ok") && !said.contains("pamela root ok"),
        "{said}"
    );
    let log = std::fs::read_to_string(&audit).unwrap();
    assert!(!log.contains("alice-pw") && !log.contains("carol-pw"));
    // JupyterHub checks the account twice per login (pamela's, then check_account).
    let alice_accounts = log
        .lines()
        .filter(|l| l.contains("\"event\":\"account\"") && l.contains("\"user\":\"alice\""))
        .count();
    assert!(alice_accounts >= 3, "{log}");
}
