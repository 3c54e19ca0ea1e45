//! Users chatting through the emulator with the library client.

use std::time::Duration;

use fbcomet::{Client, ClientConfig, ClientEvent, Events};
use fbcomet_chat::ChatConfig;
use fbcomet_e2e::next_event;
use fbcomet_mock::{EmulatorConfig, EmulatorServer, World};
use tokio::time::timeout;

const ALICE: u64 = 1001;
const BOB: u64 = 1002;
const CAROL: u64 = 1003;

async fn emulator(config: EmulatorConfig) -> EmulatorServer {
    EmulatorServer::start(&World::default(), config).await.expect("start")
}

fn quick(c: &mut fbcomet_receiver::Config) {
    c.backoff = fbcomet_receiver::Backoff { initial: Duration::from_millis(5), max: Duration::from_millis(50) };
}

fn config(server: &EmulatorServer) -> ClientConfig {
    ClientConfig {
        presence_interval: None,
        retry_delay: Duration::from_millis(10),
        tune_receiver: Some(quick),
        ..ClientConfig::new(server.url().parse().expect("url"))
    }
}

async fn login(server: &EmulatorServer, name: &str) -> Client {
    Client::login(config(server), &format!("{name}@example.com"), name).await.expect("login")
}

/// Starts a client's event stream and waits until its first poll is held
/// by the emulator (so that the client is online and will see what follows).
async fn online(server: &EmulatorServer, client: &Client) -> Events {
    let held_before = server.emulator().stats().held;
    let mut events = client.events().expect("events");
    let _ = timeout(Duration::from_secs(5), async {
        while server.emulator().stats().held <= held_before {
            tokio::select! {
                event = events.next() => panic!("unexpected {event:?}"),
                () = tokio::time::sleep(Duration::from_millis(5)) => {}
            }
        }
    })
    .await;
    assert!(server.emulator().is_online(client.uid()), "{} is online", client.uid());
    events
}

async fn next_message(events: &mut Events) -> (String, u64, u64, bool) {
    loop {
        if let ClientEvent::Message { message, own_echo } = next_event(events).await {
            return (message.text.to_string(), message.from, message.to, own_echo);
        }
    }
}

#[tokio::test]
async fn two_users_chat_both_ways_with_echoes_and_typing() {
    let server = emulator(EmulatorConfig::default()).await;
    let alice = login(&server, "alice").await;
    let bob = login(&server, "bob").await;
    assert_eq!((alice.uid(), alice.session().channel, bob.uid()), (ALICE, 7, BOB));
    let mut alice_events = online(&server, &alice).await;
    let mut bob_events = online(&server, &bob).await;

    alice.typing(BOB, true).await.expect("typing");
    assert_eq!(
        next_event(&mut bob_events).await,
        ClientEvent::Typing { from: ALICE, name: Some("Alice Example".to_owned()), typing: true }
    );

    let text = "hi Bob & \"all\" <3 caf\u{e9} \u{1F600}";
    alice.send(BOB, text).await.expect("send");
    assert_eq!(next_message(&mut bob_events).await, (text.to_owned(), ALICE, BOB, false));
    assert_eq!(next_message(&mut alice_events).await, (text.to_owned(), ALICE, BOB, true), "the echo");

    bob.send(ALICE, "hello back").await.expect("reply");
    assert_eq!(next_message(&mut alice_events).await, ("hello back".to_owned(), BOB, ALICE, false));
    assert_eq!(next_message(&mut bob_events).await, ("hello back".to_owned(), BOB, ALICE, true));

    let history = alice.history(BOB).await.expect("history");
    assert_eq!(history.iter().map(|m| m.text.to_string()).collect::<Vec<_>>(), [text, "hello back"]);
    assert_eq!(server.emulator().stats().messages, 2);
    server.shutdown().await;
}

