//! What the service keeps, behind one boundary of owned, atomic operations.
//!
//! [`ChatService`](crate::ChatService) keeps nothing of its own but its
//! world, its configuration, its random generator and the holds of this
//! process: users' logs, logins, presence and its leases, conversations,
//! read marks, the login throttle's counts, subscription cursors and the
//! counters live in a [`Store`]. Every operation takes and returns owned
//! values and is one atomic step (an append gets its seq in the same step;
//! a sent id is inserted only if absent), and every time is in milliseconds
//! since the Unix epoch, so that a store in another process (a database
//! shared by several emulator processes) implements the same trait.
//! [`MemoryStore`] keeps the records in this process.
//!
//! Nothing the service does relies on the store sharing memory with it:
//! the simulation tests run every rule over a store that passes each record
//! through bytes too.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::event::{ChatEvent, ChatMessage};

/// A login session, as kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Login {
    /// Whose.
    pub uid: u64,
    /// The form token posts must carry.
    pub post_form_id: String,
    /// When it was last used (ms since the Unix epoch).
    pub last_used_ms: i64,
}

/// How an online friend shows: active, or idle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Seen {
    /// Online and active.
    Active,
    /// Online, but has neither logged in, sent nor typed for
    /// [`idle_after`](crate::ChatConfig::idle_after).
    Idle,
}

/// A user's presence, as kept. Being online also comes from leases
/// ([`Store::put_lease`]): a held poll or an open session holds one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presence {
    /// Invisible by choice (settings.php `visibility=false`).
    pub hidden: bool,
    /// The last poll or request (ms).
    pub last_seen_ms: Option<i64>,
    /// The last login, message sent or typing notice (ms).
    pub last_active_ms: Option<i64>,
}

/// What a read of a log found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogRead {
    /// The seq of the oldest event kept.
    pub first: i64,
    /// The seq the next event will get.
    pub next: i64,
    /// The events from the seq asked for on (at most the number asked for).
    pub events: Vec<ChatEvent>,
}

/// A conversation, as a thread list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadSummary {
    /// How many messages are kept.
    pub messages: usize,
    /// The last of them.
    pub last: Arc<ChatMessage>,
    /// How many of the partner's messages are after the read mark.
    pub unread: usize,
}

/// Failed logins counted under one key of the throttle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failures {
    /// How many in a row.
    pub count: u32,
    /// The last one (ms).
    pub last_ms: i64,
}

/// The service's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Counter {
    /// Successful logins.
    Logins,
    /// Failed logins.
    FailedLogins,
    /// Logins refused unchecked by the throttle.
    ThrottledLogins,
    /// Logins ended by expiry or by the per-user cap.
    ExpiredLogins,
    /// Messages recorded.
    Messages,
    /// Sends whose id was seen before.
    DuplicateSends,
    /// Polls answered or held.
    Polls,
}

