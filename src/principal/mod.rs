//! Kerberos principals: parsing, Hadoop auth_to_local, program principals and keytabs.
//!
//! - [`name`]: principal syntax (Hadoop's shapes, MIT's `\/` `\@` escapes).
//! - [`rules`]: the auth_to_local rule language, both mechanisms, as Hadoop 3.3.4.
//! - `javare`: Java regexes on the `regex` crate (what is translated, what is refused).
//! - [`host`]: this machine's FQDN for `_HOST`, the default realm from krb5.conf.
//!
//! The rules are parsed once, when [`Principals`] are built from the `[principals]`
//! settings (and checked when the configuration is loaded, so a malformed rule is a
//! configuration error naming it). This module reads no other part of the
//! configuration and looks nobody up: [`crate::Proxid`] maps a principal to a short
//! name here, then resolves that name.
//! The default realm is `[principals] default_realm`, else krb5.conf's
//! `[libdefaults] default_realm` (`KRB5_CONFIG`, else `/etc/krb5.conf`), read once.
//! With no rules configured the set is `DEFAULT` (Hadoop's choice with Kerberos on);
//! the mechanism defaults to `hadoop`.
//!
//! Hadoop's behaviour is the reference: tests/principal_rules.rs holds the cases
//! checked against Hadoop 3.3.4 and 500 more whose results came from KerberosName's
//! rule code run on OpenJDK 17. Where proxid deliberately differs it says so in the
//! module that differs (escapes in [`name`], refused regex features in `javare`).

pub mod host;
pub use crate::kerberos::{name, rules};

use once_cell::race::OnceBox;
use std::fs::OpenOptions;
use std::io::{ErrorKind, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::config::PrincipalsConfig;
use crate::error::{Error, Result};
use crate::kerberos::check_program_part;

pub use name::KerberosName;
pub use rules::AuthToLocal;

/// The principal a program runs as, with its short name and keytab.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProgramPrincipal {
    /// The principal, `_HOST` replaced by this machine's FQDN.
    pub principal: String,
    /// Its short name by the auth_to_local rules.
    pub short_name: String,
    /// Its keytab, when one is configured.
    pub keytab: Option<PathBuf>,
}

/// The `[principals]` settings with their auth_to_local rules parsed, built once
/// per configuration: principal -> short name, and the principal (and keytab) a
/// program runs as.
#[derive(Debug)]
pub struct Principals {
    /// The parsed rules, or why they could not be parsed (reported on every use).
    rules: std::result::Result<AuthToLocal, String>,
    /// Racing, never blocking: safe across fork (see `policy::PolicyCell`).
    fqdn: OnceBox<String>,
    /// The program principal entries, `keytab_path` and the defaults.
    settings: PrincipalsConfig,
    /// The file the settings came from, named in errors (empty: none).
    origin: PathBuf,
}

impl Principals {
    /// Parses `settings`' rules. The default realm is `default_realm`, else
    /// krb5.conf's. `origin` is the file the settings came from, named in errors.
    pub fn new(settings: &PrincipalsConfig, origin: Option<&Path>) -> Principals {
        Principals::with_krb5_conf(settings, origin, &host::krb5_conf_path())
    }

    /// As `new`, reading the default realm (when the settings have none) from `krb5_conf`.
    pub(crate) fn with_krb5_conf(
        settings: &PrincipalsConfig,
        origin: Option<&Path>,
        krb5_conf: &Path,
    ) -> Principals {
        let realm = settings
            .default_realm
            .clone()
            .or_else(|| host::default_realm_from_krb5_conf(krb5_conf));
        Principals {
            rules: AuthToLocal::new(
                &settings.auth_to_local,
                settings.auth_to_local_mechanism,
                realm,
            ),
            fqdn: OnceBox::new(),
            settings: settings.clone(),
            origin: origin.map(Path::to_path_buf).unwrap_or_default(),
        }
    }
}

/// The marker Hadoop replaces by the local host name.
pub const HOST_MARKER: &str = "_HOST";
/// The marker in `keytab_path` replaced by the principal's short name.
pub const NAME_MARKER: &str = "${name}";

/// Replaces an instance of exactly `_HOST` by `fqdn`, as Hadoop's
/// `SecurityUtil.getServerPrincipal`: only in `primary/_HOST@REALM`; any other use of
/// `_HOST` (no realm, inside a longer word, in the primary) is left as written.
pub fn replace_host(principal: &str, fqdn: &str) -> String {
    match KerberosName::parse(principal) {
        Ok(KerberosName::Principal {
            primary,
            instance: Some(instance),
            realm: Some(realm),
        }) if instance == HOST_MARKER => KerberosName::Principal {
            primary,
            instance: Some(fqdn.to_lowercase()),
            realm: Some(realm),
        }
        .to_text(),
        _ => principal.to_string(),
    }
}

/// Where a program's principal comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalSource {
    /// `[principals.application."NS/APP"]`.
    Application,
    /// `[principals.namespace.NS]`.
    Namespace,
    /// `default_principal`.
    Default,
}

