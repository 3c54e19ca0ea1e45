//! The XMPP front door (2010-2015): chat.facebook.com:5222 on the same chat
//! core as the other doors.
//!
//! A connection goes: stream header and features (STARTTLS when the server
//! has a CA, never required; SASL `X-FACEBOOK-PLATFORM`, `DIGEST-MD5`,
//! `PLAIN`), authentication, a restarted stream with resource binding and
//! session, then chat: the roster is the friend list with names in one
//! group; presence goes both ways (available, `away` for idle, unavailable
//! when a friend leaves every door); messages of type chat go both ways
//! with chat states (XEP-0085) mapped to and from typing; vCards give
//! names; pings (XEP-0199) are answered; any other iq gets
//! `service-unavailable`. Users are `-UID@chat.facebook.com` (`UID@` is
//! taken too). A stanza whose `from` is not the user is a stream error.
//! An available session is presence as a held poll is, and the service's
//! counters count it among the held polls.
//! See [`stream`] for the bounds of what is read.

mod sasl;
pub mod stream;

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use fbcomet_chat::{Answer, ChatEvent, End, HoldId, LoginError, Outgoing, Read, Seen, presence};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::shell::{Emulator, Waiting};
use stream::{Element, Item, Limits, StanzaReader, StreamError};

/// The domain of the service's JIDs.
pub const DOMAIN: &str = "chat.facebook.com";

const NS_STREAM: &str = "http://etherx.jabber.org/streams";
const NS_TLS: &str = "urn:ietf:params:xml:ns:xmpp-tls";
const NS_SASL: &str = "urn:ietf:params:xml:ns:xmpp-sasl";
const NS_BIND: &str = "urn:ietf:params:xml:ns:xmpp-bind";
const NS_SESSION: &str = "urn:ietf:params:xml:ns:xmpp-session";
const NS_STANZAS: &str = "urn:ietf:params:xml:ns:xmpp-stanzas";
const NS_STREAMS: &str = "urn:ietf:params:xml:ns:xmpp-streams";
const NS_CHATSTATES: &str = "http://jabber.org/protocol/chatstates";

/// How the XMPP door behaves.
#[derive(Debug, Clone)]
pub struct XmppConfig {
    /// The bounds of a stream.
    pub limits: Limits,
    /// STARTTLS with these certificates (a certificate for
    /// chat.facebook.com from fbcomet's CA); none offered when `None`.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// How often friends' presence is compared with what the client was
    /// last told.
    pub presence_every: Duration,
    /// How many connections at once; past this a new one is closed at once.
    pub max_connections: usize,
}

impl Default for XmppConfig {
    fn default() -> Self {
        Self { limits: Limits::default(), tls: None, presence_every: Duration::from_secs(1), max_connections: 1024 }
    }
}

/// The XMPP door, listening.
pub struct XmppServer {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl XmppServer {
    /// Listens on `addr` for `emulator`'s users.
    pub async fn bind(addr: SocketAddr, emulator: Arc<Emulator>, config: XmppConfig) -> io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let slots = Arc::new(tokio::sync::Semaphore::new(config.max_connections.max(1)));
        let config = Arc::new(config);
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, peer)) = listener.accept().await else { continue };
                let Ok(slot) = slots.clone().try_acquire_owned() else {
                    tracing::warn!(%peer, "xmpp: too many connections; this one is closed");
                    continue;
                };
                let (emulator, config) = (emulator.clone(), config.clone());
                tokio::spawn(async move {
                    if let Err(err) = serve(tcp, peer, emulator, config).await {
                        tracing::debug!(%peer, %err, "xmpp connection ended");
                    }
                    drop(slot);
                });
            }
        });
        Ok(Self { addr, task })
    }

    /// The address listened on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops listening (connections under way end with the process).
    pub fn shutdown(self) {
        self.task.abort();
    }
}

/// A connection's transport, plain or TLS.
trait Transport: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Transport for T {}
type Io = Box<dyn Transport>;

/// Writes to the client.
struct Out(WriteHalf<Io>);

impl Out {
    async fn send(&mut self, xml: &str) -> io::Result<()> {
        self.0.write_all(xml.as_bytes()).await?;
        self.0.flush().await
    }