/// The records of the service, as owned, atomic operations.
pub trait Store: Send + 'static {
    // ---- logs -----------------------------------------------------------------

    /// Appends `event` to `uid`'s log, forgetting the oldest past `window`;
    /// the seq it got.
    fn append(&mut self, uid: u64, event: ChatEvent, window: usize) -> i64;
    /// At most `max` events of `uid`'s log from seq `from` on (none when
    /// `from` is outside the window), with the window's bounds.
    fn read_log(&self, uid: u64, from: i64, max: usize) -> LogRead;
    /// Records that `uid` sent a message with `id`: `false` when the id was
    /// recorded already (a resend). The last `memory` ids are kept.
    fn insert_sent_id(&mut self, uid: u64, id: &str, memory: usize) -> bool;

    // ---- logins ---------------------------------------------------------------

    /// Records a login under its session token.
    fn put_login(&mut self, token: &str, login: Login);
    /// The login with session token `token`.
    fn login(&self, token: &str) -> Option<Login>;
    /// The same, marked used at `now_ms`.
    fn touch_login(&mut self, token: &str, now_ms: i64) -> Option<Login>;
    /// Ends a login.
    fn remove_login(&mut self, token: &str) -> Option<Login>;
    /// Every login of `uid`, with its token.
    fn logins_of(&self, uid: u64) -> Vec<(String, Login)>;
    /// The tokens of the logins last used before `before_ms`.
    fn logins_unused_since(&self, before_ms: i64) -> Vec<String>;

    // ---- presence -------------------------------------------------------------

    /// The presence of `uid`.
    fn presence(&self, uid: u64) -> Presence;
    /// `uid` polled or posted at `now_ms`.
    fn set_seen(&mut self, uid: u64, now_ms: i64);
    /// `uid` logged in, sent or typed at `now_ms`.
    fn set_active(&mut self, uid: u64, now_ms: i64);
    /// `uid` shows as invisible (`true`) or not.
    fn set_hidden(&mut self, uid: u64, hidden: bool);
    /// Every trace of `uid` being there gone (the last login ended).
    fn clear_presence(&mut self, uid: u64);
    /// `holder` (a held poll or a session) keeps `uid` online until
    /// `until_ms`, unless renewed.
    fn put_lease(&mut self, uid: u64, holder: &str, until_ms: i64);
    /// `holder` no longer keeps `uid` online.
    fn drop_lease(&mut self, uid: u64, holder: &str);
    /// Whether a lease keeps `uid` online at `now_ms`.
    fn leased(&self, uid: u64, now_ms: i64) -> bool;
    /// Records who was online, and how they showed, at `uid`'s buddy-list
    /// request; what was recorded at the one before.
    fn swap_buddy_list(&mut self, uid: u64, online: BTreeMap<u64, Seen>) -> Option<BTreeMap<u64, Seen>>;

    // ---- /pull ------------------------------------------------------------------

    /// Records the sticky token of `uid`'s last `/pull` handshake, and where
    /// the log stood then.
    fn set_sticky(&mut self, uid: u64, sticky: &str, start: i64);
    /// The sticky token of `uid`'s last handshake.
    fn sticky(&self, uid: u64) -> Option<String>;
    /// Where the log stood at the handshake, once: the first pull after it.
    fn take_sticky_start(&mut self, uid: u64) -> Option<i64>;

    // ---- conversations -------------------------------------------------------

    /// Appends `message` to the conversation of `pair` (low uid, high uid),
    /// keeping the last `keep`.
    fn append_message(&mut self, pair: (u64, u64), message: Arc<ChatMessage>, keep: usize);
    /// The last `newest` messages of `pair`, oldest first.
    fn history(&self, pair: (u64, u64), newest: usize) -> Vec<Arc<ChatMessage>>;
    /// The conversation of `pair` as a thread of `partner`'s, with the
    /// messages from `partner` after `read_up_to_ms` unread.
    fn thread(&self, pair: (u64, u64), partner: u64, read_up_to_ms: i64) -> Option<ThreadSummary>;
    /// Whether the conversation of `pair` has a message from `from`.
    fn has_message_from(&self, pair: (u64, u64), from: u64) -> bool;
    /// Moves `reader`'s read mark of the conversation with `partner` to
    /// `watermark_ms`: `false` when it stood there or later already.
    fn advance_read_mark(&mut self, reader: u64, partner: u64, watermark_ms: i64) -> bool;
    /// `reader`'s read mark of the conversation with `partner`.
    fn read_mark(&self, reader: u64, partner: u64) -> Option<i64>;

    // ---- the throttle -------------------------------------------------------

    /// The failures counted under `key`.
    fn failures(&self, key: &str) -> Option<Failures>;
    /// Counts a failure under `key` at `now_ms` (starting over when the last
    /// is older than `forget_ms`); the count.
    fn record_failure(&mut self, key: &str, now_ms: i64, forget_ms: i64) -> Failures;
    /// Forgets the failures under `key`.
    fn clear_failures(&mut self, key: &str);

    // ---- subscriptions and counters -----------------------------------------

    /// Where the subscription `name` (a page's webhook) read up to.
    fn cursor(&self, name: &str) -> Option<i64>;
    /// Records it.
    fn set_cursor(&mut self, name: &str, seq: i64);
    /// Adds `n` to a counter.
    fn count(&mut self, counter: Counter, n: u64);
    /// A counter's value.
    fn counter(&self, counter: Counter) -> u64;
}

