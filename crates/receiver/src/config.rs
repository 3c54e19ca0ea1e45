//! How a receiver polls.

use std::time::Duration;

/// Where and how a channel is polled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// The 2008 channel long poll: `{base}/x/{ANY}/{idle}/p_{UID}={SEQ}`.
    Channel {
        /// The base URL. `{ANY}` becomes a random label chosen once per
        /// receiver and `{NN}` the two-digit channel number. The default,
        /// `http://{ANY}.channel{NN}.facebook.com`, names the real hosts
        /// (reach an fbcomet server through the proxy); point it at
        /// `http://127.0.0.1:8008` to talk to one directly.
        base: String,
        /// The user's channel number (`channel07` is 7), from home.php or
        /// reconnect.php.
        channel: u32,
        /// The path segment after the cache buster: `false` in captures
        /// (pidgin sent `true` when the user was not idle).
        idle_segment: String,
    },
    /// The `/pull` endpoint: `{base}/pull?channel=p_UID&seq=N&...`.
    Pull {
        /// The base URL; `{N}` becomes the host number (0-4), moved on
        /// after a 502 or 503. Default `https://{N}-edge-chat.facebook.com`.
        base: String,
        /// The `clientid` parameter; random when `None`.
        client_id: Option<String>,
    },
}

impl Endpoint {
    /// The 2008 channel poll on the real host names.
    pub fn channel(channel: u32) -> Self {
        Endpoint::Channel {
            base: "http://{ANY}.channel{NN}.facebook.com".to_owned(),
            channel,
            idle_segment: "false".to_owned(),
        }
    }

    /// The `/pull` endpoint on the real host names.
    pub fn pull() -> Self {
        Endpoint::Pull { base: "https://{N}-edge-chat.facebook.com".to_owned(), client_id: None }
    }

    /// The same endpoint with another base URL.
    pub fn with_base(mut self, new_base: impl Into<String>) -> Self {
        match &mut self {
            Endpoint::Channel { base, .. } | Endpoint::Pull { base, .. } => *base = new_base.into(),
        }
        self
    }
}

/// How seq advances after a `msg` frame that carries no `seq` of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SeqPolicy {
    /// By the number of events in the frame (docs/protocol.md: seq counts
    /// events, not responses).
    #[default]
    CountEvents,
    /// By one per frame, for servers that count responses (as most 2008
    /// clients assumed).
    CountResponses,
}

/// Retry timing after failures: exponential backoff with full jitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The cap of the first retry's delay.
    pub initial: Duration,
    /// The cap no delay exceeds.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self { initial: Duration::from_millis(500), max: Duration::from_secs(30) }
    }
}

/// Everything a receiver needs to know.
#[derive(Debug, Clone)]
pub struct Config {
    /// The user whose channel is polled.
    pub uid: u64,
    /// Where and how.
    pub endpoint: Endpoint,
    /// How seq advances after frames without a `seq`.
    pub seq_policy: SeqPolicy,
    /// The seq of the first poll; when `None`, -1 (answered with a refresh
    /// that names the real one), for the 2008 channel and `/pull` alike.
    pub start_seq: Option<i64>,
    /// How long the server holds a poll (55 s in 2008 captures, about 50 s
    /// in the `/pull` era).
    pub hold: Duration,
    /// How long past the hold a poll may take before it is abandoned as
    /// dead (dead connections are the classic failure of long-poll clients).
    pub hold_margin: Duration,
    /// Retry timing.
    pub backoff: Backoff,
    /// How long without a successful poll before the session is lost.
    pub give_up_after: Duration,
    /// How many recent message ids are remembered to drop duplicates.
    pub dedup_memory: usize,
    /// Drop the echoes of messages this user sent (they are flagged either
    /// way).
    pub drop_own_echoes: bool,
    /// Stop polling after an [`Output::Gap`](crate::Output::Gap) until the
    /// application has recovered what it could
    /// ([`Receiver::resume_after_gap`](crate::Receiver::resume_after_gap));
    /// the receiver then reports what stayed lost
    /// ([`Output::GapSettled`](crate::Output::GapSettled)).
    pub pause_on_gap: bool,
    /// Seed of the random parts (cache busters, jitter); random when `None`.
    pub rng_seed: Option<u64>,
}

impl Config {
    /// The defaults for `uid` polling `endpoint`.
    pub fn new(uid: u64, endpoint: Endpoint) -> Self {
        Self {
            uid,
            endpoint,
            seq_policy: SeqPolicy::default(),
            start_seq: None,
            hold: Duration::from_secs(55),
            hold_margin: Duration::from_secs(15),
            backoff: Backoff::default(),
            give_up_after: Duration::from_secs(300),
            dedup_memory: 16_384,
            drop_own_echoes: false,
            pause_on_gap: false,
            rng_seed: None,
        }
    }
}
