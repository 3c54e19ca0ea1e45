//! `fbcomet-bench`: load against fbcomet's servers, each in a process of its
//! own as a real load would be, with numbers at the end.
//!
//! ```sh
//! cargo build --release -p fbcomet-cli -p fbcomet-bench
//! ulimit -n 65536
//! # the sessions all come from 127.0.0.1: lift the per-address cap
//! target/release/fbcomet-bench --server-arg=--max-per-address=30000 --server-arg=--max-connections=30000 \
//!     e2e --sessions 1000 --messages 10000 --rate 1000
//! target/release/fbcomet-bench --server-arg=--max-per-address=30000 --server-arg=--max-connections=30000 \
//!     e2e --sessions 10000 --messages 0
//! target/release/fbcomet-bench replay --exchanges 20000 --clients 32
//! # another build's server, for a comparison in the same run:
//! target/release/fbcomet-bench --server-binary /tmp/old/fbcomet e2e --sessions 1000
//! ```

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use fbcomet_http::{HttpClient, HttpConfig};
use fbcomet_mock::{Dialect, Exchange, Recording, RequestSpec, ResponseSpec, User, World};
use fbcomet_receiver::{Backoff, Config, Endpoint, Listener, Output};
use fbcomet_sender::{Sender, SenderConfig, login};
use tokio::sync::Semaphore;

#[derive(Debug, Parser)]
#[command(name = "fbcomet-bench", about = "Load fbcomet's servers and measure them")]
struct Cli {
    /// The `fbcomet` binary to load (default: the one beside this one), so
    /// that two builds can be compared in one run.
    #[arg(long, global = true, value_name = "PATH", env = "FBCOMET_BIN")]
    server_binary: Option<PathBuf>,

    /// An argument more for the server (repeat for several), such as
    /// `--server-arg=--max-per-address=20000` (the caps of a server are
    /// meant for clients at many addresses; the bench is one).
    #[arg(long, global = true, value_name = "ARG", allow_hyphen_values = true)]
    server_arg: Vec<String>,

    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// The emulator: N listening sessions, M messages at a rate.
    E2e {
        /// Listening sessions (each holds a poll).
        #[arg(long, default_value_t = 1000)]
        sessions: usize,
        /// Messages to send (0: only hold the polls and measure memory).
        #[arg(long, default_value_t = 10_000)]
        messages: usize,
        /// Messages per second.
        #[arg(long, default_value_t = 1000)]
        rate: u64,
        /// The server's hold.
        #[arg(long, default_value = "30s")]
        hold: humantime::Duration,
        /// Logins at a time while the sessions start.
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
    },
    /// The replay server at --speed 0: exchanges answered per second.
    Replay {
        /// Exchanges in the session.
        #[arg(long, default_value_t = 20_000)]
        exchanges: usize,
        /// Clients polling at once.
        #[arg(long, default_value_t = 32)]
        clients: usize,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(path) = &cli.server_binary {
        let _ = SERVER_BINARY.set(path.clone());
    }
    let _ = SERVER_ARGS.set(cli.server_arg.clone());
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("fbcomet-bench: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Cmd::E2e { sessions, messages, rate, hold, concurrency } => {
                e2e(sessions, messages, rate, hold.into(), concurrency).await
            }
            Cmd::Replay { exchanges, clients } => replay(exchanges, clients).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("fbcomet-bench: {err}");
            ExitCode::FAILURE
        }
    }
}

