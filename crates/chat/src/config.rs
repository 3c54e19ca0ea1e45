//! How the emulated service behaves: every duration and bound in one place.

use std::time::Duration;

/// How the service behaves. Every rule that depends on time or size reads
/// its number here, so that tests run a 55-second hold in milliseconds.
#[derive(Debug, Clone)]
pub struct ChatConfig {
    /// How long a poll with nothing to deliver is held before the door
    /// answers `continue` (55 s in 2008 captures).
    pub hold: Duration,
    /// How long a `/pull` with nothing to deliver is held before it is
    /// answered with a heartbeat: shorter than the 2008 hold, since the
    /// clients of the era gave up on a read after 30 s (fbchat).
    pub pull_hold: Duration,
    /// How many events each user's log keeps. A poll for a seq below them
    /// is sent to the oldest one kept (refresh), so only what is really
    /// gone is lost. 10,000 events of chat are a few MiB.
    pub window: usize,
    /// How many messages history.php keeps per pair of users.
    pub conversation_history: usize,
    /// How long after their last poll or request a user still counts as
    /// online.
    pub online_window: Duration,
    /// How long without sending or typing before a user is shown idle.
    pub idle_after: Duration,
    /// The longest message a user may send, in characters (999 in 2008).
    pub max_message_chars: usize,
    /// The longest message a page may send, in characters: the Send API of
    /// the Messenger Platform took 2,000.
    pub max_page_message_chars: usize,
    /// The longest message id a sender may choose, in bytes: ids are kept
    /// (to drop resends) and go back out in every answer.
    pub max_msg_id_bytes: usize,
    /// The most events one answer to a poll carries; a client behind by
    /// more polls again from where the answer ended.
    pub poll_batch: usize,
    /// The most messages one answer of history carries (the newest).
    pub history_batch: usize,
    /// How many polls one login may have held at once; a newer one ends
    /// the oldest ([`End::Replaced`](crate::End::Replaced)).
    pub holds_per_login: usize,
    /// How many message ids per sender are remembered to drop a resent
    /// message.
    pub dedup_memory: usize,
    /// A login session unused this long ends.
    pub login_idle: Duration,
    /// How many login sessions one user may have; a new login ends the
    /// least recently used one past this.
    pub logins_per_user: usize,
    /// The seed of tokens and sticky values; from the operating system when
    /// `None` (tokens come from a cryptographic generator either way).
    pub seed: Option<u64>,
}

impl Default for ChatConfig {
    fn default() -> Self {
        Self {
            hold: Duration::from_secs(55),
            pull_hold: Duration::from_secs(25),
            window: 10_000,
            conversation_history: 10_000,
            online_window: Duration::from_secs(120),
            idle_after: Duration::from_secs(600),
            max_message_chars: 999,
            max_page_message_chars: 2_000,
            max_msg_id_bytes: 256,
            poll_batch: 1_000,
            history_batch: 1_000,
            holds_per_login: 4,
            dedup_memory: 10_000,
            login_idle: Duration::from_secs(24 * 3600),
            logins_per_user: 64,
            seed: None,
        }
    }
}
