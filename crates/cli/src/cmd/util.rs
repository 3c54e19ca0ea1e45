//! What several subcommands share.

use std::str::FromStr;
use std::time::Duration;

use fbcomet_mock::{FaultKind, RandomFaults, ServerConfig};

/// A duration written the human way: `55s`, `500ms`, `2m`, `1h 30m`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HumanDuration(pub(crate) Duration);

impl FromStr for HumanDuration {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        humantime::parse_duration(s)
            .map(HumanDuration)
            .map_err(|e| format!("{s:?} is not a duration such as 55s, 500ms or 2m ({e})"))
    }
}

/// A comma-separated list of fault kinds: `reset,truncate,...`.
#[derive(Debug, Clone)]
pub(crate) struct FaultKinds(pub(crate) Vec<FaultKind>);

impl FromStr for FaultKinds {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_fault_kinds(s).map(FaultKinds)
    }
}

fn parse_fault_kinds(s: &str) -> Result<Vec<FaultKind>, String> {
    s.split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(|k| match k {
            "reset" => Ok(FaultKind::ResetBeforeAnswer),
            "reset-mid" => Ok(FaultKind::ResetMidBody),
            "truncate" => Ok(FaultKind::Truncate),
            "status" => Ok(FaultKind::Status),
            "delay" => Ok(FaultKind::Delay),
            "dribble" => Ok(FaultKind::Dribble),
            "empty" => Ok(FaultKind::Empty),
            other => Err(format!(
                "{other:?} is not a fault kind (reset, reset-mid, truncate, status, delay, dribble, empty)"
            )),
        })
        .collect()
}

/// A server's limits and trace, as `serve`, `replay` and `record` take them.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ServerArgs {
    /// Connections open at once; past it the oldest idle one is closed.
    #[arg(long, value_name = "N", default_value_t = ServerConfig::default().max_connections)]
    max_connections: usize,

    /// Connections open at once from one address, the same way.
    #[arg(long, value_name = "N", default_value_t = ServerConfig::default().max_connections_per_address)]
    max_per_address: usize,

    /// How long a client may take to send a request body.
    #[arg(long, value_name = "DURATION", default_value = "10s")]
    body_timeout: HumanDuration,

    /// Print every exchange as one line on standard error: time, client,
    /// method, host, path, status, hold, body size, and what the body is
    /// (frame kind and seq, or the envelope's error).
    #[arg(long)]
    trace: bool,

    /// Write every exchange as a JSON line to this file (the same fields,
    /// the text exact).
    #[arg(long, value_name = "FILE")]
    trace_file: Option<std::path::PathBuf>,

    /// fbcomet's certificate authority: `ca.pem` (the certificate clients
    /// trust) and its key, created here on first use and reused after.
    /// With it, `CONNECT host:443` is served as HTTPS. Default:
    /// $XDG_DATA_HOME/fbcomet/ca (~/.local/share/fbcomet/ca).
    #[arg(long, value_name = "DIR")]
    ca_dir: Option<std::path::PathBuf>,
}

impl ServerArgs {
    /// The server's configuration with these limits and trace.
    pub(crate) fn server_config(&self) -> super::Result<ServerConfig> {
        use super::WithContext;
        let file = match &self.trace_file {
            Some(path) => Some(std::sync::Mutex::new(
                std::fs::File::create(path).context(|| format!("cannot write {}", path.display()))?,
            )),
            None => None,
        };
        let trace = (self.trace || file.is_some()).then(|| {
            let to_stderr = self.trace;
            fbcomet_mock::TraceFn(std::sync::Arc::new(move |t: &fbcomet_mock::Traced<'_>| {
                use std::io::Write;
                let what = crate::cmd::trace::describe(t.body);
                if to_stderr {
                    eprintln!("{}", crate::cmd::trace::line(t, &what));
                }
                if let Some(file) = &file {
                    let mut file = file.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    let _ = writeln!(file, "{}", crate::cmd::trace::json(t, &what));
                    let _ = file.flush();
                }
            }))
        });
        let authority = self.authority()?;
        Ok(ServerConfig {
            max_connections: self.max_connections,
            max_connections_per_address: self.max_per_address,
            body_timeout: self.body_timeout.0,
            trace,
            tls: Some(authority.server_config()),
            ..ServerConfig::default()
        })
    }

    /// The certificate authority of --ca-dir (or the default), loaded or
    /// created: an error at the start when it cannot be.
    pub(crate) fn authority(&self) -> super::Result<std::sync::Arc<fbcomet_mock::tls::Authority>> {
        Ok(fbcomet_mock::tls::Authority::load_or_create(&self.ca_dir())?)
    }

    /// The CA directory: --ca-dir, or the default.
    pub(crate) fn ca_dir(&self) -> std::path::PathBuf {
        self.ca_dir.clone().unwrap_or_else(fbcomet_mock::tls::default_ca_dir)
    }
}

