//! Sending, and logging in, the 2008 way: the form posts of the Facebook
//! Chat Comet protocol as typed calls with typed answers.
//!
//! - [`login`] fetches login.php, fills its first form's `email` and `pass`,
//!   posts it, and scrapes home.php for the uid, the channel and the
//!   `post_form_id` form token, tolerant of every markup variant the 2008
//!   clients met. A [`SavedSession`] keeps it (cookies included) across runs.
//! - [`Sender`] posts: send.php (the client picks `msg_id` and
//!   `client_time`; a retry reuses the `msg_id`, so it never makes a
//!   duplicate; text over 999 characters is refused before sending),
//!   presence/update.php (the buddy list and notifications), typ.php,
//!   settings.php (`focus_chat`, `visibility`, `close_chat`), reconnect.php
//!   and history.php. Every answer is the codec's envelope: its payload, or
//!   the server's error as data ([`Error::Server`]).
//!
//! - The 2013-2018 web dialect ([`Dialect::Web`]): [`login_web`] through the
//!   mobile login form and the www front page's `fb_dtsg`; the same
//!   [`Sender`] calls then post where fbchat posted (`/messaging/send/`,
//!   `/ajax/messaging/typ.php`, the thread query of `/api/graphqlbatch/`).
//!
//! Every request goes to one configurable www base: `http://www.facebook.com`
//! through an fbcomet server as the proxy, or the server's own address.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use fbcomet_http::{HttpClient, HttpConfig};
//! use fbcomet_sender::{Sender, SenderConfig, login};
//!
//! let www: url::Url = "http://127.0.0.1:8008".parse()?;
//! let http = HttpClient::new(HttpConfig::default());
//! let session = login(&http, &www, "alice@example.com", "alice").await?;
//! let sender = Sender::new(http, SenderConfig::new(www), session);
//! let sent = sender.send(1002, "hi Bob & all \u{1F600}").await?;
//! println!("sent as {}", sent.msg_id);
//! let buddies = sender.buddy_list(false).await?;
//! println!("{} friends online", buddies.buddy_list.map_or(0, |b| b.now_available.len()));
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod error;
mod scrape;
mod sender;
mod session;
mod web;

pub use error::{Error, LoginError, RestoreError};
pub use sender::{Dialect, MAX_MESSAGE_CHARS, Sender, SenderConfig, Sent};
pub use session::{SavedSession, Session, login, on_www, scrape_session};
pub use web::{THREAD_QUERY_DOC_ID, login_web, session_of_front_page};