    async fn element(&mut self, element: &Element) -> io::Result<()> {
        self.send(&element.to_xml()).await
    }

    /// A stream error, and the stream's end.
    async fn stream_error(&mut self, condition: &str, text: &str) -> io::Result<()> {
        let error = Element::new("stream:error")
            .child(Element::new(condition).attr("xmlns", NS_STREAMS))
            .child(Element::new("text").attr("xmlns", NS_STREAMS).attr("xml:lang", "en").text(text));
        self.send(&format!("{}</stream:stream>", error.to_xml())).await?;
        self.0.shutdown().await
    }
}

fn header(id: &str) -> String {
    format!(
        "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='{NS_STREAM}' \
         id='{id}' from='{DOMAIN}' version='1.0' xml:lang='en'>"
    )
}

fn random_id() -> String {
    format!("{:016x}", SmallRng::from_os_rng().random::<u64>())
}

/// A TCP connection, from its first byte to its last.
async fn serve(tcp: TcpStream, peer: SocketAddr, emulator: Arc<Emulator>, config: Arc<XmppConfig>) -> io::Result<()> {
    let _ = tcp.set_nodelay(true);
    serve_io(Box::new(tcp), peer, emulator, config).await
}

/// A connection on any transport (TCP, or a pipe in the tests).
async fn serve_io(mut io: Io, peer: SocketAddr, emulator: Arc<Emulator>, config: Arc<XmppConfig>) -> io::Result<()> {
    let mut secure = false;
    // Until authenticated: STARTTLS restarts the stream on a new transport.
    let (reader, mut out, grant) = loop {
        let (rd, wr) = tokio::io::split(io);
        let mut reader = StanzaReader::new(rd, config.limits);
        let mut out = Out(wr);
        match authenticate(&mut reader, &mut out, peer, &emulator, &config, secure).await {
            Ok(Authenticated::Yes(grant)) => break (reader, out, grant),
            Ok(Authenticated::StartTls) => {
                let Some(tls) = config.tls.clone() else { return Ok(()) };
                let plain = reader.into_inner().unsplit(out.0);
                let acceptor = tokio_rustls::TlsAcceptor::from(tls);
                let tls_stream = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(plain))
                    .await
                    .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "TLS handshake"))??;
                io = Box::new(tls_stream);
                secure = true;
            }
            Ok(Authenticated::No) => return Ok(()),
            Err(err) => return finish(&mut out, err).await,
        }
    };
    let session = Session::new(emulator, grant.uid, grant.token);
    let result = session.run(reader, &mut out, &config).await;
    match result {
        Ok(()) => {
            let _ = out.send("</stream:stream>").await;
            Ok(())
        }
        Err(err) => finish(&mut out, err).await,
    }
}

async fn finish(out: &mut Out, err: StreamError) -> io::Result<()> {
    match err.condition {
        Some(condition) => {
            tracing::debug!(condition, text = %err.text, "xmpp stream error");
            out.stream_error(condition, &err.text).await
        }
        None => Ok(()),
    }
}

enum Authenticated {
    Yes(fbcomet_chat::Grant),
    StartTls,
    No,
}

fn io_gone(err: io::Error) -> StreamError {
    StreamError { condition: None, text: err.to_string() }
}

fn stream_err(condition: &'static str, text: impl Into<String>) -> StreamError {
    StreamError { condition: Some(condition), text: text.into() }
}

