//! Replaying a captured session: requests matched in order per stream, held
//! as recorded, failed as recorded or at random, and a report at the end.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use bytes::Bytes;
use rand::SeedableRng;
use rand::rngs::SmallRng;
use serde::Serialize;
use tokio::sync::watch;

use crate::matching::{DEFAULT_IGNORED, Stream, differences, stream_of};
use crate::recording::{Exchange, Recording};
use fbcomet_server::{
    FaultAction, Handler, RandomFaults, Reply, ReplyBody, Request, Server, ServerConfig, random_fault,
};

/// What to do with a request that matches no exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Answer 400 with an explanation, and count it as a failure.
    #[default]
    Strict,
    /// Answer with the configured fallback.
    Lenient,
}

/// The answers of lenient mode to requests that match nothing.
#[derive(Debug, Clone)]
pub struct Fallback {
    /// The body for an unmatched channel poll (`continue` by default).
    pub channel_body: String,
    /// How long an unmatched channel poll is held first (unscaled), so that
    /// a client does not spin.
    pub channel_hold: Duration,
    /// The status for any other unmatched request.
    pub status: u16,
    /// The body for any other unmatched request.
    pub body: String,
}

impl Default for Fallback {
    fn default() -> Self {
        Self {
            channel_body: "for (;;);{\"t\":\"continue\"}".to_owned(),
            channel_hold: Duration::from_secs(1),
            status: 404,
            body: "fbcomet replay: no recorded exchange for this request\n".to_owned(),
        }
    }
}

/// How many unmatched requests a report keeps (it counts them all).
pub const UNMATCHED_SAMPLE: usize = 100;

/// Text from a request, cut to a length a report can hold.
fn clip(text: &str) -> String {
    const LONGEST: usize = 300;
    match text.char_indices().nth(LONGEST) {
        Some((at, _)) => format!("{}... ({} bytes)", &text[..at], text.len()),
        None => text.to_owned(),
    }
}

/// How a session is replayed.
#[derive(Debug, Clone)]
pub struct ReplayConfig {
    /// How fast: 1 is as recorded, 10 ten times faster, 0 answers at once.
    pub speed: f64,
    /// Strict or lenient about requests that match nothing.
    pub mode: Mode,
    /// Lenient mode's answers.
    pub fallback: Fallback,
    /// Fields and query parameters not compared ([`DEFAULT_IGNORED`] and
    /// any added).
    pub ignore: Vec<String>,
    /// Random faults, if any.
    pub faults: Option<RandomFaults>,
}

impl Default for ReplayConfig {
    fn default() -> Self {
        Self {
            speed: 1.0,
            mode: Mode::Strict,
            fallback: Fallback::default(),
            ignore: DEFAULT_IGNORED.iter().map(|s| (*s).to_owned()).collect(),
            faults: None,
        }
    }
}

impl ReplayConfig {
    /// Sets the speed factor.
    pub fn speed(mut self, speed: f64) -> Self {
        self.speed = speed;
        self
    }

    /// Sets the mode.
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// Ignores `field` too when matching.
    pub fn ignore(mut self, field: impl Into<String>) -> Self {
        self.ignore.push(field.into());
        self
    }

    /// Injects random faults.
    pub fn faults(mut self, faults: RandomFaults) -> Self {
        self.faults = Some(faults);
        self
    }

    /// A recorded duration at this speed, never more than a day (a huge
    /// hold at a tiny speed would overflow).
    fn scale(&self, ms: u64) -> Duration {
        const LONGEST: Duration = Duration::from_secs(24 * 3600);
        if self.speed <= 0.0 || !self.speed.is_finite() {
            Duration::ZERO
        } else {
            Duration::try_from_secs_f64(ms as f64 / 1000.0 / self.speed).map_or(LONGEST, |d| d.min(LONGEST))
        }
    }
}

/// An exchange, named for a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExchangeRef {
    /// Its index in the session (0-based).
    pub index: usize,
    /// Its stream.
    pub stream: Stream,
    /// Its request, as `METHOD target`.
    pub request: String,
}

/// A request that matched no exchange.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unmatched {
    /// The request, as `METHOD host target`.
    pub request: String,
    /// The stream it was matched in.
    pub stream: Stream,
    /// The exchange expected next in that stream, if any was left.
    pub expected: Option<ExchangeRef>,
    /// What differed from it.
    pub differences: Vec<String>,
}

