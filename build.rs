//! Generates the C header into OUT_DIR (never into the source tree: the committed
//! include/proxid.h is compared with it by tests/c_abi.rs), gives the shared
//! library its versioned SONAME, and writes the CLI's man pages and shell completions
//! into target/<profile>/man and target/<profile>/completions (installed by
//! scripts/install.sh).

#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

use std::env;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The CLI definition, shared with the binary.
#[allow(dead_code)]
mod cli {
    include!("src/bin/proxid/cli.rs");
}

/// Must equal `PROXID_ABI_VERSION` in src/ffi/c/mod.rs (checked by tests/c_abi.rs).
const ABI_VERSION: u32 = 0;

fn main() -> Result<(), BuildError> {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    // cbindgen reads src/ffi/c/mod.rs and follows its `mod` lines into the directory.
    println!("cargo:rerun-if-changed=src/ffi/c");

    let crate_dir = PathBuf::from(cargo_env("CARGO_MANIFEST_DIR")?);
    let out_dir = PathBuf::from(cargo_env("OUT_DIR")?);

    let mut config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .map_err(|e| BuildError(format!("cbindgen.toml: {e}")))?;
    let version = |part: &str| env::var(format!("CARGO_PKG_VERSION_{part}")).unwrap_or_default();
    config.after_includes = Some(format!(
        "\n#define PROXID_VERSION \"{}\"\n#define PROXID_VERSION_MAJOR {}\n#define PROXID_VERSION_MINOR {}\n#define PROXID_VERSION_PATCH {}",
        env::var("CARGO_PKG_VERSION").unwrap_or_default(),
        version("MAJOR"),
        version("MINOR"),
        version("PATCH"),
    ));
    let header = out_dir.join("proxid.h");
    cbindgen::Builder::new()
        .with_config(config)
        .with_src(crate_dir.join("src/ffi/c/mod.rs"))
        .generate()
        .map_err(|e| BuildError(format!("cbindgen could not generate proxid.h: {e}")))?
        .write_to_file(&header);
    println!(
        "cargo:rustc-env=PROXID_GENERATED_HEADER={}",
        header.display()
    );

    if env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libproxid.so.{ABI_VERSION}");
    }
    if packed_relocations_supported() {
        // `proxid` starts once per command: packed relative relocations (DT_RELR)
        // spare the dynamic loader most of its work at each start (~18,000 relative
        // relocations, about 70 µs of a ~1.5 ms `proxid resolve`).
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }

    println!("cargo:rerun-if-changed=src/bin/proxid/cli.rs");
    // OUT_DIR is target/<profile>/build/proxid-<hash>/out; the files go beside the
    // binary, where scripts/install.sh and the package look for them.
    let profile_dir = out_dir.ancestors().nth(3).ok_or_else(|| {
        BuildError(format!(
            "OUT_DIR {} is not target/<profile>/build/<pkg>/out",
            out_dir.display()
        ))
    })?;
    write_man_pages(&profile_dir.join("man"))
        .map_err(|e| BuildError(format!("cannot write the man pages: {e}")))?;
    write_completions(&profile_dir.join("completions"))
        .map_err(|e| BuildError(format!("cannot write the shell completions: {e}")))?;
    Ok(())
}

/// Why the build script stops: returned from `main`, so cargo fails the build and
/// shows the message (`Error: ...`), without a panic's backtrace noise.
struct BuildError(String);

impl std::fmt::Debug for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A variable cargo sets for every build script.
fn cargo_env(name: &str) -> Result<String, BuildError> {
    env::var(name).map_err(|e| BuildError(format!("{name} (cargo sets it for build scripts): {e}")))
}

/// Whether the linker can pack relative relocations and the C library loads them:
/// GNU ld 2.38 or later (it knows `-z pack-relative-relocs`) and glibc 2.36 or later,
/// building for the machine the build runs on (a cross build keeps the classic form).
fn packed_relocations_supported() -> bool {
    let native = env::var("TARGET")
        .ok()
        .is_some_and(|t| Some(t) == env::var("HOST").ok());
    if !native || env::var("CARGO_CFG_TARGET_ENV").as_deref() != Ok("gnu") {
        return false;
    }
    let output = |program: &str, args: &[&str]| {
        std::process::Command::new(program)
            .args(args)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    };
    let linker_knows = output("ld", &["--help"]).contains("pack-relative-relocs");
    // "glibc 2.36"
    let glibc = output("getconf", &["GNU_LIBC_VERSION"]);
    let version: Vec<u32> = glibc
        .trim()
        .trim_start_matches("glibc ")
        .split('.')
        .filter_map(|p| p.parse().ok())
        .collect();
    linker_knows && matches!(version.as_slice(), [2, minor, ..] if *minor >= 36)
}

