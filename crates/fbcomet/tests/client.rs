//! The client and the examples against fbcomet's replay server.

#[allow(dead_code)]
#[path = "../examples/echo_bot.rs"]
mod echo_bot;

#[allow(dead_code)]
#[path = "../examples/buddy_watch.rs"]
mod buddy_watch;

use std::time::Duration;

use fbcomet::{Client, ClientConfig, ClientEvent};
use fbcomet_mock::{Dialect, Exchange, Recording, ReplayConfig, ReplayServer, RequestSpec, ResponseSpec};

const PFID: &str = "3414c0f2db19233221ad8c2374398ed6";
const OK: &str = r#"for (;;);{"error":0,"errorSummary":"","errorDescription":"No error.","payload":[]}"#;
const NOT_LOGGED_IN: &str = r#"for (;;);{"error":1357001,"errorSummary":"Not Logged In","errorDescription":"You must be logged in to do that.","payload":null}"#;

fn bundled(name: &str) -> Recording {
    Recording::load(format!("{}/../../fixtures/sessions/{name}.json", env!("CARGO_MANIFEST_DIR"))).expect("a session")
}

fn ex(method: &str, host: &str, path: &str, form: &[(&str, &str)], body: &str) -> Exchange {
    Exchange {
        note: String::new(),
        request: RequestSpec {
            method: method.into(),
            host: Some(host.into()),
            path: path.into(),
            headers: Vec::new(),
            form: form.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect(),
        },
        response: ResponseSpec {
            status: 200,
            headers: Vec::new(),
            body: body.into(),
            hold_ms: 0,
            chunks: Vec::new(),
            fault: None,
        },
    }
}

fn www(method: &str, path: &str, form: &[(&str, &str)], body: &str) -> Exchange {
    ex(method, "www.facebook.com", path, form, body)
}

fn poll(uid: u64, seq: i64, body: &str, hold_ms: u64) -> Exchange {
    let mut exchange = ex("GET", "0.channel03.facebook.com", &format!("/x/{{ANY}}/false/p_{uid}={seq}"), &[], body);
    exchange.response.hold_ms = hold_ms;
    exchange
}

/// login.php, the post, and home.php for `uid` on channel 3.
fn login(uid: u64, email: &str, password: &str) -> Vec<Exchange> {
    let login_page = bundled("2008-login-chat").exchanges[0].response.body.clone();
    let home = format!(
        r#"<a href="http://www.facebook.com/profile.php?id={uid}" class="profile_nav_link">Profile</a><input type="hidden" id="post_form_id" name="post_form_id" value="{PFID}" /><script>new Presence("{uid}", "Me", "channel03")</script>"#
    );
    vec![
        www("GET", "/login.php", &[], &login_page),
        {
            let form = [("md5pass", "0"), ("noerror", "1"), ("email", email), ("pass", password)];
            let mut post = ex("POST", "login.facebook.com", "/login.php", &form, "");
            post.response.status = 302;
            post.response.headers = vec![
                ("Location".into(), "http://www.facebook.com/home.php".into()),
                ("Set-Cookie".into(), format!("c_user={uid}; path=/")),
            ];
            post
        },
        www("GET", "/home.php", &[], &home),
    ]
}

fn recording(exchanges: Vec<Exchange>) -> Recording {
    Recording {
        name: "client-test".into(),
        description: String::new(),
        provenance: "constructed in the test".into(),
        dialect: Dialect::Channel,
        uid: 1002,
        channel: Some(3),
        exchanges,
    }
}

fn message(id: &str, from: u64, to: u64, text: &str) -> String {
    format!(
        r#"{{"type":"msg","msg":{{"text":"{text}","time":1209557234412,"clientTime":1209557232415,"msgID":"{id}"}},"from":{from},"to":{to},"from_name":"Alice A","to_name":"Bob B","from_first_name":"Alice","to_first_name":"Bob"}}"#
    )
}

