//! The client subcommands (listen, send, buddies, chat), the demo and the
//! HAR conversions, run as processes against `fbcomet serve`.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use support::{fbcomet, fixture};

struct Serve {
    child: Child,
    url: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve() -> Serve {
    let (child, addr) = support::start(&["serve", "--addr", "127.0.0.1:0", "--hold", "1s"]);
    Serve { child, url: format!("http://{addr}") }
}

fn tmp(name: &str) -> PathBuf {
    std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("fbcomet-cli-{}-{name}", std::process::id()))
}

/// Runs a command to the end, feeding `stdin`.
fn run(cmd: &mut Command, stdin: &str) -> Output {
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write");
    child.wait_with_output().expect("wait")
}

fn as_user(cmd: &str, url: &str, name: &str) -> Command {
    let mut c = fbcomet();
    c.args([cmd, "--server", url, "--email", &format!("{name}@example.com"), "--password", name]);
    c
}

/// Reads a child's output lines in a thread, so tests can wait for one.
fn lines_of(child: &mut Child) -> mpsc::Receiver<String> {
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

fn wait_for(rx: &mpsc::Receiver<String>, what: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(line) if line.contains(what) => return line,
            Ok(_) => {}
            Err(_) => break,
        }
    }
    panic!("no line with {what:?}");
}

/// Waits for `child` to end, killing it and failing after `limit`.
fn wait_bounded(child: &mut Child, limit: Duration, what: &str) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{what} did not end within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends until the recipient is online (its listener polls).
fn send_when_online(url: &str, from: &str, to: u64, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let out = run(as_user("send", url, from).args(["--to", &to.to_string(), "--text", text]), "");
        if out.status.success() {
            return;
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("no longer online"), "{stderr}");
        assert!(Instant::now() < deadline, "never online");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn listen_send_and_buddies() {
    let server = serve();
    let mut bob = as_user("listen", &server.url, "bob")
        .args(["--json", "--count", "3", "--timeout", "20s", "--presence-every", "0s"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("listen");
    let lines = lines_of(&mut bob);
    let awkward = "Tom & Jerry = 100% \"fun\" + caf\u{e9} \u{1F600}";
    send_when_online(&server.url, "alice", 1002, awkward);
    let piped = run(as_user("send", &server.url, "alice").args(["--to", "1002", "--json"]), "line one\n\nline two\n");
    assert!(piped.status.success(), "{}", String::from_utf8_lossy(&piped.stderr));
    assert_eq!(String::from_utf8_lossy(&piped.stdout).lines().count(), 2, "one JSON line per message sent");

    let got: Vec<serde_json::Value> =
        (0..3).map(|_| serde_json::from_str(&wait_for(&lines, "\"type\":\"message\"")).expect("json")).collect();
    let texts: Vec<&str> = got.iter().map(|m| m["text"].as_str().expect("text")).collect();
    assert_eq!(texts, [awkward, "line one", "line two"]);
    assert_eq!(got[0]["from"], 1001);
    assert_eq!(got[0]["own_echo"], false);
    assert!(bob.wait().expect("listen ends").success(), "--count 3 ends it with 0");

    let buddies = run(&mut as_user("buddies", &server.url, "carol"), "");
    let text = String::from_utf8_lossy(&buddies.stdout);
    assert!(text.contains("Alice Example") && text.contains("Bob Example"), "{text}");
    let json = run(as_user("buddies", &server.url, "carol").arg("--json"), "");
    let list: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    assert_eq!(list.as_array().map(Vec::len), Some(2));

    let too_long = run(as_user("send", &server.url, "alice").args(["--to", "1002", "--text", &"x".repeat(1000)]), "");
    assert_eq!(too_long.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&too_long.stderr).contains("at most 999"));
}

#[test]
fn chat_sends_lines_and_shows_what_arrives() {
    let server = serve();
    let mut bob =
        as_user("chat", &server.url, "bob").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().expect("chat");
    let mut bob_in = bob.stdin.take().expect("stdin");
    let bob_lines = lines_of(&mut bob);
    wait_for(&bob_lines, "logged in as 1002");
    // Alice chats through a pipe: by name, by uid, and a command.
    send_when_online(&server.url, "alice", 1002, "ping");
    wait_for(&bob_lines, "Alice Example (1001): ping");
    let alice = run(
        as_user("chat", &server.url, "alice").args(["--linger", "300ms"]),
        "bob hello & welcome\n1002 second\n/buddies\n",
    );
    assert!(alice.status.success());
    let alice_out = String::from_utf8_lossy(&alice.stdout);
    assert!(alice_out.contains("Bob Example") && alice_out.contains("online"), "{alice_out}");
    wait_for(&bob_lines, "Alice Example (1001): hello & welcome");
    wait_for(&bob_lines, "Alice Example (1001): second");
    // Bob answers by name, then leaves.
    writeln!(bob_in, "alice thanks!").expect("type");
    writeln!(bob_in, "nobody hi").expect("type");
    wait_for(&bob_lines, "who is \"nobody\"?");
    writeln!(bob_in, "/quit").expect("type");
    assert!(bob.wait().expect("chat ends").success());
}

#[test]
fn sessions_save_and_restore_from_the_command_line() {
    let server = serve();
    let file = tmp("session.json");
    let file_arg = file.to_string_lossy().into_owned();
    // Even over a file anyone could read before: the session is the owner's.
    std::fs::write(&file, "").expect("write");
    let saved = run(as_user("buddies", &server.url, "alice").args(["--save-session", &file_arg]), "");
    assert!(saved.status.success());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).expect("saved").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "a saved session holds a live cookie: {mode:o}");
    }
    let restored = run(fbcomet().args(["buddies", "--server", &server.url, "--session", &file_arg]), "");
    assert!(restored.status.success(), "{}", String::from_utf8_lossy(&restored.stderr));
    assert!(String::from_utf8_lossy(&restored.stdout).contains("Bob Example"));
    std::fs::write(&file, "{ not a session").expect("write");
    let broken = run(fbcomet().args(["buddies", "--server", &server.url, "--session", &file_arg]), "");
    assert_eq!(broken.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&broken.stderr).contains("not a saved fbcomet session"));
    let _ = std::fs::remove_file(&file);
}

