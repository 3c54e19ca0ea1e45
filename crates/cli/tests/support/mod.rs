//! What the command-line tests share: starting `fbcomet` as a server and
//! reading the address it prints first.

#![allow(dead_code, unreachable_pub)]

pub mod readme;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// The `fbcomet` binary under test. Its data directory (where the default
/// CA lives) is the tests' own, not the user's.
pub fn fbcomet() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_fbcomet"));
    command.env("XDG_DATA_HOME", std::env::temp_dir().join("fbcomet-cli-tests-data"));
    command
}

/// Starts `fbcomet ARGS` and returns it with the address of its first line
/// (`listening on http://ADDR`).
pub fn start(args: &[&str]) -> (Child, String) {
    let mut child = fbcomet().args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn fbcomet");
    let mut first = String::new();
    BufReader::new(child.stdout.as_mut().expect("stdout")).read_line(&mut first).expect("first line");
    let addr =
        first.trim().strip_prefix("listening on http://").unwrap_or_else(|| panic!("first line: {first:?}")).to_owned();
    (child, addr)
}

/// A path under the workspace's `fixtures/`.
pub fn fixture(path: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures").join(path).display().to_string()
}
