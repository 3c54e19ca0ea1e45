//! The receiver's state machine: no IO, no clock.

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fbcomet_codec::{Body, Event, Frame, FrameKind, PollTarget, RawJson, ServerError, StreamDecoder};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use url::Url;

use crate::backoff::{retry_delay, server_backoff};
use crate::config::{Config, Endpoint, SeqPolicy};
use crate::dedup::{Dedup, message_key};

/// Identifies one poll, so that a late answer to an abandoned poll is told
/// apart from the answer to the current one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PollId(u64);

/// A poll to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollRequest {
    /// Which poll this is.
    pub id: PollId,
    /// The URL to GET.
    pub url: Url,
    /// When to give up on it: the server's hold plus a margin.
    pub deadline: Instant,
}

/// A configuration that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The endpoint's base does not make a URL.
    #[error("the poll URL {url:?} is not a URL: {reason}")]
    BadBase {
        /// The URL it made.
        url: String,
        /// Why it is not one.
        reason: String,
    },
}

/// The error underneath a [`Failure`], kept as data: its
/// [`source`](std::error::Error::source) chain is the transport's own.
#[derive(Clone)]
pub struct Cause(Arc<dyn std::error::Error + Send + Sync>);

impl Cause {
    /// Wraps an error.
    pub fn new(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self(Arc::new(err))
    }

    /// The error itself.
    pub fn get(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.0
    }
}

impl From<&str> for Cause {
    fn from(text: &str) -> Self {
        Self(Arc::from(Box::<dyn std::error::Error + Send + Sync>::from(text)))
    }
}

impl fmt::Debug for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.0, f)
    }
}

impl std::error::Error for Cause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

/// Two causes are the same when they say the same.
impl PartialEq for Cause {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0.to_string() == other.0.to_string()
    }
}

impl Eq for Cause {}

/// Why a poll failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Failure {
    /// The connection could not be opened.
    #[error("cannot connect")]
    Connect(#[source] Cause),
    /// The connection broke (reset, closed) before or during the answer.
    #[error("the connection broke")]
    Transport(#[source] Cause),
    /// No complete answer before the deadline: the poll was abandoned.
    #[error("no answer before the deadline")]
    Timeout,
    /// An HTTP status other than 200.
    #[error("HTTP status {0}")]
    Status(u16),
    /// A body that does not decode.
    #[error("undecodable body")]
    Undecodable(#[source] fbcomet_codec::Error),
    /// The body ended inside a frame.
    #[error("the body was cut short inside a frame")]
    Truncated,
    /// A 200 with no frame at all.
    #[error("an empty answer")]
    EmptyBody,
    /// An ajax envelope where a frame belongs, with the server's error.
    #[error("the server answered with an error: {0}")]
    Server(ServerError),
    /// Something else.
    #[error("{0}")]
    Other(String),
}

/// What the receiver tells the application.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Output {
    /// An event, delivered once and in order.
    Event(Delivery),
    /// The server said a bare `refresh` (the form token or channel went
    /// stale) or answered that the session is gone: renew the session
    /// (reconnect.php, or log in again) and call
    /// [`Receiver::renew`]. Events may have been dropped meanwhile; history
    /// recovers them. Polling waits until then.
    RenewNeeded {
        /// The refresh's `reason`, where it had one.
        reason: Option<i64>,
        /// The server's error, where it answered with one.
        error: Option<ServerError>,
    },
    /// `fullReload`: seq was reset and the sticky token dropped; the
    /// application should re-sync its state (buddy list, history).
    Resync {
        /// The seq polled from now on.
        seq: i64,
    },
    /// A frame kind this receiver does not know, passed on untouched.
    UnknownFrame {
        /// Its `t`.
        kind: String,
        /// The whole frame.
        raw: RawJson<'static>,
    },
    /// A poll failed; the next one goes out after `retry_in`.
    PollFailed {
        /// Why.
        failure: Failure,
        /// The wait before the retry.
        retry_in: Duration,
    },
    /// The server asked to wait (`backoff`).
    BackingOff {
        /// The wait before the next poll.
        wait: Duration,
    },
    /// The first answer came: the receiver knows where it stands in the
    /// channel, and the server has seen it poll (it counts as online).
    /// Messages sent to the user from now on reach it.
    Ready {
        /// The seq polled next.
        seq: i64,
    },
    /// The server moved the receiver past events it never delivered: a
    /// `refresh` (or `fullReload`, or a `/pull` frame's `seq`) ahead of the
    /// seq polled, after the receiver had a position. `missed` events, from
    /// seq `from` up to (not including) `to`, are gone from the channel;
    /// history may still hold the messages among them. With
    /// [`Config::pause_on_gap`] polling waits for
    /// [`Receiver::resume_after_gap`].
    Gap {
        /// The seq that was polled.
        from: i64,
        /// The seq polling goes on from.
        to: i64,
        /// How many events were skipped.
        missed: u64,
    },
    /// What became of a gap once the application recovered what it could
    /// and the next answer came: `recovered` of the `missed` events came
    /// back through history, `lost` did not (typing notices, which history
    /// does not keep, are among them).
    GapSettled {
        /// Events skipped.
        missed: u64,
        /// Of them, recovered through history.
        recovered: u64,
        /// Of them, lost for good.
        lost: u64,
    },
    /// Nothing succeeded for too long: the receiver stopped.
    Lost {
        /// The last failure.
        last: Failure,
    },
}

/// A delivered event and where it stood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The event.
    pub event: Event<'static>,
    /// Its seq in the channel.
    pub seq: i64,
    /// Whether it is the echo of a message this user sent to someone else
    /// (docs/protocol.md: sent messages come back on the sender's own channel).
    pub own_echo: bool,
}

