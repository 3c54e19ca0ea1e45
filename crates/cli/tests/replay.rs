//! `fbcomet replay`, run as a process and driven over HTTP.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command};

use serde_json::Value;
use support::fixture;

/// Starts `fbcomet replay ARGS` on a port the OS picks.
fn start(args: &[&str]) -> (Child, String) {
    let mut all = vec!["replay"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--addr", "127.0.0.1:0"]);
    support::start(&all)
}

/// One HTTP/1.1 request over a fresh connection; the whole answer back.
fn http(addr: &str, method: &str, target: &str, host: &str, form: &str) -> String {
    let mut tcp = TcpStream::connect(addr).expect("connect");
    let mut request = format!("{method} {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    if !form.is_empty() {
        request.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            form.len()
        ));
    }
    request.push_str("\r\n");
    request.push_str(form);
    tcp.write_all(request.as_bytes()).expect("write");
    let mut answer = Vec::new();
    let _ = tcp.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

fn finish(child: Child) -> (Option<i32>, String, String) {
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_whole_session_replays_and_the_report_is_clean() {
    let path = fixture("sessions/2008-multi-event-frame.json");
    let session: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
    let (child, addr) = start(&[&path, "--speed", "0", "--json"]);
    for (n, exchange) in session["exchanges"].as_array().expect("exchanges").iter().enumerate() {
        let host = exchange["request"]["host"].as_str().expect("host");
        let path = exchange["request"]["path"].as_str().expect("path").replace("{ANY}", &n.to_string());
        // Proxy form and plain form, in turn.
        let target = if n % 2 == 0 { format!("http://{host}{path}") } else { path };
        let answer = http(&addr, "GET", &target, host, "");
        let body = exchange["response"]["body"].as_str().expect("body");
        assert!(answer.starts_with("HTTP/1.1 200"), "#{n}: {answer}");
        assert!(answer.ends_with(body), "#{n}: {answer}");
    }
    let (code, stdout, stderr) = finish(child);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let report: Value = serde_json::from_str(stdout.trim()).expect("a JSON report");
    assert_eq!(report["used"], 5);
    assert_eq!(report["unused"], Value::Array(Vec::new()));
}

#[test]
fn strict_mode_fails_on_a_mismatch_and_says_why() {
    let (child, addr) =
        start(&[&fixture("sessions/2008-multi-event-frame.json"), "--speed", "0", "--timeout", "500ms"]);
    let answer = http(&addr, "GET", "/x/0/false/p_800753867=3", "127.0.0.1", "");
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("seq: expected -1, got 3"), "{answer}");
    let (code, stdout, _) = finish(child);
    assert_eq!(code, Some(1));
    assert!(stdout.contains("0 of 5 exchanges used, 5 unused, 1 unmatched requests"), "{stdout}");
    assert!(
        stdout.contains(
            "unmatched: GET 127.0.0.1 /x/0/false/p_800753867=3 (expected #0 GET /x/{ANY}/false/p_800753867=-1)"
        ),
        "{stdout}"
    );
}

#[test]
fn lenient_mode_with_faults_exits_0() {
    let (child, addr) = start(&[
        &fixture("sessions/2008-multi-event-frame.json"),
        "--speed",
        "0",
        "--lenient",
        "--fault-rate",
        "1",
        "--faults",
        "status",
        "--timeout",
        "300ms",
    ]);
    let answer = http(&addr, "GET", "/x/0/false/p_800753867=-1", "127.0.0.1", "");
    assert!(answer.starts_with("HTTP/1.1 50"), "{answer}");
    let (code, stdout, _) = finish(child);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("1 faults injected"), "{stdout}");
}

#[test]
fn a_malformed_fixture_is_a_clear_error() {
    let dir = std::env::temp_dir().join(format!("fbcomet-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let bad = dir.join("bad.json");
    std::fs::write(&bad, "{\"name\": \"x\", \"dialect\": \"channel\",\n \"uid\": \"not a number\", \"exchanges\": []}")
        .expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_fbcomet")).arg("replay").arg(&bad).output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad.json: line 2, column"), "{stderr}");
    let missing =
        Command::new(env!("CARGO_BIN_EXE_fbcomet")).args(["replay", "/no/such/session.json"]).output().expect("run");
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/no/such/session.json"));
}

#[test]
fn bad_arguments_are_usage_errors() {
    let session = fixture("sessions/2008-login-chat.json");
    for args in [
        vec!["replay", &session, "--speed", "-1"],
        vec!["replay", &session, "--fault-rate", "2"],
        vec!["replay", &session, "--fault-rate", "0.1", "--faults", "gremlins"],
        vec!["replay", &session, "--timeout", "soon"],
        vec!["replay", &session, "--strict", "--lenient"],
        vec!["replay"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_fbcomet")).args(&args).output().expect("run");
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
}
