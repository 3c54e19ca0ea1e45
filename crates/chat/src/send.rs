//! Sending: messages, typing, read and delivery marks. Each lands in the
//! logs it concerns and answers the holds waiting on them.

use std::sync::Arc;
use std::time::Instant;

use rand::Rng;

use crate::error::ChatError;
use crate::event::{ChatEvent, ChatMessage};
use crate::service::{ChatService, pair};
use crate::store::{Counter, Store};

/// A message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// The recipient.
    pub to: u64,
    /// The text.
    pub text: String,
    /// The sender's id for it, if the sender chose one.
    pub msg_id: Option<String>,
    /// The sender's own time, if it posted one.
    pub client_time: Option<i64>,
    /// The recipient may be offline: the message waits in their log and
    /// the conversation (the inbox of the web era and of XMPP). The 2008
    /// service refused such a send (1356003).
    pub offline_ok: bool,
}

impl Outgoing {
    /// A message of `text` to `to`, as the 2008 service took it.
    pub fn new(to: u64, text: impl Into<String>) -> Self {
        Self { to, text: text.into(), msg_id: None, client_time: None, offline_ok: false }
    }
}

/// A message taken by the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The message as recorded.
    pub message: Arc<ChatMessage>,
    /// It was sent before with the same id: nothing was recorded again.
    pub duplicate: bool,
}

impl<S: Store> ChatService<S> {
    /// Whether `from` may message (and type to) `to`: friends; any user to
    /// a page; a page to a user who has messaged it.
    pub fn may_message(&self, from: u64, to: u64) -> bool {
        self.are_friends(from, to)
            || (self.pages.contains_key(&to) && self.users.contains_key(&from))
            || (self.pages.contains_key(&from)
                && self.users.contains_key(&to)
                && self.store.has_message_from(pair(from, to), to))
    }

    /// `from` sends a message: to a friend who is online (or, where
    /// [`Outgoing::offline_ok`], any friend), not empty, not longer than
    /// [`max_message_chars`](crate::ChatConfig::max_message_chars) (a
    /// page's: [`max_page_message_chars`](crate::ChatConfig::max_page_message_chars)), with an
    /// id of at most [`max_msg_id_bytes`](crate::ChatConfig::max_msg_id_bytes).
    /// Recorded in the recipient's log, echoed into the sender's, and kept
    /// in the conversation's history; a resend with an id the sender used
    /// before is taken without recording it again.
    pub fn send(&mut self, from: u64, outgoing: Outgoing, now: Instant) -> Result<Sent, ChatError> {
        let Outgoing { to, text, msg_id, client_time, offline_ok } = outgoing;
        if text.is_empty() || text.chars().count() > self.max_chars_of(from) {
            return Err(ChatError::Validation);
        }
        if msg_id.as_ref().is_some_and(|id| id.len() > self.config.max_msg_id_bytes) {
            return Err(ChatError::BadParameter("msg_id"));
        }
        // Pages are always reachable, and reach users who are not there.
        let page = self.pages.contains_key(&from) || self.pages.contains_key(&to);
        if !self.may_message(from, to) || !(offline_ok || page || self.is_online(to, now)) {
            return Err(ChatError::DestinationNotOnline);
        }
        let msg_id = match msg_id {
            Some(id) if !id.is_empty() => id,
            _ => self.rng.random::<u64>().to_string(),
        };
        let time_ms = self.unix_ms(now);
        let message = Arc::new(ChatMessage { from, to, text, time_ms, client_time, msg_id });
        if !self.store.insert_sent_id(from, &message.msg_id, self.config.dedup_memory) {
            self.store.count(Counter::DuplicateSends, 1);
            return Ok(Sent { message, duplicate: true });
        }
        self.store.append_message(pair(from, to), message.clone(), self.config.conversation_history);
        self.push(to, ChatEvent::Message(message.clone()), now);
        if to != from {
            self.push(from, ChatEvent::Message(message.clone()), now);
        }
        self.store.set_active(from, time_ms);
        self.store.count(Counter::Messages, 1);
        Ok(Sent { message, duplicate: false })
    }

    /// `from` started or stopped typing to `to` (a friend, or a page and
    /// its user: [`may_message`](Self::may_message)).
    pub fn typing(&mut self, from: u64, to: u64, typing: bool, now: Instant) -> Result<(), ChatError> {
        if !self.may_message(from, to) {
            return Err(ChatError::DestinationNotOnline);
        }
        self.push(to, ChatEvent::Typing { from, to, typing }, now);
        let now_ms = self.unix_ms(now);
        self.store.set_active(from, now_ms);
        Ok(())
    }

    /// `reader` read the conversation with `partner` up to `watermark_ms`
    /// (now, when `None`): kept for unread counts, and told to `partner`.
    pub fn mark_read(&mut self, reader: u64, partner: u64, watermark_ms: Option<i64>, now: Instant) {
        if !self.users.contains_key(&partner) && !self.pages.contains_key(&partner) {
            return;
        }
        let at_ms = self.unix_ms(now);
        let watermark_ms = watermark_ms.unwrap_or(at_ms).min(at_ms);
        if self.store.advance_read_mark(reader, partner, watermark_ms) {
            self.push(partner, ChatEvent::Read { reader, watermark_ms, at_ms }, now);
        }
    }

    /// `reader`'s client received the messages of the page `page` up to
    /// `watermark_ms` (now, when `None`): the page is told (its webhook's
    /// delivery event). Between users, deliveries are not recorded.
    pub fn mark_delivered(&mut self, reader: u64, page: u64, watermark_ms: Option<i64>, now: Instant) {
        if !self.pages.contains_key(&page) {
            return;
        }
        let at_ms = self.unix_ms(now);
        let watermark_ms = watermark_ms.unwrap_or(at_ms).min(at_ms);
        self.push(page, ChatEvent::Delivered { reader, watermark_ms, at_ms }, now);
    }

    /// The longest message `from` may send, in characters.
    pub fn max_chars_of(&self, from: u64) -> usize {
        if self.pages.contains_key(&from) { self.config.max_page_message_chars } else { self.config.max_message_chars }
    }

    /// Appends `event` to `uid`'s log and answers what waits on it.
    fn push(&mut self, uid: u64, event: ChatEvent, now: Instant) {
        self.store.append(uid, event, self.config.window);
        self.answer_waiting(uid, now);
    }
}
