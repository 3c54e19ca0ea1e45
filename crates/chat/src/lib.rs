//! The emulated Facebook chat service, as a core without IO.
//!
//! [`ChatService`] holds every rule of the service: users and friendships
//! (a [`World`]), logins and their tokens ([`login`]), each user's event log
//! numbered by seq with its bounded window, holds and subscriptions that
//! wait on a log ([`poll`]), conversations and their history ([`threads`]),
//! messages, typing and marks ([`send`]), presence and idleness
//! ([`presence`]), and the sticky token of `/pull`. It does no IO, starts
//! no task and reads no clock: each request is a method call with the
//! `now` of the caller's choosing, and each answer is typed. The front
//! doors of `fbcomet-emulator` turn requests of each dialect into these
//! calls and the answers into that dialect's bodies, so that clients of
//! every era meet in one service.
//!
//! Its records sit behind [`Store`], a boundary of owned, atomic operations
//! with times in Unix milliseconds; [`MemoryStore`] keeps them in memory.
//!
//! # The run loop
//!
//! 1. Feed requests in: [`login`](ChatService::login),
//!    [`authorize_post`](ChatService::authorize_post) then
//!    [`send`](ChatService::send), [`poll`](ChatService::poll),
//!    [`subscribe`](ChatService::subscribe) and so on.
//! 2. Drain [`poll_output`](ChatService::poll_output) after every call: the
//!    answers of held polls and subscriptions, each named by its
//!    [`HoldId`].
//! 3. Call [`handle_timeout`](ChatService::handle_timeout) when
//!    [`poll_timeout`](ChatService::poll_timeout) comes: holds meet their
//!    deadline, stale logins end, leases are renewed.
//! 4. A connection that goes away [`cancel`](ChatService::cancel)s its
//!    hold; [`shutdown`](ChatService::shutdown) ends them all.
//!
//! # Example
//!
//! ```
//! use std::time::{Duration, Instant};
//! use fbcomet_chat::{Answer, ChatConfig, ChatEvent, ChatService, End, Outgoing, Output, Poll, Read, World};
//!
//! let t0 = Instant::now();
//! let mut chat = ChatService::new(&World::default(), ChatConfig::default(), t0, 1_210_000_000_000);
//! let alice = chat.login("alice@example.com", "alice", None, t0).unwrap();
//! let bob = chat.login("bob@example.com", "bob", None, t0).unwrap();
//!
//! // Bob's first poll asks for seq -1 and is told where to start.
//! assert_eq!(chat.poll(&bob.token, 1002, -1, t0), Ok(Poll::Read(Read::Refresh { seq: 0 })));
//! // Seq 0 has nothing yet: the poll is held (and Bob is online).
//! let Ok(Poll::Held(hold)) = chat.poll(&bob.token, 1002, 0, t0) else { panic!() };
//!
//! let t1 = t0 + Duration::from_millis(10);
//! let from = chat.authorize_post(&alice.token, Some(&alice.post_form_id), t1).unwrap();
//! chat.send(from, Outgoing::new(1002, "hi Bob"), t1).unwrap();
//!
//! // The held poll is answered with the message.
//! let Some(Output::Answer { hold: answered, answer: Answer::Read(Read::Events { events, next, .. }), done: true }) =
//!     chat.poll_output()
//! else {
//!     panic!()
//! };
//! assert_eq!(answered, hold);
//! assert!(matches!(&events[0], ChatEvent::Message(m) if m.text == "hi Bob"));
//!
//! // The next poll waits; when its deadline comes, it ends with nothing.
//! let Ok(Poll::Held(hold)) = chat.poll(&bob.token, 1002, next, t1) else { panic!() };
//! let deadline = chat.poll_timeout();
//! assert_eq!(deadline, t1 + chat.config().hold);
//! chat.handle_timeout(deadline);
//! assert_eq!(chat.poll_output(), Some(Output::Answer { hold, answer: Answer::Ended(End::Deadline), done: true }));
//! ```

#![warn(missing_docs)]

mod config;
mod error;
mod event;
mod hold;
pub mod login;
pub mod poll;
pub mod presence;
pub mod send;
mod service;
mod store;
pub mod threads;
pub mod throttle;
mod world;

pub use config::ChatConfig;
pub use error::{ChatError, LoginError};
pub use event::{ChatEvent, ChatMessage};
pub use hold::{Answer, End, HoldId, Output, Read};
pub use login::Grant;
pub use poll::{PULL_POOL, Poll, Pull};
pub use presence::{Buddy, BuddyList, Change};
pub use send::{Outgoing, Sent};
pub use service::{ChatService, ChatStats};
pub use store::{
    Counter, Failures, LogRead, Login, MAX_THROTTLE_KEYS, MemoryStore, Presence, Seen, Store, ThreadSummary,
};
pub use threads::{Reconnect, Thread};
pub use world::{App, Page, User, World, WorldError};
