//! Polls, holds and subscriptions: reading a user's log from a cursor, and
//! waiting when there is nothing yet.
//!
//! A poll that finds events is answered at once ([`Poll::Read`]). One that
//! finds nothing becomes a *hold* ([`Poll::Held`]): the service keeps its
//! cursor and its deadline, answers it through
//! [`poll_output`](ChatService::poll_output) when the log passes the cursor
//! ([`Answer::Read`]), and ends it when the deadline passes, its login
//! ends, a newer poll of the same login takes its place, or the service
//! stops ([`Answer::Ended`]). A *subscription* is the same without a
//! deadline and without an end at the first answer: an XMPP session, a
//! page's webhook, a `/pull` listener. It gets each batch of events, and
//! the next once it [`resume`](ChatService::resume)s.
//!
//! Holds, and subscriptions marked present, keep their user online through
//! a lease in the store that lapses unless renewed, so a process that dies
//! leaves no one online for longer than a hold.

use std::time::Instant;

use crate::error::ChatError;
use crate::hold::{Answer, End, HoldId, Output, Read, Waiter};
use crate::service::{ChatService, renewal_period};
use crate::store::{Counter, Store};

/// The `/pull` pool name handed out with sticky tokens.
pub const PULL_POOL: &str = "fbcomet_chat-proxy";

/// What a poll gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Poll {
    /// Answered at once.
    Read(Read),
    /// Nothing yet: held. Its answer comes as an [`Output::Answer`].
    Held(HoldId),
}

/// What a `/pull` gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pull {
    /// No sticky token, or not the one of the user's last handshake: the
    /// load balancer's handshake. The client pulls again with these.
    Handshake {
        /// The sticky token to send back.
        sticky: String,
        /// The sticky pool to send back.
        pool: String,
    },
    /// A poll like any other.
    Poll(Poll),
}

impl<S: Store> ChatService<S> {
    /// A poll of `uid`'s log for `seq` on the 2008 channel, with the login
    /// `token`: answered at once, or held for
    /// [`hold`](crate::ChatConfig::hold).
    ///
    /// The login must exist and be `uid`'s ([`ChatError::LoginChanged`]
    /// otherwise).
    pub fn poll(&mut self, token: &str, uid: u64, seq: i64, now: Instant) -> Result<Poll, ChatError> {
        self.check_poll(token, uid, now)?;
        Ok(self.read_or_hold(token, uid, seq, self.config.hold, now))
    }

    /// A `/pull` of `uid`'s log for `seq`, with the login `token`, the
    /// sticky token of the last handshake and the partition (-2, where
    /// sent): the handshake again when the sticky token is not the last
    /// one; else a poll held for [`pull_hold`](crate::ChatConfig::pull_hold).
    /// The first pull after a handshake that starts out (seq -1, or 0 as
    /// fbchat's) starts where the log stood at the handshake.
    pub fn pull(
        &mut self,
        token: &str,
        uid: u64,
        seq: i64,
        sticky: Option<&str>,
        partition: Option<i64>,
        now: Instant,
    ) -> Result<Pull, ChatError> {
        self.check_poll(token, uid, now)?;
        if partition.is_some_and(|p| p != -2) {
            return Err(ChatError::BadParameter("partition"));
        }
        let known = self.store.sticky(uid);
        if sticky.is_none() || sticky != known.as_deref() {
            let token = loop {
                let token = rand::Rng::random_range(&mut self.rng, 100..100_000u32).to_string();
                if Some(&token) != known.as_ref() {
                    break token;
                }
            };
            let start = self.next_seq(uid);
            self.store.set_sticky(uid, &token, start);
            self.seen(uid, now);
            return Ok(Pull::Handshake { sticky: token, pool: PULL_POOL.to_owned() });
        }
        if let Some(start) = self.store.take_sticky_start(uid)
            && (seq == -1 || (seq == 0 && start > 0))
        {
            // A client starting out (fbchat's first pull is seq=0,
            // fbcomet's -1) starts where the log stood at its handshake:
            // not at the oldest event kept, and missing nothing since.
            self.seen(uid, now);
            return Ok(Pull::Poll(Poll::Read(Read::Refresh { seq: start })));
        }
        Ok(Pull::Poll(self.read_or_hold(token, uid, seq, self.config.pull_hold, now)))
    }

