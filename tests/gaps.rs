//! No message lost in silence: a listener that falls behind the channel's
//! window gets what history still holds, and a count of what it does not;
//! the ready signal; and an event stream whose `next()` is dropped anywhere.

use std::time::Duration;

use fbcomet::{Client, ClientConfig, ClientEvent, Events};
use fbcomet_chat::ChatConfig;
use fbcomet_mock::{EmulatorConfig, EmulatorServer, RandomFaults, World};
use tokio::time::timeout;

const ALICE: u64 = 1001;
const BOB: u64 = 1002;

fn quick(c: &mut fbcomet_receiver::Config) {
    c.backoff = fbcomet_receiver::Backoff { initial: Duration::from_millis(2), max: Duration::from_millis(40) };
    c.hold = Duration::from_millis(300);
    c.hold_margin = Duration::from_millis(300);
}

async fn emulator(chat: ChatConfig, faults: Option<RandomFaults>) -> EmulatorServer {
    let chat = ChatConfig { hold: Duration::from_millis(300), ..chat };
    EmulatorServer::start(&World::default(), EmulatorConfig { chat, faults }).await.expect("start")
}

async fn login(server: &EmulatorServer, name: &str) -> Client {
    let config = ClientConfig {
        presence_interval: None,
        retry_delay: Duration::from_millis(10),
        tune_receiver: Some(quick),
        ..ClientConfig::new(server.url().parse().expect("url"))
    };
    Client::login(config, &format!("{name}@example.com"), name).await.expect("login")
}

/// What a listener saw: message texts in order, and the gap reports.
#[derive(Debug, Default)]
struct Seen {
    texts: Vec<String>,
    missed: u64,
    recovered: u64,
    lost: u64,
    gaps: usize,
}

impl Seen {
    fn take(&mut self, event: ClientEvent) {
        match event {
            ClientEvent::Message { message, own_echo: false } => self.texts.push(message.text.to_string()),
            ClientEvent::Gap { missed, recovered, lost } => {
                self.missed += missed;
                self.recovered += recovered;
                self.lost += lost;
                self.gaps += 1;
            }
            ClientEvent::SessionLost { reason } => panic!("session lost: {reason}"),
            _ => {}
        }
    }

    /// Every message arrived or was counted lost, each once, in order.
    fn check(&self, sent: usize) {
        let numbers: Vec<usize> =
            self.texts.iter().map(|t| t.strip_prefix("m").and_then(|n| n.parse().ok()).expect("mN")).collect();
        assert!(numbers.windows(2).all(|w| w[0] < w[1]), "once and in order: {numbers:?}");
        assert_eq!(self.texts.len() as u64 + self.lost, sent as u64, "received plus lost is sent: {self:?}");
    }
}

/// Reads until `sent` messages are accounted for, dropping the `next()`
/// future every millisecond (wherever it is) when `impatient`.
async fn read_all(events: &mut Events, seen: &mut Seen, sent: usize, impatient: bool) {
    let limit = tokio::time::Instant::now() + Duration::from_secs(60);
    while (seen.texts.len() as u64 + seen.lost) < sent as u64 {
        assert!(tokio::time::Instant::now() < limit, "not all accounted for in time: {seen:?}");
        let wait = if impatient { Duration::from_millis(1) } else { Duration::from_secs(20) };
        match timeout(wait, events.next()).await {
            Ok(Some(event)) => seen.take(event),
            Ok(None) => panic!("the stream ended: {seen:?}"),
            Err(_) if impatient => {}
            Err(_) => panic!("nothing for 20 s: {seen:?}"),
        }
    }
}

/// Reads until a gap report came (it follows the recovered messages).
async fn await_gap(events: &mut Events, seen: &mut Seen) {
    while seen.gaps == 0 {
        match timeout(Duration::from_secs(20), events.next()).await {
            Ok(Some(event)) => seen.take(event),
            other => panic!("no gap report: {other:?}; {seen:?}"),
        }
    }
}

#[tokio::test]
async fn a_send_right_after_ready_reaches_a_fresh_stream() {
    let server = emulator(ChatConfig::default(), None).await;
    let alice = login(&server, "alice").await;
    let bob = login(&server, "bob").await;
    let mut events = bob.events().expect("events");
    assert!(timeout(Duration::from_secs(5), events.ready()).await.expect("ready in time"));
    alice.send(BOB, "m0").await.expect("Bob is online once his stream is ready");
    let mut seen = Seen::default();
    read_all(&mut events, &mut seen, 1, false).await;
    assert_eq!(seen.texts, ["m0"]);
    server.shutdown().await;
}

