//! `fbcomet listen`: print what arrives on a user's channel.

use std::io::{self, Write};
use std::process::ExitCode;

use fbcomet::{ClientEvent, Message, Person};
use serde_json::{Value, json};

use crate::cmd::connect::ConnectArgs;
use crate::cmd::text::{clock, printable};
use crate::cmd::util::{HumanDuration, INTERRUPTED, run_async};

/// Log in and print events as they arrive: messages, typing, presence.
///
/// Every message is printed once, in order, whatever the network does; the
/// session is renewed by itself when the server asks. Where the server
/// skipped events (the listener fell behind its window), what history
/// still held is printed, then a gap line with the number lost. Readable
/// lines by default, with text from the network made safe for a terminal
/// (control characters shown escaped, one message one line); JSON lines
/// with --json, text exact.
///
/// Leaving logs out (the user goes offline) unless the session came from or
/// goes to a file (--session, --save-session).
///
/// Exit status: 0 when --count messages came (or at --timeout without
/// --count), 1 when the session was lost, 3 when --timeout came before
/// --count messages, 130 on Ctrl-C, 2 for usage errors.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  fbcomet listen --email alice@example.com --password alice
  fbcomet listen --email bob@example.com --password bob --json --count 1
  fbcomet listen --session alice.json --timeout 5m")]
pub(crate) struct Args {
    #[command(flatten)]
    connect: ConnectArgs,

    /// Print JSON lines.
    #[arg(long)]
    json: bool,

    /// Stop after this many messages from others (own echoes are printed, not counted).
    #[arg(long, value_name = "N")]
    count: Option<usize>,

    /// Stop after this long (30s, 5m).
    #[arg(long, value_name = "DURATION")]
    timeout: Option<HumanDuration>,

    /// Fetch the buddy list this often to report who comes and goes (0s for never).
    #[arg(long, default_value = "3m", value_name = "DURATION")]
    presence_every: HumanDuration,
}

