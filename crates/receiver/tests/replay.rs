//! The receiver over HTTP against fbcomet's replay server.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use fbcomet_codec::{Body, Event, FrameKind};
use fbcomet_http::{HttpClient, HttpConfig};
use fbcomet_mock::{
    Dialect, Exchange, Handler, RandomFaults, Recording, ReplayConfig, ReplayServer, Reply, Request, RequestSpec,
    ResponseSpec, Server, ServerConfig, Stream, stream_of,
};
use fbcomet_receiver::{Backoff, Config, Endpoint, Listener, Output};

fn load(name: &str) -> Recording {
    let path = format!("{}/../../fixtures/sessions/{name}.json", env!("CARGO_MANIFEST_DIR"));
    Recording::load(path).expect("a bundled session")
}

fn quick(mut config: Config) -> Config {
    config.backoff = Backoff { initial: Duration::from_millis(2), max: Duration::from_millis(20) };
    config.rng_seed = Some(1);
    config
}

/// The events a session's channel answers hold, in order, duplicates by
/// msgID dropped: what a receiver must deliver.
fn expected_events(session: &Recording) -> Vec<Event<'static>> {
    let mut seen = std::collections::HashSet::new();
    let mut events = Vec::new();
    for exchange in channel_exchanges(session) {
        let body = exchange.response.full_body();
        let mut decoder = fbcomet_codec::StreamDecoder::new();
        decoder.push(body.as_bytes());
        while let Ok(Some(Body::Frame(frame))) = decoder.next_body() {
            let mut frames = vec![frame.into_owned()];
            while let Some(frame) = frames.pop() {
                match frame.kind {
                    FrameKind::Msg { events: evs, .. } => {
                        for e in evs {
                            if e.msg_id().is_none_or(|id| seen.insert(id.to_owned())) {
                                events.push(e);
                            }
                        }
                    }
                    FrameKind::Batched { frames: inner } => frames.extend(inner.into_iter().rev()),
                    _ => {}
                }
            }
        }
    }
    events
}

fn channel_exchanges(session: &Recording) -> impl Iterator<Item = &Exchange> {
    session.exchanges.iter().filter(|e| stream_of(e.request.host.as_deref(), &e.request.path) == Stream::Channel)
}

/// The session with its channel exchanges only (the receiver polls; it
/// does not log in or post).
fn channel_only(session: &Recording) -> Recording {
    Recording { exchanges: channel_exchanges(session).cloned().collect(), ..session.clone() }
}

async fn receive(listener: &mut Listener, count: usize, limit: Duration) -> Vec<Event<'static>> {
    let mut events = Vec::new();
    let deadline = tokio::time::Instant::now() + limit;
    while events.len() < count {
        match tokio::time::timeout_at(deadline, listener.next()).await {
            Err(_) => panic!("only {} of {count} events before the deadline: {:?}", events.len(), listener.stats()),
            Ok(None) => panic!("the listener ended: {:?}", listener.stats()),
            Ok(Some(Output::Event(d))) => events.push(d.event),
            Ok(Some(Output::RenewNeeded { .. })) => listener.renew(None, None),
            Ok(Some(_)) => {}
        }
    }
    events
}