/// The configured principal (as written, `_HOST` not yet replaced) and explicit keytab
/// for a program: `[principals.application."NS/APP"]` beats
/// `[principals.namespace.NS]` beats `default_principal` / `default_keytab`.
pub fn select_program_principal(
    config: &PrincipalsConfig,
    namespace: &str,
    application: Option<&str>,
) -> Result<(String, Option<PathBuf>, PrincipalSource)> {
    check_program_part("namespace", namespace)?;
    if let Some(app) = application {
        check_program_part("application", app)?;
        if let Some(p) = config.application.get(&format!("{namespace}/{app}")) {
            return Ok((
                p.principal.clone(),
                p.keytab.clone(),
                PrincipalSource::Application,
            ));
        }
    }
    if let Some(p) = config.namespace.get(namespace) {
        return Ok((
            p.principal.clone(),
            p.keytab.clone(),
            PrincipalSource::Namespace,
        ));
    }
    match &config.default_principal {
        Some(p) => Ok((
            p.clone(),
            config.default_keytab.clone(),
            PrincipalSource::Default,
        )),
        None => Err(Error::not_found(format!(
            "principal for namespace {namespace:?}{} (no application or namespace entry and no default_principal)",
            application.map_or(String::new(), |a| format!(" application {a:?}"))
        ))),
    }
}

/// `keytab_path` with every `${name}` replaced by `short_name`. A short name that
/// could leave the intended directory (empty, `.`, `..`, containing `/` or NUL) is
/// refused.
pub fn keytab_from_template(template: &str, short_name: &str) -> Result<PathBuf> {
    if short_name.is_empty()
        || short_name == "."
        || short_name == ".."
        || short_name.contains('/')
        || short_name.contains('\0')
    {
        return Err(Error::invalid_name(
            short_name,
            format!("short name cannot be put in keytab_path {template:?}"),
        ));
    }
    Ok(PathBuf::from(template.replace(NAME_MARKER, short_name)))
}

/// Checks that `path` is a keytab the caller can read: it exists, is a regular file,
/// opens for reading, and starts with a keytab's version bytes (0x05 0x01 or 0x05 0x02).
/// Nothing past those two bytes is read.
pub fn check_keytab(path: &Path) -> Result<()> {
    let fail = |kind: ErrorKind, why: String| {
        Error::io(
            format!("keytab {}", path.display()),
            std::io::Error::new(kind, why),
        )
    };
    let mut file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| match e.kind() {
            ErrorKind::NotFound => fail(e.kind(), "does not exist".into()),
            ErrorKind::PermissionDenied => fail(
                e.kind(),
                format!(
                    "is not readable by this user (uid {}): permission denied",
                    // SAFETY: getuid has no preconditions and cannot fail.
                    unsafe { libc::getuid() }
                ),
            ),
            _ => fail(e.kind(), format!("cannot be opened: {e}")),
        })?;
    let meta = file
        .metadata()
        .map_err(|e| fail(e.kind(), format!("cannot be examined: {e}")))?;
    if !meta.is_file() {
        return Err(fail(
            ErrorKind::InvalidInput,
            "is not a regular file".into(),
        ));
    }
    let mut head = [0u8; 2];
    match file.read_exact(&mut head) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::UnexpectedEof => {
            return Err(fail(
                ErrorKind::InvalidData,
                "is not a keytab file (shorter than 2 bytes)".into(),
            ))
        }
        Err(e) => return Err(fail(e.kind(), format!("cannot be read: {e}"))),
    }
    if head != [0x05, 0x01] && head != [0x05, 0x02] {
        return Err(fail(
            ErrorKind::InvalidData,
            format!(
                "is not a keytab file (starts with 0x{:02x} 0x{:02x}; a keytab starts with 0x05 0x01 or 0x05 0x02)",
                head[0], head[1]
            ),
        ));
    }
    Ok(())
}

impl Principals {
    fn auth_to_local(&self) -> Result<&AuthToLocal> {
        self.rules
            .as_ref()
            .map_err(|message| Error::config(self.origin.clone(), message))
    }

    /// This machine's FQDN, lower-cased (looked up once).
    pub fn local_fqdn(&self) -> &str {
        self.fqdn.get_or_init(|| Box::new(host::local_fqdn()))
    }

    /// The short user name for a Kerberos principal, by the configured auth_to_local rules.
    pub fn short_name(&self, principal: &str) -> Result<String> {
        self.auth_to_local()?.short_name(principal)
    }

    /// The principal for a program, with `_HOST` replaced, its short name and keytab
    /// path, without looking at the keytab file. See [`Principals::program_principal`].
    pub fn program_principal_unchecked(
        &self,
        namespace: &str,
        application: Option<&str>,
    ) -> Result<ProgramPrincipal> {
        let config = &self.settings;
        let (configured, keytab, _) = select_program_principal(config, namespace, application)?;
        let principal = if configured.contains(HOST_MARKER) {
            replace_host(&configured, self.local_fqdn())
        } else {
            configured
        };
        let short_name = self.short_name(&principal)?;
        let keytab = match (keytab, &config.keytab_path) {
            (Some(explicit), _) => Some(explicit),
            (None, Some(template)) => Some(keytab_from_template(template, &short_name)?),
            (None, None) => None,
        };
        Ok(ProgramPrincipal {
            principal,
            short_name,
            keytab,
        })
    }

    /// The principal for a program: application beats namespace beats default. The
    /// keytab is the entry's explicit `keytab` (or `default_keytab` for the default
    /// principal), else `keytab_path` with `${name}` replaced by the short name, else
    /// none. A keytab that is missing, unreadable or not a keytab is an error.
    pub fn program_principal(
        &self,
        namespace: &str,
        application: Option<&str>,
    ) -> Result<ProgramPrincipal> {
        let program = self.program_principal_unchecked(namespace, application)?;
        if let Some(keytab) = &program.keytab {
            check_keytab(keytab)?;
        }
        Ok(program)
    }
}
