//! `fbcomet replay`: serve a captured session the way the service behaved.

use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use fbcomet_mock::{Mode, Recording, ReplayConfig, ReplayServer};

use crate::cmd::text::printable;
use crate::cmd::util::{FaultArgs, HumanDuration, ServerArgs, StatusLine, announce, listen_error, runtime};

/// Serve a captured session: faithful replay of a recorded conversation.
///
/// Requests are matched in order, per stream (channel polls apart from
/// pages and form posts), ignoring what clients randomise (the cache-busting
/// host label and path segment, msg_id, client_time, clientid, cb). Each
/// answer is held as long as it was recorded, scaled by --speed, and sent in
/// its recorded chunks. Plain requests (GET /x/...) and proxy-form requests
/// (`GET http://0.channel07.facebook.com/x/...`) are both served, so an old
/// client can use fbcomet as its HTTP proxy.
///
/// The first line printed is `listening on http://ADDR`. The replay ends when
/// every exchange has been answered (or at --timeout, or Ctrl-C), and a
/// report follows: exchanges used and unused, and requests that matched
/// nothing, with what differed. In strict mode (the default) the exit status
/// is 1 when anything was unmatched or unused.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  fbcomet replay fixtures/sessions/2008-login-chat.json --speed 10
  curl -x http://127.0.0.1:8008 http://0.channel07.facebook.com/x/0/false/p_1001=-1
  curl http://127.0.0.1:8008/x/0/false/p_1001=-1
  fbcomet replay SESSION.json --speed 0 --lenient --fault-rate 0.2 --seed 7")]
pub(crate) struct Args {
    /// The session fixture (JSON; see fixtures/README.md).
    fixture: PathBuf,

    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:8008")]
    addr: SocketAddr,

    #[command(flatten)]
    server: ServerArgs,

    /// Playback speed: 1 as recorded, 10 ten times faster, 0 at once.
    #[arg(long, default_value_t = 1.0, value_parser = parse_speed)]
    speed: f64,

    /// Answer unmatched requests with 400 and an explanation, and fail (the default).
    #[arg(long, conflicts_with = "lenient")]
    strict: bool,

    /// Answer unmatched requests with a fallback (`continue` for polls, 404 otherwise).
    #[arg(long)]
    lenient: bool,

    /// Also ignore this form field or query parameter when matching (repeatable).
    #[arg(long, value_name = "FIELD")]
    ignore: Vec<String>,

    #[command(flatten)]
    faults: FaultArgs,

    /// Keep serving after every exchange was answered (until --timeout or Ctrl-C).
    #[arg(long)]
    keep_open: bool,

    /// Say so (on standard error) when no request came for this long while
    /// exchanges are left, naming the ones the replay waits for.
    #[arg(long, default_value = "10s", value_name = "DURATION")]
    patience: HumanDuration,

    /// Stop after this long (55s, 500ms, 2m).
    #[arg(long, value_name = "DURATION")]
    timeout: Option<HumanDuration>,

    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

fn parse_speed(s: &str) -> Result<f64, String> {
    let speed: f64 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
    if speed.is_finite() && speed >= 0.0 { Ok(speed) } else { Err("the speed must be 0 or more".to_owned()) }
}

pub(crate) fn run(args: Args) -> super::Result {
    let session = Recording::load(&args.fixture)?;
    let mut config =
        ReplayConfig::default().speed(args.speed).mode(if args.lenient { Mode::Lenient } else { Mode::Strict });
    for field in &args.ignore {
        config = config.ignore(field.clone());
    }
    if let Some(faults) = args.faults.random_faults() {
        config = config.faults(faults);
    }
    runtime()?.block_on(serve(args, session, config))
}

async fn serve(args: Args, session: Recording, config: ReplayConfig) -> super::Result {
    let strict = config.mode == Mode::Strict;
    let total = session.exchanges.len();
    let server = ReplayServer::bind(args.addr, session, config, args.server.server_config()?)
        .await
        .map_err(|e| listen_error(args.addr, e))?;
    announce(&server.url())?;
    let report = server.report_handle();
    let progress = StatusLine::start(move || {
        let r = report();
        format!("replaying {}: {}/{total} exchanges answered, {} unmatched", r.session, r.used, r.unmatched.len())
    });
    let timeout = args.timeout.map_or(Duration::MAX, |t| t.0);
    let finished = async {
        if args.keep_open {
            std::future::pending::<()>().await;
        } else {
            server.finished().await;
        }
    };
    let patience = args.patience.0;
    let replay = server.replay();
    let waiting = async move {
        // Say so when the client has gone quiet while exchanges are left,
        // and which requests the replay waits for; once per quiet spell.
        let mut said = false;
        loop {
            tokio::time::sleep(Duration::from_millis(250)).await;
            let idle = replay.idle_for();
            if idle < patience {
                said = false;
                continue;
            }
            let expected = replay.expected();
            if said || expected.is_empty() {
                continue;
            }
            said = true;
            let list: Vec<String> = expected
                .iter()
                .map(|e| format!("#{} {} ({} stream)", e.index, printable(&e.request), e.stream))
                .collect();
            eprintln!("replay: no request for {:.1} s; waiting for {}", idle.as_secs_f64(), list.join(", "));
        }
    };
    tokio::select! {
        _ = finished => {}
        _ = tokio::time::sleep(timeout) => {}
        _ = tokio::signal::ctrl_c() => {}
        () = waiting => {}
    }
    drop(progress);
    let report = server.shutdown().await;
    let mut out = io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        write!(out, "{report}")?;
    }
    out.flush()?;
    Ok(if strict && !report.is_clean() { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}