/// What happened during a replay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The session's name.
    pub session: String,
    /// How many exchanges it has.
    pub exchanges: usize,
    /// How many were answered.
    pub used: usize,
    /// The ones never asked for, in order.
    pub unused: Vec<ExchangeRef>,
    /// Requests that matched nothing, in order: the first
    /// [`UNMATCHED_SAMPLE`] of them (see
    /// [`unmatched_total`](Self::unmatched_total)).
    pub unmatched: Vec<Unmatched>,
    /// How many requests matched nothing in all.
    pub unmatched_total: usize,
    /// Answers the server failed to give (a handler that panicked, a
    /// status that is not an answer's): each a 500 to its client.
    pub failed_answers: usize,
    /// Faults injected at random.
    pub faults_injected: usize,
    /// Held answers whose client went away first (the exchange was offered
    /// again).
    pub abandoned: usize,
}

impl Report {
    /// Every exchange used, every request matched, every answer given.
    pub fn is_clean(&self) -> bool {
        self.unused.is_empty() && self.unmatched_total == 0 && self.failed_answers == 0
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "session {}: {} of {} exchanges used, {} unused, {} unmatched requests, {} faults injected, {} abandoned{}",
            self.session,
            self.used,
            self.exchanges,
            self.unused.len(),
            self.unmatched_total,
            self.faults_injected,
            self.abandoned,
            if self.failed_answers > 0 { format!(", {} answers failed", self.failed_answers) } else { String::new() },
        )?;
        for e in &self.unused {
            writeln!(f, "  unused: #{} ({}) {}", e.index, e.stream, e.request)?;
        }
        for u in &self.unmatched {
            match &u.expected {
                Some(e) => writeln!(f, "  unmatched: {} (expected #{} {})", u.request, e.index, e.request)?,
                None => writeln!(f, "  unmatched: {} (the {} stream was used up)", u.request, u.stream)?,
            }
            for d in &u.differences {
                writeln!(f, "    {d}")?;
            }
        }
        if self.unmatched_total > self.unmatched.len() {
            writeln!(f, "  ... and {} more unmatched requests", self.unmatched_total - self.unmatched.len())?;
        }
        Ok(())
    }
}

struct Progress {
    pending: BTreeMap<Stream, VecDeque<usize>>,
    used: Vec<bool>,
    /// Answered as recorded: taken, and its hold over.
    answered: Vec<bool>,
    unmatched: Vec<Unmatched>,
    unmatched_total: usize,
    faults_injected: usize,
    abandoned: usize,
    rng: SmallRng,
    /// When the last request came (or the replay started).
    last_request: std::time::Instant,
}

/// A session being replayed: the [`Handler`] behind a [`ReplayServer`].
pub struct Replay {
    session: Recording,
    streams: Vec<Stream>,
    config: ReplayConfig,
    state: Mutex<Progress>,
    remaining: watch::Sender<usize>,
    /// Itself, for the answers that outlive a request's borrow.
    me: Weak<Replay>,
}

impl Replay {
    /// Prepares `session` for replay.
    pub fn new(session: Recording, config: ReplayConfig) -> Arc<Self> {
        let streams: Vec<Stream> =
            session.exchanges.iter().map(|e| stream_of(e.request.host.as_deref(), &e.request.path)).collect();
        let mut pending: BTreeMap<Stream, VecDeque<usize>> = BTreeMap::new();
        for (i, stream) in streams.iter().enumerate() {
            pending.entry(*stream).or_default().push_back(i);
        }
        let seed = config.faults.as_ref().map_or(0, |f| f.seed);
        let (remaining, _) = watch::channel(session.exchanges.len());
        Arc::new_cyclic(|me| Self {
            me: me.clone(),
            state: Mutex::new(Progress {
                pending,
                used: vec![false; session.exchanges.len()],
                answered: vec![false; session.exchanges.len()],
                unmatched: Vec::new(),
                unmatched_total: 0,
                faults_injected: 0,
                abandoned: 0,
                rng: SmallRng::seed_from_u64(seed),
                last_request: std::time::Instant::now(),
            }),
            streams,
            session,
            config,
            remaining,
        })
    }

    /// The session being replayed.
    pub fn session(&self) -> &Recording {
        &self.session
    }

    fn lock(&self) -> MutexGuard<'_, Progress> {
        // A panic elsewhere while holding the lock leaves consistent state:
        // every update is a single assignment or push.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What happened so far.
    pub fn report(&self) -> Report {
        let state = self.lock();
        let unused =
            (0..self.session.exchanges.len()).filter(|&i| !state.used[i]).map(|i| self.exchange_ref(i)).collect();
        Report {
            session: self.session.name.clone(),
            exchanges: self.session.exchanges.len(),
            used: state.used.iter().filter(|u| **u).count(),
            unused,
            unmatched: state.unmatched.clone(),
            unmatched_total: state.unmatched_total,
            failed_answers: 0,
            faults_injected: state.faults_injected,
            abandoned: state.abandoned,
        }
    }

