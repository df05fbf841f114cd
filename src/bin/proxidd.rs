//! proxidd (work in progress).
fn main() {
    eprintln!("proxidd: not implemented yet");
    std::process::exit(2);
}
