//! The XMPP door: slixmpp (from PyPI, installed by CI in a venv,
//! `FBCOMET_PYTHON`) chats with a 2008 channel user; and the door in
//! process with a raw client: each SASL mechanism, wrong credentials, the
//! bounds of the stream, a client that claims another user, a client that
//! leaves mid-stanza.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use fbcomet::{Client, ClientConfig, ClientEvent, Dialect};
use fbcomet_mock::tls::Authority;
use fbcomet_mock::xmpp::stream::Limits;
use fbcomet_mock::xmpp::{XmppConfig, XmppServer};
use fbcomet_mock::{EmulatorConfig, EmulatorServer, World};
use md5::{Digest, Md5};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::time::timeout;

const ALICE: u64 = 1001;

fn authority() -> Arc<Authority> {
    fbcomet_e2e::test_ca(env!("CARGO_TARGET_TMPDIR"), "xmpp")
}

async fn service(limits: Limits, tls: Option<Arc<rustls::ServerConfig>>) -> (EmulatorServer, XmppServer) {
    let server = EmulatorServer::start(&World::default(), EmulatorConfig::with_hold(Duration::from_secs(2)))
        .await
        .expect("emulator");
    let config = XmppConfig { limits, tls, presence_every: Duration::from_millis(100), ..XmppConfig::default() };
    let xmpp =
        XmppServer::bind("127.0.0.1:0".parse().expect("addr"), server.emulator().clone(), config).await.expect("xmpp");
    (server, xmpp)
}

fn client_config(server: &EmulatorServer) -> ClientConfig {
    ClientConfig { presence_interval: None, ..ClientConfig::new(server.url().parse().expect("url")) }
        .with_dialect(Dialect::Classic)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slixmpp_chats_with_a_2008_user() {
    let python = fbcomet_e2e::python();
    let has = Command::new(&python).args(["-c", "import slixmpp"]).stderr(Stdio::null()).status();
    if !has.is_ok_and(|s| s.success()) {
        eprintln!(
            "SKIPPED slixmpp_chats_with_a_2008_user: {python} has no slixmpp (.ci/run installs it in a venv and sets FBCOMET_PYTHON)"
        );
        return;
    }
    let ca = authority();
    let (server, xmpp) = service(Limits::default(), Some(ca.xmpp_server_config())).await;
    let ca_file =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("fbcomet-xmpp-ca-{}.pem", std::process::id()));
    std::fs::write(&ca_file, ca.ca_pem()).expect("the CA file");
    let text = "h\u{e9}llo Bob & <b>\"q\"</b> \u{2603} \u{1F600}";
    let mut alice = tokio::process::Command::new(&python)
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/xmpp/slixmpp_chat.py"))
        .args(["127.0.0.1", &xmpp.local_addr().port().to_string(), "-1001@chat.facebook.com"])
        .args(["fbcomet-app", "alice-token", "-1002@chat.facebook.com", text])
        .arg(&ca_file)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("python");
    let mut lines = BufReader::new(alice.stdout.take().expect("stdout")).lines();
    let roster = step(&mut lines, "roster").await;
    assert_eq!(
        roster["items"],
        serde_json::json!({"-1002@chat.facebook.com": "Bob Example", "-1003@chat.facebook.com": "Carol Example"}),
        "{roster}"
    );
    assert_eq!(roster["groups"], serde_json::json!(["Friends"]));
    assert_eq!(roster["tls"], true, "STARTTLS with fbcomet's CA: {roster}");
    // Bob comes online on the 2008 channel; Alice sees it and writes.
    let bob = Client::login(client_config(&server), "bob@example.com", "bob").await.expect("bob");
    let mut events = bob.events().expect("events");
    assert!(events.ready().await);
    step(&mut lines, "peer_online").await;
    let got = loop {
        match timeout(Duration::from_secs(15), events.next()).await.expect("Alice's message") {
            Some(ClientEvent::Message { message, .. }) if message.from == ALICE => break message,
            Some(_) => {}
            None => panic!("ended"),
        }
    };
    assert_eq!(got.text, text);
    // Bob types, then answers.
    bob.typing(ALICE, true).await.expect("typing");
    let composing = step(&mut lines, "composing").await;
    assert_eq!(composing["sender"], "-1002@chat.facebook.com");
    let reply = "\u{e9}t\u{e9} & <i>'q'</i> \u{1F389}";
    bob.send(ALICE, reply).await.expect("send");
    let message = step(&mut lines, "message").await;
    assert_eq!((message["sender"].as_str(), message["body"].as_str()), (Some("-1002@chat.facebook.com"), Some(reply)));
    step(&mut lines, "done").await;
    let _ = alice.wait().await;
    xmpp.shutdown();
    server.shutdown().await;
}