/// Random faults, as `replay` and `serve` take them.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct FaultArgs {
    /// Inject faults into this share of the answers (0 to 1).
    #[arg(long, value_name = "RATE", value_parser = parse_rate)]
    fault_rate: Option<f64>,

    /// The seed of the injected faults.
    #[arg(long, default_value_t = 0, requires = "fault_rate")]
    seed: u64,

    /// The kinds of fault to inject, comma-separated: reset, reset-mid, truncate, status, delay, dribble, empty.
    #[arg(long, value_name = "KINDS", requires = "fault_rate")]
    faults: Option<FaultKinds>,
}

impl FaultArgs {
    /// The faults asked for, if any.
    pub(crate) fn random_faults(&self) -> Option<RandomFaults> {
        let mut faults = RandomFaults::new(self.fault_rate?, self.seed);
        if let Some(FaultKinds(kinds)) = &self.faults {
            faults.kinds = kinds.clone();
        }
        Some(faults)
    }
}

fn parse_rate(s: &str) -> Result<f64, String> {
    let rate: f64 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
    if (0.0..=1.0).contains(&rate) { Ok(rate) } else { Err("the rate is a share from 0 to 1".to_owned()) }
}

/// Prints `listening on URL` as the first line, at once.
pub(crate) fn announce(url: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on {url}")?;
    out.flush()
}

/// Waits for Ctrl-C or the timeout, whichever comes first.
pub(crate) async fn until_stopped(timeout: Option<HumanDuration>) {
    let timeout = timeout.map_or(Duration::MAX, |t| t.0);
    tokio::select! {
        _ = tokio::time::sleep(timeout) => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

/// Why a server could not listen on `addr`, with what to do about an
/// address in use.
pub(crate) fn listen_error(addr: std::net::SocketAddr, err: std::io::Error) -> super::Error {
    if err.kind() == std::io::ErrorKind::InvalidInput {
        // Not the address: the world (a page's webhook that is not a URL).
        return Box::new(err);
    }
    let what = if err.kind() == std::io::ErrorKind::AddrInUse {
        format!(
            "cannot listen on {addr}: the address is in use (another fbcomet serve?); pick another --addr, or port 0 (--addr 127.0.0.1:0) for any free one"
        )
    } else {
        format!("cannot listen on {addr}")
    };
    super::Context::boxed(what, err)
}

/// A multi-threaded runtime for the commands that serve or talk.
pub(crate) fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build()
}

/// Runs a command's async work on a new runtime. The runtime is not waited
/// for at the end: a read of standard input still blocked in its thread
/// (chat left by Ctrl-C) must not keep the process alive.
pub(crate) fn run_async(work: impl std::future::Future<Output = super::Result>) -> super::Result {
    let runtime = runtime()?;
    let result = runtime.block_on(work);
    runtime.shutdown_background();
    result
}

/// A progress bar of `len` steps on standard error, where standard error
/// is a terminal; hidden (and free) when piped. `unit` names the steps.
pub(crate) fn progress_bar(len: u64, unit: &str) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let style = indicatif::ProgressStyle::with_template(&format!("{{bar:30}} {{pos}}/{{len}} {unit} {{msg}}"))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    indicatif::ProgressBar::new(len).with_style(style)
}

/// A live status line on standard error while it lives, where standard
/// error is a terminal (never on a pipe); cleared when dropped.
pub(crate) struct StatusLine(Option<(indicatif::ProgressBar, tokio::task::JoinHandle<()>)>);

impl StatusLine {
    /// Shows what `status` says, four times a second.
    pub(crate) fn start(status: impl Fn() -> String + Send + 'static) -> Self {
        use std::io::IsTerminal;
        if !std::io::stderr().is_terminal() {
            return Self(None);
        }
        let bar = indicatif::ProgressBar::new_spinner();
        bar.enable_steady_tick(Duration::from_millis(100));
        let shown = bar.clone();
        let task = tokio::spawn(async move {
            loop {
                shown.set_message(status());
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        });
        Self(Some((bar, task)))
    }
}

impl Drop for StatusLine {
    fn drop(&mut self) {
        if let Some((bar, task)) = self.0.take() {
            task.abort();
            bar.finish_and_clear();
        }
    }
}

/// The exit status after Ctrl-C, as a shell reports a SIGINT.
pub(crate) const INTERRUPTED: u8 = 130;
