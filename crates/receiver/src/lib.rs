//! The client side of the Facebook Chat Comet long poll: every event exactly
//! once, in order, whatever the network does.
//!
//! Two layers, as quinn-proto and str0m do it:
//!
//! - [`Receiver`], a state machine with no IO and no clock. It says which
//!   poll to send ([`Receiver::poll_transmit`]), takes what happened to it
//!   at a `now` of the caller's choosing, and yields events, the next
//!   wake-up and counters. Every hard case (a reset in the middle of a
//!   multi-event frame, a repeated answer, refresh mid-session, a poll that
//!   hangs, six failures in a row) is a deterministic test on simulated
//!   time. Built with `default-features = false`, this crate has no tokio,
//!   hyper or HTTP client among its dependencies, so the compiler keeps the
//!   state machine free of IO.
//! - `Listener` (feature `listener`, on by default), the async driver over
//!   `fbcomet_http::HttpClient`: `next().await` until the session ends.
//!
//! # The run loop
//!
//! Any HTTP stack can drive a [`Receiver`]; `Listener` does it this way:
//!
//! 1. Drain [`poll_output`](Receiver::poll_output): events, failures, the
//!    need to renew the session.
//! 2. If no poll is under way, ask [`poll_transmit`](Receiver::poll_transmit)
//!    for one and send it.
//! 3. Wait for whichever comes first: the poll's progress, or
//!    [`poll_timeout`](Receiver::poll_timeout).
//! 4. Feed in what happened, with the time it happened:
//!    [`handle_status`](Receiver::handle_status),
//!    [`handle_data`](Receiver::handle_data) (as often as data arrives),
//!    [`handle_end`](Receiver::handle_end),
//!    [`handle_failure`](Receiver::handle_failure), or
//!    [`handle_timeout`](Receiver::handle_timeout). Then back to 1.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use fbcomet_receiver::{Config, Endpoint, Output, Receiver};
//!
//! let mut now = Instant::now();
//! let mut rx = Receiver::new(Config::new(1001, Endpoint::channel(7)), now).unwrap();
//! let poll = rx.poll_transmit(now).expect("the first poll");
//! assert!(poll.url.as_str().ends_with("/p_1001=-1"));
//! now += Duration::from_millis(20);
//! rx.handle_status(poll.id, now, 200);
//! rx.handle_data(poll.id, now, br#"for (;;);{"t":"refresh","seq":4}"#);
//! rx.handle_end(poll.id, now);
//! assert_eq!(rx.poll_output(), Some(Output::Ready { seq: 4 }));
//! let next = rx.poll_transmit(now).expect("the next poll, at once");
//! assert!(next.url.as_str().ends_with("/p_1001=4"));
//! ```
//!
//! What it does, from docs/protocol.md: the first 2008 poll asks for seq -1 and
//! takes the seq from the refresh; `continue` polls the same seq again; a
//! `msg` frame advances seq by its number of events (seq counts events, not
//! responses) unless it carries its own `seq`; `refresh` with a seq jumps
//! there, a bare one asks the application to renew the session; `lb`'s
//! sticky token and pool go on every later pull; `fullReload` resets seq and
//! drops sticky; `backoff` waits as the schedule says; `batched` frames are
//! handled in order; unknown frames are reported, never fatal. Message ids
//! already delivered are dropped (a bounded memory), own echoes are flagged.
//! Failures are retried with exponential backoff and full jitter; a poll
//! that outlives the server's hold plus a margin is abandoned; after too
//! long without success the session is reported lost.
//!
//! # Example: listening to a channel
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use fbcomet_http::{HttpClient, HttpConfig};
//! use fbcomet_receiver::{Config, Endpoint, Listener, Output};
//!
//! // Alice (1001) on channel 7 of an fbcomet server on this machine.
//! let config = Config::new(1001, Endpoint::channel(7).with_base("http://127.0.0.1:8008"));
//! let mut listener = Listener::new(config, HttpClient::new(HttpConfig::default()))?;
//! while let Some(output) = listener.next().await {
//!     if let Output::Event(delivery) = output {
//!         println!("seq {}: {}", delivery.seq, delivery.event);
//!     }
//! }
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod backoff;
mod config;
mod dedup;
#[cfg(feature = "listener")]
mod driver;
mod receiver;

pub use config::{Backoff, Config, Endpoint, SeqPolicy};
pub use dedup::{Dedup, message_key};
#[cfg(feature = "listener")]
pub use driver::Listener;
pub use receiver::{Cause, ConfigError, Delivery, Failure, Output, PollId, PollRequest, Receiver, Stats};
