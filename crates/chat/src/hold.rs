//! Holds and subscriptions as data: their ids, what they are answered,
//! and what the service keeps of each. The rules that make and answer them
//! are in [`poll`](crate::poll).

use std::time::Instant;

use crate::event::ChatEvent;

/// A hold or subscription of this service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HoldId(pub u64);

impl std::fmt::Display for HoldId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "hold {}", self.0)
    }
}

/// What a user's log has at a seq.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Read {
    /// Events from `from` on; poll `next` after them.
    Events {
        /// The seq of the first event.
        from: i64,
        /// The events (at most [`poll_batch`](crate::ChatConfig::poll_batch)).
        events: Vec<ChatEvent>,
        /// The seq to poll next.
        next: i64,
    },
    /// Poll `seq` instead: the one asked for was not valid (-1, past the
    /// end) or fell below the window (`seq` is then the oldest event kept,
    /// and what lies between is lost).
    Refresh {
        /// The seq to poll.
        seq: i64,
    },
}

/// Why a hold or subscription ended without events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The hold's time ran out: nothing came.
    Deadline,
    /// Its login ended (logout, expiry, or the per-user cap).
    LoggedOut,
    /// A newer poll of the same login took its place
    /// ([`holds_per_login`](crate::ChatConfig::holds_per_login)).
    Replaced,
    /// The service stopped.
    Shutdown,
}

/// The answer for a hold or subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// What the log had (a subscription waits for
    /// [`resume`](crate::ChatService::resume) before the next).
    Read(Read),
    /// It ended.
    Ended(End),
}

/// What the service tells the IO around it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Output {
    /// The answer for `hold`.
    Answer {
        /// Whose.
        hold: HoldId,
        /// The answer.
        answer: Answer,
        /// The hold or subscription is gone: nothing more comes for it.
        done: bool,
    },
}

/// A hold or subscription, as the service keeps it.
#[derive(Debug, Clone)]
pub(crate) struct Waiter {
    pub(crate) uid: u64,
    /// The login it was made with, if any: it ends with the login.
    pub(crate) token: Option<String>,
    /// The seq it reads from next.
    pub(crate) cursor: i64,
    /// A hold's deadline; a subscription has none.
    pub(crate) deadline: Option<Instant>,
    /// Waiting for the log to pass the cursor (a subscription is not
    /// between an answer and its resume).
    pub(crate) armed: bool,
    /// A subscription that keeps its user online.
    pub(crate) present: bool,
    /// A subscription whose cursor is kept in the store under this name.
    pub(crate) durable: Option<String>,
    /// When it was made: the oldest hold of a login goes first.
    pub(crate) order: u64,
}

impl Waiter {
    /// Whether it keeps its user online (holds, and present subscriptions).
    pub(crate) fn leases(&self) -> bool {
        self.deadline.is_some() || self.present
    }
}
