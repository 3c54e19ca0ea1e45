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
//! a failure. The counts live in the [`Store`], which bounds how many keys
//! it tracks.

use std::net::IpAddr;
use std::time::Duration;

use crate::store::Store;

/// Failures an address may make before it is slowed down.
pub const FREE_PER_ADDRESS: u32 = 5;
/// Failures an account may take, from all addresses, before it is.
pub const FREE_PER_ACCOUNT: u32 = 20;
/// The longest wait.
pub const MAX_WAIT: Duration = Duration::from_secs(60);
/// Counts without a failure for this long are forgotten.
pub const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);

fn address_key(address: IpAddr) -> String {
    format!("address:{address}")
}

fn account_key(account: &str) -> String {
    format!("account:{account}")
}

/// How long a key with `free` free failures must still wait at `now_ms`.
fn wait_of(store: &impl Store, key: &str, free: u32, now_ms: i64) -> Option<Duration> {
    let f = store.failures(key)?;
    if f.count < free || now_ms - f.last_ms > FORGET_AFTER.as_millis() as i64 {
        return None;
    }
    let doublings = (f.count - free).min(16);
    let wait = Duration::from_secs(1 << doublings).min(MAX_WAIT);
    let left = f.last_ms + wait.as_millis() as i64 - now_ms;
    (left > 0).then(|| Duration::from_millis(left as u64))
}

/// How long an attempt on `account` from `address` must still wait, if at
/// all.
pub fn wait(store: &impl Store, address: Option<IpAddr>, account: &str, now_ms: i64) -> Option<Duration> {
    let by_address = address.and_then(|a| wait_of(store, &address_key(a), FREE_PER_ADDRESS, now_ms));
    let by_account = wait_of(store, &account_key(account), FREE_PER_ACCOUNT, now_ms);
    by_address.max(by_account)
}

/// A wrong password.
pub fn fail(store: &mut impl Store, address: Option<IpAddr>, account: &str, now_ms: i64) {
    let forget = FORGET_AFTER.as_millis() as i64;
    if let Some(address) = address {
        store.record_failure(&address_key(address), now_ms, forget);
    }
    store.record_failure(&account_key(account), now_ms, forget);
}

/// A right one: the address starts over.
pub fn succeed(store: &mut impl Store, address: Option<IpAddr>) {
    if let Some(address) = address {
        store.clear_failures(&address_key(address));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    #[test]
    fn waits_double_after_the_free_failures_and_are_capped() {
        let mut store = MemoryStore::default();
        let a = Some(IpAddr::from([10, 0, 0, 1]));
        let s = |secs: u64| secs as i64 * 1000;
        for _ in 0..FREE_PER_ADDRESS {
            assert_eq!(wait(&store, a, "x", 0), None);
            fail(&mut store, a, "x", 0);
        }
        assert_eq!(wait(&store, a, "x", 0), Some(Duration::from_secs(1)));
        fail(&mut store, a, "x", s(1));
        assert_eq!(wait(&store, a, "x", s(1)), Some(Duration::from_secs(2)));
        for n in 0..20 {
            fail(&mut store, a, "x", s(2 + n));
        }
        assert_eq!(wait(&store, a, "x", s(21)), Some(MAX_WAIT));
        let later = s(21) + FORGET_AFTER.as_millis() as i64 + 1000;
        assert_eq!(wait(&store, a, "x", later), None);
    }
}
