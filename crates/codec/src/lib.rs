//! The wire format of the Facebook Chat Comet protocol (2008) and its later
//! `/pull` form: bytes in, typed frames, events and envelopes out, and back.
//!
//! This crate does no IO and knows no clock: no sockets, no tokio, no hyper.
//! It strips the `for (;;);` prefix (in every spelling seen, with junk a proxy
//! put before it, or absent), decodes the one JSON object behind it into
//! types, and encodes those types back to the exact wire form. The long-poll
//! receiver, the sender and the fbcomet servers are all built on it.
//!
//! - [`decode`] takes one body: a channel [`Frame`] (`msg`, `continue`,
//!   `refresh`, `heartbeat`, `lb`, `fullReload`, `backoff`, `batched`, or
//!   unknown kept raw) or an ajax [`Envelope`] (success with its typed
//!   [`Payload`], or a [`ServerError`]).
//! - [`StreamDecoder`] takes a kept-open connection in chunks split
//!   anywhere and yields each body as soon as its closing brace arrives.
//! - [`Encoder`] writes bodies as the 2008 service did; `decode(encode(x))`
//!   gives `x` back for every value.
//! - [`describe`] gives a plain JSON view of a decoded body, for tools.
//!
//! Decoding is one pass over the input. The shapes the service sent nearly
//! always (message and typing frames, `continue`, `refresh`, send replies,
//! errors, buddy lists) are read by a hand-written reader straight into the
//! types; anything else, and every malformed input, by a general decoder on
//! serde that gives the same values and the errors with their paths (the
//! two are checked against each other by a fuzz target and property tests;
//! `BENCHMARKS.md` has the speed). Strings without escapes are
//! borrowed from it ([`Cow::Borrowed`](std::borrow::Cow)); unknown events,
//! frames and keys are kept as slices of it ([`RawJson`]); call
//! `into_owned()` to keep a value past the input's lifetime. Key order never
//! matters, unknown keys never fail a decode, ids and times are 64-bit. Any
//! input, however broken, gives a typed [`Error`] with a byte offset, never a
//! panic.
//!
//! # Example
//!
//! ```
//! use fbcomet_codec::{Body, Event, FrameKind, decode};
//!
//! let body = br#"for (;;);{"t":"msg","c":"p_1001","ms":[{"type":"msg","msg":{"text":"yo","time":1209557234412,"clientTime":1209557232415,"msgID":"4177168544"},"from":2002,"to":1001,"from_name":"Myfriends Name","to_name":"My name","from_first_name":"Myfriends","to_first_name":"My"}]}"#;
//!
//! let Body::Frame(frame) = decode(body)? else { panic!("a frame") };
//! let FrameKind::Msg { channel, events } = &frame.kind else { panic!("msg") };
//! assert_eq!(channel.as_deref(), Some("p_1001"));
//! let Event::Msg(message) = &events[0] else { panic!("a message") };
//! assert_eq!((message.from, message.text.as_ref()), (2002, "yo"));
//! assert_eq!(message.msg_id.as_deref(), Some("4177168544"));
//!
//! // Encoding gives the wire form back, and decoding that gives the same frame.
//! let wire = frame.encode();
//! assert_eq!(fbcomet_codec::decode_frame(&wire)?, frame);
//!
//! // Errors say what and where.
//! let err = decode(b"for (;;);{\"t\":\"msg\",\"ms\":5}").unwrap_err();
//! assert_eq!(err.to_string(), "unexpected shape at byte 25 ($.ms): expected an array of events, found a number");
//! # Ok::<(), fbcomet_codec::Error>(())
//! ```
//!
//! Protocol facts behind the types are in the workspace's `docs/protocol.md`;
//! where they matter to a caller, the item's documentation repeats them.

#![warn(missing_docs)]

mod body;
mod ctx;
mod decode;
mod delta;
mod describe;
mod encode;
mod envelope;
mod error;
mod event;
mod fast;
mod fields;
mod frame;
mod general;
mod loose;
mod payload;
mod poll_url;
mod prefix;
mod raw;
mod scan;
mod stream;

pub use body::Body;
pub use decode::{decode, decode_envelope, decode_frame, decode_general};
pub use delta::{Delta, DeltaKind, MID_PREFIX, NewMessage, ReadReceipt, ThreadKey};
pub use describe::{describe, describe_event};
pub use encode::{Encoder, Escaping, Prefix};
pub use envelope::{Envelope, ErrorCode, ServerError};
pub use error::{Error, Result};
pub use event::{Event, Message, Typing, UnknownEvent, unescape_html};
pub use frame::{Frame, FrameKind};
pub use payload::{Availability, BuddyList, History, Notifications, Payload, Presence, Reconnect, UidMap, UserInfo};
pub use poll_url::{ChatHost, PollTarget};
pub use prefix::{PREFIX, strip_prefix};
pub use raw::{Extra, RawJson};
pub use stream::{DEFAULT_MAX_FRAME, StreamDecoder};
