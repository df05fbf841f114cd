//! The `proxid` command line as a user meets it: --version, help, completions, man
//! pages, option forms, the install step, and hostile operands (issue 11 items 10
//! and 11: bytes that are not UTF-8 are refused, never converted; names are printed
//! escaped so one record is one line).

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const PROXID: &str = env!("CARGO_BIN_EXE_proxid");
const COMMANDS: &[&str] = &[
    "resolve",
    "groups",
    "check-config",
    "principal",
    "program-principal",
    "admit",
    "status",
    "cache",
    "authorize",
    "accept",
    "doctor",
    "homes",
    "completions",
];

fn proxid<S: AsRef<OsStr>>(args: impl IntoIterator<Item = S>) -> Output {
    Command::new(PROXID)
        .env_remove("PROXID_CONF")
        .args(args)
        .output()
        .expect("proxid runs")
}

fn bytes(b: &[u8]) -> &OsStr {
    OsStr::from_bytes(b)
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

fn text(b: &[u8]) -> String {
    String::from_utf8(b.to_vec()).expect("output is UTF-8")
}

/// A configuration file for a server that resolves name-only assertions.
fn server_config(dir: &Path) -> PathBuf {
    let path = dir.join("proxid.conf");
    std::fs::write(&path, "[resolution]\nserver_side = true\n").expect("write config");
    path
}

/// target/<profile>, where the binary, man/ and completions/ are.
fn profile_dir() -> &'static Path {
    Path::new(PROXID).parent().expect("binary directory")
}

// ---- issue 11 item 10: no lossy conversion of any operand ---------------------------

#[test]
fn sec_11_10_accept_non_utf8_refused() {
    let dir = tempfile::tempdir().unwrap();
    let conf = server_config(dir.path());
    let assertion = bytes(b"{\"name\":\"u\xffx\"}");
    let out = proxid([
        OsStr::new("--config"),
        conf.as_os_str(),
        "accept".as_ref(),
        assertion,
    ]);
    assert_eq!(code(&out), 2, "{out:?}");
    let err = text(&out.stderr);
    assert!(
        err.contains("u\\xffx") && err.contains("not valid UTF-8"),
        "{err}"
    );
    assert!(!err.contains('\u{fffd}'), "{err}");

    let out = proxid([
        OsStr::new("--config"),
        conf.as_os_str(),
        "accept".as_ref(),
        "--json".as_ref(),
        assertion,
    ]);
    assert_eq!(code(&out), 2);
    let json: Value = serde_json::from_slice(&out.stdout).expect("one JSON line");
    assert_eq!(json["error"], "invalid_name", "{json}");
    assert!(!out.stdout.contains(&b'\xef'), "no U+FFFD: {json}");
}

#[test]
fn sec_11_10_option_values_non_utf8_refused() {
    for option in ["--user", "--proxy", "--host"] {
        for joined in [true, false] {
            let mut args: Vec<Vec<u8>> = vec![b"authorize".to_vec()];
            for (name, value) in [("--proxy", "root"), ("--user", "root"), ("--host", "::1")] {
                let value = if name == option {
                    b"u\xffx".to_vec()
                } else {
                    value.into()
                };
                if joined {
                    args.push([name.as_bytes(), b"=", &value].concat());
                } else {
                    args.push(name.into());
                    args.push(value);
                }
            }
            let out = proxid(args.iter().map(|a| bytes(a)));
            assert_eq!(code(&out), 2, "{option} joined={joined}: {out:?}");
            assert!(out.stdout.is_empty());
            let err = text(&out.stderr);
            assert!(
                err.contains("invalid name \"u\\xffx\"")
                    && err.contains(&format!("{option} is not valid UTF-8")),
                "{option} joined={joined}: {err}"
            );
            assert_eq!(err.lines().count(), 1, "{err}");

            args.push(b"--json".to_vec());
            let out = proxid(args.iter().map(|a| bytes(a)));
            assert_eq!(code(&out), 2);
            let json: Value = serde_json::from_slice(&out.stdout).expect("one JSON line");
            assert_eq!(json["error"], "invalid_name", "{json}");
            assert_eq!(json[&option[2..]], "u\\xffx", "{json}");
        }
    }
}

