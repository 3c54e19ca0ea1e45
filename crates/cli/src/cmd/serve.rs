//! `fbcomet serve`: the emulated 2008 chat service.

use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use fbcomet_chat::ChatConfig;
use fbcomet_mock::xmpp::{XmppConfig, XmppServer};
use fbcomet_mock::{EmulatorConfig, EmulatorServer, World};

use crate::cmd::text::{clock, printable};
use crate::cmd::util::{FaultArgs, HumanDuration, ServerArgs, announce, listen_error, runtime, until_stopped};

/// Serve the 2008 chat service: log in, buddy lists, messages, typing.
///
/// Several users log in, chat, type and go idle, and every client sees what
/// the real service would have shown it. Without --world, Alice, Bob and
/// Carol are there, all friends, each logging in with NAME@example.com and
/// the password NAME. Old clients work unchanged with fbcomet as their HTTP
/// proxy: facebook.com, www.facebook.com, login.facebook.com,
/// *.channelNN.facebook.com and N-edge-chat.facebook.com all reach it.
///
/// Clients of the HTTPS era use it as their HTTPS proxy: `CONNECT host:443`
/// is served as HTTPS with a certificate from fbcomet's CA (trust its
/// `ca.pem`: `fbcomet ca` says how); --tls-addr serves HTTPS directly too.
///
/// XMPP clients of 2010-2015 (Pidgin, Adium, slixmpp) connect to --xmpp as
/// to chat.facebook.com:5222: STARTTLS with fbcomet's CA (optional), SASL
/// X-FACEBOOK-PLATFORM (the default world's app `fbcomet-app` and the
/// access tokens `alice-token`, `bob-token`, `carol-token`), DIGEST-MD5 or
/// PLAIN (email or username, and password).
///
/// The first line printed is `listening on http://ADDR`; the service runs
/// until Ctrl-C (or --timeout) and then prints what it did.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  fbcomet serve
  fbcomet serve --hold 3s --addr 127.0.0.1:9000
  fbcomet serve --world my-world.json --fault-rate 0.2 --seed 7

  # then, in another terminal, as an old client through the proxy:
  curl -x http://127.0.0.1:8008 -c jar -d email=alice@example.com -d pass=alice http://www.facebook.com/login.php
  curl -x http://127.0.0.1:8008 -b jar http://www.facebook.com/home.php
  # an HTTPS-era client, with fbcomet as its proxy and its CA trusted:
  curl --cacert \"$(fbcomet ca --path)\" -x http://127.0.0.1:8008 https://www.facebook.com/login.php")]
pub(crate) struct Args {
    /// The world: users, friendships, apps and pages (JSON; see
    /// fixtures/README.md).
    #[arg(long, value_name = "FILE")]
    world: Option<PathBuf>,

    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:8008")]
    addr: SocketAddr,

    /// Where to listen for XMPP, or `off`. By default port 5222 of the
    /// --addr host (any free port when --addr's port is 0).
    #[arg(long, value_name = "ADDR|off", value_parser = xmpp_addr)]
    xmpp: Option<XmppAddr>,

    #[command(flatten)]
    server: ServerArgs,

    /// Serve HTTPS directly here too (clients pointed at the server with
    /// an https:// base rather than through it as a proxy).
    #[arg(long, value_name = "ADDR")]
    tls_addr: Option<SocketAddr>,

    /// How long a poll with nothing to deliver is held (55s, 3s, 500ms).
    #[arg(long, default_value = "55s", value_name = "DURATION")]
    hold: HumanDuration,

    /// How long a `/pull` with nothing to deliver is held: under the 30 s
    /// after which fbchat and the web clients gave up on a read.
    #[arg(long, default_value = "25s", value_name = "DURATION")]
    pull_hold: HumanDuration,

    /// How many events each channel keeps (a poll below them is sent to
    /// the oldest kept, and the client counts what it lost).
    #[arg(long, default_value_t = ChatConfig::default().window, value_name = "N")]
    history: usize,

    /// How many messages history.php keeps per pair of users.
    #[arg(long, default_value_t = ChatConfig::default().conversation_history, value_name = "N")]
    conversation_history: usize,

    /// How long after their last poll a user still counts as online.
    #[arg(long, default_value = "2m", value_name = "DURATION")]
    online_window: HumanDuration,

    #[command(flatten)]
    faults: FaultArgs,