/// How many throttle keys [`MemoryStore`] tracks at most: past this, the
/// stalest go (an attacker cycling through addresses cannot grow it).
pub const MAX_THROTTLE_KEYS: usize = 10_000;

/// A [`Store`] in this process's memory.
#[derive(Debug, Default)]
pub struct MemoryStore {
    logs: HashMap<u64, Log>,
    sent: HashMap<u64, SentIds>,
    logins: HashMap<String, Login>,
    by_user: HashMap<u64, Vec<String>>,
    presence: HashMap<u64, Presence>,
    leases: HashMap<u64, HashMap<String, i64>>,
    buddy_lists: HashMap<u64, BTreeMap<u64, Seen>>,
    sticky: HashMap<u64, (String, Option<i64>)>,
    conversations: HashMap<(u64, u64), VecDeque<Arc<ChatMessage>>>,
    read_marks: HashMap<(u64, u64), i64>,
    failures: HashMap<String, Failures>,
    cursors: HashMap<String, i64>,
    counters: HashMap<Counter, u64>,
}

#[derive(Debug, Default)]
struct Log {
    first: i64,
    events: VecDeque<ChatEvent>,
}

#[derive(Debug, Default)]
struct SentIds {
    seen: HashSet<String>,
    order: VecDeque<String>,
}

impl Store for MemoryStore {
    fn append(&mut self, uid: u64, event: ChatEvent, window: usize) -> i64 {
        let log = self.logs.entry(uid).or_default();
        let seq = log.first + log.events.len() as i64;
        log.events.push_back(event);
        while log.events.len() > window.max(1) {
            log.events.pop_front();
            log.first += 1;
        }
        seq
    }

    fn read_log(&self, uid: u64, from: i64, max: usize) -> LogRead {
        let Some(log) = self.logs.get(&uid) else { return LogRead { first: 0, next: 0, events: Vec::new() } };
        let next = log.first + log.events.len() as i64;
        let events = if (log.first..next).contains(&from) {
            log.events.iter().skip((from - log.first) as usize).take(max).cloned().collect()
        } else {
            Vec::new()
        };
        LogRead { first: log.first, next, events }
    }

    fn insert_sent_id(&mut self, uid: u64, id: &str, memory: usize) -> bool {
        let sent = self.sent.entry(uid).or_default();
        if sent.seen.contains(id) {
            return false;
        }
        sent.seen.insert(id.to_owned());
        sent.order.push_back(id.to_owned());
        while sent.order.len() > memory.max(1) {
            if let Some(old) = sent.order.pop_front() {
                sent.seen.remove(&old);
            }
        }
        true
    }

    fn put_login(&mut self, token: &str, login: Login) {
        self.by_user.entry(login.uid).or_default().push(token.to_owned());
        self.logins.insert(token.to_owned(), login);
    }

    fn login(&self, token: &str) -> Option<Login> {
        self.logins.get(token).cloned()
    }

    fn touch_login(&mut self, token: &str, now_ms: i64) -> Option<Login> {
        let login = self.logins.get_mut(token)?;
        login.last_used_ms = login.last_used_ms.max(now_ms);
        Some(login.clone())
    }

    fn remove_login(&mut self, token: &str) -> Option<Login> {
        let login = self.logins.remove(token)?;
        if let Some(tokens) = self.by_user.get_mut(&login.uid) {
            tokens.retain(|t| t != token);
            if tokens.is_empty() {
                self.by_user.remove(&login.uid);
            }
        }
        Some(login)
    }