#[tokio::test]
async fn every_bundled_sessions_channel_is_received_in_order() {
    for name in ["2008-login-chat", "2008-multi-event-frame", "pull-lb-sticky"] {
        let full = load(name);
        let session = channel_only(&full);
        let want = expected_events(&session);
        assert!(!want.is_empty(), "{name} has events");
        // The replay serves https through CONNECT with a CA of the test's.
        let ca = fbcomet_mock::tls::Authority::load_or_create(
            &std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
                .join(format!("fbcomet-receiver-ca-{}", std::process::id())),
        )
        .expect("a CA");
        let tls = fbcomet_mock::ServerConfig { tls: Some(ca.server_config()), ..Default::default() };
        let addr = "127.0.0.1:0".parse().expect("addr");
        let server =
            ReplayServer::bind(addr, session.clone(), ReplayConfig::default().speed(0.0), tls).await.expect("start");

        // The real host names, through fbcomet as the proxy: the 2008
        // channel over http, /pull over https (its default base).
        let endpoint = match session.dialect {
            Dialect::Channel => Endpoint::channel(session.channel.expect("a channel")),
            Dialect::Pull => Endpoint::pull(),
        };
        let config = HttpConfig { proxy: Some(server.url().parse().expect("url")), ..HttpConfig::default() };
        let http = HttpClient::new(config.trust_pem(ca.ca_pem()).expect("the CA"));
        let mut config = quick(Config::new(session.uid, endpoint));
        if session.dialect == Dialect::Pull {
            // The session's pulls start at 0, as the clients of the era did.
            config.start_seq = Some(0);
        }
        let mut listener = Listener::new(config, http).expect("config");
        let got = receive(&mut listener, want.len(), Duration::from_secs(20)).await;
        assert_eq!(got, want, "{name}");
        // Let the receiver make the polls that come after the last event.
        let _ = tokio::time::timeout(Duration::from_millis(300), async {
            loop {
                if listener.next().await.is_none() {
                    break;
                }
            }
        })
        .await;
        let report = server.shutdown().await;
        assert!(report.unused.is_empty(), "{name}: {report}");
    }
}

#[tokio::test]
async fn a_session_is_received_in_plain_form_too() {
    let session = channel_only(&load("2008-multi-event-frame"));
    let want = expected_events(&session);
    let server = ReplayServer::start(session.clone(), ReplayConfig::default().speed(0.0)).await.expect("start");
    let endpoint = Endpoint::channel(15).with_base(server.url());
    let mut listener = Listener::new(quick(Config::new(session.uid, endpoint)), HttpClient::new(HttpConfig::default()))
        .expect("config");
    assert_eq!(receive(&mut listener, want.len(), Duration::from_secs(20)).await, want);
    let stats = listener.stats().clone();
    assert_eq!(stats.events, want.len() as u64);
    assert_eq!(stats.retries, 0);
}

