//! fbchat 1.1.3, unchanged, chats through `fbcomet serve` with the users
//! of the other doors: it logs in over TLS through the proxy, names the
//! world's users, sends to a user of the 2008 channel (`fbcomet listen`,
//! fbcomet-receiver underneath), and receives that user's reply in
//! `onMessage`; a saved session is restored without a password. CI installs
//! fbchat in a venv (`FBCOMET_PYTHON`); without it the test says SKIPPED.

mod support;

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;
use support::{Running, ca_dir, fbcomet, have, listening, python, start_until};

/// What Alice (fbchat) sends, and what comes back: awkward characters and
/// an emoji both ways.
const TO_BOB: &str = "héllo Bob & <b>\"quoted\"</b> + 100% ☃ 😀";
const TO_ALICE: &str = "Alice: ünïcödé & <i>'q'</i> =%2B 🎉";

/// The lines a child prints, as they come.
struct Lines(mpsc::Receiver<String>);

impl Lines {
    fn of(stream: impl Read + Send + 'static) -> Self {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Lines(rx)
    }

    /// The next line that `wanted` accepts, within 60 s; the others are
    /// kept for the message of a failure.
    fn until(&self, what: &str, wanted: impl Fn(&str) -> bool) -> String {
        let mut seen = Vec::new();
        loop {
            match self.0.recv_timeout(Duration::from_secs(60)) {
                Ok(line) if wanted(&line) => return line,
                Ok(line) => seen.push(line),
                Err(_) => panic!("no {what} in time; saw {seen:#?}"),
            }
        }
    }

    /// The next JSON line with `"step": step`.
    fn step(&self, step: &str) -> Value {
        let line = self.until(step, |l| serde_json::from_str::<Value>(l).is_ok_and(|v| v["step"] == step));
        serde_json::from_str(&line).unwrap_or_default()
    }
}

/// The Python with fbchat 1.1.3, or why not.
fn fbchat_python() -> Result<String, String> {
    let python = python();
    let check = "import fbchat, sys; sys.exit(fbchat.__version__ != '1.1.3')";
    if have(&python, &["-c", check]) {
        Ok(python)
    } else {
        Err(format!("{python} has no fbchat 1.1.3 (.ci/run installs it in a venv and sets FBCOMET_PYTHON)"))
    }
}

/// `fbcomet listen` as Bob, in `dialect`, until one message from someone
/// else; returns once Bob's first poll was answered.
fn bob_listens(server: &str, dialect: &str) -> (Running, Lines) {
    let mut bob = fbcomet()
        .args(["listen", "--server", server, "--email", "bob@example.com", "--password", "bob", "--json"])
        .args(["--dialect", dialect, "--count", "1", "--timeout", "100s", "--presence-every", "0s"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("fbcomet listen");
    let out = Lines::of(bob.stdout.take().expect("stdout"));
    let err = Lines::of(bob.stderr.take().expect("stderr"));
    err.until("Bob listening", |l| l.contains("listening as 1002"));
    (Running(bob), out)
}

fn run_fbchat(python: &str, proxy: &str, ca: &PathBuf) -> (Running, Lines) {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fbchat/chat.py");
    let mut alice = Command::new(python)
        .arg(&script)
        .args(["alice@example.com", "alice", "1002", TO_BOB])
        .env("HTTPS_PROXY", proxy)
        .env("REQUESTS_CA_BUNDLE", ca)
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("python");
    let out = Lines::of(alice.stdout.take().expect("stdout"));
    (Running(alice), out)
}

/// Alice's side up to `listen()`, checked step by step.
fn alice_until_listening(alice: &Lines) {
    let login = alice.step("logged_in");
    assert_eq!((login["uid"].as_str(), login["logged_in"].as_bool()), (Some("1001"), Some(true)), "{login}");
    let users = alice.step("users");
    assert_eq!(users["names"], serde_json::json!(["Bob Example", "Carol Example"]), "{users}");
    let sent = alice.step("sent");
    assert!(sent["mid"].as_str().is_some_and(|m| m.starts_with("mid.$")), "{sent}");
    let threads = alice.step("threads");
    assert_eq!(threads["names"], serde_json::json!(["Bob Example"]), "{threads}");
    let info = alice.step("user_info");
    assert_eq!((info["name"].as_str(), info["is_friend"].as_bool()), (Some("Bob Example"), Some(true)), "{info}");
    let history = alice.step("history");
    assert_eq!(history["texts"], serde_json::json!([TO_BOB]), "{history}");
    assert_eq!(history["authors"], serde_json::json!(["1001"]), "{history}");
    let restored = alice.step("restored");
    assert_eq!(restored["logged_in"], true, "a saved session restored without the password: {restored}");
    alice.step("listening");
}

/// Bob's side: typing, then Alice's message intact, then his reply sent
/// with `fbcomet send` in `dialect`.
fn bob_answers(bob: &Lines, server: &str, dialect: &str) {
    let typing = bob.until("typing", |l| l.contains(r#""type":"typing""#));
    assert!(typing.contains(r#""from":1001"#) && typing.contains(r#""typing":true"#), "{typing}");
    let line = bob.until("Alice's message", |l| l.contains(r#""type":"message""#) && l.contains(r#""from":1001"#));
    let message: Value = serde_json::from_str(&line).expect("json");
    assert_eq!(message["text"], TO_BOB, "{message}");
    let out = fbcomet()
        .args(["send", "--server", server, "--email", "bob@example.com", "--password", "bob"])
        .args(["--dialect", dialect, "--to", "1001", "--text", TO_ALICE])
        .output()
        .expect("fbcomet send");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn alice_receives_the_reply(alice: &Lines) {
    let got = alice.step("message");
    assert_eq!(got["author"], "1002", "{got}");
    assert_eq!(got["thread"], "1002", "{got}");
    assert_eq!(got["thread_type"], "USER", "{got}");
    assert_eq!(got["text"], TO_ALICE, "{got}");
    alice.step("done");
}

fn chat_with(dialect: &str, name: &str) {
    let python = match fbchat_python() {
        Ok(python) => python,
        Err(why) => {
            eprintln!("SKIPPED {name}: {why}");
            return;
        }
    };
    let dir = ca_dir(name);
    let (_serve, lines) = start_until(&["serve", "--hold", "5s", "--ca-dir", &dir.to_string_lossy()], "users:");
    let server = listening(&lines);
    let (_bob, bob) = bob_listens(&server, dialect);
    let (_alice, alice) = run_fbchat(&python, &server, &dir.join("ca.pem"));
    alice_until_listening(&alice);
    bob_answers(&bob, &server, dialect);
    alice_receives_the_reply(&alice);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fbchat_chats_with_a_2008_channel_user() {
    chat_with("classic", "fbchat_chats_with_a_2008_channel_user");
}

#[test]
fn fbchat_chats_with_fbcomets_own_web_dialect() {
    chat_with("web", "fbchat_chats_with_fbcomets_own_web_dialect");
}