    fn logins_of(&self, uid: u64) -> Vec<(String, Login)> {
        let tokens = self.by_user.get(&uid).into_iter().flatten();
        tokens.filter_map(|t| Some((t.clone(), self.logins.get(t)?.clone()))).collect()
    }

    fn logins_unused_since(&self, before_ms: i64) -> Vec<String> {
        self.logins.iter().filter(|(_, l)| l.last_used_ms < before_ms).map(|(t, _)| t.clone()).collect()
    }

    fn presence(&self, uid: u64) -> Presence {
        self.presence.get(&uid).cloned().unwrap_or_default()
    }

    fn set_seen(&mut self, uid: u64, now_ms: i64) {
        self.presence.entry(uid).or_default().last_seen_ms = Some(now_ms);
    }

    fn set_active(&mut self, uid: u64, now_ms: i64) {
        self.presence.entry(uid).or_default().last_active_ms = Some(now_ms);
    }

    fn set_hidden(&mut self, uid: u64, hidden: bool) {
        self.presence.entry(uid).or_default().hidden = hidden;
    }

    fn clear_presence(&mut self, uid: u64) {
        let presence = self.presence.entry(uid).or_default();
        presence.last_seen_ms = None;
        presence.last_active_ms = None;
    }

    fn put_lease(&mut self, uid: u64, holder: &str, until_ms: i64) {
        self.leases.entry(uid).or_default().insert(holder.to_owned(), until_ms);
    }

    fn drop_lease(&mut self, uid: u64, holder: &str) {
        if let Some(leases) = self.leases.get_mut(&uid) {
            leases.remove(holder);
            if leases.is_empty() {
                self.leases.remove(&uid);
            }
        }
    }

    fn leased(&self, uid: u64, now_ms: i64) -> bool {
        self.leases.get(&uid).is_some_and(|l| l.values().any(|&until| until >= now_ms))
    }

    fn swap_buddy_list(&mut self, uid: u64, online: BTreeMap<u64, Seen>) -> Option<BTreeMap<u64, Seen>> {
        self.buddy_lists.insert(uid, online)
    }

    fn set_sticky(&mut self, uid: u64, sticky: &str, start: i64) {
        self.sticky.insert(uid, (sticky.to_owned(), Some(start)));
    }

    fn sticky(&self, uid: u64) -> Option<String> {
        self.sticky.get(&uid).map(|(s, _)| s.clone())
    }

    fn take_sticky_start(&mut self, uid: u64) -> Option<i64> {
        self.sticky.get_mut(&uid)?.1.take()
    }

    fn append_message(&mut self, pair: (u64, u64), message: Arc<ChatMessage>, keep: usize) {
        let conversation = self.conversations.entry(pair).or_default();
        conversation.push_back(message);
        while conversation.len() > keep.max(1) {
            conversation.pop_front();
        }
    }

    fn history(&self, pair: (u64, u64), newest: usize) -> Vec<Arc<ChatMessage>> {
        let Some(c) = self.conversations.get(&pair) else { return Vec::new() };
        c.iter().skip(c.len().saturating_sub(newest)).cloned().collect()
    }

    fn thread(&self, pair: (u64, u64), partner: u64, read_up_to_ms: i64) -> Option<ThreadSummary> {
        let c = self.conversations.get(&pair)?;
        let last = c.back()?.clone();
        let unread = c.iter().filter(|m| m.from == partner && m.time_ms > read_up_to_ms).count();
        Some(ThreadSummary { messages: c.len(), last, unread })
    }

    fn has_message_from(&self, pair: (u64, u64), from: u64) -> bool {
        self.conversations.get(&pair).is_some_and(|c| c.iter().any(|m| m.from == from))
    }

    fn advance_read_mark(&mut self, reader: u64, partner: u64, watermark_ms: i64) -> bool {
        let mark = self.read_marks.entry((reader, partner)).or_insert(i64::MIN);
        if watermark_ms <= *mark {
            return false;
        }
        *mark = watermark_ms;
        true
    }

