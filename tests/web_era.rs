//! The web era's front door and fbcomet's web dialect, in process: a web
//! client and a 2008 client chat through one service; the web dialect's
//! history (the graphqlbatch thread query) recovers a gap; a stale
//! `fb_dtsg` is 1357004 and the client logs in again.

use std::time::Duration;

use fbcomet::{Client, ClientConfig, ClientEvent, Dialect, Events};
use fbcomet_chat::ChatConfig;
use fbcomet_e2e::next_event;
use fbcomet_mock::{EmulatorConfig, EmulatorServer, World};
use tokio::time::timeout;

const ALICE: u64 = 1001;
const BOB: u64 = 1002;

fn quick(c: &mut fbcomet_receiver::Config) {
    c.backoff = fbcomet_receiver::Backoff { initial: Duration::from_millis(5), max: Duration::from_millis(50) };
}

fn config(server: &EmulatorServer, dialect: Dialect) -> ClientConfig {
    ClientConfig {
        presence_interval: None,
        retry_delay: Duration::from_millis(10),
        tune_receiver: Some(quick),
        ..ClientConfig::new(server.url().parse().expect("url"))
    }
    .with_dialect(dialect)
}

async fn login(server: &EmulatorServer, name: &str, dialect: Dialect) -> Client {
    Client::login(config(server, dialect), &format!("{name}@example.com"), name).await.expect("login")
}

async fn ready(client: &Client) -> Events {
    let mut events = client.events().expect("events");
    assert!(timeout(Duration::from_secs(5), events.ready()).await.expect("ready in time"));
    events
}

async fn next_message(events: &mut Events) -> (String, u64, u64, bool, Option<String>) {
    loop {
        if let ClientEvent::Message { message, own_echo } = next_event(events).await {
            let name = message.from_name.as_deref().map(str::to_owned);
            return (message.text.to_string(), message.from, message.to, own_echo, name);
        }
    }
}

#[tokio::test]
async fn a_web_client_and_a_2008_client_chat_and_type_through_one_service() {
    let server = EmulatorServer::start(&World::default(), EmulatorConfig::with_hold(Duration::from_secs(2)))
        .await
        .expect("start");
    let alice = login(&server, "alice", Dialect::Web).await;
    let bob = login(&server, "bob", Dialect::Classic).await;
    assert!(alice.session().fb_dtsg.is_some(), "the web login read fb_dtsg");
    let mut alice_events = ready(&alice).await;
    let mut bob_events = ready(&bob).await;

    let text = "from the web: & <b> \"q\" \u{2603} \u{1F600}";
    alice.typing(BOB, true).await.expect("typing");
    assert!(matches!(next_event(&mut bob_events).await, ClientEvent::Typing { from: ALICE, typing: true, .. }));
    let sent = alice.send(BOB, text).await.expect("send");
    assert_eq!(next_message(&mut bob_events).await, (text.into(), ALICE, BOB, false, Some("Alice Example".into())));
    assert_eq!(
        next_message(&mut alice_events).await,
        (text.into(), ALICE, BOB, true, Some("Alice Example".into())),
        "the own echo comes back on the pull, as a delta"
    );

    let reply = "from 2008: \u{e9}t\u{e9} %2B &amp;";
    bob.typing(ALICE, true).await.expect("typing");
    assert!(matches!(next_event(&mut alice_events).await, ClientEvent::Typing { from: BOB, typing: true, .. }));
    bob.send(ALICE, reply).await.expect("send");
    assert_eq!(next_message(&mut alice_events).await, (reply.into(), BOB, ALICE, false, Some("Bob Example".into())));

    // History through the thread query: both messages, oldest first, with
    // the ids the channel delivered them under.
    let history = alice.history(BOB).await.expect("history");
    let got: Vec<_> = history.iter().map(|m| (m.text.to_string(), m.from, m.to)).collect();
    assert_eq!(got, [(text.to_owned(), ALICE, BOB), (reply.to_owned(), BOB, ALICE)]);
    assert_eq!(history[0].msg_id.as_deref(), Some(sent.msg_id.as_str()));
    drop((alice_events, bob_events));
    server.shutdown().await;
}

