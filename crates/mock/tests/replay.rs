//! The replay server, driven by a plain hyper client.

mod support;

use std::sync::Arc;
use std::time::Duration;

use fbcomet_mock::{
    Exchange, Fault, FaultKind, Handler, Mode, RandomFaults, Recording, ReplayConfig, ReplayServer, Reply, Request,
    RequestSpec, ResponseSpec, Server, ServerConfig,
};
use support::{Form, instantiate, load, send};

fn at_once() -> ReplayConfig {
    ReplayConfig::default().speed(0.0)
}

/// Plays every exchange of a session in order and checks each answer.
async fn play(session: &Recording, server: &ReplayServer, form_for: impl Fn(usize) -> Form) {
    for (n, exchange) in session.exchanges.iter().enumerate() {
        let (host, target, fields) = instantiate(&exchange.request, n);
        let answer = send(server.addr(), form_for(n), &exchange.request.method, &host, &target, &fields).await;
        let name = format!("{} #{n}", session.name);
        match &exchange.response.fault {
            Some(Fault::Status { status }) => assert_eq!(answer.status, Some(*status), "{name}"),
            Some(other) => panic!("{name}: no test here for {other:?}"),
            None => {
                assert_eq!(answer.error, None, "{name}");
                assert_eq!(answer.status, Some(exchange.response.status), "{name}: {}", answer.text());
                assert_eq!(answer.text(), exchange.response.full_body(), "{name}");
                for (k, v) in &exchange.response.headers {
                    assert!(
                        answer.headers.iter().any(|(hk, hv)| hk.eq_ignore_ascii_case(k) && hv == v),
                        "{name}: header {k}: {v} missing"
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn every_bundled_session_replays_in_plain_and_proxy_form() {
    for name in support::SESSIONS {
        for form in [Form::Plain, Form::Proxy] {
            let session = load(name);
            let server = ReplayServer::start(session.clone(), at_once()).await.expect("start");
            play(&session, &server, |_| form).await;
            let report = server.shutdown().await;
            assert!(report.is_clean(), "{name} ({form:?}): {report}");
            assert_eq!(report.used, session.exchanges.len());
        }
    }
}

#[tokio::test]
async fn forms_can_alternate_within_a_session() {
    let session = load("2008-login-chat");
    let server = ReplayServer::start(session.clone(), at_once()).await.expect("start");
    play(&session, &server, |n| if n % 2 == 0 { Form::Plain } else { Form::Proxy }).await;
    assert!(server.shutdown().await.is_clean());
}

#[tokio::test]
async fn holds_are_kept_scaled_by_speed() {
    // 2008-login-chat holds the first data poll 12.35 s and the continue
    // 55.42 s; at speed 100 that is 123.5 ms and 554.2 ms.
    let session = load("2008-login-chat");
    let server = ReplayServer::start(session.clone(), ReplayConfig::default().speed(100.0)).await.expect("start");
    for (n, exchange) in session.exchanges.iter().enumerate() {
        let (host, target, fields) = instantiate(&exchange.request, n);
        let answer = send(server.addr(), Form::Proxy, &exchange.request.method, &host, &target, &fields).await;
        let hold = Duration::from_secs_f64(exchange.response.hold_ms as f64 / 1000.0 / 100.0);
        assert!(answer.elapsed >= hold, "#{n}: answered after {:?}, held {hold:?}", answer.elapsed);
    }
    assert!(server.shutdown().await.is_clean());
}

#[tokio::test]
async fn chunks_arrive_in_order_and_apart() {
    // pull-lb-sticky #2: a heartbeat, then 1.5 s later a msg frame; at
    // speed 10 the gap is 150 ms, and the heartbeat is received alone.
    let session = load("pull-lb-sticky");
    let server = ReplayServer::start(session.clone(), ReplayConfig::default().speed(10.0)).await.expect("start");
    let mut chunked = None;
    for (n, exchange) in session.exchanges.iter().enumerate() {
        let (host, target, fields) = instantiate(&exchange.request, n);
        let answer = send(server.addr(), Form::Proxy, &exchange.request.method, &host, &target, &fields).await;
        if !exchange.response.chunks.is_empty() {
            chunked = Some((answer, exchange.response.chunks.clone()));
        }
    }
    let (answer, chunks) = chunked.expect("a chunked exchange");
    assert_eq!(answer.frames.len(), chunks.len(), "{:?}", answer.frames);
    for ((_, got), want) in answer.frames.iter().zip(&chunks) {
        assert_eq!(got, want.data.as_bytes());
    }
    let gap = answer.frames[1].0 - answer.frames[0].0;
    assert!(gap >= Duration::from_millis(150), "chunks {gap:?} apart");
    // Frames decode one by one as they come, as a receiver would.
    let mut decoder = fbcomet_codec::StreamDecoder::new();
    let mut kinds = Vec::new();
    for (_, frame) in &answer.frames {
        decoder.push(frame);
        while let Some(body) = decoder.next_body().expect("decodes") {
            if let fbcomet_codec::Body::Frame(f) = body {
                kinds.push(format!("{}@{:?}", f.kind_name(), f.seq));
            }
        }
    }
    assert_eq!(kinds, ["heartbeat@None", "msg@Some(2)"]);
    assert!(server.shutdown().await.is_clean());
}

fn one_exchange(path: &str, body: &str, fault: Option<Fault>) -> Exchange {
    Exchange {
        note: String::new(),
        request: RequestSpec {
            method: "GET".into(),
            host: Some("0.channel01.facebook.com".into()),
            path: path.into(),
            headers: Vec::new(),
            form: Vec::new(),
        },
        response: ResponseSpec {
            status: 200,
            headers: vec![("Content-Type".into(), "text/javascript; charset=utf-8".into())],
            body: body.into(),
            hold_ms: 0,
            chunks: Vec::new(),
            fault,
        },
    }
}

fn session_of(exchanges: Vec<Exchange>) -> Recording {
    Recording {
        name: "test".into(),
        description: String::new(),
        provenance: "constructed in the test".into(),
        dialect: fbcomet_mock::Dialect::Channel,
        uid: 1001,
        channel: Some(1),
        exchanges,
    }
}

const MSG: &str = r#"for (;;);{"t":"msg","c":"p_1001","ms":[{"type":"msg","msg":{"text":"a fairly long message to cut in the middle","time":1,"msgID":"7"},"from":2,"to":1001}]}"#;

#[tokio::test]
async fn every_fault_kind_is_acted_out() {
    let faults = [
        Fault::ResetBeforeAnswer,
        Fault::ResetMidBody { after_bytes: Some(40) },
        Fault::Truncate { keep_bytes: Some(30) },
        Fault::Status { status: 502 },
        Fault::Delay { ms: 150 },
        Fault::Dribble { chunk_bytes: 16, pause_ms: 5 },
        Fault::Empty,
    ];
    let exchanges = faults
        .iter()
        .enumerate()
        .map(|(i, f)| one_exchange(&format!("/x/{{ANY}}/false/p_1001={i}"), MSG, Some(f.clone())))
        .collect();
    let server = ReplayServer::start(session_of(exchanges), ReplayConfig::default()).await.expect("start");
    let addr = server.addr();
    let poll = |i: usize| async move {
        send(addr, Form::Plain, "GET", "0.channel01.facebook.com", &format!("/x/5/false/p_1001={i}"), &[]).await
    };

    let reset = poll(0).await;
    assert_eq!(reset.status, None, "no answer before a reset");
    assert!(reset.error.is_some());

    let mid = poll(1).await;
    assert_eq!(mid.status, Some(200));
    assert!(mid.error.is_some(), "the body fails");
    assert!(mid.body.len() <= 40 && MSG.as_bytes().starts_with(&mid.body), "{} bytes", mid.body.len());

    let cut = poll(2).await;
    assert_eq!(cut.status, Some(200));
    assert!(cut.error.is_some(), "a cut body is an error");
    assert_eq!(cut.body, &MSG.as_bytes()[..30]);
    assert!(cut.headers.iter().any(|(k, v)| k == "content-length" && v == &MSG.len().to_string()));

    assert_eq!(poll(3).await.status, Some(502));

    let late = poll(4).await;
    assert_eq!(late.text(), MSG);
    assert!(late.elapsed >= Duration::from_millis(150));

    let dribble = poll(5).await;
    assert_eq!(dribble.text(), MSG);
    assert!(dribble.frames.len() >= MSG.len() / 16, "{} frames", dribble.frames.len());

    let empty = poll(6).await;
    assert_eq!((empty.status, empty.body.len(), empty.error), (Some(200), 0, None));

    let report = server.shutdown().await;
    assert!(report.is_clean(), "{report}");
}

/// Random faults leave undelivered exchanges in place: a client that
/// retries gets every answer, and the same seed fails the same requests.
#[tokio::test]
async fn random_faults_are_seeded_and_retries_get_the_data() {
    async fn run(seed: u64) -> (Vec<String>, fbcomet_mock::Report) {
        let session = load("2008-multi-event-frame");
        let config = at_once().faults(RandomFaults::new(0.5, seed));
        let server = ReplayServer::start(session.clone(), config).await.expect("start");
        let mut outcomes = Vec::new();
        for (n, exchange) in session.exchanges.iter().enumerate() {
            let (host, target, fields) = instantiate(&exchange.request, n);
            let mut tries = 0;
            loop {
                tries += 1;
                assert!(tries < 50, "no answer after 50 tries");
                let answer = send(server.addr(), Form::Proxy, "GET", &host, &target, &fields).await;
                let ok =
                    answer.error.is_none() && answer.status == Some(200) && answer.text() == exchange.response.body;
                outcomes.push(format!("#{n}:{}", if ok { "ok" } else { "failed" }));
                if ok {
                    break;
                }
            }
        }
        (outcomes, server.shutdown().await)
    }
    let (first, report) = run(7).await;
    assert!(report.is_clean(), "{report}");
    assert!(report.faults_injected > 0);
    assert!(first.iter().any(|o| o.ends_with("failed")));
    let (second, _) = run(7).await;
    assert_eq!(first, second, "the same seed fails the same requests");
}

#[tokio::test]
async fn strict_mode_explains_a_mismatch_and_reports_it() {
    let session = load("2008-multi-event-frame");
    let server = ReplayServer::start(session, at_once()).await.expect("start");
    let first =
        send(server.addr(), Form::Proxy, "GET", "0.channel15.facebook.com", "/x/1/false/p_800753867=-1", &[]).await;
    assert_eq!(first.status, Some(200));
    let wrong =
        send(server.addr(), Form::Proxy, "GET", "0.channel15.facebook.com", "/x/1/false/p_800753867=11", &[]).await;
    assert_eq!(wrong.status, Some(400));
    let text = wrong.text();
    assert!(text.contains("no exchange matches GET 0.channel15.facebook.com /x/1/false/p_800753867=11"), "{text}");
    assert!(text.contains("expected next in the channel stream: #1 GET /x/{ANY}/false/p_800753867=10"), "{text}");
    assert!(text.contains("seq: expected 10, got 11"), "{text}");

    let report = server.shutdown().await;
    assert!(!report.is_clean());
    assert_eq!(report.used, 1);
    assert_eq!(report.unused.len(), 4);
    assert_eq!(report.unused[0].index, 1);
    assert_eq!(report.unmatched.len(), 1);
    assert_eq!(report.unmatched[0].differences, ["seq: expected 10, got 11 (path /x/1/false/p_800753867=11)"]);
    let printed = report.to_string();
    assert!(printed.contains("1 of 5 exchanges used, 4 unused, 1 unmatched"), "{printed}");
}

#[tokio::test]
async fn lenient_mode_answers_with_the_fallback() {
    let config = at_once().mode(Mode::Lenient);
    let server = ReplayServer::start(load("2008-multi-event-frame"), config).await.expect("start");
    let poll = send(server.addr(), Form::Plain, "GET", "x", "/x/1/false/p_1=99", &[]).await;
    assert_eq!(poll.text(), r#"for (;;);{"t":"continue"}"#);
    let page = send(server.addr(), Form::Plain, "GET", "x", "/nothing.php", &[]).await;
    assert_eq!(page.status, Some(404));
    let report = server.shutdown().await;
    assert_eq!(report.unmatched.len(), 2, "lenient mode still reports");
}

#[tokio::test]
async fn shutdown_releases_held_polls_at_once() {
    let mut exchange = one_exchange("/x/{ANY}/false/p_1001=0", MSG, None);
    exchange.response.hold_ms = 600_000;
    let server = ReplayServer::start(session_of(vec![exchange]), ReplayConfig::default()).await.expect("start");
    let addr = server.addr();
    let held = tokio::spawn(async move { send(addr, Form::Plain, "GET", "h", "/x/1/false/p_1001=0", &[]).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let report = tokio::time::timeout(Duration::from_secs(20), server.shutdown()).await.expect("shutdown is prompt");
    let answer = held.await.expect("the client task");
    assert_eq!(answer.text(), MSG, "released with its answer");
    assert!(report.is_clean());
}

#[tokio::test]
async fn a_client_that_goes_away_gives_its_exchange_back() {
    let mut exchange = one_exchange("/x/{ANY}/false/p_1001=0", MSG, None);
    exchange.response.hold_ms = 300;
    let server = ReplayServer::start(session_of(vec![exchange]), ReplayConfig::default()).await.expect("start");
    let addr = server.addr();
    // The first client gives up during the hold.
    let impatient = tokio::spawn(async move { send(addr, Form::Plain, "GET", "h", "/x/1/false/p_1001=0", &[]).await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    impatient.abort();
    let _ = impatient.await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    // Its retry gets the same exchange.
    let retry = send(addr, Form::Plain, "GET", "h", "/x/2/false/p_1001=0", &[]).await;
    assert_eq!(retry.text(), MSG);
    let report = server.shutdown().await;
    assert_eq!(report.abandoned, 1);
    assert!(report.is_clean(), "{report}");
}

#[tokio::test]
async fn oversized_bodies_get_413_and_connect_gets_405() {
    let config = ServerConfig { max_body: 1024, ..ServerConfig::default() };
    let server = ReplayServer::bind("127.0.0.1:0".parse().expect("addr"), load("2008-login-chat"), at_once(), config)
        .await
        .expect("start");
    let big = vec![("msg_text".to_owned(), "x".repeat(4096))];
    let answer = send(server.addr(), Form::Plain, "POST", "www.facebook.com", "/ajax/chat/send.php", &big).await;
    assert_eq!(answer.status, Some(413));
    assert!(answer.text().contains("over 1024 bytes"));
    let connect =
        send(server.addr(), Form::Plain, "CONNECT", "www.facebook.com:443", "www.facebook.com:443", &[]).await;
    assert_eq!(connect.status, Some(405));
}

#[tokio::test]
async fn a_slow_client_that_never_finishes_its_headers_is_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let config = ServerConfig { header_read_timeout: Duration::from_millis(200), ..ServerConfig::default() };
    let server = ReplayServer::bind("127.0.0.1:0".parse().expect("addr"), load("2008-login-chat"), at_once(), config)
        .await
        .expect("start");
    let mut tcp = tokio::net::TcpStream::connect(server.addr()).await.expect("connect");
    tcp.write_all(b"GET /login.php HTTP/1.1\r\nHost: www.face").await.expect("write");
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "the server closed the connection");
    // And it still serves others.
    let ok = send(server.addr(), Form::Plain, "GET", "www.facebook.com", "/login.php", &[]).await;
    assert_eq!(ok.status, Some(200));
}

struct Panicky;

impl Handler for Panicky {
    async fn handle(&self, request: Request) -> Reply {
        if request.path == "/boom" {
            panic!("boom");
        }
        Reply::ok("for (;;);{\"t\":\"continue\"}")
    }
}

#[tokio::test]
async fn a_panicking_handler_is_a_500_not_a_dead_server() {
    let server = Server::bind("127.0.0.1:0".parse().expect("addr"), Arc::new(Panicky), ServerConfig::default())
        .await
        .expect("bind");
    let boom = send(server.local_addr(), Form::Plain, "GET", "h", "/boom", &[]).await;
    assert_eq!(boom.status, Some(500));
    let fine = send(server.local_addr(), Form::Plain, "GET", "h", "/fine", &[]).await;
    assert_eq!(fine.status, Some(200));
    server.shutdown().await;
}

#[tokio::test]
async fn many_held_polls_at_once() {
    // 500 clients hold a poll each (lenient fallback: continue after 300 ms).
    let mut config = ReplayConfig::default().mode(Mode::Lenient);
    config.fallback.channel_hold = Duration::from_millis(300);
    // All from 127.0.0.1: past the default cap of connections per address.
    let limits = ServerConfig { max_connections_per_address: 1000, ..ServerConfig::default() };
    let server = ReplayServer::bind("127.0.0.1:0".parse().expect("addr"), session_of(Vec::new()), config, limits)
        .await
        .expect("start");
    let addr = server.addr();
    let clients: Vec<_> = (0..500)
        .map(|i| {
            tokio::spawn(
                async move { send(addr, Form::Plain, "GET", "h", &format!("/x/{i}/false/p_{i}=0"), &[]).await },
            )
        })
        .collect();
    for client in clients {
        let answer = client.await.expect("client");
        assert_eq!(answer.text(), r#"for (;;);{"t":"continue"}"#, "{:?}", answer.error);
    }
    let report = server.shutdown().await;
    assert_eq!((report.unmatched.len(), report.unmatched_total), (fbcomet_mock::UNMATCHED_SAMPLE, 500));
}

#[test]
fn malformed_sessions_are_refused_with_a_clear_error() {
    let err = Recording::parse("{\"name\": 5}", "bad.json").unwrap_err().to_string();
    assert!(err.starts_with("bad.json: line 1, column"), "{err}");
    let err = Recording::parse(
        r#"{"name":"x","dialect":"channel","uid":1,"exchanges":[{"request":{"path":"no-slash"},"response":{}}]}"#,
        "x.json",
    )
    .unwrap_err()
    .to_string();
    assert_eq!(err, "x.json: exchange 0: request path \"no-slash\" does not start with '/'");
    let err =
        Recording::parse(r#"{"name":"x","dialect":"smoke","uid":1,"exchanges":[]}"#, "y.json").unwrap_err().to_string();
    assert!(err.contains("unknown variant `smoke`"), "{err}");
    assert!(Recording::load("/nonexistent.json").unwrap_err().to_string().starts_with("/nonexistent.json: "));
    let _ = FaultKind::ALL;
}

#[tokio::test]
async fn the_last_hold_is_kept_before_the_replay_counts_as_finished() {
    let mut first = one_exchange("/x/{ANY}/false/p_1001=0", MSG, None);
    first.response.hold_ms = 2_000;
    let mut second = one_exchange("/x/{ANY}/false/p_1001=1", MSG, None);
    second.response.hold_ms = 3_000;
    let server =
        ReplayServer::start(session_of(vec![first, second]), ReplayConfig::default().speed(10.0)).await.expect("start");
    let addr = server.addr();
    let client = tokio::spawn(async move {
        let a = send(addr, Form::Plain, "GET", "h", "/x/1/false/p_1001=0", &[]).await;
        let b = send(addr, Form::Plain, "GET", "h", "/x/2/false/p_1001=1", &[]).await;
        (a, b)
    });
    // What the CLI does: wait until finished, then shut down.
    tokio::time::timeout(Duration::from_secs(10), server.finished()).await.expect("finishes");
    let report = server.shutdown().await;
    let (a, b) = client.await.expect("client");
    assert!(a.elapsed >= Duration::from_millis(190), "first hold kept: {:?}", a.elapsed);
    assert!(b.elapsed >= Duration::from_millis(290), "last hold kept, not cut by the shutdown: {:?}", b.elapsed);
    assert_eq!((a.text(), b.text()), (MSG.to_owned(), MSG.to_owned()));
    assert!(report.is_clean(), "{report}");
}

#[tokio::test]
async fn a_huge_hold_at_a_tiny_speed_does_not_overflow() {
    let mut exchange = one_exchange("/x/{ANY}/false/p_1001=0", MSG, None);
    exchange.response.hold_ms = u64::MAX;
    let server =
        ReplayServer::start(session_of(vec![exchange]), ReplayConfig::default().speed(1e-300)).await.expect("start");
    let addr = server.addr();
    let held = tokio::spawn(async move { send(addr, Form::Plain, "GET", "h", "/x/1/false/p_1001=0", &[]).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!held.is_finished(), "held (for a day at most), not failed");
    let report = server.shutdown().await;
    let answer = held.await.expect("client");
    assert_eq!((answer.status, answer.text()), (Some(200), MSG.to_owned()), "released with its answer");
    assert!(report.is_clean(), "{report}");
}