    /// Stop after this long.
    #[arg(long, value_name = "DURATION")]
    timeout: Option<HumanDuration>,
}

pub(crate) fn run(args: Args) -> super::Result {
    let world = match &args.world {
        Some(path) => World::load(path)?,
        None => World::default(),
    };
    let config = EmulatorConfig {
        chat: ChatConfig {
            hold: args.hold.0,
            pull_hold: args.pull_hold.0.min(args.hold.0),
            window: args.history,
            conversation_history: args.conversation_history,
            online_window: args.online_window.0,
            ..ChatConfig::default()
        },
        faults: args.faults.random_faults(),
    };
    runtime()?.block_on(async {
        let server_config = args.server.server_config()?;
        let ca = args.server.ca_dir().join(fbcomet_mock::tls::CA_CERT_FILE);
        let server = EmulatorServer::bind(args.addr, &world, config, server_config.clone())
            .await
            .map_err(|e| listen_error(args.addr, e))?;
        announce(&server.url())?;
        let tls = match args.tls_addr {
            Some(addr) => {
                let handler = std::sync::Arc::new(server.emulator().clone());
                let tls = fbcomet_mock::Server::bind_tls(addr, handler, server_config.clone())
                    .await
                    .map_err(|e| listen_error(addr, e))?;
                println!("https on {}", tls.url());
                Some(tls)
            }
            None => None,
        };
        println!("https through the proxy: CONNECT host:443, certificates from {}", ca.display());
        let xmpp_addr = match args.xmpp {
            Some(XmppAddr::Off) => None,
            Some(XmppAddr::At(addr)) => Some(addr),
            None => Some(SocketAddr::new(args.addr.ip(), if args.addr.port() == 0 { 0 } else { 5222 })),
        };
        let xmpp = match xmpp_addr {
            Some(addr) => {
                let config =
                    XmppConfig { tls: Some(args.server.authority()?.xmpp_server_config()), ..XmppConfig::default() };
                let xmpp = XmppServer::bind(addr, server.emulator().clone(), config)
                    .await
                    .map_err(|e| listen_error(addr, e))?;
                println!("xmpp on {} (as chat.facebook.com; STARTTLS with the same CA)", xmpp.local_addr());
                Some(xmpp)
            }
            None => None,
        };
        println!("chat in a browser: {}/ (the service, live: {}/fbcomet/)", server.url(), server.url());
        let users: Vec<String> = world.users.iter().map(|u| format!("{} ({})", u.email, u.uid)).collect();
        println!("users: {}", users.join(", "));
        for page in &world.pages {
            let webhook = page.webhook.as_deref().unwrap_or("no webhook");
            println!(
                "page: {} ({}), token {}, {webhook}",
                printable(&page.name),
                page.id,
                printable(&page.access_token)
            );
        }
        io::stdout().flush()?;
        // Each page's webhook, as its state changes.
        for hook in server.emulator().page_hooks() {
            let mut state = hook.state();
            let (id, name) = (hook.page.id, printable(&hook.page.name).into_owned());
            tokio::spawn(async move {
                loop {
                    let now = state.borrow_and_update().clone();
                    println!("{} page {name} ({id}): webhook {}", clock(), printable(&now.to_string()));
                    if state.changed().await.is_err() {
                        break;
                    }
                }
            });
        }
        until_stopped(args.timeout).await;
        let stats = server.emulator().stats();
        if let Some(tls) = tls {
            tls.shutdown().await;
        }
        if let Some(xmpp) = xmpp {
            xmpp.shutdown();
        }
        server.shutdown().await;
        println!(
            "served {} logins, {} messages ({} retried sends dropped), {} polls, {} faults injected",
            stats.logins, stats.messages, stats.duplicate_sends, stats.polls, stats.faults
        );
        Ok(ExitCode::SUCCESS)
    })
}

/// `--xmpp`: an address, or off.
#[derive(Debug, Clone, Copy)]
pub(crate) enum XmppAddr {
    Off,
    At(SocketAddr),
}

fn xmpp_addr(text: &str) -> Result<XmppAddr, String> {
    match text {
        "off" | "none" => Ok(XmppAddr::Off),
        addr => addr.parse().map(XmppAddr::At).map_err(|e| format!("{e}: an address such as 127.0.0.1:5222, or off")),
    }
}