/// The stream until SASL succeeds (or the client asks for TLS).
async fn authenticate(
    reader: &mut StanzaReader<ReadHalf<Io>>,
    out: &mut Out,
    peer: SocketAddr,
    emulator: &Emulator,
    config: &XmppConfig,
    secure: bool,
) -> Result<Authenticated, StreamError> {
    expect_open(reader).await?;
    out.send(&header(&random_id())).await.map_err(io_gone)?;
    let mut features = Element::new("stream:features");
    if config.tls.is_some() && !secure {
        features = features.child(Element::new("starttls").attr("xmlns", NS_TLS));
    }
    let mut mechanisms = Element::new("mechanisms").attr("xmlns", NS_SASL);
    for m in sasl::MECHANISMS {
        mechanisms = mechanisms.child(Element::new("mechanism").text(m));
    }
    out.element(&features.child(mechanisms)).await.map_err(io_gone)?;
    loop {
        let stanza = match reader.next().await? {
            Item::Stanza(s) => s,
            Item::Close => return Ok(Authenticated::No),
            Item::Open(_) => return Err(stream_err("invalid-xml", "a second stream header before authentication")),
        };
        match stanza.local() {
            "starttls" if config.tls.is_some() && !secure => {
                out.element(&Element::new("proceed").attr("xmlns", NS_TLS)).await.map_err(io_gone)?;
                return Ok(Authenticated::StartTls);
            }
            "auth" => {
                let mechanism = stanza.get("mechanism").unwrap_or_default().to_owned();
                match sasl_exchange(reader, out, &mechanism, &stanza.text, peer, emulator).await? {
                    Some(grant) => {
                        out.element(&Element::new("success").attr("xmlns", NS_SASL)).await.map_err(io_gone)?;
                        return Ok(Authenticated::Yes(grant));
                    }
                    None => continue,
                }
            }
            other => return Err(stream_err("not-authorized", format!("<{other}> before authentication"))),
        }
    }
}

async fn expect_open(reader: &mut StanzaReader<ReadHalf<Io>>) -> Result<(), StreamError> {
    match reader.next().await? {
        Item::Open(header) => {
            if header.get("to").is_some_and(|to| !to.eq_ignore_ascii_case(DOMAIN)) {
                return Err(stream_err("host-unknown", format!("this service is {DOMAIN}")));
            }
            Ok(())
        }
        _ => Err(stream_err("invalid-xml", "a stream must start with its header")),
    }
}

/// One SASL attempt: `Some(grant)` on success; `None` after a `<failure>`
/// was sent (the client may try again).
async fn sasl_exchange(
    reader: &mut StanzaReader<ReadHalf<Io>>,
    out: &mut Out,
    mechanism: &str,
    initial: &str,
    peer: SocketAddr,
    emulator: &Emulator,
) -> Result<Option<fbcomet_chat::Grant>, StreamError> {
    let address = Some(peer.ip());
    let failure =
        |condition: &str| Element::new("failure").attr("xmlns", NS_SASL).child(Element::new(condition)).to_xml();
    let login = |result: Result<fbcomet_chat::Grant, LoginError>| match result {
        Ok(grant) => Ok(grant),
        Err(LoginError::Throttled { .. }) => Err("temporary-auth-failure"),
        Err(_) => Err("not-authorized"),
    };
    let outcome: Result<fbcomet_chat::Grant, &str> = match mechanism {
        "PLAIN" => match sasl::decode(initial).as_deref().and_then(sasl::plain) {
            Some((account, password)) => login(
                emulator.with_chat(|chat, now| chat.login_with(&account, address, now, |u| u.password == password)),
            ),
            None => Err("malformed-request"),
        },
        "X-FACEBOOK-PLATFORM" => {
            let nonce = random_id();
            let payload = challenge(reader, out, &sasl::facebook_challenge(&nonce)).await?;
            match payload.map(|p| sasl::facebook_response(&p, &nonce)) {
                Some(Ok((api_key, token))) => {
                    login(emulator.with_chat(|chat, now| chat.login_with_token(&api_key, &token, address, now)))
                }
                Some(Err(why)) => {
                    tracing::debug!(why, "X-FACEBOOK-PLATFORM refused");
                    Err("not-authorized")
                }
                None => Err("aborted"),
            }
        }
        "DIGEST-MD5" => {
            let nonce = random_id();
            let payload = challenge(reader, out, &sasl::digest_challenge(&nonce)).await?;
            match payload.map(|p| sasl::digest_response(&p, &nonce)) {
                Some(Ok(response)) => {
                    let mut rspauth = None;
                    let result = emulator.with_chat(|chat, now| {
                        chat.login_with(&response.username, address, now, |u| {
                            let ok = response.made_with(&u.password);
                            if ok {
                                rspauth = Some(response.rspauth(&u.password));
                            }
                            ok
                        })
                    });
                    match (login(result), rspauth) {
                        (Ok(grant), Some(rspauth)) => match challenge(reader, out, &rspauth).await? {
                            Some(_) => Ok(grant),
                            None => {
                                emulator.with_chat(|chat, now| chat.logout(&grant.token, now));
                                Err("aborted")
                            }
                        },
                        (Err(condition), _) => Err(condition),
                        (Ok(grant), None) => {
                            emulator.with_chat(|chat, now| chat.logout(&grant.token, now));
                            Err("not-authorized")
                        }
                    }
                }
                Some(Err(why)) => {
                    tracing::debug!(why, "DIGEST-MD5 refused");
                    Err("malformed-request")
                }
                None => Err("aborted"),
            }
        }
        _ => Err("invalid-mechanism"),
    };
    match outcome {
        Ok(grant) => Ok(Some(grant)),
        Err(condition) => {
            out.send(&failure(condition)).await.map_err(io_gone)?;
            Ok(None)
        }
    }
}

