//! A Facebook Chat Comet client, as the 2008 clients were, for the servers
//! that speak the protocol today (fbcomet's own, or any compatible one).
//!
//! [`Client`] ties together the login and the posts
//! ([`fbcomet_sender`]), the long-poll receiver ([`fbcomet_receiver`]) and
//! the wire format ([`fbcomet_codec`]): log in (or restore a saved
//! session), [`send`](Client::send), [`buddy_list`](Client::buddy_list),
//! [`typing`](Client::typing), [`history`](Client::history), and
//! [`events`](Client::events), a stream of messages, typing notifications
//! and presence changes in which every message arrives exactly once. The
//! stream renews the session by itself when the server asks (a bare
//! `refresh`: reconnect.php, then history.php to recover what was dropped),
//! and a call that finds the session expired logs in again when it can.
//!
//! ```no_run
//! use fbcomet::{Client, ClientConfig, ClientEvent};
//!
//! # async fn run() -> Result<(), fbcomet::Error> {
//! let server = "http://127.0.0.1:8008".parse().expect("a URL");
//! let client = Client::login(ClientConfig::new(server), "alice@example.com", "alice").await?;
//! client.send(1002, "hi Bob & all \u{1F600}").await?;
//! let mut events = client.events()?;
//! while let Some(event) = events.next().await {
//!     if let ClientEvent::Message { message, own_echo: false } = event {
//!         println!("{}: {}", message.from_name.as_deref().unwrap_or("?"), message.text);
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! `examples/echo_bot.rs` and `examples/buddy_watch.rs` are complete
//! programs.

#![warn(missing_docs)]

mod client;
mod events;

pub use client::{Client, ClientConfig, Error};
pub use events::{ClientEvent, Events, Person};

pub use fbcomet_codec::{BuddyList, Message, Presence};
pub use fbcomet_sender::{Dialect, SavedSession, Sent, Session};