/// A server process, killed on drop.
struct ServerProcess {
    child: Child,
    url: String,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `--server-binary`, where given.
static SERVER_BINARY: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
/// `--server-arg`s.
static SERVER_ARGS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();

fn fbcomet_binary() -> Result<PathBuf, String> {
    if let Some(path) = SERVER_BINARY.get() {
        return Ok(path.clone());
    }
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let path = me.with_file_name("fbcomet");
    if path.exists() {
        Ok(path)
    } else {
        Err(format!("{} is missing: cargo build --release -p fbcomet-cli first", path.display()))
    }
}

fn start_server(args: &[&str]) -> Result<ServerProcess, String> {
    let mut child = Command::new(fbcomet_binary()?)
        .args(args)
        .args(["--addr", "127.0.0.1:0"])
        .args(SERVER_ARGS.get().map(Vec::as_slice).unwrap_or_default())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start the server: {e}"))?;
    let mut first = String::new();
    BufReader::new(child.stdout.as_mut().ok_or("no stdout")?).read_line(&mut first).map_err(|e| e.to_string())?;
    let url =
        first.trim().strip_prefix("listening on ").ok_or_else(|| format!("the server said {first:?}"))?.to_owned();
    Ok(ServerProcess { child, url })
}

/// Resident memory of a process, in KiB (Linux).
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?.trim().trim_end_matches("kB").trim().parse().ok()
}

/// A world of `receivers` users and four senders, each sender a friend of
/// every receiver.
fn world(receivers: usize) -> World {
    let user = |uid: u64, i: usize| User {
        uid,
        name: format!("Bench {i}"),
        first_name: format!("B{i}"),
        email: format!("u{uid}@bench"),
        password: "bench".to_owned(),
        channel: (uid % 99 + 1) as u32,
        status: None,
        access_token: None,
    };
    let senders: Vec<u64> = (1..=4).map(|i| 900_000_000 + i).collect();
    let mut users: Vec<User> = senders.iter().enumerate().map(|(i, &uid)| user(uid, i)).collect();
    users.extend((0..receivers).map(|i| user(100_000_000 + i as u64, i)));
    let friendships = senders.iter().flat_map(|&s| (0..receivers).map(move |i| (s, 100_000_000 + i as u64))).collect();
    World { users, friendships, pages: Vec::new(), apps: Vec::new() }
}