/// Sends a challenge; the response's payload, or `None` for `<abort/>`.
async fn challenge(
    reader: &mut StanzaReader<ReadHalf<Io>>,
    out: &mut Out,
    text: &str,
) -> Result<Option<Vec<u8>>, StreamError> {
    let element = Element::new("challenge").attr("xmlns", NS_SASL).text(sasl::encode(text.as_bytes()));
    out.element(&element).await.map_err(io_gone)?;
    match reader.next().await? {
        Item::Stanza(s) if s.local() == "response" => {
            sasl::decode(&s.text).map(Some).ok_or_else(|| stream_err("bad-format", "a response that is not base64"))
        }
        Item::Stanza(s) if s.local() == "abort" => Ok(None),
        _ => Err(stream_err("not-authorized", "a SASL exchange left unfinished")),
    }
}

/// `-UID@chat.facebook.com` (or `UID@`) to a uid.
fn uid_of(jid: &str) -> Option<u64> {
    let bare = jid.split('/').next().unwrap_or(jid);
    let (node, domain) = bare.split_once('@')?;
    if !domain.eq_ignore_ascii_case(DOMAIN) {
        return None;
    }
    node.strip_prefix('-').unwrap_or(node).parse().ok()
}

fn jid(uid: u64) -> String {
    format!("-{uid}@{DOMAIN}")
}

/// A bound session.
struct Session {
    emulator: Arc<Emulator>,
    uid: u64,
    token: String,
    full_jid: String,
    available: bool,
    told: BTreeMap<u64, Seen>,
    /// The subscription to the user's log, from binding on (the chat loop
    /// takes it; its id stays).
    events: Option<Waiting>,
    subscription: Option<HoldId>,
    /// Where the last batch of events ended, to tell what was lost.
    expected: Option<i64>,
}

impl Session {
    fn new(emulator: Arc<Emulator>, uid: u64, token: String) -> Self {
        Self {
            emulator,
            uid,
            token,
            full_jid: String::new(),
            available: false,
            told: BTreeMap::new(),
            events: None,
            subscription: None,
            expected: None,
        }
    }

    /// The session after SASL: the restarted stream, binding, then chat
    /// until the client leaves.
    async fn run(
        mut self,
        mut reader: StanzaReader<ReadHalf<Io>>,
        out: &mut Out,
        config: &XmppConfig,
    ) -> Result<(), StreamError> {
        let result = self.bind(&mut reader, out).await;
        let result = match result {
            Ok(()) => self.chat(reader, out, config).await,
            Err(err) => Err(err),
        };
        self.leave();
        result
    }

    fn leave(&mut self) {
        // The subscription goes (and with it the session's presence), then
        // the login.
        self.events = None;
        if self.available {
            self.available = false;
            self.emulator.with_chat(|chat, _| chat.set_visible(self.uid, false));
        }
        self.emulator.with_chat(|chat, now| chat.logout(&self.token, now));
    }