pub(crate) fn run(args: Args) -> super::Result {
    run_async(async {
        let mut config = args.connect.config()?;
        config.presence_interval = (!args.presence_every.0.is_zero()).then_some(args.presence_every.0);
        let client = args.connect.connect(config).await?;
        let mut events = client.events()?;
        let deadline = args.timeout.map(|t| tokio::time::Instant::now() + t.0);
        // Once the first poll is answered, nothing sent from then on is
        // missed: say so (on stderr, so that --json output stays events).
        let ready = match deadline {
            Some(at) => tokio::time::timeout_at(at, events.ready()).await.unwrap_or(false),
            None => events.ready().await,
        };
        if ready {
            eprintln!("listening as {}", client.uid());
        }
        let mut messages = 0;
        let status = loop {
            if args.count.is_some_and(|n| messages >= n) {
                break ExitCode::SUCCESS;
            }
            let next = async {
                match deadline {
                    Some(at) => tokio::time::timeout_at(at, events.next()).await.ok(),
                    None => Some(events.next().await),
                }
            };
            let event = tokio::select! {
                event = next => event,
                _ = tokio::signal::ctrl_c() => break ExitCode::from(INTERRUPTED),
            };
            let Some(event) = event else {
                // The timeout: short of --count is a failure of its own kind.
                break if args.count.is_some() { ExitCode::from(TIMED_OUT) } else { ExitCode::SUCCESS };
            };
            let Some(event) = event else {
                break ExitCode::FAILURE; // the stream ended after SessionLost
            };
            if matches!(&event, ClientEvent::Message { message, .. } if message.from != client.uid()) {
                messages += 1;
            }
            let lost = matches!(event, ClientEvent::SessionLost { .. });
            let mut out = io::stdout().lock();
            if args.json {
                if let Some(value) = event_json(&event) {
                    writeln!(out, "{value}")?;
                }
            } else if let Some(line) = event_line(&event, client.uid()) {
                writeln!(out, "{} {line}", clock())?;
            }
            out.flush()?;
            if lost {
                break ExitCode::FAILURE;
            }
        };
        // Leaving takes the user offline, unless the session is kept in a file.
        drop(events);
        if args.connect.owns_session()
            && let Err(err) = client.logout().await
        {
            tracing::warn!(error = &err as &(dyn std::error::Error + 'static), "logging out failed");
        }
        Ok(status)
    })
}

/// The exit status when --timeout comes before --count messages.
const TIMED_OUT: u8 = 3;

fn name(message: &Message<'_>, from: bool) -> String {
    let (uid, name) = if from { (message.from, &message.from_name) } else { (message.to, &message.to_name) };
    person(uid, name.as_deref())
}

/// `Name (uid)`, or the uid alone; the name made safe for a terminal.
fn person(uid: u64, name: Option<&str>) -> String {
    match name {
        Some(name) => format!("{} ({uid})", printable(name)),
        None => uid.to_string(),
    }
}

/// A readable line for an event (`None` for the ones not worth one).
pub(crate) fn event_line(event: &ClientEvent, me: u64) -> Option<String> {
    Some(match event {
        ClientEvent::Message { message, own_echo: true } => {
            format!("you to {}: {}", name(message, false), printable(&message.text))
        }
        ClientEvent::Message { message, .. } if message.from == me => {
            format!("you to yourself: {}", printable(&message.text))
        }
        ClientEvent::Message { message, .. } => format!("{}: {}", name(message, true), printable(&message.text)),
        ClientEvent::Typing { from, name, typing: true } => format!("{} is typing", person(*from, name.as_deref())),
        ClientEvent::Typing { from, name, typing: false } => {
            format!("{} stopped typing", person(*from, name.as_deref()))
        }
        ClientEvent::PresenceChanged { online, offline } if online.is_empty() && offline.is_empty() => {
            "no friends online".to_owned()
        }
        ClientEvent::PresenceChanged { online, offline } => {
            let list = |people: &[Person]| {
                people.iter().map(|p| person(p.uid, p.name.as_deref())).collect::<Vec<_>>().join(", ")
            };
            match (online.is_empty(), offline.is_empty()) {
                (false, true) => format!("online: {}", list(online)),
                (true, false) => format!("went offline: {}", list(offline)),
                _ => format!("online: {}; went offline: {}", list(online), list(offline)),
            }
        }
        ClientEvent::SessionRenewed { seq, recovered } => {
            format!("session renewed (seq {}), {recovered} messages recovered from history", seq.unwrap_or_default())
        }
        ClientEvent::Gap { missed, recovered, lost: 0 } => {
            format!(
                "gap: the server skipped {missed} events; all {recovered} messages among them recovered from history"
            )
        }
        ClientEvent::Gap { missed, recovered, lost } => format!(
            "gap: the server skipped {missed} events; {recovered} recovered from history, {lost} lost (messages or typing notices)"
        ),
        ClientEvent::SessionLost { reason } => format!("session lost: {}", printable(reason)),
        _ => return None,
    })
}

/// A JSON line for an event.
pub(crate) fn event_json(event: &ClientEvent) -> Option<Value> {
    Some(match event {
        ClientEvent::Message { message, own_echo } => json!({
            "type": "message",
            "from": message.from,
            "to": message.to,
            "from_name": message.from_name,
            "to_name": message.to_name,
            "text": message.text,
            "time": message.time,
            "msg_id": message.msg_id,
            "own_echo": own_echo,
        }),
        ClientEvent::Typing { from, name, typing } => {
            json!({"type": "typing", "from": from, "from_name": name, "typing": typing})
        }
        ClientEvent::PresenceChanged { online, offline } => {
            let list = |people: &[Person]| -> Vec<Value> {
                people.iter().map(|p| json!({"uid": p.uid, "name": p.name})).collect()
            };
            json!({"type": "presence", "online": list(online), "offline": list(offline)})
        }
        ClientEvent::Gap { missed, recovered, lost } => {
            json!({"type": "gap", "missed": missed, "recovered": recovered, "lost": lost})
        }
        ClientEvent::SessionRenewed { seq, recovered } => {
            json!({"type": "renewed", "seq": seq, "recovered": recovered})
        }
        ClientEvent::SessionLost { reason } => json!({"type": "lost", "reason": reason}),
        _ => return None,
    })
}
