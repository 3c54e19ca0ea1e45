//! `fbcomet chat`: an interactive client in the terminal, the way the first
//! 2008 clients worked.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use fbcomet::Client;

use crate::cmd::connect::{ConnectArgs, names, resolve};
use crate::cmd::input::{self, Input, Reader, redraw};
use crate::cmd::listen::event_line;
use crate::cmd::text::{clock, printable};
use crate::cmd::typing::{Notice, Typing};
use crate::cmd::util::{HumanDuration, INTERRUPTED, run_async};

/// Chat in the terminal: type `UID message` (or `NAME message`) to send,
/// `/buddies` for the buddy list, `/quit` to leave; incoming messages are
/// shown as they come.
///
/// What arrives is shown with the time: messages, typing, friends coming
/// and going (the buddy list is fetched every --presence-every). On a
/// terminal the friend a line is for is told that the user is typing, as
/// the line is written, until it is sent, erased or left for 5 s. Standard
/// input may be a terminal or a pipe: at its end, chat waits --linger for
/// answers and leaves. Leaving (/quit, the end of the input, Ctrl-C) logs
/// out, so the user goes offline, unless the session came from or goes to
/// a file (--session, --save-session). Exit status: 0 when left, 1 when
/// the session was lost, 130 on Ctrl-C.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  fbcomet chat --email alice@example.com --password alice
  > bob hi Bob & welcome
  > 1003 hello Carol
  > /buddies
  > /quit")]
pub(crate) struct Args {
    #[command(flatten)]
    connect: ConnectArgs,

    /// At the end of the input, wait this long for answers before leaving.
    #[arg(long, default_value = "500ms", value_name = "DURATION")]
    linger: HumanDuration,

    /// Fetch the buddy list this often to show who comes and goes (0s for never).
    #[arg(long, default_value = "1m", value_name = "DURATION")]
    presence_every: HumanDuration,
}

pub(crate) fn run(args: Args) -> super::Result {
    run_async(async {
        let every = args.presence_every.0;
        let config =
            fbcomet::ClientConfig { presence_interval: (!every.is_zero()).then_some(every), ..args.connect.config()? };
        let client = args.connect.connect(config).await?;
        let names = names(&client).await?;
        let mut events = client.events()?;
        say(&format!("logged in as {}. Type `UID message` or `NAME message`, /buddies, /quit.", client.uid()));
        let mut reader = Reader::start();
        let mut typing = Typing::default();
        let mut editing = String::new();
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        let status = loop {
            tokio::select! {
                input = reader.rx.recv() => match input {
                    Some(Input::Edited(line)) => {
                        editing = line;
                        redraw(&editing);
                        let notices = typing.edited(&editing, Instant::now(), |who| resolve(&names, who));
                        tell(&client, notices).await;
                    }
                    Some(Input::Line(line)) => {
                        if !editing.is_empty() || !line.is_empty() {
                            input::say(&format!("> {line}"), "");
                        }
                        editing.clear();
                        tell(&client, typing.done()).await;
                        if !command(&client, &names, line.trim()).await {
                            break ExitCode::SUCCESS;
                        }
                    }
                    Some(Input::Interrupt) => break ExitCode::from(INTERRUPTED),
                    Some(Input::End) | None => {
                        // The input ended: show what arrives for a moment more.
                        let until = tokio::time::Instant::now() + args.linger.0;
                        while let Ok(Some(event)) = tokio::time::timeout_at(until, events.next()).await {
                            show(&event, client.uid(), "");
                        }
                        break ExitCode::SUCCESS;
                    }
                },
                event = events.next() => match event {
                    Some(event) => show(&event, client.uid(), &editing),
                    None => return Ok(ExitCode::FAILURE),
                },
                _ = tick.tick() => tell(&client, typing.tick(Instant::now())).await,
                _ = tokio::signal::ctrl_c() => break ExitCode::from(INTERRUPTED),
            }
        };
        drop(reader); // the terminal as it was
        drop(events);
        if args.connect.owns_session()
            && let Err(err) = client.logout().await
        {
            tracing::warn!(error = &err as &(dyn std::error::Error + 'static), "logging out failed");
        }
        Ok(status)
    })
}

/// An event's line, with the time, where it has one, above the line
/// being written.
fn show(event: &fbcomet::ClientEvent, me: u64, editing: &str) {
    if let Some(line) = event_line(event, me) {
        input::say(&format!("{} {line}", clock()), editing);
    }
}

fn say(line: &str) {
    input::say(line, "");
}

/// Sends typing notices (a failed one is not worth more than a log line).
async fn tell(client: &Client, notices: Vec<Notice>) {
    for (to, typing) in notices {
        if let Err(err) = client.typing(to, typing).await {
            tracing::debug!(error = &err as &(dyn std::error::Error + 'static), to, "a typing notice failed");
        }
    }
}

/// Runs one line of input; `false` to leave.
async fn command(client: &Client, names: &BTreeMap<String, u64>, line: &str) -> bool {
    match line {
        "" => {}
        "/quit" | "/exit" => return false,
        "/help" => say("`UID message` or `NAME message` sends; /buddies lists friends; /quit leaves"),
        "/buddies" => match client.buddy_list().await {
            Ok(list) => {
                for (uid, info) in list.user_infos.iter().filter(|(uid, _)| *uid != client.uid().to_string()) {
                    let state = match list.now_available.get(uid) {
                        Some(a) if a.idle => "idle",
                        Some(_) => "online",
                        None => "offline",
                    };
                    say(&format!("{uid:>8}  {:<24} {state}", printable(info.name.as_deref().unwrap_or("?"))));
                }
            }
            Err(err) => say(&format!("buddy list failed: {}", super::report(&err))),
        },
        _ => {
            let Some((who, text)) = line.split_once(char::is_whitespace) else {
                say("type `UID message`, `NAME message`, /buddies or /quit");
                return true;
            };
            let to = resolve(names, who);
            match to {
                Some(to) => {
                    if let Err(err) = client.send(to, text.trim_start()).await {
                        say(&format!("not sent: {}", super::report(&err)));
                    }
                }
                None => say(&format!("who is {who:?}? try /buddies")),
            }
        }
    }
    true
}