#[test]
fn wrong_passwords_unreachable_servers_and_bad_arguments() {
    let server = serve();
    let wrong = run(
        fbcomet().args(["buddies", "--server", &server.url, "--email", "alice@example.com", "--password", "nope"]),
        "",
    );
    assert_eq!(wrong.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("wrong email or password"));

    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let dead = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    for cmd in ["listen", "send", "buddies", "chat"] {
        let mut c = as_user(cmd, &dead, "alice");
        if cmd == "send" {
            c.args(["--to", "1002", "--text", "x"]);
        }
        let out = run(&mut c, "");
        assert_eq!(out.status.code(), Some(1), "{cmd}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("cannot connect to"),
            "{cmd}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    for args in [
        vec!["listen"],
        vec!["send", "--email", "a", "--password", "b"],
        vec!["listen", "--email", "a", "--password", "b", "--timeout", "later"],
        vec!["chat", "--server", "not a url", "--email", "a", "--password", "b"],
        vec!["har"],
        vec!["demo", "--bogus"],
    ] {
        let out = run(fbcomet().args(&args), "");
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }

    // Errors that say what to do.
    let bare = run(fbcomet().args(["buddies", "--server", "127.0.0.1:8008", "--email", "a", "--password", "b"]), "");
    assert_eq!(bare.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bare.stderr).contains("did you mean http://127.0.0.1:8008?"));
    let no_password = run(fbcomet().args(["listen", "--server", &server.url, "--email", "alice@example.com"]), "");
    assert_eq!(no_password.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&no_password.stderr).contains("FBCOMET_PASSWORD"), "{no_password:?}");
    let from_env = run(
        fbcomet()
            .args(["buddies", "--server", &server.url, "--email", "alice@example.com"])
            .env("FBCOMET_PASSWORD", "alice"),
        "",
    );
    assert!(from_env.status.success(), "{}", String::from_utf8_lossy(&from_env.stderr));
    let empty = run(as_user("send", &server.url, "alice").args(["--to", "bob", "--text", ""]), "");
    assert_eq!(empty.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&empty.stderr).contains("the message is empty"), "{empty:?}");
    let stranger = run(as_user("send", &server.url, "alice").args(["--to", "mallory", "--text", "hi"]), "");
    assert!(String::from_utf8_lossy(&stranger.stderr).contains("who is \"mallory\"?"), "{stranger:?}");
    let wrong = run(
        fbcomet().args(["buddies", "--server", &server.url, "--email", "alice@example.com", "--password", "nope"]),
        "",
    );
    assert!(
        String::from_utf8_lossy(&wrong.stderr).contains("Incorrect email or password: The email and password"),
        "summary and description apart: {wrong:?}"
    );
    let taken = run(fbcomet().args(["serve", "--addr", server.url.trim_start_matches("http://")]), "");
    assert_eq!(taken.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&taken.stderr).contains("another --addr"), "{taken:?}");
}

