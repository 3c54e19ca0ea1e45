//! What a handler answers: a response, how long to hold it, and whether to
//! fail it on purpose.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;

use crate::fault::FaultAction;

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
    /// A held answer: the server waits for this future (racing it against
    /// shutdown and the client going away) and sends what it resolves to.
    /// Released early, by a shutdown, it sends this reply as it stands (a
    /// long poll's `continue`).
    pub wait: Option<Wait>,
}

/// What a held answer waits for: the answer to send in the end.
pub type Wait = Pin<Box<dyn Future<Output = Reply> + Send>>;

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
            wait: None,
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

    /// Holds the answer until `wait` resolves, and sends what it resolves
    /// to; a shutdown before that sends this reply instead.
    pub fn until(mut self, wait: impl Future<Output = Reply> + Send + 'static) -> Self {
        self.wait = Some(Box::pin(wait));
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
            .field("wait", &self.wait.is_some())
            .finish_non_exhaustive()
    }
}
