//! A user's event log: events numbered by seq (events, not responses),
//! with a bounded window of the most recent ones.

use std::collections::VecDeque;

use crate::event::ChatEvent;

/// What a poll for a seq gets from the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Read {
    /// The events from the seq asked for on, and the seq after them.
    Events {
        /// The seq of the first event.
        from: i64,
        /// The events.
        events: Vec<ChatEvent>,
        /// The seq to poll next.
        next: i64,
    },
    /// Nothing yet at that seq: wait for it.
    Wait,
    /// The seq is not one to read from; poll this one instead. A seq below
    /// the window is sent to the oldest event still kept (what lies between
    /// is lost, and the client can tell how much); `-1` or a seq past the
    /// end to the next one.
    Refresh {
        /// The seq to poll.
        seq: i64,
    },
}

/// The log of one user.
#[derive(Debug, Clone, Default)]
pub struct Log {
    first: i64,
    events: VecDeque<ChatEvent>,
}

impl Log {
    /// The seq the next event will get.
    pub fn next_seq(&self) -> i64 {
        self.first + self.events.len() as i64
    }

    /// The seq of the oldest event kept.
    pub fn first_seq(&self) -> i64 {
        self.first
    }

    /// Appends `event`, forgetting the oldest past `window`.
    pub fn push(&mut self, event: ChatEvent, window: usize) {
        self.events.push_back(event);
        while self.events.len() > window.max(1) {
            self.events.pop_front();
            self.first += 1;
        }
    }

    /// What a poll for `seq` gets.
    pub fn read(&self, seq: i64) -> Read {
        let next = self.next_seq();
        if seq < 0 || seq > next {
            return Read::Refresh { seq: next };
        }
        if seq < self.first {
            return Read::Refresh { seq: self.first };
        }
        if seq == next {
            return Read::Wait;
        }
        let start = (seq - self.first) as usize;
        Read::Events { from: seq, events: self.events.iter().skip(start).cloned().collect(), next }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typing(n: u64) -> ChatEvent {
        ChatEvent::Typing { from: n, to: 0, typing: true }
    }

    #[test]
    fn seqs_count_events_and_the_window_slides() {
        let mut log = Log::default();
        assert_eq!(log.read(-1), Read::Refresh { seq: 0 });
        assert_eq!(log.read(0), Read::Wait);
        for n in 0..5 {
            log.push(typing(n), 3);
        }
        assert_eq!((log.first_seq(), log.next_seq()), (2, 5));
        assert_eq!(log.read(1), Read::Refresh { seq: 2 }, "below the window: the oldest kept");
        assert_eq!(log.read(9), Read::Refresh { seq: 5 }, "past the end: the next");
        assert_eq!(log.read(4), Read::Events { from: 4, events: vec![typing(4)], next: 5 });
        assert_eq!(log.read(5), Read::Wait);
    }
}
