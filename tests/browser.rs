//! The chat page in a real headless Chromium, driven through WebDriver
//! (chromedriver; CI installs Debian's `chromium` and `chromium-driver`):
//! Alice logs in through the 2008 form, sees Bob online, types and writes
//! to him (Bob is fbcomet's 2008 client), sees his typing and his answer,
//! reloads and finds the conversation; Carol, in a second browser that
//! goes through the emulator as its proxy to https://www.facebook.com,
//! chats with her. No script errors and nothing in either browser's
//! console; then every message through injected faults. Screenshots go to
//! `target/screenshots/`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client as Browser, ClientBuilder, Locator};
use fbcomet::{Client, ClientConfig, ClientEvent, Dialect, Events};
use fbcomet_mock::{EmulatorConfig, EmulatorServer, RandomFaults, World};
use serde_json::json;
use tokio::time::timeout;

const ALICE: u64 = 1001;
const BOB: u64 = 1002;

struct Driver(Child, u16);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn find(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?.to_str()?.split(':').map(|d| PathBuf::from(d).join(program)).find(|p| p.is_file())
}

/// chromedriver on a free port, with the browser it drives; `None` (and a
/// loud SKIPPED) when either is missing.
fn driver(test: &str) -> Option<(Driver, PathBuf)> {
    let browser = ["chromium", "chromium-browser", "google-chrome"].iter().find_map(|b| find(b));
    let (Some(chromedriver), Some(browser)) = (find("chromedriver"), browser) else {
        eprintln!(
            "SKIPPED {test}: chromium and chromedriver are not installed (.ci/run installs chromium and chromium-driver)"
        );
        return None;
    };
    let port = fbcomet_e2e::free_port();
    let child = Command::new(chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver");
    Some((Driver(child, port), browser))
}

/// A browser session; `proxy`, when given, is the HTTP proxy it goes
/// through (for the real host names).
async fn browser(driver: &Driver, binary: &PathBuf, proxy: Option<&str>) -> Browser {
    let mut args = vec![
        "--headless=new".to_owned(),
        "--no-sandbox".to_owned(),
        "--disable-gpu".to_owned(),
        "--disable-dev-shm-usage".to_owned(),
        "--window-size=1100,760".to_owned(),
        "--no-first-run".to_owned(),
        "--no-default-browser-check".to_owned(),
    ];
    if let Some(proxy) = proxy {
        args.push(format!("--proxy-server={proxy}"));
        // facebook.com is on the browser's HSTS list: it goes over https,
        // with certificates from the emulator's CA, which this throwaway
        // profile is told to accept rather than having it installed.
        args.push("--ignore-certificate-errors".to_owned());
    }
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), json!("chrome"));
    caps.insert("goog:chromeOptions".into(), json!({ "binary": binary, "args": args }));
    caps.insert("goog:loggingPrefs".into(), json!({ "browser": "ALL" }));
    let url = format!("http://127.0.0.1:{}", driver.1);
    for _ in 0..100 {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        if let Ok(client) = ClientBuilder::new(connector).capabilities(caps.clone()).connect(&url).await {
            return client;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start a session");
}

fn screenshots() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"), PathBuf::from);
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir).expect("target/screenshots");
    dir
}

async fn screenshot(page: &Browser, name: &str) {
    let png = page.screenshot().await.expect("a screenshot");
    std::fs::write(screenshots().join(format!("{name}.png")), png).expect("saved");
}

/// Logs `who` in through the 2008 form of `url`, to the chat page.
async fn log_in(page: &Browser, url: &str, who: &str) {
    page.goto(&format!("{url}/")).await.expect("the login page");
    page.find(Locator::Css("input[name=email]"))
        .await
        .expect("email")
        .send_keys(&format!("{who}@example.com"))
        .await
        .expect("typed");
    page.find(Locator::Css("input[name=pass]")).await.expect("pass").send_keys(who).await.expect("typed");
    page.find(Locator::Css("#login")).await.expect("the button").click().await.expect("clicked");
    page.wait().for_element(Locator::Css("#chat_button")).await.expect("the chat page");
}

