//! Resource exhaustion: slow uploads that hoard connections and memory,
//! and a flood of wrong passwords, against a server while two users chat.
//! The chat goes on with no message lost, memory stays bounded, the
//! attackers are shed and throttled. The figures are printed
//! (`cargo test --test exhaustion -- --nocapture`).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use fbcomet::{Client, ClientConfig, ClientEvent};
use fbcomet_chat::ChatConfig;
use fbcomet_mock::{EmulatorConfig, EmulatorServer, ServerConfig, World};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpSocket, TcpStream};

/// This process's resident memory, in KiB (Linux; 0 elsewhere).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| l.strip_prefix("VmRSS:")).map(|v| v.trim().trim_end_matches("kB").trim().to_owned())
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// A connection from the loopback address `127.0.0.{n}`.
async fn connect_from(n: u8, to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from(([127, 0, 0, n], 0)))?;
    socket.connect(to).await
}

/// Attack 1: slow uploads from `addresses`, each declaring a 1 MiB body and
/// sending most of it, then nothing; as soon as one is cut, another.
async fn hoard(to: SocketAddr, n: u8, until: Instant) -> usize {
    let mut opened = 0;
    let mut held = Vec::new();
    while Instant::now() < until {
        let Ok(mut tcp) = connect_from(n, to).await else { continue };
        let head = "POST /ajax/chat/send.php HTTP/1.1\r\nHost: www.facebook.com\r\nContent-Length: 1048576\r\n\r\n";
        if tcp.write_all(head.as_bytes()).await.is_err() || tcp.write_all(&vec![b'x'; 200 * 1024]).await.is_err() {
            continue;
        }
        opened += 1;
        held.push(tcp);
        if held.len() > 80 {
            held.remove(0);
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    opened
}

/// Attack 2: wrong passwords for Alice on one keep-alive connection, as
/// fast as they are answered. How many were answered 429.
async fn guess(to: SocketAddr, n: u8, until: Instant) -> (usize, usize) {
    let (mut tries, mut throttled) = (0, 0);
    while Instant::now() < until {
        let Ok(tcp) = connect_from(n, to).await else { continue };
        let Ok((mut sender, conn)) = hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await else { continue };
        tokio::spawn(conn);
        while Instant::now() < until {
            let request = hyper::Request::post("/login.php")
                .header("host", "www.facebook.com")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Full::new(bytes::Bytes::from(format!("email=alice%40example.com&pass=guess{tries}"))))
                .expect("request");
            let Ok(answer) = sender.send_request(request).await else { break };
            tries += 1;
            if answer.status() == 429 {
                throttled += 1;
            }
            let _ = answer.into_body().collect().await;
        }
    }
    (tries, throttled)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chat_goes_on_while_attackers_are_shed_and_throttled() {
    let limits = ServerConfig {
        body_timeout: Duration::from_millis(1500),
        max_connections: 300,
        max_connections_per_address: 60,
        ..ServerConfig::default()
    };
    let chat = ChatConfig { hold: Duration::from_millis(500), ..ChatConfig::default() };
    let server = EmulatorServer::bind(
        "127.0.0.1:0".parse().expect("addr"),
        &World::default(),
        EmulatorConfig { chat, faults: None },
        limits,
    )
    .await
    .expect("start");
    let url: url::Url = server.url().parse().expect("url");
    let config = ClientConfig { presence_interval: None, ..ClientConfig::new(url) };
    let alice = Client::login(config.clone(), "alice@example.com", "alice").await.expect("login");
    let bob = Client::login(config, "bob@example.com", "bob").await.expect("login");
    let mut events = bob.events().expect("events");
    assert!(events.ready().await);
    let before = rss_kib();

    let addr = server.addr();
    let until = Instant::now() + Duration::from_secs(6);
    let hoarders: Vec<_> = (2..=9u8).map(|n| tokio::spawn(hoard(addr, n, until))).collect();
    let guesser = tokio::spawn(guess(addr, 20, until));

    // Meanwhile Alice and Bob chat.
    const MESSAGES: usize = 60;
    let mut got = Vec::new();
    let mut peak = before;
    for n in 0..MESSAGES {
        alice.send(1002, &format!("m{n}")).await.unwrap_or_else(|e| panic!("send {n} during the attacks: {e}"));
        while got.len() <= n {
            match tokio::time::timeout(Duration::from_secs(10), events.next()).await {
                Ok(Some(ClientEvent::Message { message, own_echo: false })) => got.push(message.text.to_string()),
                Ok(Some(ClientEvent::Gap { .. } | ClientEvent::SessionLost { .. })) => {
                    panic!("lost during the attacks")
                }
                Ok(Some(_)) => {}
                other => panic!("Bob got nothing in 10 s during the attacks: {other:?}"),
            }
        }
        peak = peak.max(rss_kib());
        tokio::time::sleep(Duration::from_millis(80)).await;
    }
    let mut opened = 0;
    for h in hoarders {
        opened += h.await.expect("hoarder");
    }
    let (tries, throttled) = guesser.await.expect("guesser");
    let (open, shed, refused) = server.server().connections();
    let after = rss_kib();
    println!(
        "exhaustion: {MESSAGES} messages through; {opened} slow uploads opened, {shed} connections shed, {refused} refused, {open} open at the end; \
         {tries} wrong passwords, {throttled} throttled (429); memory {before} KiB before, peak {peak} KiB, {after} KiB after"
    );
    let expected: Vec<String> = (0..MESSAGES).map(|n| format!("m{n}")).collect();
    assert_eq!(got, expected, "every message once, in order");
    assert!(shed + refused > 0, "the hoarders were shed");
    assert!(throttled * 10 > tries * 9, "nearly every guess throttled: {throttled} of {tries}");
    // At most every allowed connection with a body in memory, and far less.
    assert!(peak.saturating_sub(before) < 300 * 1024, "memory grew by {} KiB", peak - before);
    server.shutdown().await;
}
