//! The Rust tests: one binary (linking dominates on 2 cores), one module per feature. Every test talks only to
//! servers it starts itself on 127.0.0.1, and runs the real binary through `common::heartbeat()`.

mod common;

mod access;
mod cert_inspect;
mod cert_watch;
mod check;
mod command_line;
mod engine;
mod front_door;
mod interrupt;
mod limits;
mod nginx;
mod notify;
mod properties;
mod reports;
mod sandbox;
mod schedule;
mod secrets;
mod smoke;
mod suite;
mod suite_language;
