//! The Messenger Platform: page bots run unchanged against the emulator.
//! A Flask bot in the 2016 tutorials' style (CI installs Flask and
//! requests in a venv, `FBCOMET_PYTHON`) and fbcomet's Rust example bot
//! each get verified, get the messages of a 2008 channel user and of a
//! web-era `/pull` user, and answer through the Send API on
//! graph.facebook.com (HTTPS through the emulator as their proxy); a wrong
//! verify token is refused. Then bots that fail in every way, and Send API
//! calls that are wrong in every way.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use fbcomet::{Client, ClientConfig, ClientEvent, Dialect, Events};
use fbcomet_e2e::{free_port, python};
use fbcomet_mock::tls::Authority;
use fbcomet_mock::{EmulatorConfig, EmulatorServer, HookState, Page, ServerConfig, World};
use tokio::time::timeout;

const PAGE: u64 = 2001;
const WRONG_TOKEN_PAGE: u64 = 2002;

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn authority() -> Arc<Authority> {
    fbcomet_e2e::test_ca(env!("CARGO_TARGET_TMPDIR"), "platform")
}

fn page(id: u64, name: &str, token: &str, webhook: &str, verify: &str) -> Page {
    Page {
        id,
        name: name.to_owned(),
        access_token: token.to_owned(),
        webhook: Some(webhook.to_owned()),
        verify_token: Some(verify.to_owned()),
        app_secret: Some("SECRET".to_owned()),
    }
}

/// Starts a bot with `command`, its environment pointing at the emulator
/// on `port`; returns it with the port it listens on.
fn start_bot(mut command: Command, proxy_port: u16, ca: &Authority) -> (Running, u16) {
    let ca_file = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("fbcomet-platform-ca-{}.pem", std::process::id()));
    std::fs::write(&ca_file, ca.ca_pem()).expect("the CA file");
    let mut child = command
        .env("HTTPS_PROXY", format!("http://127.0.0.1:{proxy_port}"))
        .env("REQUESTS_CA_BUNDLE", &ca_file)
        .env("PAGE_ACCESS_TOKEN", "PAGE_TOKEN")
        .env("VERIFY_TOKEN", "VERIFY")
        .env("APP_SECRET", "SECRET")
        .env("PORT", "0")
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the bot");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    out.read_line(&mut line).expect("a line");
    let port = line.trim().strip_prefix("listening on ").and_then(|p| p.parse().ok());
    let port = port.unwrap_or_else(|| panic!("the bot said {line:?}"));
    std::thread::spawn(move || {
        for line in out.lines().map_while(Result::ok) {
            eprintln!("bot: {line}");
        }
    });
    (Running(child), port)
}

async fn emulator(port: u16, bot_port: u16, ca: &Arc<Authority>) -> EmulatorServer {
    let webhook = format!("http://127.0.0.1:{bot_port}/");
    let world = World {
        pages: vec![
            page(PAGE, "Roger Bot", "PAGE_TOKEN", &webhook, "VERIFY"),
            page(WRONG_TOKEN_PAGE, "Misconfigured Bot", "OTHER_TOKEN", &webhook, "NOT THE TOKEN"),
        ],
        ..World::default()
    };
    let config = ServerConfig { tls: Some(ca.server_config()), ..ServerConfig::default() };
    let addr = format!("127.0.0.1:{port}").parse().expect("addr");
    EmulatorServer::bind(addr, &world, EmulatorConfig::with_hold(Duration::from_secs(2)), config)
        .await
        .expect("the emulator")
}

/// Waits until page `id`'s webhook state satisfies `ok`.
async fn hook_state(server: &EmulatorServer, id: u64, ok: impl Fn(&HookState) -> bool) -> HookState {
    let hook = server.emulator().page_hooks().iter().find(|h| h.page.id == id).expect("the page's hook");
    let mut state = hook.state();
    let found = timeout(Duration::from_secs(30), async { state.wait_for(|s| ok(s)).await.map(|s| s.clone()) }).await;
    match found {
        Ok(found) => found.expect("the hook's task runs"),
        Err(_) => panic!("page {id}: still {:?}", *hook.state().borrow()),
    }
}

fn client_config(server: &EmulatorServer, dialect: Dialect) -> ClientConfig {
    ClientConfig { presence_interval: None, ..ClientConfig::new(server.url().parse().expect("url")) }
        .with_dialect(dialect)
}