    /// A subscription to `uid`'s log, from now on: with the login `token`
    /// (it ends with it), or without one (a page's webhook). A `durable`
    /// subscription starts where the last one of that name was resumed, so
    /// that nothing is lost across restarts of its process.
    pub fn subscribe(
        &mut self,
        uid: u64,
        token: Option<&str>,
        durable: Option<&str>,
        now: Instant,
    ) -> Result<HoldId, ChatError> {
        if let Some(token) = token {
            self.check_login(token, uid, now)?;
        }
        let cursor = durable.and_then(|name| self.store.cursor(name)).unwrap_or_else(|| self.next_seq(uid));
        let id = self.add_waiter(Waiter {
            uid,
            token: token.map(str::to_owned),
            cursor,
            deadline: None,
            armed: true,
            present: false,
            durable: durable.map(str::to_owned),
            order: 0,
        });
        self.answer_if_ready(id, now);
        Ok(id)
    }

    /// The subscription `id` handled its last answer: it waits for the
    /// next events (answered at once if the log has them), and a durable
    /// one records how far it got. `false` if it is gone.
    pub fn resume(&mut self, id: HoldId, now: Instant) -> bool {
        let Some(w) = self.waiters.get_mut(&id) else { return false };
        w.armed = true;
        if let Some(name) = &w.durable {
            self.store.set_cursor(name, w.cursor);
        }
        if let Some(token) = w.token.clone() {
            let now_ms = self.unix_ms(now);
            self.store.touch_login(&token, now_ms);
        }
        self.answer_if_ready(id, now);
        true
    }

    /// The subscription `id` keeps its user online (`true`: an XMPP
    /// session's available presence) or no longer does.
    pub fn set_present(&mut self, id: HoldId, present: bool, now: Instant) {
        let Some(w) = self.waiters.get_mut(&id) else { return };
        if w.deadline.is_some() || w.present == present {
            return;
        }
        w.present = present;
        let uid = w.uid;
        let now_ms = self.unix_ms(now);
        if present {
            let until = now_ms + 2 * renewal_period(&self.config).as_millis() as i64;
            self.store.put_lease(uid, &self.holder(id), until);
        } else {
            self.store.drop_lease(uid, &self.holder(id));
        }
        self.store.set_seen(uid, now_ms);
    }

    /// The hold or subscription `id` is given up by its connection (the
    /// client went away): it ends without an answer.
    pub fn cancel(&mut self, id: HoldId, now: Instant) {
        self.remove_waiter(id, now);
    }

    /// How many holds and present subscriptions keep `uid` online in this
    /// process.
    pub fn held_of(&self, uid: u64) -> usize {
        let ids = self.by_uid.get(&uid).into_iter().flatten();
        ids.filter(|id| self.waiters.get(id).is_some_and(Waiter::leases)).count()
    }

    /// The seq the next event of `uid`'s log will get.
    pub fn next_seq(&self, uid: u64) -> i64 {
        self.store.read_log(uid, -1, 0).next
    }

    /// What `uid`'s log has at `seq`; `None` when nothing yet.
    pub fn read(&self, uid: u64, seq: i64) -> Option<Read> {
        let log = self.store.read_log(uid, seq, self.config.poll_batch.max(1));
        if seq < 0 || seq > log.next {
            return Some(Read::Refresh { seq: log.next });
        }
        if seq < log.first {
            return Some(Read::Refresh { seq: log.first });
        }
        if seq == log.next {
            return None;
        }
        let next = seq + log.events.len() as i64;
        Some(Read::Events { from: seq, events: log.events, next })
    }

    /// A poll's login, checked as [`check_login`](Self::check_login) does;
    /// the poll is counted.
    fn check_poll(&mut self, token: &str, uid: u64, now: Instant) -> Result<(), ChatError> {
        self.check_login(token, uid, now)?;
        self.store.count(Counter::Polls, 1);
        Ok(())
    }

    /// A login that polls or subscribes: it exists, it is `uid`'s, and it
    /// was used now.
    fn check_login(&mut self, token: &str, uid: u64, now: Instant) -> Result<(), ChatError> {
        let login = self.authenticate(token, now)?;
        if login.uid != uid {
            return Err(ChatError::LoginChanged);
        }
        Ok(())
    }

