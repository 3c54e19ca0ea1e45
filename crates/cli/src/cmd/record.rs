//! `fbcomet record`: a recording proxy that writes session fixtures.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use fbcomet_mock::RecordServer;
use url::Url;

use crate::cmd::WithContext;
use crate::cmd::util::{HumanDuration, ServerArgs, StatusLine, announce, listen_error, runtime, until_stopped};

/// Record what passes to a server of this protocol, as a replayable session.
///
/// Point a client at the address printed (`listening on http://ADDR`) or use
/// it as the client's HTTP proxy; every request is forwarded to --upstream
/// (another fbcomet, an archive server) and the exchange is kept with its
/// real hold and chunk timing. At Ctrl-C (or --timeout) the session is
/// written to --out in the fixture format, ready for `fbcomet replay`. An
/// --out that cannot be written, or an upstream that does not answer, is an
/// error at the start, before anything is served.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  fbcomet serve &                      # something to record
  fbcomet record --upstream http://127.0.0.1:8008 --addr 127.0.0.1:8009 --out my-session.json
  fbcomet replay my-session.json")]
pub(crate) struct Args {
    /// The server to forward to (http://HOST:PORT).
    #[arg(long, value_name = "URL")]
    upstream: Url,

    /// Where to write the session.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,

    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:8009")]
    addr: SocketAddr,

    #[command(flatten)]
    server: ServerArgs,

    /// The session's name (default: the file's stem).
    #[arg(long)]
    name: Option<String>,

    /// Stop after this long.
    #[arg(long, value_name = "DURATION")]
    timeout: Option<HumanDuration>,
}

pub(crate) fn run(args: Args) -> super::Result {
    if args.upstream.scheme() != "http" {
        eprintln!("fbcomet: --upstream must be an http:// URL, not {}", args.upstream);
        return Ok(ExitCode::from(2)); // a usage error
    }
    // A typo in --out is found now, not after the whole recording: the
    // file is opened for writing (and left as it was) before anything else.
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(&args.out)
        .context(|| format!("cannot write {}", args.out.display()))?;
    runtime()?.block_on(async {
        // An upstream that is down is found now too.
        let (host, port) =
            (args.upstream.host_str().unwrap_or_default(), args.upstream.port_or_known_default().unwrap_or(80));
        let reach = tokio::time::timeout(Duration::from_secs(5), tokio::net::TcpStream::connect((host, port))).await;
        match reach {
            Ok(Ok(_)) => {}
            Ok(Err(err)) => {
                return Err(super::Context::boxed(format!("cannot reach the upstream {}", args.upstream), err));
            }
            Err(_) => return Err(format!("cannot reach the upstream {}: no answer in 5 s", args.upstream).into()),
        }
        let server = RecordServer::bind(args.addr, args.upstream.clone(), args.server.server_config()?)
            .await
            .map_err(|e| listen_error(args.addr, e))?;
        announce(&server.url())?;
        let recorder = server.recorder().clone();
        let progress = StatusLine::start(move || format!("recording: {} exchanges", recorder.len()));
        until_stopped(args.timeout).await;
        drop(progress);
        let recorder = server.shutdown().await;
        let name = args
            .name
            .clone()
            .or_else(|| args.out.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "recorded".to_owned());
        let mut session = recorder.session(&name, 0, None);
        // Who logged in, from the home page that went by.
        if let Some(found) = session
            .exchanges
            .iter()
            .filter(|e| e.request.path.starts_with("/home.php"))
            .find_map(|e| fbcomet_sender::scrape_session(&e.response.body, None).ok())
        {
            session.uid = found.uid;
            session.channel = Some(found.channel);
        }
        std::fs::write(&args.out, session.to_json()).context(|| format!("cannot write {}", args.out.display()))?;
        println!("recorded {} exchanges to {}", session.exchanges.len(), args.out.display());
        Ok(ExitCode::SUCCESS)
    })
}
