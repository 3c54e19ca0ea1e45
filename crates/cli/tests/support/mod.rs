//! What the command-line tests share: starting `fbcomet` as a server and
//! reading the address it prints first.

#![allow(dead_code, unreachable_pub)]

pub mod readme;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The `fbcomet` binary under test. Its data directory (where the default
/// CA lives) is the tests' own, not the user's.
pub fn fbcomet() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_fbcomet"));
    command.env("XDG_DATA_HOME", std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("fbcomet-cli-tests-data"));
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

/// A child process killed when dropped (a test that fails leaves nothing
/// running).
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A CA directory of the test's own, empty.
pub fn ca_dir(name: &str) -> PathBuf {
    let dir =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("fbcomet-cli-ca-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Starts `fbcomet ARGS --addr 127.0.0.1:0`; the process and the lines it
/// printed until (and with) the one that starts with `until`.
pub fn start_until(args: &[&str], until: &str) -> (Running, Vec<String>) {
    let mut child = fbcomet()
        .args(args)
        .args(["--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut lines = Vec::new();
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    loop {
        let mut line = String::new();
        if out.read_line(&mut line).expect("a line") == 0 {
            panic!("ended before {until:?}: {lines:?}");
        }
        let done = line.starts_with(until);
        lines.push(line.trim().to_owned());
        if done {
            break;
        }
    }
    std::thread::spawn(move || for _ in out.lines() {});
    (Running(child), lines)
}

/// The address of `listening on ADDR`, the first line.
pub fn listening(lines: &[String]) -> String {
    lines[0].strip_prefix("listening on ").expect("the first line").to_owned()
}

/// Whether `program ARGS` runs and succeeds.
pub fn have(program: &str, args: &[&str]) -> bool {
    Command::new(program).args(args).stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

/// The Python to run: `FBCOMET_PYTHON` (CI points it at a venv with
/// requests and fbchat installed), else `python3`.
pub fn python() -> String {
    std::env::var("FBCOMET_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}