/// Counters the application can read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Polls sent.
    pub polls: u64,
    /// `continue` frames.
    pub continues: u64,
    /// `refresh` frames.
    pub refreshes: u64,
    /// `heartbeat` frames.
    pub heartbeats: u64,
    /// Events delivered.
    pub events: u64,
    /// Events dropped because their `msgID` was delivered already.
    pub duplicates: u64,
    /// Own echoes dropped (with [`Config::drop_own_echoes`]).
    pub own_echoes_dropped: u64,
    /// Frames of unknown kinds.
    pub unknown_frames: u64,
    /// Polls that failed and were retried.
    pub retries: u64,
    /// Body bytes received.
    pub bytes: u64,
    /// Events skipped by the server (in gaps).
    pub missed: u64,
    /// The last failure.
    pub last_error: Option<Failure>,
}

enum Phase {
    /// The next poll may go out at this time.
    Ready(Instant),
    InFlight(InFlight),
    /// Waiting for [`Receiver::renew`].
    Paused,
    Lost,
}

struct InFlight {
    id: PollId,
    deadline: Instant,
    decoder: StreamDecoder,
    status: Option<u16>,
    frames: usize,
    /// What the frames of this answer ask for next.
    next_delay: Duration,
    pause: bool,
}

/// The client side of the channel long poll, as a state machine.
///
/// It does no IO and reads no clock: the caller sends the polls it asks for
/// ([`poll_transmit`](Self::poll_transmit)), feeds it what happened
/// ([`handle_status`](Self::handle_status), [`handle_data`](Self::handle_data),
/// [`handle_end`](Self::handle_end), [`handle_failure`](Self::handle_failure),
/// [`handle_timeout`](Self::handle_timeout)), each at a `now` of its
/// choosing, and drains [`poll_output`](Self::poll_output) and
/// [`poll_timeout`](Self::poll_timeout). [`Listener`](crate::Listener) does
/// this over HTTP; any other HTTP stack can too.
///
/// Delivery is exactly once and in order: frames are taken whole (a body
/// cut inside a frame delivers nothing of it), seq advances only past
/// delivered frames, and message ids already delivered are dropped, so a
/// lost, cut, repeated or re-sent answer never loses or doubles a message.
pub struct Receiver {
    config: Config,
    state: Phase,
    seq: i64,
    rng: SmallRng,
    next_id: u64,
    host_label: u32,
    client_id: String,
    pull_host: u32,
    sticky: Option<(String, Option<String>)>,
    failures: u32,
    backoffs: u32,
    last_success: Instant,
    dedup: Dedup,
    /// Whether the seq polled is a position in the channel (not -1 or a
    /// default start): a jump ahead of it is then a gap.
    positioned: bool,
    /// Whether a first answer came.
    ready: bool,
    gap: Option<GapState>,
    outputs: VecDeque<Output>,
    stats: Stats,
}

