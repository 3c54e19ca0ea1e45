//! What a handler answers: a response, how long to hold it, and whether to
//! fail it on purpose.

use std::time::Duration;

use bytes::Bytes;

/// An answer, before the server holds it and sends it.
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// Headers, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: ReplyBody,
    /// How long to hold the request before answering (a long poll's hold).
    /// A server shutdown ends every hold at once.
    pub hold: Duration,
    /// A failure to act out instead of (or while) answering.
    pub fault: Option<FaultAction>,
    /// Called when the client goes away before the answer is sent, so that
    /// a handler can take back what it handed out (a replayed exchange, an
    /// emulated channel's waiter).
    pub on_abandon: Option<Box<dyn FnOnce() + Send>>,
}

/// A reply's body.
#[derive(Debug, Clone)]
pub enum ReplyBody {
    /// All at once, with a `Content-Length`.
    Full(Bytes),
    /// In pieces, each sent after its delay (chunked transfer encoding): a
    /// kept-open connection that dribbles frames.
    Chunks(Vec<(Duration, Bytes)>),
}

impl ReplyBody {
    /// All the bytes, joined.
    pub fn to_bytes(&self) -> Bytes {
        match self {
            ReplyBody::Full(b) => b.clone(),
            ReplyBody::Chunks(chunks) => chunks.iter().flat_map(|(_, c)| c.iter().copied()).collect(),
        }
    }
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

impl Reply {
    /// A 200 answer with `body` and the content type the chat hosts used.
    pub fn ok(body: impl Into<Bytes>) -> Self {
        Self::with_status(200, body).header("content-type", "text/javascript; charset=utf-8")
    }

    /// An answer with `status` and `body` and no headers.
    pub fn with_status(status: u16, body: impl Into<Bytes>) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: ReplyBody::Full(body.into()),
            hold: Duration::ZERO,
            fault: None,
            on_abandon: None,
        }
    }

    /// A plain-text answer, for explanations.
    pub fn text(status: u16, text: impl Into<String>) -> Self {
        Self::with_status(status, text.into()).header("content-type", "text/plain; charset=utf-8")
    }

    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Holds the answer for `hold`.
    pub fn hold(mut self, hold: Duration) -> Self {
        self.hold = hold;
        self
    }
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reply")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body", &self.body)
            .field("hold", &self.hold)
            .field("fault", &self.fault)
            .finish_non_exhaustive()
    }
}