    async fn bind(&mut self, reader: &mut StanzaReader<ReadHalf<Io>>, out: &mut Out) -> Result<(), StreamError> {
        expect_open(reader).await?;
        out.send(&header(&random_id())).await.map_err(io_gone)?;
        let features = Element::new("stream:features")
            .child(Element::new("bind").attr("xmlns", NS_BIND))
            .child(Element::new("session").attr("xmlns", NS_SESSION));
        out.element(&features).await.map_err(io_gone)?;
        loop {
            let iq = match reader.next().await? {
                Item::Stanza(s) if s.local() == "iq" => s,
                Item::Stanza(s) => return Err(stream_err("not-authorized", format!("<{}> before binding", s.local()))),
                _ => return Err(stream_err("invalid-xml", "the stream ended before binding")),
            };
            let Some(bind) = iq.find("bind") else {
                out.element(&iq_error(&iq, "cancel", "service-unavailable")).await.map_err(io_gone)?;
                continue;
            };
            let resource = bind.find("resource").map(|r| r.text.trim().to_owned()).filter(|r| !r.is_empty());
            let resource = resource.unwrap_or_else(random_id);
            self.full_jid = format!("{}/{resource}", jid(self.uid));
            let answer = Element::new("iq").attr("type", "result").attr("id", iq.get("id").unwrap_or_default()).child(
                Element::new("bind").attr("xmlns", NS_BIND).child(Element::new("jid").text(self.full_jid.clone())),
            );
            out.element(&answer).await.map_err(io_gone)?;
            // Events from now on; the session ends with its login.
            let (uid, token) = (self.uid, self.token.clone());
            let events = self.emulator.subscribe(|chat, now| chat.subscribe(uid, Some(&token), None, now));
            let events = events.map_err(|_| stream_err("not-authorized", "the login ended"))?;
            self.subscription = Some(events.id());
            self.events = Some(events);
            return Ok(());
        }
    }

    async fn chat(
        &mut self,
        reader: StanzaReader<ReadHalf<Io>>,
        out: &mut Out,
        config: &XmppConfig,
    ) -> Result<(), StreamError> {
        // The reader runs on its own, so waiting for the client can be
        // given up for an event to push without losing what was read.
        let (tx, mut stanzas) = mpsc::channel(16);
        let reading = tokio::spawn(async move {
            let mut reader = reader;
            loop {
                let item = reader.next().await;
                let end = !matches!(item, Ok(Item::Stanza(_)));
                if tx.send(item).await.is_err() || end {
                    return;
                }
            }
        });
        let _stop_reading = AbortOnDrop(reading);
        let Some(mut events) = self.events.take() else {
            return Err(stream_err("internal-server-error", "no subscription after binding"));
        };
        let mut tick = tokio::time::interval(config.presence_every);
        loop {
            tokio::select! {
                item = stanzas.recv() => match item {
                    Some(Ok(Item::Stanza(stanza))) => self.stanza(&stanza, out).await?,
                    Some(Ok(Item::Close)) | None => return Ok(()),
                    Some(Ok(Item::Open(_))) => return Err(stream_err("invalid-xml", "a stream header inside the stream")),
                    Some(Err(err)) => return Err(err),
                },
                answer = events.next() => {
                    match answer {
                        Answer::Read(read) => self.push_events(read, out).await?,
                        Answer::Ended(End::Shutdown) => {
                            return Err(stream_err("system-shutdown", "the service is stopping"));
                        }
                        Answer::Ended(_) => return Err(stream_err("not-authorized", "the login ended")),
                    }
                    events.resume();
                }
                _ = tick.tick(), if self.available => self.push_presence(out).await?,
            }
        }
    }

    async fn stanza(&mut self, stanza: &Element, out: &mut Out) -> Result<(), StreamError> {
        if let Some(from) = stanza.get("from") {
            let bare = from.split('/').next().unwrap_or(from);
            if uid_of(bare) != Some(self.uid) {
                return Err(stream_err("invalid-from", format!("{from} is not this stream's user")));
            }
        }
        match stanza.local() {
            "iq" => self.iq(stanza, out).await,
            "message" => self.message(stanza, out).await,
            "presence" => self.presence(stanza, out).await,
            other => Err(stream_err("unsupported-stanza-type", format!("<{other}>"))),
        }
    }

