//! The service itself: its world, its store, its waiters, and the run loop
//! (outputs, the timeout, shutdown). The rules live beside it, each in the
//! file named for it: [`login`](crate::login), [`send`](crate::send),
//! [`poll`](crate::poll), [`presence`](crate::presence),
//! [`threads`](crate::threads).

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::config::ChatConfig;
use crate::hold::{Answer, End, HoldId, Output, Waiter};
use crate::store::{Counter, MemoryStore, Store};
use crate::world::{App, Page, User, World};

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
    /// Polls held and sessions present right now, in this process.
    pub held: usize,
}

/// The emulated chat service, without IO: no sockets, no tasks, no clock.
///
/// Every method that depends on time takes `now`. A poll that must wait
/// becomes a hold the service keeps (a [`HoldId`]); a session that follows
/// a log (XMPP, a page's webhook) is a subscription of the same kind
/// without a deadline. Their answers leave through
/// [`poll_output`](Self::poll_output); the deadlines and the expiry of
/// logins are met by [`handle_timeout`](Self::handle_timeout) at
/// [`poll_timeout`](Self::poll_timeout).
#[derive(Debug)]
pub struct ChatService<S: Store = MemoryStore> {
    pub(crate) users: BTreeMap<u64, User>,
    pub(crate) pages: BTreeMap<u64, Page>,
    pub(crate) apps: Vec<App>,
    pub(crate) friends: BTreeMap<u64, BTreeSet<u64>>,
    pub(crate) config: ChatConfig,
    pub(crate) store: S,
    pub(crate) rng: StdRng,
    epoch: (Instant, i64),
    next_sweep: Instant,
    pub(crate) outputs: VecDeque<Output>,
    /// The holds and subscriptions of this process.
    pub(crate) waiters: HashMap<HoldId, Waiter>,
    /// The same, by the user whose log they follow.
    pub(crate) by_uid: HashMap<u64, BTreeSet<HoldId>>,
    /// The holds, by deadline.
    pub(crate) deadlines: BTreeSet<(Instant, HoldId)>,
    /// The subscriptions (waiters without a deadline).
    pub(crate) subscriptions: BTreeSet<HoldId>,
    pub(crate) next_hold: u64,
    /// When the leases of subscriptions are next renewed.
    pub(crate) next_renewal: Instant,
    /// This process among others sharing the store: the prefix of its
    /// leases' holders.
    pub(crate) instance: String,
}

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
        let mut rng = match config.seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::from_os_rng(),
        };
        let instance = format!("{:016x}", rng.random::<u64>());
        Self {
            users: world.users.iter().map(|u| (u.uid, u.clone())).collect(),
            pages: world.pages.iter().map(|p| (p.id, p.clone())).collect(),
            apps: world.apps.clone(),
            friends: world.friend_map(),
            next_sweep: now + sweep_period(&config),
            next_renewal: now + renewal_period(&config),
            config,
            store,
            rng,
            epoch: (now, unix_ms),
            outputs: VecDeque::new(),
            waiters: HashMap::new(),
            by_uid: HashMap::new(),
            deadlines: BTreeSet::new(),
            subscriptions: BTreeSet::new(),
            next_hold: 0,
            instance,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ChatConfig {
        &self.config
    }

    /// The counters.
    pub fn stats(&self) -> ChatStats {
        let c = |counter| self.store.counter(counter);
        ChatStats {
            logins: c(Counter::Logins),
            failed_logins: c(Counter::FailedLogins),
            throttled_logins: c(Counter::ThrottledLogins),
            expired_logins: c(Counter::ExpiredLogins),
            messages: c(Counter::Messages),
            duplicate_sends: c(Counter::DuplicateSends),
            polls: c(Counter::Polls),
            held: self.waiters.values().filter(|w| w.leases()).count(),
        }
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The store, the service gone: what a process leaves behind when it
    /// stops without ending its holds (their leases lapse on their own).
    pub fn into_store(self) -> S {
        self.store
    }

    /// The user `uid`.
    pub fn user(&self, uid: u64) -> Option<&User> {
        self.users.get(&uid)
    }

    /// Every user, by uid.
    pub fn users(&self) -> impl Iterator<Item = &User> {
        self.users.values()
    }

    /// The name and first name of a user or page.
    pub fn name_of(&self, uid: u64) -> Option<(&str, &str)> {
        match self.users.get(&uid) {
            Some(u) => Some((&u.name, &u.first_name)),
            None => self.pages.get(&uid).map(|p| (p.name.as_str(), p.name.as_str())),
        }
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

    /// `now` in milliseconds since the Unix epoch.
    pub fn unix_ms(&self, now: Instant) -> i64 {
        let (at, ms) = self.epoch;
        match now.checked_duration_since(at) {
            Some(d) => ms.saturating_add(d.as_millis() as i64),
            None => ms.saturating_sub(at.duration_since(now).as_millis() as i64),
        }
    }

    // ---- the run loop ---------------------------------------------------------

    /// The next thing to tell the IO around the service: an answer for a
    /// hold or subscription.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) is next due: the
    /// earliest of every hold's deadline, the next expiry of logins, and
    /// the next renewal of leases.
    pub fn poll_timeout(&self) -> Instant {
        let mut at = self.next_sweep;
        if let Some(&(deadline, _)) = self.deadlines.first() {
            at = at.min(deadline);
        }
        if !self.subscriptions.is_empty() {
            at = at.min(self.next_renewal);
        }
        at
    }

    /// Time passed: holds past their deadline end, logins unused for too
    /// long end (and with them their holds and subscriptions), and the
    /// leases of subscriptions are renewed.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(&(deadline, id)) = self.deadlines.first() {
            if deadline > now {
                break;
            }
            self.end(id, End::Deadline, now);
        }
        if now >= self.next_renewal {
            self.next_renewal = now + renewal_period(&self.config);
            self.renew_subscriptions(now);
        }
        if now >= self.next_sweep {
            self.next_sweep = now + sweep_period(&self.config);
            let before = self.unix_ms(now).saturating_sub(self.config.login_idle.as_millis() as i64);
            for token in self.store.logins_unused_since(before) {
                if self.end_login(&token, now).is_some() {
                    self.store.count(Counter::ExpiredLogins, 1);
                }
            }
        }
    }

    /// The service stops: every hold and subscription of this process ends
    /// ([`End::Shutdown`]), and its leases go.
    pub fn shutdown(&mut self, now: Instant) {
        let mut ids: Vec<HoldId> = self.waiters.keys().copied().collect();
        ids.sort();
        for id in ids {
            self.end(id, End::Shutdown, now);
        }
    }

    /// Ends `id` with `why`, telling the IO around.
    pub(crate) fn end(&mut self, id: HoldId, why: End, now: Instant) {
        if self.remove_waiter(id, now).is_some() {
            self.outputs.push_back(Output::Answer { hold: id, answer: Answer::Ended(why), done: true });
        }
    }
}

/// The low uid and the high uid: a conversation's key.
pub(crate) fn pair(a: u64, b: u64) -> (u64, u64) {
    (a.min(b), a.max(b))
}

fn sweep_period(config: &ChatConfig) -> Duration {
    (config.login_idle / 8).clamp(Duration::from_millis(10), Duration::from_secs(60))
}

/// Subscriptions renew their leases twice per lease.
pub(crate) fn renewal_period(config: &ChatConfig) -> Duration {
    (config.hold / 2).max(Duration::from_millis(10))
}