/// The page's reply (and its typing first) on `events`.
async fn reply_from_page(events: &mut Events) -> (bool, String, Option<String>) {
    let mut typed = false;
    loop {
        match timeout(Duration::from_secs(15), events.next()).await.expect("the page's answer in time") {
            Some(ClientEvent::Typing { from: PAGE, typing: true, .. }) => typed = true,
            Some(ClientEvent::Message { message, own_echo: false }) if message.from == PAGE => {
                return (typed, message.text.to_string(), message.from_name.as_deref().map(str::to_owned));
            }
            Some(_) => {}
            None => panic!("the stream ended"),
        }
    }
}

/// The whole scenario against a bot started by `command`.
async fn bot_chats_with_users_of_two_doors(command: Command) {
    let ca = authority();
    let port = free_port();
    let (_bot, bot_port) = start_bot(command, port, &ca);
    let server = emulator(port, bot_port, &ca).await;
    assert_eq!(hook_state(&server, PAGE, |s| *s == HookState::Subscribed).await, HookState::Subscribed);
    let refused = hook_state(&server, WRONG_TOKEN_PAGE, |s| matches!(s, HookState::VerifyFailed { .. })).await;
    assert!(refused.to_string().contains("HTTP 403"), "a wrong verify token is refused: {refused}");

    for (who, dialect) in [("alice", Dialect::Classic), ("bob", Dialect::Web)] {
        let client =
            Client::login(client_config(&server, dialect), &format!("{who}@example.com"), who).await.expect("login");
        let mut events = client.events().expect("events");
        assert!(events.ready().await);
        let text = format!("hi Roger, {who} here: & <b> \"q\" \u{2603} \u{1F600}");
        client.send(PAGE, &text).await.expect("a message to the page");
        let (typed, reply, name) = reply_from_page(&mut events).await;
        assert_eq!(reply, format!("You said: {text}"), "{who} ({dialect:?})");
        assert!(typed, "typing_on shows as typing ({who})");
        if dialect == Dialect::Classic {
            assert_eq!(name.as_deref(), Some("Roger Bot"));
        }
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flask_bot_runs_unchanged() {
    let python = python();
    let has_flask = Command::new(&python)
        .args(["-c", "import flask, requests"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !has_flask {
        eprintln!(
            "SKIPPED a_flask_bot_runs_unchanged: {python} has no flask and requests (.ci/run installs them in a venv and sets FBCOMET_PYTHON)"
        );
        return;
    }
    let mut command = Command::new(python);
    command.arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/platform/serve_bot.py"));
    bot_chats_with_users_of_two_doors(command).await;
}

/// fbcomet-platform's example bot, built by `cargo test --workspace`
/// beside the test binaries.
fn example_bot() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let bot = exe.parent()?.parent()?.join("examples").join(format!("page_bot{}", std::env::consts::EXE_SUFFIX));
    bot.exists().then_some(bot)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rust_example_bot_passes_the_same_test() {
    let bot = example_bot().unwrap_or_else(|| {
        // Built with the workspace's tests; alone, build it now.
        let status = Command::new(env!("CARGO"))
            .args(["build", "-q", "-p", "fbcomet-platform", "--example", "page_bot"])
            .status()
            .expect("cargo");
        assert!(status.success(), "the example bot builds");
        example_bot().expect("the example bot")
    });
    bot_chats_with_users_of_two_doors(Command::new(bot)).await;
}

/// How a raw test bot answers the `n`th post it gets (from 0).
#[derive(Clone, Copy)]
enum Misbehaviour {
    /// 500 to the first two tries of each message, then take it.
    Flaky,
    /// Bytes that are not HTTP, then close.
    Garbage,
    /// Never answer.
    Silent,
}

/// A bot that answers verification right and posts as `how` says; the
/// messages it takes are sent on `taken` (their text and sender).
async fn raw_bot(
    listener: tokio::net::TcpListener,
    how: Misbehaviour,
    taken: tokio::sync::mpsc::UnboundedSender<(String, String)>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let tries = Arc::new(std::sync::Mutex::new(std::collections::HashMap::<String, u32>::new()));
    loop {
        let Ok((mut tcp, _)) = listener.accept().await else { return };
        let (taken, tries) = (taken.clone(), tries.clone());
        tokio::spawn(async move {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let (head, body) = loop {
                let Ok(n) = tcp.read(&mut chunk).await else { return };
                if n == 0 {
                    return;
                }
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).into_owned();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let length = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned())
                        })
                        .and_then(|v| v.parse::<usize>().ok())
                        .unwrap_or(0);
                    if body.len() >= length {
                        break (head.to_owned(), body.to_owned());
                    }
                }
            };
            let answer = |status: &str, body: &str| {
                format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len())
            };
            if head.starts_with("GET") {
                let challenge = head.split("hub.challenge=").nth(1).and_then(|r| r.split([' ', '&']).next());
                let _ = tcp.write_all(answer("200 OK", challenge.unwrap_or_default()).as_bytes()).await;
                return;
            }
            let payload: fbcomet_platform::WebhookPayload = serde_json::from_str(&body).expect("a webhook payload");
            let event = payload.events().next().cloned().expect("an event");
            let Some(message) = event.message else {
                let _ = tcp.write_all(answer("200 OK", "ok").as_bytes()).await;
                return;
            };
            match how {
                Misbehaviour::Flaky => {
                    let n = {
                        let mut tries = tries.lock().expect("tries");
                        let n = tries.entry(message.mid.clone()).or_default();
                        *n += 1;
                        *n
                    };
                    if n <= 2 {
                        let _ = tcp.write_all(answer("500 Internal Server Error", "oops").as_bytes()).await;
                        return;
                    }
                }
                Misbehaviour::Garbage => {
                    let _ = tcp.write_all(b"\x00\x01 NOT HTTP AT ALL\r\n\r\n").await;
                    return;
                }
                Misbehaviour::Silent => {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    return;
                }
            }
            let _ = taken.send((message.text.unwrap_or_default(), event.sender.id));
            let _ = tcp.write_all(answer("200 OK", "EVENT_RECEIVED").as_bytes()).await;
        });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bots_that_fail_hold_up_nothing_else_and_lose_nothing() {
    use tokio::net::TcpListener;
    let (flaky, garbage, silent, down) = (3001, 3002, 3003, 3004);
    let bind = || async { TcpListener::bind("127.0.0.1:0").await.expect("bind") };
    let (flaky_l, garbage_l, silent_l) = (bind().await, bind().await, bind().await);
    let down_port = free_port();
    let url = |l: &TcpListener| format!("http://{}/", l.local_addr().expect("addr"));
    let plain = |id, webhook: String| Page {
        id,
        name: format!("Bot {id}"),
        access_token: format!("TOKEN{id}"),
        webhook: Some(webhook),
        verify_token: Some("VERIFY".into()),
        app_secret: None,
    };
    let world = World {
        pages: vec![
            plain(flaky, url(&flaky_l)),
            plain(garbage, url(&garbage_l)),
            plain(silent, url(&silent_l)),
            plain(down, format!("http://127.0.0.1:{down_port}/")),
        ],
        ..World::default()
    };
    let (tx, mut flaky_taken) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(raw_bot(flaky_l, Misbehaviour::Flaky, tx));
    let (tx, _garbage_taken) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(raw_bot(garbage_l, Misbehaviour::Garbage, tx));
    let (tx, _silent_taken) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(raw_bot(silent_l, Misbehaviour::Silent, tx));
    let server = EmulatorServer::start(&world, EmulatorConfig::with_hold(Duration::from_secs(2))).await.expect("start");

    let alice =
        Client::login(client_config(&server, Dialect::Classic), "alice@example.com", "alice").await.expect("alice");
    let bob = Client::login(client_config(&server, Dialect::Web), "bob@example.com", "bob").await.expect("bob");
    let mut bob_events = bob.events().expect("events");
    assert!(bob_events.ready().await);
    for page in [garbage, silent, down] {
        alice.send(page, "are you there?").await.expect("taken by the service");
    }
    for n in 1..=3 {
        alice.send(flaky, &format!("flaky {n}")).await.expect("send");
    }
    // Chat between users goes on meanwhile.
    alice.send(1002, "hello Bob").await.expect("send");
    loop {
        match timeout(Duration::from_secs(10), bob_events.next()).await.expect("Bob's message") {
            Some(ClientEvent::Message { message, .. }) if message.text == "hello Bob" => break,
            Some(_) => {}
            None => panic!("ended"),
        }
    }
    // The flaky bot gets each message once, in order, after its failures.
    let mut got = Vec::new();
    while got.len() < 3 {
        let (text, _) = timeout(Duration::from_secs(30), flaky_taken.recv()).await.expect("in time").expect("open");
        got.push(text);
    }
    assert_eq!(got, ["flaky 1", "flaky 2", "flaky 3"]);
    // The bot that was down comes up: what waited is delivered.
    let down_l = TcpListener::bind(("127.0.0.1", down_port)).await.expect("the port again");
    let (tx, mut down_taken) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(raw_bot(down_l, Misbehaviour::Flaky, tx));
    server.emulator().verify_page(down);
    let (text, _) =
        timeout(Duration::from_secs(40), down_taken.recv()).await.expect("delivered once up").expect("open");
    assert_eq!(text, "are you there?");
    // The garbage bot's post is being retried (the silent bot's is still
    // waiting for its answer, for up to 20 s).
    let hook = server.emulator().page_hooks().iter().find(|h| h.page.id == garbage).expect("hook");
    assert!(matches!(*hook.state().borrow(), HookState::Retrying { .. }), "{:?}", *hook.state().borrow());
    assert!(flaky_taken.try_recv().is_err(), "nothing twice");
    server.shutdown().await;
}