    async fn iq(&mut self, iq: &Element, out: &mut Out) -> Result<(), StreamError> {
        let kind = iq.get("type").unwrap_or_default();
        if kind == "result" || kind == "error" {
            return Ok(());
        }
        let id = iq.get("id").unwrap_or_default().to_owned();
        let result = || Element::new("iq").attr("type", "result").attr("id", id.clone());
        let payload = iq.children.first();
        let ns = payload.and_then(|p| p.get("xmlns")).unwrap_or_default();
        let answer = match (kind, payload.map(Element::local), ns) {
            ("set", Some("session"), _) => result(),
            ("get", Some("ping"), "urn:xmpp:ping") => result(),
            ("get", Some("query"), "jabber:iq:roster") => result().child(self.roster()),
            ("get", Some("vCard"), "vcard-temp") => {
                let whose = iq.get("to").and_then(uid_of).unwrap_or(self.uid);
                match self.emulator.name_of(whose).as_ref().map(|(n, f)| (n.as_str(), f.as_str())) {
                    Some((name, first)) => result().attr("from", jid(whose)).child(
                        Element::new("vCard")
                            .attr("xmlns", "vcard-temp")
                            .child(Element::new("FN").text(name))
                            .child(Element::new("N").child(Element::new("GIVEN").text(first))),
                    ),
                    None => iq_error(iq, "cancel", "item-not-found"),
                }
            }
            ("get", Some("query"), "http://jabber.org/protocol/disco#info") => result().child(
                Element::new("query")
                    .attr("xmlns", "http://jabber.org/protocol/disco#info")
                    .child(Element::new("identity").attr("category", "server").attr("type", "im"))
                    .child(Element::new("feature").attr("var", "urn:xmpp:ping"))
                    .child(Element::new("feature").attr("var", NS_CHATSTATES)),
            ),
            ("get" | "set", ..) => iq_error(iq, "cancel", "service-unavailable"),
            _ => iq_error(iq, "modify", "bad-request"),
        };
        out.element(&answer).await.map_err(io_gone)
    }

    fn roster(&self) -> Element {
        let friends: Vec<u64> = self.emulator.with_chat(|chat, _| chat.friends(self.uid).collect());
        let mut query = Element::new("query").attr("xmlns", "jabber:iq:roster");
        for friend in friends {
            let name = self.emulator.name_of(friend).map(|(n, _)| n).unwrap_or_default();
            query = query.child(
                Element::new("item")
                    .attr("jid", jid(friend))
                    .attr("name", name)
                    .attr("subscription", "both")
                    .child(Element::new("group").text("Friends")),
            );
        }
        query
    }

    async fn message(&mut self, message: &Element, out: &mut Out) -> Result<(), StreamError> {
        let kind = message.get("type").unwrap_or("normal");
        if kind == "error" || kind == "groupchat" {
            return Ok(());
        }
        let Some(to) = message.get("to").and_then(uid_of) else {
            return out.element(&stanza_error(message, "cancel", "item-not-found")).await.map_err(io_gone);
        };
        let state =
            message.children.iter().find(|c| c.get("xmlns") == Some(NS_CHATSTATES)).map(|c| c.local().to_owned());
        let body = message.find("body").map(|b| b.text.clone()).filter(|b| !b.is_empty());
        let uid = self.uid;
        let refused = self.emulator.with_chat(|chat, now| {
            if let Some(text) = &body {
                let outgoing = Outgoing {
                    msg_id: message.get("id").map(|id| format!("xmpp-{id}")),
                    offline_ok: true,
                    ..Outgoing::new(to, text.clone())
                };
                return chat.send(uid, outgoing, now).err();
            }
            match state.as_deref() {
                Some("composing") => chat.typing(uid, to, true, now).err(),
                Some("paused" | "active" | "inactive" | "gone") => chat.typing(uid, to, false, now).err(),
                _ => None,
            }
        });
        match refused {
            None => Ok(()),
            Some(err) => {
                tracing::debug!(%err, to, "xmpp message refused");
                let condition = if body.is_some() { "service-unavailable" } else { "not-acceptable" };
                out.element(&stanza_error(message, "cancel", condition)).await.map_err(io_gone)
            }
        }
    }

