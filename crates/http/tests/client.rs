//! The HTTP client against an fbcomet server that echoes what it got.

use std::sync::Arc;
use std::time::Duration;

use fbcomet_http::{ErrorKind, HttpClient, HttpConfig};
use fbcomet_mock::{Handler, Reply, Request, Server, ServerConfig};
use tokio::time::Instant;
use url::Url;

/// Answers with what it received, as `key=value` lines; sets a cookie on
/// /login.php; holds /slow; sends a big body on /big.
struct Echo;

impl Handler for Echo {
    async fn handle(&self, r: Request) -> Reply {
        let mut lines = vec![
            format!("method={}", r.method),
            format!("host={}", r.host.clone().unwrap_or_default()),
            format!("proxy_form={}", r.proxy_form),
            format!("path={}", r.path),
            format!("cookie={}", r.header("cookie").unwrap_or("")),
        ];
        lines.extend(r.form.iter().map(|(k, v)| format!("form:{k}={v:?}")));
        let reply = Reply::ok(lines.join("\n"));
        match r.path.as_str() {
            "/login.php" => reply
                .header("set-cookie", "c_user=1001; Path=/; Domain=.facebook.com")
                .header("set-cookie", "xs=abc; Path=/; HttpOnly"),
            "/slow" => reply.hold(Duration::from_secs(30)),
            "/big" => Reply::ok(vec![b'x'; 64 * 1024]),
            _ => reply,
        }
    }
}

async fn server() -> Server {
    Server::bind("127.0.0.1:0".parse().expect("addr"), Arc::new(Echo), ServerConfig::default()).await.expect("bind")
}

fn url(s: &str) -> Url {
    s.parse().expect("a URL")
}

#[tokio::test]
async fn plain_requests_go_straight_to_the_server() {
    let server = server().await;
    let client = HttpClient::new(HttpConfig::default());
    let page = client.get(&url(&format!("http://{}/home.php", server.local_addr()))).await.expect("get");
    assert_eq!(page.status, 200);
    let text = page.text();
    assert!(text.contains("proxy_form=false") && text.contains("host=127.0.0.1"), "{text}");
}

#[tokio::test]
async fn through_the_proxy_requests_name_the_real_hosts_and_cookies_follow_domains() {
    let server = server().await;
    let client = HttpClient::new(HttpConfig {
        proxy: Some(url(&format!("http://{}", server.local_addr()))),
        ..HttpConfig::default()
    });
    let login = client.get(&url("http://login.facebook.com/login.php")).await.expect("login");
    assert!(login.text().contains("proxy_form=true"));
    assert!(login.text().contains("host=login.facebook.com"));

    // c_user was set for .facebook.com, xs for login.facebook.com only.
    let home = client.get(&url("http://www.facebook.com/home.php")).await.expect("home");
    assert!(home.text().lines().any(|l| l == "cookie=c_user=1001"), "{}", home.text());
    let again = client.get(&url("http://login.facebook.com/other")).await.expect("other");
    let text = again.text();
    assert!(text.contains("c_user=1001") && text.contains("xs=abc"), "{text}");
    assert_eq!(client.cookie(&url("http://0.channel07.facebook.com/x/"), "c_user").as_deref(), Some("1001"));
    assert_eq!(client.cookie(&url("http://example.com/"), "c_user"), None);

    // https through a proxy is a CONNECT tunnel: this server has no TLS.
    let err = client.get(&url("https://2-edge-chat.facebook.com/pull?seq=1")).await.expect_err("no tunnel");
    assert!(chain(&err).contains("the proxy refused CONNECT 2-edge-chat.facebook.com:443"), "{err}");
}

/// An error and its causes on one line.
fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// A server with TLS from a CA made for the test, and that CA's PEM.
async fn tls_server() -> (Server, String) {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("fbcomet-http-ca-{}", std::process::id()));
    let ca = fbcomet_mock::tls::Authority::load_or_create(&dir).expect("a CA");
    let config = ServerConfig { tls: Some(ca.server_config()), ..ServerConfig::default() };
    let server = Server::bind("127.0.0.1:0".parse().expect("addr"), Arc::new(Echo), config).await.expect("bind");
    (server, ca.ca_pem().to_owned())
}

#[tokio::test]
async fn https_through_the_proxy_is_a_tunnel_to_the_real_host_name() {
    let (server, ca) = tls_server().await;
    let config = HttpConfig { proxy: Some(url(&format!("http://{}", server.local_addr()))), ..HttpConfig::default() };
    let client = HttpClient::new(config.clone().trust_pem(&ca).expect("the CA"));
    let login = client.get(&url("https://login.facebook.com/login.php")).await.expect("login over TLS");
    let text = login.text();
    assert!(text.contains("host=login.facebook.com") && text.contains("proxy_form=false"), "{text}");
    // The cookie set over https goes with the next https request.
    let pull = client.get(&url("https://2-edge-chat.facebook.com/pull?seq=1")).await.expect("pull");
    assert!(pull.text().contains("cookie=c_user=1001"), "{}", pull.text());
    // A client that does not trust the CA refuses the certificate.
    let stranger = HttpClient::new(config);
    let err = stranger.get(&url("https://login.facebook.com/login.php")).await.expect_err("untrusted");
    assert!(chain(&err).contains("certificate"), "{}", chain(&err));
}

#[tokio::test]
async fn a_pem_without_a_certificate_is_an_error() {
    let err = HttpConfig::default().trust_pem("not a certificate").expect_err("no certificate");
    assert!(chain(&err).contains("no certificate"), "{}", chain(&err));
}

#[tokio::test]
async fn awkward_form_values_arrive_intact() {
    let server = server().await;
    let client = HttpClient::new(HttpConfig::default());
    let text = "a & b = c + d % e\nline two \u{e9}\u{5341} \u{1F600} \"q\" <b>";
    let sent = client
        .post_form(
            &url(&format!("http://{}/ajax/chat/send.php", server.local_addr())),
            &[("msg_text", text), ("to", "1002")],
        )
        .await
        .expect("post");
    let got = sent.text();
    assert!(got.contains(&format!("form:msg_text={text:?}")), "{got}");
    assert!(got.contains("form:to=\"1002\""), "{got}");
}

#[tokio::test]
async fn deadlines_limits_and_connect_errors_are_typed() {
    let server = server().await;
    let client = HttpClient::new(HttpConfig { max_body: 1024, ..HttpConfig::default() });
    let base = format!("http://{}", server.local_addr());

    let slow = client.open("GET", &url(&format!("{base}/slow")), Instant::now() + Duration::from_millis(200)).await;
    let err = slow.expect_err("times out");
    assert!(err.is_timeout(), "{err}");

    let big = client.get(&url(&format!("{base}/big"))).await.expect_err("too large");
    assert_eq!(big.kind(), &ErrorKind::BodyTooLarge { limit: 1024 });

    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = closed.local_addr().expect("addr");
    drop(closed);
    let err = client.get(&url(&format!("http://{addr}/"))).await.expect_err("refused");
    assert!(err.is_connect(), "{err}");
    assert!(std::error::Error::source(&err).is_some(), "hyper's error is kept as the source");

    // https to a server that speaks plain HTTP: the handshake fails.
    let err = client.get(&url(&format!("https://{}/", server.local_addr()))).await.expect_err("no TLS there");
    assert!(err.is_connect(), "{err}");
}
