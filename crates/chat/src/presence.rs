//! Presence: who counts as online, who as idle, and what a buddy list
//! shows.
//!
//! A user is online while a hold or a present subscription of theirs keeps
//! a lease (in any process sharing the store), or for
//! [`online_window`](crate::ChatConfig::online_window) after their last poll
//! or request, unless they made themselves invisible. An online user is
//! idle when they have neither logged in, sent nor typed for
//! [`idle_after`](crate::ChatConfig::idle_after). Logging out ends all of
//! it at once.

use std::collections::BTreeMap;
use std::time::Instant;

use crate::service::ChatService;
use crate::store::{Seen, Store};

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

/// What changed about one friend since a client was last told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    /// Who.
    pub uid: u64,
    /// How they show now; `None` when they went offline.
    pub now: Option<Seen>,
}

/// The one buddy-list diff: what changed between what a client was `told`
/// and what is `now`, both maps of online friends to how they show. The
/// web doors keep what they told in the store (a request has no session);
/// an XMPP session keeps its own.
pub fn changes(told: &BTreeMap<u64, Seen>, now: &BTreeMap<u64, Seen>) -> Vec<Change> {
    let came_or_changed = now
        .iter()
        .filter(|&(uid, seen)| told.get(uid) != Some(seen))
        .map(|(&uid, &seen)| Change { uid, now: Some(seen) });
    let went = told.keys().filter(|uid| !now.contains_key(uid)).map(|&uid| Change { uid, now: None });
    came_or_changed.chain(went).collect()
}

/// A user's buddy list, as of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuddyList {
    /// Every friend, by uid.
    pub friends: Vec<Buddy>,
    /// Friends online at the user's last request and offline now.
    pub went_offline: Vec<u64>,
    /// Whether who is online, or how they show, changed since the user's
    /// last request.
    pub changed: bool,
}

impl<S: Store> ChatService<S> {
    /// Whether `uid` counts as online at `now`.
    pub fn is_online(&self, uid: u64, now: Instant) -> bool {
        let now_ms = self.unix_ms(now);
        let presence = self.store.presence(uid);
        let window = self.config.online_window.as_millis() as i64;
        !presence.hidden
            && (self.store.leased(uid, now_ms) || presence.last_seen_ms.is_some_and(|t| now_ms - t <= window))
    }

    /// Whether `uid` counts as idle at `now`.
    pub fn is_idle(&self, uid: u64, now: Instant) -> bool {
        let now_ms = self.unix_ms(now);
        let idle_after = self.config.idle_after.as_millis() as i64;
        self.store.presence(uid).last_active_ms.is_none_or(|t| now_ms - t > idle_after)
    }

    /// Shows `uid` online (`true`) or invisible.
    pub fn set_visible(&mut self, uid: u64, visible: bool) {
        self.store.set_hidden(uid, !visible);
    }

    /// The friends of `uid` online at `now`, and how each shows.
    pub fn online_friends(&self, uid: u64, now: Instant) -> BTreeMap<u64, Seen> {
        self.friends(uid)
            .filter(|&f| self.is_online(f, now))
            .map(|f| (f, if self.is_idle(f, now) { Seen::Idle } else { Seen::Active }))
            .collect()
    }

    /// The buddy list of `uid` at `now`, and what changed since their last
    /// request (the web doors' `wasAvailableIDs`), by [`changes`] from what
    /// the store kept of the last one.
    pub fn buddy_list(&mut self, uid: u64, now: Instant) -> BuddyList {
        let friends: Vec<Buddy> = self
            .friends(uid)
            .map(|f| Buddy { uid: f, online: self.is_online(f, now), idle: self.is_idle(f, now) })
            .collect();
        let online: BTreeMap<u64, Seen> = friends
            .iter()
            .filter(|b| b.online)
            .map(|b| (b.uid, if b.idle { Seen::Idle } else { Seen::Active }))
            .collect();
        let before = self.store.swap_buddy_list(uid, online.clone());
        let changes = changes(before.as_ref().unwrap_or(&BTreeMap::new()), &online);
        let went_offline = changes.iter().filter(|c| c.now.is_none()).map(|c| c.uid).collect();
        BuddyList { friends, went_offline, changed: before.is_none() || !changes.is_empty() }
    }
}