    async fn presence(&mut self, presence: &Element, out: &mut Out) -> Result<(), StreamError> {
        match presence.get("type") {
            None if presence.get("to").is_none() => {
                if !self.available {
                    self.available = true;
                    self.emulator.with_chat(|chat, _| chat.set_visible(self.uid, true));
                    self.set_present(true);
                    self.push_presence(out).await?;
                }
                Ok(())
            }
            Some("unavailable") if presence.get("to").is_none() => {
                if self.available {
                    self.available = false;
                    self.set_present(false);
                    self.emulator.with_chat(|chat, _| chat.set_visible(self.uid, false));
                }
                Ok(())
            }
            // Subscriptions and directed presence: the friend list is the
            // roster; nothing to change.
            _ => Ok(()),
        }
    }

    /// Friends whose presence changed since the client was last told, by
    /// the core's one buddy-list diff.
    async fn push_presence(&mut self, out: &mut Out) -> Result<(), StreamError> {
        let uid = self.uid;
        let now_seen = self.emulator.with_chat(|chat, now| chat.online_friends(uid, now));
        let stanzas: Vec<Element> = presence::changes(&self.told, &now_seen)
            .into_iter()
            .map(|change| {
                let presence = Element::new("presence")
                    .attr("from", format!("{}/fbcomet", jid(change.uid)))
                    .attr("to", self.full_jid.clone());
                match change.now {
                    None => presence.attr("type", "unavailable"),
                    Some(Seen::Idle) => presence.child(Element::new("show").text("away")),
                    Some(Seen::Active) => presence,
                }
            })
            .collect();
        self.told = now_seen;
        for stanza in stanzas {
            out.element(&stanza).await.map_err(io_gone)?;
        }
        Ok(())
    }

    /// The session's subscription keeps the user online, or no longer.
    fn set_present(&self, present: bool) {
        if let Some(id) = self.subscription {
            self.emulator.with_chat(|chat, now| chat.set_present(id, present, now));
        }
    }

    /// The user's new events as stanzas: messages from others with their
    /// chat state, and typing as chat states.
    async fn push_events(&mut self, read: Read, out: &mut Out) -> Result<(), StreamError> {
        let uid = self.uid;
        let events = match read {
            Read::Events { events, next, .. } => {
                self.expected = Some(next);
                events
            }
            Read::Refresh { seq } => {
                if let Some(expected) = self.expected.filter(|&e| seq > e) {
                    tracing::warn!(uid, lost = seq - expected, "xmpp: events lost (the log moved past them)");
                }
                self.expected = Some(seq);
                return Ok(());
            }
        };
        for event in events {
            let stanza = match event {
                ChatEvent::Message(m) if m.from != uid => Element::new("message")
                    .attr("from", format!("{}/fbcomet", jid(m.from)))
                    .attr("to", self.full_jid.clone())
                    .attr("type", "chat")
                    .attr("id", format!("m{}", m.time_ms))
                    .child(Element::new("body").text(m.text.clone()))
                    .child(Element::new("active").attr("xmlns", NS_CHATSTATES)),
                ChatEvent::Typing { from, typing, .. } if from != uid => Element::new("message")
                    .attr("from", format!("{}/fbcomet", jid(from)))
                    .attr("to", self.full_jid.clone())
                    .attr("type", "chat")
                    .child(Element::new(if typing { "composing" } else { "paused" }).attr("xmlns", NS_CHATSTATES)),
                _ => continue,
            };
            out.element(&stanza).await.map_err(io_gone)?;
        }
        Ok(())
    }
}

struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn iq_error(iq: &Element, kind: &str, condition: &str) -> Element {
    Element::new("iq")
        .attr("type", "error")
        .attr("id", iq.get("id").unwrap_or_default())
        .child(Element::new("error").attr("type", kind).child(Element::new(condition).attr("xmlns", NS_STANZAS)))
}

