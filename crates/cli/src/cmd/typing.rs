//! When `fbcomet chat` tells a friend that the user is typing: as the line
//! being written names a friend and has text for them, until it is sent,
//! erased, or left alone for a while. No IO: the chat loop feeds it what
//! the line reads and sends what it says.

use std::time::{Duration, Instant};

/// How long a line left alone still counts as being typed.
pub(crate) const IDLE: Duration = Duration::from_secs(5);

/// A typing notice to send: to whom, typing or stopped.
pub(crate) type Notice = (u64, bool);

/// Whom the user is typing to, and since when.
#[derive(Debug, Default)]
pub(crate) struct Typing {
    to: Option<u64>,
    last_edit: Option<Instant>,
}

impl Typing {
    /// The line now reads `line` (`NAME message` or `UID message`).
    pub(crate) fn edited(&mut self, line: &str, now: Instant, resolve: impl Fn(&str) -> Option<u64>) -> Vec<Notice> {
        let recipient = line
            .trim_start()
            .split_once(char::is_whitespace)
            .filter(|(_, text)| !text.trim().is_empty())
            .and_then(|(who, _)| resolve(who));
        self.last_edit = Some(now);
        match (self.to, recipient) {
            (Some(old), Some(new)) if old == new => Vec::new(),
            (Some(old), Some(new)) => {
                self.to = Some(new);
                vec![(old, false), (new, true)]
            }
            (None, Some(new)) => {
                self.to = Some(new);
                vec![(new, true)]
            }
            (Some(old), None) => {
                self.to = None;
                vec![(old, false)]
            }
            (None, None) => Vec::new(),
        }
    }

    /// The line was sent (or dropped): typing stops.
    pub(crate) fn done(&mut self) -> Vec<Notice> {
        self.last_edit = None;
        self.to.take().map(|to| vec![(to, false)]).unwrap_or_default()
    }

    /// Time passed: a line left alone for [`IDLE`] stops counting.
    pub(crate) fn tick(&mut self, now: Instant) -> Vec<Notice> {
        match self.last_edit {
            Some(at) if self.to.is_some() && now.saturating_duration_since(at) >= IDLE => self.done(),
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(who: &str) -> Option<u64> {
        match who {
            "bob" | "1002" => Some(1002),
            "carol" => Some(1003),
            _ => None,
        }
    }

    #[test]
    fn typing_follows_the_line() {
        let t0 = Instant::now();
        let mut typing = Typing::default();
        assert!(typing.edited("bo", t0, resolve).is_empty(), "no recipient yet");
        assert!(typing.edited("bob ", t0, resolve).is_empty(), "a recipient, no text yet");
        assert_eq!(typing.edited("bob h", t0, resolve), [(1002, true)]);
        assert!(typing.edited("bob hi", t0, resolve).is_empty(), "once");
        assert_eq!(typing.edited("carol hi", t0, resolve), [(1002, false), (1003, true)], "changed their mind");
        assert_eq!(typing.edited("carol ", t0, resolve), [(1003, false)], "erased the text");
        assert_eq!(typing.edited("1002 x", t0, resolve), [(1002, true)]);
        assert_eq!(typing.done(), [(1002, false)], "sent");
        assert!(typing.done().is_empty());
    }

    #[test]
    fn a_line_left_alone_stops_counting() {
        let t0 = Instant::now();
        let mut typing = Typing::default();
        assert_eq!(typing.edited("bob hi", t0, resolve), [(1002, true)]);
        assert!(typing.tick(t0 + IDLE - Duration::from_millis(1)).is_empty());
        assert_eq!(typing.tick(t0 + IDLE), [(1002, false)]);
        assert_eq!(typing.edited("bob hi!", t0 + IDLE * 2, resolve), [(1002, true)], "typing again");
    }
}