#[test]
fn the_demo_runs_and_says_so() {
    let out = run(fbcomet().arg("demo"), "");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("the text arrived intact"), "{stdout}");
    assert!(stdout.contains("Alice and Bob exchanged 3 messages"), "{stdout}");
    assert!(stdout.contains("the captured session gave its 6 events once and in order"), "{stdout}");
    assert!(stdout.contains("wire   POST /login.php"), "the wire is shown");
    let quiet = run(fbcomet().args(["demo", "--no-wire"]), "");
    assert!(!String::from_utf8_lossy(&quiet.stdout).contains("wire "));
}

#[test]
fn sessions_export_to_har_and_import_back() {
    for name in ["2008-login-chat", "pull-lb-sticky", "2008-error-relogin"] {
        let har = tmp(&format!("{name}.har"));
        let back = tmp(&format!("{name}.json"));
        let (har_arg, back_arg) = (har.to_string_lossy().into_owned(), back.to_string_lossy().into_owned());
        let export =
            run(fbcomet().args(["har", "export", &fixture(&format!("sessions/{name}.json")), "--out", &har_arg]), "");
        assert!(export.status.success(), "{}", String::from_utf8_lossy(&export.stderr));
        let har_json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&har).expect("har")).expect("json");
        assert_eq!(har_json["log"]["version"], "1.2");
        for entry in har_json["log"]["entries"].as_array().expect("entries") {
            let url = entry["request"]["url"].as_str().expect("url");
            assert!(!url.contains('{') && !url.contains("%7B"), "a URL a HAR viewer takes: {url}");
        }
        let import = run(fbcomet().args(["har", "import", &har_arg, "--out", &back_arg]), "");
        assert!(import.status.success(), "{}", String::from_utf8_lossy(&import.stderr));

        let original = fbcomet_mock::Recording::load(fixture(&format!("sessions/{name}.json"))).expect("original");
        let imported = fbcomet_mock::Recording::load(&back).expect("imported");
        assert_eq!(imported.uid, original.uid, "{name}");
        assert_eq!(imported.exchanges.len(), original.exchanges.len(), "{name}");
        for (a, b) in original.exchanges.iter().zip(&imported.exchanges) {
            assert_eq!(
                (&a.request.method, &a.request.path, &a.request.form),
                (&b.request.method, &b.request.path, &b.request.form)
            );
            assert_eq!(a.response.full_body(), b.response.full_body(), "{name} {}", a.request.path);
            assert_eq!(a.response.hold_ms, b.response.hold_ms);
            assert_eq!(a.request.host, b.request.host, "{name}: wildcards come back");
        }
        let _ = (std::fs::remove_file(&har), std::fs::remove_file(&back));
    }
    let bad = tmp("bad.har");
    std::fs::write(&bad, "{\"log\": 5}").expect("write");
    let out =
        run(fbcomet().args(["har", "import", &bad.to_string_lossy(), "--out", &tmp("x.json").to_string_lossy()]), "");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a HAR file"));
    let _ = std::fs::remove_file(&bad);
}

