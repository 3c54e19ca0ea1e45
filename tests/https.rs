//! HTTPS: the library's client logs in and chats over https URL bases,
//! through fbcomet as its HTTPS proxy (CONNECT) and straight to a TLS
//! listener, and the server shrugs off tunnels that go wrong.

use std::sync::Arc;
use std::time::Duration;

use fbcomet::{Client, ClientConfig, ClientEvent};
use fbcomet_mock::tls::Authority;
use fbcomet_mock::{EmulatorConfig, EmulatorServer, Server, ServerConfig, World};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn authority() -> Arc<Authority> {
    fbcomet_e2e::test_ca(env!("CARGO_TARGET_TMPDIR"), "e2e")
}

async fn emulator(ca: &Arc<Authority>, handshake: Duration) -> EmulatorServer {
    let config =
        ServerConfig { tls: Some(ca.server_config()), tls_handshake_timeout: handshake, ..ServerConfig::default() };
    EmulatorServer::bind("127.0.0.1:0".parse().expect("addr"), &World::default(), EmulatorConfig::default(), config)
        .await
        .expect("start")
}

fn trusting(mut config: ClientConfig, ca: &Authority) -> ClientConfig {
    config.http = config.http.trust_pem(ca.ca_pem()).expect("the CA");
    config.presence_interval = None;
    config
}

#[tokio::test]
async fn clients_chat_over_https_through_the_proxy_and_straight() {
    let ca = authority();
    let server = emulator(&ca, Duration::from_secs(10)).await;
    // Alice: the real host names over https, through fbcomet as her proxy.
    let proxy: url::Url = server.url().parse().expect("url");
    let alice_config = ClientConfig {
        www: "https://www.facebook.com".parse().expect("url"),
        channel_base: "https://{ANY}.channel{NN}.facebook.com".to_owned(),
        ..ClientConfig::through_proxy(proxy)
    };
    let alice =
        Client::login(trusting(alice_config, &ca), "alice@example.com", "alice").await.expect("alice over https");
    // Bob: straight to a TLS listener of the same service.
    let direct = Server::bind_tls(
        "127.0.0.1:0".parse().expect("addr"),
        Arc::new(server.emulator().clone()),
        ServerConfig { tls: Some(ca.server_config()), ..ServerConfig::default() },
    )
    .await
    .expect("a TLS listener");
    assert!(direct.url().starts_with("https://127.0.0.1:"), "{}", direct.url());
    let bob_config = ClientConfig::new(direct.url().parse().expect("url"));
    let bob = Client::login(trusting(bob_config, &ca), "bob@example.com", "bob").await.expect("bob over https");

    let mut bob_events = bob.events().expect("events");
    assert!(bob_events.ready().await);
    let text = "over TLS & back \u{1F600}";
    alice.send(bob.uid(), text).await.expect("send");
    let got = loop {
        match tokio::time::timeout(Duration::from_secs(10), bob_events.next()).await.expect("in time") {
            Some(ClientEvent::Message { message, own_echo: false }) => break message,
            Some(_) => {}
            None => panic!("the stream ended"),
        }
    };
    assert_eq!((got.text.as_ref(), got.from), (text, alice.uid()));
    direct.shutdown().await;
    server.shutdown().await;
}

#[tokio::test]
async fn tunnels_that_go_wrong_cost_nothing_and_the_server_goes_on() {
    let ca = authority();
    let server = emulator(&ca, Duration::from_millis(300)).await;
    let addr = server.addr();
    let mut refused = 0;
    let mut held = Vec::new();
    for n in 0..200 {
        let mut tcp = TcpStream::connect(addr).await.expect("connect");
        match n % 4 {
            // A port other than 443: refused with an answer.
            0 => {
                tcp.write_all(b"CONNECT www.facebook.com:8443 HTTP/1.1\r\nHost: www.facebook.com:8443\r\n\r\n")
                    .await
                    .expect("write");
                let mut answer = [0u8; 12];
                tcp.read_exact(&mut answer).await.expect("read");
                assert_eq!(&answer, b"HTTP/1.1 403");
                refused += 1;
            }
            // Garbage instead of a ClientHello.
            1 => {
                tcp.write_all(b"CONNECT www.facebook.com:443 HTTP/1.1\r\nHost: www.facebook.com:443\r\n\r\n")
                    .await
                    .expect("write");
                tcp.write_all(b"GET / HTTP/1.1\r\n\r\nthis is no TLS").await.expect("write");
            }
            // A tunnel whose handshake never starts: held open, in silence.
            2 => {
                tcp.write_all(b"CONNECT chat.facebook.com:443 HTTP/1.1\r\nHost: chat.facebook.com:443\r\n\r\n")
                    .await
                    .expect("write");
                held.push(tcp);
            }
            // Half a request, then gone.
            _ => {
                tcp.write_all(b"CONNECT www.facebook.com:4").await.expect("write");
            }
        }
    }
    assert_eq!(refused, 50);
    // Past the handshake timeout every silent tunnel is closed by the server.
    tokio::time::sleep(Duration::from_millis(800)).await;
    for tcp in &mut held {
        let mut rest = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(2), tcp.read_to_end(&mut rest)).await;
        assert!(read.is_ok(), "a silent tunnel was closed");
    }
    drop(held);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (open, _, _) = server.server().connections();
    assert!(open <= 5, "{open} connections still open: nothing leaks");
    // And the service still serves, over TLS too.
    let proxy: url::Url = server.url().parse().expect("url");
    let config =
        ClientConfig { www: "https://www.facebook.com".parse().expect("url"), ..ClientConfig::through_proxy(proxy) };
    Client::login(trusting(config, &ca), "carol@example.com", "carol").await.expect("still serving");
    server.shutdown().await;
}