fn frame(uid: u64, events: &[String]) -> String {
    format!(r#"for (;;);{{"t":"msg","c":"p_{uid}","ms":[{}]}}"#, events.join(","))
}

fn quick(config: &mut fbcomet_receiver::Config) {
    config.backoff = fbcomet_receiver::Backoff { initial: Duration::from_millis(5), max: Duration::from_millis(50) };
}

fn config_for(server: &ReplayServer) -> ClientConfig {
    ClientConfig {
        presence_interval: None,
        retry_delay: Duration::from_millis(10),
        rng_seed: Some(3),
        tune_receiver: Some(quick),
        ..ClientConfig::new(server.url().parse().expect("url"))
    }
}

#[tokio::test]
async fn the_echo_bot_answers_a_message_with_the_same_text() {
    let mut exchanges = login(1002, "bob@example.com", "bob");
    exchanges.extend([
        poll(1002, -1, r#"for (;;);{"t":"refresh","seq":0}"#, 0),
        poll(1002, 0, &frame(1002, &[message("77", 1001, 1002, "ping & pong \\u00e9 \\ud83d\\ude00")]), 200),
        www(
            "POST",
            "/ajax/chat/send.php",
            &[
                ("msg_text", "ping & pong \u{e9} \u{1F600}"),
                ("to", "1001"),
                ("popped_out", "false"),
                ("num_tabs", "1"),
                ("post_form_id", PFID),
            ],
            OK,
        ),
    ]);
    let server = ReplayServer::start(recording(exchanges), ReplayConfig::default()).await.expect("start");
    let answered =
        tokio::time::timeout(Duration::from_secs(20), echo_bot::run(&server.url(), "bob@example.com", "bob", Some(1)))
            .await
            .expect("in time")
            .expect("the bot runs");
    assert_eq!(answered, 1);
    let report = server.shutdown().await;
    assert!(report.is_clean(), "{report}");
}

#[tokio::test]
async fn the_buddy_watcher_prints_the_list_and_the_changes() {
    let list = |online: &[&str]| {
        let now: Vec<String> = online.iter().map(|u| format!(r#""{u}":{{"i":false}}"#)).collect();
        format!(
            r#"for (;;);{{"error":0,"errorSummary":"","errorDescription":"No error.","payload":{{"time":1,"buddy_list":{{"listChanged":true,"availableCount":{},"nowAvailableList":{{{}}},"wasAvailableIDs":[],"userInfos":{{"1002":{{"name":"Bob B","firstName":"Bob","status":null}},"1003":{{"name":"Carol C","firstName":"Carol","status":null}}}},"forcedRender":true}}}}}}"#,
            online.len(),
            now.join(",")
        )
    };
    let update = [
        ("buddy_list", "1"),
        ("notifications", "0"),
        ("force_render", "true"),
        ("post_form_id", PFID),
        ("user", "1001"),
    ];
    let mut exchanges = login(1001, "alice@example.com", "alice");
    exchanges.extend([
        www("POST", "/ajax/presence/update.php", &update, &list(&["1002"])),
        www("POST", "/ajax/presence/update.php", &update, &list(&["1002"])),
        www("POST", "/ajax/presence/update.php", &update, &list(&["1003"])),
        poll(1001, -1, r#"for (;;);{"t":"refresh","seq":0}"#, 0),
        poll(1001, 0, r#"for (;;);{"t":"continue"}"#, 30_000),
    ]);
    let server = ReplayServer::start(recording(exchanges), ReplayConfig::default()).await.expect("start");
    let lines = tokio::time::timeout(
        Duration::from_secs(20),
        buddy_watch::run(&server.url(), "alice@example.com", "alice", Duration::from_millis(100), 2),
    )
    .await
    .expect("in time")
    .expect("the watcher runs");
    assert_eq!(
        lines,
        [
            "1002 Bob B (online)",
            "1003 Carol C (offline)",
            "online: [Bob B (1002)], offline: []",
            "online: [Carol C (1003)], offline: [Bob B (1002)]"
        ]
    );
    let report = server.shutdown().await;
    assert!(report.unmatched.is_empty(), "{report}");
}

#[tokio::test]
async fn an_expired_session_logs_in_again_and_the_send_goes_through() {
    let send = [
        ("msg_text", "still there?"),
        ("to", "1001"),
        ("popped_out", "false"),
        ("num_tabs", "1"),
        ("post_form_id", PFID),
    ];
    let mut exchanges = login(1002, "bob@example.com", "bob");
    exchanges.push(www("POST", "/ajax/chat/send.php", &send, NOT_LOGGED_IN));
    exchanges.extend(login(1002, "bob@example.com", "bob"));
    exchanges.push(www("POST", "/ajax/chat/send.php", &send, OK));
    let server = ReplayServer::start(recording(exchanges), ReplayConfig::default()).await.expect("start");
    let client = Client::login(config_for(&server), "bob@example.com", "bob").await.expect("login");
    client.send(1001, "still there?").await.expect("sent after logging in again");
    assert!(server.shutdown().await.is_clean());

    // A restored session has no credentials: the expiry is reported.
    let mut exchanges = login(1002, "bob@example.com", "bob");
    exchanges.push(www("POST", "/ajax/chat/send.php", &send, NOT_LOGGED_IN));
    let server = ReplayServer::start(recording(exchanges), ReplayConfig::default()).await.expect("start");
    let client = Client::login(config_for(&server), "bob@example.com", "bob").await.expect("login");
    let restored = Client::restore(config_for(&server), &client.save()).expect("restore");
    assert_eq!(restored.session(), client.session());
    let err = restored.send(1001, "still there?").await.expect_err("expired");
    assert!(err.server_error().is_some_and(|e| e.is_not_logged_in()), "{err}");
    assert!(server.shutdown().await.is_clean());
}

#[tokio::test]
async fn a_bare_refresh_is_renewed_with_reconnect_and_history() {
    let mut exchanges = login(1002, "bob@example.com", "bob");
    exchanges.extend([
        poll(1002, -1, r#"for (;;);{"t":"refresh","seq":0}"#, 0),
        poll(1002, 0, &frame(1002, &[message("1", 1001, 1002, "first")]), 50),
        poll(1002, 1, r#"for (;;);{"t":"refresh"}"#, 50),
        www(
            "GET",
            &format!("/ajax/presence/reconnect.php?reason=3&post_form_id={PFID}&__a=1"),
            &[],
            r#"for (;;);{"error":0,"errorSummary":"","errorDescription":"No error.","payload":{"host":"channel03","seq":7}}"#,
        ),
        www(
            "POST",
            "/ajax/chat/history.php",
            &[("id", "1001"), ("post_form_id", PFID)],
            &format!(
                r#"for (;;);{{"error":0,"errorSummary":"","errorDescription":"No error.","payload":{{"history":[{},{}]}}}}"#,
                message("1", 1001, 1002, "first"),
                message("2", 1001, 1002, "dropped during the refresh")
            ),
        ),
        poll(1002, 7, &frame(1002, &[message("3", 1001, 1002, "after")]), 50),
        poll(1002, 8, r#"for (;;);{"t":"continue"}"#, 30_000),
    ]);
    let server = ReplayServer::start(recording(exchanges), ReplayConfig::default()).await.expect("start");
    let client = Client::login(config_for(&server), "bob@example.com", "bob").await.expect("login");
    let mut events = client.events().expect("events");
    let mut seen = Vec::new();
    while seen.len() < 4 {
        match tokio::time::timeout(Duration::from_secs(20), events.next()).await.expect("in time") {
            Some(ClientEvent::Message { message, .. }) => seen.push(message.text.to_string()),
            Some(ClientEvent::SessionRenewed { seq, recovered }) => {
                seen.push(format!("renewed at {seq:?}, {recovered} recovered"))
            }
            Some(ClientEvent::Other(_)) => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(seen, ["first", "dropped during the refresh", "renewed at Some(7), 1 recovered", "after"]);
    drop(events);
    let report = server.shutdown().await;
    assert!(report.unmatched.is_empty(), "{report}");
}

#[tokio::test]
async fn a_wrong_password_is_a_login_error() {
    let mut exchanges = login(1002, "bob@example.com", "bob");
    let login_page = exchanges[0].response.body.clone();
    exchanges[1].request.form[3].1 = "wrong".into();
    exchanges[1].response =
        ResponseSpec { status: 200, headers: Vec::new(), body: login_page, ..exchanges[1].response.clone() };
    exchanges.truncate(2);
    let server = ReplayServer::start(recording(exchanges), ReplayConfig::default()).await.expect("start");
    let err = Client::login(config_for(&server), "bob@example.com", "wrong").await.expect_err("refused");
    assert_eq!(err.to_string(), "login failed: wrong email or password");
}

/// An embedder spawns these: they must be Send.
#[allow(dead_code, clippy::manual_async_fn)]
fn the_futures_are_send(client: Client, mut events: fbcomet::Events) {
    fn send<T: Send>(_: T) {}
    send(client.send(1, "x"));
    send(client.buddy_list());
    send(client.history(1));
    send(events.next());
    send(Client::login(ClientConfig::new("http://x".parse().expect("url")), "a", "b"));
}
