//! A bounded memory of delivered messages, by what identifies one: its
//! sender and the id the sender gave it.

use std::collections::{HashSet, VecDeque};

use fbcomet_codec::Message;

/// What identifies a message: `SENDER:MSGID`. Ids are the sender's choice,
/// so two senders can use the same one; `None` for a message without an id.
pub fn message_key(message: &Message<'_>) -> Option<String> {
    message.msg_id.as_deref().map(|id| format!("{}:{id}", message.from))
}

/// A bounded memory of message ids: remembers the last `capacity`,
/// forgetting the oldest first. The receiver drops duplicates with it; an
/// application can use one to merge history with what the channel
/// delivered.
#[derive(Debug)]
pub struct Dedup {
    order: VecDeque<String>,
    seen: HashSet<String>,
    capacity: usize,
}

impl Dedup {
    /// A memory of `capacity` ids (at least one).
    pub fn new(capacity: usize) -> Self {
        Self { order: VecDeque::new(), seen: HashSet::new(), capacity: capacity.max(1) }
    }

    /// Whether `id` is remembered.
    pub fn contains(&self, id: &str) -> bool {
        self.seen.contains(id)
    }

    /// Records `id`; `false` when it was seen already.
    pub fn insert(&mut self, id: &str) -> bool {
        if self.seen.contains(id) {
            return false;
        }
        if self.order.len() == self.capacity
            && let Some(old) = self.order.pop_front()
        {
            self.seen.remove(&old);
        }
        self.order.push_back(id.to_owned());
        self.seen.insert(id.to_owned());
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_a_bounded_window() {
        let mut d = Dedup::new(2);
        assert!(d.insert("a"));
        assert!(!d.insert("a"));
        assert!(d.insert("b"));
        assert!(d.insert("c")); // forgets a
        assert!(d.insert("a"));
        assert!(!d.insert("c"));
    }
}