    /// How long since the last request came (or since the start).
    pub fn idle_for(&self) -> Duration {
        self.lock().last_request.elapsed()
    }

    /// The exchange each stream expects next, for those with any left.
    pub fn expected(&self) -> Vec<ExchangeRef> {
        let state = self.lock();
        state.pending.values().filter_map(|q| q.front()).map(|&i| self.exchange_ref(i)).collect()
    }

    /// Resolves once every exchange has been answered as recorded, its
    /// hold over (so that a shutdown then cuts nothing short).
    pub async fn finished(&self) {
        let mut rx = self.remaining.subscribe();
        let _ = rx.wait_for(|remaining| *remaining == 0).await;
    }

    fn exchange_ref(&self, index: usize) -> ExchangeRef {
        let r = &self.session.exchanges[index].request;
        ExchangeRef { index, stream: self.streams[index], request: format!("{} {}", r.method, r.path) }
    }

    fn answer(self: &Arc<Self>, request: &Request) -> Reply {
        let stream = stream_of(request.host.as_deref(), &request.path);
        let mut state = self.lock();
        state.last_request = std::time::Instant::now();
        let front = state.pending.get(&stream).and_then(|q| q.front().copied());
        let diffs = front.map(|i| differences(&self.session.exchanges[i].request, request, &self.config.ignore));
        let index = match (front, diffs) {
            (Some(i), Some(d)) if d.is_empty() => i,
            (front, diffs) => {
                let described = clip(&format!(
                    "{} {}{}",
                    request.method,
                    request.host.as_deref().map(|h| format!("{h} ")).unwrap_or_default(),
                    request.target()
                ));
                let unmatched = Unmatched {
                    request: described,
                    stream,
                    expected: front.map(|i| self.exchange_ref(i)),
                    differences: diffs.unwrap_or_default().iter().map(|d| clip(d)).collect(),
                };
                tracing::warn!(request = %unmatched.request, "no exchange matches");
                state.unmatched_total += 1;
                if state.unmatched.len() < UNMATCHED_SAMPLE {
                    state.unmatched.push(unmatched.clone());
                }
                drop(state);
                return self.unmatched_reply(&unmatched, stream);
            }
        };
        let exchange = &self.session.exchanges[index];

        if let Some(fault) = self.pick_fault(&mut state, stream, exchange) {
            state.faults_injected += 1;
            let delivers = fault.delivers();
            let mut reply = self.reply_for(exchange);
            reply.fault = Some(fault);
            if !delivers {
                // The client never gets this answer: keep the exchange for
                // its retry, and fail at once rather than after the hold.
                reply.hold = Duration::ZERO;
                return reply;
            }
            self.take(&mut state, stream, index);
            drop(state);
            return self.held(reply, stream, index);
        }
        self.take(&mut state, stream, index);
        drop(state);
        let reply = self.reply_for(exchange);
        self.held(reply, stream, index)
    }

    fn take(&self, state: &mut Progress, stream: Stream, index: usize) {
        if let Some(q) = state.pending.get_mut(&stream) {
            q.pop_front();
        }
        state.used[index] = true;
    }

    fn mark_answered(&self, index: usize) {
        let mut state = self.lock();
        state.answered[index] = true;
        let remaining = state.answered.iter().filter(|a| !**a).count();
        self.remaining.send_replace(remaining);
    }

    /// The answer held for its recorded time, and counted answered when
    /// that is over. If the client leaves during the hold, the exchange goes
    /// back to the front of its stream for the client's next attempt; a
    /// shutdown sends it at once.
    fn held(self: &Arc<Self>, mut reply: Reply, stream: Stream, index: usize) -> Reply {
        let hold = std::mem::take(&mut reply.hold);
        if hold.is_zero() {
            self.mark_answered(index);
            return reply;
        }
        let mut after_hold = self.reply_for(&self.session.exchanges[index]);
        after_hold.fault = reply.fault.clone();
        after_hold.hold = Duration::ZERO;
        let replay = Arc::clone(self);
        reply.on_abandon = Some(Box::new(move || {
            let mut state = replay.lock();
            state.used[index] = false;
            state.abandoned += 1;
            state.pending.entry(stream).or_default().push_front(index);
        }));
        let replay = Arc::clone(self);
        reply.until(async move {
            tokio::time::sleep(hold).await;
            replay.mark_answered(index);
            after_hold
        })
    }

    fn pick_fault(&self, state: &mut Progress, stream: Stream, exchange: &Exchange) -> Option<FaultAction> {
        let faults = self.config.faults.as_ref()?;
        if faults.channel_only && stream != Stream::Channel {
            return None;
        }
        let len = exchange.response.full_body().len();
        random_fault(faults, &mut state.rng, len, |ms| self.config.scale(ms))
    }