#[tokio::test]
async fn wrong_send_api_calls_get_graph_errors_never_a_500() {
    let world = World {
        pages: vec![Page {
            id: PAGE,
            name: "Roger Bot".into(),
            access_token: "PAGE_TOKEN".into(),
            webhook: None,
            verify_token: None,
            app_secret: None,
        }],
        ..World::default()
    };
    let server = EmulatorServer::start(&world, EmulatorConfig::default()).await.expect("start");
    let alice =
        Client::login(client_config(&server, Dialect::Classic), "alice@example.com", "alice").await.expect("alice");
    let mut events = alice.events().expect("events");
    assert!(events.ready().await);
    alice.send(PAGE, "hello page").await.expect("to the page");
    let psid = fbcomet_mock::page_scoped_id(1001, PAGE).to_string();
    let carol_psid = fbcomet_mock::page_scoped_id(1003, PAGE).to_string();
    let http = fbcomet_http::HttpClient::new(fbcomet_http::HttpConfig::default());
    let base = server.url();
    let call = |path: &str, content_type: &str, body: String, headers: Vec<(&'static str, String)>| {
        let url: url::Url = format!("{base}{path}").parse().expect("url");
        let http = http.clone();
        let content_type = content_type.to_owned();
        async move {
            let response = http.post(&url, &content_type, body, &headers).await.expect("an answer");
            (response.status, serde_json::from_slice::<serde_json::Value>(&response.body).unwrap_or_default())
        }
    };
    let text =
        |to: &str, text: &str| serde_json::json!({"recipient": {"id": to}, "message": {"text": text}}).to_string();
    let json = "application/json";
    let cases = vec![
        ("/v2.6/me/messages?access_token=WRONG", text(&psid, "hi"), vec![], 190),
        ("/v2.6/me/messages", text(&psid, "hi"), vec![], 2500),
        ("/v2.6/me/messages?access_token=PAGE_TOKEN", text("123", "hi"), vec![], 100),
        ("/v2.6/me/messages?access_token=PAGE_TOKEN", text(&carol_psid, "never wrote"), vec![], 100),
        ("/v2.6/me/messages?access_token=PAGE_TOKEN", "{not json".to_owned(), vec![], 100),
        ("/v2.6/me/messages?access_token=PAGE_TOKEN", text(&psid, &"x".repeat(1_000_000)), vec![], 100),
        ("/v2.6/me/messages?access_token=PAGE_TOKEN", text(&psid, ""), vec![], 100),
        ("/v9.0/me/messages?access_token=PAGE_TOKEN", text(&psid, "hi"), vec![], 2500),
        (
            "/v2.6/me/messages?access_token=PAGE_TOKEN",
            serde_json::json!({"recipient": {"id": psid}, "sender_action": "dance"}).to_string(),
            vec![],
            100,
        ),
        (
            "/v2.6/me/messages?access_token=PAGE_TOKEN",
            serde_json::json!({"recipient": {"id": psid}, "message": {"text": "q", "quick_replies":
                (0..14).map(|i| serde_json::json!({"content_type": "text", "title": format!("{i}"), "payload": "P"})).collect::<Vec<_>>()}}).to_string(),
            vec![],
            100,
        ),
    ];
    for (path, body, headers, code) in cases {
        let (status, answer) = call(path, json, body, headers).await;
        assert_eq!(status, 400, "{path}: {answer}");
        assert_eq!(answer["error"]["code"], code, "{path}: {answer}");
        assert!(answer["error"]["fbtrace_id"].as_str().is_some_and(|t| !t.is_empty()), "{answer}");
    }
    // A GET is refused as Graph refused it.
    let url: url::Url = format!("{base}/v2.6/me/messages?access_token=PAGE_TOKEN").parse().expect("url");
    let response = http.get(&url).await.expect("answer");
    assert_eq!(response.status, 400);
    // What is right goes through: a bearer token, a form-encoded body,
    // quick replies, typing.
    let bearer = vec![("authorization", "Bearer PAGE_TOKEN".to_owned())];
    let (status, answer) = call("/me/messages", json, text(&psid, "by bearer"), bearer).await;
    assert_eq!((status, answer["recipient_id"].as_str()), (200, Some(psid.as_str())), "{answer}");
    assert!(answer["message_id"].as_str().is_some_and(|m| m.starts_with("mid.$")), "{answer}");
    let form = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("access_token", "PAGE_TOKEN")
        .append_pair("recipient", &serde_json::json!({"id": psid}).to_string())
        .append_pair(
            "message",
            &serde_json::json!({"text": "by form", "quick_replies": [
            {"content_type": "text", "title": "Yes", "payload": "YES"}, {"content_type": "location"}]})
            .to_string(),
        )
        .finish();
    let (status, answer) = call("/v3.3/me/messages", "application/x-www-form-urlencoded", form, vec![]).await;
    assert_eq!(status, 200, "{answer}");
    let action = serde_json::json!({"recipient": {"id": psid}, "sender_action": "typing_on"}).to_string();
    let (status, _) = call("/v2.11/me/messages?access_token=PAGE_TOKEN", json, action, vec![]).await;
    assert_eq!(status, 200);
    let mut seen = Vec::new();
    while seen.len() < 3 {
        match timeout(Duration::from_secs(10), events.next()).await.expect("in time") {
            Some(ClientEvent::Message { message, own_echo: false }) => seen.push(message.text.to_string()),
            Some(ClientEvent::Typing { from: PAGE, typing: true, .. }) => seen.push("(typing)".to_owned()),
            Some(_) => {}
            None => panic!("ended"),
        }
    }
    assert_eq!(seen, ["by bearer", "by form", "(typing)"]);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_and_deliveries_reach_the_webhook_signed() {
    use fbcomet_platform::bot::{WebhookConfig, serve_webhook};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let webhook = format!("http://{}/", listener.local_addr().expect("addr"));
    let (tx, mut got) = tokio::sync::mpsc::unbounded_channel();
    // The library's webhook server checks every post's signature.
    let config = WebhookConfig { verify_token: "VERIFY".into(), app_secret: Some("SECRET".into()) };
    tokio::spawn(serve_webhook(listener, config, move |event| {
        let tx = tx.clone();
        async move {
            let _ = tx.send(event);
        }
    }));
    let world = World { pages: vec![page(PAGE, "Roger Bot", "PAGE_TOKEN", &webhook, "VERIFY")], ..World::default() };
    let server = EmulatorServer::start(&world, EmulatorConfig::default()).await.expect("start");
    hook_state(&server, PAGE, |s| *s == HookState::Subscribed).await;
    let bob = Client::login(client_config(&server, Dialect::Web), "bob@example.com", "bob").await.expect("bob");
    bob.send(PAGE, "first").await.expect("send");
    let token = bob.session().post_form_id;
    for (path, field) in [
        ("/ajax/mercury/delivery_receipts.php", format!("thread_ids[{PAGE}][0]")),
        ("/ajax/mercury/change_read_status.php", format!("ids[{PAGE}]")),
    ] {
        let url = format!("{}{path}", server.url()).parse().expect("url");
        let form = [(field.as_str(), "true".to_owned()), ("fb_dtsg", token.clone())];
        let answer = bob.sender().http().post_form(&url, &form).await.expect("an answer").text();
        assert!(!answer.contains("\"error\""), "{answer}");
    }
    let psid = fbcomet_mock::page_scoped_id(1002, PAGE).to_string();
    let mut kinds = Vec::new();
    while kinds.len() < 3 {
        let event = timeout(Duration::from_secs(10), got.recv()).await.expect("in time").expect("open");
        assert_eq!((event.sender.id.as_str(), event.recipient.id.as_str()), (psid.as_str(), "2001"));
        kinds.push(match (&event.message, &event.delivery, &event.read) {
            (Some(m), _, _) => format!("message {}", m.text.as_deref().unwrap_or_default()),
            (_, Some(_), _) => "delivery".to_owned(),
            (_, _, Some(_)) => "read".to_owned(),
            _ => "other".to_owned(),
        });
    }
    assert_eq!(kinds, ["message first", "delivery", "read"]);
    server.shutdown().await;
}
