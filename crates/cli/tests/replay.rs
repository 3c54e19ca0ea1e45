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
    let dir =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("fbcomet-cli-test-{}", std::process::id()));
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
    let _ = std::fs::remove_dir_all(&dir);
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

/// `--trace` prints each exchange as a line, `--trace-file` writes it as
/// JSON, and a replay whose client went quiet says what it waits for.
#[test]
fn the_wire_is_traced_and_a_quiet_client_is_named() {
    let path = fixture("sessions/2008-login-chat.json");
    let trace_file =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("fbcomet-trace-{}.jsonl", std::process::id()));
    let trace_arg = trace_file.to_string_lossy().into_owned();
    let (mut child, addr) = start(&[
        &path,
        "--speed",
        "0",
        "--trace",
        "--trace-file",
        &trace_arg,
        "--patience",
        "300ms",
        "--timeout",
        "2s",
    ]);
    let page = http(&addr, "GET", "/login.php", "www.facebook.com", "");
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    let poll = http(&addr, "GET", "/x/9/false/p_1001=-1", "0.channel07.facebook.com", "");
    assert!(poll.contains(r#"for (;;);{"t":"refresh", "seq":0}"#), "the captured body: {poll}");
    std::thread::sleep(std::time::Duration::from_millis(900));
    let _ = child.kill();
    let (_, _, stderr) = finish(child);
    assert!(stderr.contains("GET www.facebook.com /login.php -> 200"), "{stderr}");
    assert!(
        stderr.contains("GET 0.channel07.facebook.com /x/9/false/p_1001=-1 -> 200") && stderr.contains("refresh seq 0"),
        "{stderr}"
    );
    assert!(stderr.contains("replay: no request for 0."), "{stderr}");
    assert!(
        stderr.contains(
            "s; waiting for #5 GET /x/{ANY}/false/p_1001=0 (channel stream), #1 POST /login.php (www stream)"
        ),
        "{stderr}"
    );
    let lines: Vec<Value> = std::fs::read_to_string(&trace_file)
        .expect("trace file")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!((lines[1]["kind"].as_str(), lines[1]["seq"].as_i64()), (Some("refresh"), Some(0)));
    assert_eq!(lines[0]["target"], "/login.php");
    let _ = std::fs::remove_file(&trace_file);
}
