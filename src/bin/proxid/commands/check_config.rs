//! `check-config`: validate the configuration and print it in effect.

use std::io::Write;
use std::os::unix::ffi::OsStrExt;

use proxid::Proxid;

use crate::output::{self, emit};
use crate::{Context, Status};

/// `proxid check-config`
pub fn run(ctx: &Context) -> Status {
    // Everything a resolver builds at first use (proxy-user rules, a core-site.xml
    // import) is built here too, so a broken rule shows now rather than at 3 a.m.
    let checked = proxid::Config::load(ctx.config.as_deref()).and_then(|config| {
        let resolver = Proxid::new(config.clone())?;
        resolver.check_source()?;
        let rules = resolver.check_policy()?;
        Ok((config, rules))
    });
    match checked {
        Ok((config, rules)) => {
            let from = config
                .path
                .as_ref()
                .map_or("embedded default (no configuration file)".into(), |p| {
                    output::escape(p.as_os_str().as_bytes())
                });
            let mut out = std::io::stdout().lock();
            emit(&mut out, &format!("# proxid configuration from {from}"));
            emit(&mut out, &format!("# {rules} proxy-user rule(s) in force"));
            let _ = write!(out, "{}", config.to_effective_toml());
            Status::Ok
        }
        Err(e) => {
            output::report("configuration", &e.to_string());
            Status::Error
        }
    }
}
