//! What a server lets one client, and all of them, hold: connections in
//! all and per address, shedding the oldest idle ones first.
//!
//! A connection is idle when no request of it is being answered: it is
//! reading headers or a body, or waiting for the next request. Held polls
//! and answers under way are busy, and never shed. When a new connection
//! would pass a cap, the oldest idle connection (of its address, for the
//! per-address cap) is closed to make room; when none is idle, the new one
//! is refused. So good clients keep working while bad ones hold sockets.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use tokio::sync::Notify;

/// The caps.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Caps {
    pub(crate) total: usize,
    pub(crate) per_address: usize,
}

/// One connection, as the registry sees it.
#[derive(Debug)]
pub(crate) struct Conn {
    addr: IpAddr,
    /// Requests being answered right now.
    busy: AtomicUsize,
    /// Told when the connection must close.
    pub(crate) shed: Notify,
}

impl Conn {
    /// A request of this connection is being answered while the guard
    /// lives.
    pub(crate) fn busy(self: &Arc<Self>) -> BusyGuard {
        self.busy.fetch_add(1, Ordering::SeqCst);
        BusyGuard(self.clone())
    }
}

/// Marks a connection busy while it lives.
pub(crate) struct BusyGuard(Arc<Conn>);

impl Drop for BusyGuard {
    fn drop(&mut self) {
        self.0.busy.fetch_sub(1, Ordering::SeqCst);
    }
}

#[derive(Debug)]
struct Entry {
    addr: IpAddr,
    /// When it opened (the oldest idle goes first).
    opened: Instant,
    conn: std::sync::Weak<Conn>,
}

/// Every open connection.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    entries: Mutex<BTreeMap<u64, Entry>>,
    next: std::sync::atomic::AtomicU64,
    shed: AtomicUsize,
    refused: AtomicUsize,
}

/// What became of a new connection.
pub(crate) enum Admission {
    Admitted(Arc<Conn>),
    Refused,
}

impl Registry {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Entry>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Admits a connection from `addr`, shedding idle ones past the caps.
    pub(crate) fn admit(&self, addr: IpAddr, caps: Caps) -> Admission {
        let mut entries = self.lock();
        // Connections that ended leave their entry behind; drop those.
        entries.retain(|_, e| e.conn.strong_count() > 0);
        let from_addr = entries.values().filter(|e| e.addr == addr).count();
        if from_addr >= caps.per_address.max(1) && !self.shed_oldest_idle(&mut entries, Some(addr)) {
            self.refused.fetch_add(1, Ordering::Relaxed);
            return Admission::Refused;
        }
        if entries.len() >= caps.total.max(1) && !self.shed_oldest_idle(&mut entries, None) {
            self.refused.fetch_add(1, Ordering::Relaxed);
            return Admission::Refused;
        }
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(Conn { addr, busy: AtomicUsize::new(0), shed: Notify::new() });
        entries.insert(id, Entry { addr, opened: Instant::now(), conn: Arc::downgrade(&conn) });
        Admission::Admitted(conn)
    }

    /// Closes the oldest idle connection (of `addr`, if given); whether
    /// there was one.
    fn shed_oldest_idle(&self, entries: &mut BTreeMap<u64, Entry>, addr: Option<IpAddr>) -> bool {
        let oldest = entries
            .iter()
            .filter(|(_, e)| addr.is_none_or(|a| e.addr == a))
            .filter_map(|(id, e)| Some((*id, e.opened, e.conn.upgrade()?)))
            .filter(|(_, _, conn)| conn.busy.load(Ordering::SeqCst) == 0)
            .min_by_key(|(_, opened, _)| *opened);
        let Some((id, _, conn)) = oldest else { return false };
        entries.remove(&id);
        conn.shed.notify_one();
        self.shed.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(addr = %conn.addr, "shed an idle connection to make room");
        true
    }

    /// Connections open now.
    pub(crate) fn open(&self) -> usize {
        self.lock().values().filter(|e| e.conn.strong_count() > 0).count()
    }

    /// Connections shed so far.
    pub(crate) fn shed(&self) -> usize {
        self.shed.load(Ordering::Relaxed)
    }

    /// Connections refused so far.
    pub(crate) fn refused(&self) -> usize {
        self.refused.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_idle_goes_first_and_busy_ones_stay() {
        let registry = Arc::new(Registry::default());
        let caps = Caps { total: 3, per_address: 2 };
        let a: IpAddr = [127, 0, 0, 2].into();
        let b: IpAddr = [127, 0, 0, 3].into();
        let Admission::Admitted(a1) = registry.admit(a, caps) else { panic!() };
        let _a1_busy = a1.busy();
        let Admission::Admitted(_a2) = registry.admit(a, caps) else { panic!() };
        // A third from `a`: its idle one goes, the busy one stays.
        let Admission::Admitted(_a3) = registry.admit(a, caps) else { panic!() };
        assert_eq!((registry.open(), registry.shed()), (2, 1));
        let Admission::Admitted(_b1) = registry.admit(b, caps) else { panic!() };
        // Full: the oldest idle of all goes (a3), not the busy a1.
        let Admission::Admitted(_b2) = registry.admit(b, caps) else { panic!() };
        assert_eq!(registry.shed(), 2);
        // b is at its cap, and both of b's are... idle: b1 goes.
        let Admission::Admitted(_b3) = registry.admit(b, caps) else { panic!() };
        assert_eq!(registry.shed(), 3);
        drop(_a1_busy);
        assert_eq!(registry.open(), 3);
    }

    #[test]
    fn with_everyone_busy_a_newcomer_is_refused() {
        let registry = Arc::new(Registry::default());
        let caps = Caps { total: 1, per_address: 1 };
        let a: IpAddr = [127, 0, 0, 2].into();
        let Admission::Admitted(a1) = registry.admit(a, caps) else { panic!() };
        let _busy = a1.busy();
        assert!(matches!(registry.admit(a, caps), Admission::Refused));
        assert_eq!(registry.refused(), 1);
    }
}
