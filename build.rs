//! Records the target triple so `heartbeat --version` can say which build it is.
fn main() {
    let target = std::env::var("TARGET").unwrap_or_else(|_| "unknown".into());
    println!("cargo:rustc-env=HEARTBEAT_TARGET={target}");
}
