//! Conversations: the thread list, history, and the renewal of the 2008
//! channel.

use std::sync::Arc;

use crate::error::ChatError;
use crate::event::ChatMessage;
use crate::service::{ChatService, pair};
use crate::store::Store;

/// A conversation of a user, for a thread list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thread {
    /// The other end.
    pub partner: u64,
    /// How many messages are kept.
    pub messages: usize,
    /// The last of them.
    pub last: Arc<ChatMessage>,
    /// How many of the partner's messages the user has not read.
    pub unread: usize,
}

/// What a renewal of the channel (reconnect.php) gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reconnect {
    /// The user's channel number.
    pub channel: u32,
    /// The seq to poll next.
    pub seq: i64,
}

impl<S: Store> ChatService<S> {
    /// The conversations of `uid` that have messages, the latest first.
    pub fn threads(&self, uid: u64) -> Vec<Thread> {
        let mut threads: Vec<Thread> = self
            .users
            .keys()
            .chain(self.pages.keys())
            .filter_map(|&partner| {
                let read_up_to = self.store.read_mark(uid, partner).unwrap_or(i64::MIN);
                let t = self.store.thread(pair(uid, partner), partner, read_up_to)?;
                Some(Thread { partner, messages: t.messages, last: t.last, unread: t.unread })
            })
            .collect();
        threads.sort_by_key(|t| std::cmp::Reverse(t.last.time_ms));
        threads
    }

    /// The last `newest` messages between `uid` and `friend`, oldest first.
    pub fn history(&self, uid: u64, friend: u64, newest: usize) -> Vec<Arc<ChatMessage>> {
        self.store.history(pair(uid, friend), newest)
    }

    /// The channel renewed (reconnect.php): where and from which seq to poll.
    pub fn reconnect(&mut self, uid: u64) -> Result<Reconnect, ChatError> {
        let channel = self.users.get(&uid).ok_or(ChatError::NotLoggedIn)?.channel;
        Ok(Reconnect { channel, seq: self.next_seq(uid) })
    }
}
