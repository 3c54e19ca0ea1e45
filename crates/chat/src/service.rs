//! The service: every rule of the chat, applied to typed requests at a
//! `now` the caller gives.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::auth::{Grant, Login, token};
use crate::config::ChatConfig;
use crate::error::{ChatError, LoginError};
use crate::event::{ChatEvent, ChatMessage};
use crate::log::Read;
use crate::store::{MemoryStore, Store};
use crate::throttle::Throttle;
use crate::world::{App, Page, User, World};

/// How a poll came in: which dialect, with what it must carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollKind<'a> {
    /// The 2008 channel (`/x/.../p_UID=SEQ`).
    Channel,
    /// `/pull`: the sticky token of the last `lb` handshake, and the
    /// partition (`-2`, where sent).
    Pull {
        /// `sticky_token`, if the client sent one.
        sticky: Option<&'a str>,
        /// `partition`, if the client sent one.
        partition: Option<i64>,
    },
}

/// What a poll gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Poll {
    /// Events from `from` on; poll `next` after them.
    Events {
        /// The seq of the first event.
        from: i64,
        /// The events.
        events: Vec<ChatEvent>,
        /// The seq to poll next.
        next: i64,
    },
    /// Poll `seq` instead: the one asked for was not valid (-1, past the
    /// end) or fell below the window (`seq` is then the oldest event kept).
    Refresh {
        /// The seq to poll.
        seq: i64,
    },
    /// Nothing yet: hold the poll until the user's log passes its seq (an
    /// [`Output::Wake`] for the user says when to ask again), or until
    /// `deadline`, and then answer that nothing came.
    Hold {
        /// When the hold ends.
        deadline: Instant,
    },
    /// `/pull` without the right sticky token: the load balancer's
    /// handshake. The client polls again with these.
    Handshake {
        /// The sticky token to send back.
        sticky: String,
        /// The sticky pool to send back.
        pool: String,
    },
}

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

/// One friend in a buddy list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Buddy {
    /// Who.
    pub uid: u64,
    /// Online now.
    pub online: bool,
    /// Online but idle.
    pub idle: bool,
}

/// A user's buddy list, as of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuddyList {
    /// Every friend, by uid.
    pub friends: Vec<Buddy>,
    /// Friends online at the user's last request and offline now.
    pub went_offline: Vec<u64>,
    /// Whether who is online changed since the user's last request.
    pub changed: bool,
}

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

/// What the service tells the IO around it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Output {
    /// Something changed for `uid` (an event in their log, a login ended):
    /// their held polls should ask again.
    Wake {
        /// Whose.
        uid: u64,
    },
}

/// Counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChatStats {
    /// Successful logins.
    pub logins: u64,
    /// Failed logins.
    pub failed_logins: u64,
    /// Logins refused unchecked by the throttle.
    pub throttled_logins: u64,
    /// Logins ended by expiry or by the per-user cap.
    pub expired_logins: u64,
    /// Messages recorded (resends not counted).
    pub messages: u64,
    /// Sends whose id was seen before.
    pub duplicate_sends: u64,
    /// Polls answered or held.
    pub polls: u64,
    /// Polls held right now.
    pub held: usize,
}

/// The emulated chat service, without IO: no sockets, no tasks, no clock.
///
/// Every method that depends on time takes `now`. A poll that must wait is
/// answered [`Poll::Hold`]; the caller holds it and asks again after an
/// [`Output::Wake`] for its user, or answers that nothing came at the
/// deadline. [`handle_timeout`](Self::handle_timeout) ends stale logins by
/// [`poll_timeout`](Self::poll_timeout).
#[derive(Debug)]
pub struct ChatService<S: Store = MemoryStore> {
    users: BTreeMap<u64, User>,
    pages: BTreeMap<u64, Page>,
    apps: Vec<App>,
    friends: BTreeMap<u64, BTreeSet<u64>>,
    config: ChatConfig,
    store: S,
    rng: StdRng,
    epoch: (Instant, i64),
    next_sweep: Instant,
    outputs: VecDeque<Output>,
    throttle: Throttle,
    stats: ChatStats,
}

/// The `/pull` pool name handed out with sticky tokens.
pub const PULL_POOL: &str = "fbcomet_chat-proxy";

impl ChatService<MemoryStore> {
    /// The service for `world`, with everything kept in memory. `now` and
    /// `unix_ms` tie the caller's clock to wall time (message times are
    /// milliseconds since the Unix epoch).
    pub fn new(world: &World, config: ChatConfig, now: Instant, unix_ms: i64) -> Self {
        Self::with_store(world, config, MemoryStore::default(), now, unix_ms)
    }
}