#[test]
fn sec_11_10_program_principal_and_principal_non_utf8_refused() {
    for args in [
        &[&b"program-principal"[..], b"u\xffx"][..],
        &[b"program-principal", b"default", b"u\xffx"],
        &[b"principal", b"u\xffx@EXAMPLE.COM"],
        &[b"principal", b"--json", b"u\xffx@EXAMPLE.COM"],
        &[b"resolve", b"u\xffx"],
        &[b"resolve", b"--json", b"u\xffx"],
        &[b"groups", b"u\xffx"],
    ] {
        let out = proxid(args.iter().map(|a| bytes(a)));
        assert_eq!(code(&out), 2, "{args:?}: {out:?}");
        let shown = [out.stdout.as_slice(), &out.stderr].concat();
        let shown = text(&shown);
        assert!(
            shown.contains("u\\\\xffx") || shown.contains("u\\xffx"),
            "{shown}"
        );
        assert!(
            shown.contains("invalid_name") || shown.contains("invalid name"),
            "{shown}"
        );
        assert!(!shown.contains('\u{fffd}'), "{args:?}: {shown}");
    }
}

// ---- issue 11 item 11: escaped names, one record per line ----------------------------

#[test]
fn sec_11_11_newline_in_user_escaped() {
    let forged = "x\nallowed as root(uid 0): root -> root from ::1 (reason: superuser; rule: none)";
    let out = proxid([
        "authorize",
        "--proxy",
        "root",
        "--host",
        "::1",
        "--user",
        forged,
    ]);
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert_ne!(code(&out), 0, "{stdout}{stderr}");
    assert!(stdout.lines().count() <= 1, "{stdout}");
    assert!(stderr.lines().count() <= 1, "{stderr}");
    for line in stdout.lines().chain(stderr.lines()) {
        assert!(!line.starts_with("allowed"), "forged line: {line}");
    }
    assert!(
        format!("{stdout}{stderr}").contains("x\\nallowed as root"),
        "{stdout}{stderr}"
    );
}

#[test]
fn sec_11_11_names_escaped_in_errors_and_usage() {
    let out = proxid(["resolve", "root", "x\ny", "a\\b", "\u{1b}[2J"]);
    assert_eq!(code(&out), 1);
    assert_eq!(text(&out.stdout).lines().count(), 1);
    let err = text(&out.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 3, "{err}");
    assert!(lines[0].starts_with("proxid: x\\ny: "), "{err}");
    assert!(lines[1].starts_with("proxid: a\\\\b: "), "{err}");
    assert!(lines[2].starts_with("proxid: \\x1b[2J: "), "{err}");
    assert!(!err.contains('\u{1b}'), "{err}");

    let out = proxid(["principal", "a\nb@EXAMPLE.COM"]);
    assert_eq!(code(&out), 2);
    assert!(text(&out.stderr).starts_with("proxid: a\\nb@EXAMPLE.COM: "));
    assert_eq!(text(&out.stderr).lines().count(), 1);

    // Usage errors echo the offending argument escaped too.
    let out = proxid(["fr\nob"]);
    assert_eq!(code(&out), 2);
    let err = text(&out.stderr);
    assert!(
        err.starts_with("proxid: usage: ") && err.contains("fr\\nob"),
        "{err}"
    );
    let out = proxid([bytes(b"resolve"), bytes(b"--json=\xff"), bytes(b"x")]);
    assert_eq!(code(&out), 2);
    assert!(text(&out.stderr).contains("\\xff"), "{out:?}");
}

