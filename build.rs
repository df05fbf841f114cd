//! Generates the C header into OUT_DIR (never into the source tree: the committed
//! include/proxid.h is compared with it by tests/c_abi.rs) and gives the shared
//! library its versioned SONAME.

use std::env;
use std::path::PathBuf;

/// Must equal `PROXID_ABI_VERSION` in src/ffi/c.rs (checked by tests/c_abi.rs).
const ABI_VERSION: u32 = 0;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=src/ffi/c.rs");

    let crate_dir =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));

    let mut config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .unwrap_or_else(|e| panic!("cbindgen.toml: {e}"));
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
        .with_src(crate_dir.join("src/ffi/c.rs"))
        .generate()
        .unwrap_or_else(|e| panic!("cbindgen could not generate proxid.h: {e}"))
        .write_to_file(&header);
    println!(
        "cargo:rustc-env=PROXID_GENERATED_HEADER={}",
        header.display()
    );

    if env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libproxid.so.{ABI_VERSION}");
    }
}