/// The next JSON line of the script with `"step": name`.
async fn step(lines: &mut tokio::io::Lines<BufReader<tokio::process::ChildStdout>>, name: &str) -> serde_json::Value {
    loop {
        let line = timeout(Duration::from_secs(30), lines.next_line())
            .await
            .unwrap_or_else(|_| panic!("no {name} in time"))
            .expect("a line")
            .unwrap_or_else(|| panic!("slixmpp ended before {name}"));
        let value: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
        if value["step"] == name {
            return value;
        }
    }
}

// ---- a raw client ---------------------------------------------------------

struct Raw {
    tcp: TcpStream,
    seen: String,
}

impl Raw {
    async fn connect(xmpp: &XmppServer) -> Self {
        let tcp = TcpStream::connect(xmpp.local_addr()).await.expect("connect");
        Self { tcp, seen: String::new() }
    }

    async fn send(&mut self, xml: &str) {
        self.tcp.write_all(xml.as_bytes()).await.expect("write");
    }

    /// Reads until `marker` has come; what came (and clears it).
    async fn until(&mut self, marker: &str) -> String {
        let mut buf = [0u8; 4096];
        while !self.seen.contains(marker) {
            let n = timeout(Duration::from_secs(5), self.tcp.read(&mut buf))
                .await
                .unwrap_or_else(|_| panic!("no {marker:?} in time; saw {:?}", self.seen))
                .expect("read");
            if n == 0 {
                panic!("closed before {marker:?}; saw {:?}", self.seen);
            }
            self.seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
        let at = self.seen.find(marker).map_or(0, |i| i + marker.len());
        let got = self.seen[..at].to_owned();
        self.seen.drain(..at);
        got
    }

    async fn open(&mut self) -> String {
        self.send("<?xml version='1.0'?><stream:stream to='chat.facebook.com' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>").await;
        self.until("</stream:features>").await
    }

    async fn auth(&mut self, mechanism: &str, initial: &str) {
        self.send(&format!("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='{mechanism}'>{initial}</auth>"))
            .await;
    }

    async fn respond(&mut self, payload: &str) {
        self.send(&format!("<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{}</response>", B64.encode(payload)))
            .await;
    }

    /// The next challenge, decoded.
    async fn challenge(&mut self) -> String {
        let got = self.until("</challenge>").await;
        let text = got.rsplit("'>").next().and_then(|r| r.split("</challenge>").next()).unwrap_or_default();
        let text = text.rsplit('>').next().unwrap_or(text);
        String::from_utf8(B64.decode(text.trim()).expect("base64")).expect("utf-8")
    }

    /// After SASL: the restarted stream, bound as `resource`, a session and
    /// initial presence.
    async fn bind(&mut self, resource: &str) -> String {
        let features = self.open().await;
        assert!(features.contains("urn:ietf:params:xml:ns:xmpp-bind"), "{features}");
        self.send(&format!("<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>{resource}</resource></bind></iq>")).await;
        let bound = self.until("</iq>").await;
        self.send("<iq type='set' id='s1'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>").await;
        self.until("id=\"s1\"").await;
        bound
    }
}

fn param<'a>(challenge: &'a str, key: &str) -> &'a str {
    challenge
        .split([',', '&'])
        .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
        .map(|v| v.trim_matches('"'))
        .unwrap_or_default()
}