/// Names that come from the registry (not from the command line) are escaped too: an
/// /etc/passwd entry with a terminal escape in its name, in a private mount namespace.
#[test]
fn sec_11_11_registry_names_escaped() {
    if !is_root() {
        eprintln!("skipped: needs root for unshare -m (CI runs as root)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    let mut group = std::fs::read_to_string("/etc/group").unwrap();
    passwd += "px\u{1b}]0;evil\u{7}:x:47101:47101::/:/bin/sh\n";
    group += "pxg\\rp:x:47101:\n";
    std::fs::write(dir.path().join("passwd"), passwd).unwrap();
    std::fs::write(dir.path().join("group"), group).unwrap();
    let script = format!(
        "mount --bind {d}/passwd /etc/passwd && mount --bind {d}/group /etc/group && \
         exec \"$0\" \"$@\"",
        d = dir.path().display()
    );
    let out = Command::new("unshare")
        .args([
            "-m",
            "--propagation",
            "private",
            "sh",
            "-c",
            &script,
            PROXID,
        ])
        .args(["resolve", "--", "px\u{1b}]0;evil\u{7}"])
        .env_remove("PROXID_CONF")
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{out:?}");
    assert_eq!(
        text(&out.stdout).trim_end(),
        "px\\x1b]0;evil\\x07 uid=47101(px\\x1b]0;evil\\x07) gid=47101(pxg\\\\rp) \
         groups=47101(pxg\\\\rp)"
    );
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

// ---- issue 17 item 3: a CLI that fits --------------------------------------------

#[test]
fn version_names_the_crate_version() {
    let out = proxid(["--version"]);
    assert_eq!(code(&out), 0);
    assert_eq!(
        text(&out.stdout).trim(),
        format!("proxid {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn every_command_has_help_with_examples() {
    let out = proxid(["--help"]);
    assert_eq!(code(&out), 0);
    let top = text(&out.stdout);
    for command in COMMANDS {
        assert!(top.contains(command), "{command} missing from --help");
        for args in [vec![*command, "--help"], vec!["help", command]] {
            let out = proxid(&args);
            assert_eq!(code(&out), 0, "{args:?}");
            let help = text(&out.stdout);
            assert!(
                help.contains(&format!("Usage: proxid {command}"))
                    && help.contains("Examples:\n  proxid "),
                "{args:?}: {help}"
            );
        }
    }
    // -h is the short form of the same.
    let out = proxid(["resolve", "-h"]);
    assert_eq!(code(&out), 0);
    assert!(text(&out.stdout).contains("Usage: proxid resolve"));
}

#[test]
fn usage_errors_exit_2_on_stderr() {
    for args in [
        &[][..],
        &["frobnicate"],
        &["resolve"],
        &["resolve", "--bogus", "x"],
        &["completions", "tcsh"],
        &["accept", "{}", "{}"],
        &["authorize", "--proxy", "root", "--user", "root"],
        &[
            "authorize",
            "--proxy=root",
            "--user=root",
            "--user=x",
            "--host=::1",
        ],
        &["check-config", "extra"],
    ] {
        let out = proxid(args);
        assert_eq!(code(&out), 2, "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(text(&out.stderr).starts_with("proxid: usage: "), "{args:?}");
    }
}

#[test]
fn option_forms_and_double_dash() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("proxid.conf");
    std::fs::write(&conf, "[resolution]\nmode = \"client\"\n").unwrap();
    let conf = conf.to_str().unwrap();
    let joined = format!("--config={conf}");
    // --config before the command, after it, with `=` or as the next argument.
    for args in [
        vec!["--config", conf, "resolve", "root"],
        vec![joined.as_str(), "resolve", "root"],
        vec!["resolve", "--config", conf, "root"],
        vec!["resolve", "root", joined.as_str()],
    ] {
        let out = proxid(&args);
        assert_eq!(code(&out), 0, "{args:?}: {out:?}");
        assert!(text(&out.stdout).starts_with("root uid=0(root)"));
    }
    let missing = format!("--config={}/absent.conf", dir.path().display());
    let out = proxid([missing.as_str(), "resolve", "root"]);
    assert_eq!(code(&out), 2);
    assert!(text(&out.stderr).starts_with("proxid: configuration: "));

    // `--` ends options: what follows is a name, even `--json`.
    let out = proxid(["resolve", "--json", "--", "-odd-name", "--json"]);
    assert_eq!(code(&out), 1);
    let lines: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["name"], "-odd-name");
    assert_eq!(lines[1]["name"], "--json");
    assert_eq!(lines[1]["error"], "not_found");

    // Options after operands, and `--opt=value` for authorize.
    let out = proxid(["resolve", "root", "--json"]);
    assert_eq!(code(&out), 0);
    assert!(text(&out.stdout).starts_with("{\"name\":\"root\""));
    let out = proxid([
        "authorize",
        "--json",
        "--proxy=root",
        "--user=root",
        "--host=::1",
    ]);
    let json: Value = serde_json::from_slice(&out.stdout).expect("one JSON line");
    assert_eq!(
        (json["proxy"].clone(), json["user"].clone()),
        ("root".into(), "root".into())
    );
    // An option's value is taken as given, even when it starts with `-`.
    let out = proxid([
        "authorize",
        "--json",
        "--proxy",
        "root",
        "--user",
        "-rf",
        "--host",
        "::1",
    ]);
    let json: Value = serde_json::from_slice(&out.stdout).expect("one JSON line");
    assert_eq!(json["user"], "-rf", "{json}");
}

#[test]
fn completions_for_each_shell() {
    for (shell, check, built) in [
        ("bash", vec!["bash", "-n"], "proxid.bash"),
        ("zsh", vec!["zsh", "-n"], "_proxid"),
        ("fish", vec!["fish", "--no-execute"], "proxid.fish"),
    ] {
        let out = proxid(["completions", shell]);
        assert_eq!(code(&out), 0, "{shell}");
        let script = text(&out.stdout);
        for command in COMMANDS {
            assert!(script.contains(command), "{shell}: {command} missing");
        }
        // The copy build.rs wrote for the install step is the same script.
        let file = profile_dir().join("completions").join(built);
        assert_eq!(std::fs::read_to_string(&file).unwrap(), script, "{file:?}");
        // The shell itself parses it (CI installs zsh and fish).
        let status = Command::new(check[0]).args(&check[1..]).arg(&file).status();
        match status {
            Ok(status) => assert!(status.success(), "{shell} rejects {file:?}"),
            Err(e) => eprintln!("{shell} not installed ({e}): syntax not checked"),
        }
    }
    // bash completes the subcommands from the script.
    let file = profile_dir().join("completions/proxid.bash");
    let probe = format!(
        "source {}; COMP_WORDS=(proxid res); COMP_CWORD=1; _proxid proxid res proxid; \
         echo \"${{COMPREPLY[@]}}\"",
        file.display()
    );
    let out = Command::new("bash").args(["-c", &probe]).output().unwrap();
    assert_eq!(text(&out.stdout).trim(), "resolve", "{out:?}");
}

#[test]
fn man_pages_are_generated_at_build_time() {
    let man = profile_dir().join("man");
    let mut pages = vec![man.join("proxid.1")];
    pages.extend(COMMANDS.iter().map(|c| man.join(format!("proxid-{c}.1"))));
    for page in &pages {
        let roff = std::fs::read_to_string(page).unwrap_or_else(|e| panic!("{page:?}: {e}"));
        assert!(
            roff.contains(".TH ") && roff.contains(".SH SYNOPSIS"),
            "{page:?}"
        );
    }
    let top = std::fs::read_to_string(&pages[0]).unwrap();
    for command in COMMANDS {
        let roff_name = format!("proxid-{command}(1)").replace('-', "\\-");
        assert!(top.contains(&roff_name), "{command}");
    }
    // man renders it without complaint (groff warnings would go to stderr).
    let out = Command::new("man")
        .arg("-l")
        .arg(man.join("proxid-resolve.1"))
        .env("MANWIDTH", "80")
        .env_remove("MAN_KEEP_FORMATTING")
        .env_remove("MANPAGER")
        .env_remove("PAGER")
        .output();
    match out {
        Ok(out) => {
            assert!(out.status.success(), "{out:?}");
            let page = text(&out.stdout);
            for section in ["SYNOPSIS", "OPTIONS", "EXIT STATUS", "EXAMPLES"] {
                assert!(page.contains(section), "{section} missing: {page}");
            }
            assert!(page.contains("proxid resolve -- -odd-name"), "{page}");
        }
        Err(e) => eprintln!("man not installed ({e}): rendering not checked"),
    }
}

#[test]
fn install_script_installs_cli_man_pages_and_completions() {
    // cargo leaves the library of a test build in deps/ (see tests/c_abi.rs).
    let Some(lib_dir) = [profile_dir().join("deps"), profile_dir().to_path_buf()]
        .into_iter()
        .find(|d| d.join("libproxid.so").is_file() && d.join("libproxid.a").is_file())
    else {
        panic!("no libproxid.so/.a in {:?}", profile_dir());
    };
    let stage = tempfile::tempdir().unwrap();
    let out = Command::new("bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/install.sh"))
        .env("PREFIX", "/usr")
        .env("DESTDIR", stage.path())
        .env("PROXID_LIB_DIR", &lib_dir)
        .env("PROXID_BIN_DIR", profile_dir())
        .env_remove("LIBDIR")
        .env_remove("INCLUDEDIR")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let root = stage.path().join("usr");
    for file in [
        "bin/proxid",
        "share/man/man1/proxid.1",
        "share/man/man1/proxid-resolve.1",
        "share/man/man1/proxid-authorize.1",
        "share/bash-completion/completions/proxid",
        "share/zsh/vendor-completions/_proxid",
        "share/fish/vendor_completions.d/proxid.fish",
    ] {
        assert!(root.join(file).is_file(), "{file} not installed");
    }
    let out = Command::new(root.join("bin/proxid"))
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(code(&out), 0);
}