async fn held(http: &HttpClient, url: &str) -> Result<u64, String> {
    let stats = http
        .get(&format!("{url}/fbcomet/stats").parse().map_err(|e| format!("{e}"))?)
        .await
        .map_err(|e| e.to_string())?;
    let value: serde_json::Value = serde_json::from_slice(&stats.body).map_err(|e| e.to_string())?;
    value["held"].as_u64().ok_or_else(|| "no held count".to_owned())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn e2e(sessions: usize, messages: usize, rate: u64, hold: Duration, concurrency: usize) -> Result<(), String> {
    let world_file = std::env::temp_dir().join(format!("fbcomet-bench-world-{}.json", std::process::id()));
    std::fs::write(&world_file, serde_json::to_string(&world(sessions)).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    let hold_arg = format!("{}ms", hold.as_millis());
    let server = start_server(&["serve", "--world", &world_file.to_string_lossy(), "--hold", &hold_arg])?;
    let _ = std::fs::remove_file(&world_file);
    let server_pid = server.child.id();
    let me = std::process::id();
    let www: url::Url = server.url.parse().map_err(|e| format!("{e}"))?;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let server_base = rss_kib(server_pid).unwrap_or(0);
    let client_base = rss_kib(me).unwrap_or(0);
    println!("server {} (pid {server_pid}): {server_base} KiB at rest", server.url);

    // Log the sessions in, and start each one's listener.
    let started = Instant::now();
    let delivered: Arc<Mutex<HashMap<String, Instant>>> = Arc::new(Mutex::new(HashMap::with_capacity(messages)));
    let gate = Arc::new(Semaphore::new(concurrency));
    let mut listeners = Vec::with_capacity(sessions);
    for i in 0..sessions {
        let (www, gate, delivered) = (www.clone(), gate.clone(), delivered.clone());
        listeners.push(tokio::spawn(async move {
            let http = HttpClient::new(HttpConfig::default());
            let uid = 100_000_000 + i as u64;
            let session = {
                let _permit = gate.acquire().await.map_err(|e| e.to_string())?;
                login(&http, &www, &format!("u{uid}@bench"), "bench").await.map_err(|e| e.to_string())?
            };
            let mut config =
                Config::new(uid, Endpoint::channel(session.channel).with_base(www.as_str().trim_end_matches('/')));
            config.hold = hold;
            config.backoff = Backoff { initial: Duration::from_millis(20), max: Duration::from_secs(2) };
            let mut listener = Listener::new(config, http).map_err(|e| e.to_string())?;
            while let Some(output) = listener.next().await {
                if let Output::Event(d) = output
                    && let Some(m) = d.event.as_message()
                {
                    let now = Instant::now();
                    delivered.lock().unwrap_or_else(|e| e.into_inner()).insert(m.text.to_string(), now);
                }
            }
            Ok::<(), String>(())
        }));
    }
    let probe = HttpClient::new(HttpConfig::default());
    loop {
        let held = held(&probe, &server.url).await?;
        if held as usize >= sessions {
            break;
        }
        if started.elapsed() > Duration::from_secs(300) {
            return Err(format!("only {held} of {sessions} polls held after 5 minutes"));
        }
        if let Some(failed) = listeners.iter().position(|l| l.is_finished()) {
            return Err(format!("session {failed} ended early (raise ulimit -n?)"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let server_held = rss_kib(server_pid).unwrap_or(0);
    let client_held = rss_kib(me).unwrap_or(0);
    println!("{sessions} sessions logged in and holding a poll after {:.1}s", started.elapsed().as_secs_f64());
    let per = |total: u64, base: u64| (total.saturating_sub(base) as f64) / sessions as f64;
    println!(
        "server: {server_held} KiB with {sessions} held polls: {:.1} KiB per held poll",
        per(server_held, server_base)
    );
    println!("clients (this process): {:.1} KiB per listening session", per(client_held, client_base));
    if messages == 0 {
        return Ok(());
    }

    // The senders.
    let mut senders = Vec::new();
    for i in 1..=4u64 {
        let http = HttpClient::new(HttpConfig::default());
        let uid = 900_000_000 + i;
        let session = login(&http, &www, &format!("u{uid}@bench"), "bench").await.map_err(|e| e.to_string())?;
        senders.push(Arc::new(Sender::new(
            http,
            SenderConfig { send_attempts: 1, ..SenderConfig::new(www.clone()) },
            session,
        )));
    }
    // When each send started and when the server accepted it.
    let accepted: Arc<Mutex<HashMap<String, (Instant, Instant)>>> =
        Arc::new(Mutex::new(HashMap::with_capacity(messages)));
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate.max(1) as f64));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let send_start = Instant::now();
    let mut sends = Vec::with_capacity(messages);
    for k in 0..messages {
        ticker.tick().await;
        let sender = senders[k % senders.len()].clone();
        let accepted = accepted.clone();
        let to = 100_000_000 + ((k * 7919) % sessions) as u64;
        sends.push(tokio::spawn(async move {
            let text = format!("bench message {k}");
            let start = Instant::now();
            sender.send(to, &text).await.map_err(|e| format!("send {k}: {e}"))?;
            accepted.lock().unwrap_or_else(|e| e.into_inner()).insert(text, (start, Instant::now()));
            Ok::<(), String>(())
        }));
    }
    let mut failed_sends = 0;
    for s in sends {
        if !matches!(s.await, Ok(Ok(()))) {
            failed_sends += 1;
        }
    }
    let sent_in = send_start.elapsed();
    let wait_until = Instant::now() + Duration::from_secs(60);
    while delivered.lock().unwrap_or_else(|e| e.into_inner()).len() < messages - failed_sends
        && Instant::now() < wait_until
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let all_in = send_start.elapsed();
    let delivered = delivered.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let accepted = accepted.lock().unwrap_or_else(|e| e.into_inner()).clone();
    // The server queues the event before it answers the send, so a
    // delivery can come before the acceptance: that latency is zero.
    let mut from_accepted: Vec<Duration> = Vec::new();
    let mut from_start: Vec<Duration> = Vec::new();
    for (text, (start, at)) in &accepted {
        if let Some(d) = delivered.get(text) {
            from_accepted.push(d.saturating_duration_since(*at));
            from_start.push(d.saturating_duration_since(*start));
        }
    }
    from_accepted.sort_unstable();
    from_start.sort_unstable();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{messages} messages at {rate}/s: {} sent in {:.2}s ({:.0}/s), {} delivered in {:.2}s ({:.0}/s), {failed_sends} sends failed",
        accepted.len(),
        sent_in.as_secs_f64(),
        accepted.len() as f64 / sent_in.as_secs_f64(),
        from_start.len(),
        all_in.as_secs_f64(),
        from_start.len() as f64 / all_in.as_secs_f64(),
    );
    for (what, sorted) in [("send accepted", &from_accepted), ("send started", &from_start)] {
        println!(
            "delivery latency, {what} to event delivered: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            ms(percentile(sorted, 0.5)),
            ms(percentile(sorted, 0.99)),
            ms(sorted.last().copied().unwrap_or_default())
        );
    }
    for l in listeners {
        l.abort();
    }
    Ok(())
}

async fn replay(exchanges: usize, clients: usize) -> Result<(), String> {
    // Identical polls, so that any client's poll matches the next exchange.
    let exchange = Exchange {
        note: String::new(),
        request: RequestSpec {
            method: "GET".into(),
            host: None,
            path: "/x/{ANY}/false/p_1001=0".into(),
            headers: Vec::new(),
            form: Vec::new(),
        },
        response: ResponseSpec {
            status: 200,
            headers: vec![("Content-Type".into(), "text/javascript; charset=utf-8".into())],
            body: r#"for (;;);{"t":"msg","c":"p_1001","ms":[{"type":"msg","msg":{"text":"replayed","time":1,"msgID":"1"},"from":2,"to":1001}]}"#.into(),
            hold_ms: 0,
            chunks: Vec::new(),
            fault: None,
        },
    };
    let session = Recording {
        name: "bench".into(),
        description: String::new(),
        provenance: "generated by fbcomet-bench".into(),
        dialect: Dialect::Channel,
        uid: 1001,
        channel: Some(1),
        exchanges: vec![exchange; exchanges],
    };
    let file = std::env::temp_dir().join(format!("fbcomet-bench-replay-{}.json", std::process::id()));
    std::fs::write(&file, session.to_json()).map_err(|e| e.to_string())?;
    let server = start_server(&["replay", &file.to_string_lossy(), "--speed", "0", "--keep-open"])?;
    let _ = std::fs::remove_file(&file);
    let started = Instant::now();
    let per_client = exchanges / clients.max(1);
    let mut tasks = Vec::new();
    for c in 0..clients {
        let url = format!("{}/x/{c}/false/p_1001=0", server.url);
        tasks.push(tokio::spawn(async move {
            let http = HttpClient::new(HttpConfig::default());
            let url: url::Url = url.parse().map_err(|e| format!("{e}"))?;
            for _ in 0..per_client {
                let answer = http.get(&url).await.map_err(|e| e.to_string())?;
                if answer.status != 200 {
                    return Err(format!("status {}", answer.status));
                }
            }
            Ok::<(), String>(())
        }));
    }
    for t in tasks {
        t.await.map_err(|e| e.to_string())??;
    }
    let elapsed = started.elapsed();
    let answered = per_client * clients;
    println!(
        "replay at --speed 0: {answered} exchanges to {clients} clients in {:.2}s: {:.0} exchanges/s",
        elapsed.as_secs_f64(),
        answered as f64 / elapsed.as_secs_f64()
    );
    Ok(())
}