fn md5_hex(data: &[u8]) -> String {
    Md5::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn each_mechanism_logs_in_and_wrong_credentials_do_not() {
    let (server, xmpp) = service(Limits::default(), None).await;

    // PLAIN, by email and by username; a wrong password.
    for (account, password, ok) in
        [("alice@example.com", "alice", true), ("bob", "bob", true), ("carol", "nope", false)]
    {
        let mut raw = Raw::connect(&xmpp).await;
        let features = raw.open().await;
        for m in ["X-FACEBOOK-PLATFORM", "DIGEST-MD5", "PLAIN"] {
            assert!(features.contains(&format!("<mechanism>{m}</mechanism>")), "{features}");
        }
        assert!(!features.contains("starttls"), "no TLS configured, none offered");
        raw.auth("PLAIN", &B64.encode(format!("\0{account}\0{password}"))).await;
        let answer = raw.until(if ok { "<success" } else { "</failure>" }).await;
        assert_eq!(answer.contains("not-authorized"), !ok, "{account}: {answer}");
    }

    // X-FACEBOOK-PLATFORM: the nonce answered with the app and token; a
    // wrong token and a wrong nonce fail.
    for (token, keep_nonce, ok) in
        [("alice-token", true, true), ("mallory-token", true, false), ("alice-token", false, false)]
    {
        let mut raw = Raw::connect(&xmpp).await;
        raw.open().await;
        raw.auth("X-FACEBOOK-PLATFORM", "").await;
        let challenge = raw.challenge().await;
        assert_eq!(param(&challenge, "method"), "auth.xmpp_login", "{challenge}");
        let nonce = if keep_nonce { param(&challenge, "nonce").to_owned() } else { "0000".to_owned() };
        raw.respond(&format!(
            "method=auth.xmpp_login&api_key=fbcomet-app&access_token={token}&call_id=1&v=1.0&nonce={nonce}"
        ))
        .await;
        let answer = raw.until(if ok { "<success" } else { "</failure>" }).await;
        assert!(ok || answer.contains("not-authorized"), "{answer}");
        if ok {
            let bound = raw.bind("test").await;
            assert!(bound.contains("-1001@chat.facebook.com/test"), "{bound}");
        }
    }

    // DIGEST-MD5, RFC 2831, with the server's rspauth checked.
    for (password, ok) in [("bob", true), ("wrong", false)] {
        let mut raw = Raw::connect(&xmpp).await;
        raw.open().await;
        raw.auth("DIGEST-MD5", "").await;
        let challenge = raw.challenge().await;
        let (realm, nonce, cnonce, uri) =
            (param(&challenge, "realm"), param(&challenge, "nonce"), "c0ffee", "xmpp/chat.facebook.com");
        let digest = |method: &str| {
            let mut a1 = Md5::digest(format!("bob:{realm}:{password}")).to_vec();
            a1.extend_from_slice(format!(":{nonce}:{cnonce}").as_bytes());
            let ha2 = md5_hex(format!("{method}:{uri}").as_bytes());
            md5_hex(format!("{}:{nonce}:00000001:{cnonce}:auth:{ha2}", md5_hex(&a1)).as_bytes())
        };
        raw.respond(&format!(
            "username=\"bob\",realm=\"{realm}\",nonce=\"{nonce}\",cnonce=\"{cnonce}\",nc=00000001,qop=auth,digest-uri=\"{uri}\",response={},charset=utf-8",
            digest("AUTHENTICATE")
        ))
        .await;
        if ok {
            let rspauth = raw.challenge().await;
            assert_eq!(rspauth, format!("rspauth={}", digest("")));
            raw.send("<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>").await;
            raw.until("<success").await;
            assert!(raw.bind("digest").await.contains("-1002@chat.facebook.com/digest"));
        } else {
            assert!(raw.until("</failure>").await.contains("not-authorized"));
        }
    }
    xmpp.shutdown();
    server.shutdown().await;
}

/// Logs in Alice with PLAIN and binds her.
async fn alice(xmpp: &XmppServer) -> Raw {
    let mut raw = Raw::connect(xmpp).await;
    raw.open().await;
    raw.auth("PLAIN", &B64.encode("\0alice@example.com\0alice")).await;
    raw.until("<success").await;
    raw.bind("raw").await;
    raw
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roster_presence_messages_typing_vcard_and_ping() {
    let (server, xmpp) = service(Limits::default(), None).await;
    let mut raw = alice(&xmpp).await;
    raw.send("<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>").await;
    let roster = raw.until("</iq>").await;
    assert!(roster.contains("jid=\"-1002@chat.facebook.com\" name=\"Bob Example\""), "{roster}");
    assert!(roster.contains("<group>Friends</group>"), "{roster}");
    raw.send("<presence/>").await;
    // Bob comes online on the 2008 channel.
    let bob = Client::login(client_config(&server), "bob@example.com", "bob").await.expect("bob");
    let mut events = bob.events().expect("events");
    assert!(events.ready().await);
    raw.until("<presence from=\"-1002@chat.facebook.com/fbcomet\"").await;
    // Alice writes (composing first), Bob gets both.
    raw.send("<message to='-1002@chat.facebook.com' type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>").await;
    raw.send("<message to='1002@chat.facebook.com' type='chat' id='m1'><body>a &amp; b &lt;c&gt; \u{1F600}</body><active xmlns='http://jabber.org/protocol/chatstates'/></message>").await;
    let mut typed = false;
    let text = loop {
        match timeout(Duration::from_secs(10), events.next()).await.expect("in time") {
            Some(ClientEvent::Typing { from: ALICE, typing: true, .. }) => typed = true,
            Some(ClientEvent::Message { message, .. }) if message.from == ALICE => break message.text.to_string(),
            Some(_) => {}
            None => panic!("ended"),
        }
    };
    assert!(typed);
    assert_eq!(text, "a & b <c> \u{1F600}");
    // Bob types and answers; Alice's stream gets both.
    bob.typing(ALICE, true).await.expect("typing");
    raw.until("<composing xmlns=\"http://jabber.org/protocol/chatstates\"/>").await;
    bob.send(ALICE, "back & \"forth\"").await.expect("send");
    let message = raw.until("</body>").await;
    assert!(message.ends_with("<body>back &amp; &quot;forth&quot;</body>"), "{message}");
    // vCard, ping, and any other iq.
    raw.send("<iq type='get' id='v1' to='-1002@chat.facebook.com'><vCard xmlns='vcard-temp'/></iq>").await;
    assert!(raw.until("</iq>").await.contains("<FN>Bob Example</FN>"));
    raw.send("<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>").await;
    assert!(raw.until("id=\"p1\"").await.contains("type=\"result\""));
    raw.send("<iq type='get' id='x1'><query xmlns='jabber:iq:private'/></iq>").await;
    assert!(raw.until("</iq>").await.contains("service-unavailable"));
    // Bob leaves every door: Alice sees him go.
    drop(events);
    bob.logout().await.expect("logout");
    raw.until("type=\"unavailable\"").await;
    xmpp.shutdown();
    server.shutdown().await;
}

#[tokio::test]
async fn the_streams_bounds_hold_and_the_server_goes_on() {
    let limits = Limits {
        max_stanza: 4096,
        max_depth: 8,
        stanza_timeout: Duration::from_millis(300),
        idle_timeout: Duration::from_secs(30),
    };
    let (server, xmpp) = service(limits, None).await;
    let open = "<stream:stream to='chat.facebook.com' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>";
    let cases = [
        (format!("{open}<message><body>{}</body></message>", "x".repeat(50_000)), "policy-violation"),
        (format!("{open}{}", "<a>".repeat(20)), "policy-violation"),
        (format!("<!DOCTYPE lol [<!ENTITY lol 'lol'>]>{open}"), "restricted-xml"),
        (format!("{open}<message><body>&lol;</body></message>"), "restricted-xml"),
        (format!("{open}<message><body>never finished"), "connection-timeout"),
        (format!("{open}<auth mechanism='PLAIN'>x</auth></oops>"), "not-well-formed"),
    ];
    for (input, condition) in cases {
        let mut raw = Raw::connect(&xmpp).await;
        raw.send(&input).await;
        let got = raw.until("</stream:stream>").await;
        assert!(got.contains(&format!("<{condition} ")), "{input:.60}: {got}");
    }
    // A bound client that claims to be someone else.
    let mut raw = alice(&xmpp).await;
    raw.send("<message from='-1002@chat.facebook.com' to='-1003@chat.facebook.com' type='chat'><body>as Bob</body></message>").await;
    assert!(raw.until("</stream:stream>").await.contains("invalid-from"));
    // A client that leaves mid-stanza, then the server goes on.
    let mut raw = alice(&xmpp).await;
    raw.send("<message to='-1002@chat.facebook.com'><body>half").await;
    drop(raw);
    let mut raw = alice(&xmpp).await;
    raw.send("<iq type='get' id='p2'><ping xmlns='urn:xmpp:ping'/></iq>").await;
    assert!(raw.until("id=\"p2\"").await.contains("type=\"result\""));
    xmpp.shutdown();
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_friend_gone_idle_is_away() {
    use fbcomet_chat::ChatConfig;
    let chat =
        ChatConfig { idle_after: Duration::from_millis(400), ..EmulatorConfig::with_hold(Duration::from_secs(2)).chat };
    let server =
        EmulatorServer::start(&World::default(), EmulatorConfig { chat, faults: None }).await.expect("emulator");
    let config = XmppConfig { presence_every: Duration::from_millis(100), ..XmppConfig::default() };
    let xmpp =
        XmppServer::bind("127.0.0.1:0".parse().expect("addr"), server.emulator().clone(), config).await.expect("xmpp");
    let mut raw = alice(&xmpp).await;
    raw.send("<presence/>").await;
    let bob = Client::login(client_config(&server), "bob@example.com", "bob").await.expect("bob");
    let mut events = bob.events().expect("events");
    assert!(events.ready().await);
    bob.typing(ALICE, true).await.expect("active");
    let keep_polling = tokio::spawn(async move { while events.next().await.is_some() {} });
    raw.until("<presence from=\"-1002@chat.facebook.com/fbcomet\"").await;
    let available = raw.until(">").await;
    assert!(available.ends_with("/>"), "available, without a <show>: {available}");
    // Bob does nothing for a while: still online (polling), now idle.
    let away = raw.until("<show>away</show>").await;
    assert!(away.contains("-1002@chat.facebook.com"), "{away}");
    keep_polling.abort();
    xmpp.shutdown();
    server.shutdown().await;
}
