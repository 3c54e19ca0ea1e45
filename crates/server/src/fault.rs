//! The one fault model of fbcomet's servers: the failures a fixture
//! records ([`Fault`]), the ones injected at random ([`RandomFaults`]), and
//! what the server acts out on the wire for either ([`FaultAction`]).
//! Replay and the emulator both use it.

use std::time::Duration;

use rand::Rng;
use rand::rngs::SmallRng;
use serde::{Deserialize, Serialize};

/// A failure of an exchange, recorded in a fixture or injected at random.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fault {
    /// The connection was reset before any answer.
    ResetBeforeAnswer,
    /// The connection was reset in the middle of the body.
    ResetMidBody {
        /// Bytes of the body that got through (default: half).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        after_bytes: Option<usize>,
    },
    /// The body was cut short and the connection closed.
    Truncate {
        /// Bytes of the body that got through (default: half).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        keep_bytes: Option<usize>,
    },
    /// An HTTP error status instead of the answer.
    Status {
        /// 500, 502, 503, ...
        status: u16,
    },
    /// The answer came this much later than the hold.
    Delay {
        /// The extra delay in ms.
        ms: u64,
    },
    /// The body came in small pieces with pauses.
    Dribble {
        /// Bytes per piece.
        #[serde(default = "default_dribble_bytes")]
        chunk_bytes: usize,
        /// The pause between pieces in ms.
        #[serde(default = "default_dribble_pause")]
        pause_ms: u64,
    },
    /// A 200 with an empty body.
    Empty,
}

impl Fault {
    /// What the server acts out for this fault on an answer of `len`
    /// bytes; `scale` turns the fixture's milliseconds into server time.
    pub fn action(&self, len: usize, scale: impl Fn(u64) -> Duration) -> FaultAction {
        let half = len / 2;
        match self {
            Fault::ResetBeforeAnswer => FaultAction::ResetBeforeAnswer,
            Fault::ResetMidBody { after_bytes } => FaultAction::ResetMidBody { after: after_bytes.unwrap_or(half) },
            Fault::Truncate { keep_bytes } => FaultAction::Truncate { keep: keep_bytes.unwrap_or(half) },
            Fault::Status { status } => FaultAction::Status(*status),
            Fault::Delay { ms } => FaultAction::Delay(scale(*ms)),
            Fault::Dribble { chunk_bytes, pause_ms } => {
                FaultAction::Dribble { chunk: *chunk_bytes, pause: scale(*pause_ms) }
            }
            Fault::Empty => FaultAction::Empty,
        }
    }
}

fn default_dribble_bytes() -> usize {
    8
}

fn default_dribble_pause() -> u64 {
    50
}

/// Failures the server acts out (the fixture's `fault`, or one injected at
/// random), with their durations already scaled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultAction {
    /// Reset the connection (TCP RST) without answering.
    ResetBeforeAnswer,
    /// Send the headers and the first `after` bytes of the body, then reset.
    ResetMidBody {
        /// Bytes of the body sent before the reset.
        after: usize,
    },
    /// Announce the whole body's length, send the first `keep` bytes, then
    /// close the connection.
    Truncate {
        /// Bytes of the body sent.
        keep: usize,
    },
    /// Answer with this status (500, 502, 503, ...) and a short error page
    /// instead of the body.
    Status(u16),
    /// Wait this long more before answering.
    Delay(Duration),
    /// Send the body in pieces of `chunk` bytes with `pause` between them.
    Dribble {
        /// Bytes per piece.
        chunk: usize,
        /// The pause between pieces.
        pause: Duration,
    },
    /// Answer 200 with an empty body.
    Empty,
}

impl FaultAction {
    /// Whether the client receives the whole body despite the fault.
    pub fn delivers(&self) -> bool {
        matches!(self, FaultAction::Delay(_) | FaultAction::Dribble { .. })
    }
}

/// The faults that random injection picks from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaultKind {
    /// A reset before any answer.
    ResetBeforeAnswer,
    /// A reset in the middle of the body.
    ResetMidBody,
    /// A body cut short.
    Truncate,
    /// A 500, 502 or 503 instead of the answer.
    Status,
    /// The answer late (by [`RandomFaults::delay`], scaled).
    Delay,
    /// The body in small pieces with pauses.
    Dribble,
    /// A 200 with an empty body.
    Empty,
}

impl FaultKind {
    /// Every kind.
    pub const ALL: [FaultKind; 7] = [
        FaultKind::ResetBeforeAnswer,
        FaultKind::ResetMidBody,
        FaultKind::Truncate,
        FaultKind::Status,
        FaultKind::Delay,
        FaultKind::Dribble,
        FaultKind::Empty,
    ];
}

/// Faults injected at random into matched exchanges.
///
/// A fault that keeps the answer from the client (all but delay and
/// dribble) leaves the exchange in place, so the client's retry gets it: the
/// session's data still arrives, through a network that misbehaves.
#[derive(Debug, Clone)]
pub struct RandomFaults {
    /// The share of matched requests that fail, from 0 to 1.
    pub rate: f64,
    /// The seed, so that a failing run can be replayed exactly.
    pub seed: u64,
    /// The kinds to pick from.
    pub kinds: Vec<FaultKind>,
    /// Only channel polls fail (not pages and posts).
    pub channel_only: bool,
    /// The range of an injected delay (before scaling).
    pub delay: (Duration, Duration),
}

impl RandomFaults {
    /// Every kind of fault on `rate` of the requests, from `seed`.
    pub fn new(rate: f64, seed: u64) -> Self {
        Self {
            rate,
            seed,
            kinds: FaultKind::ALL.to_vec(),
            channel_only: false,
            delay: (Duration::from_millis(100), Duration::from_secs(2)),
        }
    }
}

/// Rolls the dice of `faults` for one answer of `len` bytes; `scale` turns
/// milliseconds into the server's time.
pub fn random_fault(
    faults: &RandomFaults,
    rng: &mut SmallRng,
    len: usize,
    scale: impl Fn(u64) -> Duration,
) -> Option<FaultAction> {
    if faults.kinds.is_empty() || !rng.random_bool(faults.rate.clamp(0.0, 1.0)) {
        return None;
    }
    let kind = faults.kinds[rng.random_range(0..faults.kinds.len())];
    let len = len.max(2);
    Some(match kind {
        FaultKind::ResetBeforeAnswer => FaultAction::ResetBeforeAnswer,
        FaultKind::ResetMidBody => FaultAction::ResetMidBody { after: rng.random_range(1..len) },
        FaultKind::Truncate => FaultAction::Truncate { keep: rng.random_range(1..len) },
        FaultKind::Status => FaultAction::Status([500, 502, 503][rng.random_range(0..3)]),
        FaultKind::Delay => {
            let (low, high) = (faults.delay.0.as_millis() as u64, faults.delay.1.as_millis() as u64);
            FaultAction::Delay(scale(rng.random_range(low..=high.max(low))))
        }
        FaultKind::Dribble => {
            FaultAction::Dribble { chunk: rng.random_range(1..16), pause: scale(rng.random_range(5..40)) }
        }
        FaultKind::Empty => FaultAction::Empty,
    })
}
