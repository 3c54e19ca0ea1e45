//! Abuse: oversized bodies, malformed forms and URLs, clients that never
//! finish their headers, thousands of junk requests; the server answers
//! each with a clear error or closes it, never panics, and keeps serving
//! two users who chat throughout.

use std::time::Duration;

use fbcomet::{Client, ClientConfig, ClientEvent};
use fbcomet_mock::{EmulatorConfig, EmulatorServer, ServerConfig, World};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Writes `request`, reads until the server answers or closes (or 5 s
/// pass); returns the status code, if an answer came.
async fn raw(addr: std::net::SocketAddr, request: Vec<u8>) -> Option<u16> {
    let mut tcp = TcpStream::connect(addr).await.ok()?;
    let _ = tcp.write_all(&request).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut answer)).await;
    let text = String::from_utf8_lossy(&answer);
    text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

fn junk(rng: &mut SmallRng, i: usize) -> Vec<u8> {
    let paths = [
        "/ajax/chat/send.php",
        "/x/1/false/p_1001=5",
        "/x/%ZZ/false/p_abc=def",
        "/x/1/false/p_1001=99999999999999999999999",
        "/pull?channel=p_&seq=-",
        "/pull?channel=p_1001&seq=1&sticky_token=%FF%FE",
        "/home.php?%%%",
        "/../../etc/passwd",
        "/ajax/presence/update.php",
        "/ajax/chat/history.php?id=1002",
    ];
    let forms =
        ["%%%&&==", "msg_text=%E0%A4&to=abc", "to=1002&msg_text=", "=&=&=", "a=b=c&&d", "post_form_id=x&to=1002&typ=9"];
    match i % 8 {
        0 => (0..rng.random_range(1..300)).map(|_| rng.random()).collect(),
        1 => format!("{} {} HTTP/1.1\r\nConnection: close\r\n\r\n", ["GET", "POST", "BREW", "DELETE", "\u{7f}"][i % 5], paths[i % paths.len()]).into_bytes(),
        2 => {
            let form = forms[i % forms.len()];
            format!(
                "POST {} HTTP/1.1\r\nHost: www.facebook.com\r\nCookie: xs=nope; c_user=%%; =\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
                paths[i % paths.len()],
                form.len()
            )
            .into_bytes()
        }
        3 => format!("GET /x/{}/false/p_1001=0 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", "a".repeat(10_000)).into_bytes(),
        4 => b"GET http://example.com/elsewhere HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n".to_vec(),
        5 => format!("GET / HTTP/1.1\r\nHost: x\r\n{}: {}\r\nConnection: close\r\n\r\n", "X-Junk", "y".repeat(100_000)).into_bytes(),
        6 => b"POST /ajax/chat/send.php HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n".to_vec(),
        _ => b"CONNECT www.facebook.com:443 HTTP/1.1\r\nHost: www.facebook.com:443\r\nConnection: close\r\n\r\n".to_vec(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_survives_abuse_and_keeps_serving() {
    let server_config = ServerConfig {
        header_read_timeout: Duration::from_millis(500),
        max_body: 64 * 1024,
        ..ServerConfig::default()
    };
    let server = EmulatorServer::bind(
        "127.0.0.1:0".parse().expect("addr"),
        &World::default(),
        EmulatorConfig::with_hold(Duration::from_millis(500)),
        server_config,
    )
    .await
    .expect("emulator");
    let addr = server.addr();
    let config = |url: &str| ClientConfig { presence_interval: None, ..ClientConfig::new(url.parse().expect("url")) };
    let alice = Client::login(config(&server.url()), "alice@example.com", "alice").await.expect("alice");
    let bob = Client::login(config(&server.url()), "bob@example.com", "bob").await.expect("bob");
    let mut alice_events = alice.events().expect("events");
    while !server.emulator().is_online(1001) {
        tokio::select! {
            _ = alice_events.next() => {}
            () = tokio::time::sleep(Duration::from_millis(5)) => {}
        }
    }

    // The well-behaved pair, all through the abuse.
    const MESSAGES: usize = 50;
    let chatting = tokio::spawn(async move {
        let receive = async {
            let mut got = Vec::new();
            while got.len() < MESSAGES {
                match tokio::time::timeout(Duration::from_secs(30), alice_events.next()).await.expect("in time") {
                    Some(ClientEvent::Message { message, .. }) => got.push(message.text.to_string()),
                    Some(_) => {}
                    None => panic!("alice's stream ended"),
                }
            }
            got
        };
        let send = async {
            for i in 0..MESSAGES {
                bob.send(1001, &format!("still here {i}")).await.expect("send during the abuse");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        tokio::join!(receive, send).0
    });

    // Clients that never finish their headers.
    let stalled: Vec<_> = (0..50)
        .map(|_| {
            tokio::spawn(async move {
                let mut tcp = TcpStream::connect(addr).await.expect("connect");
                tcp.write_all(b"GET /home.php HTTP/1.1\r\nHost: www.fa").await.expect("write");
                let mut buf = Vec::new();
                tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut buf)).await.is_ok()
            })
        })
        .collect();

    // Oversized bodies.
    let big = vec![b'x'; 200 * 1024];
    let mut request = format!(
        "POST /ajax/chat/send.php HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        big.len()
    )
    .into_bytes();
    request.extend(&big);
    assert_eq!(raw(addr, request).await, Some(413));

    // Thousands of junk requests, some at a time.
    let mut statuses = std::collections::BTreeMap::<String, usize>::new();
    let mut rng = SmallRng::seed_from_u64(7);
    let requests: Vec<Vec<u8>> = (0..2000).map(|i| junk(&mut rng, i)).collect();
    for batch in requests.chunks(50) {
        let answers = futures_join(batch.iter().cloned().map(|r| tokio::spawn(raw(addr, r))).collect()).await;
        for status in answers {
            *statuses.entry(status.map_or("closed".to_owned(), |s| s.to_string())).or_default() += 1;
        }
    }
    println!("junk answered: {statuses:?}");
    assert!(!statuses.contains_key("500"), "no handler panicked: {statuses:?}");
    assert!(statuses.keys().all(|s| s == "closed"
        || s.starts_with('2')
        || s.starts_with('3')
        || s.starts_with('4')
        || s.starts_with('5')));

    for s in stalled {
        assert!(s.await.expect("task"), "a stalled client was cut off");
    }
    let got = chatting.await.expect("the chat went on");
    assert_eq!(got, (0..MESSAGES).map(|i| format!("still here {i}")).collect::<Vec<_>>());
    server.shutdown().await;
}

async fn futures_join(tasks: Vec<tokio::task::JoinHandle<Option<u16>>>) -> Vec<Option<u16>> {
    let mut out = Vec::with_capacity(tasks.len());
    for t in tasks {
        out.push(t.await.unwrap_or(None));
    }
    out
}
