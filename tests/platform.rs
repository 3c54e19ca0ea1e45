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
    let dir = std::env::temp_dir().join(format!("fbcomet-platform-ca-{}", std::process::id()));
    Authority::load_or_create(&dir).expect("a CA")
}

/// A free port of 127.0.0.1, for the emulator the bot must know before it
/// starts (the bot's own port is needed for the world first).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
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
    let ca_file = std::env::temp_dir().join(format!("fbcomet-platform-ca-{}.pem", std::process::id()));
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

fn python() -> String {
    std::env::var("FBCOMET_PYTHON").unwrap_or_else(|_| "python3".to_owned())
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
