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
//!   time.
//! - [`Listener`], the async driver over [`fbcomet_http::HttpClient`]:
//!   `next().await` until the session ends.
//!
//! What it does, from PROTOCOL.md: the first 2008 poll asks for seq -1 and
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
mod driver;
mod receiver;

pub use config::{Backoff, Config, Endpoint, SeqPolicy};
pub use dedup::Dedup;
pub use driver::Listener;
pub use receiver::{ConfigError, Delivery, Failure, Output, PollId, PollRequest, Receiver, Stats};
