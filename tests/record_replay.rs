//! A session recorded from the emulator and replayed gives a client the
//! same events.

use std::time::Duration;

use fbcomet::{Client, ClientConfig, ClientEvent, Dialect, Events};
use fbcomet_mock::{
    EmulatorConfig, EmulatorServer, RecordServer, Recording, ReplayConfig, ReplayServer, ServerConfig, World,
};
use tokio::time::timeout;

fn quick(c: &mut fbcomet_receiver::Config) {
    c.backoff = fbcomet_receiver::Backoff { initial: Duration::from_millis(5), max: Duration::from_millis(50) };
}

fn config(url: &str) -> ClientConfig {
    ClientConfig { presence_interval: None, tune_receiver: Some(quick), ..ClientConfig::new(url.parse().expect("url")) }
}

async fn messages(events: &mut Events, count: usize) -> Vec<String> {
    let mut texts = Vec::new();
    while texts.len() < count {
        match timeout(Duration::from_secs(10), events.next()).await.expect("in time") {
            Some(ClientEvent::Message { message, .. }) => texts.push(message.text.to_string()),
            Some(_) => {}
            None => panic!("ended"),
        }
    }
    texts
}

#[tokio::test]
async fn a_recorded_emulator_session_replays_the_same_events() {
    let emulator = EmulatorServer::start(&World::default(), EmulatorConfig::default()).await.expect("emulator");
    let recorder = RecordServer::bind(
        "127.0.0.1:0".parse().expect("addr"),
        emulator.url().parse().expect("url"),
        ServerConfig::default(),
    )
    .await
    .expect("recorder");

    // Alice goes through the recorder; Bob talks to the emulator directly.
    let alice = Client::login(config(&recorder.url()), "alice@example.com", "alice").await.expect("alice");
    let bob = Client::login(config(&emulator.url()), "bob@example.com", "bob").await.expect("bob");
    let mut alice_events = alice.events().expect("events");
    let sent = ["one & only", "two \"quoted\"", "three \u{1F600}"];
    let send = async {
        while !emulator.emulator().is_online(1001) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        for text in sent {
            bob.send(1001, text).await.expect("send");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let (live, ()) = tokio::join!(messages(&mut alice_events, 3), send);
    assert_eq!(live, sent);
    drop(alice_events);

    let recording = recorder.shutdown().await.session("recorded", 1001, Some(7));
    assert!(recording.exchanges.iter().any(|e| e.request.path == "/login.php" && e.request.method == "POST"));
    assert!(recording.exchanges.iter().any(|e| e.response.hold_ms > 0), "the held polls' holds were recorded");
    // Through the file format and back.
    let recording = Recording::parse(&recording.to_json(), "recorded.json").expect("a valid session");

    let replay = ReplayServer::start(recording, ReplayConfig::default().speed(0.0)).await.expect("replay");
    let alice_again = Client::login(config(&replay.url()), "alice@example.com", "alice").await.expect("login replayed");
    assert_eq!(alice_again.session(), alice.session(), "the same uid, channel and form token");
    let mut replayed_events = alice_again.events().expect("events");
    assert_eq!(messages(&mut replayed_events, 3).await, sent);
    let report = replay.shutdown().await;
    assert!(report.unused.is_empty(), "{report}");
    emulator.shutdown().await;
}

/// What fbchat sends and fbcomet's web dialect does not (or sends with
/// values of its own): per-request counters, the fields fbchat adds to
/// every request, and the pull parameters each client picks. The answers
/// are what is replayed; the requests match on the rest (method, path,
/// the login form, the sticky token and pool).
const FBCHAT_NOISE: &[&str] = &[
    "__req",
    "__rev",
    "__user",
    "__a",
    "ttstamp",
    "fb_dtsg",
    "seq",
    "msgs_recv",
    "channel",
    "partition",
    "viewer_uid",
    "uid",
    "state",
    "idle",
    "cap",
];

#[tokio::test]
async fn fbchats_recorded_session_replays_to_fbcomets_web_dialect() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/sessions/fbchat-web-listen.json");
    let text = std::fs::read_to_string(path).expect("the fixture");
    let recording = Recording::parse(&text, "fbchat-web-listen.json").expect("a valid session");
    let mut replay_config = ReplayConfig::default().speed(0.0);
    for key in FBCHAT_NOISE {
        replay_config = replay_config.ignore(*key);
    }
    let replay = ReplayServer::start(recording, replay_config).await.expect("replay");
    let config = config(&replay.url()).with_dialect(Dialect::Web);
    let alice = Client::login(config, "alice@example.com", "alice").await.expect("the recorded login");
    assert_eq!(alice.uid(), 1001);
    assert!(alice.session().fb_dtsg.is_some_and(|t| !t.is_empty()), "fb_dtsg from the front page");
    let mut events = alice.events().expect("events");
    assert_eq!(messages(&mut events, 3).await, ["one & only", "two \"quoted\" <b>", "three \u{2603} \u{1F600}"]);
    drop(events);
    let report = replay.shutdown().await;
    assert!(report.unused.is_empty(), "every exchange fbchat made was made again: {report}");
}
