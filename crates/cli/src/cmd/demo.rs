//! `fbcomet demo`: everything, on the embedded default, in a few seconds.

use std::io::{self, Write};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fbcomet::{Client, ClientConfig, ClientEvent};
use fbcomet_codec::{Body, Event};
use fbcomet_mock::{
    Emulator, EmulatorConfig, Handler, Observer, Recording, Replay, ReplayConfig, Reply, ReplyBody, Request, Server,
    ServerConfig, Tap, World,
};
use fbcomet_receiver::{Config, Endpoint, Listener, Output};
use tokio::sync::mpsc;
use tokio::time::timeout;

use crate::cmd::WithContext;

/// The captured 2008 session the demo replays (pidgin-facebookchat's
/// 2008-05-19 captures), built into the binary.
const CAPTURED: &str = include_str!("../../../../fixtures/sessions/2008-multi-event-frame.json");

/// Show fbcomet at work: the emulated 2008 service, two users chatting, and
/// a captured 2008 session replayed through the receiver.
///
/// Starts the emulator on a free loopback port with the default world, logs
/// Alice and Bob in with the library client, shows their buddy lists, has
/// them exchange a short conversation with typing notifications, then plays
/// a captured 2008 session through the long-poll receiver. Prints a
/// timestamped transcript of what happened on the wire and to the users,
/// and exits 0 when every message arrived intact and once.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  fbcomet demo")]
pub(crate) struct Args {
    /// Leave out the wire lines (requests and answers).
    #[arg(long)]
    no_wire: bool,
}

/// Timestamped lines, printed as they happen.
struct Transcript {
    start: Instant,
    wire: bool,
}

impl Transcript {
    fn say(&self, who: &str, what: impl AsRef<str>) {
        let t = self.start.elapsed().as_secs_f64();
        let mut out = io::stdout().lock();
        let _ = writeln!(out, "[{t:7.3}s] {who:<6} {}", what.as_ref());
        let _ = out.flush();
    }

    fn heading(&self, text: &str) {
        let mut out = io::stdout().lock();
        let _ = writeln!(out, "\n== {text}");
        let _ = out.flush();
    }

    fn wire(&self, request: &Request, reply: &Reply) {
        if !self.wire {
            return;
        }
        let target = request.target();
        let target = if target.len() > 60 { format!("{}…", &target[..59]) } else { target };
        let held =
            if reply.hold.is_zero() { String::new() } else { format!(" (after a {} ms hold)", reply.hold.as_millis()) };
        self.say("wire", format!("{} {target}  → {}{held}", request.method, summary(reply)));
    }
}

/// A reply, in a few words: its body where it is protocol JSON.
fn summary(reply: &Reply) -> String {
    let body = match &reply.body {
        ReplyBody::Full(bytes) => bytes.clone(),
        ReplyBody::Chunks(_) => reply.body.to_bytes(),
    };
    if reply.status == 302 {
        let location =
            reply.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("location")).map_or("", |(_, v)| v.as_str());
        let cookies: Vec<&str> = reply
            .headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
            .filter_map(|(_, v)| v.split('=').next())
            .collect();
        return format!("302 to {location}, cookies {}", cookies.join(", "));
    }
    let text = String::from_utf8_lossy(&body);
    if text.starts_with("for (;;);") {
        let short: String = text.chars().take(110).collect();
        let more = if text.chars().count() > 110 { "…" } else { "" };
        return format!("{} {short}{more}", reply.status);
    }
    format!("{} {} ({} bytes)", reply.status, if text.contains("<html") { "HTML page" } else { "text" }, body.len())
}

pub(crate) fn run(args: Args) -> super::Result {
    let transcript = Arc::new(Transcript { start: Instant::now(), wire: !args.no_wire });
    let runtime = crate::cmd::util::runtime()?;
    let result = runtime.block_on(async {
        match timeout(Duration::from_secs(60), demo(transcript.clone())).await {
            Ok(result) => result,
            Err(_) => Err("the demo took over a minute".into()),
        }
    });
    let summary = result.context(|| "the demo failed".to_owned())?;
    println!("\n{summary}.\nDone in {:.2}s.", transcript.start.elapsed().as_secs_f64());
    println!(
        "To chat in a browser: `cargo run -- serve`, then open http://127.0.0.1:8008/ and log in as alice@example.com / alice."
    );
    Ok(ExitCode::SUCCESS)
}

