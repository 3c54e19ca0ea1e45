//! Login throttling: wrong passwords slow down whoever sends them, without
//! locking out the real user.
//!
//! Failures are counted per address and per account. An address may fail
//! [`FREE_PER_ADDRESS`] times; after that each attempt from it must wait
//! twice as long as the one before (1 s, 2 s, 4 s ... up to
//! [`MAX_WAIT`]) since its last failure, and an attempt too early is
//! refused without looking at the password, so guessing gains nothing by
//! speed. An account gets [`FREE_PER_ACCOUNT`] failures from all addresses
//! together before the same applies to it (a spread-out attack); the real
//! user then waits at most [`MAX_WAIT`] and is never locked out. A success
//! clears its address; counts are forgotten after [`FORGET_AFTER`] without
//! failures; at most [`MAX_TRACKED`] addresses and accounts are tracked
//! (the stalest go first), so the memory is bounded.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Failures an address may make before it is slowed down.
pub const FREE_PER_ADDRESS: u32 = 5;
/// Failures an account may take, from everywhere, before it is.
pub const FREE_PER_ACCOUNT: u32 = 20;
/// The longest wait asked for.
pub const MAX_WAIT: Duration = Duration::from_secs(60);
/// How long without failures before a count is forgotten.
pub const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);
/// How many addresses (and accounts) are tracked at most.
pub const MAX_TRACKED: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

/// Counts of failures by some key, bounded.
#[derive(Debug)]
struct Counts<K> {
    free: u32,
    map: HashMap<K, Failures>,
}

impl<K: Hash + Eq + Clone> Counts<K> {
    fn new(free: u32) -> Self {
        Self { free, map: HashMap::new() }
    }

    /// How long `key` must still wait before its next attempt, if at all.
    fn wait(&self, key: &K, now: Instant) -> Option<Duration> {
        let f = self.map.get(key)?;
        if f.count < self.free || now.saturating_duration_since(f.last) > FORGET_AFTER {
            return None;
        }
        let doublings = (f.count - self.free).min(16);
        let wait = Duration::from_secs(1 << doublings).min(MAX_WAIT);
        (f.last + wait).checked_duration_since(now).filter(|d| !d.is_zero())
    }

    fn fail(&mut self, key: K, now: Instant) {
        if self.map.len() >= MAX_TRACKED && !self.map.contains_key(&key) {
            self.map.retain(|_, f| now.saturating_duration_since(f.last) <= FORGET_AFTER);
            if self.map.len() >= MAX_TRACKED
                && let Some(stalest) = self.map.iter().min_by_key(|(_, f)| f.last).map(|(k, _)| k.clone())
            {
                self.map.remove(&stalest);
            }
        }
        let f = self.map.entry(key).or_insert(Failures { count: 0, last: now });
        if now.saturating_duration_since(f.last) > FORGET_AFTER {
            f.count = 0;
        }
        f.count = f.count.saturating_add(1);
        f.last = now;
    }

    fn clear(&mut self, key: &K) {
        self.map.remove(key);
    }

    fn len(&self) -> usize {
        self.map.len()
    }
}

/// The login throttle of the service.
#[derive(Debug)]
pub struct Throttle {
    by_address: Counts<IpAddr>,
    by_account: Counts<String>,
}

impl Default for Throttle {
    fn default() -> Self {
        Self { by_address: Counts::new(FREE_PER_ADDRESS), by_account: Counts::new(FREE_PER_ACCOUNT) }
    }
}

impl Throttle {
    /// How long an attempt on `account` from `address` must still wait,
    /// if at all.
    pub fn wait(&self, address: Option<IpAddr>, account: &str, now: Instant) -> Option<Duration> {
        let by_address = address.and_then(|a| self.by_address.wait(&a, now));
        let by_account = self.by_account.wait(&account.to_owned(), now);
        by_address.max(by_account)
    }

    /// A wrong password.
    pub fn fail(&mut self, address: Option<IpAddr>, account: &str, now: Instant) {
        if let Some(address) = address {
            self.by_address.fail(address, now);
        }
        self.by_account.fail(account.to_owned(), now);
    }

    /// A right one: the address starts over.
    pub fn succeed(&mut self, address: Option<IpAddr>) {
        if let Some(address) = address {
            self.by_address.clear(&address);
        }
    }

    /// Addresses and accounts tracked (for tests of the bound).
    pub fn tracked(&self) -> usize {
        self.by_address.len() + self.by_account.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_after_the_free_failures_and_are_capped() {
        let mut t = Throttle::default();
        let t0 = Instant::now();
        let a = Some(IpAddr::from([10, 0, 0, 1]));
        for _ in 0..FREE_PER_ADDRESS {
            assert_eq!(t.wait(a, "x", t0), None);
            t.fail(a, "x", t0);
        }
        assert_eq!(t.wait(a, "x", t0), Some(Duration::from_secs(1)));
        t.fail(a, "x", t0 + Duration::from_secs(1));
        assert_eq!(t.wait(a, "x", t0 + Duration::from_secs(1)), Some(Duration::from_secs(2)));
        for n in 0..20 {
            t.fail(a, "x", t0 + Duration::from_secs(2 + n));
        }
        assert_eq!(t.wait(a, "x", t0 + Duration::from_secs(21)), Some(MAX_WAIT));
        assert_eq!(t.wait(a, "x", t0 + Duration::from_secs(21) + FORGET_AFTER + Duration::from_secs(1)), None);
    }

    #[test]
    fn the_tracked_set_is_bounded() {
        let mut t = Throttle::default();
        let t0 = Instant::now();
        for n in 0..(MAX_TRACKED as u32 + 500) {
            t.fail(Some(IpAddr::from(n.to_be_bytes())), "victim", t0 + Duration::from_millis(u64::from(n)));
        }
        assert!(t.tracked() <= MAX_TRACKED + 1, "{}", t.tracked());
    }
}