    fn read_mark(&self, reader: u64, partner: u64) -> Option<i64> {
        self.read_marks.get(&(reader, partner)).copied()
    }

    fn failures(&self, key: &str) -> Option<Failures> {
        self.failures.get(key).copied()
    }

    fn record_failure(&mut self, key: &str, now_ms: i64, forget_ms: i64) -> Failures {
        if self.failures.len() >= MAX_THROTTLE_KEYS && !self.failures.contains_key(key) {
            self.failures.retain(|_, f| now_ms - f.last_ms <= forget_ms);
            if self.failures.len() >= MAX_THROTTLE_KEYS
                && let Some(stalest) = self.failures.iter().min_by_key(|(_, f)| f.last_ms).map(|(k, _)| k.clone())
            {
                self.failures.remove(&stalest);
            }
        }
        let f = self.failures.entry(key.to_owned()).or_insert(Failures { count: 0, last_ms: now_ms });
        if now_ms - f.last_ms > forget_ms {
            f.count = 0;
        }
        f.count = f.count.saturating_add(1);
        f.last_ms = now_ms;
        *f
    }

    fn clear_failures(&mut self, key: &str) {
        self.failures.remove(key);
    }

    fn cursor(&self, name: &str) -> Option<i64> {
        self.cursors.get(name).copied()
    }

    fn set_cursor(&mut self, name: &str, seq: i64) {
        self.cursors.insert(name.to_owned(), seq);
    }

    fn count(&mut self, counter: Counter, n: u64) {
        *self.counters.entry(counter).or_default() += n;
    }

    fn counter(&self, counter: Counter) -> u64 {
        self.counters.get(&counter).copied().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typing(n: u64) -> ChatEvent {
        ChatEvent::Typing { from: n, to: 0, typing: true }
    }

    #[test]
    fn seqs_count_events_and_the_window_slides() {
        let mut store = MemoryStore::default();
        assert_eq!(store.read_log(1, 0, 10), LogRead { first: 0, next: 0, events: vec![] });
        for n in 0..5 {
            assert_eq!(store.append(1, typing(n), 3), n as i64);
        }
        let read = store.read_log(1, 1, 10);
        assert_eq!((read.first, read.next, read.events.len()), (2, 5, 0), "below the window: nothing");
        assert_eq!(store.read_log(1, 3, 1).events, vec![typing(3)], "at most what was asked");
        assert_eq!(store.read_log(1, 4, 10).events, vec![typing(4)]);
    }

    #[test]
    fn resends_are_caught_within_the_memory() {
        let mut store = MemoryStore::default();
        assert!(store.insert_sent_id(1, "1", 2));
        assert!(!store.insert_sent_id(1, "1", 2));
        assert!(store.insert_sent_id(2, "1", 2), "ids are per sender");
        assert!(store.insert_sent_id(1, "2", 2));
        assert!(store.insert_sent_id(1, "3", 2));
        assert!(store.insert_sent_id(1, "1", 2), "forgotten past the memory");
    }

    #[test]
    fn leases_keep_online_until_they_lapse_or_are_dropped() {
        let mut store = MemoryStore::default();
        store.put_lease(1, "a", 100);
        store.put_lease(1, "b", 50);
        assert!(store.leased(1, 100));
        assert!(!store.leased(1, 101), "lapsed");
        store.drop_lease(1, "a");
        assert!(store.leased(1, 50), "b still holds");
        store.drop_lease(1, "b");
        assert!(!store.leased(1, 10));
    }

    #[test]
    fn the_throttles_keys_are_bounded() {
        let mut store = MemoryStore::default();
        for n in 0..(MAX_THROTTLE_KEYS as i64 + 500) {
            store.record_failure(&format!("a:{n}"), n, 1_000_000);
        }
        assert!(store.failures.len() <= MAX_THROTTLE_KEYS, "{}", store.failures.len());
    }
}
