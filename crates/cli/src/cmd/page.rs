//! `fbcomet page`: for people developing a Messenger Platform bot: message
//! a page as a user and show what the bot answers; or have its webhook
//! verified again.

use std::io::Write;
use std::process::ExitCode;

use fbcomet::ClientEvent;
use fbcomet_http::{HttpClient, HttpConfig};

use crate::cmd::connect::ConnectArgs;
use crate::cmd::listen::event_line;
use crate::cmd::text::clock;
use crate::cmd::util::{HumanDuration, run_async};

/// For bot developers: message a page as a user and show the bot's
/// answers, or have its webhook verified again.
///
/// The page and its webhook come from the world `fbcomet serve` runs
/// (`serve` prints each page's webhook state as it changes).
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: PageCommand,
}

#[derive(Debug, clap::Subcommand)]
enum PageCommand {
    Send(Box<SendArgs>),
    Verify(VerifyArgs),
}

/// Message a page as a user and show the bot's answers (typing and
/// messages, as they come through the user's channel).
///
/// Exit status: 0 when --count answers came, 3 at --timeout before them.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  fbcomet page send 2001 --email alice@example.com --password alice --text 'hello bot'
  fbcomet page send 2001 --email bob@example.com --password bob --dialect web --text hi --count 2")]
struct SendArgs {
    /// The page's id.
    page: u64,

    #[command(flatten)]
    connect: ConnectArgs,

    /// What to send the page.
    #[arg(long)]
    text: String,

    /// How many messages from the page to wait for.
    #[arg(long, default_value_t = 1, value_name = "N")]
    count: usize,

    /// How long to wait for them.
    #[arg(long, default_value = "30s", value_name = "DURATION")]
    timeout: HumanDuration,
}

/// Have the server verify the page's webhook again (from this machine
/// only); `fbcomet serve` prints how it went.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  fbcomet page verify 2001 --server http://127.0.0.1:8008")]
struct VerifyArgs {
    /// The page's id.
    page: u64,

    /// The server.
    #[arg(long, default_value = "http://127.0.0.1:8008", value_name = "URL")]
    server: url::Url,
}

const TIMED_OUT: u8 = 3;

pub(crate) fn run(args: Args) -> super::Result {
    match args.command {
        PageCommand::Send(args) => send(*args),
        PageCommand::Verify(args) => run_async(verify(args)),
    }
}

fn send(args: SendArgs) -> super::Result {
    run_async(async {
        let config = fbcomet::ClientConfig { presence_interval: None, ..args.connect.config()? };
        let client = args.connect.connect(config).await?;
        let mut events = client.events()?;
        let deadline = tokio::time::Instant::now() + args.timeout.0;
        if !tokio::time::timeout_at(deadline, events.ready()).await.unwrap_or(false) {
            return Err("the channel did not answer".into());
        }
        let sent = client.send(args.page, &args.text).await?;
        println!("{} sent to page {} (msg_id {})", clock(), args.page, sent.msg_id);
        let mut answers = 0;
        let status = loop {
            if answers >= args.count {
                break ExitCode::SUCCESS;
            }
            let Ok(event) = tokio::time::timeout_at(deadline, events.next()).await else {
                eprintln!(
                    "fbcomet: {answers} of {} answers from page {} in {:?}",
                    args.count, args.page, args.timeout.0
                );
                break ExitCode::from(TIMED_OUT);
            };
            let Some(event) = event else { break ExitCode::FAILURE };
            let from_page = match &event {
                ClientEvent::Message { message, .. } => message.from == args.page,
                ClientEvent::Typing { from, .. } => *from == args.page,
                _ => false,
            };
            if !from_page {
                continue;
            }
            if matches!(event, ClientEvent::Message { .. }) {
                answers += 1;
            }
            if let Some(line) = event_line(&event, client.uid()) {
                let mut out = std::io::stdout().lock();
                writeln!(out, "{} {line}", clock())?;
                out.flush()?;
            }
        };
        drop(events);
        if args.connect.owns_session() {
            let _ = client.logout().await;
        }
        Ok(status)
    })
}

async fn verify(args: VerifyArgs) -> super::Result {
    let mut url = args.server.clone();
    url.set_path(&format!("/fbcomet/pages/{}/verify", args.page));
    let response = HttpClient::new(HttpConfig::default()).post(&url, "text/plain", Vec::new(), &[]).await?;
    let text = response.text();
    if response.status == 202 {
        println!("page {}: verifying its webhook again; `fbcomet serve` prints how it went", args.page);
        Ok(ExitCode::SUCCESS)
    } else {
        Err(format!("the server answered {}: {}", response.status, text.trim()).into())
    }
}
