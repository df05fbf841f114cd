//! The module is installed as libnss_proxid.so.2, the name glibc dlopens for the NSS
//! service `proxid` (interface version 2): give the library that SONAME.
fn main() {
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libnss_proxid.so.2");
}
