//! What the service records: messages and typing, in no dialect's shape.
//! Each front door writes them the way its clients read them.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// A chat message as the service keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// The sender.
    pub from: u64,
    /// The recipient.
    pub to: u64,
    /// The text, exactly as sent.
    pub text: String,
    /// When the service took it, in milliseconds since the Unix epoch.
    pub time_ms: i64,
    /// What the sender posted as its own time, if anything.
    pub client_time: Option<i64>,
    /// The id the sender chose (or the service, where the sender chose
    /// none). Unique per sender, not across senders: the pair
    /// ([`from`](Self::from), `msg_id`) names a message.
    pub msg_id: String,
}

impl ChatMessage {
    /// The other side of the conversation, seen from `uid`.
    pub fn partner_of(&self, uid: u64) -> u64 {
        if self.from == uid { self.to } else { self.from }
    }
}

/// An entry of a user's event log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChatEvent {
    /// A message to this user, or the echo of one this user sent.
    Message(Arc<ChatMessage>),
    /// Someone started (`typing`) or stopped typing to this user.
    Typing {
        /// Who types.
        from: u64,
        /// To whom.
        to: u64,
        /// Started or stopped.
        typing: bool,
    },
    /// `reader`'s client received this page's messages up to `watermark_ms`
    /// (pages only).
    Delivered {
        /// Whose client.
        reader: u64,
        /// Received up to this time, in milliseconds since the Unix epoch.
        watermark_ms: i64,
        /// When, in milliseconds since the Unix epoch.
        at_ms: i64,
    },
    /// `reader` read the conversation with this user up to `watermark_ms`.
    Read {
        /// Who read.
        reader: u64,
        /// Read up to this time, in milliseconds since the Unix epoch.
        watermark_ms: i64,
        /// When, in milliseconds since the Unix epoch.
        at_ms: i64,
    },
}
