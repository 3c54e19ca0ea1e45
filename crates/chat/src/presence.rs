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

use std::collections::BTreeSet;
use std::time::Instant;

use crate::service::ChatService;
use crate::store::Store;

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

    /// The buddy list of `uid` at `now`, and what changed since their last
    /// request (the web doors' `wasAvailableIDs`, XMPP's presence stanzas).
    pub fn buddy_list(&mut self, uid: u64, now: Instant) -> BuddyList {
        let friends: Vec<Buddy> = self
            .friends(uid)
            .map(|f| Buddy { uid: f, online: self.is_online(f, now), idle: self.is_idle(f, now) })
            .collect();
        let online: BTreeSet<u64> = friends.iter().filter(|b| b.online).map(|b| b.uid).collect();
        let before = self.store.swap_buddy_list(uid, online.clone());
        let went_offline = before.as_ref().map(|b| b.difference(&online).copied().collect()).unwrap_or_default();
        BuddyList { friends, went_offline, changed: before.as_ref() != Some(&online) }
    }
}