    fn reply_for(&self, exchange: &Exchange) -> Reply {
        let response = &exchange.response;
        let body = if response.chunks.is_empty() {
            ReplyBody::Full(Bytes::from(response.body.clone()))
        } else {
            ReplyBody::Chunks(
                response.chunks.iter().map(|c| (self.config.scale(c.delay_ms), Bytes::from(c.data.clone()))).collect(),
            )
        };
        let len = response.full_body().len();
        let fault = response.fault.as_ref().map(|fault| fault.action(len, |ms| self.config.scale(ms)));
        Reply {
            status: response.status,
            headers: response.headers.clone(),
            body,
            hold: self.config.scale(response.hold_ms),
            fault,
            on_abandon: None,
            wait: None,
        }
    }

    fn unmatched_reply(&self, unmatched: &Unmatched, stream: Stream) -> Reply {
        match self.config.mode {
            Mode::Strict => {
                let mut text = format!("fbcomet replay: no exchange matches {}\n", unmatched.request);
                match &unmatched.expected {
                    Some(e) => {
                        text.push_str(&format!("expected next in the {stream} stream: #{} {}\n", e.index, e.request));
                        for d in &unmatched.differences {
                            text.push_str(&format!("  {d}\n"));
                        }
                    }
                    None => text.push_str(&format!("every exchange of the {stream} stream was used\n")),
                }
                Reply::text(400, text)
            }
            Mode::Lenient => {
                let fallback = &self.config.fallback;
                match stream {
                    Stream::Channel => Reply::ok(fallback.channel_body.clone())
                        .hold(self.config.scale(fallback.channel_hold.as_millis() as u64)),
                    Stream::Www => Reply::with_status(fallback.status, fallback.body.clone()),
                }
            }
        }
    }
}

impl Handler for Replay {
    async fn handle(&self, request: Request) -> Reply {
        match self.me.upgrade() {
            Some(replay) => replay.answer(&request),
            None => Reply::text(503, "fbcomet: the replay is stopping\n"),
        }
    }
}

/// A replay served over HTTP.
///
/// ```no_run
/// # async fn run() -> std::io::Result<()> {
/// use fbcomet_replay::{ReplayConfig, ReplayServer, Recording};
///
/// let session = Recording::load("fixtures/sessions/2008-login-chat.json").expect("a session");
/// let server = ReplayServer::start(session, ReplayConfig::default().speed(0.0)).await?;
/// println!("serving on {}", server.url());
/// server.finished().await;
/// let report = server.shutdown().await;
/// assert!(report.is_clean(), "{report}");
/// # Ok(()) }
/// ```
pub struct ReplayServer {
    server: Server,
    replay: Arc<Replay>,
}

impl ReplayServer {
    /// Serves `session` on a port of 127.0.0.1 that the OS picks.
    pub async fn start(session: Recording, config: ReplayConfig) -> io::Result<Self> {
        Self::bind(SocketAddr::from(([127, 0, 0, 1], 0)), session, config, ServerConfig::default()).await
    }

    /// Serves `session` on `addr`.
    pub async fn bind(
        addr: SocketAddr,
        session: Recording,
        config: ReplayConfig,
        server: ServerConfig,
    ) -> io::Result<Self> {
        let replay = Replay::new(session, config);
        let server = Server::bind(addr, Arc::new(replay.clone()), server).await?;
        Ok(Self { server, replay })
    }

    /// The address served on.
    pub fn addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// `http://ADDR`, the base URL to point a client at (or its proxy).
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// What happened so far.
    pub fn report(&self) -> Report {
        Report { failed_answers: self.server.failed_answers(), ..self.replay.report() }
    }

    /// Resolves once every exchange has been answered as recorded, its
    /// hold over (so that a shutdown then cuts nothing short).
    pub async fn finished(&self) {
        self.replay.finished().await;
    }

    /// The replay itself, for what it is waiting for.
    pub fn replay(&self) -> Arc<Replay> {
        Arc::clone(&self.replay)
    }

    /// A function that reports on the replay, for a progress display that
    /// outlives a borrow of the server.
    pub fn report_handle(&self) -> impl Fn() -> Report + Send + 'static {
        let replay = Arc::clone(&self.replay);
        move || replay.report()
    }

    /// Stops the server (releasing held polls at once) and reports.
    pub async fn shutdown(self) -> Report {
        let ReplayServer { server, replay } = self;
        let failed = server.failed_answers();
        server.shutdown().await;
        Report { failed_answers: failed, ..replay.report() }
    }
}
