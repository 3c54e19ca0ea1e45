//! Presence: who counts as online, and who as idle.
//!
//! A user is online while one of their polls is held, or for
//! [`online_window`](crate::ChatConfig::online_window) after their last poll
//! or request, unless they made themselves invisible. An online user is idle
//! when they have neither logged in, sent nor typed for
//! [`idle_after`](crate::ChatConfig::idle_after). Logging out ends all of it at once.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// A user's presence, as the service tracks it.
#[derive(Debug, Clone, Default)]
pub struct Presence {
    /// Invisible by choice (settings.php `visibility=false`).
    pub hidden: bool,
    /// Polls held right now.
    pub held: usize,
    /// The last poll or request.
    pub last_seen: Option<Instant>,
    /// The last login, message sent or typing notice.
    pub last_active: Option<Instant>,
    /// The friends online at this user's last buddy-list request, for
    /// `wasAvailableIDs`.
    pub last_list: Option<BTreeSet<u64>>,
}

impl Presence {
    /// Whether the user counts as online at `now`.
    pub fn online(&self, now: Instant, window: Duration) -> bool {
        !self.hidden && (self.held > 0 || self.last_seen.is_some_and(|t| now.saturating_duration_since(t) <= window))
    }

    /// Whether the user counts as idle at `now`.
    pub fn idle(&self, now: Instant, idle_after: Duration) -> bool {
        self.last_active.is_none_or(|t| now.saturating_duration_since(t) > idle_after)
    }

    /// Every trace of being online gone (logout).
    pub fn leave(&mut self) {
        self.last_seen = None;
        self.last_active = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn online_while_held_or_within_the_window() {
        let t0 = Instant::now();
        let window = Duration::from_secs(120);
        let mut p = Presence::default();
        assert!(!p.online(t0, window));
        p.held = 1;
        assert!(p.online(t0 + Duration::from_secs(1000), window));
        p.held = 0;
        p.last_seen = Some(t0);
        assert!(p.online(t0 + window, window));
        assert!(!p.online(t0 + window + Duration::from_millis(1), window));
        p.hidden = true;
        assert!(!p.online(t0, window));
    }
}
