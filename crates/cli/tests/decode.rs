//! `fbcomet decode`, run as a process.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

fn fbcomet(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fbcomet"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn fbcomet");
    child.stdin.take().expect("stdin").write_all(stdin).expect("write stdin");
    child.wait_with_output().expect("wait")
}

fn fixture(path: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    root.join(path).display().to_string()
}

fn stdout_lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect()
}

#[test]
fn one_file_prints_its_description() {
    let out = fbcomet(&["decode", &fixture("bodies/jitsi-typ-stop.body")], b"");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        stdout_lines(&out),
        [json!({
            "kind": "msg",
            "channel": "p_1386786477",
            "events": [{"type": "typ", "from": 1190346972u64, "to": 1386786477u64, "typing": false}]
        })]
    );
    assert!(out.stderr.is_empty());
}

#[test]
fn stdin_is_read_when_no_file_is_given() {
    let out = fbcomet(&["decode"], b"for (;;);{\"error\":1357001,\"errorSummary\":\"Not Logged In\",\"errorDescription\":\"You must be logged in to do that.\",\"payload\":null}");
    assert!(out.status.success());
    let lines = stdout_lines(&out);
    assert_eq!(lines[0]["kind"], "error");
    assert_eq!(lines[0]["error"], 1357001);
    assert_eq!(lines[0]["error_name"], "NotLoggedIn");
    assert_eq!(lines[0]["description"], "You must be logged in to do that.");
}

#[test]
fn several_files_are_named_and_a_bad_one_fails_the_run() {
    let out = fbcomet(
        &[
            "decode",
            &fixture("bodies/coderrr-continue.body"),
            &fixture("malformed/ms-not-an-array.body"),
            &fixture("bodies/coderrr-refresh-seq0.body"),
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(1));
    let lines = stdout_lines(&out);
    assert_eq!(lines.len(), 2, "the good files are still decoded");
    assert_eq!(lines[0]["kind"], "continue");
    assert!(lines[0]["file"].as_str().is_some_and(|f| f.ends_with("coderrr-continue.body")));
    assert_eq!(lines[1]["seq"], 0);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("ms-not-an-array.body: unexpected shape at byte 25 ($.ms)"), "{stderr}");
}

#[test]
fn missing_files_and_garbage_fail_cleanly() {
    let out = fbcomet(&["decode", "/nonexistent/body"], b"");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/body"));

    let garbage: Vec<u8> = (0..=255).cycle().take(5000).collect();
    let out = fbcomet(&["decode", "-"], &garbage);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("fbcomet: <stdin>: "));
}

#[test]
fn usage_errors_exit_2() {
    for args in [&["decode", "--bogus"][..], &["decode", "--json"], &["nonsense"], &["decode", "--lines"]] {
        let out = fbcomet(args, b"");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn lines_summary_counts_everything() {
    let mut dump = Vec::new();
    let mut bodies: Vec<PathBuf> = std::fs::read_dir(fixture("bodies"))
        .expect("fixtures")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "body"))
        .filter(|p| !p.to_string_lossy().contains("junk-before-prefix"))
        .collect();
    bodies.sort();
    for path in &bodies {
        dump.extend(std::fs::read(path).expect("read"));
        dump.extend(b"\r\n\n");
    }
    dump.extend(b"for (;;);{\"t\":\"msg\",\"ms\":5}\n");
    let out = fbcomet(&["decode", "--lines", "-", "--json"], &dump);
    assert_eq!(out.status.code(), Some(1), "one line does not decode");
    let summary: Value = serde_json::from_slice(&out.stdout).expect("json summary");
    assert_eq!(summary["lines"], bodies.len() + 1);
    assert_eq!(summary["bodies"], bodies.len());
    assert_eq!(summary["undecodable"], 1);
    assert_eq!(summary["first_undecodable"][0]["line"], bodies.len() * 2 + 1);
    assert_eq!(summary["first_undecodable"][0]["offset"], 25);
    assert_eq!(summary["kinds"]["continue"], 1);
    assert_eq!(summary["kinds"]["error"], 2);
    assert_eq!(summary["events"]["typ"], 3);
    assert_eq!(summary["buddy_list_entries"], 3);
    let errors = summary["server_errors"].as_array().expect("array");
    assert!(errors.iter().any(|e| e["code"] == 1357001 && e["count"] == 1));

    let out = fbcomet(&["decode", "--lines", "-"], &dump);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("bodies by kind:"), "{text}");
    assert!(text.contains("undecodable lines (first 1):"), "{text}");
}

#[test]
fn the_bundled_dump_is_summarised_without_progress_on_a_pipe() {
    let out = fbcomet(&["decode", "--lines", &fixture("dumps/capture.txt"), "--json"], b"");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!((summary["lines"].as_u64(), summary["undecodable"].as_u64()), (Some(14), Some(0)), "{summary}");
    assert!(out.stderr.is_empty(), "no progress display when piped: {}", String::from_utf8_lossy(&out.stderr));
}

/// What a capture holds reaches the terminal escaped: a frame kind, an
/// event type and a server's error summary can all carry escape sequences,
/// and none is written raw (nor in the undecodable line's report).
#[test]
fn a_summary_writes_no_control_character_from_the_capture() {
    let dump = concat!(
        "for (;;);{\"t\":\"\\u001b[2J\"}\n",
        "for (;;);{\"t\":\"msg\",\"ms\":[{\"type\":\"\\u001b]0;pwned\\u0007\"}]}\n",
        "for (;;);{\"error\":1357001,\"errorSummary\":\"Not\\u001b[31m Logged\",\"errorDescription\":\"\",\"payload\":null}\n",
        "for (;;);{\"t\":\"msg\",\"ms\":[{\"type\":\"msg\",\"\\u001b[5m\":1,\"msg\":5}]}\n",
    );
    let out = fbcomet(&["decode", "--lines", "-"], dump.as_bytes());
    assert_eq!(out.status.code(), Some(1), "the last line does not decode");
    for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let text = String::from_utf8_lossy(bytes);
        assert!(!text.contains('\u{1b}') && !text.contains('\u{7}'), "{stream}: {text:?}");
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("\\u{1b}[2J"), "{stdout}");
    assert!(stdout.contains("Not\\u{1b}[31m Logged"), "{stdout}");
}