#[tokio::test]
async fn the_web_dialect_recovers_a_gap_from_the_thread_query() {
    let chat = ChatConfig {
        window: 5,
        hold: Duration::from_secs(2),
        pull_hold: Duration::from_secs(2),
        ..ChatConfig::default()
    };
    let server = EmulatorServer::start(&World::default(), EmulatorConfig { chat, faults: None }).await.expect("start");
    let alice = login(&server, "alice", Dialect::Web).await;
    let bob = login(&server, "bob", Dialect::Classic).await;
    let mut alice_events = ready(&alice).await;
    // Alice does not ask for events while Bob sends: her client stops
    // pulling, and her log's window (5) moves past what she had.
    let sent: Vec<String> = (0..20).map(|n| format!("message {n} \u{1F600}")).collect();
    for text in &sent {
        bob.send(ALICE, text).await.expect("send");
    }
    let mut got = Vec::new();
    let mut gap = None;
    while got.len() < sent.len() || gap.is_none() {
        match next_event(&mut alice_events).await {
            ClientEvent::Message { message, .. } => got.push(message.text.to_string()),
            ClientEvent::Gap { missed, recovered, lost } => gap = Some((missed, recovered, lost)),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(got, sent, "every message once, in order");
    let (missed, recovered, lost) = gap.expect("a gap");
    assert!(missed > 0 && recovered == missed && lost == 0, "{gap:?}");
    server.shutdown().await;
}

#[tokio::test]
async fn a_stale_fb_dtsg_is_1357004_and_the_client_logs_in_again() {
    let server = EmulatorServer::start(&World::default(), EmulatorConfig::default()).await.expect("start");
    let alice = login(&server, "alice", Dialect::Web).await;
    let stale = fbcomet::Session { post_form_id: "stale".into(), fb_dtsg: Some("stale".into()), ..alice.session() };
    alice.sender().set_session(stale.clone());
    let err = alice.sender().send(BOB, "refused").await.expect_err("a stale token");
    assert_eq!(err.server_error().map(|e| e.code), Some(1357004), "{err}");
    // Client::send logs in again (with the remembered password) and sends.
    alice.send(BOB, "after logging in again").await.expect("send");
    assert_ne!(alice.session().fb_dtsg, stale.fb_dtsg);
    assert_eq!(server.emulator().stats().messages, 1);
    server.shutdown().await;
}

/// A post to the web door: its path, its fields, and what the answer has.
type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);

#[tokio::test]
async fn malformed_posts_to_the_web_door_get_the_eras_errors_not_500s() {
    let server = EmulatorServer::start(&World::default(), EmulatorConfig::default()).await.expect("start");
    let alice = login(&server, "alice", Dialect::Web).await;
    let token = alice.session().post_form_id;
    let cases: &[Case<'_>] = &[
        ("/messaging/send/", &[("other_user_fbid", "x"), ("body", "hi")], r#""error":1357005"#),
        ("/messaging/send/", &[("thread_fbid", "77"), ("body", "hi")], r#""error":1357005"#),
        ("/messaging/send/", &[("other_user_fbid", "1002"), ("body", "")], r#""error":1346001"#),
        ("/messaging/send/", &[("other_user_fbid", "4242"), ("body", "who?")], r#""error":1356003"#),
        ("/chat/user_info/", &[("ids[zz]", "1")], r#""error":1357005"#),
        ("/chat/user_info/", &[("ids[0]", "99999"), ("ids[1]", "1002")], r#""profiles":{"1002""#),
        ("/ajax/mercury/threadlist_info.php", &[("inbox[limit]", "-3")], r#""error":1357005"#),
        ("/ajax/mercury/change_read_status.php", &[("ids[x]", "true")], r#""error":1357005"#),
        ("/ajax/messaging/typ.php", &[("to", "1002"), ("typ", "banana")], r#""error":1357005"#),
        ("/api/graphqlbatch/", &[("queries", "{not json")], r#""error":1357005"#),
        (
            "/api/graphqlbatch/",
            &[(
                "queries",
                r#"{"q0":{"doc_id":"1","query_params":{}},"q1":{"doc_id":"1386147188135407","query_params":{"id":"1002","message_limit":99999999}}}"#,
            )],
            r#""error_results":1"#,
        ),
    ];
    for (path, fields, expected) in cases {
        let mut form: Vec<(&str, String)> = fields.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        form.push(("fb_dtsg", token.clone()));
        let url = format!("{}{path}", server.url()).parse().expect("url");
        let response = alice.sender().http().post_form(&url, &form).await.expect("an answer");
        let body = response.text();
        assert_eq!(response.status, 200, "{path} {fields:?}: {body}");
        assert!(body.contains(expected), "{path} {fields:?}: {body}");
    }
    // Without fb_dtsg: 1357004; without the cookie: 1357001.
    let url = format!("{}/chat/user_info_all", server.url()).parse().expect("url");
    let body = alice.sender().http().post_form(&url, &[("viewer", "1001".to_owned())]).await.expect("answer").text();
    assert!(body.contains(r#""error":1357004"#), "{body}");
    alice.send(BOB, "still serving").await.expect("send");
    server.shutdown().await;
}
