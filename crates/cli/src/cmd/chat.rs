//! `fbcomet chat`: an interactive client in the terminal, the way the first
//! 2008 clients worked.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::process::ExitCode;

use fbcomet::Client;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::cmd::connect::ConnectArgs;
use crate::cmd::listen::event_line;
use crate::cmd::util::{HumanDuration, printable, run_async};

/// Chat in the terminal: type `UID message` (or `NAME message`) to send,
/// `/buddies` for the buddy list, `/quit` to leave; incoming messages are
/// shown as they come.
///
/// Standard input may be a terminal or a pipe: at its end, chat waits
/// --linger for answers and leaves.
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
}

pub(crate) fn run(args: Args) -> super::Result {
    run_async(async {
        let config = fbcomet::ClientConfig { presence_interval: None, ..args.connect.config() };
        let client = args.connect.connect(config).await?;
        let names = buddies(&client).await?;
        let mut events = client.events()?;
        say(&format!("logged in as {}. Type `UID message` or `NAME message`, /buddies, /quit.", client.uid()));
        let mut lines = BufReader::new(tokio::io::stdin()).lines();
        loop {
            tokio::select! {
                line = lines.next_line() => match line {
                    Ok(Some(line)) => {
                        if !command(&client, &names, line.trim()).await {
                            return Ok(ExitCode::SUCCESS);
                        }
                    }
                    Ok(None) | Err(_) => break,
                },
                event = events.next() => match event {
                    Some(event) => {
                        if let Some(line) = event_line(&event, client.uid()) {
                            say(&line);
                        }
                    }
                    None => return Ok(ExitCode::FAILURE),
                },
            }
        }
        // The input ended: show what arrives for a moment more.
        let until = tokio::time::Instant::now() + args.linger.0;
        while let Ok(Some(event)) = tokio::time::timeout_at(until, events.next()).await {
            if let Some(line) = event_line(&event, client.uid()) {
                say(&line);
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

fn say(line: &str) {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// First names (lowercase) to uids, and the listing `/buddies` prints.
async fn buddies(client: &Client) -> Result<BTreeMap<String, u64>, fbcomet::Error> {
    let list = client.buddy_list().await?;
    Ok(list
        .user_infos
        .iter()
        .filter_map(|(uid, info)| Some((info.first_name.as_deref()?.to_lowercase(), uid.parse().ok()?)))
        .collect())
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
            let to = who.parse::<u64>().ok().or_else(|| names.get(&who.to_lowercase()).copied());
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