/// The scenario of issue 12: a listener stopped (SIGSTOP) while messages
/// pass its window. It prints what history still held, then a gap line
/// with the number lost, and counts only messages from others.
#[test]
#[cfg(unix)]
fn a_stopped_listener_reports_its_gap() {
    let (child, addr) = support::start(&[
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--hold",
        "1s",
        "--history",
        "5",
        "--conversation-history",
        "8",
    ]);
    let server = Serve { child, url: format!("http://{addr}") };
    let mut alice = as_user("listen", &server.url, "alice")
        .args(["-v", "--json", "--timeout", "30s", "--presence-every", "0s"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("listen");
    let lines = lines_of(&mut alice);
    send_when_online(&server.url, "bob", 1001, "m0");
    wait_for(&lines, "\"text\":\"m0\"");
    // Alice's own message comes back as an echo: printed, not counted.
    let own = run(as_user("send", &server.url, "alice").args(["--to", "1002", "--text", "mine"]), "");
    assert!(own.status.success(), "{}", String::from_utf8_lossy(&own.stderr));
    wait_for(&lines, "\"own_echo\":true");

    let pid = alice.id().to_string();
    assert!(Command::new("kill").args(["-STOP", &pid]).status().expect("kill").success());
    let texts: Vec<String> = (1..30).map(|n| format!("m{n}")).collect();
    let piped = run(as_user("send", &server.url, "bob").args(["--to", "1001"]), &(texts.join("\n") + "\n"));
    assert!(piped.status.success(), "{}", String::from_utf8_lossy(&piped.stderr));
    assert!(Command::new("kill").args(["-CONT", &pid]).status().expect("kill").success());

    let gap: serde_json::Value = serde_json::from_str(&wait_for(&lines, "\"type\":\"gap\"")).expect("json");
    let (missed, recovered, lost) = (gap["missed"].as_u64(), gap["recovered"].as_u64(), gap["lost"].as_u64());
    assert!(missed.is_some_and(|m| m >= 20), "most of 29 messages passed a window of 5: {gap}");
    assert_eq!(missed, Some(recovered.unwrap_or(0) + lost.unwrap_or(0)), "{gap}");
    assert!(lost.is_some_and(|l| l > 0), "8 messages of history cannot cover the gap: {gap}");
    let _ = alice.kill();
    let _ = alice.wait();
    let stderr = std::io::read_to_string(alice.stderr.take().expect("stderr")).expect("stderr");
    assert!(stderr.contains("WARN") && stderr.contains("lost"), "logged at warn: {stderr}");
}

#[test]
fn listen_times_out_short_of_its_count_with_status_3() {
    let server = serve();
    let out = run(
        as_user("listen", &server.url, "carol").args(["--count", "1", "--timeout", "500ms", "--presence-every", "0s"]),
        "",
    );
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn text_from_the_network_cannot_drive_the_terminal() {
    let server = serve();
    let mut bob = as_user("listen", &server.url, "bob")
        .args(["--count", "1", "--timeout", "20s", "--presence-every", "0s"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("listen");
    let lines = lines_of(&mut bob);
    let evil = "\u{1b}]0;pwned\u{7}\u{1b}[31mred\r\nfake 12:00:00 Carol Example (1003): forged line";
    send_when_online(&server.url, "alice", 1002, evil);
    let line = wait_for(&lines, "Alice Example (1001)");
    assert!(!line.contains('\u{1b}') && !line.contains('\u{7}') && !line.contains('\r'), "{line:?}");
    assert!(
        line.contains(r"\u{1b}]0;pwned\u{7}")
            && line.ends_with(r"\u{d}\u{a}fake 12:00:00 Carol Example (1003): forged line"),
        "{line:?}"
    );
    assert!(bob.wait().expect("ends").success());
    let rest: Vec<String> = lines.try_iter().collect();
    assert!(rest.iter().all(|l| !l.contains("forged")), "one message, one line: {rest:?}");

    // --json keeps the text exact.
    let mut carol = as_user("listen", &server.url, "carol")
        .args(["--json", "--count", "1", "--timeout", "20s", "--presence-every", "0s"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("listen");
    let lines = lines_of(&mut carol);
    send_when_online(&server.url, "alice", 1003, evil);
    let json: serde_json::Value = serde_json::from_str(&wait_for(&lines, "\"type\":\"message\"")).expect("json");
    assert_eq!(json["text"], evil);
}

#[test]
fn har_export_keeps_the_port_the_client_addressed() {
    let session = r#"{"name":"p","dialect":"channel","uid":1,"exchanges":[{"request":{"host":"127.0.0.1","path":"/x/{ANY}/false/p_1=0","headers":[["Host","127.0.0.1:8009"]]},"response":{"body":"x"}}]}"#;
    let file = tmp("port.json");
    let har = tmp("port.har");
    std::fs::write(&file, session).expect("write");
    let out = run(fbcomet().args(["har", "export"]).arg(&file).arg("--out").arg(&har), "");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let har_json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&har).expect("har")).expect("json");
    assert_eq!(har_json["log"]["entries"][0]["request"]["url"], "http://127.0.0.1:8009/x/fbcomet-any/false/p_1=0");
    let _ = (std::fs::remove_file(&file), std::fs::remove_file(&har));
}

/// Ctrl-C ends listen and chat alike (130), and leaving logs out: the user
/// is offline at once. Logs on a pipe carry no colour codes.
#[test]
#[cfg(unix)]
fn leaving_is_the_same_for_listen_and_chat_and_logs_out() {
    let server = serve();
    for cmd in ["listen", "chat"] {
        let mut child = as_user(cmd, &server.url, "alice")
            .arg("-v")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect(cmd);
        // Standard input stays open, as a terminal's would.
        let stdin = child.stdin.take().expect("stdin");
        let lines = lines_of(&mut child);
        if cmd == "chat" {
            wait_for(&lines, "logged in as 1001");
        }
        // Alice's stream is up once Bob can message her.
        send_when_online(&server.url, "bob", 1001, &format!("hello {cmd}"));
        wait_for(&lines, &format!("hello {cmd}"));
        assert!(Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill").success());
        let status = wait_bounded(&mut child, Duration::from_secs(10), cmd);
        drop(stdin);
        assert_eq!(status.code(), Some(130), "{cmd} after Ctrl-C");
        let stderr = std::io::read_to_string(child.stderr.take().expect("stderr")).expect("stderr");
        assert!(!stderr.contains('\u{1b}'), "{cmd}: no colour codes in a piped log: {stderr:?}");
        // Logged out: Alice is offline for Bob at once.
        let refused = run(as_user("send", &server.url, "bob").args(["--to", "1001", "--text", "still there?"]), "");
        assert!(String::from_utf8_lossy(&refused.stderr).contains("no longer online"), "{cmd} logged out: {refused:?}");
    }
}

#[test]
fn buddies_json_gives_uids_as_numbers() {
    let server = serve();
    let json = run(as_user("buddies", &server.url, "carol").arg("--json"), "");
    let list: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    assert!(list.as_array().expect("array").iter().all(|b| b["uid"].is_u64()), "{list}");
}

/// On a terminal (tmux gives chat one), chat tells the friend a line is for
/// that the user is typing, as the line is written.
#[test]
fn chat_on_a_terminal_sends_typing_as_the_line_is_written() {
    let tmux =
        |socket: &str, args: &[&str]| Command::new("tmux").args(["-L", socket]).args(args).output().map(|o| o.status);
    if !Command::new("tmux").arg("-V").output().is_ok_and(|o| o.status.success()) {
        eprintln!(
            "SKIPPED chat_on_a_terminal_sends_typing_as_the_line_is_written: tmux is not installed (.ci/run installs it)"
        );
        return;
    }
    let server = serve();
    let mut bob = as_user("listen", &server.url, "bob")
        .args(["--json", "--timeout", "20s", "--presence-every", "0s"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("listen");
    let lines = lines_of(&mut bob);
    send_when_online(&server.url, "carol", 1002, "so Bob is online");
    wait_for(&lines, "so Bob is online");
    let socket = format!("fbcomet-test-{}", std::process::id());
    let chat = format!(
        "{} chat --server {} --email alice@example.com --password alice --presence-every 0s",
        env!("CARGO_BIN_EXE_fbcomet"),
        server.url
    );
    assert!(tmux(&socket, &["new-session", "-d", "-x", "100", "-y", "20", &chat]).expect("tmux").success());
    std::thread::sleep(Duration::from_millis(1500));
    tmux(&socket, &["send-keys", "bob hel"]).expect("keys");
    let typing = wait_for(&lines, "\"type\":\"typing\"");
    assert!(typing.contains("\"from\":1001") && typing.contains("\"typing\":true"), "{typing}");
    tmux(&socket, &["send-keys", "lo", "Enter"]).expect("keys");
    wait_for(&lines, "\"typing\":false");
    wait_for(&lines, "\"text\":\"hello\"");
    tmux(&socket, &["send-keys", "/quit", "Enter"]).expect("keys");
    let _ = tmux(&socket, &["kill-server"]);
    let _ = bob.kill();
}