/// Waits until `script` (a JavaScript expression) is true in `page`.
async fn until(page: &Browser, what: &str, script: &str) {
    let check = format!("return !!({script});");
    let result = timeout(Duration::from_secs(20), async {
        loop {
            if page.execute(&check, vec![]).await.ok().and_then(|v| v.as_bool()) == Some(true) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    if result.is_err() {
        let wire = page.execute("return document.getElementById('wire').innerText.slice(0, 3000)", vec![]).await;
        panic!("{what}: not in time; the wire: {wire:?}");
    }
}

/// Opens the chat window with `uid` from the buddy list (once online).
async fn open_chat(page: &Browser, uid: u64) {
    until(page, "the buddy list", "document.getElementById('chat_button')").await;
    page.execute("document.getElementById('buddy_list').classList.add('open')", vec![]).await.expect("open list");
    until(
        page,
        &format!("{uid} online"),
        &format!("document.querySelector('#buddy_list li.online[data-uid=\"{uid}\"]')"),
    )
    .await;
    page.find(Locator::Css(&format!("#buddy_list li[data-uid=\"{uid}\"]")))
        .await
        .expect("the buddy")
        .click()
        .await
        .expect("clicked");
    until(page, "the window", &format!("document.querySelector('.chat_window.open[data-uid=\"{uid}\"]')")).await;
}

/// Writes `text` in the window with `uid` and sends it with Enter. Text
/// beyond the BMP (emoji) cannot be typed through chromedriver, so the
/// text is set as the input's value and Enter is a real key press.
async fn write(page: &Browser, uid: u64, text: &str) {
    let input = page.find(Locator::Css(&format!(".chat_window[data-uid=\"{uid}\"] textarea"))).await.expect("input");
    input.send_keys("x").await.expect("a key");
    page.execute(
        &format!("document.querySelector('.chat_window[data-uid=\"{uid}\"] textarea').value = arguments[0];"),
        vec![json!(text)],
    )
    .await
    .expect("the text");
    input.send_keys("\u{E007}").await.expect("Enter");
}

fn messages_of(uid: u64) -> String {
    format!(
        "Array.from(document.querySelectorAll('.chat_window[data-uid=\"{uid}\"] .message .text')).map(e => e.textContent)"
    )
}

/// The browser's console log (chromedriver's `se/log`).
#[derive(Debug)]
struct ConsoleLog;

impl fantoccini::wd::WebDriverCompatibleCommand for ConsoleLog {
    fn endpoint(&self, base: &url::Url, session: Option<&str>) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (hyper::Method, Option<String>) {
        (hyper::Method::POST, Some(r#"{"type":"browser"}"#.to_owned()))
    }
}

/// No script errors in the page; with `console`, nothing logged as an
/// error in the browser's console either (with injected faults, failed
/// requests are logged there by the browser itself, and only script
/// errors count).
async fn no_errors(page: &Browser, who: &str, console: bool) {
    let errors = page.execute("return window.__fbcometErrors || ['no error hook']", vec![]).await.expect("errors");
    assert_eq!(errors, json!([]), "{who}'s page had errors");
    if console {
        let log = page.issue_cmd(ConsoleLog).await.expect("the console log");
        let severe: Vec<&serde_json::Value> =
            log.as_array().into_iter().flatten().filter(|entry| entry["level"] == "SEVERE").collect();
        assert!(severe.is_empty(), "{who}'s console had errors: {severe:?}");
    }
}

fn config(server: &EmulatorServer) -> ClientConfig {
    ClientConfig { presence_interval: None, ..ClientConfig::new(server.url().parse().expect("url")) }
        .with_dialect(Dialect::Classic)
}

async fn next_from(events: &mut Events, from: u64) -> ClientEvent {
    loop {
        match timeout(Duration::from_secs(20), events.next()).await.expect("in time") {
            Some(event @ ClientEvent::Message { .. }) if matches!(&event, ClientEvent::Message { message, .. } if message.from == from) =>
            {
                return event;
            }
            Some(event @ ClientEvent::Typing { from: f, .. }) if f == from => return event,
            Some(_) => {}
            None => panic!("ended"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alice_chats_in_the_browser_with_bob_and_carol() {
    let Some((driver, binary)) = driver("alice_chats_in_the_browser_with_bob_and_carol") else { return };
    // CONNECT is served as https with the test's CA (for Carol's proxy).
    let ca = fbcomet_e2e::test_ca(env!("CARGO_TARGET_TMPDIR"), "browser");
    let tls = fbcomet_mock::ServerConfig { tls: Some(ca.server_config()), ..Default::default() };
    let addr = "127.0.0.1:0".parse().expect("addr");
    let server = EmulatorServer::bind(addr, &World::default(), EmulatorConfig::with_hold(Duration::from_secs(5)), tls)
        .await
        .expect("emulator");
    let url = server.url();
    let alice = browser(&driver, &binary, None).await;
    log_in(&alice, &url, "alice").await;

    let bob = Client::login(config(&server), "bob@example.com", "bob").await.expect("bob");
    let mut bob_events = bob.events().expect("events");
    assert!(bob_events.ready().await);
    open_chat(&alice, BOB).await;

    // Typing crosses, then the message, intact.
    let to_bob = "h\u{e9}llo Bob & <b>\"q\"</b> </script> %2B \u{2603} \u{1F600}";
    write(&alice, BOB, to_bob).await;
    assert!(matches!(next_from(&mut bob_events, ALICE).await, ClientEvent::Typing { typing: true, .. }));
    let got = loop {
        if let ClientEvent::Message { message, .. } = next_from(&mut bob_events, ALICE).await {
            break message;
        }
    };
    assert_eq!(got.text, to_bob);

    // Bob types, and answers.
    bob.typing(ALICE, true).await.expect("typing");
    until(&alice, "Bob's typing", "document.querySelector('.chat_window[data-uid=\"1002\"][data-typing=\"1\"]')").await;
    let to_alice = "\u{e9}t\u{e9} <img src=x onerror=alert(1)> & \u{1F389}";
    bob.send(ALICE, to_alice).await.expect("send");
    until(&alice, "Bob's answer", &format!("{}.includes({})", messages_of(BOB), json!(to_alice))).await;
    screenshot(&alice, "alice-chats-with-bob").await;
    assert_eq!(
        alice.execute("return document.querySelectorAll('img').length", vec![]).await.expect("count"),
        json!(0),
        "text from the network is text, not markup"
    );

    // A reload keeps the conversation.
    alice.refresh().await.expect("reload");
    until(
        &alice,
        "the conversation after a reload",
        &format!("JSON.stringify({}) === {}", messages_of(BOB), json!(json!([to_bob, to_alice]).to_string())),
    )
    .await;

    // Carol, in a second browser, through fbcomet as her proxy to the real
    // host name: the page works on either origin.
    let carol = browser(&driver, &binary, Some(&url)).await;
    log_in(&carol, "https://www.facebook.com", "carol").await;
    open_chat(&carol, ALICE).await;
    write(&carol, ALICE, "hi Alice, Carol here \u{1F44B}").await;
    until(&alice, "Carol's message, unread", "document.querySelector('.tab[data-uid=\"1003\"][data-unread=\"1\"]')")
        .await;
    alice.find(Locator::Css(".tab[data-uid=\"1003\"]")).await.expect("Carol's tab").click().await.expect("opened");
    until(&alice, "Carol's message", &format!("{}.includes('hi Alice, Carol here \u{1F44B}')", messages_of(1003)))
        .await;
    write(&alice, 1003, "hello Carol").await;
    until(&carol, "Alice's answer", &format!("{}.includes('hello Carol')", messages_of(ALICE))).await;
    screenshot(&alice, "alice-with-two-windows").await;
    screenshot(&carol, "carol").await;

    // The wire panel and the service page.
    alice.find(Locator::Css("#wire_button")).await.expect("wire").click().await.expect("opened");
    until(&alice, "the wire", "document.querySelectorAll('#wire li').length > 5").await;
    screenshot(&alice, "alice-wire").await;
    alice.goto(&format!("{url}/fbcomet/")).await.expect("the service page");
    until(&alice, "the service page", "document.querySelectorAll('#users tbody tr').length === 3").await;
    screenshot(&alice, "service").await;

    no_errors(&alice, "Alice", true).await;
    no_errors(&carol, "Carol", true).await;
    alice.close().await.expect("close");
    carol.close().await.expect("close");
    drop(bob_events);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_gets_every_message_through_injected_faults() {
    let Some((driver, binary)) = driver("the_page_gets_every_message_through_injected_faults") else { return };
    let faults = RandomFaults::new(0.3, 11);
    let config_with_faults =
        EmulatorConfig { faults: Some(faults), ..EmulatorConfig::with_hold(Duration::from_secs(2)) };
    let server = EmulatorServer::start(&World::default(), config_with_faults).await.expect("emulator");
    let alice = browser(&driver, &binary, None).await;
    log_in(&alice, &server.url(), "alice").await;
    let bob = Client::login(config(&server), "bob@example.com", "bob").await.expect("bob");
    let mut bob_events = bob.events().expect("events");
    assert!(bob_events.ready().await);
    open_chat(&alice, BOB).await;
    let sent: Vec<String> = (1..=8).map(|n| format!("message {n} \u{2603}")).collect();
    for text in &sent {
        bob.send(ALICE, text).await.expect("send");
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    until(
        &alice,
        "all of Bob's messages",
        &format!("JSON.stringify({}) === {}", messages_of(BOB), json!(json!(sent).to_string())),
    )
    .await;
    assert!(server.emulator().stats().faults > 0, "faults were injected");
    no_errors(&alice, "Alice", false).await;
    alice.close().await.expect("close");
    drop(bob_events);
    server.shutdown().await;
}