#[tokio::test]
async fn three_users_each_get_their_own_messages() {
    let server = emulator(EmulatorConfig::default()).await;
    let (alice, bob, carol) =
        (login(&server, "alice").await, login(&server, "bob").await, login(&server, "carol").await);
    let mut a = online(&server, &alice).await;
    let mut b = online(&server, &bob).await;
    let _c = online(&server, &carol).await;
    carol.send(ALICE, "to alice").await.expect("send");
    carol.send(BOB, "to bob").await.expect("send");
    assert_eq!(next_message(&mut a).await, ("to alice".to_owned(), CAROL, ALICE, false));
    assert_eq!(next_message(&mut b).await, ("to bob".to_owned(), CAROL, BOB, false));
    server.shutdown().await;
}

#[tokio::test]
async fn the_buddy_list_follows_users_as_they_come_and_go() {
    let server = emulator(EmulatorConfig {
        chat: ChatConfig { online_window: Duration::from_millis(300), ..ChatConfig::default() },
        faults: None,
    })
    .await;
    let alice = login(&server, "alice").await;
    let list = alice.buddy_list().await.expect("list");
    assert!(list.now_available.is_empty(), "nobody online yet");
    assert_eq!(list.user_infos.len(), 3, "both friends and Alice herself");
    assert_eq!(list.user_infos.get("1003").and_then(|u| u.status.as_deref()), Some("is away"));

    let carol = login(&server, "carol").await;
    let carol_events = online(&server, &carol).await;
    let list = alice.buddy_list().await.expect("list");
    assert_eq!(list.now_available.iter().map(|(u, _)| u.to_owned()).collect::<Vec<_>>(), ["1003"]);
    assert_eq!(list.available_count, Some(1));

    // Carol goes invisible: gone at once.
    carol.sender().visibility(false).await.expect("offline");
    let list = alice.buddy_list().await.expect("list");
    assert!(list.now_available.is_empty());
    assert_eq!(list.was_available, [CAROL]);
    carol.sender().visibility(true).await.expect("online");
    assert_eq!(alice.buddy_list().await.expect("list").now_available.len(), 1);

    // Carol closes her client: gone once the online window passes.
    drop(carol_events);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let list = alice.buddy_list().await.expect("list");
    assert!(list.now_available.is_empty());
    assert_eq!(list.was_available, [CAROL]);

    // Sending to someone offline is refused as the service did.
    let err = alice.send(CAROL, "are you there?").await.expect_err("offline");
    assert!(err.server_error().is_some_and(|e| e.is_recipient_offline()), "{err}");
    server.shutdown().await;
}

#[tokio::test]
async fn two_pollers_of_one_channel_each_get_the_events() {
    let server = emulator(EmulatorConfig::default()).await;
    let alice = login(&server, "alice").await;
    let bob = login(&server, "bob").await;
    let mut tab1 = online(&server, &alice).await;
    let mut tab2 = online(&server, &alice).await;
    let _bob = online(&server, &bob).await;
    bob.send(ALICE, "both tabs").await.expect("send");
    assert_eq!(next_message(&mut tab1).await.0, "both tabs");
    assert_eq!(next_message(&mut tab2).await.0, "both tabs");
    server.shutdown().await;
}

