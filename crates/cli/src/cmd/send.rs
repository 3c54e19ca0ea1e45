//! `fbcomet send`: one message, or one per line of standard input.

use std::io::{self, BufRead, Write};
use std::process::ExitCode;

use serde_json::json;

use crate::cmd::connect::{ConnectArgs, names, resolve};
use crate::cmd::util::run_async;

/// Send a message (--text), or one message per line of standard input.
///
/// Text is form-encoded properly (&, =, +, %, newlines, emoji arrive
/// intact); over 999 characters is refused before sending. A send whose
/// request breaks is retried with the same msg_id, so it is never doubled.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  fbcomet send --email alice@example.com --password alice --to 1002 --text 'hi & bye'
  fbcomet send --email alice@example.com --password alice --to bob --text 'by name'
  printf 'one\\ntwo\\n' | fbcomet send --email alice@example.com --password alice --to 1002")]
pub(crate) struct Args {
    #[command(flatten)]
    connect: ConnectArgs,

    /// The recipient: a uid, or a friend's first or full name.
    #[arg(long, value_name = "UID|NAME")]
    to: String,

    /// The message (else each line of standard input is one).
    #[arg(long)]
    text: Option<String>,

    /// Print a JSON line per message sent.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: Args) -> super::Result {
    let texts: Vec<String> = match &args.text {
        Some(text) => vec![text.clone()],
        None => {
            io::stdin().lock().lines().collect::<Result<Vec<_>, _>>()?.into_iter().filter(|l| !l.is_empty()).collect()
        }
    };
    run_async(async {
        let config = fbcomet::ClientConfig { presence_interval: None, ..args.connect.config()? };
        let client = args.connect.connect(config).await?;
        let to = match args.to.parse::<u64>() {
            Ok(uid) => uid,
            Err(_) => resolve(&names(&client).await?, &args.to)
                .ok_or_else(|| format!("who is {:?}? not a uid, nor the name of a friend", args.to))?,
        };
        let mut failed = 0;
        for text in &texts {
            match client.send(to, text).await {
                Ok(sent) => {
                    let mut out = io::stdout().lock();
                    if args.json {
                        writeln!(out, "{}", json!({"to": to, "msg_id": sent.msg_id, "attempts": sent.attempts}))?;
                    } else {
                        writeln!(out, "sent to {to} (msg_id {})", sent.msg_id)?;
                    }
                }
                Err(err) => {
                    eprintln!("fbcomet: not sent to {to}: {}", super::report(&err));
                    failed += 1;
                }
            }
        }
        Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
    })
}