async fn demo(transcript: Arc<Transcript>) -> super::Result<String> {
    let chat = chat(&transcript).await?;
    let replay = replay(&transcript).await?;
    Ok(format!("{chat}; {replay}"))
}

/// Serves `handler` on a free loopback port, every exchange shown as wire
/// lines of the transcript.
async fn tapped<H: Handler>(handler: H, t: &Arc<Transcript>) -> io::Result<Server> {
    let tap = t.clone();
    let observer: Observer = Arc::new(move |req: &Request, reply: &Reply| tap.wire(req, reply));
    Server::bind(SocketAddr::from(([127, 0, 0, 1], 0)), Arc::new(Tap::new(handler, observer)), ServerConfig::default())
        .await
}

/// Part 1: Alice and Bob on the emulated service.
async fn chat(t: &Arc<Transcript>) -> super::Result<String> {
    let world = World::default();
    let emulator = Emulator::new(&world, EmulatorConfig::with_hold(Duration::from_secs(2)));
    let server = tapped(emulator.clone(), t).await.map_err(|e| format!("cannot start the emulator: {e}"))?;
    let url = server.url();
    t.heading(&format!("the 2008 chat service, emulated at {url} (users Alice, Bob and Carol)"));

    let config =
        ClientConfig { presence_interval: None, ..ClientConfig::new(url.parse().map_err(|e| format!("{e}"))?) };
    let alice = Client::login(config.clone(), "alice@example.com", "alice").await?;
    t.say("alice", format!("logged in: uid {}, channel {:02}", alice.uid(), alice.session().channel));
    let bob = Client::login(config, "bob@example.com", "bob").await?;
    t.say("bob", format!("logged in: uid {}, channel {:02}", bob.uid(), bob.session().channel));

    // Both start listening; what arrives is printed and passed on.
    let mut alice_rx = listen(alice.clone(), "alice", t.clone())?;
    let mut bob_rx = listen(bob.clone(), "bob", t.clone())?;
    for uid in [alice.uid(), bob.uid()] {
        while !emulator.is_online(uid) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    for (name, client) in [("alice", &alice), ("bob", &bob)] {
        let list = client.buddy_list().await?;
        let friends: Vec<String> = list
            .user_infos
            .iter()
            .filter(|(uid, _)| *uid != client.uid().to_string())
            .map(|(uid, info)| {
                let state = if list.now_available.get(uid).is_some() { "online" } else { "offline" };
                format!("{} ({state})", info.name.as_deref().unwrap_or(uid))
            })
            .collect();
        t.say(name, format!("buddy list: {}", friends.join(", ")));
    }

    let lines = [
        (true, "Bob, did you see Tom & Jerry say \"hi\"? \u{1F600}"),
        (false, "Ha! 100% yes = +1 & <b>bold</b> caf\u{e9} \u{5341}"),
        (true, "See you at 8 \u{1F44B}"),
    ];
    let mut messages = 0;
    for (from_alice, text) in lines {
        let (sender, name, receiver) =
            if from_alice { (&alice, "alice", &mut bob_rx) } else { (&bob, "bob", &mut alice_rx) };
        let to = if from_alice { bob.uid() } else { alice.uid() };
        t.say(name, "starts typing");
        sender.typing(to, true).await?;
        expect(receiver, |e| matches!(e, ClientEvent::Typing { typing: true, .. })).await?;
        t.say(name, format!("says {text:?}"));
        sender.send(to, text).await?;
        let got = expect(receiver, |e| matches!(e, ClientEvent::Message { own_echo: false, .. })).await?;
        match got {
            ClientEvent::Message { message, .. } if message.text == text => {
                t.say("check", "the text arrived intact (&, quotes, %, =, +, markup and emoji included)");
            }
            other => return Err(format!("the message changed on the way: {other:?}").into()),
        }
        messages += 1;
    }
    server.shutdown().await;
    Ok(format!("Alice and Bob exchanged {messages} messages with typing notifications, every one intact and once"))
}

/// Runs a client's event stream in a task: prints each event, passes it on.
fn listen(
    client: Client,
    name: &'static str,
    t: Arc<Transcript>,
) -> super::Result<mpsc::UnboundedReceiver<ClientEvent>> {
    let mut events = client.events()?;
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(event) = events.next().await {
            match &event {
                ClientEvent::Message { message, own_echo: true } => {
                    t.say(name, format!("sees the echo of its own message to {}", message.to));
                }
                ClientEvent::Message { message, .. } => {
                    let from = message.from_first_name.as_deref().unwrap_or("?");
                    t.say(name, format!("got from {from}: {:?}", message.text));
                }
                ClientEvent::Typing { from, name: who, typing } => {
                    let who = who.as_deref().and_then(|n| n.split(' ').next()).map_or(from.to_string(), str::to_owned);
                    t.say(name, format!("sees {who} {}", if *typing { "typing" } else { "stop typing" }));
                }
                _ => {}
            }
            if tx.send(event).is_err() {
                break;
            }
        }
    });
    Ok(rx)
}

