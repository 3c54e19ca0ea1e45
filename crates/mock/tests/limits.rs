//! What an attacker or a careless client can do to fbcomet's servers, and
//! what they do about it: slow bodies, hoarded connections, `Expect:
//! 100-continue` for a body over the limit, floods of unmatched requests,
//! answers that fail, counters for strangers.

mod support;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fbcomet_mock::{
    EmulatorConfig, EmulatorServer, Handler, Recording, ReplayConfig, ReplayServer, Reply, Request, Server,
    ServerConfig, World,
};
use support::{Form, send};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// A connection from the loopback address `from` (127.0.0.x): each such
/// address is a client of its own to the server.
async fn connect_from(from: [u8; 4], to: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    socket.bind(SocketAddr::from((from, 0))).expect("bind a loopback source");
    socket.connect(to).await.expect("connect")
}

/// Sends the headers of a POST that declares a 1 MiB body, and `sent`
/// bytes of it.
async fn stall(tcp: &mut TcpStream, sent: usize) {
    tcp.write_all(b"POST /login.php HTTP/1.1\r\nHost: www.facebook.com\r\nContent-Length: 1048576\r\n\r\n")
        .await
        .expect("write");
    tcp.write_all(&vec![b'a'; sent]).await.expect("write");
}

/// Whether the server closed `tcp` (or answered and closed) within `within`.
async fn closed(tcp: &mut TcpStream, within: Duration) -> Option<String> {
    let mut buf = Vec::new();
    match tokio::time::timeout(within, tcp.read_to_end(&mut buf)).await {
        Ok(_) => Some(String::from_utf8_lossy(&buf).into_owned()),
        Err(_) => None,
    }
}

async fn emulator(config: ServerConfig) -> EmulatorServer {
    EmulatorServer::bind("127.0.0.1:0".parse().expect("addr"), &World::default(), EmulatorConfig::default(), config)
        .await
        .expect("start")
}

#[tokio::test]
async fn a_body_that_never_ends_is_cut_off_with_408() {
    let server = emulator(ServerConfig { body_timeout: Duration::from_millis(300), ..ServerConfig::default() }).await;
    let mut tcp = TcpStream::connect(server.addr()).await.expect("connect");
    stall(&mut tcp, 1000).await;
    let started = Instant::now();
    let answer = closed(&mut tcp, Duration::from_secs(5)).await.expect("closed in time");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(3));
    let ok = send(server.addr(), Form::Plain, "GET", "www.facebook.com", "/login.php", &[]).await;
    assert_eq!(ok.status, Some(200), "the server goes on");
}

#[tokio::test]
async fn hoarded_connections_are_shed_oldest_idle_first_and_good_clients_go_on() {
    let config = ServerConfig { max_connections: 12, max_connections_per_address: 4, ..ServerConfig::default() };
    let server = emulator(config).await;
    // An attacker at 127.0.0.2 opens four stalled uploads, then more.
    let mut hoard = Vec::new();
    for _ in 0..4 {
        let mut tcp = connect_from([127, 0, 0, 2], server.addr()).await;
        stall(&mut tcp, 1).await;
        hoard.push(tcp);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut fifth = connect_from([127, 0, 0, 2], server.addr()).await;
    stall(&mut fifth, 1).await;
    assert!(
        closed(&mut hoard[0], Duration::from_secs(2)).await.is_some(),
        "the oldest idle one of the address is shed"
    );
    assert!(closed(&mut hoard[3], Duration::from_millis(200)).await.is_none(), "the newer ones stay");
    // Attackers at other addresses fill the server: the oldest idle go.
    let mut others = Vec::new();
    for n in 3..9u8 {
        let mut tcp = connect_from([127, 0, 0, n], server.addr()).await;
        stall(&mut tcp, 1).await;
        others.push(tcp);
    }
    // A good client is served all along.
    for _ in 0..5 {
        let ok = send(server.addr(), Form::Plain, "GET", "www.facebook.com", "/login.php", &[]).await;
        assert_eq!(ok.status, Some(200), "{:?}", ok.error);
    }
    drop((hoard, fifth, others));
    server.shutdown().await;
}

#[tokio::test]
async fn expect_continue_over_the_limit_gets_413_not_100() {
    let config = ServerConfig { max_body: 1024, ..ServerConfig::default() };
    let server = emulator(config).await;
    let mut tcp = TcpStream::connect(server.addr()).await.expect("connect");
    tcp.write_all(
        b"POST /ajax/chat/send.php HTTP/1.1\r\nHost: www.facebook.com\r\nContent-Length: 2000000\r\nExpect: 100-continue\r\n\r\n",
    )
    .await
    .expect("write");
    let mut first = [0u8; 12];
    tokio::time::timeout(Duration::from_secs(5), tcp.read_exact(&mut first)).await.expect("in time").expect("read");
    assert_eq!(&first, b"HTTP/1.1 413");
}

#[tokio::test]
async fn the_counters_are_for_this_machine_only() {
    let emulator = fbcomet_mock::Emulator::new(&World::default(), EmulatorConfig::default());
    let request = |from: IpAddr| {
        let (parts, ()) = hyper::Request::get("/fbcomet/stats").body(()).expect("request").into_parts();
        Request::from_http(&parts, bytes::Bytes::new(), Some(SocketAddr::from((from, 40000))))
    };
    assert_eq!(emulator.handle(request([127, 0, 0, 1].into())).await.status, 200);
    assert_eq!(emulator.handle(request([192, 0, 2, 7].into())).await.status, 403);
}

#[tokio::test]
async fn a_flood_of_unmatched_requests_keeps_a_bounded_report() {
    let server = ReplayServer::start(Recording::parse(
        r#"{"name":"one","dialect":"channel","uid":1,"exchanges":[{"request":{"path":"/home.php"},"response":{"body":"x"}}]}"#,
        "inline",
    )
    .expect("session"), ReplayConfig::default().speed(0.0))
    .await
    .expect("start");
    let long_path = format!("/{}", "a".repeat(8 * 1024));
    for _ in 0..300 {
        let answer = send(server.addr(), Form::Plain, "GET", "h", &long_path, &[]).await;
        assert_eq!(answer.status, Some(400));
    }
    let report = server.shutdown().await;
    assert_eq!((report.unmatched_total, report.unmatched.len()), (300, fbcomet_mock::UNMATCHED_SAMPLE));
    assert!(report.unmatched.iter().all(|u| u.request.len() < 400), "requests are clipped in the report");
    assert!(report.to_string().len() < 200_000, "{} bytes", report.to_string().len());
    assert!(!report.is_clean());
}

struct Informational;

impl Handler for Informational {
    async fn handle(&self, _: Request) -> Reply {
        Reply::with_status(100, "")
    }
}

#[tokio::test]
async fn an_answer_that_cannot_be_given_is_a_counted_failure() {
    let server = Server::bind("127.0.0.1:0".parse().expect("addr"), Arc::new(Informational), ServerConfig::default())
        .await
        .expect("bind");
    let answer = send(server.local_addr(), Form::Plain, "GET", "h", "/", &[]).await;
    assert_eq!(answer.status, Some(500));
    assert_eq!(server.failed_answers(), 1);
    let err = Recording::parse(
        r#"{"name":"x","dialect":"channel","uid":1,"exchanges":[{"request":{"path":"/"},"response":{"status":100}}]}"#,
        "x.json",
    )
    .expect_err("a 100 is not an answer");
    assert!(err.to_string().contains("status 100 is not the status of an answer"), "{err}");
}