impl<S: Store> ChatService<S> {
    /// The service for `world` over `store`.
    pub fn with_store(world: &World, config: ChatConfig, store: S, now: Instant, unix_ms: i64) -> Self {
        let rng = match config.seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::from_os_rng(),
        };
        Self {
            users: world.users.iter().map(|u| (u.uid, u.clone())).collect(),
            pages: world.pages.iter().map(|p| (p.id, p.clone())).collect(),
            apps: world.apps.clone(),
            friends: world.friend_map(),
            next_sweep: now + sweep_period(&config),
            config,
            store,
            rng,
            epoch: (now, unix_ms),
            outputs: VecDeque::new(),
            throttle: Throttle::default(),
            stats: ChatStats::default(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ChatConfig {
        &self.config
    }

    /// The counters.
    pub fn stats(&self) -> ChatStats {
        self.stats.clone()
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The user `uid`.
    pub fn user(&self, uid: u64) -> Option<&User> {
        self.users.get(&uid)
    }

    /// Every user, by uid.
    pub fn users(&self) -> impl Iterator<Item = &User> {
        self.users.values()
    }

    /// The friends of `uid`.
    pub fn friends(&self, uid: u64) -> impl Iterator<Item = u64> + '_ {
        self.friends.get(&uid).into_iter().flatten().copied()
    }

    /// Whether `a` and `b` are friends.
    pub fn are_friends(&self, a: u64, b: u64) -> bool {
        self.friends.get(&a).is_some_and(|f| f.contains(&b))
    }

    /// The page `id`.
    pub fn page(&self, id: u64) -> Option<&Page> {
        self.pages.get(&id)
    }

    /// Every page, by id.
    pub fn pages(&self) -> impl Iterator<Item = &Page> {
        self.pages.values()
    }

    /// The page whose access token is `token`.
    pub fn page_by_token(&self, token: &str) -> Option<&Page> {
        self.pages.values().find(|p| p.access_token == token)
    }

    /// Whether `from` may message (and type to) `to`: friends; any user to
    /// a page; a page to a user who has messaged it.
    pub fn may_message(&self, from: u64, to: u64) -> bool {
        self.are_friends(from, to)
            || (self.pages.contains_key(&to) && self.users.contains_key(&from))
            || (self.pages.contains_key(&from)
                && self.users.contains_key(&to)
                && self.store.conversation(pair(from, to)).is_some_and(|c| c.iter().any(|m| m.from == to)))
    }

    /// `now` in milliseconds since the Unix epoch.
    pub fn unix_ms(&self, now: Instant) -> i64 {
        let (at, ms) = self.epoch;
        match now.checked_duration_since(at) {
            Some(d) => ms.saturating_add(d.as_millis() as i64),
            None => ms.saturating_sub(at.duration_since(now).as_millis() as i64),
        }
    }

    /// The next thing to tell the IO around the service.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) is next due.
    pub fn poll_timeout(&self) -> Instant {
        self.next_sweep
    }

    /// Time passed: logins unused for too long end.
    pub fn handle_timeout(&mut self, now: Instant) {
        if now < self.next_sweep {
            return;
        }
        self.next_sweep = now + sweep_period(&self.config);
        for (token, login) in self.store.all_logins() {
            if now.saturating_duration_since(login.last_used) > self.config.login_idle {
                self.end_login(&token, now);
                self.stats.expired_logins += 1;
            }
        }
    }

    // ---- logins -------------------------------------------------------------

    /// Logs in with an email (any case) and password, from `address` where
    /// known; wrong passwords are throttled ([`crate::throttle`]).
    pub fn login(
        &mut self,
        email: &str,
        password: &str,
        address: Option<IpAddr>,
        now: Instant,
    ) -> Result<Grant, LoginError> {
        self.login_with(email, address, now, |user| user.password == password)
    }

    /// Logs in `account` (an email, any case, or a username: see
    /// [`User::username`]) when `check` accepts the user (a password, or a
    /// SASL digest made with it), throttled as [`login`](Self::login) is.
    pub fn login_with(
        &mut self,
        account: &str,
        address: Option<IpAddr>,
        now: Instant,
        check: impl FnOnce(&User) -> bool,
    ) -> Result<Grant, LoginError> {
        let account = account.trim().to_lowercase();
        self.throttled(&account, address, now, |users, _| {
            users
                .values()
                .find(|u| u.email.eq_ignore_ascii_case(&account) || u.username().eq_ignore_ascii_case(&account))
                .filter(|u| check(u))
                .map(|u| u.uid)
        })
    }

    /// Logs in the user whose access token is `token`, for the app
    /// `api_key` of the world (`X-FACEBOOK-PLATFORM`), throttled per
    /// address as wrong passwords are.
    pub fn login_with_token(
        &mut self,
        api_key: &str,
        token: &str,
        address: Option<IpAddr>,
        now: Instant,
    ) -> Result<Grant, LoginError> {
        self.throttled(&format!("app:{api_key}"), address, now, |users, apps| {
            let known_app = apps.iter().any(|a| a.id == api_key);
            let user = users.values().find(|u| u.access_token.as_deref() == Some(token)).map(|u| u.uid);
            user.filter(|_| known_app && !token.is_empty())
        })
    }

    /// A login attempt for `account` through the throttle: refused
    /// unchecked while it waits; `find` names the user, or a failure is
    /// counted against the address and the account.
    fn throttled(
        &mut self,
        account: &str,
        address: Option<IpAddr>,
        now: Instant,
        find: impl FnOnce(&BTreeMap<u64, User>, &[App]) -> Option<u64>,
    ) -> Result<Grant, LoginError> {
        if let Some(retry_after) = self.throttle.wait(address, account, now) {
            self.stats.throttled_logins += 1;
            return Err(LoginError::Throttled { retry_after });
        }
        let Some(uid) = find(&self.users, &self.apps) else {
            self.stats.failed_logins += 1;
            self.throttle.fail(address, account, now);
            return Err(LoginError::WrongCredentials);
        };
        self.throttle.succeed(address);
        Ok(self.grant(uid, now))
    }

    /// Opens a login session for `uid` without a password (for front doors
    /// that authenticate otherwise, and for tests).
    pub fn grant(&mut self, uid: u64, now: Instant) -> Grant {
        let mut existing: Vec<(Instant, String)> = self
            .store
            .logins_of(uid)
            .into_iter()
            .filter_map(|t| self.store.login(&t).map(|l| (l.last_used, t)))
            .collect();
        existing.sort();
        let cap = self.config.logins_per_user.max(1);
        while existing.len() >= cap {
            let (_, oldest) = existing.remove(0);
            self.end_login(&oldest, now);
            self.stats.expired_logins += 1;
        }
        let grant = Grant { uid, token: token(&mut self.rng), post_form_id: token(&mut self.rng) };
        self.store
            .insert_login(grant.token.clone(), Login { uid, post_form_id: grant.post_form_id.clone(), last_used: now });
        self.store.user_mut(uid).presence.last_active = Some(now);
        self.stats.logins += 1;
        grant
    }

    /// Ends the login with session token `token`; its user's held polls are
    /// woken to find it gone. The user whose it was, if it existed.
    pub fn logout(&mut self, token: &str, now: Instant) -> Option<u64> {
        self.end_login(token, now)
    }

    fn end_login(&mut self, token: &str, _now: Instant) -> Option<u64> {
        let login = self.store.remove_login(token)?;
        if self.store.logins_of(login.uid).is_empty() {
            self.store.user_mut(login.uid).presence.leave();
        }
        self.outputs.push_back(Output::Wake { uid: login.uid });
        Some(login.uid)
    }

    /// The login with session token `token`, marked used at `now`. Fetching
    /// a page is not presence: polls and posts are.
    pub fn authenticate(&mut self, token: &str, now: Instant) -> Result<Login, ChatError> {
        let login = self.store.login_mut(token).ok_or(ChatError::NotLoggedIn)?;
        login.last_used = now;
        Ok(login.clone())
    }

    /// [`authenticate`](Self::authenticate), and the form token checked: what
    /// every post needs. The user counts as seen. The user's uid.
    pub fn authorize_post(&mut self, token: &str, post_form_id: Option<&str>, now: Instant) -> Result<u64, ChatError> {
        let login = self.authenticate(token, now)?;
        if post_form_id != Some(login.post_form_id.as_str()) {
            return Err(ChatError::CsrfFailed);
        }
        self.store.user_mut(login.uid).presence.last_seen = Some(now);
        Ok(login.uid)
    }

    // ---- presence -----------------------------------------------------------

    /// Whether `uid` counts as online at `now`.
    pub fn is_online(&self, uid: u64, now: Instant) -> bool {
        self.store.user(uid).is_some_and(|u| u.presence.online(now, self.config.online_window))
    }

    /// Whether `uid` counts as idle at `now`.
    pub fn is_idle(&self, uid: u64, now: Instant) -> bool {
        self.store.user(uid).is_none_or(|u| u.presence.idle(now, self.config.idle_after))
    }

    /// A poll of `uid` is being held from `now`: it counts as presence until
    /// [`end_hold`](Self::end_hold).
    pub fn begin_hold(&mut self, uid: u64, now: Instant) {
        let presence = &mut self.store.user_mut(uid).presence;
        presence.held += 1;
        presence.last_seen = Some(now);
        self.stats.held += 1;
    }

    /// A hold begun with [`begin_hold`](Self::begin_hold) ended.
    pub fn end_hold(&mut self, uid: u64, now: Instant) {
        let logged_in = !self.store.logins_of(uid).is_empty();
        let presence = &mut self.store.user_mut(uid).presence;
        presence.held = presence.held.saturating_sub(1);
        if logged_in {
            presence.last_seen = Some(now);
        }
        self.stats.held = self.stats.held.saturating_sub(1);
    }

    /// Shows `uid` online (`true`) or invisible.
    pub fn set_visible(&mut self, uid: u64, visible: bool) {
        self.store.user_mut(uid).presence.hidden = !visible;
    }

    /// The buddy list of `uid` at `now`, and what changed since their last
    /// request.
    pub fn buddy_list(&mut self, uid: u64, now: Instant) -> BuddyList {
        let friends: Vec<Buddy> = self
            .friends(uid)
            .map(|f| Buddy { uid: f, online: self.is_online(f, now), idle: self.is_idle(f, now) })
            .collect();
        let online: BTreeSet<u64> = friends.iter().filter(|b| b.online).map(|b| b.uid).collect();
        let before = self.store.user_mut(uid).presence.last_list.replace(online.clone());
        let went_offline = before.as_ref().map(|b| b.difference(&online).copied().collect()).unwrap_or_default();
        BuddyList { friends, went_offline, changed: before.as_ref() != Some(&online) }
    }

    // ---- messages -----------------------------------------------------------

    /// `from` sends a message: to a friend who is online (or, where
    /// [`Outgoing::offline_ok`], any friend), not empty, not too long. Recorded in the recipient's log, echoed into the sender's, and
    /// kept in the conversation's history; a resend with an id the sender
    /// used before is taken without recording it again.
    pub fn send(&mut self, from: u64, outgoing: Outgoing, now: Instant) -> Result<Sent, ChatError> {
        let Outgoing { to, text, msg_id, client_time, offline_ok } = outgoing;
        if text.is_empty() || text.chars().count() > self.config.max_message_chars {
            return Err(ChatError::Validation);
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
        let memory = self.config.dedup_memory;
        if !self.store.user_mut(from).sent.insert(&message.msg_id, memory) {
            self.stats.duplicate_sends += 1;
            return Ok(Sent { message, duplicate: true });
        }
        let conversation = self.store.conversation_mut(pair(from, to));
        conversation.push_back(message.clone());
        while conversation.len() > self.config.conversation_history.max(1) {
            conversation.pop_front();
        }
        self.push(to, ChatEvent::Message(message.clone()));
        if to != from {
            self.push(from, ChatEvent::Message(message.clone()));
        }
        self.store.user_mut(from).presence.last_active = Some(now);
        self.stats.messages += 1;
        Ok(Sent { message, duplicate: false })
    }

    /// `from` started or stopped typing to `to` (a friend, or a page and
    /// its user: [`may_message`](Self::may_message)).
    pub fn typing(&mut self, from: u64, to: u64, typing: bool, now: Instant) -> Result<(), ChatError> {
        if !self.may_message(from, to) {
            return Err(ChatError::DestinationNotOnline);
        }
        self.push(to, ChatEvent::Typing { from, to, typing });
        self.store.user_mut(from).presence.last_active = Some(now);
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
        let known = self.store.user_mut(reader).read_up_to.entry(partner).or_insert(i64::MIN);
        if watermark_ms <= *known {
            return;
        }
        *known = watermark_ms;
        self.push(partner, ChatEvent::Read { reader, watermark_ms, at_ms });
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
        self.push(page, ChatEvent::Delivered { reader, watermark_ms, at_ms });
    }

    /// The conversations of `uid` that have messages, the latest first.
    pub fn threads(&self, uid: u64) -> Vec<Thread> {
        let read = self.store.user(uid).map(|u| &u.read_up_to);
        let mut threads: Vec<Thread> = self
            .users
            .keys()
            .chain(self.pages.keys())
            .filter_map(|&partner| {
                let conversation = self.store.conversation(pair(uid, partner))?;
                let last = conversation.back()?.clone();
                let watermark = read.and_then(|r| r.get(&partner)).copied().unwrap_or(i64::MIN);
                let unread = conversation.iter().filter(|m| m.from == partner && m.time_ms > watermark).count();
                Some(Thread { partner, messages: conversation.len(), last, unread })
            })
            .collect();
        threads.sort_by_key(|t| std::cmp::Reverse(t.last.time_ms));
        threads
    }

    /// A request that only says the user is there (`/active_ping`): the
    /// login checked and the user seen. The user's uid.
    pub fn ping(&mut self, token: &str, now: Instant) -> Result<u64, ChatError> {
        let login = self.authenticate(token, now)?;
        self.store.user_mut(login.uid).presence.last_seen = Some(now);
        Ok(login.uid)
    }

    /// The messages between `uid` and `friend`, oldest first.
    pub fn history(&self, uid: u64, friend: u64) -> Vec<Arc<ChatMessage>> {
        self.store.conversation(pair(uid, friend)).map(|c| c.iter().cloned().collect()).unwrap_or_default()
    }

    /// The channel renewed (reconnect.php): where and from which seq to poll.
    pub fn reconnect(&mut self, uid: u64) -> Result<Reconnect, ChatError> {
        let channel = self.users.get(&uid).ok_or(ChatError::NotLoggedIn)?.channel;
        Ok(Reconnect { channel, seq: self.store.user_mut(uid).log.next_seq() })
    }

    fn push(&mut self, uid: u64, event: ChatEvent) {
        let window = self.config.window;
        self.store.user_mut(uid).log.push(event, window);
        self.outputs.push_back(Output::Wake { uid });
    }

    // ---- polls --------------------------------------------------------------

    /// A poll of `uid`'s log for `seq`, with the login `token`.
    ///
    /// The login must exist and be `uid`'s ([`ChatError::LoginChanged`]
    /// otherwise). A `/pull` poll without the sticky token of the user's
    /// last handshake gets a new handshake, and its partition must be -2.
    pub fn poll(
        &mut self,
        token: &str,
        uid: u64,
        seq: i64,
        kind: PollKind<'_>,
        now: Instant,
    ) -> Result<Poll, ChatError> {
        let login = self.authenticate(token, now)?;
        if login.uid != uid {
            return Err(ChatError::LoginChanged);
        }
        self.store.user_mut(uid).presence.last_seen = Some(now);
        self.stats.polls += 1;
        if let PollKind::Pull { sticky, partition } = kind {
            if partition.is_some_and(|p| p != -2) {
                return Err(ChatError::BadParameter("partition"));
            }
            let user = self.store.user_mut(uid);
            let known = user.sticky.as_deref();
            if sticky.is_none() || sticky != known {
                let old = known.map(str::to_owned);
                let token = loop {
                    let token = self.rng.random_range(100..100_000u32).to_string();
                    if Some(&token) != old.as_ref() {
                        break token;
                    }
                };
                let user = self.store.user_mut(uid);
                user.sticky = Some(token.clone());
                user.sticky_start = Some(user.log.next_seq());
                return Ok(Poll::Handshake { sticky: token, pool: PULL_POOL.to_owned() });
            }
            let user = self.store.user_mut(uid);
            if let Some(start) = user.sticky_start.take()
                && (seq == -1 || (seq == 0 && start > 0))
            {
                // A client starting out (fbchat's first pull is seq=0,
                // fbcomet's -1) starts where the log stood at its handshake:
                // not at the oldest event kept, and missing nothing since.
                return Ok(Poll::Refresh { seq: start });
            }
            return Ok(match self.read(uid, seq, now) {
                Poll::Hold { .. } => Poll::Hold { deadline: now + self.config.pull_hold },
                answer => answer,
            });
        }
        Ok(self.read(uid, seq, now))
    }

    /// What `uid`'s log has for `seq`, without authentication (for a held
    /// poll asking again after a wake, once its login was checked).
    pub fn read(&mut self, uid: u64, seq: i64, now: Instant) -> Poll {
        match self.store.user_mut(uid).log.read(seq) {
            Read::Events { from, events, next } => Poll::Events { from, events, next },
            Read::Refresh { seq } => Poll::Refresh { seq },
            Read::Wait => Poll::Hold { deadline: now + self.config.hold },
        }
    }

    /// Whether the login `token` of `uid` still stands (a held poll asks
    /// after a wake: a logout ends it).
    pub fn still_logged_in(&self, token: &str, uid: u64) -> bool {
        self.store.login(token).is_some_and(|l| l.uid == uid)
    }
}

fn pair(a: u64, b: u64) -> (u64, u64) {
    (a.min(b), a.max(b))
}

fn sweep_period(config: &ChatConfig) -> Duration {
    (config.login_idle / 8).clamp(Duration::from_millis(10), Duration::from_secs(60))
}
