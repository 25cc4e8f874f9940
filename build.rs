//! Records the target triple so `heartbeat --version` can say which build it is.
fn main() {
    // Without this line cargo reruns the script, and so rebuilds the crate (a minute of LTO for the release),
    // whenever any file in the package changes: a README edit, a Python test.
    println!("cargo:rerun-if-changed=build.rs");
    let target = std::env::var("TARGET").unwrap_or_else(|_| "unknown".into());
    println!("cargo:rustc-env=HEARTBEAT_TARGET={target}");
}
