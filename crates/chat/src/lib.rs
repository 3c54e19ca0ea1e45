//! The emulated Facebook chat service, as a core without IO.
//!
//! [`ChatService`] holds every rule of the service: users and friendships
//! (a [`World`]), logins and their tokens ([`auth`]), each user's event log
//! numbered by seq with its bounded window ([`log`]), conversations and
//! their history, presence and idleness ([`presence`]), typing, dropping a
//! resent message ([`dedup`]), and the sticky token and partition of
//! `/pull`. It does no IO, starts no task and reads no clock: each request
//! is a method call with the `now` of the caller's choosing, and each answer
//! is typed. The front doors of `fbcomet-mock` turn HTTP requests of each
//! dialect into these calls and the answers into that dialect's bodies, so
//! that clients of every era meet in one service.
//!
//! Its records sit behind [`Store`]; [`MemoryStore`] keeps them in memory.
//!
//! # The run loop
//!
//! 1. Call [`handle_timeout`](ChatService::handle_timeout) when
//!    [`poll_timeout`](ChatService::poll_timeout) has passed (stale logins
//!    end).
//! 2. Feed requests in: [`login`](ChatService::login),
//!    [`authorize_post`](ChatService::authorize_post) then
//!    [`send`](ChatService::send), [`poll`](ChatService::poll) and so on.
//! 3. A poll answered [`Poll::Hold`] waits: call
//!    [`begin_hold`](ChatService::begin_hold), and ask again with
//!    [`read`](ChatService::read) after each [`Output::Wake`] for its user,
//!    until it gets events or its deadline passes; then
//!    [`end_hold`](ChatService::end_hold).
//! 4. Drain [`poll_output`](ChatService::poll_output) after every call.
//!
//! # Example
//!
//! ```
//! use std::time::{Duration, Instant};
//! use fbcomet_chat::{ChatConfig, ChatEvent, ChatService, Outgoing, Output, Poll, PollKind, World};
//!
//! let t0 = Instant::now();
//! let mut chat = ChatService::new(&World::default(), ChatConfig::default(), t0, 1_210_000_000_000);
//! let alice = chat.login("alice@example.com", "alice", None, t0).unwrap();
//! let bob = chat.login("bob@example.com", "bob", None, t0).unwrap();
//!
//! // Bob's first poll asks for seq -1 and is told where to start.
//! assert_eq!(chat.poll(&bob.token, 1002, -1, PollKind::Channel, t0), Ok(Poll::Refresh { seq: 0 }));
//! // Seq 0 has nothing yet: the poll is held (and Bob is online).
//! assert!(matches!(chat.poll(&bob.token, 1002, 0, PollKind::Channel, t0), Ok(Poll::Hold { .. })));
//! chat.begin_hold(1002, t0);
//!
//! let t1 = t0 + Duration::from_millis(10);
//! let from = chat.authorize_post(&alice.token, Some(&alice.post_form_id), t1).unwrap();
//! let outgoing = Outgoing { msg_id: Some("1".into()), ..Outgoing::new(1002, "hi Bob") };
//! chat.send(from, outgoing, t1).unwrap();
//! assert_eq!(chat.poll_output(), Some(Output::Wake { uid: 1002 }));
//!
//! // Woken, the held poll asks again and gets the message.
//! let Poll::Events { events, next, .. } = chat.read(1002, 0, t1) else { panic!() };
//! assert!(matches!(&events[0], ChatEvent::Message(m) if m.text == "hi Bob"));
//! assert_eq!(next, 1);
//! chat.end_hold(1002, t1);
//! ```

#![warn(missing_docs)]

pub mod auth;
mod config;
pub mod dedup;
mod error;
mod event;
pub mod log;
pub mod presence;
mod service;
mod store;
pub mod throttle;
mod world;

pub use auth::{Grant, Login};
pub use config::ChatConfig;
pub use error::{ChatError, LoginError};
pub use event::{ChatEvent, ChatMessage};
pub use service::{
    Buddy, BuddyList, ChatService, ChatStats, Outgoing, Output, PULL_POOL, Poll, PollKind, Reconnect, Sent, Thread,
};
pub use store::{Conversation, MemoryStore, Store, UserState};
pub use world::{App, Page, User, World, WorldError};
