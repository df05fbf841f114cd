//! The directory of the PAM tests (tests/fixtures/pam.ldif) on a slapd with the
//! ppolicy overlay, and a proxid.conf for it that binds users over ldaps://.

use super::slapd::{Extra, Schema, Slapd};
use super::{fixture, ConfFile};

/// A slapd holding the PAM fixtures, with ppolicy (lockout, must-change).
pub fn start() -> Slapd {
    Slapd::start_with_extra(
        Schema::Rfc2307,
        &fixture("pam.ldif"),
        Extra {
            modules: &["ppolicy"],
            database: "overlay ppolicy\n\
                       ppolicy_default \"cn=default,ou=policies,dc=example,dc=org\"\n\
                       ppolicy_use_lockout\n",
        },
    )
}

/// A configuration resolving from `uri` (ldaps://, with the server's CA), binding with
/// the service account, plus `tail` (whole TOML sections: `[pam]`, `[impersonation]`).
pub fn conf(server: &Slapd, uri: &str, tail: &str) -> ConfFile {
    let conf = ConfFile::new(&[uri], "");
    let bind = ConfFile::bind_lines(conf.dir.path(), super::slapd::BIND_PW);
    let mut text = std::fs::read_to_string(&conf.path).unwrap();
    text += &format!(
        "ca_file = {:?}\n{bind}\n{tail}",
        server.ca_file.display().to_string()
    );
    std::fs::write(&conf.path, text).unwrap();
    conf
}
