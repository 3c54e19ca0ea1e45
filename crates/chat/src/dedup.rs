//! Dropping a message sent twice: a sender's retry carries the same id.

use std::collections::{HashSet, VecDeque};

/// The message ids one sender used lately, bounded.
#[derive(Debug, Clone, Default)]
pub struct SentIds {
    seen: HashSet<String>,
    order: VecDeque<String>,
}

impl SentIds {
    /// Records `id`; `false` when it was seen already (a resend).
    pub fn insert(&mut self, id: &str, memory: usize) -> bool {
        if self.seen.contains(id) {
            return false;
        }
        self.seen.insert(id.to_owned());
        self.order.push_back(id.to_owned());
        while self.order.len() > memory.max(1) {
            if let Some(old) = self.order.pop_front() {
                self.seen.remove(&old);
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resends_are_caught_within_the_memory() {
        let mut ids = SentIds::default();
        assert!(ids.insert("1", 2));
        assert!(!ids.insert("1", 2));
        assert!(ids.insert("2", 2));
        assert!(ids.insert("3", 2));
        assert!(ids.insert("1", 2), "forgotten past the memory");
    }
}