/// A session of `total` message events in frames of one to four, from a
/// seeded generator, with continue answers mixed in.
fn long_session(total: usize) -> Recording {
    let mut exchanges = vec![poll(-1, r#"for (;;);{"t":"refresh","seq":0}"#.to_owned())];
    let mut seq = 0usize;
    let mut state = 0x2008u64;
    let mut next = || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    while seq < total {
        if next() % 5 == 0 {
            exchanges.push(poll(seq as i64, r#"for (;;);{"t":"continue"}"#.to_owned()));
        }
        let n = (1 + next() % 4).min(total - seq);
        let events: Vec<String> = (seq..seq + n)
            .map(|i| {
                format!(
                    r#"{{"type":"msg","msg":{{"text":"message {i} & \u00e9","time":{},"clientTime":1,"msgID":"{i}"}},"from":2002,"to":1001}}"#,
                    1_209_557_234_412u64 + i as u64
                )
            })
            .collect();
        exchanges.push(poll(seq as i64, format!(r#"for (;;);{{"t":"msg","c":"p_1001","ms":[{}]}}"#, events.join(","))));
        seq += n;
    }
    Recording {
        name: "long".into(),
        description: format!("{total} messages"),
        provenance: "generated by the test".into(),
        dialect: Dialect::Channel,
        uid: 1001,
        channel: Some(7),
        exchanges,
    }
}

fn poll(seq: i64, body: String) -> Exchange {
    Exchange {
        note: String::new(),
        request: RequestSpec {
            method: "GET".into(),
            host: Some("0.channel07.facebook.com".into()),
            path: format!("/x/{{ANY}}/false/p_1001={seq}"),
            headers: Vec::new(),
            form: Vec::new(),
        },
        response: ResponseSpec { status: 200, headers: Vec::new(), body, hold_ms: 0, chunks: Vec::new(), fault: None },
    }
}

#[tokio::test]
async fn a_thousand_events_through_a_fifth_of_failing_polls_arrive_exactly_once_in_order() {
    let session = long_session(1000);
    let config = ReplayConfig::default().speed(0.0).faults(RandomFaults::new(0.2, 42));
    let server = ReplayServer::start(session.clone(), config).await.expect("start");
    let http = HttpClient::new(HttpConfig { proxy: Some(server.url().parse().expect("url")), ..HttpConfig::default() });
    let mut listener = Listener::new(quick(Config::new(1001, Endpoint::channel(7))), http).expect("config");

    let got = receive(&mut listener, 1000, Duration::from_secs(60)).await;
    let ids: Vec<String> = got.iter().map(|e| e.msg_id().expect("an id").to_owned()).collect();
    let want: Vec<String> = (0..1000).map(|i| i.to_string()).collect();
    assert_eq!(ids, want, "every message once, in order");
    assert!(got.iter().all(|e| e.as_message().is_some_and(|m| m.text.ends_with("& \u{e9}"))));

    let stats = listener.stats().clone();
    let report = server.shutdown().await;
    println!(
        "polls {}, retries {}, faults injected {}, duplicates dropped {}",
        stats.polls, stats.retries, report.faults_injected, stats.duplicates
    );
    assert!(report.faults_injected > 50, "{report}");
    assert!(stats.retries > 0);
    assert_eq!(stats.events, 1000);
}

/// Hangs its first poll forever, answers the next at once.
struct HangsOnce(AtomicUsize);

impl Handler for HangsOnce {
    async fn handle(&self, request: Request) -> Reply {
        let n = self.0.fetch_add(1, Ordering::SeqCst);
        let seq = request.path.rsplit('=').next().unwrap_or("").to_owned();
        match (n, seq.as_str()) {
            (0, _) => Reply::ok("for (;;);{\"t\":\"continue\"}").hold(Duration::from_secs(3600)),
            (_, "-1") => Reply::ok("for (;;);{\"t\":\"refresh\",\"seq\":3}"),
            _ => Reply::ok(format!(
                "for (;;);{{\"t\":\"msg\",\"c\":\"p_1001\",\"ms\":[{{\"type\":\"msg\",\"msg\":{{\"text\":\"after the hang at {seq}\",\"msgID\":\"{n}\"}},\"from\":2,\"to\":1001}}]}}"
            ))
            .hold(Duration::from_millis(50)),
        }
    }
}

#[tokio::test]
async fn a_poll_that_hangs_past_the_hold_is_abandoned_and_retried() {
    let server = Server::bind(
        "127.0.0.1:0".parse().expect("addr"),
        Arc::new(HangsOnce(AtomicUsize::new(0))),
        ServerConfig::default(),
    )
    .await
    .expect("bind");
    let mut config =
        quick(Config::new(1001, Endpoint::channel(7).with_base(format!("http://{}", server.local_addr()))));
    config.hold = Duration::from_millis(200);
    config.hold_margin = Duration::from_millis(100);
    let mut listener = Listener::new(config, HttpClient::new(HttpConfig::default())).expect("config");
    let mut saw_timeout = false;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let event = loop {
        match tokio::time::timeout_at(deadline, listener.next()).await.expect("in time") {
            Some(Output::PollFailed { failure: fbcomet_receiver::Failure::Timeout, .. }) => saw_timeout = true,
            Some(Output::Event(d)) => break d,
            Some(_) => {}
            None => panic!("ended"),
        }
    };
    assert!(saw_timeout, "the hung poll was abandoned");
    assert_eq!(event.seq, 3);
    assert_eq!(event.event.as_message().map(|m| m.text.to_string()).as_deref(), Some("after the hang at 3"));
    listener.shutdown();
    assert!(listener.next().await.is_none());
}

#[tokio::test]
async fn an_unreachable_server_ends_in_a_lost_session() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = closed.local_addr().expect("addr");
    drop(closed);
    let mut config = quick(Config::new(1001, Endpoint::channel(7).with_base(format!("http://{addr}"))));
    config.give_up_after = Duration::from_millis(300);
    let mut listener = Listener::new(config, HttpClient::new(HttpConfig::default())).expect("config");
    let mut failures = 0;
    loop {
        match tokio::time::timeout(Duration::from_secs(20), listener.next()).await.expect("in time") {
            Some(Output::PollFailed { failure: fbcomet_receiver::Failure::Connect(_), .. }) => failures += 1,
            Some(Output::Lost { last }) => {
                assert!(matches!(last, fbcomet_receiver::Failure::Connect(_)), "{last}");
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(failures > 0);
    assert!(listener.next().await.is_none());
}
