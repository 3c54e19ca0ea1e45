//! What the service stores and reads, behind one boundary.
//!
//! [`ChatService`](crate::ChatService) keeps nothing of its own but its
//! configuration, its random generator and its counters: users' logs,
//! presence, logins and conversations live in a [`Store`]. [`MemoryStore`]
//! keeps them in this process. A store shared by several emulator processes
//! (behind one load balancer) implements the same trait; the service calls
//! it under its own lock, one request at a time, so such a store loads the
//! records a request touches and writes them back when it returns.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use crate::auth::Login;
use crate::dedup::SentIds;
use crate::event::ChatMessage;
use crate::log::Log;
use crate::presence::Presence;

/// What the service keeps per user.
#[derive(Debug, Clone, Default)]
pub struct UserState {
    /// The event log.
    pub log: Log,
    /// Presence.
    pub presence: Presence,
    /// The ids of the messages this user sent lately.
    pub sent: SentIds,
    /// The `/pull` sticky token handed to this user's client, if any.
    pub sticky: Option<String>,
    /// Where the log stood at the handshake, until a pull comes with that
    /// sticky token: a first pull at seq 0 is a client starting out, and
    /// starts from there.
    pub sticky_start: Option<i64>,
    /// Per partner, the time (ms) up to which this user read the
    /// conversation.
    pub read_up_to: HashMap<u64, i64>,
}

/// The messages between two users, oldest first, bounded.
pub type Conversation = VecDeque<Arc<ChatMessage>>;

/// The records of the service.
pub trait Store: Send + 'static {
    /// The state of `uid`, if anything was recorded for them.
    fn user(&self, uid: u64) -> Option<&UserState>;
    /// The state of `uid`, created empty on first use.
    fn user_mut(&mut self, uid: u64) -> &mut UserState;
    /// The login with session token `token`.
    fn login(&self, token: &str) -> Option<&Login>;
    /// The same, to update.
    fn login_mut(&mut self, token: &str) -> Option<&mut Login>;
    /// Records a login.
    fn insert_login(&mut self, token: String, login: Login);
    /// Ends a login.
    fn remove_login(&mut self, token: &str) -> Option<Login>;
    /// The tokens of every login of `uid`.
    fn logins_of(&self, uid: u64) -> Vec<String>;
    /// Every login's token, with its user and last use (for expiry).
    fn all_logins(&self) -> Vec<(String, Login)>;
    /// The conversation of the pair `(low uid, high uid)`.
    fn conversation(&self, pair: (u64, u64)) -> Option<&Conversation>;
    /// The same, created empty on first use.
    fn conversation_mut(&mut self, pair: (u64, u64)) -> &mut Conversation;
}

/// A [`Store`] in this process's memory.
#[derive(Debug, Default)]
pub struct MemoryStore {
    users: HashMap<u64, UserState>,
    logins: HashMap<String, Login>,
    by_user: HashMap<u64, Vec<String>>,
    conversations: HashMap<(u64, u64), Conversation>,
}

impl Store for MemoryStore {
    fn user(&self, uid: u64) -> Option<&UserState> {
        self.users.get(&uid)
    }

    fn user_mut(&mut self, uid: u64) -> &mut UserState {
        self.users.entry(uid).or_default()
    }

    fn login(&self, token: &str) -> Option<&Login> {
        self.logins.get(token)
    }

    fn login_mut(&mut self, token: &str) -> Option<&mut Login> {
        self.logins.get_mut(token)
    }

    fn insert_login(&mut self, token: String, login: Login) {
        self.by_user.entry(login.uid).or_default().push(token.clone());
        self.logins.insert(token, login);
    }

    fn remove_login(&mut self, token: &str) -> Option<Login> {
        let login = self.logins.remove(token)?;
        if let Some(tokens) = self.by_user.get_mut(&login.uid) {
            tokens.retain(|t| t != token);
        }
        Some(login)
    }

    fn logins_of(&self, uid: u64) -> Vec<String> {
        self.by_user.get(&uid).cloned().unwrap_or_default()
    }

    fn all_logins(&self) -> Vec<(String, Login)> {
        self.logins.iter().map(|(t, l)| (t.clone(), l.clone())).collect()
    }

    fn conversation(&self, pair: (u64, u64)) -> Option<&Conversation> {
        self.conversations.get(&pair)
    }

    fn conversation_mut(&mut self, pair: (u64, u64)) -> &mut Conversation {
        self.conversations.entry(pair).or_default()
    }
}
