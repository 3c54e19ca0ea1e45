//! `fbcomet chat`: an interactive client in the terminal, the way the first
//! 2008 clients worked.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::process::ExitCode;

use fbcomet::Client;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::cmd::connect::{ConnectArgs, names, resolve};
use crate::cmd::listen::event_line;
use crate::cmd::util::{HumanDuration, clock, printable, run_async};

/// Chat in the terminal: type `UID message` (or `NAME message`) to send,
/// `/buddies` for the buddy list, `/quit` to leave; incoming messages are
/// shown as they come.
///
/// What arrives is shown with the time: messages, typing, friends coming
/// and going (the buddy list is fetched every --presence-every). Standard
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
        let mut lines = BufReader::new(tokio::io::stdin()).lines();
        let status = loop {
            tokio::select! {
                line = lines.next_line() => match line {
                    Ok(Some(line)) => {
                        if !command(&client, &names, line.trim()).await {
                            break ExitCode::SUCCESS;
                        }
                    }
                    Ok(None) | Err(_) => {
                        // The input ended: show what arrives for a moment more.
                        let until = tokio::time::Instant::now() + args.linger.0;
                        while let Ok(Some(event)) = tokio::time::timeout_at(until, events.next()).await {
                            show(&event, client.uid());
                        }
                        break ExitCode::SUCCESS;
                    }
                },
                event = events.next() => match event {
                    Some(event) => show(&event, client.uid()),
                    None => return Ok(ExitCode::FAILURE),
                },
                _ = tokio::signal::ctrl_c() => break ExitCode::from(INTERRUPTED),
            }
        };
        drop(events);
        if args.connect.owns_session()
            && let Err(err) = client.logout().await
        {
            tracing::warn!(error = &err as &(dyn std::error::Error + 'static), "logging out failed");
        }
        Ok(status)
    })
}

/// The exit status after Ctrl-C, as a shell reports a SIGINT.
pub(crate) const INTERRUPTED: u8 = 130;

/// An event's line, with the time, where it has one.
fn show(event: &fbcomet::ClientEvent, me: u64) {
    if let Some(line) = event_line(event, me) {
        say(&format!("{} {line}", clock()));
    }
}

fn say(line: &str) {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
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