/// proxid.1 and one page per command (proxid-resolve.1, ...), as git does.
fn write_man_pages(dir: &Path) -> std::io::Result<()> {
    use clap::CommandFactory;
    std::fs::create_dir_all(dir)?;
    let mut cmd = cli::Cli::command().disable_help_subcommand(true);
    cmd.build();
    let mut pages = Vec::new();
    collect_man_pages(&cmd, &mut pages)?;
    for (name, page) in &pages {
        write_if_changed(&dir.join(name), page)?;
    }
    // A page of a command that is gone must not be installed.
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name();
        if !pages.iter().any(|(page, _)| name.to_str() == Some(page)) {
            std::fs::remove_file(dir.join(name))?;
        }
    }
    Ok(())
}

/// The page of `cmd` and of each of its subcommands, nested ones too
/// (`proxid-cache-invalidate.1`), named by clap's display name.
fn collect_man_pages(
    cmd: &clap::Command,
    pages: &mut Vec<(String, Vec<u8>)>,
) -> std::io::Result<()> {
    let name = cmd.get_display_name().unwrap_or(cmd.get_name());
    pages.push((format!("{name}.1"), man_page(cmd)?));
    for sub in cmd.get_subcommands() {
        collect_man_pages(sub, pages)?;
    }
    Ok(())
}

/// clap_mangen's sections, with the help's trailing "Heading:" paragraphs (output,
/// exit status, examples) as sections of their own, lines kept as written.
fn man_page(cmd: &clap::Command) -> std::io::Result<Vec<u8>> {
    let man = clap_mangen::Man::new(cmd.clone())
        .manual("proxid manual")
        .source(format!("proxid {}", env!("CARGO_PKG_VERSION")));
    let mut page = Vec::new();
    man.render_title(&mut page)?;
    man.render_name_section(&mut page)?;
    man.render_synopsis_section(&mut page)?;
    man.render_description_section(&mut page)?;
    man.render_options_section(&mut page)?;
    if cmd.has_subcommands() {
        man.render_subcommands_section(&mut page)?;
    }
    if let Some(after) = cmd.get_after_help() {
        for line in after.to_string().lines() {
            if let Some(heading) = line.strip_suffix(':').filter(|_| !line.starts_with(' ')) {
                writeln!(page, ".SH \"{}\"\n.nf", heading.to_uppercase())?;
            } else if line.is_empty() {
                writeln!(page, ".fi")?;
            } else {
                writeln!(page, "{}", roff_line(line.trim_start()))?;
            }
        }
        writeln!(page, ".fi")?;
    }
    man.render_version_section(&mut page)?;
    Ok(page)
}

/// One line of text for roff: backslashes and minus signs as roff spells them, and
/// no line taken for a request.
fn roff_line(text: &str) -> String {
    let text = text.replace('\\', "\\e").replace('-', "\\-");
    if text.starts_with('.') || text.starts_with('\'') {
        format!("\\&{text}")
    } else {
        text
    }
}

fn write_completions(dir: &Path) -> std::io::Result<()> {
    use clap::CommandFactory;
    use clap_complete::Shell;
    std::fs::create_dir_all(dir)?;
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut cli::Cli::command(), "proxid", &mut script);
        let name = clap_complete::Generator::file_name(&shell, "proxid");
        write_if_changed(&dir.join(name), &script)?;
    }
    Ok(())
}

/// Leaves an unchanged file alone, so its timestamp says when it last changed.
fn write_if_changed(path: &Path, content: &[u8]) -> std::io::Result<()> {
    if std::fs::read(path).is_ok_and(|old| old == content) {
        return Ok(());
    }
    std::fs::write(path, content)
}