fn stanza_error(stanza: &Element, kind: &str, condition: &str) -> Element {
    let mut error = Element::new(&stanza.name).attr("type", "error");
    if let Some(id) = stanza.get("id") {
        error = error.attr("id", id);
    }
    if let Some(to) = stanza.get("to") {
        error = error.attr("from", to);
    }
    error.child(Element::new("error").attr("type", kind).child(Element::new(condition).attr("xmlns", NS_STANZAS)))
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, DuplexStream};

    use super::*;
    use crate::testing;

    /// A client on a pipe to a session of `emulator`'s.
    fn connect(emulator: &Arc<Emulator>, config: XmppConfig) -> DuplexStream {
        let (client, server) = tokio::io::duplex(64 * 1024);
        let peer = SocketAddr::from(([127, 0, 0, 1], 5555));
        tokio::spawn(serve_io(Box::new(server), peer, emulator.clone(), Arc::new(config)));
        client
    }

    /// Reads until `needle` has come; everything read.
    async fn read_until(client: &mut DuplexStream, needle: &str) -> String {
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(&got).contains(needle) {
            let n = client.read(&mut buf).await.expect("read");
            assert!(n > 0, "the stream ended before {needle:?}: {}", String::from_utf8_lossy(&got));
            got.extend_from_slice(&buf[..n]);
        }
        String::from_utf8_lossy(&got).into_owned()
    }

    const OPEN: &str = "<?xml version='1.0'?><stream:stream to='chat.facebook.com' xmlns='jabber:client' \
                        xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>";

    /// Signs in as `name` with PLAIN and binds a resource.
    async fn sign_in(client: &mut DuplexStream, name: &str) {
        client.write_all(OPEN.as_bytes()).await.expect("open");
        read_until(client, "</stream:features>").await;
        let payload = sasl::encode(format!("\0{name}@example.com\0{name}").as_bytes());
        let auth = format!("<auth xmlns='{NS_SASL}' mechanism='PLAIN'>{payload}</auth>");
        client.write_all(auth.as_bytes()).await.expect("auth");
        read_until(client, "<success").await;
        client.write_all(OPEN.as_bytes()).await.expect("open");
        read_until(client, "</stream:features>").await;
        let bind = format!("<iq type='set' id='b'><bind xmlns='{NS_BIND}'><resource>t</resource></bind></iq>");
        client.write_all(bind.as_bytes()).await.expect("bind");
        read_until(client, "</iq>").await;
    }

    #[tokio::test(start_paused = true)]
    async fn a_session_gets_its_messages_and_ends_with_the_service() {
        let emulator = testing::emulator(Duration::from_secs(50));
        let mut bob = connect(&emulator, XmppConfig::default());
        sign_in(&mut bob, "bob").await;
        bob.write_all(b"<presence/>").await.expect("presence");
        let alice = testing::login(&emulator, "alice");
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(emulator.is_online(1002), "an available session keeps Bob online");
        let sent = emulator.with_chat(|chat, now| chat.send(alice.uid, Outgoing::new(1002, "hi bob"), now));
        assert!(sent.is_ok(), "{sent:?}");
        let got = read_until(&mut bob, "</message>").await;
        assert!(
            got.contains("<body>hi bob</body>") && got.contains(r#"from="-1001@chat.facebook.com/fbcomet""#),
            "{got}"
        );

        emulator.shutdown();
        let got = read_until(&mut bob, "</stream:stream>").await;
        assert!(got.contains("system-shutdown"), "{got}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_connection_is_closed_at_the_idle_limit() {
        let emulator = testing::emulator(Duration::from_secs(50));
        let limits = Limits { idle_timeout: Duration::from_secs(600), ..Limits::default() };
        let mut client = connect(&emulator, XmppConfig { limits, ..XmppConfig::default() });
        let start = tokio::time::Instant::now();
        client.write_all(OPEN.as_bytes()).await.expect("open");
        let got = read_until(&mut client, "</stream:stream>").await;
        assert!(got.contains("connection-timeout"), "{got}");
        assert!(start.elapsed() >= Duration::from_secs(600), "closed after {:?}", start.elapsed());
    }

    #[test]
    fn jids_name_users_with_or_without_the_dash() {
        assert_eq!(uid_of("-1002@chat.facebook.com"), Some(1002));
        assert_eq!(uid_of("1002@chat.facebook.com/pidgin"), Some(1002));
        assert_eq!(uid_of("-1002@jabber.org"), None);
        assert_eq!(uid_of("bob@chat.facebook.com"), None);
        assert_eq!(jid(1002), "-1002@chat.facebook.com");
    }
}