/// A gap being recovered.
#[derive(Debug)]
struct GapState {
    missed: u64,
    /// What the application recovered through history (for every gap
    /// joined into this one).
    recovered: HashSet<String>,
    /// Recovered messages that the channel delivered after all: they were
    /// not in the gap but after it.
    after_gap: u64,
    /// Resumed after the poll with this id was sent: the first answer to
    /// a later poll settles it.
    resumed_after: Option<u64>,
}

impl fmt::Debug for Receiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver").field("seq", &self.seq).field("stats", &self.stats).finish_non_exhaustive()
    }
}

/// How many `/pull` hosts there are to move on to (`0-edge-chat` to `4-`).
const PULL_HOSTS: u32 = 5;

impl Receiver {
    /// A receiver that will send its first poll at `now`. Fails when the
    /// endpoint's base does not make a URL.
    pub fn new(config: Config, now: Instant) -> Result<Self, ConfigError> {
        let mut rng = match config.rng_seed {
            Some(seed) => SmallRng::seed_from_u64(seed),
            None => SmallRng::from_os_rng(),
        };
        let seq = config.start_seq.unwrap_or(match config.endpoint {
            Endpoint::Channel { .. } => -1,
            // -1, as on the channel: "tell me where to start". fbchat sent
            // 0, which the real service and fbcomet's take the same way.
            Endpoint::Pull { .. } => -1,
        });
        let client_id = match &config.endpoint {
            Endpoint::Pull { client_id: Some(id), .. } => id.clone(),
            _ => format!("{:08x}", rng.random::<u32>()),
        };
        let mut receiver = Self {
            state: Phase::Ready(now),
            seq,
            host_label: rng.random_range(0..1_000_000),
            pull_host: 0,
            client_id,
            rng,
            next_id: 0,
            sticky: None,
            failures: 0,
            backoffs: 0,
            last_success: now,
            dedup: Dedup::new(config.dedup_memory),
            positioned: config.start_seq.is_some(),
            ready: false,
            gap: None,
            outputs: VecDeque::new(),
            stats: Stats::default(),
            config,
        };
        receiver.poll_url()?;
        Ok(receiver)
    }

    /// The seq the next poll asks for.
    pub fn seq(&self) -> i64 {
        self.seq
    }

    /// The counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The sticky token and pool of the last `lb` frame.
    pub fn sticky(&self) -> Option<(&str, Option<&str>)> {
        self.sticky.as_ref().map(|(t, p)| (t.as_str(), p.as_deref()))
    }

    /// The poll under way, if one is.
    pub fn in_flight(&self) -> Option<PollId> {
        match &self.state {
            Phase::InFlight(f) => Some(f.id),
            _ => None,
        }
    }

    /// Whether the receiver waits for [`renew`](Self::renew).
    pub fn is_paused(&self) -> bool {
        matches!(self.state, Phase::Paused)
    }

    /// Whether the session was lost (nothing more will be polled).
    pub fn is_lost(&self) -> bool {
        matches!(self.state, Phase::Lost)
    }