#[tokio::test]
async fn a_stream_whose_next_is_dropped_anywhere_loses_nothing_across_a_gap() {
    // A window of 5 events: Alice falls behind it while she does not read.
    let server = emulator(ChatConfig { window: 5, ..ChatConfig::default() }, None).await;
    let alice = login(&server, "alice").await;
    let bob = login(&server, "bob").await;
    let mut events = alice.events().expect("events");
    assert!(events.ready().await);
    let mut seen = Seen::default();
    for n in 0..3 {
        bob.send(ALICE, &format!("m{n}")).await.expect("send");
    }
    read_all(&mut events, &mut seen, 3, true).await;
    // Alice stops reading (and so polling); Bob goes on past her window.
    for n in 3..40 {
        bob.send(ALICE, &format!("m{n}")).await.expect("send");
    }
    read_all(&mut events, &mut seen, 40, true).await;
    await_gap(&mut events, &mut seen).await;
    seen.check(40);
    assert!(seen.missed > 0, "the window moved past Alice: {seen:?}");
    assert_eq!((seen.lost, seen.recovered), (0, seen.missed), "history held it all: {seen:?}");
    server.shutdown().await;
}

#[tokio::test]
async fn what_history_no_longer_holds_is_counted_lost() {
    let chat = ChatConfig { window: 5, conversation_history: 10, ..ChatConfig::default() };
    let server = emulator(chat, None).await;
    let alice = login(&server, "alice").await;
    let bob = login(&server, "bob").await;
    let mut events = alice.events().expect("events");
    assert!(events.ready().await);
    bob.send(ALICE, "m0").await.expect("send");
    let mut seen = Seen::default();
    read_all(&mut events, &mut seen, 1, false).await;
    for n in 1..50 {
        bob.send(ALICE, &format!("m{n}")).await.expect("send");
    }
    read_all(&mut events, &mut seen, 50, false).await;
    seen.check(50);
    assert!(seen.lost > 0, "{seen:?}");
    assert_eq!(seen.texts.last().map(String::as_str), Some("m49"));
    server.shutdown().await;
}

/// 1,000 messages as fast as Bob can send them while a fifth of Alice's
/// polls fail in random ways.
async fn burst(chat: ChatConfig, seed: u64) -> Seen {
    let mut faults = RandomFaults::new(0.2, seed);
    faults.delay = (Duration::from_millis(100), Duration::from_millis(800));
    let server = emulator(chat, Some(faults)).await;
    let alice = login(&server, "alice").await;
    let bob = login(&server, "bob").await;
    let mut events = alice.events().expect("events");
    assert!(timeout(Duration::from_secs(20), events.ready()).await.expect("ready in time"));
    const SENT: usize = 1000;
    let sender = tokio::spawn(async move {
        for n in 0..SENT {
            bob.send(ALICE, &format!("m{n}")).await.expect("send");
        }
    });
    let mut seen = Seen::default();
    read_all(&mut events, &mut seen, SENT, false).await;
    sender.await.expect("the sender");
    // The last gap's report follows its recovered messages.
    while events.stats().missed > seen.missed {
        match timeout(Duration::from_secs(20), events.next()).await {
            Ok(Some(event)) => seen.take(event),
            other => panic!("no report for every gap: {other:?}; {seen:?}"),
        }
    }
    assert_eq!(seen.missed, events.stats().missed, "every skipped event reported");
    seen.check(SENT);
    let stats = events.stats();
    eprintln!("{seen:?}; receiver: {} polls, {} retries, {} missed", stats.polls, stats.retries, stats.missed);
    server.shutdown().await;
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_through_failing_polls_arrives_whole_with_the_defaults() {
    let seen = burst(ChatConfig::default(), 12).await;
    assert_eq!((seen.texts.len(), seen.missed), (1000, 0), "the default window holds a burst");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_past_a_window_of_50_is_recovered_from_history() {
    let seen = burst(ChatConfig { window: 50, ..ChatConfig::default() }, 13).await;
    assert!(seen.missed > 0, "the burst passed the window: {seen:?}");
    assert_eq!((seen.lost, seen.recovered), (0, seen.missed), "history holds what the window dropped: {seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_past_a_window_of_50_and_short_history_is_counted() {
    let seen = burst(ChatConfig { window: 50, conversation_history: 50, ..ChatConfig::default() }, 14).await;
    assert!(seen.lost > 0, "history could not hold it all: {seen:?}");
}

#[tokio::test]
async fn events_are_a_stream() {
    use futures_core::Stream;
    let server = emulator(ChatConfig::default(), None).await;
    let alice = login(&server, "alice").await;
    let bob = login(&server, "bob").await;
    let mut events = bob.events().expect("events");
    assert!(events.ready().await);
    alice.send(BOB, "m0").await.expect("send");
    // Driven through the Stream trait alone, as a combinator would.
    let event =
        timeout(Duration::from_secs(10), std::future::poll_fn(|cx| std::pin::Pin::new(&mut events).poll_next(cx)))
            .await
            .expect("in time");
    assert!(matches!(event, Some(ClientEvent::Message { ref message, .. }) if message.text == "m0"), "{event:?}");
    server.shutdown().await;
}