    fn read_or_hold(&mut self, token: &str, uid: u64, seq: i64, hold: std::time::Duration, now: Instant) -> Poll {
        if let Some(read) = self.read(uid, seq) {
            self.seen(uid, now);
            return Poll::Read(read);
        }
        let deadline = now + hold;
        let order = self.next_hold;
        let waiter = Waiter {
            uid,
            token: Some(token.to_owned()),
            cursor: seq,
            deadline: Some(deadline),
            armed: true,
            present: false,
            durable: None,
            order,
        };
        let id = self.add_waiter(waiter);
        let until = self.unix_ms(deadline);
        self.store.put_lease(uid, &self.holder(id), until);
        self.deadlines.insert((deadline, id));
        // A login holds a bounded number of polls: the oldest gives way.
        let mut of_login: Vec<(u64, HoldId)> = self
            .by_uid
            .get(&uid)
            .into_iter()
            .flatten()
            .filter_map(|id| self.waiters.get(id).map(|w| (w, id)))
            .filter(|(w, _)| w.deadline.is_some() && w.token.as_deref() == Some(token))
            .map(|(w, &id)| (w.order, id))
            .collect();
        of_login.sort();
        let excess = of_login.len().saturating_sub(self.config.holds_per_login.max(1));
        for &(_, old) in &of_login[..excess] {
            self.end(old, End::Replaced, now);
        }
        Poll::Held(id)
    }

    fn add_waiter(&mut self, waiter: Waiter) -> HoldId {
        let id = HoldId(self.next_hold);
        self.next_hold += 1;
        self.by_uid.entry(waiter.uid).or_default().insert(id);
        if waiter.deadline.is_none() {
            self.subscriptions.insert(id);
        }
        self.waiters.insert(id, waiter);
        id
    }

    /// Removes `id`: its lease goes, and its user counts as seen now.
    pub(crate) fn remove_waiter(&mut self, id: HoldId, now: Instant) -> Option<Waiter> {
        let w = self.waiters.remove(&id)?;
        if let Some(ids) = self.by_uid.get_mut(&w.uid) {
            ids.remove(&id);
            if ids.is_empty() {
                self.by_uid.remove(&w.uid);
            }
        }
        match w.deadline {
            Some(deadline) => self.deadlines.remove(&(deadline, id)),
            None => self.subscriptions.remove(&id),
        };
        if w.leases() {
            self.store.drop_lease(w.uid, &self.holder(id));
            if w.token.as_deref().is_some_and(|t| self.store.login(t).is_some()) {
                self.seen(w.uid, now);
            }
        }
        Some(w)
    }

    /// The log of `uid` moved: every armed hold and subscription on it is
    /// answered.
    pub(crate) fn answer_waiting(&mut self, uid: u64, now: Instant) {
        let ids: Vec<HoldId> = self.by_uid.get(&uid).into_iter().flatten().copied().collect();
        for id in ids {
            self.answer_if_ready(id, now);
        }
    }

    fn answer_if_ready(&mut self, id: HoldId, now: Instant) {
        let Some(w) = self.waiters.get(&id) else { return };
        if !w.armed {
            return;
        }
        let Some(read) = self.read(w.uid, w.cursor) else { return };
        let done = w.deadline.is_some();
        if done {
            self.remove_waiter(id, now);
        } else if let Some(w) = self.waiters.get_mut(&id) {
            w.armed = false;
            w.cursor = match &read {
                Read::Events { next, .. } => *next,
                Read::Refresh { seq } => *seq,
            };
        }
        self.outputs.push_back(Output::Answer { hold: id, answer: Answer::Read(read), done });
    }

    /// Subscriptions renew their leases, and keep their logins in use.
    pub(crate) fn renew_subscriptions(&mut self, now: Instant) {
        let now_ms = self.unix_ms(now);
        let until = now_ms + 2 * renewal_period(&self.config).as_millis() as i64;
        let subscriptions: Vec<(HoldId, u64, bool, Option<String>)> = self
            .subscriptions
            .iter()
            .filter_map(|id| self.waiters.get(id).map(|w| (*id, w.uid, w.present, w.token.clone())))
            .collect();
        for (id, uid, present, token) in subscriptions {
            if present {
                self.store.put_lease(uid, &self.holder(id), until);
            }
            if let Some(token) = token {
                self.store.touch_login(&token, now_ms);
            }
        }
    }

    fn holder(&self, id: HoldId) -> String {
        format!("{}:{}", self.instance, id.0)
    }

    fn seen(&mut self, uid: u64, now: Instant) {
        let now_ms = self.unix_ms(now);
        self.store.set_seen(uid, now_ms);
    }
}