    /// The next thing to tell the application.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When the receiver next needs [`handle_timeout`](Self::handle_timeout)
    /// or [`poll_transmit`](Self::poll_transmit): the next poll's time, or
    /// the deadline of the one under way.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match &self.state {
            Phase::Ready(at) => Some(*at),
            Phase::InFlight(f) => Some(f.deadline),
            Phase::Paused | Phase::Lost => None,
        }
    }

    /// The next poll to send, once its time has come. Only one poll is
    /// under way at a time.
    pub fn poll_transmit(&mut self, now: Instant) -> Option<PollRequest> {
        match self.state {
            Phase::Ready(at) if now >= at => {}
            _ => return None,
        }
        let url = match self.poll_url() {
            Ok(url) => url,
            Err(err) => {
                self.fail(now, Failure::Other(err.to_string()));
                return None;
            }
        };
        self.next_id += 1;
        let id = PollId(self.next_id);
        let deadline = now + self.config.hold + self.config.hold_margin;
        self.state = Phase::InFlight(InFlight {
            id,
            deadline,
            decoder: StreamDecoder::new(),
            status: None,
            frames: 0,
            next_delay: Duration::ZERO,
            pause: false,
        });
        self.stats.polls += 1;
        Some(PollRequest { id, url, deadline })
    }

    /// The poll's answer started with `status`.
    pub fn handle_status(&mut self, id: PollId, now: Instant, status: u16) {
        let Some(flight) = self.current(id) else { return };
        flight.status = Some(status);
        if status != 200 {
            if matches!(status, 502 | 503) && matches!(self.config.endpoint, Endpoint::Pull { .. }) {
                // docs/protocol.md: a 502/503 from a pull host means the next one.
                self.pull_host = (self.pull_host + 1) % PULL_HOSTS;
            }
            self.fail(now, Failure::Status(status));
        }
    }

    /// More of the poll's body arrived. Complete frames are handled at once.
    pub fn handle_data(&mut self, id: PollId, now: Instant, data: &[u8]) {
        if self.in_flight() != Some(id) {
            return;
        }
        self.stats.bytes += data.len() as u64;
        let Some(flight) = self.current(id) else { return };
        if flight.status.is_none() {
            flight.status = Some(200);
        }
        flight.decoder.push(data);
        let mut frames = Vec::new();
        let mut failure = None;
        loop {
            match flight.decoder.next_body() {
                Ok(Some(Body::Frame(frame))) => frames.push(frame.into_owned()),
                Ok(Some(Body::Envelope(envelope))) => {
                    failure = Some(match envelope.server_error() {
                        Some(err) => Failure::Server(err),
                        None => Failure::Other("an ajax envelope where a channel frame belongs".to_owned()),
                    });
                    break;
                }
                Ok(None) => break,
                Err(err) => {
                    failure = Some(Failure::Undecodable(err));
                    break;
                }
            }
        }
        flight.frames += frames.len();
        for frame in frames {
            self.handle_frame(frame);
        }
        if let Some(failure) = failure {
            if let Failure::Server(err) = &failure
                && err.needs_new_session()
            {
                self.outputs.push_back(Output::RenewNeeded { reason: None, error: Some(err.clone()) });
                self.stats.last_error = Some(failure);
                self.state = Phase::Paused;
                return;
            }
            self.fail(now, failure);
        }
    }

    /// The poll's body ended.
    pub fn handle_end(&mut self, id: PollId, now: Instant) {
        let Some(flight) = self.current(id) else { return };
        if flight.decoder.finish().is_err() {
            return self.fail(now, Failure::Truncated);
        }
        if flight.frames == 0 {
            return self.fail(now, Failure::EmptyBody);
        }
        let (delay, pause) = (flight.next_delay, flight.pause);
        self.failures = 0;
        self.last_success = now;
        if !self.ready {
            self.ready = true;
            self.outputs.push_back(Output::Ready { seq: self.seq });
        }
        if let Some(gap) = &self.gap
            && gap.resumed_after.is_some_and(|after| id.0 > after)
        {
            self.settle_gap();
        }
        self.state = if pause { Phase::Paused } else { Phase::Ready(now + delay) };
    }

    /// The poll failed. Frames that came whole before the failure were
    /// handled; the rest of the answer is asked for again.
    pub fn handle_failure(&mut self, id: PollId, now: Instant, failure: Failure) {
        if self.current(id).is_some() {
            self.fail(now, failure);
        }
    }

    /// Time passed: a poll past its deadline is abandoned (and retried).
    pub fn handle_timeout(&mut self, now: Instant) {
        if let Phase::InFlight(flight) = &self.state
            && now >= flight.deadline
        {
            self.fail(now, Failure::Timeout);
        }
    }

    /// The session was renewed (reconnect.php's `seq` and channel `host`, or
    /// a new login): polling resumes from `seq` (or where it was).
    pub fn renew(&mut self, now: Instant, seq: Option<i64>, channel: Option<u32>) {
        if let Some(seq) = seq {
            self.seq = seq;
        }
        if let (Some(new), Endpoint::Channel { channel, .. }) = (channel, &mut self.config.endpoint) {
            *channel = new;
        }
        if !matches!(self.state, Phase::Lost) {
            self.restart(now);
        }
    }

    /// Polls again at once, as after a success.
    fn restart(&mut self, now: Instant) {
        self.failures = 0;
        self.last_success = now;
        self.state = Phase::Ready(now);
    }

    fn current(&mut self, id: PollId) -> Option<&mut InFlight> {
        match &mut self.state {
            Phase::InFlight(f) if f.id == id => Some(f),
            _ => None,
        }
    }

    fn fail(&mut self, now: Instant, failure: Failure) {
        tracing::debug!(error = &failure as &(dyn std::error::Error + 'static), seq = self.seq, "poll failed");
        self.stats.last_error = Some(failure.clone());
        if now.saturating_duration_since(self.last_success) >= self.config.give_up_after {
            self.state = Phase::Lost;
            self.outputs.push_back(Output::Lost { last: failure });
            return;
        }
        self.failures += 1;
        self.stats.retries += 1;
        let retry_in = retry_delay(&self.config.backoff, self.failures, &mut self.rng);
        self.state = Phase::Ready(now + retry_in);
        self.outputs.push_back(Output::PollFailed { failure, retry_in });
    }

    fn handle_frame(&mut self, frame: Frame<'static>) {
        if !matches!(frame.kind, FrameKind::Backoff) {
            self.backoffs = 0;
        }
        match frame.kind {
            FrameKind::Msg { events, .. } => {
                let count = events.len() as i64;
                // Without a position yet, a frame's own seq (the one after
                // its events) says where its events stood.
                let base = match frame.seq {
                    Some(seq) if !self.positioned => seq - count,
                    _ => self.seq,
                };
                for (i, event) in events.into_iter().enumerate() {
                    self.deliver(event, base + i as i64);
                }
                let counted = match self.config.seq_policy {
                    SeqPolicy::CountEvents => base + count,
                    SeqPolicy::CountResponses => base + 1,
                };
                // Where a first frame's events stood is a guess: its own
                // seq positions the receiver, it does not reveal a gap.
                let positioned = self.positioned;
                self.seq = counted;
                match frame.seq {
                    Some(seq) if positioned => self.move_to(seq),
                    Some(seq) => self.seq = seq,
                    None => {}
                }
                self.positioned = true;
            }
            FrameKind::Continue => self.stats.continues += 1,
            FrameKind::Refresh { reason } => {
                self.stats.refreshes += 1;
                match frame.seq {
                    Some(seq) => self.move_to(seq),
                    None => {
                        self.outputs.push_back(Output::RenewNeeded { reason, error: None });
                        self.set_pause();
                    }
                }
            }
            FrameKind::Heartbeat => {
                self.stats.heartbeats += 1;
                // A `/pull` heartbeat names the seq to pull next.
                if let Some(seq) = frame.seq {
                    self.move_to(seq);
                }
            }
            FrameKind::Lb { sticky, pool, .. } => {
                self.sticky = Some((sticky.into_owned(), pool.map(|p| p.into_owned())));
            }
            FrameKind::FullReload => {
                if let Some(seq) = frame.seq {
                    self.move_to(seq);
                }
                self.sticky = None;
                self.outputs.push_back(Output::Resync { seq: self.seq });
            }
            FrameKind::Backoff => {
                self.backoffs += 1;
                let wait = server_backoff(self.backoffs, &mut self.rng);
                if let Phase::InFlight(f) = &mut self.state {
                    f.next_delay = f.next_delay.max(wait);
                }
                self.outputs.push_back(Output::BackingOff { wait });
            }
            FrameKind::Batched { frames } => {
                for inner in frames {
                    self.handle_frame(inner);
                }
            }
            FrameKind::Unknown { kind, raw } => {
                self.stats.unknown_frames += 1;
                self.outputs.push_back(Output::UnknownFrame { kind: kind.into_owned(), raw });
            }
        }
    }

    /// The server says to poll `seq` next. Ahead of a position, the events
    /// between are a gap.
    fn move_to(&mut self, seq: i64) {
        let from = self.seq;
        self.seq = seq;
        if !self.positioned || from < 0 {
            self.positioned = true;
            return;
        }
        if seq <= from {
            return;
        }
        let missed = (seq - from) as u64;
        tracing::warn!(from, to = seq, missed, "the server skipped events");
        self.stats.missed += missed;
        self.outputs.push_back(Output::Gap { from, to: seq, missed });
        if self.config.pause_on_gap {
            // A gap before the last one settled (the window moved on again
            // during the recovery) joins it: one recovery more, one count.
            let gap = self.gap.get_or_insert_with(|| GapState {
                missed: 0,
                recovered: HashSet::new(),
                after_gap: 0,
                resumed_after: None,
            });
            gap.missed += missed;
            gap.resumed_after = None;
            self.set_pause();
        } else {
            self.outputs.push_back(Output::GapSettled { missed, recovered: 0, lost: missed });
        }
    }

    /// After an [`Output::Gap`] with [`Config::pause_on_gap`]: the
    /// application recovered the messages keyed `recovered` (see
    /// [`message_key`](crate::message_key)) and delivered them itself.
    /// Polling resumes; the channel's copies of them are dropped, and the
    /// next answer settles the gap ([`Output::GapSettled`]).
    pub fn resume_after_gap(&mut self, now: Instant, recovered: impl IntoIterator<Item = String>) {
        let Some(gap) = &mut self.gap else { return };
        for key in recovered {
            self.dedup.insert(&key);
            gap.recovered.insert(key);
        }
        gap.resumed_after = Some(self.next_id);
        match &mut self.state {
            Phase::Paused => self.restart(now),
            // The answer that brought the gap is still coming in.
            Phase::InFlight(flight) => flight.pause = false,
            Phase::Ready(_) | Phase::Lost => {}
        }
    }

    /// Records messages the application delivered itself (from history),
    /// so that the channel's copies are dropped.
    pub fn mark_delivered(&mut self, keys: impl IntoIterator<Item = String>) {
        for key in keys {
            self.dedup.insert(&key);
        }
    }

    /// Whether the message keyed `key` was delivered (or marked so).
    pub fn was_delivered(&self, key: &str) -> bool {
        self.dedup.contains(key)
    }

    fn settle_gap(&mut self) {
        let Some(gap) = self.gap.take() else { return };
        let recovered = (gap.recovered.len() as u64).saturating_sub(gap.after_gap).min(gap.missed);
        let lost = gap.missed - recovered;
        if lost > 0 {
            tracing::warn!(missed = gap.missed, recovered, lost, "events lost for good");
        }
        self.outputs.push_back(Output::GapSettled { missed: gap.missed, recovered, lost });
    }

    fn set_pause(&mut self) {
        if let Phase::InFlight(f) = &mut self.state {
            f.pause = true;
        }
    }

    fn deliver(&mut self, event: Event<'static>, seq: i64) {
        let message = event.message_for(self.config.uid);
        let own_echo = message.as_ref().is_some_and(|m| m.is_own_echo(self.config.uid));
        if let Some(key) = message.as_deref().and_then(message_key)
            && !self.dedup.insert(&key)
        {
            if let Some(gap) = &mut self.gap
                && gap.resumed_after.is_some()
                && gap.recovered.contains(&key)
            {
                gap.after_gap += 1;
            }
            self.stats.duplicates += 1;
            return;
        }
        if own_echo && self.config.drop_own_echoes {
            self.stats.own_echoes_dropped += 1;
            return;
        }
        self.stats.events += 1;
        self.outputs.push_back(Output::Event(Delivery { event, seq, own_echo }));
    }

    fn poll_url(&mut self) -> Result<Url, ConfigError> {
        let uid = self.config.uid;
        let text = match &self.config.endpoint {
            Endpoint::Channel { base, channel, idle_segment } => {
                let base =
                    base.replace("{ANY}", &self.host_label.to_string()).replace("{NN}", &format!("{channel:02}"));
                let buster: u32 = self.rng.random();
                let target = PollTarget::Channel {
                    buster: buster.to_string(),
                    segments: vec![idle_segment.clone()],
                    uid,
                    seq: self.seq,
                };
                format!("{}{target}", base.trim_end_matches('/'))
            }
            Endpoint::Pull { base, .. } => {
                let base = base.replace("{N}", &self.pull_host.to_string());
                let mut query: Vec<(String, String)> = [
                    ("channel", format!("p_{uid}")),
                    ("seq", self.seq.to_string()),
                    ("partition", "-2".to_owned()),
                    ("clientid", self.client_id.clone()),
                    ("viewer_uid", uid.to_string()),
                    ("uid", uid.to_string()),
                    ("state", "active".to_owned()),
                    ("idle", "0".to_owned()),
                    ("cap", "8".to_owned()),
                    ("msgs_recv", self.stats.events.to_string()),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect();
                if let Some((token, pool)) = &self.sticky {
                    query.push(("sticky_token".to_owned(), token.clone()));
                    if let Some(pool) = pool {
                        query.push(("sticky_pool".to_owned(), pool.clone()));
                    }
                }
                format!("{}{}", base.trim_end_matches('/'), PollTarget::Pull { query })
            }
        };
        text.parse().map_err(|err| ConfigError::BadBase { url: text, reason: format!("{err}") })
    }
}