#[tokio::test]
async fn a_seq_below_the_kept_history_gets_refresh_and_history_recovers() {
    let server =
        emulator(EmulatorConfig { chat: ChatConfig { window: 5, ..ChatConfig::default() }, faults: None }).await;
    let alice = login(&server, "alice").await;
    let bob = login(&server, "bob").await;
    let alice_events = online(&server, &alice).await;
    drop(alice_events); // Alice stays online for the window, but stops polling.
    for i in 0..10 {
        bob.send(ALICE, &format!("message {i}")).await.expect("send");
    }
    // Alice's channel kept events 5..10; a poll at seq 0 is sent to the
    // oldest kept (what lies below is lost, and the client can count it).
    let http = alice.sender().http();
    let poll = |seq: i64| format!("{}/x/123/false/p_{ALICE}={seq}", server.url());
    let answer = http.get(&poll(0).parse().expect("url")).await.expect("poll");
    assert_eq!(answer.text(), r#"for (;;);{"t":"refresh","seq":5}"#);
    let answer = http.get(&poll(-1).parse().expect("url")).await.expect("poll");
    assert_eq!(answer.text(), r#"for (;;);{"t":"refresh","seq":10}"#);
    // An old seq within the history: the events from there on.
    let answer = http.get(&poll(8).parse().expect("url")).await.expect("poll");
    let frame = fbcomet_codec::decode_frame(&answer.body).expect("a frame");
    assert_eq!(frame.events().len(), 2);
    // What the channel dropped, history.php still has.
    let history = alice.history(BOB).await.expect("history");
    assert_eq!(history.len(), 10);
    assert_eq!(history[0].text, "message 0");
    server.shutdown().await;
}

#[tokio::test]
async fn a_retried_msg_id_is_delivered_once() {
    let server = emulator(EmulatorConfig::default()).await;
    let alice = login(&server, "alice").await;
    let bob = login(&server, "bob").await;
    let mut bob_events = online(&server, &bob).await;
    let http = alice.sender().http();
    let url: url::Url = format!("{}/ajax/chat/send.php", server.url()).parse().expect("url");
    let form = [
        ("msg_text", "once"),
        ("msg_id", "424242"),
        ("to", "1002"),
        ("client_time", "1"),
        ("post_form_id", &alice.session().post_form_id),
    ];
    for _ in 0..3 {
        let answer = http.post_form(&url, &form).await.expect("post");
        assert!(!fbcomet_codec::decode_envelope(&answer.body).expect("envelope").is_error());
    }
    alice.send(BOB, "after").await.expect("send");
    assert_eq!(next_message(&mut bob_events).await.0, "once");
    assert_eq!(next_message(&mut bob_events).await.0, "after");
    let stats = server.emulator().stats();
    assert_eq!((stats.messages, stats.duplicate_sends), (2, 2));
    server.shutdown().await;
}

#[tokio::test]
async fn sessions_are_checked_cookie_token_and_channel_owner() {
    let server = emulator(EmulatorConfig::default()).await;
    let err = Client::login(config(&server), "alice@example.com", "wrong").await.expect_err("refused");
    assert_eq!(
        err.to_string(),
        "login failed: wrong email or password: Incorrect email or password: The email and password you entered did not match our records."
    );

    let alice = login(&server, "alice").await;
    let anonymous = fbcomet_http::HttpClient::new(fbcomet_http::HttpConfig::default());
    let error_of = |body: &[u8]| fbcomet_codec::decode_envelope(body).expect("envelope").error;

    let send: url::Url = format!("{}/ajax/chat/send.php", server.url()).parse().expect("url");
    let form = [("msg_text", "x"), ("to", "1002"), ("post_form_id", "whatever")];
    let no_cookie = anonymous.post_form(&send, &form).await.expect("post");
    assert_eq!(error_of(&no_cookie.body), 1357001, "missing cookie");
    let bad_token = alice.sender().http().post_form(&send, &form).await.expect("post");
    assert_eq!(error_of(&bad_token.body), 1357004, "bad form token");

    let bobs_channel: url::Url = format!("{}/x/1/false/p_{BOB}=-1", server.url()).parse().expect("url");
    let answer = alice.sender().http().get(&bobs_channel).await.expect("poll");
    assert_eq!(error_of(&answer.body), 1357003, "someone else's channel");
    let answer = anonymous.get(&bobs_channel).await.expect("poll");
    assert_eq!(error_of(&answer.body), 1357001);

    // Over-long text, sent past the client's own check, is refused too.
    let long = "x".repeat(1000);
    let form = [("msg_text", long.as_str()), ("to", "1002"), ("post_form_id", &alice.session().post_form_id)];
    let answer = alice.sender().http().post_form(&send, &form).await.expect("post");
    assert_eq!(error_of(&answer.body), 1346001);

    // Logged out: the session is gone.
    let logout: url::Url = format!("{}/logout.php", server.url()).parse().expect("url");
    alice.sender().http().get(&logout).await.expect("logout");
    let err = alice.sender().buddy_list(false).await.expect_err("logged out");
    assert!(err.is_not_logged_in(), "{err}");
    server.shutdown().await;
}

#[tokio::test]
async fn the_pull_dialect_balances_and_numbers_its_frames() {
    use fbcomet_receiver::{Config, Endpoint, Listener, Output};
    let server = emulator(EmulatorConfig::default()).await;
    let alice = login(&server, "alice").await;
    let bob = login(&server, "bob").await;
    let mut config = Config::new(ALICE, Endpoint::pull().with_base(server.url()));
    quick(&mut config);
    let mut listener = Listener::new(config, alice.sender().http().clone()).expect("config");
    let _bob = online(&server, &bob).await;
    let receive = async {
        loop {
            match listener.next().await {
                Some(Output::Event(d)) => break d,
                Some(_) => {}
                None => panic!("ended"),
            }
        }
    };
    let send = async {
        while !server.emulator().is_online(ALICE) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        bob.send(ALICE, "over /pull").await.expect("send");
    };
    let (delivery, ()) =
        timeout(Duration::from_secs(10), async { tokio::join!(receive, send) }).await.expect("in time");
    // The era's shape: a NewMessage delta, read as a message for Alice.
    let fbcomet_codec::Event::Delta(delta) = &delivery.event else { panic!("a delta: {:?}", delivery.event) };
    assert_eq!(delta.as_new_message().and_then(|m| m.body.as_deref()), Some("over /pull"));
    let message = delivery.event.message_for(ALICE).expect("a message");
    assert_eq!((message.from, message.to, message.text.as_ref()), (BOB, ALICE, "over /pull"));
    assert_eq!(listener.receiver().sticky().map(|(_, pool)| pool), Some(Some("fbcomet_chat-proxy")));
    assert_eq!(listener.receiver().seq(), 1);
    server.shutdown().await;
}

#[tokio::test]
async fn an_old_client_through_the_proxy_chats_with_one_addressing_the_server() {
    let server = emulator(EmulatorConfig::default()).await;
    let proxied = ClientConfig {
        presence_interval: None,
        tune_receiver: Some(quick),
        ..ClientConfig::through_proxy(server.url().parse().expect("url"))
    };
    let alice = Client::login(proxied, "alice@example.com", "alice").await.expect("login through the proxy");
    let bob = login(&server, "bob").await;
    let mut alice_events = online(&server, &alice).await;
    let _bob_events = online(&server, &bob).await;
    bob.send(ALICE, "through the proxy").await.expect("send");
    assert_eq!(next_message(&mut alice_events).await.0, "through the proxy");
    alice.send(BOB, "and back").await.expect("send");
    server.shutdown().await;
}

#[tokio::test]
async fn shutdown_releases_held_polls() {
    let server = emulator(EmulatorConfig::default()).await;
    let alice = login(&server, "alice").await;
    let _events = online(&server, &alice).await;
    assert_eq!(server.emulator().stats().held, 1);
    timeout(Duration::from_secs(10), server.shutdown()).await.expect("shutdown does not wait out the 55 s hold");
}

/// `GET {server}{target}` with the client's cookies, in a task.
fn get(client: &Client, server: &EmulatorServer, target: &str) -> tokio::task::JoinHandle<String> {
    let http = client.sender().http().clone();
    let url: url::Url = format!("{}{target}", server.url()).parse().expect("url");
    tokio::spawn(async move { http.get(&url).await.map(|r| r.text()).unwrap_or_else(|e| format!("failed: {e}")) })
}

async fn until_held(server: &EmulatorServer, n: usize) {
    timeout(Duration::from_secs(5), async {
        while server.emulator().stats().held < n {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the polls are held");
}

#[tokio::test]
async fn shutdown_alone_ends_every_held_poll_at_once() {
    let server = emulator(EmulatorConfig::with_hold(Duration::from_secs(600))).await;
    let alice = login(&server, "alice").await;
    let channel = get(&alice, &server, &format!("/x/1/false/p_{ALICE}=0"));
    let lb = get(&alice, &server, &format!("/pull?channel=p_{ALICE}&seq=0&partition=-2")).await.expect("lb");
    let sticky = fbcomet_codec::decode_frame(lb.as_bytes()).expect("an lb frame");
    let fbcomet_codec::FrameKind::Lb { sticky, .. } = sticky.kind else { panic!("{lb}") };
    let pull = get(&alice, &server, &format!("/pull?channel=p_{ALICE}&seq=0&partition=-2&sticky_token={sticky}"));
    until_held(&server, 2).await;

    let started = std::time::Instant::now();
    timeout(Duration::from_secs(5), server.shutdown()).await.expect("shutdown is prompt");
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    assert_eq!(channel.await.expect("task"), r#"for (;;);{"t":"continue"}"#);
    assert_eq!(pull.await.expect("task"), r#"for (;;); {"t":"heartbeat","seq":0}"#);
}

#[tokio::test]
async fn logout_ends_a_held_poll_and_presence() {
    let server = emulator(EmulatorConfig::with_hold(Duration::from_secs(600))).await;
    let alice = login(&server, "alice").await;
    let bob = login(&server, "bob").await;
    let held = get(&alice, &server, &format!("/x/1/false/p_{ALICE}=0"));
    until_held(&server, 1).await;
    assert!(server.emulator().is_online(ALICE));

    get(&alice, &server, "/logout.php").await.expect("logout");
    let answer = timeout(Duration::from_secs(2), held).await.expect("the held poll ends at logout").expect("task");
    let envelope = fbcomet_codec::decode_envelope(answer.as_bytes()).expect("an envelope");
    assert!(envelope.server_error().expect("an error").is_not_logged_in(), "{answer}");
    assert!(!server.emulator().is_online(ALICE), "offline at once");
    let err = bob.send(ALICE, "still there?").await.expect_err("Alice is gone");
    assert!(err.to_string().contains("no longer online"), "{err}");
    server.shutdown().await;
}

#[tokio::test]
async fn an_idle_server_ends_holds_at_their_deadline_and_expires_logins() {
    let chat = ChatConfig {
        hold: Duration::from_millis(300),
        pull_hold: Duration::from_millis(300),
        login_idle: Duration::from_millis(400),
        ..ChatConfig::default()
    };
    let server = emulator(EmulatorConfig { chat, faults: None }).await;
    let alice = login(&server, "alice").await;

    // Nothing else arrives: the core's timer answers the hold at its deadline.
    let started = std::time::Instant::now();
    let held = get(&alice, &server, &format!("/x/1/false/p_{ALICE}=0"));
    let answer = timeout(Duration::from_secs(5), held).await.expect("answered").expect("task");
    assert_eq!(answer, r#"for (;;);{"t":"continue"}"#);
    assert!(started.elapsed() >= Duration::from_millis(300), "{:?}", started.elapsed());
    assert_eq!(server.emulator().stats().held, 0);

    // Still nothing arrives: the login expires on its own. The counters are
    // read without running the core's timeout, so only the timer did it.
    timeout(Duration::from_secs(5), async {
        while server.emulator().stats().expired_logins == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the login expired with no request arriving");
    let answer = get(&alice, &server, &format!("/x/1/false/p_{ALICE}=0")).await.expect("task");
    let envelope = fbcomet_codec::decode_envelope(answer.as_bytes()).expect("an envelope");
    assert!(envelope.server_error().expect("an error").is_not_logged_in(), "{answer}");
    server.shutdown().await;
}