async fn expect(
    rx: &mut mpsc::UnboundedReceiver<ClientEvent>,
    wanted: impl Fn(&ClientEvent) -> bool,
) -> super::Result<ClientEvent> {
    loop {
        match timeout(Duration::from_secs(10), rx.recv()).await {
            Ok(Some(event)) if wanted(&event) => return Ok(event),
            Ok(Some(_)) => {}
            Ok(None) => return Err("the event stream ended".into()),
            Err(_) => return Err("nothing arrived within 10 s".into()),
        }
    }
}

/// Part 2: the captured 2008 session, replayed to the receiver.
async fn replay(t: &Arc<Transcript>) -> super::Result<String> {
    let session = Recording::parse(CAPTURED, "2008-multi-event-frame.json")?;
    let expected: usize = session
        .exchanges
        .iter()
        .filter_map(|e| match fbcomet_codec::decode(e.response.body.as_bytes()) {
            Ok(Body::Frame(frame)) => Some(frame.events().len()),
            _ => None,
        })
        .sum();
    let replay = Replay::new(session.clone(), ReplayConfig::default().speed(100.0));
    let server = tapped(replay.clone(), t).await.map_err(|e| format!("cannot start the replay: {e}"))?;
    t.heading(&format!(
        "a captured 2008 session ({}), replayed 100x faster to the long-poll receiver",
        session.provenance.split(" (").next().unwrap_or("pidgin-facebookchat")
    ));
    let config = Config::new(session.uid, Endpoint::channel(session.channel.unwrap_or(15)).with_base(server.url()));
    let mut listener = Listener::new(config, fbcomet_http::HttpClient::new(fbcomet_http::HttpConfig::default()))?;
    let received = Mutex::new(0usize);
    let receive = async {
        while let Some(output) = listener.next().await {
            if let Output::Event(delivery) = output {
                let what = match &delivery.event {
                    Event::Msg(m) if delivery.own_echo => format!("own echo to {}: {:?}", m.to, m.text),
                    Event::Msg(m) => {
                        format!("message from {}: {:?}", m.from_first_name.as_deref().unwrap_or("?"), m.text)
                    }
                    Event::Typ(ty) => format!("{} {}", ty.from, if ty.typing { "is typing" } else { "stopped typing" }),
                    other => other.kind().to_owned(),
                };
                t.say("event", format!("seq {}: {what}", delivery.seq));
                *received.lock().unwrap_or_else(|e| e.into_inner()) += 1;
            }
        }
    };
    tokio::select! {
        () = receive => {}
        () = replay.finished() => {}
    }
    let stats = listener.stats().clone();
    drop(listener);
    let report = {
        server.shutdown().await;
        replay.report()
    };
    let received = *received.lock().unwrap_or_else(|e| e.into_inner());
    if received != expected || !report.unmatched.is_empty() {
        return Err(format!("the receiver got {received} of {expected} events: {report}").into());
    }
    Ok(format!("the captured session gave its {received} events once and in order, in {} polls", stats.polls))
}
